#include "tools/smpctl/client.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/util/grpc_target.h"
#include "common/util/ids.h"
#include "tools/smpctl/token_file.h"

namespace smp::smpctl {

std::shared_ptr<grpc::Channel> Client::ChannelTo(const std::string& address) const {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!config_.tls_ca_pem.empty()) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = config_.tls_ca_pem;
    tls.pem_cert_chain = config_.tls_cert_pem;
    tls.pem_private_key = config_.tls_key_pem;
    credentials = grpc::SslCredentials(tls);
  }
  // A list of replicas ("ipv4:10.0.0.2:7001,10.0.0.3:7001") spreads the calls over those that
  // answer; gRPC's default would send them all to the first that connects.
  grpc::ChannelArguments args;
  if (IsReplicaList(address)) args.SetLoadBalancingPolicyName("round_robin");
  return grpc::CreateCustomChannel(address, credentials, args);
}

std::shared_ptr<grpc::Channel> Client::Channel(Service service) {
  std::shared_ptr<grpc::Channel>& channel = channels_[service];
  if (!channel) channel = ChannelTo(config_.address(service));
  return channel;
}

identity::v1::IdentityService::Stub& Client::identity() {
  if (!identity_) identity_ = identity::v1::IdentityService::NewStub(Channel(Service::kIdentity));
  return *identity_;
}

scheduling::v1::SchedulingService::Stub& Client::scheduling() {
  if (!scheduling_) {
    scheduling_ = scheduling::v1::SchedulingService::NewStub(Channel(Service::kScheduling));
  }
  return *scheduling_;
}

inventory::v1::InventoryService::Stub& Client::inventory() {
  if (!inventory_) {
    inventory_ = inventory::v1::InventoryService::NewStub(Channel(Service::kInventory));
  }
  return *inventory_;
}

compliance::v1::ComplianceService::Stub& Client::compliance() {
  if (!compliance_) {
    compliance_ = compliance::v1::ComplianceService::NewStub(Channel(Service::kCompliance));
  }
  return *compliance_;
}

billing::v1::BillingService::Stub& Client::billing() {
  if (!billing_) billing_ = billing::v1::BillingService::NewStub(Channel(Service::kBilling));
  return *billing_;
}

absl::StatusOr<std::unique_ptr<grpc::ClientContext>> Client::NewContext(bool authenticated,
                                                                        absl::Duration timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::microseconds(absl::ToInt64Microseconds(timeout)));
  if (authenticated) {
    if (token_.empty()) {
      absl::StatusOr<std::string> token = ReadTokenFile(config_.token_file);
      if (!token.ok()) return token.status();
      token_ = *token;
    }
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  }
  return ctx;
}

absl::Status Client::Error(absl::string_view rpc, Service service,
                           const grpc::Status& status) const {
  return RpcError(rpc, ServiceName(service), config_.address(service), status);
}

std::string Client::NewRequestId() const {
  if (!config_.request_id.empty()) return config_.request_id;
  return absl::StrCat("smpctl-", NewId());
}

absl::StatusOr<absl::TimeZone> Client::ClinicZone(const std::string& clinic_id) {
  if (auto it = zones_.find(clinic_id); it != zones_.end()) return it->second;
  identity::v1::GetClinicRequest req;
  req.set_id(clinic_id);
  absl::StatusOr<identity::v1::Clinic> clinic =
      Call(Service::kIdentity, identity(), &identity::v1::IdentityService::Stub::GetClinic,
           "GetClinic", req);
  if (!clinic.ok()) return clinic.status();
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(clinic->time_zone(), &zone)) {
    return LocalError(absl::StrCat("clinic ", clinic_id, " has time zone \"", clinic->time_zone(),
                                   "\", which this machine's tz database does not know"));
  }
  zones_[clinic_id] = zone;
  return zone;
}

absl::TimeZone Client::DisplayZone(const std::string& clinic_id) {
  if (config_.json || clinic_id.empty()) return absl::UTCTimeZone();
  absl::StatusOr<absl::TimeZone> zone = ClinicZone(clinic_id);
  if (!zone.ok()) {
    zones_[clinic_id] = absl::UTCTimeZone();  // ask once
    return absl::UTCTimeZone();
  }
  return *zone;
}

}  // namespace smp::smpctl
