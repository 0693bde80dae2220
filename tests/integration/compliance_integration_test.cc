// The compliance service as a real process with identity and a real redis-server: auditors' rights,
// bad input, tampering with the database file, checkpoints, and the report's findings.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/db/database.h"
#include "common/redis/testing/redis_server.h"
#include "common/status/error_details.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "services/compliance/audit_chain.h"
#include "smp/compliance/v1/compliance.grpc.pb.h"
#include "smp/compliance/v1/eligibility.grpc.pb.h"
#include "smp/identity/v1/identity.grpc.pb.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"
#include "tests/integration/identity_harness.h"
#include "tests/integration/service_process.h"

namespace smp::compliance {
namespace {

using ::smp::testing::ServiceProcess;

using ::smp::testing::CallContext;
using ::smp::testing::GrpcIs;
using ::smp::testing::IdentityHarness;

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) { return CallContext(token); }

common::v1::LocalDate Date(absl::CivilDay d) {
  common::v1::LocalDate out;
  out.set_year(static_cast<int>(d.year()));
  out.set_month(d.month());
  out.set_day(d.day());
  return out;
}

class ComplianceIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(harness_.Start());
    admin_ = harness_.admin_token();
    clinic_ = harness_.MakeClinic("Austin", "America/Chicago");
    tech_ = harness_.MakeStaff("tech.a", common::v1::ROLE_TECHNICIAN, clinic_);
    harness_.MakeStaff("auditor", common::v1::ROLE_AUDITOR);
    harness_.MakeStaff("gate", common::v1::ROLE_SERVICE);
    tech_token_ = harness_.Login("tech.a");
    auditor_ = harness_.Login("auditor");
    service_ = harness_.Login("gate");
    const std::string dir = smp::testing::MakeTempDir("compliance");
    data_dir_ = dir + "/data";
    ASSERT_OK_AND_ASSIGN(
        compliance_,
        ServiceProcess::Start(SMP_COMPLIANCE_BINARY,
                              {"--data_dir=" + data_dir_, harness_.RedisFlag(),
                               "--checkpoint_key_file=" + dir + "/key", "--refusal_window=1s"}));
    auto channel = grpc::CreateChannel(compliance_->address(), grpc::InsecureChannelCredentials());
    stub_ = v1::ComplianceService::NewStub(channel);
    gate_ = v1::EligibilityService::NewStub(channel);
  }

  v1::Credential Credential(v1::CredentialKind kind, absl::CivilDay from, absl::CivilDay until) {
    v1::Credential c;
    c.set_practitioner_id(tech_);
    c.set_kind(kind);
    c.set_issuer("Texas DSHS");
    *c.mutable_valid_from() = Date(from);
    *c.mutable_valid_until() = Date(until);
    if (kind == v1::CREDENTIAL_KIND_BLOODBORNE_PATHOGEN_TRAINING) {
      c.mutable_training()->set_content_summary("OSHA BBP standard, exposure control plan");
      c.mutable_training()->set_trainer_name("Dana Lee");
      c.mutable_training()->set_trainer_qualification("RN, certified BBP instructor");
      *c.mutable_training()->mutable_training_date() = Date(from);
    }
    return c;
  }

  grpc::Status RecordCredential(const v1::Credential& c, const std::string& token) {
    v1::RecordCredentialRequest req;
    req.set_request_id(NewId());
    *req.mutable_credential() = c;
    v1::Credential out;
    return stub_->RecordCredential(Ctx(token).get(), req, &out);
  }

  std::vector<v1::AuditEntry> AuditLog() {
    v1::ListAuditEntriesRequest req;
    req.set_page_size(5000);
    v1::ListAuditEntriesResponse out;
    EXPECT_TRUE(stub_->ListAuditEntries(Ctx(admin_).get(), req, &out).ok());
    return {out.entries().begin(), out.entries().end()};
  }

  v1::VerifyAuditLogResponse Verify() {
    v1::VerifyAuditLogResponse out;
    EXPECT_TRUE(stub_->VerifyAuditLog(Ctx(admin_).get(), v1::VerifyAuditLogRequest(), &out).ok());
    return out;
  }

  // Opens the service's database directly (its file, or its PostgreSQL database), as someone
  // with access to the data could.
  std::unique_ptr<Database> OpenDatabaseFile() {
    auto db = smp::testing::OpenServiceDatabaseOf("compliance", data_dir_);
    EXPECT_TRUE(db.ok()) << db.status();
    return std::move(db).value();
  }

  // A few credentials: each one audit entry.
  void MakeHistory(int entries) {
    for (int i = 0; i < entries; ++i) {
      ASSERT_TRUE(
          RecordCredential(Credential(v1::CREDENTIAL_KIND_SMP_CERTIFICATION,
                                      absl::CivilDay(2026, 1, 1) + i, absl::CivilDay(2027, 1, 1)),
                           admin_)
              .ok());
    }
  }

  IdentityHarness harness_;
  std::unique_ptr<ServiceProcess> compliance_;
  std::unique_ptr<v1::ComplianceService::Stub> stub_;
  std::unique_ptr<v1::EligibilityService::Stub> gate_;
  std::string data_dir_, admin_, tech_token_, auditor_, service_, clinic_, tech_;
};

TEST_F(ComplianceIntegrationTest, AuditorsReadEverythingWriteNothingAndAreOnTheRecord) {
  v1::Permit permit;
  permit.set_clinic_id(clinic_);
  permit.set_kind(v1::PERMIT_KIND_COUNTY_HEALTH);
  permit.set_issuer("Travis County");
  *permit.mutable_valid_from() = Date(absl::CivilDay(2026, 1, 1));
  *permit.mutable_valid_until() = Date(absl::CivilDay(2026, 12, 31));
  v1::RecordPermitRequest req;
  req.set_request_id("permit-1");
  *req.mutable_permit() = permit;
  v1::Permit out;
  const grpc::Status refused = stub_->RecordPermit(Ctx(auditor_).get(), req, &out);
  EXPECT_THAT(refused, GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_COMPLIANCE_MANAGE"));
  EXPECT_EQ(ErrorReason(FromGrpcStatus(refused)), ::smp::reason::kMissingPermission);
  EXPECT_EQ(ErrorMetadata(FromGrpcStatus(refused), "permission"), "PERMISSION_COMPLIANCE_MANAGE");
  ASSERT_TRUE(stub_->RecordPermit(Ctx(admin_).get(), req, &out).ok());

  v1::ListPermitsRequest list;
  list.set_clinic_id(clinic_);
  v1::ListPermitsResponse permits;
  ASSERT_TRUE(stub_->ListPermits(Ctx(auditor_).get(), list, &permits).ok());
  EXPECT_EQ(permits.permits_size(), 1);

  std::vector<v1::AuditEntry> log = AuditLog();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].action(), v1::AUDIT_ACTION_DENIED);
  EXPECT_EQ(log[0].method(), "RecordPermit");
  EXPECT_EQ(log[0].actor_roles(0), "ROLE_AUDITOR");
  EXPECT_EQ(log[1].action(), v1::AUDIT_ACTION_CREATE);
  EXPECT_EQ(log[1].entity_id(), out.id());
  EXPECT_EQ(log[2].action(), v1::AUDIT_ACTION_READ);
  EXPECT_EQ(log[2].method(), "ListPermits");
  EXPECT_TRUE(Verify().intact());
}

TEST_F(ComplianceIntegrationTest, ABurstOfRefusalsIsAuditedAsABoundedNumberOfCountedEntries) {
  v1::RecordPermitRequest req;
  req.set_request_id("permit-burst");
  req.mutable_permit()->set_clinic_id(clinic_);
  v1::Permit out;
  for (int i = 0; i < 100; ++i) {
    ASSERT_THAT(stub_->RecordPermit(Ctx(auditor_).get(), req, &out),
                GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_COMPLIANCE_MANAGE"));
  }
  // --refusal_window=1s: the first at once, the rest counted when its window closes.
  int64_t counted = 0;
  std::vector<v1::AuditEntry> denied;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (counted < 100 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
    denied.clear();
    counted = 0;
    for (const v1::AuditEntry& e : AuditLog()) {
      if (e.action() != v1::AUDIT_ACTION_DENIED) continue;
      denied.push_back(e);
      int64_t n = 0;
      EXPECT_TRUE(absl::SimpleAtoi(e.detail().substr(0, e.detail().find(' ')), &n)) << e.detail();
      counted += n;
    }
  }
  EXPECT_EQ(counted, 100);
  EXPECT_GE(denied.size(), 2u);
  EXPECT_LE(denied.size(), 6u);  // at most two per window, and the burst spans a few windows
  for (const v1::AuditEntry& e : denied) {
    EXPECT_EQ(e.method(), "RecordPermit");
    EXPECT_THAT(e.detail(), ::testing::HasSubstr("MISSING_PERMISSION"));
  }
  EXPECT_TRUE(Verify().intact());
}

TEST_F(ComplianceIntegrationTest, EveryReadOfHealthDataIsAuditedAdminsIncluded) {
  const std::string patient = NewId();
  v1::ListScreeningsRequest req;
  req.set_patient_id(patient);
  v1::ListScreeningsResponse screenings;
  grpc::Status s = stub_->ListScreenings(Ctx(admin_).get(), req, &screenings);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::ListConsentsRequest consents_req;
  consents_req.set_patient_id(patient);
  v1::ListConsentsResponse consents;
  s = stub_->ListConsents(Ctx(tech_token_).get(), consents_req, &consents);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::vector<v1::AuditEntry> reads;
  for (const v1::AuditEntry& e : AuditLog()) {
    if (e.action() == v1::AUDIT_ACTION_READ) reads.push_back(e);
  }
  ASSERT_EQ(reads.size(), 2u);
  EXPECT_EQ(reads[0].method(), "ListScreenings");
  EXPECT_EQ(reads[0].entity_type(), "patient");
  EXPECT_EQ(reads[0].entity_id(), patient);
  EXPECT_EQ(reads[0].actor_roles(0), "ROLE_ADMIN");
  EXPECT_EQ(reads[1].method(), "ListConsents");
  EXPECT_EQ(reads[1].actor_roles(0), "ROLE_TECHNICIAN");
}

TEST_F(ComplianceIntegrationTest, BadInputIsInvalidArgumentAndStoresNothing) {
  v1::Credential no_issuer = Credential(v1::CREDENTIAL_KIND_SMP_CERTIFICATION,
                                        absl::CivilDay(2026, 1, 1), absl::CivilDay(2027, 1, 1));
  no_issuer.clear_issuer();
  EXPECT_THAT(RecordCredential(no_issuer, admin_),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "credential.issuer"));
  EXPECT_THAT(RecordCredential(Credential(v1::CREDENTIAL_KIND_SMP_CERTIFICATION,
                                          absl::CivilDay(2027, 1, 1), absl::CivilDay(2026, 1, 1)),
                               admin_),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "valid_until"));
  v1::Credential bbp = Credential(v1::CREDENTIAL_KIND_BLOODBORNE_PATHOGEN_TRAINING,
                                  absl::CivilDay(2026, 1, 1), absl::CivilDay(2027, 1, 1));
  bbp.mutable_training()->clear_trainer_qualification();
  EXPECT_THAT(RecordCredential(bbp, admin_),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "trainer_qualification"));

  v1::RecordConsentRequest consent;
  consent.set_request_id("c1");
  consent.mutable_consent()->set_patient_id(NewId());
  consent.mutable_consent()->set_clinic_id(clinic_);
  consent.mutable_consent()->set_kind(v1::CONSENT_KIND_PROCEDURE);
  consent.mutable_consent()->set_form_version("2026-03");
  *consent.mutable_consent()->mutable_signed_time() =
      ToProtoTimestamp(absl::Now() + absl::Hours(2));
  v1::Consent c;
  EXPECT_THAT(stub_->RecordConsent(Ctx(tech_token_).get(), consent, &c),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "signed_time"));

  v1::RecordScreeningRequest screening;
  screening.set_request_id("s1");
  screening.mutable_screening()->set_patient_id(NewId());
  screening.mutable_screening()->set_clinic_id(clinic_);
  *screening.mutable_screening()->mutable_screened_time() = ToProtoTimestamp(absl::Now());
  screening.mutable_screening()->add_findings(static_cast<v1::Contraindication>(77));
  v1::Screening s;
  EXPECT_THAT(stub_->RecordScreening(Ctx(tech_token_).get(), screening, &s),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "screening.findings[0]"));
  EXPECT_TRUE(AuditLog().empty());  // nothing was stored, so nothing was logged
}

TEST_F(ComplianceIntegrationTest, TamperingWithTheDatabaseFileIsNamed) {
  MakeHistory(6);
  ASSERT_TRUE(Verify().intact());
  std::unique_ptr<Database> db = OpenDatabaseFile();
  auto exec = [&](const std::string& sql) {
    ASSERT_OK(db->Run(TxMode::kWrite, [&](Transaction& txn) { return txn.Exec(sql); }));
  };

  exec("UPDATE audit_log SET detail = 'nothing to see' WHERE sequence = 3");
  v1::VerifyAuditLogResponse v = Verify();
  EXPECT_FALSE(v.intact());
  EXPECT_EQ(v.first_bad_sequence(), 3);
  EXPECT_NE(v.problem().find("altered"), std::string::npos) << v.problem();
  exec("UPDATE audit_log SET detail = '' WHERE sequence = 3");
  ASSERT_TRUE(Verify().intact());

  // Reorder: swap the contents of entries 4 and 5 by swapping their sequence numbers.
  exec("UPDATE audit_log SET sequence = -1 WHERE sequence = 4");
  exec("UPDATE audit_log SET sequence = 4 WHERE sequence = 5");
  exec("UPDATE audit_log SET sequence = 5 WHERE sequence = -1");
  v = Verify();
  EXPECT_FALSE(v.intact());
  EXPECT_EQ(v.first_bad_sequence(), 4);

  exec("UPDATE audit_log SET sequence = -1 WHERE sequence = 4");
  exec("UPDATE audit_log SET sequence = 4 WHERE sequence = 5");
  exec("UPDATE audit_log SET sequence = 5 WHERE sequence = -1");
  ASSERT_TRUE(Verify().intact());

  exec("DELETE FROM audit_log WHERE sequence = 2");
  v = Verify();
  EXPECT_FALSE(v.intact());
  EXPECT_EQ(v.first_bad_sequence(), 2);
}

TEST_F(ComplianceIntegrationTest, SignedCheckpointCatchesARecomputedHistory) {
  MakeHistory(4);
  v1::Checkpoint checkpoint;
  ASSERT_TRUE(
      stub_->CreateCheckpoint(Ctx(auditor_).get(), v1::CreateCheckpointRequest(), &checkpoint)
          .ok());
  EXPECT_EQ(checkpoint.count(), 5);  // the checkpoint's own entry is covered
  v1::VerifyCheckpointRequest check;
  *check.mutable_checkpoint() = checkpoint;
  v1::VerifyCheckpointResponse verdict;
  ASSERT_TRUE(stub_->VerifyCheckpoint(Ctx(auditor_).get(), check, &verdict).ok());
  EXPECT_TRUE(verdict.valid()) << verdict.problem();

  // Someone with the database rewrites entry 2 and recomputes every later hash.
  std::unique_ptr<Database> db = OpenDatabaseFile();
  ASSERT_OK(db->Run(TxMode::kWrite, [&](Transaction& txn) {
    return txn.Exec("UPDATE audit_log SET entity_id = 'forged' WHERE sequence = 2");
  }));
  std::vector<v1::AuditEntry> entries = AuditLog();
  ASSERT_OK(db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    std::string previous = GenesisHash();
    for (v1::AuditEntry& e : entries) {
      e.set_previous_hash(previous);
      e.set_hash(EntryHash(e));
      previous = e.hash();
      RETURN_IF_ERROR(
          txn.Exec("UPDATE audit_log SET previous_hash = ?, hash = ? WHERE sequence = ?",
                   {e.previous_hash(), e.hash(), e.sequence()}));
    }
    return absl::OkStatus();
  }));
  EXPECT_TRUE(Verify().intact());  // the chain alone cannot tell
  ASSERT_TRUE(stub_->VerifyCheckpoint(Ctx(auditor_).get(), check, &verdict).ok());
  EXPECT_FALSE(verdict.valid());
  EXPECT_NE(verdict.problem().find("rewritten"), std::string::npos) << verdict.problem();

  v1::VerifyCheckpointRequest forged = check;
  forged.mutable_checkpoint()->set_head_hash(entries[4].hash());
  ASSERT_TRUE(stub_->VerifyCheckpoint(Ctx(auditor_).get(), forged, &verdict).ok());
  EXPECT_FALSE(verdict.valid());
  EXPECT_NE(verdict.problem().find("signature"), std::string::npos);
}

TEST_F(ComplianceIntegrationTest, GateAnswersWithEveryReason) {
  v1::CheckEligibilityRequest req;
  req.set_patient_id(NewId());
  req.set_practitioner_id(tech_);
  req.set_clinic_id(clinic_);
  *req.mutable_date() = Date(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) + 7);
  req.set_procedure_type(v1::PROCEDURE_TYPE_TREATMENT_SESSION);
  v1::CheckEligibilityResponse out;
  ASSERT_TRUE(gate_->CheckEligibility(Ctx(service_).get(), req, &out).ok());
  EXPECT_FALSE(out.allowed());
  EXPECT_EQ(out.reasons_size(), 6);  // three credentials, permit, consent, screening
  v1::CheckEligibilityResponse denied;
  EXPECT_THAT(gate_->CheckEligibility(Ctx("").get(), req, &denied),
              GrpcIs(grpc::StatusCode::UNAUTHENTICATED, ""));
}

// A seeded October: one clean procedure and one of each planted problem.
TEST_F(ComplianceIntegrationTest, ReportListsEveryPlantedFindingAndNoOther) {
  const absl::CivilDay oct1(2026, 10, 1);
  for (auto kind : {v1::CREDENTIAL_KIND_SMP_CERTIFICATION, v1::CREDENTIAL_KIND_BODY_ART_LICENSE}) {
    ASSERT_TRUE(
        RecordCredential(Credential(kind, absl::CivilDay(2026, 1, 1), absl::CivilDay(2027, 1, 1)),
                         admin_)
            .ok());
  }
  // Bloodborne-pathogen training lapses after 20 October.
  ASSERT_TRUE(
      RecordCredential(Credential(v1::CREDENTIAL_KIND_BLOODBORNE_PATHOGEN_TRAINING,
                                  absl::CivilDay(2025, 10, 21), absl::CivilDay(2026, 10, 20)),
                       admin_)
          .ok());
  v1::RecordPermitRequest permit;
  permit.set_request_id("permit");
  permit.mutable_permit()->set_clinic_id(clinic_);
  permit.mutable_permit()->set_kind(v1::PERMIT_KIND_COUNTY_HEALTH);
  permit.mutable_permit()->set_issuer("Travis County");
  *permit.mutable_permit()->mutable_valid_from() = Date(absl::CivilDay(2026, 1, 1));
  *permit.mutable_permit()->mutable_valid_until() = Date(absl::CivilDay(2026, 12, 31));
  v1::Permit p;
  ASSERT_TRUE(stub_->RecordPermit(Ctx(admin_).get(), permit, &p).ok());

  const absl::Time sept =
      absl::FromCivil(absl::CivilSecond(2026, 9, 20, 12, 0, 0), absl::UTCTimeZone());
  auto patient = [&](bool consent) {
    const std::string id = NewId();
    if (consent) {
      v1::RecordConsentRequest c;
      c.set_request_id("consent-" + id);
      c.mutable_consent()->set_patient_id(id);
      c.mutable_consent()->set_clinic_id(clinic_);
      c.mutable_consent()->set_kind(v1::CONSENT_KIND_PROCEDURE);
      c.mutable_consent()->set_form_version("2026-03");
      *c.mutable_consent()->mutable_signed_time() = ToProtoTimestamp(sept);
      v1::Consent out;
      EXPECT_TRUE(stub_->RecordConsent(Ctx(tech_token_).get(), c, &out).ok());
    }
    v1::RecordScreeningRequest s;
    s.set_request_id("screening-" + id);
    s.mutable_screening()->set_patient_id(id);
    s.mutable_screening()->set_clinic_id(clinic_);
    *s.mutable_screening()->mutable_screened_time() = ToProtoTimestamp(sept);
    v1::Screening out;
    EXPECT_TRUE(stub_->RecordScreening(Ctx(tech_token_).get(), s, &out).ok());
    return id;
  };
  struct Planted {
    std::string appointment;
    std::vector<v1::FindingKind> findings;
  };
  std::vector<Planted> planted;
  std::string good_patient;  // consented and screened; set below
  const std::string recalled_product = NewId();
  auto procedure = [&](const std::string& patient_id, absl::CivilDay day, bool checklist_ok,
                       absl::CivilDay needle_expiry, const std::string& serial,
                       std::vector<v1::FindingKind> expected, const std::string& lot = "N-100") {
    v1::RecordProcedureRequest r;
    const std::string appointment = NewId();
    r.set_request_id("proc-" + appointment);
    v1::ProcedureRecord* rec = r.mutable_record();
    rec->set_appointment_id(appointment);
    rec->set_clinic_id(clinic_);
    rec->set_patient_id(patient_id);
    rec->set_practitioner_id(tech_);
    rec->set_procedure_type(v1::PROCEDURE_TYPE_TREATMENT_SESSION);
    *rec->mutable_performed_time() =
        ToProtoTimestamp(absl::FromCivil(absl::CivilSecond(day) + 15 * 3600, absl::UTCTimeZone()));
    *rec->mutable_performed_date() = Date(day);
    v1::NeedleUse* needle = rec->add_needles();
    needle->set_product_id(lot == "N-100" ? NewId() : recalled_product);
    needle->set_lot(lot);
    needle->set_serial(serial);
    *needle->mutable_expiry_date() = Date(needle_expiry);
    v1::ProcedureChecklist* c = rec->mutable_checklist();
    c->set_sealed_needles_opened_before_client(true);
    c->set_gloves_worn(true);
    c->set_mask_worn(checklist_ok);
    c->set_sterile_field(true);
    c->set_sharps_disposed(true);
    v1::ProcedureRecord out;
    // Procedure records are service-only (issue 13): scheduling delivers them.
    grpc::Status s = stub_->RecordProcedure(Ctx(service_).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    // The consents and screenings were entered today, backdated to September: on the day of each
    // procedure they were not on file (issue 14 item 5), one finding for each.
    const int late_records = patient_id == good_patient ? 2 : 1;
    for (int i = 0; i < late_records; ++i) {
      expected.push_back(v1::FINDING_KIND_RECORDED_AFTER_PROCEDURE);
    }
    planted.push_back({appointment, std::move(expected)});
  };
  const std::string good = patient(true), unconsented = patient(false);
  good_patient = good;
  const absl::CivilDay future_expiry(2027, 6, 1);
  procedure(good, oct1 + 1, true, future_expiry, "UDI-1", {v1::FINDING_KIND_NEEDLE_REUSE});
  procedure(unconsented, oct1 + 2, true, future_expiry, "UDI-2", {v1::FINDING_KIND_NO_CONSENT});
  procedure(good, oct1 + 3, false, future_expiry, "UDI-3", {v1::FINDING_KIND_CHECKLIST_INCOMPLETE});
  procedure(good, oct1 + 4, true, oct1 + 3, "UDI-4", {v1::FINDING_KIND_EXPIRED_LOT});
  procedure(good, oct1 + 5, true, future_expiry, "UDI-1", {v1::FINDING_KIND_NEEDLE_REUSE});
  procedure(good, oct1 + 20, true, future_expiry, "UDI-6", {v1::FINDING_KIND_CREDENTIAL_INVALID});
  procedure(good, oct1 + 19, true, future_expiry, "UDI-7", {});  // the training's last valid day

  // A needle lot recalled on 10 October: its use on the 12th is a finding; the 2nd, before, is not.
  v1::RecordLotRecallRequest recall;
  recall.set_request_id("recall-1");
  recall.mutable_recall()->set_product_id(recalled_product);
  recall.mutable_recall()->set_lot("N-RECALLED");
  *recall.mutable_recall()->mutable_recall_time() =
      ToProtoTimestamp(absl::FromCivil(absl::CivilSecond(oct1 + 9), absl::UTCTimeZone()));
  recall.mutable_recall()->set_reason("microbial contamination");
  v1::LotRecall recorded;
  const grpc::Status not_chain_wide =
      stub_->RecordLotRecall(Ctx(tech_token_).get(), recall, &recorded);
  // Recall records are service-only (issue 13): inventory delivers them.
  EXPECT_THAT(not_chain_wide,
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_SERVICE_CALL"));
  EXPECT_EQ(ErrorReason(FromGrpcStatus(not_chain_wide)), "MISSING_PERMISSION");
  ASSERT_TRUE(stub_->RecordLotRecall(Ctx(service_).get(), recall, &recorded).ok());
  procedure(good, oct1 + 11, true, future_expiry, "UDI-8", {v1::FINDING_KIND_RECALLED_LOT},
            "N-RECALLED");

  v1::GenerateReportRequest report;
  *report.mutable_period()->mutable_start_date() = Date(oct1);
  *report.mutable_period()->mutable_end_date() = Date(absl::CivilDay(2026, 10, 31));
  auto ctx = Ctx(auditor_);
  auto reader = stub_->GenerateReport(ctx.get(), report);
  v1::ReportPart part;
  std::vector<std::pair<std::string, v1::FindingKind>> found;
  int procedures = 0;
  v1::ReportHeader header;
  v1::ReportSummary summary;
  while (reader->Read(&part)) {
    if (part.has_header()) header = part.header();
    if (part.has_procedure()) ++procedures;
    if (part.has_finding())
      found.emplace_back(part.finding().appointment_id(), part.finding().kind());
    if (part.has_summary()) summary = part.summary();
  }
  ASSERT_TRUE(reader->Finish().ok());
  std::vector<std::pair<std::string, v1::FindingKind>> expected;
  for (const Planted& plant : planted) {
    for (v1::FindingKind k : plant.findings) expected.emplace_back(plant.appointment, k);
  }
  std::sort(found.begin(), found.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(found, expected);
  EXPECT_EQ(procedures, 8);
  EXPECT_EQ(summary.procedures(), 8);
  EXPECT_EQ(summary.findings(), static_cast<int64_t>(expected.size()));

  // The pull itself is the newest audit entry, and the header names it.
  std::vector<v1::AuditEntry> log = AuditLog();
  ASSERT_FALSE(log.empty());
  const v1::AuditEntry& pull = log.back();
  EXPECT_EQ(pull.method(), "GenerateReport");
  EXPECT_EQ(header.audit_log_count(), pull.sequence());
  EXPECT_EQ(header.audit_log_head_hash(), pull.hash());
}

TEST_F(ComplianceIntegrationTest, ExportsForAuditorsTools) {
  MakeHistory(2);
  v1::ExportAuditEventsRequest events;
  v1::ExportAuditEventsResponse fhir;
  ASSERT_TRUE(stub_->ExportAuditEvents(Ctx(auditor_).get(), events, &fhir).ok());
  ASSERT_EQ(fhir.fhir_json_size(), 2);  // the export's own entry comes after this page was read
  EXPECT_NE(fhir.fhir_json(0).find("\"resourceType\":\"AuditEvent\""), std::string::npos);
  EXPECT_EQ(fhir.last_sequence(), 2);

  for (auto format : {v1::EXPORT_FORMAT_CSV, v1::EXPORT_FORMAT_JSON}) {
    v1::ExportReportRequest req;
    req.set_format(format);
    *req.mutable_report()->mutable_period()->mutable_start_date() =
        Date(absl::CivilDay(2026, 1, 1));
    *req.mutable_report()->mutable_period()->mutable_end_date() =
        Date(absl::CivilDay(2026, 12, 31));
    auto ctx = Ctx(auditor_);
    auto reader = stub_->ExportReport(ctx.get(), req);
    v1::ExportChunk chunk;
    std::string file;
    while (reader->Read(&chunk)) file += chunk.data();
    ASSERT_TRUE(reader->Finish().ok());
    if (format == v1::EXPORT_FORMAT_CSV) {
      EXPECT_EQ(file.rfind("record_type,clinic_id,", 0), 0u) << file;
      EXPECT_NE(file.find("\r\nheader,"), std::string::npos) << file;
      EXPECT_NE(file.find("\r\nsummary,"), std::string::npos) << file;
    } else {
      EXPECT_EQ(file.front(), '[');
      EXPECT_NE(file.find("\"header\""), std::string::npos) << file;
      EXPECT_NE(file.find("\"summary\""), std::string::npos) << file;
    }
  }
  v1::ExportReportRequest bad;
  auto ctx = Ctx(auditor_);
  auto reader = stub_->ExportReport(ctx.get(), bad);
  v1::ExportChunk chunk;
  while (reader->Read(&chunk)) {
  }
  EXPECT_THAT(reader->Finish(), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "format"));
}

TEST_F(ComplianceIntegrationTest, RetentionPurgeDestroysOnlyWhatTheRuleRequires) {
  const absl::Time now = absl::Now();
  auto screen = [&](absl::Time when) {
    v1::RecordScreeningRequest s;
    s.set_request_id(NewId());
    s.mutable_screening()->set_patient_id(NewId());
    s.mutable_screening()->set_clinic_id(clinic_);
    *s.mutable_screening()->mutable_screened_time() = ToProtoTimestamp(when);
    v1::Screening out;
    EXPECT_TRUE(stub_->RecordScreening(Ctx(tech_token_).get(), s, &out).ok());
    return out;
  };
  v1::Screening old_one = screen(now - absl::Hours(24 * 366 * 2 + 48));  // over two years ago
  v1::Screening recent = screen(now - absl::Hours(24 * 300));

  v1::RunRetentionPurgeResponse purged;
  ASSERT_TRUE(
      stub_->RunRetentionPurge(Ctx(admin_).get(), v1::RunRetentionPurgeRequest(), &purged).ok());
  EXPECT_EQ(purged.screenings_destroyed(), 0);  // no destruction rule yet: nothing goes

  v1::SetRetentionPolicyRequest policy;
  policy.set_request_id("ca-rule");
  policy.mutable_policy()->set_clinic_id(clinic_);
  policy.mutable_policy()->set_jurisdiction("US-CA");
  policy.mutable_policy()->set_client_records_years(7);
  v1::RetentionPolicy saved;
  EXPECT_THAT(stub_->SetRetentionPolicy(Ctx(admin_).get(), policy, &saved),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "client_records_years"));
  policy.mutable_policy()->set_client_records_years(2);
  policy.mutable_policy()->set_destroy_health_questionnaire_after_years(2);
  ASSERT_TRUE(stub_->SetRetentionPolicy(Ctx(admin_).get(), policy, &saved).ok());
  EXPECT_EQ(saved.training_records_years(), 3);
  const grpc::Status auditor_set = stub_->SetRetentionPolicy(Ctx(auditor_).get(), policy, &saved);
  EXPECT_THAT(auditor_set, GrpcIs(grpc::StatusCode::PERMISSION_DENIED, ""));
  EXPECT_EQ(ErrorReason(FromGrpcStatus(auditor_set)), ::smp::reason::kMissingPermission);

  ASSERT_TRUE(
      stub_->RunRetentionPurge(Ctx(admin_).get(), v1::RunRetentionPurgeRequest(), &purged).ok());
  EXPECT_EQ(purged.screenings_destroyed(), 1);
  std::vector<v1::AuditEntry> log = AuditLog();
  auto destroyed = std::find_if(log.begin(), log.end(), [](const v1::AuditEntry& e) {
    return e.action() == v1::AUDIT_ACTION_DELETE;
  });
  ASSERT_NE(destroyed, log.end());
  EXPECT_EQ(destroyed->entity_id(), old_one.id());
  EXPECT_NE(destroyed->detail().find("US-CA"), std::string::npos);
  EXPECT_TRUE(Verify().intact());
  ASSERT_TRUE(
      stub_->RunRetentionPurge(Ctx(admin_).get(), v1::RunRetentionPurgeRequest(), &purged).ok());
  EXPECT_EQ(purged.screenings_destroyed(), 0);  // the recent one stays until its time
  (void)recent;
}

TEST_F(ComplianceIntegrationTest, IncidentFollowUpsAccumulate) {
  v1::ReportIncidentRequest report;
  report.set_request_id("incident-1");
  report.mutable_incident()->set_kind(v1::INCIDENT_KIND_ALLERGIC_REACTION);
  report.mutable_incident()->set_clinic_id(clinic_);
  report.mutable_incident()->set_patient_id(NewId());
  *report.mutable_incident()->mutable_occurred_time() =
      ToProtoTimestamp(absl::Now() - absl::Hours(1));
  report.mutable_incident()->set_description("redness and swelling beyond the treated area");
  v1::Incident incident;
  ASSERT_TRUE(stub_->ReportIncident(Ctx(tech_token_).get(), report, &incident).ok());
  EXPECT_EQ(incident.reported_by(), tech_);
  for (const char* note : {"antihistamine given", "patient called back: resolved"}) {
    v1::RecordIncidentFollowUpRequest follow;
    follow.set_request_id(absl::StrCat("follow-", std::string(note).substr(0, 4)));
    follow.set_id(incident.id());
    follow.set_follow_up(note);
    ASSERT_TRUE(stub_->RecordIncidentFollowUp(Ctx(tech_token_).get(), follow, &incident).ok());
  }
  EXPECT_NE(incident.follow_up().find("antihistamine given"), std::string::npos);
  EXPECT_NE(incident.follow_up().find("\n"), std::string::npos);
  EXPECT_NE(incident.follow_up().find("resolved"), std::string::npos);
  v1::RecordIncidentFollowUpRequest empty;
  empty.set_request_id("follow-empty");
  empty.set_id(incident.id());
  EXPECT_THAT(stub_->RecordIncidentFollowUp(Ctx(tech_token_).get(), empty, &incident),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "follow_up"));
}

// Compliance learns a patient's clinic from scheduling (issue 13). Before: a patient compliance
// had no record of was bound to the first clinic recording for it, so clinic A's technician could
// take clinic B's new patient by recording first.
TEST_F(ComplianceIntegrationTest, AnUnseenPatientBelongsToTheClinicSchedulingSays) {
  const std::string clinic_b = harness_.MakeClinic("London", "Europe/London");
  const std::string dir = smp::testing::MakeTempDir("compliance-peer");
  ASSERT_OK_AND_ASSIGN(auto scheduling, ServiceProcess::Start(SMP_SCHEDULING_BINARY,
                                                              {"--data_dir=" + dir + "/scheduling",
                                                               harness_.RedisFlag()}));
  auto patients = scheduling::v1::SchedulingService::NewStub(
      grpc::CreateChannel(scheduling->address(), grpc::InsecureChannelCredentials()));
  auto patient_at = [&](const std::string& clinic) {
    scheduling::v1::CreatePatientRequest req;
    req.set_request_id(NewId());
    req.mutable_patient()->set_given_name("Sam");
    req.mutable_patient()->set_family_name("Rivera");
    req.mutable_patient()->set_phone("+15125550100");
    req.mutable_patient()->set_preferred_clinic_id(clinic);
    scheduling::v1::Patient out;
    grpc::Status s = patients->CreatePatient(Ctx(admin_).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.id();
  };
  const std::string of_a = patient_at(clinic_);
  const std::string of_b = patient_at(clinic_b);

  std::vector<std::string> flags = harness_.MakeServiceAccount("svc.compliance");
  flags.push_back("--data_dir=" + dir + "/compliance");
  flags.push_back(std::string(harness_.RedisFlag()));
  flags.push_back("--checkpoint_key_file=" + dir + "/key");
  flags.push_back("--scheduling_address=" + scheduling->address());
  ASSERT_OK_AND_ASSIGN(auto compliance, ServiceProcess::Start(SMP_COMPLIANCE_BINARY, flags));
  auto stub = v1::ComplianceService::NewStub(
      grpc::CreateChannel(compliance->address(), grpc::InsecureChannelCredentials()));
  auto consent = [&](const std::string& patient) {
    v1::RecordConsentRequest req;
    req.set_request_id(NewId());
    req.mutable_consent()->set_patient_id(patient);
    req.mutable_consent()->set_clinic_id(clinic_);
    req.mutable_consent()->set_kind(v1::CONSENT_KIND_PROCEDURE);
    req.mutable_consent()->set_form_version("v3");
    *req.mutable_consent()->mutable_signed_time() = ToProtoTimestamp(absl::Now() - absl::Hours(1));
    v1::Consent out;
    return stub->RecordConsent(Ctx(tech_token_).get(), req, &out);
  };
  EXPECT_THAT(consent(of_b), GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "outside your clinic"));
  EXPECT_TRUE(consent(of_a).ok());

  // Scheduling down: a patient seen recently is still known; anyone else is UNAVAILABLE.
  scheduling.reset();
  EXPECT_TRUE(consent(of_a).ok());
  EXPECT_THAT(consent(NewId()), GrpcIs(grpc::StatusCode::UNAVAILABLE, "scheduling"));
}

}  // namespace
}  // namespace smp::compliance
