#include "tools/stats/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <unordered_map>

#include "base/str_cat.h"
#include "nlohmann/json.hpp"

namespace relaytap::tools::stats {
namespace {

using recorder::query::Attempt;

constexpr std::string_view kGroupByNames[] = {"hour",       "minute",  "deployment",
                                              "region",     "host",    "api-version",
                                              "user-agent", "outcome", "machine"};

// Collects one latency's samples for a bucket.
struct Samples {
  std::vector<double> upgrade, session_created, first_delta, duration;
};

}  // namespace

Percentiles Summarize(std::vector<double>& v) {
  Percentiles p;
  p.count = static_cast<int64_t>(v.size());
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto rank =
      [&](double q) {  // nearest rank: the smallest value with at least q of all at or below
        size_t k = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
        return v[std::max<size_t>(k, 1) - 1];
      };
  p.p50 = rank(0.50);
  p.p90 = rank(0.90);
  p.p99 = rank(0.99);
  return p;
}

namespace {

void Add(Bucket& b, Samples& s, const Attempt& a) {
  (a.session ? b.sessions : b.exchanges) += 1;
  if (a.outcome != "ok") ++b.failures;
  ++b.by_outcome[a.outcome.empty() ? "unknown" : a.outcome];
  if (a.guard_saw_retry || (a.retry_count && *a.retry_count > 0)) ++b.retries;
  if (a.status == 429) ++b.status_429;
  if (a.upgrade_ms) s.upgrade.push_back(*a.upgrade_ms);
  if (a.session_created_ms) s.session_created.push_back(*a.session_created_ms);
  if (a.first_delta_ms) s.first_delta.push_back(*a.first_delta_ms);
  if (a.duration_ms) s.duration.push_back(*a.duration_ms);
  b.bytes += a.bytes;
  b.tokens += a.tokens;
}

void Finish(Bucket& b, Samples& s) {
  b.upgrade_ms = Summarize(s.upgrade);
  b.session_created_ms = Summarize(s.session_created);
  b.first_delta_ms = Summarize(s.first_delta);
  b.duration_ms = Summarize(s.duration);
}

std::string OrNone(const std::string& v) { return v.empty() ? "(none)" : v; }

std::string KeyOf(const Attempt& a, GroupBy by, const absl::TimeZone& zone) {
  switch (by) {
    case GroupBy::kHour:
    case GroupBy::kMinute: {
      absl::Time t = absl::FromUnixMicros(a.start_us);
      absl::TimeZone::CivilInfo ci = zone.At(t);
      absl::CivilSecond start = by == GroupBy::kHour ? absl::CivilSecond(absl::CivilHour(ci.cs))
                                                     : absl::CivilSecond(absl::CivilMinute(ci.cs));
      return absl::FormatTime("%Y-%m-%dT%H:%M%Ez", absl::FromCivil(start, zone), zone);
    }
    case GroupBy::kDeployment:
      return OrNone(a.deployment);
    case GroupBy::kRegion:
      return OrNone(a.region);
    case GroupBy::kHost:
      return OrNone(a.host);
    case GroupBy::kApiVersion:
      return OrNone(a.api_version);
    case GroupBy::kUserAgent:
      return OrNone(a.user_agent);
    case GroupBy::kOutcome:
      return OrNone(a.outcome);
    case GroupBy::kMachine:
      return MachineLabel(a.machine);
  }
  return "";
}

bool TimeBuckets(GroupBy by) { return by == GroupBy::kHour || by == GroupBy::kMinute; }

nlohmann::ordered_json PercentilesJson(const Percentiles& p) {
  nlohmann::ordered_json j;
  j["count"] = p.count;
  auto put = [&](const char* k, const std::optional<double>& v) {
    if (v) {
      j[k] = std::round(*v * 1000.0) / 1000.0;
    } else {
      j[k] = nullptr;
    }
  };
  put("p50", p.p50);
  put("p90", p.p90);
  put("p99", p.p99);
  return j;
}

nlohmann::ordered_json BucketJson(const Bucket& b, bool with_key) {
  nlohmann::ordered_json j;
  if (with_key) j["bucket"] = b.key;
  if (!b.machine.empty()) j["machine"] = b.machine;
  j["sessions"] = b.sessions;
  j["exchanges"] = b.exchanges;
  j["failures"] = b.failures;
  j["failure_pct"] = std::round(b.failure_pct() * 100.0) / 100.0;
  j["by_outcome"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : b.by_outcome) j["by_outcome"][k] = v;
  j["retries"] = b.retries;
  j["status_429"] = b.status_429;
  j["latency_ms"] = {{"upgrade", PercentilesJson(b.upgrade_ms)},
                     {"session_created", PercentilesJson(b.session_created_ms)},
                     {"first_delta", PercentilesJson(b.first_delta_ms)},
                     {"duration", PercentilesJson(b.duration_ms)}};
  j["bytes"] = b.bytes;
  j["tokens"] = b.tokens;
  return j;
}

std::string Ms(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", *v);
  return buf;
}

std::string Pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

std::string Outcomes(const Bucket& b) {
  std::string out;
  for (const auto& [k, v] : b.by_outcome) {
    if (k == "ok") continue;
    if (!out.empty()) out += " ";
    out += StrCat(k, "=", v);
  }
  return out.empty() ? "-" : out;
}

// A CSV field: quoted when it holds a comma, a quote or a line break.
std::string Csv(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

absl::StatusOr<GroupBy> ParseGroupBy(std::string_view name) {
  for (size_t i = 0; i < std::size(kGroupByNames); ++i) {
    if (name == kGroupByNames[i]) return static_cast<GroupBy>(i);
  }
  return absl::InvalidArgumentError(
      StrCat("--by ", name,
             ": expected hour, minute, deployment, region, host, api-version, user-agent, "
             "outcome or machine"));
}

std::string_view GroupByName(GroupBy g) { return kGroupByNames[static_cast<size_t>(g)]; }

std::string MachineLabel(const std::string& machine) {
  return machine.empty() ? "(unknown)" : machine;
}

double Bucket::failure_pct() const {
  return attempts() == 0 ? 0.0
                         : 100.0 * static_cast<double>(failures) / static_cast<double>(attempts());
}

Stats Compute(const std::vector<Attempt>& attempts, GroupBy by, const absl::TimeZone& zone,
              bool split_machines) {
  Stats s;
  s.by = by;
  s.split_machines = split_machines;
  s.zone = zone.name();
  s.totals.key = "total";
  for (const Attempt& a : attempts) {
    std::string m = MachineLabel(a.machine);
    if (std::find(s.machines.begin(), s.machines.end(), m) == s.machines.end()) {
      s.machines.push_back(std::move(m));
    }
  }
  std::sort(s.machines.begin(), s.machines.end());
  const bool per_machine = s.per_machine();
  Samples total_samples;
  std::map<std::pair<std::string, std::string>, size_t> index;  // (key, machine) -> row
  std::unordered_map<std::string, size_t> first_seen;           // key -> order of appearance
  std::vector<Samples> samples;
  for (const Attempt& a : attempts) {
    Add(s.totals, total_samples, a);
    std::string key = KeyOf(a, by, zone);
    first_seen.try_emplace(key, first_seen.size());
    std::string machine = per_machine ? MachineLabel(a.machine) : "";
    auto [it, fresh] = index.try_emplace({key, machine}, s.rows.size());
    if (fresh) {
      s.rows.push_back(Bucket{.key = std::move(key), .machine = std::move(machine)});
      samples.emplace_back();
    }
    Add(s.rows[it->second], samples[it->second], a);
  }
  Finish(s.totals, total_samples);
  for (size_t i = 0; i < s.rows.size(); ++i) Finish(s.rows[i], samples[i]);
  if (TimeBuckets(by)) {
    // Time order (the attempts came oldest first, so a bucket's first row is in place), each
    // bucket's machines by name.
    std::stable_sort(s.rows.begin(), s.rows.end(), [&](const Bucket& a, const Bucket& b) {
      if (a.key != b.key) return first_seen.at(a.key) < first_seen.at(b.key);
      return a.machine < b.machine;
    });
  } else {
    std::stable_sort(s.rows.begin(), s.rows.end(), [](const Bucket& a, const Bucket& b) {
      if (a.attempts() != b.attempts()) return a.attempts() > b.attempts();
      return a.key != b.key ? a.key < b.key : a.machine < b.machine;
    });
  }
  return s;
}

std::string FormatJson(const Stats& s) {
  nlohmann::ordered_json j;
  j["by"] = std::string(GroupByName(s.by));
  j["zone"] = s.zone;
  j["machines"] = s.machines;
  j["totals"] = BucketJson(s.totals, /*with_key=*/false);
  j["rows"] = nlohmann::ordered_json::array();
  for (const Bucket& b : s.rows) j["rows"].push_back(BucketJson(b, /*with_key=*/true));
  const CallCounts& c = s.calls;
  j["calls"] = {{"calls", c.calls},
                {"failed", c.failed},
                {"by_outcome", c.by_outcome},
                {"token_expired_before_call", c.token_expired_before_call},
                {"with_sideband", c.with_sideband},
                {"answer_ms", PercentilesJson(c.answer_ms)}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string FormatCsv(const Stats& s) {
  std::string out =
      StrCat(GroupByName(s.by), s.per_machine() ? ",machine" : "",
             ",sessions,exchanges,failures,failure_pct,retries,status_429,upgrade_p50_ms,"
             "upgrade_p90_ms,upgrade_p99_ms,session_created_p50_ms,session_created_p90_ms,"
             "session_created_p99_ms,first_delta_p50_ms,first_delta_p90_ms,first_delta_p99_ms,"
             "duration_p50_ms,duration_p90_ms,duration_p99_ms,bytes,tokens,by_outcome\n");
  auto opt = [](const std::optional<double>& v) { return v ? Ms(v) : std::string(); };
  auto row = [&](const Bucket& b) {
    out += StrCat(Csv(b.key), s.per_machine() ? "," + Csv(b.machine) : "", ",", b.sessions, ",",
                  b.exchanges, ",", b.failures, ",", Pct(b.failure_pct()), ",", b.retries, ",",
                  b.status_429);
    for (const Percentiles* p :
         {&b.upgrade_ms, &b.session_created_ms, &b.first_delta_ms, &b.duration_ms}) {
      out += StrCat(",", opt(p->p50), ",", opt(p->p90), ",", opt(p->p99));
    }
    std::string outcomes;
    for (const auto& [k, v] : b.by_outcome) {
      if (!outcomes.empty()) outcomes += ";";
      outcomes += StrCat(k, "=", v);
    }
    out += StrCat(",", b.bytes, ",", b.tokens, ",", Csv(outcomes), "\n");
  };
  for (const Bucket& b : s.rows) row(b);
  row(s.totals);
  return out;
}

std::string FormatTable(const Stats& s) {
  std::vector<std::string> head = {std::string(GroupByName(s.by)),
                                   "sessions",
                                   "exchanges",
                                   "failures",
                                   "fail%",
                                   "retries",
                                   "429s",
                                   "upgrade p50/p99 ms",
                                   "created p50 ms",
                                   "1st delta p50 ms",
                                   "tokens",
                                   "failed by outcome"};
  std::vector<std::vector<std::string>> cells;
  auto add = [&](const Bucket& b) {
    cells.push_back(
        {b.key, std::to_string(b.sessions), std::to_string(b.exchanges), std::to_string(b.failures),
         Pct(b.failure_pct()), std::to_string(b.retries), std::to_string(b.status_429),
         StrCat(Ms(b.upgrade_ms.p50), " / ", Ms(b.upgrade_ms.p99)), Ms(b.session_created_ms.p50),
         Ms(b.first_delta_ms.p50), std::to_string(b.tokens), Outcomes(b)});
  };
  for (const Bucket& b : s.rows) add(b);
  add(s.totals);
  if (s.per_machine()) {
    head.insert(head.begin() + 1, "machine");
    for (size_t i = 0; i < cells.size(); ++i) {
      cells[i].insert(cells[i].begin() + 1, i < s.rows.size() ? s.rows[i].machine : "");
    }
  }
  std::vector<size_t> width(head.size());
  for (size_t c = 0; c < head.size(); ++c) {
    width[c] = head[c].size();
    for (const auto& r : cells) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (size_t c = 0; c < r.size(); ++c) {
      const bool left = c == 0 || (c == 1 && s.per_machine()) || c + 1 == r.size();
      std::string pad(c + 1 == r.size() ? 0 : width[c] - r[c].size(), ' ');
      out += left ? r[c] + pad : pad + r[c];
      out += c + 1 == r.size() ? "\n" : "  ";
    }
    return out;
  };
  std::string out = line(head);
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i + 1 == cells.size()) {
      size_t total = 0;
      for (size_t w : width) total += w + 2;
      out += std::string(total - 2, '-') + "\n";
    }
    out += line(cells[i]);
  }
  if (TimeBuckets(s.by)) out += StrCat("times in ", s.zone, "\n");
  if (s.calls.calls > 0) out += CallsLine(s.calls) + "\n";
  return out;
}

}  // namespace relaytap::tools::stats
