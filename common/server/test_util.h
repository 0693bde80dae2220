#ifndef SMP_COMMON_SERVER_TEST_UTIL_H_
#define SMP_COMMON_SERVER_TEST_UTIL_H_

// Test-only helpers shared by this folder's tests: a raw HTTP/1.1 exchange, a grpc.health.v1
// Check through grpc::GenericStub (the installed gRPC ships no health.proto to generate a stub),
// and a sync "probe" service over raw bytes (no test proto needed).

#include <arpa/inet.h>
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/method_handler.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/server/rpc_observer.h"

namespace smp::testing {

// Sends `request` to 127.0.0.1:port and returns everything the server sends until it closes
// (or 5 s pass). "" when the connection is refused.
inline std::string RawHttp(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) response.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return response;
}

inline std::string HttpGet(int port, const std::string& path) {
  return RawHttp(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
}

inline std::string ByteBufferToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (buffer.Dump(&slices).ok()) {
    for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

struct HealthResult {
  grpc::Status status;
  int serving_status = -1;  // 1 SERVING, 2 NOT_SERVING, 0 UNKNOWN (an empty message)
  std::multimap<std::string, std::string> initial_metadata;
};

// grpc.health.v1.Health/Check for `service` ("" = the server as a whole), hand-serialised:
// HealthCheckRequest{string service = 1}, HealthCheckResponse{ServingStatus status = 1}.
inline HealthResult HealthCheck(const std::shared_ptr<grpc::Channel>& channel,
                                const std::string& service = "",
                                const std::string& request_id = "") {
  std::string request_bytes;
  if (!service.empty()) {
    request_bytes.push_back(0x0a);
    request_bytes.push_back(static_cast<char>(service.size()));  // tests use short names
    request_bytes += service;
  }
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (!request_id.empty()) ctx.AddMetadata("x-request-id", request_id);
  grpc::GenericStub stub(channel);
  absl::Notification done;
  HealthResult result;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status status) {
                   result.status = std::move(status);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!result.status.ok()) return result;
  const std::string bytes = ByteBufferToString(response);
  if (bytes.empty()) {
    result.serving_status = 0;
  } else if (bytes.size() == 2 && bytes[0] == 0x08) {
    result.serving_status = bytes[1];
  }
  for (const auto& [key, value] : ctx.GetServerInitialMetadata()) {
    result.initial_metadata.emplace(std::string(key.data(), key.size()),
                                    std::string(value.data(), value.size()));
  }
  return result;
}

// /smp.test.Probe/Run, a sync unary method like the services' own. The request is text:
//   "<n>"    return status code n; the reply (n == 0) or error message is RequestIdOf(ctx)
//   "block"  count in `blocked`, signal `entered`, wait (up to 10 s) for `release`, then reply
//            "released"
class ProbeService : public grpc::Service {
 public:
  ProbeService() {
    AddMethod(new grpc::internal::RpcServiceMethod(
        "/smp.test.Probe/Run", grpc::internal::RpcMethod::NORMAL_RPC,
        new grpc::internal::RpcMethodHandler<ProbeService, grpc::ByteBuffer, grpc::ByteBuffer>(
            [](ProbeService* self, grpc::ServerContext* ctx, const grpc::ByteBuffer* request,
               grpc::ByteBuffer* response) { return self->Run(ctx, *request, response); },
            this)));
  }

  std::atomic<int> blocked{0};
  absl::Notification entered;
  absl::Notification release;

 private:
  grpc::Status Run(grpc::ServerContext* ctx, const grpc::ByteBuffer& request,
                   grpc::ByteBuffer* response) {
    const std::string text = ByteBufferToString(request);
    std::string reply = RequestIdOf(*ctx);
    if (text == "block") {
      if (blocked.fetch_add(1) == 0) entered.Notify();
      release.WaitForNotificationWithTimeout(absl::Seconds(10));
      reply = "released";
    } else if (int code = 0; absl::SimpleAtoi(text, &code) && code != 0) {
      return grpc::Status(static_cast<grpc::StatusCode>(code), reply);
    }
    grpc::Slice slice(reply);
    *response = grpc::ByteBuffer(&slice, 1);
    return grpc::Status::OK;
  }
};

struct ProbeResult {
  grpc::Status status;
  std::string body;    // the reply, or the error message
  std::string echoed;  // x-request-id in the server's initial metadata
};

inline ProbeResult CallProbe(grpc::GenericStub& stub, const std::string& request_text,
                             const std::string& request_id = "") {
  grpc::Slice slice(request_text);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
  if (!request_id.empty()) ctx.AddMetadata("x-request-id", request_id);
  absl::Notification done;
  ProbeResult result;
  stub.UnaryCall(&ctx, "/smp.test.Probe/Run", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status status) {
                   result.status = std::move(status);
                   done.Notify();
                 });
  done.WaitForNotification();
  result.body = result.status.ok() ? ByteBufferToString(response) : result.status.error_message();
  auto it = ctx.GetServerInitialMetadata().find("x-request-id");
  if (it != ctx.GetServerInitialMetadata().end()) {
    result.echoed = std::string(it->second.data(), it->second.size());
  }
  return result;
}

}  // namespace smp::testing

#endif  // SMP_COMMON_SERVER_TEST_UTIL_H_
