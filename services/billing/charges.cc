#include "services/billing/charges.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/db/idempotency.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/billing/billing_rules.h"
#include "services/billing/payments.h"
#include "services/billing/price_lists.h"

namespace smp::billing {
namespace {

absl::Status CheckMayCharge(const Principal& who) {
  if (who.Has(common::v1::PERMISSION_SERVICE_CALL) ||
      who.Has(common::v1::PERMISSION_BILLING_WRITE)) {
    return absl::OkStatus();
  }
  return WithErrorInfo(
      absl::PermissionDeniedError("RecordChargeEvent needs PERMISSION_SERVICE_CALL or "
                                  "PERMISSION_BILLING_WRITE; your roles grant neither"),
      reason::kMissingPermission, {{"permission", "PERMISSION_SERVICE_CALL"}});
}

absl::Status ValidateEvent(const v1::RecordChargeEventRequest& request) {
  RETURN_IF_ERROR(ValidateRequestId("event_id", request.event_id()));
  if (request.type() == v1::CHARGE_EVENT_TYPE_UNSPECIFIED ||
      !v1::ChargeEventType_IsValid(request.type())) {
    return absl::InvalidArgumentError("type: is required");
  }
  RETURN_IF_ERROR(ValidateId("clinic_id", request.clinic_id()));
  RETURN_IF_ERROR(ValidateId("patient_id", request.patient_id()));
  RETURN_IF_ERROR(ValidateId("appointment_id", request.appointment_id()));
  RETURN_IF_ERROR(ValidateOptionalId("plan_id", request.plan_id()));
  if (!request.has_occur_time()) return absl::InvalidArgumentError("occur_time: is required");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::ChargeEventResult> Charges::Record(const Call& call,
                                                      const v1::RecordChargeEventRequest& request) {
  RETURN_IF_ERROR(CheckMayCharge(call.who));
  RETURN_IF_ERROR(ValidateEvent(request));
  RETURN_IF_ERROR(call.who.CheckClinic(request.clinic_id()));
  // Keyed by the event alone (not the caller): a redelivery by another session of scheduling, or a
  // clerk entering the same event, is the same charge.
  ASSIGN_OR_RETURN(IdempotencyKey key,
                   MakeIdempotencyKey(call.method, request.event_id(), "event", request));
  bool fresh = false;
  absl::StatusOr<v1::ChargeEventResult> result = RunIdempotent<v1::ChargeEventResult>(
      *db_, key, call.now, InvoiceNumberQueue(request.clinic_id()),
      [&](Transaction& txn) -> absl::StatusOr<v1::ChargeEventResult> {
        fresh = true;
        return Charge(call, txn, request);
      });
  if (ErrorReason(result.status()) == reason::kRequestIdReused) {
    return WithFieldViolation(
        WithErrorInfo(absl::InvalidArgumentError(absl::StrCat(
                          "event_id: \"", request.event_id(),
                          "\" was already recorded with different details; an event id names "
                          "one event")),
                      reason::kRequestIdReused, {{"event_id", request.event_id()}}),
        "event_id", "already recorded with different details");
  }
  RETURN_IF_ERROR(result.status());
  result->set_replayed(!fresh);
  return result;
}

absl::StatusOr<v1::ChargeEventResult> Charges::Charge(const Call& call, Transaction& txn,
                                                      const v1::RecordChargeEventRequest& request) {
  const absl::Time occurred = FromProtoTimestamp(request.occur_time());
  ASSIGN_OR_RETURN(v1::PriceList list,
                   RequirePriceList(*store_, txn, request.clinic_id(), occurred, "clinic_id"));
  std::optional<v1::Quote> quote;
  if (!request.plan_id().empty()) {
    ASSIGN_OR_RETURN(quote,
                     store_->AcceptedQuoteForPlan(txn, request.clinic_id(), request.plan_id()));
  }
  ASSIGN_OR_RETURN(v1::Line line, ChargeLine(request, list, quote.has_value() ? &*quote : nullptr));
  v1::ChargeEventResult charged;
  charged.set_event_id(request.event_id());
  v1::Invoice inv;
  inv.set_currency_code(list.currency_code());
  inv.set_tax_rate_bp(quote.has_value() ? quote->tax_rate_bp() : list.tax_rate_bp());
  inv.set_prices_include_tax(quote.has_value() ? quote->prices_include_tax()
                                               : list.prices_include_tax());
  *inv.add_lines() = line;
  ASSIGN_OR_RETURN(*inv.mutable_totals(),
                   PriceLines("charge", inv.currency_code(), inv.tax_rate_bp(),
                              inv.prices_include_tax(), *inv.mutable_lines()));
  if (inv.totals().total().amount_minor() > 0) {
    inv.set_id(NewIdAt(call.now));
    inv.set_clinic_id(request.clinic_id());
    inv.set_patient_id(request.patient_id());
    inv.set_plan_id(request.plan_id());
    inv.set_source_event_id(request.event_id());
    *inv.mutable_create_time() = ToProtoTimestamp(call.now);
    ASSIGN_OR_RETURN(int64_t number, store_->NextInvoiceNumber(txn, request.clinic_id()));
    inv.set_number(number);
    inv.set_status(v1::INVOICE_ISSUED);
    *inv.mutable_issue_time() = ToProtoTimestamp(call.now);
    RETURN_IF_ERROR(SettleInvoice(inv));
    if (!inv.plan_id().empty()) RETURN_IF_ERROR(DrawPlanDeposits(*store_, txn, inv, call.now));
    ASSIGN_OR_RETURN(*charged.mutable_invoice(), store_->InsertInvoice(txn, inv));
  }
  RETURN_IF_ERROR(store_->InsertChargeEvent(txn, charged, call.now));
  return charged;
}

}  // namespace smp::billing
