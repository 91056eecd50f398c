#include "proxy/http/header_rules.h"

#include <charconv>
#include <cstdint>

#include "base/ascii.h"

namespace relaytap::proxy::http_relay {
namespace {

struct Line {
  std::string_view text;  // including its CRLF (or LF)
  std::string_view name;  // empty for the start line and continuation lines
};

// `text` without its trailing CRLF or LF. The parser has already rejected a bare CR anywhere else
// in the head (Beast's error::bad_line_ending).
std::string_view WithoutLineEnd(std::string_view text) {
  if (text.ends_with('\n')) text.remove_suffix(1);
  if (text.ends_with('\r')) text.remove_suffix(1);
  return text;
}

std::vector<Line> SplitLines(std::string_view raw) {
  std::vector<Line> lines;
  size_t pos = 0;
  while (pos < raw.size()) {
    size_t nl = raw.find('\n', pos);
    size_t end = nl == std::string_view::npos ? raw.size() : nl + 1;
    Line line{raw.substr(pos, end - pos), {}};
    if (!lines.empty() && !line.text.empty() && line.text[0] != ' ' && line.text[0] != '\t') {
      size_t colon = line.text.find(':');
      if (colon != std::string_view::npos) line.name = line.text.substr(0, colon);
    }
    lines.push_back(line);
    pos = end;
  }
  return lines;
}

// Field names nominated by Connection headers, other than the standard tokens.
std::vector<std::string_view> NominatedNames(const std::vector<Line>& lines) {
  std::vector<std::string_view> names;
  for (const Line& l : lines) {
    if (!EqualsIgnoreCase(l.name, "connection")) continue;
    for (std::string_view token : SplitHttpList(WithoutLineEnd(l.text.substr(l.name.size() + 1)))) {
      if (!EqualsIgnoreCase(token, "close") && !EqualsIgnoreCase(token, "keep-alive") &&
          !EqualsIgnoreCase(token, "upgrade")) {
        names.push_back(token);
      }
    }
  }
  return names;
}

bool Dropped(std::string_view name, const std::vector<std::string_view>& nominated) {
  if (StartsWithIgnoreCase(name, "proxy-") || EqualsIgnoreCase(name, "keep-alive")) return true;
  for (std::string_view n : nominated) {
    // Never let a Connection token strip the framing or the upgrade itself.
    if (EqualsIgnoreCase(n, "transfer-encoding") || EqualsIgnoreCase(n, "content-length") ||
        EqualsIgnoreCase(n, "host"))
      continue;
    if (EqualsIgnoreCase(name, n)) return true;
  }
  return false;
}

std::string RewriteStartLine(std::string_view line, std::string_view new_target) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return std::string(line);
  std::string out;
  out.reserve(line.size() + new_target.size());
  out.append(line.substr(0, sp1 + 1)).append(new_target).append(line.substr(sp2));
  return out;
}

}  // namespace

std::string RewriteHeaderBlock(std::string_view raw, std::string_view new_target) {
  std::vector<Line> lines = SplitLines(raw);
  std::vector<std::string_view> nominated = NominatedNames(lines);
  std::string out;
  out.reserve(raw.size() + new_target.size());
  bool dropping = false;  // a dropped field's continuation lines go with it
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& l = lines[i];
    if (i == 0) {
      out.append(new_target.empty() ? std::string(l.text) : RewriteStartLine(l.text, new_target));
      continue;
    }
    bool continuation = !l.text.empty() && (l.text[0] == ' ' || l.text[0] == '\t');
    if (!continuation) dropping = !l.name.empty() && Dropped(l.name, nominated);
    if (!dropping) out.append(l.text);
  }
  return out;
}

bool SplitAbsoluteHttpTarget(std::string_view target, std::string* host, uint16_t* port,
                             std::string* origin_form) {
  constexpr std::string_view kScheme = "http://";
  if (!StartsWithIgnoreCase(target, kScheme)) return false;
  std::string_view rest = target.substr(kScheme.size());
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  // host = "[" IPv6 "]" or a name without ':', '[' or ']'; then only ":" port may follow.
  std::string_view h = authority;
  std::string_view p;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    h = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return false;
      p = authority.substr(close + 2);
    }
    if (h.find('[') != std::string_view::npos) return false;
  } else {
    if (size_t colon = authority.find(':'); colon != std::string_view::npos) {
      h = authority.substr(0, colon);
      p = authority.substr(colon + 1);
    }
    if (h.find_first_of("[]") != std::string_view::npos) return false;
  }
  if (h.empty()) return false;
  unsigned port_value = 80;
  if (!p.empty()) {
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port_value);
    if (ec != std::errc() || end != p.data() + p.size() || port_value == 0 || port_value > 65535)
      return false;
  }
  *host = std::string(h);
  *port = static_cast<uint16_t>(port_value);
  *origin_form =
      path.empty() ? "/" : (path.front() == '?' ? "/" + std::string(path) : std::string(path));
  return true;
}

}  // namespace relaytap::proxy::http_relay
