#include "proxy/ws/extensions.h"

#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/ascii.h"
#include "base/str_cat.h"

namespace relaytap::proxy::ws {
namespace {

// Splits on `sep` outside double-quoted strings.
std::vector<std::string_view> SplitOutsideQuotes(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') quoted = !quoted;
    if (s[i] == '\\' && quoted) ++i;
    if (i < s.size() && s[i] == sep && !quoted) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

absl::Status Invalid(std::string message) {
  return absl::InvalidArgumentError(StrCat("Sec-WebSocket-Extensions: ", message));
}

absl::StatusOr<int> ParseWindowBits(std::string_view name, std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  int bits = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), bits);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || bits < 8 ||
      bits > 15) {
    return Invalid(StrCat(name, " must be 8..15, got '", value, "'"));
  }
  return bits;
}

absl::Status ApplyDeflateParam(std::string_view param, PerMessageDeflate& pmd, uint32_t& seen) {
  std::string_view name = param;
  std::optional<std::string_view> value;
  if (size_t eq = param.find('='); eq != std::string_view::npos) {
    name = TrimOws(param.substr(0, eq));
    value = TrimOws(param.substr(eq + 1));
  }
  static constexpr std::string_view kNames[] = {"server_no_context_takeover",
                                                "client_no_context_takeover",
                                                "server_max_window_bits", "client_max_window_bits"};
  size_t index = 0;
  while (index < 4 && !EqualsIgnoreCase(name, kNames[index])) ++index;
  if (index == 4) return Invalid(StrCat("unknown permessage-deflate parameter '", name, "'"));
  if (seen & (1u << index)) return Invalid(StrCat("duplicate parameter ", name));
  seen |= 1u << index;
  if (index < 2) {
    if (value.has_value()) return Invalid(StrCat(name, " takes no value"));
    (index == 0 ? pmd.server_no_context_takeover : pmd.client_no_context_takeover) = true;
    return absl::OkStatus();
  }
  int bits = 15;
  if (value.has_value()) {
    absl::StatusOr<int> parsed = ParseWindowBits(name, *value);
    if (!parsed.ok()) return parsed.status();
    bits = *parsed;
  } else if (index == 2) {
    return Invalid("server_max_window_bits requires a value");
  }
  (index == 2 ? pmd.server_max_window_bits : pmd.client_max_window_bits) = bits;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PerMessageDeflate> ParseNegotiatedExtensions(std::string_view header_value) {
  PerMessageDeflate pmd;
  for (std::string_view extension : SplitOutsideQuotes(header_value, ',')) {
    std::vector<std::string_view> parts = SplitOutsideQuotes(extension, ';');
    if (!EqualsIgnoreCase(TrimOws(parts[0]), "permessage-deflate")) continue;
    if (pmd.enabled) continue;  // A 101 accepts at most one; keep the first.
    pmd.enabled = true;
    uint32_t seen = 0;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::string_view param = TrimOws(parts[i]);
      if (param.empty()) return Invalid("empty permessage-deflate parameter");
      if (absl::Status status = ApplyDeflateParam(param, pmd, seen); !status.ok()) return status;
    }
  }
  return pmd;
}

}  // namespace relaytap::proxy::ws
