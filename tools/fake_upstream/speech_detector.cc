#include "tools/fake_upstream/speech_detector.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace relaytap::tools::fake_upstream {
namespace {

double Rms(std::string_view window) {
  double sum = 0;
  size_t samples = window.size() / 2;
  for (size_t i = 0; i + 1 < window.size(); i += 2) {
    auto lo = static_cast<unsigned char>(window[i]);
    auto hi = static_cast<unsigned char>(window[i + 1]);
    auto v = static_cast<int16_t>(static_cast<uint16_t>(lo | (hi << 8)));
    sum += static_cast<double>(v) * static_cast<double>(v);
  }
  return samples == 0 ? 0 : std::sqrt(sum / static_cast<double>(samples));
}

}  // namespace

std::vector<SpeechEdge> SpeechDetector::Feed(std::string_view pcm) {
  std::vector<SpeechEdge> edges;
  if (!pending_.empty()) {
    size_t take = std::min(kWindowBytes - pending_.size(), pcm.size());
    pending_.insert(pending_.end(), pcm.begin(), pcm.begin() + static_cast<std::ptrdiff_t>(take));
    pcm.remove_prefix(take);
    if (pending_.size() < kWindowBytes) return edges;
    Window({pending_.data(), pending_.size()}, edges);
    pending_.clear();
  }
  while (pcm.size() >= kWindowBytes) {
    Window(pcm.substr(0, kWindowBytes), edges);
    pcm.remove_prefix(kWindowBytes);
  }
  pending_.assign(pcm.begin(), pcm.end());
  return edges;
}

void SpeechDetector::Window(std::string_view window, std::vector<SpeechEdge>& edges) {
  const uint64_t start_ms = windows_ * kWindowMs;
  ++windows_;
  const bool voiced = Rms(window) > settings_.threshold * 0.05 * 32768.0;
  if (voiced) {
    silence_ms_ = 0;
    last_voiced_end_ms_ = start_ms + kWindowMs;
    if (!in_speech_) {
      in_speech_ = true;
      uint64_t padded =
          start_ms > settings_.prefix_padding_ms ? start_ms - settings_.prefix_padding_ms : 0;
      edges.push_back({SpeechEdge::Kind::kStarted, padded});
    }
    return;
  }
  if (!in_speech_) return;
  silence_ms_ += kWindowMs;
  if (silence_ms_ >= settings_.silence_duration_ms) {
    in_speech_ = false;
    silence_ms_ = 0;
    edges.push_back({SpeechEdge::Kind::kStopped, last_voiced_end_ms_});
  }
}

void SpeechDetector::Reset() {
  in_speech_ = false;
  silence_ms_ = 0;
}

}  // namespace relaytap::tools::fake_upstream
