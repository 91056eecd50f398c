#include "redact/body_shape.h"

#include "base/ascii.h"
#include "base/str_cat.h"
#include "redact/json_writer.h"

namespace relaytap::redact {
namespace {

constexpr size_t kMaxContentTypeChars = 100;

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '+' || c == '-';
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

bool IsMediaType(std::string_view s) {
  const size_t slash = s.find('/');
  return slash != std::string_view::npos && IsToken(s.substr(0, slash)) &&
         IsToken(s.substr(slash + 1));
}

}  // namespace

std::string SanitizeContentType(std::string_view content_type) {
  const size_t semi = content_type.find(';');
  const std::string_view media = TrimOws(content_type.substr(0, semi));
  if (!IsMediaType(media)) return "";
  std::string out(media);
  std::string_view rest = semi == std::string_view::npos ? "" : content_type.substr(semi + 1);
  while (!rest.empty()) {
    const size_t next = rest.find(';');
    const std::string_view param = TrimOws(rest.substr(0, next));
    rest = next == std::string_view::npos ? "" : rest.substr(next + 1);
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string name = AsciiStrToLower(TrimOws(param.substr(0, eq)));
    std::string_view value = TrimOws(param.substr(eq + 1));
    if (name == "charset" && IsToken(value)) {
      out.append(StrCat("; charset=", value));
      break;
    }
  }
  return out.size() <= kMaxContentTypeChars ? out : "";
}

std::string BodyShape(std::string_view content_type, std::string_view bytes,
                      const Fingerprinter& fp) {
  std::string out = R"({"redacted":"body","content_type":)";
  AppendQuoted(out, SanitizeContentType(content_type));
  out.append(StrCat(R"(,"len":)", bytes.size(), R"(,"fp":")", fp.Of(bytes), "\"}"));
  return out;
}

std::string OverLimitShape(std::string_view limit, uint64_t len, const Fingerprinter& fp,
                           const std::string_view* whole) {
  std::string out = R"({"redacted":"over_limit","limit":)";
  AppendQuoted(out, limit);
  out.append(StrCat(R"(,"len":)", len));
  if (whole != nullptr) out.append(StrCat(R"(,"fp":")", fp.Of(*whole), "\""));
  out.push_back('}');
  return out;
}

}  // namespace relaytap::redact
