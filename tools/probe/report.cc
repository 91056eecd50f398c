#include "tools/probe/report.h"

#include <algorithm>
#include <cstdio>

#include "base/str_cat.h"

namespace relaytap::tools::probe {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

std::string HeadersText(const json& headers) {
  std::string out;
  for (auto it = headers.begin(); it != headers.end(); ++it) {
    out += StrCat(" ", it.key(), "=", it.value().get<std::string>());
  }
  return out;
}

// The one-line summary of a stage's details for the checklist.
std::string DetailText(const StageResult& s) {
  const json& d = s.detail;
  switch (s.stage) {
    case Stage::kDns: {
      std::string out = StrCat(StringAt(d, "host"), " ->");
      if (d.contains("addresses")) {
        for (const json& a : d["addresses"]) out += StrCat(" ", a.get<std::string>());
      }
      return StrCat(out, d.contains("via_proxy") ? " (the proxy; it resolves the URL's host)" : "");
    }
    case Stage::kTcp: {
      std::string out = StrCat("connected to ", StringAt(d, "connected_to"));
      if (d.contains("proxy_connect")) {
        out += StrCat(", CONNECT ", StringAt(d["proxy_connect"], "target"), " -> ",
                      d["proxy_connect"]["status"].dump());
      }
      return out;
    }
    case Stage::kTls: {
      if (!d.contains("version")) return "";
      std::string out = StrCat(StringAt(d, "version"), " ", StringAt(d, "cipher"),
                               " alpn=", StringAt(d, "alpn").empty() ? "none" : StringAt(d, "alpn"),
                               d.value("verified", false) ? ", verified" : ", NOT verified");
      if (!d["chain"].empty()) {
        out += StrCat("; leaf ", StringAt(d["chain"][0], "subject"), " issued by ",
                      StringAt(d["chain"][0], "issuer"));
      }
      return StrCat(out, "; expires ", StringAt(d, "leaf_not_after"));
    }
    case Stage::kHttps:
    case Stage::kWebSocket: {
      if (!d.contains("status")) return "";
      std::string out = StrCat("HTTP ", d["status"].dump());
      if (d.contains("headers")) out += HeadersText(d["headers"]);
      if (!StringAt(d, "subprotocol").empty())
        out += StrCat(" subprotocol=", StringAt(d, "subprotocol"));
      if (!StringAt(d, "extensions").empty())
        out += StrCat(" extensions=", StringAt(d, "extensions"));
      if (!StringAt(d, "note").empty()) out += StrCat(" (", StringAt(d, "note"), ")");
      return out;
    }
    case Stage::kRealtime: {
      std::string out = StrCat("session ", StringAt(d, "session_id"), " response ",
                               StringAt(d, "response_id"), " ", StringAt(d, "response_status"));
      if (!StringAt(d, "apim_request_id").empty())
        out += StrCat(" apim-request-id ", StringAt(d, "apim_request_id"));
      if (d.contains("events")) {
        out += StrCat("; ", d["events"].size(), " events:");
        for (const json& e : d["events"]) {
          out += StrCat(" ", StringAt(e, "type"), "@", e["ms"].dump(), "ms");
        }
      }
      return out;
    }
  }
  return "";
}

int64_t Percentile(std::vector<int64_t> sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

void AppendRunText(const RunResult& run, std::string& out) {
  for (const StageResult& s : run.stages) {
    char head[64];
    std::snprintf(head, sizeof(head), "  [%s] %-9s %6lld ms  ",
                  s.status == Status::kOk       ? "x"
                  : s.status == Status::kFailed ? "!"
                                                : " ",
                  std::string(StageName(s.stage)).c_str(), static_cast<long long>(s.ms));
    std::string line = StrCat(head, StatusName(s.status));
    std::string detail = s.detail.empty() ? "" : DetailText(s);
    if (!detail.empty()) line += StrCat(": ", detail);
    if (!s.error.empty())
      line += StrCat(s.status == Status::kFailed ? "\n      error: " : " (", s.error,
                     s.status == Status::kFailed ? "" : ")");
    out += line + "\n";
  }
  std::optional<Stage> failed = run.failed_stage();
  out += failed ? StrCat("  verdict: FAILED at ", StageName(*failed), " (", run.total_ms, " ms)\n")
                : StrCat("  verdict: OK (", run.total_ms, " ms)\n");
}

}  // namespace

ojson RunJson(const RunResult& run) {
  ojson stages = ojson::array();
  for (const StageResult& s : run.stages) {
    stages.push_back({{"name", StageName(s.stage)},
                      {"status", StatusName(s.status)},
                      {"ms", s.ms},
                      {"detail", ojson::parse(s.detail.dump())},
                      {"error", s.error.empty() ? ojson(nullptr) : ojson(s.error)}});
  }
  std::optional<Stage> failed = run.failed_stage();
  return {{"url", run.url},
          {"verdict", failed ? "failed" : "ok"},
          {"failed_stage", failed ? ojson(StageName(*failed)) : ojson(nullptr)},
          {"ms", run.total_ms},
          {"stages", stages}};
}

ojson SummaryJson(const std::vector<RunResult>& runs) {
  std::vector<int64_t> ms;
  int failed = 0;
  for (const RunResult& r : runs) {
    if (r.ok()) {
      ms.push_back(r.total_ms);
    } else {
      ++failed;
    }
  }
  std::sort(ms.begin(), ms.end());
  ojson latency = ojson::object();
  if (!ms.empty()) {
    int64_t sum = 0;
    for (int64_t v : ms) sum += v;
    latency = {{"min", ms.front()},
               {"p50", Percentile(ms, 0.5)},
               {"p95", Percentile(ms, 0.95)},
               {"max", ms.back()},
               {"mean", sum / static_cast<int64_t>(ms.size())}};
  }
  return {
      {"ok", static_cast<int>(runs.size()) - failed}, {"failed", failed}, {"latency_ms", latency}};
}

std::string FormatJson(const std::vector<RunResult>& runs) {
  if (runs.size() == 1) return RunJson(runs[0]).dump(2) + "\n";
  ojson all = ojson::array();
  for (const RunResult& r : runs) all.push_back(RunJson(r));
  return ojson{{"runs", all}, {"summary", SummaryJson(runs)}}.dump(2) + "\n";
}

std::string FormatText(const std::vector<RunResult>& runs, const std::string& stamp) {
  std::string out;
  if (runs.empty()) return out;
  out += StrCat("relaytap probe ", runs[0].url, "  (", stamp, ")\n");
  for (size_t i = 0; i < runs.size(); ++i) {
    if (runs.size() > 1) out += StrCat("run ", i + 1, " of ", runs.size(), "\n");
    AppendRunText(runs[i], out);
  }
  if (runs.size() > 1) {
    ojson s = SummaryJson(runs);
    out += StrCat("summary: ", s["ok"].dump(), " ok, ", s["failed"].dump(), " failed");
    if (!s["latency_ms"].empty()) {
      out += StrCat("; ok runs took min ", s["latency_ms"]["min"].dump(), " / p50 ",
                    s["latency_ms"]["p50"].dump(), " / p95 ", s["latency_ms"]["p95"].dump(),
                    " / max ", s["latency_ms"]["max"].dump(), " ms");
    }
    out += "\n";
  }
  return out;
}

}  // namespace relaytap::tools::probe
