#include "base/byte_size.h"

#include <charconv>
#include <cstdio>

#include "base/ascii.h"
#include "base/str_cat.h"

namespace relaytap {

absl::StatusOr<uint64_t> ParseByteSize(std::string_view text) {
  const std::string_view s = TrimOws(text);
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  auto bad = [&] {
    return absl::InvalidArgumentError(
        StrCat("'", text,
               "': expected a size such as 4GiB, 500MiB or 65536 (units B, KiB, MiB, GiB, TiB)"));
  };
  if (ec != std::errc() || end == s.data()) return bad();
  const std::string unit =
      AsciiStrToLower(TrimOws(std::string_view(end, s.data() + s.size() - end)));
  int shift = 0;
  if (unit.empty() || unit == "b") {
    shift = 0;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    shift = 10;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    shift = 20;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    shift = 30;
  } else if (unit == "t" || unit == "tb" || unit == "tib") {
    shift = 40;
  } else {
    return bad();
  }
  if (shift > 0 && value > (UINT64_MAX >> shift)) {
    return absl::InvalidArgumentError(StrCat("'", text, "': too large"));
  }
  return value << shift;
}

std::string FormatByteSize(uint64_t bytes) {
  if (bytes < 1024) return StrCat(bytes, " B");
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[unit]);
  return buf;
}

}  // namespace relaytap
