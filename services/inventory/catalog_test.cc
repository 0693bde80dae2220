#include "services/inventory/catalog.h"

#include <string>
#include <utility>
#include <vector>

#include "services/inventory/inventory_test_env.h"

namespace smp::inventory {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class CatalogTest : public InventoryUnitTest {
 protected:
  Catalog catalog() { return Catalog(db_.get()); }
};

TEST_F(CatalogTest, SettingsAreReadAndReplacedWithTheCurrentEtag) {
  v1::GetClinicInventorySettingsRequest get;
  get.set_clinic_id(clinic_a_);
  ASSERT_OK_AND_ASSIGN(v1::ClinicInventorySettings settings,
                       catalog().GetSettings(Staff(clinic_a_, "GetClinicInventorySettings"), get));
  EXPECT_EQ(settings.time_zone(), "Europe/London");

  v1::UpdateClinicInventorySettingsRequest update;
  update.set_request_id(NewId());
  *update.mutable_settings() = settings;
  update.mutable_settings()->set_time_zone("America/New_York");
  ASSERT_OK_AND_ASSIGN(
      v1::ClinicInventorySettings updated,
      catalog().UpdateSettings(Staff(clinic_a_, "UpdateClinicInventorySettings"), update));
  // The zone is identity's: with no identity to ask, the last known one stays.
  EXPECT_EQ(updated.time_zone(), "Europe/London");
  EXPECT_NE(updated.etag(), settings.etag());

  // The first etag is stale now.
  update.set_request_id(NewId());
  update.mutable_settings()->set_time_zone("Asia/Tokyo");
  const absl::Status stale =
      catalog().UpdateSettings(Staff(clinic_a_, "UpdateClinicInventorySettings"), update).status();
  EXPECT_THAT(stale, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(ErrorReason(stale), reason::kStaleEtag);
}

TEST_F(CatalogTest, SettingsOfAnotherClinicAreRefused) {
  v1::GetClinicInventorySettingsRequest get;
  get.set_clinic_id(clinic_b_);
  const absl::Status s =
      catalog().GetSettings(Staff(clinic_a_, "GetClinicInventorySettings"), get).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(s), reason::kOutsideClinicScope);

  v1::UpdateClinicInventorySettingsRequest update;
  update.set_request_id(NewId());
  update.mutable_settings()->set_clinic_id(clinic_b_);
  update.mutable_settings()->set_time_zone("Asia/Tokyo");
  EXPECT_EQ(
      ErrorReason(catalog()
                      .UpdateSettings(Staff(clinic_a_, "UpdateClinicInventorySettings"), update)
                      .status()),
      reason::kOutsideClinicScope);
}

// Identity as one clinic's zone; `down` makes it unreachable.
class OneClinicZone final : public ClinicZoneSource {
 public:
  OneClinicZone(std::string clinic, std::string initial_zone)
      : clinic_(std::move(clinic)), zone(std::move(initial_zone)) {}
  absl::StatusOr<std::string> ZoneOf(absl::string_view clinic_id) override {
    if (down) return absl::UnavailableError("identity is down");
    if (clinic_id != clinic_) return absl::NotFoundError("clinic not found");
    return zone;
  }
  absl::StatusOr<std::vector<ClinicZone>> AllZones() override {
    if (down) return absl::UnavailableError("identity is down");
    return std::vector<ClinicZone>{{clinic_, zone}};
  }
  const std::string clinic_;
  std::string zone;
  bool down = false;
};

TEST_F(CatalogTest, TheTimeZoneComesFromIdentityAndTheLastKnownOneStays) {
  OneClinicZone identity(clinic_a_, "Pacific/Auckland");
  Catalog catalog(db_.get(), &identity);
  v1::GetClinicInventorySettingsRequest get;
  get.set_clinic_id(clinic_a_);
  ASSERT_OK_AND_ASSIGN(v1::ClinicInventorySettings settings,
                       catalog.GetSettings(Staff(clinic_a_, "GetClinicInventorySettings"), get));
  v1::UpdateClinicInventorySettingsRequest update;
  update.set_request_id(NewId());
  *update.mutable_settings() = settings;
  update.mutable_settings()->clear_time_zone();
  ASSERT_OK_AND_ASSIGN(
      v1::ClinicInventorySettings saved,
      catalog.UpdateSettings(Staff(clinic_a_, "UpdateClinicInventorySettings"), update));
  EXPECT_EQ(saved.time_zone(), "Pacific/Auckland");
  update.set_request_id(NewId());
  *update.mutable_settings() = saved;
  update.mutable_settings()->set_time_zone("Europe/London");
  EXPECT_THAT(catalog.UpdateSettings(Staff(clinic_a_, "UpdateClinicInventorySettings"), update),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("settings.time_zone")));

  identity.zone = "Australia/Sydney";
  EXPECT_THAT(catalog.RefreshZones(now_), ::smp::testing::IsOkAndHolds(1));
  ASSERT_OK_AND_ASSIGN(settings,
                       catalog.GetSettings(Staff(clinic_a_, "GetClinicInventorySettings"), get));
  EXPECT_EQ(settings.time_zone(), "Australia/Sydney");

  identity.down = true;
  EXPECT_THAT(catalog.RefreshZones(now_), StatusIs(absl::StatusCode::kUnavailable));
  update.set_request_id(NewId());
  *update.mutable_settings() = settings;
  update.mutable_settings()->clear_time_zone();
  ASSERT_OK_AND_ASSIGN(
      saved, catalog.UpdateSettings(Staff(clinic_a_, "UpdateClinicInventorySettings"), update));
  EXPECT_EQ(saved.time_zone(), "Australia/Sydney");
}

TEST_F(CatalogTest, SettingsAreValidated) {
  v1::UpdateClinicInventorySettingsRequest update;
  update.set_request_id(NewId());
  update.mutable_settings()->set_clinic_id(clinic_a_);
  update.mutable_settings()->set_time_zone("Mars/Olympus");
  EXPECT_THAT(
      catalog().UpdateSettings(Staff(clinic_a_, "UpdateClinicInventorySettings"), update).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("settings.time_zone")));
  v1::GetClinicInventorySettingsRequest get;
  get.set_clinic_id(NewId());
  EXPECT_THAT(catalog()
                  .GetSettings(
                      smp::testing::CallAs(smp::testing::StaffOf({common::v1::ROLE_INVENTORY_STAFF},
                                                                 {get.clinic_id()}),
                                           now_, "GetClinicInventorySettings"),
                      get)
                  .status(),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CatalogTest, CreateProductIsIdempotentAndListed) {
  v1::CreateProductRequest req;
  req.set_request_id("create-needle-1");
  *req.mutable_product() = NeedleSpec();
  const Call call = Staff(clinic_a_, "CreateProduct");
  ASSERT_OK_AND_ASSIGN(v1::Product first, catalog().CreateProduct(call, req));
  ASSERT_OK_AND_ASSIGN(v1::Product replay, catalog().CreateProduct(call, req));
  EXPECT_EQ(first.id(), replay.id());

  // The same request_id for a different product is refused.
  req.mutable_product()->set_name("another");
  const absl::Status reused = catalog().CreateProduct(call, req).status();
  EXPECT_THAT(reused, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ErrorReason(reused), reason::kRequestIdReused);

  CreateProduct(PigmentSpec());
  CreateProduct(ConsumableSpec());
  v1::ListProductsRequest list;
  list.set_page_size(2);
  ASSERT_OK_AND_ASSIGN(v1::ListProductsResponse page1,
                       catalog().ListProducts(Staff(clinic_a_, "ListProducts"), list));
  EXPECT_EQ(page1.products_size(), 2);
  ASSERT_FALSE(page1.next_page_token().empty());
  list.set_page_token(page1.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListProductsResponse page2,
                       catalog().ListProducts(Staff(clinic_a_, "ListProducts"), list));
  EXPECT_EQ(page2.products_size(), 1);
  EXPECT_TRUE(page2.next_page_token().empty());

  v1::GetProductRequest get;
  get.set_id(first.id());
  ASSERT_OK_AND_ASSIGN(v1::Product read, catalog().GetProduct(Staff(clinic_b_, "GetProduct"), get));
  EXPECT_EQ(read.name(), "3RL 0.30");
}

TEST_F(CatalogTest, ProductsAreValidated) {
  v1::CreateProductRequest req;
  req.set_request_id(NewId());
  *req.mutable_product() = NeedleSpec();
  req.mutable_product()->set_single_use(false);
  EXPECT_THAT(catalog().CreateProduct(Staff(clinic_a_, "CreateProduct"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("product.single_use")));
  v1::GetProductRequest get;
  get.set_id(NewId());
  EXPECT_THAT(catalog().GetProduct(Staff(clinic_a_, "GetProduct"), get).status(),
              StatusIs(absl::StatusCode::kNotFound));
  v1::ListProductsRequest list;
  list.set_kind(static_cast<v1::ProductKind>(99));
  EXPECT_THAT(catalog().ListProducts(Staff(clinic_a_, "ListProducts"), list).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("kind")));
}

}  // namespace
}  // namespace smp::inventory
