#include "tools/replay/filler.h"

namespace relaytap::tools::replay {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kFiller = "relaytap replay filler ";

uint64_t UintField(const Json& v, const char* key) {
  auto it = v.find(key);
  if (it == v.end() || !it->is_number_unsigned()) return 0;
  return it->get<uint64_t>();
}

std::string_view KindOf(const Json& v) {
  if (!v.is_object()) return "";
  auto it = v.find("redacted");
  if (it == v.end() || !it->is_string()) return "";
  return it->get_ref<const std::string&>();
}

}  // namespace

std::string SilenceBase64(uint64_t decoded_bytes) {
  std::string out((decoded_bytes / 3) * 4, 'A');
  switch (decoded_bytes % 3) {
    case 1:
      out.append("AA==");
      break;
    case 2:
      out.append("AAA=");
      break;
    default:
      break;
  }
  return out;
}

std::string FillerText(uint64_t n) {
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    out.append(kFiller.substr(0, std::min<uint64_t>(kFiller.size(), n - out.size())));
  }
  return out;
}

bool IsPlaceholder(const Json& v) {
  std::string_view kind = KindOf(v);
  if (kind == "number") return v.size() == 1;
  if (kind == "audio") return v.contains("bytes") && v["bytes"].is_number_unsigned();
  if (kind == "string" || kind == "opaque" || kind == "body") {
    return v.contains("len") && v["len"].is_number_unsigned();
  }
  return false;
}

Json ExpandPlaceholders(const Json& redacted) {
  if (IsPlaceholder(redacted)) {
    std::string_view kind = KindOf(redacted);
    if (kind == "number") return 0;
    if (kind == "audio") return SilenceBase64(UintField(redacted, "bytes"));
    uint64_t len = UintField(redacted, "len");
    // An opaque value's serialized length includes the two quotes of the string we put there.
    if (kind == "opaque") return FillerText(len >= 2 ? len - 2 : 0);
    return FillerText(len);
  }
  if (redacted.is_object()) {
    Json out = Json::object();
    for (auto it = redacted.cbegin(); it != redacted.cend(); ++it) {
      out[it.key()] = ExpandPlaceholders(it.value());
    }
    return out;
  }
  if (redacted.is_array()) {
    Json out = Json::array();
    for (const Json& e : redacted) out.push_back(ExpandPlaceholders(e));
    return out;
  }
  return redacted;
}

std::string ExpandStoredText(std::string_view stored) {
  Json doc = Json::parse(stored.begin(), stored.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return std::string(stored);
  if (KindOf(doc) == "body" && IsPlaceholder(doc)) return FillerText(UintField(doc, "len"));
  if (doc.is_object() && doc.contains("truncated") && doc.contains("total_bytes") &&
      doc["total_bytes"].is_number_unsigned() && doc.contains("sample")) {
    return FillerText(doc["total_bytes"].get<uint64_t>());
  }
  return ExpandPlaceholders(doc).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace relaytap::tools::replay
