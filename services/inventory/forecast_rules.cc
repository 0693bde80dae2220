#include "services/inventory/forecast_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace smp::inventory {

std::vector<v1::ProductDemand> ForecastDemand(const ForecastInput& in) {
  std::set<std::string> products;
  for (const auto& [id, units] : in.history_units) products.insert(id);
  for (const auto& [id, level] : in.reorder_level) products.insert(id);
  auto get = [](const std::map<std::string, int64_t>& m, const std::string& k) -> int64_t {
    auto it = m.find(k);
    return it == m.end() ? 0 : it->second;
  };
  std::vector<v1::ProductDemand> out;
  for (const std::string& id : products) {
    v1::ProductDemand d;
    d.set_product_id(id);
    int64_t expected = 0;
    if (in.history_procedures > 0) {
      const int64_t numerator = get(in.history_units, id) * in.upcoming_procedures;
      expected = (numerator + in.history_procedures - 1) / in.history_procedures;
    }
    d.set_expected_units(expected);
    d.set_on_hand(get(in.on_hand, id));
    d.set_suggested_order(std::max<int64_t>(0, expected + get(in.reorder_level, id) - d.on_hand()));
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<v1::ReconciliationFinding> Reconcile(
    const std::map<std::string, int64_t>& needle_units_by_appointment,
    const std::set<std::string>& performed) {
  std::vector<v1::ReconciliationFinding> out;
  std::set<std::string> all(performed);
  for (const auto& [id, units] : needle_units_by_appointment) all.insert(id);
  for (const std::string& id : all) {
    const bool issued = needle_units_by_appointment.contains(id);
    const bool done = performed.contains(id);
    if (issued == done) continue;
    v1::ReconciliationFinding f;
    f.set_appointment_id(id);
    f.set_description(
        issued ? absl::StrCat(needle_units_by_appointment.at(id),
                              " needle unit(s) issued to an appointment that scheduling does not "
                              "show as performed that day")
               : "procedure recorded in scheduling with no needle unit issued to it");
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace smp::inventory
