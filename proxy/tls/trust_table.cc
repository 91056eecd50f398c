#include "proxy/tls/trust_table.h"

#include <array>

#include "base/str_cat.h"

namespace relaytap::proxy::tls {
namespace {

constexpr std::array<RuntimeTrust, 10> kRows = {{
    {"python-requests", "Python `requests`",
     "`REQUESTS_CA_BUNDLE=<bundle>` (set by `ca env`); proxy from `HTTPS_PROXY`",
     "REQUESTS_CA_BUNDLE", TrustFile::kBundle, ""},
    {"python-httpx", "Python `httpx`",
     "`SSL_CERT_FILE=<bundle>`; proxy from `HTTPS_PROXY` (trust_env is on by default)",
     "SSL_CERT_FILE", TrustFile::kBundle, ""},
    {"python-aiohttp", "Python `aiohttp`",
     "`SSL_CERT_FILE=<bundle>`, or `ssl.create_default_context(cafile=<bundle>)`; pass "
     "`trust_env=True` to `ClientSession` to use `HTTPS_PROXY`",
     "SSL_CERT_FILE", TrustFile::kBundle,
     "aiohttp.ClientSession(trust_env=True)  # else aiohttp ignores HTTPS_PROXY"},
    {"python-websocket-client", "Python `websocket-client`",
     "`SSL_CERT_FILE=<bundle>` (or `sslopt={\"ca_certs\": ...}`); proxy from `HTTPS_PROXY` (or "
     "`http_proxy_host`/`http_proxy_port`)",
     "SSL_CERT_FILE", TrustFile::kBundle, ""},
    {"python-websockets", "Python `websockets`",
     "`SSL_CERT_FILE=<bundle>`; proxy from `HTTPS_PROXY` in version 15 and later (older ones "
     "connect directly)",
     "SSL_CERT_FILE", TrustFile::kBundle,
     "pip install 'websockets>=15'  # older versions ignore HTTPS_PROXY"},
    {"", "openai Python SDK", "uses httpx: `SSL_CERT_FILE` + `HTTPS_PROXY`", "", TrustFile::kNone,
     ""},
    {"node", "Node.js",
     "`NODE_EXTRA_CA_CERTS=<relaytap-ca.pem>` (added to Node's built-in roots). **Node 20 does not "
     "read `HTTPS_PROXY` by itself**: give `https`/`ws` an agent (e.g. `https-proxy-agent`: `new "
     "WebSocket(url, { agent: new HttpsProxyAgent('http://127.0.0.1:8080') })`) and `fetch` an "
     "undici `ProxyAgent` dispatcher. Node ≥ 24 can read `HTTPS_PROXY` itself for `fetch`/`https` "
     "with `--use-env-proxy` (or `NODE_USE_ENV_PROXY=1`)",
     "NODE_EXTRA_CA_CERTS", TrustFile::kCaCert,
     "Node reads HTTPS_PROXY only from version 24 with NODE_USE_ENV_PROXY=1; before that pass an "
     "agent (ws, https: new HttpsProxyAgent(process.env.HTTPS_PROXY)) or an undici ProxyAgent "
     "dispatcher (fetch)"},
    {"curl", "curl",
     "`CURL_CA_BUNDLE=<bundle>` or `--cacert <relaytap-ca.pem>`; `--proxy http://127.0.0.1:8080` "
     "or `HTTPS_PROXY`",
     "CURL_CA_BUNDLE", TrustFile::kBundle, ""},
    {"dotnet", ".NET on Linux",
     "`SSL_CERT_FILE=<bundle>`, or system-wide: `cp relaytap-ca.pem "
     "/usr/local/share/ca-certificates/relaytap-ca.crt && update-ca-certificates`; `HttpClient` "
     "reads `HTTPS_PROXY`",
     "SSL_CERT_FILE", TrustFile::kBundle, ""},
    {"java", "Java",
     "`keytool -importcert -noprompt -alias relaytap -file relaytap-ca.pem -keystore relaytap.jks "
     "-storepass changeit`, then `-Djavax.net.ssl.trustStore=relaytap.jks "
     "-Djavax.net.ssl.trustStorePassword=changeit -Dhttps.proxyHost=127.0.0.1 "
     "-Dhttps.proxyPort=8080` (note: a custom trustStore replaces the JDK's default roots)",
     "", TrustFile::kNone, ""},
}};

}  // namespace

std::span<const RuntimeTrust> TrustTable() { return kRows; }

const RuntimeTrust* FindRuntimeTrust(std::string_view key) {
  if (key.empty()) return nullptr;
  for (const RuntimeTrust& row : kRows) {
    if (row.key == key) return &row;
  }
  return nullptr;
}

std::string TrustTableMarkdown() {
  std::string out = "| runtime | how |\n| --- | --- |\n";
  for (const RuntimeTrust& row : kRows) out += StrCat("| ", row.label, " | ", row.how, " |\n");
  return out;
}

std::string TrustAssignmentPlaceholder(const RuntimeTrust& row) {
  switch (row.file) {
    case TrustFile::kBundle:
      return StrCat(row.trust_variable, "=<bundle>");
    case TrustFile::kCaCert:
      return StrCat(row.trust_variable, "=<relaytap-ca.pem>");
    case TrustFile::kNone:
      break;
  }
  return "";
}

std::string PlainLabel(std::string_view label) {
  std::string out;
  for (char c : label) {
    if (c != '`') out.push_back(c);
  }
  return out;
}

}  // namespace relaytap::proxy::tls
