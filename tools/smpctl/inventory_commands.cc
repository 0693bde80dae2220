// Inventory: products, receiving, issuing, adjustments, discards, stock levels and the ledger,
// recalls, transfers, pigment bottles, reconciliation, reorder points and the forecast.

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/smpctl/command_helpers.h"
#include "tools/smpctl/commands.h"
#include "tools/smpctl/supplies.h"

namespace smp::smpctl {
namespace {

namespace nv1 = ::smp::inventory::v1;
using Stub = nv1::InventoryService::Stub;

#define RPC(method, req) \
  inv.client().Call(Service::kInventory, inv.client().inventory(), &Stub::method, #method, req)

// Product names for tables (best effort: the id when a product cannot be read).
std::map<std::string, std::string> ProductNames(Invocation& inv, const std::set<std::string>& ids) {
  std::map<std::string, std::string> names;
  for (const std::string& id : ids) {
    nv1::GetProductRequest req;
    req.set_id(id);
    absl::StatusOr<nv1::Product> p = RPC(GetProduct, req);
    names[id] = p.ok() ? p->name() : id;
  }
  return names;
}

// ---- settings

absl::Status SettingsGet(Invocation& inv) {
  nv1::GetClinicInventorySettingsRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  ASSIGN_OR_RETURN(nv1::ClinicInventorySettings out, RPC(GetClinicInventorySettings, req));
  Show(inv, out, [&] {
    inv.out().Print(
        Fields{{"clinic", out.clinic_id()}, {"time zone", out.time_zone()}, {"etag", out.etag()}});
  });
  return absl::OkStatus();
}

absl::Status SettingsSet(Invocation& inv) {
  absl::TimeZone zone;
  if (inv.Has("time_zone") && !absl::LoadTimeZone(inv.Get("time_zone"), &zone)) {
    return UsageError(
        absl::StrCat("--time_zone: unknown IANA time zone \"", inv.Get("time_zone"), "\""));
  }
  nv1::UpdateClinicInventorySettingsRequest req;
  req.set_request_id(inv.client().NewRequestId());
  nv1::ClinicInventorySettings& s = *req.mutable_settings();
  s.set_clinic_id(inv.Get("clinic"));
  if (inv.Has("time_zone")) {
    s.set_time_zone(inv.Get("time_zone"));
  } else {
    ASSIGN_OR_RETURN(zone, inv.client().ClinicZone(s.clinic_id()));  // identity's record
    s.set_time_zone(zone.name());
  }
  if (inv.Has("etag")) {
    s.set_etag(inv.Get("etag"));
  } else {
    nv1::GetClinicInventorySettingsRequest get;
    get.set_clinic_id(s.clinic_id());
    absl::StatusOr<nv1::ClinicInventorySettings> current = RPC(GetClinicInventorySettings, get);
    if (current.ok()) {
      s.set_etag(current->etag());
    } else if (current.status().code() != absl::StatusCode::kNotFound) {
      return current.status();
    }
  }
  ASSIGN_OR_RETURN(nv1::ClinicInventorySettings out, RPC(UpdateClinicInventorySettings, req));
  Show(inv, out, [&] {
    inv.out().Print(
        Fields{{"clinic", out.clinic_id()}, {"time zone", out.time_zone()}, {"etag", out.etag()}});
  });
  return absl::OkStatus();
}

// ---- products

std::string Spec(const nv1::Product& p) {
  switch (p.spec_case()) {
    case nv1::Product::kNeedleCartridge:
      return absl::StrCat(p.needle_cartridge().configuration(), " ",
                          p.needle_cartridge().needle_diameter_um(), "um");
    case nv1::Product::kPigment:
      return absl::StrCat(
          p.pigment().brand(), " ", p.pigment().shade(),
          p.pigment().opened_shelf_life_days()
              ? absl::StrCat(", ", p.pigment().opened_shelf_life_days(), " days once opened")
              : "");
    case nv1::Product::kConsumable:
      return p.consumable().description();
    default:
      return "";
  }
}

void PrintProducts(Invocation& inv, const std::vector<const nv1::Product*>& all) {
  Table t({"id", "name", "kind", "unit", "single use", "sku", "spec"});
  for (const nv1::Product* p : all) {
    t.AddRow({p->id(), p->name(), EnumName(p->kind()), EnumName(p->unit()), Yes(p->single_use()),
              p->sku(), Spec(*p)});
  }
  inv.out().Print(t);
}

absl::Status ProductCreate(Invocation& inv) {
  nv1::CreateProductRequest req;
  req.set_request_id(inv.client().NewRequestId());
  nv1::Product& p = *req.mutable_product();
  p.set_name(inv.Get("name"));
  p.set_sku(inv.Get("sku"));
  ASSIGN_OR_RETURN(nv1::ProductKind kind, ParseEnum<nv1::ProductKind>("kind", inv.Get("kind")));
  const char* default_unit = kind == nv1::PRODUCT_KIND_PIGMENT ? "bottle" : "each";
  ASSIGN_OR_RETURN(
      nv1::UnitOfMeasure unit,
      ParseEnum<nv1::UnitOfMeasure>("unit", inv.Has("unit") ? inv.Get("unit") : default_unit));
  p.set_unit(unit);
  p.set_single_use(kind == nv1::PRODUCT_KIND_NEEDLE_CARTRIDGE || inv.Bool("single_use"));
  switch (kind) {
    case nv1::PRODUCT_KIND_NEEDLE_CARTRIDGE: {
      p.mutable_needle_cartridge()->set_configuration(inv.Get("configuration"));
      ASSIGN_OR_RETURN(int64_t um, inv.Int("diameter_um", 1, 10000, 0));
      p.mutable_needle_cartridge()->set_needle_diameter_um(static_cast<int32_t>(um));
      break;
    }
    case nv1::PRODUCT_KIND_PIGMENT: {
      p.mutable_pigment()->set_brand(inv.Get("brand"));
      p.mutable_pigment()->set_shade(inv.Get("shade"));
      ASSIGN_OR_RETURN(int64_t days, inv.Int("opened_shelf_life_days", 0, 3650, 0));
      p.mutable_pigment()->set_opened_shelf_life_days(static_cast<int32_t>(days));
      break;
    }
    default:
      p.mutable_consumable()->set_description(inv.Get("description"));
      break;
  }
  ASSIGN_OR_RETURN(nv1::Product out, RPC(CreateProduct, req));
  Show(inv, out, [&] { PrintProducts(inv, {&out}); });
  return absl::OkStatus();
}

absl::Status ProductGet(Invocation& inv) {
  nv1::GetProductRequest req;
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(nv1::Product out, RPC(GetProduct, req));
  Show(inv, out, [&] { PrintProducts(inv, {&out}); });
  return absl::OkStatus();
}

absl::Status ProductList(Invocation& inv) {
  nv1::ListProductsRequest req;
  if (inv.Has("kind")) {
    ASSIGN_OR_RETURN(nv1::ProductKind kind, ParseEnum<nv1::ProductKind>("kind", inv.Get("kind")));
    req.set_kind(kind);
  }
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(nv1::ListProductsResponse resp, RPC(ListProducts, req));
  Show(inv, resp, [&] {
    std::vector<const nv1::Product*> all;
    for (const nv1::Product& p : resp.products()) all.push_back(&p);
    PrintProducts(inv, all);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

// ---- movements

void PrintEntries(Invocation& inv, const std::vector<const nv1::LedgerEntry*>& entries) {
  Table t({"id", "time", "kind", "bucket", "delta", "product", "lot", "serials", "detail"});
  for (const nv1::LedgerEntry* e : entries) {
    const absl::TimeZone zone = inv.client().DisplayZone(e->clinic_id());
    std::string detail = e->reason();
    if (!e->appointment_id().empty()) detail = absl::StrCat("appointment ", e->appointment_id());
    if (!e->transfer_id().empty()) detail = absl::StrCat("transfer ", e->transfer_id());
    if (!e->witness().empty()) absl::StrAppend(&detail, " (witness ", e->witness(), ")");
    t.AddRow({e->id(), FormatTimestamp(e->create_time(), zone), EnumName(e->kind()),
              EnumName(e->bucket()),
              absl::StrCat(e->quantity_delta() > 0 ? "+" : "", e->quantity_delta()),
              e->product_id(), e->lot_id(), absl::StrJoin(e->serials(), ","), detail});
  }
  inv.out().Print(t);
}

void PrintLevels(Invocation& inv, const std::vector<const nv1::StockLevel*>& levels) {
  std::set<std::string> ids;
  for (const nv1::StockLevel* l : levels) ids.insert(l->product_id());
  const std::map<std::string, std::string> names = ProductNames(inv, ids);
  Table t({"product", "lot", "lot number", "expiry", "available", "quarantined", "in transit",
           "status"});
  for (const nv1::StockLevel* l : levels) {
    std::string status = EnumName(l->lot_status());
    if (l->expired()) status = "expired";
    t.AddRow({names.at(l->product_id()), l->lot_id(), l->lot_number(), FormatDate(l->expiry_date()),
              absl::StrCat(l->available()), absl::StrCat(l->quarantined()),
              absl::StrCat(l->in_transit()), status});
  }
  inv.out().Print(t);
}

absl::Status StockReceive(Invocation& inv) {
  nv1::ReceiveStockRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_clinic_id(inv.Get("clinic"));
  req.set_product_id(inv.Get("product"));
  req.set_lot_number(inv.Get("lot"));
  ASSIGN_OR_RETURN(absl::CivilDay expiry, ParseDate("expiry", inv.Get("expiry")));
  *req.mutable_expiry_date() = ToLocalDate(expiry);
  for (const std::string& s : inv.All("serial")) req.add_serials(s);
  ASSIGN_OR_RETURN(int64_t quantity, inv.Int("quantity", 1, 10000, req.serials_size()));
  if (quantity == 0) return UsageError("give --quantity, or the units' --serial values");
  req.set_quantity(quantity);
  req.set_supplier(inv.Get("supplier"));
  ASSIGN_OR_RETURN(nv1::ReceiveStockResponse out, RPC(ReceiveStock, req));
  Show(inv, out, [&] {
    inv.out().Line(absl::StrCat("received ", out.entry().quantity_delta(), " of lot ",
                                out.lot().lot_number(), " (lot id ", out.lot().id(), ")"));
    PrintLevels(inv, {&out.stock()});
  });
  return absl::OkStatus();
}

absl::Status StockIssue(Invocation& inv) {
  nv1::IssueToProcedureRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_clinic_id(inv.Get("clinic"));
  req.set_appointment_id(inv.Get("appointment"));
  req.set_patient_id(inv.Get("patient"));
  for (const std::string& v : inv.All("supply")) {
    ASSIGN_OR_RETURN(*req.add_lines(), ParseIssueLine("supply", v));
  }
  if (req.lines().empty()) return UsageError("give at least one --supply");
  ASSIGN_OR_RETURN(nv1::IssueToProcedureResponse out, RPC(IssueToProcedure, req));
  Show(inv, out, [&] {
    if (out.items().empty()) {  // a service that does not report items yet: its ledger entries
      std::vector<const nv1::LedgerEntry*> entries;
      for (const nv1::LedgerEntry& e : out.entries()) entries.push_back(&e);
      PrintEntries(inv, entries);
      return;
    }
    Table t({"product", "kind", "lot number", "expiry", "serial", "bottle", "quantity"});
    for (const nv1::IssuedItem& i : out.items()) {
      t.AddRow({i.product_name(), EnumName(i.product_kind()), i.lot_number(),
                FormatDate(i.expiry_date()), i.serial(), i.bottle_id(),
                absl::StrCat(i.quantity())});
    }
    inv.out().Print(t);
  });
  return absl::OkStatus();
}

absl::Status StockAdjust(Invocation& inv) {
  nv1::AdjustStockRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_clinic_id(inv.Get("clinic"));
  req.set_lot_id(inv.Get("lot"));
  ASSIGN_OR_RETURN(int64_t delta, inv.Int("delta", -10000, 10000, 0));
  if (delta == 0) return UsageError("--delta: must not be 0");
  req.set_quantity_delta(delta);
  req.set_reason(inv.Get("reason"));
  ASSIGN_OR_RETURN(nv1::LedgerEntry out, RPC(AdjustStock, req));
  Show(inv, out, [&] { PrintEntries(inv, {&out}); });
  return absl::OkStatus();
}

absl::Status StockDiscard(Invocation& inv) {
  nv1::DiscardStockRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_clinic_id(inv.Get("clinic"));
  const bool by_lot = inv.Has("lot");
  const bool by_serial = inv.Has("serial");
  if (by_lot == by_serial) return UsageError("give either --lot with --quantity, or --serial");
  if (by_lot) {
    req.mutable_lot_quantity()->set_lot_id(inv.Get("lot"));
    ASSIGN_OR_RETURN(int64_t quantity, inv.Int("quantity", 1, 10000, 0));
    if (quantity == 0) return UsageError("--lot needs --quantity");
    req.mutable_lot_quantity()->set_quantity(quantity);
  } else {
    for (const std::string& s : inv.All("serial")) req.mutable_units()->add_serials(s);
  }
  req.set_reason(inv.Get("reason"));
  req.set_witness(inv.Get("witness"));
  req.set_expired(inv.Bool("expired"));
  ASSIGN_OR_RETURN(nv1::DiscardStockResponse out, RPC(DiscardStock, req));
  Show(inv, out, [&] {
    std::vector<const nv1::LedgerEntry*> entries;
    for (const nv1::LedgerEntry& e : out.entries()) entries.push_back(&e);
    PrintEntries(inv, entries);
    for (const nv1::SerialUnit& u : out.units()) {
      inv.out().Line(absl::StrCat("unit ", u.serial(), ": ", EnumName(u.state())));
    }
  });
  return absl::OkStatus();
}

absl::Status StockLevels(Invocation& inv) {
  nv1::ListStockRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  req.set_product_id(inv.Get("product"));
  req.set_include_empty(inv.Bool("include_empty"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(nv1::ListStockResponse resp, RPC(ListStock, req));
  Show(inv, resp, [&] {
    std::vector<const nv1::StockLevel*> levels;
    for (const nv1::StockLevel& l : resp.levels()) levels.push_back(&l);
    PrintLevels(inv, levels);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status StockExpiring(Invocation& inv) {
  nv1::ListExpiringRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  ASSIGN_OR_RETURN(int64_t within, inv.Int("within", 0, 365, 30));
  req.set_within_days(static_cast<int32_t>(within));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(nv1::ListExpiringResponse resp, RPC(ListExpiring, req));
  Show(inv, resp, [&] {
    std::vector<const nv1::StockLevel*> levels;
    for (const nv1::StockLevel& l : resp.levels()) levels.push_back(&l);
    PrintLevels(inv, levels);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status StockLedger(Invocation& inv) {
  nv1::ListLedgerEntriesRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  req.set_lot_id(inv.Get("lot"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(nv1::ListLedgerEntriesResponse resp, RPC(ListLedgerEntries, req));
  Show(inv, resp, [&] {
    std::vector<const nv1::LedgerEntry*> entries;
    for (const nv1::LedgerEntry& e : resp.entries()) entries.push_back(&e);
    PrintEntries(inv, entries);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

void PrintUses(Invocation& inv, const google::protobuf::RepeatedPtrField<nv1::LotUse>& uses) {
  Table t({"appointment", "clinic", "date", "patient", "quantity", "serials", "bottles"});
  for (const nv1::LotUse& u : uses) {
    t.AddRow({u.appointment_id(), u.clinic_id(), FormatDate(u.date()), u.patient_id(),
              absl::StrCat(u.quantity()), absl::StrJoin(u.serials(), ","),
              absl::StrJoin(u.bottle_ids(), ",")});
  }
  inv.out().Print(t);
}

absl::Status StockRecall(Invocation& inv) {
  nv1::RecallLotRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_lot_id(inv.Arg());
  req.set_reason(inv.Get("reason"));
  ASSIGN_OR_RETURN(nv1::RecallLotResponse out, RPC(RecallLot, req));
  Show(inv, out, [&] {
    int64_t quarantined = 0;
    for (const nv1::LedgerEntry& e : out.quarantined()) {
      if (e.bucket() == nv1::STOCK_BUCKET_QUARANTINED && e.quantity_delta() > 0) {
        quarantined += e.quantity_delta();
      }
    }
    inv.out().Line(absl::StrCat("lot ", out.lot().lot_number(), " (", out.lot().id(),
                                ") recalled: ", out.lot().recall_reason()));
    inv.out().Line(absl::StrCat(quarantined, " unit(s) quarantined; ", out.uses_size(),
                                " procedure(s) used it:"));
    PrintUses(inv, out.uses());
  });
  return absl::OkStatus();
}

void PrintHold(Invocation& inv, const nv1::LotHold& h) {
  Show(inv, h, [&] {
    inv.out().Print(
        Fields{{"lot", h.lot_id()},
               {"clinic", h.clinic_id()},
               {"held", h.held() ? "yes" : "no"},
               {"held by", h.held_by()},
               {"held at", FormatTimestamp(h.hold_time(), absl::UTCTimeZone())},
               {"reason", h.hold_reason()},
               {"released by", h.released_by()},
               {"released at",
                h.has_release_time() ? FormatTimestamp(h.release_time(), absl::UTCTimeZone()) : ""},
               {"release reason", h.release_reason()}});
  });
}

absl::Status StockHold(Invocation& inv) {
  nv1::HoldLotRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_lot_id(inv.Arg());
  req.set_clinic_id(inv.Get("clinic"));
  req.set_reason(inv.Get("reason"));
  ASSIGN_OR_RETURN(nv1::LotHold out, RPC(HoldLot, req));
  PrintHold(inv, out);
  return absl::OkStatus();
}

absl::Status StockRelease(Invocation& inv) {
  nv1::ReleaseLotHoldRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_lot_id(inv.Arg());
  req.set_clinic_id(inv.Get("clinic"));
  req.set_reason(inv.Get("reason"));
  ASSIGN_OR_RETURN(nv1::LotHold out, RPC(ReleaseLotHold, req));
  PrintHold(inv, out);
  return absl::OkStatus();
}

absl::Status StockLotUses(Invocation& inv) {
  nv1::ListLotUsesRequest req;
  req.set_lot_id(inv.Arg());
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(nv1::ListLotUsesResponse resp, RPC(ListLotUses, req));
  Show(inv, resp, [&] {
    PrintUses(inv, resp.uses());
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status StockReuseAttempts(Invocation& inv) {
  nv1::ListReuseAttemptsRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(nv1::ListReuseAttemptsResponse resp, RPC(ListReuseAttempts, req));
  Show(inv, resp, [&] {
    const absl::TimeZone zone = inv.client().DisplayZone(req.clinic_id());
    Table t({"time", "serial", "appointment", "first used by", "unit state", "staff"});
    for (const nv1::ReuseAttempt& a : resp.attempts()) {
      t.AddRow({FormatTimestamp(a.attempt_time(), zone), a.serial(), a.appointment_id(),
                a.first_appointment_id(), EnumName(a.unit_state()), a.staff_id()});
    }
    inv.out().Print(t);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status StockSuggest(Invocation& inv) {
  nv1::SuggestLotsRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  req.set_product_id(inv.Get("product"));
  ASSIGN_OR_RETURN(int64_t quantity, inv.Int("quantity", 1, 1000, 1));
  req.set_quantity(quantity);
  ASSIGN_OR_RETURN(absl::CivilDay date, ParseDate("date", inv.Get("date")));
  *req.mutable_procedure_date() = ToLocalDate(date);
  ASSIGN_OR_RETURN(nv1::SuggestLotsResponse resp, RPC(SuggestLots, req));
  Show(inv, resp, [&] {
    Table t({"lot", "lot number", "expiry", "take", "serials"});
    for (const nv1::LotSuggestion& s : resp.suggestions()) {
      t.AddRow({s.lot().id(), s.lot().lot_number(), FormatDate(s.lot().expiry_date()),
                absl::StrCat(s.quantity()), absl::StrJoin(s.serials(), ",")});
    }
    inv.out().Print(t);
    if (resp.quantity_covered() < quantity) {
      inv.out().Note(absl::StrCat("only ", resp.quantity_covered(), " of ", quantity,
                                  " units are usable on that date"));
    }
  });
  return absl::OkStatus();
}

absl::Status LotGet(Invocation& inv) {
  nv1::GetLotRequest req;
  req.set_id(inv.Arg());
  ASSIGN_OR_RETURN(nv1::Lot out, RPC(GetLot, req));
  Show(inv, out, [&] {
    inv.out().Print(
        Fields{{"id", out.id()},
               {"product", out.product_id()},
               {"lot number", out.lot_number()},
               {"expiry", FormatDate(out.expiry_date())},
               {"serialised", Yes(out.serialised())},
               {"status", EnumName(out.status())},
               {"recall reason", out.recall_reason()},
               {"first received", FormatTimestamp(out.create_time(), absl::UTCTimeZone())}});
  });
  return absl::OkStatus();
}

absl::Status UnitGet(Invocation& inv) {
  nv1::GetSerialUnitRequest req;
  req.set_serial(inv.Arg());
  ASSIGN_OR_RETURN(nv1::SerialUnit out, RPC(GetSerialUnit, req));
  Show(inv, out, [&] {
    const absl::TimeZone zone = inv.client().DisplayZone(out.clinic_id());
    inv.out().Print(Fields{{"serial", out.serial()},
                           {"product", out.product_id()},
                           {"lot", out.lot_id()},
                           {"clinic", out.clinic_id()},
                           {"state", EnumName(out.state())},
                           {"appointment", out.appointment_id()},
                           {"issued", FormatTimestamp(out.issue_time(), zone)},
                           {"disposal", out.disposal_reason()},
                           {"witness", out.disposal_witness()}});
  });
  return absl::OkStatus();
}

// ---- transfers

void PrintTransfers(Invocation& inv, const std::vector<const nv1::Transfer*>& all) {
  Table t({"id", "status", "from", "to", "lines", "serials", "shipped", "received"});
  for (const nv1::Transfer* x : all) {
    const absl::TimeZone zone = inv.client().DisplayZone(x->source_clinic_id());
    std::vector<std::string> lines;
    for (const nv1::LotQuantity& l : x->lines()) {
      lines.push_back(absl::StrCat(l.lot_id(), ":", l.quantity()));
    }
    t.AddRow({x->id(), EnumName(x->status()), x->source_clinic_id(), x->destination_clinic_id(),
              absl::StrJoin(lines, ","), absl::StrJoin(x->serials(), ","),
              FormatTimestamp(x->ship_time(), zone), FormatTimestamp(x->receive_time(), zone)});
  }
  inv.out().Print(t);
}

absl::Status TransferShip(Invocation& inv) {
  nv1::ShipTransferRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_source_clinic_id(inv.Get("from"));
  req.set_destination_clinic_id(inv.Get("to"));
  for (const std::string& v : inv.All("line")) {
    std::vector<std::string> lq = absl::StrSplit(v, absl::MaxSplits(':', 1));
    if (lq.size() != 2 || lq[0].empty()) return UsageError("--line: want LOT_ID:QUANTITY");
    ASSIGN_OR_RETURN(int64_t quantity, ParseInt("line", lq[1], 1, 10000));
    nv1::LotQuantity* l = req.add_lines();
    l->set_lot_id(lq[0]);
    l->set_quantity(quantity);
  }
  for (const std::string& s : inv.All("serial")) req.add_serials(s);
  if (req.lines().empty() && req.serials().empty()) {
    return UsageError("give at least one --line=LOT_ID:QUANTITY or --serial");
  }
  ASSIGN_OR_RETURN(nv1::Transfer out, RPC(ShipTransfer, req));
  Show(inv, out, [&] { PrintTransfers(inv, {&out}); });
  return absl::OkStatus();
}

absl::Status TransferReceive(Invocation& inv) {
  nv1::ReceiveTransferRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_id(inv.Arg());
  if (inv.Has("etag")) {
    req.set_etag(inv.Get("etag"));
  } else {
    // There is no GetTransfer: find it among the destination clinic's transfers.
    if (!inv.Has("clinic")) return UsageError("give --clinic (the destination) or --etag");
    nv1::ListTransfersRequest list;
    list.set_clinic_id(inv.Get("clinic"));
    list.set_page_size(500);
    for (int page = 0; page < 20 && req.etag().empty(); ++page) {
      ASSIGN_OR_RETURN(nv1::ListTransfersResponse resp, RPC(ListTransfers, list));
      for (const nv1::Transfer& t : resp.transfers()) {
        if (t.id() == req.id()) req.set_etag(t.etag());
      }
      if (resp.next_page_token().empty()) break;
      list.set_page_token(resp.next_page_token());
    }
    if (req.etag().empty()) {
      return absl::NotFoundError(
          absl::StrCat("no transfer ", req.id(), " to or from clinic ", list.clinic_id()));
    }
  }
  ASSIGN_OR_RETURN(nv1::Transfer out, RPC(ReceiveTransfer, req));
  Show(inv, out, [&] { PrintTransfers(inv, {&out}); });
  return absl::OkStatus();
}

absl::Status TransferList(Invocation& inv) {
  nv1::ListTransfersRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(nv1::ListTransfersResponse resp, RPC(ListTransfers, req));
  Show(inv, resp, [&] {
    std::vector<const nv1::Transfer*> all;
    for (const nv1::Transfer& t : resp.transfers()) all.push_back(&t);
    PrintTransfers(inv, all);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

// ---- bottles

void PrintBottles(Invocation& inv, const std::vector<const nv1::PigmentBottle*>& all) {
  Table t({"id", "lot", "product", "opened", "use by", "state"});
  for (const nv1::PigmentBottle* b : all) {
    const absl::TimeZone zone = inv.client().DisplayZone(b->clinic_id());
    std::string state = EnumName(b->state());
    if (b->expired()) absl::StrAppend(&state, " (past use-by)");
    t.AddRow({b->id(), b->lot_id(), b->product_id(), FormatTimestamp(b->open_time(), zone),
              FormatDate(b->use_by_date()), state});
  }
  inv.out().Print(t);
}

absl::Status BottleOpen(Invocation& inv) {
  nv1::OpenBottleRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_clinic_id(inv.Get("clinic"));
  req.set_lot_id(inv.Get("lot"));
  ASSIGN_OR_RETURN(nv1::OpenBottleResponse out, RPC(OpenBottle, req));
  Show(inv, out, [&] { PrintBottles(inv, {&out.bottle()}); });
  return absl::OkStatus();
}

absl::Status BottleList(Invocation& inv) {
  nv1::ListOpenBottlesRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(nv1::ListOpenBottlesResponse resp, RPC(ListOpenBottles, req));
  Show(inv, resp, [&] {
    std::vector<const nv1::PigmentBottle*> all;
    for (const nv1::PigmentBottle& b : resp.bottles()) all.push_back(&b);
    PrintBottles(inv, all);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status BottleClose(Invocation& inv) {
  nv1::CloseBottleRequest req;
  req.set_request_id(inv.client().NewRequestId());
  req.set_bottle_id(inv.Arg());
  ASSIGN_OR_RETURN(
      nv1::BottleState state,
      ParseEnum<nv1::BottleState>("state", inv.Has("state") ? inv.Get("state") : "finished"));
  if (state != nv1::BOTTLE_STATE_FINISHED && state != nv1::BOTTLE_STATE_DISCARDED) {
    return UsageError("--state: finished or discarded");
  }
  req.set_state(state);
  ASSIGN_OR_RETURN(nv1::PigmentBottle out, RPC(CloseBottle, req));
  Show(inv, out, [&] { PrintBottles(inv, {&out}); });
  return absl::OkStatus();
}

// ---- reconciliation, reorder points, forecast

absl::Status Reconcile(Invocation& inv) {
  nv1::ReconcileDayRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  ASSIGN_OR_RETURN(absl::CivilDay date, ParseDate("date", inv.Get("date")));
  *req.mutable_date() = ToLocalDate(date);
  ASSIGN_OR_RETURN(nv1::ReconcileDayResponse resp, RPC(ReconcileDay, req));
  Show(inv, resp, [&] {
    inv.out().Print(Fields{{"needle units issued", absl::StrCat(resp.needle_units_issued())},
                           {"procedures recorded", absl::StrCat(resp.procedures_recorded())},
                           {"findings", absl::StrCat(resp.findings_size())}});
    if (!resp.findings().empty()) {
      Table t({"appointment", "finding"});
      for (const nv1::ReconciliationFinding& f : resp.findings()) {
        t.AddRow({f.appointment_id(), f.description()});
      }
      inv.out().Print(t);
    }
  });
  return absl::OkStatus();
}

absl::Status ReorderSet(Invocation& inv) {
  nv1::SetReorderPointRequest req;
  req.set_request_id(inv.client().NewRequestId());
  nv1::ReorderPoint& p = *req.mutable_point();
  p.set_clinic_id(inv.Get("clinic"));
  p.set_product_id(inv.Get("product"));
  ASSIGN_OR_RETURN(int64_t level, ParseInt("level", inv.Get("level"), 0, 100000));
  ASSIGN_OR_RETURN(int64_t quantity, inv.Int("quantity", 0, 100000, 0));
  p.set_reorder_level(level);
  p.set_reorder_quantity(quantity);
  ASSIGN_OR_RETURN(nv1::ReorderPoint out, RPC(SetReorderPoint, req));
  Show(inv, out, [&] {
    inv.out().Line(out.reorder_level() == 0
                       ? absl::StrCat("reorder point of ", out.product_id(), " cleared")
                       : absl::StrCat("reorder ", out.product_id(), " at ", out.clinic_id(),
                                      " when at or below ", out.reorder_level(), " (order ",
                                      out.reorder_quantity(), ")"));
  });
  return absl::OkStatus();
}

absl::Status LowStock(Invocation& inv) {
  nv1::ListLowStockRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  RETURN_IF_ERROR(ReadPaging(inv, req));
  ASSIGN_OR_RETURN(nv1::ListLowStockResponse resp, RPC(ListLowStock, req));
  Show(inv, resp, [&] {
    std::set<std::string> ids;
    for (const nv1::LowStockItem& i : resp.items()) ids.insert(i.point().product_id());
    const std::map<std::string, std::string> names = ProductNames(inv, ids);
    Table t({"product", "available", "in transit", "reorder level", "order"});
    for (const nv1::LowStockItem& i : resp.items()) {
      t.AddRow({names.at(i.point().product_id()), absl::StrCat(i.available()),
                absl::StrCat(i.in_transit()), absl::StrCat(i.point().reorder_level()),
                absl::StrCat(i.point().reorder_quantity())});
    }
    inv.out().Print(t);
    inv.out().NextPage(resp.next_page_token());
  });
  return absl::OkStatus();
}

absl::Status Forecast(Invocation& inv) {
  nv1::ForecastDemandRequest req;
  req.set_clinic_id(inv.Get("clinic"));
  ASSIGN_OR_RETURN(int64_t weeks, inv.Int("weeks", 1, 12, 4));
  req.set_weeks(static_cast<int32_t>(weeks));
  ASSIGN_OR_RETURN(nv1::ForecastDemandResponse resp, RPC(ForecastDemand, req));
  Show(inv, resp, [&] {
    inv.out().Line(absl::StrCat(resp.booked_sessions(), " procedures booked in the next ", weeks,
                                " weeks; usage from ", resp.history_procedures(),
                                " procedures of the last 12 weeks"));
    std::set<std::string> ids;
    for (const nv1::ProductDemand& d : resp.demands()) ids.insert(d.product_id());
    const std::map<std::string, std::string> names = ProductNames(inv, ids);
    Table t({"product", "expected", "on hand", "order"});
    for (const nv1::ProductDemand& d : resp.demands()) {
      t.AddRow({names.at(d.product_id()), absl::StrCat(d.expected_units()),
                absl::StrCat(d.on_hand()), absl::StrCat(d.suggested_order())});
    }
    inv.out().Print(t);
  });
  return absl::OkStatus();
}

}  // namespace

void AddInventoryCommands(Registry& r) {
  const Service s = Service::kInventory;
  const FlagSpec clinic = Req("clinic", "ID", "the clinic");
  const std::string supply_help =
      "serial=SERIAL (needle unit), lot=LOT_ID:QTY (lot count) or bottle=BOTTLE_ID (open pigment "
      "bottle)";
  r.Add({{"inventory-settings", "get"},
         s,
         "show a clinic's inventory settings (time zone)",
         "",
         false,
         {clinic},
         "",
         SettingsGet});
  r.Add({{"inventory-settings", "set"},
         s,
         "set a clinic's inventory time zone (admin; default: identity's)",
         "",
         false,
         {clinic, Opt("time_zone", "ZONE", "IANA time zone (default: the clinic's in identity)"),
          EtagFlag()},
         "",
         SettingsSet});

  r.Add({{"product", "create"},
         s,
         "add a product to the catalogue (inventory staff, admin)",
         "",
         false,
         {Req("name", "TEXT", "display name"),
          Req("kind", "KIND", "needle_cartridge, pigment or consumable"),
          Opt("unit", "UNIT", "each, bottle, tube or box (default: bottle for pigment, else each)"),
          Opt("sku", "TEXT", "supplier's catalogue number"),
          Switch("single_use", "each unit serves one procedure (always for needles)"),
          Opt("configuration", "CODE", "needle: grouping code, e.g. 1RL"),
          Opt("diameter_um", "N", "needle: diameter in micrometres, e.g. 180"),
          Opt("brand", "TEXT", "pigment: maker"), Opt("shade", "TEXT", "pigment: shade name"),
          Opt("opened_shelf_life_days", "N", "pigment: days usable once opened (0: no limit)"),
          Opt("description", "TEXT", "consumable: what it is")},
         "Example: smpctl product create --kind=needle_cartridge --name=\"1RL 0.18\" "
         "--configuration=1RL --diameter_um=180",
         ProductCreate});
  r.Add({{"product", "get"}, s, "show a product", "ID", true, {}, "", ProductGet});
  r.Add({{"product", "list"},
         s,
         "list the catalogue",
         "",
         false,
         WithPaging({Opt("kind", "KIND", "only this kind")}),
         "",
         ProductList});

  r.Add(
      {{"stock", "receive"},
       s,
       "receive a delivery of one lot at a clinic",
       "",
       false,
       {clinic, Req("product", "ID", "the product"), Req("lot", "NUMBER", "the maker's lot number"),
        Req("expiry", "DATE", "last day of use, YYYY-MM-DD (clinic-local)"),
        Opt("quantity", "N", "units (default: the number of serials)"),
        Rep("serial", "SERIAL", "unit serials (UDI) of labelled needles"),
        Opt("supplier", "TEXT", "supplier name")},
       "",
       StockReceive});
  r.Add({{"stock", "issue"},
         s,
         "issue supplies to a procedure, all or nothing",
         "",
         false,
         {clinic, Req("appointment", "ID", "the procedure's appointment"),
          Opt("patient", "ID", "the patient (for recalls)"),
          Rep("supply", "KIND=VALUE", supply_help)},
         "",
         StockIssue});
  r.Add({{"stock", "adjust"},
         s,
         "correct the count of an unserialised lot",
         "",
         false,
         {clinic, Req("lot", "ID", "the lot id"), Req("delta", "N", "signed change, e.g. -2"),
          Req("reason", "TEXT", "why")},
         "",
         StockAdjust});
  r.Add({{"stock", "discard"},
         s,
         "discard a lot quantity or serial units, with a witness",
         "",
         false,
         {clinic, Opt("lot", "ID", "the lot id (with --quantity)"),
          Opt("quantity", "N", "units of the lot"), Rep("serial", "SERIAL", "units by serial"),
          Req("reason", "TEXT", "why, e.g. damaged"), Req("witness", "NAME", "who witnessed it"),
          Switch("expired", "discarded because the lot expired")},
         "",
         StockDiscard});
  r.Add({{"stock", "levels"},
         s,
         "stock balances at a clinic by product and lot",
         "",
         false,
         WithPaging({clinic, Opt("product", "ID", "only this product"),
                     Switch("include_empty", "include all-zero balances")}),
         "",
         StockLevels});
  r.Add({{"stock", "expiring"},
         s,
         "lots on the shelf or in quarantine expiring soon (clinic-local days), soonest first",
         "",
         false,
         WithPaging({clinic, Opt("within", "DAYS",
                                 "expiring by the clinic's today plus this many days, 0..365 "
                                 "(default 30; 0: today's and expired ones)")}),
         "",
         StockExpiring});
  r.Add({{"stock", "ledger"},
         s,
         "the stock ledger of a clinic, oldest first",
         "",
         false,
         WithPaging({clinic, Opt("lot", "ID", "only this lot")}),
         "",
         StockLedger});
  r.Add({{"stock", "recall"},
         s,
         "recall a lot chain-wide: quarantine what is left, list every procedure that used it",
         "LOT_ID",
         true,
         {Req("reason", "TEXT", "why, e.g. the maker's notice")},
         "",
         StockRecall});
  r.Add({{"stock", "hold"},
         s,
         "put a lot on hold at one of your clinics: nothing of it is issued there until released",
         "LOT_ID",
         true,
         {clinic, Req("reason", "TEXT", "why, e.g. the maker's notice")},
         "",
         StockHold});
  r.Add({{"stock", "release"},
         s,
         "release a lot's hold at a clinic: its stock there is issuable again",
         "LOT_ID",
         true,
         {clinic, Req("reason", "TEXT", "why the hold ends")},
         "",
         StockRelease});
  r.Add({{"stock", "lot-uses"},
         s,
         "every procedure that used a lot",
         "LOT_ID",
         true,
         WithPaging({}),
         "",
         StockLotUses});
  r.Add({{"stock", "reuse-attempts"},
         s,
         "refused attempts to reuse a needle unit at a clinic",
         "",
         false,
         WithPaging({clinic}),
         "",
         StockReuseAttempts});
  r.Add({{"stock", "suggest"},
         s,
         "lots to issue, first expiry first out",
         "",
         false,
         {clinic, Req("product", "ID", "the product"), Opt("quantity", "N", "units (default 1)"),
          Req("date", "DATE", "the procedure's date")},
         "",
         StockSuggest});
  r.Add({{"lot", "get"}, s, "show a lot (number, expiry, recall)", "ID", true, {}, "", LotGet});
  r.Add({{"unit", "get"},
         s,
         "show a needle unit by serial and its life",
         "SERIAL",
         true,
         {},
         "",
         UnitGet});

  r.Add({{"transfer", "ship"},
         s,
         "ship stock from one clinic to another",
         "",
         false,
         {Req("from", "ID", "the sending clinic"), Req("to", "ID", "the receiving clinic"),
          Rep("line", "LOT_ID:QTY", "a count from an unserialised lot"),
          Rep("serial", "SERIAL", "a needle unit")},
         "",
         TransferShip});
  r.Add({{"transfer", "receive"},
         s,
         "receive a shipped transfer at its destination",
         "ID",
         true,
         {Opt("clinic", "ID", "the destination (to read the transfer's etag)"), EtagFlag()},
         "",
         TransferReceive});
  r.Add({{"transfer", "list"},
         s,
         "transfers from or to a clinic, newest first",
         "",
         false,
         WithPaging({clinic}),
         "",
         TransferList});

  r.Add({{"bottle", "open"},
         s,
         "open a pigment bottle from a lot",
         "",
         false,
         {clinic, Req("lot", "ID", "the pigment lot")},
         "",
         BottleOpen});
  r.Add({{"bottle", "list"},
         s,
         "a clinic's open (and quarantined) bottles",
         "",
         false,
         WithPaging({clinic}),
         "",
         BottleList});
  r.Add({{"bottle", "close"},
         s,
         "close a bottle as finished or discarded",
         "ID",
         true,
         {Opt("state", "STATE", "finished (default) or discarded")},
         "",
         BottleClose});

  r.Add({{"reconcile"},
         s,
         "needles issued vs procedures recorded on a clinic's day",
         "",
         false,
         {clinic, Req("date", "DATE", "the clinic-local day")},
         "",
         Reconcile});
  r.Add({{"reorder", "set"},
         s,
         "set (or clear with 0) a product's reorder point at a clinic",
         "",
         false,
         {clinic, Req("product", "ID", "the product"),
          Req("level", "N", "reorder at or below this many usable units"),
          Opt("quantity", "N", "suggested order quantity")},
         "",
         ReorderSet});
  r.Add({{"low-stock"},
         s,
         "products at or below their reorder point",
         "",
         false,
         WithPaging({clinic}),
         "",
         LowStock});
  r.Add({{"forecast"},
         s,
         "needle and pigment demand from booked procedures",
         "",
         false,
         {clinic, Opt("weeks", "N", "weeks ahead, 1..12 (default 4)")},
         "",
         Forecast});
}

}  // namespace smp::smpctl
