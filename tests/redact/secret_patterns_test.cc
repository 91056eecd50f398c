#include "redact/secret_patterns.h"

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "tests/redact/redact_test_util.h"

namespace relaytap::redact {
namespace {

TEST(SecretPatternsTest, FindsEachPattern) {
  EXPECT_TRUE(ContainsSecret("key sk-abcdefghijklmnopqrstuvwx end"));
  EXPECT_TRUE(ContainsSecret("sk-proj-abcdefghijklmnopqrstu"));
  EXPECT_TRUE(ContainsSecret("ek_abcdefghijklmnop"));
  EXPECT_TRUE(ContainsSecret("use Bearer xyz"));
  EXPECT_TRUE(ContainsSecret("BEARER\txyz"));
  EXPECT_TRUE(ContainsSecret("t=eyJhbGciOiJub25lIn0.eyJleHAiOjF9."));
  EXPECT_TRUE(ContainsSecret("0123456789abcdef0123456789ABCDEF"));
  EXPECT_TRUE(ContainsSecret(std::string(64, 'Q')));
}

TEST(SecretPatternsTest, IgnoresStructuralValues) {
  for (const char* s : {"response.output_audio.delta", "sess_C9G5QPteg4UIbotdKLoYQ", "in_progress",
                        "invalid_request_error", "sk-short", "ek_short", "bearer",
                        "0123456789abcdef0123456789abcde", "gpt-4o-realtime-preview",
                        "b8a8ab0f-6a0b-4d6e-9e1f-0c3a2c1d2e3f"}) {
    EXPECT_FALSE(ContainsSecret(s)) << s;
  }
  EXPECT_FALSE(ContainsSecret(std::string(63, 'Q')));
}

// ContainsSecret is a one-pass rewrite of FindSecret(s).has_value(): the two must agree on every
// input, above all near the thresholds (32 hex, 64 base64, 20/16 after sk-/ek_) and the "byte
// before" conditions.
TEST(SecretPatternsTest, ContainsSecretAgreesWithFindSecretOnRandomText) {
  const std::vector<std::string> pieces = {"sk-",
                                           "ek_",
                                           "eyJ",
                                           "Bearer",
                                           "bEaReR",
                                           "bearer",
                                           " ",
                                           "\t",
                                           "\n",
                                           ".",
                                           "-",
                                           "_",
                                           "=",
                                           "+",
                                           "/",
                                           ":",
                                           "a",
                                           "e",
                                           "s",
                                           "k",
                                           "b",
                                           "Z",
                                           "0",
                                           "f",
                                           "9",
                                           "x",
                                           "\xc3\xa9",
                                           "\xff",
                                           std::string(1, '\0'),
                                           "\"",
                                           "\\"};
  const std::string hex = "0123456789abcdefABCDEF";
  const std::string b64 = "ABCXYZabcxyz0189+/-_=";
  std::mt19937 rng(20261202);
  const auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
  size_t with_secret = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const size_t parts = pick(24);
    for (size_t p = 0; p < parts; ++p) {
      switch (pick(6)) {
        case 0: {  // a run near a threshold
          const bool is_hex = pick(2) == 0;
          const std::string& set = is_hex ? hex : b64;
          const size_t n = (is_hex ? 29 : 61) + pick(7);
          for (size_t k = 0; k < n; ++k) s.push_back(set[pick(set.size())]);
          break;
        }
        case 1: {  // a prefix with a body near its minimum
          s += pick(2) == 0 ? "sk-" : "ek_";
          const size_t n = 14 + pick(9);
          for (size_t k = 0; k < n; ++k) s.push_back(b64[pick(b64.size())]);
          break;
        }
        default:
          s += pieces[pick(pieces.size())];
      }
    }
    const bool want = FindSecret(s).has_value();
    with_secret += want ? 1 : 0;
    ASSERT_EQ(ContainsSecret(s), want) << "input: " << s;
    // Every suffix too: a match at the very start has no byte before it.
    const size_t cut = s.empty() ? 0 : pick(s.size());
    ASSERT_EQ(ContainsSecret(std::string_view(s).substr(cut)),
              FindSecret(std::string_view(s).substr(cut)).has_value())
        << "input: " << s.substr(cut);
  }
  // Both answers occur often, so the comparison means something.
  EXPECT_GT(with_secret, 2000u);
  EXPECT_LT(with_secret, 18000u);
}

TEST(SecretPatternsTest, ContainsSecretEdgeCases) {
  for (const std::string& s : std::vector<std::string>{"",
                                                       "e",
                                                       "eyJ",
                                                       "eyJa.b",
                                                       "eyJa.b.",
                                                       "xeyJa.b.",
                                                       "_eyJa.b.",
                                                       "Bearer",
                                                       "Bearer ",
                                                       "Bearer x",
                                                       "xBearer x",
                                                       "-Bearer x",
                                                       std::string(31, 'a'),
                                                       std::string(32, 'a'),
                                                       "g" + std::string(32, 'a'),
                                                       std::string(63, '='),
                                                       std::string(64, '='),
                                                       "sk-" + std::string(19, 'a'),
                                                       "sk-" + std::string(20, 'a'),
                                                       "ask-" + std::string(20, 'a'),
                                                       ".sk-" + std::string(20, 'a'),
                                                       "ek_" + std::string(15, 'a'),
                                                       "ek_" + std::string(16, 'a'),
                                                       "ek_" + std::string(15, 'a') + "-",
                                                       "\xc3\xa9"
                                                       "Bearer\xc3\xa9"}) {
    EXPECT_EQ(ContainsSecret(s), FindSecret(s).has_value()) << s;
  }
}

TEST(SecretPatternsTest, ScrubReplacesEverySpanWithItsFingerprint) {
  const auto& fp = testing::TestFingerprinter();
  size_t n = 0;
  const std::string out = ScrubSecrets(
      "Incorrect API key provided: sk-abcdefghijklmnopqrstuvwx. Session sess_123.", fp, &n);
  EXPECT_EQ(out, "Incorrect API key provided: [" + fp.Of("sk-abcdefghijklmnopqrstuvwx") +
                     "]. Session sess_123.");
  EXPECT_EQ(n, 1u);
}

// Found by tests/fuzz/redact_text_fuzz: a base64 run that begins with 32+ hex digits was cut at the
// end of the hex run, and the rest of the run (no longer at a run boundary) was never matched, so
// ScrubSecrets kept it.
TEST(SecretPatternsTest, TakesTheLongestMatchAtAPosition) {
  const std::string hex(40, 'b');
  const std::string b64 = hex + "/wQFBgcssLS4vMDEyMzx-customQ1Njc4OTo7PD0+SIjJCUmJygpKiss";
  ASSERT_TRUE(FindSecret(b64).has_value());
  EXPECT_EQ(FindSecret(b64)->begin, 0u);
  EXPECT_EQ(FindSecret(b64)->end, b64.size());
  const std::string key = "sk-" + std::string(24, 'a') + "+/" + std::string(50, 'c');
  ASSERT_TRUE(FindSecret(key).has_value());
  EXPECT_EQ(FindSecret(key)->end, key.size());
  const auto& fp = testing::TestFingerprinter();
  size_t n = 0;
  EXPECT_EQ(ScrubSecrets(b64 + " x", fp, &n), "[" + fp.Of(b64) + "] x");
  EXPECT_EQ(n, 1u);
}

// Found by tests/fuzz/redact_text_fuzz: "sk-…" right after a scrubbed hex run was not at a word
// start in the input, but was in the output (after the "]" of the replacement).
TEST(SecretPatternsTest, ScrubbedOutputHoldsNoSecret) {
  const auto& fp = testing::TestFingerprinter();
  const std::string hex(32, 'B');
  const std::string key = "sk-proj-AbCdEfGhIjKlMnOor";
  size_t n = 0;
  const std::string out = ScrubSecrets(hex + key + ": x", fp, &n);
  EXPECT_EQ(out, "[" + fp.Of(hex) + "][" + fp.Of(key) + "]: x");
  EXPECT_EQ(n, 2u);
  EXPECT_FALSE(ContainsSecret(out));
}

TEST(SecretPatternsTest, LinearOnHostileInput) {
  std::string s;
  for (int i = 0; i < 200000; ++i) s += "eyJ.";
  for (int i = 0; i < 100000; ++i) s += "sk-a ";
  EXPECT_FALSE(ContainsSecret(s));  // finishes quickly under sanitizers too
}

}  // namespace
}  // namespace relaytap::redact
