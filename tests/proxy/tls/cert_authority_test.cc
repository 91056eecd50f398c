#include "proxy/tls/cert_authority.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace relaytap::proxy::tls {
namespace {

using ::relaytap::testing::StatusIs;

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

fs::path TestRoot() {
  return fs::path(::testing::TempDir()) / ("relaytap_ca_test_" + std::to_string(::getpid()));
}

// Removes this process's scratch folders when the tests finish.
class CleanupEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(TestRoot(), ec);
  }
};
[[maybe_unused]] ::testing::Environment* const kCleanup =
    ::testing::AddGlobalTestEnvironment(new CleanupEnvironment);

fs::path FreshDir(const std::string& name) {
  fs::path dir = TestRoot() / name;
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  return dir;
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

using ::relaytap::testing::ModeOf;

int CountCerts(const std::string& pem) {
  int n = 0;
  for (size_t pos = 0; (pos = pem.find("-----BEGIN CERTIFICATE-----", pos)) != std::string::npos;
       ++pos) {
    ++n;
  }
  return n;
}

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr ParsePem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return X509Ptr(x, X509_free);
}

// Verifies `leaf` against `ca` the way a strict client does; returns "" or the error text.
std::string StrictVerify(X509* ca, X509* leaf, const std::string& host, bool is_ip) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  }
  std::string result;
  if (X509_verify_cert(ctx) != 1) {
    result = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  }
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  ERR_clear_error();
  return result;
}

bool IsCritical(X509* cert, int nid) {
  int idx = X509_get_ext_by_NID(cert, nid, -1);
  return idx >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, idx)) == 1;
}

// The names these tests mint for.
CaOptions TestOptions() { return {.patterns = {"*.example.test", "127.0.0.1", "::1"}}; }

std::unique_ptr<CertAuthority> MakeCa(const std::string& name) {
  auto ca = CertAuthority::LoadOrCreate(FreshDir(name), TestOptions());
  EXPECT_TRUE(ca.ok()) << ca.status();
  return ca.ok() ? std::move(*ca) : nullptr;
}

TEST(CertAuthorityTest, CreatesCaWithPrivatePermissions) {
  fs::path dir = FreshDir("create") / "nested";
  auto ca = CertAuthority::LoadOrCreate(dir, TestOptions());
  ASSERT_TRUE(ca.ok()) << ca.status();
  EXPECT_TRUE((*ca)->created());
  EXPECT_EQ(ModeOf(dir), 0700u);
  EXPECT_EQ(ModeOf(dir / kCaKeyFileName), 0600u);
  EXPECT_EQ((*ca)->cert_path(), dir / kCaCertFileName);
  EXPECT_EQ(ReadAll((*ca)->cert_path()), (*ca)->cert_pem());
  std::string key = ReadAll(dir / kCaKeyFileName);
  EXPECT_THAT(key, StartsWith("-----BEGIN PRIVATE KEY-----"));  // PKCS#8
}

TEST(CertAuthorityTest, ReloadsExistingCa) {
  fs::path dir = FreshDir("reload");
  auto first = CertAuthority::LoadOrCreate(dir, TestOptions());
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = CertAuthority::LoadOrCreate(dir, TestOptions());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE((*second)->created());
  EXPECT_EQ((*second)->cert_pem(), (*first)->cert_pem());
  // The reloaded CA still signs leaves that chain to the original certificate.
  auto leaf = (*second)->LeafFor("reload.example.test");
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  X509Ptr ca_cert = ParsePem((*first)->cert_pem());
  EXPECT_EQ(StrictVerify(ca_cert.get(), (*leaf)->cert.get(), "reload.example.test", false), "");
}

TEST(CertAuthorityTest, MissingKeyIsErrorNamingFiles) {
  fs::path dir = FreshDir("missing_key");
  ASSERT_TRUE(CertAuthority::LoadOrCreate(dir, TestOptions()).ok());
  fs::remove(dir / kCaKeyFileName);
  auto ca = CertAuthority::LoadOrCreate(dir, TestOptions());
  ASSERT_FALSE(ca.ok());
  EXPECT_THAT(std::string(ca.status().message()), HasSubstr((dir / kCaKeyFileName).string()));
  EXPECT_FALSE(fs::exists(dir / kCaKeyFileName));  // nothing silently regenerated
}

TEST(CertAuthorityTest, MissingCertIsErrorNamingFiles) {
  fs::path dir = FreshDir("missing_cert");
  ASSERT_TRUE(CertAuthority::LoadOrCreate(dir, TestOptions()).ok());
  fs::remove(dir / kCaCertFileName);
  auto ca = CertAuthority::LoadOrCreate(dir, TestOptions());
  ASSERT_FALSE(ca.ok());
  EXPECT_THAT(std::string(ca.status().message()), HasSubstr((dir / kCaCertFileName).string()));
}

TEST(CertAuthorityTest, MismatchedKeyIsErrorNamingFile) {
  fs::path a = FreshDir("mismatch_a");
  fs::path b = FreshDir("mismatch_b");
  ASSERT_TRUE(CertAuthority::LoadOrCreate(a, TestOptions()).ok());
  ASSERT_TRUE(CertAuthority::LoadOrCreate(b, TestOptions()).ok());
  fs::copy_file(b / kCaKeyFileName, a / kCaKeyFileName, fs::copy_options::overwrite_existing);
  ASSERT_EQ(ModeOf(a / kCaKeyFileName), 0600u);
  auto ca = CertAuthority::LoadOrCreate(a, TestOptions());
  ASSERT_FALSE(ca.ok());
  EXPECT_THAT(std::string(ca.status().message()), HasSubstr((a / kCaKeyFileName).string()));
  EXPECT_THAT(std::string(ca.status().message()), HasSubstr("does not match"));
}

TEST(CertAuthorityTest, GarbageCertIsErrorNamingFile) {
  fs::path dir = FreshDir("garbage");
  ASSERT_TRUE(CertAuthority::LoadOrCreate(dir, TestOptions()).ok());
  WriteAll(dir / kCaCertFileName, "not a certificate\n");
  auto ca = CertAuthority::LoadOrCreate(dir, TestOptions());
  ASSERT_FALSE(ca.ok());
  EXPECT_THAT(std::string(ca.status().message()), HasSubstr((dir / kCaCertFileName).string()));
}

TEST(CertAuthorityTest, KeyReadableByOthersIsRejected) {
  fs::path dir = FreshDir("loose_perms");
  ASSERT_TRUE(CertAuthority::LoadOrCreate(dir, TestOptions()).ok());
  fs::permissions(dir / kCaKeyFileName,
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  auto ca = CertAuthority::LoadOrCreate(dir, TestOptions());
  ASSERT_FALSE(ca.ok());
  EXPECT_THAT(std::string(ca.status().message()), HasSubstr("chmod 600"));
  EXPECT_THAT(std::string(ca.status().message()), HasSubstr((dir / kCaKeyFileName).string()));
}

TEST(CertAuthorityTest, CaCertificateHasStrictCaExtensions) {
  auto ca = MakeCa("ca_ext");
  ASSERT_NE(ca, nullptr);
  X509Ptr cert = ParsePem(ca->cert_pem());
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_get_version(cert.get()), 2);

  int crit = -1;
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert.get(), NID_basic_constraints, &crit, nullptr));
  ASSERT_NE(bc, nullptr);
  EXPECT_EQ(crit, 1);
  EXPECT_TRUE(bc->ca);
  ASSERT_NE(bc->pathlen, nullptr);
  EXPECT_EQ(ASN1_INTEGER_get(bc->pathlen), 0);
  BASIC_CONSTRAINTS_free(bc);

  EXPECT_TRUE(IsCritical(cert.get(), NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_NE(X509_get0_subject_key_id(cert.get()), nullptr);
  EXPECT_EQ(X509_check_ca(cert.get()), 1);
  EXPECT_NE(X509_get_extension_flags(cert.get()) & EXFLAG_SS, 0u);  // self-signed

  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(key), 256);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);

  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof(cn));
  EXPECT_THAT(std::string(cn), StartsWith("relaytap local CA "));
  char org[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_organizationName, org,
                            sizeof(org));
  EXPECT_EQ(std::string(org), "relaytap");

  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
  EXPECT_EQ(ASN1_STRING_length(serial), 16);
  EXPECT_NE(ASN1_STRING_type(serial), V_ASN1_NEG_INTEGER);

  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert.get())), 0);
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(cert.get())), 1);
  EXPECT_LE(days, 90);  // issue #14 item 5: a short-lived CA
  EXPECT_GE(days, 80);
}

TEST(CertAuthorityTest, DnsLeafVerifiesStrictly) {
  auto ca = MakeCa("leaf_dns");
  ASSERT_NE(ca, nullptr);
  X509Ptr ca_cert = ParsePem(ca->cert_pem());
  auto leaf = ca->LeafFor("API.Example.TEST");
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  X509* cert = (*leaf)->cert.get();
  EXPECT_EQ(StrictVerify(ca_cert.get(), cert, "api.example.test", false), "");
  EXPECT_EQ(StrictVerify(ca_cert.get(), cert, "other.example.test", false), "hostname mismatch");
  EXPECT_EQ(X509_check_host(cert, "api.example.test", 0, 0, nullptr), 1);

  // Extensions.
  int crit = -1;
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_basic_constraints, &crit, nullptr));
  ASSERT_NE(bc, nullptr);
  EXPECT_EQ(crit, 1);
  EXPECT_FALSE(bc->ca);
  BASIC_CONSTRAINTS_free(bc);
  EXPECT_TRUE(IsCritical(cert, NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(cert), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_extended_key_usage(cert), static_cast<uint32_t>(XKU_SSL_SERVER));
  EXPECT_NE(X509_get0_subject_key_id(cert), nullptr);
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert);
  ASSERT_NE(aki, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(aki, X509_get0_subject_key_id(ca_cert.get())), 0);
  EXPECT_EQ(X509_get_signature_nid(cert), NID_ecdsa_with_SHA256);

  auto* san =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(san, nullptr);
  ASSERT_EQ(sk_GENERAL_NAME_num(san), 1);
  const GENERAL_NAME* gn = sk_GENERAL_NAME_value(san, 0);
  ASSERT_EQ(gn->type, GEN_DNS);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                        ASN1_STRING_length(gn->d.dNSName)),
            "api.example.test");
  GENERAL_NAMES_free(san);

  // Validity: backdated a day, and short-lived: kLeafValidityDays from now.
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert)), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(cert)), 0);
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert)), 1);
  EXPECT_LE(static_cast<long>(days) * 86400 + secs, (kLeafValidityDays + 1) * 86400L);
  EXPECT_GE(days, kLeafValidityDays);
}

TEST(CertAuthorityTest, IpLeavesVerifyWithIpCheck) {
  auto ca = MakeCa("leaf_ip");
  ASSERT_NE(ca, nullptr);
  X509Ptr ca_cert = ParsePem(ca->cert_pem());
  for (const std::string host : {"127.0.0.1", "::1", "[::1]"}) {
    SCOPED_TRACE(host);
    auto leaf = ca->LeafFor(host);
    ASSERT_TRUE(leaf.ok()) << leaf.status();
    std::string ip = host == "[::1]" ? "::1" : host;
    EXPECT_EQ(StrictVerify(ca_cert.get(), (*leaf)->cert.get(), ip, true), "");
    EXPECT_NE(StrictVerify(ca_cert.get(), (*leaf)->cert.get(), "10.0.0.1", true), "");
  }
  auto bracketed = ca->LeafFor("[::1]");
  auto bare = ca->LeafFor("::1");
  ASSERT_TRUE(bracketed.ok() && bare.ok());
  EXPECT_EQ(bracketed->get(), bare->get());
}

TEST(CertAuthorityTest, LongHostTruncatesCommonNameButNotSan) {
  auto ca = MakeCa("leaf_long");
  ASSERT_NE(ca, nullptr);
  std::string host(60, 'a');  // not string + "...": GCC 12 -Warray-bounds false positive
  host.append(".").append(std::string(20, 'b')).append(".example.test");
  auto leaf = ca->LeafFor(host);
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  char cn[256] = {};
  int len = X509_NAME_get_text_by_NID(X509_get_subject_name((*leaf)->cert.get()), NID_commonName,
                                      cn, sizeof(cn));
  EXPECT_EQ(len, 64);
  X509Ptr ca_cert = ParsePem(ca->cert_pem());
  EXPECT_EQ(StrictVerify(ca_cert.get(), (*leaf)->cert.get(), host, false), "");
}

TEST(CertAuthorityTest, LeavesAreCachedAndShareOneKey) {
  auto ca = MakeCa("cache");
  ASSERT_NE(ca, nullptr);
  auto a1 = ca->LeafFor("a.example.test");
  auto a2 = ca->LeafFor("A.EXAMPLE.TEST");
  auto b = ca->LeafFor("b.example.test");
  ASSERT_TRUE(a1.ok() && a2.ok() && b.ok());
  EXPECT_EQ(a1->get(), a2->get());
  EXPECT_NE(a1->get(), b->get());
  EXPECT_EQ((*a1)->key.get(), (*b)->key.get());
  EXPECT_EQ(X509_check_private_key((*b)->cert.get(), (*a1)->key.get()), 1);
  EXPECT_EQ((*a1)->cert_pem.find("-----BEGIN CERTIFICATE-----"), 0u);
}

TEST(CertAuthorityTest, ConcurrentCallersGetTheSameLeaf) {
  auto ca = MakeCa("concurrent");
  ASSERT_NE(ca, nullptr);
  std::vector<const Leaf*> seen(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] {
      auto leaf = ca->LeafFor("race.example.test");
      seen[i] = leaf.ok() ? leaf->get() : nullptr;
    });
  }
  for (auto& t : threads) t.join();
  for (const Leaf* p : seen) EXPECT_EQ(p, seen[0]);
  EXPECT_NE(seen[0], nullptr);
}

TEST(CertAuthorityTest, RejectsInvalidHosts) {
  auto ca = MakeCa("invalid");
  ASSERT_NE(ca, nullptr);
  for (const char* host : {"", "bad host", "a/b", "x:1", "evil,DNS:other", "caf\xc3\xa9.test"}) {
    auto leaf = ca->LeafFor(host);
    EXPECT_THAT(leaf, StatusIs(absl::StatusCode::kInvalidArgument)) << host;
  }
  EXPECT_TRUE(ca->LeafFor("under_score.example.test").ok());
}

TEST(CertAuthorityTest, OpensslCliVerifiesLeafStrictly) {
  if (!fs::exists("/usr/bin/openssl")) GTEST_SKIP() << "no /usr/bin/openssl";
  auto ca = MakeCa("cli");
  ASSERT_NE(ca, nullptr);
  fs::path dir = FreshDir("cli_out");
  fs::create_directories(dir);
  struct Case {
    std::string host;
    std::string check;
  };
  for (const Case& c : {Case{"api.example.test", "-verify_hostname api.example.test"},
                        Case{"127.0.0.1", "-verify_ip 127.0.0.1"}, Case{"::1", "-verify_ip ::1"}}) {
    SCOPED_TRACE(c.host);
    auto leaf = ca->LeafFor(c.host);
    ASSERT_TRUE(leaf.ok()) << leaf.status();
    WriteAll(dir / "leaf.pem", (*leaf)->cert_pem);
    fs::path out = dir / "out.txt";
    std::string cmd = "/usr/bin/openssl verify -x509_strict -purpose sslserver " + c.check +
                      " -CAfile '" + ca->cert_path().string() + "' '" +
                      (dir / "leaf.pem").string() + "' > '" + out.string() + "' 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << ReadAll(out);
    EXPECT_THAT(ReadAll(out), HasSubstr(": OK"));
  }
  // And the CLI rejects the wrong name, so the check above is not vacuous.
  std::string cmd =
      "/usr/bin/openssl verify -x509_strict -purpose sslserver "
      "-verify_hostname wrong.test -CAfile '" +
      ca->cert_path().string() + "' '" + (dir / "leaf.pem").string() + "' > /dev/null 2>&1";
  WriteAll(dir / "leaf.pem", (*ca->LeafFor("api.example.test"))->cert_pem);
  EXPECT_NE(std::system(cmd.c_str()), 0);
}

TEST(CertAuthorityTest, WriteTrustBundleAppendsCaToSystemRoots) {
  auto ca = MakeCa("bundle");
  ASSERT_NE(ca, nullptr);
  fs::path dir = FreshDir("bundle_out");
  fs::create_directories(dir);
  auto path = WriteTrustBundle(*ca, dir);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, dir / kBundleFileName);
  EXPECT_EQ(ModeOf(*path), 0644u);
  std::string bundle = ReadAll(*path);
  EXPECT_THAT(bundle, HasSubstr(ca->cert_pem()));
  EXPECT_EQ(bundle.substr(bundle.size() - ca->cert_pem().size()), ca->cert_pem());
  if (fs::exists(X509_get_default_cert_file())) {
    EXPECT_GT(CountCerts(bundle), 1);
  } else {
    EXPECT_EQ(CountCerts(bundle), 1);
  }
  // Rewriting replaces the file atomically and leaves no temp files behind.
  ASSERT_TRUE(WriteTrustBundle(*ca, dir).ok());
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace relaytap::proxy::tls
