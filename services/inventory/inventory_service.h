#ifndef SMP_SERVICES_INVENTORY_INVENTORY_SERVICE_H_
#define SMP_SERVICES_INVENTORY_INVENTORY_SERVICE_H_

#include <functional>

#include "common/auth/authenticator.h"
#include "common/db/database.h"
#include "common/rpc/callback_unary.h"
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
// WatchLowStock is served on gRPC's callback API (WatchStreams): open watches hold no thread; the
// unary methods are on it too, through CallbackUnary (callback_unary.h): one API per server.
class InventoryServiceImpl final : public v1::InventoryService::CallbackService {
 public:
  explicit InventoryServiceImpl(InventoryDeps deps);

  // Ends WatchLowStock streams (UNAVAILABLE: resume later) so that a drain does not wait for them.
  // main.cc calls it on SIGTERM before shutting the server down. Idempotent.
  void StopWatches();
  // Updates stored clinic time zones that identity has changed; how many. main.cc runs it every
  // --clinic_zone_refresh.
  absl::StatusOr<int> RefreshClinicZones();

  grpc::ServerUnaryReactor* GetClinicInventorySettings(grpc::CallbackServerContext*,
                                                       const v1::GetClinicInventorySettingsRequest*,
                                                       v1::ClinicInventorySettings*) override;
  grpc::ServerUnaryReactor* UpdateClinicInventorySettings(
      grpc::CallbackServerContext*, const v1::UpdateClinicInventorySettingsRequest*,
      v1::ClinicInventorySettings*) override;
  grpc::ServerUnaryReactor* CreateProduct(grpc::CallbackServerContext*,
                                          const v1::CreateProductRequest*, v1::Product*) override;
  grpc::ServerUnaryReactor* GetProduct(grpc::CallbackServerContext*, const v1::GetProductRequest*,
                                       v1::Product*) override;
  grpc::ServerUnaryReactor* ListProducts(grpc::CallbackServerContext*,
                                         const v1::ListProductsRequest*,
                                         v1::ListProductsResponse*) override;
  grpc::ServerUnaryReactor* ReceiveStock(grpc::CallbackServerContext*,
                                         const v1::ReceiveStockRequest*,
                                         v1::ReceiveStockResponse*) override;
  grpc::ServerUnaryReactor* IssueToProcedure(grpc::CallbackServerContext*,
                                             const v1::IssueToProcedureRequest*,
                                             v1::IssueToProcedureResponse*) override;
  grpc::ServerUnaryReactor* ReturnProcedureIssue(grpc::CallbackServerContext*,
                                                 const v1::ReturnProcedureIssueRequest*,
                                                 v1::ReturnProcedureIssueResponse*) override;
  grpc::ServerUnaryReactor* SuggestLots(grpc::CallbackServerContext*, const v1::SuggestLotsRequest*,
                                        v1::SuggestLotsResponse*) override;
  grpc::ServerUnaryReactor* AdjustStock(grpc::CallbackServerContext*, const v1::AdjustStockRequest*,
                                        v1::LedgerEntry*) override;
  grpc::ServerUnaryReactor* DiscardStock(grpc::CallbackServerContext*,
                                         const v1::DiscardStockRequest*,
                                         v1::DiscardStockResponse*) override;
  grpc::ServerUnaryReactor* ListStock(grpc::CallbackServerContext*, const v1::ListStockRequest*,
                                      v1::ListStockResponse*) override;
  grpc::ServerUnaryReactor* ListExpiring(grpc::CallbackServerContext*,
                                         const v1::ListExpiringRequest*,
                                         v1::ListExpiringResponse*) override;
  grpc::ServerUnaryReactor* ListLedgerEntries(grpc::CallbackServerContext*,
                                              const v1::ListLedgerEntriesRequest*,
                                              v1::ListLedgerEntriesResponse*) override;
  grpc::ServerUnaryReactor* GetLot(grpc::CallbackServerContext*, const v1::GetLotRequest*,
                                   v1::Lot*) override;
  grpc::ServerUnaryReactor* GetSerialUnit(grpc::CallbackServerContext*,
                                          const v1::GetSerialUnitRequest*,
                                          v1::SerialUnit*) override;
  grpc::ServerUnaryReactor* ListReuseAttempts(grpc::CallbackServerContext*,
                                              const v1::ListReuseAttemptsRequest*,
                                              v1::ListReuseAttemptsResponse*) override;
  grpc::ServerUnaryReactor* RecallLot(grpc::CallbackServerContext*, const v1::RecallLotRequest*,
                                      v1::RecallLotResponse*) override;
  grpc::ServerUnaryReactor* ListLotUses(grpc::CallbackServerContext*, const v1::ListLotUsesRequest*,
                                        v1::ListLotUsesResponse*) override;
  grpc::ServerUnaryReactor* HoldLot(grpc::CallbackServerContext*, const v1::HoldLotRequest*,
                                    v1::LotHold*) override;
  grpc::ServerUnaryReactor* ReleaseLotHold(grpc::CallbackServerContext*,
                                           const v1::ReleaseLotHoldRequest*, v1::LotHold*) override;
  grpc::ServerUnaryReactor* OpenBottle(grpc::CallbackServerContext*, const v1::OpenBottleRequest*,
                                       v1::OpenBottleResponse*) override;
  grpc::ServerUnaryReactor* ListOpenBottles(grpc::CallbackServerContext*,
                                            const v1::ListOpenBottlesRequest*,
                                            v1::ListOpenBottlesResponse*) override;
  grpc::ServerUnaryReactor* CloseBottle(grpc::CallbackServerContext*, const v1::CloseBottleRequest*,
                                        v1::PigmentBottle*) override;
  grpc::ServerUnaryReactor* ShipTransfer(grpc::CallbackServerContext*,
                                         const v1::ShipTransferRequest*, v1::Transfer*) override;
  grpc::ServerUnaryReactor* ReceiveTransfer(grpc::CallbackServerContext*,
                                            const v1::ReceiveTransferRequest*,
                                            v1::Transfer*) override;
  grpc::ServerUnaryReactor* ListTransfers(grpc::CallbackServerContext*,
                                          const v1::ListTransfersRequest*,
                                          v1::ListTransfersResponse*) override;
  grpc::ServerUnaryReactor* SetReorderPoint(grpc::CallbackServerContext*,
                                            const v1::SetReorderPointRequest*,
                                            v1::ReorderPoint*) override;
  grpc::ServerUnaryReactor* ListLowStock(grpc::CallbackServerContext*,
                                         const v1::ListLowStockRequest*,
                                         v1::ListLowStockResponse*) override;
  grpc::ServerWriteReactor<v1::ListLowStockResponse>* WatchLowStock(
      grpc::CallbackServerContext*, const v1::ListLowStockRequest*) override;
  grpc::ServerUnaryReactor* ForecastDemand(grpc::CallbackServerContext*,
                                           const v1::ForecastDemandRequest*,
                                           v1::ForecastDemandResponse*) override;
  grpc::ServerUnaryReactor* ReconcileDay(grpc::CallbackServerContext*,
                                         const v1::ReconcileDayRequest*,
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
  CallbackUnary unary_;
};

}  // namespace smp::inventory

#endif  // SMP_SERVICES_INVENTORY_INVENTORY_SERVICE_H_
