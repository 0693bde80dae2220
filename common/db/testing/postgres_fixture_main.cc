// smp_postgres_fixture start|stop <state file>: one PostgreSQL server for a whole ctest run.
//
// ctest runs `start` as the FIXTURES_SETUP of every test labelled postgresql and `stop` as its
// FIXTURES_CLEANUP (common/db/CMakeLists.txt). `start` leaves a small keeper process behind that
// owns the server (postgres_server.h: started as the `postgres` user when we are root) and writes
// the state file (port, password, the keeper's PID); the tests find it through
// $SMP_TEST_POSTGRES_SERVER and each makes and drops its own databases. `stop` signals the keeper
// by that PID, which stops the server and removes the file. The keeper also gives up by itself
// after kMaxLifetime, so an interrupted run leaves nothing behind for long.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/db/testing/postgres_server.h"

namespace {

constexpr absl::Duration kMaxLifetime = absl::Hours(3);

// The keeper's PID from `state_file`, or 0.
pid_t KeeperPid(const std::string& state_file) {
  std::ifstream in(state_file);
  std::string line;
  while (std::getline(in, line)) {
    int pid = 0;
    if (absl::StartsWith(line, "pid=") && absl::SimpleAtoi(line.substr(4), &pid)) return pid;
  }
  return 0;
}

int Stop(const std::string& state_file) {
  const pid_t keeper = KeeperPid(state_file);
  if (keeper <= 0) return 0;  // nothing running
  if (::kill(keeper, SIGTERM) != 0) {
    std::remove(state_file.c_str());  // a keeper that is gone already
    return 0;
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (::kill(keeper, 0) == 0) {
    if (absl::Now() > deadline) {
      std::fprintf(stderr, "the PostgreSQL keeper %d did not stop within 60 s\n", keeper);
      return 1;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return 0;
}

// The keeper: owns the server until SIGTERM (or kMaxLifetime). Reports to `report` ("" for ready,
// else the error) and closes it.
[[noreturn]] void Keep(const std::string& state_file, int report) {
  ::setsid();
  // Away from ctest's pipes (ctest waits for them to close), into a log beside the state file.
  const int log = ::open((state_file + ".log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const int null = ::open("/dev/null", O_RDONLY);
  if (null >= 0) ::dup2(null, STDIN_FILENO);
  if (log >= 0) {
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
  }
  // Nor any other descriptor ctest's process may have passed on (its pipes among them).
  const long max_fd = std::min(::sysconf(_SC_OPEN_MAX), 65536L);
  for (int fd = STDERR_FILENO + 1; fd < max_fd; ++fd) {
    if (fd != report) ::close(fd);
  }
  absl::StatusOr<std::unique_ptr<smp::testing::PostgresServer>> server =
      smp::testing::PostgresServer::Start();
  // Blocked only now, so the server's processes do not inherit the mask; a stop signal before
  // this point kills the keeper, and the server with it (PR_SET_PDEATHSIG).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  ::sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
  absl::Status status = server.status();
  if (status.ok()) status = (*server)->WriteStateFile(state_file, ::getpid());
  const std::string message = status.ok() ? "" : status.ToString();
  (void)!::write(report, message.empty() ? "+" : message.c_str(),
                 message.empty() ? 1 : message.size());
  ::close(report);
  if (!status.ok()) ::_exit(1);
  std::fprintf(stderr, "PostgreSQL on 127.0.0.1:%d for this test run\n", (*server)->port());

  const timespec lifetime{static_cast<time_t>(absl::ToInt64Seconds(kMaxLifetime)), 0};
  ::sigtimedwait(&stop_signals, nullptr, &lifetime);
  (*server)->Stop();
  std::remove(state_file.c_str());
  ::_exit(0);
}

int Start(const std::string& state_file) {
  if (KeeperPid(state_file) > 0 && Stop(state_file) != 0) return 1;  // an earlier run's
  int pipe_fds[2];
  // Close-on-exec: the server's processes must not hold the write end (this read would wait for
  // them to exit).
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    std::perror("pipe");
    return 1;
  }
  const pid_t keeper = ::fork();
  if (keeper < 0) {
    std::perror("fork");
    return 1;
  }
  if (keeper == 0) {
    ::close(pipe_fds[0]);
    Keep(state_file, pipe_fds[1]);
  }
  ::close(pipe_fds[1]);
  std::string report;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0) report.append(buffer, n);
  ::close(pipe_fds[0]);
  if (report != "+") {
    std::fprintf(stderr, "cannot start PostgreSQL for the tests: %s\n",
                 report.empty() ? "the keeper died" : report.c_str());
    int status = 0;
    ::waitpid(keeper, &status, 0);
    return 1;
  }
  std::printf("PostgreSQL for this test run: %s (keeper %d)\n", state_file.c_str(), keeper);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "start") != 0 && std::strcmp(argv[1], "stop") != 0)) {
    std::fprintf(stderr, "usage: %s start|stop <state file>\n", argv[0]);
    return 2;
  }
  return std::strcmp(argv[1], "start") == 0 ? Start(argv[2]) : Stop(argv[2]);
}
