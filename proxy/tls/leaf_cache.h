#pragma once
// The CA's minted leaves by host name, least recently used evicted first beyond a fixed bound.
// Not thread-safe: CertAuthority guards it with its mutex.

#include <cstddef>
#include <ctime>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace relaytap::proxy::tls {

struct Leaf;

class LeafCache {
 public:
  explicit LeafCache(size_t capacity);

  // The leaf for `host` if cached and valid until at least `fresh_until`, made the most recently
  // used; null otherwise (a stale entry is dropped).
  std::shared_ptr<const Leaf> Find(const std::string& host, std::time_t fresh_until);

  // Caches `leaf` for `host` as the most recently used, unless a leaf valid until `fresh_until`
  // is already there (another thread minted it first): returns the one kept. Evicts the least
  // recently used entries beyond the capacity.
  std::shared_ptr<const Leaf> Insert(const std::string& host, std::shared_ptr<const Leaf> leaf,
                                     std::time_t fresh_until);

  size_t size() const { return order_.size(); }
  size_t capacity() const { return capacity_; }
  // Most recently used first.
  std::vector<std::string> HostsForTest() const;

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const Leaf>>;
  size_t capacity_;
  std::list<Entry> order_;  // front: most recently used
  absl::flat_hash_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace relaytap::proxy::tls
