#pragma once
// The retry guard's in-session cap (off by default): in one realtime WebSocket session, after the
// server reported a failed response (`response.done` with status "failed", or beta
// `response.failed`), at most `max_creates_after_failure` further `response.create` messages are
// forwarded; the next ones are withheld (enforce) or only recorded (observe), and the app gets a
// realtime `error` event instead. A completed response ends the failure streak when
// `reset_on_success` is set. Pure: one object per session, used on that session's io thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/guard/policy.h"

namespace relaytap::proxy::guard {

// What a server message says about a response, as the recorder's correlator reads it.
enum class ServerResponseEvent { kNone, kFailed, kCompleted };
ServerResponseEvent ClassifyServerMessage(std::string_view payload);

// A client text message: is it a `response.create`, and its client `event_id` (if any).
struct ClientMessageFacts {
  bool response_create = false;
  std::optional<std::string> event_id;  // bounded to 128 characters
};
ClientMessageFacts ClassifyClientMessage(std::string_view payload);

struct SessionCapDecision {
  bool over_cap = false;  // the cap is exceeded for this response.create
  bool withhold = false;  // enforce mode and enforceable: do not forward it
  std::string reason;     // "session_cap" | "session_cap_unenforceable"; "" when !over_cap
  int failed_responses = 0;
  int creates_after_failure = 0;  // forwarded since the streak began (before this one)
  int max_creates_after_failure = 0;
  int withheld = 0;  // withheld so far in this session (including this one)
};

class SessionCap {
 public:
  SessionCap(SessionCapPolicy policy, GuardMode mode) : policy_(policy), mode_(mode) {}

  void OnServerMessage(std::string_view payload);
  // For each response.create the app sent. `enforceable`: withholding it would not corrupt the
  // server's inflate context.
  SessionCapDecision OnResponseCreate(bool enforceable);

  int failed_responses() const { return failed_responses_; }

 private:
  const SessionCapPolicy policy_;
  const GuardMode mode_;
  int failed_responses_ = 0;
  bool in_failure_streak_ = false;
  int creates_after_failure_ = 0;
  int withheld_ = 0;
};

// {"failed_responses":..,"creates_after_failure":..,"max_creates_after_failure":..,"withheld":..}
std::string SessionCapCountsJson(const SessionCapDecision& d);

// The realtime `error` event the app receives for a withheld response.create.
std::string SessionCapErrorEvent(const SessionCapDecision& d, std::string_view event_id,
                                 const std::optional<std::string>& client_event_id);

// `payload` as one unmasked, uncompressed, final text frame (as a server sends it).
std::string ServerTextFrame(std::string_view payload);

}  // namespace relaytap::proxy::guard
