#pragma once

// The permessage-deflate (RFC 7692) parameters a 101 response negotiated, as the frame tap needs
// them. Pure.

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace relaytap::proxy::ws {

// The 4 bytes a permessage-deflate sender removes from the end of each compressed message
// (RFC 7692 section 7.2.1); a receiver appends them again before inflating.
inline constexpr uint8_t kDeflateTail[4] = {0x00, 0x00, 0xff, 0xff};

// What permessage-deflate (RFC 7692) parameters the 101 response accepted.
struct PerMessageDeflate {
  bool enabled = false;
  int server_max_window_bits = 15;
  int client_max_window_bits = 15;
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
};

// Parses the Sec-WebSocket-Extensions value of a 101 response (may be empty). Unknown extensions
// are ignored; a malformed permessage-deflate parameter is an InvalidArgument error.
absl::StatusOr<PerMessageDeflate> ParseNegotiatedExtensions(std::string_view header_value);

}  // namespace relaytap::proxy::ws
