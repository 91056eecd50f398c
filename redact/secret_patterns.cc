#include "redact/secret_patterns.h"

#include <algorithm>

#include "base/ascii.h"
#include "base/str_cat.h"
#include "redact/fingerprint.h"

namespace relaytap::redact {
namespace {

bool IsUrlSafe(char c) { return IsAsciiAlnum(c) || c == '_' || c == '-'; }
bool IsB64(char c) { return IsUrlSafe(c) || c == '+' || c == '/' || c == '='; }
bool IsSpace(char c) { return absl::ascii_isspace(static_cast<unsigned char>(c)); }

template <typename Pred>
size_t RunEnd(std::string_view s, size_t i, Pred pred) {
  while (i < s.size() && pred(s[i])) ++i;
  return i;
}

// Each matcher returns the end of a match that starts at i, or 0 for none.
size_t MatchPrefixRun(std::string_view s, size_t i, std::string_view prefix, size_t min_run,
                      bool (*pred)(char)) {
  if (s.substr(i, prefix.size()) != prefix) return 0;
  size_t start = i + prefix.size();
  size_t end = RunEnd(s, start, pred);
  return end - start >= min_run ? end : 0;
}

size_t MatchBearer(std::string_view s, size_t i) {
  static constexpr std::string_view kWord = "bearer";
  if (s.size() - i < kWord.size() + 2) return 0;
  if (!StartsWithIgnoreCase(s.substr(i), kWord)) return 0;
  size_t j = RunEnd(s, i + kWord.size(), IsSpace);
  if (j == i + kWord.size()) return 0;
  size_t end = RunEnd(s, j, [](char c) { return !IsSpace(c); });
  return end > j ? end : 0;
}

size_t MatchJwt(std::string_view s, size_t i) {
  if (s.substr(i, 3) != "eyJ") return 0;
  size_t a = RunEnd(s, i + 3, IsUrlSafe);
  if (a == i + 3 || a >= s.size() || s[a] != '.') return 0;
  size_t b = RunEnd(s, a + 1, IsUrlSafe);
  if (b == a + 1 || b >= s.size() || s[b] != '.') return 0;
  return RunEnd(s, b + 1, IsUrlSafe);
}

}  // namespace

std::optional<SecretSpan> FindSecret(std::string_view s, size_t from) {
  // Matchers only start at a run boundary, so every character is scanned a bounded number of
  // times whatever the input.
  // The longest match at the first position with one: a shorter one (the 32 hex digits that begin
  // a base64 run) would leave the rest of the run, no longer at a run boundary, unmatched.
  for (size_t i = from; i < s.size(); ++i) {
    const char prev = i > 0 ? s[i - 1] : ' ';
    size_t end = 0;
    if (!IsAsciiAlnum(prev)) {
      end = std::max({end, MatchPrefixRun(s, i, "sk-", 20, IsUrlSafe),
                      MatchPrefixRun(s, i, "ek_", 16, IsAsciiAlnum), MatchBearer(s, i)});
    }
    if (!IsUrlSafe(prev)) end = std::max(end, MatchJwt(s, i));
    if (IsAsciiHex(s[i]) && !IsAsciiHex(prev)) {
      const size_t run = RunEnd(s, i, IsAsciiHex);
      if (run - i >= 32) end = std::max(end, run);
    }
    if (IsB64(s[i]) && !IsB64(prev)) {
      const size_t run = RunEnd(s, i, IsB64);
      if (run - i >= 64) end = std::max(end, run);
    }
    if (end > 0) return SecretSpan{i, end};
  }
  return std::nullopt;
}

// The same answer as FindSecret(s).has_value() (tests/redact/secret_patterns_test.cc compares the
// two on many inputs), written for speed: FindSecret tries every matcher at every run boundary;
// here one pass counts the current hex and base64 run lengths (a run start followed by 32 hex /
// 64 base64 characters is exactly a maximal run that reaches that length) and calls a prefix
// matcher only at a byte that can begin it, under the same condition on the byte before.
bool ContainsSecret(std::string_view s) {
  constexpr size_t kShortestSecret = 7;  // "eyJ" + "x.y." (a JWT); the others are longer
  if (s.size() < kShortestSecret) return false;
  size_t hex_run = 0;
  size_t b64_run = 0;
  char prev = ' ';
  for (size_t i = 0; i < s.size(); prev = s[i], ++i) {
    const char c = s[i];
    hex_run = IsAsciiHex(c) ? hex_run + 1 : 0;
    b64_run = IsB64(c) ? b64_run + 1 : 0;
    if (hex_run >= 32 || b64_run >= 64) return true;
    switch (c) {
      case 's':
        if (!IsAsciiAlnum(prev) && MatchPrefixRun(s, i, "sk-", 20, IsUrlSafe)) return true;
        break;
      case 'e':
        if (!IsAsciiAlnum(prev) && MatchPrefixRun(s, i, "ek_", 16, IsAsciiAlnum)) return true;
        if (!IsUrlSafe(prev) && MatchJwt(s, i)) return true;
        break;
      case 'b':
      case 'B':
        if (!IsAsciiAlnum(prev) && MatchBearer(s, i)) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

std::string ScrubSecrets(std::string_view s, const Fingerprinter& fp, size_t* count) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  size_t n = 0;
  // The rest is searched on its own: after a replacement "]" the next byte starts a run, so the
  // output holds no span that a new search of it would find ("<32 hex>sk-…" gives two).
  while (auto span = FindSecret(s.substr(pos))) {
    out.append(s.substr(pos, span->begin));
    out.append(StrCat("[", fp.Of(s.substr(pos + span->begin, span->end - span->begin)), "]"));
    pos += span->end;
    ++n;
  }
  out.append(s.substr(pos));
  if (count) *count = n;
  return out;
}

std::string FingerprintCredential(std::string_view value, const Fingerprinter& fp) {
  value = StripAsciiWhitespace(value);
  size_t sp = 0;
  while (sp < value.size() && IsAsciiAlnum(value[sp])) ++sp;
  size_t token = RunEnd(value, sp, IsSpace);
  const std::string scheme = AsciiStrToLower(value.substr(0, sp));
  if (sp > 0 && token > sp && token < value.size() && (scheme == "bearer" || scheme == "basic")) {
    return StrCat(value.substr(0, sp), " ", fp.Of(value.substr(token)));
  }
  return fp.Of(value);
}

}  // namespace relaytap::redact
