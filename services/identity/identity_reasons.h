#ifndef SMP_SERVICES_IDENTITY_IDENTITY_REASONS_H_
#define SMP_SERVICES_IDENTITY_IDENTITY_REASONS_H_

// The ErrorInfo reasons (common/status/error_details.h) only identity gives. They belong with the
// suite's list in error_details.h once the lead moves them there; until then they are defined here.
// Add, never rename: clients switch on them.

namespace smp::identity::identity_reason {

// UNAUTHENTICATED (Login): the username or password is wrong; which one is not said.
inline constexpr char kWrongCredentials[] = "WRONG_CREDENTIALS";
// PERMISSION_DENIED (Login): the account is disabled; an admin must enable it. Metadata: username.
inline constexpr char kAccountDisabled[] = "ACCOUNT_DISABLED";
// ABORTED (Login): the account changed while the session was being made; log in again.
inline constexpr char kAccountChanged[] = "ACCOUNT_CHANGED";
// RESOURCE_EXHAUSTED (Login, ChangePassword): too many failed password checks; wait and retry.
inline constexpr char kTooManyFailedLogins[] = "TOO_MANY_FAILED_LOGINS";
// PERMISSION_DENIED (ChangePassword): current_password does not match.
inline constexpr char kWrongPassword[] = "WRONG_PASSWORD";
// UNAUTHENTICATED (WhoAmI): the caller's session ended a moment ago; log in again.
inline constexpr char kSessionEnded[] = "SESSION_ENDED";
// FAILED_PRECONDITION (BootstrapAdmin): staff accounts exist already; an admin creates yours.
inline constexpr char kAlreadyBootstrapped[] = "ALREADY_BOOTSTRAPPED";
// PERMISSION_DENIED (BootstrapAdmin): setup_code is not the one the service wrote at start.
inline constexpr char kWrongSetupCode[] = "WRONG_SETUP_CODE";
// ALREADY_EXISTS (CreateStaff): the username is taken. Metadata: username.
inline constexpr char kUsernameTaken[] = "USERNAME_TAKEN";
// FAILED_PRECONDITION (DisableStaff, UpdateStaff): the change would leave the chain without an
// active admin; make another admin first.
inline constexpr char kLastAdmin[] = "LAST_ADMIN";
// FAILED_PRECONDITION (DisableStaff / EnableStaff): the account is already in the asked-for
// state. Metadata: staff_id, state.
inline constexpr char kAlreadyInState[] = "ALREADY_IN_STATE";
// NOT_FOUND (CreateStaff, UpdateStaff): a clinic the account names does not exist.
// Metadata: clinic_id, field.
inline constexpr char kUnknownClinic[] = "UNKNOWN_CLINIC";
// UNAVAILABLE (Login, ChangePassword, BootstrapAdmin, CreateStaff, ResetStaffPassword): every
// password-hash slot stayed busy for the whole wait; retry in a moment.
inline constexpr char kPasswordCheckBusy[] = "PASSWORD_CHECK_BUSY";

}  // namespace smp::identity::identity_reason

#endif  // SMP_SERVICES_IDENTITY_IDENTITY_REASONS_H_
