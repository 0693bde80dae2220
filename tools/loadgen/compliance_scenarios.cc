// compliance.report: an auditor's report over a year of a chain, after seeding that year through
// compliance's own API, or (--bulk_seed_data_dir) through its store in large transactions.

#include <grpcpp/client_context.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/db/service_database.h"
#include "common/util/ids.h"
#include "services/compliance/audit_trail.h"
#include "services/compliance/bulk_load.h"
#include "services/compliance/compliance_migrations.h"
#include "services/compliance/compliance_rules.h"
#include "services/compliance/compliance_store.h"
#include "smp/compliance/v1/compliance.grpc.pb.h"
#include "tools/loadgen/scenario_support.h"

namespace smp::loadgen {
namespace {

namespace cv1 = compliance::v1;

constexpr int kPractitionersPerClinic = 5;
constexpr int kProceduresPerPatient = 5;  // a course of sessions over about two months
constexpr int kNeedlesPerProcedure = 2;
constexpr int kYear = 365;
// Every 100th procedure has an incomplete checklist: findings the report must list.
constexpr int kIncompleteEvery = 100;

struct SeedData {
  std::vector<std::string> credentials, permits, consents, screenings, procedures;
};

// A consent or screening is on file this long after it was signed or taken (bulk seeding).
constexpr absl::Duration kRecordedAfter = absl::Minutes(30);

// Credentials and permits are on file from the start of their first valid day (bulk seeding).
absl::Time RecordedOn(absl::CivilDay day) { return absl::FromCivil(day, absl::UTCTimeZone()); }

// Procedures generated between two bulk loads (bounds the load generator's memory).
constexpr size_t kBulkChunk = 50000;

// The seeding's Record*Request messages, by their records.
template <typename Request, typename Record>
std::vector<Record> RecordsOf(const std::vector<std::string>& requests,
                              const Record& (Request::*record)() const) {
  std::vector<Record> out;
  out.reserve(requests.size());
  for (const std::string& bytes : requests) {
    Request req;
    req.ParseFromString(bytes);
    out.push_back((req.*record)());
  }
  return out;
}

// compliance's database opened by this process for compliance::BulkLoad, in transactions of 1,000
// records.
class BulkLoader {
 public:
  static absl::StatusOr<std::unique_ptr<BulkLoader>> Open(const std::string& data_dir) {
    absl::StatusOr<std::unique_ptr<Database>> opened =
        OpenChosenDatabase({}, data_dir, "compliance", compliance::ComplianceMigrations());
    if (!opened.ok()) return opened.status();
    return std::unique_ptr<BulkLoader>(new BulkLoader(*std::move(opened)));
  }

  // Enters what `seed` holds and empties it; adds the seconds it took to `seconds` and the
  // records to `loaded`.
  absl::Status Load(SeedData& seed, double& seconds, int64_t& loaded) {
    compliance::BulkRecords all;
    all.credentials = RecordsOf<cv1::RecordCredentialRequest>(
        seed.credentials, &cv1::RecordCredentialRequest::credential);
    all.permits =
        RecordsOf<cv1::RecordPermitRequest>(seed.permits, &cv1::RecordPermitRequest::permit);
    all.consents =
        RecordsOf<cv1::RecordConsentRequest>(seed.consents, &cv1::RecordConsentRequest::consent);
    all.screenings = RecordsOf<cv1::RecordScreeningRequest>(
        seed.screenings, &cv1::RecordScreeningRequest::screening);
    all.procedures = RecordsOf<cv1::RecordProcedureRequest>(seed.procedures,
                                                            &cv1::RecordProcedureRequest::record);
    seed = SeedData();
    const absl::Time start = absl::Now();
    absl::StatusOr<int> tried =
        compliance::BulkLoad(*audit_, all, absl::Now(), compliance::kScreeningValidity,
                             "smp_loadgen", static_cast<int>(kPerTransaction));
    seconds += absl::ToDoubleSeconds(absl::Now() - start);
    if (!tried.ok()) return tried.status();
    retried += *tried;
    loaded += static_cast<int64_t>(all.size());
    return absl::OkStatus();
  }

  int retried = 0;  // transactions BulkLoad tried again (busy)

 private:
  static constexpr size_t kPerTransaction = 1000;

  explicit BulkLoader(std::unique_ptr<Database> db)
      : db_(std::move(db)), audit_(std::make_unique<compliance::AuditTrail>(db_.get(), &store_)) {}

  compliance::ComplianceStore store_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<compliance::AuditTrail> audit_;
};

std::string Service(const char* method) {
  return MethodPath(cv1::ComplianceService::service_full_name(), method);
}

// The chain's year: options.report_clinics clinics (made through identity, four time zones),
// kPractitionersPerClinic practitioners each with the three credentials valid all year, a county
// permit per clinic, and options.report_procedures procedures of patients who each signed a
// procedure consent and were screened clear a week before a course of kProceduresPerPatient
// sessions two weeks apart, all within the last kYear days. Each procedure uses two labelled
// needles and a pigment. Each record carries the time it would have been recorded (a consent or
// screening half an hour after it was signed or taken, a procedure when its session ended, a
// credential or permit on its first valid day): the bulk seed enters it then, so the report's only
// findings are the planted incomplete checklists. Seeded through the Record* RPCs instead, every
// record is on file from the seeding's time (the service's clock), so each procedure is also
// RECORDED_AFTER_PROCEDURE twice (its consent and its screening); the check expects exactly those.
absl::StatusOr<TaskSet> PrepareReport(const ScenarioOptions& options,
                                      const std::shared_ptr<grpc::Channel>& channel) {
  absl::StatusOr<std::unique_ptr<identity::v1::IdentityService::Stub>> identity =
      IdentityStub(options, "compliance.report");
  if (!identity.ok()) return identity.status();
  absl::StatusOr<Metadata> auth = LogInAsAdmin(options, **identity);
  if (!auth.ok()) return auth.status();
  const std::string run = RunTag("cr");
  absl::StatusOr<Metadata> service = LogInAsNewServiceAccount(options, **identity, *auth, run);
  if (!service.ok()) return service.status();
  const std::vector<std::string> zones = {"Europe/London", "America/New_York", "America/Chicago",
                                          "America/Los_Angeles"};
  const int clinics = std::max(options.report_clinics, 1);
  std::vector<std::string> clinic_ids;
  std::vector<absl::TimeZone> clinic_zones;
  for (int i = 0; i < clinics; ++i) {
    const std::string& zone = zones[static_cast<size_t>(i) % zones.size()];
    absl::StatusOr<std::string> id =
        CreateClinic(options, **identity, *auth, absl::StrCat("clinic-", run, "-", i),
                     absl::StrCat("Bench ", run, " #", i), zone);
    if (!id.ok()) return id.status();
    clinic_ids.push_back(*id);
    absl::TimeZone tz;
    absl::LoadTimeZone(zone, &tz);
    clinic_zones.push_back(tz);
  }
  const absl::Time now = absl::Now();
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  const absl::CivilDay first_day = today - (kYear - 1);
  // Practitioner ids: compliance keeps credentials by identity's staff id but does not look the
  // staff up, so the benchmark makes ids rather than 50 accounts.
  std::vector<std::vector<std::string>> practitioners(static_cast<size_t>(clinics));
  SeedData seed;
  for (int i = 0; i < clinics; ++i) {
    for (int p = 0; p < kPractitionersPerClinic; ++p) {
      const std::string id = NewId();
      practitioners[static_cast<size_t>(i)].push_back(id);
      for (cv1::CredentialKind kind : {cv1::CREDENTIAL_KIND_SMP_CERTIFICATION,
                                       cv1::CREDENTIAL_KIND_BLOODBORNE_PATHOGEN_TRAINING,
                                       cv1::CREDENTIAL_KIND_BODY_ART_LICENSE}) {
        cv1::RecordCredentialRequest req;
        req.set_request_id(absl::StrCat("cred-", run, "-", id, "-", kind));
        cv1::Credential* c = req.mutable_credential();
        c->set_practitioner_id(id);
        c->set_kind(kind);
        c->set_issuer("State Board");
        c->set_number(absl::StrCat("N", p, "-", kind));
        *c->mutable_valid_from() = ToLocalDate(first_day - 30);
        *c->mutable_create_time() = ToTimestamp(RecordedOn(first_day - 30));
        *c->mutable_valid_until() = ToLocalDate(today + 365);
        if (kind == cv1::CREDENTIAL_KIND_BLOODBORNE_PATHOGEN_TRAINING) {
          c->mutable_training()->set_content_summary("Bloodborne pathogens, OSHA 1910.1030");
          c->mutable_training()->set_trainer_name("A. Trainer");
          c->mutable_training()->set_trainer_qualification("RN");
          *c->mutable_training()->mutable_training_date() = ToLocalDate(first_day - 30);
          // Yearly training: one valid for the first part of the year, then its renewal.
          *c->mutable_valid_until() = ToLocalDate(first_day + 300);
          cv1::RecordCredentialRequest renewal = req;
          renewal.set_request_id(absl::StrCat(req.request_id(), "-renewal"));
          cv1::Credential* r = renewal.mutable_credential();
          *r->mutable_valid_from() = ToLocalDate(first_day + 290);
          *r->mutable_valid_until() = ToLocalDate(first_day + 290 + 365);
          *r->mutable_training()->mutable_training_date() = ToLocalDate(first_day + 290);
          *r->mutable_create_time() = ToTimestamp(RecordedOn(first_day + 290));
          seed.credentials.push_back(renewal.SerializeAsString());
        }
        seed.credentials.push_back(req.SerializeAsString());
      }
    }
    cv1::RecordPermitRequest req;
    req.set_request_id(absl::StrCat("permit-", run, "-", i));
    cv1::Permit* permit = req.mutable_permit();
    permit->set_clinic_id(clinic_ids[static_cast<size_t>(i)]);
    permit->set_kind(cv1::PERMIT_KIND_COUNTY_HEALTH);
    permit->set_issuer("County Health Department");
    permit->set_number(absl::StrCat("P-", i));
    *permit->mutable_valid_from() = ToLocalDate(first_day - 30);
    *permit->mutable_create_time() = ToTimestamp(RecordedOn(first_day - 30));
    *permit->mutable_valid_until() = ToLocalDate(today + 365);
    seed.permits.push_back(req.SerializeAsString());
  }

  // --bulk_seed_data_dir: the running compliance's own database, opened by this process too
  // (SQLite allows it; the store's writes wait for the server's as another writer would).
  std::unique_ptr<BulkLoader> bulk;
  if (!options.bulk_seed_data_dir.empty()) {
    absl::StatusOr<std::unique_ptr<BulkLoader>> opened =
        BulkLoader::Open(options.bulk_seed_data_dir);
    if (!opened.ok()) return opened.status();
    bulk = *std::move(opened);
  }
  double seconds = 0;
  int64_t bulk_loaded = 0;

  const int64_t procedures = std::max<int64_t>(options.report_procedures, 1);
  const int64_t patients = (procedures + kProceduresPerPatient - 1) / kProceduresPerPatient;
  // A course spans 8 weeks; its first session falls in the year's first 300 days.
  constexpr int kCourseDays = (kProceduresPerPatient - 1) * 14;
  const int start_days = kYear - kCourseDays - 1;
  const std::string needle_product = NewId(), pigment_product = NewId();
  // Each patient's course (the patient's clinic, practitioner and first session's day); the
  // consents and screenings, then the procedures in the order they were performed (day by day),
  // as a chain records them: procedure records arrive as sessions complete.
  struct Course {
    std::string patient_id;
    size_t clinic;
    const std::string* practitioner;
    absl::CivilDay first_session;
  };
  std::vector<Course> courses;
  courses.reserve(static_cast<size_t>(patients));
  // The sessions of each day of the year: (patient, session).
  std::vector<std::vector<std::pair<int64_t, int>>> sessions_on(static_cast<size_t>(kYear));
  for (int64_t patient = 0; patient < patients; ++patient) {
    const size_t clinic = static_cast<size_t>(patient % clinics);
    const absl::TimeZone zone = clinic_zones[clinic];
    const std::string patient_id = NewId();
    const std::string& practitioner =
        practitioners[clinic][static_cast<size_t>(patient / clinics) % kPractitionersPerClinic];
    const absl::CivilDay course = first_day + (patient * 7919) % start_days;
    courses.push_back({patient_id, clinic, &practitioner, course});
    const absl::Time screened = zone.At(absl::CivilSecond(course - 7) + 10 * 3600).pre;
    {
      cv1::RecordConsentRequest req;
      req.set_request_id(absl::StrCat("consent-", run, "-", patient));
      cv1::Consent* c = req.mutable_consent();
      c->set_patient_id(patient_id);
      c->set_clinic_id(clinic_ids[clinic]);
      c->set_kind(cv1::CONSENT_KIND_PROCEDURE);
      c->set_form_version("2026-03");
      *c->mutable_signed_time() = ToTimestamp(screened);
      *c->mutable_record_time() = ToTimestamp(screened + kRecordedAfter);
      seed.consents.push_back(req.SerializeAsString());
    }
    {
      cv1::RecordScreeningRequest req;
      req.set_request_id(absl::StrCat("screening-", run, "-", patient));
      cv1::Screening* s = req.mutable_screening();
      s->set_patient_id(patient_id);
      s->set_clinic_id(clinic_ids[clinic]);
      *s->mutable_screened_time() = ToTimestamp(screened);
      *s->mutable_record_time() = ToTimestamp(screened + kRecordedAfter);
      seed.screenings.push_back(req.SerializeAsString());
    }
    // The last patient's course may be cut short to make `procedures`.
    const int64_t sessions =
        std::min<int64_t>(kProceduresPerPatient, procedures - patient * kProceduresPerPatient);
    for (int session = 0; session < sessions; ++session) {
      sessions_on[static_cast<size_t>(course + 14 * session - first_day)].emplace_back(patient,
                                                                                       session);
    }
  }
  int64_t made = 0;
  for (const std::vector<std::pair<int64_t, int>>& day_sessions : sessions_on) {
    for (const auto& [patient, session] : day_sessions) {
      const Course& course = courses[static_cast<size_t>(patient)];
      const size_t clinic = course.clinic;
      const absl::TimeZone zone = clinic_zones[clinic];
      const absl::CivilDay day = course.first_session + 14 * session;
      const absl::Time performed =
          zone.At(absl::CivilSecond(day) + (made % 2 == 0 ? 9 : 14) * 3600).pre;
      cv1::RecordProcedureRequest req;
      req.set_request_id(absl::StrCat("procedure-", run, "-", made));
      cv1::ProcedureRecord* r = req.mutable_record();
      r->set_appointment_id(NewId());
      r->set_clinic_id(clinic_ids[clinic]);
      r->set_patient_id(course.patient_id);
      r->set_practitioner_id(*course.practitioner);
      r->set_procedure_type(cv1::PROCEDURE_TYPE_TREATMENT_SESSION);
      *r->mutable_performed_time() = ToTimestamp(performed);
      *r->mutable_performed_date() = ToLocalDate(day);
      // Recorded when the session ends (scheduling sends it as the visit completes).
      *r->mutable_create_time() = ToTimestamp(std::min(performed + absl::Hours(5), now));
      const std::string month = absl::FormatCivilTime(absl::CivilMonth(day));
      for (int j = 0; j < kNeedlesPerProcedure; ++j) {
        cv1::NeedleUse* n = r->add_needles();
        n->set_product_id(needle_product);
        n->set_lot(absl::StrCat("NL-", clinic, "-", month));
        n->set_serial(absl::StrCat("SN-", run, "-", made, "-", j));
        *n->mutable_expiry_date() = ToLocalDate(day + 300);
      }
      cv1::PigmentUse* pigment = r->add_pigments();
      pigment->set_product_id(pigment_product);
      pigment->set_shade("Dark Espresso");
      pigment->set_lot(absl::StrCat("PL-", clinic, "-", month));
      *pigment->mutable_expiry_date() = ToLocalDate(day + 200);
      r->set_pigment_blend("Dark Espresso 70%, Soft Black 30%");
      r->set_anaesthetic("lidocaine 5% cream");
      cv1::ProcedureChecklist* c = r->mutable_checklist();
      c->set_sealed_needles_opened_before_client(true);
      c->set_gloves_worn(true);
      c->set_mask_worn(made % kIncompleteEvery != kIncompleteEvery - 1);
      c->set_sterile_field(true);
      c->set_sharps_disposed(true);
      seed.procedures.push_back(req.SerializeAsString());
      ++made;
      if (bulk != nullptr && seed.procedures.size() >= kBulkChunk) {
        absl::Status s = bulk->Load(seed, seconds, bulk_loaded);
        if (!s.ok()) return s;
      }
    }
  }

  if (bulk != nullptr) {
    absl::Status s = bulk->Load(seed, seconds, bulk_loaded);
    if (!s.ok()) return s;
    std::fprintf(stderr,
                 "smp_loadgen: bulk-loaded %lld records through the store in %.1f s (%d "
                 "transactions retried)\n",
                 static_cast<long long>(bulk_loaded), seconds, bulk->retried);
  } else {
    for (auto [what, method, requests] :
         {std::tuple{"credentials", "RecordCredential", &seed.credentials},
          std::tuple{"permits", "RecordPermit", &seed.permits},
          std::tuple{"consents", "RecordConsent", &seed.consents},
          std::tuple{"screenings", "RecordScreening", &seed.screenings},
          std::tuple{"procedure records", "RecordProcedure", &seed.procedures}}) {
      // Procedure records come only from a service (scheduling, when a visit completes).
      const Metadata& caller = absl::string_view(method) == "RecordProcedure" ? *service : *auth;
      absl::StatusOr<double> s = Seed(options, what, Service(method), std::move(*requests), caller);
      if (!s.ok()) return s.status();
      seconds += *s;
    }
  }
  // Records seeded (bulk) or Record* calls made (each a record).
  const int64_t seeded_calls =
      bulk != nullptr ? bulk_loaded
                      : static_cast<int64_t>(clinics) * (kPractitionersPerClinic * 3 + 1) +
                            2 * patients + procedures;

  auto stub =
      std::shared_ptr<cv1::ComplianceService::Stub>(cv1::ComplianceService::NewStub(channel));
  cv1::GenerateReportRequest report;
  for (const std::string& id : clinic_ids) report.add_clinic_ids(id);
  *report.mutable_period()->mutable_start_date() = ToLocalDate(first_day - 1);
  *report.mutable_period()->mutable_end_date() = ToLocalDate(today);
  const Metadata bearer = *auth;
  // The planted incomplete checklists; seeded through the RPCs, each procedure's consent and
  // screening are also on file only after it.
  const int64_t want_findings = procedures / kIncompleteEvery;
  const int64_t want_late = bulk != nullptr ? 0 : 2 * procedures;
  TaskSet set;
  set.setup = {{"seed_s", seconds},
               {"bulk_seed", bulk != nullptr ? 1.0 : 0.0},
               {"seeded_calls", static_cast<double>(seeded_calls)},
               {"clinics", static_cast<double>(clinics)},
               {"procedures", static_cast<double>(procedures)}};
  set.tasks.push_back(
      {"report", "procedures",
       [options, stub, report, bearer, procedures, want_findings,
        want_late]() -> absl::StatusOr<int64_t> {
         grpc::ClientContext context;
         ScenarioOptions long_call = options;
         long_call.timeout = absl::Minutes(10);
         PrepareContext(context, long_call, bearer);
         std::unique_ptr<grpc::ClientReader<cv1::ReportPart>> reader =
             stub->GenerateReport(&context, report);
         cv1::ReportPart part;
         int64_t rows = 0, findings = 0, late = 0;
         bool summary = false;
         while (reader->Read(&part)) {
           if (part.has_procedure()) ++rows;
           if (part.has_finding()) {
             if (part.finding().kind() == cv1::FINDING_KIND_RECORDED_AFTER_PROCEDURE) {
               ++late;
             } else if (part.finding().kind() == cv1::FINDING_KIND_CHECKLIST_INCOMPLETE) {
               ++findings;
             } else {
               return absl::InternalError(absl::StrCat("GenerateReport: an unplanted finding ",
                                                       cv1::FindingKind_Name(part.finding().kind()),
                                                       ": ", part.finding().detail()));
             }
           }
           if (part.has_summary()) {
             summary = part.summary().procedures() == rows &&
                       part.summary().findings() == findings + late;
           }
         }
         grpc::Status status = reader->Finish();
         if (!status.ok()) return SetupError("GenerateReport", status);
         if (rows != procedures || !summary || findings != want_findings || late != want_late) {
           return absl::InternalError(absl::StrCat(
               "GenerateReport: ", rows, " procedures, ", findings, " incomplete checklists and ",
               late, " recorded after the procedure (summary ",
               summary ? "agrees" : "missing or disagrees", "); want ", procedures, ", ",
               want_findings, " and ", want_late));
         }
         return rows;
       }});
  return set;
}

}  // namespace

std::vector<Scenario> ComplianceScenarios() {
  return {
      {"compliance.report",
       "Task report: ComplianceService/GenerateReport for a year of a chain of --report_clinics "
       "clinics with --report_procedures procedures (2 needles and a pigment each; consents, "
       "screenings, credentials and permits; every 100th checklist incomplete), seeded through "
       "compliance's Record* RPCs, or with --bulk_seed_data_dir through its store as recorded at "
       "their times; the report is read to its end and its findings counted exactly",
       nullptr, &PrepareReport},
  };
}

}  // namespace smp::loadgen
