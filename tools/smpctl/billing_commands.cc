// Billing: price lists, quotes, invoices, credit notes, payments, refunds, balances and reports.

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/util/proto_time.h"
#include "tools/smpctl/command_helpers.h"
#include "tools/smpctl/commands.h"

namespace smp::smpctl {
namespace {

namespace bv1 = ::smp::billing::v1;
using Stub = bv1::BillingService::Stub;
using common::v1::Money;

#define RPC(method, req) \
  inv.client().Call(Service::kBilling, inv.client().billing(), &Stub::method, #method, req)

std::string M(const Money& m) { return FormatMoneyOrEmpty(m); }

// Checks an amount's form before any call; its currency may come from the server later.
absl::Status CheckAmount(const Invocation& inv, const char* flag) {
  if (!inv.Has(flag)) return absl::OkStatus();
  absl::StatusOr<Money> m = ParseMoney(flag, inv.Get(flag), "USD");
  return m.status();
}

absl::StatusOr<Money> Amount(const Invocation& inv, const char* flag, const std::string& currency) {
  return ParseMoney(flag, inv.Get(flag), currency);
}

// The clinic's currency, from the price list in force.
absl::StatusOr<bv1::PriceList> EffectivePriceList(Invocation& inv, const std::string& clinic) {
  bv1::GetEffectivePriceListRequest req;
  req.set_clinic_id(clinic);
  return RPC(GetEffectivePriceList, req);
}

// ---- price lists

void PrintPriceList(Invocation& inv, const bv1::PriceList& p) {
  Show(inv, p, [&] {
    absl::TimeZone zone = absl::UTCTimeZone();
    absl::LoadTimeZone(p.time_zone(), &zone);
    inv.out().Print(
        Fields{{"id", p.id()},
               {"clinic", p.clinic_id()},
               {"effective", absl::StrCat(FormatDate(p.effective_date()), " (",
                                          FormatTimestamp(p.effective_time(), zone), ")")},
               {"currency", p.currency_code()},
               {"tax", absl::StrCat(p.tax_rate_bp() / 100.0, "%")},
               {"consultation", M(p.consultation_fee())},
               {"session hairline", M(p.session_prices().hairline())},
               {"session crown", M(p.session_prices().crown())},
               {"session full scalp", M(p.session_prices().full_scalp())},
               {"session scar", M(p.session_prices().scar_camouflage())},
               {"sample patch", M(p.sample_patch_fee())},
               {"touch-up", M(p.touch_up_fee())},
               {"late cancellation", M(p.late_cancellation_fee())},
               {"no-show", M(p.no_show_fee())}});
  });
}

const char* const kPriceFlags[] = {"consultation", "hairline",          "crown",
                                   "full_scalp",   "scar_camouflage",   "sample_patch",
                                   "touch_up",     "late_cancellation", "no_show"};

absl::Status PriceListCreate(Invocation& inv) {
  bv1::CreatePriceListRequest req;
  req.set_request_id(inv.client().NewRequestId());
  bv1::PriceList& p = *req.mutable_price_list();
  p.set_clinic_id(inv.Get("clinic"));
  ASSIGN_OR_RETURN(absl::CivilDay effective, ParseDate("effective", inv.Get("effective")));
  *p.mutable_effective_date() = ToLocalDate(effective);
  p.set_currency_code(inv.Get("currency"));
  ASSIGN_OR_RETURN(int64_t tax, inv.Int("tax_bp", 0, 10000, 0));
  p.set_tax_rate_bp(static_cast<int32_t>(tax));
  std::map<std::string, Money> prices;
  for (const char* f : kPriceFlags) {
    if (inv.Has(f)) {
      ASSIGN_OR_RETURN(prices[f], Amount(inv, f, p.currency_code()));
    }
  }
  auto set = [&](const char* f, Money* m) {
    if (prices.count(f)) *m = prices[f];
  };
  set("consultation", p.mutable_consultation_fee());
  set("hairline", p.mutable_session_prices()->mutable_hairline());
  set("crown", p.mutable_session_prices()->mutable_crown());
  set("full_scalp", p.mutable_session_prices()->mutable_full_scalp());
  set("scar_camouflage", p.mutable_session_prices()->mutable_scar_camouflage());
  set("sample_patch", p.mutable_sample_patch_fee());
  set("touch_up", p.mutable_touch_up_fee());
  set("late_cancellation", p.mutable_late_cancellation_fee());
  set("no_show", p.mutable_no_show_fee());
  if (inv.Has("time_zone")) {
    p.set_time_zone(inv.Get("time_zone"));
  } else {
    ASSIGN_OR_RETURN(absl::TimeZone zone, inv.client().ClinicZone(p.clinic_id()));
    p.set_time_zone(zone.name());
  }
  ASSIGN_OR_RETURN(bv1::PriceList out, RPC(CreatePriceList, req));
  PrintPriceList(inv, out);
  return absl::OkStatus();
}

absl::Status PriceListGet(Invocation& inv) {
  bv1::GetEffectivePriceListRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  if (inv.Has("at")) {
    ASSIGN_OR_RETURN(TimeArg at, ParseTimeArg("at", inv.Get("at")));
    absl::TimeZone zone = absl::UTCTimeZone();
    if (at.needs_zone()) {
      ASSIGN_OR_RETURN(zone, inv.client().ClinicZone(req.clinic_id()));
    }
    *req.mutable_at_time() = ToProtoTimestamp(at.Resolve(zone));
  }
  ASSIGN_OR_RETURN(bv1::PriceList out, RPC(GetEffectivePriceList, req));
  PrintPriceList(inv, out);
  return absl::OkStatus();
}

absl::Status PriceListList(Invocation& inv) {
  bv1::ListPriceListsRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(bv1::ListPriceListsResponse resp, RPC(ListPriceLists, req));
  Show(inv, resp, [&] {
    Table t({"id", "effective", "currency", "tax bp", "consultation", "full scalp session"});
    for (const bv1::PriceList& p : resp.price_lists()) {
      t.AddRow({p.id(), FormatDate(p.effective_date()), p.currency_code(),
                absl::StrCat(p.tax_rate_bp()), M(p.consultation_fee()),
                M(p.session_prices().full_scalp())});
    }
    inv.out().Print(t);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

// ---- quotes and invoices

void PrintLines(Invocation& inv, const google::protobuf::RepeatedPtrField<bv1::Line>& lines,
                const bv1::Totals& totals) {
  Table t({"kind", "description", "qty", "unit price", "discount", "net"});
  for (const bv1::Line& l : lines) {
    t.AddRow({EnumName(l.kind()), l.description(), absl::StrCat(l.quantity()), M(l.unit_price()),
              M(l.discount_amount()), M(l.net_amount())});
  }
  inv.out().Print(t);
  inv.out().Print(
      Fields{{"net", M(totals.net())}, {"tax", M(totals.tax())}, {"total", M(totals.total())}});
}

void PrintQuote(Invocation& inv, const bv1::Quote& q) {
  Show(inv, q, [&] {
    inv.out().Print(Fields{{"id", q.id()},
                           {"clinic", q.clinic_id()},
                           {"patient", q.patient_id()},
                           {"plan", q.plan_id()},
                           {"area", EnumName(q.area())},
                           {"sessions", absl::StrCat(q.sessions())},
                           {"status", EnumName(q.status())},
                           {"valid until", FormatDate(q.valid_until())},
                           {"late cancellation fee", M(q.late_cancellation_fee())},
                           {"no-show fee", M(q.no_show_fee())},
                           {"etag", q.etag()}});
    inv.out().Line("");
    PrintLines(inv, q.lines(), q.totals());
  });
}

absl::Status QuoteCreate(Invocation& inv) {
  bv1::CreateQuoteRequest req;
  req.set_request_id(inv.client().NewRequestId());
  bv1::Quote& q = *req.mutable_quote();
  q.set_clinic_id(inv.Get("clinic"));
  q.set_patient_id(inv.Get("patient"));
  q.set_plan_id(inv.Get("plan"));
  ASSIGN_OR_RETURN(bv1::TreatmentArea area, ParseEnum<bv1::TreatmentArea>("area", inv.Get("area")));
  q.set_area(area);
  ASSIGN_OR_RETURN(int64_t sessions, inv.Int("sessions", 1, 4, 3));
  q.set_sessions(static_cast<int32_t>(sessions));
  ASSIGN_OR_RETURN(int64_t discount, inv.Int("discount_bp", 0, 10000, 0));
  q.set_discount_bp(static_cast<int32_t>(discount));
  ASSIGN_OR_RETURN(absl::CivilDay until, ParseDate("valid_until", inv.Get("valid_until")));
  *q.mutable_valid_until() = ToLocalDate(until);
  ASSIGN_OR_RETURN(bv1::Quote out, RPC(CreateQuote, req));
  PrintQuote(inv, out);
  return absl::OkStatus();
}

absl::Status QuoteGet(Invocation& inv) {
  bv1::GetQuoteRequest req;
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(bv1::Quote out, RPC(GetQuote, req));
  PrintQuote(inv, out);
  return absl::OkStatus();
}

absl::Status QuoteAccept(Invocation& inv) {
  bv1::AcceptQuoteRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  if (inv.Has("etag")) {
    req.set_etag(inv.Get("etag"));
  } else {
    bv1::GetQuoteRequest get;
    get.set_id(inv.Arg());
    ASSIGN_OR_RETURN(bv1::Quote current, RPC(GetQuote, get));
    req.set_etag(current.etag());
  }
  ASSIGN_OR_RETURN(bv1::Quote out, RPC(AcceptQuote, req));
  PrintQuote(inv, out);
  return absl::OkStatus();
}

void PrintInvoice(Invocation& inv, const bv1::Invoice& i) {
  Show(inv, i, [&] {
    const absl::TimeZone zone = inv.client().DisplayZone(i.clinic_id());
    inv.out().Print(Fields{{"id", i.id()},
                           {"number", i.number() ? absl::StrCat(i.number()) : ""},
                           {"clinic", i.clinic_id()},
                           {"patient", i.patient_id()},
                           {"plan", i.plan_id()},
                           {"status", EnumName(i.status())},
                           {"issued", FormatTimestamp(i.issue_time(), zone)},
                           {"voided", FormatTimestamp(i.void_time(), zone)},
                           {"void reason", i.void_reason()},
                           {"paid", M(i.amount_paid())},
                           {"credited", M(i.amount_credited())},
                           {"due", M(i.amount_due())},
                           {"etag", i.etag()}});
    inv.out().Line("");
    PrintLines(inv, i.lines(), i.totals());
  });
}

// --line=KIND:QTY:PRICE[:DESCRIPTION]; the price's currency may be left to the clinic's.
struct LineArg {
  bv1::ChargeKind kind;
  int64_t quantity;
  std::string price;
  std::string description;
};

absl::StatusOr<std::vector<LineArg>> ReadLines(const Invocation& inv) {
  std::vector<LineArg> lines;
  for (const std::string& v : inv.AllRaw("line")) {
    std::vector<std::string> parts = absl::StrSplit(v, absl::MaxSplits(':', 3));
    if (parts.size() < 3) {
      return UsageError(absl::StrCat(
          "--line: want KIND:QUANTITY:PRICE[:DESCRIPTION], e.g. consultation:1:150.00, got \"", v,
          "\""));
    }
    LineArg line;
    ASSIGN_OR_RETURN(line.kind, ParseEnum<bv1::ChargeKind>("line", parts[0]));
    ASSIGN_OR_RETURN(line.quantity, ParseInt("line", parts[1], 1, 1000));
    line.price = parts[2];
    RETURN_IF_ERROR(ParseMoney("line", line.price, "USD").status());
    line.description = parts.size() == 4 ? parts[3] : EnumName(line.kind);
    lines.push_back(line);
  }
  return lines;
}

absl::Status InvoiceCreate(Invocation& inv) {
  ASSIGN_OR_RETURN(std::vector<LineArg> lines, ReadLines(inv));
  if (lines.empty()) return UsageError("give at least one --line=KIND:QUANTITY:PRICE");
  ASSIGN_OR_RETURN(int64_t discount, inv.Int("discount_bp", 0, 10000, 0));
  bv1::CreateInvoiceRequest req;
  req.set_request_id(inv.client().NewRequestId());
  bv1::Invoice& i = *req.mutable_invoice();
  i.set_clinic_id(inv.Get("clinic"));
  i.set_patient_id(inv.Get("patient"));
  i.set_plan_id(inv.Get("plan"));
  std::string currency = inv.Get("currency");
  for (const LineArg& l : lines) {
    bv1::Line* line = i.add_lines();
    line->set_kind(l.kind);
    line->set_quantity(l.quantity);
    line->set_description(l.description);
    line->set_discount_bp(static_cast<int32_t>(discount));
    absl::StatusOr<Money> price = ParseMoney("line", l.price, currency);
    if (!price.ok() && currency.empty()) {
      ASSIGN_OR_RETURN(bv1::PriceList list, EffectivePriceList(inv, i.clinic_id()));
      currency = list.currency_code();
      price = ParseMoney("line", l.price, currency);
    }
    if (!price.ok()) return price.status();
    *line->mutable_unit_price() = *price;
  }
  ASSIGN_OR_RETURN(bv1::Invoice out, RPC(CreateInvoice, req));
  PrintInvoice(inv, out);
  return absl::OkStatus();
}

absl::StatusOr<bv1::Invoice> GetInvoice(Invocation& inv, const std::string& id) {
  bv1::GetInvoiceRequest req;
  req.set_id(id);
  return RPC(GetInvoice, req);
}

absl::StatusOr<std::string> InvoiceEtag(Invocation& inv) {
  if (inv.Has("etag")) return inv.Get("etag");
  ASSIGN_OR_RETURN(bv1::Invoice current, GetInvoice(inv, inv.Arg()));
  return current.etag();
}

absl::Status InvoiceIssue(Invocation& inv) {
  bv1::IssueInvoiceRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(*req.mutable_etag(), InvoiceEtag(inv));
  ASSIGN_OR_RETURN(bv1::Invoice out, RPC(IssueInvoice, req));
  PrintInvoice(inv, out);
  return absl::OkStatus();
}

absl::Status InvoiceVoid(Invocation& inv) {
  bv1::VoidInvoiceRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  req.set_reason(inv.Get("reason"));
  ASSIGN_OR_RETURN(*req.mutable_etag(), InvoiceEtag(inv));
  ASSIGN_OR_RETURN(bv1::Invoice out, RPC(VoidInvoice, req));
  PrintInvoice(inv, out);
  return absl::OkStatus();
}

absl::Status InvoiceGet(Invocation& inv) {
  ASSIGN_OR_RETURN(bv1::Invoice out, GetInvoice(inv, inv.Arg()));
  PrintInvoice(inv, out);
  return absl::OkStatus();
}

absl::Status InvoiceList(Invocation& inv) {
  bv1::ListInvoicesRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  req.set_patient_id(inv.Get("patient"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(bv1::ListInvoicesResponse resp, RPC(ListInvoices, req));
  Show(inv, resp, [&] {
    const absl::TimeZone zone = inv.client().DisplayZone(req.clinic_id());
    Table t({"id", "number", "patient", "status", "total", "due", "issued"});
    for (const bv1::Invoice& i : resp.invoices()) {
      t.AddRow({i.id(), i.number() ? absl::StrCat(i.number()) : "", i.patient_id(),
                EnumName(i.status()), M(i.totals().total()), M(i.amount_due()),
                FormatTimestamp(i.issue_time(), zone)});
    }
    inv.out().Print(t);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status CreditNoteCreate(Invocation& inv) {
  RETURN_IF_ERROR(CheckAmount(inv, "amount"));
  bv1::CreateCreditNoteRequest req;
  req.set_request_id(inv.client().NewRequestId());
  bv1::CreditNote& c = *req.mutable_credit_note();
  c.set_invoice_id(inv.Get("invoice"));
  c.set_reason(inv.Get("reason"));
  ASSIGN_OR_RETURN(bv1::Invoice invoice, GetInvoice(inv, c.invoice_id()));
  ASSIGN_OR_RETURN(*c.mutable_amount(), Amount(inv, "amount", invoice.currency_code()));
  ASSIGN_OR_RETURN(bv1::CreditNote out, RPC(CreateCreditNote, req));
  Show(inv, out, [&] {
    inv.out().Print(Fields{{"id", out.id()},
                           {"invoice", out.invoice_id()},
                           {"amount", M(out.amount())},
                           {"reason", out.reason()}});
  });
  return absl::OkStatus();
}

// ---- payments

std::string Method(const bv1::Payment& p) {
  switch (p.method_case()) {
    case bv1::Payment::kCard:
      return absl::StrCat("card *", p.card().last4());
    case bv1::Payment::kCash:
      return "cash";
    case bv1::Payment::kFinancing:
      return absl::StrCat("financing ", p.financing().provider());
    default:
      return "";
  }
}

void PrintPayments(Invocation& inv, const std::vector<const bv1::Payment*>& all) {
  Table t({"id", "time", "patient", "invoice", "plan", "amount", "refunded", "method"});
  for (const bv1::Payment* p : all) {
    const absl::TimeZone zone = inv.client().DisplayZone(p->clinic_id());
    t.AddRow({p->id(), FormatTimestamp(p->create_time(), zone), p->patient_id(), p->invoice_id(),
              p->plan_id(), M(p->amount()), M(p->amount_refunded()), Method(*p)});
  }
  inv.out().Print(t);
}

absl::Status PaymentRecord(Invocation& inv) {
  RETURN_IF_ERROR(CheckAmount(inv, "amount"));
  ASSIGN_OR_RETURN(std::string method, [&]() -> absl::StatusOr<std::string> {
    const std::string m = inv.Has("method") ? inv.Get("method") : "card";
    if (m != "card" && m != "cash" && m != "financing") {
      return UsageError("--method: card, cash or financing");
    }
    return m;
  }());
  bv1::RecordPaymentRequest req;
  req.set_request_id(inv.client().NewRequestId());
  bv1::Payment& p = *req.mutable_payment();
  if (method == "card") {
    if (inv.Get("last4").size() != 4) return UsageError("a card payment needs --last4=NNNN");
    p.mutable_card()->set_last4(inv.Get("last4"));
    p.mutable_card()->set_authorization_reference(inv.Get("reference"));
    if (inv.Get("reference").empty()) {
      return UsageError("a card payment needs --reference (the terminal's authorisation)");
    }
  } else if (method == "cash") {
    p.mutable_cash();
  } else {
    p.mutable_financing()->set_provider(inv.Get("provider"));
    p.mutable_financing()->set_reference(inv.Get("reference"));
    if (inv.Get("provider").empty() || inv.Get("reference").empty()) {
      return UsageError("a financing payment needs --provider and --reference");
    }
  }
  std::string currency;
  if (inv.Has("invoice")) {
    if (inv.Has("plan")) return UsageError("give --invoice, or --plan for a deposit, not both");
    ASSIGN_OR_RETURN(bv1::Invoice invoice, GetInvoice(inv, inv.Get("invoice")));
    p.set_invoice_id(invoice.id());
    p.set_clinic_id(invoice.clinic_id());
    p.set_patient_id(invoice.patient_id());
    currency = invoice.currency_code();
  } else if (inv.Has("plan")) {
    if (!inv.Has("clinic") || !inv.Has("patient")) {
      return UsageError("a deposit (--plan) needs --clinic and --patient");
    }
    p.set_plan_id(inv.Get("plan"));
    p.set_clinic_id(inv.Get("clinic"));
    p.set_patient_id(inv.Get("patient"));
    absl::StatusOr<Money> explicit_currency = ParseMoney("amount", inv.Get("amount"), "");
    if (!explicit_currency.ok()) {
      ASSIGN_OR_RETURN(bv1::PriceList list, EffectivePriceList(inv, p.clinic_id()));
      currency = list.currency_code();
    }
  } else {
    return UsageError("give --invoice=ID, or --plan=ID for a deposit");
  }
  ASSIGN_OR_RETURN(*p.mutable_amount(), Amount(inv, "amount", currency));
  ASSIGN_OR_RETURN(bv1::Payment out, RPC(RecordPayment, req));
  Show(inv, out, [&] { PrintPayments(inv, {&out}); });
  return absl::OkStatus();
}

absl::StatusOr<bv1::Payment> GetPayment(Invocation& inv, const std::string& id) {
  bv1::GetPaymentRequest req;
  req.set_id(id);
  return RPC(GetPayment, req);
}

absl::Status PaymentRefund(Invocation& inv) {
  RETURN_IF_ERROR(CheckAmount(inv, "amount"));
  ASSIGN_OR_RETURN(bv1::Payment payment, GetPayment(inv, inv.Arg()));
  bv1::RefundPaymentRequest req;
  req.set_request_id(inv.client().NewRequestId());
  bv1::Refund& r = *req.mutable_refund();
  r.set_payment_id(inv.Arg());
  r.set_reason(inv.Get("reason"));
  ASSIGN_OR_RETURN(*r.mutable_amount(), Amount(inv, "amount", payment.amount().currency_code()));
  ASSIGN_OR_RETURN(bv1::Refund out, RPC(RefundPayment, req));
  Show(inv, out, [&] {
    inv.out().Print(Fields{{"refund", out.id()},
                           {"payment", out.payment_id()},
                           {"amount", M(out.amount())},
                           {"reason", out.reason()}});
  });
  return absl::OkStatus();
}

absl::Status PaymentApplyDeposit(Invocation& inv) {
  RETURN_IF_ERROR(CheckAmount(inv, "amount"));
  ASSIGN_OR_RETURN(bv1::Payment deposit, GetPayment(inv, inv.Arg()));
  bv1::ApplyDepositRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_deposit_id(inv.Arg());
  req.set_invoice_id(inv.Get("invoice"));
  ASSIGN_OR_RETURN(*req.mutable_amount(), Amount(inv, "amount", deposit.amount().currency_code()));
  ASSIGN_OR_RETURN(bv1::Payment out, RPC(ApplyDeposit, req));
  Show(inv, out, [&] { PrintPayments(inv, {&out}); });
  return absl::OkStatus();
}

absl::Status PaymentUnapplyDeposit(Invocation& inv) {
  RETURN_IF_ERROR(CheckAmount(inv, "amount"));
  ASSIGN_OR_RETURN(bv1::Payment deposit, GetPayment(inv, inv.Arg()));
  bv1::UnapplyDepositRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_deposit_id(inv.Arg());
  req.set_invoice_id(inv.Get("invoice"));
  req.set_reason(inv.Get("reason"));
  ASSIGN_OR_RETURN(*req.mutable_amount(), Amount(inv, "amount", deposit.amount().currency_code()));
  ASSIGN_OR_RETURN(bv1::Payment out, RPC(UnapplyDeposit, req));
  Show(inv, out, [&] { PrintPayments(inv, {&out}); });
  return absl::OkStatus();
}

absl::Status PaymentApplyCredit(Invocation& inv) {
  RETURN_IF_ERROR(CheckAmount(inv, "amount"));
  ASSIGN_OR_RETURN(bv1::Invoice invoice, GetInvoice(inv, inv.Get("invoice")));
  bv1::ApplyPatientCreditRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_invoice_id(invoice.id());
  ASSIGN_OR_RETURN(*req.mutable_amount(), Amount(inv, "amount", invoice.currency_code()));
  ASSIGN_OR_RETURN(bv1::Invoice out, RPC(ApplyPatientCredit, req));
  Show(inv, out, [&] { PrintInvoice(inv, out); });
  return absl::OkStatus();
}

absl::Status PaymentRefundCredit(Invocation& inv) {
  RETURN_IF_ERROR(CheckAmount(inv, "amount"));
  bv1::RefundPatientCreditRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_clinic_id(inv.Get("clinic"));
  req.set_patient_id(inv.Get("patient"));
  req.set_reason(inv.Get("reason"));
  std::string currency;
  if (!ParseMoney("amount", inv.Get("amount"), "").ok()) {
    ASSIGN_OR_RETURN(bv1::PriceList list, EffectivePriceList(inv, req.clinic_id()));
    currency = list.currency_code();
  }
  ASSIGN_OR_RETURN(*req.mutable_amount(), Amount(inv, "amount", currency));
  ASSIGN_OR_RETURN(bv1::Refund out, RPC(RefundPatientCredit, req));
  Show(inv, out, [&] {
    inv.out().Print(Fields{{"refund", out.id()},
                           {"clinic", out.clinic_id()},
                           {"patient", out.patient_id()},
                           {"amount", M(out.amount())},
                           {"reason", out.reason()}});
  });
  return absl::OkStatus();
}

absl::Status PaymentGet(Invocation& inv) {
  ASSIGN_OR_RETURN(bv1::Payment out, GetPayment(inv, inv.Arg()));
  Show(inv, out, [&] { PrintPayments(inv, {&out}); });
  return absl::OkStatus();
}

absl::Status PaymentList(Invocation& inv) {
  bv1::ListPaymentsRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  req.set_invoice_id(inv.Get("invoice"));
  req.set_patient_id(inv.Get("patient"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(bv1::ListPaymentsResponse resp, RPC(ListPayments, req));
  Show(inv, resp, [&] {
    std::vector<const bv1::Payment*> all;
    for (const bv1::Payment& p : resp.payments()) all.push_back(&p);
    PrintPayments(inv, all);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status Balance(Invocation& inv) {
  bv1::GetPatientBalanceRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  req.set_patient_id(inv.Get("patient"));
  ASSIGN_OR_RETURN(bv1::PatientBalance out, RPC(GetPatientBalance, req));
  Show(inv, out, [&] {
    inv.out().Print(Fields{{"patient", out.patient_id()},
                           {"clinic", out.clinic_id()},
                           {"due", M(out.amount_due())},
                           {"unapplied deposits", M(out.unapplied_deposits())},
                           {"open invoices", absl::StrCat(out.open_invoices())}});
  });
  return absl::OkStatus();
}

absl::Status ReportRevenue(Invocation& inv) {
  bv1::GetRevenueReportRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  ASSIGN_OR_RETURN(absl::CivilDay from, ParseDate("from", inv.Get("from")));
  ASSIGN_OR_RETURN(absl::CivilDay to, ParseDate("to", inv.Get("to")));
  if (to < from) return UsageError("--to is before --from");
  *req.mutable_period()->mutable_start_date() = ToLocalDate(from);
  *req.mutable_period()->mutable_end_date() = ToLocalDate(to);
  ASSIGN_OR_RETURN(bv1::RevenueReport out, RPC(GetRevenueReport, req));
  Show(inv, out, [&] {
    inv.out().Print(Fields{{"clinic", out.clinic_id()},
                           {"period", absl::StrCat(FormatDate(out.period().start_date()), " .. ",
                                                   FormatDate(out.period().end_date()))},
                           {"invoices issued", absl::StrCat(out.invoices_issued())},
                           {"invoiced net", M(out.invoiced_net())},
                           {"invoiced tax", M(out.invoiced_tax())},
                           {"credited", M(out.credited())},
                           {"collected", M(out.collected())},
                           {"refunded", M(out.refunded())}});
  });
  return absl::OkStatus();
}

absl::Status ReportAging(Invocation& inv) {
  bv1::GetReceivablesAgingRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  if (inv.Has("as_of")) {
    ASSIGN_OR_RETURN(TimeArg at, ParseTimeArg("as_of", inv.Get("as_of")));
    absl::TimeZone zone = absl::UTCTimeZone();
    if (at.needs_zone()) {
      ASSIGN_OR_RETURN(zone, inv.client().ClinicZone(req.clinic_id()));
    }
    *req.mutable_as_of_time() = ToProtoTimestamp(at.Resolve(zone));
  }
  ASSIGN_OR_RETURN(bv1::ReceivablesAging out, RPC(GetReceivablesAging, req));
  Show(inv, out, [&] {
    const absl::TimeZone zone = inv.client().DisplayZone(out.clinic_id());
    inv.out().Print(Fields{{"clinic", out.clinic_id()},
                           {"as of", FormatTimestamp(out.as_of_time(), zone)},
                           {"0-30 days", M(out.days_0_30())},
                           {"31-60 days", M(out.days_31_60())},
                           {"61-90 days", M(out.days_61_90())},
                           {"over 90 days", M(out.days_over_90())},
                           {"total", M(out.total())}});
  });
  return absl::OkStatus();
}

}  // namespace

void AddBillingCommands(Registry& r) {
  const Service s = Service::kBilling;
  const FlagSpec clinic = Req("clinic", "ID", "the clinic");
  std::vector<FlagSpec> price_flags = {
      clinic, Req("effective", "DATE", "first clinic-local day in force"),
      Req("currency", "CODE", "ISO-4217 currency, e.g. USD"),
      Opt("tax_bp", "N", "sales tax in basis points (825 = 8.25%)"),
      Opt("time_zone", "ZONE", "the clinic's zone (default: identity's)")};
  for (const char* f : kPriceFlags) {
    price_flags.push_back(Opt(f, "AMOUNT", absl::StrCat(f, " price, e.g. 1450.00")));
  }
  r.Add({{"price-list", "create"},
         s,
         "add a version of a clinic's price list",
         "",
         false,
         price_flags,
         "Example: smpctl price-list create --clinic=$C --effective=2026-01-01 --currency=USD "
         "--tax_bp=825 --consultation=150.00 --full_scalp=1450.00",
         PriceListCreate});
  r.Add({{"price-list", "get"},
         s,
         "the price list in force at a clinic",
         "",
         false,
         {clinic, Opt("at", "TIME", "at this instant (default now)")},
         "",
         PriceListGet});
  r.Add({{"price-list", "list"},
         s,
         "every version of a clinic's price list",
         "",
         false,
         WithPaging({clinic}),
         "",
         PriceListList});

  r.Add({{"quote", "create"},
         s,
         "price a treatment course from the price list in force",
         "",
         false,
         {clinic, Req("patient", "ID", "the patient"), Opt("plan", "ID", "the treatment plan"),
          Req("area", "AREA", EnumChoices(bv1::TreatmentArea_descriptor())),
          Opt("sessions", "N", "treatment sessions, 1..4 (default 3)"),
          Opt("discount_bp", "N", "course discount in basis points"),
          Req("valid_until", "DATE", "last day it can be accepted")},
         "",
         QuoteCreate});
  r.Add({{"quote", "get"}, s, "show a quote", "ID", true, {}, "", QuoteGet});
  r.Add(
      {{"quote", "accept"}, s, "accept an open quote", "ID", true, {EtagFlag()}, "", QuoteAccept});

  r.Add({{"invoice", "create"},
         s,
         "create a draft invoice",
         "",
         false,
         {clinic, Req("patient", "ID", "the patient"), Opt("plan", "ID", "the treatment plan"),
          Rep("line", "KIND:QTY:PRICE[:TEXT]",
              "a line, e.g. consultation:1:150.00 or other:1:25.00:Aftercare kit; kinds: " +
                  EnumChoices(bv1::ChargeKind_descriptor())),
          Opt("discount_bp", "N", "discount on every line, in basis points"),
          Opt("currency", "CODE", "prices' currency (default: the clinic's)")},
         "",
         InvoiceCreate});
  r.Add({{"invoice", "issue"},
         s,
         "issue a draft: give it the clinic's next number",
         "ID",
         true,
         {EtagFlag()},
         "",
         InvoiceIssue});
  r.Add({{"invoice", "void"},
         s,
         "void a draft, or an issued invoice with nothing paid",
         "ID",
         true,
         {Req("reason", "TEXT", "why"), EtagFlag()},
         "",
         InvoiceVoid});
  r.Add({{"invoice", "get"}, s, "show an invoice", "ID", true, {}, "", InvoiceGet});
  r.Add({{"invoice", "list"},
         s,
         "a clinic's invoices, newest first",
         "",
         false,
         WithPaging({clinic, Opt("patient", "ID", "only this patient")}),
         "",
         InvoiceList});
  r.Add({{"credit-note", "create"},
         s,
         "credit part or all of an issued invoice",
         "",
         false,
         {Req("invoice", "ID", "the invoice"), Req("amount", "AMOUNT", "e.g. 50.00"),
          Req("reason", "TEXT", "why")},
         "",
         CreditNoteCreate});

  r.Add({{"payment", "record"},
         s,
         "record a payment against an invoice, or a plan deposit",
         "",
         false,
         {Opt("invoice", "ID", "the invoice paid"),
          Opt("plan", "ID", "a deposit held for this plan (with --clinic and --patient)"),
          Opt("clinic", "ID", "deposit: the clinic"), Opt("patient", "ID", "deposit: the patient"),
          Req("amount", "AMOUNT", "e.g. 150.00 (the clinic's currency)"),
          Opt("method", "METHOD", "card (default), cash or financing"),
          Opt("last4", "NNNN", "card: last four digits"),
          Opt("reference", "TEXT", "card: authorisation reference; financing: agreement"),
          Opt("provider", "NAME", "financing: provider")},
         "A retry with the same --request_id is counted once.",
         PaymentRecord});
  r.Add({{"payment", "refund"},
         s,
         "refund part or all of a payment",
         "ID",
         true,
         {Req("amount", "AMOUNT", "e.g. 50.00"), Req("reason", "TEXT", "why")},
         "",
         PaymentRefund});
  r.Add({{"payment", "apply-deposit"},
         s,
         "apply part of a plan deposit to one of its invoices",
         "DEPOSIT_ID",
         true,
         {Req("invoice", "ID", "an issued invoice of the same plan"),
          Req("amount", "AMOUNT", "e.g. 500.00")},
         "",
         PaymentApplyDeposit});
  r.Add({{"payment", "unapply-deposit"},
         s,
         "take part of a deposit back from an invoice it paid (the invoice owes it again)",
         "DEPOSIT_ID",
         true,
         {Req("invoice", "ID", "the invoice the deposit was applied to"),
          Req("amount", "AMOUNT", "e.g. 200.00"), Req("reason", "TEXT", "why")},
         "",
         PaymentUnapplyDeposit});
  r.Add({{"payment", "apply-credit"},
         s,
         "pay an issued invoice from its patient's credit balance at the clinic",
         "",
         false,
         {Req("invoice", "ID", "the invoice to pay"), Req("amount", "AMOUNT", "e.g. 50.00")},
         "",
         PaymentApplyCredit});
  r.Add({{"payment", "refund-credit"},
         s,
         "pay a patient's credit balance back (a refund with no payment)",
         "",
         false,
         {clinic, Req("patient", "ID", "the patient"), Req("amount", "AMOUNT", "e.g. 50.00"),
          Req("reason", "TEXT", "why")},
         "",
         PaymentRefundCredit});
  r.Add({{"payment", "get"}, s, "show a payment", "ID", true, {}, "", PaymentGet});
  r.Add({{"payment", "list"},
         s,
         "a clinic's payments, newest first",
         "",
         false,
         WithPaging({clinic, Opt("invoice", "ID", "only this invoice's"),
                     Opt("patient", "ID", "only this patient's")}),
         "",
         PaymentList});
  r.Add({{"balance"},
         s,
         "what a patient owes a clinic and holds as deposits",
         "",
         false,
         {clinic, Req("patient", "ID", "the patient")},
         "",
         Balance});
  r.Add({{"report", "revenue"},
         s,
         "invoiced, credited, collected and refunded in a period",
         "",
         false,
         {clinic, Req("from", "DATE", "first clinic-local day"),
          Req("to", "DATE", "last day (inclusive)")},
         "",
         ReportRevenue});
  r.Add({{"report", "aging"},
         s,
         "outstanding receivables by age",
         "",
         false,
         {clinic, Opt("as_of", "TIME", "measure ages at this instant (default now)")},
         "",
         ReportAging});
}

}  // namespace smp::smpctl
