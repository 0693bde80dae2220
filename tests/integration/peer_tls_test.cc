// TLS on every hop, through real processes: certificates made at test time by
// deploy/make-certs.sh (openssl), a real redis-server, identity serving mutual TLS, and the peer
// channels (common/peer/peer_channel) services use. A client certificate naming svc.<service> is
// that service; any other certificate, a missing one, or one from another CA is not; a peer that
// does not trust the server's CA cannot connect; plaintext to a non-loopback peer stops a service
// at start-up unless --allow_insecure_peers.

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/peer/peer_channel.h"
#include "common/peer/service_credentials.h"
#include "common/redis/testing/redis_server.h"
#include "common/status/status_matchers.h"
#include "common/util/crypto.h"
#include "gtest/gtest.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "tests/integration/identity_harness.h"
#include "tests/integration/service_process.h"

ABSL_DECLARE_FLAG(std::string, peer_tls_ca_file);
ABSL_DECLARE_FLAG(std::string, peer_tls_cert_file);
ABSL_DECLARE_FLAG(std::string, peer_tls_key_file);
ABSL_DECLARE_FLAG(std::string, identity_address);
ABSL_DECLARE_FLAG(std::string, service_credentials_file);

namespace smp {
namespace {

using ::smp::testing::CallContext;
using ::smp::testing::GrpcIs;
using ::smp::testing::MakeTempDir;
using ::smp::testing::RedisServer;
using ::smp::testing::ServiceProcess;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kPassword[] = "a long password 1";

// Every service needs the session MAC key; the processes this test starts inherit it.
class SessionMacKeyEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string key = smp::testing::WriteSecretFile(
        MakeTempDir("session-mac") + "/session-mac.key", RandomBytes(32));
    ASSERT_FALSE(key.empty());
    ::setenv("SMP_SESSION_MAC_KEY_FILE", key.c_str(), 1);
  }
};
::testing::Environment* const kSessionMacKey =
    ::testing::AddGlobalTestEnvironment(new SessionMacKeyEnvironment);

// Output (stdout and stderr) and exit status of a shell command.
int RunCommand(const std::string& command, std::string* output) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output->append(buffer, n);
  return ::pclose(pipe);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// Two chain CAs made by deploy/make-certs.sh: `chain` (what the servers use) and `other` (an
// unrelated CA with the same file names), plus, under `chain`, a server "printer" whose client
// certificate svc.printer names no service of the suite.
struct Certificates {
  std::string chain, other;
};

class PeerTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new Certificates{MakeTempDir("chain-certs") + "/certs",
                              MakeTempDir("other-certs") + "/certs"};
    const std::string script = absl::StrCat(SMP_SOURCE_DIR, "/deploy/make-certs.sh");
    for (const std::string& command :
         {absl::StrCat("bash ", script, " --dir ", certs_->chain, " --client operator"),
          absl::StrCat("bash ", script, " --dir ", certs_->chain, " --services printer"),
          absl::StrCat("bash ", script, " --dir ", certs_->other)}) {
      std::string output;
      ASSERT_EQ(RunCommand(command, &output), 0) << command << "\n" << output;
    }
  }
  static void TearDownTestSuite() { delete certs_; }

  void SetUp() override {
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_OK_AND_ASSIGN(redis_, RedisServer::StartNew());
    const std::string data_dir = MakeTempDir("identity");
    const std::string& c = certs_->chain;
    ASSERT_OK_AND_ASSIGN(
        identity_,
        ServiceProcess::Start(
            SMP_IDENTITY_BINARY,
            {"--data_dir=" + data_dir, absl::StrCat("--redis=127.0.0.1:", redis_->port()),
             "--tls_cert=" + c + "/identity.pem", "--tls_key=" + c + "/identity.key",
             "--tls_client_ca=" + c + "/ca.pem"}));
    // The first admin, over mutual TLS with the operator's certificate.
    auto operator_stub = Stub(Chain("operator"));
    identity::v1::BootstrapAdminRequest boot;
    boot.set_setup_code(
        std::string(absl::StripAsciiWhitespace(ReadFile(data_dir + "/identity-setup-code"))));
    boot.set_username("root");
    boot.set_display_name("Chain Admin");
    boot.set_password(kPassword);
    identity::v1::Staff admin;
    grpc::Status booted = operator_stub->BootstrapAdmin(CallContext().get(), boot, &admin);
    ASSERT_TRUE(booted.ok()) << booted.error_message();
    identity::v1::LoginRequest login;
    login.set_username("root");
    login.set_password(kPassword);
    identity::v1::LoginResponse session;
    grpc::Status logged_in = operator_stub->Login(CallContext().get(), login, &session);
    ASSERT_TRUE(logged_in.ok()) << logged_in.error_message();
    admin_token_ = session.access_token();
  }

  // Peer options trusting `ca_dir`'s CA and presenting `client` of `client_dir` ("" = none).
  static PeerTlsOptions Options(const std::string& ca_dir, const std::string& client,
                                const std::string& client_dir) {
    PeerTlsOptions options{.ca_file = ca_dir + "/ca.pem"};
    if (!client.empty()) {
      options.cert_file = absl::StrCat(client_dir, "/", client, ".pem");
      options.key_file = absl::StrCat(client_dir, "/", client, ".key");
    }
    return options;
  }
  static PeerTlsOptions Chain(const std::string& client) {
    return Options(certs_->chain, client, certs_->chain);
  }

  std::unique_ptr<identity::v1::IdentityService::Stub> Stub(const PeerTlsOptions& options) {
    absl::StatusOr<PeerChannelFactory> factory = PeerChannelFactory::Create(options);
    EXPECT_OK(factory.status());
    if (!factory.ok()) return nullptr;
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = factory->Open(identity_->address());
    EXPECT_OK(channel.status());
    return identity::v1::IdentityService::NewStub(*channel);
  }

  // ListClinics (the service role may read clinics) with `token` ("" = no authorization header).
  grpc::Status ListClinics(const PeerTlsOptions& options, const std::string& token = "") {
    auto stub = Stub(options);
    if (stub == nullptr) return grpc::Status(grpc::StatusCode::INTERNAL, "no channel");
    identity::v1::ListClinicsResponse clinics;
    return stub->ListClinics(CallContext(token).get(), identity::v1::ListClinicsRequest(),
                             &clinics);
  }

  grpc::Status CreateClinic(const PeerTlsOptions& options, const std::string& token,
                            const std::string& name) {
    auto stub = Stub(options);
    if (stub == nullptr) return grpc::Status(grpc::StatusCode::INTERNAL, "no channel");
    identity::v1::CreateClinicRequest request;
    request.set_request_id("clinic-" + name);
    request.mutable_clinic()->set_name(name);
    request.mutable_clinic()->set_time_zone("Europe/London");
    identity::v1::Clinic clinic;
    return stub->CreateClinic(CallContext(token).get(), request, &clinic);
  }

  static Certificates* certs_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> identity_;
  std::string admin_token_;
};

Certificates* PeerTlsTest::certs_ = nullptr;

TEST_F(PeerTlsTest, ServiceCertificateIsThatServiceAndNoMore) {
  EXPECT_TRUE(ListClinics(Chain("svc.scheduling")).ok());
  EXPECT_TRUE(ListClinics(Chain("svc.inventory")).ok());
  // The service role, not more: it cannot create a clinic.
  EXPECT_THAT(CreateClinic(Chain("svc.scheduling"), "", "Leeds"),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, ""));
}

TEST_F(PeerTlsTest, OtherCertificatesAreNobodyWithoutAToken) {
  EXPECT_THAT(ListClinics(Chain("operator")), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  EXPECT_THAT(ListClinics(Chain("redis-proxy")), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
  // Signed by the chain's CA and named svc.*, but not a service of the suite.
  EXPECT_THAT(ListClinics(Chain("svc.printer")), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
}

TEST_F(PeerTlsTest, BearerTokensStillDecideOverMutualTls) {
  // A person's token over any client certificate is that person.
  EXPECT_TRUE(CreateClinic(Chain("operator"), admin_token_, "Leeds").ok());
  EXPECT_TRUE(CreateClinic(Chain("svc.scheduling"), admin_token_, "York").ok());
  // A bad token is not rescued by a service certificate.
  EXPECT_THAT(ListClinics(Chain("svc.scheduling"), "not-a-live-token"),
              GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
}

TEST_F(PeerTlsTest, MutualTlsWithoutAClientCertificateIsRefused) {
  EXPECT_THAT(ListClinics(Chain(""), admin_token_), GrpcIs(grpc::StatusCode::UNAVAILABLE, ""));
}

TEST_F(PeerTlsTest, WrongCaIsRefusedBothWays) {
  // The peer does not trust identity's server certificate.
  EXPECT_THAT(ListClinics(Options(certs_->other, "svc.scheduling", certs_->other), admin_token_),
              GrpcIs(grpc::StatusCode::UNAVAILABLE, ""));
  EXPECT_THAT(ListClinics(Options(certs_->other, "", ""), admin_token_),
              GrpcIs(grpc::StatusCode::UNAVAILABLE, ""));
  // Identity does not trust a client certificate of another CA, even one named svc.scheduling.
  EXPECT_THAT(ListClinics(Options(certs_->chain, "svc.scheduling", certs_->other)),
              GrpcIs(grpc::StatusCode::UNAVAILABLE, ""));
  // A server certificate is not a client certificate (extendedKeyUsage serverAuth only).
  EXPECT_THAT(ListClinics(Options(certs_->chain, "scheduling", certs_->chain), admin_token_),
              GrpcIs(grpc::StatusCode::UNAVAILABLE, ""));
}

TEST_F(PeerTlsTest, PlaintextToATlsServerIsRefused) {
  auto stub = identity::v1::IdentityService::NewStub(
      grpc::CreateChannel(identity_->address(), grpc::InsecureChannelCredentials()));
  identity::v1::ListClinicsResponse clinics;
  EXPECT_THAT(stub->ListClinics(CallContext(admin_token_).get(), identity::v1::ListClinicsRequest(),
                                &clinics),
              GrpcIs(grpc::StatusCode::UNAVAILABLE, ""));
}

// A service's own login at identity goes through the same peer channel as its other peers: with
// the wrong CA it cannot log in (and says identity is unavailable); with the right one it can.
TEST_F(PeerTlsTest, ServiceLoginUsesThePeerChannel) {
  grpc::ClientContext created;
  identity::v1::CreateStaffRequest staff;
  staff.set_request_id("svc");
  staff.mutable_staff()->set_username("svc.scheduling");
  staff.mutable_staff()->set_display_name("scheduling");
  staff.mutable_staff()->add_roles(common::v1::ROLE_SERVICE);
  staff.set_initial_password(kPassword);
  identity::v1::Staff made;
  ASSERT_TRUE(
      Stub(Chain("operator"))->CreateStaff(CallContext(admin_token_).get(), staff, &made).ok());
  const std::string file = MakeTempDir("svc") + "/svc.scheduling.credentials";
  std::ofstream(file) << "svc.scheduling\n" << kPassword << "\n";
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);

  absl::SetFlag(&FLAGS_identity_address, identity_->address());
  absl::SetFlag(&FLAGS_service_credentials_file, file);
  const auto login_with = [&](const PeerTlsOptions& options) {
    absl::SetFlag(&FLAGS_peer_tls_ca_file, options.ca_file);
    absl::SetFlag(&FLAGS_peer_tls_cert_file, options.cert_file);
    absl::SetFlag(&FLAGS_peer_tls_key_file, options.key_file);
    absl::StatusOr<std::unique_ptr<ServiceCredentials>> credentials = ServiceCredentialsFromFlags();
    EXPECT_OK(credentials.status());
    if (!credentials.ok()) return credentials.status();
    grpc::ClientContext context;
    return (*credentials)->Authorize(context);
  };
  EXPECT_THAT(login_with(Options(certs_->other, "svc.scheduling", certs_->other)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cannot log in to identity")));
  EXPECT_OK(login_with(Chain("svc.scheduling")));

  // Without a credentials file, the client certificate is the service's identity.
  absl::SetFlag(&FLAGS_service_credentials_file, "");
  absl::SetFlag(&FLAGS_peer_tls_cert_file, certs_->chain + "/svc.scheduling.pem");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ServiceCredentials> by_certificate,
                       ServiceCredentialsFromFlags());
  grpc::ClientContext context;
  EXPECT_OK(by_certificate->Authorize(context));
  absl::SetFlag(&FLAGS_peer_tls_ca_file, "");
  absl::SetFlag(&FLAGS_peer_tls_cert_file, "");
  absl::SetFlag(&FLAGS_peer_tls_key_file, "");
}

// Service binaries refuse plaintext to a peer that is not on this machine, before serving.
TEST(PeerPlaintextStartupTest, NonLoopbackPlaintextPeerStopsTheServiceUnlessAllowed) {
  const std::string data_dir = MakeTempDir("scheduling");
  const std::string base =
      absl::StrCat("timeout 20 ", SMP_SCHEDULING_BINARY,
                   " --listen=127.0.0.1:0 --redis=127.0.0.1:1 --data_dir=", data_dir);
  for (const char* peer :
       {"--compliance_address=192.0.2.10:7004", "--inventory_address=inventory.example:7003",
        "--billing_address=[2001:db8::5]:7005"}) {
    std::string output;
    const int status = RunCommand(absl::StrCat(base, " ", peer), &output);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << peer << ": " << output;
    EXPECT_THAT(output, HasSubstr("refusing a plaintext channel")) << peer;
    EXPECT_THAT(output, HasSubstr("--allow_insecure_peers")) << peer;
  }
  {
    // The service login at identity is a peer channel too.
    const std::string file = MakeTempDir("svc") + "/svc.inventory.credentials";
    std::ofstream(file) << "svc.inventory\n" << kPassword << "\n";
    ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
    std::string output;
    const int status = RunCommand(
        absl::StrCat("timeout 20 ", SMP_INVENTORY_BINARY,
                     " --listen=127.0.0.1:0 --redis=127.0.0.1:1 --data_dir=", MakeTempDir("inv"),
                     " --identity_address=10.9.9.9:7001 --service_credentials_file=", file),
        &output);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << output;
    EXPECT_THAT(output, HasSubstr("refusing a plaintext channel"));
  }
  // With the explicit flag it starts (and serves), and loopback plaintext needs no flag.
  ASSERT_OK_AND_ASSIGN(
      auto allowed,
      ServiceProcess::Start(SMP_SCHEDULING_BINARY,
                            {"--redis=127.0.0.1:1", "--data_dir=" + data_dir,
                             "--compliance_address=192.0.2.10:7004", "--allow_insecure_peers"}));
  EXPECT_GT(allowed->port(), 0);
  ASSERT_OK_AND_ASSIGN(
      auto loopback,
      ServiceProcess::Start(
          SMP_INVENTORY_BINARY,
          {"--redis=127.0.0.1:1", "--data_dir=" + MakeTempDir("inv"),
           "--compliance_address=127.0.0.1:7004", "--scheduling_address=localhost:7002"}));
  EXPECT_GT(loopback->port(), 0);
}

}  // namespace
}  // namespace smp
