#include "tests/integration/service_process.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/db/testing/postgres_server.h"
#include "common/db/testing/test_database.h"
#include "gtest/gtest.h"

namespace smp::testing {
namespace {

// Reads "grpc_port=N" from the ready file; 0 while it is not there yet.
int ReadPort(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    int port = 0;
    if (kv.size() == 2 && kv[0] == "grpc_port" && absl::SimpleAtoi(kv[1], &port)) return port;
  }
  return 0;
}

// The PostgreSQL database of (`service`, `data_dir`): a stable name (FNV-1a of both), so every
// process on that data dir, in this test process, meets the same database.
std::string PostgresDatabaseName(const std::string& service, const std::string& data_dir) {
  uint64_t hash = 14695981039346656037ull;
  for (const char c : service + '\0' + data_dir) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  std::string name = "svc_";
  for (const char c : service) name += absl::ascii_isalnum(c) ? absl::ascii_tolower(c) : '_';
  return absl::StrCat(name.substr(0, 30), "_", absl::Hex(hash, absl::kZeroPad16));
}

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The flags that put `binary` on its PostgreSQL database under SMP_TEST_BACKEND=postgresql;
// none on SQLite, when `args` choose a --database themselves, or have no --data_dir.
absl::StatusOr<std::vector<std::string>> DatabaseFlags(const std::string& binary,
                                                       const std::vector<std::string>& args) {
  if (BackendFromEnvironment() != Backend::kPostgresql) return std::vector<std::string>{};
  std::string data_dir;
  for (const std::string& arg : args) {
    if (absl::StartsWith(arg, "--database=") || absl::StartsWith(arg, "--database_password")) {
      return std::vector<std::string>{};
    }
    if (absl::StartsWith(arg, "--data_dir=")) data_dir = arg.substr(std::strlen("--data_dir="));
  }
  if (data_dir.empty()) return std::vector<std::string>{};
  PostgresServer& server = SharedPostgresServer();
  const std::string name = PostgresDatabaseName(Basename(binary), data_dir);
  if (absl::Status s = server.EnsureDatabase(name); !s.ok()) return s;
  // One password file for every service of this test process.
  static const std::string* const password_file =
      new std::string(WritePrivateFile("database.password", server.password() + "\n"));
  return std::vector<std::string>{
      absl::StrCat("--database=postgresql://smp@127.0.0.1:", server.port(), "/", name),
      "--database_password_file=" + *password_file};
}

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenServiceDatabaseOf(const std::string& service,
                                                                const std::string& data_dir) {
  if (BackendFromEnvironment() == Backend::kSqlite) {
    return OpenSqliteDatabase(data_dir + "/" + service + ".sqlite");
  }
  PostgresServer& server = SharedPostgresServer();
  const std::string name = PostgresDatabaseName(service, data_dir);
  if (absl::Status s = server.EnsureDatabase(name); !s.ok()) return s;
  return OpenPostgresDatabase(server.Options(name));
}

std::string MakeTempDir(const std::string& prefix) {
  std::string dir = ::testing::TempDir();
  if (dir.empty() || dir.back() != '/') dir += '/';
  std::string pattern = dir + prefix + "XXXXXX";
  char* made = ::mkdtemp(pattern.data());
  return made ? std::string(made) : std::string();
}

std::string WritePrivateFile(const std::string& name, const std::string& contents) {
  const std::string path = MakeTempDir("private") + "/" + name;
  {
    std::ofstream out(path);
    out << contents;
  }
  if (::chmod(path.c_str(), 0600) != 0) {
    ADD_FAILURE() << "cannot write " << path;
    return "";
  }
  return path;
}

std::string SetupCodeFileFlag(const std::string& code) {
  return "--setup_code_file=" + WritePrivateFile("setup-code", code + "\n");
}

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    const std::string& binary, const std::vector<std::string>& args) {
  std::unique_ptr<ServiceProcess> process(new ServiceProcess());
  process->ready_file_ = MakeTempDir("ready") + "/ready";
  std::vector<std::string> argv = {binary, "--listen=127.0.0.1:0",
                                   "--ready_file=" + process->ready_file_};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<std::vector<std::string>> database_flags = DatabaseFlags(binary, args);
  if (!database_flags.ok()) return database_flags.status();
  argv.insert(argv.end(), database_flags->begin(), database_flags->end());

  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    // The child dies with the test, so a failed test leaves nothing running.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  process->pid_ = pid;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      process->pid_ = -1;
      return absl::UnavailableError(
          absl::StrCat(binary, " exited during start-up, status ", status));
    }
    process->port_ = ReadPort(process->ready_file_);
    if (process->port_ > 0) return process;
    absl::SleepFor(absl::Milliseconds(20));
  }
  process->Kill();
  return absl::DeadlineExceededError(absl::StrCat(binary, " did not become ready in 20 s"));
}

ServiceProcess::~ServiceProcess() {
  if (pid_ > 0) Stop();
}

std::string ServiceProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

int ServiceProcess::Stop() {
  if (pid_ <= 0) return 0;
  ::kill(pid_, SIGTERM);
  int status = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  pid_ = -1;
  return status;
}

void ServiceProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace smp::testing
