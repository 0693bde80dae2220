#include "common/rpc/stream_guard.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/auth/session_store.h"
#include "common/redis/redis_pool.h"
#include "common/redis/testing/redis_server.h"
#include "common/rpc/frame.h"
#include "common/rpc/testing/calls.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smp/testing/v1/authz_test.grpc.pb.h"

namespace smp {
namespace {

using ::smp::testing::CallAs;
using ::smp::testing::StaffOf;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;
namespace tv1 = ::smp::testing::v1;

const absl::Time kNow = absl::FromUnixSeconds(1'780'000'000);

class StreamGuardTest : public ::testing::Test {
 protected:
  StreamGuard MakeGuard(StreamLimits limits) {
    return StreamGuard(
        limits,
        [this](absl::string_view authorization, absl::string_view method) -> absl::StatusOr<Call> {
          ++rechecks_;
          if (!session_live_) return absl::UnauthenticatedError("the session was revoked");
          if (authorization != "Bearer t") return absl::InternalError("wrong header re-checked");
          return CallAs(StaffOf({common::v1::ROLE_FRONT_DESK}, {"c1"}, "desk"), kNow,
                        std::string(method));
        });
  }
  static Call Desk(const std::string& staff) {
    return CallAs(StaffOf({common::v1::ROLE_FRONT_DESK}, {"c1"}, staff), kNow, "WatchChanges");
  }

  int rechecks_ = 0;
  bool session_live_ = true;
};

TEST_F(StreamGuardTest, CapsPerSessionAndPerServiceNameTheCapAndFreeOnClose) {
  StreamGuard guard = MakeGuard({.max_per_session = 2, .max_per_service = 3});
  ASSERT_OK_AND_ASSIGN(auto a1, guard.Open(Desk("a"), "Bearer t"));
  ASSERT_OK_AND_ASSIGN(auto a2, guard.Open(Desk("a"), "Bearer t"));
  EXPECT_THAT(
      guard.Open(Desk("a"), "Bearer t"),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("--max_streams_per_session=2")));
  ASSERT_OK_AND_ASSIGN(auto b1, guard.Open(Desk("b"), "Bearer t"));
  EXPECT_THAT(guard.Open(Desk("c"), "Bearer t"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("--max_streams=3")));
  EXPECT_EQ(guard.open_streams(), 3);
  a1.reset();
  EXPECT_EQ(guard.open_streams(), 2);
  ASSERT_OK_AND_ASSIGN(auto a3, guard.Open(Desk("a"), "Bearer t"));  // the freed slot
  EXPECT_THAT(guard.Open(Desk("a"), "Bearer t"), StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST_F(StreamGuardTest, RechecksAtTheIntervalAndEndsOnRevocation) {
  StreamGuard guard = MakeGuard({.recheck_interval = absl::Milliseconds(500)});
  ASSERT_OK_AND_ASSIGN(auto lease, guard.Open(Desk("desk"), "Bearer t"));
  EXPECT_EQ(lease->next_check(), kNow + absl::Milliseconds(500));
  // Within the interval: no re-check, but the call's time moves on.
  ASSERT_OK(lease->Recheck(kNow + absl::Milliseconds(499)));
  EXPECT_EQ(rechecks_, 0);
  EXPECT_EQ(lease->call().now, kNow + absl::Milliseconds(499));
  ASSERT_OK(lease->Recheck(kNow + absl::Milliseconds(500)));
  EXPECT_EQ(rechecks_, 1);
  EXPECT_EQ(lease->call().method, "WatchChanges");
  EXPECT_EQ(lease->next_check(), kNow + absl::Seconds(1));
  session_live_ = false;
  ASSERT_OK(lease->Recheck(kNow + absl::Milliseconds(900)));  // not due yet
  EXPECT_THAT(lease->Recheck(kNow + absl::Seconds(1)),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("revoked")));
  EXPECT_EQ(rechecks_, 2);
}

TEST_F(StreamGuardTest, ZeroIntervalRechecksEveryTime) {
  StreamGuard guard = MakeGuard({.recheck_interval = absl::ZeroDuration()});
  ASSERT_OK_AND_ASSIGN(auto lease, guard.Open(Desk("desk"), "Bearer t"));
  ASSERT_OK(lease->Recheck(kNow));
  ASSERT_OK(lease->Recheck(kNow));
  EXPECT_EQ(rechecks_, 2);
}

TEST(StreamExecutorTest, RunsPostedDelayedAndWokenTasks) {
  StreamExecutor executor(2);
  absl::Notification posted, woken, delayed;
  executor.Post([&] { posted.Notify(); });
  EXPECT_TRUE(posted.WaitForNotificationWithTimeout(absl::Seconds(5)));

  const absl::Time start = absl::Now();
  executor.PostAt(start + absl::Milliseconds(200), "", [&] { delayed.Notify(); });
  executor.PostAt(start + absl::Hours(1), "clinic-1", [&] { woken.Notify(); });
  EXPECT_TRUE(delayed.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));
  EXPECT_FALSE(woken.HasBeenNotified());
  executor.Wake("clinic-2");  // another key
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(woken.HasBeenNotified());
  executor.Wake("clinic-1");
  EXPECT_TRUE(woken.WaitForNotificationWithTimeout(absl::Seconds(5)));
}

TEST(StreamExecutorTest, AnEarlierDeadlineWakesASleepingWorker) {
  StreamExecutor executor(1);
  absl::Notification soon;
  executor.PostAt(absl::Now() + absl::Hours(1), "", [] {});
  absl::SleepFor(absl::Milliseconds(20));  // the worker now sleeps until the hour
  executor.PostAt(absl::Now() + absl::Milliseconds(10), "", [&] { soon.Notify(); });
  EXPECT_TRUE(soon.WaitForNotificationWithTimeout(absl::Seconds(5)));
}

TEST(StreamExecutorTest, StopRunsWaitingTasksAtOnce) {
  StreamExecutor executor(2);
  std::atomic<int> ran{0};
  for (int i = 0; i < 10; ++i) executor.PostAt(absl::Now() + absl::Hours(1), "k", [&] { ++ran; });
  EXPECT_FALSE(executor.stopping());
  executor.Stop();
  EXPECT_TRUE(executor.stopping());
  executor.PostAt(absl::Now() + absl::Hours(1), "", [&] { ++ran; });  // runs at once now
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (ran.load() < 11 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(ran.load(), 11);
}

// A run of `count` messages of `bytes` each, all at hand (buffered) from the first on: a watch
// whose first page of the feed is already there.
class RunSource final : public WatchSource<tv1::PingResponse> {
 public:
  RunSource(int count, size_t bytes) : count_(count), bytes_(bytes) {}
  absl::StatusOr<std::optional<tv1::PingResponse>> Next(const Call&) override {
    if (given_ == count_) return std::nullopt;
    tv1::PingResponse message;
    message.set_staff_id(std::string(bytes_, static_cast<char>('a' + given_ % 26)));
    ++given_;
    return message;
  }
  bool buffered() const override { return given_ < count_; }

 private:
  const int count_;
  const size_t bytes_;
  int given_ = 0;
};

class RunWatchService final : public tv1::WatchTestService::CallbackService {
 public:
  RunWatchService(Authenticator* authenticator, int count, size_t bytes)
      : frame_(tv1::WatchTestService::service_full_name(), authenticator, &Clock::Real()),
        streams_(&frame_, StreamLimits{}),
        count_(count),
        bytes_(bytes) {}
  ~RunWatchService() override { streams_.Stop(); }

  grpc::ServerWriteReactor<tv1::PingResponse>* Watch(grpc::CallbackServerContext* ctx,
                                                     const tv1::PingRequest*) override {
    return streams_.Serve<tv1::PingResponse>(
        ctx, "Watch", absl::Seconds(1),
        [this](const Call&) -> absl::StatusOr<std::unique_ptr<WatchSource<tv1::PingResponse>>> {
          return std::make_unique<RunSource>(count_, bytes_);
        });
  }

 private:
  RpcFrame frame_;
  WatchStreams streams_;
  const int count_;
  const size_t bytes_;
};

// A first page larger than gRPC's write buffer (64 KiB) reaches the watcher whole. With the first
// message held back (buffer hint) gRPC held the response headers too and, past its write buffer,
// completed no further write: the watcher got nothing until its deadline (WatchChanges stalled
// so on a first page of 300 changes now and then).
TEST(WatchStreamsTest, AFirstPageLargerThanTheWriteBufferReachesTheWatcherWhole) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<::smp::testing::RedisServer> redis,
                       ::smp::testing::RedisServer::StartNew());
  RedisPool pool(redis->options());
  SessionStore sessions(&pool, SessionPolicy(), Clock::Real());
  Authenticator authenticator(&sessions, AuthCacheOptions(), Clock::Real());
  constexpr int kCount = 400;
  constexpr size_t kBytes = 1024;  // 400 KiB in all
  RunWatchService service(&authenticator, kCount, kBytes);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ASSERT_OK_AND_ASSIGN(NewSession session,
                       sessions.Create("staff-1", "u", {common::v1::ROLE_FRONT_DESK}, {"c1"}, ""));
  auto stub = tv1::WatchTestService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));

  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + session.token);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::unique_ptr<grpc::ClientReader<tv1::PingResponse>> reader =
      stub->Watch(&context, tv1::PingRequest());
  tv1::PingResponse message;
  int received = 0;
  while (received < kCount && reader->Read(&message)) {
    ASSERT_EQ(message.staff_id().size(), kBytes);
    ASSERT_EQ(message.staff_id()[0], static_cast<char>('a' + received % 26));
    ++received;
  }
  context.TryCancel();  // the watch would wait for more
  (void)reader->Finish();
  EXPECT_EQ(received, kCount);
  server->Shutdown();
}

}  // namespace
}  // namespace smp
