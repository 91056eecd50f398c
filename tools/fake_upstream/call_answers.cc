#include "tools/fake_upstream/call_answers.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "base/ascii.h"
#include "base/str_cat.h"
#include "tools/fake_upstream/payloads.h"
#include "tools/fake_upstream/util.h"

namespace relaytap::tools::fake_upstream {
namespace {

namespace http = boost::beast::http;

// OpenAI's HTTP error shape ({"error":{message,type,param,code}}).
StringResponse ErrorAnswer(unsigned status, std::string_view code, std::string_view message) {
  nlohmann::json body = {{"error",
                          {{"message", message},
                           {"type", "invalid_request_error"},
                           {"param", nullptr},
                           {"code", code}}}};
  return JsonResponse(status, body.dump());
}

// The offer: the body itself, or the `sdp` part of a multipart body (found by its name).
bool HasSdpOffer(std::string_view body, std::string_view content_type) {
  if (StartsWithIgnoreCase(content_type, "multipart/form-data")) {
    const size_t part = body.find("name=\"sdp\"");
    return part != std::string_view::npos && body.find("v=0", part) != std::string_view::npos;
  }
  return StartsWithIgnoreCase(content_type, "application/sdp") && body.starts_with("v=0");
}

}  // namespace

bool IsCallPath(std::string_view path) {
  return path == "/openai/v1/realtime/calls" || path == "/v1/realtime/calls" ||
         path == "/v1/realtimertc" || path == "/openai/v1/realtimertc";
}

std::string SdpAnswer() {
  const std::string ufrag = RandomId("", 8);
  const std::string pwd = RandomId("", 24);
  std::string fingerprint;
  const std::string hex = RandomId("", 32);
  for (size_t i = 0; i < 32; ++i) {
    if (i) fingerprint += ':';
    static constexpr char kHex[] = "0123456789ABCDEF";
    fingerprint += kHex[static_cast<unsigned char>(hex[i]) % 16];
    fingerprint += kHex[static_cast<unsigned char>(hex[i]) / 16 % 16];
  }
  return StrCat("v=0\r\no=- ",
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count()),
                " 1 IN IP4 192.0.2.10\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
                "a=msid-semantic:WMS *\r\n"
                "m=audio 3478 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 192.0.2.10\r\na=rtcp:3478 IN IP4 "
                "192.0.2.10\r\na=candidate:1 1 udp 2130706431 192.0.2.10 3478 typ host\r\n"
                "a=ice-ufrag:",
                ufrag, "\r\na=ice-pwd:", pwd, "\r\na=fingerprint:sha-256 ", fingerprint,
                "\r\na=setup:passive\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n"
                "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
                "m=application 3478 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 192.0.2.10\r\n"
                "a=ice-ufrag:",
                ufrag, "\r\na=ice-pwd:", pwd, "\r\na=fingerprint:sha-256 ", fingerprint,
                "\r\na=setup:passive\r\na=mid:1\r\na=sctp-port:5000\r\n");
}

StringResponse CallAnswer(const CallRequest& request, Fault fault, const FaultParams& params) {
  if (fault == Fault::kCall5xx) {
    StringResponse res = JsonResponse(params.call_status, AzureErrorJson(params.call_status));
    res.set("x-relaytap-fake-fault", FaultName(fault));
    return res;
  }
  if (fault == Fault::kCall401 || request.token_expired) {
    StringResponse res =
        ErrorAnswer(401, "token_expired", "The ephemeral token has expired; create a new one.");
    if (fault == Fault::kCall401) res.set("x-relaytap-fake-fault", FaultName(fault));
    return res;
  }
  if (TrimOws(request.authorization).empty()) {
    return ErrorAnswer(401, "missing_credentials", "No credential was sent.");
  }
  if (!HasSdpOffer(request.body, request.content_type)) {
    return ErrorAnswer(400, "invalid_offer", "The request body holds no SDP offer.");
  }
  StringResponse res;
  res.version(11);
  res.result(http::status::created);
  res.set(http::field::content_type, "application/sdp");
  res.set(http::field::location, StrCat("/v1/realtime/calls/", RandomId("rtc_", 32)));
  res.body() = SdpAnswer();
  return res;
}

std::string_view BearerOf(std::string_view authorization) {
  authorization = TrimOws(authorization);
  if (!StartsWithIgnoreCase(authorization, "bearer ")) return {};
  return TrimOws(authorization.substr(7));
}

int64_t RequestedTokenTtl(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("expires_after") || !j["expires_after"].is_object()) {
    return 600;
  }
  const auto& seconds = j["expires_after"].value("seconds", nlohmann::json());
  if (!seconds.is_number_integer()) return 600;
  return std::clamp<int64_t>(seconds.get<int64_t>(), 0, 7200);
}

std::optional<std::pair<std::string, int64_t>> IssuedToken(const std::string& answer) {
  const auto j = nlohmann::json::parse(answer, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  const nlohmann::json* holder = &j;
  if (!j.contains("value") && j.contains("client_secret")) holder = &j["client_secret"];
  if (!holder->is_object()) return std::nullopt;
  const auto value = holder->value("value", nlohmann::json());
  const auto expires = holder->value("expires_at", nlohmann::json());
  if (!value.is_string() || !expires.is_number_integer()) return std::nullopt;
  return std::make_pair(value.get<std::string>(), expires.get<int64_t>());
}

}  // namespace relaytap::tools::fake_upstream
