#include "redact/policy.h"

#include <algorithm>
#include <utility>

#include "base/ascii.h"
#include "base/str_cat.h"
#include "redact/fingerprint.h"

namespace relaytap::redact {
namespace {

constexpr std::string_view kListKeys[] = {"allow_keys",
                                          "opaque_keys",
                                          "id_keys",
                                          "scrub_keys",
                                          "audio_keys",
                                          "audio_delta_event_types",
                                          "numbers_redacted_keys",
                                          "keep_headers",
                                          "secret_headers",
                                          "keep_query_params"};

absl::Status BadValue(std::string_view key, std::string_view what) {
  return absl::InvalidArgumentError(StrCat("redaction policy: '", key, "' ", what));
}

absl::StatusOr<size_t> ReadLimit(const nlohmann::json& v, std::string_view key, size_t max) {
  if (!v.is_number_unsigned() || v.get<uint64_t>() < 1 || v.get<uint64_t>() > max) {
    return BadValue(key, StrCat("must be an integer in [1, ", max, "]"));
  }
  return static_cast<size_t>(v.get<uint64_t>());
}

}  // namespace

absl::Status NameSet::Add(std::string_view pattern) {
  std::string p = case_insensitive_ ? AsciiStrToLower(pattern) : std::string(pattern);
  const size_t stars = static_cast<size_t>(std::count(p.begin(), p.end(), '*'));
  if (p.empty() || p == "*" || stars > 1 || (stars == 1 && p.front() != '*' && p.back() != '*')) {
    return absl::InvalidArgumentError(
        StrCat("invalid name pattern '", p, "' (use a name, 'prefix*' or '*suffix')"));
  }
  if (stars == 0) {
    exact_.insert(std::move(p));
  } else if (p.back() == '*') {
    prefixes_.insert(p.substr(0, p.size() - 1));
  } else {
    suffixes_.insert(p.substr(1));
  }
  return absl::OkStatus();
}

bool NameSet::Contains(std::string_view name) const {
  std::string lowered;
  if (case_insensitive_) {
    lowered = AsciiStrToLower(name);
    name = lowered;
  }
  if (exact_.find(name) != exact_.end()) return true;
  for (const auto& p : prefixes_) {
    if (name.size() > p.size() && name.substr(0, p.size()) == p) return true;
  }
  for (const auto& s : suffixes_) {
    if (name.size() > s.size() && name.substr(name.size() - s.size()) == s) return true;
  }
  return false;
}

std::vector<std::string> NameSet::Patterns() const {
  std::vector<std::string> out(exact_.begin(), exact_.end());
  for (const auto& p : prefixes_) out.push_back(p + "*");
  for (const auto& s : suffixes_) out.push_back("*" + s);
  std::sort(out.begin(), out.end());
  return out;
}

template <typename Self>
auto* Policy::ListByName(Self& self, std::string_view key) {
  using Ptr = decltype(&self.allow_keys_);
  if (key == "allow_keys") return &self.allow_keys_;
  if (key == "opaque_keys") return &self.opaque_keys_;
  if (key == "id_keys") return &self.id_keys_;
  if (key == "scrub_keys") return &self.scrub_keys_;
  if (key == "audio_keys") return &self.audio_keys_;
  if (key == "audio_delta_event_types") return &self.audio_delta_event_types_;
  if (key == "numbers_redacted_keys") return &self.numbers_redacted_keys_;
  if (key == "keep_headers") return &self.keep_headers_;
  if (key == "secret_headers") return &self.secret_headers_;
  if (key == "keep_query_params") return &self.keep_query_params_;
  return Ptr{nullptr};
}

absl::Status Policy::Apply(const nlohmann::json& doc) {
  if (!doc.is_object()) {
    return absl::InvalidArgumentError("redaction policy: not a valid JSON object");
  }
  for (const auto& [key, value] : doc.items()) {
    if (!key.empty() && key.front() == '_') continue;  // comment
    if (NameSet* list = ListByName(*this, key)) {
      if (!value.is_array()) return BadValue(key, "must be an array of strings");
      for (size_t i = 0; i < value.size(); ++i) {
        const auto& e = value[i];
        if (!e.is_string() || e.get_ref<const std::string&>().empty()) {
          return BadValue(key, StrCat("element ", i, " must be a non-empty string"));
        }
        if (absl::Status st = list->Add(e.get_ref<const std::string&>()); !st.ok()) {
          return BadValue(key, StrCat("element ", i, ": ", std::string(st.message())));
        }
      }
      continue;
    }
    size_t* limit = key == "max_kept_string_chars" ? &max_kept_string_chars_
                    : key == "max_message_chars"   ? &max_message_chars_
                    : key == "max_depth"           ? &max_depth_
                                                   : nullptr;
    if (limit == nullptr) {
      return absl::InvalidArgumentError(StrCat("redaction policy: unknown key '", key, "'"));
    }
    const size_t max = key == "max_depth" ? 256 : 65536;
    absl::StatusOr<size_t> v = ReadLimit(value, key, max);
    if (!v.ok()) return v.status();
    *limit = *v;
  }
  return absl::OkStatus();
}

absl::StatusOr<Policy> Policy::Parse(std::string_view json_text) {
  Policy p;
  if (absl::Status st = p.Extend(json_text); !st.ok()) return st;
  return p;
}

absl::StatusOr<Policy> Policy::Default() { return Parse(DefaultPolicyText()); }

absl::Status Policy::Extend(std::string_view json_text) {
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError("redaction policy: not a valid JSON object");
  }
  Policy copy = *this;
  if (absl::Status st = copy.Apply(doc); !st.ok()) return st;
  copy.IndexJsonKeys();
  *this = std::move(copy);
  return absl::OkStatus();
}

void Policy::IndexJsonKeys() {
  const std::pair<const NameSet*, uint8_t> lists[] = {
      {&allow_keys_, kJsonKeyAllow}, {&opaque_keys_, kJsonKeyOpaque},
      {&id_keys_, kJsonKeyId},       {&scrub_keys_, kJsonKeyScrub},
      {&audio_keys_, kJsonKeyAudio}, {&numbers_redacted_keys_, kJsonKeyNumbersRedacted}};
  json_key_bits_.clear();
  json_key_patterns_.clear();
  for (const auto& [list, bit] : lists) {
    for (const std::string& name : list->exact_) json_key_bits_[name] |= bit;
    for (const std::string& p : list->prefixes_) json_key_patterns_.push_back({p, true, bit});
    for (const std::string& p : list->suffixes_) json_key_patterns_.push_back({p, false, bit});
  }
}

uint8_t Policy::JsonKeyRules(std::string_view key) const {
  // absl::string_view is its own type in this Abseil build: look up through it.
  auto it = json_key_bits_.find(absl::string_view(key.data(), key.size()));
  uint8_t bits = it == json_key_bits_.end() ? 0 : it->second;
  for (const KeyPattern& p : json_key_patterns_) {  // NameSet::Contains' pattern rules
    if (key.size() > p.text.size() &&
        (p.prefix ? key.substr(0, p.text.size()) == p.text
                  : key.substr(key.size() - p.text.size()) == p.text)) {
      bits |= p.bits;
    }
  }
  return bits;
}

std::string Policy::CanonicalJson() const {
  nlohmann::json j = nlohmann::json::object();
  for (std::string_view key : kListKeys) {
    j[std::string(key)] = ListByName(*this, key)->Patterns();
  }
  j["max_kept_string_chars"] = max_kept_string_chars_;
  j["max_message_chars"] = max_message_chars_;
  j["max_depth"] = max_depth_;
  return j.dump();
}

std::string Policy::hash() const { return Sha256Hex(CanonicalJson()); }

}  // namespace relaytap::redact
