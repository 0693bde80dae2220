#include "common/server/log.h"

#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// A strict parser for the subset of JSON that log lines use: one object whose members are all
// strings. Rejects raw control characters, bad escapes and invalid UTF-8; decodes \uXXXX
// (including surrogate pairs) to UTF-8 so tests can compare with the original text.
class FlatJsonParser {
 public:
  explicit FlatJsonParser(absl::string_view text) : s_(text) {}

  bool Parse(std::vector<std::pair<std::string, std::string>>* members) {
    if (!Consume('{')) return false;
    if (Consume('}')) return AtEnd();
    while (true) {
      std::string key, value;
      if (!String(&key) || !Consume(':') || !String(&value)) return false;
      members->emplace_back(std::move(key), std::move(value));
      if (Consume('}')) return AtEnd();
      if (!Consume(',')) return false;
    }
  }

 private:
  bool AtEnd() const { return i_ == s_.size(); }
  bool Consume(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  bool Hex4(uint32_t* v) {
    if (i_ + 4 > s_.size()) return false;
    *v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      *v <<= 4;
      if (c >= '0' && c <= '9') {
        *v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        *v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        *v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }
  // A raw (unescaped) UTF-8 sequence starting at i_; appended to out.
  bool Utf8(std::string* out) {
    const auto c = static_cast<uint8_t>(s_[i_]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i_ + static_cast<size_t>(len) > s_.size()) return false;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<uint8_t>(s_[i_ + static_cast<size_t>(k)]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    out->append(s_.data() + i_, static_cast<size_t>(len));
    i_ += static_cast<size_t>(len);
    return true;
  }
  bool String(std::string* out) {
    if (!Consume('"')) return false;
    while (i_ < s_.size()) {
      const auto c = static_cast<uint8_t>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return false;
      if (c != '\\') {
        if (!Utf8(out)) return false;
        continue;
      }
      if (++i_ >= s_.size()) return false;
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (!Consume('\\') || !Consume('u') || !Hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) {
              return false;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  absl::string_view s_;
  size_t i_ = 0;
};

// Parses one log line (with its trailing newline); fails the test if it is not valid.
std::vector<std::pair<std::string, std::string>> ParseLine(const std::string& line) {
  std::vector<std::pair<std::string, std::string>> members;
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per entry";
  const absl::string_view body = absl::string_view(line).substr(0, line.size() - 1);
  FlatJsonParser parser(body);
  EXPECT_TRUE(parser.Parse(&members)) << line;
  return members;
}

constexpr char kReplacement[] = "\xEF\xBF\xBD";

TEST(JsonEscapeTest, EscapesQuotesBackslashAndControlCharacters) {
  EXPECT_EQ(JsonEscape("plain"), "plain");
  EXPECT_EQ(JsonEscape("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(JsonEscape("\n\r\t\b\f"), "\\n\\r\\t\\b\\f");
  EXPECT_EQ(JsonEscape(std::string("\x00\x01\x1f\x7f", 4)), "\\u0000\\u0001\\u001f\\u007f");
  EXPECT_EQ(JsonEscape("</script>"), "</script>");
}

TEST(JsonEscapeTest, KeepsValidUtf8) {
  EXPECT_EQ(JsonEscape("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(JsonEscape("\xEF\xBF\xBF\xF4\x8F\xBF\xBF"), "\xEF\xBF\xBF\xF4\x8F\xBF\xBF");
}

TEST(JsonEscapeTest, ReplacesInvalidUtf8) {
  const std::string r = kReplacement;
  EXPECT_EQ(JsonEscape("a\xFF"
                       "b"),
            "a" + r + "b");                                  // never valid
  EXPECT_EQ(JsonEscape("\xC3"), r);                          // truncated
  EXPECT_EQ(JsonEscape("\xC3(x"), r + "(x");                 // bad continuation
  EXPECT_EQ(JsonEscape("\xC0\xAF"), r + r);                  // overlong '/'
  EXPECT_EQ(JsonEscape("\xE0\x80\xAF"), r + r + r);          // overlong
  EXPECT_EQ(JsonEscape("\xED\xA0\x80"), r + r + r);          // surrogate
  EXPECT_EQ(JsonEscape("\xF4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(JsonEscape("\x80\xBF"), r + r);                  // lone continuations
  EXPECT_EQ(JsonEscape("ok\xE2\x82"), "ok" + r + r);         // cut at the end
}

TEST(LogLineTest, IsOneValidJsonObjectWithFieldsInOrder) {
  std::string message = "quote\" slash\\ nl\n nul";
  message.push_back('\0');
  const std::string expected = message + " bad" + kReplacement;
  message += " bad\xFF";
  const std::string line = FormatLogLine("2026-11-25T13:00:00.123Z", LogLevel::kWarning, "identity",
                                         message, {{"k\n", "v\t"}, {"peer", "x"}});
  EXPECT_THAT(ParseLine(line),
              ElementsAre(Pair("ts", "2026-11-25T13:00:00.123Z"), Pair("level", "warning"),
                          Pair("service", "identity"), Pair("msg", expected), Pair("k\n", "v\t"),
                          Pair("peer", "x")));
}

TEST(LogLineTest, ReservedKeysAreRenamed) {
  const auto members =
      ParseLine(FormatLogLine("t", LogLevel::kInfo, "s", "m", {{"msg", "x"}, {"level", "y"}}));
  EXPECT_THAT(members,
              ElementsAre(Pair("ts", "t"), Pair("level", "info"), Pair("service", "s"),
                          Pair("msg", "m"), Pair("field_msg", "x"), Pair("field_level", "y")));
}

TEST(LogLevelTest, Parses) {
  LogLevel level = LogLevel::kInfo;
  EXPECT_TRUE(ParseLogLevel("DEBUG", &level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_TRUE(ParseLogLevel("warn", &level));
  EXPECT_EQ(level, LogLevel::kWarning);
  EXPECT_TRUE(ParseLogLevel("error", &level));
  EXPECT_EQ(level, LogLevel::kError);
  EXPECT_FALSE(ParseLogLevel("loud", &level));
  EXPECT_EQ(level, LogLevel::kError);
  EXPECT_EQ(AbslUnparseFlag(LogLevel::kWarning), "warning");
}

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override {
    SetLogLevel(LogLevel::kInfo);
    SetLogService("");
  }
};

TEST_F(LogTest, WritesToStderrAndFiltersByLevel) {
  SetLogService("identity");
  SetLogLevel(LogLevel::kWarning);
  ::testing::internal::CaptureStderr();
  LogInfo("dropped");
  LogWarning("kept", {{"clinic", "c1"}});
  const std::string out = ::testing::internal::GetCapturedStderr();
  const auto members = ParseLine(out);
  ASSERT_EQ(members.size(), 5u);
  EXPECT_EQ(members[0].first, "ts");
  // 2026-11-25T13:00:00.123Z
  EXPECT_EQ(members[0].second.size(), 24u);
  EXPECT_EQ(members[0].second[10], 'T');
  EXPECT_EQ(members[0].second[19], '.');
  EXPECT_EQ(members[0].second.back(), 'Z');
  EXPECT_THAT(members, ::testing::Contains(Pair("service", "identity")));
  EXPECT_THAT(members, ::testing::Contains(Pair("msg", "kept")));
  EXPECT_THAT(members, ::testing::Contains(Pair("clinic", "c1")));
}

// Info lines are gathered and written together; a warning writes those before it first, so the
// order holds, and what is still gathered goes out within the flush interval with no FlushLogs.
TEST_F(LogTest, GatheredInfoLinesKeepTheirOrderAndGoOutByThemselves) {
  ::testing::internal::CaptureStderr();
  LogInfo("first");
  LogInfo("second");
  LogWarning("third");
  LogInfo("fourth");
  absl::SleepFor(absl::Milliseconds(400));  // the flusher writes every 100 ms
  const std::string written = ::testing::internal::GetCapturedStderr();
  std::vector<std::string> lines = absl::StrSplit(written, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u) << written;
  const char* const in_order[] = {"first", "second", "third", "fourth"};
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_THAT(ParseLine(lines[i] + "\n"), ::testing::Contains(Pair("msg", in_order[i])));
  }
  EXPECT_TRUE(LogEnabled(LogLevel::kInfo));
  EXPECT_FALSE(LogEnabled(LogLevel::kDebug));
}

TEST_F(LogTest, ConcurrentLinesDoNotInterleave) {
  ::testing::internal::CaptureStderr();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 50; ++i) {
        LogInfo(std::string(1000, static_cast<char>('a' + t)), {{"i", std::to_string(i)}});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  FlushLogs();
  const std::string out = ::testing::internal::GetCapturedStderr();
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 200u);
  for (const std::string& line : lines) {
    const auto members = ParseLine(line + "\n");
    ASSERT_EQ(members.size(), 5u);
    EXPECT_THAT(members[3].second, ::testing::MatchesRegex("(a+|b+|c+|d+)"));
  }
}

}  // namespace
}  // namespace smp
