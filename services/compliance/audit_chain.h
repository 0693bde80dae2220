#ifndef SMP_SERVICES_COMPLIANCE_AUDIT_CHAIN_H_
#define SMP_SERVICES_COMPLIANCE_AUDIT_CHAIN_H_

// The tamper-evident audit log: each entry holds the hash of the one before, so altering, deleting
// or reordering any stored entry breaks the chain at that entry. Because anyone with database
// access could recompute the whole chain, checkpoints (the head signed with a key the database does
// not hold, kept by auditors) pin history in place. Pure functions plus a small signer.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "smp/compliance/v1/compliance.pb.h"

namespace smp::compliance {

// The previous_hash of the first entry: 64 zeros.
const std::string& GenesisHash();

// SHA-256 (hex) over the entry's previous_hash and every field but `hash`, each length-prefixed so
// that no two different entries serialise alike.
std::string EntryHash(const v1::AuditEntry& entry);

struct ChainVerdict {
  bool intact = true;
  int64_t entries_checked = 0;
  int64_t first_bad_sequence = 0;  // position (1-based) of the first entry that does not match
  std::string problem;
};

// Checks entries one at a time in stored order, so a long log verifies in bounded memory:
// sequences must run 1, 2, 3...; each previous_hash must equal the hash of the entry before; each
// hash must equal EntryHash. Stops at (and names) the first entry that fails.
class ChainVerifier {
 public:
  // False once an entry failed (later entries are ignored).
  bool Add(const v1::AuditEntry& entry);
  const ChainVerdict& verdict() const { return verdict_; }
  const std::string& head_hash() const { return previous_; }

 private:
  ChainVerdict verdict_;
  std::string previous_ = GenesisHash();
};

ChainVerdict VerifyChain(const std::vector<v1::AuditEntry>& entries);

// Signs and verifies checkpoints with Ed25519 (libsodium).
class CheckpointSigner {
 public:
  // Loads the 64-byte secret key from `path`, or creates one (mode 0600) if the file is missing.
  static absl::StatusOr<CheckpointSigner> LoadOrCreate(const std::string& path);

  v1::Checkpoint Sign(int64_t count, const std::string& head_hash, absl::Time now) const;
  // True when the signature is valid and made with this signer's key.
  bool VerifySignature(const v1::Checkpoint& checkpoint) const;
  const std::string& public_key_hex() const { return public_key_hex_; }

 private:
  std::string secret_key_;  // 64 bytes
  std::string public_key_;  // 32 bytes
  std::string public_key_hex_;
};

}  // namespace smp::compliance

#endif  // SMP_SERVICES_COMPLIANCE_AUDIT_CHAIN_H_
