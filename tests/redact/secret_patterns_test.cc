#include "redact/secret_patterns.h"

#include <string>

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
  for (const char* s : {"response.output_audio.delta", "sess_C9G5QPteg4UIbotdKLoYQ",
                        "in_progress", "invalid_request_error", "sk-short", "ek_short",
                        "bearer", "0123456789abcdef0123456789abcde", "gpt-4o-realtime-preview",
                        "b8a8ab0f-6a0b-4d6e-9e1f-0c3a2c1d2e3f"}) {
    EXPECT_FALSE(ContainsSecret(s)) << s;
  }
  EXPECT_FALSE(ContainsSecret(std::string(63, 'Q')));
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

TEST(SecretPatternsTest, LinearOnHostileInput) {
  std::string s;
  for (int i = 0; i < 200000; ++i) s += "eyJ.";
  for (int i = 0; i < 100000; ++i) s += "sk-a ";
  EXPECT_FALSE(ContainsSecret(s));  // finishes quickly under sanitizers too
}

}  // namespace
}  // namespace relaytap::redact
