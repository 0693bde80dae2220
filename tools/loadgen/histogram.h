#ifndef SMP_TOOLS_LOADGEN_HISTOGRAM_H_
#define SMP_TOOLS_LOADGEN_HISTOGRAM_H_

#include <array>
#include <cstdint>

namespace smp::loadgen {

// A log-linear latency histogram in the manner of HdrHistogram, with 2 significant decimal
// digits: values below 256 are counted exactly; above, each power-of-two range [2^k, 2^(k+1)) is
// split into 128 equal sub-buckets, so a reported value is within 1/128 (< 0.8%) of the true one.
// Values are integers in a caller-chosen unit (the load generator uses microseconds) from 0 to
// kMaxTrackable (60 s in microseconds); larger values are counted in the top bucket, but max()
// keeps the true maximum. Fixed size (about 20 KB), no allocation. Not thread-safe.
class Histogram {
 public:
  static constexpr int64_t kMaxTrackable = 60'000'000;

  // Counts one value; negative values count as 0.
  void Record(int64_t value);

  // Adds every count of `other`.
  void Merge(const Histogram& other);

  int64_t count() const { return count_; }
  int64_t min() const { return count_ == 0 ? 0 : min_; }  // exact
  int64_t max() const { return max_; }                    // exact; 0 when empty
  double mean() const;                                    // exact (from the running sum)

  // The value at `percentile` (0..100) by the nearest-rank rule: the smallest recorded value v
  // such that at least `percentile`% of the values are <= v. Reported as the upper end of v's
  // bucket, clamped to [min(), max()], so it is exact below 256 and for 100, and otherwise at
  // most 1/128 above the true value (never below it); in the top bucket (kMaxTrackable and
  // beyond) it is max(). 0 when empty.
  int64_t ValueAtPercentile(double percentile) const;

  // Exposed for tests: the bucket index of a value and the range [lowest, highest] of values that
  // share that bucket.
  static int IndexOf(int64_t value);
  static int64_t LowestEquivalent(int index);
  static int64_t HighestEquivalent(int index);

 private:
  static constexpr int kSubBucketBits = 8;                     // 256 exact values
  static constexpr int kSubBucketCount = 1 << kSubBucketBits;  // 256
  static constexpr int kSubBucketHalf = kSubBucketCount / 2;   // 128 per power of two above
  static constexpr int kBuckets = 256 + 18 * kSubBucketHalf;   // up to 2^26 > kMaxTrackable

  std::array<int64_t, kBuckets> counts_{};
  int64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace smp::loadgen

#endif  // SMP_TOOLS_LOADGEN_HISTOGRAM_H_
