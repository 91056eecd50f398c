#include "proxy/http/sse_parser.h"

namespace relaytap::proxy::http_relay {

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
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
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
      events_.push_back(recorder::SseEvent{now_us, std::move(event_), std::move(data_)});
    } else {
      truncated_ = true;
    }
  }
  event_.clear();
  data_.clear();
  has_data_ = false;
}

}  // namespace relaytap::proxy::http_relay
