// inventory.issue: needle cartridges issued to procedures by serial, each unit checked single-use.

#include <grpcpp/client_context.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "smp/inventory/v1/inventory.grpc.pb.h"
#include "tools/loadgen/scenario_support.h"

namespace smp::loadgen {
namespace {

namespace iv1 = inventory::v1;

constexpr int kNeedlesPerProcedure = 4;
constexpr int kSerialsPerReceipt = 1000;  // the most ReceiveStock takes
constexpr int kReuseEvery = 10;           // every 10th issue presents a spent unit

// One clinic with a needle-cartridge product and enough labelled units received for
// options.booking_slots issues of kNeedlesPerProcedure units each (1000 serials a delivery,
// delivered through ReceiveStock), and as many appointments booked at scheduling (inventory asks
// scheduling where each issue's appointment is and whose it is). Each call issues fresh units to
// an appointment of its own, except every kReuseEvery-th, which presents a unit the check call
// already used: inventory refuses it (FAILED_PRECONDITION, expected) and records the reuse attempt.
absl::StatusOr<CallSpec> PrepareIssue(const ScenarioOptions& options,
                                      const std::shared_ptr<grpc::Channel>& channel) {
  const int64_t issues = std::max<int64_t>(options.booking_slots, 1);
  // One appointment per issue and the check call's (the last).
  absl::StatusOr<BookedClinic> booked = BookConsultations(options, "inventory.issue", issues + 1);
  if (!booked.ok()) return booked.status();
  const Metadata& auth = booked->auth;
  const std::string& clinic = booked->clinic_id;
  const std::string run = RunTag("iv");
  const std::string zone = booked->time_zone;

  auto stub = iv1::InventoryService::NewStub(channel);
  {
    iv1::UpdateClinicInventorySettingsRequest req;
    req.set_request_id(absl::StrCat("settings-", run));
    req.mutable_settings()->set_clinic_id(clinic);
    req.mutable_settings()->set_time_zone(zone);
    iv1::ClinicInventorySettings out;
    grpc::ClientContext context;
    PrepareContext(context, options, auth);
    grpc::Status status = stub->UpdateClinicInventorySettings(&context, req, &out);
    if (!status.ok()) return SetupError("UpdateClinicInventorySettings", status);
  }
  std::string product;
  {
    iv1::CreateProductRequest req;
    req.set_request_id(absl::StrCat("product-", run));
    iv1::Product* p = req.mutable_product();
    p->set_name("3RL 0.30 mm cartridge");
    p->set_unit(iv1::UNIT_OF_MEASURE_EACH);
    p->set_single_use(true);
    p->mutable_needle_cartridge()->set_configuration("3RL");
    p->mutable_needle_cartridge()->set_needle_diameter_um(300);
    iv1::Product out;
    grpc::ClientContext context;
    PrepareContext(context, options, auth);
    grpc::Status status = stub->CreateProduct(&context, req, &out);
    if (!status.ok()) return SetupError("CreateProduct", status);
    product = out.id();
  }

  // Fresh units for every issue but the reuse ones, and the check call's.
  const int64_t units = issues * kNeedlesPerProcedure + kNeedlesPerProcedure;
  auto serial = [&](int64_t k) { return absl::StrCat("SN-", run, "-", k); };
  absl::TimeZone tz;
  absl::LoadTimeZone(zone, &tz);
  const absl::CivilDay expiry = absl::ToCivilDay(absl::Now(), tz) + 365;
  std::vector<std::string> receipts;
  for (int64_t first = 0; first < units; first += kSerialsPerReceipt) {
    iv1::ReceiveStockRequest req;
    req.set_request_id(absl::StrCat("receive-", run, "-", first));
    req.set_clinic_id(clinic);
    req.set_product_id(product);
    req.set_lot_number(absl::StrCat("L", first / kSerialsPerReceipt + 1, "-", run).substr(0, 64));
    *req.mutable_expiry_date() = ToLocalDate(expiry);
    for (int64_t k = first; k < std::min(units, first + kSerialsPerReceipt); ++k) {
      req.add_serials(serial(k));
    }
    req.set_quantity(req.serials_size());
    req.set_supplier("Bench Supplies Ltd");
    receipts.push_back(req.SerializeAsString());
  }
  ScenarioOptions seeding = options;
  seeding.seed_concurrency = std::min(options.seed_concurrency, 4);  // large requests
  absl::StatusOr<double> received =
      Seed(seeding, "needle deliveries (1000 units each)",
           MethodPath(iv1::InventoryService::service_full_name(), "ReceiveStock"), receipts, auth);
  if (!received.ok()) return received.status();

  // The k-th issue goes to the k-th booked appointment, of its patient.
  auto issue = [&](const std::string& request_id, int64_t k,
                   const std::vector<std::string>& serials) {
    const BookedClinic::Appointment& a = booked->appointments[static_cast<size_t>(k)];
    iv1::IssueToProcedureRequest req;
    req.set_request_id(request_id);
    req.set_clinic_id(clinic);
    req.set_appointment_id(a.id);
    req.set_patient_id(a.patient_id);
    for (const std::string& s : serials) req.add_lines()->set_serial(s);
    return req;
  };
  // Check call: the last units; they are the ones later presented again.
  std::vector<std::string> spent;
  for (int64_t k = units - kNeedlesPerProcedure; k < units; ++k) spent.push_back(serial(k));
  {
    iv1::IssueToProcedureResponse out;
    grpc::ClientContext context;
    PrepareContext(context, options, auth);
    grpc::Status status =
        stub->IssueToProcedure(&context, issue(absl::StrCat(run, "-check"), issues, spent), &out);
    if (!status.ok()) return SetupError("IssueToProcedure (check call)", status);
    if (out.entries_size() != 1 || out.entries(0).quantity_delta() != -kNeedlesPerProcedure) {
      return absl::InternalError(
          absl::StrCat("IssueToProcedure (check call) wrote ", out.DebugString()));
    }
  }

  CallSpec call = MakeCall(
      MethodPath(iv1::InventoryService::service_full_name(), "IssueToProcedure"), "", auth);
  call.expected_errors = {"FAILED_PRECONDITION"};
  call.requests.reserve(static_cast<size_t>(issues));
  int64_t next = 0;
  for (int64_t k = 0; k < issues; ++k) {
    std::vector<std::string> serials;
    if (k % kReuseEvery == kReuseEvery - 1) {
      serials.push_back(spent[static_cast<size_t>(k / kReuseEvery) % spent.size()]);
    } else {
      for (int j = 0; j < kNeedlesPerProcedure; ++j) serials.push_back(serial(next++));
    }
    call.requests.push_back(issue(absl::StrCat(run, "-", k), k, serials).SerializeAsString());
  }
  return call;
}

}  // namespace

std::vector<Scenario> InventoryScenarios() {
  return {
      {"inventory.issue",
       "InventoryService/IssueToProcedure: 4 labelled needle units a procedure, each checked "
       "single-use; every 10th call presents a spent unit (FAILED_PRECONDITION, expected, the "
       "attempt recorded); each call to an appointment of its own booked at "
       "--scheduling_target, which the target asks. Setup: a clinic through --identity_target "
       "and --scheduling_target, the appointments, a product, and the units received 1000 a "
       "delivery; at most --booking_slots calls",
       &PrepareIssue},
  };
}

}  // namespace smp::loadgen
