#pragma once
// SDP offers and answers shaped like Chrome's and the Realtime API's, with canary values in every
// position that must never reach disk: addresses, ports, ICE ufrag/pwd, DTLS fingerprint values,
// the o= session id, SSRCs and CNAMEs. Tests look for each string of kSdpCanaries in what was
// stored.

#include <string>
#include <string_view>

namespace relaytap::testing {

inline constexpr std::string_view kSdpCanaries[] = {
    "203.0.113.77",       "198.51.100.23", "CanaryUfrag7", "CanaryPwdSecret0123456789",
    "CA:FE:BA:BE:77",     "2001:db8::77",  "CanaryCname",  "canary-host.local",
    "4611731400430051336"};
// Digits that could also occur by chance in a store's numbers: checked in a shape, not in files.
inline constexpr std::string_view kSdpCanaryPort = "41977";
inline constexpr std::string_view kSdpCanarySsrc = "1234567890";

// `ufrag` / `pwd` distinguish the offer and the answer.
inline std::string CanarySdp(bool offer) {
  std::string s =
      "v=0\r\n"
      "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
      "s=-\r\n"
      "t=0 0\r\n"
      "a=group:BUNDLE 0 1\r\n"
      "a=msid-semantic: WMS\r\n"
      "m=audio 41977 UDP/TLS/RTP/SAVPF 111 63 9 0 8\r\n"
      "c=IN IP4 203.0.113.77\r\n"
      "a=rtcp:9 IN IP4 0.0.0.0\r\n"
      "a=candidate:842163049 1 udp 1677729535 203.0.113.77 41977 typ srflx raddr 198.51.100.23 "
      "rport 41977 generation 0 network-cost 999\r\n"
      "a=candidate:1510613869 1 udp 2122260223 198.51.100.23 41977 typ host generation 0\r\n"
      "a=candidate:2 1 tcp 1518280447 canary-host.local 9 typ host tcptype active\r\n"
      "a=candidate:3 1 udp 41885439 2001:db8::77 41977 typ relay raddr 203.0.113.77 rport 1\r\n"
      "a=ice-ufrag:CanaryUfrag7\r\n"
      "a=ice-pwd:CanaryPwdSecret0123456789\r\n"
      "a=ice-options:trickle\r\n"
      "a=fingerprint:sha-256 CA:FE:BA:BE:77:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:"
      "11:22:33:44:55:66:77:88:99:AA:BB\r\n";
  s += offer ? "a=setup:actpass\r\n" : "a=setup:passive\r\n";
  s += "a=mid:0\r\n"
       "a=sendrecv\r\n"
       "a=rtcp-mux\r\n"
       "a=rtpmap:111 opus/48000/2\r\n"
       "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
       "a=rtpmap:63 red/48000/2\r\n"
       "a=rtpmap:9 G722/8000\r\n"
       "a=rtpmap:0 PCMU/8000\r\n"
       "a=rtpmap:8 PCMA/8000\r\n"
       "a=ssrc:1234567890 cname:CanaryCname\r\n"
       "m=application 41977 UDP/DTLS/SCTP webrtc-datachannel\r\n"
       "c=IN IP4 203.0.113.77\r\n"
       "a=ice-ufrag:CanaryUfrag7\r\n"
       "a=ice-pwd:CanaryPwdSecret0123456789\r\n"
       "a=fingerprint:sha-256 CA:FE:BA:BE:77:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:"
       "11:22:33:44:55:66:77:88:99:AA:BB\r\n"
       "a=mid:1\r\n"
       "a=sctp-port:5000\r\n";
  return s;
}

}  // namespace relaytap::testing
