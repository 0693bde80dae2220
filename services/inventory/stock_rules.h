#ifndef SMP_SERVICES_INVENTORY_STOCK_RULES_H_
#define SMP_SERVICES_INVENTORY_STOCK_RULES_H_

// Inventory domain rules with no I/O: stock balances derived from ledger legs, lot expiry in a
// clinic's calendar, first-expiry-first-out suggestions, the needle unit state machine and request
// field checks. The store applies the same ApplyDelta inside its write transaction.

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/util/local_date.h"
#include "smp/common/v1/dates.pb.h"
#include "smp/inventory/v1/inventory.pb.h"

namespace smp::inventory {

inline constexpr int64_t kMaxReceiveQuantity = 10000;
inline constexpr int64_t kMaxLineQuantity = 1000;
inline constexpr int64_t kMaxAdjustQuantity = 10000;
inline constexpr int kMaxSerials = 1000;
inline constexpr int kMaxIssueLines = 100;

// One balance: a lot's stock in one bucket at one clinic.
struct StockKey {
  std::string clinic_id;
  std::string lot_id;
  v1::StockBucket bucket = v1::STOCK_BUCKET_AVAILABLE;

  friend bool operator<(const StockKey& a, const StockKey& b) {
    return std::tie(a.clinic_id, a.lot_id, a.bucket) < std::tie(b.clinic_id, b.lot_id, b.bucket);
  }
  friend bool operator==(const StockKey& a, const StockKey& b) {
    return a.clinic_id == b.clinic_id && a.lot_id == b.lot_id && a.bucket == b.bucket;
  }
};

// One ledger line's effect: `delta` units into (positive) or out of (negative) a balance.
struct Leg {
  StockKey key;
  int64_t delta = 0;
};

// The balance after adding `delta`, or FAILED_PRECONDITION naming `what` when it would be negative
// (or overflow). A zero delta is INVALID_ARGUMENT: the ledger never holds empty lines.
absl::StatusOr<int64_t> ApplyDelta(int64_t balance, int64_t delta, absl::string_view what);

// The reference model of the ledger: an append-only list of legs and the balances derived from it.
// Apply is all or nothing: when any leg would drive a balance negative, nothing changes.
class StockBook {
 public:
  absl::Status Apply(const std::vector<Leg>& legs);
  int64_t Balance(const StockKey& key) const;
  // The sum of every ledger leg of `key`, recomputed from the entries.
  int64_t LedgerSum(const StockKey& key) const;
  const std::vector<Leg>& entries() const { return entries_; }
  const std::map<StockKey, int64_t>& balances() const { return balances_; }

 private:
  std::vector<Leg> entries_;
  std::map<StockKey, int64_t> balances_;
};

// ---- dates and expiry ----

// The clinic-local calendar day of an instant.
absl::CivilDay LocalDay(absl::Time t, absl::TimeZone zone);
// A lot is usable through its expiry day and expired from the next day on.
inline bool IsExpired(absl::CivilDay expiry, absl::CivilDay today) { return today > expiry; }
// Whether a lot expiring on `expiry` is expired at instant `now` in the clinic's time zone.
bool IsExpiredAt(absl::CivilDay expiry, absl::Time now, absl::TimeZone zone);
// Whether a lot expiring on `expiry` expires within `within_days` days of the clinic-local day of
// `now` (expired ones included): the window is counted in the clinic's calendar, never in UTC.
bool ExpiresWithin(absl::CivilDay expiry, absl::Time now, absl::TimeZone zone, int within_days);

// ---- issuing ----

// What the issue rules need to know about a lot.
struct LotView {
  std::string id;
  std::string lot_number;
  absl::CivilDay expiry;
  v1::LotStatus status = v1::LOT_STATUS_ACTIVE;
  bool serialised = false;
};

// OK when the lot may be issued on `today` (clinic-local); FAILED_PRECONDITION otherwise, with
// ErrorInfo RECALLED or EXPIRED (metadata lot_id).
absl::Status CheckLotIssuable(const LotView& lot, absl::CivilDay today);

// A lot with usable stock at a clinic, for suggestions.
struct LotCandidate {
  LotView lot;
  int64_t available = 0;
};

// One suggested draw.
struct Draw {
  std::string lot_id;
  int64_t quantity = 0;
};

// First expiry first out: draws up to `wanted` units from lots that are active, have stock, are
// not expired `today` and do not expire before `procedure_day`; ties by lot id. May cover less than
// `wanted` when usable stock is short.
std::vector<Draw> SuggestFefo(std::vector<LotCandidate> candidates, absl::CivilDay today,
                              absl::CivilDay procedure_day, int64_t wanted);

// ---- pigment bottles ----

// The last day of use of a bottle opened on `opened_day` (clinic-local): the earlier of the lot's
// expiry and the opening day plus `opened_shelf_life_days` (0: no limit beyond the lot's expiry).
absl::CivilDay BottleUseBy(absl::CivilDay lot_expiry, absl::CivilDay opened_day,
                           int opened_shelf_life_days);

// What the bottle rules need to know about an opened bottle.
struct BottleView {
  std::string id;
  std::string clinic_id;
  v1::BottleState state = v1::BOTTLE_STATE_OPEN;
  absl::CivilDay use_by;
};

// OK when the bottle may be issued at `clinic_id` to a procedure on `procedure_day`
// (clinic-local); FAILED_PRECONDITION naming the reason (finished, discarded, quarantined, held at
// another clinic, past its use-by date) otherwise, with ErrorInfo RECALLED (quarantined) or
// EXPIRED (past its use-by date; metadata bottle_id). Usable through its use-by day.
absl::Status CheckBottleIssuable(const BottleView& bottle, absl::string_view clinic_id,
                                 absl::CivilDay procedure_day);
// OK when a bottle may go from `from` to `to` (open -> finished / discarded / quarantined;
// quarantined -> discarded); FAILED_PRECONDITION otherwise.
absl::Status CheckBottleTransition(absl::string_view id, v1::BottleState from, v1::BottleState to);
std::string BottleStateName(v1::BottleState state);

// ---- serial units ----

// OK when a unit may go from `from` to `to` (in stock -> issued / quarantined / destroyed / in
// transit; in transit -> in stock (received) / quarantined (received after a recall); quarantined
// -> destroyed; issued -> disposed as sharps); FAILED_PRECONDITION otherwise.
absl::Status CheckUnitTransition(absl::string_view serial, v1::UnitState from, v1::UnitState to);
// True when the unit was already used or destroyed: issuing it again is a reuse attempt.
bool IsSpent(v1::UnitState state);
std::string UnitStateName(v1::UnitState state);

// ---- request checks (INVALID_ARGUMENT naming the field) ----

absl::Status ValidateProduct(const v1::Product& product);
v1::ProductKind KindOf(const v1::Product& product);
// One thing issued from `lot` of `product` in the terms a procedure record needs (kind, name or
// shade, lot number, expiry); the caller adds the serial, quantity or bottle.
v1::IssuedItem IssuedItemFor(const v1::Product& product, const v1::Lot& lot);
// The canonical form of a serial or a device identifier, the only form stored or looked up:
// surrounding ASCII whitespace removed and ASCII letters in upper case ("  udi-0001 " ->
// "UDI-0001"). Makers print serials in either case and scanners add blanks; one physical unit must
// never be two rows, nor escape a reuse check by its spelling.
std::string CanonicalSerial(absl::string_view serial);
// The canonical serial when it is 1..64 characters of [A-Z0-9._:/()+-]; INVALID_ARGUMENT naming
// `field` otherwise.
absl::StatusOr<std::string> ValidateSerial(absl::string_view field, absl::string_view serial);
// 1..max_count serials (0 allowed when `optional`), distinct in canonical form; their canonical
// forms in request order.
absl::StatusOr<std::vector<std::string>> ValidateSerials(
    absl::string_view field, const google::protobuf::RepeatedPtrField<std::string>& serials,
    bool optional);
// Needle cartridges are single use and tracked unit by unit: a receipt of them without serials is
// INVALID_ARGUMENT naming `serials`; serials of any other kind of product likewise.
absl::Status CheckReceiptSerials(v1::ProductKind kind, int serial_count);
absl::Status ValidateQuantity(absl::string_view field, int64_t quantity, int64_t max);
absl::Status ValidateLotNumber(absl::string_view field, absl::string_view lot_number);

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_STOCK_RULES_H_
