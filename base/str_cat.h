#pragma once
// StrCat for our own string vocabulary. Debian's Abseil 20220623 was built with its own
// absl::string_view, which does not accept std::string_view, so absl::StrCat cannot take the
// std::string_view values the rest of the code uses. This one takes strings, string_views, chars,
// integers, floating point and bools.

#include <charconv>
#include <concepts>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>

namespace relaytap {
namespace str_cat_internal {

inline void Append(std::string& out, std::string_view s) { out.append(s); }
inline void Append(std::string& out, const char* s) { out.append(s ? s : "(null)"); }
inline void Append(std::string& out, const std::string& s) { out.append(s); }
inline void Append(std::string& out, char c) { out.push_back(c); }
inline void Append(std::string& out, bool b) { out.append(b ? "true" : "false"); }
template <std::integral T>
requires(!std::same_as<T, bool> && !std::same_as<T, char>) void Append(std::string& out, T v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}
template <std::floating_point T>
void Append(std::string& out, T v) {
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%.3f", static_cast<double>(v));
  out.append(buf, static_cast<size_t>(n > 0 ? n : 0));
}
template <typename E>
requires std::is_enum_v<E>
void Append(std::string& out, E v) { Append(out, static_cast<std::underlying_type_t<E>>(v)); }

}  // namespace str_cat_internal

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (str_cat_internal::Append(out, args), ...);
  return out;
}

}  // namespace relaytap
