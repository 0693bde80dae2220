// smpctl against a running stack: redis-server, identity and the service each test needs, as real
// processes on free loopback ports. Every smpctl run is the real binary as a child process; the
// tests assert on its stdout, stderr and exit code, and parse its --json output back into the
// contract's messages.

#include <dirent.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status/status_matchers.h"
#include "common/util/ids.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "smp/billing/v1/billing.pb.h"
#include "smp/compliance/v1/compliance.pb.h"
#include "smp/identity/v1/identity.pb.h"
#include "smp/inventory/v1/inventory.pb.h"
#include "smp/scheduling/v1/scheduling.grpc.pb.h"
#include "tests/integration/identity_harness.h"
#include "tests/integration/service_process.h"

namespace smp::smpctl {
namespace {

using ::smp::testing::IdentityHarness;
using ::smp::testing::MakeTempDir;
using ::smp::testing::ServiceProcess;
using ::smp::testing::SetupCodeFileFlag;
using ::testing::HasSubstr;
using ::testing::Not;

namespace iv1 = ::smp::identity::v1;
namespace sv1 = ::smp::scheduling::v1;
namespace nv1 = ::smp::inventory::v1;
namespace cv1 = ::smp::compliance::v1;
namespace bv1 = ::smp::billing::v1;

constexpr char kPassword[] = "a long password 1";  // IdentityHarness::kPassword
// Where nothing listens: a service a test did not start answers UNAVAILABLE, never the
// default ports of a suite someone may be running on this machine.
constexpr char kNowhere[] = "127.0.0.1:1";

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::ostream& operator<<(std::ostream& os, const Result& r) {
  return os << "exit " << r.exit_code << "\n--- stdout\n" << r.out << "--- stderr\n" << r.err;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// The message printed by --json (the last line of stdout).
template <typename Message>
Message FromJson(const Result& r) {
  Message m;
  std::string line = r.out;
  while (!line.empty() && line.back() == '\n') line.pop_back();
  line = line.substr(line.rfind('\n') == std::string::npos ? 0 : line.rfind('\n') + 1);
  auto status = google::protobuf::util::JsonStringToMessage(line, &m);
  EXPECT_TRUE(status.ok()) << "not a " << m.GetTypeName() << ": " << line;
  return m;
}

// Scheduling as inventory asks it where an issue's appointment is (GetAppointment only): the
// appointments the test registers, NOT_FOUND for others. Inventory's own calls are what this test
// exercises; scheduling's real answers are covered by the suite test.
class AppointmentDirectory final : public sv1::SchedulingService::Service {
 public:
  grpc::Status GetAppointment(grpc::ServerContext*, const sv1::GetAppointmentRequest* req,
                              sv1::Appointment* out) override {
    absl::MutexLock lock(&mu_);
    auto it = clinics_.find(req->id());
    if (it == clinics_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no appointment");
    out->set_id(req->id());
    out->set_clinic_id(it->second);
    out->set_type(sv1::TREATMENT_SESSION);
    out->set_status(sv1::IN_PROGRESS);
    return grpc::Status::OK;
  }
  // A new appointment at `clinic`; its id.
  std::string Add(const std::string& clinic) {
    absl::MutexLock lock(&mu_);
    const std::string id = NewId();
    clinics_[id] = clinic;
    return id;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::string> clinics_;
};

class SmpctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(harness_.Start());
    dir_ = MakeTempDir("smpctl");
    ASSERT_FALSE(dir_.empty());
    password_file_ = dir_ + "/password";
    std::ofstream(password_file_) << kPassword << "\n";
    addresses_ = {{"identity", harness_.identity().address()},
                  {"scheduling", kNowhere},
                  {"inventory", kNowhere},
                  {"compliance", kNowhere},
                  {"billing", kNowhere}};
  }

  // Starts one more service of the suite on the harness's Redis.
  void StartService(const std::string& name, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--data_dir=" + MakeTempDir(name), harness_.RedisFlag()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string binary;
    if (name == "scheduling") binary = SMP_SCHEDULING_BINARY;
    if (name == "inventory") binary = SMP_INVENTORY_BINARY;
    if (name == "billing") binary = SMP_BILLING_BINARY;
    if (name == "compliance") {
      binary = SMP_COMPLIANCE_BINARY;
      args.push_back("--checkpoint_key_file=" + MakeTempDir("key") + "/key");
    }
    ASSERT_OK_AND_ASSIGN(services_[name], ServiceProcess::Start(binary, args));
    addresses_[name] = services_[name]->address();
  }

  // Runs smpctl with `args` as `user` (each user has a token file of its own), `input` on its
  // standard input (a file, so not a terminal).
  Result Run(const std::string& user, std::vector<std::string> args,
             const std::string& input = "") {
    if (!user.empty()) args.insert(args.begin(), "--token_file=" + TokenFile(user));
    return RunRaw(args, input);
  }

  Result RunRaw(const std::vector<std::string>& args, const std::string& input = "") {
    const std::string base = absl::StrCat(dir_, "/run", ++runs_);
    std::ofstream(base + ".in") << input;
    std::vector<std::string> env = {"HOME=" + dir_, "XDG_CONFIG_HOME=" + dir_ + "/config",
                                    "PATH=/usr/bin:/bin", "TZ=UTC"};
    for (const auto& [name, address] : addresses_) {
      env.push_back(absl::StrCat("SMPCTL_", absl::AsciiStrToUpper(name), "=", address));
    }
    std::vector<std::string> argv = {SMPCTL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    Result r;
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int in = ::open((base + ".in").c_str(), O_RDONLY);
      const int out = ::open((base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err = ::open((base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (in < 0 || out < 0 || err < 0) ::_exit(126);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(err, 2);
      std::vector<char*> cargv, cenv;
      for (std::string& a : argv) cargv.push_back(a.data());
      for (std::string& e : env) cenv.push_back(e.data());
      cargv.push_back(nullptr);
      cenv.push_back(nullptr);
      ::execve(cargv[0], cargv.data(), cenv.data());
      ::_exit(127);
    }
    EXPECT_GT(pid, 0);
    int status = 0;
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (absl::Now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        ADD_FAILURE() << "smpctl did not finish in 60 s: " << absl::StrJoin(args, " ");
        break;
      }
      absl::SleepFor(absl::Milliseconds(2));
    }
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadFile(base + ".out");
    r.err = ReadFile(base + ".err");
    return r;
  }

  std::string TokenFile(const std::string& user) const { return dir_ + "/" + user + ".token"; }

  // `smpctl login` as `user` (password from a file).
  void Login(const std::string& user) {
    Result r = Run(user, {"login", "--username=" + user, "--password_file=" + password_file_});
    ASSERT_EQ(r.exit_code, 0) << r;
  }

  // Runs a command that must succeed with --json and returns its message.
  template <typename Message>
  Message Ok(const std::string& user, std::vector<std::string> args,
             const std::string& input = "") {
    args.insert(args.begin(), "--json");
    Result r = Run(user, args, input);
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.err, "") << r;
    return FromJson<Message>(r);
  }

  // Admin work every test needs: a clinic, and staff who have logged in with smpctl.
  std::string MakeClinic(const std::string& name, const std::string& zone) {
    return Ok<iv1::Clinic>("root", {"clinic", "create", "--name=" + name, "--time_zone=" + zone})
        .id();
  }
  std::string MakeStaff(const std::string& username, const std::string& role,
                        const std::string& clinic = "") {
    std::vector<std::string> args = {"staff", "create", "--username=" + username, "--role=" + role,
                                     "--password_file=" + password_file_};
    if (!clinic.empty()) args.push_back("--clinic=" + clinic);
    const std::string id = Ok<iv1::Staff>("root", args).id();
    Login(username);
    return id;
  }

  IdentityHarness harness_;
  std::string dir_;
  std::string password_file_;
  std::map<std::string, std::string> addresses_;
  std::map<std::string, std::unique_ptr<ServiceProcess>> services_;
  int runs_ = 0;
};

TEST_F(SmpctlTest, LoginKeepsA0600TokenWhoAmIRefusesAnUnsafeFileAndLogoutEndsIt) {
  // Usage errors are caught before any call: against a dead address a call would be exit 8.
  Result r = RunRaw({"--identity=127.0.0.1:1", "login", "--username=root", "--bogus=1"});
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_THAT(r.err, HasSubstr("unknown flag --bogus"));
  r = RunRaw({"--identity=127.0.0.1:1", "login"});
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_THAT(r.err, HasSubstr("needs --username"));
  r = RunRaw({"help"});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("Exit codes:"));
  r = RunRaw({"appointment", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("smpctl appointment check-in"));

  // A wrong password: exit 3, the server's reason, and no token file.
  const std::string default_token = dir_ + "/config/smpctl/token";
  r = RunRaw({"login", "--username=root"}, "not the password\n");
  EXPECT_EQ(r.exit_code, 3) << r;
  EXPECT_THAT(r.err, HasSubstr("login failed"));
  EXPECT_FALSE(Exists(default_token));

  // The password on standard input; the token in $XDG_CONFIG_HOME/smpctl/token, mode 0600.
  r = RunRaw({"login", "--username=root"}, std::string(kPassword) + "\n");
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("logged in as root"));
  EXPECT_EQ(ModeOf(default_token), 0600u);
  EXPECT_EQ(ModeOf(dir_ + "/config/smpctl"), 0700u);
  EXPECT_THAT(r.out, Not(HasSubstr(ReadFile(default_token).substr(0, 20))));  // never printed

  r = RunRaw({"whoami"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("root"));
  EXPECT_THAT(r.out, HasSubstr("admin"));
  iv1::WhoAmIResponse me = Ok<iv1::WhoAmIResponse>("", {"whoami"});
  EXPECT_EQ(me.staff().username(), "root");
  EXPECT_THAT(me.permissions(), ::testing::Contains(common::v1::PERMISSION_CLINICS_WRITE));

  // --json login does not print the token either; --token_file puts it elsewhere.
  iv1::LoginResponse login = Ok<iv1::LoginResponse>(
      "other", {"login", "--username=root", "--password_file=" + password_file_});
  EXPECT_EQ(login.access_token(), "");
  EXPECT_EQ(login.staff().username(), "root");
  EXPECT_EQ(ModeOf(TokenFile("other")), 0600u);

  // A token file others can read is refused, with how to fix it.
  ASSERT_EQ(::chmod(default_token.c_str(), 0640), 0);
  r = RunRaw({"whoami"});
  EXPECT_EQ(r.exit_code, 3) << r;
  EXPECT_THAT(r.err, HasSubstr("accessible by group or others (mode 0640)"));
  EXPECT_THAT(r.err, HasSubstr("chmod 600"));
  ASSERT_EQ(::chmod(default_token.c_str(), 0600), 0);

  r = RunRaw({"logout"});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_FALSE(Exists(default_token));
  r = RunRaw({"whoami"});
  EXPECT_EQ(r.exit_code, 3) << r;
  EXPECT_THAT(r.err, HasSubstr("not logged in"));
  // The other session is still live: logout ended only its own.
  EXPECT_EQ(Run("other", {"whoami"}).exit_code, 0);

  // The first admin already exists here: exit 6.
  std::ofstream(dir_ + "/code") << "integration-harness-setup-code\n";
  r = RunRaw({"bootstrap-admin", "--username=owner", "--setup_code_file=" + dir_ + "/code",
              "--password_file=" + password_file_});
  EXPECT_EQ(r.exit_code, 6) << r;
  EXPECT_THAT(r.err, HasSubstr("BootstrapAdmin refused"));

  // On an empty system it creates the first admin, who can log in; then the identity service
  // stops and every call is exit 8, naming the service.
  const std::string code = "smpctl-test-setup-code-0123456789";
  std::ofstream(dir_ + "/code") << code << "\n";
  ASSERT_OK_AND_ASSIGN(
      auto fresh,
      ServiceProcess::Start(SMP_IDENTITY_BINARY, {"--data_dir=" + MakeTempDir("fresh"),
                                                  harness_.RedisFlag(), SetupCodeFileFlag(code)}));
  addresses_["identity"] = fresh->address();
  r = RunRaw({"bootstrap-admin", "--username=owner", "--display_name=Chain Owner",
              "--setup_code_file=" + dir_ + "/code", "--password_file=" + password_file_});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("owner"));
  EXPECT_EQ(
      Run("owner", {"login", "--username=owner", "--password_file=" + password_file_}).exit_code,
      0);
  fresh->Stop();
  r = Run("owner", {"whoami"});
  EXPECT_EQ(r.exit_code, 8) << r;
  EXPECT_THAT(r.err, HasSubstr("identity service at " + addresses_["identity"]));
  EXPECT_THAT(r.err, HasSubstr("unavailable"));
}

TEST_F(SmpctlTest, ClinicsAndStaffWithRolesAndErrors) {
  Login("root");
  Result r = Run("root", {"clinic", "create", "--name=Austin Downtown",
                          "--time_zone=America/Chicago", "--phone=+15125550100",
                          "--address_line=100 Congress Ave", "--locality=Austin", "--country=US"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("Austin Downtown"));
  EXPECT_THAT(r.out, HasSubstr("America/Chicago"));
  const std::string austin = MakeClinic("Houston", "America/Chicago");

  iv1::Clinic got = Ok<iv1::Clinic>("root", {"clinic", "get", austin});
  EXPECT_EQ(got.name(), "Houston");
  r = Run("root", {"clinic", "list"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("Austin Downtown"));
  EXPECT_THAT(r.out, HasSubstr("Houston"));
  EXPECT_EQ(Ok<iv1::ListClinicsResponse>("root", {"clinic", "list"}).clinics_size(), 2);

  // Update reads the etag itself; a stale --etag is a conflict.
  iv1::Clinic updated =
      Ok<iv1::Clinic>("root", {"clinic", "update", austin, "--phone=+17135550100"});
  EXPECT_EQ(updated.phone(), "+17135550100");
  EXPECT_NE(updated.etag(), got.etag());
  r = Run("root", {"clinic", "update", austin, "--etag=" + got.etag(), "--name=Stale"});
  EXPECT_EQ(r.exit_code, 6) << r;
  EXPECT_THAT(r.err, HasSubstr("changed since it was read"));
  r = Run("root", {"clinic", "update", austin});
  EXPECT_EQ(r.exit_code, 2) << r;
  r = Run("root", {"clinic", "get", NewId()});
  EXPECT_EQ(r.exit_code, 5) << r;
  EXPECT_THAT(r.err, HasSubstr("GetClinic: not found"));
  r = Run("root", {"clinic", "create", "--name=Nowhere", "--time_zone=Mars/Olympus"});
  EXPECT_EQ(r.exit_code, 2) << r;
  r = Run("root", {"clinic", "create", "--name=", "--time_zone=UTC"});
  EXPECT_EQ(r.exit_code, 7) << r;  // the server names the field
  EXPECT_THAT(r.err, HasSubstr("name"));

  // Staff: password on standard input, every role including the service role.
  iv1::Staff desk = Ok<iv1::Staff>(
      "root",
      {"staff", "create", "--username=desk.houston", "--role=front_desk", "--clinic=" + austin},
      std::string(kPassword) + "\n");
  EXPECT_THAT(desk.roles(), ::testing::ElementsAre(common::v1::ROLE_FRONT_DESK));
  iv1::Staff svc = Ok<iv1::Staff>("root", {"staff", "create", "--username=svc.inventory",
                                           "--role=service", "--password_file=" + password_file_});
  EXPECT_THAT(svc.roles(), ::testing::ElementsAre(common::v1::ROLE_SERVICE));
  const std::string tech = MakeStaff("tech.houston", "technician", austin);
  r = Run("root", {"staff", "list", "--clinic=" + austin});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("desk.houston"));
  EXPECT_THAT(r.out, HasSubstr("tech.houston"));
  iv1::Staff renamed =
      Ok<iv1::Staff>("root", {"staff", "update", tech, "--display_name=Tech Houston"});
  EXPECT_EQ(renamed.display_name(), "Tech Houston");
  iv1::Staff two_roles = Ok<iv1::Staff>(
      "root", {"staff", "update", tech, "--role=technician", "--role=inventory_staff"});
  EXPECT_EQ(two_roles.roles_size(), 2);
  EXPECT_EQ(Ok<iv1::Staff>("root", {"staff", "get", tech}).display_name(), "Tech Houston");
  r = Run("root", {"staff", "create", "--username=x.y", "--role=wizard"});
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_THAT(r.err, HasSubstr("one of: admin, front_desk"));

  // Disable ends the account's sessions; enable and a reset password let it in again.
  Login("desk.houston");
  EXPECT_EQ(Ok<iv1::Staff>("root", {"staff", "disable", desk.id(), "--reason=left"}).state(),
            iv1::STAFF_STATE_DISABLED);
  r = Run("desk.houston", {"whoami"});
  EXPECT_EQ(r.exit_code, 3) << r;
  EXPECT_EQ(Ok<iv1::Staff>("root", {"staff", "enable", desk.id()}).state(),
            iv1::STAFF_STATE_ACTIVE);
  r = Run("root", {"staff", "reset-password", desk.id()}, "another long password\n");
  ASSERT_EQ(r.exit_code, 0) << r;
  r = Run("desk.houston", {"login", "--username=desk.houston"}, "another long password\n");
  ASSERT_EQ(r.exit_code, 0) << r;

  // A front desk doing admin work: exit 4 with the server's reason.
  r = Run("desk.houston", {"clinic", "create", "--name=Mine", "--time_zone=UTC"});
  EXPECT_EQ(r.exit_code, 4) << r;
  EXPECT_THAT(r.err, HasSubstr("CreateClinic not allowed"));
  EXPECT_THAT(r.err, HasSubstr("PERMISSION_CLINICS_WRITE"));
}

TEST_F(SmpctlTest, FrontDeskBooksAndTechnicianPerforms) {
  StartService("scheduling");
  Login("root");
  const std::string clinic = MakeClinic("NewYork", "America/New_York");
  const std::string tech = MakeStaff("tech.ny", "technician", clinic);
  MakeStaff("desk.ny", "front_desk", clinic);

  // The admin's set-up.
  sv1::ClinicSchedule schedule = Ok<sv1::ClinicSchedule>(
      "root", {"schedule", "update", "--clinic=" + clinic, "--open=mon-sun/08:00-20:00",
               "--duration=consultation=45m"});
  EXPECT_EQ(schedule.time_zone(), "America/New_York");  // identity's record
  EXPECT_EQ(schedule.opening_hours_size(), 7);
  EXPECT_EQ(schedule.durations().consultation().seconds(), 45 * 60);
  Result r = Run("root", {"schedule", "get", "--clinic=" + clinic});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("mon 08:00-20:00"));
  Ok<sv1::Chair>("root", {"chair", "create", "--clinic=" + clinic, "--name=Chair 1"});
  Ok<sv1::Chair>("root", {"chair", "create", "--clinic=" + clinic, "--name=Chair 2"});
  EXPECT_EQ(
      Ok<sv1::ListChairsResponse>("root", {"chair", "list", "--clinic=" + clinic}).chairs_size(),
      2);
  Ok<sv1::WorkingHours>("root", {"hours", "set", "--practitioner=" + tech, "--clinic=" + clinic,
                                 "--shift=mon-sun/09:00-18:00"});
  r = Run("desk.ny", {"hours", "list", "--clinic=" + clinic});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("sun 09:00-18:00"));

  absl::TimeZone ny;
  ASSERT_TRUE(absl::LoadTimeZone("America/New_York", &ny));
  const absl::CivilDay day = absl::ToCivilDay(absl::Now(), ny) + 8;
  const std::string d = absl::FormatCivilTime(day);
  const std::string closed = absl::FormatCivilTime(day + 20);
  sv1::ScheduleException closure = Ok<sv1::ScheduleException>(
      "root", {"exception", "create", "--clinic=" + clinic, "--kind=closure", "--start=" + closed,
               "--end=" + closed, "--reason=holiday"});
  r = Run("desk.ny", {"exception", "list", "--clinic=" + clinic, "--from=" + closed});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("holiday"));
  EXPECT_EQ(Run("root", {"exception", "delete", closure.id()}).exit_code, 0);

  // Patients.
  sv1::Patient patient = Ok<sv1::Patient>(
      "desk.ny", {"patient", "create", "--given_name=Sam", "--family_name=Rivera",
                  "--phone=+12125550142", "--birth_date=1985-04-02", "--clinic=" + clinic});
  EXPECT_EQ(patient.birth_date().year(), 1985);
  EXPECT_EQ(
      Ok<sv1::Patient>("desk.ny", {"patient", "update", patient.id(), "--email=sam@example.com"})
          .email(),
      "sam@example.com");
  r = Run("desk.ny", {"patient", "search", "--query=rivera"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("Sam Rivera"));
  EXPECT_EQ(Ok<sv1::Patient>("desk.ny", {"patient", "get", patient.id()}).phone(), "+12125550142");

  // Availability, then a booking at a clinic-local time.
  sv1::FindAvailabilityResponse slots = Ok<sv1::FindAvailabilityResponse>(
      "desk.ny",
      {"availability", "find", "--clinic=" + clinic, "--from=" + d, "--to=" + d, "--max=5"});
  ASSERT_GT(slots.slots_size(), 0);
  r = Run("desk.ny",
          {"availability", "find", "--clinic=" + clinic, "--from=" + d, "--to=" + d, "--max=3"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr(d + " 09:00 -0"));  // clinic-local, with the offset
  const std::vector<std::string> book = {"appointment", "book", "--clinic=" + clinic,
                                         "--patient=" + patient.id(), "--practitioner=" + tech};
  auto with = [](std::vector<std::string> a, std::vector<std::string> b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  sv1::Appointment first =
      Ok<sv1::Appointment>("desk.ny", with(book, {"--start=" + d + "T10:00", "--notes=first"}));
  EXPECT_EQ(first.status(), sv1::BOOKED);
  EXPECT_EQ(first.start_time().seconds(),
            absl::ToUnixSeconds(ny.At(absl::CivilHour(day) + 10).pre));

  // Double booking: a conflict, with the server's reason.
  r = Run("desk.ny", with(book, {"--start=" + d + "T10:15"}));
  EXPECT_EQ(r.exit_code, 6) << r;
  EXPECT_THAT(r.err, HasSubstr("BookAppointment refused"));
  // Bad dates: usage errors before any call.
  r = Run("desk.ny", with(book, {"--start=" + absl::StrCat(day.year() + 1) + "-02-30T10:00"}));
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_THAT(r.err, HasSubstr("--start"));
  r = Run("desk.ny", {"availability", "find", "--clinic=" + clinic, "--from=next tuesday"});
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_THAT(r.err, HasSubstr("want a date YYYY-MM-DD"));
  // A date the server refuses (more than 62 days): exit 7.
  r = Run("desk.ny", {"availability", "find", "--clinic=" + clinic, "--from=" + d,
                      "--to=" + absl::FormatCivilTime(day + 100)});
  EXPECT_EQ(r.exit_code, 7) << r;

  r = Run("desk.ny", {"appointment", "list", "--clinic=" + clinic, "--from=" + d, "--to=" + d});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr(first.id()));
  EXPECT_THAT(r.out, HasSubstr("consultation"));

  // Reschedule, hold and confirm, cancel, no-show.
  sv1::Appointment moved = Ok<sv1::Appointment>(
      "desk.ny", {"appointment", "reschedule", first.id(), "--start=" + d + "T13:00"});
  EXPECT_EQ(moved.start_time().seconds(),
            absl::ToUnixSeconds(ny.At(absl::CivilHour(day) + 13).pre));
  sv1::Appointment held =
      Ok<sv1::Appointment>("desk.ny", with(book, {"--start=" + d + "T15:00", "--hold"}));
  EXPECT_EQ(held.status(), sv1::PROPOSED);
  EXPECT_EQ(Ok<sv1::Appointment>("desk.ny", {"appointment", "confirm", held.id()}).status(),
            sv1::BOOKED);
  sv1::Appointment cancelled = Ok<sv1::Appointment>(
      "desk.ny", {"appointment", "cancel", held.id(), "--reason=patient asked", "--by=patient"});
  EXPECT_EQ(cancelled.status(), sv1::CANCELLED);
  EXPECT_EQ(cancelled.cancellation().initiator(), sv1::INITIATOR_PATIENT);
  r = Run("desk.ny", {"appointment", "cancel", first.id(), "--reason=x", "--by=someone"});
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_THAT(r.err, HasSubstr("--by"));
  // A future appointment is not a no-show yet (issue 14): refused with the reason.
  sv1::Appointment missed =
      Ok<sv1::Appointment>("desk.ny", with(book, {"--start=" + d + "T16:30"}));
  r = Run("desk.ny", {"appointment", "no-show", missed.id()});
  EXPECT_EQ(r.exit_code, 6) << r;
  EXPECT_THAT(r.err, HasSubstr("NO_SHOW_TOO_EARLY"));
  // The patient came after all, and the technician records the visit as not done.
  EXPECT_EQ(Ok<sv1::Appointment>("desk.ny", {"appointment", "check-in", missed.id()}).status(),
            sv1::ARRIVED);
  sv1::Appointment not_done = Ok<sv1::Appointment>(
      "tech.ny", {"appointment", "stop", missed.id(), "--reason=felt unwell", "--by=patient"});
  EXPECT_EQ(not_done.status(), sv1::APPOINTMENT_STATUS_STOPPED);
  EXPECT_EQ(not_done.stop().initiator(), sv1::INITIATOR_PATIENT);
  EXPECT_FALSE(not_done.stop().charged());

  // Check-in by the front desk; the procedure by the technician, not the front desk.
  EXPECT_EQ(Ok<sv1::Appointment>("desk.ny", {"appointment", "check-in", first.id()}).status(),
            sv1::ARRIVED);
  r = Run("desk.ny", {"appointment", "start", first.id()});
  EXPECT_EQ(r.exit_code, 4) << r;
  EXPECT_THAT(r.err, HasSubstr("PERMISSION_PROCEDURES_PERFORM"));
  r = Run("tech.ny", {"appointment", "start", first.id(), "--supply=needle:1"});
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_THAT(r.err, HasSubstr("--supply: want serial=SERIAL"));
  EXPECT_EQ(Ok<sv1::Appointment>("tech.ny", {"appointment", "start", first.id()}).status(),
            sv1::IN_PROGRESS);
  r = Run("tech.ny", {"appointment", "complete", first.id(), "--checklist=all",
                      "--blend=2 parts espresso, 1 part charcoal", "--anaesthetic=lidocaine 5%",
                      "--notes=consultation done"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("fulfilled"));
  EXPECT_THAT(r.out, Not(HasSubstr("No washing")));  // a consultation gets no scalp aftercare
  r = Run("tech.ny", {"appointment", "start", first.id()});
  EXPECT_EQ(r.exit_code, 6) << r;
  EXPECT_THAT(r.err, HasSubstr("FULFILLED"));
  r = Run("tech.ny", {"appointment", "complete", first.id(), "--checklist=gloves,gown"});
  EXPECT_EQ(r.exit_code, 2) << r;
  r = Run("tech.ny", {"appointment", "get", NewId()});
  EXPECT_EQ(r.exit_code, 5) << r;

  // The change feed saw all of it.
  sv1::ListChangesResponse feed =
      Ok<sv1::ListChangesResponse>("desk.ny", {"changes", "list", "--clinic=" + clinic});
  EXPECT_GE(feed.head_sequence(), 10);
  r = Run("desk.ny", {"changes", "list", "--clinic=" + clinic, "--since=2"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("fulfilled"));

  // Treatment plans.
  sv1::TreatmentPlan plan = Ok<sv1::TreatmentPlan>(
      "desk.ny", {"plan", "create", "--patient=" + patient.id(), "--clinic=" + clinic,
                  "--area=hairline", "--sessions=3", "--consultation=" + first.id()});
  EXPECT_EQ(plan.status(), sv1::PLAN_ACTIVE);
  EXPECT_EQ(plan.planned_sessions(), 3);
  r = Run("desk.ny", {"plan", "list", "--patient=" + patient.id()});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr(plan.id()));
  EXPECT_EQ(Ok<sv1::TreatmentPlan>("desk.ny", {"plan", "get", plan.id()}).area(), sv1::HAIRLINE);
  EXPECT_EQ(
      Ok<sv1::TreatmentPlan>("desk.ny", {"plan", "cancel", plan.id(), "--reason=moved"}).status(),
      sv1::PLAN_CANCELLED);
}

TEST_F(SmpctlTest, InventoryReceivesIssuesTransfersAndRecalls) {
  // Every issue asks scheduling where its appointment is, as inventory's service account.
  AppointmentDirectory directory;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&directory);
  std::unique_ptr<grpc::Server> scheduling = builder.BuildAndStart();
  ASSERT_NE(scheduling, nullptr);
  std::vector<std::string> inventory_flags = harness_.MakeServiceAccount("svc.inv");
  inventory_flags.push_back(absl::StrCat("--scheduling_address=127.0.0.1:", port));
  StartService("inventory", inventory_flags);
  Login("root");
  const std::string a = MakeClinic("Austin", "America/Chicago");
  const std::string b = MakeClinic("Dallas", "America/Chicago");
  for (const std::string& c : {a, b}) {
    EXPECT_EQ(
        Ok<nv1::ClinicInventorySettings>("root", {"inventory-settings", "set", "--clinic=" + c})
            .time_zone(),
        "America/Chicago");
  }
  MakeStaff("stock.a", "inventory_staff", a);
  MakeStaff("tech.a", "technician", a);
  MakeStaff("desk.a", "front_desk", a);

  nv1::Product needle = Ok<nv1::Product>(
      "stock.a", {"product", "create", "--kind=needle_cartridge", "--name=1RL 0.18",
                  "--configuration=1RL", "--diameter_um=180", "--sku=N-1RL"});
  EXPECT_TRUE(needle.single_use());
  nv1::Product pigment = Ok<nv1::Product>(
      "stock.a", {"product", "create", "--kind=pigment", "--name=Dark Espresso", "--brand=Acme",
                  "--shade=Dark Espresso", "--opened_shelf_life_days=90"});
  Result r = Run("stock.a", {"product", "list"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("Dark Espresso"));
  EXPECT_EQ(Ok<nv1::Product>("stock.a", {"product", "get", needle.id()}).name(), "1RL 0.18");

  const std::string expiry =
      absl::StrCat(absl::ToCivilYear(absl::Now(), absl::UTCTimeZone()).year() + 1, "-06-30");
  nv1::ReceiveStockResponse needles = Ok<nv1::ReceiveStockResponse>(
      "stock.a", {"stock", "receive", "--clinic=" + a, "--product=" + needle.id(), "--lot=L100",
                  "--expiry=" + expiry, "--serial=U-1,U-2", "--serial=U-3", "--supplier=Acme"});
  EXPECT_EQ(needles.stock().available(), 3);
  nv1::ReceiveStockResponse pigments = Ok<nv1::ReceiveStockResponse>(
      "stock.a", {"stock", "receive", "--clinic=" + a, "--product=" + pigment.id(), "--lot=P7",
                  "--expiry=" + expiry, "--quantity=10"});
  const std::string pigment_lot = pigments.lot().id();
  r = Run("stock.a", {"stock", "receive", "--clinic=" + a, "--product=" + needle.id(), "--lot=L101",
                      "--expiry=" + expiry, "--serial=U-1"});
  EXPECT_EQ(r.exit_code, 6) << r;  // a serial already known
  r = Run("stock.a", {"stock", "receive", "--clinic=" + a, "--product=" + pigment.id(), "--lot=P8",
                      "--expiry=2020-01-31", "--quantity=1"});
  EXPECT_EQ(r.exit_code, 7) << r;  // expired on arrival
  EXPECT_THAT(r.err, HasSubstr("expiry"));

  nv1::ListStockResponse levels =
      Ok<nv1::ListStockResponse>("stock.a", {"stock", "levels", "--clinic=" + a});
  EXPECT_EQ(levels.levels_size(), 2);
  r = Run("stock.a", {"stock", "levels", "--clinic=" + a});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("1RL 0.18"));
  EXPECT_THAT(r.out, HasSubstr("L100"));

  // Issue to a procedure; a needle twice is refused and recorded.
  const std::string appointment = directory.Add(a);
  r = Run("tech.a", {"stock", "issue", "--clinic=" + a, "--appointment=" + appointment,
                     "--supply=serial=U-1", "--supply=lot=" + pigment_lot + ":1"});
  ASSERT_EQ(r.exit_code, 0) << r;
  r = Run("tech.a", {"stock", "issue", "--clinic=" + a, "--appointment=" + directory.Add(a),
                     "--supply=serial=U-1"});
  EXPECT_EQ(r.exit_code, 6) << r;
  EXPECT_THAT(r.err, HasSubstr("U-1"));
  r = Run("stock.a", {"stock", "reuse-attempts", "--clinic=" + a});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("U-1"));
  EXPECT_THAT(r.out, HasSubstr(appointment));

  // Adjust, discard, transfer, bottles, reorder points.
  EXPECT_EQ(
      Ok<nv1::LedgerEntry>("stock.a", {"stock", "adjust", "--clinic=" + a, "--lot=" + pigment_lot,
                                       "--delta=-1", "--reason=count found 8"})
          .quantity_delta(),
      -1);
  EXPECT_EQ(Run("stock.a", {"stock", "discard", "--clinic=" + a, "--serial=U-3", "--reason=damaged",
                            "--witness=Sam"})
                .exit_code,
            0);
  nv1::Transfer shipped = Ok<nv1::Transfer>(
      "stock.a", {"transfer", "ship", "--from=" + a, "--to=" + b, "--line=" + pigment_lot + ":2"});
  EXPECT_EQ(shipped.status(), nv1::TRANSFER_STATUS_SHIPPED);
  r = Run("root", {"transfer", "list", "--clinic=" + b});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr(shipped.id()));
  EXPECT_EQ(
      Ok<nv1::Transfer>("root", {"transfer", "receive", shipped.id(), "--clinic=" + b}).status(),
      nv1::TRANSFER_STATUS_RECEIVED);
  nv1::OpenBottleResponse bottle = Ok<nv1::OpenBottleResponse>(
      "tech.a", {"bottle", "open", "--clinic=" + a, "--lot=" + pigment_lot});
  r = Run("tech.a", {"bottle", "list", "--clinic=" + a});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr(bottle.bottle().id()));
  EXPECT_EQ(Ok<nv1::PigmentBottle>("tech.a", {"bottle", "close", bottle.bottle().id()}).state(),
            nv1::BOTTLE_STATE_FINISHED);
  Ok<nv1::ReorderPoint>("stock.a", {"reorder", "set", "--clinic=" + a, "--product=" + needle.id(),
                                    "--level=5", "--quantity=50"});
  r = Run("stock.a", {"low-stock", "--clinic=" + a});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("1RL 0.18"));
  r = Run("stock.a", {"stock", "ledger", "--clinic=" + a});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("receive"));
  EXPECT_THAT(r.out, HasSubstr("transfer_out"));

  // A recall quarantines what is left at every clinic, so it is an admin's (issue 13): the
  // clinic's stock clerk is refused (exit 4); the admin's recall names the procedures that used it.
  r = Run("stock.a", {"stock", "recall", pigment_lot, "--reason=maker notice 7"});
  EXPECT_EQ(r.exit_code, 4) << r;
  EXPECT_THAT(r.err, HasSubstr("admin"));
  r = Run("root", {"stock", "recall", pigment_lot, "--reason=maker notice 7"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("recalled"));
  EXPECT_THAT(r.out, HasSubstr(appointment));
  nv1::ListLotUsesResponse uses =
      Ok<nv1::ListLotUsesResponse>("stock.a", {"stock", "lot-uses", pigment_lot});
  ASSERT_EQ(uses.uses_size(), 1);
  EXPECT_EQ(uses.uses(0).appointment_id(), appointment);
  EXPECT_EQ(Ok<nv1::Lot>("stock.a", {"lot", "get", pigment_lot}).status(),
            nv1::LOT_STATUS_RECALLED);

  // Errors: the front desk has no inventory rights; an unknown lot; a forecast that scheduling
  // cannot answer (the stand-in lists no appointments) is UNAVAILABLE.
  r = Run("desk.a", {"product", "create", "--kind=consumable", "--name=Gloves"});
  EXPECT_EQ(r.exit_code, 4) << r;
  r = Run("stock.a", {"lot", "get", NewId()});
  EXPECT_EQ(r.exit_code, 5) << r;
  r = Run("stock.a", {"forecast", "--clinic=" + a});
  EXPECT_EQ(r.exit_code, 8) << r;
  EXPECT_THAT(r.err, HasSubstr("ForecastDemand"));
  r = Run("stock.a", {"stock", "adjust", "--clinic=" + a, "--lot=" + pigment_lot, "--delta=many",
                      "--reason=x"});
  EXPECT_EQ(r.exit_code, 2) << r;
}

TEST_F(SmpctlTest, ComplianceRecordsAndTheAuditorsReportExport) {
  StartService("compliance");
  Login("root");
  const std::string clinic = MakeClinic("Austin", "America/Chicago");
  const std::string tech = MakeStaff("tech.a", "technician", clinic);
  MakeStaff("auditor", "auditor");
  const std::string patient = NewId();

  Result r = Run("root", {"credential", "record", "--practitioner=" + tech,
                          "--kind=smp_certification", "--issuer=SMP Academy", "--number=C-1",
                          "--valid_from=2026-01-01", "--valid_until=2030-12-31"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("smp_certification"));
  EXPECT_EQ(
      Ok<cv1::ListCredentialsResponse>("auditor", {"credential", "list", "--practitioner=" + tech})
          .credentials_size(),
      1);
  Ok<cv1::Permit>("root", {"permit", "record", "--clinic=" + clinic, "--issuer=Travis County",
                           "--number=HP-9", "--valid_from=2026-01-01", "--valid_until=2099-12-31"});
  r = Run("auditor", {"permit", "list", "--clinic=" + clinic});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("HP-9"));
  r = Run("root", {"permit", "record", "--clinic=" + clinic, "--issuer=x", "--number=y",
                   "--valid_from=2026-05-01", "--valid_until=2026-04-01"});
  EXPECT_EQ(r.exit_code, 2) << r;

  cv1::Consent consent =
      Ok<cv1::Consent>("tech.a", {"consent", "record", "--patient=" + patient, "--clinic=" + clinic,
                                  "--form_version=2026-03"});
  EXPECT_EQ(consent.kind(), cv1::CONSENT_KIND_PROCEDURE);
  Ok<cv1::Consent>("tech.a", {"consent", "record", "--patient=" + patient, "--clinic=" + clinic,
                              "--kind=photo_gallery", "--form_version=2026-03"});
  EXPECT_TRUE(
      Ok<cv1::Consent>("tech.a", {"consent", "withdraw", consent.id()}).has_withdrawn_time());
  EXPECT_EQ(Ok<cv1::ListConsentsResponse>("tech.a", {"consent", "list", "--patient=" + patient})
                .consents_size(),
            2);
  cv1::Screening screening =
      Ok<cv1::Screening>("tech.a", {"screening", "record", "--patient=" + patient,
                                    "--clinic=" + clinic, "--finding=eczema", "--notes=mild"});
  EXPECT_EQ(screening.outcome(), cv1::SCREENING_OUTCOME_NEEDS_REVIEW);
  r = Run("tech.a", {"screening", "list", "--patient=" + patient});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("needs_review"));
  cv1::Incident incident = Ok<cv1::Incident>(
      "tech.a", {"incident", "report", "--kind=allergic_reaction", "--clinic=" + clinic,
                 "--patient=" + patient, "--description=redness after numbing cream"});
  r = Run("tech.a", {"incident", "follow-up", incident.id(), "--text=called the patient"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("called the patient"));
  r = Run("auditor", {"expiring", "--within=365"});
  ASSERT_EQ(r.exit_code, 0) << r;

  // An auditor is read-only.
  r = Run("auditor", {"permit", "record", "--clinic=" + clinic, "--issuer=x", "--number=y",
                      "--valid_from=2026-01-01", "--valid_until=2026-12-31"});
  EXPECT_EQ(r.exit_code, 4) << r;

  // The report: a summary for people, one line per streamed part for scripts.
  const std::string today =
      absl::FormatCivilTime(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()));
  const std::vector<std::string> period = {"--from=2026-01-01", "--to=" + today};
  // Auditors list the incidents of a period, by kind; technicians may not.
  r = Run("auditor",
          {"incident", "list", "--from=2026-01-01", "--to=" + today, "--kind=allergic_reaction"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr(incident.id()));
  r = Run("auditor",
          {"incident", "list", "--from=2026-01-01", "--to=" + today, "--kind=infection"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(r.out.find(incident.id()), std::string::npos) << r;
  r = Run("tech.a", {"incident", "list", "--from=2026-01-01", "--to=" + today});
  EXPECT_EQ(r.exit_code, 4) << r;
  // The clinic's time zone is kept with its retention rules.
  r = Run("root", {"retention", "set", "--clinic=" + clinic, "--client_years=3",
                   "--time_zone=America/Chicago"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("America/Chicago"));
  r = Run("root", {"retention", "set", "--clinic=" + clinic, "--time_zone=Mars/Olympus"});
  EXPECT_EQ(r.exit_code, 7) << r;

  std::vector<std::string> args = {"report", "generate"};
  args.insert(args.end(), period.begin(), period.end());
  r = Run("auditor", args);
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("procedures:"));
  EXPECT_THAT(r.out, HasSubstr("audit log:"));
  args.insert(args.begin(), "--json");
  r = Run("auditor", args);
  ASSERT_EQ(r.exit_code, 0) << r;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 2u);
  cv1::ReportPart first, last;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines.front(), &first).ok());
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines.back(), &last).ok());
  EXPECT_TRUE(first.has_header());
  EXPECT_TRUE(last.has_summary());

  // Export to a file: CSV with progress, then JSON; written whole, mode 0600, no temp file left.
  const std::string out_dir = MakeTempDir("export");
  args = {"report", "export", "--format=csv", "--out=" + out_dir + "/audit.csv", "--progress"};
  args.insert(args.end(), period.begin(), period.end());
  r = Run("auditor", args);
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("wrote " + out_dir + "/audit.csv"));
  EXPECT_THAT(r.err, HasSubstr("exported 0 procedures"));
  EXPECT_TRUE(absl::StartsWith(ReadFile(out_dir + "/audit.csv"), "record_type,"));
  EXPECT_EQ(ModeOf(out_dir + "/audit.csv"), 0600u);
  args = {"report", "export", "--format=json", "--out=" + out_dir + "/audit.json"};
  args.insert(args.end(), period.begin(), period.end());
  google::protobuf::Struct summary = Ok<google::protobuf::Struct>("auditor", args);
  EXPECT_EQ(summary.fields().at("format").string_value(), "json");
  google::protobuf::ListValue parts;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(ReadFile(out_dir + "/audit.json"), &parts).ok());
  EXPECT_GE(parts.values_size(), 2);
  std::vector<std::string> files;
  DIR* d = ::opendir(out_dir.c_str());
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") files.push_back(name);
  }
  ::closedir(d);
  EXPECT_THAT(files, ::testing::UnorderedElementsAre("audit.csv", "audit.json"));
  args = {"report", "export", "--format=xml", "--out=" + out_dir + "/x"};
  args.insert(args.end(), period.begin(), period.end());
  EXPECT_EQ(Run("auditor", args).exit_code, 2);
  args = {"report", "export", "--format=csv", "--out=" + out_dir + "/no/such/dir/x.csv"};
  args.insert(args.end(), period.begin(), period.end());
  r = Run("auditor", args);
  EXPECT_EQ(r.exit_code, 1) << r;  // a local failure
  args = {"report", "export", "--format=csv", "--out=" + out_dir + "/tech.csv"};
  args.insert(args.end(), period.begin(), period.end());
  r = Run("tech.a", args);
  EXPECT_EQ(r.exit_code, 4) << r;
  EXPECT_FALSE(Exists(out_dir + "/tech.csv"));

  // The audit log, checkpoints and retention.
  r = Run("auditor", {"audit", "verify"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("intact"));
  r = Run("auditor", {"audit", "export", "--page_size=2"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("\"resourceType\":\"AuditEvent\""));
  r = Run("auditor", {"checkpoint", "create", "--out=" + out_dir + "/checkpoint.json"});
  ASSERT_EQ(r.exit_code, 0) << r;
  r = Run("auditor", {"checkpoint", "verify", "--file=" + out_dir + "/checkpoint.json"});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("checkpoint valid"));
  cv1::RetentionPolicy policy = Ok<cv1::RetentionPolicy>(
      "root",
      {"retention", "set", "--clinic=" + clinic, "--jurisdiction=US-TX", "--client_years=3"});
  EXPECT_EQ(policy.client_records_years(), 3);
  EXPECT_EQ(Ok<cv1::RetentionPolicy>("auditor", {"retention", "get", "--clinic=" + clinic})
                .jurisdiction(),
            "US-TX");
  EXPECT_EQ(Run("root", {"retention", "purge"}).exit_code, 0);
}

TEST_F(SmpctlTest, BillingInvoicesPaymentsAndReports) {
  StartService("billing");
  Login("root");
  const std::string clinic = MakeClinic("Austin", "America/Chicago");
  MakeStaff("clerk", "billing_clerk", clinic);
  MakeStaff("desk", "front_desk", clinic);
  const std::string patient = NewId();

  bv1::PriceList prices = Ok<bv1::PriceList>(
      "clerk", {"price-list", "create", "--clinic=" + clinic, "--effective=2026-01-01",
                "--currency=USD", "--tax_bp=825", "--consultation=150.00", "--hairline=900",
                "--crown=1000", "--full_scalp=1450.00", "--scar_camouflage=800",
                "--sample_patch=100", "--touch_up=400", "--late_cancellation=75", "--no_show=100"});
  EXPECT_EQ(prices.consultation_fee().amount_minor(), 15000);
  EXPECT_EQ(prices.time_zone(), "America/Chicago");
  Result r = Run("desk", {"price-list", "get", "--clinic=" + clinic});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("USD 1450.00"));
  EXPECT_EQ(Ok<bv1::ListPriceListsResponse>("clerk", {"price-list", "list", "--clinic=" + clinic})
                .price_lists_size(),
            1);

  bv1::Quote quote =
      Ok<bv1::Quote>("clerk", {"quote", "create", "--clinic=" + clinic, "--patient=" + patient,
                               "--area=full_scalp", "--sessions=3", "--valid_until=2099-12-31"});
  EXPECT_EQ(quote.totals().net().amount_minor(), 3 * 145000);
  EXPECT_EQ(Ok<bv1::Quote>("clerk", {"quote", "accept", quote.id()}).status(), bv1::QUOTE_ACCEPTED);
  EXPECT_EQ(Ok<bv1::Quote>("desk", {"quote", "get", quote.id()}).status(), bv1::QUOTE_ACCEPTED);

  bv1::Invoice draft = Ok<bv1::Invoice>(
      "clerk", {"invoice", "create", "--clinic=" + clinic, "--patient=" + patient,
                "--line=consultation:1:150.00", "--line=other:2:12.50:Aftercare kit"});
  EXPECT_EQ(draft.status(), bv1::INVOICE_DRAFT);
  EXPECT_EQ(draft.totals().net().amount_minor(), 17500);
  bv1::Invoice issued = Ok<bv1::Invoice>("clerk", {"invoice", "issue", draft.id()});
  EXPECT_EQ(issued.status(), bv1::INVOICE_ISSUED);
  EXPECT_EQ(issued.number(), 1);
  r = Run("desk", {"invoice", "list", "--clinic=" + clinic});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr(draft.id()));
  EXPECT_THAT(r.out, HasSubstr("issued"));

  // Payments: a retried --request_id is counted once; more than is due is refused.
  const std::vector<std::string> pay = {
      "payment",        "record",        "--invoice=" + draft.id(),
      "--amount=50.00", "--method=cash", "--request_id=desk-pay-1"};
  bv1::Payment paid = Ok<bv1::Payment>("desk", pay);
  EXPECT_EQ(paid.amount().amount_minor(), 5000);
  EXPECT_EQ(Ok<bv1::Payment>("desk", pay).id(), paid.id());
  r = Run("desk", {"payment", "record", "--invoice=" + draft.id(), "--amount=5000", "--method=card",
                   "--last4=4242", "--reference=AUTH-1"});
  EXPECT_EQ(r.exit_code, 6) << r;
  EXPECT_THAT(r.err, HasSubstr("RecordPayment refused"));
  r = Run("desk", {"payment", "record", "--invoice=" + draft.id(), "--amount=1.234"});
  EXPECT_EQ(r.exit_code, 2) << r;
  r = Run("desk", {"payment", "record", "--invoice=" + NewId(), "--amount=1", "--method=cash"});
  EXPECT_EQ(r.exit_code, 5) << r;
  EXPECT_EQ(Ok<bv1::Payment>("desk", {"payment", "get", paid.id()}).invoice_id(), draft.id());
  EXPECT_EQ(Ok<bv1::ListPaymentsResponse>("desk", {"payment", "list", "--clinic=" + clinic})
                .payments_size(),
            1);
  EXPECT_EQ(
      Ok<bv1::Refund>("clerk", {"payment", "refund", paid.id(), "--amount=10", "--reason=goodwill"})
          .amount()
          .amount_minor(),
      1000);
  EXPECT_EQ(Ok<bv1::CreditNote>("clerk", {"credit-note", "create", "--invoice=" + draft.id(),
                                          "--amount=5.00", "--reason=discount"})
                .amount()
                .amount_minor(),
            500);
  bv1::PatientBalance balance =
      Ok<bv1::PatientBalance>("desk", {"balance", "--clinic=" + clinic, "--patient=" + patient});
  // 189.44 total - (50 paid - 10 refunded) - 5 credited.
  EXPECT_EQ(balance.amount_due().amount_minor(), 18944 - 4000 - 500);
  r = Run("clerk",
          {"report", "revenue", "--clinic=" + clinic, "--from=2026-01-01", "--to=2099-12-31"});
  EXPECT_EQ(r.exit_code, 7) << r;  // more than 366 days: the server says so
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  bv1::RevenueReport revenue =
      Ok<bv1::RevenueReport>("clerk", {"report", "revenue", "--clinic=" + clinic,
                                       "--from=" + absl::FormatCivilTime(today - 2),
                                       "--to=" + absl::FormatCivilTime(today + 2)});
  EXPECT_EQ(revenue.invoices_issued(), 1);
  EXPECT_EQ(revenue.collected().amount_minor(), 5000);
  r = Run("clerk", {"report", "aging", "--clinic=" + clinic});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("0-30 days"));

  bv1::Invoice other =
      Ok<bv1::Invoice>("clerk", {"invoice", "create", "--clinic=" + clinic, "--patient=" + patient,
                                 "--line=touch_up:1:USD 400.00"});
  EXPECT_EQ(
      Ok<bv1::Invoice>("clerk", {"invoice", "void", other.id(), "--reason=duplicate"}).status(),
      bv1::INVOICE_VOID);
  EXPECT_EQ(Ok<bv1::Invoice>("desk", {"invoice", "get", other.id()}).void_reason(), "duplicate");

  // Billing stops: exit 8, naming the service.
  services_["billing"]->Stop();
  r = Run("desk", {"invoice", "get", other.id()});
  EXPECT_EQ(r.exit_code, 8) << r;
  EXPECT_THAT(r.err, HasSubstr("billing service"));
}

// The week's money corrections from the command line: a deposit applied and partly taken back, a
// credit note turning what was paid into the patient's credit, that credit paying another invoice
// and the rest refunded; each refusal with its exit code.
TEST_F(SmpctlTest, BillingDepositsUnappliedAndPatientCreditAppliedAndRefunded) {
  StartService("billing");
  Login("root");
  const std::string clinic = MakeClinic("Austin", "America/Chicago");
  MakeStaff("clerk", "billing_clerk", clinic);
  MakeStaff("desk", "front_desk", clinic);
  const std::string patient = NewId();
  const std::string plan = NewId();
  Ok<bv1::PriceList>("clerk",
                     {"price-list", "create", "--clinic=" + clinic, "--effective=2026-01-01",
                      "--currency=USD", "--consultation=150.00", "--hairline=900", "--crown=1000",
                      "--full_scalp=1450.00", "--scar_camouflage=800", "--sample_patch=100",
                      "--touch_up=400", "--late_cancellation=75", "--no_show=100"});
  auto issued_invoice = [&](const std::string& line, const std::string& plan_id) {
    std::vector<std::string> args = {"invoice", "create", "--clinic=" + clinic,
                                     "--patient=" + patient, "--line=" + line};
    if (!plan_id.empty()) args.push_back("--plan=" + plan_id);
    const std::string id = Ok<bv1::Invoice>("clerk", args).id();
    return Ok<bv1::Invoice>("clerk", {"invoice", "issue", id});
  };
  bv1::Invoice session = issued_invoice("treatment_session:1:200.00", plan);
  bv1::Payment deposit = Ok<bv1::Payment>(
      "desk", {"payment", "record", "--plan=" + plan, "--clinic=" + clinic, "--patient=" + patient,
               "--amount=300.00", "--method=card", "--last4=4242", "--reference=AUTH-D"});
  Ok<bv1::Payment>("desk", {"payment", "apply-deposit", deposit.id(), "--invoice=" + session.id(),
                            "--amount=200.00"});

  // UnapplyDeposit: the invoice owes 50 again, the deposit holds it again.
  Result r = Run("clerk", {"payment", "unapply-deposit", deposit.id(), "--invoice=" + session.id(),
                           "--amount=50.00"});
  EXPECT_EQ(r.exit_code, 2) << r;  // --reason is required
  EXPECT_THAT(r.err, HasSubstr("--reason"));
  bv1::Payment back = Ok<bv1::Payment>(
      "clerk", {"payment", "unapply-deposit", deposit.id(), "--invoice=" + session.id(),
                "--amount=50.00", "--reason=applied to the wrong session"});
  EXPECT_EQ(back.id(), deposit.id());
  EXPECT_EQ(back.amount_applied().amount_minor(), 15000);
  r = Run("clerk", {"payment", "unapply-deposit", deposit.id(), "--invoice=" + session.id(),
                    "--amount=500.00", "--reason=too much"});
  EXPECT_EQ(r.exit_code, 6) << r;
  EXPECT_THAT(r.err, HasSubstr("EXCEEDS_APPLIED"));
  r = Run("desk", {"payment", "unapply-deposit", deposit.id(), "--invoice=" + session.id(),
                   "--amount=1.00", "--reason=desk"});
  EXPECT_EQ(r.exit_code, 4) << r;  // a clerk's correction, not the front desk's
  EXPECT_EQ(Ok<bv1::Invoice>("clerk", {"invoice", "get", session.id()}).amount_due().amount_minor(),
            5000);

  // A credit note of 100: the 50 due first, the 50 paid becomes the patient's credit.
  bv1::CreditNote note =
      Ok<bv1::CreditNote>("clerk", {"credit-note", "create", "--invoice=" + session.id(),
                                    "--amount=100.00", "--reason=session shortened"});
  EXPECT_EQ(note.to_credit_balance().amount_minor(), 5000);
  bv1::PatientBalance balance =
      Ok<bv1::PatientBalance>("desk", {"balance", "--clinic=" + clinic, "--patient=" + patient});
  EXPECT_EQ(balance.credit_balance().amount_minor(), 5000);

  // ApplyPatientCredit pays another invoice's 30 from the credit; it answers the paid invoice.
  bv1::Invoice kit = issued_invoice("other:1:30.00:Aftercare kit", "");
  bv1::Invoice kit_paid = Ok<bv1::Invoice>(
      "desk", {"payment", "apply-credit", "--invoice=" + kit.id(), "--amount=30.00"});
  EXPECT_EQ(kit_paid.id(), kit.id());
  EXPECT_EQ(kit_paid.status(), bv1::INVOICE_PAID);
  EXPECT_EQ(kit_paid.amount_due().amount_minor(), 0);
  r = Run("desk", {"payment", "apply-credit", "--invoice=" + kit.id(), "--amount=abc"});
  EXPECT_EQ(r.exit_code, 2) << r;

  // RefundPatientCredit pays the remaining 20 back; more than the balance is refused.
  r = Run("clerk", {"payment", "refund-credit", "--clinic=" + clinic, "--patient=" + patient,
                    "--amount=25.00", "--reason=closing the account"});
  EXPECT_EQ(r.exit_code, 6) << r;
  EXPECT_THAT(r.err, HasSubstr("EXCEEDS_CREDIT_BALANCE"));
  bv1::Refund refund = Ok<bv1::Refund>(
      "clerk", {"payment", "refund-credit", "--clinic=" + clinic, "--patient=" + patient,
                "--amount=20.00", "--reason=closing the account"});
  EXPECT_EQ(refund.amount().amount_minor(), 2000);
  EXPECT_EQ(refund.patient_id(), patient);
  EXPECT_TRUE(refund.payment_id().empty());
  balance =
      Ok<bv1::PatientBalance>("desk", {"balance", "--clinic=" + clinic, "--patient=" + patient});
  EXPECT_EQ(balance.credit_balance().amount_minor(), 0);
}

// Lots expiring by the clinic's calendar, a lot held and released at one clinic, and the failed
// logins an auditor lists.
TEST_F(SmpctlTest, ExpiringLotsLotHoldsAndLoginFailures) {
  StartService("inventory");
  Login("root");
  const std::string clinic = MakeClinic("Auckland", "Pacific/Auckland");
  Ok<nv1::ClinicInventorySettings>("root", {"inventory-settings", "set", "--clinic=" + clinic});
  MakeStaff("stock.akl", "inventory_staff", clinic);
  MakeStaff("auditor", "auditor");
  nv1::Product pigment =
      Ok<nv1::Product>("stock.akl", {"product", "create", "--kind=pigment", "--name=Charcoal",
                                     "--brand=Acme", "--shade=Charcoal"});
  absl::TimeZone auckland;
  ASSERT_TRUE(absl::LoadTimeZone("Pacific/Auckland", &auckland));
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), auckland);
  const nv1::Lot soon =
      Ok<nv1::ReceiveStockResponse>(
          "stock.akl",
          {"stock", "receive", "--clinic=" + clinic, "--product=" + pigment.id(), "--lot=SOON",
           "--expiry=" + absl::FormatCivilTime(today + 1), "--quantity=2"})
          .lot();
  Ok<nv1::ReceiveStockResponse>(
      "stock.akl",
      {"stock", "receive", "--clinic=" + clinic, "--product=" + pigment.id(), "--lot=LATER",
       "--expiry=" + absl::FormatCivilTime(today + 200), "--quantity=2"});
  // Tomorrow in Auckland is within one day, whatever the day is in UTC.
  Result r = Run("stock.akl", {"stock", "expiring", "--clinic=" + clinic, "--within=1"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("SOON"));
  EXPECT_THAT(r.out, Not(HasSubstr("LATER")));
  EXPECT_EQ(Ok<nv1::ListExpiringResponse>(
                "stock.akl", {"stock", "expiring", "--clinic=" + clinic, "--within=365"})
                .levels_size(),
            2);
  r = Run("stock.akl", {"stock", "expiring", "--clinic=" + clinic, "--within=400"});
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_THAT(r.err, HasSubstr("--within"));

  nv1::LotHold hold = Ok<nv1::LotHold>(
      "stock.akl", {"stock", "hold", soon.id(), "--clinic=" + clinic, "--reason=maker notice 12"});
  EXPECT_TRUE(hold.held());
  EXPECT_EQ(hold.hold_reason(), "maker notice 12");
  r = Run("stock.akl", {"stock", "hold", soon.id(), "--clinic=" + NewId(), "--reason=x"});
  EXPECT_EQ(r.exit_code, 4) << r;  // not one of the clerk's clinics
  nv1::LotHold released = Ok<nv1::LotHold>(
      "stock.akl",
      {"stock", "release", soon.id(), "--clinic=" + clinic, "--reason=maker withdrew the notice"});
  EXPECT_FALSE(released.held());
  EXPECT_EQ(released.release_reason(), "maker withdrew the notice");

  // A wrong password is counted; the auditor lists it, the clerk may not.
  const std::string wrong = dir_ + "/wrong-password";
  std::ofstream(wrong) << "not the password\n";
  r = Run("someone", {"login", "--username=stock.akl", "--password_file=" + wrong});
  EXPECT_EQ(r.exit_code, 3) << r;
  const std::string utc_today =
      absl::FormatCivilTime(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()));
  r = Run("auditor", {"login-failures", "list", "--from=" + utc_today, "--to=" + utc_today});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("stock.akl"));
  r = Run("stock.akl", {"login-failures", "list"});
  EXPECT_EQ(r.exit_code, 4) << r;
  r = Run("auditor", {"login-failures", "list", "--from=yesterday"});
  EXPECT_EQ(r.exit_code, 2) << r;
}

}  // namespace
}  // namespace smp::smpctl
