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

}  // namespace
}  // namespace smp::compliance
