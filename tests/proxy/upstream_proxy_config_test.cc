// --upstream-proxy and its companions: the URL, credentials from a file or the environment (and
// never in an error), HTTPS_PROXY read only with "env", the bypass patterns, and a proxy that is
// relaytap's own listen address refused as a loop.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>

#include "base/status_macros.h"
#include "proxy/config/config.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace relaytap::proxy {
namespace {

using ::relaytap::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

// A fake environment for ResolveUpstreamProxy.
std::map<std::string, std::string>* g_env = nullptr;
const char* FakeEnv(const char* name) {
  auto it = g_env->find(name);
  return it == g_env->end() ? nullptr : it->second.c_str();
}

class UpstreamProxyConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { g_env = &env_; }
  void TearDown() override { g_env = nullptr; }
  std::map<std::string, std::string> env_;
};

TEST(UpstreamProxyUrlTest, ParsesHostPortAndDecodedCredentials) {
  auto p = ParseUpstreamProxyUrl("http://us%40r:p%3Ass@proxy.corp.example:3128/");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->address, (HostPort{"proxy.corp.example", 3128}));
  EXPECT_EQ(p->credentials, "us@r:p:ss");
  EXPECT_EQ(p->Display(), "http://proxy.corp.example:3128");
  auto v6 = ParseUpstreamProxyUrl("http://[::1]:8888");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->Display(), "http://[::1]:8888");
  EXPECT_TRUE(v6->credentials.empty());
}

TEST(UpstreamProxyUrlTest, BadUrlsAreUsageErrorsWithoutTheCredentials) {
  for (const char* url : {"https://u:Secr3t@proxy:3128", "http://u:Secr3t@proxy", "proxy:3128",
                          "http://u:Secr3t@proxy:3128/path", "http://u:Secr3t%zz@proxy:3128",
                          "http://Secr3t@proxy:3128"}) {
    SCOPED_TRACE(url);
    auto p = ParseUpstreamProxyUrl(url);
    EXPECT_THAT(p.status(), StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(std::string(p.status().message()), Not(HasSubstr("Secr3t")));
  }
}

TEST_F(UpstreamProxyConfigTest, HttpsProxyIsReadOnlyWithEnv) {
  env_["HTTPS_PROXY"] = "http://10.0.0.8:3128";
  ProxyConfig c;
  ASSERT_TRUE(ResolveUpstreamProxy(c, &FakeEnv).ok());
  EXPECT_FALSE(c.upstream_proxy) << "HTTPS_PROXY is relaytap's own environment: ignored";
  c.upstream_proxy_from_env = true;
  ASSERT_TRUE(ResolveUpstreamProxy(c, &FakeEnv).ok());
  ASSERT_TRUE(c.upstream_proxy);
  EXPECT_EQ(c.upstream_proxy->address, (HostPort{"10.0.0.8", 3128}));
  env_.clear();
  env_["https_proxy"] = "http://10.0.0.9:3128";
  ASSERT_TRUE(ResolveUpstreamProxy(c, &FakeEnv).ok());
  EXPECT_EQ(c.upstream_proxy->address, (HostPort{"10.0.0.9", 3128}));
  env_.clear();
  EXPECT_THAT(ResolveUpstreamProxy(c, &FakeEnv),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("HTTPS_PROXY")));
}

TEST_F(UpstreamProxyConfigTest, NoProxyWithEnvBecomesBypassPatterns) {
  env_["HTTPS_PROXY"] = "http://10.0.0.8:3128";
  env_["NO_PROXY"] = "localhost, .corp.example,10.0.0.0/8,api.example:443,127.0.0.1,*.svc";
  ProxyConfig c;
  c.no_upstream_proxy_for = {"given.example"};
  c.upstream_proxy_from_env = true;
  ASSERT_TRUE(ResolveUpstreamProxy(c, &FakeEnv).ok());
  EXPECT_THAT(c.no_upstream_proxy_for,
              ::testing::ElementsAre("given.example", "localhost", "*.localhost", "corp.example",
                                     "*.corp.example", "127.0.0.1", "svc", "*.svc"));
  EXPECT_THAT(c.no_proxy_ignored, ::testing::ElementsAre("10.0.0.0/8", "api.example:443"));
  EXPECT_FALSE(UsesUpstreamProxy(c, {"a.corp.example", 443}));
  EXPECT_TRUE(UsesUpstreamProxy(c, {"contoso.openai.azure.com", 443}));
  ProxyConfig flag;  // without env, NO_PROXY is not read either
  flag.upstream_proxy = *ParseUpstreamProxyUrl("http://proxy:3128");
  ASSERT_TRUE(ResolveUpstreamProxy(flag, &FakeEnv).ok());
  EXPECT_TRUE(flag.no_upstream_proxy_for.empty());
}

TEST_F(UpstreamProxyConfigTest, CredentialsFromAFileOrTheEnvironmentReplaceTheUrls) {
  const auto file = relaytap::testing::FreshTempDir("upstream_proxy_auth") / "auth";
  std::ofstream(file) << "filed:Pa55\n";
  ProxyConfig c;
  c.upstream_proxy = *ParseUpstreamProxyUrl("http://url:pw@proxy:3128");
  c.upstream_proxy_auth_file = file;
  ASSERT_TRUE(ResolveUpstreamProxy(c, &FakeEnv).ok());
  EXPECT_EQ(c.upstream_proxy->credentials, "filed:Pa55");
  c.upstream_proxy_auth_file.reset();
  c.upstream_proxy_auth_env = "CORP_PROXY_AUTH";
  EXPECT_THAT(ResolveUpstreamProxy(c, &FakeEnv),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("CORP_PROXY_AUTH")));
  env_["CORP_PROXY_AUTH"] = "envy:Secr3t";
  ASSERT_TRUE(ResolveUpstreamProxy(c, &FakeEnv).ok());
  EXPECT_EQ(c.upstream_proxy->credentials, "envy:Secr3t");
  env_["CORP_PROXY_AUTH"] = "Secr3t";  // no user
  absl::Status st = ResolveUpstreamProxy(c, &FakeEnv);
  EXPECT_THAT(st, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("USER:PASS")));
  EXPECT_THAT(std::string(st.message()), Not(HasSubstr("Secr3t")));
  ProxyConfig none;
  none.upstream_proxy_auth_env = "CORP_PROXY_AUTH";
  EXPECT_THAT(ResolveUpstreamProxy(none, &FakeEnv),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("need --upstream-proxy")));
}

TEST(UpstreamProxyValidateTest, ItsOwnListenAddressIsALoop) {
  ProxyConfig c;
  c.listen = {"127.0.0.1", 8080};
  for (const char* url : {"http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"}) {
    SCOPED_TRACE(url);
    c.upstream_proxy = *ParseUpstreamProxyUrl(url);
    EXPECT_THAT(ValidateConfig(c),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a loop")));
  }
  c.upstream_proxy = *ParseUpstreamProxyUrl("http://127.0.0.1:3128");
  EXPECT_TRUE(ValidateConfig(c).ok());
  c.no_upstream_proxy_for = {"*.bad*"};
  EXPECT_THAT(ValidateConfig(c),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--no-upstream-proxy-for")));
}

TEST(UpstreamProxyValidateTest, BypassPatternsDialDirectly) {
  ProxyConfig c;
  EXPECT_FALSE(UsesUpstreamProxy(c, {"contoso.openai.azure.com", 443}));
  c.upstream_proxy = *ParseUpstreamProxyUrl("http://proxy:3128");
  c.no_upstream_proxy_for = {"*.internal.example", "api.openai.com"};
  EXPECT_TRUE(UsesUpstreamProxy(c, {"contoso.openai.azure.com", 443}));
  EXPECT_FALSE(UsesUpstreamProxy(c, {"API.openai.com", 443}));
  EXPECT_FALSE(UsesUpstreamProxy(c, {"a.b.internal.example", 443}));
}

TEST(UpstreamProxyConfigFileTest, KeysAndTheirErrors) {
  const auto dir = relaytap::testing::FreshTempDir("upstream_proxy_config");
  auto load = [&](const std::string& text) -> absl::StatusOr<ProxyConfig> {
    std::ofstream(dir / "c.json") << text;
    ProxyConfig c;
    RELAYTAP_RETURN_IF_ERROR(MergeConfigFile(dir / "c.json", c));
    return c;
  };
  auto c = load(R"({"upstream_proxy": "http://proxy:3128", "no_upstream_proxy_for": ["a.b"],
                    "upstream_proxy_auth_env": "X"})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->upstream_proxy->address, (HostPort{"proxy", 3128}));
  EXPECT_EQ(c->no_upstream_proxy_for, std::vector<std::string>{"a.b"});
  EXPECT_EQ(c->upstream_proxy_auth_env, "X");
  auto env = load(R"({"upstream_proxy": "env"})");
  ASSERT_TRUE(env.ok());
  EXPECT_TRUE(env->upstream_proxy_from_env);
  EXPECT_THAT(load(R"({"upstream_proxy": 3128})").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'upstream_proxy'")));
}

}  // namespace
}  // namespace relaytap::proxy
