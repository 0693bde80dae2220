#ifndef SMP_SERVICES_COMPLIANCE_UNIT_TEST_ENV_H_
#define SMP_SERVICES_COMPLIANCE_UNIT_TEST_ENV_H_

// Test-only: what every operation unit's in-process test starts from: a new database of the test
// backend (SMP_TEST_BACKEND: SQLite, or PostgreSQL) with the service's migrations, the store and
// audit trail over it, a fixed "now", two clinics, callers, and valid records to start each case
// from.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/db/migrations.h"
#include "common/db/testing/test_database.h"
#include "common/rpc/testing/calls.h"
#include "common/status/error_details.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "services/compliance/audit_trail.h"
#include "services/compliance/compliance_migrations.h"
#include "services/compliance/compliance_store.h"
#include "services/compliance/patient_directory.h"

namespace smp::compliance::testing {

using ::smp::testing::CallAs;
using ::smp::testing::StaffOf;

// Scheduling's answer to "which clinic is this patient's", at the operations' seam: patients set
// with Set belong to their clinic, unknown ones to `default_clinic` (NOT_FOUND when empty); while
// `down`, UNAVAILABLE like a scheduling that cannot answer.
class FakePatientDirectory final : public PatientDirectory {
 public:
  absl::StatusOr<std::string> ClinicOfPatient(const std::string& patient_id) override {
    ++asked;
    if (down) return absl::UnavailableError("scheduling cannot answer (fake)");
    auto it = clinics_.find(patient_id);
    if (it != clinics_.end()) return it->second;
    if (default_clinic.empty()) return absl::NotFoundError("no such patient (fake)");
    return default_clinic;
  }
  // Appointments are placed like patients: by SetAppointment, else at default_clinic.
  absl::StatusOr<std::string> ClinicOfAppointment(const std::string& appointment_id) override {
    ++asked;
    if (down) return absl::UnavailableError("scheduling cannot answer (fake)");
    auto it = appointment_clinics_.find(appointment_id);
    if (it != appointment_clinics_.end()) return it->second;
    if (default_clinic.empty()) return absl::NotFoundError("no such appointment (fake)");
    return default_clinic;
  }
  void Set(const std::string& patient_id, const std::string& clinic_id) {
    clinics_[patient_id] = clinic_id;
  }
  void SetAppointment(const std::string& appointment_id, const std::string& clinic_id) {
    appointment_clinics_[appointment_id] = clinic_id;
  }
  std::string default_clinic;
  bool down = false;
  int asked = 0;

 private:
  std::map<std::string, std::string> clinics_;
  std::map<std::string, std::string> appointment_clinics_;
};

class UnitTestEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Database>> opened = ::smp::testing::OpenNewTestDatabase();
    ASSERT_OK(opened.status());
    db_ = *std::move(opened);
    ASSERT_OK(ApplyMigrations(*db_, ComplianceMigrations(), now_));
    audit_ = std::make_unique<AuditTrail>(db_.get(), &store_);
    patients_.default_clinic = clinic_a_;
  }

  // 2027-01-15 08:00 UTC.
  const absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  const std::string clinic_a_ = NewId();
  const std::string clinic_b_ = NewId();
  const std::string patient_ = NewId();
  const std::string tech_ = NewId();
  // The staff id of StaffA's callers unless given.
  const std::string staff_a_ = NewId();
  std::unique_ptr<Database> db_;
  ComplianceStore store_;
  std::unique_ptr<AuditTrail> audit_;
  // Every patient is clinic A's unless set otherwise.
  FakePatientDirectory patients_;

  // Staff of clinic A holding `role`.
  Call StaffA(common::v1::Role role, std::string method, std::string staff_id = "") const {
    return CallAs(StaffOf({role}, {clinic_a_}, staff_id.empty() ? staff_a_ : std::move(staff_id)),
                  now_, std::move(method));
  }
  // Staff of clinic B only.
  Call StaffB(common::v1::Role role, std::string method) const {
    return CallAs(StaffOf({role}, {clinic_b_}, "staff-b"), now_, std::move(method));
  }
  Call Admin(std::string method) const {
    return CallAs(StaffOf({common::v1::ROLE_ADMIN}, {}, "admin"), now_, std::move(method));
  }
  Call Auditor(std::string method) const {
    return CallAs(StaffOf({common::v1::ROLE_AUDITOR}, {}, "auditor"), now_, std::move(method));
  }

  // The whole audit log, in order.
  std::vector<v1::AuditEntry> AuditEntries() {
    std::vector<v1::AuditEntry> out;
    EXPECT_OK(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(out, store_.ListAudit(txn, 0, 100000));
      return absl::OkStatus();
    }));
    return out;
  }

  // As typed: not normalised, so that 2026-02-30 stays invalid.
  static common::v1::LocalDate Date(int y, int m, int d) {
    common::v1::LocalDate date;
    date.set_year(y);
    date.set_month(m);
    date.set_day(d);
    return date;
  }

  // A credential of `kind` valid through 2027 (bloodborne-pathogen training: one year).
  static v1::Credential Credential(const std::string& practitioner, v1::CredentialKind kind) {
    v1::Credential c;
    c.set_practitioner_id(practitioner);
    c.set_kind(kind);
    c.set_issuer("State board");
    *c.mutable_valid_from() = Date(2026, 1, 1);
    *c.mutable_valid_until() = Date(2027, 12, 31);
    if (kind == v1::CREDENTIAL_KIND_BLOODBORNE_PATHOGEN_TRAINING) {
      // Yearly: valid 2026-06-01..2027-06-01.
      *c.mutable_valid_from() = Date(2026, 6, 1);
      *c.mutable_valid_until() = Date(2027, 6, 1);
      c.mutable_training()->set_content_summary("OSHA BBP");
      c.mutable_training()->set_trainer_name("R. Nurse");
      c.mutable_training()->set_trainer_qualification("RN");
      *c.mutable_training()->mutable_training_date() = Date(2026, 6, 1);
    }
    return c;
  }
  static v1::Permit Permit(const std::string& clinic) {
    v1::Permit p;
    p.set_clinic_id(clinic);
    p.set_kind(v1::PERMIT_KIND_COUNTY_HEALTH);
    p.set_issuer("County health");
    *p.mutable_valid_from() = Date(2026, 1, 1);
    *p.mutable_valid_until() = Date(2027, 12, 31);
    return p;
  }
  v1::Consent Consent(const std::string& patient, const std::string& clinic) const {
    v1::Consent c;
    c.set_patient_id(patient);
    c.set_clinic_id(clinic);
    c.set_kind(v1::CONSENT_KIND_PROCEDURE);
    c.set_form_version("v3");
    *c.mutable_signed_time() = ToProtoTimestamp(now_ - absl::Hours(24));
    return c;
  }
  v1::Screening Screening(const std::string& patient, const std::string& clinic) const {
    v1::Screening s;
    s.set_patient_id(patient);
    s.set_clinic_id(clinic);
    *s.mutable_screened_time() = ToProtoTimestamp(now_ - absl::Hours(24));
    return s;
  }
  v1::ProcedureRecord Procedure(const std::string& clinic) const {
    v1::ProcedureRecord r;
    r.set_appointment_id(NewId());
    r.set_clinic_id(clinic);
    r.set_patient_id(NewId());
    r.set_practitioner_id(NewId());
    r.set_procedure_type(v1::PROCEDURE_TYPE_SAMPLE_PATCH);
    *r.mutable_performed_time() = ToProtoTimestamp(now_ - absl::Hours(2));
    *r.mutable_performed_date() = ToLocalDate(absl::ToCivilDay(now_, absl::UTCTimeZone()));
    v1::NeedleUse* n = r.add_needles();
    n->set_product_id("needle-3rl");
    n->set_lot("L1");
    n->set_serial(NewId());
    *n->mutable_expiry_date() = Date(2028, 1, 1);
    return r;
  }
  v1::Incident Incident(const std::string& clinic) const {
    v1::Incident i;
    i.set_kind(v1::INCIDENT_KIND_INFLAMMATION);
    i.set_clinic_id(clinic);
    *i.mutable_occurred_time() = ToProtoTimestamp(now_ - absl::Hours(1));
    i.set_description("redness after the session");
    return i;
  }
};

}  // namespace smp::compliance::testing

#endif  // SMP_SERVICES_COMPLIANCE_UNIT_TEST_ENV_H_
