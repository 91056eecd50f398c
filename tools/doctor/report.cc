#include "tools/doctor/report.h"

#include "base/str_cat.h"
#include "tools/doctor/fix_lines.h"

namespace relaytap::tools::doctor {
namespace {

std::string_view SourceName(ProxySource s) {
  switch (s) {
    case ProxySource::kFlag:
      return "flag";
    case ProxySource::kEnvironment:
      return "environment";
    case ProxySource::kNone:
      break;
  }
  return "none";
}

std::string ProxyHeader(const ProxySetting& p) {
  switch (p.source) {
    case ProxySource::kNone:
      return "proxy:  none: HTTPS_PROXY is not set, so the app would not use relaytap at all\n";
    case ProxySource::kEnvironment:
      return StrCat("proxy:  ", RedactUserinfo(p.url), " (", p.env_variable,
                    ", as the app sees it)\n");
    case ProxySource::kFlag:
      break;
  }
  std::string out = StrCat("proxy:  ", RedactUserinfo(p.url), " (--proxy; ");
  if (p.env_url.empty()) {
    out += "the environment has none: the app would not use relaytap at all until it has ";
    out += StrCat("export HTTPS_PROXY=", ShellWord(RedactUserinfo(p.url)), ")\n");
  } else if (p.env_url != p.url) {
    out += StrCat("the environment says ", p.env_variable, "=", RedactUserinfo(p.env_url), ")\n");
  } else {
    out += "the same as the environment's)\n";
  }
  return out;
}

std::string CaHeader(const DoctorReport& r) {
  if (r.ca_fingerprint.empty()) {
    return StrCat("CA:     none in ", r.ca_dir, " (the answering relaytap's CA is not compared)\n");
  }
  return StrCat("CA:     ", r.ca_path, "\n        SHA-256 ", r.ca_fingerprint, "\n");
}

std::string_view Mark(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "[ok]  ";
    case Verdict::kNotFound:
      return "[--]  ";
    default:
      return "[FAIL]";
  }
}

std::string RuntimeBlock(const RuntimeResult& res) {
  std::string out = StrCat(Mark(res.verdict), " ", res.name);
  if (!res.version.empty()) out += StrCat(" (", res.version, ")");
  if (res.verdict == Verdict::kNotFound) return StrCat(out, ": not found: ", res.detail, "\n");
  out += StrCat(": ", res.detail, "\n");
  out += StrCat("       uses the proxy: ", UsedProxy(res.verdict),
                "   trusts the CA: ", TrustedCa(res.verdict));
  if (!res.answer.ca_fingerprint.empty()) {
    out += StrCat("   same CA as --ca-dir: ", res.verdict == Verdict::kOtherCa ? "no" : "yes");
  }
  out += StrCat("   (", res.ms, " ms)\n");
  if (!res.error.empty()) out += StrCat("       error: ", res.error, "\n");
  if (!res.fix.empty()) {
    out += "       fix, in the app's environment:\n";
    for (const std::string& line : res.fix) out += StrCat("         ", line, "\n");
  }
  return out;
}

}  // namespace

std::string FormatDoctorText(const DoctorReport& report) {
  std::string out = StrCat("relaytap doctor: can the apps in this environment reach relaytap?\n",
                           ProxyHeader(report.proxy), CaHeader(report));
  if (report.proxy.no_proxy_covers_check) {
    out += StrCat("note:   NO_PROXY=", report.proxy.no_proxy, " covers check.relaytap.invalid\n");
  }
  out += "\n";
  int untrusted = 0;
  for (const RuntimeResult& res : report.results) {
    out += RuntimeBlock(res);
    if (res.verdict == Verdict::kCaNotTrusted) ++untrusted;
  }
  if (untrusted > 1) {
    out +=
        StrCat("\nTrust for every runtime at once, in the app's shell:\n  eval \"$(relaytap ca env",
               " --ca-dir ", ShellWord(report.ca_dir), ")\"\n");
  }
  out += StrCat("\n", report.ok, " ok, ", report.failed, " failed, ", report.not_found,
                " not found\n");
  return out;
}

nlohmann::ordered_json DoctorJson(const DoctorReport& report) {
  const ProxySetting& p = report.proxy;
  nlohmann::ordered_json j;
  j["proxy"] = {{"url", RedactUserinfo(p.url)},
                {"source", SourceName(p.source)},
                {"environment", RedactUserinfo(p.env_url)},
                {"no_proxy_covers_check", p.no_proxy_covers_check}};
  j["ca"] = {{"path", report.ca_path}, {"fingerprint", report.ca_fingerprint}};
  nlohmann::ordered_json runtimes = nlohmann::ordered_json::array();
  for (const RuntimeResult& res : report.results) {
    runtimes.push_back({{"name", res.name},
                        {"found", res.verdict != Verdict::kNotFound},
                        {"version", res.version},
                        {"verdict", VerdictName(res.verdict)},
                        {"uses_proxy", UsedProxy(res.verdict)},
                        {"trusts_ca", TrustedCa(res.verdict)},
                        {"ca_fingerprint", res.answer.ca_fingerprint},
                        {"detail", res.detail},
                        {"error", res.error},
                        {"fix", res.fix},
                        {"ms", res.ms}});
  }
  j["runtimes"] = std::move(runtimes);
  j["summary"] = {{"ok", report.ok}, {"failed", report.failed}, {"not_found", report.not_found}};
  return j;
}

}  // namespace relaytap::tools::doctor
