#include "common/server/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/server/metrics_http.h"
#include "common/server/test_util.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::HttpGet;
using ::smp::testing::RawHttp;
using ::smp::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(MetricsTest, RendersCountersWithHelpTypeAndSortedSeries) {
  MetricsRegistry registry;
  registry.IncrementCounter("smp_b_total", "B things.", {{"code", "OK"}});
  registry.IncrementCounter("smp_b_total", "ignored", {{"code", "OK"}}, 2);
  registry.IncrementCounter("smp_b_total", "B things.", {{"code", "ABORTED"}});
  registry.IncrementCounter("smp_a_total", "A things.\nsecond \\ line", {});
  registry.IncrementCounter("smp_a_total", "", {}, -5);  // counters only go up
  registry.SetGauge("smp_c", "C level.", {}, 1.5);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP smp_a_total A things.\\nsecond \\\\ line\n"
            "# TYPE smp_a_total counter\n"
            "smp_a_total 1\n"
            "# HELP smp_b_total B things.\n"
            "# TYPE smp_b_total counter\n"
            "smp_b_total{code=\"ABORTED\"} 1\n"
            "smp_b_total{code=\"OK\"} 3\n"
            "# HELP smp_c C level.\n"
            "# TYPE smp_c gauge\n"
            "smp_c 1.5\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricsRegistry registry;
  const std::vector<double> buckets = {1, 0.1, 0.5, 0.5};  // unsorted, duplicate
  for (double v : {0.05, 0.5, 0.7, 2.0}) {
    registry.ObserveHistogram("smp_latency_seconds", "Latency.", {{"m", "Get"}}, v, buckets);
  }
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP smp_latency_seconds Latency.\n"
            "# TYPE smp_latency_seconds histogram\n"
            "smp_latency_seconds_bucket{m=\"Get\",le=\"0.1\"} 1\n"
            "smp_latency_seconds_bucket{m=\"Get\",le=\"0.5\"} 2\n"
            "smp_latency_seconds_bucket{m=\"Get\",le=\"1\"} 3\n"
            "smp_latency_seconds_bucket{m=\"Get\",le=\"+Inf\"} 4\n"
            "smp_latency_seconds_sum{m=\"Get\"} 3.25\n"
            "smp_latency_seconds_count{m=\"Get\"} 4\n");
}

TEST(MetricsTest, HistogramWithoutLabels) {
  MetricsRegistry registry;
  registry.ObserveHistogram("h", "H.", {}, 3, {1});
  EXPECT_THAT(registry.RenderPrometheus(), HasSubstr("h_bucket{le=\"1\"} 0\n"
                                                     "h_bucket{le=\"+Inf\"} 1\n"
                                                     "h_sum 3\n"
                                                     "h_count 1\n"));
}

TEST(MetricsTest, EscapesLabelValues) {
  MetricsRegistry registry;
  registry.IncrementCounter("c_total", "C.", {{"v", "a\"b\\c\nd"}, {"w", "ok"}});
  EXPECT_THAT(registry.RenderPrometheus(),
              HasSubstr("c_total{v=\"a\\\"b\\\\c\\nd\",w=\"ok\"} 1\n"));
  EXPECT_EQ(EscapeLabelValue("x\\\"\n"), "x\\\\\\\"\\n");
}

TEST(MetricsTest, KindConflictDropsLaterUpdates) {
  MetricsRegistry registry;
  registry.IncrementCounter("x", "X.", {});
  registry.ObserveHistogram("x", "X.", {}, 1, {1});
  registry.SetGauge("x", "X.", {}, 9);
  EXPECT_EQ(registry.RenderPrometheus(), "# HELP x X.\n# TYPE x counter\nx 1\n");
}

TEST(MetricsTest, FormatsValues) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(42), "42");
  EXPECT_EQ(FormatMetricValue(-3), "-3");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  EXPECT_EQ(FormatMetricValue(0.0005), "0.0005");
  EXPECT_EQ(FormatMetricValue(1e20), "1e+20");
  EXPECT_EQ(FormatMetricValue(12345678.25), "12345678.25");
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatMetricValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
  const double third = 1.0 / 3;
  double parsed = 0;
  ASSERT_TRUE(absl::SimpleAtod(FormatMetricValue(third), &parsed));
  EXPECT_EQ(parsed, third);
}

// Value of the unlabelled sample `name` in `text`, or NaN.
double SampleValue(const std::string& text, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, name + " ")) {
      double v = 0;
      if (absl::SimpleAtod(line.substr(name.size() + 1), &v)) return v;
    }
  }
  return std::nan("");
}

TEST(MetricsTest, ProcessRegistryHasProcessMetrics) {
  const std::string text = Metrics().RenderPrometheus();
  EXPECT_THAT(text, HasSubstr("# TYPE process_resident_memory_bytes gauge\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE process_start_time_seconds gauge\n"));
  EXPECT_GT(SampleValue(text, "process_resident_memory_bytes"), 1024 * 1024);
  const double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  const double start = SampleValue(text, "process_start_time_seconds");
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 3600);
  EXPECT_THAT(MetricsRegistry().RenderPrometheus(), Not(HasSubstr("process_")));
}

TEST(SplitHostPortTest, AcceptsAndRejects) {
  std::string host;
  int port = -1;
  ASSERT_OK(SplitHostPort("127.0.0.1:9464", &host, &port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9464);
  ASSERT_OK(SplitHostPort("[::1]:0", &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  ASSERT_OK(SplitHostPort(":80", &host, &port));
  EXPECT_EQ(host, "");
  for (const char* bad :
       {"", "localhost", "host:", "host:http", "host:70000", "::1:80", "[::1:80", "host:-1"}) {
    EXPECT_THAT(SplitHostPort(bad, &host, &port),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not host:port")))
        << bad;
  }
}

class MetricsHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, MetricsHttpServer::Start(
                                      "127.0.0.1:0", [] { return std::string("x_total 1\n"); }));
    ASSERT_GT(server_->port(), 0);
  }
  std::unique_ptr<MetricsHttpServer> server_;
};

TEST_F(MetricsHttpTest, ServesMetrics) {
  const std::string response = HttpGet(server_->port(), "/metrics");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(response, HasSubstr("Content-Length: 10\r\n"));
  EXPECT_THAT(response, HasSubstr("Connection: close\r\n"));
  EXPECT_THAT(response, ::testing::EndsWith("\r\n\r\nx_total 1\n"));
  EXPECT_THAT(HttpGet(server_->port(), "/metrics?name[]=x"), StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST_F(MetricsHttpTest, OtherRequestsAreRefused) {
  EXPECT_THAT(HttpGet(server_->port(), "/"), StartsWith("HTTP/1.1 404 "));
  EXPECT_THAT(HttpGet(server_->port(), "/metricsx"), StartsWith("HTTP/1.1 404 "));
  EXPECT_THAT(RawHttp(server_->port(), "POST /metrics HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 404 "));
  EXPECT_THAT(RawHttp(server_->port(), "garbage\r\n\r\n"), StartsWith("HTTP/1.1 400 "));
  const std::string huge = "GET /metrics HTTP/1.1\r\nX: " + std::string(10000, 'a') + "\r\n\r\n";
  EXPECT_THAT(RawHttp(server_->port(), huge), StartsWith("HTTP/1.1 400 "));
  // Still serving after all that.
  EXPECT_THAT(HttpGet(server_->port(), "/metrics"), StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST_F(MetricsHttpTest, StopsPromptlyWithAnIdleClientConnected) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::send(fd, "GET /met", 8, MSG_NOSIGNAL);  // never finishes the request
  const auto start = std::chrono::steady_clock::now();
  server_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ::close(fd);
}

TEST_F(MetricsHttpTest, IdleClientsDoNotStarveScrapes) {
  // Fewer idle connections than workers: a scrape is answered at once, not after their timeout.
  std::vector<int> idle;
  for (int i = 0; i + 1 < MetricsHttpServer::kWorkers; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::send(fd, "GET /met", 8, MSG_NOSIGNAL);  // and never more
    idle.push_back(fd);
  }
  absl::SleepFor(absl::Milliseconds(100));  // let the workers take the idle connections
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(HttpGet(server_->port(), "/metrics"), StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  for (int fd : idle) ::close(fd);
}

// CPU time this process has used (all threads).
absl::Duration ProcessCpu() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return absl::DurationFromTimeval(usage.ru_utime) + absl::DurationFromTimeval(usage.ru_stime);
}

TEST_F(MetricsHttpTest, AcceptOutOfDescriptorsBacksOffAndServesOnceTheyAreBack) {
  // The client's socket first: connect(2) needs no new descriptor.
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(client, 0);
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old_limit), 0);
  // Use up every descriptor under a lowered soft limit, so that accept(2) fails with EMFILE.
  rlimit low = old_limit;
  low.rlim_cur = static_cast<rlim_t>(client) + 64;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> hogs;
  for (int fd; (fd = ::dup(client)) >= 0;) hogs.push_back(fd);
  ASSERT_EQ(errno, EMFILE);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);  // queued

  // The workers see the pending connection, fail to accept it and back off: they do not spin.
  absl::SleepFor(absl::Milliseconds(100));
  const absl::Duration cpu_before = ProcessCpu();
  absl::SleepFor(absl::Seconds(1));
  const absl::Duration cpu = ProcessCpu() - cpu_before;
  for (int fd : hogs) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old_limit), 0);
  // Spinning, the workers would take most of a core; backing off (100 ms) about nothing.
  EXPECT_LT(cpu, absl::Milliseconds(150));

  // With descriptors back, the queued connection is served.
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(client, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  timeval timeout{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  char buf[64] = {};
  const ssize_t n = ::recv(client, buf, sizeof(buf) - 1, 0);
  ::close(client);
  ASSERT_GT(n, 0);
  EXPECT_THAT(std::string(buf, static_cast<size_t>(n)), StartsWith("HTTP/1.1 200 OK"));
}

TEST(MetricsHttpStartTest, PortInUseAndBadAddressAreErrors) {
  ASSERT_OK_AND_ASSIGN(auto first, MetricsHttpServer::Start("127.0.0.1:0"));
  EXPECT_THAT(MetricsHttpServer::Start("127.0.0.1:" + std::to_string(first->port())),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("Address already in use")));
  EXPECT_THAT(MetricsHttpServer::Start("127.0.0.1"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace smp
