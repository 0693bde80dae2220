#ifndef SMP_COMMON_RPC_REQUEST_SCOPE_H_
#define SMP_COMMON_RPC_REQUEST_SCOPE_H_

// Clinic scope of the clinics a request names, judged before the operation sees the request
// (issue 13: "clinic scope before any other rule answers"). A request names a clinic in a string
// field called `clinic_id` or `clinic_ids`, at its top level or one level down in a singular
// message field of the suite's contracts (RecordConsentRequest.consent.clinic_id) — the same
// fields the authorisation matrix aims at another clinic. RpcFrame runs this check right after
// authorising the caller, so a clinic-scoped caller naming another clinic gets PERMISSION_DENIED
// (OUTSIDE_CLINIC_SCOPE) whatever else the request holds: no validation message (bad id, missing
// field, unknown clinic) ever answers first and tells it about that clinic.
//
// Fields with other names (a transfer's destination_clinic_id, a patient's preferred_clinic_id)
// are the operations' own to judge: a clerk may ship to another clinic.

#include "absl/status/status.h"
#include "common/auth/principal.h"
#include "google/protobuf/message.h"

namespace smp {

// OK when `who` may see every non-empty clinic `request` names (see above) under its
// acting_permission; else the first refusal of Principal::CheckClinic.
absl::Status CheckNamedClinics(const Principal& who, const google::protobuf::Message& request);

}  // namespace smp

#endif  // SMP_COMMON_RPC_REQUEST_SCOPE_H_
