// libFuzzer target: the redaction of request targets and URLs (RedactTarget), WebSocket
// subprotocols (RedactSubprotocols), headers (RedactHeaders) and free text (ScrubSecrets,
// FindSecret). The first byte picks the rule; the rest is the value (for headers: "name: value"
// lines). Invariants: nothing throws; the output holds no secret pattern (a target's pieces
// checked one by one, keep_headers values not at all: they are kept verbatim); an `api-key` /
// `openai-insecure-api-key.` / secret-header value never comes through verbatim; FindSecret spans
// lie inside the text and ScrubSecrets removes every one.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include "base/ascii.h"
#include "redact/fingerprint.h"
#include "redact/headers.h"
#include "redact/policy.h"
#include "redact/secret_patterns.h"
#include "redact/subprotocol.h"
#include "redact/url.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace relaytap::redact;

struct Env {
  Policy policy = *Policy::Default();
  Fingerprinter fp{"fuzzing-fingerprint-key-0123456789"};
};

const Env& GetEnv() {
  static const Env* env = new Env();
  return *env;
}

// "hmac:" + 12 lowercase hex digits, as Fingerprinter::Of writes it.
bool IsFingerprint(std::string_view s) {
  return s.size() == 5 + Fingerprinter::kHexChars && s.starts_with("hmac:") &&
         std::all_of(s.begin() + 5, s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The redactor's own renderings are checked for their shape, everything else for secrets (a
// fingerprint is not cut out of the text first: that would make word starts that were not there).
bool Leaks(std::string_view piece) {
  if (!ContainsSecret(piece)) return false;
  std::fprintf(stderr, "secret pattern in the redacted text: %.*s\n",
               static_cast<int>(piece.size()), piece.data());
  return true;
}

// A credential as RedactTarget writes it: "hmac:…", or "<scheme> hmac:…".
bool IsCredentialFingerprint(std::string_view s) {
  const size_t sp = s.rfind(' ');
  return IsFingerprint(sp == std::string_view::npos ? s : s.substr(sp + 1));
}

// Every api-key / authorization parameter of a redacted target's query holds a fingerprint.
void CheckCredentialParams(std::string_view out) {
  const size_t q = out.find('?');
  if (q == std::string_view::npos) return;
  std::string_view query = out.substr(q + 1, out.find('#', q) - q - 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    const size_t eq = param.find('=');
    if (eq != std::string_view::npos && eq + 1 < param.size()) {
      const std::string name = PercentDecode(param.substr(0, eq));
      if (relaytap::EqualsIgnoreCase(name, "api-key") ||
          relaytap::EqualsIgnoreCase(name, "authorization")) {
        FUZZ_CHECK(IsCredentialFingerprint(PercentDecode(param.substr(eq + 1))));
      }
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

// Path segments and query parameters are redacted one at a time, so each piece of the output,
// percent-decoded, must be clean (a run across "/" is structure: "/openai/deployments/…").
void CheckTarget(std::string_view value, const Env& env) {
  const std::string out = RedactTarget(value, env.policy, env.fp);
  std::string_view rest = out;
  while (!rest.empty()) {
    const size_t cut = rest.find_first_of("/?&=#");
    const std::string piece = PercentDecode(rest.substr(0, cut));
    FUZZ_CHECK(IsCredentialFingerprint(piece) || !Leaks(piece));
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 1);
  }
  CheckCredentialParams(out);
}

// Every "openai-insecure-api-key." token comes out as that prefix and a fingerprint.
void CheckSubprotocols(std::string_view value, const Env& env) {
  constexpr std::string_view kPrefix = "openai-insecure-api-key.";
  const std::string out = RedactSubprotocols(value, env.fp);
  size_t keys_in = 0, keys_out = 0;
  for (std::string_view token : relaytap::SplitHttpList(value)) {
    if (token.starts_with(kPrefix)) ++keys_in;
  }
  for (std::string_view token : relaytap::SplitHttpList(out)) {
    FUZZ_CHECK(IsFingerprint(token) || token.starts_with(kPrefix) || !Leaks(token));
    if (!token.starts_with(kPrefix)) continue;
    ++keys_out;
    FUZZ_CHECK(IsFingerprint(token.substr(kPrefix.size())));
  }
  FUZZ_CHECK(keys_in == keys_out);
}

void CheckHeaders(std::string_view value, const Env& env) {
  HeaderList headers;
  while (!value.empty()) {
    const size_t nl = value.find('\n');
    const std::string_view line = value.substr(0, nl);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
    }
    if (nl == std::string_view::npos) break;
    value.remove_prefix(nl + 1);
  }
  const HeaderList out = RedactHeaders(headers, env.policy, env.fp);
  FUZZ_CHECK(out.size() == headers.size());
  for (size_t i = 0; i < out.size(); ++i) {
    FUZZ_CHECK(out[i].first == headers[i].first);
    // keep_headers values are kept verbatim by design (x-request-id is "req_" + 32 hex digits).
    const std::string& name = headers[i].first;
    if (env.policy.secret_headers().Contains(name)) {
      FUZZ_CHECK(IsCredentialFingerprint(out[i].second));
    } else if (relaytap::EqualsIgnoreCase(name, "sec-websocket-protocol")) {
      FUZZ_CHECK(out[i].second == RedactSubprotocols(headers[i].second, env.fp));
    } else if (!env.policy.keep_headers().Contains(name)) {
      FUZZ_CHECK(IsFingerprint(out[i].second));
    }
    const std::string& in = headers[i].second;
    if (env.policy.secret_headers().Contains(headers[i].first) && in.size() >= 8) {
      FUZZ_CHECK(out[i].second.find(in) == std::string::npos);
    }
  }
}

void CheckScrub(std::string_view value, const Env& env) {
  size_t from = 0;
  while (std::optional<SecretSpan> span = FindSecret(value, from)) {
    FUZZ_CHECK(span->begin >= from && span->begin < span->end && span->end <= value.size());
    from = span->end;
  }
  FUZZ_CHECK(ContainsSecret(value) == FindSecret(value).has_value());
  size_t count = 0;
  const std::string out = ScrubSecrets(value, env.fp, &count);
  FUZZ_CHECK((count > 0) == ContainsSecret(value));
  FUZZ_CHECK(!Leaks(out));  // each "[hmac:…]" is bracketed: no word joins across it
  FUZZ_CHECK(IsCredentialFingerprint(FingerprintCredential(value, env.fp)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Env& env = GetEnv();
  const std::string_view value(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0:
      CheckTarget(value, env);
      break;
    case 1:
      CheckSubprotocols(value, env);
      break;
    case 2:
      CheckHeaders(value, env);
      break;
    default:
      CheckScrub(value, env);
      break;
  }
  return 0;
}
