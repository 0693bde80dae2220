#ifndef SMP_SERVICES_BILLING_INVOICES_H_
#define SMP_SERVICES_BILLING_INVOICES_H_

// Invoices and credit notes. A DRAFT is priced in the clinic's currency at the tax rate in force
// when it is made and may be edited; issuing takes the clinic's next invoice number inside the
// issuing transaction (numbers 1, 2, 3... without gaps; a failed issue gives its number back); an
// issued invoice is never edited, only paid, credited, or (untouched) voided.

#include "absl/status/statusor.h"
#include "common/db/database.h"
#include "common/rpc/call.h"
#include "services/billing/billing_store.h"
#include "smp/billing/v1/billing.pb.h"

namespace smp::billing {

// CreateInvoice, UpdateDraftInvoice, IssueInvoice, VoidInvoice, GetInvoice, ListInvoices,
// CreateCreditNote. Every change is idempotent by request_id; changes of an existing invoice carry
// its etag (ABORTED, STALE_ETAG when stale) and are refused with FAILED_PRECONDITION and a
// billing reason when its status does not allow them.
class Invoices {
 public:
  // `db` and `store` must outlive this.
  Invoices(Database* db, const BillingStore* store) : db_(db), store_(store) {}

  absl::StatusOr<v1::Invoice> Create(const Call& call, const v1::CreateInvoiceRequest& request);
  // Replaces a draft's lines (INVOICE_NOT_DRAFT once issued).
  absl::StatusOr<v1::Invoice> UpdateDraft(const Call& call,
                                          const v1::UpdateDraftInvoiceRequest& request);
  absl::StatusOr<v1::Invoice> Issue(const Call& call, const v1::IssueInvoiceRequest& request);
  absl::StatusOr<v1::Invoice> Void(const Call& call, const v1::VoidInvoiceRequest& request);
  absl::StatusOr<v1::Invoice> Get(const Call& call, const v1::GetInvoiceRequest& request);
  // A clinic's invoices (optionally one patient's), newest first; paged.
  absl::StatusOr<v1::ListInvoicesResponse> List(const Call& call,
                                                const v1::ListInvoicesRequest& request);
  // Credits an issued invoice, paid or not: the amount due first, the paid rest to the patient's
  // credit balance at the clinic; never above the total less earlier credits (EXCEEDS_CREDITABLE).
  absl::StatusOr<v1::CreditNote> CreateCreditNote(const Call& call,
                                                  const v1::CreateCreditNoteRequest& request);

 private:
  Database* db_;
  const BillingStore* store_;
};

}  // namespace smp::billing

#endif  // SMP_SERVICES_BILLING_INVOICES_H_
