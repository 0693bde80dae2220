#ifndef SMP_SERVICES_COMPLIANCE_PATIENT_DIRECTORY_H_
#define SMP_SERVICES_COMPLIANCE_PATIENT_DIRECTORY_H_

// Which clinic a patient belongs to, as scheduling (the owner of patients) says: the patient's
// preferred clinic, the one whose branches see the record. Compliance asks before a clinic-scoped
// caller writes a patient's consent, screening or incident (clinic_scope.h), so a technician of
// clinic A cannot bind clinic B's patient to clinic A by recording first.
//
// When scheduling cannot answer, compliance fails closed: UNAVAILABLE naming scheduling, and
// nothing is written (a retry succeeds once it is back). Answers are cached for `cache_ttl`, so a
// patient seen recently is still known while scheduling is down.

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/peer/service_credentials.h"
#include "common/util/clock.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"

namespace smp::compliance {

class PatientDirectory {
 public:
  virtual ~PatientDirectory() = default;
  // The clinic of `patient_id`. NOT_FOUND when scheduling knows no such patient; UNAVAILABLE
  // (naming scheduling) when it cannot be asked or cannot answer.
  virtual absl::StatusOr<std::string> ClinicOfPatient(const std::string& patient_id) = 0;
  // The clinic of `appointment_id`, with the same answers (an appointment never changes clinic).
  virtual absl::StatusOr<std::string> ClinicOfAppointment(const std::string& appointment_id) = 0;
};

// smp.scheduling.v1.SchedulingService/GetPatient as compliance's own service account, with a
// deadline per call and a cache of answers.
class SchedulingPatientDirectory final : public PatientDirectory {
 public:
  // `credentials` and `clock` must outlive this.
  SchedulingPatientDirectory(std::shared_ptr<grpc::Channel> channel,
                             ServiceCredentials* credentials, absl::Duration deadline,
                             absl::Duration cache_ttl, const Clock* clock);
  absl::StatusOr<std::string> ClinicOfPatient(const std::string& patient_id) override;
  absl::StatusOr<std::string> ClinicOfAppointment(const std::string& appointment_id) override;

 private:
  // The clinic scheduling gives for the `what` (patient, appointment) `id`, through `ask` unless
  // a fresh answer is cached; NOT_FOUND and UNAVAILABLE as the interface says.
  absl::StatusOr<std::string> ClinicOf(absl::string_view what, const std::string& id,
                                       absl::FunctionRef<absl::StatusOr<std::string>()> ask);

  struct CachedClinic {
    std::string clinic_id;
    absl::Time expires;
  };
  std::unique_ptr<scheduling::v1::SchedulingService::Stub> stub_;
  ServiceCredentials* credentials_;
  const absl::Duration deadline_;
  const absl::Duration cache_ttl_;
  const Clock* clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, CachedClinic> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_PATIENT_DIRECTORY_H_
