#include "common/auth/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace smp {
namespace {

constexpr size_t kMaxSecretBytes = 64 * 1024;

}  // namespace

absl::StatusOr<std::string> ReadSecretFile(absl::string_view what, const std::string& path,
                                           bool trim_trailing_newline) {
  auto fail = [&](absl::string_view problem) {
    return absl::FailedPreconditionError(absl::StrCat(what, " ", path, ": ", problem));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return fail(absl::StrCat("cannot open: ", std::strerror(errno)));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail("is not a regular file");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    return fail("is readable by group or others; make it readable by its owner only (chmod 600)");
  }
  std::string content;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return fail(absl::StrCat("cannot read: ", std::strerror(errno)));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
    if (content.size() > kMaxSecretBytes) {
      ::close(fd);
      return fail("is larger than 64 KiB; is it the right file?");
    }
  }
  ::close(fd);
  if (trim_trailing_newline && absl::EndsWith(content, "\n")) {
    content.pop_back();
    if (absl::EndsWith(content, "\r")) content.pop_back();
  }
  if (content.empty()) return fail("is empty");
  return content;
}

}  // namespace smp
