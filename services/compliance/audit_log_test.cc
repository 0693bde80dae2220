#include "services/compliance/audit_log.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <string>

#include "services/compliance/unit_test_env.h"

namespace smp::compliance {
namespace {

using ::smp::testing::StatusIs;
using ::testing::HasSubstr;

class AuditLogTest : public testing::UnitTestEnv {
 protected:
  void SetUp() override {
    UnitTestEnv::SetUp();
    absl::StatusOr<CheckpointSigner> signer =
        CheckpointSigner::LoadOrCreate(::testing::TempDir() + "/checkpoint_" + NewId() + ".key");
    ASSERT_OK(signer.status());
    signer_ = std::make_unique<CheckpointSigner>(*std::move(signer));
    unit_ = std::make_unique<AuditLog>(audit_.get(), signer_.get());
    // Three entries to read.
    ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) -> absl::Status {
      for (int i = 0; i < 3; ++i) {
        RETURN_IF_ERROR(audit_
                            ->Record(txn, StaffA(common::v1::ROLE_ADMIN, "RecordPermit"),
                                     v1::AUDIT_ACTION_CREATE, "permit", absl::StrCat("p", i))
                            .status());
      }
      return absl::OkStatus();
    }));
  }
  std::unique_ptr<CheckpointSigner> signer_;
  std::unique_ptr<AuditLog> unit_;
};

TEST_F(AuditLogTest, EntriesPageBySequenceAndAuditorsReadsAreRecorded) {
  v1::ListAuditEntriesRequest req;
  req.set_since_sequence(1);
  req.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(auto page, unit_->ListAuditEntries(Auditor("ListAuditEntries"), req));
  ASSERT_EQ(page.entries_size(), 1);
  EXPECT_EQ(page.entries(0).sequence(), 2);
  EXPECT_EQ(page.entries(0).entity_id(), "p1");
  EXPECT_EQ(AuditEntries().back().method(), "ListAuditEntries");
  req.set_since_sequence(-1);
  EXPECT_THAT(unit_->ListAuditEntries(Auditor("ListAuditEntries"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("since_sequence")));
}

TEST_F(AuditLogTest, ExportsFhirAuditEvents) {
  v1::ExportAuditEventsRequest req;
  ASSERT_OK_AND_ASSIGN(auto out, unit_->ExportAuditEvents(Admin("ExportAuditEvents"), req));
  ASSERT_EQ(out.fhir_json_size(), 3);
  EXPECT_EQ(out.last_sequence(), 3);
  EXPECT_THAT(out.fhir_json(0), HasSubstr("AuditEvent"));
  req.set_page_size(-5);
  EXPECT_THAT(unit_->ExportAuditEvents(Admin("ExportAuditEvents"), req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
}

// True when `s` is well-formed UTF-8 (no cut or stray sequence).
bool ValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80           ? 1
                     : (c >> 5) == 0x6  ? 2
                     : (c >> 4) == 0xE  ? 3
                     : (c >> 3) == 0x1E ? 4
                                        : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

TEST(CutUtf8Test, NeverSplitsACharacter) {
  EXPECT_EQ(CutUtf8("abc", 10), "abc");
  EXPECT_EQ(CutUtf8("abc", 2), "ab");
  EXPECT_EQ(CutUtf8("a\xC3\xA9", 2), "a");                         // é is two bytes
  EXPECT_EQ(CutUtf8("a\xE2\x82\xAC", 3), "a");                     // € is three
  EXPECT_EQ(CutUtf8("\xF0\x9F\x92\x89x", 4), "\xF0\x9F\x92\x89");  // a four-byte one fits
  EXPECT_EQ(CutUtf8("\xF0\x9F\x92\x89x", 3), "");
}

TEST_F(AuditLogTest, ALongMultibyteDetailIsCutWholeAndExportsAsValidJson) {
  // 999 ASCII bytes then "é": byte 1000 is the first half of the é.
  const std::string detail = std::string(999, 'x') +
                             "\xC3\xA9 r\xC3\xA9"
                             "action allergique";
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return audit_
        ->Record(txn, StaffA(common::v1::ROLE_ADMIN, "RecordPermit"), v1::AUDIT_ACTION_CREATE,
                 "permit", "p-long", detail)
        .status();
  }));
  const v1::AuditEntry stored = AuditEntries().back();
  EXPECT_EQ(stored.detail(), std::string(999, 'x'));
  v1::ExportAuditEventsRequest req;
  req.set_since_sequence(3);
  ASSERT_OK_AND_ASSIGN(auto out, unit_->ExportAuditEvents(Admin("ExportAuditEvents"), req));
  ASSERT_GE(out.fhir_json_size(), 1);
  EXPECT_TRUE(ValidUtf8(out.fhir_json(0)));
  google::protobuf::Struct parsed;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(out.fhir_json(0), &parsed).ok())
      << out.fhir_json(0);
}

TEST_F(AuditLogTest, VerifyFindsTheChainIntactAndRecordsTheCheck) {
  ASSERT_OK_AND_ASSIGN(
      auto verdict, unit_->VerifyAuditLog(Auditor("VerifyAuditLog"), v1::VerifyAuditLogRequest()));
  EXPECT_TRUE(verdict.intact());
  EXPECT_EQ(verdict.entries_checked(), 3);
  EXPECT_EQ(AuditEntries().size(), 4u);
  EXPECT_EQ(AuditEntries().back().detail(), "intact");
}

TEST_F(AuditLogTest, CheckpointIsSignedOnceARequestIdAndVerifies) {
  v1::CreateCheckpointRequest req;
  req.set_request_id("cp-1");
  const Call auditor = Auditor("CreateCheckpoint");
  ASSERT_OK_AND_ASSIGN(v1::Checkpoint checkpoint, unit_->CreateCheckpoint(auditor, req));
  EXPECT_EQ(checkpoint.count(), 4);  // the three entries and the signing itself
  EXPECT_EQ(FromProtoTimestamp(checkpoint.signed_time()), now_);
  ASSERT_OK_AND_ASSIGN(v1::Checkpoint retry, unit_->CreateCheckpoint(auditor, req));
  EXPECT_EQ(retry.signature(), checkpoint.signature());
  EXPECT_EQ(AuditEntries().size(), 4u);

  v1::VerifyCheckpointRequest verify;
  *verify.mutable_checkpoint() = checkpoint;
  ASSERT_OK_AND_ASSIGN(auto ok, unit_->VerifyCheckpoint(Auditor("VerifyCheckpoint"), verify));
  EXPECT_TRUE(ok.valid()) << ok.problem();
  verify.mutable_checkpoint()->set_head_hash(std::string(64, '0'));
  ASSERT_OK_AND_ASSIGN(auto altered, unit_->VerifyCheckpoint(Auditor("VerifyCheckpoint"), verify));
  EXPECT_FALSE(altered.valid());
  EXPECT_THAT(altered.problem(), HasSubstr("signature"));
  verify.mutable_checkpoint()->set_count(0);
  EXPECT_THAT(unit_->VerifyCheckpoint(Auditor("VerifyCheckpoint"), verify).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("checkpoint.count")));
}

TEST_F(AuditLogTest, CheckpointsAreListedNewestFirstWithTheirVerification) {
  v1::CreateCheckpointRequest first;
  first.set_request_id("cp-1");
  ASSERT_OK_AND_ASSIGN(v1::Checkpoint older,
                       unit_->CreateCheckpoint(Auditor("CreateCheckpoint"), first));
  // A retry keeps one checkpoint; a checkpoint with another key is a second one.
  ASSERT_OK(unit_->CreateCheckpoint(Auditor("CreateCheckpoint"), first).status());
  ASSERT_OK_AND_ASSIGN(
      v1::Checkpoint newer,
      unit_->CreateCheckpoint(Admin("CreateCheckpoint"), v1::CreateCheckpointRequest()));

  v1::ListCheckpointsRequest req;
  ASSERT_OK_AND_ASSIGN(auto all, unit_->ListCheckpoints(Auditor("ListCheckpoints"), req));
  ASSERT_EQ(all.checkpoints_size(), 2);
  EXPECT_EQ(all.checkpoints(0).checkpoint().count(), newer.count());
  EXPECT_EQ(all.checkpoints(0).checkpoint().signature(), newer.signature());
  EXPECT_EQ(all.checkpoints(1).checkpoint().signature(), older.signature());
  EXPECT_EQ(FromProtoTimestamp(all.checkpoints(1).checkpoint().signed_time()), now_);
  EXPECT_TRUE(all.checkpoints(0).valid()) << all.checkpoints(0).problem();
  EXPECT_TRUE(all.checkpoints(1).valid()) << all.checkpoints(1).problem();
  EXPECT_FALSE(all.checkpoints(1).created_by().empty());
  EXPECT_TRUE(all.next_page_token().empty());
  EXPECT_EQ(AuditEntries().back().method(), "ListCheckpoints");

  // Pages of one, newest first.
  req.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(auto page1, unit_->ListCheckpoints(Auditor("ListCheckpoints"), req));
  ASSERT_EQ(page1.checkpoints_size(), 1);
  EXPECT_EQ(page1.checkpoints(0).checkpoint().count(), newer.count());
  ASSERT_FALSE(page1.next_page_token().empty());
  req.set_page_token(page1.next_page_token());
  ASSERT_OK_AND_ASSIGN(auto page2, unit_->ListCheckpoints(Auditor("ListCheckpoints"), req));
  ASSERT_EQ(page2.checkpoints_size(), 1);
  EXPECT_EQ(page2.checkpoints(0).checkpoint().count(), older.count());
  EXPECT_TRUE(page2.next_page_token().empty());

  // History rewritten under the older checkpoint (the chain recomputed would not help): that one
  // is no longer valid, and says why.
  ASSERT_OK(db_->Run(TxMode::kWrite, [&](Transaction& txn) {
    return txn.Exec("UPDATE audit_log SET hash = ? WHERE sequence = ?",
                    {std::string(64, 'f'), older.count()});
  }));
  ASSERT_OK_AND_ASSIGN(
      auto after, unit_->ListCheckpoints(Auditor("ListCheckpoints"), v1::ListCheckpointsRequest()));
  ASSERT_EQ(after.checkpoints_size(), 2);
  EXPECT_TRUE(after.checkpoints(0).valid());
  EXPECT_FALSE(after.checkpoints(1).valid());
  EXPECT_THAT(after.checkpoints(1).problem(), HasSubstr("rewritten"));

  v1::ListCheckpointsRequest bad;
  bad.set_page_size(-1);
  EXPECT_THAT(unit_->ListCheckpoints(Auditor("ListCheckpoints"), bad).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  bad.set_page_size(0);
  bad.set_page_token("not-a-token");
  EXPECT_THAT(unit_->ListCheckpoints(Auditor("ListCheckpoints"), bad).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

}  // namespace
}  // namespace smp::compliance
