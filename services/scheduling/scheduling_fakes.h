#ifndef SMP_SERVICES_SCHEDULING_SCHEDULING_FAKES_H_
#define SMP_SERVICES_SCHEDULING_SCHEDULING_FAKES_H_

// Test-only: scheduling's peers (compliance's gate, inventory's issue) as in-process fakes, and an
// outbox deliverer that records what it is given.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/outbox/outbox.h"
#include "services/scheduling/compliance_gate.h"
#include "services/scheduling/supply_issuer.h"

namespace smp::scheduling::testing {

// Answers every eligibility question with `verdict`; remembers the questions.
class FakeComplianceGate final : public ComplianceGate {
 public:
  absl::Status CheckAllowed(const EligibilityQuery& query) override {
    queries.push_back(query);
    return verdict;
  }
  absl::Status verdict = absl::OkStatus();
  std::vector<EligibilityQuery> queries;
};

// Issues one item per line (the serial echoed), or answers `refusal` when it is set.
class FakeSupplyIssuer final : public SupplyIssuer {
 public:
  absl::StatusOr<std::vector<inventory::v1::IssuedItem>> Issue(
      const SupplyRequest& request, const std::string& caller_authorization) override {
    requests.push_back(request);
    authorizations.push_back(caller_authorization);
    if (!refusal.ok()) return refusal;
    std::vector<inventory::v1::IssuedItem> items;
    for (const inventory::v1::IssueLine& line : request.lines) {
      inventory::v1::IssuedItem item;
      item.set_serial(line.serial());
      item.set_quantity(1);
      items.push_back(item);
    }
    return items;
  }
  absl::Status refusal = absl::OkStatus();
  std::vector<SupplyRequest> requests;
  std::vector<std::string> authorizations;
};

// Accepts every event and keeps it.
class RecordingDeliverer final : public EventDeliverer {
 public:
  absl::Status Deliver(const OutboxEvent& event) override {
    events.push_back(event);
    return absl::OkStatus();
  }
  std::vector<OutboxEvent> events;
};

}  // namespace smp::scheduling::testing

#endif  // SMP_SERVICES_SCHEDULING_SCHEDULING_FAKES_H_
