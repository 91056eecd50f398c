// libFuzzer target: the recorder's JSON path: the hole scanner (ParsedJson::Parse), the ordered
// parser (ParseOrderedJson) and the redactor (RedactJson / RedactJsonText) under the default
// policy. The first byte is a knob: bit 0 plants an API key ("sk-proj-" + 40 characters) into
// the text at the position the other bits pick. Invariants: the three parsers agree on what is
// JSON; both redactor entry points give the same text; the output is JSON whose keys and strings
// hold no secret pattern, and the planted key never survives, whatever the input.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "redact/fingerprint.h"
#include "redact/json_holes.h"
#include "redact/json_parse.h"
#include "redact/json_redactor.h"
#include "redact/policy.h"
#include "redact/secret_patterns.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using relaytap::redact::ContainsSecret;

// An API key made from a hash of the input, so that a copy the fuzzer learned from an earlier
// comparison is not this input's key (a copy inside a word, "tosk-proj-…", is not a key at all).
std::string PlantedKey(const uint8_t* data, size_t size) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ull;
  constexpr std::string_view kAlnum =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string key = "sk-proj-";
  for (int i = 0; i < 40; ++i) {
    h = h * 6364136223846793005ull + 1442695040888963407ull;
    key.push_back(kAlnum[(h >> 33) % kAlnum.size()]);
  }
  return key;
}

struct Env {
  relaytap::redact::Policy policy = *relaytap::redact::Policy::Default();
  relaytap::redact::Fingerprinter fp{"fuzzing-fingerprint-key-0123456789"};
};

const Env& GetEnv() {
  static const Env* env = new Env();
  return *env;
}

// Every key and string of `out` (redacted JSON), without recursion.
void CheckNoSecretStrings(const nlohmann::json& out) {
  std::vector<const nlohmann::json*> stack{&out};
  while (!stack.empty()) {
    const nlohmann::json* v = stack.back();
    stack.pop_back();
    if (v->is_string()) {
      FUZZ_CHECK(!ContainsSecret(v->get_ref<const std::string&>()));
    } else if (v->is_object()) {
      for (auto it = v->begin(); it != v->end(); ++it) {
        FUZZ_CHECK(!ContainsSecret(it.key()));
        stack.push_back(&it.value());
      }
    } else if (v->is_array()) {
      for (const auto& e : *v) stack.push_back(&e);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Env& env = GetEnv();
  const uint8_t knobs = data[0];
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool planted = (knobs & 1) != 0;
  const std::string key = planted ? PlantedKey(data, size) : "";
  if (planted) {
    // At a word start: FindSecret does not look for "sk-" inside a word ("task-…").
    const size_t at = text.size() * (knobs >> 1) / 128;
    const bool in_word = at > 0 && std::isalnum(static_cast<unsigned char>(text[at - 1]));
    text.insert(at, in_word ? "-" + key : key);
  }

  const relaytap::redact::ParsedJson parsed = relaytap::redact::ParsedJson::Parse(text);
  const nlohmann::ordered_json ordered = relaytap::redact::ParseOrderedJson(text);
  const bool valid = nlohmann::json::accept(text);
  FUZZ_CHECK(parsed.doc.is_discarded() == !valid);
  FUZZ_CHECK(ordered.is_discarded() == !valid);

  const std::string out = relaytap::redact::RedactJsonText(text, env.policy, env.fp);
  if (valid) {
    FUZZ_CHECK(relaytap::redact::RedactJson(parsed, env.policy, env.fp) == out);
    FUZZ_CHECK(relaytap::redact::RedactJson(ordered, env.policy, env.fp) == out);
  }
  const nlohmann::json back = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!back.is_discarded());
  CheckNoSecretStrings(back);
  // "sk-" and 20 more: the shortest run FindSecret calls a key.
  if (planted) FUZZ_CHECK(out.find(std::string_view(key).substr(0, 23)) == std::string::npos);
  return 0;
}
