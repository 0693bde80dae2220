#ifndef SMP_TESTS_INTEGRATION_REPLICA_TESTING_H_
#define SMP_TESTS_INTEGRATION_REPLICA_TESTING_H_

// What the multi-replica tests share: one database for every replica of a service (one SQLite
// file that several processes open, or one PostgreSQL database on the test's server), one gRPC
// address over the replicas (a round_robin channel), and a TCP proxy that can hold traffic, to
// catch a peer call in flight.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/db/database.h"
#include "common/db/testing/test_database.h"

namespace smp::testing {

// The one database that every replica of `service` opens.
struct SharedDatabase {
  // Flags for each replica: `--data_dir=<one directory>` and, on PostgreSQL,
  // `--database=postgresql://smp@127.0.0.1:<port>/<database>` and `--database_password_file=`.
  std::vector<std::string> flags;
  // Where it is, for the test to read it directly (Open in test_database.h).
  TestDatabase where;
};

// A new, empty database for the replicas of `service` ("scheduling", "billing"): on SQLite the
// file `<data_dir>/<service>.sqlite` the first replica creates; on PostgreSQL a new database on
// SharedPostgresServer(), the password in a 0600 file.
absl::StatusOr<SharedDatabase> NewSharedDatabase(Backend backend, const std::string& service);

// One channel over `addresses` ("127.0.0.1:<port>" each): target `ipv4:a,b,c` with the
// round_robin load-balancing policy set by service config, so consecutive calls go to each
// replica in turn and a replica that goes away is skipped once its connection fails.
std::shared_ptr<grpc::Channel> RoundRobinChannel(const std::vector<std::string>& addresses);

// A TCP proxy on a free loopback port in front of `upstream`. While held, the bytes it reads in
// either direction wait in the proxy (calls through it hang, requests reach the upstream only
// after Release); connections keep their order. Closed connections are passed on after their
// held bytes. Threads are joined and sockets closed when the object goes.
class HoldingProxy {
 public:
  static absl::StatusOr<std::unique_ptr<HoldingProxy>> Start(int upstream_port);
  ~HoldingProxy();
  HoldingProxy(const HoldingProxy&) = delete;
  HoldingProxy& operator=(const HoldingProxy&) = delete;

  // "127.0.0.1:<port>" of the proxy.
  std::string address() const;
  void Hold();
  void Release();
  // Connections accepted so far.
  int connections() const { return connections_.load(); }

 private:
  HoldingProxy() = default;
  void AcceptLoop();
  void Pump(int from, int to);
  // Blocks while held; false once the proxy is closing.
  bool WaitUntilReleased();

  int listen_fd_ = -1;
  int port_ = 0;
  int upstream_port_ = 0;
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  absl::Mutex mu_;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<int> fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> pumps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smp::testing

#endif  // SMP_TESTS_INTEGRATION_REPLICA_TESTING_H_
