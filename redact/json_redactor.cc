#include "redact/json_redactor.h"

#include <charconv>

#include "base/ascii.h"
#include "redact/body_shape.h"
#include "redact/identifier.h"
#include "redact/json_writer.h"
#include "redact/secret_patterns.h"

namespace relaytap::redact {
namespace {

using Json = nlohmann::ordered_json;

// A structural value: no whitespace or control characters (a sentence is not one).
bool IsToken(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

// Spans in ' or " quotes (the opening quote at the start or after a byte that is not a letter or
// digit, the closing one before such a byte or the end), which is how an error message echoes the
// customer's input: each span becomes its fingerprint, the quotes and the words around stay.
// "Don't" has no opening quote, so it is left alone.
std::string ScrubQuoted(std::string_view s, const Fingerprinter& fp) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const char q = s[i];
    if ((q == '\'' || q == '"') && (i == 0 || !IsAsciiAlnum(s[i - 1]))) {
      size_t j = i + 1;
      while (j < s.size() && !(s[j] == q && (j + 1 == s.size() || !IsAsciiAlnum(s[j + 1])))) ++j;
      if (j < s.size() && j > i + 1) {
        out.push_back(q);
        fp.AppendOf(out, s.substr(i + 1, j - i - 1));
        out.push_back(q);
        i = j + 1;
        continue;
      }
    }
    out.push_back(s[i++]);
  }
  return out;
}

class Redactor {
 public:
  static constexpr size_t kInitialOutputBytes = 512;

  Redactor(const Policy& policy, const Fingerprinter& fp, RedactStats& stats, bool audio_delta,
           const JsonHoles* holes)
      : policy_(policy), fp_(fp), stats_(stats), audio_delta_(audio_delta), holes_(holes) {
    out_.reserve(kInitialOutputBytes);  // a realtime event's output fits; fewer regrowths
  }

  void Value(const Json& v, std::string_view key, size_t depth, bool hide_numbers) {
    if (depth > policy_.max_depth()) {
      ++stats_.depth_limited;
      return Opaque(v);
    }
    const uint8_t rules = key.empty() ? 0 : policy_.JsonKeyRules(key);
    if (rules & Policy::kJsonKeyOpaque) return Opaque(v);
    hide_numbers = hide_numbers || (rules & Policy::kJsonKeyNumbersRedacted) != 0;
    switch (v.type()) {
      case Json::value_t::object:
        return Object(v, depth, hide_numbers);
      case Json::value_t::array:
        out_.push_back('[');
        for (auto it = v.cbegin(); it != v.cend(); ++it) {
          if (it != v.cbegin()) out_.push_back(',');
          Value(*it, key, depth + 1, hide_numbers);  // elements inherit the array's key
        }
        out_.push_back(']');
        return;
      case Json::value_t::string:
        return String(Text(v.get_ref<const std::string&>()), key, rules);
      case Json::value_t::number_integer:
      case Json::value_t::number_unsigned:
      case Json::value_t::number_float:
        if (hide_numbers) {
          ++stats_.numbers_redacted;
          out_.append(R"({"redacted":"number"})");
          return;
        }
        return AppendScalar(out_, v);
      case Json::value_t::binary:
        return Opaque(v);
      default:  // bool, null, discarded
        return AppendScalar(out_, v);
    }
  }

  // The output of Value(doc, "", 0, false) for the document `obj` stands for (Object() and
  // Value() for members that are scalars); false where it would differ (the caller falls back).
  bool Flat(const FlatObject& obj) {
    if (policy_.max_depth() < 1) return false;  // the members would be opaque
    out_.push_back('{');
    const bool has_role = obj.Find("role") != nullptr;
    for (size_t i = 0; i < obj.members.size(); ++i) {
      const FlatMember& m = obj.members[i];
      if (i > 0) out_.push_back(',');
      Key(m.key);
      out_.push_back(':');
      if (has_role && m.key == "name" && m.kind == FlatMember::Kind::kString) {
        Placeholder(m.text);
        continue;
      }
      const uint8_t rules = m.key.empty() ? 0 : policy_.JsonKeyRules(m.key);
      if (rules & Policy::kJsonKeyOpaque) return false;
      switch (m.kind) {
        case FlatMember::Kind::kString:
          String(m.text, m.key, rules);
          break;
        case FlatMember::Kind::kInteger:
          if (rules & Policy::kJsonKeyNumbersRedacted) {
            ++stats_.numbers_redacted;
            out_.append(R"({"redacted":"number"})");
          } else {
            out_.append(m.text);  // canonical digits: what nlohmann prints for the number
          }
          break;
        case FlatMember::Kind::kTrue:
          out_.append("true");
          break;
        case FlatMember::Kind::kFalse:
          out_.append("false");
          break;
        case FlatMember::Kind::kNull:
          out_.append("null");
          break;
      }
    }
    out_.push_back('}');
    return true;
  }

  std::string Take() { return std::move(out_); }

 private:
  void Object(const Json& v, size_t depth, bool hide_numbers) {
    out_.push_back('{');
    // A message's participant (chat `messages[]`, realtime items with a role) is a person's
    // name; elsewhere `name` names a function or tool.
    const bool has_role = v.contains("role");
    for (auto it = v.cbegin(); it != v.cend(); ++it) {
      if (it != v.cbegin()) out_.push_back(',');
      const std::string& key = it.key();
      Key(key);
      out_.push_back(':');
      if (has_role && key == "name" && it.value().is_string()) {
        Placeholder(Text(it.value().get_ref<const std::string&>()));
        continue;
      }
      Value(it.value(), key, depth + 1, hide_numbers);
    }
    out_.push_back('}');
  }

  void Key(std::string_view key) {
    if (IsIdentifier(key, 64) && !ContainsSecret(key)) {
      AppendQuoted(out_, key);
    } else {
      ++stats_.keys_fingerprinted;
      AppendQuoted(out_, fp_.Of(key));
    }
  }

  // The string value `s` stands for (a cut-out long string when parsed with holes).
  std::string_view Text(const std::string& s) const {
    return holes_ != nullptr ? holes_->Resolve(s) : std::string_view(s);
  }

  // `rules`: policy_.JsonKeyRules(key).
  void String(std::string_view s, std::string_view key, uint8_t rules) {
    if ((rules & Policy::kJsonKeyAudio) != 0 || (audio_delta_ && key == "delta")) {
      const uint64_t bytes = Base64DecodedLength(s);
      ++stats_.audio_values;
      ++stats_.strings_redacted;
      stats_.audio_bytes += bytes;
      return AppendPlaceholder(R"({"redacted":"audio","bytes":)", bytes, s, /*bulk=*/true);
    }
    if ((rules & Policy::kJsonKeyId) != 0) {
      return IsIdentifier(s, 128) && !ContainsSecret(s) ? Keep(s) : Placeholder(s);
    }
    if ((rules & Policy::kJsonKeyScrub) != 0) {
      size_t n = 0;
      std::string scrubbed = ScrubQuoted(ScrubSecrets(s, fp_, &n), fp_);
      stats_.secrets_scrubbed += n;
      return Keep(TruncateUtf8(scrubbed, policy_.max_message_chars()));
    }
    if ((rules & Policy::kJsonKeyAllow) != 0 && s.size() <= policy_.max_kept_string_chars() &&
        IsToken(s) && !ContainsSecret(s)) {
      return Keep(s);
    }
    Placeholder(s);
  }

  void Keep(std::string_view s) {
    ++stats_.strings_kept;
    AppendQuoted(out_, s);
  }

  void Placeholder(std::string_view s) {
    ++stats_.strings_redacted;
    AppendPlaceholder(R"({"redacted":"string","len":)", s.size(), s);
  }

  // The JSON type survives; the length and fingerprint are of the value with its keys sorted, so
  // equal values give equal fingerprints whatever their key order.
  void Opaque(const Json& v) {
    ++stats_.opaque_values;
    const std::string text = SerializeCompact(v, holes_, /*sorted_keys=*/true);
    out_.append(R"({"redacted":"opaque","type":")");
    out_.append(TypeName(v));
    AppendPlaceholder(R"(","len":)", text.size(), text);
  }

  static std::string_view TypeName(const Json& v) {
    switch (v.type()) {
      case Json::value_t::object:
        return "object";
      case Json::value_t::array:
        return "array";
      case Json::value_t::string:
        return "string";
      case Json::value_t::boolean:
        return "boolean";
      case Json::value_t::number_integer:
      case Json::value_t::number_unsigned:
      case Json::value_t::number_float:
        return "number";
      case Json::value_t::binary:
        return "binary";
      default:
        return "null";
    }
  }

  // `head` + n + ,"fp":"hmac:…"} with the fingerprint of `value`, written in place; audio has the
  // bulk fingerprint ("siphash:…", fingerprint.h).
  void AppendPlaceholder(std::string_view head, uint64_t n, std::string_view value,
                         bool bulk = false) {
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), n);
    out_.append(head);
    out_.append(digits, end);
    out_.append(R"(,"fp":")");
    if (bulk) {
      fp_.AppendBulkOf(out_, value);
    } else {
      fp_.AppendOf(out_, value);
    }
    out_.append("\"}");
  }

  const Policy& policy_;
  const Fingerprinter& fp_;
  RedactStats& stats_;
  const bool audio_delta_;
  const JsonHoles* const holes_;  // null: the DOM holds every string itself
  std::string out_;
};

}  // namespace

uint64_t Base64DecodedLength(std::string_view b64) {
  size_t n = b64.size();
  size_t pad = 0;
  while (pad < 2 && n > pad && b64[n - 1 - pad] == '=') ++pad;
  return static_cast<uint64_t>(n - pad) * 3 / 4;
}

namespace {

std::string Redact(const nlohmann::ordered_json& doc, const JsonHoles* holes, const Policy& policy,
                   const Fingerprinter& fp, RedactStats* stats) {
  bool audio_delta = false;
  if (doc.is_object()) {
    auto type = doc.find("type");
    if (type != doc.end() && type->is_string()) {
      const std::string& t = type->get_ref<const std::string&>();
      audio_delta = policy.audio_delta_event_types().Contains(
          holes != nullptr ? holes->Resolve(t) : std::string_view(t));
    }
  }
  RedactStats local;
  Redactor r(policy, fp, stats ? *stats : local, audio_delta, holes);
  r.Value(doc, "", 0, false);
  return r.Take();
}

}  // namespace

std::string RedactJson(const nlohmann::ordered_json& doc, const Policy& policy,
                       const Fingerprinter& fp, RedactStats* stats) {
  return Redact(doc, nullptr, policy, fp, stats);
}

std::string RedactJson(const ParsedJson& parsed, const Policy& policy, const Fingerprinter& fp,
                       RedactStats* stats) {
  return Redact(parsed.doc, &parsed.holes, policy, fp, stats);
}

std::string RedactParsedText(const ParsedJson& parsed, std::string_view text, const Policy& policy,
                             const Fingerprinter& fp, RedactStats* stats) {
  if (parsed.over_budget) return OverLimitShape("element_budget", text.size(), fp, &text);
  if (parsed.doc.is_discarded()) return BodyShape("", text, fp);
  std::string out = RedactJson(parsed, policy, fp, stats);
  if (out.size() > kMaxStoredJsonBytes) {
    return OverLimitShape("stored_cap", text.size(), fp, &text);
  }
  return out;
}

std::optional<std::string> RedactFlatText(const FlatObject& flat, std::string_view text,
                                          const Policy& policy, const Fingerprinter& fp) {
  const FlatMember* type = flat.Find("type");
  const bool audio_delta = type != nullptr && type->kind == FlatMember::Kind::kString &&
                           policy.audio_delta_event_types().Contains(type->text);
  RedactStats stats;
  Redactor r(policy, fp, stats, audio_delta, /*holes=*/nullptr);
  if (!r.Flat(flat)) return std::nullopt;
  std::string out = r.Take();
  if (out.size() > kMaxStoredJsonBytes) {
    return OverLimitShape("stored_cap", text.size(), fp, &text);
  }
  return out;
}

std::string RedactJsonText(std::string_view text, const Policy& policy, const Fingerprinter& fp,
                           RedactStats* stats) {
  return RedactParsedText(ParsedJson::Parse(text), text, policy, fp, stats);
}

}  // namespace relaytap::redact
