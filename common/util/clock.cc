#include "common/util/clock.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "common/util/clock_offset.h"

namespace smp {
namespace {

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// absl::Now() plus the duration held in a file, re-read on every call, so that a test moves the
// domain time of every process it started at once by rewriting one file. See clock_offset.h.
class ShiftedClock final : public Clock {
 public:
  explicit ShiftedClock(std::string path) : path_(std::move(path)) {}
  absl::Time Now() const override { return absl::Now() + ReadClockOffsetFile(path_); }

 private:
  const std::string path_;
};

}  // namespace

absl::Duration ReadClockOffsetFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  absl::Duration offset;
  if (!absl::ParseDuration(absl::StripAsciiWhitespace(text.str()), &offset)) {
    return absl::ZeroDuration();
  }
  return offset;
}

const Clock& Clock::Real() {
  static const Clock* const clock = []() -> const Clock* {
    const char* path = std::getenv(kTestingClockOffsetFileEnv);
    if (path == nullptr || *path == '\0') return new RealClock();
    std::fprintf(stderr,
                 "WARNING: %s is set: this process's clock is shifted by the duration in %s "
                 "(for tests only; never set it in production)\n",
                 kTestingClockOffsetFileEnv, path);
    return new ShiftedClock(path);
  }();
  return *clock;
}

}  // namespace smp
