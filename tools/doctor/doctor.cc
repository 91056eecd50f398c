#include "tools/doctor/doctor.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "base/ascii.h"
#include "base/str_cat.h"
#include "proxy/http/self_check.h"
#include "proxy/tls/ca_files.h"
#include "proxy/tls/cert_authority.h"
#include "proxy/tls/self_check_host.h"
#include "tools/doctor/child_process.h"
#include "tools/doctor/clients.h"
#include "tools/doctor/fix_lines.h"

namespace relaytap::tools::doctor {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A runtime gets this long beyond its own timeout to start and report before it is killed.
constexpr std::chrono::milliseconds kStartupGrace{3000};
constexpr size_t kMaxErrorText = 600;

std::string Trimmed(std::string_view s, size_t limit = kMaxErrorText) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  if (s.size() > limit) return StrCat(s.substr(0, limit), "...");
  return std::string(s);
}

// The error as a reader wants it: curl's first line; of a chain of causes ("A <- B <- C", as the
// clients print them) the root cause.
std::string ConciseError(std::string_view text) {
  if (text.starts_with("curl: ")) text = text.substr(0, text.find('\n'));
  if (const size_t arrow = text.rfind(" <- "); arrow != std::string_view::npos) {
    text.remove_prefix(arrow + 4);
  }
  return Trimmed(text);
}

std::string LastLine(std::string_view s) {
  const std::string t = Trimmed(s, std::string_view::npos);
  const size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

// What the client brought back, whatever the runtime.
struct ClientOutcome {
  bool found = true;
  bool ok = false;
  int status = 0;
  std::string body;
  std::string error;
  std::string version;
};

ClientOutcome FromCurl(const ChildResult& r) {
  ClientOutcome o;
  o.ok = r.exit_code == 0;
  o.status = o.ok ? 200 : 0;  // curl -sS without -f: a body means an answer
  o.body = r.out;
  o.error = r.err;
  if (!o.ok && o.error.empty()) o.error = StrCat("curl exited with ", r.exit_code);
  return o;
}

ClientOutcome FromScript(const ChildResult& r) {
  ClientOutcome o;
  const nlohmann::json j = nlohmann::json::parse(LastLine(r.out), nullptr, false);
  if (!j.is_object()) {
    o.error = StrCat("the client printed no result (exit ", r.exit_code,
                     "): ", Trimmed(r.err.empty() ? r.out : r.err));
    return o;
  }
  o.found = j.value("found", true);
  o.ok = j.value("ok", false);
  o.status = j.value("status", 0);
  o.body = j.value("body", "");
  o.error = o.found ? j.value("error", "") : j.value("why", "");
  o.version = j.value("version", "");
  return o;
}

// "curl 7.88.1" from `curl --version`'s output.
std::string CurlVersionOf(const std::string& out) {
  const std::string first = out.substr(0, out.find('\n'));
  const size_t second_space = first.find(' ', first.find(' ') + 1);
  return first.substr(0, second_space);
}

std::string CurlVersion(const fs::path& curl, const std::vector<std::string>& env) {
  return CurlVersionOf(RunChild({curl.string(), "--version"}, env, std::chrono::seconds(3)).out);
}

// With `detect_only` the client only says whether it is installed (curl: its version).
std::vector<std::string> ArgvFor(const ClientCheck& c, const fs::path& program,
                                 const ScriptDir& scripts, std::chrono::milliseconds timeout,
                                 bool detect_only) {
  const std::string url = detect_only ? "-" : c.websocket ? kCheckWsUrl : kCheckUrl;
  if (c.program == Program::kCurl) {
    if (detect_only) return {program.string(), "--version"};
    const double seconds = static_cast<double>(timeout.count()) / 1000.0;
    return {program.string(), "-sS", "--max-time", StrCat(seconds), url};
  }
  return {program.string(), scripts.ScriptFor(c.program).string(), std::string(c.library), url,
          StrCat(timeout.count())};
}

// The verdict of a client that answered or failed.
void Judge(const ClientOutcome& o, const DoctorReport& report, RuntimeResult& res) {
  if (!o.ok) {
    res.error = RedactUserinfo(ConciseError(o.error));
    res.verdict = VerdictOf(ClassifyClientError(o.error));
    return;
  }
  res.answer = ParseSelfCheckAnswer(o.body);
  if (!res.answer.valid || (o.status != 200 && o.status != 101)) {
    res.verdict = Verdict::kNotRelaytap;
    res.error = StrCat("status ", o.status, ", body: ", Trimmed(o.body, 200));
    return;
  }
  const bool other_ca =
      !report.ca_fingerprint.empty() && res.answer.ca_fingerprint != report.ca_fingerprint;
  res.verdict = other_ca ? Verdict::kOtherCa : Verdict::kOk;
}

RuntimeResult RunOne(const ClientCheck& c, const std::vector<std::string>& env,
                     const ScriptDir& scripts, const DoctorReport& report) {
  RuntimeResult res;
  res.name = std::string(c.name);
  const fs::path program = FindProgram(ProgramName(c.program), EnvValue(env, "PATH"));
  if (program.empty()) {
    res.verdict = Verdict::kNotFound;
    res.detail = StrCat(ProgramName(c.program), " is not on PATH");
    return res;
  }
  // Without any proxy the app goes direct: there is nothing relaytap could answer, and the
  // clients are only asked whether they are installed (no DNS lookup, no connection).
  const bool detect_only = report.proxy.source == ProxySource::kNone;
  const Clock::time_point start = Clock::now();
  const ChildResult r = RunChild(ArgvFor(c, program, scripts, report.timeout, detect_only), env,
                                 report.timeout + kStartupGrace);
  res.ms = static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
  if (!r.started) {
    res.verdict = Verdict::kFailed;
    res.error = r.start_error;
  } else if (r.timed_out) {
    res.verdict = Verdict::kTimeout;
    res.error =
        StrCat("no result within ", (report.timeout + kStartupGrace).count(), " ms: killed");
  } else {
    const bool curl = c.program == Program::kCurl;
    const ClientOutcome o = curl ? FromCurl(r) : FromScript(r);
    res.version = !curl         ? o.version
                  : detect_only ? CurlVersionOf(r.out)
                                : CurlVersion(program, env);
    if (!o.found) {
      res.verdict = Verdict::kNotFound;
      res.detail = Trimmed(o.error);
      return res;
    }
    if (detect_only) {
      res.verdict = Verdict::kNoProxy;
    } else {
      Judge(o, report, res);
    }
  }
  res.detail = DescribeVerdict(res, report);
  res.fix = FixLines(c, res, report);
  return res;
}

absl::Status CheckRuntimeNames(const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    if (FindClientCheck(n) == nullptr) {
      std::string known;
      for (const ClientCheck& c : AllClientChecks())
        known += StrCat(known.empty() ? "" : ", ", c.name);
      return absl::InvalidArgumentError(StrCat("unknown runtime '", n, "' (known: ", known, ")"));
    }
  }
  return absl::OkStatus();
}

void NoteCa(const std::string& ca_dir, DoctorReport& report) {
  const fs::path dir(ca_dir);
  report.ca_dir = ca_dir;
  report.ca_path = (dir / proxy::tls::kCaCertFileName).string();
  report.bundle_path = (dir / proxy::tls::kBundleFileName).string();
  std::error_code ec;
  report.bundle_exists = fs::exists(report.bundle_path, ec);
  if (absl::StatusOr<std::string> pem = proxy::tls::ReadWholeFile(report.ca_path); pem.ok()) {
    report.ca_fingerprint = proxy::http_relay::CertFingerprintSha256(*pem);
  }
}

}  // namespace

std::string RedactUserinfo(std::string_view text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t scheme = text.find("://", pos);
    if (scheme == std::string_view::npos) break;
    const size_t start = scheme + 3;
    const size_t end = text.find_first_of("/ \t\n'\"", start);
    const size_t at = text.rfind('@', end == std::string_view::npos ? text.size() - 1 : end - 1);
    out += text.substr(pos, start - pos);
    if (at != std::string_view::npos && at >= start) {
      out += "<redacted>";
      pos = at;
    } else {
      pos = start;
    }
  }
  out += text.substr(std::min(pos, text.size()));
  return out;
}

bool NoProxyCovers(std::string_view no_proxy, std::string_view host) {
  const std::string h = AsciiStrToLower(host);
  size_t start = 0;
  while (start <= no_proxy.size()) {
    size_t end = no_proxy.find(',', start);
    if (end == std::string_view::npos) end = no_proxy.size();
    std::string entry = AsciiStrToLower(no_proxy.substr(start, end - start));
    entry.erase(0, entry.find_first_not_of(" \t"));
    entry.erase(entry.find_last_not_of(" \t") + 1);
    if (entry.starts_with("*.")) entry.erase(0, 1);
    if (entry == "*") return true;
    if (!entry.empty()) {
      const std::string bare = entry.front() == '.' ? entry.substr(1) : entry;
      if (h == bare || (h.size() > bare.size() && h.ends_with("." + bare))) return true;
    }
    start = end + 1;
  }
  return false;
}

ProxySetting ResolveProxy(const std::vector<std::string>& env, const std::string& flag) {
  ProxySetting p;
  // The order curl and Python read them in for an https:// URL.
  for (const char* name : {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
    if (std::string v = EnvValue(env, name); !v.empty()) {
      p.env_variable = name;
      p.env_url = std::move(v);
      break;
    }
  }
  p.no_proxy = EnvValue(env, "no_proxy");
  if (p.no_proxy.empty()) p.no_proxy = EnvValue(env, "NO_PROXY");
  p.no_proxy_covers_check = NoProxyCovers(p.no_proxy, proxy::kSelfCheckHost);
  if (!flag.empty()) {
    p.source = ProxySource::kFlag;
    p.url = flag;
  } else if (!p.env_url.empty()) {
    p.source = ProxySource::kEnvironment;
    p.url = p.env_url;
  }
  return p;
}

std::vector<std::string> ClientEnvironment(const std::vector<std::string>& env,
                                           const ProxySetting& proxy) {
  std::vector<std::string> out = env;
  if (proxy.source == ProxySource::kFlag) {
    SetEnv(out, "HTTPS_PROXY", proxy.url);
    SetEnv(out, "https_proxy", proxy.url);
  }
  return out;
}

absl::StatusOr<DoctorReport> RunDoctor(const DoctorOptions& options) {
  if (absl::Status st = CheckRuntimeNames(options.runtimes); !st.ok()) return st;
  if (!options.proxy.empty() && !options.proxy.starts_with("http://")) {
    return absl::InvalidArgumentError(StrCat(
        "--proxy must be http://HOST:PORT (relaytap's listen address), got '", options.proxy, "'"));
  }
  DoctorReport report;
  report.timeout = options.timeout;
  report.proxy = ResolveProxy(options.env, options.proxy);
  NoteCa(options.ca_dir, report);
  absl::StatusOr<ScriptDir> scripts = ScriptDir::Create();
  if (!scripts.ok()) return scripts.status();
  const std::vector<std::string> env = ClientEnvironment(options.env, report.proxy);
  for (const ClientCheck& c : AllClientChecks()) {
    const bool wanted = options.runtimes.empty() ||
                        std::find(options.runtimes.begin(), options.runtimes.end(), c.name) !=
                            options.runtimes.end();
    if (!wanted) continue;
    RuntimeResult res = RunOne(c, env, *scripts, report);
    if (res.verdict == Verdict::kOk) {
      ++report.ok;
    } else if (res.verdict == Verdict::kNotFound) {
      ++report.not_found;
    } else {
      ++report.failed;
    }
    report.results.push_back(std::move(res));
  }
  return report;
}

int ExitCodeOf(const DoctorReport& report) { return report.failed == 0 ? 0 : 1; }

}  // namespace relaytap::tools::doctor
