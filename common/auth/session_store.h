#ifndef SMP_COMMON_AUTH_SESSION_STORE_H_
#define SMP_COMMON_AUTH_SESSION_STORE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/session_mac.h"
#include "common/redis/redis_client.h"
#include "common/util/clock.h"
#include "smp/common/v1/auth.pb.h"

namespace smp {

// How long sessions live.
struct SessionPolicy {
  // A session ends this long after it was last used (sliding), ...
  absl::Duration idle_timeout = absl::Hours(8);
  // ... and at the latest this long after login, however often it is used.
  absl::Duration max_lifetime = absl::Hours(24);
  // Lookup writes the slid expiry back to Redis only when it moves by at least this much, which
  // saves a write on almost every request. So the effective idle timeout lies between
  // idle_timeout - refresh_granularity and idle_timeout. Zero refreshes on every Lookup.
  absl::Duration refresh_granularity = absl::Minutes(1);
  // Redis replicates asynchronously: a session written to the primary alone is lost if the
  // primary dies before a replica has it and a sentinel promotes that replica. With a replica
  // count here, logins and revocations end with `WAIT <replicas_to_ack> <replica_ack_timeout>`
  // on the connection that wrote them, so that what they answered survives a failover. A short
  // count is logged (smp_session_writes_unreplicated_total), not an error: the write stands on
  // the primary, and a Redis without replicas must still serve. 0 (plain Redis) sends no WAIT.
  int replicas_to_ack = 0;
  absl::Duration replica_ack_timeout = absl::Milliseconds(100);
};

// One login session as stored. Times are exact to the microsecond.
struct SessionRecord {
  std::string session_id;  // opaque id (a ULID), safe to show and log; not the token
  std::string staff_id;
  std::string username;
  std::vector<common::v1::Role> roles;  // undefined role values read from Redis are dropped
  std::vector<std::string> clinic_ids;
  absl::Time create_time;
  absl::Time expire_time;           // sliding: last use + idle_timeout, never past the next field
  absl::Time absolute_expire_time;  // create_time + max_lifetime
  std::string client_address;       // e.g. the gRPC peer at login; informational
};

// A session just created; `token` is the bearer token, shown to the client once and never stored.
struct NewSession {
  std::string token;
  SessionRecord record;
};

// Login sessions in Redis, shared by every process of every service.
//
// The token is never stored: Redis holds only Sha256Hex(token), so a Redis dump does not yield
// usable tokens. Layout (each key with a Redis TTL equal to the time left, so Redis drops dead
// sessions by itself):
//   smp:session:<sha256hex(token)>   hash: the SessionRecord fields, "v" (record version) and
//                                    "mac": HMAC-SHA256 (SessionMac) of the token hash and every
//                                    other field
//   smp:session_id:<session_id>      string: sha256hex(token), to find a session by id
//   smp:staff_sessions:<staff_id>    set of session ids (TTL max_lifetime from the latest login;
//                                    members whose session is gone are pruned by ListForStaff)
//
// A session is live when its keys exist in Redis AND the Clock says now < expire_time (and
// < absolute_expire_time): the Redis TTL cleans up, the recorded times decide (so a FakeClock
// controls expiry in tests, and skew between hosts cannot stretch a session).
//
// Records are signed: a record whose MAC does not verify under the current or previous key
// (written into Redis by someone other than a service: forged, copied under another token,
// edited, or with fields added) is refused as if the token were unknown (UNAUTHENTICATED from
// Lookup, NOT_FOUND from the by-id methods, skipped by ListForStaff), logged as a warning
// ("session record failed its MAC check", with the claimed session and staff ids, never a
// token) and counted in smp_session_mac_failures_total. Not covered: replaying a record that was
// once genuine under its own token after it was revoked (the absolute lifetime bounds that).
//
// Revocation deletes the keys at once: every later Lookup in every process refuses the token
// (processes that cache authentications, see Authenticator, may accept it until their cache
// entry expires).
//
// Errors common to every method: UNAVAILABLE when Redis cannot answer (callers fail closed),
// INTERNAL when Redis answers unexpectedly or a stored record is malformed. Thread-safe.
class SessionStore {
 public:
  // `redis` must outlive the store. Aborts on a policy with a non-positive timeout (bad config).
  // `mac` signs and checks records; every process sharing the sessions needs the same keys
  // (services: SessionMac::FromFiles). The default, a key of this process only, suits tests.
  SessionStore(RedisClient* redis, SessionPolicy policy, const Clock& clock,
               SessionMac mac = SessionMac::ProcessLocal());

  // Creates a session for a staff member who just proved who they are. INVALID_ARGUMENT for an
  // empty staff_id, an undefined or UNSPECIFIED role, or an empty clinic id or one with a ','.
  absl::StatusOr<NewSession> Create(absl::string_view staff_id, absl::string_view username,
                                    const std::vector<common::v1::Role>& roles,
                                    const std::vector<std::string>& clinic_ids,
                                    absl::string_view client_address);

  // The live session of `token`, with its expiry slid to min(now + idle_timeout,
  // absolute_expire_time) (written back per refresh_granularity). UNAUTHENTICATED when the token
  // is empty, unknown, expired or revoked (one message for all: do not tell which).
  absl::StatusOr<SessionRecord> Lookup(absl::string_view token);

  // The live session with this id, without sliding it. NOT_FOUND if not live.
  absl::StatusOr<SessionRecord> GetById(absl::string_view session_id);

  // Ends the session with this id at once. NOT_FOUND if it was not live.
  absl::Status RevokeById(absl::string_view session_id);

  // Ends the session of `token` at once (logout). OK also if it is already gone.
  absl::Status RevokeToken(absl::string_view token);

  // The staff member's live sessions, newest first (empty for an empty staff_id). Prunes set
  // members whose keys Redis has dropped.
  absl::StatusOr<std::vector<SessionRecord>> ListForStaff(absl::string_view staff_id);

  // Ends every session of the staff member except `except_session_id` (e.g. the caller's own on a
  // password change; empty = none excepted) and except those created strictly after
  // `spare_created_after` (a revocation finished late spares sessions made after the change that
  // called for it). A session created concurrently with this call may survive it: to lock an
  // account out, first make login refuse it, then call this. INVALID_ARGUMENT for an empty
  // staff_id.
  absl::Status RevokeAllForStaff(absl::string_view staff_id,
                                 absl::string_view except_session_id = "",
                                 absl::Time spare_created_after = absl::InfiniteFuture());

  // The Redis keys (see the layout above); public for tests and operational tooling.
  static std::string SessionKey(absl::string_view token_hash);
  static std::string SessionIdKey(absl::string_view session_id);
  static std::string StaffSessionsKey(absl::string_view staff_id);

  const SessionPolicy& policy() const { return policy_; }

 private:
  struct Stored {
    std::string token_hash;
    SessionRecord record;
  };
  // The session with this id if its keys exist, live or not by the clock. NOT_FOUND otherwise.
  absl::StatusOr<Stored> LoadById(absl::string_view session_id);
  bool IsLive(const SessionRecord& record, absl::Time now) const;
  // The record in an HGETALL reply of the key of `token_hash`, if its MAC verifies; otherwise
  // UNAUTHENTICATED (logged and counted). INTERNAL for a signed record that does not parse.
  absl::StatusOr<SessionRecord> VerifyAndParse(absl::string_view token_hash,
                                               const RedisReply& hgetall) const;
  absl::Status Delete(absl::string_view token_hash, absl::string_view session_id,
                      absl::string_view staff_id);
  // RunTransaction, then WAIT per policy_.replicas_to_ack; `what` names the write in the log.
  absl::Status WriteReplicated(const std::vector<std::vector<std::string>>& commands,
                               absl::string_view what);

  RedisClient* const redis_;
  const SessionPolicy policy_;
  const Clock& clock_;
  const SessionMac mac_;
};

}  // namespace smp

#endif  // SMP_COMMON_AUTH_SESSION_STORE_H_
