#include "common/redis/testing/sentinel_group.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/redis/redis_pool.h"
#include "common/status/status_macros.h"
#include "common/util/crypto.h"

namespace smp::testing {
namespace {

constexpr char kAdminUser[] = "sentinel-admin";
constexpr int kStartAttempts = 3;  // another process may take a picked port before we bind it

std::string TempRoot() {
  for (const char* name : {"TEST_TMPDIR", "TMPDIR"}) {
    if (const char* dir = std::getenv(name); dir != nullptr && *dir != '\0') return dir;
  }
  return "/tmp";
}

// Starts `make()`'s server, trying a few fresh ports.
absl::StatusOr<std::unique_ptr<RedisServer>> StartWithRetries(
    const std::function<std::unique_ptr<RedisServer>()>& make) {
  absl::Status status;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    std::unique_ptr<RedisServer> server = make();
    status = server->Start();
    if (status.ok()) return server;
  }
  return status;
}

// The fields of a flat [name, value, name, value...] reply (SENTINEL MASTER).
std::map<std::string, std::string> Fields(const RedisReply& reply) {
  std::map<std::string, std::string> fields;
  if (!reply.is_array()) return fields;
  for (size_t i = 0; i + 1 < reply.elements().size(); i += 2) {
    fields[reply.elements()[i].str()] = reply.elements()[i + 1].str();
  }
  return fields;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SentinelGroup>> SentinelGroup::StartNew(
    const std::string& user, const std::string& password, SentinelGroupOptions options) {
  std::unique_ptr<SentinelGroup> group(new SentinelGroup());
  group->options_ = std::move(options);
  group->user_ = user;
  group->password_ = password;
  group->admin_password_ = Sha256Hex(RandomBytes(32));
  std::string dir_template = TempRoot() + "/smp-sentinel-XXXXXX";
  if (mkdtemp(dir_template.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", dir_template, " failed"));
  }
  group->dir_ = dir_template;
  RETURN_IF_ERROR(group->Start());
  return group;
}

SentinelGroup::~SentinelGroup() {
  // Sentinels first, so that they do not fail over while the servers stop.
  for (auto& sentinel : sentinels_) sentinel.reset();
  replica_.reset();
  primary_.reset();
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

absl::Status SentinelGroup::Start() {
  const std::string nobody = "#" + Sha256Hex(RandomBytes(32));
  std::vector<std::string> server_args = {
      "--user", "default", "on", nobody, "~*", "&*", "+@all", "--user", kAdminUser, "on",
      "#" + Sha256Hex(admin_password_), "~*", "&*", "+@all", "--user", user_, "on",
      "#" + Sha256Hex(password_), "~smp:*", "&*", "+@all", "-@dangerous", "-@admin", "+role",
      // Replication (and a demoted primary rejoining) authenticates as the admin user.
      "--masteruser", kAdminUser, "--masterauth", admin_password_,
      // A replica's first full sync at once, not after Redis 7's 5 s default delay.
      "--repl-diskless-sync-delay", "0"};
  ASSIGN_OR_RETURN(primary_, StartWithRetries([&] {
                     auto server = std::make_unique<RedisServer>(server_args);
                     server->set_credentials(user_, password_);
                     return server;
                   }));
  std::vector<std::string> replica_args = server_args;
  replica_args.insert(replica_args.end(),
                      {"--replicaof", "127.0.0.1", absl::StrCat(primary_->port())});
  ASSIGN_OR_RETURN(replica_, StartWithRetries([&] {
                     auto server = std::make_unique<RedisServer>(replica_args);
                     server->set_credentials(user_, password_);
                     return server;
                   }));

  const std::string& name = options_.master_name;
  for (int i = 0; i < 3; ++i) {
    const std::string config = absl::StrCat(dir_, "/sentinel-", i, ".conf");
    ASSIGN_OR_RETURN(std::unique_ptr<RedisServer> sentinel, StartWithRetries([&] {
                       // Rewritten per attempt: a sentinel rewrites its file as it runs.
                       std::ofstream file(config, std::ios::trunc);
                       file << "sentinel monitor " << name << " 127.0.0.1 " << primary_->port()
                            << " 2\n"
                            << "sentinel down-after-milliseconds " << name << " "
                            << absl::ToInt64Milliseconds(options_.down_after) << "\n"
                            << "sentinel failover-timeout " << name << " "
                            << absl::ToInt64Milliseconds(options_.failover_timeout) << "\n"
                            << "sentinel auth-user " << name << " " << kAdminUser << "\n"
                            << "sentinel auth-pass " << name << " " << admin_password_ << "\n"
                            << "sentinel sentinel-user " << kAdminUser << "\n"
                            << "sentinel sentinel-pass " << admin_password_ << "\n"
                            << "user default on " << nobody << " ~* &* +@all\n"
                            << "user " << kAdminUser << " on #" << Sha256Hex(admin_password_)
                            << " ~* &* +@all\n"
                            << "user " << user_ << " on #" << Sha256Hex(password_)
                            << " -@all +ping +sentinel|get-master-addr-by-name\n";
                       file.close();
                       chmod(config.c_str(), 0600);
                       auto server = std::make_unique<RedisServer>();
                       server->set_sentinel_config(config);
                       server->set_credentials(user_, password_);
                       return server;
                     }));
    sentinels_.push_back(std::move(sentinel));
  }
  return WaitUntilMonitoring();
}

std::string SentinelGroup::SentinelsFlag() const {
  std::vector<std::string> addresses;
  for (const auto& sentinel : sentinels_) {
    addresses.push_back(absl::StrCat("127.0.0.1:", sentinel->port()));
  }
  return absl::StrJoin(addresses, ",");
}

SentinelOptions SentinelGroup::ClientOptions() const {
  SentinelOptions options;
  for (const auto& sentinel : sentinels_) {
    RedisOptions address;
    address.host = "127.0.0.1";
    address.port = sentinel->port();
    options.sentinels.push_back(address);
  }
  options.master_name = options_.master_name;
  options.redis.user = user_;
  options.redis.password = password_;
  options.redis.connect_timeout = absl::Milliseconds(200);
  options.redis.command_timeout = absl::Seconds(1);
  options.sentinel_user = user_;
  options.sentinel_password = password_;
  return options;
}

RedisOptions SentinelGroup::AdminOptions(const RedisServer& which) const {
  RedisOptions options = which.options();
  options.user = kAdminUser;
  options.password = admin_password_;
  return options;
}

absl::Status SentinelGroup::WaitUntilMonitoring() {
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  std::string last;
  for (const auto& sentinel : sentinels_) {
    RedisOptions options = sentinel->options();
    options.user = kAdminUser;
    options.password = admin_password_;
    RedisPool pool(options);
    while (true) {
      absl::StatusOr<RedisReply> master =
          pool.Command({"SENTINEL", "MASTER", options_.master_name});
      if (master.ok()) {
        std::map<std::string, std::string> fields = Fields(*master);
        if (fields["num-slaves"] == "1" && fields["num-other-sentinels"] == "2") break;
        last = absl::StrCat("num-slaves ", fields["num-slaves"], ", num-other-sentinels ",
                            fields["num-other-sentinels"]);
      } else {
        last = std::string(master.status().message());
      }
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("sentinel on port ", sentinel->port(), " not monitoring in time: ", last));
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  // And the replica has its first copy, so that it may be promoted.
  RedisPool replica(AdminOptions(*replica_));
  while (true) {
    absl::StatusOr<RedisReply> role = replica.Command({"ROLE"});
    if (role.ok() && role->is_array() && role->elements().size() >= 4 &&
        role->elements()[3].str() == "connected") {
      return absl::OkStatus();
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("replica not connected to its primary in time: ",
                       role.ok() ? role->DebugString() : std::string(role.status().message())));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

absl::Status SentinelGroup::WaitForPrimary(int port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::string want = absl::StrCat(port);
  for (const auto& sentinel : sentinels_) {
    if (!sentinel->running()) continue;
    RedisOptions options = sentinel->options();
    options.user = kAdminUser;
    options.password = admin_password_;
    RedisPool pool(options);
    while (true) {
      absl::StatusOr<RedisReply> named =
          pool.Command({"SENTINEL", "get-master-addr-by-name", options_.master_name});
      if (named.ok() && named->is_array() && named->elements().size() == 2 &&
          named->elements()[1].str() == want) {
        break;
      }
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("sentinel on port ", sentinel->port(), " still names ",
                         named.ok() ? named->DebugString() : std::string(named.status().message()),
                         " after ", absl::FormatDuration(timeout)));
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  return absl::OkStatus();
}

}  // namespace smp::testing
