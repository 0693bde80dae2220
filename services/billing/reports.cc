#include "services/billing/reports.h"

#include <vector>

#include "absl/time/civil_time.h"
#include "common/money/money.h"
#include "common/status/status_macros.h"
#include "common/util/local_date.h"
#include "common/util/proto_time.h"
#include "common/util/validation.h"
#include "services/billing/billing_rules.h"
#include "services/billing/price_lists.h"

namespace smp::billing {
namespace {

using common::v1::Money;

// `a` plus `b_minor` of its currency, for sums over many stored rows.
absl::StatusOr<Money> Sum(const Money& a, int64_t b_minor) {
  return AddMoney(a, MakeMoney(b_minor, a.currency_code()));
}

}  // namespace

absl::StatusOr<v1::RevenueReport> Reports::Revenue(const Call& call,
                                                   const v1::GetRevenueReportRequest& request) {
  RETURN_IF_ERROR(ValidateId("clinic_id", request.clinic_id()));
  ASSIGN_OR_RETURN(LocalPeriod period, ParseDateRange("period", request.period(), kMaxReportDays));
  RETURN_IF_ERROR(call.who.CheckClinic(request.clinic_id()));
  v1::RevenueReport out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::PriceList clinic,
                     RequireClinic(*store_, txn, request.clinic_id(), "clinic_id"));
    const absl::TimeZone zone = ClinicZone(clinic);
    const absl::Time from = zone.At(absl::CivilSecond(period.first)).trans;
    const absl::Time to = zone.At(absl::CivilSecond(period.last + 1)).trans;
    const Money zero = MakeMoney(0, clinic.currency_code());
    Money net = zero, tax = zero;
    ASSIGN_OR_RETURN(std::vector<IssuedAmounts> issued,
                     store_->IssuedInvoices(txn, request.clinic_id(), from, to));
    for (const IssuedAmounts& a : issued) {
      ASSIGN_OR_RETURN(net, Sum(net, a.net));
      ASSIGN_OR_RETURN(tax, Sum(tax, a.tax));
    }
    auto total = [&](absl::string_view table) -> absl::StatusOr<Money> {
      ASSIGN_OR_RETURN(std::vector<int64_t> amounts,
                       store_->AmountsCreated(txn, table, request.clinic_id(), from, to));
      Money sum = zero;
      for (int64_t a : amounts) {
        ASSIGN_OR_RETURN(sum, Sum(sum, a));
      }
      return sum;
    };
    out.set_clinic_id(request.clinic_id());
    *out.mutable_period() = request.period();
    *out.mutable_invoiced_net() = net;
    *out.mutable_invoiced_tax() = tax;
    ASSIGN_OR_RETURN(*out.mutable_credited(), total("credit_notes"));
    ASSIGN_OR_RETURN(*out.mutable_collected(), total("payments"));
    ASSIGN_OR_RETURN(*out.mutable_refunded(), total("refunds"));
    out.set_invoices_issued(static_cast<int32_t>(issued.size()));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ReceivablesAging> Reports::Aging(const Call& call,
                                                    const v1::GetReceivablesAgingRequest& request) {
  RETURN_IF_ERROR(ValidateId("clinic_id", request.clinic_id()));
  RETURN_IF_ERROR(call.who.CheckClinic(request.clinic_id()));
  const absl::Time as_of =
      request.has_as_of_time() ? FromProtoTimestamp(request.as_of_time()) : call.now;
  v1::ReceivablesAging out;
  RETURN_IF_ERROR(db_->Run(TxMode::kRead, [&](Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(v1::PriceList clinic,
                     RequireClinic(*store_, txn, request.clinic_id(), "clinic_id"));
    Money buckets[4];
    for (Money& b : buckets) b = MakeMoney(0, clinic.currency_code());
    Money sum = buckets[0];
    ASSIGN_OR_RETURN(std::vector<IssuedAmounts> issued,
                     store_->IssuedInvoices(txn, request.clinic_id(), absl::UnixEpoch(),
                                            as_of + absl::Microseconds(1)));
    for (const IssuedAmounts& a : issued) {
      if (a.amount_due <= 0) continue;
      Money& bucket = buckets[AgingBucket(a.issue_time, as_of)];
      ASSIGN_OR_RETURN(bucket, Sum(bucket, a.amount_due));
      ASSIGN_OR_RETURN(sum, Sum(sum, a.amount_due));
    }
    out.set_clinic_id(request.clinic_id());
    *out.mutable_as_of_time() = ToProtoTimestamp(as_of);
    *out.mutable_days_0_30() = buckets[0];
    *out.mutable_days_31_60() = buckets[1];
    *out.mutable_days_61_90() = buckets[2];
    *out.mutable_days_over_90() = buckets[3];
    *out.mutable_total() = sum;
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace smp::billing
