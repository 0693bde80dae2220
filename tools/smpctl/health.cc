#include "tools/smpctl/health.h"

#include <grpcpp/generic/generic_stub.h>

#include <chrono>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "tools/smpctl/client.h"
#include "tools/smpctl/command_helpers.h"
#include "tools/smpctl/errors.h"
#include "tools/smpctl/output.h"

namespace smp::smpctl {
namespace {

// Appends `value` as a protobuf varint.
void AppendVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

std::string BufferBytes(grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (buffer.Dump(&slices).ok()) {
    for (const grpc::Slice& s : slices) {
      out.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  return out;
}

// The `status` field (1, varint) of a serialised HealthCheckResponse; other fields are skipped
// only if they are varints (the message has no others today).
absl::StatusOr<ServingStatus> ParseResponse(const std::string& bytes) {
  ServingStatus status = ServingStatus::kUnknown;  // proto3: an absent field is its zero
  size_t i = 0;
  auto varint = [&](uint64_t& value) {
    value = 0;
    for (int shift = 0; i < bytes.size() && shift < 64; shift += 7) {
      const auto byte = static_cast<unsigned char>(bytes[i++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  };
  while (i < bytes.size()) {
    uint64_t key = 0;
    uint64_t value = 0;
    if (!varint(key) || (key & 7) != 0 || !varint(value)) {
      return absl::InternalError("the health response is not a HealthCheckResponse");
    }
    if (key >> 3 == 1) {
      if (value > 3) return absl::InternalError(absl::StrCat("unknown serving status ", value));
      status = static_cast<ServingStatus>(value);
    }
  }
  return status;
}

absl::Status Health(Invocation& inv) {
  Client& client = inv.client();
  std::string address = inv.Get("address");
  std::string rpc_service = "identity";
  if (address.empty()) {
    const std::string name = inv.Has("service") ? inv.Get("service") : "identity";
    bool found = false;
    for (Service s : kAllServices) {
      if (name == ServiceName(s)) {
        address = client.config().address(s);
        found = true;
      }
    }
    if (!found) {
      return UsageError(
          absl::StrCat("--service: want identity, scheduling, inventory, compliance "
                       "or billing, got \"",
                       name, "\""));
    }
    rpc_service = name;
  } else {
    const size_t colon = address.rfind(':');
    int port = 0;
    if (colon == std::string::npos || colon == 0 ||
        !absl::SimpleAtoi(absl::string_view(address).substr(colon + 1), &port) || port <= 0 ||
        port > 65535) {
      return UsageError(absl::StrCat("--address: want host:port, got \"", address, "\""));
    }
    rpc_service = address;
  }
  absl::StatusOr<ServingStatus> status =
      CheckHealth(client.ChannelTo(address), "", client.Timeout(absl::Seconds(3)));
  if (!status.ok()) {
    grpc::Status failed(static_cast<grpc::StatusCode>(status.status().code()),
                        std::string(status.status().message()));
    return RpcError("Health/Check", rpc_service, address, failed);
  }
  const char* name = ServingStatusName(*status);
  if (client.json()) {
    inv.out().out() << "{\"address\":\"" << address << "\",\"status\":\"" << name << "\"}\n";
  } else {
    inv.out().Line(absl::StrCat(address, ": ", name));
  }
  if (*status != ServingStatus::kServing) {
    return absl::UnavailableError(absl::StrCat(address, " answers ", name));
  }
  return absl::OkStatus();
}

}  // namespace

const char* ServingStatusName(ServingStatus status) {
  switch (status) {
    case ServingStatus::kServing:
      return "SERVING";
    case ServingStatus::kNotServing:
      return "NOT_SERVING";
    case ServingStatus::kServiceUnknown:
      return "SERVICE_UNKNOWN";
    case ServingStatus::kUnknown:
      break;
  }
  return "UNKNOWN";
}

absl::StatusOr<ServingStatus> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                          const std::string& service, absl::Duration timeout) {
  std::string request_bytes;
  if (!service.empty()) {
    request_bytes.push_back(0x0a);  // field 1, length-delimited
    AppendVarint(request_bytes, service.size());
    request_bytes += service;
  }
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::microseconds(absl::ToInt64Microseconds(timeout)));
  grpc::GenericStub stub(channel);
  absl::Notification done;
  grpc::Status call_status;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   call_status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!call_status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(call_status.error_code()),
                        call_status.error_message());
  }
  return ParseResponse(BufferBytes(response));
}

void AddHealthCommands(Registry& r) {
  r.Add({{"health"},
         Service::kIdentity,
         "ask a service whether it is serving (gRPC health; no login needed)",
         "",
         false,
         {Opt("address", "HOST:PORT", "the server to ask (default: the --service's address)"),
          Opt("service", "NAME",
              "identity (default), scheduling, inventory, compliance or billing: ask the "
              "address smpctl uses for it")},
         "Exit 0 when SERVING; 8 when the server answers NOT_SERVING (draining) or cannot be "
         "reached within --timeout (default 3s). TLS as for every command (--tls_ca, ...).\n"
         "Example: smpctl health --address=127.0.0.1:7000   (the container image's check)",
         Health});
}

}  // namespace smp::smpctl
