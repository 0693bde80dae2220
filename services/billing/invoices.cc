#include "services/billing/invoices.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/money/money.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/ids.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/billing/billing_rules.h"
#include "services/billing/price_lists.h"

namespace smp::billing {
namespace {

// The invoice a change request names (`id`, `etag`), once the caller's scope over its clinic and
// the etag are checked: a stale etag is reported before any rule, so a client that lost a race
// learns that first.
template <typename Request>
absl::StatusOr<v1::Invoice> InvoiceToChange(const BillingStore& store, Transaction& txn,
                                            const Call& call, const Request& request) {
  ASSIGN_OR_RETURN(v1::Invoice inv, store.GetInvoice(txn, request.id()));
  RETURN_IF_ERROR(call.who.CheckClinic(inv.clinic_id()));
  RETURN_IF_ERROR(CheckCurrentEtag("invoice", inv.id(), inv.etag(), request.etag()));
  return inv;
}

}  // namespace

absl::StatusOr<v1::Invoice> Invoices::Create(const Call& call,
                                             const v1::CreateInvoiceRequest& request) {
  const v1::Invoice& in = request.invoice();
  RETURN_IF_ERROR(ValidateId("invoice.clinic_id", in.clinic_id()));
  RETURN_IF_ERROR(ValidateId("invoice.patient_id", in.patient_id()));
  RETURN_IF_ERROR(ValidateOptionalId("invoice.plan_id", in.plan_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(in.clinic_id()));
  return RunIdempotent<v1::Invoice>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Invoice> {
        ASSIGN_OR_RETURN(v1::PriceList list, RequirePriceList(*store_, txn, in.clinic_id(),
                                                              call.now, "invoice.clinic_id"));
        v1::Invoice inv;
        inv.set_id(NewIdAt(call.now));
        inv.set_clinic_id(in.clinic_id());
        inv.set_patient_id(in.patient_id());
        inv.set_plan_id(in.plan_id());
        inv.set_status(v1::INVOICE_DRAFT);
        inv.set_currency_code(list.currency_code());
        inv.set_tax_rate_bp(list.tax_rate_bp());
        inv.set_prices_include_tax(list.prices_include_tax());
        *inv.mutable_lines() = in.lines();
        ASSIGN_OR_RETURN(*inv.mutable_totals(),
                         PriceLines("invoice.lines", inv.currency_code(), inv.tax_rate_bp(),
                                    inv.prices_include_tax(), *inv.mutable_lines()));
        RETURN_IF_ERROR(SettleInvoice(inv));
        *inv.mutable_create_time() = ToProtoTimestamp(call.now);
        return store_->InsertInvoice(txn, inv);
      });
}

absl::StatusOr<v1::Invoice> Invoices::UpdateDraft(const Call& call,
                                                  const v1::UpdateDraftInvoiceRequest& request) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", request.etag()));
  return RunIdempotent<v1::Invoice>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Invoice> {
        ASSIGN_OR_RETURN(v1::Invoice inv, InvoiceToChange(*store_, txn, call, request));
        RETURN_IF_ERROR(CheckDraft(inv, /*edit=*/true));
        *inv.mutable_lines() = request.lines();
        ASSIGN_OR_RETURN(*inv.mutable_totals(),
                         PriceLines("lines", inv.currency_code(), inv.tax_rate_bp(),
                                    inv.prices_include_tax(), *inv.mutable_lines()));
        RETURN_IF_ERROR(SettleInvoice(inv));
        return store_->UpdateInvoice(txn, inv, version);
      });
}

absl::StatusOr<v1::Invoice> Invoices::Issue(const Call& call,
                                            const v1::IssueInvoiceRequest& request) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", request.etag()));
  // The number advances the counter of the invoice's clinic: queue behind its other writers. An
  // invoice never changes clinic, so a read before the transaction names the right queue; one not
  // found names none and the transaction answers as it would anyway.
  WriteQueue queue;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    absl::StatusOr<v1::Invoice> inv = store_->GetInvoice(txn, request.id());
    if (inv.ok()) queue = InvoiceNumberQueue(inv->clinic_id());
    return absl::IsNotFound(inv.status()) ? absl::OkStatus() : inv.status();
  }));
  return RunIdempotent<v1::Invoice>(
      *db_, call, request, queue, [&](Transaction& txn) -> absl::StatusOr<v1::Invoice> {
        ASSIGN_OR_RETURN(v1::Invoice inv, InvoiceToChange(*store_, txn, call, request));
        RETURN_IF_ERROR(CheckDraft(inv, /*edit=*/false));
        // The number is taken in this transaction: a failed issue gives it back.
        ASSIGN_OR_RETURN(int64_t number, store_->NextInvoiceNumber(txn, inv.clinic_id()));
        inv.set_number(number);
        inv.set_status(v1::INVOICE_ISSUED);
        *inv.mutable_issue_time() = ToProtoTimestamp(call.now);
        RETURN_IF_ERROR(SettleInvoice(inv));
        return store_->UpdateInvoice(txn, inv, version);
      });
}

absl::StatusOr<v1::Invoice> Invoices::Void(const Call& call,
                                           const v1::VoidInvoiceRequest& request) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", request.etag()));
  RETURN_IF_ERROR(ValidateRequiredText("reason", request.reason(), 500));
  return RunIdempotent<v1::Invoice>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::Invoice> {
        ASSIGN_OR_RETURN(v1::Invoice inv, InvoiceToChange(*store_, txn, call, request));
        RETURN_IF_ERROR(VoidUntouchedInvoice(inv, request.reason(), call.now));
        return store_->UpdateInvoice(txn, inv, version);
      });
}

absl::StatusOr<v1::Invoice> Invoices::Get(const Call& call, const v1::GetInvoiceRequest& request) {
  RETURN_IF_ERROR(ValidateId("id", request.id()));
  return ReadInClinicScope<v1::Invoice>(
      *db_, call, [&](Transaction& txn) { return store_->GetInvoice(txn, request.id()); });
}

absl::StatusOr<v1::ListInvoicesResponse> Invoices::List(const Call& call,
                                                        const v1::ListInvoicesRequest& request) {
  RETURN_IF_ERROR(ValidateId("clinic_id", request.clinic_id()));
  RETURN_IF_ERROR(ValidateOptionalId("patient_id", request.patient_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(request.clinic_id()));
  const std::string query =
      absl::StrCat("invoices?clinic=", request.clinic_id(), "&patient=", request.patient_id());
  ASSIGN_OR_RETURN(PageRequest page,
                   ParsePageRequest(request.page_size(), request.page_token(), query));
  v1::ListInvoicesResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Page<v1::Invoice> result,
                     store_->ListInvoices(txn, request.clinic_id(), request.patient_id(), page));
    for (v1::Invoice& i : result.items) *out.add_invoices() = std::move(i);
    out.set_next_page_token(NextPageToken(query, result.last_key));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::CreditNote> Invoices::CreateCreditNote(
    const Call& call, const v1::CreateCreditNoteRequest& request) {
  const v1::CreditNote& in = request.credit_note();
  RETURN_IF_ERROR(ValidateId("credit_note.invoice_id", in.invoice_id()));
  RETURN_IF_ERROR(ValidateRequiredText("credit_note.reason", in.reason(), 500));
  RETURN_IF_ERROR(ValidateMoney("credit_note.amount", in.amount()));
  return RunIdempotent<v1::CreditNote>(
      *db_, call, request, [&](Transaction& txn) -> absl::StatusOr<v1::CreditNote> {
        ASSIGN_OR_RETURN(v1::Invoice inv, store_->GetInvoice(txn, in.invoice_id()));
        RETURN_IF_ERROR(call.who.CheckClinic(inv.clinic_id()));
        RETURN_IF_ERROR(
            ValidatePositiveAmount("credit_note.amount", inv.currency_code(), in.amount()));
        ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", inv.etag()));
        // What is due is credited first; what was already paid goes to the patient's credit.
        ASSIGN_OR_RETURN(common::v1::Money to_balance, CreditInvoice(inv, in.amount()));
        RETURN_IF_ERROR(store_->UpdateInvoice(txn, inv, version).status());
        v1::CreditNote note = in;
        note.set_clinic_id(inv.clinic_id());
        note.set_patient_id(inv.patient_id());
        *note.mutable_to_credit_balance() = to_balance;
        ASSIGN_OR_RETURN(v1::CreditNote stored, store_->InsertCreditNote(txn, note, call.now));
        if (to_balance.amount_minor() > 0) {
          RETURN_IF_ERROR(store_->InsertPatientCredit(txn, inv.clinic_id(), inv.patient_id(),
                                                      to_balance.amount_minor(), "CREDIT_NOTE",
                                                      stored.id(), call.who.staff_id, call.now));
        }
        return stored;
      });
}

}  // namespace smp::billing
