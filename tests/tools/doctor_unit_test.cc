// `relaytap doctor`'s pure parts: reading a runtime's error, the proxy the clients see, the fix
// lines, and the bounded child process.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tests/testing/wait.h"
#include "tools/doctor/child_process.h"
#include "tools/doctor/classify.h"
#include "tools/doctor/clients.h"
#include "tools/doctor/doctor.h"
#include "tools/doctor/fix_lines.h"
#include "tools/doctor/record.h"
#include "tools/doctor/report.h"

namespace relaytap::tools::doctor {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Error texts as the runtimes print them (captured from curl 7.88, Python 3.11 with requests
// 2.28 / aiohttp 3.8 / websocket-client 1.2 / websockets 10.4, Node 20 with ws 8).
TEST(ClassifyClientErrorTest, CertificateFailuresOfEachRuntime) {
  for (const char* text : {
           "curl: (60) SSL certificate problem: unable to get local issuer certificate",
           "SSLError: HTTPSConnectionPool(host='check.relaytap.invalid', port=443): Max retries "
           "exceeded (Caused by SSLError(SSLCertVerificationError(1, '[SSL: "
           "CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer",
           "ClientConnectorCertificateError: Cannot connect to host check.relaytap.invalid:443 "
           "ssl:True [SSLCertVerificationError: (1, '[SSL: CERTIFICATE_VERIFY_FAILED]",
           "Error UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate",
           "TypeError: fetch failed <- Error SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate "
           "in certificate chain",
       }) {
    EXPECT_EQ(ClassifyClientError(text), ClientError::kCaNotTrusted) << text;
  }
}

TEST(ClassifyClientErrorTest, ANameLookedUpInDnsMeansNoProxy) {
  for (const char* text : {
           "curl: (6) Could not resolve host: check.relaytap.invalid",
           "gaierror: [Errno -2] Name or service not known",
           "TypeError: fetch failed <- Error ENOTFOUND: getaddrinfo ENOTFOUND "
           "check.relaytap.invalid",
           "ClientConnectorError: Cannot connect to host check.relaytap.invalid:443 ssl:default "
           "[Name or service not known]",
       }) {
    EXPECT_EQ(ClassifyClientError(text), ClientError::kNameNotResolved) << text;
  }
}

TEST(ClassifyClientErrorTest, ProxyFailures) {
  EXPECT_EQ(ClassifyClientError("ProxyError: ('Unable to connect to proxy', OSError('Tunnel "
                                "connection failed: 502 Bad Gateway'))"),
            ClientError::kProxyRefused);
  EXPECT_EQ(ClassifyClientError("curl: (56) CONNECT tunnel failed, response 502"),
            ClientError::kProxyRefused);
  EXPECT_EQ(ClassifyClientError("Error: proxy CONNECT answered 403"), ClientError::kProxyRefused);
  EXPECT_EQ(ClassifyClientError("curl: (7) Failed to connect to 127.0.0.1 port 9 after 0 ms: "
                                "Couldn't connect to server"),
            ClientError::kProxyUnreachable);
  EXPECT_EQ(ClassifyClientError("ProxyError: ('Unable to connect to proxy', "
                                "NameResolutionError(...))"),
            ClientError::kProxyUnreachable);
  EXPECT_EQ(ClassifyClientError("Error ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9"),
            ClientError::kProxyUnreachable);
}

TEST(ClassifyClientErrorTest, TimeoutsTlsAndTheRest) {
  EXPECT_EQ(ClassifyClientError("curl: (28) Operation timed out after 1000 milliseconds"),
            ClientError::kTimeout);
  EXPECT_EQ(ClassifyClientError("SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number"),
            ClientError::kTlsFailed);
  EXPECT_EQ(ClassifyClientError("WebSocketBadStatusException: Handshake status 200 OK"),
            ClientError::kOther);
}

TEST(VerdictTest, WhatEachVerdictSaysAboutProxyAndTrust) {
  EXPECT_EQ(UsedProxy(Verdict::kCaNotTrusted), "yes");  // .invalid never resolves
  EXPECT_EQ(TrustedCa(Verdict::kCaNotTrusted), "no");
  EXPECT_EQ(UsedProxy(Verdict::kNoProxy), "no");
  EXPECT_EQ(TrustedCa(Verdict::kNoProxy), "unknown");
  EXPECT_EQ(UsedProxy(Verdict::kOk), "yes");
  EXPECT_EQ(TrustedCa(Verdict::kOk), "yes");
  EXPECT_EQ(VerdictName(Verdict::kCaNotTrusted), "ca_not_trusted");
}

TEST(SelfCheckAnswerTest, OnlyRelaytapsJsonCounts) {
  const SelfCheckAnswer a = ParseSelfCheckAnswer(
      R"({"proxy":"relaytap","version":"0.1.0","client":"127.0.0.1:5","ca_fingerprint":"AB"})");
  EXPECT_TRUE(a.valid);
  EXPECT_EQ(a.client, "127.0.0.1:5");
  EXPECT_EQ(a.ca_fingerprint, "AB");
  EXPECT_FALSE(ParseSelfCheckAnswer(R"({"proxy":"squid"})").valid);
  EXPECT_FALSE(ParseSelfCheckAnswer("<html>").valid);
  EXPECT_FALSE(ParseSelfCheckAnswer("").valid);
}

TEST(ProxySettingTest, NoProxyCoverage) {
  EXPECT_TRUE(NoProxyCovers("*", "check.relaytap.invalid"));
  EXPECT_TRUE(NoProxyCovers("localhost, .invalid", "check.relaytap.invalid"));
  EXPECT_TRUE(NoProxyCovers("relaytap.invalid", "check.relaytap.invalid"));
  EXPECT_TRUE(NoProxyCovers("*.relaytap.invalid", "CHECK.relaytap.invalid"));
  EXPECT_FALSE(NoProxyCovers("localhost,127.0.0.1", "check.relaytap.invalid"));
  EXPECT_FALSE(NoProxyCovers("taprelaytap.invalid", "check.relaytap.invalid"));
  EXPECT_FALSE(NoProxyCovers("", "check.relaytap.invalid"));
}

TEST(ProxySettingTest, TheEnvironmentAsTheAppSeesItAndTheFlagOverIt) {
  const std::vector<std::string> env = {"PATH=/bin", "HTTPS_PROXY=http://upper:1",
                                        "https_proxy=http://lower:2", "NO_PROXY=.invalid"};
  ProxySetting p = ResolveProxy(env, "");
  EXPECT_EQ(p.source, ProxySource::kEnvironment);
  EXPECT_EQ(p.url, "http://lower:2");  // curl and Python prefer the lower-case one
  EXPECT_EQ(p.env_variable, "https_proxy");
  EXPECT_TRUE(p.no_proxy_covers_check);
  EXPECT_EQ(ClientEnvironment(env, p), env);  // the clients inherit it unchanged

  p = ResolveProxy(env, "http://127.0.0.1:9");
  EXPECT_EQ(p.source, ProxySource::kFlag);
  EXPECT_EQ(p.env_url, "http://lower:2");
  const std::vector<std::string> given = ClientEnvironment(env, p);
  EXPECT_EQ(EnvValue(given, "HTTPS_PROXY"), "http://127.0.0.1:9");
  EXPECT_EQ(EnvValue(given, "https_proxy"), "http://127.0.0.1:9");
  EXPECT_EQ(EnvValue(given, "NO_PROXY"), ".invalid");

  EXPECT_EQ(ResolveProxy({"PATH=/bin"}, "").source, ProxySource::kNone);
}

DoctorReport ReportForFixes(ProxySource source) {
  DoctorReport r;
  r.proxy.source = source;
  r.proxy.url = source == ProxySource::kNone ? "" : "http://127.0.0.1:8123";
  r.ca_dir = "/home/op/.relaytap";
  r.ca_path = "/home/op/.relaytap/relaytap-ca.pem";
  r.bundle_path = "/home/op/.relaytap/relaytap-bundle.pem";
  r.bundle_exists = true;
  return r;
}

TEST(FixLinesTest, AnUntrustedCaIsFixedWithTheRuntimesVariableFromTheTrustTable) {
  const DoctorReport report = ReportForFixes(ProxySource::kEnvironment);
  RuntimeResult res;
  res.verdict = Verdict::kCaNotTrusted;
  EXPECT_THAT(FixLines(*FindClientCheck("python-requests"), res, report),
              ElementsAre("export REQUESTS_CA_BUNDLE=/home/op/.relaytap/relaytap-bundle.pem"));
  EXPECT_THAT(FixLines(*FindClientCheck("node-ws"), res, report),
              ElementsAre("export NODE_EXTRA_CA_CERTS=/home/op/.relaytap/relaytap-ca.pem"));
  EXPECT_THAT(FixLines(*FindClientCheck("curl"), res, report),
              ElementsAre("export CURL_CA_BUNDLE=/home/op/.relaytap/relaytap-bundle.pem"));
  DoctorReport no_bundle = report;
  no_bundle.bundle_exists = false;
  const std::vector<std::string> lines = FixLines(*FindClientCheck("python-httpx"), res, no_bundle);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("relaytap ca env --ca-dir /home/op/.relaytap"));
  EXPECT_EQ(lines[1], "export SSL_CERT_FILE=/home/op/.relaytap/relaytap-bundle.pem");
}

TEST(FixLinesTest, NoProxySaysToSetOneAndWhatTheRuntimeNeedsBeyondIt) {
  RuntimeResult res;
  res.verdict = Verdict::kNoProxy;
  EXPECT_THAT(FixLines(*FindClientCheck("curl"), res, ReportForFixes(ProxySource::kNone)),
              Contains(HasSubstr("export HTTPS_PROXY=http://127.0.0.1:8080")));
  // Node 20 ignores HTTPS_PROXY: the line says so, from the trust table.
  EXPECT_THAT(
      FixLines(*FindClientCheck("node-fetch"), res, ReportForFixes(ProxySource::kEnvironment)),
      ElementsAre(HasSubstr("NODE_USE_ENV_PROXY=1")));
  res.verdict = Verdict::kProxyDown;
  EXPECT_THAT(FixLines(*FindClientCheck("curl"), res, ReportForFixes(ProxySource::kEnvironment)),
              ElementsAre(HasSubstr("relaytap proxy --listen 127.0.0.1:8123")));
  res.verdict = Verdict::kOk;
  EXPECT_TRUE(
      FixLines(*FindClientCheck("curl"), res, ReportForFixes(ProxySource::kEnvironment)).empty());
}

TEST(FixLinesTest, ShellWordsAreQuotedOnlyWhenNeeded) {
  EXPECT_EQ(ShellWord("/home/op/.relaytap/ca.pem"), "/home/op/.relaytap/ca.pem");
  EXPECT_EQ(ShellWord("/home/o p/ca.pem"), "'/home/o p/ca.pem'");
  EXPECT_EQ(ShellWord("it's"), "'it'\\''s'");
}

TEST(DoctorReportTest, TheTextSaysWhenNoProxyIsSet) {
  DoctorReport report = ReportForFixes(ProxySource::kNone);
  RuntimeResult res;
  res.name = "curl";
  res.verdict = Verdict::kNoProxy;
  res.fix = {"export HTTPS_PROXY=http://127.0.0.1:8080"};
  report.results.push_back(res);
  report.failed = 1;
  const std::string text = FormatDoctorText(report);
  EXPECT_THAT(text, HasSubstr("the app would not use relaytap at all"));
  EXPECT_THAT(text, HasSubstr("[FAIL] curl"));
  EXPECT_THAT(text, HasSubstr("uses the proxy: no"));
  EXPECT_THAT(text, HasSubstr("         export HTTPS_PROXY=http://127.0.0.1:8080\n"));
  const auto j = DoctorJson(report);
  EXPECT_EQ(j["proxy"]["source"], "none");
  EXPECT_EQ(j["runtimes"][0]["verdict"], "no_proxy");
  EXPECT_EQ(j["summary"]["failed"], 1);
  EXPECT_EQ(ExitCodeOf(report), 1);
}

TEST(DoctorReportTest, ProxyCredentialsAreNeverShown) {
  EXPECT_EQ(RedactUserinfo("http://op:s3cret@127.0.0.1:8080"), "http://<redacted>@127.0.0.1:8080");
  EXPECT_EQ(RedactUserinfo("ProxyError: http://u:p@proxy:3128/ refused, see http://x/a@b"),
            "ProxyError: http://<redacted>@proxy:3128/ refused, see http://x/a@b");
  EXPECT_EQ(RedactUserinfo("mail a@b then http://host:1"), "mail a@b then http://host:1");
  DoctorReport report = ReportForFixes(ProxySource::kEnvironment);
  report.proxy.url = "http://op:s3cret@127.0.0.1:8123";
  report.proxy.env_variable = "HTTPS_PROXY";
  RuntimeResult res;
  res.name = "curl";
  res.verdict = Verdict::kProxyDown;
  res.detail = DescribeVerdict(res, report);
  report.results.push_back(res);
  EXPECT_THAT(FormatDoctorText(report), Not(HasSubstr("s3cret")));
  EXPECT_THAT(DoctorJson(report).dump(), Not(HasSubstr("s3cret")));
  EXPECT_THAT(FixLines(*FindClientCheck("curl"), res, report),
              ElementsAre(HasSubstr("relaytap proxy --listen 127.0.0.1:8123")));
}

TEST(DoctorRecordTest, EachRuntimeFoundIsOneLocalCheckRow) {
  DoctorReport report = ReportForFixes(ProxySource::kEnvironment);
  RuntimeResult ok;
  ok.name = "node-ws";
  ok.verdict = Verdict::kOk;
  ok.ms = 40;
  ok.answer.ca_fingerprint = "AB:CD";
  RuntimeResult missing;
  missing.name = "python-httpx";
  missing.verdict = Verdict::kNotFound;
  RuntimeResult untrusted;
  untrusted.name = "python-requests";
  untrusted.verdict = Verdict::kCaNotTrusted;
  report.results = {ok, missing, untrusted};
  const auto rows = LocalCheckRowsOf(report, 1000);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].tool, "doctor node-ws");
  EXPECT_EQ(rows[0].url, kCheckWsUrl);
  EXPECT_TRUE(rows[0].ok);
  EXPECT_THAT(rows[0].stages, HasSubstr(R"("ca_fingerprint":"AB:CD")"));
  EXPECT_EQ(rows[1].tool, "doctor python-requests");
  EXPECT_EQ(rows[1].url, kCheckUrl);
  EXPECT_FALSE(rows[1].ok);
  EXPECT_EQ(rows[1].failed_stage, "ca_not_trusted");
}

TEST(RunDoctorTest, AnUnknownRuntimeOrABadProxyIsAUsageError) {
  DoctorOptions o;
  o.ca_dir = "/nonexistent";
  o.runtimes = {"cobol"};
  EXPECT_TRUE(absl::IsInvalidArgument(RunDoctor(o).status()));
  o.runtimes = {"curl"};
  o.proxy = "socks5://127.0.0.1:1";
  EXPECT_TRUE(absl::IsInvalidArgument(RunDoctor(o).status()));
}

TEST(RunDoctorTest, ARuntimeNotOnPathIsNotFoundAndNotAFailure) {
  DoctorOptions o;
  o.ca_dir = "/nonexistent";
  o.env = {"PATH=/nonexistent-bin"};
  auto report = RunDoctor(o);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->not_found, static_cast<int>(AllClientChecks().size()));
  EXPECT_EQ(report->failed, 0);
  EXPECT_EQ(ExitCodeOf(*report), 0);
}

TEST(ChildProcessTest, CapturesOutputAndExitCode) {
  const ChildResult r = RunChild({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, {"PATH=/bin"},
                                 std::chrono::seconds(20));
  EXPECT_TRUE(r.started);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(ChildProcessTest, TheEnvironmentIsExactlyTheOneGiven) {
  const ChildResult r =
      RunChild({"/bin/sh", "-c", "echo \"$ONLY:$HOME\""}, {"ONLY=this"}, std::chrono::seconds(20));
  EXPECT_EQ(r.out, "this:\n");
}

bool Gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const size_t paren = line.rfind(')');
  return paren != std::string::npos && line.size() > paren + 2 && line[paren + 2] == 'Z';
}

TEST(ChildProcessTest, AChildPastItsDeadlineIsKilledWithItsChildren) {
  // The shell starts a grandchild that holds the pipes open, then both wait forever.
  const ChildResult r = RunChild({"/bin/sh", "-c", "sleep 60 & echo $!; wait"}, {"PATH=/bin"},
                                 std::chrono::milliseconds(300));
  EXPECT_TRUE(r.started);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, -1);
  const pid_t grandchild = static_cast<pid_t>(std::atoi(r.out.c_str()));
  ASSERT_GT(grandchild, 0) << r.out;
  EXPECT_TRUE(testing::WaitFor([&] { return Gone(grandchild); }, "the grandchild to be killed"));
}

TEST(ChildProcessTest, AMissingProgramDoesNotStart) {
  const ChildResult r = RunChild({"/nonexistent/program"}, {}, std::chrono::seconds(5));
  EXPECT_FALSE(r.started);
  EXPECT_THAT(r.start_error, HasSubstr("/nonexistent/program"));
}

TEST(ChildProcessTest, ProgramsAreFoundOnTheGivenPath) {
  EXPECT_EQ(FindProgram("sh", "/nonexistent:/bin"), std::filesystem::path("/bin/sh"));
  EXPECT_TRUE(FindProgram("sh", "/nonexistent").empty());
  EXPECT_TRUE(FindProgram("sh", "").empty());
}

TEST(ScriptDirTest, ScriptsLiveInAPrivateDirectoryRemovedAfter) {
  std::filesystem::path dir;
  {
    auto scripts = ScriptDir::Create();
    ASSERT_TRUE(scripts.ok()) << scripts.status();
    dir = scripts->dir();
    struct stat st;
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    for (Program p : {Program::kPython, Program::kNode}) {
      ASSERT_EQ(::stat(scripts->ScriptFor(p).c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 0777, 0600u);
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace relaytap::tools::doctor
