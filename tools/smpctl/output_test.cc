#include "tools/smpctl/output.h"

#include <sstream>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "smp/identity/v1/identity.pb.h"

namespace smp::smpctl {
namespace {

TEST(Table, AlignsColumns) {
  Table t({"id", "name"});
  t.AddRow({"1", "Austin Downtown"});
  t.AddRow({"22", "Zürich\nWest"});
  std::ostringstream out;
  t.Print(out);
  EXPECT_EQ(out.str(),
            "ID  NAME\n"
            "1   Austin Downtown\n"
            "22  Zürich West\n");
}

TEST(Table, EmptySaysNone) {
  Table t({"id"});
  std::ostringstream out;
  t.Print(out);
  EXPECT_EQ(out.str(), "ID\n(none)\n");
}

TEST(Fields, SkipsEmptyValues) {
  std::ostringstream out;
  PrintFields(out, {{"id", "C1"}, {"phone", ""}, {"time zone", "UTC"}});
  EXPECT_EQ(out.str(), "id:         C1\ntime zone:  UTC\n");
}

TEST(Json, OneLineThatParsesBack) {
  identity::v1::Clinic c;
  c.set_id("C1");
  c.set_name("Austin");
  const std::string line = ToJsonLine(c);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  identity::v1::Clinic back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &back).ok());
  EXPECT_EQ(back.name(), "Austin");
  EXPECT_THAT(line, ::testing::HasSubstr("\"phone\":\"\""));  // defaults included
}

}  // namespace
}  // namespace smp::smpctl
