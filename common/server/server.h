#ifndef SMP_COMMON_SERVER_SERVER_H_
#define SMP_COMMON_SERVER_SERVER_H_

#include <grpcpp/server.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/server/log.h"
#include "common/server/metrics_http.h"

namespace smp {

// How a service's gRPC server is built. ServerConfigFromFlags fills it from the command line and
// environment; tests fill it by hand.
struct ServerConfig {
  std::string service_name;            // "identity": the `service` of log lines
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
  // Both set -> TLS. A file that is missing, unreadable or not PEM is a start-up error.
  std::string tls_cert_file, tls_key_file;
  // Set (with cert and key) -> mTLS: every client must present a certificate that chains to it
  // (peers: --peer_tls_cert_file, common/peer/peer_channel.h; smpctl: --tls_cert). A call without a
  // bearer token whose certificate names svc.<service> is that service
  // (common/auth/service_certificate.h).
  std::string tls_client_ca_file;
  std::string metrics_listen;  // "" = no metrics endpoint; e.g. "127.0.0.1:9464"
  // "" = none. host:port of a second, plaintext gRPC port that serves grpc.health.v1.Health and
  // nothing else, with the same status as the main port: for probes that cannot present a client
  // certificate (Kubernetes' native `grpc:` probe) when the main port requires mTLS. It answers
  // only "is this process serving", so it needs no authentication.
  std::string health_listen;
  // If set, written atomically (temporary file + rename) once serving, as
  // "grpc_port=N\nmetrics_port=M\npid=P\n" (M is 0 without metrics), then "health_port=H\n" when
  // health_listen is set, and removed by Shutdown.
  std::string ready_file;
  int max_message_bytes = 4 << 20;  // largest request or response, both directions
  // Sync server thread cap (grpc::ResourceQuota::SetMaxThreads), >= 4. It bounds concurrently
  // running handlers (a few threads go to polling). gRPC does not queue beyond it: a call that
  // finds no thread fails at once with RESOURCE_EXHAUSTED "Server Threadpool Exhausted" (logged as
  // a warning, counted in the metrics). Size it above the expected concurrency; threads are made
  // only when needed (tools/bench: at 64 concurrent calls, 64 sheds a few calls, 128 none).
  int max_threads = 128;
  // Server pings an idle connection every keepalive_time and drops it when no answer arrives in
  // keepalive_timeout. Clients may ping as often as every 10 s without being disconnected.
  absl::Duration keepalive_time = absl::Seconds(30), keepalive_timeout = absl::Seconds(10);
  // How long Shutdown lets in-flight RPCs run before cancelling them.
  absl::Duration shutdown_grace = absl::Seconds(10);
  LogLevel log_level = LogLevel::kInfo;  // applied process-wide by RunningServer::Start
};

// A config from the flags below (call after ParseFlagsWithEnvironment). Flags, each also settable
// as SMP_<NAME>: --listen --tls_cert --tls_key --tls_client_ca --metrics_listen --health_listen
// --ready_file
// --max_message_bytes --max_threads --keepalive_time --keepalive_timeout --shutdown_grace
// --log_level. Values are checked by RunningServer::Start, not here.
ServerConfig ServerConfigFromFlags(absl::string_view service_name);

// Blocks SIGTERM and SIGINT in the calling thread and so in every thread it starts later, so that
// WaitForTerminationSignal (sigwait) receives them instead of default handlers killing the
// process mid-write. Call first thing in main, before any thread (gRPC's included) starts.
void BlockTerminationSignals();

// Blocks until SIGTERM or SIGINT arrives (requires BlockTerminationSignals earlier) and returns
// the signal number.
int WaitForTerminationSignal();

// Logs a start-up failure (`what` and the status) and returns the process exit code for it, so that
// main() can `return FailStartup("cannot open database", status);`.
int FailStartup(absl::string_view what, const absl::Status& status);

// A started gRPC server (sync API) with everything every service needs:
//  - grpc.health.v1.Health (gRPC's default health service): the overall status "" is SERVING
//    once started, NOT_SERVING from Shutdown on (per-service names are not registered: a Check
//    naming one is NOT_FOUND);
//  - server reflection (grpcurl and similar tools work without the protos);
//  - keepalive, max message size, a thread cap (ResourceQuota::SetMaxThreads), no SO_REUSEPORT
//    (so a port already in use is an error rather than two servers sharing it);
//  - the RpcObserver interceptor (request ids, metrics, access log; see rpc_observer.h);
//  - the metrics HTTP endpoint when configured; TLS or mTLS when configured.
// The services must outlive the RunningServer. Methods are thread-safe.
//
// Typical main:
//   BlockTerminationSignals();
//   ParseFlagsWithEnvironment(argc, argv);
//   auto server = RunningServer::Start(ServerConfigFromFlags("identity"), {&service});
//   if (!server.ok()) { LogError(...); return 1; }
//   WaitForTerminationSignal();
//   (*server)->Shutdown();   // then close stores
class RunningServer {
 public:
  // Validates `config` and starts serving. Returns INVALID_ARGUMENT for a bad config (unparsable
  // listen address, cert without key, client CA without cert, bad limits), NOT_FOUND for a TLS
  // file that cannot be read (the message names it), UNAVAILABLE when a port cannot be bound
  // (e.g. in use), and the ready file's write error; nothing is left running on error.
  static absl::StatusOr<std::unique_ptr<RunningServer>> Start(
      const ServerConfig& config, const std::vector<grpc::Service*>& services);

  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  // Shutdown().
  ~RunningServer();

  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }  // 0 when there is no metrics endpoint
  int health_port() const { return health_port_; }    // 0 when there is no health-only port

  // Graceful drain: health -> NOT_SERVING, ready file removed, grpc::Server::Shutdown(now +
  // shutdown_grace) (in-flight RPCs finish, new ones are refused; RPCs still running at the
  // deadline are cancelled), wait for the server, stop the metrics endpoint. Idempotent; a
  // concurrent second call returns once the first has finished. gRPC joins the handler threads,
  // so a handler that blocks without watching ctx->IsCancelled() or its own timeouts holds
  // Shutdown until it returns. There is no pause between NOT_SERVING and Shutdown for load
  // balancers to notice; new calls are refused (UNAVAILABLE) from the start of the drain.
  void Shutdown();

  // The underlying server (e.g. for in-process channels in tests).
  grpc::Server* grpc_server() { return server_.get(); }

 private:
  RunningServer(ServerConfig config, std::unique_ptr<grpc::Server> server, int port,
                std::unique_ptr<grpc::Server> health_server, int health_port,
                std::unique_ptr<MetricsHttpServer> metrics);

  const ServerConfig config_;
  const int port_;
  const int metrics_port_;
  std::unique_ptr<grpc::Server> server_;
  const int health_port_;
  std::unique_ptr<grpc::Server> health_server_;  // null without health_listen
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<MetricsHttpServer> metrics_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smp

#endif  // SMP_COMMON_SERVER_SERVER_H_
