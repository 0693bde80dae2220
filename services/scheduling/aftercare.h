#ifndef SMP_SERVICES_SCHEDULING_AFTERCARE_H_
#define SMP_SERVICES_SCHEDULING_AFTERCARE_H_

#include <vector>

#include "absl/time/civil_time.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::scheduling {

// What the patient must do and avoid after a procedure on `procedure_day` (clinic-local): no
// washing, wetting, sweating, swimming, steam room or sauna for 4 days (hats are fine); redness for
// up to 3 days is normal; from day 5 limited sun (45-60 minutes) with sunscreen; minoxidil stays
// stopped until the course ends. Day 1 is the day after the procedure.
std::vector<v1::AftercareItem> AftercareSchedule(absl::CivilDay procedure_day,
                                                 bool course_continues);

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_AFTERCARE_H_
