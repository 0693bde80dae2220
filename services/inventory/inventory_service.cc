#include "services/inventory/inventory_service.h"

#include <string>
#include <utility>

#include "common/status/status_macros.h"

namespace smp::inventory {
namespace {

// Threads that run the unary methods: receipts and the other writes wait on the log's sync
// together (group commit), so more of them than cores. An issue waits on none of them once its
// write is queued (ServeAsync), though it may wait on scheduling before.
constexpr int kUnaryThreads = 32;

}  // namespace

InventoryServiceImpl::InventoryServiceImpl(InventoryDeps deps)
    : deps_(std::move(deps)),
      frame_(v1::InventoryService::service_full_name(), deps_.authenticator, deps_.clock),
      catalog_(deps_.db, deps_.zones),
      receiving_(deps_.db),
      issuing_(deps_.db, deps_.appointments, deps_.on_event_committed),
      queries_(deps_.db, deps_.appointments),
      recalls_(deps_.db, deps_.on_event_committed),
      lot_holds_(deps_.db),
      bottles_(deps_.db),
      transfers_(deps_.db),
      replenishment_(deps_.db, deps_.appointments),
      streams_(&frame_, deps_.streams),
      unary_(kUnaryThreads) {}

// ---------------------------------------------------------------- settings

grpc::ServerUnaryReactor* InventoryServiceImpl::GetClinicInventorySettings(
    grpc::CallbackServerContext* ctx, const v1::GetClinicInventorySettingsRequest* req,
    v1::ClinicInventorySettings* out) {
  return unary_.ServeRead(ctx, [=, this] {
    return frame_.Serve(ctx, "GetClinicInventorySettings", *req, out,
                        [&](const Call& call) { return catalog_.GetSettings(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::UpdateClinicInventorySettings(
    grpc::CallbackServerContext* ctx, const v1::UpdateClinicInventorySettingsRequest* req,
    v1::ClinicInventorySettings* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "UpdateClinicInventorySettings", *req, out,
                        [&](const Call& call) { return catalog_.UpdateSettings(call, *req); });
  });
}

// ---------------------------------------------------------------- products

grpc::ServerUnaryReactor* InventoryServiceImpl::CreateProduct(grpc::CallbackServerContext* ctx,
                                                              const v1::CreateProductRequest* req,
                                                              v1::Product* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "CreateProduct", *req, out,
                        [&](const Call& call) { return catalog_.CreateProduct(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::GetProduct(grpc::CallbackServerContext* ctx,
                                                           const v1::GetProductRequest* req,
                                                           v1::Product* out) {
  return unary_.ServeRead(ctx, [=, this] {
    return frame_.Serve(ctx, "GetProduct", *req, out,
                        [&](const Call& call) { return catalog_.GetProduct(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::ListProducts(grpc::CallbackServerContext* ctx,
                                                             const v1::ListProductsRequest* req,
                                                             v1::ListProductsResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ListProducts", *req, out,
                        [&](const Call& call) { return catalog_.ListProducts(call, *req); });
  });
}

// ---------------------------------------------------------------- stock in and out

grpc::ServerUnaryReactor* InventoryServiceImpl::ReceiveStock(grpc::CallbackServerContext* ctx,
                                                             const v1::ReceiveStockRequest* req,
                                                             v1::ReceiveStockResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ReceiveStock", *req, out,
                        [&](const Call& call) { return receiving_.Receive(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::AdjustStock(grpc::CallbackServerContext* ctx,
                                                            const v1::AdjustStockRequest* req,
                                                            v1::LedgerEntry* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "AdjustStock", *req, out,
                        [&](const Call& call) { return receiving_.Adjust(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::DiscardStock(grpc::CallbackServerContext* ctx,
                                                             const v1::DiscardStockRequest* req,
                                                             v1::DiscardStockResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "DiscardStock", *req, out,
                        [&](const Call& call) { return receiving_.Discard(call, *req); });
  });
}

// ---------------------------------------------------------------- issuing

grpc::ServerUnaryReactor* InventoryServiceImpl::IssueToProcedure(
    grpc::CallbackServerContext* ctx, const v1::IssueToProcedureRequest* req,
    v1::IssueToProcedureResponse* out) {
  return unary_.ServeAsync(ctx, [=, this](auto finish) {
    frame_.ServeAsync<v1::IssueToProcedureResponse>(
        ctx, "IssueToProcedure", *req, out,
        [&](const Call& call, Answer<v1::IssueToProcedureResponse> answer) {
          issuing_.IssueAsync(call, *req, std::move(answer));
        },
        std::move(finish));
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::ReturnProcedureIssue(
    grpc::CallbackServerContext* ctx, const v1::ReturnProcedureIssueRequest* req,
    v1::ReturnProcedureIssueResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ReturnProcedureIssue", *req, out,
                        [&](const Call& call) { return issuing_.Return(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::SuggestLots(grpc::CallbackServerContext* ctx,
                                                            const v1::SuggestLotsRequest* req,
                                                            v1::SuggestLotsResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "SuggestLots", *req, out,
                        [&](const Call& call) { return issuing_.Suggest(call, *req); });
  });
}

// ---------------------------------------------------------------- reading stock

grpc::ServerUnaryReactor* InventoryServiceImpl::ListExpiring(grpc::CallbackServerContext* ctx,
                                                             const v1::ListExpiringRequest* req,
                                                             v1::ListExpiringResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ListExpiring", *req, out,
                        [&](const Call& call) { return queries_.ListExpiring(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::ListStock(grpc::CallbackServerContext* ctx,
                                                          const v1::ListStockRequest* req,
                                                          v1::ListStockResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ListStock", *req, out,
                        [&](const Call& call) { return queries_.ListStock(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::ListLedgerEntries(
    grpc::CallbackServerContext* ctx, const v1::ListLedgerEntriesRequest* req,
    v1::ListLedgerEntriesResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ListLedgerEntries", *req, out,
                        [&](const Call& call) { return queries_.ListLedger(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::GetLot(grpc::CallbackServerContext* ctx,
                                                       const v1::GetLotRequest* req, v1::Lot* out) {
  return unary_.ServeRead(ctx, [=, this] {
    return frame_.Serve(ctx, "GetLot", *req, out,
                        [&](const Call& call) { return queries_.GetLot(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::GetSerialUnit(grpc::CallbackServerContext* ctx,
                                                              const v1::GetSerialUnitRequest* req,
                                                              v1::SerialUnit* out) {
  return unary_.ServeRead(ctx, [=, this] {
    return frame_.Serve(ctx, "GetSerialUnit", *req, out,
                        [&](const Call& call) { return queries_.GetUnit(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::ListReuseAttempts(
    grpc::CallbackServerContext* ctx, const v1::ListReuseAttemptsRequest* req,
    v1::ListReuseAttemptsResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ListReuseAttempts", *req, out,
                        [&](const Call& call) { return queries_.ListReuseAttempts(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::ReconcileDay(grpc::CallbackServerContext* ctx,
                                                             const v1::ReconcileDayRequest* req,
                                                             v1::ReconcileDayResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ReconcileDay", *req, out,
                        [&](const Call& call) { return queries_.Reconcile(call, *req); });
  });
}

// ---------------------------------------------------------------- recalls

grpc::ServerUnaryReactor* InventoryServiceImpl::RecallLot(grpc::CallbackServerContext* ctx,
                                                          const v1::RecallLotRequest* req,
                                                          v1::RecallLotResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "RecallLot", *req, out,
                        [&](const Call& call) { return recalls_.Recall(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::ListLotUses(grpc::CallbackServerContext* ctx,
                                                            const v1::ListLotUsesRequest* req,
                                                            v1::ListLotUsesResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ListLotUses", *req, out,
                        [&](const Call& call) { return recalls_.ListUses(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::HoldLot(grpc::CallbackServerContext* ctx,
                                                        const v1::HoldLotRequest* req,
                                                        v1::LotHold* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "HoldLot", *req, out,
                        [&](const Call& call) { return lot_holds_.Hold(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::ReleaseLotHold(grpc::CallbackServerContext* ctx,
                                                               const v1::ReleaseLotHoldRequest* req,
                                                               v1::LotHold* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ReleaseLotHold", *req, out,
                        [&](const Call& call) { return lot_holds_.Release(call, *req); });
  });
}

// ---------------------------------------------------------------- pigment bottles

grpc::ServerUnaryReactor* InventoryServiceImpl::OpenBottle(grpc::CallbackServerContext* ctx,
                                                           const v1::OpenBottleRequest* req,
                                                           v1::OpenBottleResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "OpenBottle", *req, out,
                        [&](const Call& call) { return bottles_.Open(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::ListOpenBottles(
    grpc::CallbackServerContext* ctx, const v1::ListOpenBottlesRequest* req,
    v1::ListOpenBottlesResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ListOpenBottles", *req, out,
                        [&](const Call& call) { return bottles_.ListUnclosed(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::CloseBottle(grpc::CallbackServerContext* ctx,
                                                            const v1::CloseBottleRequest* req,
                                                            v1::PigmentBottle* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "CloseBottle", *req, out,
                        [&](const Call& call) { return bottles_.Close(call, *req); });
  });
}

// ---------------------------------------------------------------- transfers

grpc::ServerUnaryReactor* InventoryServiceImpl::ShipTransfer(grpc::CallbackServerContext* ctx,
                                                             const v1::ShipTransferRequest* req,
                                                             v1::Transfer* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ShipTransfer", *req, out,
                        [&](const Call& call) { return transfers_.Ship(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::ReceiveTransfer(
    grpc::CallbackServerContext* ctx, const v1::ReceiveTransferRequest* req, v1::Transfer* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ReceiveTransfer", *req, out,
                        [&](const Call& call) { return transfers_.Receive(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::ListTransfers(grpc::CallbackServerContext* ctx,
                                                              const v1::ListTransfersRequest* req,
                                                              v1::ListTransfersResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ListTransfers", *req, out,
                        [&](const Call& call) { return transfers_.List(call, *req); });
  });
}

// ---------------------------------------------------------------- replenishment

grpc::ServerUnaryReactor* InventoryServiceImpl::SetReorderPoint(
    grpc::CallbackServerContext* ctx, const v1::SetReorderPointRequest* req,
    v1::ReorderPoint* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "SetReorderPoint", *req, out, [&](const Call& call) {
      return replenishment_.SetReorderPoint(call, *req);
    });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::ListLowStock(grpc::CallbackServerContext* ctx,
                                                             const v1::ListLowStockRequest* req,
                                                             v1::ListLowStockResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ListLowStock", *req, out,
                        [&](const Call& call) { return replenishment_.ListLowStock(call, *req); });
  });
}

grpc::ServerUnaryReactor* InventoryServiceImpl::ForecastDemand(grpc::CallbackServerContext* ctx,
                                                               const v1::ForecastDemandRequest* req,
                                                               v1::ForecastDemandResponse* out) {
  return unary_.Serve(ctx, [=, this] {
    return frame_.Serve(ctx, "ForecastDemand", *req, out,
                        [&](const Call& call) { return replenishment_.Forecast(call, *req); });
  });
}

absl::StatusOr<int> InventoryServiceImpl::RefreshClinicZones() {
  return catalog_.RefreshZones(deps_.clock->Now());
}

void InventoryServiceImpl::StopWatches() { streams_.Stop(); }

grpc::ServerWriteReactor<v1::ListLowStockResponse>* InventoryServiceImpl::WatchLowStock(
    grpc::CallbackServerContext* ctx, const v1::ListLowStockRequest* req) {
  return streams_.Serve<v1::ListLowStockResponse>(
      ctx, "WatchLowStock", deps_.watch_poll_interval,
      [this, req](const Call& call) { return replenishment_.OpenLowStockWatch(call, *req); });
}

}  // namespace smp::inventory
