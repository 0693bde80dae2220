#include "common/db/testing/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status/status_macros.h"
#include "common/util/ids.h"

namespace smp::testing {
namespace {

constexpr char kSuperuser[] = "smp";

std::string BinDir() {
  const char* dir = std::getenv("SMP_POSTGRES_BIN");
  return dir != nullptr && *dir != '\0' ? dir : "/usr/lib/postgresql/15/bin";
}

// The account PostgreSQL runs as: ours, or `postgres` when we are root.
struct RunAs {
  bool as_postgres = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

absl::StatusOr<RunAs> WhoRuns() {
  RunAs who;
  if (::geteuid() != 0) return who;
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    return absl::FailedPreconditionError(
        "running as root, and PostgreSQL refuses root: no `postgres` user to run it as "
        "(apt-get install postgresql-15 creates it)");
  }
  who.as_postgres = true;
  who.uid = pw->pw_uid;
  who.gid = pw->pw_gid;
  return who;
}

// argv for `program args...`, through runuser when PostgreSQL must run as `postgres`.
std::vector<std::string> Command(const RunAs& who, const std::string& program,
                                 std::vector<std::string> args) {
  std::vector<std::string> argv;
  if (who.as_postgres) argv = {"/usr/sbin/runuser", "-u", "postgres", "--"};
  argv.push_back(program);
  for (std::string& a : args) argv.push_back(std::move(a));
  return argv;
}

// Starts `argv` with stdout and stderr appended to `log`; the child gets SIGTERM if this process
// dies first (runuser passes it on to postgres), so a crashed test leaves no server behind.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("open ", log, ": ", std::strerror(errno)));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fd);
  return pid;
}

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  const std::string text = contents.str();
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

absl::StatusOr<int> FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("bind: ", std::strerror(errno)));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Waits for `pid` to exit, at most `timeout`; its exit status, or -1 if it is still running.
int WaitFor(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0) return 0;  // not our child any more
    if (absl::Now() >= deadline) return -1;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

absl::Status Chown(const std::string& path, const RunAs& who) {
  if (!who.as_postgres) return absl::OkStatus();
  if (::chown(path.c_str(), who.uid, who.gid) != 0) {
    return absl::UnavailableError(absl::StrCat("chown ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// initdb takes about a second; copying a cluster it made takes a tenth of that. So the first test
// process of a machine makes a template cluster (per user and fixture version) and every server
// starts from a copy. The template is made in a temporary directory and renamed into place, so a
// half-made one is never used; two processes racing to make it both succeed, one rename wins.
absl::StatusOr<std::string> TemplateCluster(const RunAs& who) {
  const std::string path = absl::StrCat("/tmp/smp-postgres-template-v1-", ::geteuid());
  struct stat st;
  if (::stat((path + "/data/PG_VERSION").c_str(), &st) == 0) return path;
  std::string pattern = "/tmp/smp-postgres-making-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::UnavailableError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  const std::string making = pattern;
  auto give_up = [&](absl::Status status) {
    std::error_code ignored;
    std::filesystem::remove_all(making, ignored);
    return status;
  };
  if (absl::Status s = Chown(making, who); !s.ok()) return give_up(s);
  const std::string password_file = making + "/password";
  {
    std::ofstream out(password_file);
    out << NewId() << "\n";
  }
  ::chmod(password_file.c_str(), 0600);
  if (absl::Status s = Chown(password_file, who); !s.ok()) return give_up(s);
  const std::string log = making + "/initdb.log";
  absl::StatusOr<pid_t> initdb =
      Spawn(Command(who, BinDir() + "/initdb",
                    {"-D", making + "/data", "-U", kSuperuser, "--pwfile=" + password_file,
                     "--auth=scram-sha-256", "--no-locale", "--encoding=UTF8", "--no-sync",
                     "--no-instructions"}),
            log);
  if (!initdb.ok()) return give_up(initdb.status());
  if (WaitFor(*initdb, absl::Minutes(2)) != 0) {
    return give_up(absl::UnavailableError(absl::StrCat("initdb failed: ", Tail(log))));
  }
  if (::rename(making.c_str(), path.c_str()) != 0) {
    (void)give_up(absl::OkStatus());  // another process made it first
    if (::stat((path + "/data/PG_VERSION").c_str(), &st) != 0) {
      return absl::UnavailableError(absl::StrCat("cannot make ", path, ": ", std::strerror(errno)));
    }
  }
  return path;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  absl::StatusOr<RunAs> who = WhoRuns();
  if (!who.ok()) return who.status();
  absl::StatusOr<std::string> cluster = TemplateCluster(*who);
  if (!cluster.ok()) return cluster.status();
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  // Under /tmp rather than $TMPDIR: every user (postgres too) can reach it.
  std::string pattern = "/tmp/smp-postgres-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::UnavailableError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  server->dir_ = pattern;
  if (absl::Status s = Chown(server->dir_, *who); !s.ok()) return s;
  {
    std::ifstream in(*cluster + "/password");
    std::getline(in, server->password_);
  }
  const std::string data = server->dir_ + "/data";
  const std::string log = server->dir_ + "/server.log";
  // cp -a keeps the owner (postgres) and the 0700 mode postgres insists on.
  absl::StatusOr<pid_t> copy = Spawn({"/bin/cp", "-a", *cluster + "/data", data}, log);
  if (!copy.ok()) return copy.status();
  if (WaitFor(*copy, absl::Minutes(1)) != 0 || server->password_.empty()) {
    return absl::UnavailableError(absl::StrCat("cannot copy the template cluster ", *cluster,
                                               " (remove it to make it anew): ", Tail(log)));
  }

  // A port found free may be taken before postgres binds it: try a few.
  for (int attempt = 0; attempt < 3; ++attempt) {
    absl::StatusOr<int> port = FreeLoopbackPort();
    if (!port.ok()) return port.status();
    absl::StatusOr<pid_t> child = Spawn(
        Command(*who, BinDir() + "/postgres",
                {"-D", data, "-p", std::to_string(*port), "-h", "127.0.0.1", "-k", server->dir_,
                 "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                 "-c", "max_connections=200", "-c", "logging_collector=off"}),
        log);
    if (!child.ok()) return child.status();
    server->child_ = *child;
    server->port_ = *port;
    const std::string ping = absl::StrCat(
        "host=127.0.0.1 port=", *port, " dbname=postgres user=", kSuperuser, " connect_timeout=2");
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      if (PQping(ping.c_str()) == PQPING_OK) return server;
      int status = 0;
      if (::waitpid(*child, &status, WNOHANG) == *child) {
        server->child_ = -1;
        break;  // exited: the port was taken, or worse (the log says)
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    if (server->child_ > 0) break;  // running but never ready
  }
  return absl::UnavailableError(absl::StrCat("postgres did not start: ", Tail(log)));
}

PostgresServer::~PostgresServer() { Stop(); }

void PostgresServer::Stop() {
  if (attached_) {
    // WITH (FORCE): a connection pool a test leaked must not keep its database alive.
    std::vector<std::string> created;
    created.swap(created_);
    if (created.empty()) return;
    const char* keys[] = {"host", "port", "user", "password", "dbname", nullptr};
    const std::string port = std::to_string(port_);
    const char* values[] = {"127.0.0.1",       port.c_str(), kSuperuser,
                            password_.c_str(), "postgres",   nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, 0);
    if (PQstatus(conn) == CONNECTION_OK) {
      for (const std::string& name : created) {
        PQclear(
            PQexec(conn, absl::StrCat("DROP DATABASE IF EXISTS ", name, " WITH (FORCE)").c_str()));
      }
    }
    PQfinish(conn);
    return;
  }
  if (child_ > 0) {
    // The postmaster's PID is the first line of postmaster.pid (as root, child_ is runuser's).
    pid_t postmaster = child_;
    std::ifstream pid_file(dir_ + "/data/postmaster.pid");
    long pid = 0;
    if (pid_file >> pid && pid > 0) postmaster = static_cast<pid_t>(pid);
    ::kill(postmaster, SIGINT);  // fast shutdown: disconnect clients, checkpoint, exit
    if (WaitFor(child_, absl::Seconds(30)) < 0) {
      ::kill(postmaster, SIGKILL);
      ::kill(child_, SIGKILL);
      WaitFor(child_, absl::Seconds(10));
    }
    child_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    dir_.clear();
  }
}

std::string PostgresServer::ConnInfo(const std::string& database) const {
  return absl::StrCat("host=127.0.0.1 port=", port_, " user=", kSuperuser, " dbname=", database);
}

PostgresOptions PostgresServer::Options(const std::string& database) const {
  PostgresOptions options;
  options.conninfo = ConnInfo(database);
  options.password = password_;
  return options;
}

namespace {

// CREATE DATABASE `name` on `server`'s cluster; OK if it exists and `exists_ok`.
absl::Status CreateNamedDatabase(int port, const std::string& password, const std::string& name,
                                 const std::string& locale, bool exists_ok) {
  const char* keys[] = {"host", "port", "user", "password", "dbname", nullptr};
  const std::string port_text = std::to_string(port);
  const char* values[] = {"127.0.0.1",      port_text.c_str(), kSuperuser,
                          password.c_str(), "postgres",        nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 0);
  absl::Status status;
  if (PQstatus(conn) != CONNECTION_OK) {
    status = absl::UnavailableError(absl::StrCat("connect: ", PQerrorMessage(conn)));
  } else {
    const std::string sql = absl::StrCat(
        "CREATE DATABASE ", name, " TEMPLATE template0 ENCODING 'UTF8' LOCALE '", locale, "'");
    PGresult* result = PQexec(conn, sql.c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
      const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
      const bool exists = state != nullptr && std::strcmp(state, "42P04") == 0;
      if (!(exists && exists_ok)) {
        status = absl::UnavailableError(absl::StrCat(sql, ": ", PQresultErrorMessage(result)));
      }
    }
    PQclear(result);
  }
  PQfinish(conn);
  return status;
}

}  // namespace

absl::StatusOr<std::string> PostgresServer::CreateDatabase(const std::string& locale) {
  // Unique across the test processes sharing a server (a PID alone may come back).
  const std::string name = absl::StrCat("test_", absl::AsciiStrToLower(NewId()));
  if (absl::Status s = CreateNamedDatabase(port_, password_, name, locale, false); !s.ok()) {
    return s;
  }
  if (attached_) created_.push_back(name);
  return name;
}

absl::Status PostgresServer::EnsureDatabase(const std::string& name) {
  RETURN_IF_ERROR(CreateNamedDatabase(port_, password_, name, "C", true));
  if (attached_ && std::find(created_.begin(), created_.end(), name) == created_.end()) {
    created_.push_back(name);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Attach(
    const std::string& state_file) {
  std::ifstream in(state_file);
  if (!in) return absl::NotFoundError(absl::StrCat("no PostgreSQL state file ", state_file));
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->attached_ = true;
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "port=")) {
      (void)absl::SimpleAtoi(line.substr(5), &server->port_);
    } else if (absl::StartsWith(line, "password=")) {
      server->password_ = line.substr(9);
    }
  }
  if (server->port_ <= 0 || server->password_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(state_file, " names no port and password"));
  }
  // Connect once now: it proves the server is there, and it initialises OpenSSL (libpq's SCRAM
  // uses it), whose clean-up at exit must come after the one SharedPostgresServer registers next
  // (exit handlers run last registered first), which drops the databases through libpq.
  const char* keys[] = {"host", "port", "user", "password", "dbname", nullptr};
  const std::string port = std::to_string(server->port_);
  const char* values[] = {"127.0.0.1", port.c_str(), kSuperuser, server->password_.c_str(),
                          "postgres",  nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 0);
  absl::Status status;
  if (PQstatus(conn) != CONNECTION_OK) {
    status = absl::UnavailableError(absl::StrCat("the PostgreSQL server of ", state_file,
                                                 " does not answer: ", PQerrorMessage(conn)));
  }
  PQfinish(conn);
  if (!status.ok()) return status;
  return server;
}

absl::Status PostgresServer::WriteStateFile(const std::string& state_file, pid_t owner) const {
  const std::string temporary = absl::StrCat(state_file, ".", ::getpid(), ".tmp");
  {
    std::ofstream out(temporary);
    out << "port=" << port_ << "\npassword=" << password_ << "\npid=" << owner << "\n";
    if (!out.flush()) return absl::UnavailableError(absl::StrCat("cannot write ", temporary));
  }
  ::chmod(temporary.c_str(), 0600);
  if (::rename(temporary.c_str(), state_file.c_str()) != 0) {
    return absl::UnavailableError(
        absl::StrCat("rename to ", state_file, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

PostgresServer& SharedPostgresServer() {
  static PostgresServer* const server = [] {
    const char* state_file = std::getenv("SMP_TEST_POSTGRES_SERVER");
    absl::StatusOr<std::unique_ptr<PostgresServer>> started =
        state_file != nullptr && *state_file != '\0' ? PostgresServer::Attach(state_file)
                                                     : PostgresServer::Start();
    if (!started.ok()) {
      std::fprintf(stderr, "cannot start PostgreSQL for the tests: %s\n",
                   started.status().ToString().c_str());
      std::abort();
    }
    PostgresServer* s = started->release();
    // Stopped at exit (by its PID), so no server outlives the test program.
    std::atexit([] { SharedPostgresServer().Stop(); });
    return s;
  }();
  return *server;
}

}  // namespace smp::testing
