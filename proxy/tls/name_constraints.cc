#include "proxy/tls/name_constraints.h"

#include <arpa/inet.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "proxy/tls/openssl_error.h"
#include "proxy/tls/self_check_host.h"

namespace relaytap::proxy::tls {
namespace {

struct NcFree {
  void operator()(NAME_CONSTRAINTS* nc) const { NAME_CONSTRAINTS_free(nc); }
};
using NcPtr = std::unique_ptr<NAME_CONSTRAINTS, NcFree>;

void SortUnique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

std::string IpText(const unsigned char* ip, int len) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(len == 4 ? AF_INET : AF_INET6, ip, buf, sizeof(buf));
  return buf;
}

// A subtree for `type` whose value is `bytes`, appended to `*stack` (created if null).
bool PushSubtree(STACK_OF(GENERAL_SUBTREE) * *stack, int type, const unsigned char* bytes,
                 int len) {
  if (*stack == nullptr) *stack = sk_GENERAL_SUBTREE_new_null();
  GENERAL_SUBTREE* sub = GENERAL_SUBTREE_new();
  ASN1_STRING* value = type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
  GENERAL_NAME* gn = GENERAL_NAME_new();
  if (*stack == nullptr || sub == nullptr || value == nullptr || gn == nullptr ||
      ASN1_STRING_set(value, bytes, len) != 1) {
    GENERAL_SUBTREE_free(sub);
    ASN1_STRING_free(value);
    GENERAL_NAME_free(gn);
    return false;
  }
  GENERAL_NAME_set0_value(gn, type, value);
  GENERAL_NAME_free(sub->base);
  sub->base = gn;
  if (sk_GENERAL_SUBTREE_push(*stack, sub) == 0) {
    GENERAL_SUBTREE_free(sub);
    return false;
  }
  return true;
}

// An iPAddress subtree: address then mask, /32 or /128 (or /0 with all zeros for "any").
bool PushIpSubtree(STACK_OF(GENERAL_SUBTREE) * *stack, const unsigned char* ip, int len, bool any) {
  unsigned char bytes[32] = {};
  if (!any) {
    std::memcpy(bytes, ip, static_cast<size_t>(len));
    std::memset(bytes + len, 0xff, static_cast<size_t>(len));
  }
  return PushSubtree(stack, GEN_IPADD, bytes, 2 * len);
}

bool DnsPermits(const std::string& base, const std::string& host) {
  if (base.starts_with(".")) return host.size() > base.size() && host.ends_with(base);
  return host == base || (host.size() > base.size() && host.ends_with(base) &&
                          host[host.size() - base.size() - 1] == '.');
}

}  // namespace

absl::StatusOr<NameConstraintSet> ConstraintsForPatterns(const std::vector<std::string>& patterns) {
  if (patterns.empty()) return absl::InvalidArgumentError("no intercept patterns");
  NameConstraintSet set;
  for (const std::string& p : patterns) {
    if (p == "*") {
      set.unconstrained = true;
      continue;
    }
    const bool subdomains = p.starts_with("*.");
    absl::StatusOr<HostName> host = ParseHostName(subdomains ? p.substr(2) : p);
    if (!host.ok() || (subdomains && host->is_ip)) {
      return absl::InvalidArgumentError(StrCat(
          "intercept pattern '", p, "' is not '*', '*.<DNS name>', a DNS name or an IP address"));
    }
    if (host->is_ip) {
      set.ips.push_back(IpText(host->ip, host->ip_len));
    } else {
      set.dns.push_back(subdomains ? StrCat(".", host->text) : host->text);
    }
  }
  if (set.unconstrained) return NameConstraintSet{true, {}, {}};
  set.dns.emplace_back(kSelfCheckHost);  // relaytap answers it itself, whatever the patterns
  SortUnique(set.dns);
  SortUnique(set.ips);
  return set;
}

std::vector<std::string> PatternsFor(const NameConstraintSet& set) {
  if (set.unconstrained) return {"*"};
  std::vector<std::string> out;
  for (const std::string& d : set.dns) out.push_back(d.starts_with(".") ? StrCat("*", d) : d);
  out.insert(out.end(), set.ips.begin(), set.ips.end());
  return out;
}

absl::Status AddNameConstraints(X509* ca, const NameConstraintSet& set) {
  if (set.unconstrained) return absl::OkStatus();
  NcPtr nc(NAME_CONSTRAINTS_new());
  if (!nc) return absl::InternalError(OpenSslError("NAME_CONSTRAINTS_new"));
  bool ok = true;
  for (const std::string& d : set.dns) {
    ok = ok &&
         PushSubtree(&nc->permittedSubtrees, GEN_DNS,
                     reinterpret_cast<const unsigned char*>(d.data()), static_cast<int>(d.size()));
  }
  for (const std::string& text : set.ips) {
    absl::StatusOr<HostName> ip = ParseHostName(text);
    ok = ok && ip.ok() && PushIpSubtree(&nc->permittedSubtrees, ip->ip, ip->ip_len, false);
  }
  if (set.dns.empty()) {  // the empty DNS name matches every DNS name
    ok = ok &&
         PushSubtree(&nc->excludedSubtrees, GEN_DNS, reinterpret_cast<const unsigned char*>(""), 0);
  }
  if (set.ips.empty()) {
    ok = ok && PushIpSubtree(&nc->excludedSubtrees, nullptr, 4, true) &&
         PushIpSubtree(&nc->excludedSubtrees, nullptr, 16, true);
  }
  if (!ok || X509_add1_ext_i2d(ca, NID_name_constraints, nc.get(), 1, X509V3_ADD_DEFAULT) != 1) {
    return absl::InternalError(OpenSslError("adding nameConstraints"));
  }
  return absl::OkStatus();
}

absl::StatusOr<NameConstraintSet> ConstraintsOf(X509* ca) {
  int crit = -1;
  NcPtr nc(
      static_cast<NAME_CONSTRAINTS*>(X509_get_ext_d2i(ca, NID_name_constraints, &crit, nullptr)));
  if (!nc) {
    if (crit == -1) return NameConstraintSet{true, {}, {}};  // no extension
    return absl::InvalidArgumentError("unreadable nameConstraints");
  }
  NameConstraintSet set;
  for (int i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i)->base;
    const ASN1_STRING* v = gn->type == GEN_DNS ? gn->d.dNSName : gn->d.iPAddress;
    const unsigned char* data = ASN1_STRING_get0_data(v);
    const int len = ASN1_STRING_length(v);
    if (gn->type == GEN_DNS) {
      set.dns.emplace_back(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
    } else if (gn->type == GEN_IPADD && (len == 8 || len == 32)) {
      set.ips.push_back(IpText(data, len / 2));
    } else {
      return absl::InvalidArgumentError("nameConstraints relaytap does not make");
    }
  }
  if (crit != 1) return absl::InvalidArgumentError("nameConstraints not marked critical");
  SortUnique(set.dns);
  SortUnique(set.ips);
  return set;
}

bool Permits(const NameConstraintSet& set, const HostName& host) {
  if (set.unconstrained) return true;
  if (host.is_ip) {
    const std::string text = IpText(host.ip, host.ip_len);
    return std::find(set.ips.begin(), set.ips.end(), text) != set.ips.end();
  }
  return std::any_of(set.dns.begin(), set.dns.end(),
                     [&](const std::string& base) { return DnsPermits(base, host.text); });
}

std::string DescribeConstraints(const NameConstraintSet& set) {
  if (set.unconstrained) return "none (the CA can vouch for any name)";
  std::string out;
  for (const std::string& d : set.dns) out += StrCat(out.empty() ? "" : ", ", "DNS:", d);
  for (const std::string& ip : set.ips) out += StrCat(out.empty() ? "" : ", ", "IP:", ip);
  return out;
}

}  // namespace relaytap::proxy::tls
