#ifndef SMP_SERVICES_CONSOLE_GATEWAY_H_
#define SMP_SERVICES_CONSOLE_GATEWAY_H_

// The web console's gateway: one HTTP(S) server that serves the console's static files and
// forwards the console's API calls to the services, holding no business logic and no data.
//
//   GET  /, /<file>                 the console (files under `web_root`)
//   POST /api/login                 {"username","password"} -> identity Login; the bearer token
//                                   goes into the session cookie only; answers the staff record,
//                                   the session and the CSRF token
//   POST /api/logout                identity Logout (the session ends in every service), cookie
//                                   cleared
//   GET  /api/session               identity WhoAmI with the cookie's session, plus the CSRF token
//                                   (a reloaded page gets it here)
//   POST /api/<package.Service>/<Method>
//                                   any RPC of the forwarded contracts: the JSON body is the
//                                   request message (protobuf JSON mapping), the call carries
//                                   `authorization: Bearer <cookie token>`, the answer is the
//                                   response message as JSON; a failure is the service's status as
//                                   an HTTP status and {"error":{code,status,message,details}}.
//                                   Server-streaming RPCs answer `text/event-stream`: one
//                                   `event: message` per streamed message, then `event: end`
//                                   (OK) or `event: error` (the error body), and `: keepalive`
//                                   comments while the service is quiet.
//
// Permissions and clinic scope are the services' own: the gateway forwards every call with the
// user's session and passes their refusals on unchanged. It checks only what belongs to the web
// hop: JSON content type, same origin and the CSRF token on every POST (web_session.h), the body
// size, deadlines, and how many event streams are open (stream_slots.h). Login and Logout are not
// reachable through the generic path, so the token never reaches a page script.

#include <grpcpp/channel.h>

#include <cstddef>
#include <memory>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/console/transcoder.h"
#include "services/console/web_session.h"

namespace httplib {
class Server;
}

namespace smp::console {

struct GatewayOptions {
  // host:port of the listener; port 0 picks a free one.
  std::string listen = "127.0.0.1:0";
  // PEM certificate and key: serve HTTPS. Without them the gateway refuses to start unless
  // allow_insecure_http is set and `listen` is a loopback address.
  std::string tls_cert_file, tls_key_file;
  bool allow_insecure_http = false;
  // Directory of the console's static files.
  std::string web_root;
  // Largest request body accepted (413 beyond).
  size_t max_body_bytes = 1 << 20;
  // Deadline of each unary call, and of each stream (a watch stream then ends and the page
  // reconnects).
  absl::Duration call_timeout = absl::Seconds(10);
  absl::Duration stream_timeout = absl::Minutes(10);
  // Socket timeouts of the HTTP side: a request must arrive, and each write complete, within these.
  absl::Duration read_timeout = absl::Seconds(10), write_timeout = absl::Seconds(10);
  // How long a browser keeps the session cookie (the session's own lifetime is identity's).
  absl::Duration cookie_max_age = absl::Hours(24);
  // Requests served at once (each open event stream holds one).
  int threads = 32;
  // Event streams open at once, in total (below `threads`, so ordinary requests always find a
  // worker) and per session; beyond either, a stream is refused with 503 (stream_slots.h).
  int max_streams = 16;
  int max_streams_per_session = 4;
};

// The metadata header that carries the browser's IP address on every call, so that identity
// counts failed logins per browser rather than per gateway. Identity believes it only from a peer
// it trusts (identity's --trusted_forwarders, services/identity/client_address.h).
inline constexpr char kClientAddressHeader[] = "x-smp-client-address";

// Service full name ("smp.billing.v1.BillingService") -> channel to the service serving it.
using ServiceChannels = absl::flat_hash_map<std::string, std::shared_ptr<grpc::Channel>>;

class Gateway {
 public:
  // Binds and starts serving on a background thread. INVALID_ARGUMENT for plaintext without
  // allow_insecure_http or on a non-loopback address, a missing web_root, or a TLS file that does
  // not load; UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(GatewayOptions options,
                                                        ServiceChannels channels, CsrfGuard csrf);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  int port() const { return port_; }
  // Event streams open now.
  int open_streams() const;
  bool tls() const { return tls_; }
  // Stops accepting and waits for the serving thread. Idempotent.
  void Stop();

  // The contracts the gateway forwards (the five services').
  static std::vector<const google::protobuf::ServiceDescriptor*> ForwardedServices();

 private:
  class Handlers;
  Gateway() = default;

  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<Handlers> handlers_;
  std::thread thread_;
  int port_ = 0;
  bool tls_ = false;
};

}  // namespace smp::console

#endif  // SMP_SERVICES_CONSOLE_GATEWAY_H_
