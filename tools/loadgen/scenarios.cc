// The built-in scenarios. Each prepare function does its setup with ordinary typed stubs, checks
// the hot call once, and returns it pre-serialised for the generic hot loop.

#include "tools/loadgen/scenarios.h"

#include <grpcpp/client_context.h>

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/grpc_status.h"
#include "smp/bench/v1/echo.grpc.pb.h"
#include "smp/identity/v1/identity.grpc.pb.h"

namespace smp::loadgen {
namespace {

using Metadata = std::vector<std::pair<std::string, std::string>>;

// A client context for one setup call.
void Prepare(grpc::ClientContext& context, const ScenarioOptions& options,
             const Metadata& metadata = {}) {
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

// ---- echo: the null baseline ----

absl::StatusOr<CallSpec> PrepareEcho(const ScenarioOptions& options,
                                     const std::shared_ptr<grpc::Channel>& channel) {
  if (options.payload_bytes < 0) return absl::InvalidArgumentError("payload_bytes is negative");
  bench::v1::EchoRequest request;
  request.set_payload(std::string(static_cast<size_t>(options.payload_bytes), 'x'));
  auto stub = bench::v1::EchoService::NewStub(channel);
  grpc::ClientContext context;
  Prepare(context, options);
  bench::v1::EchoResponse response;
  grpc::Status status = stub->Echo(&context, request, &response);
  if (!status.ok()) return SetupError("Echo (check call)", status);
  if (response.payload() != request.payload()) {
    return absl::InternalError("Echo (check call) returned a different payload");
  }
  return CallSpec{MethodPath(bench::v1::EchoService::service_full_name(), "Echo"),
                  request.SerializeAsString(),
                  {}};
}

// ---- identity.get_clinic: an authenticated read (session check + one SQLite read) ----

// Logs in as options.username, creating that first admin first when a setup code is given, and
// returns the bearer metadata.
absl::StatusOr<Metadata> LogInAsAdmin(const ScenarioOptions& options,
                                      identity::v1::IdentityService::Stub& stub) {
  if (!options.setup_code.empty()) {
    identity::v1::BootstrapAdminRequest request;
    request.set_setup_code(options.setup_code);
    request.set_username(options.username);
    request.set_display_name("Benchmark Admin");
    request.set_password(options.password);
    grpc::ClientContext context;
    Prepare(context, options);
    identity::v1::Staff staff;
    grpc::Status status = stub.BootstrapAdmin(&context, request, &staff);
    // FAILED_PRECONDITION: an account exists already (an earlier run made it); log in below.
    if (!status.ok() && status.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
      return SetupError("BootstrapAdmin", status);
    }
  }
  identity::v1::LoginRequest request;
  request.set_username(options.username);
  request.set_password(options.password);
  grpc::ClientContext context;
  Prepare(context, options);
  identity::v1::LoginResponse response;
  grpc::Status status = stub.Login(&context, request, &response);
  if (!status.ok()) return SetupError("Login", status);
  return Metadata{{"authorization", absl::StrCat("Bearer ", response.access_token())}};
}

absl::StatusOr<CallSpec> PrepareIdentityGetClinic(const ScenarioOptions& options,
                                                  const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = identity::v1::IdentityService::NewStub(channel);
  absl::StatusOr<Metadata> auth = LogInAsAdmin(options, *stub);
  if (!auth.ok()) return auth.status();

  // A fixed request_id: a second run against the same identity gets the same clinic back.
  identity::v1::CreateClinicRequest create;
  create.set_request_id("loadgen-identity-get-clinic-1");
  create.mutable_clinic()->set_name("Benchmark Clinic");
  create.mutable_clinic()->set_time_zone("Europe/London");
  identity::v1::Clinic clinic;
  {
    grpc::ClientContext context;
    Prepare(context, options, *auth);
    grpc::Status status = stub->CreateClinic(&context, create, &clinic);
    if (!status.ok()) return SetupError("CreateClinic", status);
  }

  identity::v1::GetClinicRequest get;
  get.set_id(clinic.id());
  {
    grpc::ClientContext context;
    Prepare(context, options, *auth);
    identity::v1::Clinic got;
    grpc::Status status = stub->GetClinic(&context, get, &got);
    if (!status.ok()) return SetupError("GetClinic (check call)", status);
  }
  return CallSpec{MethodPath(identity::v1::IdentityService::service_full_name(), "GetClinic"),
                  get.SerializeAsString(), *std::move(auth)};
}

}  // namespace

const std::vector<Scenario>& Scenarios() {
  static const auto* scenarios = new std::vector<Scenario>{
      {"echo", "EchoService/Echo with --payload_bytes (64) of payload: the null baseline",
       &PrepareEcho},
      {"identity.get_clinic",
       "IdentityService/GetClinic with a bearer token (setup: BootstrapAdmin with --setup_code "
       "if given, Login, CreateClinic)",
       &PrepareIdentityGetClinic},
  };
  return *scenarios;
}

absl::StatusOr<CallSpec> PrepareScenario(absl::string_view name, const ScenarioOptions& options,
                                         const std::shared_ptr<grpc::Channel>& channel) {
  std::vector<std::string> names;
  for (const Scenario& scenario : Scenarios()) {
    if (scenario.name == name) return scenario.prepare(options, channel);
    names.push_back(scenario.name);
  }
  return absl::NotFoundError(
      absl::StrCat("unknown scenario \"", name, "\"; known: ", absl::StrJoin(names, ", ")));
}

}  // namespace smp::loadgen
