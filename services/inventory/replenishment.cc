#include "services/inventory/replenishment.h"

#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/inventory/forecast_rules.h"
#include "services/inventory/lookups.h"
#include "services/inventory/stock_rules.h"

namespace smp::inventory {
namespace {

// Whether a stock level counts towards what the clinic can use from `today` on.
bool Usable(const v1::StockLevel& level, absl::CivilDay today) {
  return level.lot_status() == v1::LOT_STATUS_ACTIVE &&
         !IsExpired(FromLocalDate(level.expiry_date()), today);
}

}  // namespace

absl::StatusOr<v1::ReorderPoint> Replenishment::SetReorderPoint(
    const Call& call, const v1::SetReorderPointRequest& req) const {
  const v1::ReorderPoint& point = req.point();
  RETURN_IF_ERROR(ValidateId("point.clinic_id", point.clinic_id()));
  RETURN_IF_ERROR(ValidateId("point.product_id", point.product_id()));
  if (point.reorder_level() < 0 || point.reorder_level() > 100000) {
    return absl::InvalidArgumentError("point.reorder_level: must be 0..100000");
  }
  if (point.reorder_quantity() < 0 || point.reorder_quantity() > 100000) {
    return absl::InvalidArgumentError("point.reorder_quantity: must be 0..100000");
  }
  RETURN_IF_ERROR(call.who.CheckClinic(point.clinic_id()));
  return RunIdempotent<v1::ReorderPoint>(
      *db_, call, req, [&](Transaction& txn) -> absl::StatusOr<v1::ReorderPoint> {
        RETURN_IF_ERROR(RequireZone(store_, txn, point.clinic_id(), "point.clinic_id").status());
        RETURN_IF_ERROR(
            ProductOfRequest(store_, txn, "point.product_id", point.product_id()).status());
        RETURN_IF_ERROR(store_.PutReorderPoint(txn, point));
        return point;
      });
}

absl::StatusOr<v1::ListLowStockResponse> Replenishment::ListLowStock(
    const Call& call, const v1::ListLowStockRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  const std::string query = absl::StrCat("low-stock?clinic=", req.clinic_id());
  ASSIGN_OR_RETURN(PageRequest page, ParsePageRequest(req.page_size(), req.page_token(), query));
  ASSIGN_OR_RETURN(std::vector<v1::LowStockItem> items, LowStockAfter(call, req.clinic_id(), page));
  Page<v1::LowStockItem> result =
      MakePage(std::move(items), page.size,
               [](const v1::LowStockItem& item) { return item.point().product_id(); });
  v1::ListLowStockResponse out;
  for (v1::LowStockItem& item : result.items) *out.add_items() = std::move(item);
  out.set_next_page_token(NextPageToken(query, result.last_key));
  return out;
}

absl::StatusOr<v1::ListLowStockResponse> Replenishment::WatchList(
    const Call& call, const v1::ListLowStockRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  PageRequest everything;
  everything.size = std::numeric_limits<int>::max() - 1;
  ASSIGN_OR_RETURN(std::vector<v1::LowStockItem> items,
                   LowStockAfter(call, req.clinic_id(), everything));
  v1::ListLowStockResponse out;
  for (v1::LowStockItem& item : items) *out.add_items() = std::move(item);
  return out;
}

namespace {

class LowStockWatch final : public WatchSource<v1::ListLowStockResponse> {
 public:
  LowStockWatch(const Replenishment* unit, v1::ListLowStockRequest req)
      : unit_(unit), req_(std::move(req)) {}

  absl::StatusOr<std::optional<v1::ListLowStockResponse>> Next(const Call& call) override {
    ASSIGN_OR_RETURN(v1::ListLowStockResponse list, unit_->WatchList(call, req_));
    std::string bytes = list.SerializeAsString();
    if (sent_ && bytes == last_sent_) return std::nullopt;
    last_sent_ = std::move(bytes);
    sent_ = true;
    return list;
  }

 private:
  const Replenishment* const unit_;
  const v1::ListLowStockRequest req_;
  bool sent_ = false;
  std::string last_sent_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<WatchSource<v1::ListLowStockResponse>>>
Replenishment::OpenLowStockWatch(const Call& call, const v1::ListLowStockRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  return std::make_unique<LowStockWatch>(this, req);
}

absl::StatusOr<std::vector<v1::LowStockItem>> Replenishment::LowStockAfter(
    const Call& call, const std::string& clinic_id, const PageRequest& page) const {
  std::vector<v1::LowStockItem> out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(absl::TimeZone zone, RequireZone(store_, txn, clinic_id, "clinic_id"));
    const absl::CivilDay today = LocalDay(call.now, zone);
    ASSIGN_OR_RETURN(auto points, store_.ReorderPoints(txn, clinic_id));
    // Points come by product id; one item more than the page tells whether more follow.
    for (const v1::ReorderPoint& point : points) {
      if (static_cast<int>(out.size()) > page.size) break;
      if (!page.after_key.empty() && point.product_id() <= page.after_key) continue;
      ASSIGN_OR_RETURN(auto levels, store_.ListStock(txn, clinic_id, point.product_id(), false));
      v1::LowStockItem item;
      *item.mutable_point() = point;
      for (const v1::StockLevel& level : levels) {
        if (!Usable(level, today)) continue;
        item.set_available(item.available() + level.available());
        item.set_in_transit(item.in_transit() + level.in_transit());
      }
      if (item.available() <= point.reorder_level()) out.push_back(std::move(item));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ForecastDemandResponse> Replenishment::Forecast(
    const Call& call, const v1::ForecastDemandRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  if (req.weeks() < 1 || req.weeks() > 12) {
    return absl::InvalidArgumentError("weeks: must be 1..12");
  }
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  const absl::Time now = call.now;
  ForecastInput in;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(absl::TimeZone zone, RequireZone(store_, txn, req.clinic_id(), "clinic_id"));
    const absl::CivilDay today = LocalDay(now, zone);
    ASSIGN_OR_RETURN(auto usage, store_.UsageSince(txn, req.clinic_id(),
                                                   now - absl::Hours(24 * 7 * kHistoryWeeks)));
    in.history_units = std::move(usage.first);
    in.history_procedures = usage.second;
    ASSIGN_OR_RETURN(auto points, store_.ReorderPoints(txn, req.clinic_id()));
    for (const v1::ReorderPoint& p : points) in.reorder_level[p.product_id()] = p.reorder_level();
    ASSIGN_OR_RETURN(auto levels, store_.ListStock(txn, req.clinic_id(), "", false));
    for (const v1::StockLevel& level : levels) {
      if (!Usable(level, today)) continue;
      in.on_hand[level.product_id()] += level.available() + level.in_transit();
    }
    return absl::OkStatus();
  }));
  ASSIGN_OR_RETURN(
      std::vector<ProcedureAppointment> booked,
      appointments_->ListProcedures(req.clinic_id(), now, now + absl::Hours(24 * 7 * req.weeks())));
  namespace sv1 = ::smp::scheduling::v1;
  for (const ProcedureAppointment& a : booked) {
    if (a.start >= now &&
        (a.status == sv1::PROPOSED || a.status == sv1::BOOKED || a.status == sv1::ARRIVED)) {
      ++in.upcoming_procedures;
    }
  }
  v1::ForecastDemandResponse out;
  out.set_booked_sessions(in.upcoming_procedures);
  out.set_history_procedures(in.history_procedures);
  for (v1::ProductDemand& d : ForecastDemand(in)) *out.add_demands() = std::move(d);
  return out;
}

}  // namespace smp::inventory
