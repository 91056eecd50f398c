#pragma once
// Pure helpers of the load generator: latency percentiles, the benchmark's realtime message
// (an input_audio_buffer.append with a sequence number in its event_id) and /proc readings of
// the process under test.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relaytap::tools::bench {

// Collects latencies in nanoseconds; percentiles by nearest rank over a sorted copy.
class Latencies {
 public:
  void Add(int64_t ns) {
    values_.push_back(ns);
    sorted_ = false;
  }
  void Merge(const Latencies& other);
  size_t count() const { return values_.size(); }
  size_t CountAbove(int64_t ns) const;
  // p in [0, 100]; 0 when empty.
  int64_t Percentile(double p) const;
  int64_t Max() const;

 private:
  std::vector<int64_t> values_;
  mutable bool sorted_ = true;
};

// Bytes of random audio per append: 4800 bytes = 100 ms of 24 kHz 16-bit mono, 6400 base64 chars.
inline constexpr size_t kAudioBytes = 4800;

// The append event with a fixed-width `event_id` "evt_<session 6>_<seq 9>" so every message of a
// run has the same size; `audio_base64` is shared by all messages.
std::string AppendMessage(uint32_t session, uint64_t seq, std::string_view audio_base64);
// The sequence number of a message built by AppendMessage (an echo of it), or nullopt.
std::optional<uint64_t> ParseSeq(std::string_view message);

std::string Base64(std::string_view data);

// VmRSS of `pid` in KiB, or nullopt if unreadable.
std::optional<int64_t> ReadRssKib(pid_t pid);
// utime + stime of `pid` in seconds (from /proc/<pid>/stat), or nullopt if unreadable.
std::optional<double> ReadCpuSeconds(pid_t pid);
// Parses the text of /proc/<pid>/stat (exposed for tests).
std::optional<double> ParseStatCpuSeconds(std::string_view stat, long ticks_per_second);
// Parses the text of /proc/<pid>/status (exposed for tests).
std::optional<int64_t> ParseStatusRssKib(std::string_view status);

}  // namespace relaytap::tools::bench
