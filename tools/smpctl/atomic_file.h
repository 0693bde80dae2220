#ifndef SMP_TOOLS_SMPCTL_ATOMIC_FILE_H_
#define SMP_TOOLS_SMPCTL_ATOMIC_FILE_H_

// A file that appears whole or not at all: written to a temporary file beside the target (mode
// 0600: reports name patients), flushed to disk, then renamed over the target. Dropped without
// Commit (an error, an interrupted export), the temporary file is removed and the target is left
// as it was.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smp::smpctl {

class AtomicFile {
 public:
  static absl::StatusOr<std::unique_ptr<AtomicFile>> Create(const std::string& path);
  ~AtomicFile();

  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  absl::Status Write(absl::string_view data);
  // fsync, close, rename over the target.
  absl::Status Commit();

  int64_t bytes() const { return bytes_; }
  const std::string& path() const { return path_; }

 private:
  AtomicFile(std::string path, std::string temp, int fd)
      : path_(std::move(path)), temp_(std::move(temp)), fd_(fd) {}

  std::string path_;
  std::string temp_;
  int fd_;
  int64_t bytes_ = 0;
  bool committed_ = false;
};

}  // namespace smp::smpctl

#endif  // SMP_TOOLS_SMPCTL_ATOMIC_FILE_H_
