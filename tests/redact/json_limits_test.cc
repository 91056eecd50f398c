// What one JSON text may cost the writer (#14 item 4): a bounded number of values in the DOM, a
// bounded stored form. Past either, the text is stored as its over-limit shape, with its size and
// fingerprint, never its content.

#include <string>

#include "gtest/gtest.h"
#include "redact/body_shape.h"
#include "redact/json_holes.h"
#include "redact/json_parse.h"
#include "redact/json_redactor.h"
#include "tests/redact/redact_test_util.h"

namespace relaytap::redact {
namespace {

using testing::DefaultPolicy;
using testing::TestFingerprinter;

std::string EmptyArrays(size_t count) {
  std::string s = R"({"type":"conversation.item.create","content":[)";
  for (size_t i = 0; i + 1 < count; ++i) s += "[],";
  return s + "[]]}";
}

TEST(JsonLimitsTest, ParseCountsEveryValueAndStopsPastTheBudget) {
  const std::string text = R"({"a":[1,"x",null,{"b":true}]})";  // 7 values
  bool over = true;
  EXPECT_TRUE(ParseOrderedJson(text, 7, &over).is_object());
  EXPECT_FALSE(over);
  EXPECT_TRUE(ParseOrderedJson(text, 6, &over).is_discarded());
  EXPECT_TRUE(over);
  // Not JSON is not over the budget.
  EXPECT_TRUE(ParseOrderedJson("{", 6, &over).is_discarded());
  EXPECT_FALSE(over);
}

TEST(JsonLimitsTest, ParsedJsonSaysWhenTheTextHasTooManyValues) {
  const std::string text = EmptyArrays(kMaxJsonValues);  // + the object and "type": two over
  const ParsedJson parsed = ParsedJson::Parse(text);
  EXPECT_TRUE(parsed.over_budget);
  EXPECT_TRUE(parsed.doc.is_discarded());
  const std::string fits = EmptyArrays(kMaxJsonValues - 3);
  EXPECT_FALSE(ParsedJson::Parse(fits).over_budget);
  EXPECT_TRUE(ParsedJson::Parse(fits).doc.is_object());
}

TEST(JsonLimitsTest, TooManyValuesAreStoredAsAnOverLimitShape) {
  const std::string text = EmptyArrays(1'000'000);
  const std::string out = RedactJsonText(text, DefaultPolicy(), TestFingerprinter());
  const std::string_view whole = text;
  EXPECT_EQ(out, OverLimitShape("element_budget", text.size(), TestFingerprinter(), &whole));
  EXPECT_EQ(out.rfind(R"({"redacted":"over_limit","limit":"element_budget","len":)" +
                          std::to_string(text.size()) + R"(,"fp":"hmac:)",
                      0),
            0u)
      << out;
  // Equal texts, equal fingerprints.
  EXPECT_EQ(RedactJsonText(text, DefaultPolicy(), TestFingerprinter()), out);
}

TEST(JsonLimitsTest, ARedactedFormOverTheStoredCapIsStoredAsItsShape) {
  // 150,000 identifier keys with booleans: within the value budget, but the redacted form (keys
  // and booleans are kept) is over a megabyte.
  std::string text = "{";
  for (int i = 0; i < 150'000; ++i) text += "\"key_" + std::to_string(i) + "\":true,";
  text += R"("type":"session.update"})";
  ASSERT_FALSE(ParsedJson::Parse(text).over_budget);
  const std::string out = RedactJsonText(text, DefaultPolicy(), TestFingerprinter());
  const std::string_view whole = text;
  EXPECT_EQ(out, OverLimitShape("stored_cap", text.size(), TestFingerprinter(), &whole));
  EXPECT_LE(out.size(), 200u);
}

TEST(JsonLimitsTest, APrefixIsNeverFingerprinted) {
  EXPECT_EQ(OverLimitShape("expansion_ratio", 30'000'076, TestFingerprinter()),
            R"({"redacted":"over_limit","limit":"expansion_ratio","len":30000076})");
}

}  // namespace
}  // namespace relaytap::redact
