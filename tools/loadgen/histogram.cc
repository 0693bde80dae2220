#include "tools/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace smp::loadgen {

int Histogram::IndexOf(int64_t value) {
  value = std::clamp<int64_t>(value, 0, kMaxTrackable);
  if (value < kSubBucketCount) return static_cast<int>(value);
  // value >> shift lands in [128, 256): the top 8 significant bits.
  const int shift = std::bit_width(static_cast<uint64_t>(value)) - kSubBucketBits;
  const int sub = static_cast<int>(value >> shift) - kSubBucketHalf;
  return kSubBucketCount + (shift - 1) * kSubBucketHalf + sub;
}

int64_t Histogram::LowestEquivalent(int index) {
  if (index < kSubBucketCount) return index;
  const int shift = (index - kSubBucketCount) / kSubBucketHalf + 1;
  const int sub = (index - kSubBucketCount) % kSubBucketHalf + kSubBucketHalf;
  return static_cast<int64_t>(sub) << shift;
}

int64_t Histogram::HighestEquivalent(int index) {
  if (index < kSubBucketCount) return index;
  const int shift = (index - kSubBucketCount) / kSubBucketHalf + 1;
  return LowestEquivalent(index) + (int64_t{1} << shift) - 1;
}

void Histogram::Record(int64_t value) {
  value = std::max<int64_t>(value, 0);
  ++counts_[IndexOf(value)];
  if (count_ == 0 || value < min_) min_ = value;
  if (value > max_) max_ = value;
  ++count_;
  sum_ += static_cast<double>(value);
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

double Histogram::mean() const { return count_ == 0 ? 0 : sum_ / static_cast<double>(count_); }

int64_t Histogram::ValueAtPercentile(double percentile) const {
  if (count_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  // Nearest rank: the ceil(p/100 * n)-th smallest value (at least the first). The small epsilon
  // keeps e.g. 99.9% of 1000 at rank 999 despite binary floating point.
  const double exact = percentile / 100.0 * static_cast<double>(count_);
  int64_t rank = static_cast<int64_t>(std::ceil(exact - 1e-9));
  rank = std::clamp<int64_t>(rank, 1, count_);
  static const int kTop = IndexOf(kMaxTrackable);  // also holds every larger value
  int64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return i == kTop ? max_ : std::clamp(HighestEquivalent(i), min(), max_);
  }
  return max_;
}

}  // namespace smp::loadgen
