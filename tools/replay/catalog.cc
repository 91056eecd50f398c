#include "tools/replay/catalog.h"

#include <algorithm>

#include "tools/replay/plan.h"

namespace relaytap::tools::replay {

Catalog::Catalog(const std::vector<RecordedSession>& sessions,
                 const std::vector<ReplayExchange>& exchanges) {
  for (const RecordedSession& s : sessions) {
    entries_.push_back(Entry{s.open_us, true, &s, nullptr, false});
  }
  for (const ReplayExchange& x : exchanges) {
    entries_.push_back(
        Entry{x.request_start_us, x.transport == "websocket_upgrade", nullptr, &x, false});
  }
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const Entry& a, const Entry& b) { return a.time_us < b.time_us; });
}

Catalog::Pick Catalog::Take(bool upgrade, std::string_view method, std::string_view target) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry* last = nullptr;
  for (Entry& e : entries_) {
    if (e.upgrade != upgrade) continue;
    const ReplayExchange* x =
        e.session ? (e.session->upgrade ? &*e.session->upgrade : nullptr) : e.exchange;
    // A session whose upgrade exchange is missing from the store matches any target.
    if (x != nullptr &&
        (!TargetMatches(x->path, target) || (!upgrade && !method.empty() && x->method != method))) {
      continue;
    }
    if (!e.served) {
      e.served = true;
      return Pick{e.session, e.exchange};
    }
    last = &e;
  }
  if (last == nullptr) return Pick{};
  return Pick{last->session, last->exchange};
}

Catalog::Pick Catalog::ForUpgrade(std::string_view target) { return Take(true, "", target); }

Catalog::Pick Catalog::ForRequest(std::string_view method, std::string_view target) {
  return Take(false, method, target);
}

void Catalog::NoteSessionServed() {
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.sessions_served;
  cv_.notify_all();
}

void Catalog::NoteExchangeServed() {
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.exchanges_served;
  cv_.notify_all();
}

void Catalog::NoteDeviation() {
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.deviations;
}

void Catalog::NoteUnmatched() {
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.unmatched;
  ++stats_.deviations;
}

ServerStats Catalog::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool Catalog::WaitForServed(uint64_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout,
                      [&] { return stats_.sessions_served + stats_.exchanges_served >= n; });
}

}  // namespace relaytap::tools::replay
