#include "services/billing/billing_service.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/db/idempotency.h"
#include "common/money/money.h"
#include "common/rpc/handler.h"
#include "common/rpc/read_scoped.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/ids.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "google/protobuf/descriptor.h"
#include "services/billing/billing_rules.h"

namespace smp::billing {
namespace {

using common::v1::Money;

constexpr int kMaxReportDays = 366;

absl::Status ValidateOptionalId(absl::string_view field, absl::string_view value) {
  if (value.empty()) return absl::OkStatus();
  return ValidateId(field, value);
}

// The same shape as the money rules' errors, for sums over many stored rows.
absl::StatusOr<Money> Sum(const Money& a, int64_t b_minor) {
  return AddMoney(a, MakeMoney(b_minor, a.currency_code()));
}

absl::StatusOr<absl::CivilDay> ReportDay(absl::string_view field, const common::v1::LocalDate& d) {
  const absl::CivilDay day(d.year(), d.month(), d.day());
  if (d.year() < 1900 || d.year() > 9999 || day.year() != d.year() || day.month() != d.month() ||
      day.day() != d.day()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not a valid date"));
  }
  return day;
}

// Stale etag -> ABORTED naming the current one, checked before any rule so a client that lost a
// race learns that first.
absl::Status CheckEtag(absl::string_view kind, absl::string_view id, absl::string_view current,
                       absl::string_view given) {
  if (current == given) return absl::OkStatus();
  return StaleEtagError(kind, id, given, current);
}

absl::TimeZone ZoneOf(const v1::PriceList& list) {
  absl::TimeZone zone;
  absl::LoadTimeZone(list.time_zone(), &zone);  // validated when the list was saved
  return zone;
}

}  // namespace

BillingServiceImpl::BillingServiceImpl(BillingDeps deps)
    : deps_(std::move(deps)),
      authorizer_(google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
                      v1::BillingService::service_full_name()),
                  deps_.authenticator) {}

absl::Status BillingServiceImpl::DrawPlanDeposits(Transaction& txn, v1::Invoice& inv,
                                                  absl::Time now) {
  ASSIGN_OR_RETURN(std::vector<v1::Payment> deposits,
                   store_.PlanDeposits(txn, inv.clinic_id(), inv.plan_id()));
  for (v1::Payment& deposit : deposits) {
    if (inv.amount_due().amount_minor() <= 0) break;
    if (deposit.patient_id() != inv.patient_id()) continue;
    ASSIGN_OR_RETURN(Money left, Refundable(deposit));
    if (left.amount_minor() <= 0) continue;
    const Money draw =
        left.amount_minor() < inv.amount_due().amount_minor() ? left : inv.amount_due();
    RETURN_IF_ERROR(ApplyToInvoice(inv, draw, /*credit=*/false));
    ASSIGN_OR_RETURN(*deposit.mutable_amount_applied(), AddMoney(deposit.amount_applied(), draw));
    RETURN_IF_ERROR(store_.UpdatePayment(txn, deposit));
    RETURN_IF_ERROR(
        store_.InsertDepositApplication(txn, deposit.id(), inv.id(), draw.amount_minor(), now));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::PriceList> BillingServiceImpl::RequireClinic(Transaction& txn,
                                                                absl::string_view clinic_id,
                                                                absl::string_view field) {
  ASSIGN_OR_RETURN(std::optional<v1::PriceList> any, store_.AnyPriceList(txn, clinic_id));
  if (!any.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": clinic ", clinic_id,
        " has no price list here (an unknown clinic, or no price list was created yet)"));
  }
  return *std::move(any);
}

absl::StatusOr<v1::PriceList> BillingServiceImpl::RequirePriceList(Transaction& txn,
                                                                   absl::string_view clinic_id,
                                                                   absl::Time at,
                                                                   absl::string_view field) {
  ASSIGN_OR_RETURN(std::optional<v1::PriceList> list,
                   store_.EffectivePriceList(txn, clinic_id, at));
  if (list.has_value()) return *std::move(list);
  ASSIGN_OR_RETURN(std::optional<v1::PriceList> any, store_.AnyPriceList(txn, clinic_id));
  if (!any.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": clinic ", clinic_id,
        " has no price list here (an unknown clinic, or no price list was created yet)"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "clinic ", clinic_id, " has no price list in force at ", absl::FormatTime(at, ZoneOf(*any))));
}

// ---------------------------------------------------------------- price lists

grpc::Status BillingServiceImpl::CreatePriceList(grpc::ServerContext* ctx,
                                                 const v1::CreatePriceListRequest* req,
                                                 v1::PriceList* out) {
  return ServeRpc(authorizer_, ctx, "CreatePriceList", [&](const Principal& who) -> absl::Status {
    ASSIGN_OR_RETURN(absl::Time effective, ValidatePriceList(req->price_list()));
    RETURN_IF_ERROR(who.CheckClinic(req->price_list().clinic_id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("CreatePriceList", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out, RunIdempotent<v1::PriceList>(
                  *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::PriceList> {
                    const v1::PriceList& list = req->price_list();
                    ASSIGN_OR_RETURN(std::optional<v1::PriceList> any,
                                     store_.AnyPriceList(txn, list.clinic_id()));
                    if (any.has_value() && any->currency_code() != list.currency_code()) {
                      return absl::FailedPreconditionError(absl::StrCat(
                          "clinic ", list.clinic_id(), " bills in ", any->currency_code(),
                          "; a clinic's currency cannot change"));
                    }
                    return store_.InsertPriceList(txn, list, effective, now);
                  }));
    return absl::OkStatus();
  });
}

grpc::Status BillingServiceImpl::GetEffectivePriceList(grpc::ServerContext* ctx,
                                                       const v1::GetEffectivePriceListRequest* req,
                                                       v1::PriceList* out) {
  return ServeRpc(
      authorizer_, ctx, "GetEffectivePriceList", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
        RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
        const absl::Time at =
            req->has_at_time() ? FromProtoTimestamp(req->at_time()) : deps_.clock->Now();
        return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
          ASSIGN_OR_RETURN(*out, RequirePriceList(txn, req->clinic_id(), at, "clinic_id"));
          return absl::OkStatus();
        });
      });
}

grpc::Status BillingServiceImpl::ListPriceLists(grpc::ServerContext* ctx,
                                                const v1::ListPriceListsRequest* req,
                                                v1::ListPriceListsResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListPriceLists", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    const std::string query = absl::StrCat("price_lists?clinic=", req->clinic_id());
    ASSIGN_OR_RETURN(PageRequest page,
                     ParsePageRequest(req->page_size(), req->page_token(), query));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Page<v1::PriceList> result,
                       store_.ListPriceLists(txn, req->clinic_id(), page));
      for (v1::PriceList& l : result.items) *out->add_price_lists() = std::move(l);
      if (!result.last_key.empty()) out->set_next_page_token(MakePageToken(query, result.last_key));
      return absl::OkStatus();
    });
  });
}

// ---------------------------------------------------------------- quotes

grpc::Status BillingServiceImpl::CreateQuote(grpc::ServerContext* ctx,
                                             const v1::CreateQuoteRequest* req, v1::Quote* out) {
  return ServeRpc(authorizer_, ctx, "CreateQuote", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("quote.clinic_id", req->quote().clinic_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->quote().clinic_id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("CreateQuote", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out, RunIdempotent<v1::Quote>(
                  *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Quote> {
                    ASSIGN_OR_RETURN(
                        v1::PriceList list,
                        RequirePriceList(txn, req->quote().clinic_id(), now, "quote.clinic_id"));
                    v1::Quote quote;
                    quote.set_clinic_id(req->quote().clinic_id());
                    quote.set_patient_id(req->quote().patient_id());
                    quote.set_plan_id(req->quote().plan_id());
                    quote.set_area(req->quote().area());
                    quote.set_sessions(req->quote().sessions());
                    quote.set_discount_bp(req->quote().discount_bp());
                    *quote.mutable_valid_until() = req->quote().valid_until();
                    RETURN_IF_ERROR(PriceQuote(list, LocalDateAt(list, now), quote));
                    quote.set_id(NewIdAt(now));
                    *quote.mutable_create_time() = ToProtoTimestamp(now);
                    return store_.InsertQuote(txn, quote);
                  }));
    return absl::OkStatus();
  });
}

grpc::Status BillingServiceImpl::GetQuote(grpc::ServerContext* ctx, const v1::GetQuoteRequest* req,
                                          v1::Quote* out) {
  return ServeRpc(authorizer_, ctx, "GetQuote", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    ASSIGN_OR_RETURN(*out, ReadInClinicScope<v1::Quote>(*deps_.db, who, [&](Transaction& txn) {
      return store_.GetQuote(txn, req->id());
    }));
    return absl::OkStatus();
  });
}

grpc::Status BillingServiceImpl::AcceptQuote(grpc::ServerContext* ctx,
                                             const v1::AcceptQuoteRequest* req, v1::Quote* out) {
  return ServeRpc(authorizer_, ctx, "AcceptQuote", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", req->etag()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("AcceptQuote", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out, RunIdempotent<v1::Quote>(
                  *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Quote> {
                    ASSIGN_OR_RETURN(v1::Quote quote, store_.GetQuote(txn, req->id()));
                    RETURN_IF_ERROR(who.CheckClinic(quote.clinic_id()));
                    RETURN_IF_ERROR(CheckEtag("quote", quote.id(), quote.etag(), req->etag()));
                    if (quote.status() != v1::QUOTE_OPEN) {
                      return absl::FailedPreconditionError(
                          absl::StrCat("quote ", quote.id(), " is ",
                                       v1::QuoteStatus_Name(quote.status()), ", not open"));
                    }
                    ASSIGN_OR_RETURN(std::optional<v1::PriceList> any,
                                     store_.AnyPriceList(txn, quote.clinic_id()));
                    if (any.has_value() && QuoteExpired(quote, LocalDateAt(*any, now))) {
                      return absl::FailedPreconditionError(
                          absl::StrCat("quote ", quote.id(), " expired after its valid_until"));
                    }
                    quote.set_status(v1::QUOTE_ACCEPTED);
                    *quote.mutable_accept_time() = ToProtoTimestamp(now);
                    return store_.UpdateQuote(txn, quote, version);
                  }));
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------- invoices

grpc::Status BillingServiceImpl::CreateInvoice(grpc::ServerContext* ctx,
                                               const v1::CreateInvoiceRequest* req,
                                               v1::Invoice* out) {
  return ServeRpc(authorizer_, ctx, "CreateInvoice", [&](const Principal& who) -> absl::Status {
    const v1::Invoice& in = req->invoice();
    RETURN_IF_ERROR(ValidateId("invoice.clinic_id", in.clinic_id()));
    RETURN_IF_ERROR(ValidateId("invoice.patient_id", in.patient_id()));
    RETURN_IF_ERROR(ValidateOptionalId("invoice.plan_id", in.plan_id()));
    RETURN_IF_ERROR(who.CheckClinic(in.clinic_id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("CreateInvoice", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out, RunIdempotent<v1::Invoice>(
                  *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Invoice> {
                    ASSIGN_OR_RETURN(v1::PriceList list, RequirePriceList(txn, in.clinic_id(), now,
                                                                          "invoice.clinic_id"));
                    v1::Invoice inv;
                    inv.set_id(NewIdAt(now));
                    inv.set_clinic_id(in.clinic_id());
                    inv.set_patient_id(in.patient_id());
                    inv.set_plan_id(in.plan_id());
                    inv.set_status(v1::INVOICE_DRAFT);
                    inv.set_currency_code(list.currency_code());
                    inv.set_tax_rate_bp(list.tax_rate_bp());
                    *inv.mutable_lines() = in.lines();
                    ASSIGN_OR_RETURN(*inv.mutable_totals(),
                                     PriceLines("invoice.lines", inv.currency_code(),
                                                inv.tax_rate_bp(), *inv.mutable_lines()));
                    RETURN_IF_ERROR(SettleInvoice(inv));
                    *inv.mutable_create_time() = ToProtoTimestamp(now);
                    return store_.InsertInvoice(txn, inv);
                  }));
    return absl::OkStatus();
  });
}

grpc::Status BillingServiceImpl::UpdateDraftInvoice(grpc::ServerContext* ctx,
                                                    const v1::UpdateDraftInvoiceRequest* req,
                                                    v1::Invoice* out) {
  return ServeRpc(
      authorizer_, ctx, "UpdateDraftInvoice", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("id", req->id()));
        ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", req->etag()));
        ASSIGN_OR_RETURN(
            IdempotencyKey key,
            MakeIdempotencyKey("UpdateDraftInvoice", req->request_id(), who.staff_id, *req));
        const absl::Time now = deps_.clock->Now();
        ASSIGN_OR_RETURN(
            *out, RunIdempotent<v1::Invoice>(
                      *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Invoice> {
                        ASSIGN_OR_RETURN(v1::Invoice inv, store_.GetInvoice(txn, req->id()));
                        RETURN_IF_ERROR(who.CheckClinic(inv.clinic_id()));
                        RETURN_IF_ERROR(CheckEtag("invoice", inv.id(), inv.etag(), req->etag()));
                        if (inv.status() != v1::INVOICE_DRAFT) {
                          return absl::FailedPreconditionError(absl::StrCat(
                              "invoice ", inv.id(), " is ", v1::InvoiceStatus_Name(inv.status()),
                              ": an issued invoice is never edited; credit it instead"));
                        }
                        *inv.mutable_lines() = req->lines();
                        ASSIGN_OR_RETURN(*inv.mutable_totals(),
                                         PriceLines("lines", inv.currency_code(), inv.tax_rate_bp(),
                                                    *inv.mutable_lines()));
                        RETURN_IF_ERROR(SettleInvoice(inv));
                        return store_.UpdateInvoice(txn, inv, version);
                      }));
        return absl::OkStatus();
      });
}

grpc::Status BillingServiceImpl::IssueInvoice(grpc::ServerContext* ctx,
                                              const v1::IssueInvoiceRequest* req,
                                              v1::Invoice* out) {
  return ServeRpc(authorizer_, ctx, "IssueInvoice", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", req->etag()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("IssueInvoice", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out, RunIdempotent<v1::Invoice>(
                  *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Invoice> {
                    ASSIGN_OR_RETURN(v1::Invoice inv, store_.GetInvoice(txn, req->id()));
                    RETURN_IF_ERROR(who.CheckClinic(inv.clinic_id()));
                    RETURN_IF_ERROR(CheckEtag("invoice", inv.id(), inv.etag(), req->etag()));
                    if (inv.status() != v1::INVOICE_DRAFT) {
                      return absl::FailedPreconditionError(
                          absl::StrCat("invoice ", inv.id(), " is ",
                                       v1::InvoiceStatus_Name(inv.status()), ", not a draft"));
                    }
                    // The number is taken in this transaction: a failed issue gives it back.
                    ASSIGN_OR_RETURN(int64_t number,
                                     store_.NextInvoiceNumber(txn, inv.clinic_id()));
                    inv.set_number(number);
                    inv.set_status(v1::INVOICE_ISSUED);
                    *inv.mutable_issue_time() = ToProtoTimestamp(now);
                    RETURN_IF_ERROR(SettleInvoice(inv));
                    return store_.UpdateInvoice(txn, inv, version);
                  }));
    return absl::OkStatus();
  });
}

grpc::Status BillingServiceImpl::VoidInvoice(grpc::ServerContext* ctx,
                                             const v1::VoidInvoiceRequest* req, v1::Invoice* out) {
  return ServeRpc(authorizer_, ctx, "VoidInvoice", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", req->etag()));
    RETURN_IF_ERROR(ValidateRequiredText("reason", req->reason(), 500));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("VoidInvoice", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out, RunIdempotent<v1::Invoice>(
                  *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Invoice> {
                    ASSIGN_OR_RETURN(v1::Invoice inv, store_.GetInvoice(txn, req->id()));
                    RETURN_IF_ERROR(who.CheckClinic(inv.clinic_id()));
                    RETURN_IF_ERROR(CheckEtag("invoice", inv.id(), inv.etag(), req->etag()));
                    const bool untouched = inv.amount_paid().amount_minor() == 0 &&
                                           inv.amount_credited().amount_minor() == 0;
                    if ((inv.status() != v1::INVOICE_DRAFT && inv.status() != v1::INVOICE_ISSUED) ||
                        !untouched) {
                      return absl::FailedPreconditionError(absl::StrCat(
                          "invoice ", inv.id(), " is ", v1::InvoiceStatus_Name(inv.status()),
                          " with payments or credits: refund or credit it instead of voiding"));
                    }
                    inv.set_status(v1::INVOICE_VOID);
                    inv.set_void_reason(req->reason());
                    *inv.mutable_void_time() = ToProtoTimestamp(now);
                    *inv.mutable_amount_due() = MakeMoney(0, inv.currency_code());
                    return store_.UpdateInvoice(txn, inv, version);
                  }));
    return absl::OkStatus();
  });
}

grpc::Status BillingServiceImpl::GetInvoice(grpc::ServerContext* ctx,
                                            const v1::GetInvoiceRequest* req, v1::Invoice* out) {
  return ServeRpc(authorizer_, ctx, "GetInvoice", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    ASSIGN_OR_RETURN(*out, ReadInClinicScope<v1::Invoice>(*deps_.db, who, [&](Transaction& txn) {
      return store_.GetInvoice(txn, req->id());
    }));
    return absl::OkStatus();
  });
}

grpc::Status BillingServiceImpl::ListInvoices(grpc::ServerContext* ctx,
                                              const v1::ListInvoicesRequest* req,
                                              v1::ListInvoicesResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListInvoices", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(ValidateOptionalId("patient_id", req->patient_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    const std::string query =
        absl::StrCat("invoices?clinic=", req->clinic_id(), "&patient=", req->patient_id());
    ASSIGN_OR_RETURN(PageRequest page,
                     ParsePageRequest(req->page_size(), req->page_token(), query));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Page<v1::Invoice> result,
                       store_.ListInvoices(txn, req->clinic_id(), req->patient_id(), page));
      for (v1::Invoice& i : result.items) *out->add_invoices() = std::move(i);
      if (!result.last_key.empty()) out->set_next_page_token(MakePageToken(query, result.last_key));
      return absl::OkStatus();
    });
  });
}

grpc::Status BillingServiceImpl::CreateCreditNote(grpc::ServerContext* ctx,
                                                  const v1::CreateCreditNoteRequest* req,
                                                  v1::CreditNote* out) {
  return ServeRpc(authorizer_, ctx, "CreateCreditNote", [&](const Principal& who) -> absl::Status {
    const v1::CreditNote& in = req->credit_note();
    RETURN_IF_ERROR(ValidateId("credit_note.invoice_id", in.invoice_id()));
    RETURN_IF_ERROR(ValidateRequiredText("credit_note.reason", in.reason(), 500));
    RETURN_IF_ERROR(ValidateMoney("credit_note.amount", in.amount()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("CreateCreditNote", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out, RunIdempotent<v1::CreditNote>(
                  *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::CreditNote> {
                    ASSIGN_OR_RETURN(v1::Invoice inv, store_.GetInvoice(txn, in.invoice_id()));
                    RETURN_IF_ERROR(who.CheckClinic(inv.clinic_id()));
                    RETURN_IF_ERROR(ValidatePositiveAmount("credit_note.amount",
                                                           inv.currency_code(), in.amount()));
                    RETURN_IF_ERROR(CheckPayable(inv, in.amount(), "credit note"));
                    ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", inv.etag()));
                    RETURN_IF_ERROR(ApplyToInvoice(inv, in.amount(), /*credit=*/true));
                    RETURN_IF_ERROR(store_.UpdateInvoice(txn, inv, version).status());
                    v1::CreditNote note = in;
                    note.set_clinic_id(inv.clinic_id());
                    return store_.InsertCreditNote(txn, note, now);
                  }));
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------- payments

grpc::Status BillingServiceImpl::RecordPayment(grpc::ServerContext* ctx,
                                               const v1::RecordPaymentRequest* req,
                                               v1::Payment* out) {
  return ServeRpc(authorizer_, ctx, "RecordPayment", [&](const Principal& who) -> absl::Status {
    const v1::Payment& in = req->payment();
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
    RETURN_IF_ERROR(who.CheckClinic(in.clinic_id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("RecordPayment", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::Payment>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Payment> {
              v1::Payment payment = in;
              payment.clear_id();
              payment.set_recorded_by(who.staff_id);
              std::string currency;
              if (!in.invoice_id().empty()) {
                ASSIGN_OR_RETURN(v1::Invoice inv, store_.GetInvoice(txn, in.invoice_id()));
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
                RETURN_IF_ERROR(store_.UpdateInvoice(txn, inv, version).status());
              } else {
                ASSIGN_OR_RETURN(v1::PriceList list,
                                 RequireClinic(txn, in.clinic_id(), "payment.clinic_id"));
                currency = list.currency_code();
                RETURN_IF_ERROR(ValidatePositiveAmount("payment.amount", currency, in.amount()));
                *payment.mutable_amount_applied() = MakeMoney(0, currency);
              }
              *payment.mutable_amount_refunded() = MakeMoney(0, currency);
              return store_.InsertPayment(txn, payment, now);
            }));
    return absl::OkStatus();
  });
}

grpc::Status BillingServiceImpl::ApplyDeposit(grpc::ServerContext* ctx,
                                              const v1::ApplyDepositRequest* req,
                                              v1::Payment* out) {
  return ServeRpc(authorizer_, ctx, "ApplyDeposit", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("deposit_id", req->deposit_id()));
    RETURN_IF_ERROR(ValidateId("invoice_id", req->invoice_id()));
    RETURN_IF_ERROR(ValidateMoney("amount", req->amount()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("ApplyDeposit", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::Payment>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Payment> {
              ASSIGN_OR_RETURN(v1::Payment deposit, store_.GetPayment(txn, req->deposit_id()));
              RETURN_IF_ERROR(who.CheckClinic(deposit.clinic_id()));
              if (!deposit.invoice_id().empty()) {
                return absl::FailedPreconditionError(
                    absl::StrCat("payment ", deposit.id(), " paid an invoice; it is no deposit"));
              }
              ASSIGN_OR_RETURN(v1::Invoice inv, store_.GetInvoice(txn, req->invoice_id()));
              if (inv.clinic_id() != deposit.clinic_id() ||
                  inv.patient_id() != deposit.patient_id() || inv.plan_id() != deposit.plan_id()) {
                return absl::FailedPreconditionError(
                    absl::StrCat("invoice ", inv.id(), " is not of the plan ", deposit.plan_id(),
                                 " the deposit is held for"));
              }
              RETURN_IF_ERROR(ValidatePositiveAmount("amount", deposit.amount().currency_code(),
                                                     req->amount()));
              ASSIGN_OR_RETURN(Money left, Refundable(deposit));
              if (req->amount().amount_minor() > left.amount_minor()) {
                return absl::FailedPreconditionError(
                    absl::StrCat("deposit ", deposit.id(), " has only ", FormatMoney(left),
                                 " unapplied; cannot apply ", FormatMoney(req->amount())));
              }
              RETURN_IF_ERROR(CheckPayable(inv, req->amount(), "deposit"));
              ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", inv.etag()));
              RETURN_IF_ERROR(ApplyToInvoice(inv, req->amount(), /*credit=*/false));
              RETURN_IF_ERROR(store_.UpdateInvoice(txn, inv, version).status());
              ASSIGN_OR_RETURN(*deposit.mutable_amount_applied(),
                               AddMoney(deposit.amount_applied(), req->amount()));
              RETURN_IF_ERROR(store_.UpdatePayment(txn, deposit));
              RETURN_IF_ERROR(store_.InsertDepositApplication(txn, deposit.id(), inv.id(),
                                                              req->amount().amount_minor(), now));
              return deposit;
            }));
    return absl::OkStatus();
  });
}

grpc::Status BillingServiceImpl::RefundPayment(grpc::ServerContext* ctx,
                                               const v1::RefundPaymentRequest* req,
                                               v1::Refund* out) {
  return ServeRpc(authorizer_, ctx, "RefundPayment", [&](const Principal& who) -> absl::Status {
    const v1::Refund& in = req->refund();
    RETURN_IF_ERROR(ValidateId("refund.payment_id", in.payment_id()));
    RETURN_IF_ERROR(ValidateRequiredText("refund.reason", in.reason(), 500));
    RETURN_IF_ERROR(ValidateMoney("refund.amount", in.amount()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("RefundPayment", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out, RunIdempotent<v1::Refund>(
                  *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Refund> {
                    ASSIGN_OR_RETURN(v1::Payment payment, store_.GetPayment(txn, in.payment_id()));
                    RETURN_IF_ERROR(who.CheckClinic(payment.clinic_id()));
                    RETURN_IF_ERROR(ValidatePositiveAmount(
                        "refund.amount", payment.amount().currency_code(), in.amount()));
                    RETURN_IF_ERROR(CheckRefund(payment, in.amount()));
                    ASSIGN_OR_RETURN(*payment.mutable_amount_refunded(),
                                     AddMoney(payment.amount_refunded(), in.amount()));
                    RETURN_IF_ERROR(store_.UpdatePayment(txn, payment));
                    if (!payment.invoice_id().empty()) {
                      ASSIGN_OR_RETURN(v1::Invoice inv,
                                       store_.GetInvoice(txn, payment.invoice_id()));
                      ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", inv.etag()));
                      RETURN_IF_ERROR(RefundFromInvoice(inv, in.amount()));
                      RETURN_IF_ERROR(store_.UpdateInvoice(txn, inv, version).status());
                    }
                    v1::Refund refund = in;
                    refund.set_clinic_id(payment.clinic_id());
                    return store_.InsertRefund(txn, refund, now);
                  }));
    return absl::OkStatus();
  });
}

grpc::Status BillingServiceImpl::GetPayment(grpc::ServerContext* ctx,
                                            const v1::GetPaymentRequest* req, v1::Payment* out) {
  return ServeRpc(authorizer_, ctx, "GetPayment", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    ASSIGN_OR_RETURN(*out, ReadInClinicScope<v1::Payment>(*deps_.db, who, [&](Transaction& txn) {
      return store_.GetPayment(txn, req->id());
    }));
    return absl::OkStatus();
  });
}

grpc::Status BillingServiceImpl::ListPayments(grpc::ServerContext* ctx,
                                              const v1::ListPaymentsRequest* req,
                                              v1::ListPaymentsResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListPayments", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(ValidateOptionalId("invoice_id", req->invoice_id()));
    RETURN_IF_ERROR(ValidateOptionalId("patient_id", req->patient_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    const std::string query =
        absl::StrCat("payments?clinic=", req->clinic_id(), "&invoice=", req->invoice_id(),
                     "&patient=", req->patient_id());
    ASSIGN_OR_RETURN(PageRequest page,
                     ParsePageRequest(req->page_size(), req->page_token(), query));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(
          Page<v1::Payment> result,
          store_.ListPayments(txn, req->clinic_id(), req->invoice_id(), req->patient_id(), page));
      for (v1::Payment& p : result.items) *out->add_payments() = std::move(p);
      if (!result.last_key.empty()) out->set_next_page_token(MakePageToken(query, result.last_key));
      return absl::OkStatus();
    });
  });
}

grpc::Status BillingServiceImpl::GetPatientBalance(grpc::ServerContext* ctx,
                                                   const v1::GetPatientBalanceRequest* req,
                                                   v1::PatientBalance* out) {
  return ServeRpc(authorizer_, ctx, "GetPatientBalance", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(ValidateId("patient_id", req->patient_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(v1::PriceList clinic_list,
                       RequireClinic(txn, req->clinic_id(), "clinic_id"));
      Money due = MakeMoney(0, clinic_list.currency_code());
      Money deposits = MakeMoney(0, clinic_list.currency_code());
      int open = 0;
      ASSIGN_OR_RETURN(std::vector<v1::Invoice> invoices,
                       store_.PatientInvoices(txn, req->clinic_id(), req->patient_id()));
      for (const v1::Invoice& inv : invoices) {
        ASSIGN_OR_RETURN(due, AddMoney(due, inv.amount_due()));
        if (inv.amount_due().amount_minor() > 0) ++open;
      }
      ASSIGN_OR_RETURN(std::vector<v1::Payment> held,
                       store_.PatientDeposits(txn, req->clinic_id(), req->patient_id()));
      for (const v1::Payment& p : held) {
        ASSIGN_OR_RETURN(Money left, Refundable(p));
        ASSIGN_OR_RETURN(deposits, AddMoney(deposits, left));
      }
      out->set_clinic_id(req->clinic_id());
      out->set_patient_id(req->patient_id());
      *out->mutable_amount_due() = due;
      *out->mutable_unapplied_deposits() = deposits;
      out->set_open_invoices(open);
      return absl::OkStatus();
    });
  });
}

// ---------------------------------------------------------------- charges from events

grpc::Status BillingServiceImpl::RecordChargeEvent(grpc::ServerContext* ctx,
                                                   const v1::RecordChargeEventRequest* req,
                                                   v1::ChargeEventResult* out) {
  return ServeRpc(authorizer_, ctx, "RecordChargeEvent", [&](const Principal& who) -> absl::Status {
    if (!who.Has(common::v1::PERMISSION_SERVICE_CALL) &&
        !who.Has(common::v1::PERMISSION_BILLING_WRITE)) {
      return absl::PermissionDeniedError(
          "RecordChargeEvent needs PERMISSION_SERVICE_CALL or PERMISSION_BILLING_WRITE; your "
          "roles grant neither");
    }
    RETURN_IF_ERROR(ValidateRequestId("event_id", req->event_id()));
    if (req->type() == v1::CHARGE_EVENT_TYPE_UNSPECIFIED ||
        !v1::ChargeEventType_IsValid(req->type())) {
      return absl::InvalidArgumentError("type: is required");
    }
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(ValidateId("patient_id", req->patient_id()));
    RETURN_IF_ERROR(ValidateId("appointment_id", req->appointment_id()));
    RETURN_IF_ERROR(ValidateOptionalId("plan_id", req->plan_id()));
    if (!req->has_occur_time()) return absl::InvalidArgumentError("occur_time: is required");
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    // Keyed by the event alone (not the caller): a redelivery by another session of scheduling,
    // or a clerk entering the same event, is the same charge.
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("RecordChargeEvent", req->event_id(), "event", *req));
    const absl::Time now = deps_.clock->Now();
    const absl::Time occurred = FromProtoTimestamp(req->occur_time());
    bool fresh = false;
    absl::StatusOr<v1::ChargeEventResult> result = RunIdempotent<v1::ChargeEventResult>(
        *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::ChargeEventResult> {
          fresh = true;
          ASSIGN_OR_RETURN(v1::PriceList list,
                           RequirePriceList(txn, req->clinic_id(), occurred, "clinic_id"));
          std::optional<v1::Quote> quote;
          if (!req->plan_id().empty()) {
            ASSIGN_OR_RETURN(quote,
                             store_.AcceptedQuoteForPlan(txn, req->clinic_id(), req->plan_id()));
          }
          ASSIGN_OR_RETURN(v1::Line line,
                           ChargeLine(*req, list, quote.has_value() ? &*quote : nullptr));
          v1::ChargeEventResult charged;
          charged.set_event_id(req->event_id());
          v1::Invoice inv;
          inv.set_currency_code(list.currency_code());
          inv.set_tax_rate_bp(quote.has_value() ? quote->tax_rate_bp() : list.tax_rate_bp());
          *inv.add_lines() = line;
          ASSIGN_OR_RETURN(
              *inv.mutable_totals(),
              PriceLines("charge", inv.currency_code(), inv.tax_rate_bp(), *inv.mutable_lines()));
          if (inv.totals().total().amount_minor() > 0) {
            inv.set_id(NewIdAt(now));
            inv.set_clinic_id(req->clinic_id());
            inv.set_patient_id(req->patient_id());
            inv.set_plan_id(req->plan_id());
            inv.set_source_event_id(req->event_id());
            *inv.mutable_create_time() = ToProtoTimestamp(now);
            ASSIGN_OR_RETURN(int64_t number, store_.NextInvoiceNumber(txn, req->clinic_id()));
            inv.set_number(number);
            inv.set_status(v1::INVOICE_ISSUED);
            *inv.mutable_issue_time() = ToProtoTimestamp(now);
            RETURN_IF_ERROR(SettleInvoice(inv));
            if (!inv.plan_id().empty()) {
              RETURN_IF_ERROR(DrawPlanDeposits(txn, inv, now));
            }
            ASSIGN_OR_RETURN(*charged.mutable_invoice(), store_.InsertInvoice(txn, inv));
          }
          RETURN_IF_ERROR(store_.InsertChargeEvent(txn, charged, now));
          return charged;
        });
    if (absl::IsInvalidArgument(result.status()) &&
        absl::StartsWith(result.status().message(), "request_id")) {
      return absl::InvalidArgumentError(
          absl::StrCat("event_id \"", req->event_id(),
                       "\" was already recorded with different details; an event id names one "
                       "event"));
    }
    RETURN_IF_ERROR(result.status());
    *out = *std::move(result);
    out->set_replayed(!fresh);
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------- reports

grpc::Status BillingServiceImpl::GetRevenueReport(grpc::ServerContext* ctx,
                                                  const v1::GetRevenueReportRequest* req,
                                                  v1::RevenueReport* out) {
  return ServeRpc(authorizer_, ctx, "GetRevenueReport", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    ASSIGN_OR_RETURN(absl::CivilDay first,
                     ReportDay("period.start_date", req->period().start_date()));
    ASSIGN_OR_RETURN(absl::CivilDay last, ReportDay("period.end_date", req->period().end_date()));
    if (last < first || last - first >= kMaxReportDays) {
      return absl::InvalidArgumentError(absl::StrCat(
          "period: end_date must be on or after start_date, at most ", kMaxReportDays, " days"));
    }
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(v1::PriceList clinic_list,
                       RequireClinic(txn, req->clinic_id(), "clinic_id"));
      const absl::TimeZone zone = ZoneOf(clinic_list);
      const absl::Time from = zone.At(absl::CivilSecond(first)).trans;
      const absl::Time to = zone.At(absl::CivilSecond(last + 1)).trans;
      const Money zero = MakeMoney(0, clinic_list.currency_code());
      Money net = zero, tax = zero;
      ASSIGN_OR_RETURN(std::vector<IssuedAmounts> issued,
                       store_.IssuedInvoices(txn, req->clinic_id(), from, to));
      for (const IssuedAmounts& a : issued) {
        ASSIGN_OR_RETURN(net, Sum(net, a.net));
        ASSIGN_OR_RETURN(tax, Sum(tax, a.tax));
      }
      auto total = [&](absl::string_view table) -> absl::StatusOr<Money> {
        ASSIGN_OR_RETURN(std::vector<int64_t> amounts,
                         store_.AmountsCreated(txn, table, req->clinic_id(), from, to));
        Money sum = zero;
        for (int64_t a : amounts) {
          ASSIGN_OR_RETURN(sum, Sum(sum, a));
        }
        return sum;
      };
      out->set_clinic_id(req->clinic_id());
      *out->mutable_period() = req->period();
      *out->mutable_invoiced_net() = net;
      *out->mutable_invoiced_tax() = tax;
      ASSIGN_OR_RETURN(*out->mutable_credited(), total("credit_notes"));
      ASSIGN_OR_RETURN(*out->mutable_collected(), total("payments"));
      ASSIGN_OR_RETURN(*out->mutable_refunded(), total("refunds"));
      out->set_invoices_issued(static_cast<int32_t>(issued.size()));
      return absl::OkStatus();
    });
  });
}

grpc::Status BillingServiceImpl::GetReceivablesAging(grpc::ServerContext* ctx,
                                                     const v1::GetReceivablesAgingRequest* req,
                                                     v1::ReceivablesAging* out) {
  return ServeRpc(
      authorizer_, ctx, "GetReceivablesAging", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
        RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
        const absl::Time as_of =
            req->has_as_of_time() ? FromProtoTimestamp(req->as_of_time()) : deps_.clock->Now();
        return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
          ASSIGN_OR_RETURN(v1::PriceList clinic_list,
                           RequireClinic(txn, req->clinic_id(), "clinic_id"));
          Money buckets[4];
          for (Money& b : buckets) b = MakeMoney(0, clinic_list.currency_code());
          Money sum = buckets[0];
          ASSIGN_OR_RETURN(std::vector<IssuedAmounts> issued,
                           store_.IssuedInvoices(txn, req->clinic_id(), absl::UnixEpoch(),
                                                 as_of + absl::Microseconds(1)));
          for (const IssuedAmounts& a : issued) {
            if (a.amount_due <= 0) continue;
            Money& bucket = buckets[AgingBucket(a.issue_time, as_of)];
            ASSIGN_OR_RETURN(bucket, Sum(bucket, a.amount_due));
            ASSIGN_OR_RETURN(sum, Sum(sum, a.amount_due));
          }
          out->set_clinic_id(req->clinic_id());
          *out->mutable_as_of_time() = ToProtoTimestamp(as_of);
          *out->mutable_days_0_30() = buckets[0];
          *out->mutable_days_31_60() = buckets[1];
          *out->mutable_days_61_90() = buckets[2];
          *out->mutable_days_over_90() = buckets[3];
          *out->mutable_total() = sum;
          return absl::OkStatus();
        });
      });
}

}  // namespace smp::billing
