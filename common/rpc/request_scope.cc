#include "common/rpc/request_scope.h"

#include <string>

#include "common/status/status_macros.h"
#include "google/protobuf/descriptor.h"

namespace smp {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

bool IsClinicField(const FieldDescriptor* f) {
  return f->type() == FieldDescriptor::TYPE_STRING &&
         (f->name() == "clinic_id" || f->name() == "clinic_ids");
}

// Message fields of the suite's own contracts (not google.protobuf.Timestamp and the like).
bool IsSuiteMessage(const FieldDescriptor* f) {
  return f->type() == FieldDescriptor::TYPE_MESSAGE && !f->is_repeated() &&
         f->message_type()->file()->package().rfind("smp.", 0) == 0;
}

absl::Status Check(const Principal& who, const Message& m, int depth) {
  const Reflection* r = m.GetReflection();
  const Descriptor* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (IsClinicField(f)) {
      if (f->is_repeated()) {
        for (int j = 0; j < r->FieldSize(m, f); ++j) {
          const std::string clinic = r->GetRepeatedString(m, f, j);
          if (!clinic.empty()) RETURN_IF_ERROR(who.CheckClinic(clinic));
        }
      } else {
        const std::string clinic = r->GetString(m, f);
        if (!clinic.empty()) RETURN_IF_ERROR(who.CheckClinic(clinic));
      }
    } else if (depth == 0 && IsSuiteMessage(f) && r->HasField(m, f)) {
      RETURN_IF_ERROR(Check(who, r->GetMessage(m, f), depth + 1));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckNamedClinics(const Principal& who, const google::protobuf::Message& request) {
  return Check(who, request, 0);
}

}  // namespace smp
