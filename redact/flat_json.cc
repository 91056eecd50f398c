#include "redact/flat_json.h"

#include "redact/json_string_scan.h"

namespace relaytap::redact {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads tokens of the accepted subset; every method returns false at anything outside it.
class Reader {
 public:
  explicit Reader(std::string_view text) : t_(text) {}

  bool Take(char c) {
    SkipBlanks();
    if (i_ >= t_.size() || t_[i_] != c) return false;
    ++i_;
    return true;
  }
  bool AtEnd() {
    SkipBlanks();
    return i_ == t_.size();
  }
  bool String(std::string_view* out, int64_t* base64_chars) {
    SkipBlanks();
    if (i_ >= t_.size() || t_[i_] != '"') return false;
    bool nul_escape = false;  // a clean token has no escapes at all
    const internal::StringToken token = internal::ScanString(t_, i_, &nul_escape);
    if (token.end == std::string_view::npos || !token.clean) return false;
    *out = t_.substr(i_ + 1, token.end - i_ - 2);
    *base64_chars = token.base64_chars;
    i_ = token.end;
    return true;
  }
  bool Value(FlatMember& m) {
    SkipBlanks();
    if (i_ >= t_.size()) return false;
    const char c = t_[i_];
    if (c == '"') {
      m.kind = FlatMember::Kind::kString;
      return String(&m.text, &m.base64_chars);
    }
    if (c == '-' || IsDigit(c)) {
      m.kind = FlatMember::Kind::kInteger;
      return Integer(&m.text);
    }
    if (Word("true")) return m.kind = FlatMember::Kind::kTrue, true;
    if (Word("false")) return m.kind = FlatMember::Kind::kFalse, true;
    if (Word("null")) return m.kind = FlatMember::Kind::kNull, true;
    return false;
  }

 private:
  void SkipBlanks() {
    while (i_ < t_.size() && IsBlank(t_[i_])) ++i_;
  }
  // -?(0|[1-9][0-9]*), at most 18 digits (fits int64_t), not "-0" (nlohmann reads it as 0).
  bool Integer(std::string_view* out) {
    const size_t start = i_;
    if (t_[i_] == '-') ++i_;
    const size_t digits = i_;
    while (i_ < t_.size() && IsDigit(t_[i_])) ++i_;
    const size_t n = i_ - digits;
    if (n == 0 || n > 18) return false;
    if (t_[digits] == '0' && (n > 1 || digits > start)) return false;
    if (i_ < t_.size() && (t_[i_] == '.' || t_[i_] == 'e' || t_[i_] == 'E')) return false;
    *out = t_.substr(start, i_ - start);
    return true;
  }
  bool Word(std::string_view word) {
    if (t_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  std::string_view t_;
  size_t i_ = 0;
};

}  // namespace

const FlatMember* FlatObject::Find(std::string_view key) const {
  for (const FlatMember& m : members) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

std::optional<FlatObject> ParseFlatObject(std::string_view text) {
  Reader r(text);
  if (!r.Take('{')) return std::nullopt;
  FlatObject obj;
  if (r.Take('}')) return r.AtEnd() ? std::optional(std::move(obj)) : std::nullopt;
  for (;;) {
    FlatMember m;
    int64_t key_chars = 0;
    if (obj.members.size() == kMaxFlatMembers || !r.String(&m.key, &key_chars) || !r.Take(':') ||
        obj.Find(m.key) != nullptr || !r.Value(m)) {
      return std::nullopt;
    }
    obj.members.push_back(m);
    if (r.Take(',')) continue;
    if (r.Take('}')) break;
    return std::nullopt;
  }
  if (!r.AtEnd()) return std::nullopt;
  return obj;
}

}  // namespace relaytap::redact
