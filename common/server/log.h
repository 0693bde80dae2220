#ifndef SMP_COMMON_SERVER_LOG_H_
#define SMP_COMMON_SERVER_LOG_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace smp {

// Structured logs: one JSON object per line on stderr, for example
//   {"ts":"2026-11-25T13:00:00.123Z","level":"info","service":"identity","msg":"started","port":"50051"}
// `ts` is UTC with milliseconds. Every value is a JSON string. Lines are written whole under a
// process-wide mutex, so lines from concurrent threads never interleave. Warning and error lines
// are written at once (with every line before them); info and debug lines are gathered and
// written together at most 100 ms later (one write(2) for many RPCs' lines), at FlushLogs, or at
// the process's normal exit. A process killed outright may lose its last 100 ms of info lines.
// All functions here are thread-safe.

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// The `service` value of every later line; "" (the default) until set.
void SetLogService(absl::string_view service_name);

// Lines below `level` are dropped. Default kInfo.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

// "debug", "info", "warning" (or "warn"), "error", case-insensitive. False (and *level untouched)
// for anything else.
bool ParseLogLevel(absl::string_view text, LogLevel* level);

// "debug", "info", "warning", "error".
absl::string_view LogLevelName(LogLevel level);

// absl flag support, so that `ABSL_FLAG(smp::LogLevel, ...)` rejects a bad value at parse time.
bool AbslParseFlag(absl::string_view text, LogLevel* level, std::string* error);
std::string AbslUnparseFlag(LogLevel level);

// Extra key/value pairs, written after `msg` in the given order. A key equal to one of the fixed
// keys (ts, level, service, msg) is written as "field_<key>" so that no line has duplicate keys.
using LogFields = std::vector<std::pair<std::string, std::string>>;

// Whether a line at `level` would be written (to skip building its fields when not).
bool LogEnabled(LogLevel level);

void Log(LogLevel level, absl::string_view message, const LogFields& fields = {});
void LogDebug(absl::string_view message, const LogFields& fields = {});
void LogInfo(absl::string_view message, const LogFields& fields = {});
void LogWarning(absl::string_view message, const LogFields& fields = {});
void LogError(absl::string_view message, const LogFields& fields = {});

// Writes the info and debug lines still gathered (tests reading stderr; before an abrupt exit).
void FlushLogs();

// Routes gRPC's own log messages (gpr_log: transport errors, handshake failures, ...) through
// Log, so that stderr holds only JSON lines: {"msg":<gRPC's text>,"source":"file.cc:123",
// "component":"grpc"} at debug/info/error for gRPC's DEBUG/INFO/ERROR. gRPC still filters by its
// own GRPC_VERBOSITY (default ERROR) first. RunningServer::Start calls it; idempotent.
void RouteGrpcLogsToJson();

// The JSON string-literal body for `s`, WITHOUT the surrounding quotes: `"` and `\` are
// backslash-escaped, control characters (U+0000..U+001F and U+007F) become \n, \t, \r, \b, \f or
// \u00XX, and every byte that is not part of a well-formed UTF-8 sequence (including overlong
// forms, surrogates and code points above U+10FFFF) becomes U+FFFD. Valid UTF-8 passes through.
std::string JsonEscape(absl::string_view s);

// The whole line Log writes (including the trailing '\n'), with `ts` as the timestamp text;
// exposed for tests.
std::string FormatLogLine(absl::string_view ts, LogLevel level, absl::string_view service,
                          absl::string_view message, const LogFields& fields);

}  // namespace smp

#endif  // SMP_COMMON_SERVER_LOG_H_
