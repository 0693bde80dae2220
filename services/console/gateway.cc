#include "services/console/gateway.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>
#include <httplib.h>
#include <sys/stat.h>

#include <chrono>
#include <deque>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/peer/peer_channel.h"
#include "common/server/log.h"
#include "common/server/metrics_http.h"
#include "common/status/grpc_status.h"
#include "services/console/stream_slots.h"
#include "smp/billing/v1/billing.pb.h"
#include "smp/compliance/v1/compliance.pb.h"
#include "smp/compliance/v1/eligibility.pb.h"
#include "smp/identity/v1/identity.pb.h"
#include "smp/inventory/v1/inventory.pb.h"
#include "smp/scheduling/v1/scheduling.pb.h"

namespace smp::console {
namespace {

namespace pb = ::google::protobuf;

constexpr char kIdentityService[] = "smp.identity.v1.IdentityService";
constexpr char kJson[] = "application/json";
// How long an event stream may stay silent before a keepalive comment. The comment is also how the
// gateway notices a browser that went away (a failed write), which ends the call and frees the
// service's watch slot (scheduling allows 8 watches per session), so it is kept short.
constexpr absl::Duration kKeepalive = absl::Seconds(5);
// Messages read ahead of a slow browser, per stream.
constexpr size_t kStreamBuffer = 16;

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices)
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

std::chrono::system_clock::time_point DeadlineIn(absl::Duration d) {
  return absl::ToChronoTime(absl::Now() + d);
}

void SendError(httplib::Response& res, const absl::Status& status) {
  res.status = HttpStatusForCode(status.code());
  res.set_content(ErrorJson(status), kJson);
}

// One server-streaming call read by the callback API, handed to the HTTP side through a bounded
// queue: a read is outstanding only while the queue has room, so a slow browser slows the service's
// stream instead of filling the gateway's memory.
class StreamCall : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  void Start(grpc::GenericStub& stub, const std::string& path, const std::string& token,
             const std::string& client_address, const std::string& request,
             absl::Duration timeout) {
    ctx_.set_deadline(DeadlineIn(timeout));
    if (!token.empty()) ctx_.AddMetadata("authorization", "Bearer " + token);
    if (!client_address.empty()) ctx_.AddMetadata(kClientAddressHeader, client_address);
    request_ = ToByteBuffer(request);
    stub.PrepareBidiStreamingCall(&ctx_, path, grpc::StubOptions(), this);
    StartWriteLast(&request_, grpc::WriteOptions());
    {
      absl::MutexLock lock(&mu_);
      reading_ = true;
    }
    StartRead(&incoming_);
    StartCall();
  }

  // Waits up to `timeout` for the next message. Returns true with *message set, or true with
  // *finished set (and *status) at the end, or false on timeout.
  bool Next(absl::Duration timeout, std::string* message, bool* finished, grpc::Status* status) {
    bool start_read = false;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !queue_.empty() || done_; };
      if (!mu_.AwaitWithTimeout(absl::Condition(&ready), timeout)) return false;
      if (!queue_.empty()) {
        *message = std::move(queue_.front());
        queue_.pop_front();
        *finished = false;
        if (!reading_ && !stream_ended_ && !done_) start_read = reading_ = true;
      } else {
        *finished = true;
        *status = status_;
      }
    }
    if (start_read) StartRead(&incoming_);
    return true;
  }

  // Ends the call if it still runs (the browser went away) and waits for gRPC to finish with it.
  void CancelAndWait() {
    ctx_.TryCancel();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
  }

  void OnWriteDone(bool) override {}

  void OnReadDone(bool ok) override {
    bool again = false;
    {
      absl::MutexLock lock(&mu_);
      if (!ok) {
        stream_ended_ = true;
        reading_ = false;
        return;
      }
      queue_.push_back(FromByteBuffer(incoming_));
      again = queue_.size() < kStreamBuffer;
      reading_ = again;
    }
    if (again) StartRead(&incoming_);
  }

  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

 private:
  grpc::ClientContext ctx_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer incoming_;
  absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool stream_ended_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

std::string SseEvent(absl::string_view event, absl::string_view data) {
  // The JSON has no raw newlines (protobuf prints it on one line), so one data line holds it.
  return absl::StrCat("event: ", event, "\ndata: ", data, "\n\n");
}

}  // namespace

class Gateway::Handlers {
 public:
  Handlers(const GatewayOptions& options, ServiceChannels channels, CsrfGuard csrf, bool tls)
      : options_(options),
        transcoder_(ForwardedServices()),
        csrf_(std::move(csrf)),
        tls_(tls),
        streams_(options.max_streams, options.max_streams_per_session) {
    for (auto& [service, channel] : channels) {
      stubs_.emplace(service, std::make_unique<grpc::GenericStub>(channel));
    }
  }

  void Install(httplib::Server& server) {
    server.Post("/api/login",
                [this](const httplib::Request& req, httplib::Response& res) { Login(req, res); });
    server.Post("/api/logout",
                [this](const httplib::Request& req, httplib::Response& res) { Logout(req, res); });
    server.Get("/api/session",
               [this](const httplib::Request& req, httplib::Response& res) { Session(req, res); });
    server.Post(R"(/api/([A-Za-z0-9_.]+/[A-Za-z0-9_]+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  Forward(req, res, req.matches[1].str());
                });
    // Anything else under /api is not a file either.
    server.Get(R"(/api/.*)", [](const httplib::Request&, httplib::Response& res) {
      SendError(res,
                absl::NotFoundError("no such API path; RPCs are POST /api/<Service>/<Method>"));
    });
  }

  std::string SessionToken(const httplib::Request& req) const {
    std::string token = CookieValue(req.get_header_value("Cookie"), kSessionCookieName);
    return IsPlausibleBearerToken(token) ? token : "";
  }

  absl::Status CheckPostRequest(const httplib::Request& req, const std::string& token) const {
    PostRequest post;
    post.content_type = req.get_header_value("Content-Type");
    post.origin = req.get_header_value("Origin");
    post.host = req.get_header_value("Host");
    post.tls = tls_;
    post.session_token = token;
    post.csrf_token = req.get_header_value(kCsrfHeader);
    return CheckPost(csrf_, post);
  }

  int open_streams() const { return streams_.open(); }

 private:
  // One unary call for the browser at `client_address`. The answer's bytes in *response.
  absl::Status CallUnary(const RpcRoute& route, const std::string& token,
                         const std::string& client_address, const std::string& request,
                         std::string* response) {
    auto stub = stubs_.find(route.service);
    if (stub == stubs_.end()) {
      return absl::UnavailableError(absl::StrCat("the console has no address for ", route.service));
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(options_.call_timeout));
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    if (!client_address.empty()) ctx.AddMetadata(kClientAddressHeader, client_address);
    grpc::ByteBuffer in = ToByteBuffer(request), out;
    absl::Notification done;
    grpc::Status status;
    stub->second->UnaryCall(&ctx, route.grpc_path, grpc::StubOptions(), &in, &out,
                            [&](grpc::Status s) {
                              status = std::move(s);
                              done.Notify();
                            });
    done.WaitForNotification();
    if (!status.ok()) return FromGrpcStatus(status);
    *response = FromByteBuffer(out);
    return absl::OkStatus();
  }

  void Login(const httplib::Request& req, httplib::Response& res) {
    if (absl::Status ok = CheckPostRequest(req, ""); !ok.ok()) return SendError(res, ok);
    absl::StatusOr<RpcRoute> route = transcoder_.Find(absl::StrCat(kIdentityService, "/Login"));
    if (!route.ok()) return SendError(res, route.status());
    absl::StatusOr<std::string> request = transcoder_.RequestToBinary(*route, req.body);
    if (!request.ok()) return SendError(res, request.status());
    std::string bytes;
    if (absl::Status called = CallUnary(*route, "", req.remote_addr, *request, &bytes);
        !called.ok()) {
      return SendError(res, called);
    }
    identity::v1::LoginResponse login;
    if (!login.ParseFromString(bytes) || !IsPlausibleBearerToken(login.access_token())) {
      return SendError(res, absl::InternalError("identity's Login answer does not parse"));
    }
    const std::string token = login.access_token();
    login.clear_access_token();  // the page never sees it
    absl::StatusOr<std::string> json = MessageToJson(login);
    if (!json.ok()) return SendError(res, json.status());
    res.set_header("Set-Cookie", SessionSetCookie(token, options_.cookie_max_age));
    res.set_content(
        absl::StrCat("{\"login\":", *json, ",\"csrfToken\":\"", csrf_.TokenFor(token), "\"}"),
        kJson);
    LogInfo("console login", {{"username", login.staff().username()}});
  }

  void Logout(const httplib::Request& req, httplib::Response& res) {
    const std::string token = SessionToken(req);
    if (absl::Status ok = CheckPostRequest(req, token); !ok.ok()) return SendError(res, ok);
    // The cookie goes whatever identity answers: the browser forgets the session either way.
    res.set_header("Set-Cookie", ClearedSessionSetCookie());
    if (token.empty()) return res.set_content("{}", kJson);
    absl::StatusOr<RpcRoute> route = transcoder_.Find(absl::StrCat(kIdentityService, "/Logout"));
    if (!route.ok()) return SendError(res, route.status());
    std::string bytes;
    absl::Status called = CallUnary(*route, token, req.remote_addr, "", &bytes);
    // An already ended session is logged out.
    if (!called.ok() && called.code() != absl::StatusCode::kUnauthenticated) {
      return SendError(res, called);
    }
    res.set_content("{}", kJson);
  }

  void Session(const httplib::Request& req, httplib::Response& res) {
    const std::string token = SessionToken(req);
    if (token.empty()) {
      return SendError(res, absl::UnauthenticatedError("not logged in"));
    }
    absl::StatusOr<RpcRoute> route = transcoder_.Find(absl::StrCat(kIdentityService, "/WhoAmI"));
    if (!route.ok()) return SendError(res, route.status());
    std::string bytes;
    if (absl::Status called = CallUnary(*route, token, req.remote_addr, "", &bytes); !called.ok()) {
      if (called.code() == absl::StatusCode::kUnauthenticated) {
        res.set_header("Set-Cookie", ClearedSessionSetCookie());
      }
      return SendError(res, called);
    }
    absl::StatusOr<std::string> json = transcoder_.ResponseToJson(*route, bytes);
    if (!json.ok()) return SendError(res, json.status());
    res.set_content(
        absl::StrCat("{\"whoami\":", *json, ",\"csrfToken\":\"", csrf_.TokenFor(token), "\"}"),
        kJson);
  }

  void Forward(const httplib::Request& req, httplib::Response& res,
               const std::string& service_and_method) {
    const absl::Time start = absl::Now();
    absl::StatusOr<RpcRoute> route = transcoder_.Find(service_and_method);
    if (!route.ok()) return SendError(res, route.status());
    if (route->service == kIdentityService &&
        (route->method->name() == "Login" || route->method->name() == "Logout")) {
      return SendError(
          res, absl::NotFoundError(absl::StrCat("the console logs in and out at /api/",
                                                absl::AsciiStrToLower(route->method->name()))));
    }
    const std::string token = SessionToken(req);
    if (absl::Status ok = CheckPostRequest(req, token); !ok.ok()) return SendError(res, ok);
    absl::StatusOr<std::string> request = transcoder_.RequestToBinary(*route, req.body);
    if (!request.ok()) return SendError(res, request.status());
    if (route->server_streaming) return Stream(*route, token, req.remote_addr, *request, res);

    std::string bytes;
    absl::Status called = CallUnary(*route, token, req.remote_addr, *request, &bytes);
    if (called.ok()) {
      absl::StatusOr<std::string> json = transcoder_.ResponseToJson(*route, bytes);
      if (json.ok()) {
        res.set_content(*json, kJson);
      } else {
        called = json.status();
      }
    }
    if (!called.ok()) SendError(res, called);
    LogDebug("console call",
             {{"rpc", route->grpc_path},
              {"code", absl::StatusCodeToString(called.code())},
              {"ms", absl::StrCat(absl::ToInt64Milliseconds(absl::Now() - start))}});
  }

  void Stream(const RpcRoute& route, const std::string& token, const std::string& client_address,
              const std::string& request, httplib::Response& res) {
    auto stub = stubs_.find(route.service);
    if (stub == stubs_.end()) {
      return SendError(res, absl::UnavailableError(
                                absl::StrCat("the console has no address for ", route.service)));
    }
    // Counted per session by its CSRF token (a keyed hash of the session token).
    absl::StatusOr<std::unique_ptr<StreamSlots::Slot>> slot =
        streams_.Acquire(token.empty() ? "" : csrf_.TokenFor(token));
    if (!slot.ok()) {
      LogWarning("console stream refused",
                 {{"rpc", route.grpc_path}, {"error", std::string(slot.status().message())}});
      return SendError(res, slot.status());
    }
    std::shared_ptr<StreamSlots::Slot> held = *std::move(slot);
    auto call = std::make_shared<StreamCall>();
    call->Start(*stub->second, route.grpc_path, token, client_address, request,
                options_.stream_timeout);
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, call, route](size_t, httplib::DataSink& sink) {
          std::string message;
          bool finished = false;
          grpc::Status status;
          if (!call->Next(kKeepalive, &message, &finished, &status)) {
            static constexpr char kKeepaliveComment[] = ": keepalive\n\n";
            return sink.write(kKeepaliveComment, sizeof kKeepaliveComment - 1);
          }
          std::string event;
          if (!finished) {
            absl::StatusOr<std::string> json = transcoder_.ResponseToJson(route, message);
            event = json.ok() ? SseEvent("message", *json)
                              : SseEvent("error", ErrorJson(json.status()));
            if (!json.ok()) finished = true;
          } else if (status.ok()) {
            event = SseEvent("end", "{}");
          } else {
            event = SseEvent("error", ErrorJson(FromGrpcStatus(status)));
          }
          if (!sink.write(event.data(), event.size())) return false;
          if (finished) sink.done();
          return true;
        },
        // The slot is given back once the call is over (the browser went away or the stream
        // ended).
        [call, held](bool) { call->CancelAndWait(); });
  }

  const GatewayOptions options_;
  const Transcoder transcoder_;
  const CsrfGuard csrf_;
  const bool tls_;
  StreamSlots streams_;
  absl::flat_hash_map<std::string, std::unique_ptr<grpc::GenericStub>> stubs_;
};

int Gateway::open_streams() const { return handlers_ == nullptr ? 0 : handlers_->open_streams(); }

std::vector<const pb::ServiceDescriptor*> Gateway::ForwardedServices() {
  // Each descriptor is reached through a generated message of its file, which also links that
  // file's generated code (and so its descriptors) into the binary.
  return {
      identity::v1::LoginRequest::descriptor()->file()->FindServiceByName("IdentityService"),
      scheduling::v1::Appointment::descriptor()->file()->FindServiceByName("SchedulingService"),
      inventory::v1::Product::descriptor()->file()->FindServiceByName("InventoryService"),
      compliance::v1::ReportPart::descriptor()->file()->FindServiceByName("ComplianceService"),
      compliance::v1::CheckEligibilityRequest::descriptor()->file()->FindServiceByName(
          "EligibilityService"),
      billing::v1::Invoice::descriptor()->file()->FindServiceByName("BillingService"),
  };
}

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(GatewayOptions options,
                                                        ServiceChannels channels, CsrfGuard csrf) {
  std::string host;
  int port = 0;
  if (absl::Status split = SplitHostPort(options.listen, &host, &port); !split.ok()) return split;
  const bool tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  if (tls && (options.tls_cert_file.empty() || options.tls_key_file.empty())) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  if (!tls) {
    if (!options.allow_insecure_http) {
      return absl::InvalidArgumentError(
          "the console serves HTTPS: give --tls_cert and --tls_key (or, for development on this "
          "machine only, --allow_insecure_http with a loopback --listen)");
    }
    if (host.empty() || !IsLoopbackAddress(options.listen)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--allow_insecure_http serves plain HTTP on loopback only; --listen=", options.listen,
          " is not a loopback address (passwords and session cookies would cross the network in "
          "the clear)"));
    }
  }
  if (options.threads < 2 || options.max_streams < 1 || options.max_streams_per_session < 1 ||
      options.max_streams >= options.threads) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_streams=", options.max_streams,
                     " must be at least 1 and below --http_threads=", options.threads,
                     " (each open stream holds a worker; the rest serve ordinary requests), "
                     "and --max_streams_per_session=",
                     options.max_streams_per_session, " at least 1"));
  }
  struct stat st;
  if (::stat(options.web_root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--web_root=", options.web_root, " is not a directory"));
  }

  auto gateway = std::unique_ptr<Gateway>(new Gateway());
  gateway->tls_ = tls;
  if (tls) {
    auto server = std::make_unique<httplib::SSLServer>(options.tls_cert_file.c_str(),
                                                       options.tls_key_file.c_str());
    if (!server->is_valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load --tls_cert=", options.tls_cert_file,
                       " and --tls_key=", options.tls_key_file));
    }
    gateway->server_ = std::move(server);
  } else {
    gateway->server_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *gateway->server_;
  const int threads = options.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(options.max_body_bytes);
  server.set_read_timeout(absl::ToChronoSeconds(options.read_timeout));
  server.set_write_timeout(absl::ToChronoSeconds(options.write_timeout));
  server.set_keep_alive_timeout(5);
  server.set_keep_alive_max_count(100);
  httplib::Headers headers = {
      {"Content-Security-Policy",
       "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
      {"Cache-Control", "no-store"},
  };
  if (tls) headers.emplace("Strict-Transport-Security", "max-age=31536000");
  server.set_default_headers(headers);
  for (const auto& [ext, type] :
       std::vector<std::pair<std::string, std::string>>{{"html", "text/html; charset=utf-8"},
                                                        {"js", "text/javascript; charset=utf-8"},
                                                        {"css", "text/css; charset=utf-8"},
                                                        {"svg", "image/svg+xml"},
                                                        {"png", "image/png"},
                                                        {"ico", "image/x-icon"},
                                                        {"json", "application/json"}}) {
    server.set_file_extension_and_mimetype_mapping(ext, type);
  }
  if (!server.set_mount_point("/", options.web_root)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--web_root=", options.web_root, " cannot be served"));
  }
  // httplib's own refusals (no such file, body too large, malformed request) as JSON errors too.
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    absl::Status status = absl::InvalidArgumentError("the request is malformed");
    if (res.status == 404) status = absl::NotFoundError("not found");
    if (res.status == 413) {
      status = absl::ResourceExhaustedError("the request body is larger than the console accepts");
    }
    res.set_content(ErrorJson(status), kJson);
  });
  gateway->handlers_ =
      std::make_unique<Handlers>(options, std::move(channels), std::move(csrf), tls);
  gateway->handlers_->Install(server);

  if (port == 0) {
    port = server.bind_to_any_port(host);
    if (port <= 0) port = -1;
  } else if (!server.bind_to_port(host, port)) {
    port = -1;
  }
  if (port < 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  gateway->port_ = port;
  gateway->thread_ = std::thread([&server] { server.listen_after_bind(); });
  return gateway;
}

void Gateway::Stop() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

Gateway::~Gateway() { Stop(); }

}  // namespace smp::console
