#include "tools/smpctl/config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status/status_macros.h"
#include "common/util/grpc_target.h"
#include "tools/smpctl/errors.h"

namespace smp::smpctl {
namespace {

// host:port, or a list of replicas "ipv4:host:port,host:port" (each checked).
absl::Status CheckAddress(absl::string_view name, absl::string_view target) {
  for (const std::string& address : TargetAddresses(target)) {
    const size_t colon = address.rfind(':');
    int port = 0;
    if (colon == std::string::npos || colon == 0 ||
        !absl::SimpleAtoi(absl::string_view(address).substr(colon + 1), &port) || port <= 0 ||
        port > 65535) {
      return UsageError(absl::StrCat(
          "--", name, ": want host:port or ipv4:host:port,host:port..., got \"", target, "\""));
    }
  }
  return absl::OkStatus();
}

// The value of a flag naming a file, else of its environment variable; the file's content.
absl::StatusOr<std::string> PemFile(const Lookup& flag, const Lookup& env, absl::string_view name,
                                    absl::string_view var) {
  std::optional<std::string> path = flag(name);
  if (!path) path = env(var);
  if (!path || path->empty()) return std::string();
  std::ifstream in(*path);
  std::stringstream content;
  content << in.rdbuf();
  if (!in || content.str().empty()) {
    return UsageError(absl::StrCat("--", name, ": cannot read ", *path));
  }
  return content.str();
}

}  // namespace

const char* ServiceName(Service service) {
  switch (service) {
    case Service::kIdentity:
      return "identity";
    case Service::kScheduling:
      return "scheduling";
    case Service::kInventory:
      return "inventory";
    case Service::kCompliance:
      return "compliance";
    case Service::kBilling:
      return "billing";
  }
  return "?";
}

std::string ServiceEnvVar(Service service) {
  return absl::StrCat("SMPCTL_", absl::AsciiStrToUpper(ServiceName(service)));
}

const char* DefaultAddress(Service service) {
  switch (service) {
    case Service::kIdentity:
      return "127.0.0.1:7001";
    case Service::kScheduling:
      return "127.0.0.1:7002";
    case Service::kInventory:
      return "127.0.0.1:7003";
    case Service::kCompliance:
      return "127.0.0.1:7004";
    case Service::kBilling:
      return "127.0.0.1:7005";
  }
  return "";
}

absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view text) {
  absl::Duration d;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(text, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &d)) {
    return UsageError(
        absl::StrCat("--timeout: want a duration such as 10s or 2m, got \"", text, "\""));
  }
  if (d <= absl::ZeroDuration()) {
    return UsageError(absl::StrCat("--timeout: must be positive, got \"", text, "\""));
  }
  return d;
}

absl::StatusOr<std::string> DefaultTokenFile(const Lookup& env) {
  std::optional<std::string> xdg = env("XDG_CONFIG_HOME");
  if (xdg && !xdg->empty()) return absl::StrCat(*xdg, "/smpctl/token");
  std::optional<std::string> home = env("HOME");
  if (home && !home->empty()) return absl::StrCat(*home, "/.config/smpctl/token");
  return UsageError(
      "no token file location: set --token_file, SMPCTL_TOKEN_FILE, XDG_CONFIG_HOME or HOME");
}

absl::StatusOr<Config> ResolveConfig(const Lookup& flag, const Lookup& env) {
  Config config;
  for (Service service : kAllServices) {
    std::string& address = config.addresses[static_cast<int>(service)];
    if (auto v = flag(ServiceName(service))) {
      address = *v;
    } else if (auto e = env(ServiceEnvVar(service)); e && !e->empty()) {
      address = *e;
    } else {
      address = DefaultAddress(service);
    }
    RETURN_IF_ERROR(CheckAddress(ServiceName(service), address));
  }
  if (auto v = flag("token_file")) {
    if (v->empty()) return UsageError("--token_file: must not be empty");
    config.token_file = *v;
  } else if (auto e = env("SMPCTL_TOKEN_FILE"); e && !e->empty()) {
    config.token_file = *e;
  } else {
    ASSIGN_OR_RETURN(config.token_file, DefaultTokenFile(env));
  }
  if (auto v = flag("timeout")) {
    ASSIGN_OR_RETURN(config.timeout, ParseTimeout(*v));
  } else if (auto e = env("SMPCTL_TIMEOUT"); e && !e->empty()) {
    ASSIGN_OR_RETURN(config.timeout, ParseTimeout(*e));
  }
  ASSIGN_OR_RETURN(config.tls_ca_pem, PemFile(flag, env, "tls_ca", "SMPCTL_TLS_CA"));
  ASSIGN_OR_RETURN(config.tls_cert_pem, PemFile(flag, env, "tls_cert", "SMPCTL_TLS_CERT"));
  ASSIGN_OR_RETURN(config.tls_key_pem, PemFile(flag, env, "tls_key", "SMPCTL_TLS_KEY"));
  if (config.tls_cert_pem.empty() != config.tls_key_pem.empty()) {
    return UsageError("--tls_cert and --tls_key go together");
  }
  if (!config.tls_cert_pem.empty() && config.tls_ca_pem.empty()) {
    return UsageError("--tls_cert needs --tls_ca (the server's roots)");
  }
  if (auto v = flag("request_id")) {
    if (v->empty() || v->size() > 128) {
      return UsageError("--request_id: 1..128 characters of [A-Za-z0-9._:-]");
    }
    for (char c : *v) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
          c != '-') {
        return UsageError("--request_id: 1..128 characters of [A-Za-z0-9._:-]");
      }
    }
    config.request_id = *v;
  }
  return config;
}

}  // namespace smp::smpctl
