#include "services/compliance/audit_chain.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/util/crypto.h"
#include "common/util/private_file.h"
#include "common/util/proto_time.h"

namespace smp::compliance {
namespace {

void Field(std::string& out, absl::string_view value) {
  absl::StrAppend(&out, value.size(), ":", value, ";");
}

std::string SignedText(const v1::Checkpoint& c) {
  return absl::StrCat("smp-audit-checkpoint/v1|", c.count(), "|", c.head_hash(), "|",
                      ToDbMicros(FromProtoTimestamp(c.signed_time())));
}

}  // namespace

const std::string& GenesisHash() {
  static const std::string* const genesis = new std::string(64, '0');
  return *genesis;
}

std::string EntryHash(const v1::AuditEntry& e) {
  std::string material;
  Field(material, e.previous_hash());
  Field(material, absl::StrCat(e.sequence()));
  Field(material, absl::StrCat(ToDbMicros(FromProtoTimestamp(e.time()))));
  Field(material, e.actor_id());
  Field(material, absl::StrCat(e.actor_roles_size()));
  for (const std::string& role : e.actor_roles()) Field(material, role);
  Field(material, v1::AuditAction_Name(e.action()));
  Field(material, e.method());
  Field(material, e.entity_type());
  Field(material, e.entity_id());
  Field(material, e.detail());
  return Sha256Hex(material);
}

bool ChainVerifier::Add(const v1::AuditEntry& e) {
  if (!verdict_.intact) return false;
  const int64_t position = verdict_.entries_checked + 1;
  verdict_.entries_checked = position;
  std::string problem;
  if (e.sequence() != position) {
    problem = absl::StrCat("entry at position ", position, " has sequence ", e.sequence(),
                           " (an entry was deleted, inserted or moved)");
  } else if (e.previous_hash() != previous_) {
    problem = "its previous_hash does not match the entry before (deleted or reordered history)";
  } else if (EntryHash(e) != e.hash()) {
    problem = "its contents do not match its hash (the entry was altered)";
  }
  if (!problem.empty()) {
    verdict_.intact = false;
    verdict_.first_bad_sequence = position;
    verdict_.problem = std::move(problem);
    return false;
  }
  previous_ = e.hash();
  return true;
}

ChainVerdict VerifyChain(const std::vector<v1::AuditEntry>& entries) {
  ChainVerifier verifier;
  for (const v1::AuditEntry& e : entries) {
    if (!verifier.Add(e)) break;
  }
  return verifier.verdict();
}

absl::StatusOr<CheckpointSigner> CheckpointSigner::LoadOrCreate(const std::string& path) {
  (void)RandomBytes(1);  // initialises libsodium
  CheckpointSigner signer;
  // The key signs the audit log's checkpoints: this user's alone (0600), never through a link.
  absl::Status private_key = CheckPrivateFile(path, "checkpoint key file");
  if (!private_key.ok() && !absl::IsNotFound(private_key)) return private_key;
  std::ifstream in(path, std::ios::binary);
  if (private_key.ok() && in) {
    std::stringstream bytes;
    bytes << in.rdbuf();
    signer.secret_key_ = bytes.str();
    if (signer.secret_key_.size() != crypto_sign_SECRETKEYBYTES) {
      return absl::FailedPreconditionError(absl::StrCat(path, " is not an Ed25519 secret key (",
                                                        crypto_sign_SECRETKEYBYTES, " bytes)"));
    }
    signer.public_key_.assign(signer.secret_key_.data() + crypto_sign_SEEDBYTES,
                              crypto_sign_PUBLICKEYBYTES);
  } else {
    signer.secret_key_.assign(crypto_sign_SECRETKEYBYTES, '\0');
    signer.public_key_.assign(crypto_sign_PUBLICKEYBYTES, '\0');
    crypto_sign_keypair(reinterpret_cast<unsigned char*>(signer.public_key_.data()),
                        reinterpret_cast<unsigned char*>(signer.secret_key_.data()));
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
    }
    const bool ok = ::fchmod(fd, 0600) == 0 &&  // whatever the umask
                    ::write(fd, signer.secret_key_.data(), signer.secret_key_.size()) ==
                        static_cast<ssize_t>(signer.secret_key_.size()) &&
                    ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  }
  signer.public_key_hex_ = absl::BytesToHexString(signer.public_key_);
  return signer;
}

v1::Checkpoint CheckpointSigner::Sign(int64_t count, const std::string& head_hash,
                                      absl::Time now) const {
  v1::Checkpoint c;
  c.set_count(count);
  c.set_head_hash(head_hash);
  *c.mutable_signed_time() = ToProtoTimestamp(absl::FromUnixMicros(absl::ToUnixMicros(now)));
  c.set_public_key(public_key_hex_);
  const std::string text = SignedText(c);
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                       reinterpret_cast<const unsigned char*>(secret_key_.data()));
  c.set_signature(absl::BytesToHexString(signature));
  return c;
}

bool CheckpointSigner::VerifySignature(const v1::Checkpoint& c) const {
  if (c.public_key() != public_key_hex_) return false;
  const std::string signature = absl::HexStringToBytes(c.signature());
  if (signature.size() != crypto_sign_BYTES) return false;
  const std::string text = SignedText(c);
  return crypto_sign_verify_detached(
             reinterpret_cast<const unsigned char*>(signature.data()),
             reinterpret_cast<const unsigned char*>(text.data()), text.size(),
             reinterpret_cast<const unsigned char*>(public_key_.data())) == 0;
}

}  // namespace smp::compliance
