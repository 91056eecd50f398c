// Bytes per realtime session-hour at audio cadence, and the writer's CPU per message, through
// the real recorder: once with one row per message (audio runs off, as before schema version 5)
// and once with runs of audio events. `--sessions N` (default 20) sessions of `--seconds S`
// (default 34) each, `--jitter-us J` moves each audio message by up to +-J us; `--smoke` records
// one session and checks behaviour only (runs make the store smaller and count the same messages),
// never time. `--keep DIR` leaves both stores in DIR.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "recorder/recorder.h"
#include "tests/recorder/audio_cadence.h"
#include "tests/recorder/test_util.h"

namespace relaytap::recorder {
namespace {

constexpr int64_t kT0 = 1'752'566'400'000'000;  // 2025-07-15T08:00:00Z

double ProcessCpuSeconds() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Result {
  double bytes = 0;
  double cpu_s = 0;
  int64_t messages = 0;
  std::string counted;  // SUM(messages_up), SUM(messages_down), SUM(bytes_up + bytes_down)
  std::string rows;     // COUNT(*) of events
};

// Records `sessions` sessions into a fresh store in `dir`; the observations are built before
// the recorder opens, so the CPU measured is the recorder's (queue, writer, SQLite).
Result Record(const std::string& dir, bool runs, int sessions, int seconds, int64_t jitter_us) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<testing::CadenceSession> traffic;
  Result r;
  for (int s = 0; s < sessions; ++s) {
    traffic.push_back(testing::AudioCadenceSession(static_cast<uint64_t>(s + 1),
                                                   kT0 + int64_t{s} * (seconds + 1) * 1'000'000,
                                                   seconds, jitter_us));
    r.messages += traffic.back().messages;
  }
  RecorderOptions o;
  o.db_path = dir + "/relaytap.db";
  o.key_dir = dir + "/ca";
  o.queue_max_bytes = 4ull << 30;  // measure the store, not drops
  o.audio_runs = runs;
  const double cpu0 = ProcessCpuSeconds();
  auto rec = Recorder::Open(o);
  if (!rec.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(rec.status().message()).c_str());
    std::exit(2);
  }
  for (auto& session : traffic) {
    for (auto& obs : session.observations) {
      if (!(*rec)->TrySubmit(std::move(obs))) {
        std::fprintf(stderr, "the recorder dropped an observation\n");
        std::exit(2);
      }
    }
  }
  if (!(*rec)->Close().ok()) std::exit(2);
  r.cpu_s = ProcessCpuSeconds() - cpu0;
  r.bytes = static_cast<double>(std::filesystem::file_size(o.db_path));
  r.counted = testing::Query(o.db_path,
                             "SELECT SUM(messages_up), SUM(messages_down), "
                             "SUM(bytes_up + bytes_down) FROM ws_sessions")[0];
  r.rows = testing::Query(o.db_path, "SELECT COUNT(*) FROM events")[0];
  return r;
}

void Print(const char* name, const Result& r, int sessions, int seconds) {
  const double hours = sessions * seconds / 3600.0;
  std::printf(
      "%-9s %8.2f MB/session-hour  %6.2f us writer CPU/message  %s events rows  "
      "(%d sessions x %d s, %lld messages, %.0f bytes)\n",
      name, r.bytes / hours / 1e6, r.cpu_s * 1e6 / static_cast<double>(r.messages), r.rows.c_str(),
      sessions, seconds, static_cast<long long>(r.messages), r.bytes);
}

int Main(int argc, char** argv) {
  int sessions = 20, seconds = 34;
  int64_t jitter_us = 0;
  bool smoke = false;
  std::string keep;  // --keep DIR: leave the two stores in DIR/off and DIR/on
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--smoke")) smoke = true;
    if (!std::strcmp(argv[i], "--sessions") && i + 1 < argc) sessions = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--keep") && i + 1 < argc) keep = argv[++i];
    if (!std::strcmp(argv[i], "--jitter-us") && i + 1 < argc) jitter_us = std::atoll(argv[++i]);
  }
  if (smoke) sessions = 1;
  const std::string dir =
      keep.empty() ? "/tmp/relaytap_audio_runs_bench_" + std::to_string(getpid()) : keep;
  Result off = Record(dir + "/off", false, sessions, seconds, jitter_us);
  Result on = Record(dir + "/on", true, sessions, seconds, jitter_us);
  if (keep.empty()) std::filesystem::remove_all(dir);
  Print("runs off", off, sessions, seconds);
  Print("runs on", on, sessions, seconds);
  if (on.counted != off.counted || on.bytes >= off.bytes / 5) {
    std::fprintf(stderr, "FAIL: counted %s vs %s, %.0f vs %.0f bytes\n", on.counted.c_str(),
                 off.counted.c_str(), on.bytes, off.bytes);
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace relaytap::recorder

int main(int argc, char** argv) { return relaytap::recorder::Main(argc, argv); }
