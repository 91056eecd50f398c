#include "proxy/tls/leaf_cache.h"

#include "proxy/tls/cert_authority.h"

namespace relaytap::proxy::tls {

LeafCache::LeafCache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

std::shared_ptr<const Leaf> LeafCache::Find(const std::string& host, std::time_t fresh_until) {
  auto it = index_.find(host);
  if (it == index_.end()) return nullptr;
  auto entry = it->second;
  if (entry->second->not_after < fresh_until) {
    order_.erase(entry);
    index_.erase(it);
    return nullptr;
  }
  order_.splice(order_.begin(), order_, entry);
  return entry->second;
}

std::shared_ptr<const Leaf> LeafCache::Insert(const std::string& host,
                                              std::shared_ptr<const Leaf> leaf,
                                              std::time_t fresh_until) {
  if (std::shared_ptr<const Leaf> kept = Find(host, fresh_until)) return kept;
  order_.emplace_front(host, std::move(leaf));
  index_[host] = order_.begin();
  while (order_.size() > capacity_) {
    index_.erase(order_.back().first);
    order_.pop_back();
  }
  return order_.front().second;
}

std::vector<std::string> LeafCache::HostsForTest() const {
  std::vector<std::string> out;
  for (const Entry& e : order_) out.push_back(e.first);
  return out;
}

}  // namespace relaytap::proxy::tls
