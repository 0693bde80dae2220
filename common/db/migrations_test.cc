#include "common/db/migrations.h"

#include <string>

#include "common/db/testing/test_database.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1764000000);

const std::vector<Migration> kV1 = {
    {1, "clinics", "CREATE TABLE clinics (id TEXT PRIMARY KEY, name TEXT NOT NULL);"},
};
const std::vector<Migration> kV2 = {
    kV1[0],
    {2, "clinic phone",
     "ALTER TABLE clinics ADD COLUMN phone TEXT; CREATE INDEX clinics_name ON clinics (name);"},
};

class MigrationsTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(where_, testing::NewTestDatabase(GetParam()));
    ASSERT_OK_AND_ASSIGN(db_, testing::Open(where_));
  }
  testing::TestDatabase where_;
  std::unique_ptr<Database> db_;
};

INSTANTIATE_TEST_SUITE_P(Backends, MigrationsTest, ::testing::ValuesIn(testing::AllBackends()),
                         testing::BackendName);

TEST_P(MigrationsTest, EmptyDatabaseGetsEveryStep) {
  EXPECT_EQ(*SchemaVersion(*db_), 0);
  ASSERT_OK(ApplyMigrations(*db_, kV2, kNow));
  EXPECT_EQ(*SchemaVersion(*db_), 2);
  EXPECT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.Exec("INSERT INTO clinics (id, name, phone) VALUES ('c', 'n', '+15125550100')");
  }));
}

TEST_P(MigrationsTest, ExistingDatabaseGetsOnlyNewStepsAndKeepsData) {
  ASSERT_OK(ApplyMigrations(*db_, kV1, kNow));
  ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) {
    return txn.Exec("INSERT INTO clinics (id, name) VALUES ('c1', 'Austin')");
  }));
  ASSERT_OK(ApplyMigrations(*db_, kV2, kNow));
  ASSERT_OK(ApplyMigrations(*db_, kV2, kNow));  // at every start: a no-op
  EXPECT_EQ(*SchemaVersion(*db_), 2);
  ASSERT_OK(db_->Run(TxMode::kRead, [](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT name, phone FROM clinics"));
    EXPECT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].Text(0), "Austin");
    EXPECT_TRUE(rows[0].IsNull(1));
    return absl::OkStatus();
  }));
}

TEST_P(MigrationsTest, RefusesDatabaseNewerThanBinary) {
  ASSERT_OK(ApplyMigrations(*db_, kV2, kNow));
  EXPECT_THAT(ApplyMigrations(*db_, kV1, kNow),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("newer than this binary")));
}

TEST_P(MigrationsTest, RefusesEditedReleasedMigration) {
  ASSERT_OK(ApplyMigrations(*db_, kV1, kNow));
  std::vector<Migration> edited = {{1, "clinics", "CREATE TABLE clinics (id TEXT PRIMARY KEY);"}};
  EXPECT_THAT(ApplyMigrations(*db_, edited, kNow),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("must not be edited")));
}

TEST_P(MigrationsTest, FailedStepLeavesNoTrace) {
  std::vector<Migration> broken = {kV1[0],
                                   {2, "broken", "ALTER TABLE clinics ADD COLUMN x TEXT; SELEKT;"}};
  EXPECT_FALSE(ApplyMigrations(*db_, broken, kNow).ok());
  EXPECT_EQ(*SchemaVersion(*db_), 1);
  ASSERT_OK(ApplyMigrations(*db_, kV2, kNow));  // the column x was rolled back with the step
  EXPECT_EQ(*SchemaVersion(*db_), 2);
}

TEST_P(MigrationsTest, RejectsMisnumberedList) {
  std::vector<Migration> gap = {kV1[0], {3, "gap", "SELECT 1;"}};
  EXPECT_THAT(ApplyMigrations(*db_, gap, kNow), StatusIs(absl::StatusCode::kInternal));
}

}  // namespace
}  // namespace smp
