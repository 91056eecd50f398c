#pragma once
// Runs of audio events: consecutive audio messages of one type in one direction of a WebSocket
// session, stored as one `events` row (schema version 5) instead of one row per 20 ms message.
// The row keeps the first message's columns and payload, the totals, and a blob of numbers that
// gives back every member's sequence number, arrival time and sizes (EncodeRunMember /
// DecodeRunDetail in recorder/query/run_detail.h). Pure (no I/O, no SQL). Thread rule: AudioRun
// belongs to the writer thread.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "recorder/query/run_detail.h"

namespace relaytap::recorder {

using query::RunMember;

// The event types that form runs. Each is its own kind: a transcript delta never joins an audio
// run, and runs of different kinds may interleave without closing each other.
enum class AudioKind : uint8_t {
  kNone,
  kInputAppend,        // input_audio_buffer.append
  kOutputAudio,        // response.output_audio.delta
  kOutputTranscript,   // response.output_audio_transcript.delta
  kPreviewAudio,       // response.audio.delta
  kPreviewTranscript,  // response.audio_transcript.delta
};
inline constexpr size_t kAudioKindCount = 6;
AudioKind AudioKindOf(std::string_view event_type);

// A gap longer than this between two members closes the run (the silence is then visible).
inline constexpr int64_t kMaxRunGapUs = 2'000'000;
// A run holds at most this many members (10 s at 20 ms), so the row rewritten at each batch
// commit stays small; the next message starts a new run.
inline constexpr uint64_t kMaxRunMembers = 500;

// An open run on the writer thread, and what its row holds.
struct AudioRun {
  int64_t row_id = 0;  // events.id; 0: no open run
  std::string response_id, item_id;
  std::string last_event_id;
  RunMember first, last;
  int64_t prev_dt = 0;
  uint64_t count = 0;
  int64_t last_frame_us = 0, max_gap_us = 0;
  int64_t wire_bytes = 0, payload_bytes = 0, audio_bytes = 0, frames = 0;
  double audio_ms = 0;
  std::string detail;       // the member blob
  std::string fingerprint;  // keyed fingerprint of the members' content fingerprints in order
  bool dirty = false;       // members not yet written to the row

  bool open() const { return row_id != 0; }
  // Whether a message with these ids arriving at `first_us` continues this run.
  bool Continues(std::string_view response_id, std::string_view item_id, int64_t first_us) const;
};

// What the writer knows of one audio message besides its RunMember.
struct RunMessage {
  RunMember member;
  std::string_view event_id;
  int64_t last_frame_us = 0;
  int64_t frames = 0;
  double audio_ms = 0;
};

// Starts `run` at a row that was just written for `m`.
void StartRun(AudioRun& run, int64_t row_id, const RunMessage& m, std::string_view response_id,
              std::string_view item_id, std::string fingerprint);
// Adds `m` (Continues() was true); `fingerprint` is the run's new content fingerprint.
void AddToRun(AudioRun& run, const RunMessage& m, std::string fingerprint);

// The open runs of one session, one slot per direction and kind.
class AudioRuns {
 public:
  AudioRun& Slot(bool from_client, AudioKind kind) {
    return slots_[(from_client ? 0 : kAudioKindCount) + static_cast<size_t>(kind)];
  }
  std::array<AudioRun, 2 * kAudioKindCount>& all() { return slots_; }

 private:
  std::array<AudioRun, 2 * kAudioKindCount> slots_;
};

// The fingerprints ("hmac:" or "siphash:" + 12 hex) a redacted payload holds, concatenated in
// order: what identifies a member's content without revealing it.
std::string ContentFingerprints(std::string_view redacted_payload);

}  // namespace relaytap::recorder
