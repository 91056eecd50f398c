#include "redact/json_holes.h"

#include <charconv>
#include <cstdint>
#include <cstring>

#include "redact/json_parse.h"
#include "redact/json_string_scan.h"

namespace relaytap::redact {
namespace {

using internal::ScanString;
using internal::StringToken;

// True if the token ending before `i` is an object key (the next non-blank byte is ':').
bool IsKey(std::string_view t, size_t i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  return i < t.size() && t[i] == ':';
}

nlohmann::ordered_json ParseText(std::string_view text, bool* over_budget) {
  return ParseOrderedJson(text, kMaxJsonValues, over_budget);
}

}  // namespace

const JsonHoles::Span* JsonHoles::FindSpan(const std::string& s) const {
  if (spans_.empty() || s.size() < 2 || s[0] != '\0') return nullptr;
  size_t index = 0;
  auto [end, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), index);
  if (ec != std::errc() || end != s.data() + s.size() || index >= spans_.size()) return nullptr;
  return &spans_[index];
}

std::string_view JsonHoles::ResolveMarker(const std::string& s) const {
  const Span* span = FindSpan(s);
  return span == nullptr ? std::string_view(s) : source_.substr(span->offset, span->length);
}

std::optional<int64_t> JsonHoles::Base64AlphabetChars(const std::string& s) const {
  const Span* span = FindSpan(s);
  if (span == nullptr) return std::nullopt;
  return span->base64_chars;
}

ParsedJson ParsedJson::Parse(std::string_view text) {
  ParsedJson out;
  if (text.size() < JsonHoles::kMinHoleBytes) {
    out.doc = ParseText(text, &out.over_budget);
    return out;
  }
  std::vector<JsonHoles::Span> spans;
  std::string reduced;
  size_t copied = 0;  // text[0, copied) is in `reduced` already
  size_t i = 0;
  bool nul_escape = false;
  for (;;) {
    const size_t open = text.find('"', i);
    if (open == std::string_view::npos) break;
    const StringToken token = ScanString(text, open, &nul_escape);
    const size_t end = token.end;
    // Unterminated: nlohmann rejects the text, with or without holes (the rest is copied as is).
    if (end == std::string_view::npos) break;
    const size_t len = end - open - 2;
    if (token.clean && len >= JsonHoles::kMinHoleBytes && !IsKey(text, end)) {
      if (reduced.empty()) reduced.reserve(1024);
      reduced.append(text.substr(copied, open - copied));
      reduced.append("\"\\u0000");
      char digits[24];
      auto [p, ec] = std::to_chars(digits, digits + sizeof(digits), spans.size());
      reduced.append(digits, p);
      reduced.push_back('"');
      spans.push_back(JsonHoles::Span{open + 1, len, token.base64_chars});
      copied = end;
    }
    i = end;
  }
  // A real string could decode to a marker only through "\u0000". Outside string tokens a
  // backslash is not JSON at all, so scanning the tokens is enough.
  if (spans.empty() || nul_escape) {
    out.doc = ParseText(text, &out.over_budget);
    return out;
  }
  reduced.append(text.substr(copied));
  out.doc = ParseText(reduced, &out.over_budget);
  out.holes.source_ = text;
  out.holes.spans_ = std::move(spans);
  return out;
}

}  // namespace relaytap::redact
