#include "tools/probe/probe.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>
#include <thread>

#include "base/str_cat.h"
#include "proxy/tls/contexts.h"
#include "tools/probe/stages.h"
#include "tools/probe/ws_stages.h"

namespace relaytap::tools::probe {

int64_t MsSince(std::chrono::steady_clock::time_point t0) {
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
}

std::string StringAt(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

namespace {

using Clock = std::chrono::steady_clock;

StageResult Skipped(Stage stage, std::string why) {
  return StageResult{stage, Status::kSkipped, 0, nlohmann::json::object(), std::move(why)};
}

bool Failed(const std::vector<StageResult>& stages) {
  return !stages.empty() && stages.back().status == Status::kFailed;
}

// The stages in order; each runs only while all before it passed (or were not applicable).
net::awaitable<void> RunStages(const ProbeOptions& o, ssl::context& ctx,
                               std::vector<StageResult>& out) {
  Connection c;
  out.push_back(co_await DnsStage(o, c));
  if (!Failed(out)) out.push_back(co_await TcpStage(o, c));
  if (!Failed(out)) out.push_back(co_await TlsStage(o, ctx, c));
  if (!Failed(out)) out.push_back(co_await HttpsStage(o, c));
  if (Failed(out) || !o.url.websocket()) co_return;
  // The upgrade goes on a fresh connection: the GET's may have been closed by the server.
  if (std::string error = co_await Reconnect(o, ctx, c); !error.empty()) {
    out.push_back(StageResult{Stage::kWebSocket, Status::kFailed, 0, nlohmann::json::object(),
                              StrCat("reconnecting for the upgrade: ", error)});
    co_return;
  }
  co_await WebSocketStages(o, c, out);
}

// Every stage gets a row: those that did not run are skipped, saying why.
void FillSkipped(const ProbeOptions& o, std::vector<StageResult>& stages) {
  std::vector<StageResult> all;
  bool failed = false;
  for (Stage stage : kAllStages) {
    auto it = std::find_if(stages.begin(), stages.end(),
                           [&](const StageResult& s) { return s.stage == stage; });
    if (it != stages.end()) {
      failed = failed || it->status == Status::kFailed;
      all.push_back(*it);
    } else if (failed) {
      all.push_back(Skipped(stage, "after a failed stage"));
    } else if (!o.url.websocket() && (stage == Stage::kWebSocket || stage == Stage::kRealtime)) {
      all.push_back(Skipped(stage, "not a WebSocket URL"));
    } else {
      all.push_back(Skipped(stage, "not asked for (--realtime)"));
    }
  }
  stages = std::move(all);
}

}  // namespace

RunResult RunProbe(const ProbeOptions& o) {
  RunResult result;
  result.start_us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  result.url = RedactedUrl(o.url);
  const auto t0 = Clock::now();
  std::optional<std::filesystem::path> roots;
  if (o.ca_file) roots = std::filesystem::path(*o.ca_file);
  auto ctx = proxy::tls::MakeUpstreamContext(roots);
  if (!ctx.ok()) {
    result.stages.push_back(StageResult{Stage::kTls, Status::kFailed, 0, nlohmann::json::object(),
                                        std::string(ctx.status().message())});
  } else {
    net::io_context ioc;
    std::exception_ptr error;
    net::co_spawn(ioc, RunStages(o, **ctx, result.stages),
                  [&](std::exception_ptr e) { error = e; });
    ioc.run();
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        result.stages.push_back(StageResult{Stage::kDns, Status::kFailed, 0,
                                            nlohmann::json::object(),
                                            StrCat("internal error: ", e.what())});
      }
    }
  }
  FillSkipped(o, result.stages);
  result.total_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  return result;
}

std::vector<RunResult> RunRepeated(const ProbeOptions& options, int repeat,
                                   std::chrono::milliseconds interval) {
  std::vector<RunResult> runs;
  for (int i = 0; i < repeat; ++i) {
    if (i > 0) std::this_thread::sleep_for(interval);
    runs.push_back(RunProbe(options));
  }
  return runs;
}

}  // namespace relaytap::tools::probe
