#include "tools/probe/record.h"

#include "tools/probe/report.h"

namespace relaytap::tools::probe {
namespace {

// The first string under `key` in a stage's detail or in one of its objects, the last stage
// first (the realtime flow's ids are the most specific).
std::string FindId(const RunResult& run, std::initializer_list<const char*> keys) {
  for (auto it = run.stages.rbegin(); it != run.stages.rend(); ++it) {
    const nlohmann::json& d = it->detail;
    if (!d.is_object()) continue;
    for (const char* key : keys) {
      if (auto f = d.find(key); f != d.end() && f->is_string()) return f->get<std::string>();
      for (const auto& [name, value] : d.items()) {
        if (!value.is_object()) continue;
        if (auto f = value.find(key); f != value.end() && f->is_string()) {
          return f->get<std::string>();
        }
      }
    }
  }
  return "";
}

}  // namespace

std::vector<recorder::LocalCheckRow> LocalCheckRowsOf(const ProbeUrl& url,
                                                      const std::vector<RunResult>& runs) {
  std::vector<recorder::LocalCheckRow> rows;
  rows.reserve(runs.size());
  for (const RunResult& run : runs) {
    recorder::LocalCheckRow r;
    r.run_us = run.start_us;
    r.tool = "probe";
    r.url = run.url;
    r.host = url.host;
    r.ok = run.ok();
    if (const std::optional<Stage> failed = run.failed_stage()) {
      r.failed_stage = std::string(StageName(*failed));
    }
    r.ms = run.total_ms;
    r.stages =
        RunJson(run)["stages"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    r.session_id = FindId(run, {"session_id"});
    r.response_id = FindId(run, {"response_id"});
    r.apim_request_id = FindId(run, {"apim_request_id", "apim-request-id"});
    rows.push_back(std::move(r));
  }
  return rows;
}

absl::Status RecordRuns(const std::string& db_path, const ProbeUrl& url,
                        const std::vector<RunResult>& runs) {
  return recorder::AppendLocalChecks(db_path, LocalCheckRowsOf(url, runs));
}

}  // namespace relaytap::tools::probe
