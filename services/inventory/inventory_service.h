#ifndef SMP_SERVICES_INVENTORY_INVENTORY_SERVICE_H_
#define SMP_SERVICES_INVENTORY_INVENTORY_SERVICE_H_

#include <functional>

#include "common/auth/authenticator.h"
#include "common/db/database.h"
#include "common/rpc/frame.h"
#include "common/rpc/stream_guard.h"
#include "common/util/clock.h"
#include "services/inventory/appointment_source.h"
#include "services/inventory/bottles.h"
#include "services/inventory/catalog.h"
#include "services/inventory/issuing.h"
#include "services/inventory/lot_holds.h"
#include "services/inventory/recalls.h"
#include "services/inventory/receiving.h"
#include "services/inventory/replenishment.h"
#include "services/inventory/stock_queries.h"
#include "services/inventory/transfers.h"
#include "smp/inventory/v1/inventory.grpc.pb.h"

namespace smp::inventory {

struct InventoryDeps {
  Database* db;
  Authenticator* authenticator;
  // Scheduling's booked and performed procedures (forecast, reconciliation).
  AppointmentSource* appointments;
  const Clock* clock;
  // Called after a change that put an event in the outbox has committed (wakes the dispatcher).
  std::function<void()> on_event_committed;
  // How often a WatchLowStock stream recomputes its list (it sends only when the list changed).
  absl::Duration watch_poll_interval = absl::Seconds(1);
  // Caps and session re-checks of WatchLowStock streams (main: StreamLimitsFromFlags()).
  StreamLimits streams;
  // Identity, the one source of clinics' time zones; nullptr: none (the stored zones stay).
  ClinicZoneSource* zones = nullptr;
};

// The gRPC edge of smp.inventory.v1.InventoryService: each override runs one operation of a unit
// (catalog, receiving, issuing, stock queries, recalls, bottles, transfers, replenishment) in the
// RpcFrame, which authorises the caller for the method and maps the operation's status.
// WatchLowStock is served on gRPC's callback API (WatchStreams): open watches hold no thread.
class InventoryServiceImpl final
    : public v1::InventoryService::WithCallbackMethod_WatchLowStock<v1::InventoryService::Service> {
 public:
  explicit InventoryServiceImpl(InventoryDeps deps);

  // Ends WatchLowStock streams (UNAVAILABLE: resume later) so that a drain does not wait for them.
  // main.cc calls it on SIGTERM before shutting the server down. Idempotent.
  void StopWatches();
  // Updates stored clinic time zones that identity has changed; how many. main.cc runs it every
  // --clinic_zone_refresh.
  absl::StatusOr<int> RefreshClinicZones();

  grpc::Status GetClinicInventorySettings(grpc::ServerContext*,
                                          const v1::GetClinicInventorySettingsRequest*,
                                          v1::ClinicInventorySettings*) override;
  grpc::Status UpdateClinicInventorySettings(grpc::ServerContext*,
                                             const v1::UpdateClinicInventorySettingsRequest*,
                                             v1::ClinicInventorySettings*) override;
  grpc::Status CreateProduct(grpc::ServerContext*, const v1::CreateProductRequest*,
                             v1::Product*) override;
  grpc::Status GetProduct(grpc::ServerContext*, const v1::GetProductRequest*,
                          v1::Product*) override;
  grpc::Status ListProducts(grpc::ServerContext*, const v1::ListProductsRequest*,
                            v1::ListProductsResponse*) override;
  grpc::Status ReceiveStock(grpc::ServerContext*, const v1::ReceiveStockRequest*,
                            v1::ReceiveStockResponse*) override;
  grpc::Status IssueToProcedure(grpc::ServerContext*, const v1::IssueToProcedureRequest*,
                                v1::IssueToProcedureResponse*) override;
  grpc::Status ReturnProcedureIssue(grpc::ServerContext*, const v1::ReturnProcedureIssueRequest*,
                                    v1::ReturnProcedureIssueResponse*) override;
  grpc::Status SuggestLots(grpc::ServerContext*, const v1::SuggestLotsRequest*,
                           v1::SuggestLotsResponse*) override;
  grpc::Status AdjustStock(grpc::ServerContext*, const v1::AdjustStockRequest*,
                           v1::LedgerEntry*) override;
  grpc::Status DiscardStock(grpc::ServerContext*, const v1::DiscardStockRequest*,
                            v1::DiscardStockResponse*) override;
  grpc::Status ListStock(grpc::ServerContext*, const v1::ListStockRequest*,
                         v1::ListStockResponse*) override;
  grpc::Status ListExpiring(grpc::ServerContext*, const v1::ListExpiringRequest*,
                            v1::ListExpiringResponse*) override;
  grpc::Status ListLedgerEntries(grpc::ServerContext*, const v1::ListLedgerEntriesRequest*,
                                 v1::ListLedgerEntriesResponse*) override;
  grpc::Status GetLot(grpc::ServerContext*, const v1::GetLotRequest*, v1::Lot*) override;
  grpc::Status GetSerialUnit(grpc::ServerContext*, const v1::GetSerialUnitRequest*,
                             v1::SerialUnit*) override;
  grpc::Status ListReuseAttempts(grpc::ServerContext*, const v1::ListReuseAttemptsRequest*,
                                 v1::ListReuseAttemptsResponse*) override;
  grpc::Status RecallLot(grpc::ServerContext*, const v1::RecallLotRequest*,
                         v1::RecallLotResponse*) override;
  grpc::Status ListLotUses(grpc::ServerContext*, const v1::ListLotUsesRequest*,
                           v1::ListLotUsesResponse*) override;
  grpc::Status HoldLot(grpc::ServerContext*, const v1::HoldLotRequest*, v1::LotHold*) override;
  grpc::Status ReleaseLotHold(grpc::ServerContext*, const v1::ReleaseLotHoldRequest*,
                              v1::LotHold*) override;
  grpc::Status OpenBottle(grpc::ServerContext*, const v1::OpenBottleRequest*,
                          v1::OpenBottleResponse*) override;
  grpc::Status ListOpenBottles(grpc::ServerContext*, const v1::ListOpenBottlesRequest*,
                               v1::ListOpenBottlesResponse*) override;
  grpc::Status CloseBottle(grpc::ServerContext*, const v1::CloseBottleRequest*,
                           v1::PigmentBottle*) override;
  grpc::Status ShipTransfer(grpc::ServerContext*, const v1::ShipTransferRequest*,
                            v1::Transfer*) override;
  grpc::Status ReceiveTransfer(grpc::ServerContext*, const v1::ReceiveTransferRequest*,
                               v1::Transfer*) override;
  grpc::Status ListTransfers(grpc::ServerContext*, const v1::ListTransfersRequest*,
                             v1::ListTransfersResponse*) override;
  grpc::Status SetReorderPoint(grpc::ServerContext*, const v1::SetReorderPointRequest*,
                               v1::ReorderPoint*) override;
  grpc::Status ListLowStock(grpc::ServerContext*, const v1::ListLowStockRequest*,
                            v1::ListLowStockResponse*) override;
  grpc::ServerWriteReactor<v1::ListLowStockResponse>* WatchLowStock(
      grpc::CallbackServerContext*, const v1::ListLowStockRequest*) override;
  grpc::Status ForecastDemand(grpc::ServerContext*, const v1::ForecastDemandRequest*,
                              v1::ForecastDemandResponse*) override;
  grpc::Status ReconcileDay(grpc::ServerContext*, const v1::ReconcileDayRequest*,
                            v1::ReconcileDayResponse*) override;

 private:
  InventoryDeps deps_;
  RpcFrame frame_;
  Catalog catalog_;
  Receiving receiving_;
  Issuing issuing_;
  StockQueries queries_;
  Recalls recalls_;
  LotHolds lot_holds_;
  Bottles bottles_;
  Transfers transfers_;
  Replenishment replenishment_;
  WatchStreams streams_;
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_INVENTORY_SERVICE_H_
