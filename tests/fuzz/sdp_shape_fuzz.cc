// libFuzzer target: the SDP shape parser (redact/sdp_shape.h) and the multipart field finder. The
// first byte picks the input's form: 0 a bare SDP, 1 a multipart/form-data body whose `sdp` part
// is read. Invariants: nothing throws; the shape stays inside its bounds; no line of the input
// that carries ICE credentials or a fingerprint value reaches the shape's JSON: every string in it
// is a fixed token (a codec: a registered payload name, then "/clock[/channels]" in digits).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "redact/sdp_shape.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace relaytap::redact;

void Check(std::string_view sdp) {
  const SdpShape s = ParseSdpShape(sdp);
  FUZZ_CHECK(s.media.size() <= kMaxSdpMedia);
  FUZZ_CHECK(static_cast<size_t>(s.lines) <= kMaxSdpLines);
  FUZZ_CHECK(s.bytes == sdp.size());
  for (const SdpMedia& m : s.media) {
    FUZZ_CHECK(m.codecs.size() <= kMaxSdpCodecs);
    for (const std::string& c : m.codecs) FUZZ_CHECK(c.size() <= 32 + 1 + 7 + 1 + 2);
  }
  const std::string json = SdpShapeJson(s);
  FUZZ_CHECK(json.size() < 64 * 1024);
  // A value of 12+ characters after a=ice-pwd never appears in the JSON.
  const size_t pwd = sdp.find("a=ice-pwd:");
  if (pwd != std::string_view::npos) {
    std::string_view v = sdp.substr(pwd + 10, 40);
    v = v.substr(0, v.find_first_of("\r\n\"\\/"));
    // (A value of lowercase letters, '_' and '-' only could spell a JSON key or token.)
    const bool word = v.find_first_not_of("abcdefghijklmnopqrstuvwxyz_-") == std::string_view::npos;
    if (v.size() >= 12 && !word) {
      FUZZ_CHECK(json.find(v) == std::string::npos);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    Check(in);
    return 0;
  }
  bool found = false;
  const std::string_view part =
      MultipartFormField(in, "multipart/form-data; boundary=xYz", "sdp", &found);
  FUZZ_CHECK(found || part.empty());
  FUZZ_CHECK(part.size() <= in.size());
  Check(part);
  return 0;
}
