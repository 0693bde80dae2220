#include "services/compliance/credentials_permits.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/db/store_kit.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/local_date.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/compliance/compliance_reasons.h"
#include "services/compliance/compliance_rules.h"
#include "services/compliance/record_validation.h"

namespace smp::compliance {

absl::StatusOr<v1::Credential> CredentialsPermits::RecordCredential(
    const Call& call, const v1::RecordCredentialRequest& req) const {
  RETURN_IF_ERROR(ValidateCredential(req.credential()));
  return audit_->Create<v1::Credential>(call, req, "credential", [&](Transaction& txn) {
    return audit_->store().AddCredential(txn, req.credential(), call.now);
  });
}

absl::StatusOr<v1::ListCredentialsResponse> CredentialsPermits::ListCredentials(
    const Call& call, const v1::ListCredentialsRequest& req) const {
  RETURN_IF_ERROR(ValidateId("practitioner_id", req.practitioner_id()));
  const std::string query = absl::StrCat("ListCredentials/", req.practitioner_id());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  if (!call.who.IsChainWide() && call.who.staff_id != req.practitioner_id()) {
    return WithErrorInfo(
        absl::PermissionDeniedError("clinic-scoped staff may read only their own credentials"),
        reason::kOwnRecordsOnly, {{"practitioner_id", req.practitioner_id()}});
  }
  v1::ListCredentialsResponse out;
  RETURN_IF_ERROR(audit_->Read(
      call, "practitioner", req.practitioner_id(), [&](Transaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(auto found,
                         audit_->store().ListCredentials(txn, req.practitioner_id(), page));
        for (auto& c : found.items) *out.add_credentials() = std::move(c);
        out.set_next_page_token(NextPageToken(query, found.last_key));
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::Permit> CredentialsPermits::RecordPermit(
    const Call& call, const v1::RecordPermitRequest& req) const {
  RETURN_IF_ERROR(ValidatePermit(req.permit()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.permit().clinic_id()));
  return audit_->Create<v1::Permit>(call, req, "permit", [&](Transaction& txn) {
    return audit_->store().AddPermit(txn, req.permit(), call.now);
  });
}

absl::StatusOr<v1::ListPermitsResponse> CredentialsPermits::ListPermits(
    const Call& call, const v1::ListPermitsRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  const std::string query = absl::StrCat("ListPermits/", req.clinic_id());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  v1::ListPermitsResponse out;
  RETURN_IF_ERROR(
      audit_->Read(call, "clinic", req.clinic_id(), [&](Transaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(auto found, audit_->store().ListPermits(txn, req.clinic_id(), page));
        for (auto& p : found.items) *out.add_permits() = std::move(p);
        out.set_next_page_token(NextPageToken(query, found.last_key));
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<v1::ListExpiringResponse> CredentialsPermits::ListExpiring(
    const Call& call, const v1::ListExpiringRequest& req) const {
  if (req.within_days() < 1 || req.within_days() > 365) {
    return absl::InvalidArgumentError("within_days: must be 1 to 365");
  }
  for (int i = 0; i < req.clinic_ids_size(); ++i) {
    RETURN_IF_ERROR(ValidateId(absl::StrCat("clinic_ids[", i, "]"), req.clinic_ids(i)));
    RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_ids(i)));
  }
  // Each clinic's "today" is its own local day; no zone is more than a day ahead of UTC, so the
  // store is asked for everything ending by UTC's tomorrow + the horizon and each record is then
  // judged by its clinic's day.
  const absl::CivilDay widest =
      absl::ToCivilDay(call.now, absl::UTCTimeZone()) + 1 + req.within_days();
  auto wanted = [&](const std::string& clinic) {
    if (req.clinic_ids_size() == 0) return call.who.CanAccessClinic(clinic);
    return std::find(req.clinic_ids().begin(), req.clinic_ids().end(), clinic) !=
           req.clinic_ids().end();
  };
  const std::string query =
      absl::StrCat("ListExpiring/", req.within_days(), "/", absl::StrJoin(req.clinic_ids(), ","));
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  // Credentials and permits page as one list ordered by last valid day, kind and id; the key
  // "<day>|<c or p>|<id>" sorts the same way.
  auto key_of = [](const auto& record, absl::string_view kind) {
    return absl::StrCat(DayText(FromLocalDate(record.valid_until())), "|", kind, "|", record.id());
  };
  std::vector<std::string> keys;  // every key on this page, plus one more when more follow
  std::vector<v1::Credential> credentials;
  std::vector<v1::Permit> permits;
  RETURN_IF_ERROR(audit_->Read(call, "", "", [&](Transaction& txn) -> absl::Status {
    const ComplianceStore& store = audit_->store();
    absl::flat_hash_map<std::string, absl::CivilDay> horizon_of;  // by clinic
    auto horizon = [&](const std::string& clinic) -> absl::StatusOr<absl::CivilDay> {
      auto it = horizon_of.find(clinic);
      if (it != horizon_of.end()) return it->second;
      ASSIGN_OR_RETURN(const std::string zone, store.TimeZoneOf(txn, clinic));
      const absl::CivilDay day = LocalDayOf(call.now, ZoneNamed(zone)) + req.within_days();
      horizon_of[clinic] = day;
      return day;
    };
    ASSIGN_OR_RETURN(auto all_permits, store.PermitsEndingBy(txn, widest));
    for (auto& p : all_permits) {
      std::string key = key_of(p, "p");
      if (!wanted(p.clinic_id()) || key <= page.after_key) continue;
      ASSIGN_OR_RETURN(const absl::CivilDay until, horizon(p.clinic_id()));
      if (FromLocalDate(p.valid_until()) > until) continue;
      keys.push_back(std::move(key));
      permits.push_back(std::move(p));
    }
    // Credentials belong to people, not clinics: chain-wide callers see all; others their own.
    // A credential is used at any of the clinics in question (those asked; else the caller's;
    // else, for chain-wide callers, every clinic with a zone on file), so its horizon counts from
    // the latest local "today" among them (UTC when none is known).
    std::vector<std::string> zones;
    if (req.clinic_ids_size() > 0 || !call.who.IsChainWide()) {
      const auto& in_question =
          req.clinic_ids_size() > 0
              ? std::vector<std::string>(req.clinic_ids().begin(), req.clinic_ids().end())
              : call.who.clinic_ids;
      for (const std::string& clinic : in_question) {
        ASSIGN_OR_RETURN(std::string zone, store.TimeZoneOf(txn, clinic));
        zones.push_back(std::move(zone));
      }
    } else {
      ASSIGN_OR_RETURN(zones, store.KnownTimeZones(txn));
    }
    absl::CivilDay credential_until = absl::ToCivilDay(call.now, absl::UTCTimeZone());
    if (!zones.empty()) credential_until = LocalDayOf(call.now, ZoneNamed(zones.front()));
    for (const std::string& zone : zones) {
      credential_until = std::max(credential_until, LocalDayOf(call.now, ZoneNamed(zone)));
    }
    credential_until += req.within_days();
    ASSIGN_OR_RETURN(auto all_credentials, store.CredentialsEndingBy(txn, credential_until));
    for (auto& c : all_credentials) {
      std::string key = key_of(c, "c");
      if (!(call.who.IsChainWide() || c.practitioner_id() == call.who.staff_id) ||
          key <= page.after_key) {
        continue;
      }
      keys.push_back(std::move(key));
      credentials.push_back(std::move(c));
    }
    return absl::OkStatus();
  }));
  std::sort(keys.begin(), keys.end());
  Page<std::string> kept = MakePage(std::move(keys), page.size, [](const auto& k) { return k; });
  const std::string last = kept.items.empty() ? "" : kept.items.back();
  v1::ListExpiringResponse out;
  for (auto& c : credentials) {
    if (key_of(c, "c") <= last) *out.add_credentials() = std::move(c);
  }
  for (auto& p : permits) {
    if (key_of(p, "p") <= last) *out.add_permits() = std::move(p);
  }
  out.set_next_page_token(NextPageToken(query, kept.last_key));
  return out;
}

}  // namespace smp::compliance
