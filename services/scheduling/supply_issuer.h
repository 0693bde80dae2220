#ifndef SMP_SERVICES_SCHEDULING_SUPPLY_ISSUER_H_
#define SMP_SERVICES_SCHEDULING_SUPPLY_ISSUER_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "smp/inventory/v1/inventory.grpc.pb.h"

namespace smp::scheduling {

struct SupplyRequest {
  std::string clinic_id;
  std::string appointment_id;
  std::string patient_id;
  std::vector<inventory::v1::IssueLine> lines;
};

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

// Over gRPC: smp.inventory.v1.InventoryService/IssueToProcedure with a deadline. The request id is
// derived from the appointment, so a start retried after a crash (or with a fresh request id)
// replays the first issue instead of drawing a second set of needles.
class GrpcSupplyIssuer final : public SupplyIssuer {
 public:
  GrpcSupplyIssuer(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline);
  absl::StatusOr<std::vector<inventory::v1::IssuedItem>> Issue(
      const SupplyRequest& request, const std::string& caller_authorization) override;

 private:
  std::unique_ptr<inventory::v1::InventoryService::Stub> stub_;
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
