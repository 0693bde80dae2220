// billing.balance: an authenticated read in billing (the price list of the clinic and a patient's
// invoices and deposits).

#include <grpcpp/client_context.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/util/ids.h"
#include "smp/billing/v1/billing.grpc.pb.h"
#include "tools/loadgen/scenario_support.h"

namespace smp::loadgen {
namespace {

namespace bv1 = billing::v1;

common::v1::Money Usd(int64_t minor) {
  common::v1::Money m;
  m.set_currency_code("USD");
  m.set_amount_minor(minor);
  return m;
}

absl::StatusOr<CallSpec> PrepareBalance(const ScenarioOptions& options,
                                        const std::shared_ptr<grpc::Channel>& channel) {
  absl::StatusOr<std::unique_ptr<identity::v1::IdentityService::Stub>> identity =
      IdentityStub(options, "billing.balance");
  if (!identity.ok()) return identity.status();
  absl::StatusOr<Metadata> auth = LogInAsAdmin(options, **identity);
  if (!auth.ok()) return auth.status();
  const std::string run = RunTag("bl");
  const std::string zone = "America/New_York";
  absl::StatusOr<std::string> clinic = CreateClinic(
      options, **identity, *auth, absl::StrCat("clinic-", run), absl::StrCat("Bench ", run), zone);
  if (!clinic.ok()) return clinic.status();
  auto stub = bv1::BillingService::NewStub(channel);
  {
    absl::TimeZone tz;
    absl::LoadTimeZone(zone, &tz);
    bv1::CreatePriceListRequest req;
    req.set_request_id(absl::StrCat("prices-", run));
    bv1::PriceList* p = req.mutable_price_list();
    p->set_clinic_id(*clinic);
    *p->mutable_effective_date() = ToLocalDate(absl::ToCivilDay(absl::Now(), tz));
    p->set_time_zone(zone);
    p->set_currency_code("USD");
    p->set_tax_rate_bp(825);
    *p->mutable_consultation_fee() = Usd(15000);
    *p->mutable_session_prices()->mutable_hairline() = Usd(120000);
    *p->mutable_session_prices()->mutable_crown() = Usd(110000);
    *p->mutable_session_prices()->mutable_full_scalp() = Usd(175000);
    *p->mutable_session_prices()->mutable_scar_camouflage() = Usd(90000);
    *p->mutable_sample_patch_fee() = Usd(5000);
    *p->mutable_touch_up_fee() = Usd(40000);
    *p->mutable_late_cancellation_fee() = Usd(10000);
    *p->mutable_no_show_fee() = Usd(15000);
    bv1::PriceList out;
    grpc::ClientContext context;
    PrepareContext(context, options, *auth);
    grpc::Status status = stub->CreatePriceList(&context, req, &out);
    if (!status.ok()) return SetupError("CreatePriceList", status);
  }
  bv1::GetPatientBalanceRequest get;
  get.set_clinic_id(*clinic);
  get.set_patient_id(NewId());
  {
    bv1::PatientBalance out;
    grpc::ClientContext context;
    PrepareContext(context, options, *auth);
    grpc::Status status = stub->GetPatientBalance(&context, get, &out);
    if (!status.ok()) return SetupError("GetPatientBalance (check call)", status);
  }
  return MakeCall(MethodPath(bv1::BillingService::service_full_name(), "GetPatientBalance"),
                  get.SerializeAsString(), *auth);
}

}  // namespace

std::vector<Scenario> BillingScenarios() {
  return {
      {"billing.balance",
       "BillingService/GetPatientBalance with a bearer token: the clinic's price list and a "
       "patient's invoices and deposits (setup: a clinic through --identity_target, a price list)",
       &PrepareBalance},
  };
}

}  // namespace smp::loadgen
