#include "common/auth/session_mac.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp {
namespace {

using ::smp::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

const SessionMac::Fields kFields = {{"v", "2"}, {"staff_id", "s1"}, {"roles", "2"}};

TEST(SessionMacTest, SignsAndVerifiesHex) {
  ASSERT_OK_AND_ASSIGN(SessionMac mac, SessionMac::Create(std::string(32, 'a')));
  const std::string signature = mac.Sign("hash", kFields);
  EXPECT_EQ(signature.size(), 64u);
  EXPECT_TRUE(mac.Verify("hash", kFields, signature));
  EXPECT_FALSE(mac.Verify("other-hash", kFields, signature));
  EXPECT_FALSE(mac.Verify("hash", kFields, ""));
  SessionMac::Fields edited = kFields;
  edited[2].second = "1";
  EXPECT_FALSE(mac.Verify("hash", edited, signature));
}

TEST(SessionMacTest, BoundariesBetweenFieldsCount) {
  ASSERT_OK_AND_ASSIGN(SessionMac mac, SessionMac::Create(std::string(32, 'a')));
  EXPECT_NE(mac.Sign("h", {{"ab", "c"}}), mac.Sign("h", {{"a", "bc"}}));
  EXPECT_NE(mac.Sign("h", {{"a", ""}, {"b", "c"}}), mac.Sign("h", {{"a", "b"}, {"", "c"}}));
}

TEST(SessionMacTest, ShortKeysAreRefused) {
  EXPECT_THAT(SessionMac::Create(std::string(31, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least 32")));
  EXPECT_THAT(SessionMac::Create(std::string(32, 'a'), "short"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("previous")));
}

TEST(SessionMacTest, PreviousKeyVerifiesButNeverSigns) {
  ASSERT_OK_AND_ASSIGN(SessionMac old_mac, SessionMac::Create(std::string(32, 'o')));
  ASSERT_OK_AND_ASSIGN(SessionMac rotating,
                       SessionMac::Create(std::string(32, 'n'), std::string(32, 'o')));
  ASSERT_OK_AND_ASSIGN(SessionMac new_mac, SessionMac::Create(std::string(32, 'n')));
  EXPECT_TRUE(rotating.Verify("h", kFields, old_mac.Sign("h", kFields)));
  EXPECT_EQ(rotating.Sign("h", kFields), new_mac.Sign("h", kFields));
  EXPECT_FALSE(new_mac.Verify("h", kFields, old_mac.Sign("h", kFields)));
}

class SessionMacFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& content, mode_t mode) {
    const std::string path = ::testing::TempDir() + "/session-mac-" + name;
    std::remove(path.c_str());
    {
      std::ofstream out(path, std::ios::binary);
      out << content;
    }
    chmod(path.c_str(), mode);
    return path;
  }
};

TEST_F(SessionMacFileTest, ReadsKeysFromOwnerOnlyFiles) {
  const std::string key(32, '\0');  // any bytes, NULs included
  const std::string path = Write("current", key, 0600);
  ASSERT_OK_AND_ASSIGN(SessionMac from_file, SessionMac::FromFiles(path, ""));
  ASSERT_OK_AND_ASSIGN(SessionMac direct, SessionMac::Create(key));
  EXPECT_EQ(from_file.Sign("h", kFields), direct.Sign("h", kFields));
  EXPECT_FALSE(from_file.has_previous_key());
}

TEST_F(SessionMacFileTest, BadFilesAreClearErrorsWithoutTheKey) {
  const std::string secret = "0123456789abcdef0123456789abcdef-secret";
  EXPECT_THAT(SessionMac::FromFiles("", ""),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("--session_mac_key_file is required")));
  EXPECT_THAT(SessionMac::FromFiles(Write("readable", secret, 0644), ""),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("--session_mac_key_file"), HasSubstr("chmod 600"),
                             Not(HasSubstr(secret)))));
  EXPECT_THAT(SessionMac::FromFiles(Write("short", "too short", 0600), ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least 32")));
  EXPECT_THAT(SessionMac::FromFiles(::testing::TempDir() + "/no-such-key", ""),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("cannot open")));
  EXPECT_THAT(SessionMac::FromFiles(Write("ok", secret, 0600), Write("prev", secret, 0640)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("--session_mac_previous_key_file")));
}

TEST_F(SessionMacFileTest, SymlinkIsRefused) {
  const std::string target = Write("target", std::string(32, 'k'), 0600);
  const std::string link = ::testing::TempDir() + "/session-mac-link";
  std::remove(link.c_str());
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  EXPECT_THAT(SessionMac::FromFiles(link, ""), StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace smp
