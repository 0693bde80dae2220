#include "services/billing/billing_service.h"

namespace smp::billing {

BillingServiceImpl::BillingServiceImpl(BillingDeps deps)
    : frame_(v1::BillingService::service_full_name(), deps.authenticator, deps.clock),
      clock_(deps.clock),
      price_lists_(deps.db, &store_, deps.zones),
      quotes_(deps.db, &store_),
      invoices_(deps.db, &store_),
      payments_(deps.db, &store_),
      charges_(deps.db, &store_),
      reports_(deps.db, &store_) {}

absl::StatusOr<int> BillingServiceImpl::RefreshClinicZones() {
  return price_lists_.RefreshZones(clock_->Now());
}

grpc::Status BillingServiceImpl::CreatePriceList(grpc::ServerContext* ctx,
                                                 const v1::CreatePriceListRequest* req,
                                                 v1::PriceList* out) {
  return frame_.Serve(ctx, "CreatePriceList", *req, out,
                      [&](const Call& call) { return price_lists_.Create(call, *req); });
}

grpc::Status BillingServiceImpl::GetEffectivePriceList(grpc::ServerContext* ctx,
                                                       const v1::GetEffectivePriceListRequest* req,
                                                       v1::PriceList* out) {
  return frame_.Serve(ctx, "GetEffectivePriceList", *req, out,
                      [&](const Call& call) { return price_lists_.GetEffective(call, *req); });
}

grpc::Status BillingServiceImpl::ListPriceLists(grpc::ServerContext* ctx,
                                                const v1::ListPriceListsRequest* req,
                                                v1::ListPriceListsResponse* out) {
  return frame_.Serve(ctx, "ListPriceLists", *req, out,
                      [&](const Call& call) { return price_lists_.List(call, *req); });
}

grpc::Status BillingServiceImpl::CreateQuote(grpc::ServerContext* ctx,
                                             const v1::CreateQuoteRequest* req, v1::Quote* out) {
  return frame_.Serve(ctx, "CreateQuote", *req, out,
                      [&](const Call& call) { return quotes_.Create(call, *req); });
}

grpc::Status BillingServiceImpl::GetQuote(grpc::ServerContext* ctx, const v1::GetQuoteRequest* req,
                                          v1::Quote* out) {
  return frame_.Serve(ctx, "GetQuote", *req, out,
                      [&](const Call& call) { return quotes_.Get(call, *req); });
}

grpc::Status BillingServiceImpl::AcceptQuote(grpc::ServerContext* ctx,
                                             const v1::AcceptQuoteRequest* req, v1::Quote* out) {
  return frame_.Serve(ctx, "AcceptQuote", *req, out,
                      [&](const Call& call) { return quotes_.Accept(call, *req); });
}

grpc::Status BillingServiceImpl::CreateInvoice(grpc::ServerContext* ctx,
                                               const v1::CreateInvoiceRequest* req,
                                               v1::Invoice* out) {
  return frame_.Serve(ctx, "CreateInvoice", *req, out,
                      [&](const Call& call) { return invoices_.Create(call, *req); });
}

grpc::Status BillingServiceImpl::UpdateDraftInvoice(grpc::ServerContext* ctx,
                                                    const v1::UpdateDraftInvoiceRequest* req,
                                                    v1::Invoice* out) {
  return frame_.Serve(ctx, "UpdateDraftInvoice", *req, out,
                      [&](const Call& call) { return invoices_.UpdateDraft(call, *req); });
}

grpc::Status BillingServiceImpl::IssueInvoice(grpc::ServerContext* ctx,
                                              const v1::IssueInvoiceRequest* req,
                                              v1::Invoice* out) {
  return frame_.Serve(ctx, "IssueInvoice", *req, out,
                      [&](const Call& call) { return invoices_.Issue(call, *req); });
}

grpc::Status BillingServiceImpl::VoidInvoice(grpc::ServerContext* ctx,
                                             const v1::VoidInvoiceRequest* req, v1::Invoice* out) {
  return frame_.Serve(ctx, "VoidInvoice", *req, out,
                      [&](const Call& call) { return invoices_.Void(call, *req); });
}

grpc::Status BillingServiceImpl::GetInvoice(grpc::ServerContext* ctx,
                                            const v1::GetInvoiceRequest* req, v1::Invoice* out) {
  return frame_.Serve(ctx, "GetInvoice", *req, out,
                      [&](const Call& call) { return invoices_.Get(call, *req); });
}

grpc::Status BillingServiceImpl::ListInvoices(grpc::ServerContext* ctx,
                                              const v1::ListInvoicesRequest* req,
                                              v1::ListInvoicesResponse* out) {
  return frame_.Serve(ctx, "ListInvoices", *req, out,
                      [&](const Call& call) { return invoices_.List(call, *req); });
}

grpc::Status BillingServiceImpl::CreateCreditNote(grpc::ServerContext* ctx,
                                                  const v1::CreateCreditNoteRequest* req,
                                                  v1::CreditNote* out) {
  return frame_.Serve(ctx, "CreateCreditNote", *req, out,
                      [&](const Call& call) { return invoices_.CreateCreditNote(call, *req); });
}

grpc::Status BillingServiceImpl::RecordPayment(grpc::ServerContext* ctx,
                                               const v1::RecordPaymentRequest* req,
                                               v1::Payment* out) {
  return frame_.Serve(ctx, "RecordPayment", *req, out,
                      [&](const Call& call) { return payments_.Record(call, *req); });
}

grpc::Status BillingServiceImpl::ApplyDeposit(grpc::ServerContext* ctx,
                                              const v1::ApplyDepositRequest* req,
                                              v1::Payment* out) {
  return frame_.Serve(ctx, "ApplyDeposit", *req, out,
                      [&](const Call& call) { return payments_.ApplyDeposit(call, *req); });
}

grpc::Status BillingServiceImpl::UnapplyDeposit(grpc::ServerContext* ctx,
                                                const v1::UnapplyDepositRequest* req,
                                                v1::Payment* out) {
  return frame_.Serve(ctx, "UnapplyDeposit", *req, out,
                      [&](const Call& call) { return payments_.UnapplyDeposit(call, *req); });
}

grpc::Status BillingServiceImpl::ApplyPatientCredit(grpc::ServerContext* ctx,
                                                    const v1::ApplyPatientCreditRequest* req,
                                                    v1::Invoice* out) {
  return frame_.Serve(ctx, "ApplyPatientCredit", *req, out,
                      [&](const Call& call) { return payments_.ApplyCredit(call, *req); });
}

grpc::Status BillingServiceImpl::RefundPatientCredit(grpc::ServerContext* ctx,
                                                     const v1::RefundPatientCreditRequest* req,
                                                     v1::Refund* out) {
  return frame_.Serve(ctx, "RefundPatientCredit", *req, out,
                      [&](const Call& call) { return payments_.RefundCredit(call, *req); });
}

grpc::Status BillingServiceImpl::RefundPayment(grpc::ServerContext* ctx,
                                               const v1::RefundPaymentRequest* req,
                                               v1::Refund* out) {
  return frame_.Serve(ctx, "RefundPayment", *req, out,
                      [&](const Call& call) { return payments_.Refund(call, *req); });
}

grpc::Status BillingServiceImpl::GetPayment(grpc::ServerContext* ctx,
                                            const v1::GetPaymentRequest* req, v1::Payment* out) {
  return frame_.Serve(ctx, "GetPayment", *req, out,
                      [&](const Call& call) { return payments_.Get(call, *req); });
}

grpc::Status BillingServiceImpl::ListPayments(grpc::ServerContext* ctx,
                                              const v1::ListPaymentsRequest* req,
                                              v1::ListPaymentsResponse* out) {
  return frame_.Serve(ctx, "ListPayments", *req, out,
                      [&](const Call& call) { return payments_.List(call, *req); });
}

grpc::Status BillingServiceImpl::GetPatientBalance(grpc::ServerContext* ctx,
                                                   const v1::GetPatientBalanceRequest* req,
                                                   v1::PatientBalance* out) {
  return frame_.Serve(ctx, "GetPatientBalance", *req, out,
                      [&](const Call& call) { return payments_.Balance(call, *req); });
}

grpc::Status BillingServiceImpl::RecordChargeEvent(grpc::ServerContext* ctx,
                                                   const v1::RecordChargeEventRequest* req,
                                                   v1::ChargeEventResult* out) {
  return frame_.Serve(ctx, "RecordChargeEvent", *req, out,
                      [&](const Call& call) { return charges_.Record(call, *req); });
}

grpc::Status BillingServiceImpl::GetRevenueReport(grpc::ServerContext* ctx,
                                                  const v1::GetRevenueReportRequest* req,
                                                  v1::RevenueReport* out) {
  return frame_.Serve(ctx, "GetRevenueReport", *req, out,
                      [&](const Call& call) { return reports_.Revenue(call, *req); });
}

grpc::Status BillingServiceImpl::GetReceivablesAging(grpc::ServerContext* ctx,
                                                     const v1::GetReceivablesAgingRequest* req,
                                                     v1::ReceivablesAging* out) {
  return frame_.Serve(ctx, "GetReceivablesAging", *req, out,
                      [&](const Call& call) { return reports_.Aging(call, *req); });
}

}  // namespace smp::billing
