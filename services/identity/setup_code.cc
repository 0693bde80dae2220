#include "services/identity/setup_code.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/util/crypto.h"

namespace smp::identity {
namespace {

constexpr size_t kMinCodeLength = 16;
constexpr size_t kMaxFileBytes = 4096;

absl::Status Unreadable(const std::string& path, int err) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot read the setup code file ", path, ": ", std::strerror(err)));
}

absl::StatusOr<std::string> ReadExisting(const std::string& path, int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Unreadable(path, errno);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("setup code file ", path, " is not a regular file"));
  }
  if (st.st_uid != ::geteuid()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "setup code file ", path, " belongs to another user; it must be this service's own"));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "setup code file %s is accessible by group or others (mode %04o); run `chmod 600 %s`", path,
        st.st_mode & 07777, path));
  }
  std::string contents;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0 && contents.size() < kMaxFileBytes) {
    contents.append(buf, static_cast<size_t>(n));
  }
  if (n < 0) return Unreadable(path, errno);
  const std::string code(absl::StripAsciiWhitespace(contents.substr(0, contents.find('\n'))));
  if (code.size() < kMinCodeLength) {
    return absl::FailedPreconditionError(absl::StrCat("setup code file ", path,
                                                      " must hold one line of at least ",
                                                      kMinCodeLength, " characters"));
  }
  return code;
}

absl::StatusOr<std::string> CreateNew(const std::string& path) {
  const std::string code = Base64UrlEncode(RandomBytes(16));
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());  // left by a crash; unlink does not follow a symbolic link
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot create ", tmp, ": ", std::strerror(errno)));
  }
  const std::string contents = code + "\n";
  // The umask may only have narrowed 0600, but make sure.
  const bool written =
      ::fchmod(fd, S_IRUSR | S_IWUSR) == 0 &&
      ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()) &&
      ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  // link(2) fails if `path` appeared meanwhile (even as a symbolic link) rather than replacing it.
  const bool linked = written && ::link(tmp.c_str(), path.c_str()) == 0;
  const int link_err = errno;
  ::unlink(tmp.c_str());
  if (!written || !linked) {
    return absl::UnavailableError(absl::StrCat("cannot write the setup code file ", path, ": ",
                                               std::strerror(written ? link_err : err)));
  }
  return code;
}

}  // namespace

absl::StatusOr<std::string> PrepareSetupCode(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    absl::StatusOr<std::string> code = ReadExisting(path, fd);
    ::close(fd);
    return code;
  }
  if (errno == ELOOP) {
    return absl::FailedPreconditionError(
        absl::StrCat("setup code file ", path, " is a symbolic link; refusing to follow it"));
  }
  if (errno != ENOENT) return Unreadable(path, errno);
  return CreateNew(path);
}

void RemoveSetupCode(const std::string& path) { ::unlink(path.c_str()); }

}  // namespace smp::identity
