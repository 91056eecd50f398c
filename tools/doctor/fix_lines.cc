#include "tools/doctor/fix_lines.h"

#include "base/str_cat.h"
#include "proxy/tls/self_check_host.h"
#include "proxy/tls/trust_table.h"

namespace relaytap::tools::doctor {
namespace {

using proxy::tls::RuntimeTrust;
using proxy::tls::TrustFile;

constexpr char kDefaultProxyUrl[] = "http://127.0.0.1:8080";

// HOST:PORT of the proxy URL the clients were given (or relaytap's default).
std::string ProxyHostPort(const DoctorReport& report) {
  std::string_view url = report.proxy.url;
  if (url.empty()) url = kDefaultProxyUrl;
  if (const size_t scheme = url.find("://"); scheme != std::string_view::npos) {
    url.remove_prefix(scheme + 3);
  }
  if (const size_t at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  return std::string(url.substr(0, url.find('/')));
}

std::vector<std::string> TrustLines(const RuntimeTrust& row, const DoctorReport& report) {
  std::vector<std::string> lines;
  if (row.file == TrustFile::kCaCert) {
    lines.push_back(StrCat("export ", row.trust_variable, "=", ShellWord(report.ca_path)));
    return lines;
  }
  if (!report.bundle_exists) {
    // `ca env` writes the bundle (the system roots plus the CA) next to the CA.
    lines.push_back(StrCat("relaytap ca env --ca-dir ", ShellWord(report.ca_dir),
                           " >/dev/null   # writes ", report.bundle_path));
  }
  lines.push_back(StrCat("export ", row.trust_variable, "=", ShellWord(report.bundle_path)));
  return lines;
}

std::vector<std::string> ProxyLines(const RuntimeTrust& row, const DoctorReport& report) {
  std::vector<std::string> lines;
  const ProxySetting& p = report.proxy;
  if (p.source == ProxySource::kNone) {
    lines.push_back(
        StrCat("export HTTPS_PROXY=", kDefaultProxyUrl, "   # relaytap proxy's --listen address"));
  } else if (p.no_proxy_covers_check) {
    lines.push_back(StrCat("# NO_PROXY=", p.no_proxy, " covers ", proxy::kSelfCheckHost,
                           " (and maybe your API host): take that entry out of NO_PROXY"));
  }
  if (!row.proxy_note.empty()) {
    lines.push_back(StrCat("# ", row.proxy_note));
  } else if (p.source != ProxySource::kNone && !p.no_proxy_covers_check) {
    lines.push_back(StrCat("# this runtime did not use HTTPS_PROXY=", RedactUserinfo(p.url),
                           ": give it the proxy explicitly"));
  }
  return lines;
}

}  // namespace

std::string ShellWord(std::string_view s) {
  const bool plain = !s.empty() && s.find_first_not_of(
                                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
                                       "QRSTUVWXYZ0123456789/._-+:,@%=") == std::string_view::npos;
  if (plain) return std::string(s);
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string DescribeVerdict(const RuntimeResult& res, const DoctorReport& report) {
  const std::string url =
      report.proxy.url.empty() ? std::string("(none)") : RedactUserinfo(report.proxy.url);
  switch (res.verdict) {
    case Verdict::kOk:
      return StrCat("went through relaytap ", res.answer.version, " and trusted its CA (relaytap ",
                    "saw it as ", res.answer.client, ")");
    case Verdict::kNotFound:
      return res.detail;
    case Verdict::kNoProxy:
      if (report.proxy.source == ProxySource::kNone) {
        return "would go direct: no proxy is set, so its requests would not reach relaytap";
      }
      return StrCat("did not use the proxy: it looked ", proxy::kSelfCheckHost,
                    " up in DNS itself, so the app's requests would not reach relaytap");
    case Verdict::kProxyDown:
      return StrCat("nothing answers at the proxy ", url);
    case Verdict::kNotRelaytap:
      return StrCat("the proxy ", url, " is not relaytap: it did not answer the self-check");
    case Verdict::kCaNotTrusted:
      return "reached relaytap but does not trust the CA: the TLS handshake failed verification";
    case Verdict::kTlsFailed:
      return "reached a proxy, but TLS with it failed (not a certificate verification error)";
    case Verdict::kOtherCa:
      return StrCat("a relaytap answered, but with another CA (", res.answer.ca_fingerprint,
                    ") than ", report.ca_path,
                    report.ca_fingerprint.empty() ? "" : StrCat(" (", report.ca_fingerprint, ")"));
    case Verdict::kTimeout:
      return "no answer in time";
    case Verdict::kFailed:
      return "failed";
  }
  return "failed";
}

std::vector<std::string> FixLines(const ClientCheck& check, const RuntimeResult& res,
                                  const DoctorReport& report) {
  const RuntimeTrust* row = proxy::tls::FindRuntimeTrust(check.trust_key);
  if (row == nullptr) return {};
  switch (res.verdict) {
    case Verdict::kCaNotTrusted:
      return TrustLines(*row, report);
    case Verdict::kNoProxy:
      return ProxyLines(*row, report);
    case Verdict::kProxyDown:
      return {StrCat("relaytap proxy --listen ", ProxyHostPort(report),
                     "   # start relaytap where HTTPS_PROXY points, or point it at relaytap")};
    case Verdict::kNotRelaytap:
      return {StrCat("export HTTPS_PROXY=", kDefaultProxyUrl,
                     "   # relaytap's --listen address, not another proxy")};
    case Verdict::kOtherCa:
      return {
          StrCat("# that relaytap runs with another --ca-dir: rerun doctor with it, or trust "
                 "that CA (relaytap ca env --ca-dir DIR)")};
    default:
      return {};
  }
}

}  // namespace relaytap::tools::doctor
