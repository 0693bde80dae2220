#ifndef SMP_COMMON_RPC_TESTING_CALLS_H_
#define SMP_COMMON_RPC_TESTING_CALLS_H_

// Test-only: the callers and Calls an operation unit's in-process test hands to the operation.
//   const Call desk = CallAs(StaffOf({common::v1::ROLE_FRONT_DESK}, {clinic_a}), now,
//   "BookAppointment");

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "common/rpc/call.h"

namespace smp::testing {

// A signed-in staff member holding `roles`, a member of `clinic_ids`.
inline Principal StaffOf(std::vector<common::v1::Role> roles, std::vector<std::string> clinic_ids,
                         std::string staff_id = "staff-test") {
  Principal who;
  who.staff_id = std::move(staff_id);
  who.session_id = "session-of-" + who.staff_id;
  who.username = who.staff_id;
  who.roles = std::move(roles);
  who.clinic_ids = std::move(clinic_ids);
  who.authenticated = true;
  return who;
}

// The Call of `method` by `who` judged at `now`.
inline Call CallAs(Principal who, absl::Time now, std::string method = "TestMethod") {
  Call call;
  call.who = std::move(who);
  call.now = now;
  call.method = std::move(method);
  return call;
}

}  // namespace smp::testing

#endif  // SMP_COMMON_RPC_TESTING_CALLS_H_
