#include "proxy/tls/contexts.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "proxy/tls/host_name.h"
#include "proxy/tls/openssl_error.h"

namespace relaytap::proxy::tls {
std::string OpenSslError(std::string_view what) {
  std::string msg(what);
  const char* sep = ": ";
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    msg += sep;
    msg += buf;
    sep = "; ";
  }
  return msg;
}

namespace {

namespace ssl = boost::asio::ssl;

constexpr std::string_view kHttp11 = "http/1.1";
// ALPN wire format: length-prefixed protocol names.
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// "[::1]" -> "::1"; other hosts unchanged.
bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

absl::Status InstallLeaf(SSL* ssl, const Leaf& leaf) {
  if (SSL_use_certificate(ssl, leaf.cert.get()) != 1 ||
      SSL_use_PrivateKey(ssl, leaf.key.get()) != 1) {
    return absl::InternalError(OpenSslError("installing leaf certificate"));
  }
  return absl::OkStatus();
}

// Selects "http/1.1" only when the client offers it; otherwise no ALPN in the ServerHello.
int SelectAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
               const unsigned char* in, unsigned int inlen, void* /*arg*/) {
  unsigned int i = 0;
  while (i < inlen) {
    unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    std::string_view proto(reinterpret_cast<const char*>(in + i + 1), len);
    if (proto == kHttp11) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// What PrepareDownstreamSsl told the SNI callback, owned by the SSL (ex_data, freed with it).
struct DownstreamName {
  std::string host;
  SniPolicy policy = SniPolicy::kMustMatchHost;
  CertAuthority* ca = nullptr;
  std::string refused_sni;
};

void FreeDownstreamName(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/,
                        long /*argl*/, void* /*argp*/) {
  delete static_cast<DownstreamName*>(ptr);
}

int DownstreamNameIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeDownstreamName);
  return index;
}

std::string Printable(std::string_view name) {
  std::string out(name.substr(0, 253));
  for (char& c : out) {
    if (c < 0x21 || c > 0x7e) c = '?';
  }
  return out;
}

int OnServerName(SSL* ssl, int* alert, void* /*arg*/) {
  auto* d = static_cast<DownstreamName*>(SSL_get_ex_data(ssl, DownstreamNameIndex()));
  if (d == nullptr) {  // PrepareDownstreamSsl was not called: fail closed
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr || *name == '\0') return SSL_TLSEXT_ERR_OK;  // keep the host's leaf
  if (d->policy == SniPolicy::kMustMatchHost) {
    if (CanonicalHost(name) == CanonicalHost(d->host)) return SSL_TLSEXT_ERR_OK;
    d->refused_sni = Printable(name);
    *alert = SSL_AD_HANDSHAKE_FAILURE;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  absl::StatusOr<std::shared_ptr<const Leaf>> leaf = d->ca->LeafFor(name);
  if (!leaf.ok()) {
    *alert = absl::IsInternal(leaf.status()) ? SSL_AD_INTERNAL_ERROR : SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  if (!InstallLeaf(ssl, **leaf).ok()) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  return SSL_TLSEXT_ERR_OK;
}

// Adds every PEM certificate in `path` to `store`; an unreadable file or one without
// certificates is an error.
absl::Status AddPemRoots(X509_STORE* store, const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot read CA file ", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string pem = ss.str();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return absl::InternalError(OpenSslError("BIO_new_mem_buf"));
  int count = 0;
  absl::Status status;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) {
      ++count;
    } else if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_CERT_ALREADY_IN_HASH_TABLE) {
      ERR_clear_error();
      ++count;
    } else {
      status = absl::InternalError(OpenSslError(StrCat("adding CA from ", path.string())));
    }
    X509_free(cert);
    if (!status.ok()) break;
  }
  BIO_free(bio);
  ERR_clear_error();  // PEM_read_bio_X509 leaves "no start line" at end of input
  if (status.ok() && count == 0) {
    status = absl::InvalidArgumentError(StrCat("no PEM certificates in ", path.string()));
  }
  return status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ssl::context>> MakeDownstreamContext(CertAuthority& ca) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return absl::InternalError(OpenSslError("setting minimum TLS version"));
  }
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Idle sessions (realtime WebSockets wait for minutes) should not keep OpenSSL's record
  // buffers: freed when empty, taken again on the next record.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  // No server-side session cache: resumption buys nothing here (see SSL_set_num_tickets in
  // proxy/stream/tls_byte_stream.cc), and OpenSSL's default cache keeps every TLS 1.2 app's
  // session (up to 20,480, for OpenSSL 3.0's default timeout of 2 hours) after its connection
  // closed.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_alpn_select_cb(native, SelectAlpn, nullptr);
  SSL_CTX_set_tlsext_servername_callback(native, OnServerName);
  SSL_CTX_set_tlsext_servername_arg(native, &ca);  // unused: each SSL carries its own CA
  return ctx;
}

absl::Status PrepareDownstreamSsl(SSL* ssl, CertAuthority& ca, std::string_view host,
                                  SniPolicy policy) {
  RELAYTAP_ASSIGN_OR_RETURN(std::shared_ptr<const Leaf> leaf, ca.LeafFor(host));
  RELAYTAP_RETURN_IF_ERROR(InstallLeaf(ssl, *leaf));
  const int index = DownstreamNameIndex();
  auto* old = static_cast<DownstreamName*>(SSL_get_ex_data(ssl, index));
  auto* d = new DownstreamName{std::string(host), policy, &ca, {}};
  if (SSL_set_ex_data(ssl, index, d) != 1) {
    delete d;
    return absl::InternalError(OpenSslError("SSL_set_ex_data"));
  }
  delete old;
  return absl::OkStatus();
}

void ReleaseDownstreamName(SSL* ssl) {
  const int index = DownstreamNameIndex();
  auto* d = static_cast<DownstreamName*>(SSL_get_ex_data(ssl, index));
  if (d == nullptr) return;
  SSL_set_ex_data(ssl, index, nullptr);
  delete d;
}

std::string RefusedSniOf(SSL* ssl) {
  auto* d = static_cast<DownstreamName*>(SSL_get_ex_data(ssl, DownstreamNameIndex()));
  return d != nullptr ? d->refused_sni : std::string();
}

std::string ServerNameOf(SSL* ssl) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  return name != nullptr ? std::string(name) : std::string();
}

absl::StatusOr<std::unique_ptr<ssl::context>> MakeUpstreamContext(
    const std::optional<std::filesystem::path>& extra_roots) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return absl::InternalError(OpenSslError("setting minimum TLS version"));
  }
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  ctx->set_verify_mode(ssl::verify_peer);
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);  // as downstream: idle sessions
  if (SSL_CTX_set_default_verify_paths(native) != 1) {
    return absl::InternalError(OpenSslError("loading system trust store"));
  }
  if (extra_roots.has_value()) {
    RELAYTAP_RETURN_IF_ERROR(AddPemRoots(SSL_CTX_get_cert_store(native), *extra_roots));
  }
  if (SSL_CTX_set_alpn_protos(native, kAlpnHttp11, sizeof(kAlpnHttp11)) != 0) {  // 0 = success
    return absl::InternalError(OpenSslError("setting ALPN"));
  }
  return ctx;
}

absl::Status PrepareUpstreamSsl(SSL* ssl, std::string_view host) {
  const std::string name(StripBrackets(host));
  if (name.empty()) return absl::InvalidArgumentError("empty upstream host");
  if (IsIpLiteral(name)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) != 1) {
      return absl::InvalidArgumentError(OpenSslError(StrCat("bad IP address '", name, "'")));
    }
  } else {
    if (SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
      return absl::InvalidArgumentError(OpenSslError(StrCat("setting SNI '", name, "'")));
    }
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(ssl, name.c_str()) != 1) {
      return absl::InvalidArgumentError(OpenSslError(StrCat("setting verify host '", name, "'")));
    }
  }
  SSL_set_verify(ssl, SSL_VERIFY_PEER, SSL_get_verify_callback(ssl));
  return absl::OkStatus();
}

std::string VerifyFailureOf(SSL* ssl) {
  long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) return {};
  return X509_verify_cert_error_string(result);
}

}  // namespace relaytap::proxy::tls
