#include "common/server/log.h"

#include <grpc/support/log.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "absl/base/call_once.h"
#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace smp {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

absl::Mutex& ServiceMutex() {
  static absl::Mutex* mu = new absl::Mutex;
  return *mu;
}
std::string& ServiceName() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ServiceMutex()) {
  static std::string* name = new std::string;
  return *name;
}

// Serialises writers so that a line longer than PIPE_BUF, or a partial write, is never split
// by another thread's line.
absl::Mutex& WriteMutex() {
  static absl::Mutex* mu = new absl::Mutex;
  return *mu;
}

void WriteAllLocked(int fd, absl::string_view data) ABSL_EXCLUSIVE_LOCKS_REQUIRED(WriteMutex()) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // Nowhere to report a failing stderr.
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Info and debug lines wait here for the flusher thread, which writes what has gathered every
// kFlushInterval with one write(2): a line a call (every RPC's) cost a system call under the
// write mutex on the serving thread. A warning or error writes what is pending and itself at once,
// in order, as does a full buffer; the process's normal exit (atexit) and FlushLogs write the
// rest. Only a process killed outright loses its last kFlushInterval of info lines.
constexpr absl::Duration kFlushInterval = absl::Milliseconds(100);
constexpr size_t kMaxPending = 64 << 10;

std::string& Pending() ABSL_EXCLUSIVE_LOCKS_REQUIRED(WriteMutex()) {
  static std::string* pending = new std::string;
  return *pending;
}

void WritePendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(WriteMutex()) {
  WriteAllLocked(STDERR_FILENO, Pending());
  Pending().clear();
}

void FlushEveryInterval() {
  for (;;) {
    absl::SleepFor(kFlushInterval);
    FlushLogs();
  }
}

void StartFlusher() {
  static absl::once_flag started;
  absl::call_once(started, [] {
    std::thread(FlushEveryInterval).detach();
    std::atexit([] { FlushLogs(); });
  });
}

void WriteLine(absl::string_view line, LogLevel level) {
  const bool now = level >= LogLevel::kWarning;
  if (!now) StartFlusher();
  absl::MutexLock lock(&WriteMutex());
  Pending().append(line.data(), line.size());
  if (now || Pending().size() >= kMaxPending) WritePendingLocked();
}

// "2026-11-25T13:00:00.123Z". The text up to the second is formatted once a second per thread.
std::string Timestamp(absl::Time now) {
  thread_local int64_t formatted_second = -1;
  thread_local std::string up_to_second;
  const int64_t micros = absl::ToUnixMicros(now);
  const int64_t second = micros >= 0 ? micros / 1000000 : (micros - 999999) / 1000000;
  if (second != formatted_second) {
    up_to_second =
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(second), absl::UTCTimeZone());
    formatted_second = second;
  }
  const int millis = static_cast<int>((micros - second * 1000000) / 1000);
  char tail[8];
  std::snprintf(tail, sizeof(tail), ".%03dZ", millis);
  return absl::StrCat(up_to_second, tail);
}

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0 if it is not one
// (RFC 3629 table 3-7: no overlongs, no surrogates, nothing above U+10FFFF).
size_t Utf8SequenceLength(absl::string_view s) {
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t c = b(0);
  size_t len;
  uint8_t lo = 0x80, hi = 0xBF;  // Allowed range of the second byte.
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (b(i) < 0x80 || b(i) > 0xBF) return 0;
  }
  return len;
}

void AppendQuoted(std::string* out, absl::string_view s) {
  out->push_back('"');
  out->append(JsonEscape(s));
  out->push_back('"');
}

bool IsReservedKey(absl::string_view key) {
  return key == "ts" || key == "level" || key == "service" || key == "msg";
}

void GrpcLogSink(gpr_log_func_args* args) {
  LogLevel level = LogLevel::kError;
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) level = LogLevel::kDebug;
  if (args->severity == GPR_LOG_SEVERITY_INFO) level = LogLevel::kInfo;
  const char* file = args->file != nullptr ? args->file : "";
  // gRPC passes full build paths; the base name is enough to find the line.
  const char* slash = std::strrchr(file, '/');
  Log(level, args->message != nullptr ? args->message : "",
      {{"component", "grpc"}, {"source", absl::StrCat(slash ? slash + 1 : file, ":", args->line)}});
}

}  // namespace

void RouteGrpcLogsToJson() { gpr_set_log_function(&GrpcLogSink); }

void SetLogService(absl::string_view service_name) {
  absl::MutexLock lock(&ServiceMutex());
  ServiceName().assign(service_name.data(), service_name.size());
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

bool ParseLogLevel(absl::string_view text, LogLevel* level) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "debug") {
    *level = LogLevel::kDebug;
  } else if (lower == "info") {
    *level = LogLevel::kInfo;
  } else if (lower == "warning" || lower == "warn") {
    *level = LogLevel::kWarning;
  } else if (lower == "error") {
    *level = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

bool AbslParseFlag(absl::string_view text, LogLevel* level, std::string* error) {
  if (ParseLogLevel(text, level)) return true;
  *error = "expected one of debug, info, warning, error";
  return false;
}

std::string AbslUnparseFlag(LogLevel level) { return std::string(LogLevelName(level)); }

std::string JsonEscape(absl::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(s.substr(i));
      if (len == 0) {
        out.append("\xEF\xBF\xBD");  // U+FFFD, one per bad byte.
        ++i;
      } else {
        out.append(s.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  return out;
}

std::string FormatLogLine(absl::string_view ts, LogLevel level, absl::string_view service,
                          absl::string_view message, const LogFields& fields) {
  std::string line;
  line.reserve(96 + message.size());
  line.append("{\"ts\":");
  AppendQuoted(&line, ts);
  line.append(",\"level\":");
  AppendQuoted(&line, LogLevelName(level));
  line.append(",\"service\":");
  AppendQuoted(&line, service);
  line.append(",\"msg\":");
  AppendQuoted(&line, message);
  for (const auto& [key, value] : fields) {
    line.push_back(',');
    AppendQuoted(&line, IsReservedKey(key) ? "field_" + key : key);
    line.push_back(':');
    AppendQuoted(&line, value);
  }
  line.append("}\n");
  return line;
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void Log(LogLevel level, absl::string_view message, const LogFields& fields) {
  if (!LogEnabled(level)) return;
  const std::string ts = Timestamp(absl::Now());
  std::string service;
  {
    absl::MutexLock lock(&ServiceMutex());
    service = ServiceName();
  }
  WriteLine(FormatLogLine(ts, level, service, message, fields), level);
}

void FlushLogs() {
  absl::MutexLock lock(&WriteMutex());
  if (!Pending().empty()) WritePendingLocked();
}

void LogDebug(absl::string_view message, const LogFields& fields) {
  Log(LogLevel::kDebug, message, fields);
}
void LogInfo(absl::string_view message, const LogFields& fields) {
  Log(LogLevel::kInfo, message, fields);
}
void LogWarning(absl::string_view message, const LogFields& fields) {
  Log(LogLevel::kWarning, message, fields);
}
void LogError(absl::string_view message, const LogFields& fields) {
  Log(LogLevel::kError, message, fields);
}

}  // namespace smp
