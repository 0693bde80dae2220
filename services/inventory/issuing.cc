#include "services/inventory/issuing.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/db/idempotency.h"
#include "common/outbox/outbox.h"
#include "common/status/error_details.h"
#include "common/status/status_macros.h"
#include "common/util/crypto.h"
#include "common/util/ids.h"
#include "common/util/local_date.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/inventory/compliance_deliverer.h"
#include "services/inventory/compliance_events.h"
#include "services/inventory/inventory_reasons.h"
#include "services/inventory/lookups.h"
#include "services/inventory/lot_holds.h"
#include "services/inventory/stock_rules.h"

namespace smp::inventory {
namespace {

// The request validated, with its serials in canonical form (what is looked up, stored and
// compared on a replay).
absl::StatusOr<v1::IssueToProcedureRequest> CanonicalIssue(v1::IssueToProcedureRequest req) {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(ValidateId("appointment_id", req.appointment_id()));
  RETURN_IF_ERROR(ValidateOptionalId("patient_id", req.patient_id()));
  RETURN_IF_ERROR(ValidateOptionalId("start_attempt_id", req.start_attempt_id()));
  if (req.lines().empty() || req.lines_size() > kMaxIssueLines) {
    return absl::InvalidArgumentError(absl::StrCat("lines: 1..", kMaxIssueLines, " required"));
  }
  std::set<std::string> serials;
  std::set<std::string> bottles;
  for (int i = 0; i < req.lines_size(); ++i) {
    v1::IssueLine& line = *req.mutable_lines(i);
    const std::string field = absl::StrCat("lines[", i, "]");
    if (line.item_case() != v1::IssueLine::kSerial && !line.product_id().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".product_id: only a serial line names a product"));
    }
    switch (line.item_case()) {
      case v1::IssueLine::kSerial: {
        ASSIGN_OR_RETURN(std::string serial, ValidateSerial(field + ".serial", line.serial()));
        RETURN_IF_ERROR(ValidateOptionalId(field + ".product_id", line.product_id()));
        if (!serials.insert(serial).second) {
          return absl::InvalidArgumentError(
              absl::StrCat(field, ".serial: ", serial, " is listed twice"));
        }
        line.set_serial(std::move(serial));
        break;
      }
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
  return req;
}

// What a start issue is compared on when repeated: everything but the request_id (the caller is
// not part of it: any technician may retry the start).
std::string StartFingerprint(v1::IssueToProcedureRequest req) {
  req.clear_request_id();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    req.SerializeToCodedStream(&coded);
  }
  return Sha256Hex(bytes);
}

// "serial SN-1, 4 x lot G-1, bottle B" for a refusal that must say what a start already drew.
std::string DescribeIssued(const v1::IssueToProcedureResponse& issued) {
  std::vector<std::string> parts;
  for (const v1::IssuedItem& item : issued.items()) {
    if (!item.serial().empty()) {
      parts.push_back(absl::StrCat("serial ", item.serial(), " (lot ", item.lot_number(), ")"));
    } else if (!item.bottle_id().empty()) {
      parts.push_back(absl::StrCat("bottle ", item.bottle_id(), " (lot ", item.lot_number(), ")"));
    } else {
      parts.push_back(absl::StrCat(item.quantity(), " x lot ", item.lot_number()));
    }
  }
  return parts.empty() ? "nothing" : absl::StrJoin(parts, ", ");
}

absl::Status AlreadyIssued(const StartIssue& held, absl::string_view why) {
  return WithErrorInfo(
      absl::FailedPreconditionError(absl::StrCat(
          "appointment ", held.appointment_id, " already has its supplies issued by ", why, ": ",
          DescribeIssued(held.response),
          "; a start draws its supplies once (they are returned if that start fails)")),
      kSuppliesAlreadyIssuedReason,
      {{"appointment_id", held.appointment_id}, {"start_attempt_id", held.start_attempt_id}});
}

// What a refused issue leaves behind once its transaction has rolled back.
struct Refusal {
  std::vector<v1::ReuseAttempt> attempts;  // a used unit presented again
  // The incident compliance must hear of (a used, expired or recalled unit).
  std::optional<compliance::v1::ReportIncidentRequest> incident;
};

// One attempt at an issue inside its write transaction: resolves each line, collects the stock
// moves and the issued items, and notes in `refusal` what must outlive a refusal.
class IssueRun {
 public:
  IssueRun(const InventoryStore& store, Transaction& txn, const Call& call,
           const v1::IssueToProcedureRequest& req, Refusal& refusal)
      : store_(store), txn_(txn), call_(call), req_(req), refusal_(refusal) {}

  absl::StatusOr<v1::IssueToProcedureResponse> Run() {
    ASSIGN_OR_RETURN(absl::TimeZone zone, RequireZone(store_, txn_, req_.clinic_id(), "clinic_id"));
    // The procedure takes place today in the clinic's calendar.
    today_ = LocalDay(call_.now, zone);
    for (int i = 0; i < req_.lines_size(); ++i) {
      const v1::IssueLine& line = req_.lines(i);
      const std::string field = absl::StrCat("lines[", i, "]");
      switch (line.item_case()) {
        case v1::IssueLine::kSerial:
          RETURN_IF_ERROR(IssueSerial(field, line));
          break;
        case v1::IssueLine::kBottleId:
          RETURN_IF_ERROR(IssueFromBottle(field + ".bottle_id", line.bottle_id()));
          break;
        default:
          RETURN_IF_ERROR(IssueLotQuantity(field + ".lot_id", line.lot_quantity()));
      }
    }
    return Book();
  }

 private:
  // Notes the refusal compliance must hear of and returns it.
  absl::Status Refuse(RefusalKind kind, absl::Status why) {
    refusal_.incident = RefusedUnitIncident(kind, req_.clinic_id(), req_.appointment_id(),
                                            req_.patient_id(), why.message(), call_.now);
    return why;
  }

  // The lot named by `field`, refused (and reported) when recalled or expired today.
  absl::StatusOr<v1::Lot> IssuableLot(const std::string& id, absl::string_view field) {
    auto it = lots_.find(id);
    if (it != lots_.end()) return it->second;
    ASSIGN_OR_RETURN(v1::Lot lot, LotOfRequest(store_, txn_, field, id));
    if (absl::Status issuable = CheckLotIssuable(ViewOf(lot), today_); !issuable.ok()) {
      return Refuse(
          lot.status() == v1::LOT_STATUS_RECALLED ? RefusalKind::kRecalled : RefusalKind::kExpired,
          issuable);
    }
    // A clinic's reversible hold (lot_holds.h): not a refused unit, so nothing to report.
    RETURN_IF_ERROR(CheckLotNotHeld(store_, txn_, req_.clinic_id(), lot.id()));
    lots_[id] = lot;
    return lot;
  }

  // A new issued item of `lot` in the response, in the terms of the procedure record.
  absl::StatusOr<v1::IssuedItem*> AddItem(const v1::Lot& lot) {
    auto it = products_.find(lot.product_id());
    if (it == products_.end()) {
      ASSIGN_OR_RETURN(v1::Product product, store_.GetProduct(txn_, lot.product_id()));
      it = products_.emplace(lot.product_id(), std::move(product)).first;
    }
    v1::IssuedItem* item = response_.add_items();
    *item = IssuedItemFor(it->second, lot);
    return item;
  }

  void DrawFrom(const v1::Lot& lot, int64_t quantity, const std::string* serial) {
    StockMove& move = moves_[lot.id()];
    move.leg.key = StockKey{req_.clinic_id(), lot.id(), v1::STOCK_BUCKET_AVAILABLE};
    move.leg.delta -= quantity;
    move.product_id = lot.product_id();
    if (serial != nullptr) move.serials.push_back(*serial);
  }

  // The order of the checks matters: a spent unit is a reuse attempt wherever it is held, so it is
  // recognised before the clinic and transit checks that would otherwise hide it.
  absl::Status IssueSerial(const std::string& line_field, const v1::IssueLine& line) {
    const std::string& serial = line.serial();  // canonical
    const std::string field = line_field + ".serial";
    ASSIGN_OR_RETURN(
        std::optional<v1::SerialUnit> unit,
        UnitOfRequest(store_, txn_, line_field + ".product_id", serial, line.product_id()));
    if (!unit.has_value()) {
      return absl::NotFoundError(absl::StrCat(field, ": unit ", serial, " not found"));
    }
    if (IsSpent(unit->state())) return RefuseReuse(*unit);
    if (unit->clinic_id() != req_.clinic_id()) {
      return absl::FailedPreconditionError(absl::StrCat("unit ", serial, " is held at clinic ",
                                                        unit->clinic_id(), ", not at ",
                                                        req_.clinic_id()));
    }
    if (unit->state() == v1::UNIT_STATE_IN_TRANSIT) {
      return absl::FailedPreconditionError(
          absl::StrCat("unit ", serial, " is in transit to clinic ", unit->clinic_id(),
                       ": receive the transfer first"));
    }
    if (unit->state() == v1::UNIT_STATE_QUARANTINED) {
      return Refuse(
          RefusalKind::kRecalled,
          WithErrorInfo(absl::FailedPreconditionError(
                            absl::StrCat("unit ", serial, " is quarantined: its lot is recalled")),
                        reason::kRecalled, {{"serial", serial}, {"lot_id", unit->lot_id()}}));
    }
    ASSIGN_OR_RETURN(v1::Lot lot, IssuableLot(unit->lot_id(), field));
    RETURN_IF_ERROR(CheckUnitTransition(serial, unit->state(), v1::UNIT_STATE_ISSUED));
    const v1::UnitState before = unit->state();
    unit->set_state(v1::UNIT_STATE_ISSUED);
    unit->set_appointment_id(req_.appointment_id());
    *unit->mutable_issue_time() = ToProtoTimestamp(call_.now);
    RETURN_IF_ERROR(store_.UpdateUnit(txn_, *unit, before));
    DrawFrom(lot, 1, &serial);
    ASSIGN_OR_RETURN(v1::IssuedItem * item, AddItem(lot));
    item->set_serial(serial);
    item->set_quantity(1);
    return absl::OkStatus();
  }

  // A spent unit presented again: recorded as a reuse attempt and reported. The first procedure is
  // named only to a caller who may see the clinic that used the unit.
  absl::Status RefuseReuse(const v1::SerialUnit& unit) {
    v1::ReuseAttempt a;
    a.set_id(NewIdAt(call_.now));
    a.set_serial(unit.serial());
    a.set_clinic_id(req_.clinic_id());
    a.set_appointment_id(req_.appointment_id());
    // The attempt is listed to clinic `req_.clinic_id()`: it names the first procedure only when
    // that procedure was at the same clinic (another clinic's appointment ids stay there).
    if (unit.clinic_id() == req_.clinic_id()) a.set_first_appointment_id(unit.appointment_id());
    a.set_unit_state(unit.state());
    a.set_staff_id(call_.who.staff_id);
    *a.mutable_attempt_time() = ToProtoTimestamp(call_.now);
    refusal_.attempts.push_back(std::move(a));
    const bool may_see_first =
        !unit.appointment_id().empty() && call_.who.CanAccessClinic(unit.clinic_id());
    return Refuse(
        RefusalKind::kReuse,
        WithErrorInfo(
            absl::FailedPreconditionError(absl::StrCat(
                "unit ", unit.serial(), " was already ",
                unit.state() == v1::UNIT_STATE_DESTROYED ? "destroyed" : "issued",
                may_see_first ? absl::StrCat(" (to procedure ", unit.appointment_id(), ")")
                              : std::string(),
                ": needles are single use; the attempt is recorded")),
            reason::kUnitAlreadyUsed, {{"serial", unit.serial()}}));
  }

  absl::Status IssueFromBottle(const std::string& field, const std::string& bottle_id) {
    absl::StatusOr<v1::PigmentBottle> bottle = store_.GetBottle(txn_, bottle_id);
    if (absl::IsNotFound(bottle.status())) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": unknown bottle ", bottle_id));
    }
    RETURN_IF_ERROR(bottle.status());
    if (absl::Status issuable = CheckBottleIssuable(ViewOf(*bottle), req_.clinic_id(), today_);
        !issuable.ok()) {
      if (bottle->state() == v1::BOTTLE_STATE_QUARANTINED) {
        return Refuse(RefusalKind::kRecalled, issuable);
      }
      if (bottle->state() == v1::BOTTLE_STATE_OPEN && bottle->clinic_id() == req_.clinic_id()) {
        return Refuse(RefusalKind::kExpired, issuable);  // past its use-by date
      }
      return issuable;
    }
    ASSIGN_OR_RETURN(v1::Lot lot, IssuableLot(bottle->lot_id(), field));
    ASSIGN_OR_RETURN(v1::IssuedItem * item, AddItem(lot));
    *item->mutable_expiry_date() = bottle->use_by_date();
    item->set_bottle_id(bottle->id());
    used_bottles_.push_back(*std::move(bottle));  // already out of stock since it was opened
    return absl::OkStatus();
  }

  absl::Status IssueLotQuantity(const std::string& field, const v1::LotQuantity& lq) {
    ASSIGN_OR_RETURN(v1::Lot lot, IssuableLot(lq.lot_id(), field));
    if (lot.serialised()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "lot ", lot.lot_number(), " is tracked by unit serial: issue its units by serial"));
    }
    DrawFrom(lot, lq.quantity(), nullptr);
    ASSIGN_OR_RETURN(v1::IssuedItem * item, AddItem(lot));
    item->set_quantity(lq.quantity());
    return absl::OkStatus();
  }

  // Books the collected moves and bottle uses against the procedure.
  absl::StatusOr<v1::IssueToProcedureResponse> Book() {
    std::vector<StockMove> ordered;
    for (auto& [lot_id, move] : moves_) {
      RETURN_IF_ERROR(
          CheckEnoughHere(store_, txn_, req_.clinic_id(), lots_[lot_id], -move.leg.delta));
      ordered.push_back(std::move(move));
    }
    EntryMeta meta;
    meta.kind = v1::LEDGER_ENTRY_KIND_ISSUE;
    meta.staff_id = call_.who.staff_id;
    meta.appointment_id = req_.appointment_id();
    meta.patient_id = req_.patient_id();
    meta.local_day = today_;
    if (!ordered.empty()) {
      ASSIGN_OR_RETURN(auto entries, store_.ApplyMoves(txn_, ordered, meta, call_.now));
      for (v1::LedgerEntry& e : entries) *response_.add_entries() = std::move(e);
    }
    for (v1::PigmentBottle& bottle : used_bottles_) {
      RETURN_IF_ERROR(store_.RecordBottleUse(txn_, bottle, meta, call_.now));
      *response_.add_bottles() = std::move(bottle);
    }
    return std::move(response_);
  }

  const InventoryStore& store_;
  Transaction& txn_;
  const Call& call_;
  const v1::IssueToProcedureRequest& req_;
  Refusal& refusal_;
  absl::CivilDay today_;
  v1::IssueToProcedureResponse response_;
  absl::flat_hash_map<std::string, v1::Product> products_;
  std::map<std::string, v1::Lot> lots_;
  std::map<std::string, StockMove> moves_;  // by lot id
  std::vector<v1::PigmentBottle> used_bottles_;
};

}  // namespace

absl::StatusOr<v1::IssueToProcedureResponse> Issuing::Issue(
    const Call& call, const v1::IssueToProcedureRequest& request) const {
  return AwaitAnswer<v1::IssueToProcedureResponse>(
      [&](Answer<v1::IssueToProcedureResponse> answer) {
        IssueAsync(call, request, std::move(answer));
      });
}

// An issue on its way through the writer thread (Issuing::IssueAsync).
struct PendingIssue {
  Call call;
  v1::IssueToProcedureRequest req;
  Refusal refusal;
};

void Issuing::IssueAsync(const Call& call, const v1::IssueToProcedureRequest& request,
                         Answer<v1::IssueToProcedureResponse> answer) const {
  absl::StatusOr<v1::IssueToProcedureRequest> req = PlacedIssue(call, request);
  if (!req.ok()) return std::move(answer)(req.status());
  auto pending = std::make_shared<PendingIssue>(PendingIssue{call, *std::move(req), {}});
  auto run = [this, pending](Transaction& txn) -> absl::StatusOr<v1::IssueToProcedureResponse> {
    pending->refusal = Refusal{};  // a retried transaction starts over
    return IssueRun(store_, txn, pending->call, pending->req, pending->refusal).Run();
  };
  if (!pending->req.start_attempt_id().empty()) {
    // A start's issue (scheduling's StartAppointment, seldom): on this thread.
    absl::StatusOr<v1::IssueToProcedureResponse> result =
        IssueForStart(pending->call, pending->req, run);
    return AnswerIssue(pending, std::move(result), std::move(answer));
  }
  absl::StatusOr<IdempotencyKey> key = IdempotencyKeyOf(call, pending->req);
  if (!key.ok()) return std::move(answer)(key.status());
  RunIdempotentAsync<v1::IssueToProcedureResponse>(
      *db_, *std::move(key), call.now, ProcedureStockQueue(pending->req.clinic_id()), run,
      [this, pending,
       answer = std::move(answer)](absl::StatusOr<v1::IssueToProcedureResponse> result) mutable {
        AnswerIssue(pending, std::move(result), std::move(answer));
      });
}

absl::StatusOr<v1::IssueToProcedureRequest> Issuing::PlacedIssue(
    const Call& call, const v1::IssueToProcedureRequest& request) const {
  ASSIGN_OR_RETURN(v1::IssueToProcedureRequest req, CanonicalIssue(request));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  // The appointment's clinic is scheduling's to say, not the request's: an issue booked against
  // another clinic's appointment would put its ids into this clinic's ledger and reuse records.
  ASSIGN_OR_RETURN(AppointmentPlace appointment,
                   appointments_->PlaceAppointment(req.appointment_id()));
  if (appointment.clinic_id != req.clinic_id()) {
    RETURN_IF_ERROR(call.who.CheckClinic(appointment.clinic_id));
    return absl::InvalidArgumentError(absl::StrCat("clinic_id: appointment ", req.appointment_id(),
                                                   " is at clinic ", appointment.clinic_id,
                                                   ", not at ", req.clinic_id()));
  }
  if (req.patient_id().empty()) {
    req.set_patient_id(appointment.patient_id);
  } else if (req.patient_id() != appointment.patient_id) {
    return absl::InvalidArgumentError(absl::StrCat("patient_id: appointment ", req.appointment_id(),
                                                   " is not of patient ", req.patient_id()));
  }
  return req;
}

void Issuing::AnswerIssue(const std::shared_ptr<PendingIssue>& pending,
                          absl::StatusOr<v1::IssueToProcedureResponse> result,
                          Answer<v1::IssueToProcedureResponse> answer) const {
  const Refusal& refusal = pending->refusal;
  if (result.ok() || (refusal.attempts.empty() && !refusal.incident.has_value())) {
    return std::move(answer)(std::move(result));
  }
  // The refused issue rolled back; the attempt itself is kept, and compliance's incident queued,
  // durably, before the caller hears of the refusal.
  db_->RunAsync(
      TxMode::kWrite, WriteQueue{},
      [this, pending](Transaction& txn) -> absl::Status {
        for (const v1::ReuseAttempt& a : pending->refusal.attempts) {
          RETURN_IF_ERROR(store_.RecordReuseAttempt(txn, a));
        }
        if (pending->refusal.incident.has_value()) {
          RETURN_IF_ERROR(EnqueueEvent(txn, kComplianceDestination, kReportIncidentKind,
                                       *pending->refusal.incident, pending->call.now)
                              .status());
        }
        return absl::OkStatus();
      },
      [this, pending, result = std::move(result),
       answer = std::move(answer)](absl::Status recorded) mutable {
        if (!recorded.ok()) return std::move(answer)(std::move(recorded));
        if (pending->refusal.incident.has_value() && on_event_committed_) on_event_committed_();
        std::move(answer)(std::move(result));
      });
}

absl::StatusOr<v1::IssueToProcedureResponse> Issuing::IssueForStart(
    const Call& call, const v1::IssueToProcedureRequest& req,
    absl::FunctionRef<absl::StatusOr<v1::IssueToProcedureResponse>(Transaction&)> run) const {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  const std::string fingerprint = StartFingerprint(req);
  v1::IssueToProcedureResponse out;
  const WriteQueue queue = ProcedureStockQueue(req.clinic_id());
  RETURN_IF_ERROR(db_->Run(TxMode::kWrite, queue, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<StartIssue> mine,
                     store_.GetStartIssue(txn, req.appointment_id(), req.start_attempt_id()));
    if (mine.has_value()) {
      if (mine->state == StartIssue::State::kReturned) {
        return WithErrorInfo(absl::FailedPreconditionError(absl::StrCat(
                                 "start attempt ", req.start_attempt_id(), " of appointment ",
                                 req.appointment_id(), " failed and its supplies were returned (",
                                 mine->return_reason, "): start the appointment again")),
                             kStartIssueReturnedReason,
                             {{"appointment_id", req.appointment_id()},
                              {"start_attempt_id", req.start_attempt_id()}});
      }
      // The same start again, whoever retries it: the first issue, nothing more drawn.
      if (mine->fingerprint == fingerprint) {
        out = std::move(mine->response);
        return absl::OkStatus();
      }
      return AlreadyIssued(*mine, "this start with other lines");
    }
    ASSIGN_OR_RETURN(std::optional<StartIssue> other,
                     store_.ActiveStartIssue(txn, req.appointment_id()));
    if (other.has_value()) return AlreadyIssued(*other, "another start attempt");
    ASSIGN_OR_RETURN(out, run(txn));
    StartIssue issue;
    issue.appointment_id = req.appointment_id();
    issue.start_attempt_id = req.start_attempt_id();
    issue.clinic_id = req.clinic_id();
    issue.fingerprint = fingerprint;
    issue.response = out;
    issue.staff_id = call.who.staff_id;
    issue.create_time = call.now;
    return store_.InsertStartIssue(txn, issue);
  }));
  return out;
}

absl::StatusOr<v1::ReturnProcedureIssueResponse> Issuing::Return(
    const Call& call, const v1::ReturnProcedureIssueRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(ValidateId("appointment_id", req.appointment_id()));
  RETURN_IF_ERROR(ValidateId("start_attempt_id", req.start_attempt_id()));
  RETURN_IF_ERROR(ValidateRequiredText("reason", req.reason(), 500));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  return RunIdempotent<v1::ReturnProcedureIssueResponse>(
      *db_, call, req, ProcedureStockQueue(req.clinic_id()),
      [&](Transaction& txn) -> absl::StatusOr<v1::ReturnProcedureIssueResponse> {
        v1::ReturnProcedureIssueResponse out;
        ASSIGN_OR_RETURN(absl::TimeZone zone,
                         RequireZone(store_, txn, req.clinic_id(), "clinic_id"));
        ASSIGN_OR_RETURN(std::optional<StartIssue> issue,
                         store_.GetStartIssue(txn, req.appointment_id(), req.start_attempt_id()));
        if (!issue.has_value()) {
          // The start failed before its issue arrived (or the issue never will): void the
          // attempt, so that an issue of it arriving late draws nothing.
          StartIssue void_issue;
          void_issue.appointment_id = req.appointment_id();
          void_issue.start_attempt_id = req.start_attempt_id();
          void_issue.clinic_id = req.clinic_id();
          void_issue.state = StartIssue::State::kReturned;
          void_issue.staff_id = call.who.staff_id;
          void_issue.create_time = call.now;
          void_issue.return_reason = req.reason();
          RETURN_IF_ERROR(store_.InsertStartIssue(txn, void_issue));
          return out;
        }
        if (issue->clinic_id != req.clinic_id()) {
          return absl::InvalidArgumentError(
              absl::StrCat("clinic_id: the start issue of appointment ", req.appointment_id(),
                           " was made at clinic ", issue->clinic_id));
        }
        if (issue->state == StartIssue::State::kReturned) return out;  // returned already
        std::map<std::pair<std::string, int>, StockMove> moves;        // by (lot, bucket)
        std::string patient_id;
        for (const v1::LedgerEntry& drawn : issue->response.entries()) {
          patient_id = drawn.patient_id();
          ASSIGN_OR_RETURN(v1::Lot lot, store_.GetLot(txn, drawn.lot_id()));
          const bool recalled = lot.status() == v1::LOT_STATUS_RECALLED;
          const v1::StockBucket bucket =
              recalled ? v1::STOCK_BUCKET_QUARANTINED : v1::STOCK_BUCKET_AVAILABLE;
          StockMove& move = moves[{lot.id(), bucket}];
          move.leg.key = StockKey{req.clinic_id(), lot.id(), bucket};
          move.product_id = lot.product_id();
          if (drawn.serials().empty()) {
            move.leg.delta += -drawn.quantity_delta();
            continue;
          }
          for (const std::string& serial : drawn.serials()) {
            ASSIGN_OR_RETURN(std::vector<v1::SerialUnit> units,
                             store_.FindUnits(txn, serial, lot.product_id()));
            // Only a unit still issued to this procedure goes back; one disposed of since was
            // used after all and stays out.
            if (units.size() != 1 || units[0].state() != v1::UNIT_STATE_ISSUED ||
                units[0].appointment_id() != req.appointment_id()) {
              continue;
            }
            v1::SerialUnit& unit = units[0];
            unit.set_state(recalled ? v1::UNIT_STATE_QUARANTINED : v1::UNIT_STATE_IN_STOCK);
            unit.clear_appointment_id();
            unit.clear_issue_time();
            RETURN_IF_ERROR(store_.UpdateUnit(txn, unit, v1::UNIT_STATE_ISSUED));
            move.leg.delta += 1;
            move.serials.push_back(serial);
            out.add_serials(serial);
          }
        }
        std::vector<StockMove> ordered;
        for (auto& [key, move] : moves) {
          if (move.leg.delta != 0) ordered.push_back(std::move(move));
        }
        EntryMeta meta;
        meta.kind = v1::LEDGER_ENTRY_KIND_RETURN;
        meta.staff_id = call.who.staff_id;
        meta.appointment_id = req.appointment_id();
        meta.patient_id = patient_id;
        meta.reason = req.reason();
        meta.local_day = LocalDay(call.now, zone);
        if (!ordered.empty()) {
          ASSIGN_OR_RETURN(auto entries, store_.ApplyMoves(txn, ordered, meta, call.now));
          for (v1::LedgerEntry& e : entries) *out.add_entries() = std::move(e);
        }
        RETURN_IF_ERROR(store_.MarkStartIssueReturned(
            txn, req.appointment_id(), req.start_attempt_id(), req.reason(), call.now));
        return out;
      });
}

absl::StatusOr<v1::SuggestLotsResponse> Issuing::Suggest(const Call& call,
                                                         const v1::SuggestLotsRequest& req) const {
  RETURN_IF_ERROR(ValidateId("clinic_id", req.clinic_id()));
  RETURN_IF_ERROR(ValidateId("product_id", req.product_id()));
  RETURN_IF_ERROR(ValidateQuantity("quantity", req.quantity(), kMaxLineQuantity));
  ASSIGN_OR_RETURN(absl::CivilDay procedure_day,
                   ParseLocalDate("procedure_date", req.procedure_date()));
  RETURN_IF_ERROR(call.who.CheckClinic(req.clinic_id()));
  v1::SuggestLotsResponse out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(absl::TimeZone zone, RequireZone(store_, txn, req.clinic_id(), "clinic_id"));
    const absl::CivilDay today = LocalDay(call.now, zone);
    if (procedure_day < today) {
      return absl::InvalidArgumentError(absl::StrCat("procedure_date: ", DayText(procedure_day),
                                                     " is before today (", DayText(today), ")"));
    }
    ASSIGN_OR_RETURN(v1::Product product,
                     ProductOfRequest(store_, txn, "product_id", req.product_id()));
    ASSIGN_OR_RETURN(std::vector<LotCandidate> candidates,
                     store_.AvailableLots(txn, req.clinic_id(), product.id()));
    for (const Draw& draw : SuggestFefo(candidates, today, procedure_day, req.quantity())) {
      v1::LotSuggestion* s = out.add_suggestions();
      ASSIGN_OR_RETURN(*s->mutable_lot(), store_.GetLot(txn, draw.lot_id));
      s->set_quantity(draw.quantity);
      if (s->lot().serialised()) {
        ASSIGN_OR_RETURN(auto serials,
                         store_.InStockSerials(txn, req.clinic_id(), draw.lot_id, draw.quantity));
        for (std::string& serial : serials) s->add_serials(std::move(serial));
      }
      out.set_quantity_covered(out.quantity_covered() + draw.quantity);
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace smp::inventory
