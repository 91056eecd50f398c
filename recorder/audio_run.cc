#include "recorder/audio_run.h"

#include <algorithm>
#include <cctype>

namespace relaytap::recorder {

AudioKind AudioKindOf(std::string_view type) {
  if (type == "input_audio_buffer.append") return AudioKind::kInputAppend;
  if (type == "response.output_audio.delta") return AudioKind::kOutputAudio;
  if (type == "response.output_audio_transcript.delta") return AudioKind::kOutputTranscript;
  if (type == "response.audio.delta") return AudioKind::kPreviewAudio;
  if (type == "response.audio_transcript.delta") return AudioKind::kPreviewTranscript;
  return AudioKind::kNone;
}

bool AudioRun::Continues(std::string_view response, std::string_view item, int64_t first_us) const {
  return open() && count < kMaxRunMembers && response == response_id && item == item_id &&
         first_us - last.first_us <= kMaxRunGapUs;
}

void StartRun(AudioRun& run, int64_t row_id, const RunMessage& m, std::string_view response_id,
              std::string_view item_id, std::string fingerprint) {
  run = AudioRun{};
  run.row_id = row_id;
  run.response_id = std::string(response_id);
  run.item_id = std::string(item_id);
  run.first = m.member;
  RunMember origin{m.member.seq, m.member.first_us, 0, 0, 0};
  run.last = origin;
  AddToRun(run, m, std::move(fingerprint));
  run.dirty = false;  // the row as written is a one-member run
}

void AddToRun(AudioRun& run, const RunMessage& m, std::string fingerprint) {
  if (run.count > 0)
    run.max_gap_us = std::max(run.max_gap_us, m.member.first_us - run.last.first_us);
  EncodeRunMember(run.detail, run.last, run.prev_dt, m.member);
  run.last = m.member;
  run.last_event_id = std::string(m.event_id);
  run.last_frame_us = m.last_frame_us;
  run.count++;
  run.wire_bytes += m.member.wire_bytes;
  run.payload_bytes += m.member.payload_bytes;
  run.audio_bytes += m.member.audio_bytes;
  run.frames += m.frames;
  run.audio_ms += m.audio_ms;
  run.fingerprint = std::move(fingerprint);
  run.dirty = true;
}

std::string ContentFingerprints(std::string_view payload) {
  constexpr std::string_view kPrefixes[] = {"hmac:", "siphash:"};
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t at = std::string_view::npos, len = 0;
    for (std::string_view prefix : kPrefixes) {
      const size_t p = payload.find(prefix, pos);
      if (p < at) at = p, len = prefix.size();
    }
    if (at == std::string_view::npos) break;
    size_t end = at + len;
    while (end < payload.size() && std::isxdigit(static_cast<unsigned char>(payload[end]))) ++end;
    out.append(payload.substr(at, end - at));
    pos = end;
  }
  return out;
}

}  // namespace relaytap::recorder
