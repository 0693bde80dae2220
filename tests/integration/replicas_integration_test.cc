// Two identity processes on one database, as two replicas behind a load balancer: on SQLite (one
// file, two processes) and on PostgreSQL (--database=postgresql://..., the password by file).
// What one replica writes the other reads; a request_id replayed on the other replica returns the
// first result; a unique key (a username) holds across replicas under concurrent requests; and
// concurrent writes on both replicas all land (PostgreSQL: SERIALIZABLE, conflicts retried).

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/db/testing/postgres_server.h"
#include "common/db/testing/test_database.h"
#include "common/redis/testing/redis_server.h"
#include "common/status/status_matchers.h"
#include "common/util/crypto.h"
#include "gtest/gtest.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "tests/integration/service_process.h"

namespace smp::identity {
namespace {

using ::smp::common::v1::ROLE_FRONT_DESK;
using ::smp::testing::Backend;
using ::smp::testing::RedisServer;
using ::smp::testing::ServiceProcess;

constexpr char kSetupCode[] = "replicas-setup-code";
constexpr char kAdminPassword[] = "admin password 1";

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = "") {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

class ReplicasTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    redis_password_file_ =
        smp::testing::WritePrivateFile("redis.password", Base64UrlEncode(RandomBytes(24)));
    std::ifstream in(redis_password_file_);
    std::string redis_password;
    std::getline(in, redis_password);
    mac_key_file_ = smp::testing::WritePrivateFile("session-mac.key", RandomBytes(32));
    ASSERT_OK_AND_ASSIGN(redis_, RedisServer::StartNewWithAcl("smp", redis_password));

    std::vector<std::string> database_flags;
    std::string shared_data_dir;
    if (GetParam() == Backend::kSqlite) {
      shared_data_dir = smp::testing::MakeTempDir("replicas");  // one identity.sqlite for both
    } else {
      ASSERT_OK_AND_ASSIGN(testing::TestDatabase where,
                           testing::NewTestDatabase(Backend::kPostgresql));
      testing::PostgresServer& server = testing::SharedPostgresServer();
      const std::string& conninfo = where.postgres.conninfo;
      const std::string database = conninfo.substr(conninfo.find("dbname=") + 7);
      database_flags = {
          absl::StrCat("--database=postgresql://smp@127.0.0.1:", server.port(), "/", database),
          "--database_password_file=" +
              smp::testing::WritePrivateFile("db.password", server.password() + "\n")};
    }
    const std::string setup_code_flag = smp::testing::SetupCodeFileFlag(kSetupCode);
    for (int i = 0; i < 2; ++i) {
      std::vector<std::string> args = {
          "--data_dir=" +
              (shared_data_dir.empty() ? smp::testing::MakeTempDir("replica") : shared_data_dir),
          absl::StrCat("--redis=127.0.0.1:", redis_->port()),
          "--redis_user=smp",
          "--redis_password_file=" + redis_password_file_,
          "--session_mac_key_file=" + mac_key_file_,
          setup_code_flag};
      args.insert(args.end(), database_flags.begin(), database_flags.end());
      ASSERT_OK_AND_ASSIGN(replicas_[i], ServiceProcess::Start(SMP_IDENTITY_BINARY, args));
      stubs_[i] = v1::IdentityService::NewStub(
          grpc::CreateChannel(replicas_[i]->address(), grpc::InsecureChannelCredentials()));
    }

    v1::BootstrapAdminRequest boot;
    boot.set_setup_code(kSetupCode);
    boot.set_username("root");
    boot.set_display_name("Chain Admin");
    boot.set_password(kAdminPassword);
    v1::Staff admin;
    grpc::Status booted = stubs_[0]->BootstrapAdmin(Ctx().get(), boot, &admin);
    ASSERT_TRUE(booted.ok()) << booted.error_message();
    // Bootstrapping is once per system, not per replica.
    EXPECT_EQ(stubs_[1]->BootstrapAdmin(Ctx().get(), boot, &admin).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
    v1::LoginRequest login;
    login.set_username("root");
    login.set_password(kAdminPassword);
    v1::LoginResponse session;
    grpc::Status logged_in = stubs_[1]->Login(Ctx().get(), login, &session);
    ASSERT_TRUE(logged_in.ok()) << logged_in.error_message();
    token_ = session.access_token();
  }

  grpc::Status CreateClinic(int replica, const std::string& request_id, const std::string& name,
                            v1::Clinic* out) {
    v1::CreateClinicRequest req;
    req.set_request_id(request_id);
    req.mutable_clinic()->set_name(name);
    req.mutable_clinic()->set_time_zone("America/Chicago");
    return stubs_[replica]->CreateClinic(Ctx(token_).get(), req, out);
  }

  grpc::Status CreateStaff(int replica, const std::string& request_id, const std::string& username,
                           const std::string& clinic_id) {
    v1::CreateStaffRequest req;
    req.set_request_id(request_id);
    req.mutable_staff()->set_username(username);
    req.mutable_staff()->set_display_name(username);
    req.mutable_staff()->add_roles(ROLE_FRONT_DESK);
    req.mutable_staff()->add_clinic_ids(clinic_id);
    req.set_initial_password("staff password 1");
    v1::Staff out;
    return stubs_[replica]->CreateStaff(Ctx(token_).get(), req, &out);
  }

  std::unique_ptr<RedisServer> redis_;
  std::string redis_password_file_;
  std::string mac_key_file_;
  std::unique_ptr<ServiceProcess> replicas_[2];
  std::unique_ptr<v1::IdentityService::Stub> stubs_[2];
  std::string token_;
};

INSTANTIATE_TEST_SUITE_P(Backends, ReplicasTest, ::testing::ValuesIn(testing::AllBackends()),
                         testing::BackendName);

TEST_P(ReplicasTest, WhatOneReplicaWritesTheOtherReadsAndReplays) {
  v1::Clinic made;
  ASSERT_TRUE(CreateClinic(0, "clinic-austin", "Austin", &made).ok());
  v1::GetClinicRequest get;
  get.set_id(made.id());
  v1::Clinic read;
  ASSERT_TRUE(stubs_[1]->GetClinic(Ctx(token_).get(), get, &read).ok());
  EXPECT_EQ(read.name(), "Austin");
  // The same request_id sent to the other replica is the same request: the first clinic back.
  v1::Clinic replayed;
  ASSERT_TRUE(CreateClinic(1, "clinic-austin", "Austin", &replayed).ok());
  EXPECT_EQ(replayed.id(), made.id());
  v1::ListClinicsResponse listed;
  v1::ListClinicsRequest list;
  ASSERT_TRUE(stubs_[1]->ListClinics(Ctx(token_).get(), list, &listed).ok());
  EXPECT_EQ(listed.clinics_size(), 1);
}

TEST_P(ReplicasTest, AUsernameIsTakenOnceWhenBothReplicasRaceForIt) {
  v1::Clinic clinic;
  ASSERT_TRUE(CreateClinic(0, "clinic-dallas", "Dallas", &clinic).ok());
  constexpr int kRaces = 8;
  for (int i = 0; i < kRaces; ++i) {
    const std::string username = absl::StrCat("desk", i);
    grpc::Status results[2];
    std::thread racers[2];
    for (int r = 0; r < 2; ++r) {
      racers[r] = std::thread([&, r] {
        results[r] = CreateStaff(r, absl::StrCat("staff-", i, "-", r), username, clinic.id());
      });
    }
    for (auto& t : racers) t.join();
    const int created = results[0].ok() + results[1].ok();
    EXPECT_EQ(created, 1) << username << ": " << results[0].error_message() << " / "
                          << results[1].error_message();
    for (const grpc::Status& s : results) {
      if (!s.ok()) {
        EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();
      }
    }
  }
}

TEST_P(ReplicasTest, ConcurrentWritesOnBothReplicasAllLand) {
  constexpr int kPerReplica = 15;
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int r = 0; r < 2; ++r) {
    for (int w = 0; w < 2; ++w) {
      writers.emplace_back([&, r, w] {
        for (int i = 0; i < kPerReplica; ++i) {
          v1::Clinic out;
          grpc::Status s = CreateClinic(r, absl::StrCat("c-", r, "-", w, "-", i),
                                        absl::StrCat("Clinic ", r, w, i), &out);
          if (!s.ok()) {
            ++failures;
            ADD_FAILURE() << s.error_message();
          }
        }
      });
    }
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  v1::ListClinicsRequest list;
  list.set_page_size(500);
  v1::ListClinicsResponse listed;
  ASSERT_TRUE(stubs_[0]->ListClinics(Ctx(token_).get(), list, &listed).ok());
  EXPECT_EQ(listed.clinics_size(), 2 * 2 * kPerReplica);
}

}  // namespace
}  // namespace smp::identity
