#include "proxy/session/access.h"

#include <openssl/crypto.h>

#include <fstream>

#include "base/ascii.h"
#include "base/str_cat.h"
#include "proxy/stream/upstream_proxy.h"

namespace relaytap::proxy {

absl::StatusOr<ProxyAccess> ProxyAccess::Load(const ProxyConfig& config) {
  ProxyAccess a;
  a.remote_mode_ = config.allow_remote;
  for (const std::string& c : config.allow_clients) {
    absl::StatusOr<Cidr> cidr = ParseCidr(c);
    if (!cidr.ok()) return cidr.status();
    a.allow_.push_back(*cidr);
  }
  if (config.proxy_auth_file) {
    const std::string path = config.proxy_auth_file->string();
    std::ifstream in(path);
    if (!in) return absl::NotFoundError(StrCat("--proxy-auth-file ", path, ": cannot read it"));
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      const std::string_view entry = TrimOws(line);
      if (entry.empty() || entry.front() == '#') continue;
      if (entry.find(':') == std::string_view::npos || entry.front() == ':') {
        return absl::InvalidArgumentError(
            StrCat("--proxy-auth-file ", path, ": line ", number, " is not user:password"));
      }
      a.tokens_.push_back(BasicToken(entry));
    }
    if (a.tokens_.empty()) {
      return absl::InvalidArgumentError(
          StrCat("--proxy-auth-file ", path, ": no user:password line"));
    }
  }
  return a;
}

bool ProxyAccess::ClientAllowed(const net::ip::address& client) const {
  if (allow_.empty()) return true;
  for (const Cidr& c : allow_) {
    if (CidrContains(c, client)) return true;
  }
  return false;
}

bool ProxyAccess::Authorized(std::string_view value) const {
  if (tokens_.empty()) return true;
  value = TrimOws(value);
  if (value.size() < 6 || !EqualsIgnoreCase(value.substr(0, 6), "Basic ")) return false;
  const std::string_view token = TrimOws(value.substr(6));
  bool match = false;
  for (const std::string& t : tokens_) {
    // Every entry is compared (no early exit); each comparison is constant-time over its bytes.
    const bool same =
        t.size() == token.size() && CRYPTO_memcmp(t.data(), token.data(), t.size()) == 0;
    match = match || same;
  }
  return match;
}

}  // namespace relaytap::proxy
