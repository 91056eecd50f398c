// ParseFlatObject reads only texts that nlohmann reads the same way, and the redaction of a flat
// object is byte for byte the redaction of its DOM.
#include "redact/flat_json.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "redact/base64_alphabet.h"
#include "redact/json_redactor.h"
#include "tests/redact/redact_test_util.h"

namespace relaytap::redact {
namespace {

using Kind = FlatMember::Kind;

std::string Audio(size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(kAlphabet[(i * 7 + i / 3) % 64]);
  return s + "==";
}

TEST(FlatJsonTest, ReadsAnAudioAppendWithItsBase64Count) {
  const std::string audio = Audio(6400);
  const std::string text =
      R"({"type":"input_audio_buffer.append","event_id":"evt_7","audio":")" + audio + "\"}";
  std::optional<FlatObject> flat = ParseFlatObject(text);
  ASSERT_TRUE(flat.has_value());
  ASSERT_EQ(flat->members.size(), 3u);
  EXPECT_EQ(flat->members[0].key, "type");
  EXPECT_EQ(flat->members[0].text, "input_audio_buffer.append");
  EXPECT_EQ(flat->Find("event_id")->text, "evt_7");
  const FlatMember* a = flat->Find("audio");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->kind, Kind::kString);
  EXPECT_EQ(a->text, audio);
  EXPECT_EQ(a->base64_chars, CountBase64Alphabet(audio));
  EXPECT_EQ(flat->Find("missing"), nullptr);
}

TEST(FlatJsonTest, ReadsScalarsBetweenBlanks) {
  std::optional<FlatObject> flat = ParseFlatObject(
      " \r\n{ \"a\" :0 ,\t\"b\": -12, \"c\":true,\"d\":false,\"e\":null,\"f\":\"\" ,\"\":\"x\" "
      "}\n");
  ASSERT_TRUE(flat.has_value());
  ASSERT_EQ(flat->members.size(), 7u);
  EXPECT_EQ(flat->members[0].kind, Kind::kInteger);
  EXPECT_EQ(flat->members[0].text, "0");
  EXPECT_EQ(flat->members[1].text, "-12");
  EXPECT_EQ(flat->members[2].kind, Kind::kTrue);
  EXPECT_EQ(flat->members[3].kind, Kind::kFalse);
  EXPECT_EQ(flat->members[4].kind, Kind::kNull);
  EXPECT_EQ(flat->members[5].kind, Kind::kString);
  EXPECT_EQ(flat->members[5].text, "");
  EXPECT_EQ(flat->members[6].key, "");
  EXPECT_TRUE(ParseFlatObject("{}").has_value());
}

TEST(FlatJsonTest, LeavesEverythingElseToTheFullParser) {
  std::string many = "{";
  for (size_t i = 0; i <= kMaxFlatMembers; ++i) {
    many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  }
  many += "}";
  for (const std::string& text : std::vector<std::string>{"",
                                                          "[]",
                                                          "{",
                                                          "}",
                                                          "\xEF\xBB\xBF{}",
                                                          R"({"a":{}})",
                                                          R"({"a":[1]})",
                                                          R"({"a":"x\ny"})",
                                                          R"({"a":"x\"y"})",
                                                          "{\"a\":\"\xC3\xA9\"}",
                                                          "{\"a\":\"\x01\"}",
                                                          "{\"a\":\"\x7F\"}",
                                                          R"({"a\"":1})",
                                                          R"({"a":1.5})",
                                                          R"({"a":1e3})",
                                                          R"({"a":-0})",
                                                          R"({"a":01})",
                                                          R"({"a":-})",
                                                          R"({"a":1234567890123456789})",
                                                          R"({"a":1,"a":2})",
                                                          R"({"a":1,})",
                                                          R"({"a" 1})",
                                                          R"({"a":1} x)",
                                                          R"({"a":1}{})",
                                                          R"({"a":tru})",
                                                          R"({"a":truex})",
                                                          R"({"a":nul})",
                                                          R"({"a":"x)",
                                                          R"({"a":+1})",
                                                          R"({a:1})",
                                                          R"({'a':1})",
                                                          many}) {
    EXPECT_FALSE(ParseFlatObject(text).has_value()) << text;
  }
  EXPECT_TRUE(ParseFlatObject(R"({"a":123456789012345678})").has_value());
}

// Texts near the realtime events, then random edits of them: whatever ParseFlatObject accepts,
// nlohmann reads as the same object, and both redactions agree.
std::vector<std::string> Seeds() {
  const std::string a = Audio(300);
  return {
      R"({"type":"input_audio_buffer.append","event_id":"evt_1","audio":")" + a + "\"}",
      R"({"type":"response.output_audio.delta","event_id":"event_a","response_id":"resp_1",)"
      R"("item_id":"item_1","output_index":0,"content_index":0,"delta":")" +
          a + "\"}",
      R"({"type":"response.output_audio_transcript.delta","response_id":"resp_1","delta":"hi"})",
      R"({"type":"x","role":"user","name":"Ada","bytes":12,"metadata":null,"message":"'k'"})",
      R"({"type":"error","event_id":"evt_2","api_key":"sk-abcdefghijklmnopqrstuvwx","n":-7})",
      R"({"type":"session.created","":"empty key","Bearer abcdefghijklmnop":true,"id":"a b"})",
      R"({"type":"response.audio.delta","delta":")" + a + R"(","audio":"QUJD","ok":false})",
  };
}

void ExpectSameAsNlohmann(const std::string& text, const FlatObject& flat) {
  const nlohmann::ordered_json doc = nlohmann::ordered_json::parse(text, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << text;
  ASSERT_TRUE(doc.is_object()) << text;
  ASSERT_EQ(doc.size(), flat.members.size()) << text;
  size_t i = 0;
  for (auto it = doc.begin(); it != doc.end(); ++it, ++i) {
    const FlatMember& m = flat.members[i];
    EXPECT_EQ(it.key(), m.key) << text;
    switch (m.kind) {
      case Kind::kString:
        EXPECT_TRUE(it->is_string() && it->get<std::string>() == m.text) << text;
        break;
      case Kind::kInteger:
        EXPECT_TRUE(it->is_number_integer() && it->dump() == m.text) << text;
        break;
      case Kind::kTrue:
      case Kind::kFalse:
        EXPECT_TRUE(it->is_boolean() && it->get<bool>() == (m.kind == Kind::kTrue)) << text;
        break;
      case Kind::kNull:
        EXPECT_TRUE(it->is_null()) << text;
        break;
    }
  }
  const std::optional<std::string> flat_out =
      RedactFlatText(flat, text, testing::DefaultPolicy(), testing::TestFingerprinter());
  if (flat_out) {
    EXPECT_EQ(*flat_out,
              RedactJsonText(text, testing::DefaultPolicy(), testing::TestFingerprinter()))
        << text;
  }
}

TEST(FlatJsonTest, WhatItAcceptsNlohmannReadsTheSameAndRedactsTheSame) {
  static constexpr std::string_view kBytes =
      "{}[]\",:0123456789-+.eEtrufalsn \t\n\\/ab\x01\x7f\xc3";
  std::mt19937 rng(19);
  int accepted = 0, redacted_flat = 0;
  for (const std::string& seed : Seeds()) {
    std::optional<FlatObject> flat = ParseFlatObject(seed);
    ASSERT_TRUE(flat.has_value()) << seed;
    ExpectSameAsNlohmann(seed, *flat);
    for (int round = 0; round < 600; ++round) {
      std::string t = seed;
      for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0 && !t.empty(); --edits) {
        const size_t at = rng() % t.size();
        switch (rng() % 3) {
          case 0:
            t.erase(at, 1 + rng() % 2);
            break;
          case 1:
            t.insert(at, 1, kBytes[rng() % kBytes.size()]);
            break;
          default:
            t[at] = kBytes[rng() % kBytes.size()];
        }
      }
      flat = ParseFlatObject(t);
      if (!flat) continue;
      ++accepted;
      ExpectSameAsNlohmann(t, *flat);
      if (RedactFlatText(*flat, t, testing::DefaultPolicy(), testing::TestFingerprinter())) {
        ++redacted_flat;
      }
    }
  }
  EXPECT_GT(accepted, 500);  // the edits leave many texts flat: the comparison is exercised
  EXPECT_GT(redacted_flat, 300);
}

TEST(FlatJsonTest, OpaqueKeysAreLeftToTheDomRedaction) {
  const std::string text = R"({"type":"x","metadata":"m"})";
  std::optional<FlatObject> flat = ParseFlatObject(text);
  ASSERT_TRUE(flat.has_value());
  EXPECT_FALSE(RedactFlatText(*flat, text, testing::DefaultPolicy(), testing::TestFingerprinter()));
}

// Numbers under numbers_redacted_keys are hidden the same way as in the DOM.
TEST(FlatJsonTest, HiddenNumbersReadTheSame) {
  absl::StatusOr<Policy> policy = Policy::Default();
  ASSERT_TRUE(policy.ok());
  ASSERT_TRUE(policy->Extend(R"({"numbers_redacted_keys":["n*"]})").ok());
  const std::string text = R"({"type":"x","n1":5,"m":6,"n2":"s"})";
  std::optional<std::string> flat =
      RedactFlatText(*ParseFlatObject(text), text, *policy, testing::TestFingerprinter());
  ASSERT_TRUE(flat.has_value());
  EXPECT_EQ(*flat, RedactJsonText(text, *policy, testing::TestFingerprinter()));
  EXPECT_NE(flat->find(R"("n1":{"redacted":"number"})"), std::string::npos) << *flat;
}

}  // namespace
}  // namespace relaytap::redact
