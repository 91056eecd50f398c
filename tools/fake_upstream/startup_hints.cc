#include "tools/fake_upstream/startup_hints.h"

#include "base/str_cat.h"

namespace relaytap::tools::fake_upstream {
namespace {

std::string Rates(const RateMap& rates) {
  std::string out;
  for (const auto& [fault, rate] : rates) {
    if (!out.empty()) out += ", ";
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g%%", rate);
    out += StrCat(FaultName(fault), " ", buf);
  }
  return out.empty() ? "none" : out;
}

std::string Seconds(std::chrono::milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

}  // namespace

std::string StartupHints(const HintInput& in) {
  const bool by_name = in.tls && in.leaf_for_azure_host;
  const std::string authority = by_name ? in.azure_host : StrCat(in.host, ":", in.port);
  const std::string ws = StrCat(in.tls ? "wss://" : "ws://", authority);
  const std::string http = StrCat(in.tls ? "https://" : "http://", authority);
  std::string curl = "curl -sS";
  if (in.tls) curl += in.tls_ca.empty() ? " -k" : StrCat(" --cacert ", in.tls_ca);
  if (by_name) curl += StrCat(" --connect-to ", in.azure_host, ":443:", in.host, ":", in.port);
  std::string out;
  if (by_name) {
    out += StrCat("  (the certificate is for ", in.azure_host, ": clients reach ", in.host, ":",
                  in.port, " under that name, as the curl lines do with --connect-to)\n");
  }
  out += StrCat("  realtime (GA):       ", ws, "/openai/v1/realtime?model=gpt-realtime\n");
  out += StrCat("  realtime (preview):  ", ws,
                "/openai/realtime?api-version=2025-04-01-preview&deployment=gpt-realtime\n");
  out += StrCat("  ephemeral token:     ", curl, " -X POST ", http,
                "/openai/v1/realtime/client_secrets -H 'api-key: test' -H 'content-type: "
                "application/json' -d '{\"session\":{\"type\":\"realtime\",\"model\":\"gpt-"
                "realtime\"}}'\n");
  out += StrCat("  preview session:     ", curl, " -X POST '", http,
                "/openai/realtimeapi/sessions?api-version=2025-04-01-preview' -H 'api-key: test' "
                "-d '{\"model\":\"gpt-realtime\"}'\n");
  out +=
      StrCat("  WebRTC call set-up:  ", curl, " -X POST ", http,
             "/openai/v1/realtime/calls -H 'authorization: Bearer ek_...' -H 'content-type: "
             "application/sdp' --data-binary @offer.sdp   # 201, Location rtc_..., SDP answer\n");
  out += StrCat("  chat completions:    ", curl, " -N '", http,
                "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21' -H 'api-key: "
                "test' -d '{\"messages\":[],\"stream\":true}'\n");
  out += StrCat("  responses:           ", curl, " ", http,
                "/openai/v1/responses -H 'api-key: test' -d '{\"model\":\"gpt-4o\"}'\n");
  if (!in.tls) {
    out +=
        "Behind relaytap proxy: restart with --tls (a leaf from relaytap's CA) or "
        "--tls-cert/--tls-key (relaytap verifies upstream TLS).\n";
    return out;
  }
  const std::string ca = in.tls_ca.empty() ? "<CA that issued --tls-cert>" : in.tls_ca;
  out += StrCat("Through relaytap proxy (the app keeps its Azure endpoint https://", in.azure_host,
                "):\n");
  out += StrCat("  relaytap proxy --connect-to ", in.azure_host, ":443:", in.host, ":", in.port,
                " --upstream-ca ", ca, "\n");
  out += "  eval \"$(relaytap ca env)\"   # the app trusts relaytap's CA\n";
  out += StrCat("  HTTPS_PROXY=http://127.0.0.1:8080 your-app   # endpoint https://", in.azure_host,
                "\n");
  return out;
}

std::string DescribeFaults(const FaultProfile& p, uint64_t seed) {
  std::string out = StrCat("faults: ", Rates(p.rates));
  for (const Window& w : p.windows) {
    out += StrCat("; window ", Seconds(w.from), "-", Seconds(w.to), " s: ", Rates(w.rates));
  }
  if (p.period) out += StrCat(" (windows repeat every ", Seconds(*p.period), " s)");
  for (const auto& [name, rates] : p.deployments) {
    out += StrCat("; deployment ", name, ": ", Rates(rates));
  }
  if (!(p.params.retry_headers == RetryHeaders{})) {
    out += StrCat("; 429 retry headers: ", RetryHeaderNames(p.params.retry_headers));
  }
  out += StrCat("; latency ", p.params.latency.count(), " ms; seed ", seed, " (--seed ", seed,
                " repeats this run)");
  return out;
}

std::string DescribeCounts(const FaultModel& model) {
  auto counts = model.counts();
  std::string out;
  for (int i = 1; i < kFaultCount; ++i) {
    if (counts[i] == 0) continue;
    if (!out.empty()) out += ", ";
    out += StrCat(FaultName(static_cast<Fault>(i)), " ", counts[i]);
  }
  return out.empty() ? "none" : out;
}

}  // namespace relaytap::tools::fake_upstream
