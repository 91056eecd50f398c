// `relaytap doctor` against a relaytap on loopback, with real runtimes (curl, python3 libraries,
// node and the `ws` package): an environment that does not trust the CA is told so, with the
// fix lines; applying them makes it pass; an environment without a proxy is told it does not
// use relaytap. A runtime that is not installed skips its test (CI installs them all:
// scripts/install-deps.sh). No test lets a client go direct: that would be a DNS query.
#include "tools/doctor/doctor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "proxy/config/config.h"
#include "proxy/tls/cert_authority.h"
#include "tests/testing/ports.h"
#include "tests/testing/proxy_harness.h"
#include "tools/doctor/child_process.h"
#include "tools/doctor/report.h"

namespace relaytap::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using tools::doctor::DoctorOptions;
using tools::doctor::DoctorReport;
using tools::doctor::RunDoctor;
using tools::doctor::RuntimeResult;
using tools::doctor::Verdict;

constexpr std::chrono::milliseconds kClientTimeout{20'000};

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// A clean environment: nothing that trusts relaytap's CA, no proxy. Debian's python3 (where
// install-deps.sh puts requests, websocket-client...) comes before the rest of PATH; the `ws`
// package comes from the client suite's node_modules.
std::vector<std::string> CleanEnvironment() {
  std::vector<std::string> env = {
      "PATH=/usr/bin:/bin:" + Getenv("PATH"), "HOME=" + Getenv("HOME"), "LANG=C.UTF-8",
      "NODE_PATH=" RELAYTAP_SOURCE_DIR "/tests/clients/node/node_modules"};
  for (const char* keep : {"PYENV_ROOT", "PYENV_VERSION"}) {
    if (!Getenv(keep).empty()) env.push_back(std::string(keep) + "=" + Getenv(keep));
  }
  return env;
}

std::vector<std::string> ProxiedEnvironment(const ProxyHarness& h) {
  std::vector<std::string> env = CleanEnvironment();
  env.push_back("HTTPS_PROXY=http://127.0.0.1:" + std::to_string(h.proxy_port()));
  return env;
}

RuntimeResult RunOneRuntime(const std::string& name, std::vector<std::string> env,
                            const std::filesystem::path& ca_dir, DoctorReport* report = nullptr) {
  DoctorOptions o;
  o.ca_dir = ca_dir.string();
  o.timeout = kClientTimeout;
  o.runtimes = {name};
  o.env = std::move(env);
  absl::StatusOr<DoctorReport> r = RunDoctor(o);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok() || r->results.size() != 1) return {};
  if (report != nullptr) *report = *r;
  return r->results[0];
}

// Does what the fix lines say, as a shell would: `export NAME=VALUE`, and the `relaytap ca env`
// line that writes the trust bundle.
void ApplyFix(const std::vector<std::string>& fix, const std::filesystem::path& ca_dir,
              std::vector<std::string>& env) {
  for (const std::string& line : fix) {
    if (line.starts_with("relaytap ca env")) {
      auto ca = proxy::tls::CertAuthority::LoadOrCreate(
          ca_dir,
          {.patterns = proxy::ProxyConfig::DefaultInterceptPatterns(), .follow_patterns = false});
      ASSERT_TRUE(ca.ok()) << ca.status();
      ASSERT_TRUE(proxy::tls::WriteTrustBundle(**ca, ca_dir).ok());
      continue;
    }
    ASSERT_TRUE(line.starts_with("export ")) << line;
    const size_t eq = line.find('=');
    ASSERT_NE(eq, std::string::npos) << line;
    std::string value = line.substr(eq + 1);
    ASSERT_NE(value.front(), '\'') << "the test's CA path needs no quoting: " << line;
    tools::doctor::SetEnv(env, line.substr(7, eq - 7), value);
  }
}

struct TrustCase {
  const char* runtime;
  const char* variable;  // the fix's trust variable
};

class DoctorTrustTest : public ::testing::TestWithParam<TrustCase> {};

TEST_P(DoctorTrustTest, AClientThatDoesNotTrustTheCaIsToldHowAndPassesOnceFixed) {
  const TrustCase& c = GetParam();
  ProxyHarness h;
  std::vector<std::string> env = ProxiedEnvironment(h);
  DoctorReport report;
  const RuntimeResult before = RunOneRuntime(c.runtime, env, h.proxy_ca_dir(), &report);
  if (before.verdict == Verdict::kNotFound) GTEST_SKIP() << c.runtime << ": " << before.detail;
  EXPECT_EQ(before.verdict, Verdict::kCaNotTrusted) << before.error;
  EXPECT_THAT(before.detail, HasSubstr("does not trust the CA"));
  EXPECT_THAT(before.fix, Contains(HasSubstr(std::string("export ") + c.variable + "=")));
  const std::string text = tools::doctor::FormatDoctorText(report);
  EXPECT_THAT(text, HasSubstr("trusts the CA: no"));
  EXPECT_THAT(text, HasSubstr(std::string("export ") + c.variable + "="));

  ApplyFix(before.fix, h.proxy_ca_dir(), env);
  const RuntimeResult after = RunOneRuntime(c.runtime, env, h.proxy_ca_dir(), &report);
  EXPECT_EQ(after.verdict, Verdict::kOk) << after.error;
  EXPECT_TRUE(after.fix.empty());
  EXPECT_EQ(after.answer.ca_fingerprint, report.ca_fingerprint);
  EXPECT_FALSE(report.ca_fingerprint.empty());
  EXPECT_THAT(after.answer.client, HasSubstr("127.0.0.1:"));
  EXPECT_EQ(h.upstream().request_count(), 0u);  // the self-check never leaves relaytap
}

INSTANTIATE_TEST_SUITE_P(Runtimes, DoctorTrustTest,
                         ::testing::Values(TrustCase{"curl", "CURL_CA_BUNDLE"},
                                           TrustCase{"python-requests", "REQUESTS_CA_BUNDLE"},
                                           TrustCase{"python-httpx", "SSL_CERT_FILE"},
                                           TrustCase{"python-aiohttp", "SSL_CERT_FILE"},
                                           TrustCase{"python-websocket-client", "SSL_CERT_FILE"},
                                           TrustCase{"node-ws", "NODE_EXTRA_CA_CERTS"}),
                         [](const auto& param_info) {
                           std::string name = param_info.param.runtime;
                           for (char& ch : name) ch = ch == '-' ? '_' : ch;
                           return name;
                         });

TEST(DoctorTest, WithoutAProxyEveryRuntimeIsReportedAsNotUsingRelaytap) {
  ProxyHarness h;
  DoctorOptions o;
  o.ca_dir = h.proxy_ca_dir().string();
  o.timeout = kClientTimeout;
  o.runtimes = {"curl", "python-requests", "node-ws"};
  o.env = CleanEnvironment();
  absl::StatusOr<DoctorReport> r = RunDoctor(o);
  ASSERT_TRUE(r.ok()) << r.status();
  if (r->not_found == static_cast<int>(r->results.size())) GTEST_SKIP() << "no runtime found";
  for (const RuntimeResult& res : r->results) {
    if (res.verdict == Verdict::kNotFound) continue;
    EXPECT_EQ(res.verdict, Verdict::kNoProxy) << res.name;
    EXPECT_THAT(res.fix, Contains(HasSubstr("export HTTPS_PROXY="))) << res.name;
    EXPECT_FALSE(res.version.empty()) << res.name;
  }
  const std::string text = tools::doctor::FormatDoctorText(*r);
  EXPECT_THAT(text, HasSubstr("the app would not use relaytap at all"));
  EXPECT_THAT(text, HasSubstr("uses the proxy: no"));
  EXPECT_EQ(tools::doctor::ExitCodeOf(*r), 1);
}

TEST(DoctorTest, TheProxyFlagIsGivenToTheClientsAndTheEnvironmentsLackIsNamed) {
  ProxyHarness h;
  std::vector<std::string> env = CleanEnvironment();
  env.push_back("CURL_CA_BUNDLE=" + h.proxy_ca_pem().string());
  DoctorOptions o;
  o.ca_dir = h.proxy_ca_dir().string();
  o.timeout = kClientTimeout;
  o.runtimes = {"curl"};
  o.env = env;
  o.proxy = "http://127.0.0.1:" + std::to_string(h.proxy_port());
  absl::StatusOr<DoctorReport> r = RunDoctor(o);
  ASSERT_TRUE(r.ok()) << r.status();
  if (r->not_found == 1) GTEST_SKIP() << "no curl";
  EXPECT_EQ(r->results[0].verdict, Verdict::kOk) << r->results[0].error;
  EXPECT_THAT(tools::doctor::FormatDoctorText(*r),
              HasSubstr("the environment has none: the app would not use relaytap at all"));
  EXPECT_EQ(tools::doctor::ExitCodeOf(*r), 0);
}

TEST(DoctorTest, AnotherRelaytapsCaIsNamed) {
  ProxyHarness h;
  std::vector<std::string> env = ProxiedEnvironment(h);
  env.push_back("CURL_CA_BUNDLE=" + h.proxy_ca_pem().string());
  // The fake upstream's CA directory stands for a relaytap with another CA.
  const RuntimeResult res = RunOneRuntime("curl", env, h.upstream_ca_pem().parent_path());
  if (res.verdict == Verdict::kNotFound) GTEST_SKIP() << "no curl";
  EXPECT_EQ(res.verdict, Verdict::kOtherCa) << res.error;
  EXPECT_THAT(res.detail, HasSubstr("another CA"));
}

TEST(DoctorTest, AProxyThatDoesNotAnswerIsNamed) {
  ProxyHarness h;
  std::vector<std::string> env = CleanEnvironment();
  const uint16_t closed = FreeLoopbackPort();  // nothing listens there
  env.push_back("HTTPS_PROXY=http://127.0.0.1:" + std::to_string(closed));
  const RuntimeResult res = RunOneRuntime("python-requests", env, h.proxy_ca_dir());
  if (res.verdict == Verdict::kNotFound) GTEST_SKIP() << res.detail;
  EXPECT_EQ(res.verdict, Verdict::kProxyDown) << res.error;
  EXPECT_THAT(res.fix, Contains(HasSubstr("relaytap proxy --listen 127.0.0.1:")));
}

}  // namespace
}  // namespace relaytap::testing
