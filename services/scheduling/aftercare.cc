#include "services/scheduling/aftercare.h"

namespace smp::scheduling {
namespace {

common::v1::LocalDate ToDate(absl::CivilDay d) {
  common::v1::LocalDate out;
  out.set_year(static_cast<int32_t>(d.year()));
  out.set_month(d.month());
  out.set_day(d.day());
  return out;
}

v1::AftercareItem Item(absl::CivilDay from, const absl::CivilDay* until, const char* text) {
  v1::AftercareItem item;
  *item.mutable_from_date() = ToDate(from);
  if (until != nullptr) *item.mutable_until_date() = ToDate(*until);
  item.set_instruction(text);
  return item;
}

}  // namespace

std::vector<v1::AftercareItem> AftercareSchedule(absl::CivilDay procedure_day,
                                                 bool course_continues) {
  const absl::CivilDay day3 = procedure_day + 3;
  const absl::CivilDay day4 = procedure_day + 4;
  std::vector<v1::AftercareItem> items = {
      Item(procedure_day, &day4,
           "No washing, wetting, sweating, swimming, steam room or sauna; hats are fine; protect "
           "the scalp from the sun"),
      Item(procedure_day, &day3, "Redness of the scalp for up to 3 days is normal"),
      Item(procedure_day + 5, nullptr,
           "Limited sun only (45-60 minutes a day) with sunscreen; washing is allowed again"),
  };
  if (course_continues) {
    items.push_back(Item(procedure_day, nullptr,
                         "Do not use minoxidil (e.g. Rogaine) until the course is complete; "
                         "finasteride may continue"));
  }
  return items;
}

}  // namespace smp::scheduling
