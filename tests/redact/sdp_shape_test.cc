#include "redact/sdp_shape.h"

#include <random>
#include <string>

#include "base/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/canary_sdp.h"

namespace relaytap::redact {
namespace {

using relaytap::testing::CanarySdp;
using relaytap::testing::kSdpCanaries;
using relaytap::testing::kSdpCanaryPort;
using relaytap::testing::kSdpCanarySsrc;

TEST(SdpShapeTest, ReadsMediaCodecsCandidatesAndFingerprintAlgorithm) {
  const SdpShape s = ParseSdpShape(CanarySdp(/*offer=*/true));
  EXPECT_TRUE(s.valid);
  ASSERT_EQ(s.media.size(), 2u);
  EXPECT_EQ(s.media_total, 2);
  EXPECT_EQ(s.media[0].kind, "audio");
  EXPECT_EQ(s.media[0].protocol, "UDP/TLS/RTP/SAVPF");
  EXPECT_EQ(s.media[0].direction, "sendrecv");
  EXPECT_EQ(s.media[0].setup, "actpass");
  EXPECT_TRUE(s.media[0].rtcp_mux);
  EXPECT_EQ(s.media[0].codecs, (std::vector<std::string>{"opus/48000/2", "red/48000/2", "G722/8000",
                                                         "PCMU/8000", "PCMA/8000"}));
  EXPECT_EQ(s.media[1].kind, "application");
  EXPECT_EQ(s.media[1].protocol, "UDP/DTLS/SCTP");
  EXPECT_TRUE(s.media[1].codecs.empty());
  EXPECT_EQ(s.candidates.total, 4);
  EXPECT_EQ(s.candidates.host, 2);
  EXPECT_EQ(s.candidates.srflx, 1);
  EXPECT_EQ(s.candidates.relay, 1);
  EXPECT_EQ(s.candidates.prflx, 0);
  EXPECT_EQ(s.candidates.udp, 3);
  EXPECT_EQ(s.candidates.tcp, 1);
  EXPECT_EQ(s.fingerprint_algorithms, std::vector<std::string>{"sha-256"});
  EXPECT_TRUE(s.ice_credentials);
  EXPECT_TRUE(s.trickle);
  EXPECT_TRUE(s.bundle);
  EXPECT_FALSE(s.truncated);
  EXPECT_EQ(s.malformed_lines, 0);
}

TEST(SdpShapeTest, AnswerSetupRoleIsRead) {
  EXPECT_EQ(ParseSdpShape(CanarySdp(/*offer=*/false)).media[0].setup, "passive");
}

TEST(SdpShapeTest, JsonHoldsNoAddressPortCredentialOrFingerprintValue) {
  for (bool offer : {true, false}) {
    const std::string shape_json = SdpShapeJson(ParseSdpShape(CanarySdp(offer)));
    for (std::string_view canary : kSdpCanaries) {
      EXPECT_EQ(shape_json.find(canary), std::string::npos) << canary << " in " << shape_json;
    }
    EXPECT_EQ(shape_json.find(kSdpCanaryPort), std::string::npos) << shape_json;
    EXPECT_EQ(shape_json.find(kSdpCanarySsrc), std::string::npos) << shape_json;
    EXPECT_NE(shape_json.find("\"opus/48000/2\""), std::string::npos) << shape_json;
    EXPECT_NE(shape_json.find("\"srflx\":1"), std::string::npos) << shape_json;
  }
}

TEST(SdpShapeTest, OddValuesBecomeOtherNeverText) {
  const std::string sdp =
      "v=0\nm=video 9 SECRET/PROTO 96\na=rtpmap:96 Bearer sk-CANARYxxxxxxxx/90000\n"
      "a=rtpmap:98 sk-CANARY0123456789/90000\n"
      "a=rtpmap:97 H264/CANARY\na=setup:CANARY\na=fingerprint:CANARY-alg AA:BB\n"
      "a=candidate:1 1 CANARYTRANSPORT 1 10.0.0.1 1 typ CANARYTYPE\n";
  const SdpShape s = ParseSdpShape(sdp);
  const std::string shape_json = SdpShapeJson(s);
  EXPECT_EQ(shape_json.find("CANARY"), std::string::npos) << shape_json;
  EXPECT_EQ(shape_json.find("SECRET"), std::string::npos) << shape_json;
  EXPECT_EQ(shape_json.find("10.0.0.1"), std::string::npos) << shape_json;
  ASSERT_EQ(s.media.size(), 1u);
  EXPECT_EQ(s.media[0].protocol, "other");
  EXPECT_EQ(s.media[0].codecs, (std::vector<std::string>{"other", "other", "H264"}));
  EXPECT_EQ(s.candidates.other_type, 1);
  EXPECT_EQ(s.candidates.other_transport, 1);
  EXPECT_EQ(s.fingerprint_algorithms, std::vector<std::string>{"other"});
}

TEST(SdpShapeTest, NotSdpIsInvalidAndCounted) {
  const SdpShape s = ParseSdpShape("{\"error\":\"not sdp\"}\nhello\n");
  EXPECT_FALSE(s.valid);
  EXPECT_EQ(s.lines, 2);
  EXPECT_EQ(s.malformed_lines, 2);
  EXPECT_FALSE(ParseSdpShape("").valid);
  EXPECT_FALSE(ParseSdpShape("v=0\r\n").valid);  // no media section
}

TEST(SdpShapeTest, BoundsHoldForHugeInput) {
  std::string sdp = "v=0\n";
  for (int i = 0; i < 100; ++i) {
    sdp += "m=audio 9 RTP/AVP 0\n";
    for (int c = 0; c < 50; ++c) sdp += "a=rtpmap:0 PCMU/8000\n";
  }
  while (sdp.size() < 200 * 1024) sdp += "a=candidate:1 1 udp 1 1.2.3.4 5 typ host\n";
  const SdpShape s = ParseSdpShape(sdp);
  EXPECT_TRUE(s.truncated);
  EXPECT_LE(s.media.size(), kMaxSdpMedia);
  for (const SdpMedia& m : s.media) EXPECT_LE(m.codecs.size(), kMaxSdpCodecs);
  EXPECT_LE(static_cast<size_t>(s.lines), kMaxSdpLines);
  EXPECT_EQ(s.bytes, sdp.size());
  EXPECT_LT(SdpShapeJson(s).size(), 32u * 1024);
}

TEST(SdpShapeTest, RandomBytesNeverCrashAndStayBounded) {
  std::mt19937 rng(1234);
  const std::string base = CanarySdp(true);
  for (int round = 0; round < 2000; ++round) {
    std::string s = base;
    const int edits = 1 + static_cast<int>(rng() % 40);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % (s.size() + 1);
      switch (rng() % 3) {
        case 0:
          if (at < s.size()) s[at] = static_cast<char>(rng() & 0xff);
          break;
        case 1:
          s.insert(at, 1, "\n\r: =/"[rng() % 6]);
          break;
        default:
          if (at < s.size()) s.erase(at, rng() % 16);
      }
    }
    const SdpShape shape = ParseSdpShape(s);
    const std::string shape_json = SdpShapeJson(shape);
    ASSERT_LE(shape.media.size(), kMaxSdpMedia);
    ASSERT_EQ(shape_json.find("CanaryPwdSecret"), std::string::npos) << shape_json;
    ASSERT_EQ(shape_json.find("CanaryUfrag"), std::string::npos) << shape_json;
  }
}

constexpr char kBoundary[] = "----relaytapBoundary7MA4YWxk";

std::string Multipart(const std::string& sdp) {
  return StrCat("--", kBoundary,
                "\r\nContent-Disposition: form-data; name=\"session\"\r\nContent-Type: "
                "application/json\r\n\r\n{\"type\":\"realtime\",\"model\":\"gpt-realtime\"}\r\n--",
                kBoundary, "\r\nContent-Disposition: form-data; name=\"sdp\"\r\n\r\n", sdp,
                "\r\n--", kBoundary, "--\r\n");
}

TEST(MultipartFormFieldTest, FindsTheSdpAndSessionParts) {
  const std::string sdp = CanarySdp(true);
  const std::string body = Multipart(sdp);
  const std::string ct = StrCat("multipart/form-data; boundary=\"", kBoundary, "\"");
  bool found = false;
  EXPECT_EQ(MultipartFormField(body, ct, "sdp", &found), sdp);
  EXPECT_TRUE(found);
  EXPECT_EQ(MultipartFormField(body, ct, "session", &found),
            "{\"type\":\"realtime\",\"model\":\"gpt-realtime\"}");
  EXPECT_TRUE(found);
  EXPECT_EQ(MultipartFormField(body, ct, "missing", &found), "");
  EXPECT_FALSE(found);
  MultipartFormField(body, "multipart/form-data", "sdp", &found);  // no boundary
  EXPECT_FALSE(found);
  MultipartFormField(body.substr(0, body.size() / 2), ct, "sdp", &found);  // cut short
  EXPECT_FALSE(found);
}

TEST(MultipartFormFieldTest, FilenameIsNotName) {
  const std::string body =
      "--b\r\nContent-Disposition: form-data; filename=\"sdp\"\r\n\r\nx\r\n--b--\r\n";
  bool found = true;
  MultipartFormField(body, "multipart/form-data; boundary=b", "sdp", &found);
  EXPECT_FALSE(found);
}

}  // namespace
}  // namespace relaytap::redact
