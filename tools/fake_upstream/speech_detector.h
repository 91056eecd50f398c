#pragma once
// The fake upstream's server VAD: a deterministic stand-in for the service's voice activity
// detection, so an app that streams audio sees speech_started / speech_stopped at places it can
// predict. Approximation, stated openly: 24 kHz PCM16 audio is cut into 10 ms windows, a window
// is voiced when its RMS exceeds `threshold` x 5% of full scale (the tone the fake sends is
// voiced at the default 0.5, silence is not), and speech stops after `silence_duration_ms` of
// unvoiced windows. Pure; owned by one session.

#include <cstdint>
#include <string_view>
#include <vector>

namespace relaytap::tools::fake_upstream {

struct VadSettings {
  double threshold = 0.5;
  uint64_t prefix_padding_ms = 300;
  uint64_t silence_duration_ms = 500;
};

struct SpeechEdge {
  enum class Kind { kStarted, kStopped };
  Kind kind;
  uint64_t audio_ms;  // audio_start_ms (prefix padding included) or audio_end_ms
};

class SpeechDetector {
 public:
  explicit SpeechDetector(VadSettings settings = {}) : settings_(settings) {}

  // Feeds PCM16 little-endian bytes; returns the edges they complete, in order.
  std::vector<SpeechEdge> Feed(std::string_view pcm);
  // Forgets a speech in progress (after a commit or clear); the audio clock keeps running.
  void Reset();
  void set_settings(VadSettings settings) { settings_ = settings; }

  bool in_speech() const { return in_speech_; }
  uint64_t position_ms() const { return windows_ * kWindowMs; }

 private:
  static constexpr uint64_t kWindowMs = 10;
  static constexpr size_t kWindowBytes = 480;  // 240 samples of 2 bytes

  void Window(std::string_view window, std::vector<SpeechEdge>& edges);

  VadSettings settings_;
  std::vector<char> pending_;  // bytes of an incomplete window
  uint64_t windows_ = 0;       // complete windows seen
  bool in_speech_ = false;
  uint64_t silence_ms_ = 0;  // unvoiced time since the last voiced window, in speech
  uint64_t last_voiced_end_ms_ = 0;
};

}  // namespace relaytap::tools::fake_upstream
