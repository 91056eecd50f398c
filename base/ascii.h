#pragma once
// ASCII case and whitespace helpers over std::string_view, shared by every module.
//
// The case-insensitive compares, lowercasing and whitespace strip forward to
// absl/strings/{ascii,match}.h under the same names. They exist because Debian's Abseil 20220623
// has its own absl::string_view, which does not accept std::string_view (see base/str_cat.h).
// All of them are locale-independent: only 'A'..'Z' fold, other bytes compare as they are.
//
// TrimOws and SplitHttpList are the HTTP pieces Abseil lacks: HTTP's optional whitespace is only
// space and horizontal tab (RFC 9110 section 5.6.3), so absl::StripAsciiWhitespace (which also
// strips CR, LF, FF and VT) is not a substitute.

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace relaytap {
namespace ascii_internal {

inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view FromAbsl(absl::string_view s) { return {s.data(), s.size()}; }

}  // namespace ascii_internal

// Byte classes over char (absl's take unsigned char): letters and digits, and hex digits.
inline bool IsAsciiAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }
inline bool IsAsciiHex(char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); }

// `s` with 'A'..'Z' mapped to 'a'..'z'.
inline std::string AsciiStrToLower(std::string_view s) {
  std::string out(s);
  absl::AsciiStrToLower(&out);
  return out;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(ascii_internal::ToAbsl(a), ascii_internal::ToAbsl(b));
}

inline bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return absl::StartsWithIgnoreCase(ascii_internal::ToAbsl(s), ascii_internal::ToAbsl(prefix));
}

inline bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return absl::EndsWithIgnoreCase(ascii_internal::ToAbsl(s), ascii_internal::ToAbsl(suffix));
}

// `s` without leading and trailing ' ', '\t', '\n', '\v', '\f' and '\r'. A view into `s`.
inline std::string_view StripAsciiWhitespace(std::string_view s) {
  return ascii_internal::FromAbsl(absl::StripAsciiWhitespace(ascii_internal::ToAbsl(s)));
}

// `s` without leading and trailing HTTP optional whitespace (' ' and '\t' only). A view into `s`.
inline std::string_view TrimOws(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

// The elements of an HTTP comma-separated list (RFC 9110 section 5.6.1): split on ',', each
// element trimmed with TrimOws, empty elements dropped. Quoted strings are not special, so use it
// only for lists of tokens. The views point into `value`.
inline std::vector<std::string_view> SplitHttpList(std::string_view value) {
  std::vector<std::string_view> out;
  for (absl::string_view piece : absl::StrSplit(ascii_internal::ToAbsl(value), ',')) {
    const std::string_view element = TrimOws(ascii_internal::FromAbsl(piece));
    if (!element.empty()) out.push_back(element);
  }
  return out;
}

}  // namespace relaytap
