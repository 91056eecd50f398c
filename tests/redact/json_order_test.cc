// Key order and JSON types through the redaction path: the parser (json_parse.h), the redactor
// and the writer.

#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "redact/json_parse.h"
#include "redact/json_redactor.h"
#include "redact/json_writer.h"
#include "tests/redact/redact_test_util.h"

namespace relaytap::redact {
namespace {

using Ordered = nlohmann::ordered_json;

std::string Redacted(std::string_view text) {
  return RedactJsonText(text, testing::DefaultPolicy(), testing::TestFingerprinter());
}

// Positions of `keys` in `text` are strictly increasing.
::testing::AssertionResult InOrder(const std::string& text,
                                   std::initializer_list<std::string_view> keys) {
  size_t last = 0;
  for (std::string_view k : keys) {
    const size_t at = text.find("\"" + std::string(k) + "\":");
    if (at == std::string::npos || at < last) {
      return ::testing::AssertionFailure() << k << " missing or out of order in " << text;
    }
    last = at;
  }
  return ::testing::AssertionSuccess();
}

TEST(JsonOrderTest, RedactionKeepsTheDocumentsKeyOrder) {
  const std::string out = Redacted(
      R"({"type":"session.update","session":{"voice":"x","instructions":"y","modalities":["text"]}})");
  EXPECT_TRUE(InOrder(out, {"type", "session", "voice", "instructions", "modalities"}));
  const Ordered back = Ordered::parse(out);
  ASSERT_TRUE(back.is_object());
  EXPECT_EQ(back.begin().key(), "type");
  // Long audio strings are cut out before parsing (json_holes.h); order is kept on that path too.
  const std::string audio = R"({"type":"input_audio_buffer.append","event_id":"e1","audio":")" +
                            std::string(4000, 'A') + R"(","z":1,"a":2})";
  EXPECT_TRUE(InOrder(Redacted(audio), {"type", "event_id", "audio", "z", "a"}));
}

TEST(JsonOrderTest, EveryValueKeepsItsJsonType) {
  const Ordered out = Ordered::parse(Redacted(
      R"({"type":"x","flag":true,"off":false,"none":null,"secret":"s","n":3,"metadata":{"b":1}})"));
  EXPECT_TRUE(out["flag"].is_boolean());
  EXPECT_EQ(out["off"], false);
  EXPECT_TRUE(out["none"].is_null());
  EXPECT_EQ(out["secret"]["redacted"], "string");
  EXPECT_TRUE(out["n"].is_number());
  EXPECT_EQ(out["metadata"]["redacted"], "opaque");
  EXPECT_EQ(out["metadata"]["type"], "object");
  // A subtree cut by the depth bound says what it was, too.
  const Ordered deep =
      Ordered::parse(Redacted(std::string(300, '[') + "true" + std::string(300, ']')));
  std::string_view inner;
  const Ordered* v = &deep;
  for (int i = 0; i < 300 && v->is_array() && !v->empty(); ++i) v = &(*v)[0];
  ASSERT_TRUE(v->is_object()) << v->dump();
  inner = (*v)["type"].get_ref<const std::string&>();
  EXPECT_EQ(inner, "array");
}

TEST(JsonOrderTest, OpaqueFingerprintsDoNotDependOnKeyOrder) {
  const Ordered a = Ordered::parse(Redacted(R"({"metadata":{"b":1,"a":{"y":2,"x":3}}})"));
  const Ordered b = Ordered::parse(Redacted(R"({"metadata":{"a":{"x":3,"y":2},"b":1}})"));
  EXPECT_EQ(a["metadata"]["fp"], b["metadata"]["fp"]);
  EXPECT_EQ(a["metadata"]["len"], b["metadata"]["len"]);
  const Ordered c = Ordered::parse(Redacted(R"({"metadata":{"a":{"x":3,"y":4},"b":1}})"));
  EXPECT_NE(a["metadata"]["fp"], c["metadata"]["fp"]);
}

TEST(JsonOrderTest, SerializeCompactSortsKeysOnlyWhenAsked) {
  const Ordered doc = Ordered::parse(R"({"b":[{"d":1,"c":2}],"a":null})");
  EXPECT_EQ(SerializeCompact(doc), R"({"b":[{"d":1,"c":2}],"a":null})");
  EXPECT_EQ(SerializeCompact(doc, nullptr, /*sorted_keys=*/true),
            R"({"a":null,"b":[{"c":2,"d":1}]})");
  EXPECT_EQ(SerializeCompact(doc, nullptr, true), nlohmann::json::parse(doc.dump()).dump());
}

TEST(JsonParseTest, MatchesNlohmannsOrderedParseIncludingDuplicateKeys) {
  for (const char* text :
       {R"({"z":1,"a":[true,null,{"k":"v","j":2.5}],"m":-3})", R"({"a":1,"b":2,"a":3})",
        R"([1,"x",{"a":{"b":{}}},[]])", R"("just a string")", "12", R"({"a":1} trailing)",
        R"({"a":)", "", R"({"a":"\u00e9\n"})"}) {
    const Ordered want = Ordered::parse(text, nullptr, false);
    const Ordered got = ParseOrderedJson(text);
    EXPECT_EQ(got.is_discarded(), want.is_discarded()) << text;
    if (!want.is_discarded()) {
      EXPECT_EQ(got.dump(), want.dump()) << text;
    }
  }
}

TEST(JsonParseTest, ManyKeysAndDuplicatesInALargeObject) {
  // Past the scan threshold keys are found through an index; a duplicate keeps its first place.
  std::string text = "{";
  constexpr int kKeys = 50000;
  for (int i = 0; i < kKeys; ++i)
    text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  text += R"("k7":"last"})";
  const Ordered doc = ParseOrderedJson(text);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.size(), static_cast<size_t>(kKeys));
  const Ordered::object_t& members = doc.get_ref<const Ordered::object_t&>();
  EXPECT_EQ(members.begin()->first, "k0");
  EXPECT_EQ((members.begin() + 7)->first, "k7");
  EXPECT_EQ(doc["k7"], "last");
  EXPECT_EQ(members.back().first, "k" + std::to_string(kKeys - 1));
}

TEST(JsonParseTest, DeepNestingNeverRecurses) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  const Ordered doc = ParseOrderedJson(deep);
  EXPECT_TRUE(doc.is_array());
  std::string obj;
  for (int i = 0; i < 100000; ++i) obj += R"({"a":)";
  obj += "1" + std::string(100000, '}');
  EXPECT_TRUE(ParseOrderedJson(obj).is_object());
}

}  // namespace
}  // namespace relaytap::redact
