#include "redact/sdp_shape.h"

#include <algorithm>
#include <initializer_list>

#include "base/ascii.h"
#include "base/str_cat.h"
#include "redact/json_writer.h"

namespace relaytap::redact {
namespace {

constexpr size_t kMaxFingerprintAlgorithms = 4;
constexpr size_t kMaxMultipartParts = 16;

bool IsDigits(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// `s` if it is one of `known` (case-insensitive, returned as listed), else `fallback`.
std::string OneOf(std::string_view s, std::initializer_list<std::string_view> known,
                  std::string_view fallback) {
  for (std::string_view k : known) {
    if (EqualsIgnoreCase(s, k)) return std::string(k);
  }
  return std::string(fallback);
}

// The next space-separated token of `rest` (consumed).
std::string_view NextToken(std::string_view& rest) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  const size_t sp = rest.find(' ');
  std::string_view tok = rest.substr(0, sp);
  rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
  return tok;
}

// "m=<media> <port> <proto> <fmt> ...": the kind and the protocol, never the port.
SdpMedia ParseMediaLine(std::string_view value) {
  SdpMedia m;
  m.kind = OneOf(NextToken(value), {"audio", "video", "application", "text", "message"}, "other");
  (void)NextToken(value);  // port
  m.protocol =
      OneOf(NextToken(value),
            {"UDP/TLS/RTP/SAVPF", "UDP/TLS/RTP/SAVP", "RTP/SAVPF", "RTP/SAVP", "RTP/AVPF",
             "RTP/AVP", "UDP/DTLS/SCTP", "TCP/DTLS/SCTP", "DTLS/SCTP", "TCP/TLS/RTP/SAVPF"},
            "other");
  return m;
}

// "<pt> <name>/<clock>[/<channels>]" -> "name/clock[/channels]". Only registered RTP payload
// names are kept (an rtpmap is free text to an attacker who writes the SDP); others are "other".
std::string CodecOf(std::string_view value) {
  (void)NextToken(value);  // payload type
  std::string_view enc = NextToken(value);
  const size_t s1 = enc.find('/');
  const std::string out_name =
      OneOf(enc.substr(0, s1), {"opus", "red",  "ulpfec", "flexfec-03", "rtx",   "telephone-event",
                                "CN",   "G722", "PCMU",   "PCMA",       "G729",  "iLBC",
                                "ISAC", "L16",  "AMR",    "AMR-WB",     "speex", "VP8",
                                "VP9",  "H264", "H265",   "AV1",        "AV1X",  "MPV"},
            "other");
  if (out_name == "other") return out_name;
  std::string out = out_name;
  if (s1 == std::string_view::npos) return out;
  std::string_view rest = enc.substr(s1 + 1);
  const size_t s2 = rest.find('/');
  std::string_view clock = rest.substr(0, s2);
  if (!IsDigits(clock, 7)) return out;
  out.append("/").append(clock);
  if (s2 != std::string_view::npos && IsDigits(rest.substr(s2 + 1), 2)) {
    out.append("/").append(rest.substr(s2 + 1));
  }
  return out;
}

// "candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...":
// the transport and the type only.
bool CountCandidate(std::string_view value, SdpCandidates& c) {
  (void)NextToken(value);  // foundation
  (void)NextToken(value);  // component
  const std::string_view transport = NextToken(value);
  (void)NextToken(value);  // priority
  (void)NextToken(value);  // address
  (void)NextToken(value);  // port
  if (NextToken(value) != "typ") return false;
  const std::string_view type = NextToken(value);
  ++c.total;
  if (type == "host") {
    ++c.host;
  } else if (type == "srflx") {
    ++c.srflx;
  } else if (type == "relay") {
    ++c.relay;
  } else if (type == "prflx") {
    ++c.prflx;
  } else {
    ++c.other_type;
  }
  if (EqualsIgnoreCase(transport, "udp")) {
    ++c.udp;
  } else if (EqualsIgnoreCase(transport, "tcp")) {
    ++c.tcp;
  } else {
    ++c.other_transport;
  }
  return true;
}

class ShapeBuilder {
 public:
  explicit ShapeBuilder(SdpShape& s) : s_(s) {}

  void Line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return;
    ++s_.lines;
    if (s_.lines == 1) {
      first_ok_ = line == "v=0";
    }
    if (line.size() < 2 || line[1] != '=') {
      ++s_.malformed_lines;
      return;
    }
    const std::string_view value = line.substr(2);
    if (line[0] == 'm') return Media(value);
    if (line[0] == 'a') Attribute(value);
  }

  void Finish() { s_.valid = first_ok_ && s_.media_total > 0; }

 private:
  void Media(std::string_view value) {
    ++s_.media_total;
    if (s_.media.size() >= kMaxSdpMedia) {
      s_.truncated = true;
      current_ = nullptr;
      return;
    }
    s_.media.push_back(ParseMediaLine(value));
    current_ = &s_.media.back();
  }

  void Attribute(std::string_view a) {
    const size_t colon = a.find(':');
    const std::string_view name = a.substr(0, colon);
    const std::string_view value = colon == std::string_view::npos ? "" : a.substr(colon + 1);
    if (name == "candidate") {
      if (!CountCandidate(value, s_.candidates)) ++s_.malformed_lines;
    } else if (name == "ice-ufrag" || name == "ice-pwd") {
      s_.ice_credentials = true;
    } else if (name == "ice-lite") {
      s_.ice_lite = true;
    } else if (name == "ice-options") {
      s_.trickle = s_.trickle || value.find("trickle") != std::string_view::npos;
    } else if (name == "group") {
      s_.bundle = s_.bundle || StartsWithIgnoreCase(value, "BUNDLE");
    } else if (name == "fingerprint") {
      Fingerprint(value);
    } else if (current_ != nullptr) {
      MediaAttribute(name, value);
    }
  }

  void Fingerprint(std::string_view value) {
    std::string_view rest = value;
    const std::string alg = OneOf(
        NextToken(rest), {"sha-1", "sha-224", "sha-256", "sha-384", "sha-512", "md5"}, "other");
    auto& algs = s_.fingerprint_algorithms;
    if (std::find(algs.begin(), algs.end(), alg) != algs.end()) return;
    if (algs.size() >= kMaxFingerprintAlgorithms) {
      s_.truncated = true;
      return;
    }
    algs.push_back(alg);
  }

  void MediaAttribute(std::string_view name, std::string_view value) {
    if (name == "rtpmap") {
      if (current_->codecs.size() >= kMaxSdpCodecs) {
        s_.truncated = true;
        return;
      }
      current_->codecs.push_back(CodecOf(value));
    } else if (name == "sendrecv" || name == "sendonly" || name == "recvonly" ||
               name == "inactive") {
      current_->direction = std::string(name);
    } else if (name == "setup") {
      current_->setup = OneOf(value, {"actpass", "active", "passive", "holdconn"}, "other");
    } else if (name == "rtcp-mux") {
      current_->rtcp_mux = true;
    }
  }

  SdpShape& s_;
  SdpMedia* current_ = nullptr;  // into s_.media, which never grows past kMaxSdpMedia
  bool first_ok_ = false;
};

void AppendStrings(std::string& out, const std::vector<std::string>& v) {
  out.push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out.push_back(',');
    AppendQuoted(out, v[i]);
  }
  out.push_back(']');
}

void AppendMedia(std::string& out, const SdpMedia& m) {
  out.append("{\"kind\":");
  AppendQuoted(out, m.kind);
  out.append(",\"protocol\":");
  AppendQuoted(out, m.protocol);
  out.append(",\"direction\":");
  AppendQuoted(out, m.direction);
  out.append(",\"setup\":");
  AppendQuoted(out, m.setup);
  out.append(",\"rtcp_mux\":").append(m.rtcp_mux ? "true" : "false");
  out.append(",\"codecs\":");
  AppendStrings(out, m.codecs);
  out.push_back('}');
}

const char* Bool(bool b) { return b ? "true" : "false"; }

}  // namespace

SdpShape ParseSdpShape(std::string_view sdp) {
  SdpShape shape;
  shape.bytes = sdp.size();
  if (sdp.size() > kMaxSdpBytes) {
    sdp = sdp.substr(0, kMaxSdpBytes);
    shape.truncated = true;
  }
  ShapeBuilder builder(shape);
  while (!sdp.empty()) {
    if (static_cast<size_t>(shape.lines) >= kMaxSdpLines) {
      shape.truncated = true;
      break;
    }
    const size_t nl = sdp.find('\n');
    builder.Line(sdp.substr(0, nl));
    sdp = nl == std::string_view::npos ? std::string_view() : sdp.substr(nl + 1);
  }
  builder.Finish();
  return shape;
}

std::string SdpShapeJson(const SdpShape& s) {
  std::string out =
      StrCat("{\"valid\":", Bool(s.valid), ",\"media_total\":", s.media_total, ",\"media\":[");
  for (size_t i = 0; i < s.media.size(); ++i) {
    if (i) out.push_back(',');
    AppendMedia(out, s.media[i]);
  }
  const SdpCandidates& c = s.candidates;
  out.append(StrCat("],\"candidates\":{\"total\":", c.total, ",\"host\":", c.host,
                    ",\"srflx\":", c.srflx, ",\"relay\":", c.relay, ",\"prflx\":", c.prflx,
                    ",\"other_type\":", c.other_type, ",\"udp\":", c.udp, ",\"tcp\":", c.tcp,
                    ",\"other_transport\":", c.other_transport, "},\"fingerprint\":"));
  AppendStrings(out, s.fingerprint_algorithms);
  out.append(StrCat(",\"ice_credentials\":", Bool(s.ice_credentials),
                    ",\"ice_lite\":", Bool(s.ice_lite), ",\"trickle\":", Bool(s.trickle),
                    ",\"bundle\":", Bool(s.bundle), ",\"bytes\":", s.bytes, ",\"lines\":", s.lines,
                    ",\"malformed_lines\":", s.malformed_lines,
                    ",\"truncated\":", Bool(s.truncated), "}"));
  return out;
}

namespace {

// The boundary parameter of a multipart content type ("" if none), quotes removed.
std::string_view BoundaryOf(std::string_view content_type) {
  size_t pos = 0;
  while ((pos = content_type.find(';', pos)) != std::string_view::npos) {
    std::string_view param = TrimOws(content_type.substr(pos + 1));
    param = param.substr(0, param.find(';'));
    ++pos;
    if (!StartsWithIgnoreCase(param, "boundary=")) continue;
    std::string_view b = TrimOws(param.substr(9));
    if (b.size() >= 2 && b.front() == '"' && b.back() == '"') b = b.substr(1, b.size() - 2);
    return b.size() <= 70 ? b : std::string_view();
  }
  return {};
}

// Whether a part's headers name it `name` (Content-Disposition: form-data; name="…").
bool PartNamed(std::string_view headers, std::string_view name) {
  const std::string want = StrCat("name=\"", name, "\"");
  const std::string lower = AsciiStrToLower(headers);
  const size_t cd = lower.find("content-disposition:");
  if (cd == std::string::npos) return false;
  const std::string_view line = std::string_view(headers).substr(cd, headers.find('\n', cd) - cd);
  const size_t at = line.find(want);
  // `filename="…"` must not count as `name="…"`.
  return at != std::string_view::npos && (at == 0 || line[at - 1] == ' ' || line[at - 1] == ';');
}

}  // namespace

std::string_view MultipartFormField(std::string_view body, std::string_view content_type,
                                    std::string_view name, bool* found) {
  *found = false;
  const std::string_view boundary = BoundaryOf(content_type);
  if (boundary.empty()) return {};
  body = body.substr(0, std::min(body.size(), kMaxSdpBytes * 4));
  const std::string delim = StrCat("--", boundary);
  size_t at = body.find(delim);
  for (size_t parts = 0; at != std::string_view::npos && parts < kMaxMultipartParts; ++parts) {
    size_t start = at + delim.size();
    if (body.substr(start, 2) == "--") return {};  // the closing delimiter
    const size_t next = body.find(delim, start);
    if (next == std::string_view::npos) return {};
    std::string_view part = body.substr(start, next - start);
    size_t head_end = part.find("\r\n\r\n");
    size_t sep = 4;
    if (head_end == std::string_view::npos) {
      head_end = part.find("\n\n");
      sep = 2;
    }
    if (head_end != std::string_view::npos && PartNamed(part.substr(0, head_end), name)) {
      std::string_view value = part.substr(head_end + sep);
      if (value.ends_with("\r\n")) {
        value.remove_suffix(2);
      } else if (value.ends_with("\n")) {
        value.remove_suffix(1);
      }
      *found = true;
      return value;
    }
    at = next;
  }
  return {};
}

}  // namespace relaytap::redact
