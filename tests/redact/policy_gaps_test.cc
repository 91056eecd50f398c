// #14 item 8: what the default policy kept that is not structural. Each case was kept as written
// before: a participant's name in a message, a structured-output schema's field names and
// numbers, free text under an allowed key (an MCP `reason`, code-interpreter `code`, a `status`
// or `type` holding a sentence), and up to 512 characters of an error message with the customer's
// quoted input.
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "redact/json_redactor.h"
#include "tests/redact/redact_test_util.h"

namespace relaytap::redact {
namespace {

using json = nlohmann::json;

class PolicyGapsTest : public ::testing::Test {
 protected:
  std::string Redact(const json& doc) {
    return RedactJson(doc, testing::DefaultPolicy(), testing::TestFingerprinter());
  }
};

TEST_F(PolicyGapsTest, MessageParticipantNamesAreRedactedFunctionNamesKept) {
  const std::string out =
      Redact({{"messages", {{{"role", "user"}, {"name", "AliceSmithCANARY"}, {"content", "hi"}}}},
              {"tools", {{{"type", "function"}, {"name", "get_weather"}}}},
              {"item", {{"type", "function_call"}, {"name", "lookup_order"}}}});
  EXPECT_EQ(out.find("CANARY"), std::string::npos) << out;
  EXPECT_NE(out.find("\"get_weather\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"lookup_order\""), std::string::npos) << out;
}

TEST_F(PolicyGapsTest, StructuredOutputSchemasAreOpaque) {
  const json schema = {
      {"type", "object"},
      {"properties", {{"customerSsnCANARY", {{"type", "string"}, {"maxLength", 4242}}}}}};
  const std::string out =
      Redact({{"response_format", {{"type", "json_schema"}, {"json_schema", {{"schema", schema}}}}},
              {"text", {{"format", {{"type", "json_schema"}, {"schema", schema}}}}},
              {"properties", {{"fieldCANARY", 1}}}});
  EXPECT_EQ(out.find("CANARY"), std::string::npos) << out;
  EXPECT_EQ(out.find("4242"), std::string::npos) << out;
  EXPECT_NE(out.find("\"json_schema\""), std::string::npos) << out;  // the type is structural
}

TEST_F(PolicyGapsTest, FreeTextUnderAllowedKeysIsRedactedTokensKept) {
  const std::string out =
      Redact({{"type", "mcp_approval_response"},
              {"reason", "the customer CANARY asked to cancel"},
              {"code", "import os\nprint('CANARY')"},
              {"status", "my secret CANARY"},
              {"detail", "auto"},
              {"error", {{"code", "invalid_value"}, {"param", "messages[0]"}}}});
  EXPECT_EQ(out.find("CANARY"), std::string::npos) << out;
  for (const char* kept :
       {"\"mcp_approval_response\"", "\"auto\"", "\"invalid_value\"", "\"messages[0]\""}) {
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " in " << out;
  }
}

TEST_F(PolicyGapsTest, ErrorMessagesLoseQuotedInputAndAreCappedShorter) {
  std::string message =
      "Invalid value: 'CANARY customer text'. Supported values are: \"text\" and \"audio\". "
      "Don't retry.";
  for (int i = 0; i < 100; ++i) message += " more";
  const json out = json::parse(Redact({{"error", {{"message", message}}}}));
  const std::string kept = out["error"]["message"];
  EXPECT_EQ(kept.find("CANARY"), std::string::npos) << kept;
  EXPECT_EQ(kept.rfind("Invalid value: '", 0), 0u) << kept;  // the words around it stay
  EXPECT_NE(kept.find("Don't retry."), std::string::npos) << kept;
  EXPECT_LE(kept.size(), 200u);
}

}  // namespace
}  // namespace relaytap::redact
