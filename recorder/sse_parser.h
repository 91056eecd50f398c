#pragma once
// Incremental Server-Sent Events parser over the *decoded* body bytes of a text/event-stream
// response (a copy; the relay forwards the original bytes). Bounded in events and bytes so a
// misbehaving stream cannot grow memory. Single-threaded. It runs on the recorder's writer thread:
// the relay only keeps the raw bytes with their arrival times (Exchange::sse_capture).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "recorder/observation.h"

namespace relaytap::recorder {

class SseParser {
 public:
  static constexpr size_t kMaxEvents = 20'000;
  static constexpr size_t kMaxDataBytes = 256 * 1024;  // per event
  static constexpr size_t kMaxLineBytes = 1 << 20;

  // Feeds body bytes that arrived at `now_us`. Completed events are appended to events().
  void Feed(std::string_view bytes, int64_t now_us);
  // Completes a last event not followed by a blank line (stream ended).
  void Finish(int64_t now_us);

  std::vector<SseEvent>& events() { return events_; }
  bool truncated() const { return truncated_; }

 private:
  void Line(std::string_view line, int64_t now_us);
  void Dispatch(int64_t now_us);

  std::vector<SseEvent> events_;
  std::string line_;
  std::string event_;
  std::string data_;
  bool has_data_ = false;
  bool truncated_ = false;
  bool skip_cr_lf_ = false;  // a '\r' ended the last line; a following '\n' belongs to it
};

// Parses ex.sse_capture into ex.sse_events / sse_events_truncated, exactly as if each captured
// chunk had been fed at its arrival time, and frees the capture. No-op without a capture.
void ParseSseCapture(Exchange& ex);

}  // namespace relaytap::recorder
