#include "services/inventory/catalog.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/paging.h"
#include "common/util/validation.h"
#include "services/inventory/stock_rules.h"

namespace smp::inventory {

absl::StatusOr<v1::ClinicInventorySettings> Catalog::GetSettings(
    const Call& call, const v1::GetClinicInventorySettingsRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  v1::ClinicInventorySettings out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<v1::ClinicInventorySettings> settings,
                     store_.GetSettings(txn, req.clinic_id()));
    if (!settings.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("clinic ", req.clinic_id(), " has no inventory settings yet"));
    }
    out = *std::move(settings);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ClinicInventorySettings> Catalog::UpdateSettings(
    const Call& call, const v1::UpdateClinicInventorySettingsRequest& req) const {
  const v1::ClinicInventorySettings& s = req.settings();
  RETURN_IF_ERROR(ValidateId("settings.clinic_id", s.clinic_id()));
  if (!s.time_zone().empty()) {
    RETURN_IF_ERROR(ValidateTimeZone("settings.time_zone", s.time_zone()).status());
  }
  int64_t expected = 0;
  if (!s.etag().empty()) {
    ASSIGN_OR_RETURN(expected, VersionFromEtag("settings.etag", s.etag()));
  }
  RETURN_IF_ERROR(call.who.CheckClinic(s.clinic_id()));
  // Asked outside the write transaction: a slow identity holds no lock.
  const absl::StatusOr<std::string> from_identity =
      zones_ != nullptr ? zones_->ZoneOf(s.clinic_id())
                        : absl::UnavailableError("no identity is configured for time zones");
  return RunIdempotent<v1::ClinicInventorySettings>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::ClinicInventorySettings> {
        ASSIGN_OR_RETURN(std::optional<v1::ClinicInventorySettings> current,
                         store_.GetSettings(txn, s.clinic_id()));
        std::optional<std::string> last_known;
        if (current.has_value()) last_known = current->time_zone();
        v1::ClinicInventorySettings wanted = s;
        ASSIGN_OR_RETURN(*wanted.mutable_time_zone(),
                         ResolveClinicZone("settings.clinic_id", "settings.time_zone",
                                           s.time_zone(), from_identity, last_known));
        return store_.PutSettings(txn, wanted, expected, call.now);
      });
}

absl::StatusOr<int> Catalog::RefreshZones(absl::Time now) const {
  if (zones_ == nullptr) return 0;
  ASSIGN_OR_RETURN(std::vector<ClinicZone> all, zones_->AllZones());
  int changed = 0;
  RETURN_IF_ERROR(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
    changed = 0;
    for (const ClinicZone& clinic : all) {
      ASSIGN_OR_RETURN(std::optional<v1::ClinicInventorySettings> current,
                       store_.GetSettings(txn, clinic.clinic_id));
      if (!current.has_value() || current->time_zone() == clinic.time_zone) continue;
      ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", current->etag()));
      current->set_time_zone(clinic.time_zone);
      RETURN_IF_ERROR(store_.PutSettings(txn, *current, version, now).status());
      ++changed;
    }
    return absl::OkStatus();
  }));
  return changed;
}

absl::StatusOr<v1::Product> Catalog::CreateProduct(const Call& call,
                                                   const v1::CreateProductRequest& req) const {
  RETURN_IF_ERROR(ValidateProduct(req.product()));
  v1::Product product = req.product();
  product.set_device_identifier(CanonicalSerial(product.device_identifier()));
  return RunIdempotent<v1::Product>(*db_, call, req, [&](Transaction& txn) {
    return store_.CreateProduct(txn, product, call.now);
  });
}

absl::StatusOr<v1::Product> Catalog::GetProduct(const Call&,
                                                const v1::GetProductRequest& req) const {
  RETURN_IF_ERROR(ValidateId("id", req.id()));
  v1::Product out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(out, store_.GetProduct(txn, req.id()));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ListProductsResponse> Catalog::ListProducts(
    const Call&, const v1::ListProductsRequest& req) const {
  if (!v1::ProductKind_IsValid(req.kind())) {
    return absl::InvalidArgumentError("kind: unknown product kind");
  }
  const std::string query = absl::StrCat("products?kind=", req.kind());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  v1::ListProductsResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Page<v1::Product> result, store_.ListProducts(txn, req.kind(), page));
    for (v1::Product& p : result.items) *out.add_products() = std::move(p);
    out.set_next_page_token(NextPageToken(query, result.last_key));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace smp::inventory
