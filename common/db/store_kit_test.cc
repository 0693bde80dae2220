#include "common/db/store_kit.h"

#include <string>

#include "common/db/migrations.h"
#include "common/db/testing/test_database.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smp/common/v1/money.pb.h"

namespace smp {
namespace {

using ::smp::common::v1::Money;
using ::smp::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Money Minor(int64_t minor) {
  Money m;
  m.set_amount_minor(minor);
  m.set_currency_code("USD");
  return m;
}

TEST(MakePageTest, CutsTheExtraRowAndKeepsItsPredecessorsKey) {
  auto key = [](int v) { return std::to_string(v); };
  Page<int> full = MakePage(std::vector<int>{1, 2, 3, 4}, 3, key);
  EXPECT_THAT(full.items, ElementsAre(1, 2, 3));
  EXPECT_EQ(full.last_key, "3");
  Page<int> last = MakePage(std::vector<int>{1, 2, 3}, 3, key);
  EXPECT_THAT(last.items, ElementsAre(1, 2, 3));
  EXPECT_EQ(last.last_key, "");
  EXPECT_EQ(NextPageToken("q", last.last_key), "");
  EXPECT_NE(NextPageToken("q", full.last_key), "");
}

class StoreKitDbTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, testing::OpenNewTestDatabase(GetParam()));
    ASSERT_OK(ApplyMigrations(
        *db_, {{1, "things", "CREATE TABLE things (id TEXT PRIMARY KEY, body BLOB NOT NULL)"}},
        absl::FromUnixSeconds(1764000000)));
  }
  std::unique_ptr<Database> db_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreKitDbTest, ::testing::ValuesIn(testing::AllBackends()),
                         testing::BackendName);

TEST_P(StoreKitDbTest, MessagesRoundTripThroughBlobColumns) {
  ASSERT_OK(db_->Run(TxMode::kWrite, [](Transaction& txn) -> absl::Status {
    RETURN_IF_ERROR(txn.Exec("INSERT INTO things VALUES ('a', ?)", {Serialize(Minor(5))}));
    RETURN_IF_ERROR(txn.Exec("INSERT INTO things VALUES ('b', ?)", {Serialize(Minor(7))}));
    return txn.Exec("INSERT INTO things VALUES ('bad', ?)", {Blob{"\xff\xff\xff"}});
  }));
  ASSERT_OK(db_->Run(TxMode::kRead, [](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> rows, txn.Query("SELECT body FROM things WHERE id IN "
                                                      "('a', 'b') ORDER BY id"));
    ASSIGN_OR_RETURN(std::vector<Money> all, ParseAll<Money>(rows));
    EXPECT_EQ(all.size(), 2u);
    EXPECT_EQ(all[1].amount_minor(), 7);
    ASSIGN_OR_RETURN(Money one, ParseOne<Money>(rows, "thing", "a"));
    EXPECT_EQ(one.amount_minor(), 5);

    EXPECT_THAT(ParseOne<Money>({}, "thing", "zz"),
                StatusIs(absl::StatusCode::kNotFound, "thing zz not found"));
    ASSIGN_OR_RETURN(std::vector<Row> bad, txn.Query("SELECT body FROM things WHERE id = 'bad'"));
    EXPECT_THAT(ParseOne<Money>(bad, "thing", "bad"),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr("stored thing does not parse")));
    EXPECT_THAT(ParseAll<Money>(bad), StatusIs(absl::StatusCode::kDataLoss));
    return absl::OkStatus();
  }));
}

}  // namespace
}  // namespace smp
