#include "services/billing/price_lists.h"

#include <optional>
#include <string>
#include <utility>

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

}  // namespace

absl::StatusOr<v1::PriceList> RequireClinic(const BillingStore& store, Transaction& txn,
                                            absl::string_view clinic_id, absl::string_view field) {
  ASSIGN_OR_RETURN(std::optional<v1::PriceList> any, store.AnyPriceList(txn, clinic_id));
  if (!any.has_value()) return UnknownClinic(clinic_id, field);
  return *std::move(any);
}

absl::StatusOr<v1::PriceList> RequirePriceList(const BillingStore& store, Transaction& txn,
                                               absl::string_view clinic_id, absl::Time at,
                                               absl::string_view field) {
  ASSIGN_OR_RETURN(std::optional<v1::PriceList> list, store.EffectivePriceList(txn, clinic_id, at));
  if (list.has_value()) return *std::move(list);
  ASSIGN_OR_RETURN(v1::PriceList any, RequireClinic(store, txn, clinic_id, field));
  return WithErrorInfo(absl::FailedPreconditionError(
                           absl::StrCat("clinic ", clinic_id, " has no price list in force at ",
                                        absl::FormatTime(at, ClinicZone(any)))),
                       billing_reason::kNoPriceListInForce,
                       {{"clinic_id", std::string(clinic_id)}});
}

absl::StatusOr<v1::PriceList> PriceLists::Create(const Call& call,
                                                 const v1::CreatePriceListRequest& request) {
  const v1::PriceList& list = request.price_list();
  ASSIGN_OR_RETURN(absl::Time effective, ValidatePriceList(list));
  RETURN_IF_ERROR(call.who.CheckClinic(list.clinic_id()));
  return RunIdempotent<v1::PriceList>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::PriceList> {
        ASSIGN_OR_RETURN(std::optional<v1::PriceList> any,
                         store_->AnyPriceList(txn, list.clinic_id()));
        if (any.has_value()) RETURN_IF_ERROR(CheckSameCurrency(*any, list));
        return store_->InsertPriceList(txn, list, effective, call.now);
      });
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
