#pragma once
// Pure builders for the JSON and SSE payloads the fake upstream sends.

#include <string>
#include <string_view>
#include <vector>

#include "tools/fake_upstream/fake_upstream.h"
#include "tools/fake_upstream/realtime_ids.h"

namespace relaytap::tools::fake_upstream {

// {"method":..,"target":..,"headers":[[n,v],..],"body_bytes":N,"body_sha256":".."}
std::string EchoJson(const RequestRecord& record);

// Azure error body {"error":{"code":..,"message":..}} for an HTTP status.
std::string AzureErrorJson(unsigned status);

// `data: {"i":k,"type":"response.output_text.delta"}\n\n`
std::string SseTestEvent(uint64_t index);

// Non-streaming completions.
std::string ChatCompletionJson();
std::string ResponsesJson();
// Streaming completions: each string is one complete SSE event (ending in a blank line); the
// chat stream ends with `data: [DONE]`, the Responses stream (like the real one) does not.
std::vector<std::string> ChatCompletionSseEvents();
std::vector<std::string> ResponsesSseEvents();

// Realtime server events.
std::string SessionCreatedEvent(const std::string& session_id);
// An `error` event: {type:"error", event_id, error:{type, code, message, param, event_id}}, with
// null for an empty `param` or `client_event_id`.
std::string ErrorEvent(std::string_view error_type, std::string_view code, std::string_view message,
                       std::string_view param, std::string_view client_event_id);
// The `error` event the Realtime API sends for a client event of an unknown type.
std::string InvalidEventError(const std::string& bad_type, const std::string& client_event_id);
// `text_only`: output_modalities ["text"] and (when done) an output_text item.
std::string ResponseCreatedEvent(const RealtimeResponseIds& ids, bool text_only = false);
std::string AudioDeltaEvent(const RealtimeResponseIds& ids, const std::string& base64_audio);
std::string TranscriptDeltaEvent(const RealtimeResponseIds& ids, const std::string& delta);
std::string ResponseDoneEvent(const RealtimeResponseIds& ids, bool failed,
                              const std::string& transcript = "Hello there!",
                              bool text_only = false);

}  // namespace relaytap::tools::fake_upstream
