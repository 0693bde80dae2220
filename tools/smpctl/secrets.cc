#include "tools/smpctl/secrets.h"

#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "tools/smpctl/errors.h"

namespace smp::smpctl {
namespace {

std::string StripNewline(std::string line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

}  // namespace

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, absl::string_view what) {
  std::ifstream in(path);
  if (!in) return LocalError(absl::StrCat("cannot read ", what, " file ", path));
  std::string line;
  std::getline(in, line);
  line = StripNewline(line);
  if (line.empty()) return LocalError(absl::StrCat(what, " file ", path, " is empty"));
  return line;
}

absl::StatusOr<std::string> ReadSecretFromStdin(absl::string_view prompt, absl::string_view what) {
  std::string line;
  if (::isatty(STDIN_FILENO)) {
    std::cerr << prompt << std::flush;
    termios old_mode;
    const bool have_mode = ::tcgetattr(STDIN_FILENO, &old_mode) == 0;
    if (have_mode) {
      termios quiet = old_mode;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      quiet.c_lflag |= ECHONL;
      ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::getline(std::cin, line);
    if (have_mode) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old_mode);
  } else {
    std::getline(std::cin, line);
  }
  line = StripNewline(line);
  if (line.empty()) {
    return UsageError(absl::StrCat("no ", what,
                                   " given (type it at the prompt, pipe it on "
                                   "standard input, or use a file flag)"));
  }
  return line;
}

}  // namespace smp::smpctl
