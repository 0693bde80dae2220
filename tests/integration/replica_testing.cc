#include "tests/integration/replica_testing.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/db/testing/postgres_server.h"
#include "tests/integration/service_process.h"

namespace smp::testing {

absl::StatusOr<SharedDatabase> NewSharedDatabase(Backend backend, const std::string& service) {
  SharedDatabase shared;
  const std::string data_dir = MakeTempDir(service + "-replicas");
  shared.flags.push_back("--data_dir=" + data_dir);
  if (backend == Backend::kSqlite) {
    shared.where = TestDatabase{backend, absl::StrCat(data_dir, "/", service, ".sqlite"), {}};
    return shared;
  }
  absl::StatusOr<TestDatabase> where = NewTestDatabase(Backend::kPostgresql);
  if (!where.ok()) return where.status();
  shared.where = *std::move(where);
  PostgresServer& server = SharedPostgresServer();
  const std::string& conninfo = shared.where.postgres.conninfo;
  const size_t name = conninfo.find("dbname=");
  if (name == std::string::npos) {
    return absl::InternalError(absl::StrCat("no dbname in ", conninfo));
  }
  shared.flags.push_back(absl::StrCat("--database=postgresql://smp@127.0.0.1:", server.port(), "/",
                                      conninfo.substr(name + 7)));
  const std::string password_file =
      WritePrivateFile(service + "-db.password", server.password() + "\n");
  if (password_file.empty()) return absl::InternalError("cannot write the password file");
  shared.flags.push_back("--database_password_file=" + password_file);
  return shared;
}

std::shared_ptr<grpc::Channel> RoundRobinChannel(const std::vector<std::string>& addresses) {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(R"({"loadBalancingConfig": [{"round_robin": {}}]})");
  return grpc::CreateCustomChannel(absl::StrCat("ipv4:", absl::StrJoin(addresses, ",")),
                                   grpc::InsecureChannelCredentials(), args);
}

absl::StatusOr<std::unique_ptr<HoldingProxy>> HoldingProxy::Start(int upstream_port) {
  std::unique_ptr<HoldingProxy> proxy(new HoldingProxy());
  proxy->upstream_port_ = upstream_port;
  proxy->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (proxy->listen_fd_ < 0) return absl::InternalError(std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(proxy->listen_fd_, 64) != 0) {
    return absl::InternalError(absl::StrCat("proxy listen: ", std::strerror(errno)));
  }
  socklen_t len = sizeof(addr);
  ::getsockname(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  proxy->port_ = ntohs(addr.sin_port);
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

HoldingProxy::~HoldingProxy() {
  std::vector<std::thread> pumps;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }
  ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  if (acceptor_.joinable()) acceptor_.join();
  {
    absl::MutexLock lock(&mu_);
    pumps.swap(pumps_);
  }
  for (std::thread& t : pumps) t.join();
  absl::MutexLock lock(&mu_);
  for (int fd : fds_) ::close(fd);
  ::close(listen_fd_);
}

std::string HoldingProxy::address() const { return absl::StrCat("127.0.0.1:", port_); }

void HoldingProxy::Hold() {
  absl::MutexLock lock(&mu_);
  held_ = true;
}

void HoldingProxy::Release() {
  absl::MutexLock lock(&mu_);
  held_ = false;
}

bool HoldingProxy::WaitUntilReleased() {
  absl::MutexLock lock(&mu_);
  auto released = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !held_ || closing_; };
  mu_.Await(absl::Condition(&released));
  return !closing_;
}

void HoldingProxy::AcceptLoop() {
  while (true) {
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR) continue;
      return;  // shut down
    }
    const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    if (upstream < 0 ||
        ::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      if (upstream >= 0) ::close(upstream);
      ::close(client);
      continue;
    }
    ++connections_;
    absl::MutexLock lock(&mu_);
    if (closing_) {
      ::close(client);
      ::close(upstream);
      return;
    }
    fds_.push_back(client);
    fds_.push_back(upstream);
    pumps_.emplace_back([this, client, upstream] { Pump(client, upstream); });
    pumps_.emplace_back([this, client, upstream] { Pump(upstream, client); });
  }
}

void HoldingProxy::Pump(int from, int to) {
  char buffer[16384];
  while (true) {
    const ssize_t n = ::read(from, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (!WaitUntilReleased()) return;
    for (ssize_t sent = 0; sent < n;) {
      const ssize_t w = ::send(to, buffer + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        ::shutdown(from, SHUT_RD);
        return;
      }
      sent += w;
    }
  }
  // The peer closed (or failed): pass the end on, after whatever was held.
  if (WaitUntilReleased()) ::shutdown(to, SHUT_WR);
}

}  // namespace smp::testing
