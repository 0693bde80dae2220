#include "tools/loadgen/client_credentials.h"

#include <utility>

#include "common/server/pem_file.h"
#include "common/status/status_macros.h"

namespace smp::loadgen {
namespace {

std::shared_ptr<grpc::ChannelCredentials>& Current() {
  static auto* credentials =
      new std::shared_ptr<grpc::ChannelCredentials>(grpc::InsecureChannelCredentials());
  return *credentials;
}

}  // namespace

std::shared_ptr<grpc::ChannelCredentials> ClientCredentials() { return Current(); }

void SetClientCredentials(std::shared_ptr<grpc::ChannelCredentials> credentials) {
  Current() = std::move(credentials);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsClientCredentials(
    const std::string& ca_file, const std::string& cert_file, const std::string& key_file) {
  if (ca_file.empty()) return absl::InvalidArgumentError("--tls_ca: is required for TLS");
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key: give both or neither");
  }
  grpc::SslCredentialsOptions options;
  ASSIGN_OR_RETURN(options.pem_root_certs, ReadPemFile("--tls_ca", ca_file));
  if (!cert_file.empty()) {
    ASSIGN_OR_RETURN(options.pem_cert_chain, ReadPemFile("--tls_cert", cert_file));
    ASSIGN_OR_RETURN(options.pem_private_key, ReadPemFile("--tls_key", key_file));
  }
  return grpc::SslCredentials(options);
}

}  // namespace smp::loadgen
