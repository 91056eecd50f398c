#pragma once
// A store at incident scale, written by the real recorder, for measuring the commands that read
// it (stats, report, diff, export --har). Realtime sessions at audio cadence spread over ten
// hours from 2025-07-15T08:00Z, each: session.created, session.update, then six turns of
// response.create -> response.created, output item/part events, 70 audio deltas 20 ms apart,
// 5 transcript deltas, the done events and response.done with usage (84 events a turn, 506 a
// session). One session in 33 ends with a failed response; one upgrade in 50 is throttled with
// 429; one chat-completions exchange per session.

#include <cstdint>
#include <string>

namespace relaytap::testing {

struct ScaleMix {
  int64_t sessions = 0;  // realtime sessions opened (101)
  int64_t failed_sessions = 0;
  int64_t throttled_upgrades = 0;
  int64_t chats = 0;
  int64_t events = 0;  // WebSocket messages submitted (each one an events row)
};

// The number of sessions that give at least `events` events.
int64_t SessionsFor(int64_t events);

// Records `sessions` sessions (and the throttled upgrades and chats that go with them) into a
// new store at `db_path` (keys in `key_dir`). Returns what it submitted; aborts the process if
// the recorder drops anything or fails, so a benchmark never measures a partial store.
ScaleMix RecordScaleMix(const std::string& db_path, const std::string& key_dir, int64_t sessions);

}  // namespace relaytap::testing
