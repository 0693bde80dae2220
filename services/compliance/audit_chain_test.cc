#include "services/compliance/audit_chain.h"

#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "common/util/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smp::compliance {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

std::vector<v1::AuditEntry> Chain(int n) {
  std::vector<v1::AuditEntry> entries;
  std::string previous = GenesisHash();
  for (int i = 1; i <= n; ++i) {
    v1::AuditEntry e;
    e.set_sequence(i);
    *e.mutable_time() = ToProtoTimestamp(absl::FromUnixSeconds(1764000000 + i));
    e.set_actor_id("01JD00000000000000000000A1");
    e.add_actor_roles("ROLE_TECHNICIAN");
    e.set_action(v1::AUDIT_ACTION_CREATE);
    e.set_method("RecordConsent");
    e.set_entity_type("consent");
    e.set_entity_id(absl::StrCat("consent-", i));
    e.set_previous_hash(previous);
    e.set_hash(EntryHash(e));
    previous = e.hash();
    entries.push_back(e);
  }
  return entries;
}

TEST(AuditChainTest, IntactChainVerifies) {
  ChainVerdict v = VerifyChain(Chain(10));
  EXPECT_TRUE(v.intact);
  EXPECT_EQ(v.entries_checked, 10);
  EXPECT_TRUE(VerifyChain({}).intact);
}

TEST(AuditChainTest, AlteringAnyFieldIsCaughtAtThatEntry) {
  for (int field = 0; field < 6; ++field) {
    auto entries = Chain(10);
    v1::AuditEntry& e = entries[4];
    switch (field) {
      case 0:
        e.set_actor_id("someone else");
        break;
      case 1:
        e.set_detail("edited");
        break;
      case 2:
        e.set_action(v1::AUDIT_ACTION_READ);
        break;
      case 3:
        e.set_entity_id("consent-x");
        break;
      case 4:
        e.clear_actor_roles();
        break;
      default:
        *e.mutable_time() = ToProtoTimestamp(absl::FromUnixSeconds(1));
        break;
    }
    ChainVerdict v = VerifyChain(entries);
    EXPECT_FALSE(v.intact) << field;
    EXPECT_EQ(v.first_bad_sequence, 5) << field;
    EXPECT_NE(v.problem.find("altered"), std::string::npos) << v.problem;
  }
}

TEST(AuditChainTest, DeletingOrReorderingIsCaught) {
  auto deleted = Chain(10);
  deleted.erase(deleted.begin() + 3);
  ChainVerdict v = VerifyChain(deleted);
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad_sequence, 4);

  auto swapped = Chain(10);
  std::swap(swapped[6], swapped[7]);
  v = VerifyChain(swapped);
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad_sequence, 7);

  // Renumbered after a deletion, so the sequence looks right: the link breaks instead.
  auto renumbered = Chain(10);
  renumbered.erase(renumbered.begin() + 2);
  for (size_t i = 0; i < renumbered.size(); ++i)
    renumbered[i].set_sequence(static_cast<int64_t>(i) + 1);
  v = VerifyChain(renumbered);
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad_sequence, 3);
}

TEST(AuditChainTest, ARecomputedChainPassesVerifyButNotTheCheckpoint) {
  const std::string key = ::testing::TempDir() + "/checkpoint-" + NewId() + ".key";
  ASSERT_OK_AND_ASSIGN(CheckpointSigner signer, CheckpointSigner::LoadOrCreate(key));
  auto entries = Chain(5);
  v1::Checkpoint checkpoint = signer.Sign(5, entries[4].hash(), absl::FromUnixSeconds(1764000100));
  EXPECT_TRUE(signer.VerifySignature(checkpoint));

  // Someone with database access rewrites entry 2 and recomputes every hash after it.
  entries[1].set_detail("rewritten");
  for (size_t i = 1; i < entries.size(); ++i) {
    entries[i].set_previous_hash(entries[i - 1].hash());
    entries[i].set_hash(EntryHash(entries[i]));
  }
  EXPECT_TRUE(VerifyChain(entries).intact);              // the chain alone cannot tell
  EXPECT_NE(entries[4].hash(), checkpoint.head_hash());  // the kept checkpoint can

  v1::Checkpoint forged = checkpoint;
  forged.set_head_hash(entries[4].hash());
  EXPECT_FALSE(signer.VerifySignature(forged));

  // The key survives a restart (same file), and another key does not verify it.
  ASSERT_OK_AND_ASSIGN(CheckpointSigner reloaded, CheckpointSigner::LoadOrCreate(key));
  EXPECT_TRUE(reloaded.VerifySignature(checkpoint));
  ASSERT_OK_AND_ASSIGN(CheckpointSigner other, CheckpointSigner::LoadOrCreate(key + ".other"));
  EXPECT_FALSE(other.VerifySignature(checkpoint));
  ::unlink(key.c_str());
  ::unlink((key + ".other").c_str());
}

TEST(AuditChainTest, CheckpointKeyIsPrivateWhateverTheUmaskAndAnOpenOneIsRefused) {
  const std::string key = ::testing::TempDir() + "/checkpoint-" + NewId() + ".key";
  const mode_t old_umask = ::umask(0);
  absl::StatusOr<CheckpointSigner> signer = CheckpointSigner::LoadOrCreate(key);
  ::umask(old_umask);
  ASSERT_OK(signer.status());
  struct stat st;
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
  EXPECT_THAT(CheckpointSigner::LoadOrCreate(key),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("chmod 600 " + key)));
  ::unlink(key.c_str());
}

}  // namespace
}  // namespace smp::compliance
