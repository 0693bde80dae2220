#ifndef SMP_SERVICES_BILLING_BILLING_SERVICE_H_
#define SMP_SERVICES_BILLING_BILLING_SERVICE_H_

#include "common/auth/authenticator.h"
#include "common/db/database.h"
#include "common/rpc/frame.h"
#include "common/util/clock.h"
#include "services/billing/billing_store.h"
#include "services/billing/charges.h"
#include "services/billing/invoices.h"
#include "services/billing/payments.h"
#include "services/billing/price_lists.h"
#include "services/billing/quotes.h"
#include "services/billing/reports.h"
#include "smp/billing/v1/billing.grpc.pb.h"

namespace smp::billing {

// What the billing service is built from; main.cc wires real ones, tests may wire others.
struct BillingDeps {
  Database* db;
  Authenticator* authenticator;
  const Clock* clock;
  // Identity, the one source of clinics' time zones; nullptr: none (the stored zones stay).
  ClinicZoneSource* zones = nullptr;
};

// The gRPC overrides of smp.billing.v1.BillingService, each one statement: the frame authorises
// the caller (permission from the contract), builds the Call and maps the status; the operation
// units (price_lists, quotes, invoices, payments, charges, reports) do the rest.
class BillingServiceImpl final : public v1::BillingService::Service {
 public:
  explicit BillingServiceImpl(BillingDeps deps);

  // Stores clinic time zones identity has changed; how many. main.cc runs it every
  // --clinic_zone_refresh.
  absl::StatusOr<int> RefreshClinicZones();

  grpc::Status CreatePriceList(grpc::ServerContext*, const v1::CreatePriceListRequest*,
                               v1::PriceList*) override;
  grpc::Status GetEffectivePriceList(grpc::ServerContext*, const v1::GetEffectivePriceListRequest*,
                                     v1::PriceList*) override;
  grpc::Status ListPriceLists(grpc::ServerContext*, const v1::ListPriceListsRequest*,
                              v1::ListPriceListsResponse*) override;
  grpc::Status CreateQuote(grpc::ServerContext*, const v1::CreateQuoteRequest*,
                           v1::Quote*) override;
  grpc::Status GetQuote(grpc::ServerContext*, const v1::GetQuoteRequest*, v1::Quote*) override;
  grpc::Status AcceptQuote(grpc::ServerContext*, const v1::AcceptQuoteRequest*,
                           v1::Quote*) override;
  grpc::Status CreateInvoice(grpc::ServerContext*, const v1::CreateInvoiceRequest*,
                             v1::Invoice*) override;
  grpc::Status UpdateDraftInvoice(grpc::ServerContext*, const v1::UpdateDraftInvoiceRequest*,
                                  v1::Invoice*) override;
  grpc::Status IssueInvoice(grpc::ServerContext*, const v1::IssueInvoiceRequest*,
                            v1::Invoice*) override;
  grpc::Status VoidInvoice(grpc::ServerContext*, const v1::VoidInvoiceRequest*,
                           v1::Invoice*) override;
  grpc::Status GetInvoice(grpc::ServerContext*, const v1::GetInvoiceRequest*,
                          v1::Invoice*) override;
  grpc::Status ListInvoices(grpc::ServerContext*, const v1::ListInvoicesRequest*,
                            v1::ListInvoicesResponse*) override;
  grpc::Status CreateCreditNote(grpc::ServerContext*, const v1::CreateCreditNoteRequest*,
                                v1::CreditNote*) override;
  grpc::Status RecordPayment(grpc::ServerContext*, const v1::RecordPaymentRequest*,
                             v1::Payment*) override;
  grpc::Status ApplyDeposit(grpc::ServerContext*, const v1::ApplyDepositRequest*,
                            v1::Payment*) override;
  grpc::Status UnapplyDeposit(grpc::ServerContext*, const v1::UnapplyDepositRequest*,
                              v1::Payment*) override;
  grpc::Status ApplyPatientCredit(grpc::ServerContext*, const v1::ApplyPatientCreditRequest*,
                                  v1::Invoice*) override;
  grpc::Status RefundPatientCredit(grpc::ServerContext*, const v1::RefundPatientCreditRequest*,
                                   v1::Refund*) override;
  grpc::Status RefundPayment(grpc::ServerContext*, const v1::RefundPaymentRequest*,
                             v1::Refund*) override;
  grpc::Status GetPayment(grpc::ServerContext*, const v1::GetPaymentRequest*,
                          v1::Payment*) override;
  grpc::Status ListPayments(grpc::ServerContext*, const v1::ListPaymentsRequest*,
                            v1::ListPaymentsResponse*) override;
  grpc::Status GetPatientBalance(grpc::ServerContext*, const v1::GetPatientBalanceRequest*,
                                 v1::PatientBalance*) override;
  grpc::Status RecordChargeEvent(grpc::ServerContext*, const v1::RecordChargeEventRequest*,
                                 v1::ChargeEventResult*) override;
  grpc::Status GetRevenueReport(grpc::ServerContext*, const v1::GetRevenueReportRequest*,
                                v1::RevenueReport*) override;
  grpc::Status GetReceivablesAging(grpc::ServerContext*, const v1::GetReceivablesAgingRequest*,
                                   v1::ReceivablesAging*) override;

 private:
  RpcFrame frame_;
  const Clock* clock_;
  BillingStore store_;
  PriceLists price_lists_;
  Quotes quotes_;
  Invoices invoices_;
  Payments payments_;
  Charges charges_;
  Reports reports_;
};

}  // namespace smp::billing

#endif  // SMP_SERVICES_BILLING_BILLING_SERVICE_H_
