#include "redact/json_redactor.h"

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "redact/body_shape.h"
#include "redact/json_writer.h"
#include "tests/redact/redact_test_util.h"

namespace relaytap::redact {
namespace {

// AppendQuoted before it appended plain runs in one go: byte by byte, the reference the faster
// version is compared with.
void ReferenceAppendQuoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto seq_len = [&s](size_t i) -> size_t {  // valid UTF-8 sequence at i, else 0
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = b(0);
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return 0;
    }
    if (s.size() - i < n || b(1) < lo || b(1) > hi) return 0;
    for (size_t k = 2; k < n; ++k) {
      if (b(k) < 0x80 || b(k) > 0xBF) return 0;
    }
    return n;
  };
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = seq_len(i);
      out.append(n == 0 ? std::string_view("\\ufffd") : s.substr(i, n));
      i += n == 0 ? 1 : n;
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

TEST(JsonWriterTest, AppendQuotedEqualsTheByteByByteReference) {
  const std::vector<std::string> pieces = {"a",
                                           "Z",
                                           "0",
                                           " ",
                                           "~",
                                           "\x7f",
                                           "\"",
                                           "\\",
                                           "\b",
                                           "\f",
                                           "\n",
                                           "\r",
                                           "\t",
                                           std::string(1, '\0'),
                                           "\x01",
                                           "\x1f",
                                           "\xc3\xa9",
                                           "\xe2\x82\xac",
                                           "\xf0\x9f\x98\x80",
                                           "\xc3",
                                           "\xe2\x82",
                                           "\xff",
                                           "\x80",
                                           "\xed\xa0\x80",
                                           "\xf4\x90\x80\x80",
                                           "\xc0\xaf",
                                           "plain text run "};
  std::mt19937 rng(31);
  for (int round = 0; round < 5000; ++round) {
    std::string s;
    const size_t parts = rng() % 12;
    for (size_t p = 0; p < parts; ++p) s += pieces[rng() % pieces.size()];
    std::string got = "prefix", want = "prefix";
    AppendQuoted(got, s);
    ReferenceAppendQuoted(want, s);
    ASSERT_EQ(got, want) << "input of " << s.size() << " bytes, round " << round;
  }
  for (int c = 0; c < 256; ++c) {  // every byte alone, first, last and in the middle
    for (const std::string& s : {std::string(1, static_cast<char>(c)),
                                 "ab" + std::string(1, static_cast<char>(c)) + "cd"}) {
      std::string got, want;
      AppendQuoted(got, s);
      ReferenceAppendQuoted(want, s);
      ASSERT_EQ(got, want) << "byte " << c;
    }
  }
}

using nlohmann::json;
using testing::Contains;

class JsonRedactorTest : public ::testing::Test {
 protected:
  json Redact(const json& doc, RedactStats* stats = nullptr, const Policy* policy = nullptr) {
    const std::string out = RedactJson(doc, policy ? *policy : policy_, fp_, stats);
    json parsed = json::parse(out, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << out;
    return parsed;
  }
  const Policy& policy_ = testing::DefaultPolicy();
  const Fingerprinter& fp_ = testing::TestFingerprinter();
};

TEST_F(JsonRedactorTest, StringPlaceholderHasLengthAndFingerprint) {
  const json out = Redact({{"type", "x"}, {"text", "hello"}});
  EXPECT_EQ(out["type"], "x");
  EXPECT_EQ(out["text"], json({{"redacted", "string"}, {"len", 5}, {"fp", fp_.Of("hello")}}));
}

TEST_F(JsonRedactorTest, AllowedStringsLongerThanLimitOrSecretAreRedacted) {
  const std::string long_name(257, 'a');
  const json out = Redact(
      {{"name", long_name}, {"model", "sk-abcdefghijklmnopqrstuvwx"}, {"code", "invalid_api_key"}});
  EXPECT_EQ(out["name"]["len"], 257);
  EXPECT_EQ(out["model"]["redacted"], "string");
  EXPECT_EQ(out["code"], "invalid_api_key");
}

TEST_F(JsonRedactorTest, IdsKeptOnlyIfIdentifierLike) {
  const json out = Redact({{"event_id", "evt 1 with spaces"},
                           {"item_id", "item_abc"},
                           {"id", std::string(129, 'x')},
                           {"call_id", "call_1:2.3-4"},
                           {"user_id", "ek_abcdefghijklmnopq"}});
  EXPECT_EQ(out["event_id"]["redacted"], "string");
  EXPECT_EQ(out["event_id"]["fp"], fp_.Of("evt 1 with spaces"));
  EXPECT_EQ(out["item_id"], "item_abc");
  EXPECT_EQ(out["id"]["redacted"], "string");
  EXPECT_EQ(out["call_id"], "call_1:2.3-4");
  EXPECT_EQ(out["user_id"]["redacted"], "string");
}

TEST_F(JsonRedactorTest, NumbersBoolsNullKeptUnlessConfigured) {
  const json doc = {
      {"usage", {{"total_tokens", 10}, {"x", 1.5}}}, {"approve", true}, {"param", nullptr}};
  EXPECT_EQ(Redact(doc), doc);
  Policy p = policy_;
  ASSERT_TRUE(p.Extend(R"({"numbers_redacted_keys": ["usage"]})").ok());
  RedactStats stats;
  const json out = Redact(doc, &stats, &p);
  EXPECT_EQ(out["usage"]["total_tokens"], json({{"redacted", "number"}}));
  EXPECT_EQ(out["approve"], true);
  EXPECT_EQ(stats.numbers_redacted, 2u);
}

TEST_F(JsonRedactorTest, OpaqueKeysReplaceWholeSubtreeWithSerializedLength) {
  const json tools = {
      {"type", "mcp"}, {"authorization", "Bearer x"}, {"headers", {{"X-Key", "v"}, {"n", 1}}}};
  const json out = Redact(tools);
  EXPECT_EQ(out["authorization"]["redacted"], "opaque");
  EXPECT_EQ(out["authorization"]["len"], json("Bearer x").dump().size());
  EXPECT_EQ(out["headers"]["len"], tools["headers"].dump().size());
  EXPECT_EQ(out["headers"]["fp"], fp_.Of(tools["headers"].dump()));
}

TEST_F(JsonRedactorTest, ArraysUnderAllowKeysKeepStringElements) {
  const json out = Redact({{"output_modalities", {"audio", "text"}},
                           {"include", {"item.input_audio_transcription.logprobs"}},
                           {"stuff", {"secret"}}});
  EXPECT_EQ(out["output_modalities"], json({"audio", "text"}));
  EXPECT_EQ(out["include"][0], "item.input_audio_transcription.logprobs");
  EXPECT_EQ(out["stuff"][0]["redacted"], "string");
}

TEST_F(JsonRedactorTest, AudioPlaceholderCarriesDecodedBytes) {
  RedactStats stats;
  const json out = Redact({{"type", "response.output_audio.delta"}, {"delta", "AAAAAA=="}}, &stats);
  EXPECT_EQ(out["delta"],
            json({{"redacted", "audio"}, {"bytes", 4}, {"fp", fp_.BulkOf("AAAAAA==")}}));
  EXPECT_EQ(stats.audio_bytes, 4u);
  EXPECT_EQ(Redact({{"type", "response.audio.delta"}, {"delta", "AAAA"}})["delta"]["bytes"], 3);
  // A text delta is a string placeholder, not audio.
  EXPECT_EQ(Redact({{"type", "response.text.delta"}, {"delta", "AAAA"}})["delta"]["redacted"],
            "string");
}

TEST_F(JsonRedactorTest, Base64DecodedLength) {
  EXPECT_EQ(Base64DecodedLength(""), 0u);
  EXPECT_EQ(Base64DecodedLength("QQ=="), 1u);
  EXPECT_EQ(Base64DecodedLength("QUI="), 2u);
  EXPECT_EQ(Base64DecodedLength("QUJD"), 3u);
  EXPECT_EQ(Base64DecodedLength("QUJDRA"), 4u);  // unpadded
}

TEST_F(JsonRedactorTest, MessageIsScrubbedAndTruncated) {
  std::string msg = "Bad key sk-abcdefghijklmnopqrstuvwx in session sess_1. ";
  for (int i = 0; i < 500; ++i) msg += "z ";
  RedactStats stats;
  const json out = Redact({{"error", {{"message", msg}}}}, &stats);
  const std::string kept = out["error"]["message"];
  EXPECT_EQ(kept.size(), 200u);
  EXPECT_EQ(
      kept.rfind("Bad key [" + fp_.Of("sk-abcdefghijklmnopqrstuvwx") + "] in session sess_1. ", 0),
      0u);
  EXPECT_EQ(stats.secrets_scrubbed, 1u);
}

TEST_F(JsonRedactorTest, OddKeysAreFingerprinted) {
  const json out = Redact({{"my key with spaces", 1}, {"sk-abcdefghijklmnopqrstuvwx", 2}});
  EXPECT_EQ(out[fp_.Of("my key with spaces")], 1);
  EXPECT_EQ(out[fp_.Of("sk-abcdefghijklmnopqrstuvwx")], 2);
}

TEST_F(JsonRedactorTest, DeepNestingIsCappedWithoutCrashing) {
  const std::string deep = std::string(10000, '[') + "\"secret\"" + std::string(10000, ']');
  RedactStats stats;
  const std::string out = RedactJsonText(deep, policy_, fp_, &stats);
  EXPECT_FALSE(Contains(out, "secret"));
  EXPECT_EQ(stats.depth_limited, 1u);
  EXPECT_TRUE(Contains(out, R"({"redacted":"opaque","type":"array","len":)")) << out.substr(0, 200);
  // Deep objects under an opaque key are also serialized without recursion.
  std::string obj;
  for (int i = 0; i < 10000; ++i) obj += R"({"a":)";
  obj += "1" + std::string(10000, '}');
  const std::string out2 = RedactJsonText(R"({"metadata":)" + obj + "}", policy_, fp_);
  EXPECT_TRUE(Contains(out2, R"({"metadata":{"redacted":"opaque","type":"object","len":)" +
                                 std::to_string(obj.size())));
}

TEST_F(JsonRedactorTest, InvalidUtf8NeverBreaksOutput) {
  const json doc = {{"type", std::string("a\xff\xfe", 3)}, {"text", std::string("\xc3", 1)}};
  const json out = Redact(doc);
  EXPECT_EQ(out["type"], "a\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_F(JsonRedactorTest, NonJsonTextGivesBodyShapeOnly) {
  RedactStats stats;
  const std::string out = RedactJsonText("hello CANARY {not json", policy_, fp_, &stats);
  EXPECT_EQ(out, R"({"redacted":"body","content_type":"","len":22,"fp":")" +
                     fp_.Of("hello CANARY {not json") + "\"}");
}

TEST(BodyShapeTest, ContentTypeIsSanitised) {
  const auto& fp = testing::TestFingerprinter();
  EXPECT_EQ(SanitizeContentType("application/sdp"), "application/sdp");
  EXPECT_EQ(SanitizeContentType("text/plain; charset=UTF-8"), "text/plain; charset=UTF-8");
  EXPECT_EQ(SanitizeContentType("multipart/form-data; boundary=CANARY; charset=utf-8"),
            "multipart/form-data; charset=utf-8");
  EXPECT_EQ(SanitizeContentType("text/plain\"},{\"x\":\"CANARY"), "");
  EXPECT_EQ(SanitizeContentType(std::string(120, 'a') + "/b"), "");
  const std::string shape = BodyShape("application/sdp", "v=0\r\na=ice-pwd:CANARY\r\n", fp);
  EXPECT_FALSE(Contains(shape, "CANARY"));
  const json j = json::parse(shape);
  EXPECT_EQ(j["content_type"], "application/sdp");
  EXPECT_EQ(j["len"], 23);
}

TEST(JsonWriterTest, SerializeCompactMatchesDump) {
  const json doc =
      json::parse(R"({"a":[1,2.5,-3,true,null,"x\"y\\z\n\u0001é"],"b":{"c":{}},"d":[],"e":1e300})");
  EXPECT_EQ(SerializeCompact(doc), doc.dump());
}

}  // namespace
}  // namespace relaytap::redact
