#include "common/status/error_details.h"

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace smp {
namespace {

constexpr char kTypePrefix[] = "type.googleapis.com/";

template <typename Detail>
std::string TypeUrl() {
  return std::string(kTypePrefix) + Detail::descriptor()->full_name();
}

template <typename Detail>
std::optional<Detail> Get(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(TypeUrl<Detail>());
  if (!payload.has_value()) return std::nullopt;
  Detail detail;
  if (!detail.ParseFromString(std::string(*payload))) return std::nullopt;
  return detail;
}

template <typename Detail>
absl::Status Put(absl::Status status, const Detail& detail) {
  if (!status.ok()) status.SetPayload(TypeUrl<Detail>(), absl::Cord(detail.SerializeAsString()));
  return status;
}

// The field path a validator's "<field>: <problem>" message starts with, or "".
std::string FieldOfMessage(absl::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos || colon == 0) return "";
  const absl::string_view field = message.substr(0, colon);
  for (char c : field) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '[' &&
        c != ']') {
      return "";
    }
  }
  return std::string(field);
}

}  // namespace

absl::Status WithErrorInfo(absl::Status status, absl::string_view reason,
                           std::vector<std::pair<std::string, std::string>> metadata) {
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(kErrorDomain);
  for (auto& [key, value] : metadata) (*info.mutable_metadata())[key] = std::move(value);
  return Put(std::move(status), info);
}

absl::Status WithPreconditionFailure(absl::Status status, absl::string_view type,
                                     absl::string_view subject, absl::string_view description) {
  google::rpc::PreconditionFailure failure =
      Get<google::rpc::PreconditionFailure>(status).value_or(google::rpc::PreconditionFailure());
  google::rpc::PreconditionFailure::Violation* v = failure.add_violations();
  v->set_type(std::string(type));
  v->set_subject(std::string(subject));
  v->set_description(std::string(description));
  return Put(std::move(status), failure);
}

absl::Status WithFieldViolation(absl::Status status, absl::string_view field,
                                absl::string_view description) {
  google::rpc::BadRequest bad =
      Get<google::rpc::BadRequest>(status).value_or(google::rpc::BadRequest());
  google::rpc::BadRequest::FieldViolation* v = bad.add_field_violations();
  v->set_field(std::string(field));
  v->set_description(std::string(description));
  return Put(std::move(status), bad);
}

std::string ErrorReason(const absl::Status& status) {
  std::optional<google::rpc::ErrorInfo> info = Get<google::rpc::ErrorInfo>(status);
  return info.has_value() ? info->reason() : std::string();
}

std::string ErrorMetadata(const absl::Status& status, absl::string_view key) {
  std::optional<google::rpc::ErrorInfo> info = Get<google::rpc::ErrorInfo>(status);
  if (!info.has_value()) return "";
  auto it = info->metadata().find(std::string(key));
  return it == info->metadata().end() ? std::string() : it->second;
}

std::vector<std::string> ViolatedFields(const absl::Status& status) {
  std::vector<std::string> fields;
  if (std::optional<google::rpc::BadRequest> bad = Get<google::rpc::BadRequest>(status)) {
    for (const auto& v : bad->field_violations()) fields.push_back(v.field());
  }
  return fields;
}

std::vector<std::string> ViolatedPreconditions(const absl::Status& status) {
  std::vector<std::string> types;
  if (auto failure = Get<google::rpc::PreconditionFailure>(status)) {
    for (const auto& v : failure->violations()) types.push_back(v.type());
  }
  return types;
}

std::string SerializeStatusDetails(const absl::Status& status) {
  absl::Status with_fields = status;
  if (status.code() == absl::StatusCode::kInvalidArgument &&
      !Get<google::rpc::BadRequest>(status).has_value()) {
    const std::string field = FieldOfMessage(status.message());
    if (!field.empty()) {
      with_fields = WithFieldViolation(std::move(with_fields), field,
                                       status.message().substr(field.size() + 2));
    }
  }
  google::rpc::Status wire;
  with_fields.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    if (!absl::StartsWith(type_url, kTypePrefix)) return;
    google::protobuf::Any* any = wire.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(payload));
  });
  if (wire.details_size() == 0) return "";
  wire.set_code(static_cast<int>(status.code()));
  wire.set_message(std::string(status.message()));
  return wire.SerializeAsString();
}

absl::Status AttachStatusDetails(absl::Status status, absl::string_view serialized) {
  if (serialized.empty() || status.ok()) return status;
  google::rpc::Status wire;
  if (!wire.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) return status;
  for (const google::protobuf::Any& any : wire.details()) {
    status.SetPayload(any.type_url(), absl::Cord(any.value()));
  }
  return status;
}

}  // namespace smp
