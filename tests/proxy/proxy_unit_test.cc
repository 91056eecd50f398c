// Pure parts of the proxy: routing patterns, --connect-to, listen addresses, header rules,
// config files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "proxy/config/config.h"
#include "proxy/config/route.h"
#include "proxy/http/header_rules.h"

namespace relaytap::proxy {
namespace {

using http_relay::RewriteHeaderBlock;
using http_relay::SplitAbsoluteHttpTarget;

TEST(RouteTest, WildcardMatchesSubdomainsAtAnyDepthButNotTheApex) {
  EXPECT_TRUE(HostMatchesPattern("myres.openai.azure.com", "*.openai.azure.com"));
  EXPECT_TRUE(HostMatchesPattern("a.b.openai.azure.com", "*.openai.azure.com"));
  EXPECT_FALSE(HostMatchesPattern("openai.azure.com", "*.openai.azure.com"));
  EXPECT_FALSE(HostMatchesPattern("evilopenai.azure.com", "*.openai.azure.com"));
}

TEST(RouteTest, MatchingIgnoresCaseAndTrailingDot) {
  EXPECT_TRUE(HostMatchesPattern("API.OpenAI.com.", "api.openai.com"));
  EXPECT_TRUE(HostMatchesPattern("MyRes.OpenAI.Azure.com", "*.openai.azure.com"));
}

TEST(RouteTest, DefaultPatternsInterceptAzureAndOpenAiOnly) {
  auto patterns = ProxyConfig::DefaultInterceptPatterns();
  EXPECT_EQ(Decide("contoso.openai.azure.com", patterns), Route::kIntercept);
  EXPECT_EQ(Decide("contoso.cognitiveservices.azure.com", patterns), Route::kIntercept);
  EXPECT_EQ(Decide("proj.services.ai.azure.com", patterns), Route::kIntercept);
  EXPECT_EQ(Decide("api.openai.com", patterns), Route::kIntercept);
  EXPECT_EQ(Decide("eastus2.realtimeapi-preview.ai.azure.com", patterns), Route::kIntercept);
  EXPECT_EQ(Decide("github.com", patterns), Route::kTunnel);
  EXPECT_EQ(Decide("login.microsoftonline.com", patterns), Route::kTunnel);
}

TEST(RouteTest, TheSelfCheckHostIsAlwaysIntercepted) {
  EXPECT_EQ(Decide("check.relaytap.invalid", {"*.openai.azure.com"}), Route::kIntercept);
  EXPECT_EQ(Decide("CHECK.relaytap.invalid.", {"127.0.0.1"}), Route::kIntercept);
  EXPECT_EQ(Decide("other.relaytap.invalid", {"*.openai.azure.com"}), Route::kTunnel);
}

TEST(RouteTest, StarInterceptsEverything) {
  EXPECT_EQ(Decide("anything.example", {"*"}), Route::kIntercept);
}

TEST(RouteTest, InvalidPatternsAreRejected) {
  EXPECT_TRUE(ValidatePattern("*.example.com").ok());
  EXPECT_FALSE(ValidatePattern("*.").ok());
  EXPECT_FALSE(ValidatePattern("exa mple.com").ok());
  EXPECT_FALSE(ValidatePattern("a*b.com").ok());
}

TEST(ConnectToTest, ParsesCurlForm) {
  auto r = ParseConnectTo("api.openai.com:443:127.0.0.1:9443");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->host, "api.openai.com");
  EXPECT_EQ(r->port, 443);
  EXPECT_EQ(r->to_host, "127.0.0.1");
  EXPECT_EQ(r->to_port, 9443);
}

TEST(ConnectToTest, EmptyPartsMeanAnyOrKeep) {
  auto r = ParseConnectTo("::127.0.0.1:");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->host, "");
  EXPECT_EQ(r->port, 0);
  EXPECT_EQ(r->to_host, "127.0.0.1");
  EXPECT_EQ(r->to_port, 0);
  HostPort dial = ResolveConnectTo({*r}, {"x.openai.azure.com", 443});
  EXPECT_EQ(dial.host, "127.0.0.1");
  EXPECT_EQ(dial.port, 443);
}

TEST(ConnectToTest, BracketedIpv6) {
  auto r = ParseConnectTo("[::1]:443:[::1]:8443");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->host, "::1");
  EXPECT_EQ(r->to_host, "::1");
  EXPECT_EQ(r->to_port, 8443);
}

TEST(ConnectToTest, RejectsMalformedRules) {
  EXPECT_FALSE(ParseConnectTo("a.com:443").ok());
  EXPECT_FALSE(ParseConnectTo("a.com:443:b.com").ok());
  EXPECT_FALSE(ParseConnectTo("a.com:http:b.com:80").ok());
  EXPECT_FALSE(ParseConnectTo("a.com:443:b.com:99999").ok());
}

TEST(ConnectToTest, FirstMatchingRuleWinsAndOthersPassThrough) {
  std::vector<ConnectTo> rules = {*ParseConnectTo("a.com:443:127.0.0.1:1001"),
                                  *ParseConnectTo("a.com::127.0.0.1:1002")};
  EXPECT_EQ(ResolveConnectTo(rules, {"A.com", 443}).port, 1001);
  EXPECT_EQ(ResolveConnectTo(rules, {"a.com", 8443}).port, 1002);
  HostPort other = ResolveConnectTo(rules, {"b.com", 443});
  EXPECT_EQ(other.host, "b.com");
  EXPECT_EQ(other.port, 443);
}

TEST(ListenTest, LoopbackOnlyUnlessAllowed) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.8.9.10"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  ProxyConfig c;
  c.listen = *ParseHostPort("0.0.0.0:8080");
  EXPECT_FALSE(ValidateConfig(c).ok());
  c.allow_remote = true;
  EXPECT_FALSE(ValidateConfig(c).ok());  // remote mode needs credentials or an allowlist
  c.proxy_auth_file = "/etc/relaytap/proxy-auth";
  EXPECT_TRUE(ValidateConfig(c).ok());
}

// Every intercept pattern must become a name constraint of the CA (issue #14 item 5).
TEST(InterceptPatternTest, PatternsTheCaCannotConstrainAreConfigErrors) {
  ProxyConfig c;
  for (const char* p : {"*.openai.azure.com", "api.openai.com", "127.0.0.1", "[::1]", "*"}) {
    c.intercept = {p};
    EXPECT_TRUE(ValidateConfig(c).ok()) << p;
  }
  for (const char* p : {"host:443", "*.", "-bad.example.com", "*.127.0.0.1"}) {
    c.intercept = {p};
    EXPECT_EQ(ValidateConfig(c).code(), absl::StatusCode::kInvalidArgument) << p;
  }
}

TEST(ListenTest, ParsesHostPort) {
  auto hp = ParseHostPort("[::1]:8080");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 8080);
  EXPECT_FALSE(ParseHostPort("127.0.0.1").ok());
  EXPECT_FALSE(ParseHostPort(":8080").ok());
}

TEST(HeaderRulesTest, DropsProxyAndKeepAliveFieldsKeepsEverythingElseByteForByte) {
  std::string raw =
      "POST /openai/v1/responses HTTP/1.1\r\n"
      "Host: x.openai.azure.com\r\n"
      "Proxy-Connection: keep-alive\r\n"
      "api-key:   spaced-value  \r\n"
      "Proxy-Authorization: Basic abc\r\n"
      "Keep-Alive: timeout=5\r\n"
      "X-Odd-Case:\tv\r\n"
      "Transfer-Encoding: chunked\r\n"
      "\r\n";
  EXPECT_EQ(RewriteHeaderBlock(raw),
            "POST /openai/v1/responses HTTP/1.1\r\n"
            "Host: x.openai.azure.com\r\n"
            "api-key:   spaced-value  \r\n"
            "X-Odd-Case:\tv\r\n"
            "Transfer-Encoding: chunked\r\n"
            "\r\n");
}

TEST(HeaderRulesTest, DropsFieldsNominatedByConnectionButKeepsUpgrade) {
  std::string raw =
      "GET /openai/v1/realtime?model=gpt HTTP/1.1\r\n"
      "Connection: Upgrade, X-Hop\r\n"
      "Upgrade: websocket\r\n"
      "X-Hop: 1\r\n"
      "Sec-WebSocket-Key: abc\r\n"
      "\r\n";
  EXPECT_EQ(RewriteHeaderBlock(raw),
            "GET /openai/v1/realtime?model=gpt HTTP/1.1\r\n"
            "Connection: Upgrade, X-Hop\r\n"
            "Upgrade: websocket\r\n"
            "Sec-WebSocket-Key: abc\r\n"
            "\r\n");
}

TEST(HeaderRulesTest, RewritesAbsoluteFormTarget) {
  std::string raw = "GET http://h:81/a?b=c HTTP/1.1\r\nHost: h:81\r\n\r\n";
  EXPECT_EQ(RewriteHeaderBlock(raw, "/a?b=c"), "GET /a?b=c HTTP/1.1\r\nHost: h:81\r\n\r\n");
}

TEST(HeaderRulesTest, SplitsAbsoluteTargets) {
  std::string host, origin;
  uint16_t port = 0;
  ASSERT_TRUE(SplitAbsoluteHttpTarget("http://example.test/x?y", &host, &port, &origin));
  EXPECT_EQ(host, "example.test");
  EXPECT_EQ(port, 80);
  EXPECT_EQ(origin, "/x?y");
  ASSERT_TRUE(SplitAbsoluteHttpTarget("http://[::1]:8080", &host, &port, &origin));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8080);
  EXPECT_EQ(origin, "/");
  EXPECT_FALSE(SplitAbsoluteHttpTarget("/relative", &host, &port, &origin));
  EXPECT_FALSE(SplitAbsoluteHttpTarget("https://secure.test/", &host, &port, &origin));
  EXPECT_FALSE(SplitAbsoluteHttpTarget("http://h:0/", &host, &port, &origin));
}

// Found by tests/fuzz/http_head_fuzz: a host with stray brackets or colons was accepted (and
// split differently once rebuilt), and anything after "]" was ignored.
TEST(HeaderRulesTest, RejectsMalformedAuthorities) {
  std::string host, origin;
  uint16_t port = 0;
  EXPECT_FALSE(SplitAbsoluteHttpTarget("http://x[::1]:9000/", &host, &port, &origin));
  EXPECT_FALSE(SplitAbsoluteHttpTarget("http://[::1]junk/", &host, &port, &origin));
  EXPECT_FALSE(SplitAbsoluteHttpTarget("http://[[::1]/", &host, &port, &origin));
  EXPECT_FALSE(SplitAbsoluteHttpTarget("http://a:b:80/", &host, &port, &origin));
  EXPECT_FALSE(SplitAbsoluteHttpTarget("http://::1/", &host, &port, &origin));
  ASSERT_TRUE(SplitAbsoluteHttpTarget("http://u:p@h.test:81/?q", &host, &port, &origin));
  EXPECT_EQ(host, "h.test");
  EXPECT_EQ(port, 81);
  EXPECT_EQ(origin, "/?q");
}

TEST(ConfigFileTest, TheExampleConfigParsesAndHoldsTheDefaults) {
  ProxyConfig c;
  ASSERT_TRUE(MergeConfigFile(RELAYTAP_SOURCE_DIR "/configs/relaytap.example.json", c).ok());
  ProxyConfig defaults;
  EXPECT_EQ(c.listen.port, defaults.listen.port);
  EXPECT_EQ(c.intercept, defaults.intercept);
  EXPECT_EQ(c.db, defaults.db);
  EXPECT_EQ(c.record, defaults.record);
  EXPECT_EQ(c.http_idle_timeout, defaults.http_idle_timeout);
  EXPECT_EQ(c.head_timeout, defaults.head_timeout);
  EXPECT_EQ(c.tunnel_idle_timeout, defaults.tunnel_idle_timeout);
  EXPECT_EQ(c.max_connections, defaults.max_connections);
}

TEST(ConfigFileTest, MergesKnownKeysAndRejectsUnknownOnes) {
  auto dir = std::filesystem::path(::testing::TempDir()) / "relaytap_config_test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "good.json") << R"({"listen": "127.0.0.1:9999", "intercept": ["*"],
      "connect_to": ["a.com:443:127.0.0.1:1"], "_comment": "ok", "connect_timeout_ms": 1500,
      "db": "x.db", "record": false, "durability": "full", "head_timeout_ms": 2500,
      "tunnel_idle_timeout_ms": 60000, "max_connections": 100})";
    std::ofstream(dir / "max.json") << R"({"max_connections": -1})";
    std::ofstream(dir / "durability.json") << R"({"durability": "sometimes"})";
    std::ofstream(dir / "bad.json") << R"({"listen": "127.0.0.1:9999", "lisen": 1})";
    std::ofstream(dir / "type.json") << R"({"allow_remote": "yes"})";
  }
  ProxyConfig c;
  ASSERT_TRUE(MergeConfigFile(dir / "good.json", c).ok());
  EXPECT_EQ(c.listen.port, 9999);
  EXPECT_THAT(c.intercept, ::testing::ElementsAre("*"));
  EXPECT_EQ(c.connect_to.size(), 1u);
  EXPECT_EQ(c.connect_timeout.count(), 1500);
  EXPECT_EQ(c.db, "x.db");
  EXPECT_FALSE(c.record);
  EXPECT_EQ(c.durability, "full");
  EXPECT_EQ(c.head_timeout.count(), 2500);
  EXPECT_EQ(c.tunnel_idle_timeout.count(), 60000);
  EXPECT_EQ(c.max_connections, 100);
  EXPECT_THAT(std::string(MergeConfigFile(dir / "max.json", c).message()),
              ::testing::HasSubstr("max_connections"));
  EXPECT_FALSE(MergeConfigFile(dir / "durability.json", c).ok());
  absl::Status bad = MergeConfigFile(dir / "bad.json", c);
  EXPECT_THAT(std::string(bad.message()), ::testing::HasSubstr("unknown config key 'lisen'"));
  EXPECT_FALSE(MergeConfigFile(dir / "type.json", c).ok());
  EXPECT_FALSE(MergeConfigFile(dir / "missing.json", c).ok());
}

}  // namespace
}  // namespace relaytap::proxy
