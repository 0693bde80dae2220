#include "common/util/ids.h"

#include <array>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/util/crypto.h"

namespace smp {
namespace {

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr size_t kIdLength = 26;

// 128-bit ULID value: 48 bits of time then 80 bits of randomness, as two words.
struct Ulid {
  uint64_t hi = 0;  // time (48 bits) << 16 | first 16 random bits
  uint64_t lo = 0;  // remaining 64 random bits
};

class UlidGenerator {
 public:
  Ulid Next(absl::Time now) {
    int64_t ms = absl::ToUnixMillis(now);
    if (ms < 0) ms = 0;
    absl::MutexLock lock(&mu_);
    // Monotonic within a millisecond (and if the clock steps back): increment the random part.
    if (ms <= last_ms_) {
      if (++last_.lo == 0) ++last_.hi;
      return last_;
    }
    last_ms_ = ms;
    std::string r = RandomBytes(10);
    uint64_t rand_hi =
        (static_cast<uint64_t>(static_cast<uint8_t>(r[0])) << 8) | static_cast<uint8_t>(r[1]);
    uint64_t rand_lo = 0;
    for (int i = 2; i < 10; ++i) rand_lo = (rand_lo << 8) | static_cast<uint8_t>(r[i]);
    // Leave headroom so increments within one millisecond never carry into the time bits.
    rand_hi &= 0x7fff;
    last_.hi = (static_cast<uint64_t>(ms) << 16) | rand_hi;
    last_.lo = rand_lo;
    return last_;
  }

 private:
  absl::Mutex mu_;
  int64_t last_ms_ ABSL_GUARDED_BY(mu_) = -1;
  Ulid last_ ABSL_GUARDED_BY(mu_);
};

std::string Encode(const Ulid& u) {
  // 26 base32 digits cover 130 bits; the top two bits are zero.
  std::string out(kIdLength, '0');
  uint64_t hi = u.hi, lo = u.lo;
  for (int i = kIdLength - 1; i >= 0; --i) {
    out[i] = kCrockford[lo & 0x1f];
    lo = (lo >> 5) | (hi << 59);
    hi >>= 5;
  }
  return out;
}

}  // namespace

std::string NewIdAt(absl::Time now) {
  static UlidGenerator* const generator = new UlidGenerator();
  return Encode(generator->Next(now));
}

std::string NewId() { return NewIdAt(absl::Now()); }

bool IsWellFormedId(absl::string_view id) {
  if (id.size() != kIdLength) return false;
  if (id[0] > '7') return false;  // would overflow 128 bits
  // A table of the alphabet's bytes: every request checks several ids, and comparing each
  // character with all 32 digits was 4% of a booking's CPU in tools/bench.
  static constexpr std::array<bool, 256> kDigit = [] {
    std::array<bool, 256> digit{};
    for (const char* p = kCrockford; *p; ++p) digit[static_cast<unsigned char>(*p)] = true;
    return digit;
  }();
  for (char c : id) {
    if (!kDigit[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

}  // namespace smp
