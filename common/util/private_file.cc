#include "common/util/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace smp {
namespace {

absl::Status CheckPrivate(const std::string& path, const std::string& what, bool directory) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) return absl::NotFoundError(absl::StrCat(what, " ", path, " does not exist"));
    return absl::FailedPreconditionError(
        absl::StrCat("cannot inspect ", what, " ", path, ": ", std::strerror(err)));
  }
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " is not a ", directory ? "directory" : "regular file",
                     S_ISLNK(st.st_mode) ? " (a symbolic link; give the real path)" : ""));
  }
  if (st.st_uid != ::geteuid()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s %s belongs to uid %d, not to this service's user (uid %d); run `chown %d %s`", what,
        path, st.st_uid, ::geteuid(), ::geteuid(), path));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s %s is accessible by group or others (mode %04o); run `chmod %s %s`",
                        what, path, st.st_mode & 07777, directory ? "700" : "600", path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckPrivateDirectory(const std::string& path, const std::string& what) {
  return CheckPrivate(path, what, /*directory=*/true);
}

absl::Status CheckPrivateFile(const std::string& path, const std::string& what) {
  return CheckPrivate(path, what, /*directory=*/false);
}

absl::Status CreatePrivateFile(const std::string& path) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);
  if (fd < 0) {
    const int err = errno;
    const std::string message = absl::StrCat("cannot create ", path, ": ", std::strerror(err));
    return err == EEXIST ? absl::AlreadyExistsError(message) : absl::UnavailableError(message);
  }
  const bool ok = ::fchmod(fd, S_IRUSR | S_IWUSR) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) {
    return absl::UnavailableError(absl::StrCat("cannot chmod ", path, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace smp
