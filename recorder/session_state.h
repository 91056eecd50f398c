#pragma once
// Per-WebSocket-session bookkeeping on the writer thread: counts and bytes each way, ping/pong
// round trips, the first close frame, the idle gap before the close, and the first failure.
// Pure (no I/O). Thread rule: writer thread only.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "recorder/audio_run.h"
#include "recorder/correlator.h"
#include "recorder/observation.h"
#include "recorder/outcome.h"

namespace relaytap::recorder {

struct SessionState {
  int64_t open_us = 0;
  std::string session_id;  // sess_...
  std::string model;
  uint64_t messages_up = 0, messages_down = 0;
  uint64_t bytes_up = 0, bytes_down = 0;  // payload bytes (inflated)
  uint64_t pings = 0, pongs = 0;
  std::deque<int64_t> pending_pings[2];  // by direction of the ping
  double rtt_sum_ms = 0, rtt_max_ms = 0;
  uint64_t rtt_count = 0;
  int64_t last_data_us = 0;  // last text/binary message
  std::optional<int> close_code;
  std::string close_reason;  // raw; scrubbed before storage
  std::string close_side;    // "app" or "upstream": who sent the first close frame
  int64_t close_frame_us = 0;
  uint64_t responses = 0, failed_responses = 0, error_events = 0;
  std::optional<Outcome> first_failure;
  std::string first_error_type, first_error_code, first_failure_response_id;
  int64_t first_failure_us = 0;
  AudioRuns runs;  // open runs of audio events, written by the BatchWriter

  // Accounts one message and what the correlator read from it.
  void OnMessage(const WsMessage& msg, const MessageFacts& facts);

  std::optional<double> ping_rtt_avg_ms() const;
  // Time between the last data message and the close (frame, else session end); nullopt if none.
  std::optional<double> IdleBeforeCloseMs(int64_t close_us) const;
};

}  // namespace relaytap::recorder
