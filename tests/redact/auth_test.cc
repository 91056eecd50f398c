#include "redact/auth.h"

#include <cstdint>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "redact/fingerprint.h"

namespace relaytap::redact {
namespace {

// Unsigned JWT: header {"alg":"none","typ":"JWT"}, payload
// {"sub":"user-secret","exp":1700003600,"nbf":1700000000,"iat":1699999990.5}.
constexpr char kJwt[] =
    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
    "eyJzdWIiOiJ1c2VyLXNlY3JldCIsImV4cCI6MTcwMDAwMzYwMCwibmJmIjoxNzAwMDAwMDAwLCJpYXQiOjE2OTk5OTk5OT"
    "AuNX0.";

// "Bearer " + kJwt, built with append: GCC 12 reports string operator+ here as out of bounds
// (-Warray-bounds, a false positive).
std::string BearerJwt() {
  std::string s = "Bearer ";
  s.append(kJwt);
  return s;
}

TEST(AuthTest, DescribesEachKindWithoutTheValue) {
  EXPECT_EQ(DescribeAuthorization(BearerJwt()), "bearer_jwt");
  EXPECT_EQ(DescribeAuthorization("Bearer sk-proj-abc"), "bearer_key");
  EXPECT_EQ(DescribeAuthorization("bearer ek_abc"), "bearer_ephemeral");
  EXPECT_EQ(DescribeAuthorization("Bearer 0123abcd"), "bearer");
  EXPECT_EQ(DescribeAuthorization("Basic dXNlcjpwYXNz"), "basic");
  EXPECT_EQ(DescribeAuthorization("Digest x"), "other");
  EXPECT_EQ(DescribeAuthorization(""), "other");
}

TEST(AuthTest, ExtractsJwtTimesFromHandMadeToken) {
  auto t = JwtTimesOf(BearerJwt());
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->exp, 1700003600);
  EXPECT_EQ(t->nbf, 1700000000);
  EXPECT_EQ(t->iat, 1699999990);
  EXPECT_EQ(JwtTimesOf(kJwt)->exp, 1700003600);  // bare token too
}

TEST(AuthTest, JwtWithoutTimesHasEmptyFields) {
  // payload {"a":1}
  auto t = JwtTimesOf("eyJhbGciOiJub25lIn0.eyJhIjoxfQ.sig");
  ASSERT_TRUE(t.has_value());
  EXPECT_FALSE(t->exp.has_value());
  EXPECT_FALSE(t->iat.has_value());
}

TEST(AuthTest, RejectsNonJwt) {
  EXPECT_FALSE(JwtTimesOf("Bearer sk-abc").has_value());
  EXPECT_FALSE(JwtTimesOf("eyJhbGciOiJub25lIn0.!!!.x").has_value());
  EXPECT_FALSE(JwtTimesOf("eyJhbGciOiJub25lIn0.bm90IGpzb24.x").has_value());  // "not json"
  EXPECT_FALSE(JwtTimesOf("eyJa.b.c.d").has_value());
}

// An unsigned JWT whose payload is `payload_json` (base64url without padding).
std::string JwtWithPayload(std::string_view payload_json) {
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string b64;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : payload_json) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      b64.push_back(kB64[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) b64.push_back(kB64[(acc << (6 - bits)) & 63]);
  std::string jwt = "eyJhbGciOiJub25lIn0.";
  jwt.append(b64).append(".sig");
  return jwt;
}

constexpr char kTenant[] = "72f988bf-86f1-41af-91ab-2d7cd011db47";

// Concatenation by append (GCC 12 reports string operator+ chains here as out of bounds).
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

TEST(AuthTest, ReadsAudienceAndTenantClaims) {
  auto c = JwtClaimsOf(
      Cat({"Bearer ", JwtWithPayload(Cat({R"({"aud":"https://cognitiveservices.azure.com","tid":")",
                                          kTenant, R"(","exp":1700003600,"oid":"x"})"}))}));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->aud, "https://cognitiveservices.azure.com");
  EXPECT_EQ(c->tid, kTenant);
  EXPECT_EQ(c->times.exp, 1700003600);
  // An array audience: its first string elements.
  c = JwtClaimsOf(JwtWithPayload(R"({"aud":["api://a",7,"https://b.example"],"tid":5})"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->aud, "api://a,https://b.example");
  EXPECT_EQ(c->tid, "");  // not a string
}

TEST(AuthTest, IdentifierClaimsAreKeptOtherwiseFingerprinted) {
  const Fingerprinter fp(std::string("auth-test-key-0123456789"));
  EXPECT_EQ(JwtIdentifier(JwtClaim::kTid, kTenant, fp), kTenant);
  EXPECT_EQ(JwtIdentifier(JwtClaim::kTid, "contoso.onmicrosoft.com", fp),
            fp.Of("contoso.onmicrosoft.com"));
  EXPECT_EQ(JwtIdentifier(JwtClaim::kTid, "", fp), "");
  for (const char* kept : {"https://cognitiveservices.azure.com", "api://relaytap-app/.default",
                           "00000003-0000-0000-c000-000000000000", "https://ai.azure.com/"}) {
    EXPECT_EQ(JwtIdentifier(JwtClaim::kAud, kept, fp), kept);
  }
  const std::string secret = "sk-CANARYaud0123456789abcdefghij";
  const std::string long_url = Cat({"https://", std::string(130, 'a')});
  const std::string in_url = Cat({"https://", secret, ".example"});
  for (std::string_view hidden :
       {std::string_view(secret), std::string_view(in_url),
        std::string_view("https://user:pw@host"), std::string_view("https://host/?key=v"),
        std::string_view("free text audience"), std::string_view(long_url),
        std::string_view("urn:x")}) {
    EXPECT_EQ(JwtIdentifier(JwtClaim::kAud, hidden, fp), fp.Of(hidden)) << hidden;
  }
  EXPECT_EQ(JwtIdentifier(JwtClaim::kAud, Cat({"api://a,", secret}), fp),
            Cat({"api://a,", fp.Of(secret)}));
}

}  // namespace
}  // namespace relaytap::redact
