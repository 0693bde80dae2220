#include "services/identity/setup_code.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/util/crypto.h"

namespace smp::identity {

absl::StatusOr<std::string> WriteSetupCode(const std::string& path, const std::string& preset) {
  const std::string code = preset.empty() ? Base64UrlEncode(RandomBytes(16)) : preset;
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  }
  const std::string contents = code + "\n";
  const bool written =
      ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()) &&
      ::fsync(fd) == 0;
  ::close(fd);
  if (!written || std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return code;
}

void RemoveSetupCode(const std::string& path) { ::unlink(path.c_str()); }

}  // namespace smp::identity
