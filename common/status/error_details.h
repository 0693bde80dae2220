#ifndef SMP_COMMON_STATUS_ERROR_DETAILS_H_
#define SMP_COMMON_STATUS_ERROR_DETAILS_H_

// Structured error details (gRPC's rich error model, google.rpc.*) carried on an absl::Status as
// payloads and sent by ToGrpcStatus in the standard `grpc-status-details-bin` trailer, so a client
// switches on a stable reason instead of parsing English:
//
//   ErrorInfo            every error a client may act on: a reason from the list below, in the
//                        "smp-suite" domain, with facts as metadata ({"current_etag": "v4"}).
//   BadRequest           INVALID_ARGUMENT: the field and what is wrong with it. Added at the edge
//                        from the "<field>: <problem>" message every validator writes, unless the
//                        status already carries one.
//   PreconditionFailure  FAILED_PRECONDITION: the rule (type), what it is about (subject), and how
//                        to put it right.
//
// The payloads survive FromGrpcStatus, so a service calling a peer sees the peer's reason.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace smp {

// The stable reasons of the suite (ErrorInfo.reason). Add, never rename: clients switch on them.
namespace reason {
// ABORTED: the update carried an etag that is no longer current. Metadata: current_etag.
inline constexpr char kStaleEtag[] = "STALE_ETAG";
// ABORTED / FAILED_PRECONDITION: the practitioner, chair or patient is taken at that time.
inline constexpr char kSlotTaken[] = "SLOT_TAKEN";
// FAILED_PRECONDITION: a single-use unit (needle cartridge) was already issued. Metadata: serial.
inline constexpr char kUnitAlreadyUsed[] = "UNIT_ALREADY_USED";
// FAILED_PRECONDITION: the unit or lot is past its expiry. Metadata: serial or lot_id.
inline constexpr char kExpired[] = "EXPIRED";
// FAILED_PRECONDITION: the lot is recalled or on hold. Metadata: lot_id.
inline constexpr char kRecalled[] = "RECALLED";
// PERMISSION_DENIED: the resource belongs to a clinic outside the caller's scope.
inline constexpr char kOutsideClinicScope[] = "OUTSIDE_CLINIC_SCOPE";
// PERMISSION_DENIED: the caller's roles lack the RPC's permission. Metadata: permission.
inline constexpr char kMissingPermission[] = "MISSING_PERMISSION";
// INVALID_ARGUMENT: a request_id was used before for a different request.
inline constexpr char kRequestIdReused[] = "REQUEST_ID_REUSED";
// FAILED_PRECONDITION: compliance does not allow the procedure (credentials, permit, consent,
// screening).
inline constexpr char kNotEligible[] = "NOT_ELIGIBLE";
}  // namespace reason

// The domain of every ErrorInfo the suite sends.
inline constexpr char kErrorDomain[] = "smp-suite";

// `status` with an ErrorInfo of `reason` and `metadata` (replacing any earlier ErrorInfo). OK stays
// OK.
absl::Status WithErrorInfo(absl::Status status, absl::string_view reason,
                           std::vector<std::pair<std::string, std::string>> metadata = {});

// `status` with one more PreconditionFailure violation.
absl::Status WithPreconditionFailure(absl::Status status, absl::string_view type,
                                     absl::string_view subject, absl::string_view description);

// `status` with one more BadRequest field violation.
absl::Status WithFieldViolation(absl::Status status, absl::string_view field,
                                absl::string_view description);

// The ErrorInfo's reason, or "" when the status carries none.
std::string ErrorReason(const absl::Status& status);
// One ErrorInfo metadata value, or "" when absent.
std::string ErrorMetadata(const absl::Status& status, absl::string_view key);
// The BadRequest field violations' fields, in order.
std::vector<std::string> ViolatedFields(const absl::Status& status);
// The PreconditionFailure violations' types, in order.
std::vector<std::string> ViolatedPreconditions(const absl::Status& status);

// The status's details as a serialized google.rpc.Status (code, message, details) for the wire;
// for INVALID_ARGUMENT without a BadRequest, one is derived from a "<field>: <problem>" message.
std::string SerializeStatusDetails(const absl::Status& status);
// Copies the details of a serialized google.rpc.Status onto `status` as payloads; `status`
// unchanged when the bytes are empty or do not parse.
absl::Status AttachStatusDetails(absl::Status status, absl::string_view serialized);

}  // namespace smp

#endif  // SMP_COMMON_STATUS_ERROR_DETAILS_H_
