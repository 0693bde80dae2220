#include "tools/smpctl/token_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/smpctl/errors.h"

namespace smp::smpctl {
namespace {

std::string Errno() { return std::strerror(errno); }

// mkdir -p with mode 0700 for the directories it creates.
absl::Status MakeParents(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return absl::OkStatus();
  const std::string dir = path.substr(0, slash);
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return LocalError(absl::StrCat(dir, " is not a directory"));
    return absl::OkStatus();
  }
  if (absl::Status s = MakeParents(dir); !s.ok()) return s;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return LocalError(absl::StrCat("cannot create directory ", dir, ": ", Errno()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteTokenFile(const std::string& path, const std::string& token) {
  if (absl::Status s = MakeParents(path); !s.ok()) return s;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return LocalError(absl::StrCat("cannot write token file ", path, ": ", Errno()));
  // O_CREAT's mode applies only to a new file (and passes through the umask): make sure.
  if (::fchmod(fd, 0600) != 0) {
    const std::string error = Errno();
    ::close(fd);
    return LocalError(absl::StrCat("cannot set mode 0600 on token file ", path, ": ", error));
  }
  const std::string content = token + "\n";
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string error = Errno();
      ::close(fd);
      return LocalError(absl::StrCat("cannot write token file ", path, ": ", error));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return LocalError(absl::StrCat("cannot write token file ", path, ": ", Errno()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::UnauthenticatedError(
          absl::StrCat("not logged in (no token file at ", path, "); run `smpctl login`"));
    }
    if (errno == ELOOP) {
      return absl::UnauthenticatedError(
          absl::StrCat("refusing token file ", path, ": it is a symbolic link"));
    }
    return absl::UnauthenticatedError(absl::StrCat("cannot read token file ", path, ": ", Errno()));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const std::string error = Errno();
    ::close(fd);
    return absl::UnauthenticatedError(absl::StrCat("cannot read token file ", path, ": ", error));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::UnauthenticatedError(
        absl::StrCat("refusing token file ", path, ": not a regular file"));
  }
  if (st.st_uid != ::geteuid()) {
    ::close(fd);
    return absl::UnauthenticatedError(
        absl::StrCat("refusing token file ", path, ": it belongs to another user"));
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return absl::UnauthenticatedError(absl::StrFormat(
        "refusing token file %s: it is accessible by group or others (mode %04o); run `chmod 600 "
        "%s` or log in again",
        path, st.st_mode & 07777, path));
  }
  std::string content;
  char buf[512];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string error = Errno();
      ::close(fd);
      return absl::UnauthenticatedError(absl::StrCat("cannot read token file ", path, ": ", error));
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > 4096) break;
  }
  ::close(fd);
  std::string token(absl::StripAsciiWhitespace(content));
  if (token.empty() || token.size() > 1024 || token.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::UnauthenticatedError(
        absl::StrCat("token file ", path, " does not hold a token; run `smpctl login`"));
  }
  return token;
}

absl::Status RemoveTokenFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return LocalError(absl::StrCat("cannot remove token file ", path, ": ", Errno()));
  }
  return absl::OkStatus();
}

}  // namespace smp::smpctl
