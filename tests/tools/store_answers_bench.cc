// How long `relaytap stats`, `report`, `diff` and `export --har` take on a store at incident
// scale (default 1,000,000 events, written by the real recorder; see store_scale.h), through the
// same library calls the commands make, from opening the store to the formatted text. The
// floor they are compared with, in the same run: one SQLite scan of every event row
// (`x_scan` = the command's time / the scan's time).
//
//   build/release/tests/tools/store_answers_bench                  # 1,000,000 events
//   build/release/tests/tools/store_answers_bench --events 20000   # the ctest smoke run
//   ... --db FILE   keep (and reuse) the generated store at FILE
//
// Exit status 1 when a command fails on the store (the smoke run's check), never on a figure.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "recorder/query/store_reader.h"
#include "tests/tools/store_scale.h"
#include "tools/diff/diff.h"
#include "tools/har/har.h"
#include "tools/report/report.h"
#include "tools/stats/stats.h"

namespace relaytap::testing {
namespace {

using recorder::query::StoreReader;

std::string g_db;
double g_scan_s = 0;  // seconds of one scan of the events table
bool g_failed = false;

// One full read of the events table: every row's sizes and type, the least any answer over
// every event has to do.
double ScanEventsSeconds() {
  const auto start = std::chrono::steady_clock::now();
  sqlite3* db = nullptr;
  sqlite3_open_v2(g_db.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT SUM(wire_bytes), SUM(LENGTH(type)) FROM events", -1, &st, nullptr);
  if (sqlite3_step(st) != SQLITE_ROW) g_failed = true;
  benchmark::DoNotOptimize(sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::unique_ptr<StoreReader> OpenOrFail(benchmark::State& state) {
  auto reader = StoreReader::Open(g_db);
  if (!reader.ok()) {
    g_failed = true;
    state.SkipWithError(std::string(reader.status().message()).c_str());
    return nullptr;
  }
  return std::move(*reader);
}

void Fail(benchmark::State& state, const absl::Status& st) {
  g_failed = true;
  state.SkipWithError(std::string(st.message()).c_str());
}

// The command's figures: its output's size and its time per run over the scan's.
void Report(benchmark::State& state, size_t out_bytes,
            std::chrono::steady_clock::time_point start) {
  const double per_run =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
      static_cast<double>(state.iterations());
  state.counters["out_kB"] = static_cast<double>(out_bytes) / 1e3;
  state.counters["x_scan"] = per_run / g_scan_s;
}

void BM_ScanEvents(benchmark::State& state) {
  for (auto _ : state) ScanEventsSeconds();
}

void BM_Stats(benchmark::State& state) {
  size_t out = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    auto reader = OpenOrFail(state);
    if (!reader) return;
    auto attempts = reader->Attempts({});
    if (!attempts.ok()) return Fail(state, attempts.status());
    out = tools::stats::FormatJson(
              tools::stats::Compute(*attempts, tools::stats::GroupBy::kHour, absl::UTCTimeZone()))
              .size();
  }
  Report(state, out, start);
}

void BM_Report(benchmark::State& state) {
  size_t out = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    auto reader = OpenOrFail(state);
    if (!reader) return;
    auto r = tools::report::BuildReport(*reader, {}, absl::UTCTimeZone(), "");
    if (!r.ok()) return Fail(state, r.status());
    out = tools::report::FormatMarkdown(*r, absl::UTCTimeZone()).size();
  }
  Report(state, out, start);
}

void BM_Diff(benchmark::State& state) {
  auto good = tools::diff::Selector::Parse("outcome=ok");
  auto bad = tools::diff::Selector::Parse("outcome!=ok");
  size_t out = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    auto reader = OpenOrFail(state);
    if (!reader) return;
    auto profiles = reader->Profiles({});
    if (!profiles.ok()) return Fail(state, profiles.status());
    std::vector<recorder::query::Profile> g, b;
    for (const auto& p : *profiles) {
      if (good->Matches(p)) g.push_back(p);
      if (bad->Matches(p)) b.push_back(p);
    }
    out = tools::diff::FormatJson(tools::diff::Compare(g, b)).size();
  }
  Report(state, out, start);
}

void BM_ExportHar(benchmark::State& state) {
  size_t out = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    auto reader = OpenOrFail(state);
    if (!reader) return;
    auto har = tools::har::ExportHar(*reader, {}, "bench");
    if (!har.ok()) return Fail(state, har.status());
    out = har->size();
  }
  Report(state, out, start);
}

BENCHMARK(BM_ScanEvents)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_Stats)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_Report)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_Diff)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_ExportHar)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
}  // namespace relaytap::testing

int main(int argc, char** argv) {
  using namespace relaytap::testing;
  int64_t events = 1'000'000;
  std::string db;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
      events = std::atoll(argv[++i]);
    } else if (std::strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
      db = argv[++i];
    } else {
      rest.push_back(argv[i]);
    }
  }
  const bool keep = !db.empty();
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("relaytap_store_bench_" + std::to_string(getpid()));
  fs::create_directories(dir);
  if (db.empty()) db = (dir / "store.db").string();
  g_db = db;
  if (!fs::exists(db)) {
    const auto start = std::chrono::steady_clock::now();
    const ScaleMix mix = RecordScaleMix(db, (dir / "keys").string(), SessionsFor(events));
    std::printf(
        "store: %lld events, %lld sessions (%lld failed), %lld throttled upgrades, %lld chats; "
        "recorded in %.1f s; %.1f MB\n",
        static_cast<long long>(mix.events), static_cast<long long>(mix.sessions),
        static_cast<long long>(mix.failed_sessions), static_cast<long long>(mix.throttled_upgrades),
        static_cast<long long>(mix.chats),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
        static_cast<double>(fs::file_size(db)) / 1e6);
  }
  ScanEventsSeconds();  // warm the page cache, as a second command run would find it
  g_scan_s = ScanEventsSeconds();
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (!keep) fs::remove_all(dir);
  if (g_failed) std::fprintf(stderr, "store_answers_bench: a command failed on the store\n");
  return g_failed ? 1 : 0;
}
