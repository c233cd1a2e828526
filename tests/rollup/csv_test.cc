#include "rollup/csv.h"

#include <gtest/gtest.h>

namespace refgate {

std::string Field(std::string_view f) {
  std::string line;
  AppendCsvText(&line, f, true);
  return line;
}

TEST(Csv, PlainFieldsAreLeftAlone) {
  EXPECT_EQ(Field("newsletter"), "newsletter");
  EXPECT_EQ(Field(""), "");
  EXPECT_EQ(Field("a b"), "a b");
}

TEST(Csv, QuotesCommasQuotesAndLineBreaks) {
  EXPECT_EQ(Field("a,b"), "\"a,b\"");
  EXPECT_EQ(Field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(Field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(Field("cr\rhere"), "\"cr\rhere\"");
}

TEST(Csv, NeutralisesFormulas) {
  EXPECT_EQ(Field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(Field("+1"), "'+1");
  EXPECT_EQ(Field("-1"), "'-1");
  EXPECT_EQ(Field("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(Field("a=b"), "a=b");
}

TEST(Csv, SeparatesFields) {
  std::string line;
  AppendCsvText(&line, "a", true);
  AppendCsvNumber(&line, 42);
  AppendCsvText(&line, "b,c");
  EXPECT_EQ(line, "a,42,\"b,c\"");
}

}  // namespace refgate
