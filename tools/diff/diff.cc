#include "tools/diff/diff.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "base/ascii.h"
#include "base/str_cat.h"
#include "nlohmann/json.hpp"
#include "tools/stats/stats.h"

namespace relaytap::tools::diff {
namespace {

using recorder::query::Profile;
using json = nlohmann::ordered_json;

constexpr std::string_view kSelectorFields[] = {"outcome", "deployment",  "model",  "host",
                                                "region",  "api_version", "client", "user_agent",
                                                "session", "machine"};

const std::string& FieldOf(const Profile& p, std::string_view field) {
  if (field == "outcome") return p.outcome;
  if (field == "deployment") return p.deployment;
  if (field == "model") return p.model;
  if (field == "host") return p.host;
  if (field == "region") return p.region;
  if (field == "api_version") return p.api_version;
  if (field == "client") return p.client;
  if (field == "user_agent") return p.user_agent;
  if (field == "machine") return p.machine;
  return p.session_id;
}

void Shape(const nlohmann::json& j, const std::string& path, std::vector<std::string>& out) {
  if (j.is_object()) {
    if (j.empty()) out.push_back(path + ":{}");
    for (const auto& [k, v] : j.items()) Shape(v, path.empty() ? k : path + "." + k, out);
  } else if (j.is_array()) {
    if (j.empty()) out.push_back(path + ":[]");
    // Elements of one array are described once each by shape, not by position.
    std::vector<std::string> elems;
    for (const auto& v : j) Shape(v, path + "[]", elems);
    std::sort(elems.begin(), elems.end());
    elems.erase(std::unique(elems.begin(), elems.end()), elems.end());
    out.insert(out.end(), elems.begin(), elems.end());
  } else {
    out.push_back(path + ":" + j.type_name());
  }
}

using Distribution = std::map<std::string, int64_t>;

double Tvd(const Distribution& g, int64_t gn, const Distribution& b, int64_t bn) {
  if (gn == 0 || bn == 0) return 0;
  std::map<std::string, std::pair<double, double>> both;
  for (const auto& [v, n] : g) both[v].first = static_cast<double>(n) / gn;
  for (const auto& [v, n] : b) both[v].second = static_cast<double>(n) / bn;
  double d = 0;
  for (const auto& [v, p] : both) d += std::fabs(p.first - p.second);
  return d / 2;
}

std::string Joined(const std::vector<std::string>& v, size_t n) {
  std::string out;
  for (size_t i = 0; i < std::min(n, v.size()); ++i) out += StrCat(i ? " > " : "", v[i]);
  return out;
}

// The most common event sequence of a group (sessions only); ties: the first seen.
std::optional<std::vector<std::string>> Usual(const std::vector<Profile>& group) {
  std::map<std::vector<std::string>, int64_t> counts;
  const std::vector<std::string>* best = nullptr;
  int64_t best_n = 0;
  for (const Profile& p : group) {
    if (p.event_types.empty()) continue;
    int64_t n = ++counts[p.event_types];
    if (n > best_n) {
      best_n = n;
      best = &p.event_types;
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

std::optional<double> Median(const std::vector<Profile>& group,
                             std::optional<double> Profile::*member) {
  std::vector<double> v;
  for (const Profile& p : group) {
    if (p.*member) v.push_back(*(p.*member));
  }
  return stats::Summarize(v).p50;
}

std::string Ms(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f ms", v);
  return buf;
}

}  // namespace

absl::StatusOr<Selector> Selector::Parse(std::string_view text) {
  Selector s;
  for (std::string_view term : SplitHttpList(text)) {
    const size_t ne = term.find("!=");
    const size_t eq = term.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          StrCat("selector term '", term, "': expected field=value or field!=value"));
    }
    Term t;
    t.negated = ne != std::string_view::npos && ne + 1 == eq;
    t.field = std::string(TrimOws(term.substr(0, t.negated ? ne : eq)));
    t.value = std::string(TrimOws(term.substr(eq + 1)));
    if (std::find(std::begin(kSelectorFields), std::end(kSelectorFields), t.field) ==
        std::end(kSelectorFields)) {
      return absl::InvalidArgumentError(
          StrCat("selector field '", t.field,
                 "': expected outcome, deployment, model, host, region, api_version, client, "
                 "user_agent, session or machine"));
    }
    s.terms_.push_back(std::move(t));
  }
  return s;
}

bool Selector::Matches(const Profile& p) const {
  for (const Term& t : terms_) {
    // A client is matched by its address with or without the port.
    const std::string& v = FieldOf(p, t.field);
    const bool equal = v == t.value || (t.field == "client" && v.rfind(t.value + ":", 0) == 0);
    if (equal == t.negated) return false;
  }
  return true;
}

std::string ShapeOf(const std::string& payload) {
  if (payload.empty()) return "";
  nlohmann::json j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return "(not json)";
  std::vector<std::string> paths;
  Shape(j, "", paths);
  std::string out;
  for (const std::string& p : paths) out += StrCat(out.empty() ? "" : ", ", p);
  return out;
}

DiffResult Compare(const std::vector<Profile>& good, const std::vector<Profile>& bad) {
  DiffResult r;
  r.good_attempts = static_cast<int64_t>(good.size());
  r.bad_attempts = static_cast<int64_t>(bad.size());
  for (const Profile& p : good) r.good_calls += p.call_outcome.empty() ? 0 : 1;
  for (const Profile& p : bad) r.bad_calls += p.call_outcome.empty() ? 0 : 1;
  const std::vector<std::pair<std::string, std::function<std::string(const Profile&)>>> fields = {
      {"host", [](const Profile& p) { return p.host; }},
      {"region", [](const Profile& p) { return p.region; }},
      {"deployment", [](const Profile& p) { return p.deployment; }},
      {"model", [](const Profile& p) { return p.model; }},
      {"api_version", [](const Profile& p) { return p.api_version; }},
      {"path_dialect", [](const Profile& p) { return p.path_kind; }},
      {"auth_kind", [](const Profile& p) { return p.auth_kind; }},
      {"user_agent", [](const Profile& p) { return p.user_agent; }},
      {"subprotocol", [](const Profile& p) { return p.subprotocol; }},
      {"extensions", [](const Profile& p) { return p.extensions; }},
      {"tls_version", [](const Profile& p) { return p.tls_version; }},
      {"alpn", [](const Profile& p) { return p.alpn; }},
      {"session_update_shape", [](const Profile& p) { return ShapeOf(p.session_update); }},
      {"response_create_shape", [](const Profile& p) { return ShapeOf(p.response_create); }},
      {"outcome", [](const Profile& p) { return p.outcome; }},
      {"webrtc_call", [](const Profile& p) { return p.call_outcome; }},
      // The machine that recorded it (several --db, one store per host): failures that all
      // come from one host point at that host.
      {"machine", [](const Profile& p) { return p.machine; }},
  };
  for (const auto& [name, value] : fields) {
    Difference d;
    d.field = name;
    for (const Profile& p : good) ++d.good[value(p)];
    for (const Profile& p : bad) ++d.bad[value(p)];
    d.score = Tvd(d.good, r.good_attempts, d.bad, r.bad_attempts);
    if (d.score > 0) r.differences.push_back(std::move(d));
  }

  std::optional<std::vector<std::string>> g = Usual(good), b = Usual(bad);
  if (g && b && *g != *b) {
    size_t k = 0;
    while (k < g->size() && k < b->size() && (*g)[k] == (*b)[k]) ++k;
    Difference d;
    d.field = "event_sequence";
    d.score = 1.0 - static_cast<double>(k) / static_cast<double>(std::max(g->size(), b->size()));
    const size_t shown = std::min<size_t>(k + 3, 64);
    ++d.good[Joined(*g, shown)];
    ++d.bad[Joined(*b, shown)];
    d.note = StrCat("the usual sequences agree for ", k, " events, then good has ",
                    k < g->size() ? (*g)[k] : "(end)", " where bad has ",
                    k < b->size() ? (*b)[k] : "(end)");
    r.differences.push_back(std::move(d));
  }

  for (auto [name, member] : {std::pair{"upgrade_ms", &Profile::upgrade_ms},
                              std::pair{"duration_ms", &Profile::duration_ms}}) {
    std::optional<double> gm = Median(good, member), bm = Median(bad, member);
    if (!gm || !bm || *gm == *bm) continue;
    Difference d;
    d.field = name;
    // How far apart the medians are, relative to the larger one.
    d.score = std::fabs(*gm - *bm) / std::max(*gm, *bm);
    d.good["p50 " + Ms(*gm)] = r.good_attempts;
    d.bad["p50 " + Ms(*bm)] = r.bad_attempts;
    d.note = StrCat("median ", Ms(*gm), " good, ", Ms(*bm), " bad");
    r.differences.push_back(std::move(d));
  }
  std::stable_sort(r.differences.begin(), r.differences.end(),
                   [](const Difference& x, const Difference& y) { return x.score > y.score; });
  return r;
}

std::string FormatJson(const DiffResult& r) {
  json j;
  j["good_attempts"] = r.good_attempts;
  j["bad_attempts"] = r.bad_attempts;
  j["good_calls"] = r.good_calls;
  j["bad_calls"] = r.bad_calls;
  j["differences"] = json::array();
  for (const Difference& d : r.differences) {
    json x;
    x["field"] = d.field;
    x["score"] = std::round(d.score * 1000) / 1000;
    x["good"] = json::object();
    for (const auto& [v, n] : d.good) x["good"][v.empty() ? "(none)" : v] = n;
    x["bad"] = json::object();
    for (const auto& [v, n] : d.bad) x["bad"][v.empty() ? "(none)" : v] = n;
    if (!d.note.empty()) x["note"] = d.note;
    j["differences"].push_back(std::move(x));
  }
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string FormatTable(const DiffResult& r) {
  std::string out =
      StrCat("good: ", r.good_attempts, " attempts, bad: ", r.bad_attempts, " attempts\n");
  if (r.good_calls + r.bad_calls > 0) {
    out += StrCat("calls (WebRTC set-ups among them): good ", r.good_calls, ", bad ", r.bad_calls,
                  "\n");
  }
  if (r.differences.empty()) {
    return out + "no differences: every compared field has the same mix on both sides\n";
  }
  auto values = [](const std::map<std::string, int64_t>& m) {
    std::string s;
    for (const auto& [v, n] : m)
      s += StrCat(s.empty() ? "" : "; ", v.empty() ? "(none)" : v, " x", n);
    return s;
  };
  for (const Difference& d : r.differences) {
    char score[16];
    std::snprintf(score, sizeof(score), "%.2f", d.score);
    out += StrCat("\n", d.field, " (separation ", score, ")\n  good: ", values(d.good),
                  "\n  bad:  ", values(d.bad), "\n");
    if (!d.note.empty()) out += StrCat("  ", d.note, "\n");
  }
  return out;
}

}  // namespace relaytap::tools::diff
