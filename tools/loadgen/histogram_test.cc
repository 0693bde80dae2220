#include "tools/loadgen/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace smp::loadgen {
namespace {

// The exact nearest-rank percentile of `values` (sorted in place).
int64_t ExactPercentile(std::vector<int64_t>& values, double percentile) {
  std::sort(values.begin(), values.end());
  const double exact = percentile / 100.0 * static_cast<double>(values.size());
  int64_t rank = static_cast<int64_t>(std::ceil(exact - 1e-9));
  rank = std::clamp<int64_t>(rank, 1, static_cast<int64_t>(values.size()));
  return values[rank - 1];
}

// The histogram's answer is the exact value or at most 1/128 above it, never below.
void ExpectClose(const Histogram& h, std::vector<int64_t> values, double percentile) {
  const int64_t exact = ExactPercentile(values, percentile);
  const int64_t got = h.ValueAtPercentile(percentile);
  EXPECT_GE(got, exact) << "p" << percentile;
  EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * (1 + 1.0 / 128) + 1e-9)
      << "p" << percentile;
}

TEST(HistogramTest, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.ValueAtPercentile(50), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.mean(), 0);
}

TEST(HistogramTest, BucketsTileTheRangeWithoutGaps) {
  EXPECT_EQ(Histogram::IndexOf(0), 0);
  EXPECT_EQ(Histogram::IndexOf(255), 255);
  EXPECT_EQ(Histogram::IndexOf(256), 256);
  const int top = Histogram::IndexOf(Histogram::kMaxTrackable);
  for (int i = 0; i < top; ++i) {
    ASSERT_EQ(Histogram::HighestEquivalent(i) + 1, Histogram::LowestEquivalent(i + 1)) << i;
    ASSERT_EQ(Histogram::IndexOf(Histogram::LowestEquivalent(i)), i);
    ASSERT_EQ(Histogram::IndexOf(Histogram::HighestEquivalent(i)), i);
    // Two significant digits: a bucket is at most 1/128 of its lowest value wide.
    if (i >= 256) {
      ASSERT_LE(Histogram::HighestEquivalent(i) - Histogram::LowestEquivalent(i) + 1,
                Histogram::LowestEquivalent(i) / 128)
          << i;
    }
  }
  EXPECT_GE(Histogram::HighestEquivalent(top), Histogram::kMaxTrackable);
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  std::vector<int64_t> values;
  for (int64_t v = 1; v <= 200; ++v) {
    h.Record(v);
    values.push_back(v);
  }
  for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(h.ValueAtPercentile(p), ExactPercentile(values, p)) << "p" << p;
  }
  EXPECT_EQ(h.ValueAtPercentile(50), 100);
  EXPECT_EQ(h.ValueAtPercentile(99), 198);
  EXPECT_EQ(h.ValueAtPercentile(99.9), 200);
  EXPECT_EQ(h.min(), 1);
  EXPECT_EQ(h.max(), 200);
  EXPECT_DOUBLE_EQ(h.mean(), 100.5);
}

TEST(HistogramTest, UniformOneToTenThousand) {
  Histogram h;
  std::vector<int64_t> values;
  for (int64_t v = 1; v <= 10'000; ++v) {
    h.Record(v);
    values.push_back(v);
  }
  for (double p : {50.0, 90.0, 99.0, 99.9}) ExpectClose(h, values, p);
  // 5000 falls in [4992, 5023]: the upper end is reported.
  EXPECT_EQ(h.ValueAtPercentile(50), 5023);
  EXPECT_EQ(h.ValueAtPercentile(100), 10'000);
}

TEST(HistogramTest, LogNormalLatenciesMatchExactPercentiles) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> latency(std::log(800.0), 0.9);  // ~0.8 ms median
  Histogram h;
  std::vector<int64_t> values;
  for (int i = 0; i < 100'000; ++i) {
    const auto v = static_cast<int64_t>(latency(rng));
    h.Record(v);
    values.push_back(v);
  }
  for (double p : {1.0, 10.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99}) ExpectClose(h, values, p);
  EXPECT_EQ(h.ValueAtPercentile(100), *std::max_element(values.begin(), values.end()));
  EXPECT_EQ(h.count(), 100'000);
}

TEST(HistogramTest, OneSlowOutlierIsTheMaxAndP100Only) {
  Histogram h;
  for (int i = 0; i < 999; ++i) h.Record(100);
  h.Record(2'500'000);
  EXPECT_EQ(h.ValueAtPercentile(99.9), 100);
  EXPECT_EQ(h.ValueAtPercentile(100), 2'500'000);
  EXPECT_EQ(h.max(), 2'500'000);
}

TEST(HistogramTest, ValuesBeyondTheRangeKeepTheirMax) {
  Histogram h;
  h.Record(-5);
  h.Record(Histogram::kMaxTrackable * 3);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), Histogram::kMaxTrackable * 3);
  EXPECT_EQ(h.ValueAtPercentile(50), 0);
  EXPECT_EQ(h.ValueAtPercentile(100), Histogram::kMaxTrackable * 3);
}

TEST(HistogramTest, MergeEqualsRecordingEverything) {
  Histogram a, b, all;
  for (int64_t v = 1; v < 5000; v += 3) {
    (v % 2 == 0 ? a : b).Record(v * 7);
    all.Record(v * 7);
  }
  Histogram merged;
  merged.Merge(a);
  merged.Merge(b);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    EXPECT_EQ(merged.ValueAtPercentile(p), all.ValueAtPercentile(p));
  }
}

}  // namespace
}  // namespace smp::loadgen
