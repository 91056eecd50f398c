#include "redact/policy.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/redact/redact_test_util.h"

namespace relaytap::redact {
namespace {

using testing::StatusIs;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

TEST(PolicyTest, ConfigFileEqualsEmbeddedDefault) {
  std::ifstream in(RELAYTAP_REDACTION_CONFIG, std::ios::binary);
  ASSERT_TRUE(in) << "cannot open " << RELAYTAP_REDACTION_CONFIG;
  std::stringstream buf;
  buf << in.rdbuf();
  EXPECT_EQ(buf.str(), std::string(DefaultPolicyText()))
      << "configs/redaction.json and redact/default_policy.cc have drifted";
}

TEST(PolicyTest, DefaultHasTheDocumentedRules) {
  absl::StatusOr<Policy> p = Policy::Default();
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->allow_keys().Contains("type"));
  EXPECT_FALSE(p->allow_keys().Contains("delta"));
  EXPECT_TRUE(p->opaque_keys().Contains("authorization"));
  EXPECT_TRUE(p->id_keys().Contains("previous_item_id"));
  EXPECT_TRUE(p->keep_headers().Contains("X-Stainless-Retry-Count"));
  EXPECT_TRUE(p->keep_headers().Contains("x-ratelimit-remaining-tokens"));
  EXPECT_TRUE(p->secret_headers().Contains("Ocp-Apim-Subscription-Key"));
  EXPECT_TRUE(p->keep_query_params().Contains("API-Version"));
  EXPECT_FALSE(p->keep_query_params().Contains("api-key"));
  EXPECT_EQ(p->max_kept_string_chars(), 256u);
  EXPECT_EQ(p->max_message_chars(), 200u);
  EXPECT_EQ(p->max_depth(), 64u);
}

TEST(PolicyTest, UnknownTopLevelKeyIsAnError) {
  EXPECT_TRUE(StatusIs(Policy::Parse(R"({"allow_key": ["x"]})").status(), kInvalid,
                       "unknown key 'allow_key'"));
  EXPECT_TRUE(Policy::Parse(R"({"_comment": "fine"})").ok());
}

TEST(PolicyTest, ErrorsNameTheBadKeyAndValue) {
  EXPECT_TRUE(StatusIs(Policy::Parse("not json").status(), kInvalid, "not a valid JSON"));
  EXPECT_TRUE(StatusIs(Policy::Parse("[1]").status(), kInvalid, "not a valid JSON object"));
  EXPECT_TRUE(StatusIs(Policy::Parse(R"({"opaque_keys": "x"})").status(), kInvalid,
                       "'opaque_keys' must be an array of strings"));
  EXPECT_TRUE(StatusIs(Policy::Parse(R"({"allow_keys": ["a", 3]})").status(), kInvalid,
                       "'allow_keys' element 1 must be a non-empty string"));
  EXPECT_TRUE(StatusIs(Policy::Parse(R"({"keep_headers": ["x-*-y"]})").status(), kInvalid,
                       "invalid name pattern 'x-*-y'"));
  EXPECT_TRUE(StatusIs(Policy::Parse(R"({"keep_headers": ["*"]})").status(), kInvalid,
                       "'keep_headers' element 0"));
  EXPECT_TRUE(StatusIs(Policy::Parse(R"({"max_kept_string_chars": 0})").status(), kInvalid,
                       "'max_kept_string_chars' must be an integer in [1, 65536]"));
  EXPECT_TRUE(StatusIs(Policy::Parse(R"({"max_depth": "64"})").status(), kInvalid,
                       "'max_depth' must be an integer"));
}

TEST(PolicyTest, ExtendAddsKeysToTheDefault) {
  Policy p = testing::DefaultPolicy();
  EXPECT_FALSE(p.allow_keys().Contains("obfuscation"));
  ASSERT_TRUE(p.Extend(R"({"allow_keys": ["obfuscation"], "keep_headers": ["X-My-*"]})").ok());
  EXPECT_TRUE(p.allow_keys().Contains("obfuscation"));
  EXPECT_TRUE(p.allow_keys().Contains("type"));  // still there
  EXPECT_TRUE(p.keep_headers().Contains("x-my-trace"));
}

TEST(PolicyTest, FailedExtendLeavesPolicyUnchanged) {
  Policy p = testing::DefaultPolicy();
  const std::string before = p.hash();
  EXPECT_FALSE(p.Extend(R"({"allow_keys": ["ok_key"], "bogus": 1})").ok());
  EXPECT_FALSE(p.allow_keys().Contains("ok_key"));
  EXPECT_EQ(p.hash(), before);
}

TEST(PolicyTest, HashIsStableAndChangesWithThePolicy) {
  Policy p = testing::DefaultPolicy();
  const std::string h = p.hash();
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(Policy::Default()->hash(), h);
  // Comments and list order do not change the canonical form.
  EXPECT_EQ(Policy::Parse(R"({"allow_keys":["b","a"],"_c":"x"})")->hash(),
            Policy::Parse(R"({"allow_keys":["a","b"]})")->hash());
  ASSERT_TRUE(p.Extend(R"({"opaque_keys": ["extra"]})").ok());
  EXPECT_NE(p.hash(), h);
  Policy q = testing::DefaultPolicy();
  ASSERT_TRUE(q.Extend(R"({"max_message_chars": 100})").ok());
  EXPECT_NE(q.hash(), h);
}

// JsonKeyRules is an index over the six JSON key lists: each bit must equal that list's
// Contains() for every key, with exact names, prefixes and suffixes overlapping.
TEST(PolicyTest, JsonKeyRulesAgreeWithEachList) {
  Policy p = testing::DefaultPolicy();
  ASSERT_TRUE(p.Extend(R"({"allow_keys": ["x_*", "*_text", "id"], "opaque_keys": ["x_secret*"],
                           "numbers_redacted_keys": ["usage", "*_tokens"],
                           "scrub_keys": ["*message"], "audio_keys": ["audio*"]})")
                  .ok());
  const std::vector<std::string> keys = {"",
                                         "id",
                                         "_id",
                                         "x_id",
                                         "event_id",
                                         "item_id",
                                         "type",
                                         "delta",
                                         "audio",
                                         "audio_end",
                                         "audios",
                                         "message",
                                         "error_message",
                                         "usage",
                                         "total_tokens",
                                         "_tokens",
                                         "tokens",
                                         "x_",
                                         "x_a",
                                         "x_secret",
                                         "x_secret_key",
                                         "metadata",
                                         "some_text",
                                         "_text",
                                         "text",
                                         "output_index",
                                         "Type",
                                         "ID",
                                         "\xc3\xa9_id"};
  const std::pair<const NameSet*, uint8_t> lists[] = {
      {&p.allow_keys(), Policy::kJsonKeyAllow},
      {&p.opaque_keys(), Policy::kJsonKeyOpaque},
      {&p.id_keys(), Policy::kJsonKeyId},
      {&p.scrub_keys(), Policy::kJsonKeyScrub},
      {&p.audio_keys(), Policy::kJsonKeyAudio},
      {&p.numbers_redacted_keys(), Policy::kJsonKeyNumbersRedacted}};
  for (const std::string& key : keys) {
    const uint8_t rules = p.JsonKeyRules(key);
    for (const auto& [list, bit] : lists) {
      EXPECT_EQ((rules & bit) != 0, list->Contains(key)) << "key '" << key << "' bit " << +bit;
    }
  }
  // The default policy (no Extend after Default()) is indexed as well.
  EXPECT_EQ(testing::DefaultPolicy().JsonKeyRules("event_id"),
            Policy::kJsonKeyAllow | Policy::kJsonKeyId);
  EXPECT_EQ(testing::DefaultPolicy().JsonKeyRules("delta"), 0);
}

TEST(NameSetTest, ExactPrefixAndSuffixPatterns) {
  NameSet s(/*case_insensitive=*/true);
  ASSERT_TRUE(s.Add("X-Stainless-*").ok());
  ASSERT_TRUE(s.Add("*_ms").ok());
  ASSERT_TRUE(s.Add("Date").ok());
  EXPECT_TRUE(s.Contains("x-stainless-lang"));
  EXPECT_FALSE(s.Contains("x-stainless-"));
  EXPECT_TRUE(s.Contains("RETRY_AFTER_MS"));
  EXPECT_TRUE(s.Contains("date"));
  EXPECT_FALSE(s.Contains("dates"));
  NameSet exact;
  ASSERT_TRUE(exact.Add("Type").ok());
  EXPECT_FALSE(exact.Contains("type"));
}

}  // namespace
}  // namespace relaytap::redact
