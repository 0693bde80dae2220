#include "services/inventory/inventory_service.h"

#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/db/idempotency.h"
#include "common/outbox/outbox.h"
#include "common/peer/compliance_deliverer.h"
#include "common/rpc/handler.h"
#include "common/status/status_macros.h"
#include "common/util/etag.h"
#include "common/util/ids.h"
#include "common/util/paging.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "google/protobuf/descriptor.h"
#include "services/inventory/compliance_events.h"
#include "services/inventory/forecast_rules.h"
#include "services/inventory/stock_rules.h"

namespace smp::inventory {
namespace {

LotView ViewOf(const v1::Lot& lot) {
  LotView v;
  v.id = lot.id();
  v.lot_number = lot.lot_number();
  v.expiry =
      absl::CivilDay(lot.expiry_date().year(), lot.expiry_date().month(), lot.expiry_date().day());
  v.status = lot.status();
  v.serialised = lot.serialised();
  return v;
}

BottleView ViewOf(const v1::PigmentBottle& bottle) {
  BottleView v;
  v.id = bottle.id();
  v.clinic_id = bottle.clinic_id();
  v.state = bottle.state();
  v.use_by = absl::CivilDay(bottle.use_by_date().year(), bottle.use_by_date().month(),
                            bottle.use_by_date().day());
  return v;
}

// An unknown product named by a request is a bad argument of that request.
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

absl::Status ValidateOptionalId(absl::string_view field, absl::string_view id) {
  return id.empty() ? absl::OkStatus() : ValidateId(field, id);
}

// Refuses drawing `quantity` from the available stock of `lot` at `clinic` when it is short,
// saying whether other clinics hold it.
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

}  // namespace

InventoryServiceImpl::InventoryServiceImpl(InventoryDeps deps)
    : deps_(std::move(deps)),
      authorizer_(google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
                      v1::InventoryService::service_full_name()),
                  deps_.authenticator) {}

absl::StatusOr<absl::TimeZone> InventoryServiceImpl::RequireZone(Transaction& txn,
                                                                 absl::string_view clinic_id,
                                                                 absl::string_view field) const {
  ASSIGN_OR_RETURN(std::optional<v1::ClinicInventorySettings> settings,
                   store_.GetSettings(txn, clinic_id));
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

// ---------------------------------------------------------------- settings

grpc::Status InventoryServiceImpl::GetClinicInventorySettings(
    grpc::ServerContext* ctx, const v1::GetClinicInventorySettingsRequest* req,
    v1::ClinicInventorySettings* out) {
  return ServeRpc(
      authorizer_, ctx, "GetClinicInventorySettings", [&](const Principal& who) -> absl::Status {
        RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
        RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
        return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
          ASSIGN_OR_RETURN(auto s, store_.GetSettings(txn, req->clinic_id()));
          if (!s.has_value()) {
            return absl::NotFoundError(
                absl::StrCat("clinic ", req->clinic_id(), " has no inventory settings yet"));
          }
          *out = *s;
          return absl::OkStatus();
        });
      });
}

grpc::Status InventoryServiceImpl::UpdateClinicInventorySettings(
    grpc::ServerContext* ctx, const v1::UpdateClinicInventorySettingsRequest* req,
    v1::ClinicInventorySettings* out) {
  return ServeRpc(authorizer_, ctx, "UpdateClinicInventorySettings",
                  [&](const Principal& who) -> absl::Status {
                    const v1::ClinicInventorySettings& s = req->settings();
                    RETURN_IF_ERROR(ValidateId("settings.clinic_id", s.clinic_id()));
                    RETURN_IF_ERROR(ValidateTimeZone("settings.time_zone", s.time_zone()).status());
                    int64_t expected = 0;
                    if (!s.etag().empty()) {
                      ASSIGN_OR_RETURN(expected, VersionFromEtag("settings.etag", s.etag()));
                    }
                    RETURN_IF_ERROR(who.CheckClinic(s.clinic_id()));
                    ASSIGN_OR_RETURN(IdempotencyKey key,
                                     MakeIdempotencyKey("UpdateClinicInventorySettings",
                                                        req->request_id(), who.staff_id, *req));
                    const absl::Time now = deps_.clock->Now();
                    ASSIGN_OR_RETURN(*out, RunIdempotent<v1::ClinicInventorySettings>(
                                               *deps_.db, key, now, [&](Transaction& txn) {
                                                 return store_.PutSettings(txn, s, expected, now);
                                               }));
                    return absl::OkStatus();
                  });
}

// ---------------------------------------------------------------- products

grpc::Status InventoryServiceImpl::CreateProduct(grpc::ServerContext* ctx,
                                                 const v1::CreateProductRequest* req,
                                                 v1::Product* out) {
  return ServeRpc(authorizer_, ctx, "CreateProduct", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateProduct(req->product()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("CreateProduct", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(*out, RunIdempotent<v1::Product>(*deps_.db, key, now, [&](Transaction& txn) {
      return store_.CreateProduct(txn, req->product(), now);
    }));
    return absl::OkStatus();
  });
}

grpc::Status InventoryServiceImpl::GetProduct(grpc::ServerContext* ctx,
                                              const v1::GetProductRequest* req, v1::Product* out) {
  return ServeRpc(authorizer_, ctx, "GetProduct", [&](const Principal&) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(*out, store_.GetProduct(txn, req->id()));
      return absl::OkStatus();
    });
  });
}

grpc::Status InventoryServiceImpl::ListProducts(grpc::ServerContext* ctx,
                                                const v1::ListProductsRequest* req,
                                                v1::ListProductsResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListProducts", [&](const Principal&) -> absl::Status {
    if (!v1::ProductKind_IsValid(req->kind())) {
      return absl::InvalidArgumentError("kind: unknown product kind");
    }
    const std::string query = absl::StrCat("products?kind=", req->kind());
    ASSIGN_OR_RETURN(PageRequest page,
                     ParsePageRequest(req->page_size(), req->page_token(), query));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Page<v1::Product> result, store_.ListProducts(txn, req->kind(), page));
      for (v1::Product& p : result.items) *out->add_products() = std::move(p);
      if (!result.last_key.empty()) out->set_next_page_token(MakePageToken(query, result.last_key));
      return absl::OkStatus();
    });
  });
}

// ---------------------------------------------------------------- receiving

grpc::Status InventoryServiceImpl::ReceiveStock(grpc::ServerContext* ctx,
                                                const v1::ReceiveStockRequest* req,
                                                v1::ReceiveStockResponse* out) {
  return ServeRpc(authorizer_, ctx, "ReceiveStock", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(ValidateId("product_id", req->product_id()));
    RETURN_IF_ERROR(ValidateLotNumber("lot_number", req->lot_number()));
    ASSIGN_OR_RETURN(absl::CivilDay expiry, DayFromProto("expiry_date", req->expiry_date()));
    RETURN_IF_ERROR(ValidateQuantity("quantity", req->quantity(), kMaxReceiveQuantity));
    RETURN_IF_ERROR(ValidateSerials("serials", req->serials(), /*optional=*/true));
    if (!req->serials().empty() && req->quantity() != req->serials_size()) {
      return absl::InvalidArgumentError(absl::StrCat("quantity: ", req->quantity(), " but ",
                                                     req->serials_size(), " serials listed"));
    }
    RETURN_IF_ERROR(ValidateOptionalText("supplier", req->supplier(), 200));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("ReceiveStock", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::ReceiveStockResponse>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::ReceiveStockResponse> {
              ASSIGN_OR_RETURN(absl::TimeZone zone,
                               RequireZone(txn, req->clinic_id(), "clinic_id"));
              const absl::CivilDay today = LocalDay(now, zone);
              if (expiry < today) {
                return absl::InvalidArgumentError(
                    absl::StrCat("expiry_date: ", DayText(expiry), " is in the past (today is ",
                                 DayText(today), " at clinic ", req->clinic_id(), ")"));
              }
              ASSIGN_OR_RETURN(v1::Product product,
                               ProductOfRequest(store_, txn, "product_id", req->product_id()));
              const bool serialised = !req->serials().empty();
              if (serialised && product.kind() != v1::PRODUCT_KIND_NEEDLE_CARTRIDGE) {
                return absl::InvalidArgumentError(
                    "serials: only needle cartridges are received with unit serials");
              }
              ASSIGN_OR_RETURN(std::optional<v1::Lot> found,
                               store_.FindLot(txn, product.id(), req->lot_number()));
              v1::Lot lot;
              if (found.has_value()) {
                lot = *found;
                if (ViewOf(lot).expiry != expiry) {
                  return absl::FailedPreconditionError(
                      absl::StrCat("lot ", lot.lot_number(), " of product ", product.id(),
                                   " is recorded with expiry ", DayText(ViewOf(lot).expiry),
                                   ", not ", DayText(expiry)));
                }
                if (lot.status() == v1::LOT_STATUS_RECALLED) {
                  return absl::FailedPreconditionError(absl::StrCat(
                      "lot ", lot.lot_number(), " is recalled: it cannot be received"));
                }
                if (lot.serialised() != serialised) {
                  return absl::FailedPreconditionError(
                      absl::StrCat("lot ", lot.lot_number(), " was first received ",
                                   lot.serialised() ? "with" : "without",
                                   " unit serials; receive it the same way"));
                }
              } else {
                v1::Lot fresh;
                fresh.set_product_id(product.id());
                fresh.set_lot_number(req->lot_number());
                *fresh.mutable_expiry_date() = req->expiry_date();
                fresh.set_serialised(serialised);
                ASSIGN_OR_RETURN(lot, store_.CreateLot(txn, fresh, now));
              }
              for (const std::string& serial : req->serials()) {
                v1::SerialUnit unit;
                unit.set_serial(serial);
                unit.set_product_id(product.id());
                unit.set_lot_id(lot.id());
                unit.set_clinic_id(req->clinic_id());
                unit.set_state(v1::UNIT_STATE_IN_STOCK);
                RETURN_IF_ERROR(store_.InsertUnit(txn, unit));
              }
              StockMove move{Leg{StockKey{req->clinic_id(), lot.id(), v1::STOCK_BUCKET_AVAILABLE},
                                 req->quantity()},
                             product.id(),
                             {req->serials().begin(), req->serials().end()}};
              EntryMeta meta;
              meta.kind = v1::LEDGER_ENTRY_KIND_RECEIVE;
              meta.staff_id = who.staff_id;
              meta.reason = req->supplier();
              meta.local_day = today;
              ASSIGN_OR_RETURN(auto entries, store_.ApplyMoves(txn, {move}, meta, now));
              v1::ReceiveStockResponse response;
              *response.mutable_lot() = lot;
              *response.mutable_entry() = entries.front();
              ASSIGN_OR_RETURN(auto levels,
                               store_.ListStock(txn, req->clinic_id(), product.id(), true));
              for (const v1::StockLevel& level : levels) {
                if (level.lot_id() == lot.id()) *response.mutable_stock() = level;
              }
              return response;
            }));
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------- issuing

grpc::Status InventoryServiceImpl::IssueToProcedure(grpc::ServerContext* ctx,
                                                    const v1::IssueToProcedureRequest* req,
                                                    v1::IssueToProcedureResponse* out) {
  return ServeRpc(authorizer_, ctx, "IssueToProcedure", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(ValidateId("appointment_id", req->appointment_id()));
    RETURN_IF_ERROR(ValidateOptionalId("patient_id", req->patient_id()));
    if (req->lines().empty() || req->lines_size() > kMaxIssueLines) {
      return absl::InvalidArgumentError(absl::StrCat("lines: 1..", kMaxIssueLines, " required"));
    }
    std::set<std::string> serials;
    std::set<std::string> bottles;
    for (int i = 0; i < req->lines_size(); ++i) {
      const v1::IssueLine& line = req->lines(i);
      const std::string field = absl::StrCat("lines[", i, "]");
      switch (line.item_case()) {
        case v1::IssueLine::kSerial:
          RETURN_IF_ERROR(ValidateSerial(field + ".serial", line.serial()));
          if (!serials.insert(line.serial()).second) {
            return absl::InvalidArgumentError(
                absl::StrCat(field, ".serial: ", line.serial(), " is listed twice"));
          }
          break;
        case v1::IssueLine::kLotQuantity:
          RETURN_IF_ERROR(ValidateId(field + ".lot_quantity.lot_id", line.lot_quantity().lot_id()));
          RETURN_IF_ERROR(ValidateQuantity(field + ".lot_quantity.quantity",
                                           line.lot_quantity().quantity(), kMaxLineQuantity));
          break;
        case v1::IssueLine::kBottleId:
          RETURN_IF_ERROR(ValidateId(field + ".bottle_id", line.bottle_id()));
          if (!bottles.insert(line.bottle_id()).second) {
            return absl::InvalidArgumentError(
                absl::StrCat(field, ".bottle_id: ", line.bottle_id(), " is listed twice"));
          }
          break;
        default:
          return absl::InvalidArgumentError(
              absl::StrCat(field, ": a serial, a lot_quantity or a bottle_id is required"));
      }
    }
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("IssueToProcedure", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    std::vector<v1::ReuseAttempt> attempts;  // set when a used unit is presented again
    // Set when the refusal is one compliance must hear of (a used, expired or recalled unit).
    std::optional<compliance::v1::ReportIncidentRequest> incident;
    absl::StatusOr<v1::IssueToProcedureResponse> result =
        RunIdempotent<v1::IssueToProcedureResponse>(
            *deps_.db, key, now,
            [&](Transaction& txn) -> absl::StatusOr<v1::IssueToProcedureResponse> {
              attempts.clear();
              incident.reset();
              auto refuse = [&](RefusalKind kind, absl::Status why) {
                incident = RefusedUnitIncident(kind, req->clinic_id(), req->appointment_id(),
                                               req->patient_id(), why.message(), now);
                return why;
              };
              absl::flat_hash_map<std::string, v1::Product> products;
              auto product_of = [&](const std::string& id) -> absl::StatusOr<v1::Product> {
                auto it = products.find(id);
                if (it != products.end()) return it->second;
                ASSIGN_OR_RETURN(v1::Product product, store_.GetProduct(txn, id));
                products[id] = product;
                return product;
              };
              v1::IssueToProcedureResponse response;
              ASSIGN_OR_RETURN(absl::TimeZone zone,
                               RequireZone(txn, req->clinic_id(), "clinic_id"));
              const absl::CivilDay today = LocalDay(now, zone);
              std::map<std::string, StockMove> moves;  // by lot id
              std::map<std::string, v1::Lot> lots;
              std::vector<v1::PigmentBottle> used_bottles;  // already out of stock
              auto lot_of = [&](const std::string& id,
                                absl::string_view field) -> absl::StatusOr<v1::Lot> {
                auto it = lots.find(id);
                if (it != lots.end()) return it->second;
                ASSIGN_OR_RETURN(v1::Lot lot, LotOfRequest(store_, txn, field, id));
                if (absl::Status issuable = CheckLotIssuable(ViewOf(lot), today); !issuable.ok()) {
                  return refuse(lot.status() == v1::LOT_STATUS_RECALLED ? RefusalKind::kRecalled
                                                                        : RefusalKind::kExpired,
                                issuable);
                }
                lots[id] = lot;
                return lot;
              };
              for (int i = 0; i < req->lines_size(); ++i) {
                const v1::IssueLine& line = req->lines(i);
                if (line.item_case() == v1::IssueLine::kSerial) {
                  ASSIGN_OR_RETURN(std::optional<v1::SerialUnit> unit,
                                   store_.GetUnit(txn, line.serial()));
                  if (!unit.has_value()) {
                    return absl::NotFoundError(
                        absl::StrCat("lines[", i, "].serial: unit ", line.serial(), " not found"));
                  }
                  if (IsSpent(unit->state())) {
                    v1::ReuseAttempt a;
                    a.set_id(NewIdAt(now));
                    a.set_serial(unit->serial());
                    a.set_clinic_id(req->clinic_id());
                    a.set_appointment_id(req->appointment_id());
                    a.set_first_appointment_id(unit->appointment_id());
                    a.set_unit_state(unit->state());
                    a.set_staff_id(who.staff_id);
                    *a.mutable_attempt_time() = ToProtoTimestamp(now);
                    attempts.push_back(a);
                    return refuse(
                        RefusalKind::kReuse,
                        absl::FailedPreconditionError(absl::StrCat(
                            "unit ", unit->serial(), " was already ",
                            unit->state() == v1::UNIT_STATE_DESTROYED ? "destroyed" : "issued",
                            unit->appointment_id().empty()
                                ? std::string()
                                : absl::StrCat(" (to procedure ", unit->appointment_id(), ")"),
                            ": needles are single use; the attempt is recorded")));
                  }
                  if (unit->clinic_id() != req->clinic_id()) {
                    return absl::FailedPreconditionError(
                        absl::StrCat("unit ", unit->serial(), " is held at clinic ",
                                     unit->clinic_id(), ", not at ", req->clinic_id()));
                  }
                  if (unit->state() == v1::UNIT_STATE_IN_TRANSIT) {
                    return absl::FailedPreconditionError(
                        absl::StrCat("unit ", unit->serial(), " is in transit to clinic ",
                                     unit->clinic_id(), ": receive the transfer first"));
                  }
                  if (unit->state() == v1::UNIT_STATE_QUARANTINED) {
                    return refuse(
                        RefusalKind::kRecalled,
                        absl::FailedPreconditionError(absl::StrCat(
                            "unit ", unit->serial(), " is quarantined: its lot is recalled")));
                  }
                  ASSIGN_OR_RETURN(v1::Lot lot, lot_of(unit->lot_id(), "serial"));
                  RETURN_IF_ERROR(
                      CheckUnitTransition(unit->serial(), unit->state(), v1::UNIT_STATE_ISSUED));
                  const v1::UnitState before = unit->state();
                  unit->set_state(v1::UNIT_STATE_ISSUED);
                  unit->set_appointment_id(req->appointment_id());
                  *unit->mutable_issue_time() = ToProtoTimestamp(now);
                  RETURN_IF_ERROR(store_.UpdateUnit(txn, *unit, before));
                  StockMove& move = moves[lot.id()];
                  move.leg.key = StockKey{req->clinic_id(), lot.id(), v1::STOCK_BUCKET_AVAILABLE};
                  move.leg.delta -= 1;
                  move.product_id = lot.product_id();
                  move.serials.push_back(unit->serial());
                  ASSIGN_OR_RETURN(v1::Product product, product_of(lot.product_id()));
                  v1::IssuedItem& item = *response.add_items();
                  item = IssuedItemFor(product, lot);
                  item.set_serial(unit->serial());
                  item.set_quantity(1);
                } else if (line.item_case() == v1::IssueLine::kBottleId) {
                  absl::StatusOr<v1::PigmentBottle> bottle =
                      store_.GetBottle(txn, line.bottle_id());
                  if (absl::IsNotFound(bottle.status())) {
                    return absl::InvalidArgumentError(absl::StrCat(
                        "lines[", i, "].bottle_id: unknown bottle ", line.bottle_id()));
                  }
                  RETURN_IF_ERROR(bottle.status());
                  // The procedure takes place today in the clinic's calendar.
                  if (absl::Status issuable =
                          CheckBottleIssuable(ViewOf(*bottle), req->clinic_id(), today);
                      !issuable.ok()) {
                    if (bottle->state() == v1::BOTTLE_STATE_QUARANTINED) {
                      return refuse(RefusalKind::kRecalled, issuable);
                    }
                    if (bottle->state() == v1::BOTTLE_STATE_OPEN &&
                        bottle->clinic_id() == req->clinic_id()) {
                      return refuse(RefusalKind::kExpired, issuable);  // past its use-by date
                    }
                    return issuable;
                  }
                  ASSIGN_OR_RETURN(
                      v1::Lot lot,
                      LotOfRequest(store_, txn, absl::StrCat("lines[", i, "].bottle_id"),
                                   bottle->lot_id()));
                  if (absl::Status issuable = CheckLotIssuable(ViewOf(lot), today);
                      !issuable.ok()) {
                    return refuse(lot.status() == v1::LOT_STATUS_RECALLED ? RefusalKind::kRecalled
                                                                          : RefusalKind::kExpired,
                                  issuable);
                  }
                  ASSIGN_OR_RETURN(v1::Product product, product_of(lot.product_id()));
                  v1::IssuedItem& item = *response.add_items();
                  item = IssuedItemFor(product, lot);
                  *item.mutable_expiry_date() = bottle->use_by_date();
                  item.set_bottle_id(bottle->id());
                  used_bottles.push_back(*std::move(bottle));
                } else {
                  const v1::LotQuantity& lq = line.lot_quantity();
                  ASSIGN_OR_RETURN(v1::Lot lot,
                                   lot_of(lq.lot_id(), absl::StrCat("lines[", i, "].lot_id")));
                  if (lot.serialised()) {
                    return absl::FailedPreconditionError(
                        absl::StrCat("lot ", lot.lot_number(),
                                     " is tracked by unit serial: issue its units by serial"));
                  }
                  StockMove& move = moves[lot.id()];
                  move.leg.key = StockKey{req->clinic_id(), lot.id(), v1::STOCK_BUCKET_AVAILABLE};
                  move.leg.delta -= lq.quantity();
                  move.product_id = lot.product_id();
                  ASSIGN_OR_RETURN(v1::Product product, product_of(lot.product_id()));
                  v1::IssuedItem& item = *response.add_items();
                  item = IssuedItemFor(product, lot);
                  item.set_quantity(lq.quantity());
                }
              }
              std::vector<StockMove> ordered;
              for (auto& [lot_id, move] : moves) {
                RETURN_IF_ERROR(
                    CheckEnoughHere(store_, txn, req->clinic_id(), lots[lot_id], -move.leg.delta));
                ordered.push_back(std::move(move));
              }
              EntryMeta meta;
              meta.kind = v1::LEDGER_ENTRY_KIND_ISSUE;
              meta.staff_id = who.staff_id;
              meta.appointment_id = req->appointment_id();
              meta.patient_id = req->patient_id();
              meta.local_day = today;
              if (!ordered.empty()) {
                ASSIGN_OR_RETURN(auto entries, store_.ApplyMoves(txn, ordered, meta, now));
                for (v1::LedgerEntry& e : entries) *response.add_entries() = std::move(e);
              }
              for (v1::PigmentBottle& bottle : used_bottles) {
                RETURN_IF_ERROR(store_.RecordBottleUse(txn, bottle, meta, now));
                *response.add_bottles() = std::move(bottle);
              }
              return response;
            });
    if (!result.ok() && (!attempts.empty() || incident.has_value())) {
      // The refused issue rolled back; the attempt itself is kept, and compliance's incident
      // queued, durably, before the caller hears of the refusal.
      RETURN_IF_ERROR(deps_.db->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
        for (const v1::ReuseAttempt& a : attempts)
          RETURN_IF_ERROR(store_.RecordReuseAttempt(txn, a));
        if (incident.has_value()) {
          RETURN_IF_ERROR(
              EnqueueEvent(txn, kComplianceDestination, kReportIncidentKind, *incident, now)
                  .status());
        }
        return absl::OkStatus();
      }));
      if (incident.has_value()) EventCommitted();
    }
    ASSIGN_OR_RETURN(*out, std::move(result));
    return absl::OkStatus();
  });
}

grpc::Status InventoryServiceImpl::SuggestLots(grpc::ServerContext* ctx,
                                               const v1::SuggestLotsRequest* req,
                                               v1::SuggestLotsResponse* out) {
  return ServeRpc(authorizer_, ctx, "SuggestLots", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(ValidateId("product_id", req->product_id()));
    RETURN_IF_ERROR(ValidateQuantity("quantity", req->quantity(), kMaxLineQuantity));
    ASSIGN_OR_RETURN(absl::CivilDay procedure_day,
                     DayFromProto("procedure_date", req->procedure_date()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    const absl::Time now = deps_.clock->Now();
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(absl::TimeZone zone, RequireZone(txn, req->clinic_id(), "clinic_id"));
      const absl::CivilDay today = LocalDay(now, zone);
      if (procedure_day < today) {
        return absl::InvalidArgumentError(absl::StrCat("procedure_date: ", DayText(procedure_day),
                                                       " is before today (", DayText(today), ")"));
      }
      ASSIGN_OR_RETURN(v1::Product product,
                       ProductOfRequest(store_, txn, "product_id", req->product_id()));
      ASSIGN_OR_RETURN(std::vector<LotCandidate> candidates,
                       store_.AvailableLots(txn, req->clinic_id(), product.id()));
      for (const Draw& draw : SuggestFefo(candidates, today, procedure_day, req->quantity())) {
        v1::LotSuggestion* s = out->add_suggestions();
        ASSIGN_OR_RETURN(*s->mutable_lot(), store_.GetLot(txn, draw.lot_id));
        s->set_quantity(draw.quantity);
        if (s->lot().serialised()) {
          ASSIGN_OR_RETURN(auto serials, store_.InStockSerials(txn, req->clinic_id(), draw.lot_id,
                                                               draw.quantity));
          for (std::string& serial : serials) s->add_serials(std::move(serial));
        }
        out->set_quantity_covered(out->quantity_covered() + draw.quantity);
      }
      return absl::OkStatus();
    });
  });
}

grpc::Status InventoryServiceImpl::AdjustStock(grpc::ServerContext* ctx,
                                               const v1::AdjustStockRequest* req,
                                               v1::LedgerEntry* out) {
  return ServeRpc(authorizer_, ctx, "AdjustStock", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(ValidateId("lot_id", req->lot_id()));
    if (req->quantity_delta() == 0 || req->quantity_delta() < -kMaxAdjustQuantity ||
        req->quantity_delta() > kMaxAdjustQuantity) {
      return absl::InvalidArgumentError(absl::StrCat("quantity_delta: must be non-zero, -",
                                                     kMaxAdjustQuantity, "..", kMaxAdjustQuantity));
    }
    RETURN_IF_ERROR(ValidateRequiredText("reason", req->reason(), 500));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("AdjustStock", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::LedgerEntry>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::LedgerEntry> {
              ASSIGN_OR_RETURN(absl::TimeZone zone,
                               RequireZone(txn, req->clinic_id(), "clinic_id"));
              ASSIGN_OR_RETURN(v1::Lot lot, LotOfRequest(store_, txn, "lot_id", req->lot_id()));
              if (lot.serialised()) {
                return absl::FailedPreconditionError(
                    absl::StrCat("lot ", lot.lot_number(),
                                 " is tracked by unit serial: discard or receive units instead"));
              }
              StockMove move{Leg{StockKey{req->clinic_id(), lot.id(), v1::STOCK_BUCKET_AVAILABLE},
                                 req->quantity_delta()},
                             lot.product_id(),
                             {}};
              EntryMeta meta;
              meta.kind = v1::LEDGER_ENTRY_KIND_ADJUST;
              meta.staff_id = who.staff_id;
              meta.reason = req->reason();
              meta.local_day = LocalDay(now, zone);
              ASSIGN_OR_RETURN(auto entries, store_.ApplyMoves(txn, {move}, meta, now));
              return entries.front();
            }));
    return absl::OkStatus();
  });
}

grpc::Status InventoryServiceImpl::DiscardStock(grpc::ServerContext* ctx,
                                                const v1::DiscardStockRequest* req,
                                                v1::DiscardStockResponse* out) {
  return ServeRpc(authorizer_, ctx, "DiscardStock", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    switch (req->item_case()) {
      case v1::DiscardStockRequest::kLotQuantity:
        RETURN_IF_ERROR(ValidateId("lot_quantity.lot_id", req->lot_quantity().lot_id()));
        RETURN_IF_ERROR(ValidateQuantity("lot_quantity.quantity", req->lot_quantity().quantity(),
                                         kMaxReceiveQuantity));
        break;
      case v1::DiscardStockRequest::kUnits:
        RETURN_IF_ERROR(ValidateSerials("units.serials", req->units().serials(), false));
        break;
      default:
        return absl::InvalidArgumentError("item: lot_quantity or units is required");
    }
    RETURN_IF_ERROR(ValidateRequiredText("reason", req->reason(), 500));
    RETURN_IF_ERROR(ValidateRequiredText("witness", req->witness(), 200));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("DiscardStock", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::DiscardStockResponse>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::DiscardStockResponse> {
              ASSIGN_OR_RETURN(absl::TimeZone zone,
                               RequireZone(txn, req->clinic_id(), "clinic_id"));
              v1::DiscardStockResponse response;
              std::map<std::pair<std::string, int>, StockMove> moves;
              if (req->item_case() == v1::DiscardStockRequest::kLotQuantity) {
                ASSIGN_OR_RETURN(v1::Lot lot, LotOfRequest(store_, txn, "lot_quantity.lot_id",
                                                           req->lot_quantity().lot_id()));
                if (lot.serialised()) {
                  return absl::FailedPreconditionError(absl::StrCat(
                      "lot ", lot.lot_number(), " is tracked by unit serial: discard its units"));
                }
                int64_t left = req->lot_quantity().quantity();
                for (v1::StockBucket bucket :
                     {v1::STOCK_BUCKET_AVAILABLE, v1::STOCK_BUCKET_QUARANTINED}) {
                  StockKey k{req->clinic_id(), lot.id(), bucket};
                  ASSIGN_OR_RETURN(int64_t held, store_.Balance(txn, k));
                  const int64_t take = std::min(held, left);
                  if (take > 0) {
                    moves[{lot.id(), bucket}] = StockMove{Leg{k, -take}, lot.product_id(), {}};
                    left -= take;
                  }
                }
                if (left > 0) {
                  return absl::FailedPreconditionError(absl::StrCat(
                      "not enough stock of lot ", lot.lot_number(), " at clinic ", req->clinic_id(),
                      " to discard ", req->lot_quantity().quantity()));
                }
              } else {
                for (const std::string& serial : req->units().serials()) {
                  ASSIGN_OR_RETURN(std::optional<v1::SerialUnit> unit, store_.GetUnit(txn, serial));
                  if (!unit.has_value()) {
                    return absl::NotFoundError(absl::StrCat("unit ", serial, " not found"));
                  }
                  if (unit->clinic_id() != req->clinic_id()) {
                    return absl::FailedPreconditionError(
                        absl::StrCat("unit ", serial, " is held at clinic ", unit->clinic_id(),
                                     ", not at ", req->clinic_id()));
                  }
                  const v1::UnitState before = unit->state();
                  const v1::UnitState after = before == v1::UNIT_STATE_ISSUED
                                                  ? v1::UNIT_STATE_DISPOSED_SHARPS
                                                  : v1::UNIT_STATE_DESTROYED;
                  RETURN_IF_ERROR(CheckUnitTransition(serial, before, after));
                  unit->set_state(after);
                  unit->set_disposal_reason(req->reason());
                  unit->set_disposal_witness(req->witness());
                  RETURN_IF_ERROR(store_.UpdateUnit(txn, *unit, before));
                  if (after == v1::UNIT_STATE_DESTROYED) {
                    const v1::StockBucket bucket = before == v1::UNIT_STATE_QUARANTINED
                                                       ? v1::STOCK_BUCKET_QUARANTINED
                                                       : v1::STOCK_BUCKET_AVAILABLE;
                    StockMove& move = moves[{unit->lot_id(), bucket}];
                    move.leg.key = StockKey{req->clinic_id(), unit->lot_id(), bucket};
                    move.leg.delta -= 1;
                    move.product_id = unit->product_id();
                    move.serials.push_back(serial);
                  }
                  *response.add_units() = *unit;
                }
              }
              std::vector<StockMove> ordered;
              for (auto& [k, move] : moves) ordered.push_back(std::move(move));
              EntryMeta meta;
              meta.kind =
                  req->expired() ? v1::LEDGER_ENTRY_KIND_EXPIRE : v1::LEDGER_ENTRY_KIND_DISCARD;
              meta.staff_id = who.staff_id;
              meta.reason = req->reason();
              meta.witness = req->witness();
              meta.local_day = LocalDay(now, zone);
              ASSIGN_OR_RETURN(auto entries, store_.ApplyMoves(txn, ordered, meta, now));
              for (v1::LedgerEntry& e : entries) *response.add_entries() = std::move(e);
              return response;
            }));
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------- reading

grpc::Status InventoryServiceImpl::ListStock(grpc::ServerContext* ctx,
                                             const v1::ListStockRequest* req,
                                             v1::ListStockResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListStock", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(ValidateOptionalId("product_id", req->product_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    const absl::Time now = deps_.clock->Now();
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(absl::TimeZone zone, RequireZone(txn, req->clinic_id(), "clinic_id"));
      ASSIGN_OR_RETURN(auto levels, store_.ListStock(txn, req->clinic_id(), req->product_id(),
                                                     req->include_empty()));
      for (v1::StockLevel& level : levels) {
        const common::v1::LocalDate& d = level.expiry_date();
        level.set_expired(IsExpiredAt(absl::CivilDay(d.year(), d.month(), d.day()), now, zone));
        *out->add_levels() = std::move(level);
      }
      return absl::OkStatus();
    });
  });
}

grpc::Status InventoryServiceImpl::ListLedgerEntries(grpc::ServerContext* ctx,
                                                     const v1::ListLedgerEntriesRequest* req,
                                                     v1::ListLedgerEntriesResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListLedgerEntries", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(ValidateOptionalId("lot_id", req->lot_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    const std::string query =
        absl::StrCat("ledger?clinic=", req->clinic_id(), "&lot=", req->lot_id());
    ASSIGN_OR_RETURN(PageRequest page,
                     ParsePageRequest(req->page_size(), req->page_token(), query));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Page<v1::LedgerEntry> result,
                       store_.ListLedger(txn, req->clinic_id(), req->lot_id(), page));
      for (v1::LedgerEntry& e : result.items) *out->add_entries() = std::move(e);
      if (!result.last_key.empty()) out->set_next_page_token(MakePageToken(query, result.last_key));
      return absl::OkStatus();
    });
  });
}

grpc::Status InventoryServiceImpl::GetLot(grpc::ServerContext* ctx, const v1::GetLotRequest* req,
                                          v1::Lot* out) {
  return ServeRpc(authorizer_, ctx, "GetLot", [&](const Principal&) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(*out, store_.GetLot(txn, req->id()));
      return absl::OkStatus();
    });
  });
}

grpc::Status InventoryServiceImpl::GetSerialUnit(grpc::ServerContext* ctx,
                                                 const v1::GetSerialUnitRequest* req,
                                                 v1::SerialUnit* out) {
  return ServeRpc(authorizer_, ctx, "GetSerialUnit", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateSerial("serial", req->serial()));
    std::optional<v1::SerialUnit> unit;
    RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(unit, store_.GetUnit(txn, req->serial()));
      return absl::OkStatus();
    }));
    if (!unit.has_value()) {
      return absl::NotFoundError(absl::StrCat("unit ", req->serial(), " not found"));
    }
    RETURN_IF_ERROR(who.CheckClinic(unit->clinic_id()));
    *out = std::move(*unit);
    return absl::OkStatus();
  });
}

grpc::Status InventoryServiceImpl::ListReuseAttempts(grpc::ServerContext* ctx,
                                                     const v1::ListReuseAttemptsRequest* req,
                                                     v1::ListReuseAttemptsResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListReuseAttempts", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    const std::string query = absl::StrCat("reuse?clinic=", req->clinic_id());
    ASSIGN_OR_RETURN(PageRequest page,
                     ParsePageRequest(req->page_size(), req->page_token(), query));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Page<v1::ReuseAttempt> result,
                       store_.ListReuseAttempts(txn, req->clinic_id(), page));
      for (v1::ReuseAttempt& a : result.items) *out->add_attempts() = std::move(a);
      if (!result.last_key.empty()) out->set_next_page_token(MakePageToken(query, result.last_key));
      return absl::OkStatus();
    });
  });
}

// ---------------------------------------------------------------- recalls

grpc::Status InventoryServiceImpl::RecallLot(grpc::ServerContext* ctx,
                                             const v1::RecallLotRequest* req,
                                             v1::RecallLotResponse* out) {
  return ServeRpc(authorizer_, ctx, "RecallLot", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("lot_id", req->lot_id()));
    RETURN_IF_ERROR(ValidateRequiredText("reason", req->reason(), 500));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("RecallLot", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    // A recall is chain-wide whoever starts it (a clinic's inventory staff may act on a maker's
    // notice); the procedures listed back are limited to the caller's clinic scope.
    ASSIGN_OR_RETURN(
        v1::RecallLotResponse response,
        RunIdempotent<v1::RecallLotResponse>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::RecallLotResponse> {
              ASSIGN_OR_RETURN(v1::Lot lot, LotOfRequest(store_, txn, "lot_id", req->lot_id()));
              if (lot.status() == v1::LOT_STATUS_RECALLED) {
                return absl::FailedPreconditionError(
                    absl::StrCat("lot ", lot.lot_number(), " is already recalled"));
              }
              RETURN_IF_ERROR(store_.MarkLotRecalled(txn, lot.id(), req->reason()));
              lot.set_status(v1::LOT_STATUS_RECALLED);
              lot.set_recall_reason(req->reason());
              // Compliance hears of the recall with it (at least once, through the outbox).
              RETURN_IF_ERROR(EnqueueEvent(txn, kComplianceDestination, kRecordLotRecallKind,
                                           LotRecallEvent(lot, now), now)
                                  .status());
              ASSIGN_OR_RETURN(auto units, store_.InStockUnitsOfLot(txn, lot.id()));
              std::map<std::string, std::vector<std::string>> serials_by_clinic;
              for (v1::SerialUnit& unit : units) {
                unit.set_state(v1::UNIT_STATE_QUARANTINED);
                RETURN_IF_ERROR(store_.UpdateUnit(txn, unit, v1::UNIT_STATE_IN_STOCK));
                serials_by_clinic[unit.clinic_id()].push_back(unit.serial());
              }
              // Open bottles of the lot are out of stock but still on the trolley: no longer
              // issuable, they can only be discarded.
              RETURN_IF_ERROR(store_.QuarantineBottlesOfLot(txn, lot.id()).status());
              v1::RecallLotResponse r;
              ASSIGN_OR_RETURN(auto balances, store_.BalancesOfLot(txn, lot.id()));
              for (const auto& [k, qty] : balances) {
                if (k.bucket != v1::STOCK_BUCKET_AVAILABLE) continue;
                ASSIGN_OR_RETURN(absl::TimeZone zone, RequireZone(txn, k.clinic_id, "lot_id"));
                std::vector<StockMove> moves = {
                    StockMove{Leg{k, -qty}, lot.product_id(), serials_by_clinic[k.clinic_id]},
                    StockMove{
                        Leg{StockKey{k.clinic_id, lot.id(), v1::STOCK_BUCKET_QUARANTINED}, qty},
                        lot.product_id(), serials_by_clinic[k.clinic_id]}};
                EntryMeta meta;
                meta.kind = v1::LEDGER_ENTRY_KIND_QUARANTINE;
                meta.staff_id = who.staff_id;
                meta.reason = req->reason();
                meta.local_day = LocalDay(now, zone);
                ASSIGN_OR_RETURN(auto entries, store_.ApplyMoves(txn, moves, meta, now));
                for (v1::LedgerEntry& e : entries) *r.add_quarantined() = std::move(e);
              }
              *r.mutable_lot() = lot;
              ASSIGN_OR_RETURN(auto uses, store_.LotUses(txn, lot.id()));
              for (v1::LotUse& use : uses) *r.add_uses() = std::move(use);
              return r;
            }));
    EventCommitted();
    *out->mutable_lot() = response.lot();
    for (const v1::LedgerEntry& e : response.quarantined()) {
      if (who.CanAccessClinic(e.clinic_id())) *out->add_quarantined() = e;
    }
    for (const v1::LotUse& use : response.uses()) {
      if (who.CanAccessClinic(use.clinic_id())) *out->add_uses() = use;
    }
    return absl::OkStatus();
  });
}

grpc::Status InventoryServiceImpl::ListLotUses(grpc::ServerContext* ctx,
                                               const v1::ListLotUsesRequest* req,
                                               v1::ListLotUsesResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListLotUses", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("lot_id", req->lot_id()));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      RETURN_IF_ERROR(store_.GetLot(txn, req->lot_id()).status());
      ASSIGN_OR_RETURN(auto uses, store_.LotUses(txn, req->lot_id()));
      for (v1::LotUse& use : uses) {
        if (who.CanAccessClinic(use.clinic_id())) *out->add_uses() = std::move(use);
      }
      return absl::OkStatus();
    });
  });
}

// ---------------------------------------------------------------- pigment bottles

grpc::Status InventoryServiceImpl::OpenBottle(grpc::ServerContext* ctx,
                                              const v1::OpenBottleRequest* req,
                                              v1::OpenBottleResponse* out) {
  return ServeRpc(authorizer_, ctx, "OpenBottle", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(ValidateId("lot_id", req->lot_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("OpenBottle", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::OpenBottleResponse>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::OpenBottleResponse> {
              ASSIGN_OR_RETURN(absl::TimeZone zone,
                               RequireZone(txn, req->clinic_id(), "clinic_id"));
              const absl::CivilDay today = LocalDay(now, zone);
              ASSIGN_OR_RETURN(v1::Lot lot, LotOfRequest(store_, txn, "lot_id", req->lot_id()));
              ASSIGN_OR_RETURN(v1::Product product, store_.GetProduct(txn, lot.product_id()));
              if (product.kind() != v1::PRODUCT_KIND_PIGMENT) {
                return absl::InvalidArgumentError(
                    absl::StrCat("lot_id: lot ", lot.lot_number(), " is of product ", product.id(),
                                 ", not a pigment: only pigment bottles are opened"));
              }
              RETURN_IF_ERROR(CheckLotIssuable(ViewOf(lot), today));
              RETURN_IF_ERROR(CheckEnoughHere(store_, txn, req->clinic_id(), lot, 1));
              v1::PigmentBottle bottle;
              bottle.set_id(NewIdAt(now));
              bottle.set_clinic_id(req->clinic_id());
              bottle.set_product_id(product.id());
              bottle.set_lot_id(lot.id());
              *bottle.mutable_open_time() = ToProtoTimestamp(now);
              *bottle.mutable_use_by_date() = ToLocalDate(BottleUseBy(
                  ViewOf(lot).expiry, today, product.pigment().opened_shelf_life_days()));
              bottle.set_state(v1::BOTTLE_STATE_OPEN);
              bottle.set_opened_by(who.staff_id);
              RETURN_IF_ERROR(store_.InsertBottle(txn, bottle));
              StockMove move{
                  Leg{StockKey{req->clinic_id(), lot.id(), v1::STOCK_BUCKET_AVAILABLE}, -1},
                  product.id(),
                  {}};
              EntryMeta meta;
              meta.kind = v1::LEDGER_ENTRY_KIND_OPEN_BOTTLE;
              meta.staff_id = who.staff_id;
              meta.reason = absl::StrCat("opened as bottle ", bottle.id());
              meta.local_day = today;
              ASSIGN_OR_RETURN(auto entries, store_.ApplyMoves(txn, {move}, meta, now));
              v1::OpenBottleResponse response;
              *response.mutable_bottle() = std::move(bottle);
              *response.mutable_entry() = entries.front();
              return response;
            }));
    return absl::OkStatus();
  });
}

grpc::Status InventoryServiceImpl::ListOpenBottles(grpc::ServerContext* ctx,
                                                   const v1::ListOpenBottlesRequest* req,
                                                   v1::ListOpenBottlesResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListOpenBottles", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    const absl::Time now = deps_.clock->Now();
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(absl::TimeZone zone, RequireZone(txn, req->clinic_id(), "clinic_id"));
      const absl::CivilDay today = LocalDay(now, zone);
      ASSIGN_OR_RETURN(auto bottles, store_.UnclosedBottles(txn, req->clinic_id()));
      for (v1::PigmentBottle& bottle : bottles) {
        bottle.set_expired(IsExpired(ViewOf(bottle).use_by, today));
        *out->add_bottles() = std::move(bottle);
      }
      return absl::OkStatus();
    });
  });
}

grpc::Status InventoryServiceImpl::CloseBottle(grpc::ServerContext* ctx,
                                               const v1::CloseBottleRequest* req,
                                               v1::PigmentBottle* out) {
  return ServeRpc(authorizer_, ctx, "CloseBottle", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("bottle_id", req->bottle_id()));
    if (req->state() != v1::BOTTLE_STATE_FINISHED && req->state() != v1::BOTTLE_STATE_DISCARDED) {
      return absl::InvalidArgumentError(
          "state: BOTTLE_STATE_FINISHED or BOTTLE_STATE_DISCARDED required");
    }
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("CloseBottle", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::PigmentBottle>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::PigmentBottle> {
              absl::StatusOr<v1::PigmentBottle> bottle = store_.GetBottle(txn, req->bottle_id());
              if (absl::IsNotFound(bottle.status())) {
                return absl::InvalidArgumentError(
                    absl::StrCat("bottle_id: unknown bottle ", req->bottle_id()));
              }
              RETURN_IF_ERROR(bottle.status());
              RETURN_IF_ERROR(who.CheckClinic(bottle->clinic_id()));
              RETURN_IF_ERROR(CheckBottleTransition(bottle->id(), bottle->state(), req->state()));
              const v1::BottleState before = bottle->state();
              bottle->set_state(req->state());
              *bottle->mutable_close_time() = ToProtoTimestamp(now);
              bottle->set_closed_by(who.staff_id);
              RETURN_IF_ERROR(store_.UpdateBottle(txn, *bottle, before));
              return *std::move(bottle);
            }));
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------- transfers

grpc::Status InventoryServiceImpl::ShipTransfer(grpc::ServerContext* ctx,
                                                const v1::ShipTransferRequest* req,
                                                v1::Transfer* out) {
  return ServeRpc(authorizer_, ctx, "ShipTransfer", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("source_clinic_id", req->source_clinic_id()));
    RETURN_IF_ERROR(ValidateId("destination_clinic_id", req->destination_clinic_id()));
    if (req->source_clinic_id() == req->destination_clinic_id()) {
      return absl::InvalidArgumentError("destination_clinic_id: must differ from the source");
    }
    if (req->lines_size() > kMaxIssueLines) {
      return absl::InvalidArgumentError(absl::StrCat("lines: at most ", kMaxIssueLines));
    }
    std::set<std::string> line_lots;
    for (int i = 0; i < req->lines_size(); ++i) {
      const std::string field = absl::StrCat("lines[", i, "]");
      RETURN_IF_ERROR(ValidateId(field + ".lot_id", req->lines(i).lot_id()));
      RETURN_IF_ERROR(
          ValidateQuantity(field + ".quantity", req->lines(i).quantity(), kMaxLineQuantity));
      if (!line_lots.insert(req->lines(i).lot_id()).second) {
        return absl::InvalidArgumentError(absl::StrCat(field, ".lot_id: listed twice"));
      }
    }
    RETURN_IF_ERROR(ValidateSerials("serials", req->serials(), /*optional=*/true));
    if (req->lines().empty() && req->serials().empty()) {
      return absl::InvalidArgumentError("lines: at least one line or serial is required");
    }
    RETURN_IF_ERROR(who.CheckClinic(req->source_clinic_id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("ShipTransfer", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::Transfer>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Transfer> {
              ASSIGN_OR_RETURN(absl::TimeZone zone,
                               RequireZone(txn, req->source_clinic_id(), "source_clinic_id"));
              RETURN_IF_ERROR(
                  RequireZone(txn, req->destination_clinic_id(), "destination_clinic_id").status());
              const absl::CivilDay today = LocalDay(now, zone);
              std::map<std::string, v1::Lot> lots;
              std::map<std::string, std::pair<int64_t, std::vector<std::string>>> by_lot;
              for (const v1::LotQuantity& line : req->lines()) {
                ASSIGN_OR_RETURN(v1::Lot lot,
                                 LotOfRequest(store_, txn, "lines.lot_id", line.lot_id()));
                if (lot.serialised()) {
                  return absl::FailedPreconditionError(absl::StrCat(
                      "lot ", lot.lot_number(), " is tracked by unit serial: ship its serials"));
                }
                RETURN_IF_ERROR(CheckLotIssuable(ViewOf(lot), today));
                by_lot[lot.id()].first += line.quantity();
                lots[lot.id()] = lot;
              }
              for (const std::string& serial : req->serials()) {
                ASSIGN_OR_RETURN(std::optional<v1::SerialUnit> unit, store_.GetUnit(txn, serial));
                if (!unit.has_value()) {
                  return absl::NotFoundError(absl::StrCat("unit ", serial, " not found"));
                }
                if (unit->clinic_id() != req->source_clinic_id()) {
                  return absl::FailedPreconditionError(
                      absl::StrCat("unit ", serial, " is held at clinic ", unit->clinic_id(),
                                   ", not at ", req->source_clinic_id()));
                }
                RETURN_IF_ERROR(
                    CheckUnitTransition(serial, unit->state(), v1::UNIT_STATE_IN_TRANSIT));
                ASSIGN_OR_RETURN(v1::Lot lot, store_.GetLot(txn, unit->lot_id()));
                RETURN_IF_ERROR(CheckLotIssuable(ViewOf(lot), today));
                unit->set_state(v1::UNIT_STATE_IN_TRANSIT);
                unit->set_clinic_id(req->destination_clinic_id());
                RETURN_IF_ERROR(store_.UpdateUnit(txn, *unit, v1::UNIT_STATE_IN_STOCK));
                by_lot[lot.id()].first += 1;
                by_lot[lot.id()].second.push_back(serial);
                lots[lot.id()] = lot;
              }
              std::vector<StockMove> moves;
              for (const auto& [lot_id, item] : by_lot) {
                RETURN_IF_ERROR(CheckEnoughHere(store_, txn, req->source_clinic_id(), lots[lot_id],
                                                item.first));
                const std::string& product = lots[lot_id].product_id();
                moves.push_back(StockMove{
                    Leg{StockKey{req->source_clinic_id(), lot_id, v1::STOCK_BUCKET_AVAILABLE},
                        -item.first},
                    product, item.second});
                moves.push_back(StockMove{
                    Leg{StockKey{req->destination_clinic_id(), lot_id, v1::STOCK_BUCKET_IN_TRANSIT},
                        item.first},
                    product, item.second});
              }
              v1::Transfer transfer;
              transfer.set_source_clinic_id(req->source_clinic_id());
              transfer.set_destination_clinic_id(req->destination_clinic_id());
              *transfer.mutable_lines() = req->lines();
              *transfer.mutable_serials() = req->serials();
              transfer.set_status(v1::TRANSFER_STATUS_SHIPPED);
              *transfer.mutable_ship_time() = ToProtoTimestamp(now);
              ASSIGN_OR_RETURN(transfer, store_.CreateTransfer(txn, transfer, now));
              EntryMeta meta;
              meta.kind = v1::LEDGER_ENTRY_KIND_TRANSFER_OUT;
              meta.staff_id = who.staff_id;
              meta.transfer_id = transfer.id();
              meta.local_day = today;
              RETURN_IF_ERROR(store_.ApplyMoves(txn, moves, meta, now).status());
              return transfer;
            }));
    return absl::OkStatus();
  });
}

grpc::Status InventoryServiceImpl::ReceiveTransfer(grpc::ServerContext* ctx,
                                                   const v1::ReceiveTransferRequest* req,
                                                   v1::Transfer* out) {
  return ServeRpc(authorizer_, ctx, "ReceiveTransfer", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("id", req->id()));
    ASSIGN_OR_RETURN(int64_t version, VersionFromEtag("etag", req->etag()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("ReceiveTransfer", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::Transfer>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::Transfer> {
              ASSIGN_OR_RETURN(v1::Transfer transfer, store_.GetTransfer(txn, req->id()));
              const std::string& destination = transfer.destination_clinic_id();
              RETURN_IF_ERROR(who.CheckClinic(destination));
              if (transfer.status() != v1::TRANSFER_STATUS_SHIPPED) {
                return absl::FailedPreconditionError(
                    absl::StrCat("transfer ", transfer.id(), " was already received"));
              }
              ASSIGN_OR_RETURN(absl::TimeZone zone, RequireZone(txn, destination, "id"));
              std::map<std::string, std::pair<int64_t, std::vector<std::string>>> by_lot;
              for (const v1::LotQuantity& line : transfer.lines()) {
                by_lot[line.lot_id()].first += line.quantity();
              }
              std::map<std::string, v1::Lot> lots;
              for (const std::string& serial : transfer.serials()) {
                ASSIGN_OR_RETURN(std::optional<v1::SerialUnit> unit, store_.GetUnit(txn, serial));
                if (!unit.has_value()) {
                  return absl::DataLossError(absl::StrCat("shipped unit ", serial, " is missing"));
                }
                if (!lots.contains(unit->lot_id())) {
                  ASSIGN_OR_RETURN(lots[unit->lot_id()], store_.GetLot(txn, unit->lot_id()));
                }
                const bool recalled = lots[unit->lot_id()].status() == v1::LOT_STATUS_RECALLED;
                const v1::UnitState after =
                    recalled ? v1::UNIT_STATE_QUARANTINED : v1::UNIT_STATE_IN_STOCK;
                RETURN_IF_ERROR(CheckUnitTransition(serial, unit->state(), after));
                unit->set_state(after);
                RETURN_IF_ERROR(store_.UpdateUnit(txn, *unit, v1::UNIT_STATE_IN_TRANSIT));
                by_lot[unit->lot_id()].first += 1;
                by_lot[unit->lot_id()].second.push_back(serial);
              }
              std::vector<StockMove> moves;
              for (const auto& [lot_id, item] : by_lot) {
                if (!lots.contains(lot_id)) {
                  ASSIGN_OR_RETURN(lots[lot_id], store_.GetLot(txn, lot_id));
                }
                const v1::Lot& lot = lots[lot_id];
                // A lot recalled while in transit arrives straight into quarantine.
                const v1::StockBucket into = lot.status() == v1::LOT_STATUS_RECALLED
                                                 ? v1::STOCK_BUCKET_QUARANTINED
                                                 : v1::STOCK_BUCKET_AVAILABLE;
                moves.push_back(StockMove{
                    Leg{StockKey{destination, lot_id, v1::STOCK_BUCKET_IN_TRANSIT}, -item.first},
                    lot.product_id(), item.second});
                moves.push_back(StockMove{Leg{StockKey{destination, lot_id, into}, item.first},
                                          lot.product_id(), item.second});
              }
              EntryMeta meta;
              meta.kind = v1::LEDGER_ENTRY_KIND_TRANSFER_IN;
              meta.staff_id = who.staff_id;
              meta.transfer_id = transfer.id();
              meta.local_day = LocalDay(now, zone);
              RETURN_IF_ERROR(store_.ApplyMoves(txn, moves, meta, now).status());
              transfer.set_status(v1::TRANSFER_STATUS_RECEIVED);
              *transfer.mutable_receive_time() = ToProtoTimestamp(now);
              return store_.UpdateTransfer(txn, transfer, version);
            }));
    return absl::OkStatus();
  });
}

grpc::Status InventoryServiceImpl::ListTransfers(grpc::ServerContext* ctx,
                                                 const v1::ListTransfersRequest* req,
                                                 v1::ListTransfersResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListTransfers", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    const std::string query = absl::StrCat("transfers?clinic=", req->clinic_id());
    ASSIGN_OR_RETURN(PageRequest page,
                     ParsePageRequest(req->page_size(), req->page_token(), query));
    return deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(Page<v1::Transfer> result,
                       store_.ListTransfers(txn, req->clinic_id(), page));
      for (v1::Transfer& t : result.items) *out->add_transfers() = std::move(t);
      if (!result.last_key.empty()) out->set_next_page_token(MakePageToken(query, result.last_key));
      return absl::OkStatus();
    });
  });
}

// ---------------------------------------------------------------- reorder points

grpc::Status InventoryServiceImpl::SetReorderPoint(grpc::ServerContext* ctx,
                                                   const v1::SetReorderPointRequest* req,
                                                   v1::ReorderPoint* out) {
  return ServeRpc(authorizer_, ctx, "SetReorderPoint", [&](const Principal& who) -> absl::Status {
    const v1::ReorderPoint& point = req->point();
    RETURN_IF_ERROR(ValidateId("point.clinic_id", point.clinic_id()));
    RETURN_IF_ERROR(ValidateId("point.product_id", point.product_id()));
    if (point.reorder_level() < 0 || point.reorder_level() > 100000) {
      return absl::InvalidArgumentError("point.reorder_level: must be 0..100000");
    }
    if (point.reorder_quantity() < 0 || point.reorder_quantity() > 100000) {
      return absl::InvalidArgumentError("point.reorder_quantity: must be 0..100000");
    }
    RETURN_IF_ERROR(who.CheckClinic(point.clinic_id()));
    ASSIGN_OR_RETURN(IdempotencyKey key,
                     MakeIdempotencyKey("SetReorderPoint", req->request_id(), who.staff_id, *req));
    const absl::Time now = deps_.clock->Now();
    ASSIGN_OR_RETURN(
        *out,
        RunIdempotent<v1::ReorderPoint>(
            *deps_.db, key, now, [&](Transaction& txn) -> absl::StatusOr<v1::ReorderPoint> {
              RETURN_IF_ERROR(RequireZone(txn, point.clinic_id(), "point.clinic_id").status());
              RETURN_IF_ERROR(
                  ProductOfRequest(store_, txn, "point.product_id", point.product_id()).status());
              RETURN_IF_ERROR(store_.PutReorderPoint(txn, point));
              return point;
            }));
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::ListLowStockResponse> InventoryServiceImpl::LowStock(
    const std::string& clinic_id) const {
  const absl::Time now = deps_.clock->Now();
  v1::ListLowStockResponse out;
  RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(absl::TimeZone zone, RequireZone(txn, clinic_id, "clinic_id"));
    const absl::CivilDay today = LocalDay(now, zone);
    ASSIGN_OR_RETURN(auto points, store_.ReorderPoints(txn, clinic_id));
    for (const v1::ReorderPoint& point : points) {
      ASSIGN_OR_RETURN(auto levels, store_.ListStock(txn, clinic_id, point.product_id(), false));
      v1::LowStockItem item;
      *item.mutable_point() = point;
      for (const v1::StockLevel& level : levels) {
        const common::v1::LocalDate& d = level.expiry_date();
        const bool usable = level.lot_status() == v1::LOT_STATUS_ACTIVE &&
                            !IsExpired(absl::CivilDay(d.year(), d.month(), d.day()), today);
        if (!usable) continue;
        item.set_available(item.available() + level.available());
        item.set_in_transit(item.in_transit() + level.in_transit());
      }
      if (item.available() <= point.reorder_level()) *out.add_items() = std::move(item);
    }
    return absl::OkStatus();
  }));
  return out;
}

grpc::Status InventoryServiceImpl::ListLowStock(grpc::ServerContext* ctx,
                                                const v1::ListLowStockRequest* req,
                                                v1::ListLowStockResponse* out) {
  return ServeRpc(authorizer_, ctx, "ListLowStock", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    ASSIGN_OR_RETURN(*out, LowStock(req->clinic_id()));
    return absl::OkStatus();
  });
}

void InventoryServiceImpl::StopWatches() {
  if (!stop_watches_.HasBeenNotified()) stop_watches_.Notify();
}

grpc::Status InventoryServiceImpl::WatchLowStock(
    grpc::ServerContext* ctx, const v1::ListLowStockRequest* req,
    grpc::ServerWriter<v1::ListLowStockResponse>* writer) {
  return ServeRpc(authorizer_, ctx, "WatchLowStock", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    // The list now, then again whenever it differs from the last one sent; the stream ends when
    // the client goes away or the server drains.
    std::string last_sent;
    bool sent = false;
    while (!ctx->IsCancelled() && !stop_watches_.HasBeenNotified()) {
      ASSIGN_OR_RETURN(v1::ListLowStockResponse list, LowStock(req->clinic_id()));
      const std::string bytes = list.SerializeAsString();
      if (!sent || bytes != last_sent) {
        if (!writer->Write(list)) return absl::CancelledError("the watcher went away");
        last_sent = bytes;
        sent = true;
      }
      stop_watches_.WaitForNotificationWithTimeout(deps_.watch_poll_interval);
    }
    return ctx->IsCancelled() ? absl::CancelledError("the watcher went away")
                              : absl::UnavailableError("the server is shutting down; resume later");
  });
}

// ---------------------------------------------------------------- forecast, reconciliation

grpc::Status InventoryServiceImpl::ForecastDemand(grpc::ServerContext* ctx,
                                                  const v1::ForecastDemandRequest* req,
                                                  v1::ForecastDemandResponse* out) {
  return ServeRpc(authorizer_, ctx, "ForecastDemand", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    if (req->weeks() < 1 || req->weeks() > 12) {
      return absl::InvalidArgumentError("weeks: must be 1..12");
    }
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    const absl::Time now = deps_.clock->Now();
    ForecastInput in;
    absl::TimeZone zone;
    RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(zone, RequireZone(txn, req->clinic_id(), "clinic_id"));
      const absl::CivilDay today = LocalDay(now, zone);
      ASSIGN_OR_RETURN(auto usage, store_.UsageSince(txn, req->clinic_id(),
                                                     now - absl::Hours(24 * 7 * kHistoryWeeks)));
      in.history_units = std::move(usage.first);
      in.history_procedures = usage.second;
      ASSIGN_OR_RETURN(auto points, store_.ReorderPoints(txn, req->clinic_id()));
      for (const v1::ReorderPoint& p : points) in.reorder_level[p.product_id()] = p.reorder_level();
      ASSIGN_OR_RETURN(auto levels, store_.ListStock(txn, req->clinic_id(), "", false));
      for (const v1::StockLevel& level : levels) {
        const common::v1::LocalDate& d = level.expiry_date();
        if (level.lot_status() != v1::LOT_STATUS_ACTIVE ||
            IsExpired(absl::CivilDay(d.year(), d.month(), d.day()), today)) {
          continue;
        }
        in.on_hand[level.product_id()] += level.available() + level.in_transit();
      }
      return absl::OkStatus();
    }));
    ASSIGN_OR_RETURN(std::vector<ProcedureAppointment> booked,
                     deps_.appointments->ListProcedures(req->clinic_id(), now,
                                                        now + absl::Hours(24 * 7 * req->weeks())));
    namespace sv1 = ::smp::scheduling::v1;
    for (const ProcedureAppointment& a : booked) {
      if (a.start >= now &&
          (a.status == sv1::PROPOSED || a.status == sv1::BOOKED || a.status == sv1::ARRIVED)) {
        ++in.upcoming_procedures;
      }
    }
    out->set_booked_sessions(in.upcoming_procedures);
    out->set_history_procedures(in.history_procedures);
    for (v1::ProductDemand& d : smp::inventory::ForecastDemand(in))
      *out->add_demands() = std::move(d);
    return absl::OkStatus();
  });
}

grpc::Status InventoryServiceImpl::ReconcileDay(grpc::ServerContext* ctx,
                                                const v1::ReconcileDayRequest* req,
                                                v1::ReconcileDayResponse* out) {
  return ServeRpc(authorizer_, ctx, "ReconcileDay", [&](const Principal& who) -> absl::Status {
    RETURN_IF_ERROR(ValidateId("clinic_id", req->clinic_id()));
    ASSIGN_OR_RETURN(absl::CivilDay day, DayFromProto("date", req->date()));
    RETURN_IF_ERROR(who.CheckClinic(req->clinic_id()));
    absl::TimeZone zone;
    std::map<std::string, int64_t> needles;
    RETURN_IF_ERROR(deps_.db->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
      ASSIGN_OR_RETURN(zone, RequireZone(txn, req->clinic_id(), "clinic_id"));
      ASSIGN_OR_RETURN(needles, store_.NeedleUnitsIssuedOn(txn, req->clinic_id(), day));
      return absl::OkStatus();
    }));
    ASSIGN_OR_RETURN(
        std::vector<ProcedureAppointment> procedures,
        deps_.appointments->ListProcedures(req->clinic_id(), absl::FromCivil(day, zone),
                                           absl::FromCivil(day + 1, zone)));
    std::set<std::string> performed;
    namespace sv1 = ::smp::scheduling::v1;
    for (const ProcedureAppointment& a : procedures) {
      if (a.status == sv1::IN_PROGRESS || a.status == sv1::FULFILLED) {
        performed.insert(a.appointment_id);
      }
    }
    int64_t issued = 0;
    for (const auto& [id, units] : needles) issued += units;
    out->set_needle_units_issued(issued);
    out->set_procedures_recorded(static_cast<int64_t>(performed.size()));
    for (v1::ReconciliationFinding& f : Reconcile(needles, performed)) {
      *out->add_findings() = std::move(f);
    }
    return absl::OkStatus();
  });
}

}  // namespace smp::inventory
