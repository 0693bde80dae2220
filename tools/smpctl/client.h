#ifndef SMP_TOOLS_SMPCTL_CLIENT_H_
#define SMP_TOOLS_SMPCTL_CLIENT_H_

// The connection side of smpctl: one channel per service (made on first use), the bearer token
// from the token file, a deadline on every call, fresh request ids, and clinics' time zones.

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "smp/billing/v1/billing.grpc.pb.h"
#include "smp/compliance/v1/compliance.grpc.pb.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "smp/inventory/v1/inventory.grpc.pb.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"
#include "tools/smpctl/config.h"
#include "tools/smpctl/errors.h"

namespace smp::smpctl {

inline constexpr absl::Duration kDefaultTimeout = absl::Seconds(10);
inline constexpr absl::Duration kDefaultExportTimeout = absl::Minutes(10);

class Client {
 public:
  explicit Client(Config config) : config_(std::move(config)) {}

  const Config& config() const { return config_; }
  bool json() const { return config_.json; }

  // The deadline of each call: --timeout, else `fallback`.
  absl::Duration Timeout(absl::Duration fallback = kDefaultTimeout) const {
    return config_.timeout.value_or(fallback);
  }

  identity::v1::IdentityService::Stub& identity();
  scheduling::v1::SchedulingService::Stub& scheduling();
  inventory::v1::InventoryService::Stub& inventory();
  compliance::v1::ComplianceService::Stub& compliance();
  billing::v1::BillingService::Stub& billing();

  // A channel to any `address` with the configured TLS (for `smpctl health --address`).
  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address) const;

  // A context with the deadline and, when `authenticated`, "authorization: Bearer <token>" (the
  // token file is read on first use: UNAUTHENTICATED when there is none or it is unsafe).
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> NewContext(
      bool authenticated = true, absl::Duration timeout = kDefaultTimeout);

  // One unary call; a failure comes back through RpcError (code kept, message explained).
  template <typename Stub, typename Req, typename Resp>
  absl::StatusOr<Resp> Call(Service service, Stub& stub,
                            grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                            absl::string_view name, const Req& request, bool authenticated = true) {
    absl::StatusOr<std::unique_ptr<grpc::ClientContext>> ctx = NewContext(authenticated, Timeout());
    if (!ctx.ok()) return ctx.status();
    Resp response;
    grpc::Status status = (stub.*method)(ctx->get(), request, &response);
    if (!status.ok()) return Error(name, service, status);
    return response;
  }

  // A failed call's status as RpcError words it.
  absl::Status Error(absl::string_view rpc, Service service, const grpc::Status& status) const;

  // --request_id when given (an idempotent retry), else a fresh random one.
  std::string NewRequestId() const;

  // The clinic's IANA time zone from identity's record (cached for the run).
  absl::StatusOr<absl::TimeZone> ClinicZone(const std::string& clinic_id);
  // For printing: the clinic's zone when it can be read, else UTC. In --json mode, always UTC
  // (JSON carries RFC 3339 instants) and no call is made.
  absl::TimeZone DisplayZone(const std::string& clinic_id);

  // The channel to `service`, made on first use. An address that lists several replicas
  // ("ipv4:10.0.0.2:7001,10.0.0.3:7001") gets round_robin over those that answer.
  std::shared_ptr<grpc::Channel> Channel(Service service);

 private:
  Config config_;
  std::map<Service, std::shared_ptr<grpc::Channel>> channels_;
  std::unique_ptr<identity::v1::IdentityService::Stub> identity_;
  std::unique_ptr<scheduling::v1::SchedulingService::Stub> scheduling_;
  std::unique_ptr<inventory::v1::InventoryService::Stub> inventory_;
  std::unique_ptr<compliance::v1::ComplianceService::Stub> compliance_;
  std::unique_ptr<billing::v1::BillingService::Stub> billing_;
  std::string token_;
  std::map<std::string, absl::TimeZone> zones_;
};

}  // namespace smp::smpctl

#endif  // SMP_TOOLS_SMPCTL_CLIENT_H_
