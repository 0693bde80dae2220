#include "common/util/csv.h"

#include "gtest/gtest.h"

namespace smp {
namespace {

TEST(CsvFieldTest, PlainValuesAreUnchanged) {
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("2026-12-01"), "2026-12-01");
  EXPECT_EQ(CsvField("a=b+c-d@e"), "a=b+c-d@e");  // only the first character matters
}

TEST(CsvFieldTest, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
}

TEST(CsvFieldTest, FormulasAreNeutralised) {
  EXPECT_EQ(CsvField("=1+1"), "'=1+1");
  EXPECT_EQ(CsvField("+1"), "'+1");
  EXPECT_EQ(CsvField("-2+3"), "'-2+3");
  EXPECT_EQ(CsvField("@SUM(A1:A2)"), "'@SUM(A1:A2)");
  EXPECT_EQ(CsvField("\tcmd"), "'\tcmd");
  // Neutralised first, then quoted: the apostrophe sits inside the quotes.
  EXPECT_EQ(CsvField("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
  EXPECT_EQ(CsvField("\rx"), "\"'\rx\"");
}

TEST(CsvFieldTest, IsSpreadsheetFormula) {
  for (const char* formula : {"=", "+", "-", "@", "\t", "\r", "=cmd|' /C calc'!A0"}) {
    EXPECT_TRUE(IsSpreadsheetFormula(formula)) << formula;
  }
  for (const char* text : {"", "a", " =1", "'=1", "1-2"}) {
    EXPECT_FALSE(IsSpreadsheetFormula(text)) << text;
  }
}

}  // namespace
}  // namespace smp
