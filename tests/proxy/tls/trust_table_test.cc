// The trust table is the one source of the README's "Trusting the CA, per runtime" table, of the
// proxy's self-check log line and of `relaytap doctor`'s fix lines: these tests keep them equal.
#include "proxy/tls/trust_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "proxy/http/self_check.h"

namespace relaytap::proxy::tls {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadReadme() {
  std::ifstream in(RELAYTAP_SOURCE_DIR "/README.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(TrustTableTest, TheReadmeHoldsTheTableVerbatim) {
  const std::string readme = ReadReadme();
  ASSERT_FALSE(readme.empty());
  const size_t section = readme.find("## Trusting the CA, per runtime");
  ASSERT_NE(section, std::string::npos);
  // The table is the first one after the section's heading.
  const size_t table = readme.find("| runtime | how |", section);
  ASSERT_NE(table, std::string::npos);
  EXPECT_EQ(readme.substr(table, TrustTableMarkdown().size()), TrustTableMarkdown())
      << "regenerate the README table from proxy/tls/trust_table.cc";
}

TEST(TrustTableTest, EachRowsHowNamesItsVariableWithTheFileItTakes) {
  for (const RuntimeTrust& row : TrustTable()) {
    SCOPED_TRACE(std::string(row.label));
    if (row.file == TrustFile::kNone) {
      EXPECT_TRUE(row.trust_variable.empty());
      continue;
    }
    EXPECT_THAT(std::string(row.how), HasSubstr(TrustAssignmentPlaceholder(row)));
  }
}

TEST(TrustTableTest, DoctorsRuntimesHaveRows) {
  for (const char* key : {"curl", "python-requests", "python-httpx", "python-aiohttp",
                          "python-websocket-client", "python-websockets", "node"}) {
    const RuntimeTrust* row = FindRuntimeTrust(key);
    ASSERT_NE(row, nullptr) << key;
    EXPECT_NE(row->file, TrustFile::kNone) << key;
  }
  EXPECT_EQ(FindRuntimeTrust("cobol"), nullptr);
  EXPECT_EQ(FindRuntimeTrust(""), nullptr);
}

TEST(TrustTableTest, TheSelfCheckLogLineIsBuiltFromTheTable) {
  const std::string advice = http_relay::SelfCheckTrustAdvice("/ca/relaytap-ca.pem");
  EXPECT_THAT(advice, HasSubstr("relaytap ca env"));
  for (const RuntimeTrust& row : TrustTable()) {
    if (row.file == TrustFile::kBundle) {
      EXPECT_THAT(advice, HasSubstr(TrustAssignmentPlaceholder(row)));
    } else if (row.file == TrustFile::kCaCert) {
      EXPECT_THAT(advice,
                  HasSubstr(std::string(row.trust_variable) + "=/ca/relaytap-ca.pem (Node.js)"));
    }
  }
  EXPECT_THAT(advice, HasSubstr("SSL_CERT_FILE=<bundle> (Python httpx, Python aiohttp"));
  EXPECT_THAT(advice, HasSubstr(".NET on Linux"));
  EXPECT_THAT(advice, HasSubstr("Java: see README"));
  EXPECT_THAT(advice, Not(HasSubstr("`")));
}

}  // namespace
}  // namespace relaytap::proxy::tls
