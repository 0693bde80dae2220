// The authorisation matrix (issue 13): every RPC of every service of the suite, called by every
// role (and by no one), against the real service processes, with the expected answer derived from
// the contract's `(smp.common.v1.required_permission)` and the permission table
// (common/auth/permissions.cc):
//
//   - a caller whose roles do not grant the permission gets PERMISSION_DENIED (no session:
//     UNAUTHENTICATED) whatever the request holds: anything else is an unexpected allow;
//   - a caller whose roles grant it is never refused for a missing permission;
//   - a clinic-scoped caller (front desk, technician, inventory staff, billing clerk of clinic A)
//     naming clinic B in a request's clinic fields gets PERMISSION_DENIED for the clinic scope,
//     before any validation or other rule answers (RpcFrame judges the named clinics first, see
//     common/rpc/request_scope.h).
//
// kTable lists every RPC with how its request names a clinic; an RPC of the contract missing from
// it (or listed but gone, or listed with the wrong kind) fails the test, so a new RPC cannot ship
// without a decision here. Requests are otherwise empty: an allowed call may well be refused as
// invalid, which is fine; a denied call (role or scope) must be denied before any validation.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/permissions.h"
#include "common/status/status_matchers.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "gtest/gtest.h"
#include "smp/billing/v1/billing.grpc.pb.h"
#include "smp/compliance/v1/compliance.grpc.pb.h"
#include "smp/compliance/v1/eligibility.grpc.pb.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "smp/inventory/v1/inventory.grpc.pb.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"
#include "tests/integration/identity_harness.h"
#include "tests/integration/service_process.h"

namespace smp {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;
using google::protobuf::Reflection;
using google::protobuf::ServiceDescriptor;
using smp::testing::CallContext;
using smp::testing::IdentityHarness;
using smp::testing::ServiceProcess;

// How a request names the clinic its resource belongs to.
enum Scope {
  // A `clinic_id` / `clinic_ids` field (at the top or in a message field): the clinic is named.
  kClinic,
  // By the id of a resource (patient, appointment, invoice...), chain-wide data (products, the
  // audit log) or the caller's own session: the scope is checked once the resource is read; the
  // operation units' tests cover those with real resources of two clinics.
  kOther,
};

const std::map<std::string, Scope>& Table() {
  static const auto* table = new std::map<std::string, Scope>{
      {"smp.identity.v1.IdentityService/BootstrapAdmin", kOther},
      {"smp.identity.v1.IdentityService/Login", kOther},
      {"smp.identity.v1.IdentityService/Logout", kOther},
      {"smp.identity.v1.IdentityService/WhoAmI", kOther},
      {"smp.identity.v1.IdentityService/ListSessions", kOther},
      {"smp.identity.v1.IdentityService/RevokeSession", kOther},
      {"smp.identity.v1.IdentityService/ChangePassword", kOther},
      {"smp.identity.v1.IdentityService/CreateClinic", kOther},
      {"smp.identity.v1.IdentityService/GetClinic", kOther},
      {"smp.identity.v1.IdentityService/ListClinics", kOther},
      {"smp.identity.v1.IdentityService/UpdateClinic", kOther},
      {"smp.identity.v1.IdentityService/CreateStaff", kClinic},
      {"smp.identity.v1.IdentityService/GetStaff", kOther},
      {"smp.identity.v1.IdentityService/ListStaff", kClinic},
      {"smp.identity.v1.IdentityService/UpdateStaff", kClinic},
      {"smp.identity.v1.IdentityService/DisableStaff", kOther},
      {"smp.identity.v1.IdentityService/EnableStaff", kOther},
      {"smp.identity.v1.IdentityService/ResetStaffPassword", kOther},
      {"smp.identity.v1.IdentityService/ListLoginFailures", kOther},
      {"smp.scheduling.v1.SchedulingService/CreatePatient", kOther},
      {"smp.scheduling.v1.SchedulingService/GetPatient", kOther},
      {"smp.scheduling.v1.SchedulingService/UpdatePatient", kOther},
      {"smp.scheduling.v1.SchedulingService/SearchPatients", kClinic},
      {"smp.scheduling.v1.SchedulingService/GetClinicSchedule", kClinic},
      {"smp.scheduling.v1.SchedulingService/UpdateClinicSchedule", kClinic},
      {"smp.scheduling.v1.SchedulingService/CreateChair", kClinic},
      {"smp.scheduling.v1.SchedulingService/ListChairs", kClinic},
      {"smp.scheduling.v1.SchedulingService/UpdateChair", kClinic},
      {"smp.scheduling.v1.SchedulingService/SetWorkingHours", kClinic},
      {"smp.scheduling.v1.SchedulingService/GetWorkingHours", kClinic},
      {"smp.scheduling.v1.SchedulingService/ListWorkingHours", kClinic},
      {"smp.scheduling.v1.SchedulingService/CreateScheduleException", kClinic},
      {"smp.scheduling.v1.SchedulingService/ListScheduleExceptions", kClinic},
      {"smp.scheduling.v1.SchedulingService/DeleteScheduleException", kOther},
      {"smp.scheduling.v1.SchedulingService/CreateTreatmentPlan", kClinic},
      {"smp.scheduling.v1.SchedulingService/GetTreatmentPlan", kOther},
      {"smp.scheduling.v1.SchedulingService/ListTreatmentPlans", kOther},
      {"smp.scheduling.v1.SchedulingService/CancelTreatmentPlan", kOther},
      {"smp.scheduling.v1.SchedulingService/FindAvailability", kClinic},
      {"smp.scheduling.v1.SchedulingService/BookAppointment", kClinic},
      {"smp.scheduling.v1.SchedulingService/ConfirmAppointment", kOther},
      {"smp.scheduling.v1.SchedulingService/RescheduleAppointment", kOther},
      {"smp.scheduling.v1.SchedulingService/CancelAppointment", kOther},
      {"smp.scheduling.v1.SchedulingService/CheckInAppointment", kOther},
      {"smp.scheduling.v1.SchedulingService/StartAppointment", kOther},
      {"smp.scheduling.v1.SchedulingService/CompleteAppointment", kOther},
      {"smp.scheduling.v1.SchedulingService/MarkNoShow", kOther},
      {"smp.scheduling.v1.SchedulingService/StopAppointment", kOther},
      {"smp.scheduling.v1.SchedulingService/GetAppointment", kOther},
      {"smp.scheduling.v1.SchedulingService/ListAppointments", kClinic},
      {"smp.scheduling.v1.SchedulingService/ListChanges", kClinic},
      {"smp.scheduling.v1.SchedulingService/WatchChanges", kClinic},
      {"smp.inventory.v1.InventoryService/GetClinicInventorySettings", kClinic},
      {"smp.inventory.v1.InventoryService/UpdateClinicInventorySettings", kClinic},
      {"smp.inventory.v1.InventoryService/CreateProduct", kOther},
      {"smp.inventory.v1.InventoryService/GetProduct", kOther},
      {"smp.inventory.v1.InventoryService/ListProducts", kOther},
      {"smp.inventory.v1.InventoryService/ReceiveStock", kClinic},
      {"smp.inventory.v1.InventoryService/IssueToProcedure", kClinic},
      {"smp.inventory.v1.InventoryService/ReturnProcedureIssue", kClinic},
      {"smp.inventory.v1.InventoryService/SuggestLots", kClinic},
      {"smp.inventory.v1.InventoryService/AdjustStock", kClinic},
      {"smp.inventory.v1.InventoryService/DiscardStock", kClinic},
      {"smp.inventory.v1.InventoryService/ListStock", kClinic},
      {"smp.inventory.v1.InventoryService/ListLedgerEntries", kClinic},
      {"smp.inventory.v1.InventoryService/GetLot", kOther},
      {"smp.inventory.v1.InventoryService/GetSerialUnit", kOther},
      {"smp.inventory.v1.InventoryService/ListReuseAttempts", kClinic},
      {"smp.inventory.v1.InventoryService/ShipTransfer", kOther},
      {"smp.inventory.v1.InventoryService/ReceiveTransfer", kOther},
      {"smp.inventory.v1.InventoryService/ListTransfers", kClinic},
      {"smp.inventory.v1.InventoryService/RecallLot", kOther},
      {"smp.inventory.v1.InventoryService/ListLotUses", kOther},
      {"smp.inventory.v1.InventoryService/HoldLot", kClinic},
      {"smp.inventory.v1.InventoryService/ReleaseLotHold", kClinic},
      {"smp.inventory.v1.InventoryService/OpenBottle", kClinic},
      {"smp.inventory.v1.InventoryService/ListOpenBottles", kClinic},
      {"smp.inventory.v1.InventoryService/CloseBottle", kOther},
      {"smp.inventory.v1.InventoryService/ReconcileDay", kClinic},
      {"smp.inventory.v1.InventoryService/SetReorderPoint", kClinic},
      {"smp.inventory.v1.InventoryService/ListLowStock", kClinic},
      {"smp.inventory.v1.InventoryService/WatchLowStock", kClinic},
      {"smp.inventory.v1.InventoryService/ForecastDemand", kClinic},
      {"smp.compliance.v1.ComplianceService/RecordCredential", kOther},
      {"smp.compliance.v1.ComplianceService/ListCredentials", kOther},
      {"smp.compliance.v1.ComplianceService/RecordPermit", kClinic},
      {"smp.compliance.v1.ComplianceService/ListPermits", kClinic},
      {"smp.compliance.v1.ComplianceService/RecordConsent", kClinic},
      {"smp.compliance.v1.ComplianceService/WithdrawConsent", kOther},
      {"smp.compliance.v1.ComplianceService/ListConsents", kOther},
      {"smp.compliance.v1.ComplianceService/RecordScreening", kClinic},
      {"smp.compliance.v1.ComplianceService/OverrideScreening", kOther},
      {"smp.compliance.v1.ComplianceService/ListScreenings", kOther},
      {"smp.compliance.v1.ComplianceService/RecordProcedure", kClinic},
      {"smp.compliance.v1.ComplianceService/ReportIncident", kClinic},
      {"smp.compliance.v1.ComplianceService/ListIncidents", kClinic},
      {"smp.compliance.v1.ComplianceService/RecordIncidentFollowUp", kOther},
      {"smp.compliance.v1.ComplianceService/RecordLotRecall", kOther},
      {"smp.compliance.v1.ComplianceService/ListExpiring", kClinic},
      {"smp.compliance.v1.ComplianceService/GenerateReport", kClinic},
      {"smp.compliance.v1.ComplianceService/ExportReport", kClinic},
      {"smp.compliance.v1.ComplianceService/ExportAuditEvents", kOther},
      {"smp.compliance.v1.ComplianceService/SetRetentionPolicy", kClinic},
      {"smp.compliance.v1.ComplianceService/GetRetentionPolicy", kClinic},
      {"smp.compliance.v1.ComplianceService/RunRetentionPurge", kOther},
      {"smp.compliance.v1.ComplianceService/ListAuditEntries", kOther},
      {"smp.compliance.v1.ComplianceService/VerifyAuditLog", kOther},
      {"smp.compliance.v1.ComplianceService/CreateCheckpoint", kOther},
      {"smp.compliance.v1.ComplianceService/VerifyCheckpoint", kOther},
      {"smp.compliance.v1.ComplianceService/ListCheckpoints", kOther},
      {"smp.compliance.v1.EligibilityService/CheckEligibility", kClinic},
      {"smp.inventory.v1.InventoryService/ListExpiring", kClinic},
      {"smp.billing.v1.BillingService/CreatePriceList", kClinic},
      {"smp.billing.v1.BillingService/GetEffectivePriceList", kClinic},
      {"smp.billing.v1.BillingService/ListPriceLists", kClinic},
      {"smp.billing.v1.BillingService/CreateQuote", kClinic},
      {"smp.billing.v1.BillingService/GetQuote", kOther},
      {"smp.billing.v1.BillingService/AcceptQuote", kOther},
      {"smp.billing.v1.BillingService/CreateInvoice", kClinic},
      {"smp.billing.v1.BillingService/UpdateDraftInvoice", kOther},
      {"smp.billing.v1.BillingService/IssueInvoice", kOther},
      {"smp.billing.v1.BillingService/VoidInvoice", kOther},
      {"smp.billing.v1.BillingService/GetInvoice", kOther},
      {"smp.billing.v1.BillingService/ListInvoices", kClinic},
      {"smp.billing.v1.BillingService/CreateCreditNote", kClinic},
      {"smp.billing.v1.BillingService/RecordPayment", kClinic},
      {"smp.billing.v1.BillingService/ApplyDeposit", kOther},
      {"smp.billing.v1.BillingService/UnapplyDeposit", kOther},
      {"smp.billing.v1.BillingService/ApplyPatientCredit", kOther},
      {"smp.billing.v1.BillingService/RefundPatientCredit", kClinic},
      {"smp.billing.v1.BillingService/RefundPayment", kClinic},
      {"smp.billing.v1.BillingService/GetPayment", kOther},
      {"smp.billing.v1.BillingService/ListPayments", kClinic},
      {"smp.billing.v1.BillingService/GetPatientBalance", kClinic},
      {"smp.billing.v1.BillingService/RecordChargeEvent", kClinic},
      {"smp.billing.v1.BillingService/GetRevenueReport", kClinic},
      {"smp.billing.v1.BillingService/GetReceivablesAging", kClinic},
  };
  return *table;
}

bool IsClinicField(const FieldDescriptor* f) {
  return f->type() == FieldDescriptor::TYPE_STRING &&
         (f->name() == "clinic_id" || f->name() == "clinic_ids");
}

// Does the request (or a message field of it, one level down) carry a clinic field?
bool NamesClinic(const Descriptor* d, int depth = 0) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (IsClinicField(f)) return true;
    if (depth == 0 && f->type() == FieldDescriptor::TYPE_MESSAGE &&
        f->message_type()->file()->package().rfind("smp.", 0) == 0 &&
        NamesClinic(f->message_type(), depth + 1)) {
      return true;
    }
  }
  return false;
}

// Sets every clinic field of `m` (and of its singular smp message fields) to `clinic`.
void AimAt(Message& m, const std::string& clinic, int depth = 0) {
  const Reflection* r = m.GetReflection();
  const Descriptor* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (IsClinicField(f)) {
      if (f->is_repeated()) {
        r->AddString(&m, f, clinic);
      } else {
        r->SetString(&m, f, clinic);
      }
    } else if (depth == 0 && f->type() == FieldDescriptor::TYPE_MESSAGE && !f->is_repeated() &&
               f->message_type()->file()->package().rfind("smp.", 0) == 0 &&
               NamesClinic(f->message_type(), 1)) {
      AimAt(*r->MutableMessage(&m, f), clinic, depth + 1);
    }
  }
}

// A message of each contract file names its file, which holds the service (this also links the
// generated descriptors in).
std::vector<const ServiceDescriptor*> SuiteServices() {
  return {
      identity::v1::LoginRequest::descriptor()->file()->FindServiceByName("IdentityService"),
      scheduling::v1::Patient::descriptor()->file()->FindServiceByName("SchedulingService"),
      inventory::v1::Lot::descriptor()->file()->FindServiceByName("InventoryService"),
      compliance::v1::Consent::descriptor()->file()->FindServiceByName("ComplianceService"),
      compliance::v1::CheckEligibilityRequest::descriptor()->file()->FindServiceByName(
          "EligibilityService"),
      billing::v1::GetInvoiceRequest::descriptor()->file()->FindServiceByName("BillingService")};
}

TEST(AuthorizationMatrixTableTest, EveryRpcOfTheContractHasAnEntryOfTheRightKind) {
  std::set<std::string> seen;
  for (const ServiceDescriptor* service : SuiteServices()) {
    // Every service of the contract's files, so a new service in them is caught too.
    const google::protobuf::FileDescriptor* file = service->file();
    for (int s = 0; s < file->service_count(); ++s) {
      const ServiceDescriptor* svc = file->service(s);
      for (int i = 0; i < svc->method_count(); ++i) {
        const MethodDescriptor* m = svc->method(i);
        const std::string name = absl::StrCat(svc->full_name(), "/", m->name());
        seen.insert(name);
        auto it = Table().find(name);
        if (it == Table().end()) {
          ADD_FAILURE() << name << " has no entry in the authorisation matrix: add it to kTable";
          continue;
        }
        EXPECT_EQ(it->second == kClinic, NamesClinic(m->input_type()))
            << name << ": the table's scope kind does not match the request's clinic fields";
      }
    }
  }
  for (const auto& [name, scope] : Table()) {
    EXPECT_TRUE(seen.count(name)) << name << " is in the table but not in the contract";
  }
}

struct Peer {
  std::unique_ptr<ServiceProcess> process;
  std::shared_ptr<grpc::Channel> channel;
};

struct Caller {
  std::string name;
  std::vector<common::v1::Role> roles;
  bool scoped = false;  // clinic-scoped (member of clinic A only)
  std::string token;
};

class AuthorizationMatrixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(harness_.Start());
    clinic_a_ = harness_.MakeClinic("Austin", "America/Chicago");
    clinic_b_ = harness_.MakeClinic("London", "Europe/London");
    const std::string dir = smp::testing::MakeTempDir("matrix");
    const std::string redis = harness_.RedisFlag();
    auto start = [&](const std::string& binary, std::vector<std::string> flags) {
      Peer peer;
      absl::StatusOr<std::unique_ptr<ServiceProcess>> p = ServiceProcess::Start(binary, flags);
      EXPECT_OK(p.status());
      if (p.ok()) {
        peer.process = *std::move(p);
        peer.channel =
            grpc::CreateChannel(peer.process->address(), grpc::InsecureChannelCredentials());
      }
      return peer;
    };
    peers_["smp.identity.v1"].channel =
        grpc::CreateChannel(harness_.identity().address(), grpc::InsecureChannelCredentials());
    peers_["smp.scheduling.v1"] =
        start(SMP_SCHEDULING_BINARY, {"--data_dir=" + dir + "/scheduling", redis});
    peers_["smp.inventory.v1"] =
        start(SMP_INVENTORY_BINARY, {"--data_dir=" + dir + "/inventory", redis});
    peers_["smp.compliance.v1"] =
        start(SMP_COMPLIANCE_BINARY, {"--data_dir=" + dir + "/compliance", redis,
                                      "--checkpoint_key_file=" + dir + "/checkpoint.key"});
    peers_["smp.billing.v1"] = start(SMP_BILLING_BINARY, {"--data_dir=" + dir + "/billing", redis});

    using common::v1::Role;
    const std::vector<std::pair<Role, bool>> roles = {
        {common::v1::ROLE_ADMIN, false},        {common::v1::ROLE_FRONT_DESK, true},
        {common::v1::ROLE_TECHNICIAN, true},    {common::v1::ROLE_INVENTORY_STAFF, true},
        {common::v1::ROLE_BILLING_CLERK, true}, {common::v1::ROLE_AUDITOR, false},
        {common::v1::ROLE_SERVICE, false}};
    for (const auto& [role, scoped] : roles) {
      Caller c;
      c.name = common::v1::Role_Name(role);
      c.roles = {role};
      c.scoped = scoped;
      const std::string username = absl::StrCat("matrix.", role);
      harness_.MakeStaff(username, role, scoped ? clinic_a_ : "");
      c.token = harness_.Login(username);
      callers_.push_back(std::move(c));
    }
  }

  // Calls `method` with `request` as `token` ("" for no session); the status only.
  grpc::Status Invoke(const MethodDescriptor* method, const Message& request,
                      const std::string& token) {
    const std::shared_ptr<grpc::Channel>& channel =
        peers_[method->service()->file()->package()].channel;
    if (channel == nullptr) return grpc::Status(grpc::StatusCode::INTERNAL, "no channel");
    grpc::GenericStub stub(channel);
    grpc::ClientContext context;
    // A stream the caller may open runs until its deadline; a refusal comes at once.
    context.set_deadline(std::chrono::system_clock::now() + (method->server_streaming()
                                                                 ? std::chrono::milliseconds(300)
                                                                 : std::chrono::seconds(10)));
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    std::string bytes;
    request.SerializeToString(&bytes);
    grpc::Slice slice(bytes);
    grpc::ByteBuffer in(&slice, 1);
    grpc::CompletionQueue cq;
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> call = stub.PrepareUnaryCall(
        &context, absl::StrCat("/", method->service()->full_name(), "/", method->name()), in, &cq);
    call->StartCall();
    grpc::ByteBuffer out;
    grpc::Status status;
    call->Finish(&out, &status, reinterpret_cast<void*>(1));
    void* tag = nullptr;
    bool ok = false;
    cq.Next(&tag, &ok);
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
    return status;
  }

  IdentityHarness harness_;
  std::string clinic_a_, clinic_b_;
  std::map<std::string, Peer> peers_;
  std::vector<Caller> callers_;
};

bool MissingPermission(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::PERMISSION_DENIED &&
         s.error_message().find("your roles do not grant it") != std::string::npos;
}

TEST_F(AuthorizationMatrixTest, EveryRpcByEveryRoleInAndOutOfItsClinic) {
  std::vector<std::string> unexpected_allows, wrong_denials, validated_before_scope;
  int calls = 0;
  for (const ServiceDescriptor* service : SuiteServices()) {
    for (int i = 0; i < service->method_count(); ++i) {
      const MethodDescriptor* method = service->method(i);
      const std::string name = absl::StrCat(service->full_name(), "/", method->name());
      const auto permission = static_cast<common::v1::Permission>(
          method->options().GetExtension(common::v1::required_permission));
      const Message* prototype =
          google::protobuf::MessageFactory::generated_factory()->GetPrototype(method->input_type());
      ASSERT_NE(prototype, nullptr) << name;
      auto it = Table().find(name);
      const Scope scope = it == Table().end() ? kOther : it->second;

      for (const std::string& clinic : {clinic_a_, clinic_b_}) {
        std::unique_ptr<Message> request(prototype->New());
        AimAt(*request, clinic);
        const bool other_clinic = clinic == clinic_b_;
        if (other_clinic && scope != kClinic) continue;  // the same request as for clinic A

        // No session.
        if (permission != common::v1::PERMISSION_PUBLIC && !other_clinic) {
          const grpc::Status s = Invoke(method, *request, "");
          ++calls;
          if (s.error_code() != grpc::StatusCode::UNAUTHENTICATED) {
            unexpected_allows.push_back(
                absl::StrCat(name, " without a session: ", s.error_code(), " ", s.error_message()));
          }
        }
        for (const Caller& caller : callers_) {
          bool granted = false;
          for (common::v1::Role role : caller.roles) granted |= RoleGrants(role, permission);
          // A session's own methods (logout, password, sessions) are open to every session; the
          // test does not end its own sessions.
          if (permission == common::v1::PERMISSION_AUTHENTICATED ||
              permission == common::v1::PERMISSION_PUBLIC) {
            continue;
          }
          if (granted && !other_clinic) {
            const grpc::Status s = Invoke(method, *request, caller.token);
            ++calls;
            if (MissingPermission(s)) {
              wrong_denials.push_back(
                  absl::StrCat(name, " as ", caller.name, ": ", s.error_message()));
            }
            continue;
          }
          if (granted && !(other_clinic && caller.scoped)) continue;
          const grpc::Status s = Invoke(method, *request, caller.token);
          ++calls;
          if (!granted) {
            if (s.error_code() != grpc::StatusCode::PERMISSION_DENIED) {
              unexpected_allows.push_back(absl::StrCat(name, " as ", caller.name, ": ",
                                                       s.error_code(), " ", s.error_message()));
            }
            continue;
          }
          // A scoped caller naming another clinic: PERMISSION_DENIED for the scope, nothing else.
          if (s.ok()) {
            unexpected_allows.push_back(
                absl::StrCat(name, " as ", caller.name, " of clinic A, naming clinic B: OK"));
          } else if (s.error_code() != grpc::StatusCode::PERMISSION_DENIED ||
                     s.error_message().find("outside your clinic scope") == std::string::npos) {
            validated_before_scope.push_back(absl::StrCat(name, " as ", caller.name, ": ",
                                                          s.error_code(), " ", s.error_message()));
          }
        }
      }
    }
  }
  std::cout << "authorisation matrix: " << calls << " calls; " << unexpected_allows.size()
            << " unexpected allows; " << wrong_denials.size() << " wrong denials; "
            << validated_before_scope.size()
            << " other-clinic requests answered before the scope was judged\n";
  EXPECT_TRUE(unexpected_allows.empty()) << absl::StrJoin(unexpected_allows, "\n");
  EXPECT_TRUE(wrong_denials.empty()) << absl::StrJoin(wrong_denials, "\n");
  // The scope answers first: any other answer (INVALID_ARGUMENT naming a field, NOT_FOUND,
  // FAILED_PRECONDITION) would tell a caller something about another clinic.
  EXPECT_TRUE(validated_before_scope.empty()) << absl::StrJoin(validated_before_scope, "\n");
}

// Scope per role: an account that is both auditor (chain-wide, read-only) and front desk of
// clinic A writes only at clinic A, and still reads chain-wide.
TEST_F(AuthorizationMatrixTest, AnAuditorWhoIsAlsoAFrontDeskWritesOnlyInTheDesksClinics) {
  identity::v1::CreateStaffRequest create;
  create.set_request_id("staff-mixed");
  create.mutable_staff()->set_username("mixed");
  create.mutable_staff()->set_display_name("mixed");
  create.mutable_staff()->add_roles(common::v1::ROLE_AUDITOR);
  create.mutable_staff()->add_roles(common::v1::ROLE_FRONT_DESK);
  create.mutable_staff()->add_clinic_ids(clinic_a_);
  create.set_initial_password(IdentityHarness::kPassword);
  identity::v1::Staff staff;
  ASSERT_TRUE(
      harness_.stub().CreateStaff(CallContext(harness_.admin_token()).get(), create, &staff).ok());
  const std::string token = harness_.Login("mixed");
  auto scheduling = scheduling::v1::SchedulingService::NewStub(peers_["smp.scheduling.v1"].channel);

  auto patient_at = [&](const std::string& clinic, const std::string& request_id) {
    scheduling::v1::CreatePatientRequest req;
    req.set_request_id(request_id);
    req.mutable_patient()->set_given_name("Sam");
    req.mutable_patient()->set_family_name("Rivera");
    req.mutable_patient()->set_phone("+15125550100");
    req.mutable_patient()->set_preferred_clinic_id(clinic);
    scheduling::v1::Patient out;
    return scheduling->CreatePatient(CallContext(token).get(), req, &out);
  };
  EXPECT_TRUE(patient_at(clinic_a_, "p-a").ok());
  const grpc::Status elsewhere = patient_at(clinic_b_, "p-b");
  EXPECT_EQ(elsewhere.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << elsewhere.error_message();
  EXPECT_NE(elsewhere.error_message().find("outside your clinic scope"), std::string::npos);

  // Reading clinic B is the auditor's, chain-wide.
  scheduling::v1::SearchPatientsRequest search;
  search.set_clinic_id(clinic_b_);
  search.set_query("Rivera");
  scheduling::v1::SearchPatientsResponse found;
  const grpc::Status read = scheduling->SearchPatients(CallContext(token).get(), search, &found);
  EXPECT_NE(read.error_code(), grpc::StatusCode::PERMISSION_DENIED) << read.error_message();
}

}  // namespace
}  // namespace smp
