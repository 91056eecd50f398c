#include "redact/json_holes.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "redact/base64_alphabet.h"
#include "redact/json_redactor.h"
#include "redact/json_writer.h"
#include "tests/redact/redact_test_util.h"

namespace relaytap::redact {
namespace {

using ojson = nlohmann::ordered_json;

std::string Long(char c, size_t n) { return std::string(n, c); }

// Base64-looking text of `n` bytes (deterministic).
std::string B64(size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s(n, 'A');
  uint32_t x = 7;
  for (char& c : s) {
    x = x * 1103515245u + 12345u;
    c = kAlphabet[(x >> 16) & 63];
  }
  return s;
}

// What the redactor wrote before holes existed: a full nlohmann parse (keeping key order, as
// nlohmann's own ordered_json parser does), then RedactJson.
std::string Reference(const std::string& text, RedactStats* stats) {
  const ojson doc = ojson::parse(text, nullptr, false);
  if (doc.is_discarded()) return "not json";
  return RedactJson(doc, testing::DefaultPolicy(), testing::TestFingerprinter(), stats);
}

std::string WithHoles(const std::string& text, RedactStats* stats) {
  const ParsedJson parsed = ParsedJson::Parse(text);
  if (parsed.doc.is_discarded()) return "not json";
  return RedactJson(parsed, testing::DefaultPolicy(), testing::TestFingerprinter(), stats);
}

std::vector<std::string> Documents() {
  const std::string b = B64(9000);
  return {
      R"({"type":"response.output_audio.delta","event_id":"event_1","delta":")" + b + "\"}",
      R"({"type":"response.audio.delta","delta":")" + b + "==\"}",
      R"({"type":"input_audio_buffer.append","audio":")" + b + "\"}",
      // Under an allow key, an id key, the scrub key, an opaque key, an array, nested.
      R"({"type":")" + Long('t', 300) + R"(","id":")" + Long('i', 200) + "\"}",
      R"({"type":"error","error":{"message":"key sk-)" + B64(40) + " " + Long('m', 700) + "\"}}",
      R"({"type":"x","metadata":{"a":")" + Long('z', 500) + R"(","b":[1,")" + b + "\"]}}",
      R"({"type":"x","modalities":[")" + Long('a', 200) + R"(","audio"],"n":[{"k":")" + b + "\"}]}",
      R"({"type":"session.update","session":{"instructions":")" + Long('p', 5000) + "\"}}",
      // Long strings as keys are never cut (the key rules must see them).
      R"({")" + Long('k', 300) + R"(":1,"type":"x"})",
      R"({")" + Long('k', 300) + R"(" :")" + Long('v', 300) + "\"}",
      // Not clean: escapes, non-ASCII, control characters stay in nlohmann's hands.
      R"({"type":"x","text":")" + Long('e', 200) + R"(\"\n\u00e9)" + Long('e', 200) + "\"}",
      R"({"type":"x","text":")" + Long('e', 200) + "\xc3\xa9" + Long('e', 200) + "\"}",
      R"({"type":"x","text":")" + Long('e', 200) + "\xff" + Long('e', 200) + "\"}",
      // A "\u0000" escape anywhere: parsed without holes.
      R"({"type":"x","a":"\u0000","delta":")" + b + "\"}",
      R"({"type":"x","a":"\u00001","delta":")" + b + "\"}",
      // Whitespace around the tokens, a top-level string, an array.
      "  {\n \"type\" : \"input_audio_buffer.append\" ,\r\n\t\"audio\"\t:\t\"" + b + "\"\n}  ",
      "\"" + b + "\"",
      "[\"" + b + "\",\"" + b + "\"]",
      // Invalid JSON stays invalid.
      R"({"type":"x","audio":")" + b,
      R"({"type":"x","audio":")" + b + R"(" garbage})",
      R"({"type":"x","audio":)" + b + "\"}",
      R"({"type":"x" "audio":")" + b + "\"}",
      R"({"audio":")" + b + R"("})" + "}",
  };
}

TEST(JsonHolesTest, RedactionEqualsTheFullParseForEveryDocument) {
  for (const std::string& text : Documents()) {
    RedactStats ref_stats, hole_stats;
    const std::string ref = Reference(text, &ref_stats);
    EXPECT_EQ(WithHoles(text, &hole_stats), ref) << text.substr(0, 120);
    EXPECT_EQ(hole_stats.strings_redacted, ref_stats.strings_redacted);
    EXPECT_EQ(hole_stats.strings_kept, ref_stats.strings_kept);
    EXPECT_EQ(hole_stats.audio_bytes, ref_stats.audio_bytes);
    EXPECT_EQ(hole_stats.opaque_values, ref_stats.opaque_values);
    EXPECT_EQ(hole_stats.keys_fingerprinted, ref_stats.keys_fingerprinted);
    EXPECT_EQ(hole_stats.secrets_scrubbed, ref_stats.secrets_scrubbed);
  }
}

TEST(JsonHolesTest, RedactJsonTextEqualsTheFullParse) {
  for (const std::string& text : Documents()) {
    const ojson doc = ojson::parse(text, nullptr, false);
    const std::string want =
        doc.is_discarded()
            ? RedactJsonText(text, testing::DefaultPolicy(), testing::TestFingerprinter())
            : RedactJson(doc, testing::DefaultPolicy(), testing::TestFingerprinter());
    EXPECT_EQ(RedactJsonText(text, testing::DefaultPolicy(), testing::TestFingerprinter()), want);
  }
}

TEST(JsonHolesTest, LongCleanValuesAreCutAndResolveToTheirBytes) {
  const std::string b = B64(8000);
  const std::string text = R"({"type":"response.output_audio.delta","delta":")" + b + "\"}";
  const ParsedJson p = ParsedJson::Parse(text);
  ASSERT_TRUE(p.doc.is_object());
  EXPECT_EQ(p.holes.size(), 1u);
  const std::string& marker = p.doc["delta"].get_ref<const std::string&>();
  EXPECT_LT(marker.size(), 8u);
  EXPECT_EQ(p.holes.Resolve(marker), b);
  EXPECT_EQ(p.holes.Resolve(p.doc["type"].get_ref<const std::string&>()),
            "response.output_audio.delta");
  EXPECT_EQ(SerializeCompact(p.doc, &p.holes), ojson::parse(text).dump());
}

TEST(JsonHolesTest, KeysShortStringsEscapedTextAndNulEscapesAreNotCut) {
  EXPECT_TRUE(ParsedJson::Parse(R"({")" + Long('k', 300) + R"(":1})").holes.empty());
  EXPECT_TRUE(
      ParsedJson::Parse(R"({"a":")" + Long('k', 127) + "\"}" + Long(' ', 200)).holes.empty());
  EXPECT_EQ(ParsedJson::Parse(R"({"a":")" + Long('k', 128) + "\"}").holes.size(), 1u);
  EXPECT_TRUE(ParsedJson::Parse(R"({"a":")" + Long('k', 300) + R"(\n"})").holes.empty());
  EXPECT_TRUE(ParsedJson::Parse(R"({"z":"\u0000","a":")" + Long('k', 300) + "\"}").holes.empty());
}

// The scan takes 16 (or 8) bytes a step: a special byte or the closing quote at any position
// relative to a step must be found exactly where it is.
TEST(JsonHolesTest, SpecialBytesAndQuotesAtEveryStepOffsetAreFound) {
  const std::vector<std::string> unclean = {"\x7f", "\x1f", "\x80", "\xc3\xa9",
                                            "\\\"", "\\n",  "\\\\"};
  for (const std::string& special : unclean) {
    for (size_t pos = 0; pos < 40; ++pos) {
      const std::string value = B64(pos) + special + B64(200);
      const std::string text = R"({"type":"x","audio":")" + value + "\"}";
      const ParsedJson p = ParsedJson::Parse(text);
      EXPECT_TRUE(p.holes.empty()) << "special " << special << " at " << pos;
      EXPECT_EQ(WithHoles(text, nullptr), Reference(text, nullptr)) << pos;
    }
  }
  for (size_t len = 128; len < 170; ++len) {  // the closing quote at every offset of a step
    const std::string b = B64(len);
    const std::string text = R"({"audio":")" + b + R"(","delta":")" + B64(len + 3) + "\"}";
    const ParsedJson p = ParsedJson::Parse(text);
    ASSERT_TRUE(p.doc.is_object()) << len;
    ASSERT_EQ(p.holes.size(), 2u) << len;
    EXPECT_EQ(p.holes.Resolve(p.doc["audio"].get_ref<const std::string&>()), b);
    EXPECT_EQ(p.holes.Resolve(p.doc["delta"].get_ref<const std::string&>()), B64(len + 3));
  }
}

// Random documents mixing long clean values with every kind of string the scan must not
// misread: escapes (a real "\u0000" in a key or value, an escaped backslash before "u0000"),
// non-ASCII, control bytes, and text cut short or followed by garbage. The "\u0000" check runs
// inside the string scan; with holes the redaction must still equal the full parse.
TEST(JsonHolesTest, RandomDocumentsRedactLikeTheFullParse) {
  std::mt19937 rng(777);
  const auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
  const std::vector<std::string> shorts = {"",           "x",
                                           R"(\u0000)",  R"(\u00001)",
                                           R"(\\u0000)", R"(a\\)",
                                           R"(\")",      R"(\n\t)",
                                           "\xc3\xa9",   "\xff",
                                           "\x01",       R"(\u00e9)",
                                           "event_1",    "response.output_audio.delta"};
  const std::vector<std::string> keys = {"type",     "delta",      "audio",    "event_id", "text",
                                         "metadata", R"(k\u0000)", "\xc3\xa9", "n"};
  const auto value = [&]() -> std::string {
    switch (pick(5)) {
      case 0:
      case 1:
        return "\"" + B64(120 + pick(200)) + "\"";  // often long enough to be cut
      case 2: {                                     // long, with something unclean somewhere
        const std::string b = B64(130 + pick(100));
        const size_t at = pick(b.size());
        return "\"" + b.substr(0, at) + shorts[pick(shorts.size())] + b.substr(at) + "\"";
      }
      case 3:
        return "\"" + shorts[pick(shorts.size())] + "\"";
      default:
        return pick(2) ? "[1,\"" + B64(200) + "\"]" : std::to_string(pick(1000));
    }
  };
  const std::vector<std::string> blanks = {"", " ", "\n", "\t "};
  size_t with_holes = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text = "{";
    const size_t members = 1 + pick(5);
    for (size_t m = 0; m < members; ++m) {
      if (m) text += ",";
      text += blanks[pick(blanks.size())] + "\"" + keys[pick(keys.size())] + "\"" +
              blanks[pick(blanks.size())] + ":" + blanks[pick(blanks.size())] + value();
    }
    text += "}";
    switch (pick(8)) {
      case 0:
        text.resize(pick(text.size()));  // cut anywhere, also inside a long string
        break;
      case 1:
        text += pick(2) ? R"( "\u0000")" : "x";  // trailing garbage
        break;
      default:
        break;
    }
    with_holes += ParsedJson::Parse(text).holes.empty() ? 0 : 1;
    ASSERT_EQ(WithHoles(text, nullptr), Reference(text, nullptr)) << text;
    ASSERT_EQ(ParsedJson::Parse(text).doc.is_discarded(),
              ojson::parse(text, nullptr, false).is_discarded())
        << text;
  }
  EXPECT_GT(with_holes, 300u);  // the cut-out path is exercised, not only the plain parse
}

// The alphabet prefix is whole 32-byte blocks of alphabet characters, all of them where the CPU
// has AVX2; a scan that starts with it still counts and cuts every string right.
TEST(JsonHolesTest, AlphabetBlocksPrefixAndTheScanAfterIt) {
  std::string b64;
  for (int i = 0; i < 400; ++i) b64.push_back("AZaz09+/-_Qx"[i % 12]);
  for (size_t pos = 0; pos < 200; ++pos) {
    for (char odd : {'=', ' ', '.', '"', '\x80'}) {
      std::string v = b64;
      v[pos] = odd;
      const size_t prefix = Base64AlphabetBlocksPrefix(v);
      EXPECT_EQ(prefix % 32, 0u);
      EXPECT_LE(prefix, pos);
      if (__builtin_cpu_supports("avx2")) {
        EXPECT_EQ(prefix, pos / 32 * 32) << pos;
      }
      if (odd == '"' || odd == '\x80') continue;  // not one clean string
      const std::string text = R"({"type":"x","audio":")" + v + "\"}";
      const ParsedJson p = ParsedJson::Parse(text);
      ASSERT_EQ(p.holes.size(), 1u) << pos;
      const std::string& marker = p.doc["audio"].get_ref<const std::string&>();
      ASSERT_EQ(p.holes.Resolve(marker), v);
      EXPECT_EQ(p.holes.Base64AlphabetChars(marker), CountBase64Alphabet(v)) << pos;
      EXPECT_EQ(CountBase64Alphabet(v), 399);
    }
  }
  EXPECT_EQ(Base64AlphabetBlocksPrefix(""), 0u);
}

// The base64 count made during the scan equals a plain per-byte count of the resolved text.
TEST(JsonHolesTest, Base64AlphabetCharsEqualsAPerByteCount) {
  const auto reference = [](std::string_view s) {
    int64_t n = 0;
    for (unsigned char c : s) {
      n += (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '-' || c == '_';
    }
    return n;
  };
  std::mt19937 rng(5);
  for (size_t len = 128; len < 5000; len += 1 + rng() % 61) {
    std::string v(len, 'A');
    for (char& c : v) {
      do {
        c = static_cast<char>(0x20 + rng() % 95);
      } while (c == '"' || c == '\\');
    }
    const std::string text = R"({"type":"x","audio":")" + v + "\"}";
    const ParsedJson p = ParsedJson::Parse(text);
    ASSERT_EQ(p.holes.size(), 1u);
    const std::string& marker = p.doc["audio"].get_ref<const std::string&>();
    ASSERT_EQ(p.holes.Resolve(marker), v);
    EXPECT_EQ(p.holes.Base64AlphabetChars(marker), reference(v)) << len;
    EXPECT_EQ(p.holes.Base64AlphabetChars(p.doc["type"].get_ref<const std::string&>()),
              std::nullopt);
  }
}

TEST(JsonHolesTest, InvalidTextIsDiscardedLikeNlohmann) {
  for (const std::string& text : Documents()) {
    EXPECT_EQ(ParsedJson::Parse(text).doc.is_discarded(),
              ojson::parse(text, nullptr, false).is_discarded())
        << text.substr(0, 120);
  }
}

}  // namespace
}  // namespace relaytap::redact
