#ifndef SMP_TOOLS_SMPCTL_CONFIG_H_
#define SMP_TOOLS_SMPCTL_CONFIG_H_

// Where smpctl connects and what it keeps between runs. Each setting comes from its flag, else from
// its environment variable, else from the default:
//
//   --identity=host:port     SMPCTL_IDENTITY     127.0.0.1:7001   (as scripts/run-suite.sh)
//   --scheduling=host:port   SMPCTL_SCHEDULING   127.0.0.1:7002
//   --inventory=host:port    SMPCTL_INVENTORY    127.0.0.1:7003
//   --compliance=host:port   SMPCTL_COMPLIANCE   127.0.0.1:7004
//   --billing=host:port      SMPCTL_BILLING      127.0.0.1:7005
//   --token_file=PATH        SMPCTL_TOKEN_FILE   $XDG_CONFIG_HOME/smpctl/token, else
//                                                ~/.config/smpctl/token
//   --timeout=DURATION       SMPCTL_TIMEOUT      10s per call (report export: 10m)
//   --tls_ca=FILE            SMPCTL_TLS_CA       PEM roots: connect with TLS (default plaintext,
//                                                as the services listen by default)
//   --tls_cert=FILE          SMPCTL_TLS_CERT     PEM client certificate, for servers that ask
//   --tls_key=FILE           SMPCTL_TLS_KEY      for one (--tls_client_ca); both or neither

#include <array>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace smp::smpctl {

enum class Service { kIdentity, kScheduling, kInventory, kCompliance, kBilling };
inline constexpr std::array<Service, 5> kAllServices = {Service::kIdentity, Service::kScheduling,
                                                        Service::kInventory, Service::kCompliance,
                                                        Service::kBilling};

// "identity", "scheduling", ...: also the name of the address flag.
const char* ServiceName(Service service);
// "SMPCTL_IDENTITY", ...
std::string ServiceEnvVar(Service service);
// "127.0.0.1:7001", ...
const char* DefaultAddress(Service service);

struct Config {
  std::array<std::string, 5> addresses;
  std::string token_file;
  // Unset: the command's default (10 s; exports 10 min).
  std::optional<absl::Duration> timeout;
  bool json = false;
  // Given with --request_id: every mutating call of the run uses it (an idempotent retry).
  std::string request_id;
  // TLS: on when tls_ca_pem is set; the PEM texts, read at start-up.
  std::string tls_ca_pem;
  std::string tls_cert_pem;
  std::string tls_key_pem;

  const std::string& address(Service service) const { return addresses[static_cast<int>(service)]; }
};

// Looks a value up by name: a flag's value (nullopt when the flag was not given), or an
// environment variable.
using Lookup = std::function<std::optional<std::string>(absl::string_view)>;

// Builds the configuration from the global flags and the environment; a usage error for a bad
// address or duration.
absl::StatusOr<Config> ResolveConfig(const Lookup& flag, const Lookup& env);

// The default token file from the environment (XDG_CONFIG_HOME, else HOME).
absl::StatusOr<std::string> DefaultTokenFile(const Lookup& env);

// "10s", "2m", "1h30m", or a plain number of seconds ("15"); positive.
absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view text);

}  // namespace smp::smpctl

#endif  // SMP_TOOLS_SMPCTL_CONFIG_H_
