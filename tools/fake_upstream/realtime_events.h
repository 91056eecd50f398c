#pragma once
// Builders for the realtime server events of a full GA response (beyond the basic ones in
// payloads.h), the fault events, and the session / ephemeral-token HTTPS bodies. Pure apart from
// random ids and the current time.

#include <chrono>
#include <cstdint>
#include <string>

#include "tools/fake_upstream/payloads.h"

namespace relaytap::tools::fake_upstream {

// rate_limits.updated with the given remaining counts (limits 20000 requests, 800000 tokens).
std::string RateLimitsUpdatedEvent(uint64_t remaining_requests, uint64_t remaining_tokens,
                                   double reset_seconds);
std::string OutputItemAddedEvent(const RealtimeResponseIds& ids);
// `text`: a text part / output_text item instead of audio with a transcript.
std::string ContentPartAddedEvent(const RealtimeResponseIds& ids, bool text = false);
std::string AudioDoneEvent(const RealtimeResponseIds& ids);
std::string TranscriptDoneEvent(const RealtimeResponseIds& ids, const std::string& transcript);
std::string ContentPartDoneEvent(const RealtimeResponseIds& ids, const std::string& transcript,
                                 bool text = false);
std::string OutputItemDoneEvent(const RealtimeResponseIds& ids, const std::string& transcript,
                                bool text = false);
// response.output_text.delta / .done (a text-only response).
std::string TextDeltaEvent(const RealtimeResponseIds& ids, const std::string& delta);
std::string TextDoneEvent(const RealtimeResponseIds& ids, const std::string& text);

// Azure's server_error message, naming the session.
std::string ServerErrorMessage(const std::string& session_id);
// An `error` event of type server_error (the session stays open).
std::string ServerErrorEvent(const std::string& session_id);
// response.done with status failed and a rate_limit_exceeded error.
std::string RateLimitedResponseDone(const RealtimeResponseIds& ids,
                                    std::chrono::milliseconds retry_after);

// `length` bytes of 24 kHz mono PCM16 (a 440 Hz tone) starting at sample `first_sample`.
std::string Pcm16Tone(uint64_t first_sample, size_t length);

// POST .../realtime/client_secrets (GA): {value:"ek_…", expires_at, session:{id:"sess_…",…}};
// the token expires `ttl_s` seconds from now (the request's expires_after.seconds).
std::string ClientSecretJson(const std::string& model, int64_t ttl_s = 600);
// POST .../realtimeapi/sessions or /v1/realtime/sessions (preview/beta):
// {id:"sess_…", object:"realtime.session", model, …, client_secret:{value:"ek_…", expires_at}}.
std::string PreviewSessionJson(const std::string& model);

}  // namespace relaytap::tools::fake_upstream
