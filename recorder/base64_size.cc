#include "recorder/base64_size.h"

#include "redact/base64_alphabet.h"

namespace relaytap::recorder {

int64_t Base64DecodedSize(std::string_view b64) { return redact::CountBase64Alphabet(b64) * 3 / 4; }

}  // namespace relaytap::recorder
