#include "tools/loadgen/scenario_support.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status/grpc_status.h"
#include "tools/loadgen/client_credentials.h"

namespace smp::loadgen {

void PrepareContext(grpc::ClientContext& context, const ScenarioOptions& options,
                    const Metadata& metadata) {
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoNanoseconds(options.timeout));
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
}

absl::Status SetupError(absl::string_view what, const grpc::Status& status) {
  const absl::Status s = FromGrpcStatus(status);
  return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
}

std::string MethodPath(const char* service, absl::string_view method) {
  return absl::StrCat("/", service, "/", method);
}

CallSpec MakeCall(std::string method, std::string request, Metadata metadata) {
  CallSpec call;
  call.method = std::move(method);
  call.request = std::move(request);
  call.metadata = std::move(metadata);
  return call;
}

absl::StatusOr<Metadata> LogInAsAdmin(const ScenarioOptions& options,
                                      identity::v1::IdentityService::Stub& stub) {
  if (!options.setup_code.empty()) {
    identity::v1::BootstrapAdminRequest request;
    request.set_setup_code(options.setup_code);
    request.set_username(options.username);
    request.set_display_name("Benchmark Admin");
    request.set_password(options.password);
    grpc::ClientContext context;
    PrepareContext(context, options);
    identity::v1::Staff staff;
    grpc::Status status = stub.BootstrapAdmin(&context, request, &staff);
    // FAILED_PRECONDITION: an account exists already (an earlier run made it); log in below.
    if (!status.ok() && status.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
      return SetupError("BootstrapAdmin", status);
    }
  }
  return LogIn(options, stub, options.username);
}

absl::StatusOr<Metadata> LogIn(const ScenarioOptions& options,
                               identity::v1::IdentityService::Stub& stub,
                               const std::string& username) {
  identity::v1::LoginRequest request;
  request.set_username(username);
  request.set_password(options.password);
  grpc::ClientContext context;
  PrepareContext(context, options);
  identity::v1::LoginResponse response;
  grpc::Status status = stub.Login(&context, request, &response);
  if (!status.ok()) return SetupError("Login", status);
  return Metadata{{"authorization", absl::StrCat("Bearer ", response.access_token())}};
}

absl::StatusOr<Metadata> LogInAsNewServiceAccount(const ScenarioOptions& options,
                                                  identity::v1::IdentityService::Stub& stub,
                                                  const Metadata& admin, const std::string& run) {
  identity::v1::CreateStaffRequest request;
  request.set_request_id(absl::StrCat("service-account-", run));
  request.mutable_staff()->set_username(absl::StrCat("svc.bench", run));
  request.mutable_staff()->set_display_name("Benchmark service account");
  request.mutable_staff()->add_roles(common::v1::ROLE_SERVICE);
  request.set_initial_password(options.password);
  grpc::ClientContext context;
  PrepareContext(context, options, admin);
  identity::v1::Staff staff;
  grpc::Status status = stub.CreateStaff(&context, request, &staff);
  if (!status.ok()) return SetupError("CreateStaff (service account)", status);
  return LogIn(options, stub, staff.username());
}

absl::StatusOr<std::unique_ptr<identity::v1::IdentityService::Stub>> IdentityStub(
    const ScenarioOptions& options, absl::string_view who) {
  if (options.identity_target.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(who, " needs --identity_target"));
  }
  return identity::v1::IdentityService::NewStub(
      grpc::CreateChannel(options.identity_target, ClientCredentials()));
}

absl::StatusOr<std::string> CreateClinic(const ScenarioOptions& options,
                                         identity::v1::IdentityService::Stub& stub,
                                         const Metadata& auth, const std::string& request_id,
                                         const std::string& name, const std::string& time_zone) {
  identity::v1::CreateClinicRequest req;
  req.set_request_id(request_id);
  req.mutable_clinic()->set_name(name);
  req.mutable_clinic()->set_time_zone(time_zone);
  identity::v1::Clinic out;
  grpc::ClientContext context;
  PrepareContext(context, options, auth);
  grpc::Status status = stub.CreateClinic(&context, req, &out);
  if (!status.ok()) return SetupError("CreateClinic", status);
  return out.id();
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

std::string RunTag(absl::string_view tag) {
  return absl::StrCat(tag, "-", absl::ToUnixMicros(absl::Now()));
}

absl::StatusOr<double> Seed(const ScenarioOptions& options, absl::string_view what,
                            const std::string& method, std::vector<std::string> requests,
                            const Metadata& auth) {
  if (requests.empty()) return 0.0;
  if (options.target.empty()) return absl::InvalidArgumentError("seeding needs the target");
  CallSpec call = MakeCall(method, "", auth);
  call.requests = std::move(requests);
  const int64_t n = static_cast<int64_t>(call.requests.size());
  LoadOptions load;
  load.target = options.target;
  load.concurrency = static_cast<int>(std::clamp<int64_t>(options.seed_concurrency, 1, n));
  load.channels = std::min(load.concurrency, 8);
  load.warmup = absl::ZeroDuration();
  load.duration = absl::Hours(1);  // ends when every request has been sent
  load.max_requests = n;
  load.timeout = options.timeout;
  const absl::Time start = absl::Now();
  absl::StatusOr<LoadResult> result = RunLoad(load, call);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (!result.ok()) {
    return absl::Status(result.status().code(),
                        absl::StrCat("seeding ", what, ": ", result.status().message()));
  }
  if (result->error_count() > 0 || result->ok != n) {
    std::string detail;
    for (const auto& [code, count] : result->errors) {
      absl::StrAppend(&detail, " ", code, "=", count, " (", result->error_samples[code], ")");
    }
    return absl::InternalError(
        absl::StrCat("seeding ", what, ": ", result->ok, " of ", n, " calls succeeded;", detail));
  }
  std::fprintf(stderr, "smp_loadgen: seeded %lld %s in %.1f s (%.0f/s, %d in flight)\n",
               static_cast<long long>(n), std::string(what).c_str(), seconds,
               static_cast<double>(n) / seconds, load.concurrency);
  return seconds;
}

}  // namespace smp::loadgen
