#pragma once
// The fake upstream's WebRTC call set-up (POST /openai/v1/realtime/calls, /v1/realtime/calls,
// the preview /v1/realtimertc): an SDP offer in (application/sdp, or multipart/form-data with an
// `sdp` part), a syntactically valid SDP answer out with `201 Created` and
// `Location: /v1/realtime/calls/rtc_…`. No media flows: the answer's candidate names a
// documentation address (192.0.2.10) nothing listens on. Faults of the `call` stage
// (fault_model.h): call_5xx, call_401 (an expired ephemeral token), call_slow. Pure.

#include <optional>
#include <string>
#include <string_view>

#include "tools/fake_upstream/fault_model.h"
#include "tools/fake_upstream/http_answers.h"

namespace relaytap::tools::fake_upstream {

bool IsCallPath(std::string_view path);

// An SDP answer to an offer: one audio section (opus) and the data channel, a new ICE ufrag/pwd,
// a sha-256 fingerprint and one host candidate.
std::string SdpAnswer();

// What a call set-up brings: its body and type, its Authorization value, and whether that names
// a token this fake issued that has expired.
struct CallRequest {
  std::string_view body, content_type, authorization;
  bool token_expired = false;
};

// The answer to a call set-up given the fault drawn for it (kNone, or a `call` fault other than
// call_slow, which only delays). An expired token is 401 `token_expired` (as call_401); no
// credential is 401; a body that holds no SDP offer is 400.
StringResponse CallAnswer(const CallRequest& request, Fault fault, const FaultParams& params);

// The bearer token of an Authorization value ("" if none).
std::string_view BearerOf(std::string_view authorization);

// expires_after.seconds of a client_secrets request body, clamped to 0..7200 (default 600).
int64_t RequestedTokenTtl(const std::string& body);

// The token and expiry (Unix seconds) a session or client-secret answer issued, if any.
std::optional<std::pair<std::string, int64_t>> IssuedToken(const std::string& answer);

}  // namespace relaytap::tools::fake_upstream
