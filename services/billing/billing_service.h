#ifndef SMP_SERVICES_BILLING_BILLING_SERVICE_H_
#define SMP_SERVICES_BILLING_BILLING_SERVICE_H_

#include "common/auth/authenticator.h"
#include "common/auth/authorizer.h"
#include "common/db/database.h"
#include "common/util/clock.h"
#include "services/billing/billing_store.h"
#include "smp/billing/v1/billing.grpc.pb.h"

namespace smp::billing {

// What the billing service is built from; main.cc wires real ones, tests may wire others.
struct BillingDeps {
  Database* db;
  Authenticator* authenticator;
  const Clock* clock;
};

// The gRPC handlers of smp.billing.v1.BillingService: validate, authorise (permission from the
// contract, clinic scope), call the rules and the store in one transaction, map errors.
class BillingServiceImpl final : public v1::BillingService::Service {
 public:
  explicit BillingServiceImpl(BillingDeps deps);

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
  // Pays as much of the issued invoice `inv` (of a plan) as the plan's unapplied deposits cover,
  // oldest deposit first; records each application. `inv` is updated in memory, not saved.
  absl::Status DrawPlanDeposits(Transaction& txn, v1::Invoice& inv, absl::Time now);
  // Any price list of the clinic (its currency and time zone are the clinic's); INVALID_ARGUMENT
  // naming `field` when it has none (a clinic billing does not know).
  absl::StatusOr<v1::PriceList> RequireClinic(Transaction& txn, absl::string_view clinic_id,
                                              absl::string_view field);
  // The price list in force at `at`: INVALID_ARGUMENT naming `field` when the clinic has none at
  // all (unknown here), FAILED_PRECONDITION when none is in force yet.
  absl::StatusOr<v1::PriceList> RequirePriceList(Transaction& txn, absl::string_view clinic_id,
                                                 absl::Time at, absl::string_view field);

  BillingDeps deps_;
  BillingStore store_;
  Authorizer authorizer_;
};

}  // namespace smp::billing

#endif  // SMP_SERVICES_BILLING_BILLING_SERVICE_H_
