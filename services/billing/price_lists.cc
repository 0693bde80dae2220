#include "services/billing/price_lists.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/billing/billing_reasons.h"
#include "services/billing/billing_rules.h"

namespace smp::billing {
namespace {

absl::Status UnknownClinic(absl::string_view clinic_id, absl::string_view field) {
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": clinic ", clinic_id,
      " has no price list here (an unknown clinic, or no price list was created yet)"));
}

// The clinic's zone as identity last gave it replaces the one the list was saved with.
absl::Status WithClinicZone(const BillingStore& store, Transaction& txn, v1::PriceList& list) {
  ASSIGN_OR_RETURN(std::optional<std::string> zone, store.GetClinicZone(txn, list.clinic_id()));
  absl::TimeZone loaded;
  if (zone.has_value() && absl::LoadTimeZone(*zone, &loaded)) list.set_time_zone(*zone);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::PriceList> RequireClinic(const BillingStore& store, Transaction& txn,
                                            absl::string_view clinic_id, absl::string_view field) {
  ASSIGN_OR_RETURN(std::optional<v1::PriceList> any, store.AnyPriceList(txn, clinic_id));
  if (!any.has_value()) return UnknownClinic(clinic_id, field);
  RETURN_IF_ERROR(WithClinicZone(store, txn, *any));
  return *std::move(any);
}

absl::StatusOr<v1::PriceList> RequirePriceList(const BillingStore& store, Transaction& txn,
                                               absl::string_view clinic_id, absl::Time at,
                                               absl::string_view field) {
  ASSIGN_OR_RETURN(std::optional<v1::PriceList> list, store.EffectivePriceList(txn, clinic_id, at));
  if (list.has_value()) {
    RETURN_IF_ERROR(WithClinicZone(store, txn, *list));
    return *std::move(list);
  }
  ASSIGN_OR_RETURN(v1::PriceList any, RequireClinic(store, txn, clinic_id, field));
  return WithErrorInfo(absl::FailedPreconditionError(
                           absl::StrCat("clinic ", clinic_id, " has no price list in force at ",
                                        absl::FormatTime(at, ClinicZone(any)))),
                       billing_reason::kNoPriceListInForce,
                       {{"clinic_id", std::string(clinic_id)}});
}

absl::StatusOr<v1::PriceList> PriceLists::Create(const Call& call,
                                                 const v1::CreatePriceListRequest& request) {
  const v1::PriceList& in = request.price_list();
  if (!in.time_zone().empty()) {
    RETURN_IF_ERROR(ValidateTimeZone("price_list.time_zone", in.time_zone()).status());
  }
  // Everything but the zone is checked before identity is asked (bad input changes nothing).
  v1::PriceList probe = in;
  probe.set_time_zone("UTC");
  RETURN_IF_ERROR(ValidatePriceList(probe).status());
  RETURN_IF_ERROR(call.who.CheckClinic(in.clinic_id()));
  // Asked outside the write transaction: a slow identity holds no lock.
  const absl::StatusOr<std::string> from_identity =
      zones_ != nullptr ? zones_->ZoneOf(in.clinic_id())
                        : absl::UnavailableError("no identity is configured for time zones");
  return RunIdempotent<v1::PriceList>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::PriceList> {
        ASSIGN_OR_RETURN(std::optional<v1::PriceList> any,
                         store_->AnyPriceList(txn, in.clinic_id()));
        ASSIGN_OR_RETURN(std::optional<std::string> last_known,
                         store_->GetClinicZone(txn, in.clinic_id()));
        if (!last_known.has_value() && any.has_value()) last_known = any->time_zone();
        v1::PriceList list = in;
        ASSIGN_OR_RETURN(*list.mutable_time_zone(),
                         ResolveClinicZone("price_list.clinic_id", "price_list.time_zone",
                                           in.time_zone(), from_identity, last_known));
        ASSIGN_OR_RETURN(absl::Time effective, ValidatePriceList(list));
        if (any.has_value()) RETURN_IF_ERROR(CheckSameCurrency(*any, list));
        if (from_identity.ok()) {
          RETURN_IF_ERROR(store_->PutClinicZone(txn, list.clinic_id(), list.time_zone(), call.now));
        }
        return store_->InsertPriceList(txn, list, effective, call.now);
      });
}

absl::StatusOr<int> PriceLists::RefreshZones(absl::Time now) {
  if (zones_ == nullptr) return 0;
  ASSIGN_OR_RETURN(std::vector<::smp::ClinicZone> all, zones_->AllZones());
  int changed = 0;
  RETURN_IF_ERROR(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    changed = 0;
    ASSIGN_OR_RETURN(std::vector<std::string> known, store_->KnownClinics(txn));
    for (const ::smp::ClinicZone& clinic : all) {
      if (std::find(known.begin(), known.end(), clinic.clinic_id) == known.end()) continue;
      ASSIGN_OR_RETURN(std::optional<std::string> current,
                       store_->GetClinicZone(txn, clinic.clinic_id));
      if (current.has_value() && *current == clinic.time_zone) continue;
      RETURN_IF_ERROR(store_->PutClinicZone(txn, clinic.clinic_id, clinic.time_zone, now));
      ++changed;
    }
    return absl::OkStatus();
  }));
  return changed;
}

absl::StatusOr<v1::PriceList> PriceLists::GetEffective(
    const Call& call, const v1::GetEffectivePriceListRequest& request) {
  RETURN_IF_ERROR(ValidateId("clinic_id", request.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(request.clinic_id()));
  const absl::Time at = request.has_at_time() ? FromProtoTimestamp(request.at_time()) : call.now;
  v1::PriceList out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(out, RequirePriceList(*store_, txn, request.clinic_id(), at, "clinic_id"));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ListPriceListsResponse> PriceLists::List(
    const Call& call, const v1::ListPriceListsRequest& request) {
  RETURN_IF_ERROR(ValidateId("clinic_id", request.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(request.clinic_id()));
  const std::string query = absl::StrCat("price_lists?clinic=", request.clinic_id());
  ASSIGN_OR_RETURN(PageRequest page,
                   ParsePageRequest(request.page_size(), request.page_token(), query));
  v1::ListPriceListsResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Page<v1::PriceList> result,
                     store_->ListPriceLists(txn, request.clinic_id(), page));
    for (v1::PriceList& l : result.items) *out.add_price_lists() = std::move(l);
    out.set_next_page_token(NextPageToken(query, result.last_key));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace smp::billing
