#ifndef SMP_SERVICES_SCHEDULING_SUPPLY_ISSUER_H_
#define SMP_SERVICES_SCHEDULING_SUPPLY_ISSUER_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/outbox/outbox.h"
#include "common/peer/service_credentials.h"
#include "smp/inventory/v1/inventory.grpc.pb.h"

namespace smp::scheduling {

struct SupplyRequest {
  std::string clinic_id;
  std::string appointment_id;
  std::string patient_id;
  // The start attempt (scheduling_store BeginStartAttempt) inventory keys the issue on.
  std::string start_attempt_id;
  std::vector<inventory::v1::IssueLine> lines;
};

// The outbox destination and event kind that return a failed start's supplies to inventory. The
// payload is inventory's ReturnProcedureIssueRequest; its outbox id becomes the request_id.
inline constexpr char kInventoryDestination[] = "inventory";
inline constexpr char kReturnProcedureIssueKind[] = "inventory.ReturnProcedureIssue";

// How a starting procedure gets its needle units and pigment from the clinic's stock. The issue
// is made as the technician who starts the procedure (their bearer token is passed on), so
// inventory's ledger names them and their clinic scope applies.
class SupplyIssuer {
 public:
  virtual ~SupplyIssuer() = default;
  // What inventory issued, one item per line (per serial). Inventory's refusals come back as they
  // are (FAILED_PRECONDITION for a reused, expired or recalled unit, NOT_FOUND for an unknown one);
  // UNAVAILABLE when inventory cannot be reached in time.
  virtual absl::StatusOr<std::vector<inventory::v1::IssuedItem>> Issue(
      const SupplyRequest& request, const std::string& caller_authorization) = 0;
};

// Over gRPC: smp.inventory.v1.InventoryService/IssueToProcedure with a deadline. The issue carries
// the start attempt id, which inventory keys it on whoever the caller is, so a start retried after
// a crash, with a fresh request id or by another technician replays the first issue instead of
// drawing a second set of needles.
class GrpcSupplyIssuer final : public SupplyIssuer {
 public:
  GrpcSupplyIssuer(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline);
  absl::StatusOr<std::vector<inventory::v1::IssuedItem>> Issue(
      const SupplyRequest& request, const std::string& caller_authorization) override;

 private:
  std::unique_ptr<inventory::v1::InventoryService::Stub> stub_;
  absl::Duration deadline_;
};

// Delivers kReturnProcedureIssueKind events to inventory's ReturnProcedureIssue as scheduling's
// service account (a service-only RPC); inventory deduplicates on the event id.
class SupplyReturnDeliverer final : public EventDeliverer {
 public:
  // `credentials` must outlive the deliverer.
  SupplyReturnDeliverer(std::shared_ptr<grpc::Channel> channel, ServiceCredentials* credentials,
                        absl::Duration deadline);
  absl::Status Deliver(const OutboxEvent& event) override;

 private:
  std::unique_ptr<inventory::v1::InventoryService::Stub> stub_;
  ServiceCredentials* credentials_;
  absl::Duration deadline_;
};

// When no --inventory_address is configured: procedures cannot start (UNAVAILABLE).
class UnconfiguredSupplyIssuer final : public SupplyIssuer {
 public:
  absl::StatusOr<std::vector<inventory::v1::IssuedItem>> Issue(const SupplyRequest&,
                                                               const std::string&) override;
};

}  // namespace smp::scheduling

#endif  // SMP_SERVICES_SCHEDULING_SUPPLY_ISSUER_H_
