// The built-in redaction policy. Keep byte-identical to configs/redaction.json
// (tests/redact/policy_test.cc checks it).

#include "redact/policy.h"

namespace relaytap::redact {
namespace {

constexpr std::string_view kDefaultPolicy = R"json({
  "_comment": "relaytap redaction policy (allowlist). This file is the built-in default; a user policy file only adds names to these lists (and may change the numbers). Values not allowed here are stored only as placeholders {redacted, len, fp} or keyed HMAC fingerprints 'hmac:<12 hex>'. Keys starting with '_' are comments; unknown keys are errors. Name lists take exact names, 'prefix*' or '*suffix'.",

  "_comment_allow_keys": "JSON keys whose string values are kept if they are tokens (no whitespace or control characters), at most max_kept_string_chars long and free of secret patterns (sk-, ek_, Bearer, JWT, 32+ hex, 64+ base64): structural values, never sentences. Arrays under these keys keep their string elements under the same rule. 'name' in an object that has a 'role' (a message's participant) is never kept.",
  "allow_keys": [
    "type", "object", "id", "event_id", "item_id", "previous_item_id", "response_id",
    "conversation_id", "call_id", "status", "reason", "code", "param", "role", "name", "model",
    "voice", "language", "output_modalities", "modalities", "include", "tool_choice",
    "truncation", "eagerness", "anchor", "detail", "format", "input_audio_format",
    "output_audio_format", "server_label", "connector_id", "approval_request_id"
  ],

  "_comment_opaque_keys": "JSON keys whose whole value (any type) becomes one placeholder with its serialized length. Wins over every other rule.",
  "opaque_keys": [
    "metadata", "parameters", "input_schema", "annotations", "headers", "authorization",
    "variables", "logprobs", "bytes", "sip_headers", "tracing", "prompt", "keywords",
    "schema", "json_schema", "properties"
  ],

  "_comment_id_keys": "Identifier keys: a string value is kept only if it matches ^[A-Za-z0-9_.:-]{1,128}$ and no secret pattern (clients choose event_id themselves); otherwise it is fingerprinted.",
  "id_keys": ["id", "*_id"],

  "_comment_scrub_keys": "Free-text keys kept after replacing secret patterns and quoted spans (the customer's input an error echoes) by their fingerprint and truncating to max_message_chars (error.message is the only human diagnostic).",
  "scrub_keys": ["message"],

  "_comment_audio_keys": "Keys holding base64 audio: the placeholder carries the decoded byte count. 'delta' is audio too when the event type is in audio_delta_event_types (beta and GA names).",
  "audio_keys": ["audio"],
  "audio_delta_event_types": ["response.audio.delta", "response.output_audio.delta"],

  "_comment_numbers_redacted_keys": "Keys whose numbers (also within their subtree) are hidden. Numbers, booleans and null are otherwise kept.",
  "numbers_redacted_keys": [],

  "_comment_keep_headers": "Header names (any case) whose values are kept verbatim. Location goes through the URL rule.",
  "keep_headers": [
    "host", "user-agent", "x-ms-useragent", "x-stainless-*", "openai-beta",
    "x-ms-client-request-id", "x-client-request-id", "content-type", "content-length",
    "upgrade", "connection", "sec-websocket-version", "sec-websocket-extensions",
    "sec-websocket-accept", "openai-organization", "openai-project",
    "x-request-id", "apim-request-id", "x-ms-region", "x-ms-deployment-name", "x-ms-rai-invoked",
    "azureml-model-session", "openai-processing-ms", "openai-version", "x-ratelimit-*",
    "retry-after", "retry-after-ms", "x-ms-retry-after-ms", "x-should-retry", "cf-ray",
    "x-envoy-upstream-service-time", "location", "date", "server"
  ],

  "_comment_secret_headers": "Credential headers: always fingerprinted (auth scheme kept), even if also matched by keep_headers. Any header in neither list is fingerprinted as well.",
  "secret_headers": [
    "authorization", "proxy-authorization", "api-key", "ocp-apim-subscription-key", "cookie",
    "set-cookie"
  ],

  "_comment_keep_query_params": "Query parameters (any case) whose values are kept; every other value is fingerprinted after percent-decoding.",
  "keep_query_params": ["model", "deployment", "api-version", "intent", "call_id", "webrtcfilter"],

  "max_kept_string_chars": 256,
  "max_message_chars": 200,
  "max_depth": 64
}
)json";

}  // namespace

std::string_view DefaultPolicyText() { return kDefaultPolicy; }

}  // namespace relaytap::redact
