#include "common/auth/session_store.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth/permissions.h"
#include "common/server/log.h"
#include "common/server/metrics.h"
#include "common/status/status_macros.h"
#include "common/util/crypto.h"
#include "common/util/ids.h"

namespace smp {
namespace {

constexpr char kUnauthenticated[] = "session token is unknown, expired or revoked";

// Bumped if the hash layout changes incompatibly; readers refuse other versions.
// Version 2 added the MAC; version 1 records (unsigned) are refused like forged ones.
constexpr char kRecordVersion[] = "2";

// Slides the expiry of a session that still exists, never backwards (another process may have
// slid it further already), with the record's new MAC (ARGV[4]). Lua, so that a session revoked
// between Lookup's read and this write is not recreated as a partial hash, and so that expiry and
// MAC change together only if the record is still the one read (its MAC is still ARGV[3]).
// Returns -1 if the session is gone, 0 if not moved, 1 if slid.
constexpr char kRefreshScript[] = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'mac') ~= ARGV[3] then return 0 end
local current = tonumber(redis.call('HGET', KEYS[1], 'expire_time'))
if current ~= nil and current >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'expire_time', ARGV[1], 'mac', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
)lua";

// Redis TTL for `left`, rounded up to whole milliseconds and at least 1 (PEXPIRE 0 deletes).
std::string TtlMillis(absl::Duration left) {
  int64_t millis = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return absl::StrCat(std::max<int64_t>(millis, 1));
}

absl::Time TruncateToMicros(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }

absl::Status Malformed(absl::string_view what) {
  return absl::InternalError(absl::StrCat("session record in redis is malformed: ", what));
}

// The fields of a stored record, in the order the MAC covers them ("mac" itself is not one).
constexpr absl::string_view kFieldNames[] = {"v",
                                             "session_id",
                                             "staff_id",
                                             "username",
                                             "roles",
                                             "clinic_ids",
                                             "create_time",
                                             "expire_time",
                                             "absolute_expire_time",
                                             "client_address"};

using FieldMap = absl::flat_hash_map<absl::string_view, absl::string_view>;

absl::StatusOr<SessionRecord> ParseRecord(const FieldMap& fields) {
  auto field = [&fields](absl::string_view name) -> absl::string_view {
    auto it = fields.find(name);
    return it == fields.end() ? absl::string_view() : it->second;
  };
  if (field("v") != kRecordVersion) return Malformed(absl::StrCat("version ", field("v")));

  SessionRecord record;
  record.session_id = std::string(field("session_id"));
  record.staff_id = std::string(field("staff_id"));
  record.username = std::string(field("username"));
  record.client_address = std::string(field("client_address"));
  if (record.session_id.empty() || record.staff_id.empty()) return Malformed("missing ids");
  for (absl::string_view role : absl::StrSplit(field("roles"), ',', absl::SkipEmpty())) {
    int value = 0;
    if (!absl::SimpleAtoi(role, &value)) return Malformed("roles");
    if (IsKnownRole(value)) record.roles.push_back(static_cast<common::v1::Role>(value));
  }
  for (absl::string_view clinic : absl::StrSplit(field("clinic_ids"), ',', absl::SkipEmpty())) {
    record.clinic_ids.emplace_back(clinic);
  }
  struct TimeField {
    absl::string_view name;
    absl::Time* out;
  };
  for (const TimeField& time : {TimeField{"create_time", &record.create_time},
                                TimeField{"expire_time", &record.expire_time},
                                TimeField{"absolute_expire_time", &record.absolute_expire_time}}) {
    int64_t micros = 0;
    if (!absl::SimpleAtoi(field(time.name), &micros)) return Malformed(time.name);
    *time.out = absl::FromUnixMicros(micros);
  }
  return record;
}

std::string JoinRoles(const std::vector<common::v1::Role>& roles) {
  return absl::StrJoin(roles, ",", [](std::string* out, common::v1::Role role) {
    absl::StrAppend(out, static_cast<int>(role));
  });
}

// The fields of `record` as stored and signed, in kFieldNames order.
SessionMac::Fields RecordFields(const SessionRecord& record) {
  return {
      {"v", kRecordVersion},
      {"session_id", record.session_id},
      {"staff_id", record.staff_id},
      {"username", record.username},
      {"roles", JoinRoles(record.roles)},
      {"clinic_ids", absl::StrJoin(record.clinic_ids, ",")},
      {"create_time", absl::StrCat(absl::ToUnixMicros(record.create_time))},
      {"expire_time", absl::StrCat(absl::ToUnixMicros(record.expire_time))},
      {"absolute_expire_time", absl::StrCat(absl::ToUnixMicros(record.absolute_expire_time))},
      {"client_address", record.client_address},
  };
}

void ReportForgery(absl::string_view token_hash, const FieldMap& fields, absl::string_view why) {
  auto claimed = [&fields](absl::string_view name) {
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : std::string(it->second.substr(0, 64));
  };
  Metrics().IncrementCounter(
      "smp_session_mac_failures_total",
      "Session records in Redis refused because their MAC did not verify (forged or edited).", {});
  // The key's hash prefix locates the record for an investigation; it is not a usable token.
  LogWarning("session record failed its MAC check",
             {{"why", std::string(why)},
              {"key_prefix", std::string(token_hash.substr(0, 12))},
              {"claimed_session_id", claimed("session_id")},
              {"claimed_staff_id", claimed("staff_id")},
              {"claimed_roles", claimed("roles")}});
}

}  // namespace

std::string SessionStore::SessionKey(absl::string_view token_hash) {
  return absl::StrCat("smp:session:", token_hash);
}

std::string SessionStore::SessionIdKey(absl::string_view session_id) {
  return absl::StrCat("smp:session_id:", session_id);
}

std::string SessionStore::StaffSessionsKey(absl::string_view staff_id) {
  return absl::StrCat("smp:staff_sessions:", staff_id);
}

SessionStore::SessionStore(RedisClient* redis, SessionPolicy policy, const Clock& clock,
                           SessionMac mac)
    : redis_(redis), policy_(policy), clock_(clock), mac_(std::move(mac)) {
  if (policy_.idle_timeout <= absl::ZeroDuration() ||
      policy_.max_lifetime <= absl::ZeroDuration() ||
      policy_.refresh_granularity < absl::ZeroDuration()) {
    std::fprintf(stderr,
                 "SessionStore: invalid session policy: idle_timeout %s and max_lifetime %s must "
                 "be positive, refresh_granularity %s not negative\n",
                 absl::FormatDuration(policy_.idle_timeout).c_str(),
                 absl::FormatDuration(policy_.max_lifetime).c_str(),
                 absl::FormatDuration(policy_.refresh_granularity).c_str());
    std::abort();
  }
}

bool SessionStore::IsLive(const SessionRecord& record, absl::Time now) const {
  return now < record.expire_time && now < record.absolute_expire_time;
}

absl::StatusOr<SessionRecord> SessionStore::VerifyAndParse(absl::string_view token_hash,
                                                           const RedisReply& hgetall) const {
  FieldMap fields;
  const std::vector<RedisReply>& items = hgetall.elements();
  for (size_t i = 0; i + 1 < items.size(); i += 2) fields[items[i].str()] = items[i + 1].str();
  absl::string_view why;
  auto mac = fields.find("mac");
  if (mac == fields.end()) {
    why = "no mac";
  } else if (fields.size() > std::size(kFieldNames) + 1 ||
             !std::all_of(fields.begin(), fields.end(), [](const auto& item) {
               return item.first == "mac" ||
                      std::find(std::begin(kFieldNames), std::end(kFieldNames), item.first) !=
                          std::end(kFieldNames);
             })) {
    why = "unknown fields";
  } else {
    SessionMac::Fields signed_fields;
    for (absl::string_view name : kFieldNames) {
      auto it = fields.find(name);
      signed_fields.emplace_back(std::string(name),
                                 it == fields.end() ? std::string() : std::string(it->second));
    }
    if (!mac_.Verify(token_hash, signed_fields, mac->second)) why = "mac mismatch";
  }
  if (!why.empty()) {
    ReportForgery(token_hash, fields, why);
    return absl::UnauthenticatedError(kUnauthenticated);
  }
  return ParseRecord(fields);
}

absl::StatusOr<NewSession> SessionStore::Create(absl::string_view staff_id,
                                                absl::string_view username,
                                                const std::vector<common::v1::Role>& roles,
                                                const std::vector<std::string>& clinic_ids,
                                                absl::string_view client_address) {
  if (staff_id.empty()) return absl::InvalidArgumentError("staff_id is empty");
  for (common::v1::Role role : roles) {
    if (!IsKnownRole(role)) {
      return absl::InvalidArgumentError(absl::StrCat("roles: ", role, " is not a valid role"));
    }
  }
  for (const std::string& clinic_id : clinic_ids) {
    if (clinic_id.empty() || clinic_id.find(',') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("clinic_ids: \"", clinic_id, "\" is not a valid clinic id"));
    }
  }

  const absl::Time now = TruncateToMicros(clock_.Now());
  NewSession session;
  session.token = NewBearerToken();
  SessionRecord& record = session.record;
  record.session_id = NewIdAt(now);
  record.staff_id = std::string(staff_id);
  record.username = std::string(username);
  record.roles = roles;
  record.clinic_ids = clinic_ids;
  record.create_time = now;
  record.absolute_expire_time = now + policy_.max_lifetime;
  record.expire_time = std::min(now + policy_.idle_timeout, record.absolute_expire_time);
  record.client_address = std::string(client_address);

  const std::string token_hash = Sha256Hex(session.token);
  const std::string key = SessionKey(token_hash);
  const std::string ttl = TtlMillis(record.expire_time - now);
  const SessionMac::Fields fields = RecordFields(record);
  std::vector<std::string> hset = {"HSET", key};
  for (const auto& [name, value] : fields) {
    hset.push_back(name);
    hset.push_back(value);
  }
  hset.push_back("mac");
  hset.push_back(mac_.Sign(token_hash, fields));
  // One transaction, so a crash cannot leave a session that RevokeAllForStaff cannot find. The
  // staff set lives as long as the longest session it can hold.
  RETURN_IF_ERROR(WriteReplicated(
      {std::move(hset),
       {"PEXPIRE", key, ttl},
       {"SET", SessionIdKey(record.session_id), token_hash, "PX", ttl},
       {"SADD", StaffSessionsKey(record.staff_id), record.session_id},
       {"PEXPIRE", StaffSessionsKey(record.staff_id), TtlMillis(policy_.max_lifetime)}},
      "login"));
  return session;
}

absl::StatusOr<SessionRecord> SessionStore::Lookup(absl::string_view token) {
  if (token.empty()) return absl::UnauthenticatedError(kUnauthenticated);
  const std::string token_hash = Sha256Hex(token);
  const std::string key = SessionKey(token_hash);
  ASSIGN_OR_RETURN(RedisReply reply, redis_->Command({"HGETALL", key}));
  if (!reply.is_array() || reply.elements().empty()) {
    return absl::UnauthenticatedError(kUnauthenticated);
  }
  ASSIGN_OR_RETURN(SessionRecord record, VerifyAndParse(token_hash, reply));
  const absl::Time now = clock_.Now();
  if (!IsLive(record, now)) return absl::UnauthenticatedError(kUnauthenticated);

  const absl::Time slid =
      TruncateToMicros(std::min(now + policy_.idle_timeout, record.absolute_expire_time));
  if (slid > record.expire_time && slid - record.expire_time >= policy_.refresh_granularity) {
    SessionRecord moved = record;
    moved.expire_time = slid;
    ASSIGN_OR_RETURN(
        RedisReply refreshed,
        redis_->Command({"EVAL", kRefreshScript, "2", key, SessionIdKey(record.session_id),
                         absl::StrCat(absl::ToUnixMicros(slid)), TtlMillis(slid - now),
                         mac_.Sign(token_hash, RecordFields(record)),
                         mac_.Sign(token_hash, RecordFields(moved))}));
    if (refreshed.integer() < 0) return absl::UnauthenticatedError(kUnauthenticated);
    if (refreshed.integer() > 0) record.expire_time = slid;
  }
  return record;
}

absl::StatusOr<SessionStore::Stored> SessionStore::LoadById(absl::string_view session_id) {
  absl::Status not_found = absl::NotFoundError(absl::StrCat("session ", session_id, " not found"));
  if (session_id.empty()) return not_found;
  ASSIGN_OR_RETURN(RedisReply hash, redis_->Command({"GET", SessionIdKey(session_id)}));
  if (!hash.is_string()) return not_found;
  ASSIGN_OR_RETURN(RedisReply reply, redis_->Command({"HGETALL", SessionKey(hash.str())}));
  if (!reply.is_array() || reply.elements().empty()) return not_found;
  absl::StatusOr<SessionRecord> verified = VerifyAndParse(hash.str(), reply);
  if (absl::IsUnauthenticated(verified.status())) return not_found;
  ASSIGN_OR_RETURN(SessionRecord record, std::move(verified));
  if (record.session_id != session_id) return Malformed("session id index points elsewhere");
  return Stored{hash.str(), std::move(record)};
}

absl::StatusOr<SessionRecord> SessionStore::GetById(absl::string_view session_id) {
  ASSIGN_OR_RETURN(Stored stored, LoadById(session_id));
  if (!IsLive(stored.record, clock_.Now())) {
    return absl::NotFoundError(absl::StrCat("session ", session_id, " not found"));
  }
  return std::move(stored.record);
}

absl::Status SessionStore::Delete(absl::string_view token_hash, absl::string_view session_id,
                                  absl::string_view staff_id) {
  return WriteReplicated({{"DEL", SessionKey(token_hash), SessionIdKey(session_id)},
                          {"SREM", StaffSessionsKey(staff_id), std::string(session_id)}},
                         "revocation");
}

absl::Status SessionStore::WriteReplicated(const std::vector<std::vector<std::string>>& commands,
                                           absl::string_view what) {
  ASSIGN_OR_RETURN(ReplicatedReplies done,
                   RunTransactionAndWait(*redis_, commands, policy_.replicas_to_ack,
                                         policy_.replica_ack_timeout));
  if (done.replicas_acked < policy_.replicas_to_ack) {
    Metrics().IncrementCounter("smp_session_writes_unreplicated_total",
                               "Session writes (logins, revocations) that fewer Redis replicas "
                               "than --redis_wait_replicas confirmed within --redis_wait_timeout; "
                               "a failover right then could undo them.",
                               {{"write", std::string(what)}});
    LogWarning("session write not confirmed by a redis replica; a failover now could undo it",
               {{"write", std::string(what)},
                {"replicas_acked", absl::StrCat(done.replicas_acked)},
                {"replicas_wanted", absl::StrCat(policy_.replicas_to_ack)}});
  }
  return absl::OkStatus();
}

absl::Status SessionStore::RevokeById(absl::string_view session_id) {
  ASSIGN_OR_RETURN(Stored stored, LoadById(session_id));
  // Deleted even when the clock says it has just expired: no reason to keep it.
  RETURN_IF_ERROR(Delete(stored.token_hash, session_id, stored.record.staff_id));
  if (!IsLive(stored.record, clock_.Now())) {
    return absl::NotFoundError(absl::StrCat("session ", session_id, " not found"));
  }
  return absl::OkStatus();
}

absl::Status SessionStore::RevokeToken(absl::string_view token) {
  if (token.empty()) return absl::OkStatus();
  const std::string token_hash = Sha256Hex(token);
  ASSIGN_OR_RETURN(RedisReply ids,
                   redis_->Command({"HMGET", SessionKey(token_hash), "session_id", "staff_id"}));
  if (!ids.is_array() || ids.elements().size() != 2 || !ids.elements()[0].is_string()) {
    // Gone already, or a malformed leftover: make sure the token's key is gone.
    return redis_->Command({"DEL", SessionKey(token_hash)}).status();
  }
  return Delete(token_hash, ids.elements()[0].str(), ids.elements()[1].str());
}

absl::StatusOr<std::vector<SessionRecord>> SessionStore::ListForStaff(absl::string_view staff_id) {
  std::vector<SessionRecord> live;
  if (staff_id.empty()) return live;
  const std::string staff_key = StaffSessionsKey(staff_id);
  ASSIGN_OR_RETURN(RedisReply members, redis_->Command({"SMEMBERS", staff_key}));
  if (members.elements().empty()) return live;

  std::vector<std::vector<std::string>> gets;
  for (const RedisReply& id : members.elements()) gets.push_back({"GET", SessionIdKey(id.str())});
  ASSIGN_OR_RETURN(std::vector<RedisReply> hashes, redis_->Pipeline(gets));

  std::vector<std::string> gone = {"SREM", staff_key};
  std::vector<std::vector<std::string>> loads;
  std::vector<size_t> loaded_members;
  for (size_t i = 0; i < hashes.size(); ++i) {
    if (hashes[i].is_string()) {
      loads.push_back({"HGETALL", SessionKey(hashes[i].str())});
      loaded_members.push_back(i);
    } else {
      gone.push_back(members.elements()[i].str());
    }
  }
  ASSIGN_OR_RETURN(std::vector<RedisReply> records, redis_->Pipeline(loads));

  const absl::Time now = clock_.Now();
  for (size_t j = 0; j < records.size(); ++j) {
    const std::string& member = members.elements()[loaded_members[j]].str();
    if (records[j].elements().empty()) {
      gone.push_back(member);
      continue;
    }
    absl::StatusOr<SessionRecord> record =
        VerifyAndParse(hashes[loaded_members[j]].str(), records[j]);
    // A malformed record is skipped rather than failing the whole list.
    if (!record.ok() || record->session_id != member || record->staff_id != staff_id) continue;
    if (IsLive(*record, now)) live.push_back(*std::move(record));
  }
  // Pruning is housekeeping: the listing is already correct without it, so its failure is not
  // the caller's problem. Members merely expired by the clock are left for Redis' TTL to remove.
  if (gone.size() > 2) redis_->Command(gone).status().IgnoreError();

  std::sort(live.begin(), live.end(), [](const SessionRecord& a, const SessionRecord& b) {
    if (a.create_time != b.create_time) return a.create_time > b.create_time;
    return a.session_id > b.session_id;
  });
  return live;
}

absl::Status SessionStore::RevokeAllForStaff(absl::string_view staff_id,
                                             absl::string_view except_session_id,
                                             absl::Time spare_created_after) {
  if (staff_id.empty()) return absl::InvalidArgumentError("staff_id is empty");
  const std::string staff_key = StaffSessionsKey(staff_id);
  ASSIGN_OR_RETURN(RedisReply members, redis_->Command({"SMEMBERS", staff_key}));
  std::vector<std::string> ids;
  for (const RedisReply& id : members.elements()) {
    if (id.str() != except_session_id) ids.push_back(id.str());
  }
  if (ids.empty()) return absl::OkStatus();

  std::vector<std::vector<std::string>> gets;
  for (const std::string& id : ids) gets.push_back({"GET", SessionIdKey(id)});
  ASSIGN_OR_RETURN(std::vector<RedisReply> hashes, redis_->Pipeline(gets));

  // Sessions made after `spare_created_after` stay (a missing or odd time counts as older).
  std::vector<bool> spared(ids.size(), false);
  if (spare_created_after != absl::InfiniteFuture()) {
    std::vector<std::vector<std::string>> times;
    for (const RedisReply& hash : hashes) {
      times.push_back({"HGET", SessionKey(hash.is_string() ? hash.str() : ""), "create_time"});
    }
    ASSIGN_OR_RETURN(std::vector<RedisReply> created, redis_->Pipeline(times));
    for (size_t i = 0; i < ids.size(); ++i) {
      int64_t micros = 0;
      spared[i] = created[i].is_string() && absl::SimpleAtoi(created[i].str(), &micros) &&
                  absl::FromUnixMicros(micros) > spare_created_after;
    }
  }

  std::vector<std::string> del = {"DEL"};
  std::vector<std::string> srem = {"SREM", staff_key};
  for (size_t i = 0; i < ids.size(); ++i) {
    if (spared[i]) continue;
    if (hashes[i].is_string()) del.push_back(SessionKey(hashes[i].str()));
    del.push_back(SessionIdKey(ids[i]));
    srem.push_back(ids[i]);
  }
  if (del.size() == 1) return absl::OkStatus();
  return WriteReplicated({std::move(del), std::move(srem)}, "revocation");
}

}  // namespace smp
