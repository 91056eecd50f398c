#include "tools/fake_upstream/response_plan.h"

#include <algorithm>

#include "tools/fake_upstream/payloads.h"
#include "tools/fake_upstream/realtime_events.h"
#include "tools/fake_upstream/util.h"

namespace relaytap::tools::fake_upstream {
namespace {

using std::chrono::milliseconds;

constexpr size_t kBurstDeltas = 5;
constexpr size_t kBurstAudioBytes = 4608;  // 96 ms of PCM16 at 24 kHz; 6144 base64 characters
constexpr uint64_t kPcmBytesPerMs = 48;

// "Hello there, friend" -> {"Hello", " there,", " friend"}.
std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ' ') {
      out.push_back(text.substr(start, i - start));
      start = i;
    }
  }
  if (out.empty()) out.emplace_back();
  return out;
}

struct Plan {
  std::vector<PlanStep> steps;
  std::vector<size_t> audio_steps;  // indices of the audio deltas

  void Send(std::string payload, milliseconds delay = milliseconds(0)) {
    steps.push_back({PlanStep::Kind::kSend, delay, std::move(payload)});
  }
  void Audio(const RealtimeResponseIds& ids, uint64_t first_sample, size_t bytes,
             milliseconds delay) {
    audio_steps.push_back(steps.size());
    Send(AudioDeltaEvent(ids, Base64(Pcm16Tone(first_sample, bytes))), delay);
  }
};

// A text-only response: the words of `say` as text deltas, `delta` apart when paced.
Plan TextPlan(const ResponseRequest& r, bool failed) {
  const bool paced = r.shape.pacing == Pacing::kRealtime;
  Plan plan;
  plan.Send(ResponseCreatedEvent(r.ids, /*text_only=*/true));
  if (paced) {
    plan.Send(RateLimitsUpdatedEvent(19999, 799000, 0.003));
    plan.Send(OutputItemAddedEvent(r.ids));
    plan.Send(ContentPartAddedEvent(r.ids, /*text=*/true));
  }
  const std::vector<std::string> words = Words(r.say);
  const size_t sent = failed ? words.size() / 2 : words.size();
  for (size_t k = 0; k < sent; ++k) {
    plan.Send(TextDeltaEvent(r.ids, words[k]), paced && k > 0 ? r.shape.delta : milliseconds(0));
  }
  if (failed) {
    plan.Send(ResponseDoneEvent(r.ids, true, r.say, /*text_only=*/true));
    return plan;
  }
  if (paced) {
    plan.Send(TextDoneEvent(r.ids, r.say));
    plan.Send(ContentPartDoneEvent(r.ids, r.say, /*text=*/true));
    plan.Send(OutputItemDoneEvent(r.ids, r.say, /*text=*/true));
  }
  plan.Send(ResponseDoneEvent(r.ids, false, r.say, /*text_only=*/true));
  return plan;
}

Plan BurstPlan(const ResponseRequest& r, bool failed) {
  Plan plan;
  plan.Send(ResponseCreatedEvent(r.ids));
  if (failed) {
    plan.Send(ResponseDoneEvent(r.ids, true));
    return plan;
  }
  for (size_t i = 0; i < kBurstDeltas; ++i) {
    plan.Audio(r.ids, i * kBurstAudioBytes / 2, kBurstAudioBytes, milliseconds(0));
  }
  const size_t half = r.say.size() / 2;
  plan.Send(TranscriptDeltaEvent(r.ids, r.say.substr(0, half)));
  plan.Send(TranscriptDeltaEvent(r.ids, r.say.substr(half)));
  plan.Send(ResponseDoneEvent(r.ids, false, r.say));
  return plan;
}

Plan RealtimePlan(const ResponseRequest& r, bool failed) {
  Plan plan;
  plan.Send(ResponseCreatedEvent(r.ids));
  plan.Send(RateLimitsUpdatedEvent(19999, 799000, 0.003));
  plan.Send(OutputItemAddedEvent(r.ids));
  plan.Send(ContentPartAddedEvent(r.ids));
  const size_t n = RealtimeDeltaCount(r.shape);
  const size_t bytes = static_cast<size_t>(r.shape.delta.count()) * kPcmBytesPerMs;
  const std::vector<std::string> words = Words(r.say);
  size_t next_word = 0;
  const size_t sent_deltas = failed ? std::max<size_t>(1, n / 3) : n;
  for (size_t k = 0; k < sent_deltas; ++k) {
    plan.Audio(r.ids, k * bytes / 2, bytes, k == 0 ? milliseconds(0) : r.shape.delta);
    // Spread the transcript over the audio, as the service interleaves them.
    while (next_word < words.size() && next_word * n <= k * words.size()) {
      plan.Send(TranscriptDeltaEvent(r.ids, words[next_word++]));
    }
  }
  if (failed) {
    plan.Send(ResponseDoneEvent(r.ids, true));
    return plan;
  }
  while (next_word < words.size()) plan.Send(TranscriptDeltaEvent(r.ids, words[next_word++]));
  plan.Send(AudioDoneEvent(r.ids));
  plan.Send(TranscriptDoneEvent(r.ids, r.say));
  plan.Send(ContentPartDoneEvent(r.ids, r.say));
  plan.Send(OutputItemDoneEvent(r.ids, r.say));
  plan.Send(ResponseDoneEvent(r.ids, false, r.say));
  return plan;
}

// The step at which a mid-response fault strikes: right after half of the audio deltas.
size_t MidPoint(const Plan& plan) {
  if (plan.audio_steps.empty()) return plan.steps.size() / 2;
  return plan.audio_steps[plan.audio_steps.size() / 2];
}

}  // namespace

size_t RealtimeDeltaCount(const StreamShape& shape) {
  if (shape.delta.count() <= 0) return 1;
  return std::max<size_t>(1, static_cast<size_t>(shape.audio.count() / shape.delta.count()));
}

std::vector<PlanStep> PlanResponse(const ResponseRequest& r) {
  if (r.fault == Fault::kErrorEvent) {
    return {{PlanStep::Kind::kSend, milliseconds(0), ServerErrorEvent(r.ids.session_id)}};
  }
  if (r.fault == Fault::kRateLimited) {
    double reset = static_cast<double>(r.params.retry_after.count()) / 1000.0;
    Plan plan;
    plan.Send(ResponseCreatedEvent(r.ids));
    plan.Send(RateLimitsUpdatedEvent(19998, 0, reset));
    plan.Send(RateLimitedResponseDone(r.ids, r.params.retry_after));
    return std::move(plan.steps);
  }
  bool failed = r.fault == Fault::kResponseFailed;
  Plan plan = r.text_only                        ? TextPlan(r, failed)
              : r.shape.pacing == Pacing::kBurst ? BurstPlan(r, failed)
                                                 : RealtimePlan(r, failed);
  switch (r.fault) {
    case Fault::kReset: {
      size_t mid = MidPoint(plan);
      plan.steps.resize(mid);
      plan.steps.push_back({PlanStep::Kind::kReset, milliseconds(0), ""});
      break;
    }
    case Fault::kStall:
      plan.steps[MidPoint(plan)].delay += r.params.stall;
      break;
    case Fault::kDrip:
      for (size_t i = 1; i < plan.steps.size(); ++i) {
        plan.steps[i].delay = std::max(plan.steps[i].delay, r.params.drip);
      }
      break;
    default:
      break;
  }
  return std::move(plan.steps);
}

}  // namespace relaytap::tools::fake_upstream
