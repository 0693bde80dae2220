#include "common/redis/testing/redis_server.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/util/crypto.h"

namespace smp::testing {
namespace {

constexpr absl::Duration kReadyTimeout = absl::Seconds(5);
constexpr absl::Duration kStopTimeout = absl::Seconds(5);

int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::fprintf(stderr, "RedisServer: socket: %s\n", std::strerror(errno));
    std::abort();
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::fprintf(stderr, "RedisServer: cannot pick a free port: %s\n", std::strerror(errno));
    std::abort();
  }
  close(fd);
  return ntohs(address.sin_port);
}

// True when the server at `port` answers PING (after AUTH when a password is set).
bool Pings(int port, const std::string& user, const std::string& password) {
  redisContext* context =
      redisConnectWithTimeout("127.0.0.1", port, absl::ToTimeval(absl::Milliseconds(100)));
  if (context == nullptr) return false;
  bool ok = false;
  if (context->err == 0) {
    redisSetTimeout(context, absl::ToTimeval(absl::Milliseconds(500)));
    bool authed = true;
    if (!password.empty()) {
      auto* reply = static_cast<redisReply*>(
          user.empty() ? redisCommand(context, "AUTH %b", password.data(), password.size())
                       : redisCommand(context, "AUTH %b %b", user.data(), user.size(),
                                      password.data(), password.size()));
      authed = reply != nullptr && reply->type != REDIS_REPLY_ERROR;
      if (reply != nullptr) freeReplyObject(reply);
    }
    if (authed) {
      auto* reply = static_cast<redisReply*>(redisCommand(context, "PING"));
      ok = reply != nullptr && reply->type == REDIS_REPLY_STATUS &&
           std::string(reply->str, reply->len) == "PONG";
      if (reply != nullptr) freeReplyObject(reply);
    }
  }
  redisFree(context);
  return ok;
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("killed by signal ", WTERMSIG(status));
  return absl::StrCat("ended with wait status ", status);
}

}  // namespace

std::string FindRedisServerBinary() {
  if (const char* configured = std::getenv("SMP_REDIS_SERVER"); configured && *configured) {
    return configured;
  }
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
      std::string candidate = absl::StrCat(dir, "/redis-server");
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return "/usr/bin/redis-server";
}

RedisServer::RedisServer(std::vector<std::string> extra_args)
    : extra_args_(std::move(extra_args)), port_(PickFreePort()) {
  for (size_t i = 0; i + 1 < extra_args_.size(); ++i) {
    if (extra_args_[i] == "--requirepass") password_ = extra_args_[i + 1];
  }
}

RedisServer::~RedisServer() {
  absl::Status status = Stop();
  if (!status.ok()) std::fprintf(stderr, "RedisServer: %s\n", status.ToString().c_str());
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::StartNew(
    std::vector<std::string> extra_args) {
  // Another process may take the port between picking and binding it: try a few ports.
  absl::Status status;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto server = std::make_unique<RedisServer>(extra_args);
    status = server->Start();
    if (status.ok()) return server;
  }
  return status;
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::StartNewWithAcl(
    const std::string& user, const std::string& password, std::vector<std::string> extra_args) {
  // `default` keeps its rights but gets a password nobody knows (only its hash is passed), rather
  // than being switched off: Redis 7.0 replays MULTI/EXEC from the append-only file as `default`
  // and silently drops them when it is off (redis/redis#14541).
  std::vector<std::string> args = {
      "--user", "default", "on", "#" + Sha256Hex(RandomBytes(32)), "~*", "&*", "+@all",
      "--user", user,      "on", "#" + Sha256Hex(password),        "~*", "&*", "+@all"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  absl::Status status;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto server = std::make_unique<RedisServer>(args);
    server->user_ = user;
    server->password_ = password;
    status = server->Start();
    if (status.ok()) return server;
  }
  return status;
}

RedisOptions RedisServer::options() const {
  RedisOptions options;
  options.host = "127.0.0.1";
  options.port = port_;
  options.user = user_;
  options.password = password_;
  options.connect_timeout = absl::Milliseconds(500);
  options.command_timeout = absl::Seconds(2);
  return options;
}

absl::Status RedisServer::Start() {
  if (running()) return absl::FailedPreconditionError("redis-server is already running");
  std::string binary = FindRedisServerBinary();
  // --hz 100: Redis acts on SIGTERM from its 10 Hz cron by default; 100 Hz makes Stop() ~10 ms.
  std::vector<std::string> args = {binary};
  if (!sentinel_config_.empty()) {  // the config file must come first
    args.push_back(sentinel_config_);
    args.push_back("--sentinel");
  }
  args.insert(args.end(), {"--port", absl::StrCat(port_), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--daemonize", "no", "--hz", "100"});
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  // Everything the child needs is prepared before fork: after fork in a multi-threaded process
  // only async-signal-safe calls are allowed.
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int dev_null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (dev_null < 0)
    return absl::InternalError(absl::StrCat("open /dev/null: ", std::strerror(errno)));
  pid_t parent = getpid();

  pid_t pid = fork();
  if (pid < 0) {
    close(dev_null);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    dup2(dev_null, STDOUT_FILENO);  // redis logs to stdout; keep test output readable
    close_range(3, ~0U, 0);         // do not hold the test's sockets open
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(dev_null);
  pid_ = pid;
  return WaitUntilReady();
}

absl::Status RedisServer::WaitUntilReady() {
  absl::Time deadline = absl::Now() + kReadyTimeout;
  while (true) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::UnavailableError(
          absl::StrCat("redis-server on port ", port_, " ", DescribeExit(status),
                       " before answering PING (binary: ", FindRedisServerBinary(), ")"));
    }
    if (Pings(port_, user_, password_)) return absl::OkStatus();
    if (absl::Now() > deadline) {
      Stop().IgnoreError();
      return absl::UnavailableError(absl::StrCat("redis-server on port ", port_,
                                                 " did not answer PING within ",
                                                 absl::FormatDuration(kReadyTimeout)));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

absl::Status RedisServer::Stop() {
  if (!running()) return absl::OkStatus();
  pid_t pid = pid_;
  pid_ = -1;
  if (kill(pid, SIGTERM) != 0 && errno != ESRCH) {
    return absl::InternalError(absl::StrCat("kill ", pid, ": ", std::strerror(errno)));
  }
  absl::Time deadline = absl::Now() + kStopTimeout;
  while (true) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno == ECHILD)) return absl::OkStatus();
    if (absl::Now() > deadline) break;
    absl::SleepFor(absl::Milliseconds(2));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return absl::DeadlineExceededError(absl::StrCat("redis-server pid ", pid, " ignored SIGTERM for ",
                                                  absl::FormatDuration(kStopTimeout), "; killed"));
}

absl::Status RedisServer::Kill() {
  if (!running()) return absl::OkStatus();
  pid_t pid = pid_;
  pid_ = -1;
  if (kill(pid, SIGKILL) != 0 && errno != ESRCH) {
    return absl::InternalError(absl::StrCat("kill -9 ", pid, ": ", std::strerror(errno)));
  }
  waitpid(pid, nullptr, 0);
  return absl::OkStatus();
}

}  // namespace smp::testing
