#include "common/peer/service_credentials.h"

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/peer/peer_channel.h"
#include "common/server/log.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"
#include "common/util/proto_time.h"

ABSL_FLAG(std::string, identity_address, "127.0.0.1:7001",
          "host:port of identity, where this service logs in with its service account.");
ABSL_FLAG(std::string, service_credentials_file, "",
          "File with this service's account (a staff account of the service role): username on "
          "the first line, password on the second; readable by its owner only. Empty: calls to "
          "peers are refused until it is set.");
ABSL_FLAG(absl::Duration, service_login_deadline, absl::Seconds(3),
          "Deadline of each login of the service account at identity.");

namespace smp {

void SetTimeout(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout)));
}

absl::StatusOr<ServiceAccount> ReadServiceAccountFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("service credentials file ", path, " cannot be read"));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "service credentials file ", path,
        " is readable by group or others; make it readable by its owner only (chmod 600)"));
  }
  std::ifstream in(path);
  std::string username, password;
  std::getline(in, username);
  std::getline(in, password);
  ServiceAccount account{std::string(absl::StripAsciiWhitespace(username)),
                         std::string(absl::StripTrailingAsciiWhitespace(password))};
  if (account.username.empty() || account.password.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "service credentials file ", path, " must hold a username line and a password line"));
  }
  return account;
}

IdentityServiceLogin::IdentityServiceLogin(std::shared_ptr<grpc::Channel> channel,
                                           ServiceAccount account, absl::Duration deadline,
                                           const Clock& clock, absl::Duration retry_after)
    : stub_(identity::v1::IdentityService::NewStub(std::move(channel))),
      account_(std::move(account)),
      deadline_(deadline),
      clock_(clock),
      retry_after_(retry_after) {}

absl::Status IdentityServiceLogin::LoginLocked() {
  const absl::Time now = clock_.Now();
  if (now < retry_at_) return last_failure_;
  identity::v1::LoginRequest request;
  request.set_username(account_.username);
  request.set_password(account_.password);
  identity::v1::LoginResponse response;
  grpc::ClientContext context;
  SetTimeout(context, deadline_);
  const grpc::Status status = stub_->Login(&context, request, &response);
  if (!status.ok()) {
    // Identity down or slow: the peer call cannot be authenticated now, try again later.
    // Identity refusing the account: say so; an operator must fix the account or the file.
    const bool refused = status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
                         status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
                         status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
    const std::string message =
        absl::StrCat("service account \"", account_.username,
                     "\" cannot log in to identity: ", status.error_message());
    last_failure_ = refused ? absl::UnauthenticatedError(message) : absl::UnavailableError(message);
    retry_at_ = now + retry_after_;
    token_.clear();
    return last_failure_;
  }
  token_ = response.access_token();
  // Renew at half the session's lifetime, well before it can lapse between two calls.
  const absl::Time expires = FromProtoTimestamp(response.session().expire_time());
  renew_at_ = now + (expires - now) / 2;
  last_failure_ = absl::OkStatus();
  retry_at_ = absl::InfinitePast();
  return absl::OkStatus();
}

absl::Status IdentityServiceLogin::Authorize(grpc::ClientContext& context) {
  std::string token;
  {
    absl::MutexLock lock(&mu_);
    if (token_.empty() || clock_.Now() >= renew_at_) {
      const absl::Status login = LoginLocked();
      if (!login.ok()) return login;
    }
    token = token_;
  }
  context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  return absl::OkStatus();
}

void IdentityServiceLogin::Observe(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::UNAUTHENTICATED) return;
  absl::MutexLock lock(&mu_);
  token_.clear();
}

absl::Status MissingServiceCredentials::Authorize(grpc::ClientContext&) {
  return absl::UnauthenticatedError(
      "this service has neither --service_credentials_file nor a client certificate "
      "(--peer_tls_cert_file), so its peers cannot know who calls");
}

absl::StatusOr<std::unique_ptr<ServiceCredentials>> ServiceCredentialsFromFlags() {
  const std::string path = absl::GetFlag(FLAGS_service_credentials_file);
  if (path.empty()) {
    if (PeerChannelsHaveClientCertificate()) {
      LogInfo("peers know this service by its client certificate (--peer_tls_cert_file)");
      return std::make_unique<ClientCertificateCredentials>();
    }
    return std::make_unique<MissingServiceCredentials>();
  }
  ASSIGN_OR_RETURN(ServiceAccount account, ReadServiceAccountFile(path));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                   MakePeerChannel(absl::GetFlag(FLAGS_identity_address)));
  return std::make_unique<IdentityServiceLogin>(std::move(channel), std::move(account),
                                                absl::GetFlag(FLAGS_service_login_deadline),
                                                Clock::Real());
}

}  // namespace smp
