#pragma once
// Decoded size of base64 audio without decoding it. The writer measures every audio delta and
// append, the bulk of realtime traffic, so this counts 16 bytes a step.

#include <cstdint>
#include <string_view>

namespace relaytap::recorder {

// Bytes the text decodes to: (number of base64 alphabet characters, standard or URL-safe) * 3 / 4.
// Padding, whitespace and any other byte are not counted.
int64_t Base64DecodedSize(std::string_view b64);

}  // namespace relaytap::recorder
