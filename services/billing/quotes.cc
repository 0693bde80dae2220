#include "services/billing/quotes.h"

#include <optional>

#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/billing/billing_rules.h"
#include "services/billing/price_lists.h"

namespace smp::billing {

absl::StatusOr<v1::Quote> Quotes::Create(const Call& call, const v1::CreateQuoteRequest& request) {
  const v1::Quote& in = request.quote();
  RETURN_IF_ERROR(ValidateId("quote.clinic_id", in.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(in.clinic_id()));
  return RunIdempotent<v1::Quote>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Quote> {
        ASSIGN_OR_RETURN(v1::PriceList list, RequirePriceList(*store_, txn, in.clinic_id(),
                                                              call.now, "quote.clinic_id"));
        v1::Quote quote;
        quote.set_clinic_id(in.clinic_id());
        quote.set_patient_id(in.patient_id());
        quote.set_plan_id(in.plan_id());
        quote.set_area(in.area());
        quote.set_sessions(in.sessions());
        quote.set_discount_bp(in.discount_bp());
        *quote.mutable_valid_until() = in.valid_until();
        RETURN_IF_ERROR(PriceQuote(list, LocalDateAt(list, call.now), quote));
        quote.set_id(NewIdAt(call.now));
        *quote.mutable_create_time() = ToProtoTimestamp(call.now);
        return store_->InsertQuote(txn, quote);
      });
}

absl::StatusOr<v1::Quote> Quotes::Get(const Call& call, const v1::GetQuoteRequest& request) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  return ReadInClinicScope<v1::Quote>(
      *db_, call, [&](Transaction& txn) { return store_->GetQuote(txn, request.id()); });
}

absl::StatusOr<v1::Quote> Quotes::Accept(const Call& call, const v1::AcceptQuoteRequest& request) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", request.etag()));
  return RunIdempotent<v1::Quote>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Quote> {
        ASSIGN_OR_RETURN(v1::Quote quote, store_->GetQuote(txn, request.id()));
        RETURN_IF_ERROR(call.who.CheckClinic(quote.clinic_id()));
        RETURN_IF_ERROR(CheckCurrentEtag("quote", quote.id(), quote.etag(), request.etag()));
        // The clinic's time zone says which day "today" is; a quote implies a price list.
        ASSIGN_OR_RETURN(v1::PriceList clinic,
                         RequireClinic(*store_, txn, quote.clinic_id(), "id"));
        RETURN_IF_ERROR(AcceptOpenQuote(quote, LocalDateAt(clinic, call.now), call.now));
        return store_->UpdateQuote(txn, quote, version);
      });
}

}  // namespace smp::billing
