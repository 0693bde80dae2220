#include "services/identity/identity_store.h"

#include <memory>
#include <string>

#include "common/db/migrations.h"
#include "common/db/testing/test_database.h"
#include "common/status/status_macros.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "gtest/gtest.h"
#include "services/identity/identity_migrations.h"

namespace smp::identity {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1764000000);

class IdentityStoreTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, testing::OpenNewTestDatabase(GetParam()));
    ASSERT_OK(ApplyMigrations(*db_, IdentityMigrations(), kNow));
  }

  // Runs `fn` in a write transaction and returns its value.
  template <typename T>
  absl::StatusOr<T> InTxn(const std::function<absl::StatusOr<T>(Transaction&)>& fn) {
    absl::StatusOr<T> result = absl::InternalError("not run");
    absl::Status status = db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      result = fn(txn);
      return result.status();
    });
    if (!status.ok()) return status;
    return result;
  }

  v1::Clinic MakeClinic(const std::string& name) {
    v1::Clinic c;
    c.set_name(name);
    c.set_time_zone("Europe/London");
    c.mutable_address()->add_address_lines("1 High St");
    c.mutable_address()->add_address_lines("Floor 2");
    return *InTxn<v1::Clinic>([&](Transaction& txn) { return store_.CreateClinic(txn, c, kNow); });
  }

  v1::Staff MakeStaff(const std::string& username, common::v1::Role role,
                      const std::vector<std::string>& clinics) {
    v1::Staff s;
    s.set_username(username);
    s.set_display_name(username);
    s.add_roles(role);
    for (const auto& c : clinics) s.add_clinic_ids(c);
    return *InTxn<v1::Staff>(
        [&](Transaction& txn) { return store_.CreateStaff(txn, s, "$argon2id$x", kNow); });
  }

  std::unique_ptr<Database> db_;
  IdentityStore store_;
};

// On SQLite and on PostgreSQL (ctest labels sqlite, postgresql).
INSTANTIATE_TEST_SUITE_P(Backends, IdentityStoreTest, ::testing::ValuesIn(testing::AllBackends()),
                         testing::BackendName);

TEST_P(IdentityStoreTest, ClinicRoundTripsEveryField) {
  v1::Clinic created = MakeClinic("London Soho");
  EXPECT_TRUE(IsWellFormedId(created.id()));
  EXPECT_EQ(created.etag(), "v1");
  ASSERT_OK_AND_ASSIGN(v1::Clinic got, InTxn<v1::Clinic>([&](Transaction& txn) {
                         return store_.GetClinic(txn, created.id());
                       }));
  EXPECT_EQ(got.name(), "London Soho");
  EXPECT_EQ(got.address().address_lines_size(), 2);
  EXPECT_EQ(got.address().address_lines(1), "Floor 2");
  EXPECT_EQ(got.create_time().seconds(), 1764000000);
  EXPECT_THAT(InTxn<v1::Clinic>([&](Transaction& txn) { return store_.GetClinic(txn, NewId()); }),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("clinic")));
}

TEST_P(IdentityStoreTest, ClinicUpdateNeedsTheCurrentVersion) {
  v1::Clinic c = MakeClinic("Leeds");
  c.set_name("Leeds Central");
  ASSERT_OK_AND_ASSIGN(v1::Clinic saved, InTxn<v1::Clinic>([&](Transaction& txn) {
                         return store_.UpdateClinic(txn, c, 1, kNow);
                       }));
  EXPECT_EQ(saved.etag(), "v2");
  EXPECT_THAT(
      InTxn<v1::Clinic>([&](Transaction& txn) { return store_.UpdateClinic(txn, c, 1, kNow); }),
      StatusIs(absl::StatusCode::kAborted, HasSubstr("current etag is v2")));
  c.set_id(NewId());
  EXPECT_THAT(
      InTxn<v1::Clinic>([&](Transaction& txn) { return store_.UpdateClinic(txn, c, 1, kNow); }),
      StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(IdentityStoreTest, ClinicListPagesAndFiltersByScope) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(MakeClinic("Clinic " + std::to_string(i)).id());
  PageRequest page{.size = 2, .after_key = ""};
  std::vector<std::string> seen;
  for (int guard = 0; guard < 10; ++guard) {
    ASSERT_OK_AND_ASSIGN(auto result, InTxn<Page<v1::Clinic>>([&](Transaction& txn) {
                           return store_.ListClinics(txn, page, std::nullopt);
                         }));
    for (const auto& c : result.items) seen.push_back(c.id());
    if (result.last_key.empty()) break;
    page.after_key = result.last_key;
  }
  EXPECT_EQ(seen, ids);
  ASSERT_OK_AND_ASSIGN(
      auto scoped, InTxn<Page<v1::Clinic>>([&](Transaction& txn) {
        return store_.ListClinics(txn, PageRequest{}, std::vector<std::string>{ids[1], ids[3]});
      }));
  ASSERT_EQ(scoped.items.size(), 2u);
  EXPECT_EQ(scoped.items[0].id(), ids[1]);
  EXPECT_EQ(scoped.items[1].id(), ids[3]);
}

TEST_P(IdentityStoreTest, StaffUsernamesAreUniqueAndGrantsRoundTrip) {
  std::string a = MakeClinic("A").id();
  std::string b = MakeClinic("B").id();
  v1::Staff desk = MakeStaff("desk.a", common::v1::ROLE_FRONT_DESK, {a});
  MakeStaff("tech.b", common::v1::ROLE_TECHNICIAN, {b});
  MakeStaff("root", common::v1::ROLE_ADMIN, {});
  EXPECT_EQ(desk.roles(0), common::v1::ROLE_FRONT_DESK);
  EXPECT_EQ(desk.clinic_ids(0), a);
  EXPECT_EQ(desk.state(), v1::STAFF_STATE_ACTIVE);

  v1::Staff dup;
  dup.set_username("desk.a");
  dup.set_display_name("x");
  dup.add_roles(common::v1::ROLE_AUDITOR);
  EXPECT_THAT(
      InTxn<v1::Staff>([&](Transaction& txn) { return store_.CreateStaff(txn, dup, "h", kNow); }),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("already taken")));

  ASSERT_OK_AND_ASSIGN(auto in_a, InTxn<Page<v1::Staff>>([&](Transaction& txn) {
                         return store_.ListStaff(txn, PageRequest{}, std::vector<std::string>{a});
                       }));
  ASSERT_EQ(in_a.items.size(), 1u);
  EXPECT_EQ(in_a.items[0].username(), "desk.a");
  ASSERT_OK_AND_ASSIGN(auto everyone, InTxn<Page<v1::Staff>>([&](Transaction& txn) {
                         return store_.ListStaff(txn, PageRequest{}, std::nullopt);
                       }));
  EXPECT_EQ(everyone.items.size(), 3u);

  ASSERT_OK_AND_ASSIGN(auto found, InTxn<std::optional<StaffCredentials>>([&](Transaction& txn) {
                         return store_.FindByUsername(txn, "desk.a");
                       }));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->password_hash, "$argon2id$x");
  EXPECT_EQ(*InTxn<int64_t>([&](Transaction& txn) { return store_.CountActiveAdmins(txn); }), 1);
}

TEST_P(IdentityStoreTest, MissingClinicIsNamedByField) {
  std::string a = MakeClinic("A").id();
  v1::Staff s;
  s.add_clinic_ids(a);
  s.add_clinic_ids(NewId());
  EXPECT_THAT(db_->Run(TxMode::kRead,
                       [&](Transaction& txn) { return store_.CheckClinicsExist(txn, s, "staff"); }),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("staff.clinic_ids[1]")));
}

}  // namespace
}  // namespace smp::identity
