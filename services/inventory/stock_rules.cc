#include "services/inventory/stock_rules.h"

#include <algorithm>
#include <limits>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/validation.h"

namespace smp::inventory {

absl::StatusOr<int64_t> ApplyDelta(int64_t balance, int64_t delta, absl::string_view what) {
  if (delta == 0) return absl::InvalidArgumentError("quantity: must not be 0");
  if (delta > 0 && balance > std::numeric_limits<int64_t>::max() - delta) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": balance would overflow"));
  }
  if (balance + delta < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("not enough stock: ", what, " holds ", balance, ", ", -delta, " requested"));
  }
  return balance + delta;
}

absl::Status StockBook::Apply(const std::vector<Leg>& legs) {
  std::map<StockKey, int64_t> next;
  for (const Leg& leg : legs) {
    auto it = next.find(leg.key);
    const int64_t current = it != next.end() ? it->second : Balance(leg.key);
    absl::StatusOr<int64_t> after = ApplyDelta(current, leg.delta, leg.key.lot_id);
    if (!after.ok()) return after.status();
    next[leg.key] = *after;
  }
  for (const auto& [key, balance] : next) balances_[key] = balance;
  entries_.insert(entries_.end(), legs.begin(), legs.end());
  return absl::OkStatus();
}

int64_t StockBook::Balance(const StockKey& key) const {
  auto it = balances_.find(key);
  return it == balances_.end() ? 0 : it->second;
}

int64_t StockBook::LedgerSum(const StockKey& key) const {
  int64_t sum = 0;
  for (const Leg& leg : entries_) {
    if (leg.key == key) sum += leg.delta;
  }
  return sum;
}

absl::CivilDay LocalDay(absl::Time t, absl::TimeZone zone) { return absl::ToCivilDay(t, zone); }

bool ExpiresWithin(absl::CivilDay expiry, absl::Time now, absl::TimeZone zone, int within_days) {
  return expiry <= LocalDay(now, zone) + within_days;
}

bool IsExpiredAt(absl::CivilDay expiry, absl::Time now, absl::TimeZone zone) {
  return IsExpired(expiry, LocalDay(now, zone));
}

absl::Status CheckLotIssuable(const LotView& lot, absl::CivilDay today) {
  if (lot.status == v1::LOT_STATUS_RECALLED) {
    return WithErrorInfo(
        absl::FailedPreconditionError(
            absl::StrCat("lot ", lot.lot_number, " (", lot.id, ") is recalled and quarantined")),
        reason::kRecalled, {{"lot_id", lot.id}});
  }
  if (IsExpired(lot.expiry, today)) {
    return WithErrorInfo(absl::FailedPreconditionError(absl::StrCat(
                             "lot ", lot.lot_number, " (", lot.id, ") expired on ",
                             DayText(lot.expiry), "; the clinic's date is ", DayText(today))),
                         reason::kExpired, {{"lot_id", lot.id}});
  }
  return absl::OkStatus();
}

std::vector<Draw> SuggestFefo(std::vector<LotCandidate> candidates, absl::CivilDay today,
                              absl::CivilDay procedure_day, int64_t wanted) {
  std::erase_if(candidates, [&](const LotCandidate& c) {
    return c.available <= 0 || c.lot.status != v1::LOT_STATUS_ACTIVE ||
           IsExpired(c.lot.expiry, today) || c.lot.expiry < procedure_day;
  });
  std::sort(candidates.begin(), candidates.end(), [](const LotCandidate& a, const LotCandidate& b) {
    return std::tie(a.lot.expiry, a.lot.id) < std::tie(b.lot.expiry, b.lot.id);
  });
  std::vector<Draw> draws;
  for (const LotCandidate& c : candidates) {
    if (wanted <= 0) break;
    const int64_t take = std::min(wanted, c.available);
    draws.push_back({c.lot.id, take});
    wanted -= take;
  }
  return draws;
}

std::string UnitStateName(v1::UnitState state) {
  std::string name = v1::UnitState_Name(state);
  return absl::AsciiStrToLower(absl::StripPrefix(name, "UNIT_STATE_"));
}

bool IsSpent(v1::UnitState state) {
  return state == v1::UNIT_STATE_ISSUED || state == v1::UNIT_STATE_DISPOSED_SHARPS ||
         state == v1::UNIT_STATE_DESTROYED;
}

absl::Status CheckUnitTransition(absl::string_view serial, v1::UnitState from, v1::UnitState to) {
  bool ok = false;
  switch (from) {
    case v1::UNIT_STATE_IN_STOCK:
      ok = to == v1::UNIT_STATE_ISSUED || to == v1::UNIT_STATE_QUARANTINED ||
           to == v1::UNIT_STATE_DESTROYED || to == v1::UNIT_STATE_IN_TRANSIT;
      break;
    case v1::UNIT_STATE_QUARANTINED:
      ok = to == v1::UNIT_STATE_DESTROYED;
      break;
    case v1::UNIT_STATE_IN_TRANSIT:
      ok = to == v1::UNIT_STATE_IN_STOCK || to == v1::UNIT_STATE_QUARANTINED;
      break;
    case v1::UNIT_STATE_ISSUED:
      ok = to == v1::UNIT_STATE_DISPOSED_SHARPS;
      break;
    default:
      ok = false;
  }
  if (ok) return absl::OkStatus();
  if (to == v1::UNIT_STATE_ISSUED && from == v1::UNIT_STATE_ISSUED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "unit ", serial, " was already issued to a procedure: needles are single use"));
  }
  return absl::FailedPreconditionError(absl::StrCat("unit ", serial, " is ", UnitStateName(from),
                                                    " and cannot become ", UnitStateName(to)));
}

absl::CivilDay BottleUseBy(absl::CivilDay lot_expiry, absl::CivilDay opened_day,
                           int opened_shelf_life_days) {
  if (opened_shelf_life_days <= 0) return lot_expiry;
  return std::min(lot_expiry, opened_day + opened_shelf_life_days);
}

std::string BottleStateName(v1::BottleState state) {
  std::string name = v1::BottleState_Name(state);
  return absl::AsciiStrToLower(absl::StripPrefix(name, "BOTTLE_STATE_"));
}

absl::Status CheckBottleIssuable(const BottleView& bottle, absl::string_view clinic_id,
                                 absl::CivilDay procedure_day) {
  if (bottle.state == v1::BOTTLE_STATE_QUARANTINED) {
    return WithErrorInfo(absl::FailedPreconditionError(absl::StrCat(
                             "bottle ", bottle.id, " is quarantined: its lot is recalled")),
                         reason::kRecalled, {{"bottle_id", bottle.id}});
  }
  if (bottle.state != v1::BOTTLE_STATE_OPEN) {
    return absl::FailedPreconditionError(absl::StrCat(
        "bottle ", bottle.id, " is ", BottleStateName(bottle.state), ": open a new bottle"));
  }
  if (bottle.clinic_id != clinic_id) {
    return absl::FailedPreconditionError(absl::StrCat("bottle ", bottle.id, " is held at clinic ",
                                                      bottle.clinic_id, ", not at ", clinic_id));
  }
  if (bottle.use_by < procedure_day) {
    return WithErrorInfo(
        absl::FailedPreconditionError(
            absl::StrCat("bottle ", bottle.id, " is past its use-by date ", DayText(bottle.use_by),
                         " (procedure date ", DayText(procedure_day), "): discard it")),
        reason::kExpired, {{"bottle_id", bottle.id}});
  }
  return absl::OkStatus();
}

absl::Status CheckBottleTransition(absl::string_view id, v1::BottleState from, v1::BottleState to) {
  bool ok = false;
  switch (from) {
    case v1::BOTTLE_STATE_OPEN:
      ok = to == v1::BOTTLE_STATE_FINISHED || to == v1::BOTTLE_STATE_DISCARDED ||
           to == v1::BOTTLE_STATE_QUARANTINED;
      break;
    case v1::BOTTLE_STATE_QUARANTINED:
      ok = to == v1::BOTTLE_STATE_DISCARDED;
      break;
    default:
      ok = false;
  }
  if (ok) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("bottle ", id, " is ", BottleStateName(from),
                                                    " and cannot become ", BottleStateName(to)));
}

v1::IssuedItem IssuedItemFor(const v1::Product& product, const v1::Lot& lot) {
  v1::IssuedItem item;
  item.set_product_id(product.id());
  item.set_product_kind(KindOf(product));
  item.set_product_name(product.has_pigment() ? product.pigment().shade() : product.name());
  item.set_lot_number(lot.lot_number());
  *item.mutable_expiry_date() = lot.expiry_date();
  return item;
}

v1::ProductKind KindOf(const v1::Product& product) {
  switch (product.spec_case()) {
    case v1::Product::kNeedleCartridge:
      return v1::PRODUCT_KIND_NEEDLE_CARTRIDGE;
    case v1::Product::kPigment:
      return v1::PRODUCT_KIND_PIGMENT;
    case v1::Product::kConsumable:
      return v1::PRODUCT_KIND_CONSUMABLE;
    default:
      return v1::PRODUCT_KIND_UNSPECIFIED;
  }
}

absl::Status ValidateProduct(const v1::Product& p) {
  if (absl::Status s = ValidateRequiredText("product.name", p.name(), 200); !s.ok()) return s;
  if (absl::Status s = ValidateOptionalText("product.sku", p.sku(), 64); !s.ok()) return s;
  if (!p.device_identifier().empty()) {
    // Same alphabet and canonical form as a serial: the two together are the unit's UDI.
    RETURN_IF_ERROR(ValidateSerial("product.device_identifier", p.device_identifier()).status());
  }
  if (p.unit() == v1::UNIT_OF_MEASURE_UNSPECIFIED || !v1::UnitOfMeasure_IsValid(p.unit())) {
    return absl::InvalidArgumentError("product.unit: is required");
  }
  switch (p.spec_case()) {
    case v1::Product::kNeedleCartridge: {
      const std::string& config = p.needle_cartridge().configuration();
      if (config.empty() || config.size() > 16 ||
          !std::all_of(config.begin(), config.end(),
                       [](char c) { return absl::ascii_isdigit(c) || absl::ascii_isupper(c); })) {
        return absl::InvalidArgumentError(
            "product.needle_cartridge.configuration: 1..16 characters of [0-9A-Z], e.g. 3RL");
      }
      const int32_t um = p.needle_cartridge().needle_diameter_um();
      if (um < 150 || um > 500) {
        return absl::InvalidArgumentError(
            "product.needle_cartridge.needle_diameter_um: must be 150..500");
      }
      if (!p.single_use()) {
        return absl::InvalidArgumentError(
            "product.single_use: needle cartridges are always single use");
      }
      if (p.unit() != v1::UNIT_OF_MEASURE_EACH) {
        return absl::InvalidArgumentError("product.unit: needle cartridges are counted EACH");
      }
      return absl::OkStatus();
    }
    case v1::Product::kPigment: {
      if (absl::Status s = ValidateRequiredText("product.pigment.brand", p.pigment().brand(), 100);
          !s.ok()) {
        return s;
      }
      if (absl::Status s = ValidateRequiredText("product.pigment.shade", p.pigment().shade(), 100);
          !s.ok()) {
        return s;
      }
      const int32_t days = p.pigment().opened_shelf_life_days();
      if (days < 0 || days > 3650) {
        return absl::InvalidArgumentError(
            "product.pigment.opened_shelf_life_days: must be 0..3650");
      }
      return absl::OkStatus();
    }
    case v1::Product::kConsumable:
      return ValidateOptionalText("product.consumable.description", p.consumable().description(),
                                  200);
    default:
      return absl::InvalidArgumentError(
          "product.spec: one of needle_cartridge, pigment, consumable is required");
  }
}

std::string CanonicalSerial(absl::string_view serial) {
  return absl::AsciiStrToUpper(absl::StripAsciiWhitespace(serial));
}

absl::StatusOr<std::string> ValidateSerial(absl::string_view field, absl::string_view serial) {
  static constexpr absl::string_view kExtra = "._:/()+-";
  std::string canonical = CanonicalSerial(serial);
  if (canonical.empty() || canonical.size() > 64 ||
      !std::all_of(canonical.begin(), canonical.end(), [](char c) {
        return absl::ascii_isdigit(c) || absl::ascii_isupper(c) ||
               kExtra.find(c) != absl::string_view::npos;
      })) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": a serial is 1..64 characters of [A-Za-z0-9._:/()+-]"));
  }
  return canonical;
}

absl::StatusOr<std::vector<std::string>> ValidateSerials(
    absl::string_view field, const google::protobuf::RepeatedPtrField<std::string>& serials,
    bool optional) {
  if (serials.empty() && !optional) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at least one serial is required"));
  }
  if (serials.size() > kMaxSerials) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxSerials, " serials per request"));
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (int i = 0; i < serials.size(); ++i) {
    const std::string item = absl::StrCat(field, "[", i, "]");
    ASSIGN_OR_RETURN(std::string canonical, ValidateSerial(item, serials[i]));
    if (!seen.insert(canonical).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(item, ": serial ", canonical, " is listed twice"));
    }
    out.push_back(std::move(canonical));
  }
  return out;
}

absl::Status CheckReceiptSerials(v1::ProductKind kind, int serial_count) {
  if (kind == v1::PRODUCT_KIND_NEEDLE_CARTRIDGE && serial_count == 0) {
    return absl::InvalidArgumentError(
        "serials: needle cartridges are single use and tracked by unit: list one serial per "
        "unit received");
  }
  if (kind != v1::PRODUCT_KIND_NEEDLE_CARTRIDGE && serial_count > 0) {
    return absl::InvalidArgumentError(
        "serials: only needle cartridges are received with unit serials");
  }
  return absl::OkStatus();
}

absl::Status ValidateQuantity(absl::string_view field, int64_t quantity, int64_t max) {
  if (quantity < 1 || quantity > max) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be 1..", max));
  }
  return absl::OkStatus();
}

absl::Status ValidateLotNumber(absl::string_view field, absl::string_view lot_number) {
  return ValidateRequiredText(field, lot_number, 64);
}

}  // namespace smp::inventory
