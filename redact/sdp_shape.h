#pragma once
// The shape of a WebRTC SDP offer or answer, and nothing else: media sections, codecs, ICE
// candidate counts by type and transport, DTLS fingerprint algorithms. Addresses, ports, ICE
// ufrag/pwd, fingerprint values, SSRCs and CNAMEs are read past and never kept: every string in
// a shape is a token from a fixed vocabulary (a codec: a registered RTP payload name with its
// clock rate and channels in digits). Pure; bounded in input bytes, lines and output entries,
// whatever the input (tested with malformed input, and fuzzed).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relaytap::redact {

inline constexpr size_t kMaxSdpBytes = 64 * 1024;  // bytes read; the rest is counted, not parsed
inline constexpr size_t kMaxSdpLines = 2048;
inline constexpr size_t kMaxSdpMedia = 16;
inline constexpr size_t kMaxSdpCodecs = 32;  // per media section

struct SdpMedia {
  std::string kind;                 // "audio", "video", "application", "text", "message" or "other"
  std::string protocol;             // "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", ... or "other"
  std::string direction;            // "sendrecv", "sendonly", "recvonly", "inactive" or ""
  std::string setup;                // DTLS role: "actpass", "active", "passive", "holdconn" or ""
  std::vector<std::string> codecs;  // "opus/48000/2", in a=rtpmap order
  bool rtcp_mux = false;
};

struct SdpCandidates {
  int total = 0;
  int host = 0, srflx = 0, relay = 0, prflx = 0, other_type = 0;
  int udp = 0, tcp = 0, other_transport = 0;
};

struct SdpShape {
  bool valid = false;  // "v=0" first and at least one m= section
  std::vector<SdpMedia> media;
  int media_total = 0;  // m= sections seen (media holds at most kMaxSdpMedia)
  SdpCandidates candidates;
  std::vector<std::string> fingerprint_algorithms;  // "sha-256", distinct, in order
  bool ice_credentials = false;  // a=ice-ufrag / a=ice-pwd present (values never kept)
  bool ice_lite = false;
  bool trickle = false;  // a=ice-options:trickle
  bool bundle = false;   // a=group:BUNDLE
  uint64_t bytes = 0;
  int lines = 0;
  int malformed_lines = 0;  // lines that are not `x=...`, or known attributes that do not parse
  bool truncated = false;   // a byte, line, media or codec bound was reached
};

SdpShape ParseSdpShape(std::string_view sdp);

// Compact JSON of the shape: {"valid":true,"media":[{"kind":"audio",...}],"candidates":{...},
// "fingerprint":["sha-256"],...}.
std::string SdpShapeJson(const SdpShape& shape);

// The value of field `name` of a multipart/form-data body (`content_type` carries its boundary);
// `found` says whether there was one. Reads at most kMaxSdpBytes * 4 bytes of `body` and 16 parts.
std::string_view MultipartFormField(std::string_view body, std::string_view content_type,
                                    std::string_view name, bool* found);

}  // namespace relaytap::redact
