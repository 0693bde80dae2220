// The web console's gateway: serves the console's pages and forwards their API calls to the five
// services with the user's session (services/console/gateway.h). Flags (each also settable as
// SMP_<NAME> in the environment) are listed in README.md, "Web console".

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/auth/secret_file.h"
#include "common/peer/peer_channel.h"
#include "common/server/flags_env.h"
#include "common/server/log.h"
#include "common/server/server.h"
#include "services/console/gateway.h"

ABSL_FLAG(std::string, web_root, SMP_CONSOLE_DEFAULT_WEB_ROOT,
          "Directory of the console's static files (HTML, CSS, JavaScript modules); by default the "
          "source tree's services/console/web.");
ABSL_FLAG(bool, allow_insecure_http, false,
          "Serve plain HTTP instead of HTTPS (no --tls_cert/--tls_key). Only on a loopback "
          "--listen: for development on one machine.");
ABSL_FLAG(std::string, identity_address, "127.0.0.1:7001", "host:port of identity.");
ABSL_FLAG(std::string, scheduling_address, "127.0.0.1:7002", "host:port of scheduling.");
ABSL_FLAG(std::string, inventory_address, "127.0.0.1:7003", "host:port of inventory.");
ABSL_FLAG(std::string, compliance_address, "127.0.0.1:7004", "host:port of compliance.");
ABSL_FLAG(std::string, billing_address, "127.0.0.1:7005", "host:port of billing.");
ABSL_FLAG(int64_t, max_body_bytes, 1 << 20, "Largest request body accepted (413 beyond).");
ABSL_FLAG(absl::Duration, call_timeout, absl::Seconds(10), "Deadline of each forwarded call.");
ABSL_FLAG(absl::Duration, stream_timeout, absl::Minutes(10),
          "Deadline of each forwarded stream (reports, watches); a watch page then reconnects.");
ABSL_FLAG(absl::Duration, http_read_timeout, absl::Seconds(10),
          "How long a browser may take to send a request.");
ABSL_FLAG(absl::Duration, http_write_timeout, absl::Seconds(10),
          "How long one write to a browser may take.");
ABSL_FLAG(int, http_threads, 32, "Requests served at once (each open event stream holds one).");
ABSL_FLAG(int, max_streams, 16,
          "Event streams (calendar watches, reports) open at once; must be below --http_threads, "
          "since each holds a worker. Beyond it a stream is refused with 503.");
ABSL_FLAG(int, max_streams_per_session, 4,
          "Event streams one session may hold open at once (tabs of one login); beyond it 503.");
ABSL_FLAG(absl::Duration, session_cookie_max_age, absl::Hours(24),
          "How long the browser keeps the session cookie (identity's session lifetime still "
          "applies).");
ABSL_FLAG(std::string, csrf_key_file, "",
          "File (0600) of 32+ secret bytes that CSRF tokens are derived with; the same file for "
          "every replica behind one address. Empty: a random key per process.");

namespace smp::console {
namespace {

// "http_port=N\npid=P\n", written atomically once serving.
absl::Status WriteReadyFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "http_port=" << port << "\npid=" << ::getpid() << "\n";
    if (!out.good()) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  BlockTerminationSignals();
  ParseFlagsWithEnvironment(argc, argv);
  SetLogService("console");
  // --listen, --tls_cert, --tls_key, --ready_file and --log_level mean what they mean for every
  // service (the rest of the server flags do not apply to the gateway).
  const ServerConfig config = ServerConfigFromFlags("console");
  SetLogLevel(config.log_level);
  if (!config.tls_client_ca_file.empty()) {
    return FailStartup("bad flags",
                       absl::InvalidArgumentError("--tls_client_ca does not apply to the console"));
  }

  ServiceChannels channels;
  const std::pair<const char*, std::string> addresses[] = {
      {"smp.identity.v1.IdentityService", absl::GetFlag(FLAGS_identity_address)},
      {"smp.scheduling.v1.SchedulingService", absl::GetFlag(FLAGS_scheduling_address)},
      {"smp.inventory.v1.InventoryService", absl::GetFlag(FLAGS_inventory_address)},
      {"smp.compliance.v1.ComplianceService", absl::GetFlag(FLAGS_compliance_address)},
      {"smp.compliance.v1.EligibilityService", absl::GetFlag(FLAGS_compliance_address)},
      {"smp.billing.v1.BillingService", absl::GetFlag(FLAGS_billing_address)},
  };
  for (const auto& [service, address] : addresses) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakePeerChannel(address);
    if (!channel.ok()) return FailStartup(absl::StrCat("cannot reach ", service), channel.status());
    channels.emplace(service, *std::move(channel));
  }

  std::string csrf_key;
  if (const std::string file = absl::GetFlag(FLAGS_csrf_key_file); !file.empty()) {
    absl::StatusOr<std::string> key = ReadSecretFile("--csrf_key_file", file, false);
    if (!key.ok()) return FailStartup("cannot read --csrf_key_file", key.status());
    if (key->size() < 32) {
      return FailStartup("bad --csrf_key_file", absl::InvalidArgumentError(absl::StrCat(
                                                    file, " holds fewer than 32 bytes")));
    }
    csrf_key = *std::move(key);
  }

  GatewayOptions options;
  options.listen = config.listen;
  options.tls_cert_file = config.tls_cert_file;
  options.tls_key_file = config.tls_key_file;
  options.allow_insecure_http = absl::GetFlag(FLAGS_allow_insecure_http);
  options.web_root = absl::GetFlag(FLAGS_web_root);
  options.max_body_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_body_bytes));
  options.call_timeout = absl::GetFlag(FLAGS_call_timeout);
  options.stream_timeout = absl::GetFlag(FLAGS_stream_timeout);
  options.read_timeout = absl::GetFlag(FLAGS_http_read_timeout);
  options.write_timeout = absl::GetFlag(FLAGS_http_write_timeout);
  options.threads = absl::GetFlag(FLAGS_http_threads);
  options.max_streams = absl::GetFlag(FLAGS_max_streams);
  options.max_streams_per_session = absl::GetFlag(FLAGS_max_streams_per_session);
  options.cookie_max_age = absl::GetFlag(FLAGS_session_cookie_max_age);
  absl::StatusOr<std::unique_ptr<Gateway>> gateway =
      Gateway::Start(options, std::move(channels),
                     csrf_key.empty() ? CsrfGuard::WithRandomKey() : CsrfGuard(csrf_key));
  if (!gateway.ok()) return FailStartup("cannot start the console", gateway.status());
  LogInfo("serving", {{"port", absl::StrCat((*gateway)->port())},
                      {"tls", (*gateway)->tls() ? "https" : "http (loopback only)"},
                      {"web_root", options.web_root}});
  if (!config.ready_file.empty()) {
    if (absl::Status ready = WriteReadyFile(config.ready_file, (*gateway)->port()); !ready.ok()) {
      return FailStartup("cannot write the ready file", ready);
    }
  }
  WaitForTerminationSignal();
  LogInfo("stopping");
  if (!config.ready_file.empty()) std::remove(config.ready_file.c_str());
  (*gateway)->Stop();
  return 0;
}

}  // namespace
}  // namespace smp::console

int main(int argc, char** argv) { return smp::console::Main(argc, argv); }
