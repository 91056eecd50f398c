#include "metrics/exposition.h"

#include <cstdio>
#include <span>
#include <string_view>

#include "base/str_cat.h"

namespace relaytap::metrics {
namespace {

using recorder::kOutcomeCount;
using recorder::Outcome;
using recorder::OutcomeName;

void Family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += StrCat("# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

// Label values here are fixed vocabulary (outcome, mode, stage names) or guard decision and
// reason words; escaped anyway, as the format asks.
std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", s);
  return buf;
}

void Histo(std::string& out, std::string_view name, std::string_view labels, const Histogram& h,
           std::span<const double> bounds) {
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += h.buckets[i];
    out += StrCat(name, "_bucket{", labels, sep, "le=\"", Seconds(bounds[i]), "\"} ", cumulative,
                  "\n");
  }
  cumulative += h.buckets[bounds.size()];
  // +Inf and _count from the same sum, so they agree even if a commit lands mid-scrape.
  out += StrCat(name, "_bucket{", labels, sep, "le=\"+Inf\"} ", cumulative, "\n");
  const std::string braces = labels.empty() ? "" : StrCat("{", labels, "}");
  out += StrCat(name, "_sum", braces, " ", Seconds(static_cast<double>(h.sum_us) / 1e6), "\n");
  out += StrCat(name, "_count", braces, " ", cumulative, "\n");
}

void ByOutcome(std::string& out, std::string_view name, const uint64_t (&v)[kOutcomeCount]) {
  for (int o = 0; o < kOutcomeCount; ++o) {
    out += StrCat(name, "{outcome=\"", OutcomeName(static_cast<Outcome>(o)), "\"} ", v[o], "\n");
  }
}

void Connections(std::string& out, const TallySnapshot& t) {
  Family(out, "relaytap_connections_total", "counter",
         "App connections closed, by mode (intercept, tunnel, plain; unknown when the open was "
         "not recorded) and outcome class, as the store's connections table has them.");
  for (int m = 0; m < kModeCount; ++m) {
    const Mode mode = static_cast<Mode>(m);
    for (int o = 0; o < kOutcomeCount; ++o) {
      if (mode == Mode::kUnknown && t.connections[m][o] == 0) continue;
      out += StrCat("relaytap_connections_total{mode=\"", ModeName(mode), "\",outcome=\"",
                    OutcomeName(static_cast<Outcome>(o)), "\"} ", t.connections[m][o], "\n");
    }
  }
}

void Attempts(std::string& out, const TallySnapshot& t) {
  Family(out, "relaytap_exchanges_total", "counter",
         "HTTP exchanges other than WebSocket upgrades, by outcome class (relaytap stats: "
         "exchanges).");
  ByOutcome(out, "relaytap_exchanges_total", t.exchanges);
  Family(out, "relaytap_ws_sessions_total", "counter",
         "Realtime session attempts: every WebSocket upgrade request, answered 101 or not, guard "
         "rejections included, by outcome class; a session is counted when it closes "
         "(relaytap stats: sessions).");
  ByOutcome(out, "relaytap_ws_sessions_total", t.sessions);
  Family(out, "relaytap_ws_messages_total", "counter",
         "WebSocket messages relayed, by the side that sent them (client, server).");
  out += StrCat("relaytap_ws_messages_total{direction=\"client\"} ", t.messages[0], "\n",
                "relaytap_ws_messages_total{direction=\"server\"} ", t.messages[1], "\n");
  Family(out, "relaytap_bytes_total", "counter",
         "Bytes relayed on closed connections: up (app to upstream) and down.");
  out += StrCat("relaytap_bytes_total{direction=\"up\"} ", t.bytes[0], "\n",
                "relaytap_bytes_total{direction=\"down\"} ", t.bytes[1], "\n");
}

void Latencies(std::string& out, const TallySnapshot& t) {
  Family(out, "relaytap_upstream_stage_seconds", "histogram",
         "Time of each step of reaching upstream: dns, tcp (connect), tls (handshake), proxy "
         "(CONNECT through --upstream-proxy), upgrade (WebSocket upgrade request to response "
         "head).");
  for (int s = 0; s < kStageCount; ++s) {
    Histo(out, "relaytap_upstream_stage_seconds",
          StrCat("stage=\"", StageName(static_cast<Stage>(s)), "\""), t.stages[s], kStageBuckets);
  }
  Family(out, "relaytap_response_first_delta_seconds", "histogram",
         "A realtime session's first response.create to the first audio or text delta after "
         "it (relaytap stats: first delta).");
  Histo(out, "relaytap_response_first_delta_seconds", "", t.first_delta, kFirstDeltaBuckets);
}

void Guard(std::string& out, const TallySnapshot& t) {
  Family(out, "relaytap_guard_decisions_total", "counter",
         "Retry-guard decisions (forward, reject) and state changes (breaker_open, ...), by "
         "reason.");
  for (size_t i = 0; i < t.guard.size(); ++i) {
    out += StrCat("relaytap_guard_decisions_total{decision=\"", Escape(t.guard_labels[i].first),
                  "\",reason=\"", Escape(t.guard_labels[i].second), "\"} ", t.guard[i], "\n");
  }
}

void Live(std::string& out, const Gauges& g) {
  Family(out, "relaytap_recorder_queue_bytes", "gauge",
         "Approximate bytes of observations waiting for the recorder's writer.");
  out += StrCat("relaytap_recorder_queue_bytes ", g.queue_bytes, "\n");
  Family(out, "relaytap_recorder_gaps_total", "counter",
         "Observations the recorder could not keep (recorded as gap rows), by reason: "
         "queue_full, write_failed, paused (--max-db-size / --min-free).");
  out += StrCat("relaytap_recorder_gaps_total{reason=\"queue_full\"} ", g.gap_queue_full, "\n",
                "relaytap_recorder_gaps_total{reason=\"write_failed\"} ", g.gap_write_failed, "\n",
                "relaytap_recorder_gaps_total{reason=\"paused\"} ", g.gap_paused, "\n");
  Family(out, "relaytap_open_connections", "gauge", "App connections open now.");
  out += StrCat("relaytap_open_connections ", g.open_connections, "\n");
}

}  // namespace

std::string RenderMetrics(const TallySnapshot& tally, const Gauges& gauges) {
  std::string out;
  out.reserve(16 * 1024);
  Connections(out, tally);
  Attempts(out, tally);
  Latencies(out, tally);
  Guard(out, tally);
  Live(out, gauges);
  return out;
}

}  // namespace relaytap::metrics
