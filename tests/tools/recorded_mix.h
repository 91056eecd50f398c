#pragma once
// A store with a known mix, written by the real recorder, for the tests of the commands that
// read the store (stats, report): two healthy realtime sessions at 08:01 and 08:02 UTC on
// 2025-07-15, a session whose response failed (server_error, with Azure's message) at 09:01, an
// upgrade Azure throttled with 429 that the SDK marked as its first retry at 09:02, and a plain
// chat-completions exchange at 09:03. Sessions: session.created after 50 ms, first audio delta
// 300 ms after response.create, 120 tokens per response.

#include <cstdint>

#include "recorder/recorder.h"
#include "recorder/sink.h"

namespace relaytap::testing {

inline constexpr int64_t kT0 = 1'752'566'400'000'000;  // 2025-07-15T08:00:00Z
inline constexpr int64_t kHour = 3'600'000'000;

void SubmitSession(recorder::Sink& sink, uint64_t conn, int64_t t0, bool fail);
void SubmitThrottledUpgrade(recorder::Sink& sink, uint64_t conn, int64_t t0);
void SubmitHttpExchange(recorder::Sink& sink, uint64_t conn, int64_t t0);

// Records the whole mix into options.db_path and closes the recorder (all committed).
void RecordKnownMix(const recorder::RecorderOptions& options);

// An Entra ID token that expires at 09:00:00Z (kTokenExp), tenant kTokenTenant, audience
// https://cognitiveservices.azure.com.
inline constexpr int64_t kTokenExp = kT0 / 1'000'000 + 3600;
inline constexpr char kTokenTenant[] = "72f988bf-86f1-41af-91ab-2d7cd011db47";

// A separate small mix for the token findings: realtime upgrades with that token answered 101 at
// 08:10 and 08:50, then refused 401 at 09:00:02, 09:00:05 and 09:00:09 (the app kept the token).
void RecordExpiredTokenMix(const recorder::RecorderOptions& options);

}  // namespace relaytap::testing
