// Events per second from Sink::TrySubmit to committed SQLite rows, with a realistic realtime
// mix: per turn ~40 audio deltas of ~8 KB (base64 of 6 KB pcm16 = 125 ms), ~10 transcript
// deltas and a few lifecycle events, plus client audio appends.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <filesystem>

#include "gtest/gtest.h"
#include "recorder/recorder.h"
#include "tests/recorder/test_util.h"

namespace relaytap::recorder {
namespace {

// CPU seconds of the whole process (every thread: the producer and the writer) so far.
double ProcessCpuSeconds() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::vector<std::string> Mix() {
  std::vector<std::string> m;
  std::string audio = testing::Base64(6000, 'k');
  m.push_back(
      R"({"type":"response.created","event_id":"event_1","response":{"id":"resp_1","status":"in_progress"}})");
  for (int i = 0; i < 40; ++i) {
    m.push_back(
        R"({"type":"response.output_audio.delta","event_id":"event_a","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,"delta":")" +
        audio + "\"}");
    if (i % 4 == 0) {
      m.push_back(
          R"({"type":"response.output_audio_transcript.delta","event_id":"event_t","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,"delta":"hello there "})");
    }
  }
  for (int i = 0; i < 8; ++i) {
    m.push_back(R"({"type":"input_audio_buffer.append","event_id":"evt_x","audio":")" + audio +
                "\"}");
  }
  m.push_back(
      R"({"type":"response.done","event_id":"event_9","response":{"id":"resp_1","status":"completed","usage":{"total_tokens":120}}})");
  return m;
}

void BM_RecorderEventsIntoSqlite(benchmark::State& state) {
  std::string dir = "/tmp/relaytap_recorder_bench_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<std::string> mix = Mix();
  uint64_t events = 0, bytes = 0;
  const double cpu_start = ProcessCpuSeconds();
  for (auto _ : state) {
    RecorderOptions o;
    o.db_path = dir + "/bench.db";
    o.key_dir = dir + "/ca";
    o.queue_max_bytes = 1ull << 30;  // measure the writer, not drops
    auto rec = Recorder::Open(o);
    if (!rec.ok()) {
      state.SkipWithError("open failed");
      return;
    }
    const int kSessions = 8, kTurns = 5;
    for (int s = 0; s < kSessions; ++s) {
      uint64_t seq = 0;
      for (int t = 0; t < kTurns; ++t) {
        for (const std::string& p : mix) {
          ++seq;
          WsDirection d = p.find("input_audio") != std::string::npos ? WsDirection::kClientToServer
                                                                     : WsDirection::kServerToClient;
          bytes += p.size();
          if (!(*rec)->TrySubmit(testing::Text(uint64_t(s + 1), seq, d, int64_t(seq), p))) {
            state.SkipWithError("dropped");
          }
          ++events;
        }
      }
      (*rec)->TrySubmit(testing::Closed(uint64_t(s + 1), 1));
    }
    (void)(*rec)->Close();  // includes the full drain and commit
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  // CPU per event of the producer + writer: what recording costs a 2-core machine, whatever
  // the wall clock does under contention.
  state.counters["cpu_us_per_event"] =
      events ? (ProcessCpuSeconds() - cpu_start) * 1e6 / static_cast<double>(events) : 0;
  state.counters["MB_per_s"] =
      benchmark::Counter(static_cast<double>(bytes) / 1e6, benchmark::Counter::kIsRate);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RecorderEventsIntoSqlite)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace relaytap::recorder

BENCHMARK_MAIN();
