#ifndef SMP_COMMON_SERVER_METRICS_HTTP_H_
#define SMP_COMMON_SERVER_METRICS_HTTP_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smp {

// Splits "host:port" ("127.0.0.1:9464", "[::1]:0", "localhost:80", ":9464" = any address) into
// host (brackets removed; "" = any) and port (0..65535). INVALID_ARGUMENT naming `address`
// otherwise.
absl::Status SplitHostPort(absl::string_view address, std::string* host, int* port);

// A listening TCP socket (SO_REUSEADDR, close-on-exec, blocking) on the first address `address`
// resolves to that can be bound. INVALID_ARGUMENT for an address that does not parse or resolve,
// UNAVAILABLE (with the OS's reason, e.g. "Address already in use") when none can be bound.
absl::StatusOr<int> ListenTcp(absl::string_view address, int backlog);

// The Prometheus scrape endpoint: a deliberately tiny HTTP/1.1 server on one thread.
//   GET /metrics (any query string) -> 200, Content-Type: text/plain; version=0.0.4, the body of
//                                      Metrics().RenderPrometheus() (or of `render` if given)
//   any other method or path         -> 404;  a malformed or oversized request -> 400
// Every response carries Content-Length and `Connection: close`; one request per connection.
// Requests are read up to 8 KiB of headers with a 5 s receive timeout. kWorkers threads accept and
// serve connections, so that many clients are served at once and a slow or idle client holds one
// worker for at most the timeout while the others keep scraping; further connections wait in the
// listen backlog. When accept() fails for lack of descriptors or memory, the worker backs off
// briefly instead of spinning. Not meant to be exposed beyond the cluster network: no TLS, no auth.
//
// Why not prometheus-cpp (Debian 12 packages prometheus-cpp-dev 1.0.1): its pull exporter is built
// on civetweb, which in that build cannot bind an IPv6 address ("[::1]:0" fails) and reports a bind
// failure without the OS's reason; and its registry API wants a Family object per metric built up
// front, while the suite names metrics at the call site - an adapter would keep a name -> family
// map, the bulk of metrics.cc, and its 1.0.1 text serializer writes HELP lines unescaped. Measured
// and decided 2026-12-05; revisit when Debian ships a newer prometheus-cpp.
class MetricsHttpServer {
 public:
  static constexpr size_t kMaxRequestBytes = 8 * 1024;
  // Connections served at once.
  static constexpr int kWorkers = 4;

  // Listens on `listen` ("127.0.0.1:0" picks a free port; "0.0.0.0:9464" or ":9464" for any
  // address). A bad address or a port in use is an error status.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      absl::string_view listen, std::function<std::string()> render = nullptr);

  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // The bound port.
  int port() const { return port_; }

  // Stops accepting, abandons the connections in progress, joins the workers.
  ~MetricsHttpServer();

 private:
  MetricsHttpServer(int listen_fd, int wake_read_fd, int wake_write_fd, int port,
                    std::function<std::string()> render);
  void Run();
  void Serve(int fd);

  const int listen_fd_;
  const int wake_read_fd_;  // readable once the destructor asks the thread to stop
  const int wake_write_fd_;
  const int port_;
  const std::function<std::string()> render_;
  std::vector<std::thread> workers_;
};

}  // namespace smp

#endif  // SMP_COMMON_SERVER_METRICS_HTTP_H_
