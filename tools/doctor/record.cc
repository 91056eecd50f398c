#include "tools/doctor/record.h"

#include <nlohmann/json.hpp>

#include "base/str_cat.h"
#include "proxy/tls/self_check_host.h"
#include "tools/doctor/clients.h"

namespace relaytap::tools::doctor {

std::vector<recorder::LocalCheckRow> LocalCheckRowsOf(const DoctorReport& report, int64_t run_us) {
  std::vector<recorder::LocalCheckRow> rows;
  for (const RuntimeResult& res : report.results) {
    if (res.verdict == Verdict::kNotFound) continue;
    const ClientCheck* check = FindClientCheck(res.name);
    recorder::LocalCheckRow r;
    r.run_us = run_us;
    r.tool = StrCat("doctor ", res.name);
    r.url = check != nullptr && check->websocket ? kCheckWsUrl : kCheckUrl;
    r.host = std::string(proxy::kSelfCheckHost);
    r.ok = res.verdict == Verdict::kOk;
    if (!r.ok) r.failed_stage = std::string(VerdictName(res.verdict));
    r.ms = res.ms;
    // The same facts the text shows: no environment values beyond the proxy URL and CA paths.
    const nlohmann::json stage = {{"name", res.name},
                                  {"status", r.ok ? "ok" : "failed"},
                                  {"ms", res.ms},
                                  {"detail",
                                   {{"version", res.version},
                                    {"uses_proxy", UsedProxy(res.verdict)},
                                    {"trusts_ca", TrustedCa(res.verdict)},
                                    {"ca_fingerprint", res.answer.ca_fingerprint}}},
                                  {"error", res.error}};
    r.stages = nlohmann::json::array({stage}).dump(-1, ' ', false,
                                                   nlohmann::json::error_handler_t::replace);
    rows.push_back(std::move(r));
  }
  return rows;
}

absl::Status RecordDoctor(const std::string& db_path, const DoctorReport& report, int64_t run_us) {
  return recorder::AppendLocalChecks(db_path, LocalCheckRowsOf(report, run_us));
}

}  // namespace relaytap::tools::doctor
