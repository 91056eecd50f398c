#include "recorder/sse_parser.h"

namespace relaytap::recorder {

void SseParser::Feed(std::string_view bytes, int64_t now_us) {
  for (char c : bytes) {
    if (skip_cr_lf_) {
      skip_cr_lf_ = false;
      if (c == '\n') continue;
    }
    if (c == '\r' || c == '\n') {
      skip_cr_lf_ = (c == '\r');
      Line(line_, now_us);
      line_.clear();
      continue;
    }
    if (line_.size() < kMaxLineBytes) {
      line_.push_back(c);
    } else {
      truncated_ = true;
    }
  }
}

void SseParser::Finish(int64_t now_us) {
  if (!line_.empty()) {
    Line(line_, now_us);
    line_.clear();
  }
  Dispatch(now_us);
}

// https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
void SseParser::Line(std::string_view line, int64_t now_us) {
  if (line.empty()) {
    Dispatch(now_us);
    return;
  }
  if (line.front() == ':') return;  // comment
  size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    has_data_ = true;
    size_t room = kMaxDataBytes > data_.size() ? kMaxDataBytes - data_.size() : 0;
    if (value.size() > room) truncated_ = true;
    data_.append(value.substr(0, room));
  } else if (field == "event") {
    event_.assign(value.substr(0, 256));
  }
}

void SseParser::Dispatch(int64_t now_us) {
  if (has_data_ || !event_.empty()) {
    if (events_.size() < kMaxEvents) {
      events_.push_back(SseEvent{now_us, std::move(event_), std::move(data_)});
    } else {
      truncated_ = true;
    }
  }
  event_.clear();
  data_.clear();
  has_data_ = false;
}

void ParseSseCapture(Exchange& ex) {
  SseCapture& c = ex.sse_capture;
  if (c.chunk_ends.empty() && c.end_us == 0) return;
  SseParser parser;
  size_t from = 0;
  for (const auto& [end, at_us] : c.chunk_ends) {
    parser.Feed(std::string_view(c.bytes).substr(from, end - from), at_us);
    from = end;
  }
  parser.Finish(c.end_us);
  ex.sse_events = std::move(parser.events());
  ex.sse_events_truncated = parser.truncated() || c.truncated;
  c = SseCapture{};
}

}  // namespace relaytap::recorder
