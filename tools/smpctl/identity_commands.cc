// Identity: login, logout, whoami, the first admin, clinics and staff.

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/util/proto_time.h"
#include "tools/smpctl/command_helpers.h"
#include "tools/smpctl/commands.h"
#include "tools/smpctl/secrets.h"
#include "tools/smpctl/token_file.h"

namespace smp::smpctl {
namespace {

namespace iv1 = ::smp::identity::v1;
using Stub = iv1::IdentityService::Stub;

// RPC(Method, request): a call to the identity service.
#define RPC(method, req) \
  inv.client().Call(Service::kIdentity, inv.client().identity(), &Stub::method, #method, req)

std::string Roles(const iv1::Staff& s) { return EnumList<common::v1::Role>(s.roles()); }

std::string Address(const iv1::PostalAddress& a) {
  std::vector<std::string> parts(a.address_lines().begin(), a.address_lines().end());
  for (const std::string* p :
       {&a.locality(), &a.administrative_area(), &a.postal_code(), &a.region_code()}) {
    if (!p->empty()) parts.push_back(*p);
  }
  return absl::StrJoin(parts, ", ");
}

void PrintClinic(Invocation& inv, const iv1::Clinic& c) {
  Show(inv, c, [&] {
    absl::TimeZone zone = absl::UTCTimeZone();
    absl::LoadTimeZone(c.time_zone(), &zone);
    inv.out().Print(Fields{{"id", c.id()},
                           {"name", c.name()},
                           {"time zone", c.time_zone()},
                           {"phone", c.phone()},
                           {"address", Address(c.address())},
                           {"created", FormatTimestamp(c.create_time(), zone)},
                           {"updated", FormatTimestamp(c.update_time(), zone)},
                           {"etag", c.etag()}});
  });
}

void PrintStaff(Invocation& inv, const iv1::Staff& s) {
  Show(inv, s, [&] {
    inv.out().Print(Fields{{"id", s.id()},
                           {"username", s.username()},
                           {"name", s.display_name()},
                           {"email", s.email()},
                           {"roles", Roles(s)},
                           {"clinics", absl::StrJoin(s.clinic_ids(), ",")},
                           {"state", EnumName(s.state())},
                           {"created", FormatTimestamp(s.create_time(), absl::UTCTimeZone())},
                           {"etag", s.etag()}});
  });
}

// A password from --password_file, else the terminal (echo off) or a line of standard input.
absl::StatusOr<std::string> Password(Invocation& inv, absl::string_view prompt) {
  if (inv.Has("password_file")) return ReadSecretFile(inv.Get("password_file"), "password");
  return ReadSecretFromStdin(prompt, "password");
}

FlagSpec PasswordFileFlag() {
  return Opt("password_file", "FILE",
             "read the password from the first line of FILE (default: prompt on a terminal, "
             "else read a line of standard input)");
}

// ---- session

absl::Status Login(Invocation& inv) {
  iv1::LoginRequest req;
  req.set_username(inv.Get("username"));
  RETURN_IF_ERROR(NotEmpty("--username", req.username()));
  ASSIGN_OR_RETURN(*req.mutable_password(), Password(inv, "Password: "));
  ASSIGN_OR_RETURN(iv1::LoginResponse resp,
                   inv.client().Call(Service::kIdentity, inv.client().identity(), &Stub::Login,
                                     "Login", req, /*authenticated=*/false));
  const std::string& path = inv.client().config().token_file;
  RETURN_IF_ERROR(WriteTokenFile(path, resp.access_token()));
  resp.clear_access_token();  // never printed: it is in the token file
  Show(inv, resp, [&] {
    inv.out().Line(absl::StrCat("logged in as ", resp.staff().username(), " (",
                                resp.staff().display_name(), "), roles ", Roles(resp.staff())));
    inv.out().Line(absl::StrCat("session ", resp.session().id(), " until ",
                                FormatTimestamp(resp.session().expire_time(), absl::UTCTimeZone()),
                                " unless used"));
    inv.out().Line(absl::StrCat("token saved in ", path, " (mode 0600)"));
  });
  return absl::OkStatus();
}

absl::Status Logout(Invocation& inv) {
  const std::string& path = inv.client().config().token_file;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    inv.out().Note(absl::StrCat("not logged in (no token file at ", path, ")"));
    if (inv.out().json()) inv.out().Json(iv1::LogoutResponse());
    return absl::OkStatus();
  }
  // An unsafe file is refused here (the user's to inspect, not ours to delete).
  RETURN_IF_ERROR(ReadTokenFile(path).status());
  absl::StatusOr<iv1::LogoutResponse> resp = RPC(Logout, iv1::LogoutRequest());
  if (!resp.ok() && resp.status().code() != absl::StatusCode::kUnauthenticated) {
    return resp.status();  // the session may still be live: keep the token to retry
  }
  RETURN_IF_ERROR(RemoveTokenFile(path));
  Show(inv, iv1::LogoutResponse(), [&] {
    inv.out().Line(resp.ok() ? "logged out" : "the session had already ended; token removed");
  });
  return absl::OkStatus();
}

absl::Status WhoAmI(Invocation& inv) {
  ASSIGN_OR_RETURN(iv1::WhoAmIResponse resp, RPC(WhoAmI, iv1::WhoAmIRequest()));
  Show(inv, resp, [&] {
    const iv1::Staff& s = resp.staff();
    inv.out().Print(
        Fields{{"username", s.username()},
               {"name", s.display_name()},
               {"id", s.id()},
               {"roles", Roles(s)},
               {"clinics", s.clinic_ids().empty() ? "(all: chain-wide role)"
                                                  : absl::StrJoin(s.clinic_ids(), ",")},
               {"session", resp.session().id()},
               {"expires", FormatTimestamp(resp.session().expire_time(), absl::UTCTimeZone())},
               {"permissions", EnumList<common::v1::Permission>(resp.permissions())}});
  });
  return absl::OkStatus();
}

absl::Status BootstrapAdmin(Invocation& inv) {
  iv1::BootstrapAdminRequest req;
  req.set_request_id(inv.client().NewRequestId());
  if (inv.Has("setup_code_file")) {
    ASSIGN_OR_RETURN(*req.mutable_setup_code(),
                     ReadSecretFile(inv.Get("setup_code_file"), "setup code"));
  } else if (inv.Has("setup_code")) {
    req.set_setup_code(inv.Get("setup_code"));
  } else {
    return UsageError("give the setup code with --setup_code_file=FILE or --setup_code=CODE");
  }
  req.set_username(inv.Get("username"));
  req.set_display_name(inv.Has("display_name") ? inv.Get("display_name") : inv.Get("username"));
  ASSIGN_OR_RETURN(*req.mutable_password(), Password(inv, "Password for the first admin: "));
  ASSIGN_OR_RETURN(iv1::Staff admin,
                   inv.client().Call(Service::kIdentity, inv.client().identity(),
                                     &Stub::BootstrapAdmin, "BootstrapAdmin", req, false));
  PrintStaff(inv, admin);
  return absl::OkStatus();
}

absl::Status ChangePassword(Invocation& inv) {
  iv1::ChangePasswordRequest req;
  req.set_request_id(inv.client().NewRequestId());
  if (inv.Has("password_file") != inv.Has("new_password_file")) {
    return UsageError("give both --password_file and --new_password_file, or neither");
  }
  if (inv.Has("password_file")) {
    ASSIGN_OR_RETURN(*req.mutable_current_password(),
                     ReadSecretFile(inv.Get("password_file"), "password"));
    ASSIGN_OR_RETURN(*req.mutable_new_password(),
                     ReadSecretFile(inv.Get("new_password_file"), "new password"));
  } else {
    ASSIGN_OR_RETURN(*req.mutable_current_password(),
                     ReadSecretFromStdin("Current password: ", "current password"));
    ASSIGN_OR_RETURN(*req.mutable_new_password(),
                     ReadSecretFromStdin("New password: ", "new password"));
  }
  ASSIGN_OR_RETURN(iv1::ChangePasswordResponse resp, RPC(ChangePassword, req));
  Show(inv, resp, [&] { inv.out().Line("password changed; your other sessions were ended"); });
  return absl::OkStatus();
}

absl::Status SessionList(Invocation& inv) {
  iv1::ListSessionsRequest req;
  req.set_staff_id(inv.Get("staff"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(iv1::ListSessionsResponse resp, RPC(ListSessions, req));
  Show(inv, resp, [&] {
    Table t({"id", "staff", "created", "expires", "client"});
    for (const iv1::Session& s : resp.sessions()) {
      t.AddRow({s.id(), s.staff_id(), FormatTimestamp(s.create_time(), absl::UTCTimeZone()),
                FormatTimestamp(s.expire_time(), absl::UTCTimeZone()), s.client_address()});
    }
    inv.out().Print(t);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status SessionRevoke(Invocation& inv) {
  iv1::RevokeSessionRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_session_id(inv.Arg());
  ASSIGN_OR_RETURN(iv1::RevokeSessionResponse resp, RPC(RevokeSession, req));
  Show(inv, resp, [&] { inv.out().Line(absl::StrCat("session ", req.session_id(), " revoked")); });
  return absl::OkStatus();
}

// ---- audit

absl::Status LoginFailureList(Invocation& inv) {
  iv1::ListLoginFailuresRequest req;
  // Whole UTC days: --from's first hour to the end of --to.
  if (inv.Has("from")) {
    ASSIGN_OR_RETURN(absl::CivilDay from, ParseDate("from", inv.Get("from")));
    *req.mutable_start_time() = ToProtoTimestamp(absl::FromCivil(from, absl::UTCTimeZone()));
  }
  if (inv.Has("to")) {
    ASSIGN_OR_RETURN(absl::CivilDay to, ParseDate("to", inv.Get("to")));
    *req.mutable_end_time() = ToProtoTimestamp(absl::FromCivil(to + 1, absl::UTCTimeZone()));
  }
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(iv1::ListLoginFailuresResponse resp, RPC(ListLoginFailures, req));
  Show(inv, resp, [&] {
    Table t({"hour (UTC)", "kind", "subject", "failures", "first", "last"});
    for (const iv1::LoginFailure& f : resp.login_failures()) {
      t.AddRow({FormatTimestamp(f.window_start_time(), absl::UTCTimeZone()), EnumName(f.kind()),
                f.subject(), absl::StrCat(f.failures()),
                FormatTimestamp(f.first_time(), absl::UTCTimeZone()),
                FormatTimestamp(f.last_time(), absl::UTCTimeZone())});
    }
    inv.out().Print(t);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

// ---- clinics

std::vector<FlagSpec> AddressFlags(std::vector<FlagSpec> flags) {
  flags.push_back(Rep("address_line", "TEXT", "street line, most specific first (up to 4)"));
  flags.push_back(Opt("locality", "CITY", "city or town"));
  flags.push_back(Opt("area", "STATE", "state, province or county"));
  flags.push_back(Opt("postal_code", "CODE", "postal or ZIP code"));
  flags.push_back(Opt("country", "CC", "ISO-3166 country code, e.g. US"));
  return flags;
}

bool HasAddressFlags(const Invocation& inv) {
  for (const char* f : {"address_line", "locality", "area", "postal_code", "country"}) {
    if (inv.Has(f)) return true;
  }
  return false;
}

void ApplyAddress(const Invocation& inv, iv1::PostalAddress& a) {
  if (inv.Has("address_line")) {
    a.clear_address_lines();
    for (const std::string& line : inv.AllRaw("address_line")) a.add_address_lines(line);
  }
  if (inv.Has("locality")) a.set_locality(inv.Get("locality"));
  if (inv.Has("area")) a.set_administrative_area(inv.Get("area"));
  if (inv.Has("postal_code")) a.set_postal_code(inv.Get("postal_code"));
  if (inv.Has("country")) a.set_region_code(inv.Get("country"));
}

absl::Status CheckZone(const Invocation& inv) {
  absl::TimeZone zone;
  if (inv.Has("time_zone") && !absl::LoadTimeZone(inv.Get("time_zone"), &zone)) {
    return UsageError(absl::StrCat("--time_zone: unknown IANA time zone \"", inv.Get("time_zone"),
                                   "\" (e.g. America/Chicago)"));
  }
  return absl::OkStatus();
}

absl::Status ClinicCreate(Invocation& inv) {
  RETURN_IF_ERROR(CheckZone(inv));
  iv1::CreateClinicRequest req;
  req.set_request_id(inv.client().NewRequestId());
  iv1::Clinic& c = *req.mutable_clinic();
  c.set_name(inv.Get("name"));
  c.set_time_zone(inv.Get("time_zone"));
  c.set_phone(inv.Get("phone"));
  ApplyAddress(inv, *c.mutable_address());
  ASSIGN_OR_RETURN(iv1::Clinic out, RPC(CreateClinic, req));
  PrintClinic(inv, out);
  return absl::OkStatus();
}

absl::Status ClinicGet(Invocation& inv) {
  iv1::GetClinicRequest req;
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(iv1::Clinic out, RPC(GetClinic, req));
  PrintClinic(inv, out);
  return absl::OkStatus();
}

absl::Status ClinicList(Invocation& inv) {
  iv1::ListClinicsRequest req;
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(iv1::ListClinicsResponse resp, RPC(ListClinics, req));
  Show(inv, resp, [&] {
    Table t({"id", "name", "time zone", "phone", "city"});
    for (const iv1::Clinic& c : resp.clinics()) {
      t.AddRow({c.id(), c.name(), c.time_zone(), c.phone(), c.address().locality()});
    }
    inv.out().Print(t);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status ClinicUpdate(Invocation& inv) {
  RETURN_IF_ERROR(CheckZone(inv));
  iv1::UpdateClinicRequest req;
  req.set_request_id(inv.client().NewRequestId());
  for (const char* f : {"name", "time_zone", "phone"}) {
    if (inv.Has(f)) req.mutable_update_mask()->add_paths(f);
  }
  const bool address = HasAddressFlags(inv);
  if (address) req.mutable_update_mask()->add_paths("address");
  if (req.update_mask().paths().empty()) {
    return UsageError("nothing to change: give --name, --time_zone, --phone or address flags");
  }
  iv1::Clinic& c = *req.mutable_clinic();
  if (!inv.Has("etag") || address) {
    // The current record: its etag, and the address the given fields are merged into.
    iv1::GetClinicRequest get;
    get.set_id(inv.Arg());
    ASSIGN_OR_RETURN(c, RPC(GetClinic, get));
  }
  c.set_id(inv.Arg());
  if (inv.Has("etag")) c.set_etag(inv.Get("etag"));
  if (inv.Has("name")) c.set_name(inv.Get("name"));
  if (inv.Has("time_zone")) c.set_time_zone(inv.Get("time_zone"));
  if (inv.Has("phone")) c.set_phone(inv.Get("phone"));
  ApplyAddress(inv, *c.mutable_address());
  ASSIGN_OR_RETURN(iv1::Clinic out, RPC(UpdateClinic, req));
  PrintClinic(inv, out);
  return absl::OkStatus();
}

// ---- staff

absl::Status ReadRoles(const Invocation& inv, iv1::Staff& s) {
  s.clear_roles();
  for (const std::string& r : inv.All("role")) {
    ASSIGN_OR_RETURN(common::v1::Role role, ParseEnum<common::v1::Role>("role", r));
    s.add_roles(role);
  }
  return absl::OkStatus();
}

void ReadClinics(const Invocation& inv, iv1::Staff& s) {
  s.clear_clinic_ids();
  for (const std::string& c : inv.All("clinic")) s.add_clinic_ids(c);
}

absl::Status StaffCreate(Invocation& inv) {
  iv1::CreateStaffRequest req;
  req.set_request_id(inv.client().NewRequestId());
  iv1::Staff& s = *req.mutable_staff();
  s.set_username(inv.Get("username"));
  s.set_display_name(inv.Has("display_name") ? inv.Get("display_name") : inv.Get("username"));
  s.set_email(inv.Get("email"));
  RETURN_IF_ERROR(ReadRoles(inv, s));
  if (s.roles().empty()) return UsageError("give at least one --role");
  ReadClinics(inv, s);
  ASSIGN_OR_RETURN(*req.mutable_initial_password(), Password(inv, "Initial password: "));
  ASSIGN_OR_RETURN(iv1::Staff out, RPC(CreateStaff, req));
  PrintStaff(inv, out);
  return absl::OkStatus();
}

absl::Status StaffGet(Invocation& inv) {
  iv1::GetStaffRequest req;
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(iv1::Staff out, RPC(GetStaff, req));
  PrintStaff(inv, out);
  return absl::OkStatus();
}

absl::Status StaffList(Invocation& inv) {
  iv1::ListStaffRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(iv1::ListStaffResponse resp, RPC(ListStaff, req));
  Show(inv, resp, [&] {
    Table t({"id", "username", "name", "roles", "clinics", "state"});
    for (const iv1::Staff& s : resp.staff()) {
      t.AddRow({s.id(), s.username(), s.display_name(), Roles(s),
                absl::StrJoin(s.clinic_ids(), ","), EnumName(s.state())});
    }
    inv.out().Print(t);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status StaffUpdate(Invocation& inv) {
  iv1::UpdateStaffRequest req;
  req.set_request_id(inv.client().NewRequestId());
  iv1::Staff& s = *req.mutable_staff();
  if (inv.Has("display_name")) req.mutable_update_mask()->add_paths("display_name");
  if (inv.Has("email")) req.mutable_update_mask()->add_paths("email");
  if (inv.Has("role")) req.mutable_update_mask()->add_paths("roles");
  if (inv.Has("clinic")) req.mutable_update_mask()->add_paths("clinic_ids");
  if (req.update_mask().paths().empty()) {
    return UsageError("nothing to change: give --display_name, --email, --role or --clinic");
  }
  iv1::Staff given;
  RETURN_IF_ERROR(ReadRoles(inv, given));
  if (inv.Has("etag")) {
    s.set_etag(inv.Get("etag"));
  } else {
    iv1::GetStaffRequest get;
    get.set_id(inv.Arg());
    ASSIGN_OR_RETURN(s, RPC(GetStaff, get));
  }
  s.set_id(inv.Arg());
  if (inv.Has("display_name")) s.set_display_name(inv.Get("display_name"));
  if (inv.Has("email")) s.set_email(inv.Get("email"));
  if (inv.Has("role")) *s.mutable_roles() = given.roles();
  if (inv.Has("clinic")) ReadClinics(inv, s);
  ASSIGN_OR_RETURN(iv1::Staff out, RPC(UpdateStaff, req));
  PrintStaff(inv, out);
  return absl::OkStatus();
}

absl::Status StaffDisable(Invocation& inv) {
  iv1::DisableStaffRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  req.set_reason(inv.Get("reason"));
  ASSIGN_OR_RETURN(iv1::Staff out, RPC(DisableStaff, req));
  PrintStaff(inv, out);
  return absl::OkStatus();
}

absl::Status StaffEnable(Invocation& inv) {
  iv1::EnableStaffRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(iv1::Staff out, RPC(EnableStaff, req));
  PrintStaff(inv, out);
  return absl::OkStatus();
}

absl::Status StaffResetPassword(Invocation& inv) {
  iv1::ResetStaffPasswordRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(*req.mutable_new_password(), Password(inv, "New password: "));
  ASSIGN_OR_RETURN(iv1::Staff out, RPC(ResetStaffPassword, req));
  Show(inv, out, [&] {
    inv.out().Line(absl::StrCat("password of ", out.username(), " reset; its sessions were ended"));
  });
  return absl::OkStatus();
}

std::string RoleChoices() { return EnumChoices(common::v1::Role_descriptor()); }

}  // namespace

void AddIdentityCommands(Registry& r) {
  const Service s = Service::kIdentity;
  r.Add({{"login"},
         s,
         "log in and keep the session token in the token file (mode 0600)",
         "",
         false,
         {Req("username", "NAME", "your login name"), PasswordFileFlag()},
         "Example: smpctl login --username desk.austin\n"
         "         smpctl login --username ops --password_file ~/.smp-password",
         Login});
  r.Add({{"logout"},
         s,
         "end the session everywhere and delete the token file",
         "",
         false,
         {},
         "",
         Logout});
  r.Add({{"whoami"}, s, "show your account, session and permissions", "", false, {}, "", WhoAmI});
  r.Add({{"bootstrap-admin"},
         s,
         "create the first admin of an empty system (needs the setup code)",
         "",
         false,
         {Req("username", "NAME", "login name of the first admin"),
          Opt("display_name", "TEXT", "name shown to colleagues (default: the username)"),
          Opt("setup_code_file", "FILE", "the identity service's setup code file"),
          Opt("setup_code", "CODE", "the setup code itself"), PasswordFileFlag()},
         "Example: smpctl bootstrap-admin --setup_code_file=data/identity/identity-setup-code "
         "--username=owner",
         BootstrapAdmin});
  r.Add({{"password", "change"},
         s,
         "change your own password (ends your other sessions)",
         "",
         false,
         {Opt("password_file", "FILE", "current password from FILE"),
          Opt("new_password_file", "FILE", "new password from FILE")},
         "",
         ChangePassword});
  r.Add({{"session", "list"},
         s,
         "list live sessions (yours, or a staff member's for admins)",
         "",
         false,
         WithPaging({Opt("staff", "ID", "whose sessions (default: yours)")}),
         "",
         SessionList});
  r.Add({{"session", "revoke"}, s, "end one session", "SESSION_ID", true, {}, "", SessionRevoke});

  r.Add({{"login-failures", "list"},
         s,
         "failed logins counted per hour and account, unknown account or client address "
         "(auditor, admin)",
         "",
         false,
         WithPaging({Opt("from", "DATE", "first UTC day (default: the oldest kept)"),
                     Opt("to", "DATE", "last UTC day (default: up to now)")}),
         "Example: smpctl login-failures list --from=2026-03-01 --to=2026-03-31",
         LoginFailureList});

  r.Add({{"clinic", "create"},
         s,
         "create a clinic (admin)",
         "",
         false,
         AddressFlags({Req("name", "TEXT", "display name, e.g. \"Austin Downtown\""),
                       Req("time_zone", "ZONE", "IANA time zone, e.g. America/Chicago"),
                       Opt("phone", "E164", "front-desk phone, e.g. +15125550100")}),
         "",
         ClinicCreate});
  r.Add({{"clinic", "get"}, s, "show a clinic", "ID", true, {}, "", ClinicGet});
  r.Add({{"clinic", "list"},
         s,
         "list the clinics you can see",
         "",
         false,
         WithPaging({}),
         "",
         ClinicList});
  r.Add({{"clinic", "update"},
         s,
         "change a clinic's name, time zone, phone or address (admin)",
         "ID",
         true,
         AddressFlags({Opt("name", "TEXT", "new name"), Opt("time_zone", "ZONE", "new time zone"),
                       Opt("phone", "E164", "new phone"), EtagFlag()}),
         "",
         ClinicUpdate});

  r.Add({{"staff", "create"},
         s,
         "create a staff account (admin)",
         "",
         false,
         {Req("username", "NAME", "login name, 3..64 of [a-z0-9._-]"),
          Opt("display_name", "TEXT", "name shown to colleagues (default: the username)"),
          Opt("email", "EMAIL", "work email"),
          Rep("role", "ROLE", "a role: " + RoleChoices() + " (at least one)"),
          Rep("clinic", "ID", "a clinic the account works at (clinic-scoped roles need one)"),
          Opt("password_file", "FILE",
              "initial password from FILE (default: prompt, or a line of standard input)")},
         "Example: smpctl staff create --username=desk.austin --role=front_desk --clinic=$CLINIC",
         StaffCreate});
  r.Add({{"staff", "get"}, s, "show a staff account", "ID", true, {}, "", StaffGet});
  r.Add({{"staff", "list"},
         s,
         "list staff accounts",
         "",
         false,
         WithPaging({Opt("clinic", "ID", "only staff of this clinic")}),
         "",
         StaffList});
  r.Add({{"staff", "update"},
         s,
         "change a staff account's name, email, roles or clinics (admin; roles and clinics end "
         "its sessions)",
         "ID",
         true,
         {Opt("display_name", "TEXT", "new display name"), Opt("email", "EMAIL", "new email"),
          Rep("role", "ROLE", "the new roles (replace the old): " + RoleChoices()),
          Rep("clinic", "ID", "the new clinics (replace the old)"), EtagFlag()},
         "",
         StaffUpdate});
  r.Add({{"staff", "disable"},
         s,
         "disable an account and end its sessions (admin)",
         "ID",
         true,
         {Req("reason", "TEXT", "why, for the record")},
         "",
         StaffDisable});
  r.Add({{"staff", "enable"},
         s,
         "enable a disabled account (admin)",
         "ID",
         true,
         {},
         "",
         StaffEnable});
  r.Add({{"staff", "reset-password"},
         s,
         "set a new password for an account (admin)",
         "ID",
         true,
         {Opt("password_file", "FILE",
              "new password from FILE (default: prompt, or a line of standard input)")},
         "",
         StaffResetPassword});
}

}  // namespace smp::smpctl
