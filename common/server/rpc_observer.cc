#include "common/server/rpc_observer.h"

#include <chrono>
#include <cstdio>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/server/metrics.h"
#include "common/util/ids.h"

namespace smp {
namespace {

using grpc::experimental::InterceptionHookPoints;

constexpr size_t kMaxRequestIdLength = 128;

class RpcObserver;

// Request ids by call, for RequestIdOf. Each entry remembers which interceptor owns it so that a
// context address reused by a later call can never be erased by the earlier call's interceptor.
struct RequestIdEntry {
  const RpcObserver* owner;
  std::string request_id;
};
absl::Mutex& RequestIdMutex() {
  static absl::Mutex* mu = new absl::Mutex;
  return *mu;
}
absl::flat_hash_map<const grpc::ServerContextBase*, RequestIdEntry>& RequestIds()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(RequestIdMutex()) {
  static auto* ids = new absl::flat_hash_map<const grpc::ServerContextBase*, RequestIdEntry>;
  return *ids;
}

// Metric labels for a call: "/pkg.Service/Method" -> ("pkg.Service", "Method"). Calls to methods
// the server does not have end UNIMPLEMENTED with whatever path the client sent; those are
// labelled "unknown" so that clients cannot grow the metric's cardinality without bound.
std::pair<std::string, std::string> MetricLabelsFor(absl::string_view full, grpc::StatusCode code) {
  const size_t slash = full.rfind('/');
  if (code == grpc::StatusCode::UNIMPLEMENTED || full.size() < 4 || full[0] != '/' || slash == 0 ||
      slash + 1 >= full.size()) {
    return {"unknown", "unknown"};
  }
  return {std::string(full.substr(1, slash - 1)), std::string(full.substr(slash + 1))};
}

class RpcObserver : public grpc::experimental::Interceptor {
 public:
  explicit RpcObserver(grpc::experimental::ServerRpcInfo* info)
      : ctx_(info->server_context()), method_(info->method() != nullptr ? info->method() : "") {}

  // The interceptor lives as long as the call's ServerRpcInfo, which the context releases when
  // it is destroyed: the end of the call, whether or not a status was ever sent.
  ~RpcObserver() override {
    if (!tracked_) return;
    absl::MutexLock lock(&RequestIdMutex());
    auto it = RequestIds().find(ctx_);
    if (it != RequestIds().end() && it->second.owner == this) RequestIds().erase(it);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      start_ = std::chrono::steady_clock::now();
      started_ = true;
      std::string id;
      if (auto* metadata = methods->GetRecvInitialMetadata(); metadata != nullptr) {
        auto it = metadata->find(kRequestIdHeader);
        if (it != metadata->end()) {
          id = SanitizeRequestId(absl::string_view(it->second.data(), it->second.size()));
        }
      }
      SetRequestId(id.empty() ? NewId() : std::move(id));
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      if (request_id_.empty()) SetRequestId(NewId());
      methods->GetSendInitialMetadata()->emplace(kRequestIdHeader, request_id_);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus());
    }
    methods->Proceed();
  }

 private:
  void SetRequestId(std::string id) {
    request_id_ = std::move(id);
    absl::MutexLock lock(&RequestIdMutex());
    RequestIds().insert_or_assign(ctx_, RequestIdEntry{this, request_id_});
    tracked_ = true;
  }

  void Record(const grpc::Status& status) {
    const double seconds =
        started_ ? std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count()
                 : 0.0;
    const auto [service, method] = MetricLabelsFor(method_, status.error_code());
    const std::string code(GrpcCodeName(status.error_code()));
    Metrics().IncrementCounter(
        "smp_grpc_server_handled_total", "RPCs completed on the server, by status code.",
        {{"grpc_service", service}, {"grpc_method", method}, {"grpc_code", code}});
    Metrics().ObserveHistogram("smp_grpc_server_handling_seconds",
                               "Time from receiving an RPC to sending its status, in seconds.",
                               {{"grpc_service", service}, {"grpc_method", method}}, seconds,
                               RpcLatencyBuckets());
    const LogLevel level = RpcLogLevel(status.error_code());
    if (!LogEnabled(level)) return;
    char duration_ms[32];
    std::snprintf(duration_ms, sizeof(duration_ms), "%.3f", seconds * 1000);
    LogFields fields = {{"method", method_.empty() ? "unknown" : method_},
                        {"code", code},
                        {"duration_ms", duration_ms},
                        {"request_id", request_id_},
                        {"peer", ctx_->peer()}};
    if (!status.error_message().empty()) fields.emplace_back("error", status.error_message());
    Log(level, "rpc", fields);
  }

  grpc::ServerContextBase* const ctx_;
  const std::string method_;
  std::chrono::steady_clock::time_point start_;
  bool started_ = false;
  bool tracked_ = false;
  std::string request_id_;
};

}  // namespace

grpc::experimental::Interceptor* RpcObserverFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RpcObserver(info);
}

std::string RequestIdOf(const grpc::ServerContextBase& ctx) {
  absl::MutexLock lock(&RequestIdMutex());
  auto it = RequestIds().find(&ctx);
  return it == RequestIds().end() ? std::string() : it->second.request_id;
}

std::string SanitizeRequestId(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (out.size() == kMaxRequestIdLength) break;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    absl::string_view("-_.:/+=@").find(c) != absl::string_view::npos;
    if (ok) out.push_back(c);
  }
  return out;
}

LogLevel RpcLogLevel(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
      return LogLevel::kInfo;
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS:
      return LogLevel::kError;
    default:
      return LogLevel::kWarning;
  }
}

absl::string_view GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

namespace internal {
size_t TrackedRequestIdCount() {
  absl::MutexLock lock(&RequestIdMutex());
  return RequestIds().size();
}
}  // namespace internal

}  // namespace smp
