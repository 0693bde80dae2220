#include "common/server/metrics_http.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/server/metrics.h"

namespace smp {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kIoTimeout = std::chrono::seconds(5);
// How long a worker waits before accepting again after accept() failed for lack of resources.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

enum class WaitResult { kReady, kTimeout, kStop };

// Waits until `fd` has `events`, the deadline passes, or the stop pipe becomes readable.
WaitResult WaitFor(int fd, short events, int wake_fd, SteadyClock::time_point deadline) {
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return WaitResult::kTimeout;
    pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return WaitResult::kStop;
    if (fds[1].revents != 0) return WaitResult::kStop;
    if (fds[0].revents != 0) return WaitResult::kReady;
  }
}

bool SendAll(int fd, absl::string_view data, int wake_fd, SteadyClock::time_point deadline) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (WaitFor(fd, POLLOUT, wake_fd, deadline) != WaitResult::kReady) return false;
    } else {
      return false;
    }
  }
  return true;
}

std::string Response(absl::string_view status_line, absl::string_view content_type,
                     absl::string_view body) {
  return absl::StrCat("HTTP/1.1 ", status_line, "\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n", body);
}

}  // namespace

absl::Status SplitHostPort(absl::string_view address, std::string* host, int* port) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", address, "\" is not host:port (", why, ")"));
  };
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) return bad("no port");
  absl::string_view h = address.substr(0, colon);
  const absl::string_view p = address.substr(colon + 1);
  if (!h.empty() && h.front() == '[') {
    if (h.size() < 2 || h.back() != ']') return bad("unbalanced brackets");
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != absl::string_view::npos) {
    return bad("IPv6 addresses need brackets");
  }
  int parsed = -1;
  if (p.empty() || p.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(p, &parsed) || parsed > 65535) {
    return bad("port must be 0..65535");
  }
  *host = std::string(h);
  *port = parsed;
  return absl::OkStatus();
}

absl::StatusOr<int> ListenTcp(absl::string_view address, int backlog) {
  std::string host;
  int port = 0;
  if (absl::Status status = SplitHostPort(address, &host, &port); !status.ok()) return status;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* addrs = nullptr;
  const std::string port_text = absl::StrCat(port);
  if (int rc =
          ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port_text.c_str(), &hints, &addrs);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve listen address \"", address, "\": ", ::gai_strerror(rc)));
  }
  int fd = -1;
  int last_errno = 0;
  for (addrinfo* a = addrs; a != nullptr; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    // Lets a restarted process rebind while old connections sit in TIME_WAIT; on Linux it does
    // not allow two listeners on one port.
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, backlog) == 0) break;
    last_errno = errno;
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(addrs);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on \"", address, "\": ", std::strerror(last_errno)));
  }
  return fd;
}

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    absl::string_view listen, std::function<std::string()> render) {
  absl::StatusOr<int> listening = ListenTcp(listen, 16);
  if (!listening.ok()) {
    return absl::Status(listening.status().code(),
                        absl::StrCat("metrics endpoint: ", listening.status().message()));
  }
  const int fd = *listening;
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  const int bound_port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    const int err = errno;
    ::close(fd);
    return absl::InternalError(absl::StrCat("metrics endpoint: pipe: ", std::strerror(err)));
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (render == nullptr) render = [] { return Metrics().RenderPrometheus(); };
  return std::unique_ptr<MetricsHttpServer>(
      new MetricsHttpServer(fd, wake[0], wake[1], bound_port, std::move(render)));
}

MetricsHttpServer::MetricsHttpServer(int listen_fd, int wake_read_fd, int wake_write_fd, int port,
                                     std::function<std::string()> render)
    : listen_fd_(listen_fd),
      wake_read_fd_(wake_read_fd),
      wake_write_fd_(wake_write_fd),
      port_(port),
      render_(std::move(render)) {
  workers_.reserve(kWorkers);
  for (int i = 0; i < kWorkers; ++i) workers_.emplace_back([this] { Run(); });
}

MetricsHttpServer::~MetricsHttpServer() {
  const char byte = 0;
  while (::write(wake_write_fd_, &byte, 1) < 0 && errno == EINTR) {
  }
  for (std::thread& worker : workers_) worker.join();
  ::close(listen_fd_);
  ::close(wake_read_fd_);
  ::close(wake_write_fd_);
}

void MetricsHttpServer::Run() {
  while (true) {
    const WaitResult wait =
        WaitFor(listen_fd_, POLLIN, wake_read_fd_, SteadyClock::time_point::max());
    if (wait == WaitResult::kStop) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      // EAGAIN: another worker took the connection, or the client gave up. Out of descriptors or
      // memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): the connection stays queued and poll would
      // report it again at once, so back off instead of spinning.
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
        if (WaitFor(wake_read_fd_, POLLIN, -1, SteadyClock::now() + kAcceptBackoff) !=
            WaitResult::kTimeout) {
          return;
        }
      }
      continue;
    }
    Serve(fd);
    ::close(fd);
  }
}

void MetricsHttpServer::Serve(int fd) {
  const auto deadline = SteadyClock::now() + kIoTimeout;
  std::string request;
  char buf[2048];
  bool complete = false;
  while (!complete && request.size() <= kMaxRequestBytes) {
    if (WaitFor(fd, POLLIN, wake_read_fd_, deadline) != WaitResult::kReady) return;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) return;  // Closed or failed before a whole request arrived: nothing to answer.
    request.append(buf, static_cast<size_t>(n));
    complete =
        request.find("\r\n\r\n") != std::string::npos || request.find("\n\n") != std::string::npos;
  }
  std::string response;
  if (!complete || request.size() > kMaxRequestBytes) {
    response = Response("400 Bad Request", "text/plain", "request too large\n");
  } else {
    const absl::string_view line = absl::string_view(request).substr(0, request.find('\n'));
    const std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    if (parts.size() != 3 || !absl::StartsWith(parts[2], "HTTP/1.")) {
      response = Response("400 Bad Request", "text/plain", "bad request\n");
    } else if (parts[0] == "GET" && parts[1].substr(0, parts[1].find('?')) == "/metrics") {
      response = Response("200 OK", "text/plain; version=0.0.4; charset=utf-8", render_());
    } else {
      response = Response("404 Not Found", "text/plain", "not found\n");
    }
  }
  if (!SendAll(fd, response, wake_read_fd_, deadline)) return;
  // Closing with unread request bytes would reset the connection and could destroy the response
  // before the client reads it, so half-close and drain until the client closes (briefly).
  ::shutdown(fd, SHUT_WR);
  const auto drain_deadline = std::min(deadline, SteadyClock::now() + std::chrono::seconds(1));
  size_t drained = 0;
  while (drained < 64 * 1024 &&
         WaitFor(fd, POLLIN, wake_read_fd_, drain_deadline) == WaitResult::kReady) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
}

}  // namespace smp
