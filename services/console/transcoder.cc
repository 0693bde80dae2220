#include "services/console/transcoder.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status/error_details.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"

namespace smp::console {
namespace {

namespace pb = ::google::protobuf;

std::unique_ptr<pb::Message> NewMessage(const pb::Descriptor* type) {
  const pb::Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(type);
  return std::unique_ptr<pb::Message>(prototype->New());
}

}  // namespace

Transcoder::Transcoder(const std::vector<const pb::ServiceDescriptor*>& services) {
  for (const pb::ServiceDescriptor* service : services) {
    for (int i = 0; i < service->method_count(); ++i) {
      const pb::MethodDescriptor* method = service->method(i);
      if (method->client_streaming()) continue;
      RpcRoute route;
      route.method = method;
      route.service = service->full_name();
      route.grpc_path = absl::StrCat("/", service->full_name(), "/", method->name());
      route.server_streaming = method->server_streaming();
      routes_.emplace(absl::StrCat(service->full_name(), "/", method->name()), std::move(route));
    }
  }
}

absl::StatusOr<RpcRoute> Transcoder::Find(absl::string_view service_and_method) const {
  auto it = routes_.find(service_and_method);
  if (it == routes_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no RPC \"", service_and_method, "\" in the contracts the console forwards"));
  }
  return it->second;
}

absl::StatusOr<std::string> Transcoder::RequestToBinary(const RpcRoute& route,
                                                        absl::string_view json) const {
  std::unique_ptr<pb::Message> request = NewMessage(route.method->input_type());
  if (!json.empty()) {
    pb::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    pb::util::Status parsed = pb::util::JsonStringToMessage(
        pb::StringPiece(json.data(), json.size()), request.get(), options);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("the request body is not a valid ",
                                                     route.method->input_type()->full_name(),
                                                     " in JSON: ", std::string(parsed.message())));
    }
  }
  return request->SerializeAsString();
}

absl::StatusOr<std::string> MessageToJson(const pb::Message& message) {
  pb::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  pb::util::Status printed = pb::util::MessageToJsonString(message, &json, options);
  if (!printed.ok()) {
    return absl::InternalError(absl::StrCat("cannot print ", message.GetDescriptor()->full_name(),
                                            " as JSON: ", std::string(printed.message())));
  }
  return json;
}

absl::StatusOr<std::string> Transcoder::ResponseToJson(const RpcRoute& route,
                                                       absl::string_view binary) const {
  std::unique_ptr<pb::Message> response = NewMessage(route.method->output_type());
  if (!response->ParseFromArray(binary.data(), static_cast<int>(binary.size()))) {
    return absl::InternalError(absl::StrCat("the service's answer to ", route.grpc_path,
                                            " does not parse as ",
                                            route.method->output_type()->full_name()));
  }
  return MessageToJson(*response);
}

std::vector<RpcRoute> Transcoder::Routes() const {
  std::vector<RpcRoute> routes;
  routes.reserve(routes_.size());
  for (const auto& [unused, route] : routes_) routes.push_back(route);
  std::sort(routes.begin(), routes.end(),
            [](const RpcRoute& a, const RpcRoute& b) { return a.grpc_path < b.grpc_path; });
  return routes;
}

int HttpStatusForCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string ErrorJson(const absl::Status& status) {
  google::rpc::Status wire;
  const std::string serialized = SerializeStatusDetails(status);
  if (serialized.empty() || !wire.ParseFromString(serialized)) wire.Clear();
  wire.set_code(HttpStatusForCode(status.code()));
  wire.set_message(std::string(status.message()));
  pb::util::JsonPrintOptions options;
  // "details" alone, printed by protobuf (each Any with its @type); the envelope is written here so
  // that "code" is the HTTP status and "status" the code's name, as Google's JSON APIs answer.
  google::rpc::Status only_details;
  *only_details.mutable_details() = wire.details();
  std::string printed;
  if (!pb::util::MessageToJsonString(only_details, &printed, options).ok()) printed = "{}";
  // printed is {} or {"details":[...]}.
  std::string body = absl::StrCat("{\"error\":{\"code\":", wire.code(), ",\"status\":\"",
                                  absl::StatusCodeToString(status.code()), "\",\"message\":");
  google::protobuf::Value message_value;
  message_value.set_string_value(wire.message());
  std::string message_json;
  if (!pb::util::MessageToJsonString(message_value, &message_json).ok()) message_json = "\"\"";
  absl::StrAppend(&body, message_json);
  if (printed.size() > 2) absl::StrAppend(&body, ",", printed.substr(1, printed.size() - 2));
  absl::StrAppend(&body, "}}");
  return body;
}

}  // namespace smp::console
