// smp_echo_server: the null baseline of the benchmarks. It serves smp.bench.v1.EchoService, whose
// one RPC returns its payload and does nothing else, through the same RunningServer bootstrap as
// every service (health, reflection, the RpcObserver interceptor with its metrics and access log,
// the same thread cap). A service measured against it in the same run therefore differs only by
// its own work: authentication, storage, domain rules.
//
// Flags are the server's (README.md, "Configuration"), each also settable as SMP_<NAME>.

#include <grpcpp/server_context.h>

#include <memory>
#include <string>

#include "common/server/flags_env.h"
#include "common/server/log.h"
#include "common/server/server.h"
#include "smp/bench/v1/echo.grpc.pb.h"

namespace smp::bench {
namespace {

class EchoServiceImpl final : public v1::EchoService::Service {
 public:
  grpc::Status Echo(grpc::ServerContext* /*context*/, const v1::EchoRequest* request,
                    v1::EchoResponse* response) override {
    response->set_payload(request->payload());
    return grpc::Status::OK;
  }
};

int Main(int argc, char** argv) {
  BlockTerminationSignals();
  ParseFlagsWithEnvironment(argc, argv);
  const ServerConfig config = ServerConfigFromFlags("echo");

  EchoServiceImpl service;
  absl::StatusOr<std::unique_ptr<RunningServer>> server = RunningServer::Start(config, {&service});
  if (!server.ok()) {
    LogError("cannot start server", {{"error", server.status().ToString()}});
    return 1;
  }
  LogInfo("echo serving", {{"port", std::to_string((*server)->port())}});

  WaitForTerminationSignal();
  (*server)->Shutdown();
  return 0;
}

}  // namespace
}  // namespace smp::bench

int main(int argc, char** argv) { return smp::bench::Main(argc, argv); }
