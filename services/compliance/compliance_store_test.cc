#include "services/compliance/compliance_store.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "common/db/migrations.h"
#include "common/db/testing/test_database.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "gtest/gtest.h"
#include "services/compliance/compliance_migrations.h"

namespace smp::compliance {
namespace {

common::v1::LocalDate Date(absl::CivilDay d) {
  common::v1::LocalDate out;
  out.set_year(static_cast<int32_t>(d.year()));
  out.set_month(d.month());
  out.set_day(d.day());
  return out;
}

// A report's pages, read 7 at a time with each page's last key, hold exactly the procedures of
// the asked clinics and days, in (day, time, id) order: ties of time, clinics interleaved, other
// clinics and days left out.
TEST(ComplianceStoreTest, ProcedurePagesWalkTheClinicsInOrder) {
  ASSERT_OK_AND_ASSIGN(auto db, ::smp::testing::OpenNewTestDatabase());
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  ASSERT_OK(ApplyMigrations(*db, ComplianceMigrations(), now));
  ComplianceStore store;
  const absl::CivilDay first(2026, 3, 1), last(2026, 3, 10);
  const std::vector<std::string> clinics = {NewId(), NewId(), NewId()};
  const std::string other_clinic = NewId();
  using Key = std::tuple<std::string, int64_t, std::string>;
  std::vector<Key> want;
  ASSERT_OK(db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    for (int i = 0; i < 120; ++i) {
      v1::ProcedureRecord r;
      r.set_appointment_id(NewId());
      const bool other = i % 5 == 0;
      r.set_clinic_id(other ? other_clinic : clinics[static_cast<size_t>(i) % clinics.size()]);
      r.set_patient_id(NewId());
      r.set_practitioner_id(NewId());
      const absl::CivilDay day = first - 1 + i % 12;  // a day before and after the period too
      *r.mutable_performed_date() = Date(day);
      // Three procedures share each time (across clinics).
      const absl::Time t = absl::FromCivil(day, absl::UTCTimeZone()) + absl::Hours(9 + i / 36);
      *r.mutable_performed_time() = ToProtoTimestamp(t);
      ASSIGN_OR_RETURN(v1::ProcedureRecord stored, store.AddProcedure(txn, r, now));
      if (!other && day >= first && day <= last) {
        want.emplace_back(ComplianceStore::ProcedureKey(stored).substr(0, 10), ToDbMicros(t),
                          stored.id());
      }
    }
    return absl::OkStatus();
  }));
  std::sort(want.begin(), want.end());
  ASSERT_GT(want.size(), 50u);

  std::vector<Key> got;
  std::string after;
  ASSERT_OK(db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    for (int page = 0; page < 100; ++page) {
      ASSIGN_OR_RETURN(auto rows, store.ListProcedures(txn, clinics, first, last, after, 7));
      for (const v1::ProcedureRecord& r : rows) {
        got.emplace_back(ComplianceStore::ProcedureKey(r).substr(0, 10),
                         ToDbMicros(FromProtoTimestamp(r.performed_time())), r.id());
        after = ComplianceStore::ProcedureKey(r);
      }
      if (rows.size() < 7) break;
    }
    return absl::OkStatus();
  }));
  EXPECT_EQ(got, want);
}

// A serial recorded in a second procedure is a reuse as it is recorded, and ReusesOfSerials answers
// its procedures (as UsesOfSerials does) and nothing for serials used once; a database that held
// reuses before migration 7 has them in the table after it.
TEST(ComplianceStoreTest, ReusedSerialsAreKeptAsTheyAreRecorded) {
  ASSERT_OK_AND_ASSIGN(auto db, ::smp::testing::OpenNewTestDatabase());
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  std::vector<Migration> before_7;
  for (const Migration& m : ComplianceMigrations()) {
    if (m.version < 7) before_7.push_back(m);
  }
  ASSERT_OK(ApplyMigrations(*db, before_7, now));
  ComplianceStore store;
  auto procedure = [&](const std::vector<std::string>& serials) {
    v1::ProcedureRecord r;
    r.set_appointment_id(NewId());
    r.set_clinic_id(NewId());
    r.set_patient_id(NewId());
    r.set_practitioner_id(NewId());
    *r.mutable_performed_date() = Date(absl::CivilDay(2026, 3, 1));
    *r.mutable_performed_time() = ToProtoTimestamp(now);
    for (const std::string& serial : serials) r.add_needles()->set_serial(serial);
    return r;
  };
  // Recorded before migration 7: "old" twice.
  std::vector<std::string> old_ids;
  ASSERT_OK(db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    for (int i = 0; i < 2; ++i) {
      // (AddProcedure of this build also writes reused_serials; before 7 it is the raw insert.)
      const std::string id = NewId();
      RETURN_IF_ERROR(txn.Exec("INSERT INTO needle_uses (procedure_id, serial) VALUES (?, ?)",
                               {id, std::string("old")}));
      old_ids.push_back(id);
    }
    return absl::OkStatus();
  }));
  ASSERT_OK(ApplyMigrations(*db, ComplianceMigrations(), now));
  std::string first, second;
  ASSERT_OK(db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::ProcedureRecord a,
                     store.AddProcedure(txn, procedure({"s1", "once"}), now));
    ASSIGN_OR_RETURN(v1::ProcedureRecord b,
                     store.AddProcedure(txn, procedure({"s1", "twice"}), now));
    RETURN_IF_ERROR(store.AddProcedure(txn, procedure({"twice", "s2"}), now).status());
    first = a.id();
    second = b.id();
    return absl::OkStatus();
  }));
  ASSERT_OK(db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto reuses,
                     store.ReusesOfSerials(txn, {"s1", "once", "twice", "s2", "old", "none"}));
    ASSIGN_OR_RETURN(auto uses, store.UsesOfSerials(txn, {"s1", "twice", "old"}));
    EXPECT_EQ(reuses.size(), 3u);
    EXPECT_EQ(reuses["s1"], uses["s1"]);
    std::vector<std::string> s1 = {first, second};
    std::sort(s1.begin(), s1.end());
    EXPECT_EQ(reuses["s1"], s1);
    EXPECT_EQ(reuses["twice"], uses["twice"]);
    EXPECT_EQ(reuses["twice"].size(), 2u);
    std::sort(old_ids.begin(), old_ids.end());
    EXPECT_EQ(reuses["old"], old_ids);
    EXPECT_FALSE(reuses.contains("once"));
    EXPECT_FALSE(reuses.contains("s2"));
    return absl::OkStatus();
  }));
}

}  // namespace
}  // namespace smp::compliance
