#include "common/redis/redis_pool.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "common/redis/testing/fault_injecting_redis_client.h"
#include "common/redis/testing/redis_server.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::FaultInjectingRedisClient;
using ::smp::testing::IsOk;
using ::smp::testing::RedisServer;
using ::smp::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class RedisPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, RedisServer::StartNew());
    pool_ = std::make_unique<RedisPool>(server_->options());
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
};

TEST_F(RedisPoolTest, BinarySafeSetGet) {
  const std::string key("k\0ey", 4);
  const std::string value("va\0l\r\nue", 8);
  ASSERT_OK_AND_ASSIGN(RedisReply set, pool_->Command({"SET", key, value}));
  EXPECT_TRUE(set.is_status());
  EXPECT_EQ(set.str(), "OK");
  ASSERT_OK_AND_ASSIGN(RedisReply get, pool_->Command({"GET", key}));
  ASSERT_TRUE(get.is_string());
  EXPECT_EQ(get.str(), value);
}

TEST_F(RedisPoolTest, ReplyTypes) {
  ASSERT_OK_AND_ASSIGN(RedisReply missing, pool_->Command({"GET", "missing"}));
  EXPECT_TRUE(missing.is_nil());
  ASSERT_OK_AND_ASSIGN(RedisReply incr, pool_->Command({"INCRBY", "n", "41"}));
  ASSERT_TRUE(incr.is_integer());
  EXPECT_EQ(incr.integer(), 41);
  ASSERT_OK(pool_->Command({"RPUSH", "list", "a", "b"}).status());
  ASSERT_OK_AND_ASSIGN(RedisReply range, pool_->Command({"LRANGE", "list", "0", "-1"}));
  ASSERT_TRUE(range.is_array());
  ASSERT_EQ(range.elements().size(), 2u);
  EXPECT_EQ(range.elements()[0].str(), "a");
  EXPECT_EQ(range.elements()[1].str(), "b");
}

TEST_F(RedisPoolTest, ErrorReplyIsInternalWithText) {
  ASSERT_OK(pool_->Command({"SET", "s", "text"}).status());
  EXPECT_THAT(
      pool_->Command({"INCR", "s"}),
      StatusIs(absl::StatusCode::kInternal, HasSubstr("redis INCR: ERR value is not an integer")));
  EXPECT_THAT(pool_->Command({"NOSUCHCOMMAND"}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("unknown command")));
  // The connection that carried the error replies is still good.
  EXPECT_THAT(pool_->Command({"PING"}), IsOk());
  EXPECT_EQ(pool_->idle_connections(), 1);
}

TEST_F(RedisPoolTest, EmptyCommandIsInvalid) {
  EXPECT_THAT(pool_->Command({}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RedisPoolTest, PipelineKeepsOrder) {
  ASSERT_OK_AND_ASSIGN(
      std::vector<RedisReply> replies,
      pool_->Pipeline({{"SET", "a", "1"}, {"INCR", "a"}, {"GET", "a"}, {"GET", "b"}}));
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[0].str(), "OK");
  EXPECT_EQ(replies[1].integer(), 2);
  EXPECT_EQ(replies[2].str(), "2");
  EXPECT_TRUE(replies[3].is_nil());
  ASSERT_OK_AND_ASSIGN(std::vector<RedisReply> none, pool_->Pipeline({}));
  EXPECT_TRUE(none.empty());
}

TEST_F(RedisPoolTest, PipelineErrorReadsEveryReplyAndReportsFirstError) {
  ASSERT_OK(pool_->Command({"SET", "s", "text"}).status());
  EXPECT_THAT(pool_->Pipeline({{"INCR", "s"}, {"SET", "after", "1"}, {"HGET", "s", "f"}}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("redis INCR")));
  // Commands after the failing one ran, and the connection is in sync for the next call.
  ASSERT_OK_AND_ASSIGN(RedisReply after, pool_->Command({"GET", "after"}));
  EXPECT_EQ(after.str(), "1");
}

TEST_F(RedisPoolTest, Transaction) {
  ASSERT_OK_AND_ASSIGN(std::vector<RedisReply> replies,
                       RunTransaction(*pool_, {{"SET", "x", "5"}, {"INCR", "x"}, {"GET", "x"}}));
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[1].integer(), 6);
  EXPECT_EQ(replies[2].str(), "6");

  // A runtime error of one queued command: EXEC still ran the others (Redis semantics).
  EXPECT_THAT(RunTransaction(*pool_, {{"SET", "y", "text"}, {"INCR", "y"}}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("redis INCR")));
  // A command rejected while queueing aborts the whole transaction.
  EXPECT_THAT(RunTransaction(*pool_, {{"SET", "z", "1"}, {"SET"}}),
              StatusIs(absl::StatusCode::kInternal));
  ASSERT_OK_AND_ASSIGN(RedisReply z, pool_->Command({"GET", "z"}));
  EXPECT_TRUE(z.is_nil());
  EXPECT_THAT(pool_->Command({"PING"}), IsOk());
}

TEST_F(RedisPoolTest, KeepsAtMostMaxIdleConnectionsUnderConcurrency) {
  RedisOptions options = server_->options();
  options.max_idle_connections = 2;
  RedisPool pool(options);
  constexpr int kThreads = 6;
  constexpr int kIncrements = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&pool] {
      for (int i = 0; i < kIncrements; ++i) ASSERT_OK(pool.Command({"INCR", "counter"}).status());
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_OK_AND_ASSIGN(RedisReply count, pool.Command({"GET", "counter"}));
  EXPECT_EQ(count.str(), std::to_string(kThreads * kIncrements));
  EXPECT_GE(pool.idle_connections(), 1);
  EXPECT_LE(pool.idle_connections(), 2);
}

TEST_F(RedisPoolTest, ReusesOneConnectionForSequentialCalls) {
  for (int i = 0; i < 5; ++i) ASSERT_OK(pool_->Command({"INCR", "n"}).status());
  EXPECT_EQ(pool_->idle_connections(), 1);
  ASSERT_OK_AND_ASSIGN(RedisReply clients, pool_->Command({"CLIENT", "LIST"}));
  // Only the pool's single connection is connected.
  EXPECT_EQ(std::count(clients.str().begin(), clients.str().end(), '\n'), 1);
}

TEST_F(RedisPoolTest, OutageIsUnavailableAndPoolRecoversAfterRestart) {
  ASSERT_OK(pool_->Command({"SET", "k", "v"}).status());
  ASSERT_EQ(pool_->idle_connections(), 1);

  ASSERT_OK(server_->Stop());
  EXPECT_THAT(pool_->Command({"GET", "k"}),
              StatusIs(absl::StatusCode::kUnavailable, StartsWith("redis ")));
  EXPECT_THAT(pool_->Pipeline({{"GET", "k"}}), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(pool_->idle_connections(), 0);

  ASSERT_OK(server_->Start());
  // The first call after the restart already succeeds (no persistence, so the key is gone).
  ASSERT_OK_AND_ASSIGN(RedisReply k, pool_->Command({"GET", "k"}));
  EXPECT_TRUE(k.is_nil());
}

TEST_F(RedisPoolTest, RestartWhileIdleDoesNotFailTheNextCall) {
  ASSERT_OK(pool_->Command({"PING"}).status());
  ASSERT_OK(server_->Stop());
  ASSERT_OK(server_->Start());
  // The idle connection was closed by the old server; the pool notices and reconnects.
  EXPECT_THAT(pool_->Command({"PING"}), IsOk());
}

TEST_F(RedisPoolTest, CommandTimeoutIsUnavailableAndConnectionReplaced) {
  RedisOptions options = server_->options();
  options.command_timeout = absl::Milliseconds(100);
  RedisPool pool(options);
  // BLPOP blocks on the server for 0.5 s, longer than the command timeout.
  EXPECT_THAT(pool.Command({"BLPOP", "empty-list", "0.5"}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("timed out after 100ms")));
  EXPECT_EQ(pool.idle_connections(), 0);
  EXPECT_THAT(pool.Command({"PING"}), IsOk());
}

TEST(RedisPoolNoServerTest, ConnectRefusedIsUnavailable) {
  RedisServer never_started;  // reserves a free port nobody listens on
  RedisPool pool(never_started.options());
  EXPECT_THAT(pool.Command({"PING"}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("redis connect 127.0.0.1:")));
}

TEST(RedisPoolAuthTest, PasswordIsSentOnConnect) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisServer> server,
                       RedisServer::StartNew({"--requirepass", "s3cret"}));
  RedisOptions options = server->options();
  ASSERT_EQ(options.password, "s3cret");
  RedisPool pool(options);
  EXPECT_THAT(pool.Command({"PING"}), IsOk());

  options.password = "wrong";
  RedisPool wrong(options);
  EXPECT_THAT(wrong.Command({"PING"}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("redis AUTH")));

  options.password.clear();
  RedisPool none(options);
  EXPECT_THAT(none.Command({"GET", "k"}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("NOAUTH")));
}

// As stack.sh runs Redis: an ACL user with a password, the default user off.
TEST(RedisPoolAuthTest, AclUserAuthenticatesAndUnauthenticatedClientsAreRefused) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisServer> server,
                       RedisServer::StartNewWithAcl("smp", "acl password 1"));
  RedisOptions options = server->options();
  ASSERT_EQ(options.user, "smp");
  RedisPool pool(options);
  ASSERT_OK(pool.Command({"SET", "smp:k", "v"}).status());
  ASSERT_OK_AND_ASSIGN(RedisReply value, pool.Command({"GET", "smp:k"}));
  EXPECT_EQ(value.str(), "v");

  // No credentials at all: every command is refused, and the message says what to set.
  RedisOptions anonymous = options;
  anonymous.user.clear();
  anonymous.password.clear();
  RedisPool none(anonymous);
  EXPECT_THAT(none.Command({"GET", "smp:k"}),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("NOAUTH"), HasSubstr("--redis_password_file"))));

  // A wrong password names the user and the flags, never the password tried.
  RedisOptions wrong = options;
  wrong.password = "not the password";
  RedisPool wrong_pool(wrong);
  absl::Status refused = wrong_pool.Command({"PING"}).status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kUnavailable,
                                AllOf(HasSubstr("WRONGPASS"), HasSubstr("user \"smp\""),
                                      HasSubstr("--redis_password_file"))));
  EXPECT_THAT(std::string(refused.message()), Not(HasSubstr("not the password")));

  // The password only as the legacy single-argument AUTH (the default user) is refused too.
  RedisOptions default_user = options;
  default_user.user.clear();
  RedisPool default_pool(default_user);
  EXPECT_THAT(default_pool.Command({"PING"}), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(RedisPoolAuthTest, ReconnectAfterRestartAuthenticatesAgain) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisServer> server,
                       RedisServer::StartNewWithAcl("smp", "acl password 2"));
  RedisPool pool(server->options());
  ASSERT_OK(pool.Command({"SET", "smp:k", "1"}).status());
  ASSERT_OK(server->Stop());
  EXPECT_THAT(pool.Command({"PING"}), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(server->Start());
  // A fresh connection: AUTH is sent again, or this would be NOAUTH.
  ASSERT_OK(pool.Command({"SET", "smp:k", "2"}).status());
}

TEST(RedisServerTest, AppendOnlyFileKeepsDataAcrossARestart) {
  const std::string dir = ::testing::TempDir() + "/redis-aof-" + std::to_string(getpid());
  mkdir(dir.c_str(), 0700);
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<RedisServer> server,
      RedisServer::StartNewWithAcl("smp", "acl password 3", {"--appendonly", "yes", "--dir", dir}));
  RedisPool pool(server->options());
  ASSERT_OK(pool.Command({"SET", "smp:k", "kept"}).status());
  // Transactions too (sessions are written in one): Redis 7.0 drops them on replay when the
  // default user is off, which is why the helper (and stack.sh) keep it on with a secret password.
  ASSERT_OK(RunTransaction(pool, {{"SET", "smp:t", "kept too"}}).status());
  ASSERT_OK(server->Stop());
  ASSERT_OK(server->Start());
  ASSERT_OK_AND_ASSIGN(RedisReply value, pool.Command({"GET", "smp:k"}));
  EXPECT_EQ(value.str(), "kept");
  ASSERT_OK_AND_ASSIGN(RedisReply in_transaction, pool.Command({"GET", "smp:t"}));
  EXPECT_EQ(in_transaction.str(), "kept too");
}

TEST_F(RedisPoolTest, FaultInjectingClientFailsWhileDown) {
  FaultInjectingRedisClient client(pool_.get());
  ASSERT_OK(client.Command({"SET", "k", "v"}).status());
  client.set_down(true);
  EXPECT_THAT(client.Command({"GET", "k"}), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(client.Pipeline({{"GET", "k"}}), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(client.calls(), 1);
  EXPECT_EQ(client.failed_calls(), 2);
  client.set_down(false);
  ASSERT_OK_AND_ASSIGN(RedisReply k, client.Command({"GET", "k"}));
  EXPECT_EQ(k.str(), "v");
  EXPECT_EQ(client.calls(), 2);
}

// A replica refuses writes with READONLY (e.g. a primary demoted by a failover): a retry
// elsewhere can succeed, so it is UNAVAILABLE, not INTERNAL.
TEST_F(RedisPoolTest, ReadonlyReplicaIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<RedisServer> replica,
      RedisServer::StartNew({"--replicaof", "127.0.0.1", std::to_string(server_->port())}));
  RedisPool pool(replica->options());
  EXPECT_THAT(pool.Command({"SET", "k", "v"}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("READONLY")));
  EXPECT_THAT(pool.Command({"GET", "k"}), IsOk());
}

}  // namespace
}  // namespace smp
