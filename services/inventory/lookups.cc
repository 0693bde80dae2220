#include "services/inventory/lookups.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/status_macros.h"
#include "common/util/proto_time.h"

namespace smp::inventory {

LotView ViewOf(const v1::Lot& lot) {
  LotView v;
  v.id = lot.id();
  v.lot_number = lot.lot_number();
  v.expiry = FromLocalDate(lot.expiry_date());
  v.status = lot.status();
  v.serialised = lot.serialised();
  return v;
}

BottleView ViewOf(const v1::PigmentBottle& bottle) {
  BottleView v;
  v.id = bottle.id();
  v.clinic_id = bottle.clinic_id();
  v.state = bottle.state();
  v.use_by = FromLocalDate(bottle.use_by_date());
  return v;
}

absl::StatusOr<absl::TimeZone> RequireZone(const InventoryStore& store, Transaction& txn,
                                           absl::string_view clinic_id, absl::string_view field) {
  ASSIGN_OR_RETURN(std::optional<v1::ClinicInventorySettings> settings,
                   store.GetSettings(txn, clinic_id));
  if (!settings.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": clinic ", clinic_id,
        " has no inventory settings here (an unknown clinic, or an admin has not set its time "
        "zone yet)"));
  }
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(settings->time_zone(), &zone)) {
    return absl::InternalError(absl::StrCat("stored time zone of clinic ", clinic_id,
                                            " does not load: ", settings->time_zone()));
  }
  return zone;
}

absl::StatusOr<v1::Product> ProductOfRequest(const InventoryStore& store, Transaction& txn,
                                             absl::string_view field, absl::string_view id) {
  absl::StatusOr<v1::Product> product = store.GetProduct(txn, id);
  if (absl::IsNotFound(product.status())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": unknown product ", id));
  }
  return product;
}

absl::StatusOr<v1::Lot> LotOfRequest(const InventoryStore& store, Transaction& txn,
                                     absl::string_view field, absl::string_view id) {
  absl::StatusOr<v1::Lot> lot = store.GetLot(txn, id);
  if (absl::IsNotFound(lot.status())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": unknown lot ", id));
  }
  return lot;
}

absl::StatusOr<std::optional<v1::SerialUnit>> UnitOfRequest(const InventoryStore& store,
                                                            Transaction& txn,
                                                            absl::string_view product_field,
                                                            absl::string_view serial,
                                                            absl::string_view product_id) {
  ASSIGN_OR_RETURN(std::vector<v1::SerialUnit> units, store.FindUnits(txn, serial, product_id));
  if (units.empty()) return std::nullopt;
  if (units.size() > 1) {
    std::vector<std::string> products;
    for (const v1::SerialUnit& u : units) products.push_back(u.product_id());
    return absl::InvalidArgumentError(
        absl::StrCat(product_field, ": serial ", serial, " is known for products ",
                     absl::StrJoin(products, ", "), ": name the unit's product"));
  }
  return std::move(units.front());
}

absl::Status CheckEnoughHere(const InventoryStore& store, Transaction& txn,
                             absl::string_view clinic_id, const v1::Lot& lot, int64_t quantity) {
  ASSIGN_OR_RETURN(int64_t here, store.Balance(txn, StockKey{std::string(clinic_id), lot.id(),
                                                             v1::STOCK_BUCKET_AVAILABLE}));
  if (here >= quantity) return absl::OkStatus();
  ASSIGN_OR_RETURN(auto balances, store.BalancesOfLot(txn, lot.id()));
  int64_t elsewhere = 0;
  for (const auto& [key, qty] : balances) {
    if (key.clinic_id != clinic_id && key.bucket == v1::STOCK_BUCKET_AVAILABLE) elsewhere += qty;
  }
  std::string where;
  if (elsewhere > 0) {
    where = absl::StrCat("; ", elsewhere, " held at other clinics (stock held at another clinic ",
                         "must be transferred first)");
  }
  return absl::FailedPreconditionError(
      absl::StrCat("not enough stock of lot ", lot.lot_number(), " (", lot.id(), ") at clinic ",
                   clinic_id, ": ", here, " available, ", quantity, " requested", where));
}

}  // namespace smp::inventory
