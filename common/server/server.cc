#include "common/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/server/pem_file.h"
#include "common/server/rpc_observer.h"

ABSL_FLAG(std::string, listen, smp::ServerConfig().listen,
          "gRPC listen address host:port; port 0 picks a free port (see --ready_file). "
          "Use 0.0.0.0:PORT or [::]:PORT to accept connections from other hosts.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM server certificate chain. With --tls_key, the server speaks TLS only.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle. With --tls_cert/--tls_key, enables mTLS: clients must present a "
          "certificate signed by one of these CAs; a call without a bearer token whose "
          "certificate names svc.<service> is that service.");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port of the Prometheus /metrics HTTP endpoint; empty disables it.");
ABSL_FLAG(std::string, health_listen, "",
          "host:port of a plaintext gRPC port serving only grpc.health.v1.Health (for probes "
          "that cannot do mTLS, e.g. Kubernetes' grpc probe); empty disables it.");
ABSL_FLAG(std::string, ready_file, "",
          "If set, written atomically once serving: grpc_port=N, metrics_port=M, pid=P lines; "
          "removed on shutdown. Lets launchers and tests find ports chosen with :0.");
ABSL_FLAG(int, max_message_bytes, smp::ServerConfig().max_message_bytes,
          "Largest gRPC message accepted or sent, in bytes.");
ABSL_FLAG(int, max_threads, smp::ServerConfig().max_threads,
          "Cap on gRPC server threads, i.e. on concurrently running handlers (at least 4).");
ABSL_FLAG(absl::Duration, keepalive_time, smp::ServerConfig().keepalive_time,
          "Interval between the server's keepalive pings on an idle connection, e.g. 30s.");
ABSL_FLAG(absl::Duration, keepalive_timeout, smp::ServerConfig().keepalive_timeout,
          "How long to wait for a keepalive ping's answer before dropping the connection.");
ABSL_FLAG(absl::Duration, shutdown_grace, smp::ServerConfig().shutdown_grace,
          "On SIGTERM/SIGINT, how long in-flight RPCs may run before they are cancelled.");
ABSL_FLAG(smp::LogLevel, log_level, smp::LogLevel::kInfo,
          "Least severe log level written: debug, info, warning or error.");

namespace smp {
namespace {

// Clients' keepalive pings more frequent than this get the connection closed (gRPC's default
// is 5 minutes, which would punish clients that use the same 30 s keepalive as we do).
constexpr int kMinClientPingIntervalMs = 10'000;

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(
    const ServerConfig& config) {
  const bool has_cert = !config.tls_cert_file.empty();
  const bool has_key = !config.tls_key_file.empty();
  if (has_cert != has_key) {
    return absl::InvalidArgumentError(
        "TLS needs both a certificate (--tls_cert) and its key (--tls_key); only one is set");
  }
  if (!has_cert) {
    if (!config.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca (mTLS) needs --tls_cert and --tls_key as well");
    }
    return grpc::InsecureServerCredentials();
  }
  auto cert = ReadPemFile("TLS certificate", config.tls_cert_file);
  if (!cert.ok()) return cert.status();
  auto key = ReadPemFile("TLS key", config.tls_key_file);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (!config.tls_client_ca_file.empty()) {
    auto ca = ReadPemFile("TLS client CA", config.tls_client_ca_file);
    if (!ca.ok()) return ca.status();
    // Verified, never merely requested: a client certificate that reaches a handler is one this CA
    // signed, which is what lets common/auth/service_certificate.h take svc.<service> at its word.
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    options.pem_root_certs = *std::move(ca);
  }
  options.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  return grpc::SslServerCredentials(options);
}

// "host:port" as gRPC wants it.
absl::Status ToGrpcTcpAddress(const std::string& listen, std::string* grpc_address) {
  std::string host;
  int port = 0;
  if (absl::Status status = SplitHostPort(listen, &host, &port); !status.ok()) return status;
  // gRPC wants a host; "" means every address, which "[::]" gives dual-stack.
  *grpc_address = absl::StrCat(host.empty()                          ? "[::]"
                               : host.find(':') != std::string::npos ? "[" + host + "]"
                                                                     : host,
                               ":", port);
  return absl::OkStatus();
}

absl::Status ValidateConfig(const ServerConfig& config, std::string* grpc_address) {
  if (absl::StartsWith(config.listen, "unix:")) {
    *grpc_address = config.listen;
  } else if (absl::Status status = ToGrpcTcpAddress(config.listen, grpc_address); !status.ok()) {
    return status;
  }
  if (!config.health_listen.empty()) {
    std::string ignored;
    if (absl::Status status = ToGrpcTcpAddress(config.health_listen, &ignored); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--health_listen: ", status.message()));
    }
  }
  if (!config.metrics_listen.empty()) {
    std::string host;
    int port = 0;
    if (absl::Status status = SplitHostPort(config.metrics_listen, &host, &port); !status.ok()) {
      return status;
    }
  }
  if (config.max_message_bytes <= 0) {
    return absl::InvalidArgumentError("max_message_bytes must be positive");
  }
  // Below a few threads the sync server cannot keep a poller per completion queue and still run
  // handlers.
  if (config.max_threads < 4) return absl::InvalidArgumentError("max_threads must be at least 4");
  if (config.keepalive_time <= absl::ZeroDuration() ||
      config.keepalive_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("keepalive_time and keepalive_timeout must be positive");
  }
  if (config.shutdown_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("shutdown_grace must not be negative");
  }
  return absl::OkStatus();
}

absl::Status WriteReadyFile(const std::string& path, int grpc_port, int metrics_port,
                            int health_port) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "grpc_port=" << grpc_port << "\nmetrics_port=" << metrics_port << "\npid=" << getpid()
        << "\n";
    if (health_port != 0) out << "health_port=" << health_port << "\n";
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      return absl::FailedPreconditionError(
          absl::StrCat("cannot write ready file \"", tmp, "\": ", std::strerror(errno)));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    return absl::FailedPreconditionError(
        absl::StrCat("cannot rename \"", tmp, "\" to \"", path, "\": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

// A plaintext server with no service of ours: the builder adds gRPC's default health service
// (EnableDefaultHealthCheckService), so Health/Check and Health/Watch are all it answers (and
// reflection, which lists only them).
absl::StatusOr<std::unique_ptr<grpc::Server>> StartHealthOnlyServer(const std::string& listen,
                                                                    int* port) {
  std::string address;
  if (absl::Status status = ToGrpcTcpAddress(listen, &address); !status.ok()) return status;
  absl::StatusOr<int> probe = ListenTcp(listen, 1);
  if (!probe.ok()) {
    return absl::Status(probe.status().code(),
                        absl::StrCat("health port: ", probe.status().message()));
  }
  ::close(*probe);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *port == 0) {
    if (server != nullptr) server->Shutdown();
    return absl::UnavailableError(absl::StrCat("cannot serve the health port on \"", listen, "\""));
  }
  return server;
}

}  // namespace

ServerConfig ServerConfigFromFlags(absl::string_view service_name) {
  ServerConfig config;
  config.service_name = std::string(service_name);
  config.listen = absl::GetFlag(FLAGS_listen);
  config.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  config.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  config.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  config.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  config.health_listen = absl::GetFlag(FLAGS_health_listen);
  config.ready_file = absl::GetFlag(FLAGS_ready_file);
  config.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  config.max_threads = absl::GetFlag(FLAGS_max_threads);
  config.keepalive_time = absl::GetFlag(FLAGS_keepalive_time);
  config.keepalive_timeout = absl::GetFlag(FLAGS_keepalive_timeout);
  config.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  config.log_level = absl::GetFlag(FLAGS_log_level);
  return config;
}

void BlockTerminationSignals() {
  const sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  const sigset_t set = TerminationSignals();
  int signal = 0;
  while (sigwait(&set, &signal) != 0) {
  }
  return signal;
}

absl::StatusOr<std::unique_ptr<RunningServer>> RunningServer::Start(
    const ServerConfig& config, const std::vector<grpc::Service*>& services) {
  SetLogService(config.service_name);
  SetLogLevel(config.log_level);
  std::string grpc_address;
  if (absl::Status status = ValidateConfig(config, &grpc_address); !status.ok()) return status;
  auto credentials = MakeCredentials(config);
  if (!credentials.ok()) return credentials.status();

  // Process-wide switches, read when a builder is made or started.
  static std::once_flag once;
  std::call_once(once, [] {
    RouteGrpcLogsToJson();
    // Debian's Abseil checks every mutex acquisition for lock-order cycles, which costs 2-3.5% of
    // a busy service's CPU in tools/bench profiles. Unit tests that never start a server keep it.
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  });

  std::unique_ptr<MetricsHttpServer> metrics;
  if (!config.metrics_listen.empty()) {
    auto started = MetricsHttpServer::Start(config.metrics_listen);
    if (!started.ok()) return started.status();
    metrics = *std::move(started);
  }

  // gRPC only logs why a bind failed; binding the port once ourselves first turns the common
  // cases (in use, not a local address) into a precise status. Port 0 always binds.
  if (!absl::StartsWith(config.listen, "unix:")) {
    absl::StatusOr<int> probe = ListenTcp(config.listen, 1);
    if (!probe.ok()) {
      return absl::Status(probe.status().code(),
                          absl::StrCat("gRPC server: ", probe.status().message()));
    }
    ::close(*probe);
  }

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(grpc_address, *credentials, &port);
  builder.SetMaxReceiveMessageSize(config.max_message_bytes);
  builder.SetMaxSendMessageSize(config.max_message_bytes);
  grpc::ResourceQuota quota(absl::StrCat("smp-", config.service_name));
  quota.SetMaxThreads(config.max_threads);
  builder.SetResourceQuota(quota);
  // Keep a couple of pollers alive instead of gRPC's 1..2, which under load creates and destroys a
  // thread per burst of calls (thousands a second in tools/bench); 16 bounds idle threads (and
  // RSS).
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 16);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(config.keepalive_time)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(config.keepalive_timeout)));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             kMinClientPingIntervalMs);
  // Keep pinging idle connections so that dead peers are noticed even with no calls.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> observers;
  observers.push_back(std::make_unique<RpcObserverFactory>());
  builder.experimental().SetInterceptorCreators(std::move(observers));
  for (grpc::Service* service : services) builder.RegisterService(service);

  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    if (server != nullptr) server->Shutdown();
    return absl::UnavailableError(absl::StrCat(
        "cannot serve gRPC on \"", config.listen,
        "\": the address is in use or not local, or the TLS certificate/key were rejected "
        "(gRPC's log above has the cause)"));
  }
  std::unique_ptr<grpc::Server> health_server;
  int health_port = 0;
  if (!config.health_listen.empty()) {
    auto started = StartHealthOnlyServer(config.health_listen, &health_port);
    if (!started.ok()) {
      server->Shutdown();
      return started.status();
    }
    health_server = *std::move(started);
  }
  for (grpc::Server* s : {server.get(), health_server.get()}) {
    if (s == nullptr) continue;
    if (auto* health = s->GetHealthCheckService(); health != nullptr) {
      health->SetServingStatus(true);
    }
  }
  const int metrics_port = metrics != nullptr ? metrics->port() : 0;
  if (!config.ready_file.empty()) {
    if (absl::Status status = WriteReadyFile(config.ready_file, port, metrics_port, health_port);
        !status.ok()) {
      if (health_server != nullptr) health_server->Shutdown();
      server->Shutdown();
      return status;
    }
  }
  LogInfo("serving", {{"listen", config.listen},
                      {"grpc_port", absl::StrCat(port)},
                      {"metrics_port", absl::StrCat(metrics_port)},
                      {"health_port", absl::StrCat(health_port)},
                      {"tls", config.tls_cert_file.empty()        ? "off"
                              : config.tls_client_ca_file.empty() ? "tls"
                                                                  : "mtls"}});
  return std::unique_ptr<RunningServer>(new RunningServer(
      config, std::move(server), port, std::move(health_server), health_port, std::move(metrics)));
}

RunningServer::RunningServer(ServerConfig config, std::unique_ptr<grpc::Server> server, int port,
                             std::unique_ptr<grpc::Server> health_server, int health_port,
                             std::unique_ptr<MetricsHttpServer> metrics)
    : config_(std::move(config)),
      port_(port),
      metrics_port_(metrics != nullptr ? metrics->port() : 0),
      server_(std::move(server)),
      health_port_(health_port),
      health_server_(std::move(health_server)),
      metrics_(std::move(metrics)) {}

RunningServer::~RunningServer() { Shutdown(); }

void RunningServer::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  shut_down_ = true;
  LogInfo("draining", {{"grace", absl::FormatDuration(config_.shutdown_grace)}});
  for (grpc::Server* s : {server_.get(), health_server_.get()}) {
    if (s == nullptr) continue;
    if (auto* health = s->GetHealthCheckService(); health != nullptr) {
      health->SetServingStatus(false);
    }
  }
  if (!config_.ready_file.empty()) std::remove(config_.ready_file.c_str());
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoNanoseconds(config_.shutdown_grace));
  server_->Wait();
  // The health-only port answers NOT_SERVING for the whole drain, then closes.
  if (health_server_ != nullptr) {
    health_server_->Shutdown(std::chrono::system_clock::now());
    health_server_->Wait();
  }
  metrics_.reset();
  LogInfo("stopped");
}

int FailStartup(absl::string_view what, const absl::Status& status) {
  LogError(what, {{"error", status.ToString()}});
  return 1;
}

}  // namespace smp
