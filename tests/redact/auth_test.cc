#include "redact/auth.h"

#include <string>

#include "gtest/gtest.h"

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

}  // namespace
}  // namespace relaytap::redact
