#include "tools/smpctl/command.h"

#include <sstream>

#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/smpctl/cli.h"
#include "tools/smpctl/commands.h"
#include "tools/smpctl/errors.h"

namespace smp::smpctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<ParsedLine> Parse(std::vector<std::string> args) {
  return ParseCommandLine(args, AllCommands());
}

TEST(ParseCommandLine, FlagsInBothFormsAndPositional) {
  absl::StatusOr<ParsedLine> line = Parse({"--json", "appointment", "start", "A1", "--supply",
                                           "serial=S1", "--supply=lot=L1:2", "--etag=v3"});
  ASSERT_OK(line);
  ASSERT_NE(line->command, nullptr);
  EXPECT_EQ(line->command->Name(), "appointment start");
  EXPECT_THAT(line->positionals, ElementsAre("A1"));
  EXPECT_THAT(line->flags["supply"], ElementsAre("serial=S1", "lot=L1:2"));
  EXPECT_THAT(line->flags["json"], ElementsAre("true"));
  EXPECT_THAT(line->flags["etag"], ElementsAre("v3"));
}

TEST(ParseCommandLine, GlobalFlagsAfterTheCommandAndDashesInNames) {
  absl::StatusOr<ParsedLine> line =
      Parse({"clinic", "get", "C1", "--json", "--request-id=abc", "--identity", "h:1"});
  ASSERT_OK(line);
  EXPECT_THAT(line->flags["request_id"], ElementsAre("abc"));
  EXPECT_THAT(line->flags["identity"], ElementsAre("h:1"));
}

TEST(ParseCommandLine, ServicePrefixIsAllowed) {
  absl::StatusOr<ParsedLine> line = Parse({"compliance", "report", "export", "--format=csv",
                                           "--out=/tmp/x", "--from=2026-01-01", "--to=2026-01-31"});
  ASSERT_OK(line);
  EXPECT_EQ(line->command->Name(), "report export");
}

TEST(ParseCommandLine, UsageErrors) {
  auto usage = [](std::vector<std::string> args, const std::string& text) {
    absl::StatusOr<ParsedLine> line = Parse(args);
    EXPECT_FALSE(line.ok()) << ::testing::PrintToString(args);
    EXPECT_TRUE(IsUsageError(line.status())) << line.status();
    EXPECT_THAT(std::string(line.status().message()), HasSubstr(text));
  };
  usage({"clinic", "get", "C1", "--bogus=1"}, "unknown flag --bogus");
  usage({"clinic", "fly"}, "unknown command \"clinic fly\"");
  usage({"teleport"}, "unknown command \"teleport\"");
  usage({"clinic", "get"}, "needs its ID");
  usage({"clinic", "get", "A", "B"}, "unexpected argument \"B\"");
  usage({"clinic", "list", "A"}, "unexpected argument \"A\"");
  usage({"login"}, "needs --username");
  usage({"login", "--username"}, "--username needs a value");
  usage({"login", "--username=a", "--username=b"}, "given more than once");
  usage({"--bogus", "whoami"}, "unknown flag --bogus");
  usage({"whoami", "--json=maybe"}, "--json: want true or false");
}

TEST(ParseCommandLine, HelpForms) {
  for (std::vector<std::string> args : {std::vector<std::string>{"help"},
                                        {"--help"},
                                        {"appointment", "--help"},
                                        {"appointment", "book", "--help"},
                                        {"appointment"},
                                        {"help", "appointment", "book"}}) {
    absl::StatusOr<ParsedLine> line = Parse(args);
    ASSERT_OK(line);
    EXPECT_TRUE(line->help) << ::testing::PrintToString(args);
  }
}

TEST(Run, HelpAndUsageExitCodes) {
  std::ostringstream out, err;
  auto env = [](absl::string_view) -> std::optional<std::string> { return std::nullopt; };
  EXPECT_EQ(smpctl::Run({"help"}, env, out, err), kExitOk);
  EXPECT_THAT(out.str(), HasSubstr("Exit codes:"));
  EXPECT_THAT(out.str(), HasSubstr("appointment book"));
  out.str("");
  EXPECT_EQ(smpctl::Run({"appointment", "book", "--help"}, env, out, err), kExitOk);
  EXPECT_THAT(out.str(), HasSubstr("--start=TIME"));
  out.str("");
  EXPECT_EQ(smpctl::Run({"stock", "--help"}, env, out, err), kExitOk);
  EXPECT_THAT(out.str(), HasSubstr("smpctl stock receive"));
  EXPECT_EQ(smpctl::Run({"clinic", "get", "X", "--nope"}, env, out, err), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("smpctl: unknown flag --nope"));
  EXPECT_EQ(smpctl::Run({}, env, out, err), kExitUsage);
}

TEST(Run, EveryCommandHasHelp) {
  for (const Command& c : AllCommands().commands()) {
    EXPECT_FALSE(c.summary.empty()) << c.Name();
    EXPECT_TRUE(c.run) << c.Name();
    EXPECT_THAT(CommandHelp(c), HasSubstr(c.Name()));
  }
}

TEST(Run, BadValuesAreUsageErrorsBeforeAnyCall) {
  // No service listens on port 1: a call would be exit 8, so exit 2 proves none was made.
  std::ostringstream out, err;
  auto env = [](absl::string_view name) -> std::optional<std::string> {
    if (name == "SMPCTL_TOKEN_FILE") return "/nonexistent/token";
    for (Service s : kAllServices) {
      if (name == ServiceEnvVar(s)) return "127.0.0.1:1";
    }
    return std::nullopt;
  };
  EXPECT_EQ(smpctl::Run({"appointment", "book", "--clinic=c", "--patient=p", "--practitioner=t",
                         "--start=tomorrow"},
                        env, out, err),
            kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("--start: want an RFC 3339 time"));
  EXPECT_EQ(smpctl::Run({"availability", "find", "--clinic=c", "--from=2026-02-30"}, env, out, err),
            kExitUsage);
  EXPECT_EQ(smpctl::Run({"appointment", "complete", "A", "--checklist=gown"}, env, out, err),
            kExitUsage);
  EXPECT_EQ(smpctl::Run({"--timeout=soon", "whoami"}, env, out, err), kExitUsage);
  EXPECT_EQ(smpctl::Run({"--identity=nope", "whoami"}, env, out, err), kExitUsage);
  EXPECT_EQ(smpctl::Run({"--tls_ca=/nonexistent/ca.pem", "whoami"}, env, out, err), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("--tls_ca: cannot read /nonexistent/ca.pem"));
}

}  // namespace
}  // namespace smp::smpctl
