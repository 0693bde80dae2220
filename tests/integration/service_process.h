#ifndef SMP_TESTS_INTEGRATION_SERVICE_PROCESS_H_
#define SMP_TESTS_INTEGRATION_SERVICE_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/database.h"

namespace smp::testing {

// One of the suite's service binaries running as a child process, on a free loopback port, for
// multi-process tests. The binary gets `--listen=127.0.0.1:0 --ready_file=...` on top of `args`;
// Start returns once the ready file names the port it bound (at most 20 s).
//
// The backend is the one SMP_TEST_BACKEND names (common/db/testing/test_database.h). On SQLite
// the service keeps its database in its --data_dir. Under `postgresql`, when `args` hold a
// --data_dir and no --database, the service is given --database=postgresql://... and
// --database_password_file for a database of its own on this test process's PostgreSQL server,
// named after the binary and the data dir: a service restarted, or a second process started, on
// the same data dir finds the same database (so restart and two-replica tests keep their
// meaning), and another data dir gets another database.
//
// Only the child this object started is ever signalled, by its PID.
class ServiceProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(
      const std::string& binary, const std::vector<std::string>& args);
  ~ServiceProcess();

  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  // "127.0.0.1:<port>".
  std::string address() const;
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  // SIGTERM and wait: the graceful path. Returns the exit status (as from waitpid).
  int Stop();
  // SIGKILL and wait: a crash.
  void Kill();

 private:
  ServiceProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string ready_file_;
};

// The database a service binary named `service` (e.g. "compliance") keeps for `data_dir` on the
// test backend, opened directly, as someone with access to the files or the database server
// could: <data_dir>/<service>.sqlite, or the PostgreSQL database ServiceProcess gives it.
absl::StatusOr<std::unique_ptr<Database>> OpenServiceDatabaseOf(const std::string& service,
                                                                const std::string& data_dir);

// A fresh, empty directory under the test's temporary directory.
std::string MakeTempDir(const std::string& prefix);

// Writes `contents` to a new file `<fresh temporary directory>/<name>` with mode 0600 (as secret
// files must be) and returns its path; "" after recording a test failure.
std::string WritePrivateFile(const std::string& name, const std::string& contents);

// "--setup_code_file=<a 0600 file holding `code`>", for an identity process on an empty system.
std::string SetupCodeFileFlag(const std::string& code);

}  // namespace smp::testing

#endif  // SMP_TESTS_INTEGRATION_SERVICE_PROCESS_H_
