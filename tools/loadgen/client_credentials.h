#ifndef SMP_TOOLS_LOADGEN_CLIENT_CREDENTIALS_H_
#define SMP_TOOLS_LOADGEN_CLIENT_CREDENTIALS_H_

// The channel credentials of every channel the load generator opens (the service under test,
// identity for logins, setup loops): plaintext by default, TLS (optionally mutual) with
// --tls_ca / --tls_cert / --tls_key, like smpctl.

#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace smp::loadgen {

// Plaintext until SetClientCredentials; set it once, before any channel is opened.
std::shared_ptr<grpc::ChannelCredentials> ClientCredentials();
void SetClientCredentials(std::shared_ptr<grpc::ChannelCredentials> credentials);

// TLS credentials trusting the PEM roots in `ca_file`; with `cert_file` and `key_file` (both or
// neither) the client presents that certificate (mutual TLS). INVALID_ARGUMENT naming the flag for
// a missing CA or half a key pair; the file errors of ReadPemFile.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsClientCredentials(
    const std::string& ca_file, const std::string& cert_file, const std::string& key_file);

}  // namespace smp::loadgen

#endif  // SMP_TOOLS_LOADGEN_CLIENT_CREDENTIALS_H_
