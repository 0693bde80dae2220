#ifndef SMP_SERVICES_INVENTORY_FORECAST_RULES_H_
#define SMP_SERVICES_INVENTORY_FORECAST_RULES_H_

// Demand forecast and daily reconciliation rules, with no I/O.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "smp/inventory/v1/inventory.pb.h"

namespace smp::inventory {

inline constexpr int kHistoryWeeks = 12;

struct ForecastInput {
  // Procedures booked in the forecast period.
  int64_t upcoming_procedures = 0;
  // Procedures that drew stock in the history window, and the units each product lost to them.
  int64_t history_procedures = 0;
  std::map<std::string, int64_t> history_units;
  // Usable stock now (available in unexpired, unrecalled lots, plus in transit) per product.
  std::map<std::string, int64_t> on_hand;
  // Reorder levels per product.
  std::map<std::string, int64_t> reorder_level;
};

// Per product (every product with recent use or a reorder point, by id): expected units =
// ceil(history units x upcoming / history procedures) (0 with no history); suggested order =
// max(0, expected + reorder level - on hand).
std::vector<v1::ProductDemand> ForecastDemand(const ForecastInput& in);

// Findings of one clinic day: an appointment with needle units issued that scheduling does not
// show as performed, and a performed procedure with no needle unit issued. By appointment id.
std::vector<v1::ReconciliationFinding> Reconcile(
    const std::map<std::string, int64_t>& needle_units_by_appointment,
    const std::set<std::string>& performed);

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_FORECAST_RULES_H_
