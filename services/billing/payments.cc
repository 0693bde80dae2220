#include "services/billing/payments.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/money/money.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/paging.h"
#include "common/util/validation.h"
#include "services/billing/billing_rules.h"
#include "services/billing/price_lists.h"

namespace smp::billing {

using common::v1::Money;

absl::Status DrawPlanDeposits(const BillingStore& store, Transaction& txn, v1::Invoice& invoice,
                              absl::Time now) {
  ASSIGN_OR_RETURN(std::vector<v1::Payment> deposits,
                   store.PlanDeposits(txn, invoice.clinic_id(), invoice.plan_id()));
  for (v1::Payment& deposit : deposits) {
    if (invoice.amount_due().amount_minor() <= 0) break;
    if (deposit.patient_id() != invoice.patient_id()) continue;
    ASSIGN_OR_RETURN(Money left, Refundable(deposit));
    if (left.amount_minor() <= 0) continue;
    const Money draw =
        left.amount_minor() < invoice.amount_due().amount_minor() ? left : invoice.amount_due();
    RETURN_IF_ERROR(ApplyToInvoice(invoice, draw, /*credit=*/false));
    ASSIGN_OR_RETURN(*deposit.mutable_amount_applied(), AddMoney(deposit.amount_applied(), draw));
    RETURN_IF_ERROR(store.UpdatePayment(txn, deposit));
    RETURN_IF_ERROR(
        store.InsertDepositApplication(txn, deposit.id(), invoice.id(), draw.amount_minor(), now));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Payment> Payments::Record(const Call& call,
                                             const v1::RecordPaymentRequest& request) {
  const v1::Payment& in = request.payment();
  RETURN_IF_ERROR(ValidateId("payment.clinic_id", in.clinic_id()));
  RETURN_IF_ERROR(ValidateId("payment.patient_id", in.patient_id()));
  RETURN_IF_ERROR(ValidateOptionalId("payment.invoice_id", in.invoice_id()));
  RETURN_IF_ERROR(ValidateOptionalId("payment.plan_id", in.plan_id()));
  if (in.invoice_id().empty() == in.plan_id().empty()) {
    return absl::InvalidArgumentError(
        "payment.invoice_id: give an invoice_id (a payment) or a plan_id (a deposit), not both");
  }
  RETURN_IF_ERROR(ValidateMoney("payment.amount", in.amount()));
  RETURN_IF_ERROR(ValidatePaymentMethod(in));
  RETURN_IF_ERROR(call.who.CheckClinic(in.clinic_id()));
  return RunIdempotent<v1::Payment>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Payment> {
        v1::Payment payment = in;
        payment.clear_id();
        payment.set_recorded_by(call.who.staff_id);
        std::string currency;
        if (!in.invoice_id().empty()) {
          ASSIGN_OR_RETURN(v1::Invoice inv, store_->GetInvoice(txn, in.invoice_id()));
          RETURN_IF_ERROR(call.who.CheckClinic(inv.clinic_id()));
          if (inv.clinic_id() != in.clinic_id() || inv.patient_id() != in.patient_id()) {
            return absl::InvalidArgumentError(
                absl::StrCat("payment.invoice_id: invoice ", inv.id(),
                             " belongs to another clinic or patient than the payment names"));
          }
          currency = inv.currency_code();
          RETURN_IF_ERROR(ValidatePositiveAmount("payment.amount", currency, in.amount()));
          RETURN_IF_ERROR(CheckPayable(inv, in.amount(), "payment"));
          ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", inv.etag()));
          RETURN_IF_ERROR(ApplyToInvoice(inv, in.amount(), /*credit=*/false));
          RETURN_IF_ERROR(store_->UpdateInvoice(txn, inv, version).status());
        } else {
          ASSIGN_OR_RETURN(v1::PriceList clinic,
                           RequireClinic(*store_, txn, in.clinic_id(), "payment.clinic_id"));
          currency = clinic.currency_code();
          RETURN_IF_ERROR(ValidatePositiveAmount("payment.amount", currency, in.amount()));
          *payment.mutable_amount_applied() = MakeMoney(0, currency);
        }
        *payment.mutable_amount_refunded() = MakeMoney(0, currency);
        return store_->InsertPayment(txn, payment, call.now);
      });
}

absl::StatusOr<v1::Payment> Payments::ApplyDeposit(const Call& call,
                                                   const v1::ApplyDepositRequest& request) {
  RETURN_IF_ERROR(ValidateId("deposit_id", request.deposit_id()));
  RETURN_IF_ERROR(ValidateId("invoice_id", request.invoice_id()));
  RETURN_IF_ERROR(ValidateMoney("amount", request.amount()));
  return RunIdempotent<v1::Payment>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Payment> {
        ASSIGN_OR_RETURN(v1::Payment deposit, store_->GetPayment(txn, request.deposit_id()));
        RETURN_IF_ERROR(call.who.CheckClinic(deposit.clinic_id()));
        ASSIGN_OR_RETURN(v1::Invoice inv, store_->GetInvoice(txn, request.invoice_id()));
        RETURN_IF_ERROR(call.who.CheckClinic(inv.clinic_id()));
        RETURN_IF_ERROR(
            ValidatePositiveAmount("amount", deposit.amount().currency_code(), request.amount()));
        RETURN_IF_ERROR(CheckDepositApplication(deposit, inv, request.amount()));
        RETURN_IF_ERROR(CheckPayable(inv, request.amount(), "deposit"));
        ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", inv.etag()));
        RETURN_IF_ERROR(ApplyToInvoice(inv, request.amount(), /*credit=*/false));
        RETURN_IF_ERROR(store_->UpdateInvoice(txn, inv, version).status());
        ASSIGN_OR_RETURN(*deposit.mutable_amount_applied(),
                         AddMoney(deposit.amount_applied(), request.amount()));
        RETURN_IF_ERROR(store_->UpdatePayment(txn, deposit));
        RETURN_IF_ERROR(store_->InsertDepositApplication(
            txn, deposit.id(), inv.id(), request.amount().amount_minor(), call.now));
        return deposit;
      });
}

absl::StatusOr<v1::Payment> Payments::UnapplyDeposit(const Call& call,
                                                     const v1::UnapplyDepositRequest& request) {
  RETURN_IF_ERROR(ValidateId("deposit_id", request.deposit_id()));
  RETURN_IF_ERROR(ValidateId("invoice_id", request.invoice_id()));
  RETURN_IF_ERROR(ValidateMoney("amount", request.amount()));
  RETURN_IF_ERROR(ValidateRequiredText("reason", request.reason(), 500));
  return RunIdempotent<v1::Payment>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Payment> {
        ASSIGN_OR_RETURN(v1::Payment deposit, store_->GetPayment(txn, request.deposit_id()));
        RETURN_IF_ERROR(call.who.CheckClinic(deposit.clinic_id()));
        ASSIGN_OR_RETURN(v1::Invoice inv, store_->GetInvoice(txn, request.invoice_id()));
        RETURN_IF_ERROR(call.who.CheckClinic(inv.clinic_id()));
        RETURN_IF_ERROR(
            ValidatePositiveAmount("amount", deposit.amount().currency_code(), request.amount()));
        ASSIGN_OR_RETURN(int64_t applied, store_->AppliedToInvoice(txn, deposit.id(), inv.id()));
        ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", inv.etag()));
        RETURN_IF_ERROR(UnapplyDepositFrom(deposit, inv, applied, request.amount()));
        RETURN_IF_ERROR(store_->UpdateInvoice(txn, inv, version).status());
        RETURN_IF_ERROR(store_->UpdatePayment(txn, deposit));
        RETURN_IF_ERROR(store_->InsertDepositApplication(txn, deposit.id(), inv.id(),
                                                         -request.amount().amount_minor(), call.now,
                                                         call.who.staff_id, request.reason()));
        return deposit;
      });
}

absl::StatusOr<v1::Invoice> Payments::ApplyCredit(const Call& call,
                                                  const v1::ApplyPatientCreditRequest& request) {
  RETURN_IF_ERROR(ValidateId("invoice_id", request.invoice_id()));
  RETURN_IF_ERROR(ValidateMoney("amount", request.amount()));
  return RunIdempotent<v1::Invoice>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Invoice> {
        ASSIGN_OR_RETURN(v1::Invoice inv, store_->GetInvoice(txn, request.invoice_id()));
        RETURN_IF_ERROR(call.who.CheckClinic(inv.clinic_id()));
        RETURN_IF_ERROR(ValidatePositiveAmount("amount", inv.currency_code(), request.amount()));
        RETURN_IF_ERROR(CheckPayable(inv, request.amount(), "patient credit"));
        ASSIGN_OR_RETURN(int64_t balance,
                         store_->PatientCreditBalance(txn, inv.clinic_id(), inv.patient_id()));
        RETURN_IF_ERROR(
            CheckCreditBalance(MakeMoney(balance, inv.currency_code()), request.amount()));
        ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", inv.etag()));
        RETURN_IF_ERROR(ApplyToInvoice(inv, request.amount(), /*credit=*/false));
        RETURN_IF_ERROR(store_->InsertPatientCredit(txn, inv.clinic_id(), inv.patient_id(),
                                                    -request.amount().amount_minor(), "APPLIED",
                                                    inv.id(), call.who.staff_id, call.now));
        return store_->UpdateInvoice(txn, inv, version);
      });
}

absl::StatusOr<v1::Refund> Payments::RefundCredit(const Call& call,
                                                  const v1::RefundPatientCreditRequest& request) {
  RETURN_IF_ERROR(ValidateId("clinic_id", request.clinic_id()));
  RETURN_IF_ERROR(ValidateId("patient_id", request.patient_id()));
  RETURN_IF_ERROR(ValidateMoney("amount", request.amount()));
  RETURN_IF_ERROR(ValidateRequiredText("reason", request.reason(), 500));
  RETURN_IF_ERROR(call.who.CheckClinic(request.clinic_id()));
  return RunIdempotent<v1::Refund>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Refund> {
        ASSIGN_OR_RETURN(v1::PriceList clinic,
                         RequireClinic(*store_, txn, request.clinic_id(), "clinic_id"));
        RETURN_IF_ERROR(ValidatePositiveAmount("amount", clinic.currency_code(), request.amount()));
        ASSIGN_OR_RETURN(int64_t balance, store_->PatientCreditBalance(txn, request.clinic_id(),
                                                                       request.patient_id()));
        RETURN_IF_ERROR(
            CheckCreditBalance(MakeMoney(balance, clinic.currency_code()), request.amount()));
        v1::Refund refund;
        refund.set_clinic_id(request.clinic_id());
        refund.set_patient_id(request.patient_id());
        *refund.mutable_amount() = request.amount();
        refund.set_reason(request.reason());
        ASSIGN_OR_RETURN(v1::Refund stored, store_->InsertRefund(txn, refund, call.now));
        RETURN_IF_ERROR(store_->InsertPatientCredit(txn, request.clinic_id(), request.patient_id(),
                                                    -request.amount().amount_minor(), "REFUNDED",
                                                    stored.id(), call.who.staff_id, call.now));
        return stored;
      });
}

absl::StatusOr<v1::Refund> Payments::Refund(const Call& call,
                                            const v1::RefundPaymentRequest& request) {
  const v1::Refund& in = request.refund();
  RETURN_IF_ERROR(ValidateId("refund.payment_id", in.payment_id()));
  RETURN_IF_ERROR(ValidateRequiredText("refund.reason", in.reason(), 500));
  RETURN_IF_ERROR(ValidateMoney("refund.amount", in.amount()));
  return RunIdempotent<v1::Refund>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Refund> {
        ASSIGN_OR_RETURN(v1::Payment payment, store_->GetPayment(txn, in.payment_id()));
        RETURN_IF_ERROR(call.who.CheckClinic(payment.clinic_id()));
        RETURN_IF_ERROR(
            ValidatePositiveAmount("refund.amount", payment.amount().currency_code(), in.amount()));
        RETURN_IF_ERROR(CheckRefund(payment, in.amount()));
        ASSIGN_OR_RETURN(*payment.mutable_amount_refunded(),
                         AddMoney(payment.amount_refunded(), in.amount()));
        RETURN_IF_ERROR(store_->UpdatePayment(txn, payment));
        if (!payment.invoice_id().empty()) {
          ASSIGN_OR_RETURN(v1::Invoice inv, store_->GetInvoice(txn, payment.invoice_id()));
          ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", inv.etag()));
          RETURN_IF_ERROR(RefundFromInvoice(inv, in.amount()));
          RETURN_IF_ERROR(store_->UpdateInvoice(txn, inv, version).status());
        }
        v1::Refund refund = in;
        refund.set_clinic_id(payment.clinic_id());
        return store_->InsertRefund(txn, refund, call.now);
      });
}

absl::StatusOr<v1::Payment> Payments::Get(const Call& call, const v1::GetPaymentRequest& request) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  return ReadInClinicScope<v1::Payment>(
      *db_, call, [&](Transaction& txn) { return store_->GetPayment(txn, request.id()); });
}

absl::StatusOr<v1::ListPaymentsResponse> Payments::List(const Call& call,
                                                        const v1::ListPaymentsRequest& request) {
  RETURN_IF_ERROR(ValidateId("clinic_id", request.clinic_id()));
  RETURN_IF_ERROR(ValidateOptionalId("invoice_id", request.invoice_id()));
  RETURN_IF_ERROR(ValidateOptionalId("patient_id", request.patient_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(request.clinic_id()));
  const std::string query =
      absl::StrCat("payments?clinic=", request.clinic_id(), "&invoice=", request.invoice_id(),
                   "&patient=", request.patient_id());
  ASSIGN_OR_RETURN(PageRequest page,
                   ParsePageRequest(request.page_size(), request.page_token(), query));
  v1::ListPaymentsResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Page<v1::Payment> result,
                     store_->ListPayments(txn, request.clinic_id(), request.invoice_id(),
                                          request.patient_id(), page));
    for (v1::Payment& p : result.items) *out.add_payments() = std::move(p);
    out.set_next_page_token(NextPageToken(query, result.last_key));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::PatientBalance> Payments::Balance(const Call& call,
                                                     const v1::GetPatientBalanceRequest& request) {
  RETURN_IF_ERROR(ValidateId("clinic_id", request.clinic_id()));
  RETURN_IF_ERROR(ValidateId("patient_id", request.patient_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(request.clinic_id()));
  v1::PatientBalance out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::PriceList clinic,
                     RequireClinic(*store_, txn, request.clinic_id(), "clinic_id"));
    Money due = MakeMoney(0, clinic.currency_code());
    Money deposits = MakeMoney(0, clinic.currency_code());
    int open = 0;
    ASSIGN_OR_RETURN(std::vector<v1::Invoice> invoices,
                     store_->PatientInvoices(txn, request.clinic_id(), request.patient_id()));
    for (const v1::Invoice& inv : invoices) {
      ASSIGN_OR_RETURN(due, AddMoney(due, inv.amount_due()));
      if (inv.amount_due().amount_minor() > 0) ++open;
    }
    ASSIGN_OR_RETURN(std::vector<v1::Payment> held,
                     store_->PatientDeposits(txn, request.clinic_id(), request.patient_id()));
    for (const v1::Payment& p : held) {
      ASSIGN_OR_RETURN(Money left, Refundable(p));
      ASSIGN_OR_RETURN(deposits, AddMoney(deposits, left));
    }
    out.set_clinic_id(request.clinic_id());
    out.set_patient_id(request.patient_id());
    *out.mutable_amount_due() = due;
    *out.mutable_unapplied_deposits() = deposits;
    out.set_open_invoices(open);
    ASSIGN_OR_RETURN(int64_t credit,
                     store_->PatientCreditBalance(txn, request.clinic_id(), request.patient_id()));
    *out.mutable_credit_balance() = MakeMoney(credit, clinic.currency_code());
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace smp::billing
