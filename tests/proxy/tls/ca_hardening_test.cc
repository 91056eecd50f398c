// Issue #14 item 5, "the CA can mint for anything": name constraints from the intercept patterns
// (read back with OpenSSL), re-issue when the patterns change or the CA is too long-lived (the
// old files kept), no wildcard or malformed names, a bounded LRU leaf cache.
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/tls/cert_authority.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/x509_check.h"

namespace relaytap::proxy::tls {
namespace {

namespace fs = std::filesystem;
using ::relaytap::testing::FreshTempDir;
using ::relaytap::testing::HandMintLeaf;
using ::relaytap::testing::ParseCertPem;
using ::relaytap::testing::ReadFileForTest;
using ::relaytap::testing::StatusIs;
using ::relaytap::testing::VerifyWithAnchor;
using ::relaytap::testing::X509Ptr;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::vector<std::string> kDefaultish = {"*.openai.azure.com", "api.openai.com"};

std::unique_ptr<CertAuthority> Open(const fs::path& dir, CaOptions options) {
  auto ca = CertAuthority::LoadOrCreate(dir, options);
  EXPECT_TRUE(ca.ok()) << ca.status();
  return ca.ok() ? std::move(*ca) : nullptr;
}

std::unique_ptr<CertAuthority> MakeConstrainedCa(const std::string& name) {
  return Open(FreshTempDir(name, "relaytap_cah_"), {.patterns = {"*.example.test"}});
}

struct Subtree {
  int type;
  std::string value;  // DNS name, or address/mask bytes in hex
  bool operator==(const Subtree&) const = default;
};

std::string Hex(const ASN1_STRING* s) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < ASN1_STRING_length(s); ++i) {
    unsigned char c = ASN1_STRING_get0_data(s)[i];
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::vector<Subtree> Subtrees(STACK_OF(GENERAL_SUBTREE) * stack) {
  std::vector<Subtree> out;
  for (int i = 0; i < sk_GENERAL_SUBTREE_num(stack); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_SUBTREE_value(stack, i)->base;
    if (gn->type == GEN_DNS) {
      out.push_back(
          {GEN_DNS, std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                                ASN1_STRING_length(gn->d.dNSName))});
    } else {
      out.push_back({gn->type, gn->type == GEN_IPADD ? Hex(gn->d.iPAddress) : "?"});
    }
  }
  return out;
}

TEST(CaNameConstraintsTest, PatternsBecomeCriticalPermittedSubtrees) {
  fs::path dir = FreshTempDir("subtrees", "relaytap_cah_");
  auto ca = Open(dir, {.patterns = {"*.openai.azure.com", "API.OpenAI.com", "127.0.0.1", "[::1]"}});
  ASSERT_NE(ca, nullptr);
  X509Ptr cert = ParseCertPem(ReadFileForTest(ca->cert_path()));
  int crit = -1;
  auto* nc = static_cast<NAME_CONSTRAINTS*>(
      X509_get_ext_d2i(cert.get(), NID_name_constraints, &crit, nullptr));
  ASSERT_NE(nc, nullptr);
  EXPECT_EQ(crit, 1);
  EXPECT_THAT(Subtrees(nc->permittedSubtrees),
              ElementsAre(Subtree{GEN_DNS, ".openai.azure.com"}, Subtree{GEN_DNS, "api.openai.com"},
                          Subtree{GEN_DNS, "check.relaytap.invalid"},  // the self-check host
                          Subtree{GEN_IPADD, "7f000001ffffffff"},
                          Subtree{GEN_IPADD,
                                  "00000000000000000000000000000001"
                                  "ffffffffffffffffffffffffffffffff"}));
  EXPECT_EQ(nc->excludedSubtrees, nullptr);  // both name types have permitted subtrees
  NAME_CONSTRAINTS_free(nc);
}

TEST(CaNameConstraintsTest, DnsOnlyPatternsExcludeEveryIpAddress) {
  auto ca = MakeConstrainedCa("dns_only");
  ASSERT_NE(ca, nullptr);
  X509Ptr cert = ParseCertPem(ca->cert_pem());
  auto* nc = static_cast<NAME_CONSTRAINTS*>(
      X509_get_ext_d2i(cert.get(), NID_name_constraints, nullptr, nullptr));
  ASSERT_NE(nc, nullptr);
  EXPECT_THAT(Subtrees(nc->permittedSubtrees),
              ElementsAre(Subtree{GEN_DNS, ".example.test"},
                          Subtree{GEN_DNS, "check.relaytap.invalid"}));  // the self-check host
  EXPECT_THAT(Subtrees(nc->excludedSubtrees),
              ElementsAre(Subtree{GEN_IPADD, std::string(16, '0')},
                          Subtree{GEN_IPADD, std::string(64, '0')}));
  NAME_CONSTRAINTS_free(nc);
}

TEST(CaNameConstraintsTest, VerifierRejectsLeavesOutsideTheConstraints) {
  fs::path dir = FreshTempDir("verify", "relaytap_cah_");
  auto ca = Open(dir, {.patterns = {"*.example.test", "127.0.0.1"}});
  ASSERT_NE(ca, nullptr);
  X509Ptr anchor = ParseCertPem(ca->cert_pem());
  struct Case {
    std::string host;
    bool is_ip;
    bool ok;
  };
  for (const Case& c : {Case{"api.example.test", false, true}, Case{"127.0.0.1", true, true},
                        Case{"example.test", false, false}, Case{"www.google.com", false, false},
                        Case{"10.0.0.1", true, false}, Case{"::1", true, false}}) {
    SCOPED_TRACE(c.host);
    X509Ptr leaf = HandMintLeaf(dir, c.host);
    ASSERT_NE(leaf, nullptr);
    EXPECT_EQ(VerifyWithAnchor(anchor.get(), leaf.get(), c.host, c.is_ip),
              c.ok ? "" : "permitted subtree violation");
    // relaytap itself refuses to mint what the constraints exclude.
    EXPECT_EQ(ca->LeafFor(c.host).ok(), c.ok);
  }
  EXPECT_THAT(ca->LeafFor("www.google.com"), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(CaNameConstraintsTest, MintedIpLeafVerifiesUnderMixedConstraints) {
  fs::path dir = FreshTempDir("ip_leaf", "relaytap_cah_");
  auto ca = Open(dir, {.patterns = {"*.example.test", "127.0.0.1", "::1"}});
  ASSERT_NE(ca, nullptr);
  X509Ptr anchor = ParseCertPem(ca->cert_pem());
  for (const std::string ip : {"127.0.0.1", "::1"}) {
    auto leaf = ca->LeafFor(ip);
    ASSERT_TRUE(leaf.ok()) << leaf.status();
    EXPECT_EQ(VerifyWithAnchor(anchor.get(), (*leaf)->cert.get(), ip, true), "") << ip;
  }
}

TEST(CaNameConstraintsTest, StarPatternGivesAnUnconstrainedCa) {
  auto ca = Open(FreshTempDir("star", "relaytap_cah_"), {.patterns = {"*", "*.example.test"}});
  ASSERT_NE(ca, nullptr);
  X509Ptr cert = ParseCertPem(ca->cert_pem());
  EXPECT_LT(X509_get_ext_by_NID(cert.get(), NID_name_constraints, -1), 0);
  EXPECT_TRUE(ca->constraints().unconstrained);
  EXPECT_TRUE(ca->LeafFor("www.google.com").ok());
}

TEST(CaNameConstraintsTest, PatternsThatAreNoNamesAreRefused) {
  for (const std::string p : {"*.", "a.*.example.test", "x:1", "*.127.0.0.1", "bad host"}) {
    auto ca = CertAuthority::LoadOrCreate(FreshTempDir("bad_pattern", "relaytap_cah_"),
                                          {.patterns = {p}});
    EXPECT_THAT(ca, StatusIs(absl::StatusCode::kInvalidArgument)) << p;
  }
}

using ::relaytap::testing::ModeOf;

TEST(CaReissueTest, SamePatternsKeepTheCa) {
  fs::path dir = FreshTempDir("same", "relaytap_cah_");
  auto first = Open(dir, {.patterns = kDefaultish});
  // The same set in another order and case: the same constraints.
  auto second = Open(dir, {.patterns = {"API.openai.com", "*.openai.azure.com"}});
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_FALSE(second->created());
  EXPECT_EQ(second->cert_pem(), first->cert_pem());
  EXPECT_FALSE(fs::exists(second->previous_cert_path()));
}

TEST(CaReissueTest, ChangedPatternsReissueAndKeepThePreviousCa) {
  fs::path dir = FreshTempDir("changed", "relaytap_cah_");
  auto first = Open(dir, {.patterns = kDefaultish});
  ASSERT_NE(first, nullptr);
  auto second = Open(dir, {.patterns = {"*.openai.azure.com", "*.example.test"}});
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(second->created());
  EXPECT_TRUE(second->reissued());
  EXPECT_THAT(second->reissue_reason(), HasSubstr("intercept patterns changed"));
  EXPECT_THAT(second->reissue_reason(), HasSubstr("*.example.test"));
  EXPECT_NE(second->cert_pem(), first->cert_pem());
  EXPECT_EQ(ReadFileForTest(second->previous_cert_path()), first->cert_pem());
  EXPECT_EQ(ModeOf(dir / "relaytap-ca.key.previous"), 0600u);
  EXPECT_EQ(ModeOf(dir / kCaKeyFileName), 0600u);
  EXPECT_TRUE(second->LeafFor("api.example.test").ok());
  // A tool that does not decide the patterns keeps the CA as the proxy made it.
  auto tool = Open(dir, {.patterns = kDefaultish, .follow_patterns = false});
  ASSERT_NE(tool, nullptr);
  EXPECT_FALSE(tool->created());
  EXPECT_EQ(tool->cert_pem(), second->cert_pem());
}

TEST(CaReissueTest, RotateReissuesWithTheSameConstraints) {
  fs::path dir = FreshTempDir("rotate", "relaytap_cah_");
  auto first = Open(dir, {.patterns = {"*.example.test"}});
  ASSERT_NE(first, nullptr);
  auto rotated =
      Open(dir, {.patterns = kDefaultish, .follow_patterns = false, .force_reissue = true});
  ASSERT_NE(rotated, nullptr);
  EXPECT_TRUE(rotated->reissued());
  EXPECT_NE(rotated->cert_pem(), first->cert_pem());
  EXPECT_EQ(rotated->constraints(), first->constraints());
  EXPECT_EQ(ReadFileForTest(rotated->previous_cert_path()), first->cert_pem());
}

TEST(CaReissueTest, UnconstrainedOldCaIsReissued) {
  // A CA from before name constraints: made here by hand with OpenSSL's CLI shape, ten years.
  fs::path dir = FreshTempDir("legacy", "relaytap_cah_");
  auto star = Open(dir, {.patterns = {"*"}});  // no constraints, like the old CAs
  ASSERT_NE(star, nullptr);
  auto now = Open(dir, {.patterns = kDefaultish});
  ASSERT_NE(now, nullptr);
  EXPECT_TRUE(now->reissued());
  EXPECT_FALSE(now->constraints().unconstrained);
}

// Issue #14 item 5: a leaf is for one name; `*` or any name holding it is refused.
TEST(CaLeafNamesTest, RefusesWildcardNames) {
  auto ca = MakeConstrainedCa("wildcard");
  ASSERT_NE(ca, nullptr);
  for (const char* host : {"*", "*.example.test", "a.*.example.test", "a*.example.test", "*."}) {
    EXPECT_THAT(ca->LeafFor(host), StatusIs(absl::StatusCode::kInvalidArgument)) << host;
  }
}

// Label rules: 1..63 characters, no leading or trailing hyphen, no empty label, 253 in all.
TEST(CaLeafNamesTest, RefusesNamesThatAreNotDnsNames) {
  auto ca = MakeConstrainedCa("not_dns");
  ASSERT_NE(ca, nullptr);
  std::string long_label(64, 'a');  // not string + "...": GCC 12 -Warray-bounds false positive
  long_label.append(".example.test");
  std::string too_long;
  while (too_long.size() < 250) too_long += "abcdefghi.";
  too_long += "example.test";
  for (const std::string& host :
       {long_label, too_long, std::string("-a.example.test"), std::string("a-.example.test"),
        std::string("a..example.test"), std::string(".example.test")}) {
    EXPECT_THAT(ca->LeafFor(host), StatusIs(absl::StatusCode::kInvalidArgument)) << host;
  }
  EXPECT_TRUE(ca->LeafFor(std::string(63, 'b').append(".example.test")).ok());
}

TEST(CaLeafCacheTest, EvictsTheLeastRecentlyUsedBeyondTheBound) {
  fs::path dir = FreshTempDir("lru", "relaytap_cah_");
  auto ca = Open(dir, {.patterns = {"*.example.test"}, .leaf_cache_capacity = 3});
  ASSERT_NE(ca, nullptr);
  for (const char* h : {"a.example.test", "b.example.test", "c.example.test"}) {
    ASSERT_TRUE(ca->LeafFor(h).ok());
  }
  auto a = ca->LeafFor("a.example.test");  // a becomes the most recently used
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(ca->LeafFor("d.example.test").ok());  // evicts b, the least recently used
  EXPECT_THAT(ca->cached_hosts_for_test(),
              ElementsAre("d.example.test", "a.example.test", "c.example.test"));
  EXPECT_EQ(ca->cached_leaves_for_test(), 3u);
  ASSERT_TRUE(ca->LeafFor("e.example.test").ok());  // evicts c
  EXPECT_THAT(ca->cached_hosts_for_test(),
              ElementsAre("e.example.test", "d.example.test", "a.example.test"));
  // An evicted host gets a fresh leaf that still verifies; a cached one is the same object.
  auto b = ca->LeafFor("b.example.test");
  ASSERT_TRUE(b.ok());
  X509Ptr anchor = ParseCertPem(ca->cert_pem());
  EXPECT_EQ(VerifyWithAnchor(anchor.get(), (*b)->cert.get(), "b.example.test", false), "");
  EXPECT_EQ(ca->cached_leaves_for_test(), 3u);
}

TEST(CaLeafCacheTest, DefaultBoundIsApplied) {
  auto ca = MakeConstrainedCa("lru_default");
  ASSERT_NE(ca, nullptr);
  const size_t n = kDefaultLeafCacheCapacity + 5;
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(ca->LeafFor("h" + std::to_string(i) + ".example.test").ok()) << i;
  }
  EXPECT_EQ(ca->cached_leaves_for_test(), kDefaultLeafCacheCapacity);
}

}  // namespace
}  // namespace relaytap::proxy::tls
