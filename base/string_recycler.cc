#include "base/string_recycler.h"

#include <algorithm>
#include <utility>

namespace relaytap {
namespace {

// The calling thread's stack of strings taken from one recycler. A thread that meets another
// recycler (tests make their own) drops the stack it held for the previous one.
struct LocalStack {
  const StringRecycler* owner = nullptr;
  std::vector<std::string> strings;  // most recently taken from the shared stack last
};

thread_local uint64_t t_served = 0;

LocalStack& Local(const StringRecycler* owner) {
  thread_local LocalStack local;
  if (local.owner != owner) {
    local.strings.clear();
    local.strings.shrink_to_fit();
    local.owner = owner;
  }
  return local;
}

// Moves the string at `i` out of `v` (order of the others kept: the most recent stay on top).
std::string Remove(std::vector<std::string>& v, size_t i) {
  std::string out = std::move(v[i]);
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
  return out;
}

// The top-most string in `v` with room for `capacity` and at most kMaxSlack times that (a small
// message does not hold a large buffer), or v.size().
constexpr size_t kMaxSlack = 4;
size_t Fitting(const std::vector<std::string>& v, size_t capacity) {
  for (size_t i = v.size(); i > 0; --i) {
    const size_t c = v[i - 1].capacity();
    if (c >= capacity && c / kMaxSlack <= capacity) return i - 1;
  }
  return v.size();
}

}  // namespace

StringRecycler& StringRecycler::Process() {
  static StringRecycler* const recycler = new StringRecycler;  // never destroyed: no exit order
  return *recycler;
}

std::string StringRecycler::Take(size_t capacity) {
  if (capacity < kMinCapacity || capacity > kMaxCapacity) return {};
  LocalStack& local = Local(this);
  if (local.strings.empty()) {
    if (shared_count_.load(std::memory_order_relaxed) == 0) return {};
    std::lock_guard<std::mutex> lock(mu_);
    const size_t n = std::min(kLocalRefill, shared_.size());
    // The most recently given strings, still the warmest, keep their order on top.
    for (size_t i = shared_.size() - n; i < shared_.size(); ++i) {
      shared_bytes_ -= shared_[i].capacity();
      local.strings.push_back(std::move(shared_[i]));
    }
    shared_.resize(shared_.size() - n);
    shared_count_.store(shared_.size(), std::memory_order_relaxed);
  }
  const size_t i = Fitting(local.strings, capacity);
  if (i == local.strings.size()) return {};
  ++t_served;
  return Remove(local.strings, i);
}

void StringRecycler::Reserve(std::string& out, size_t n) {
  if (out.capacity() >= n) return;
  std::string recycled = Take(n);
  if (recycled.capacity() >= n) {
    out.swap(recycled);
  } else {
    out.reserve(SizeClass(n));
  }
}

void StringRecycler::GiveAll(std::vector<std::string>& spent) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::string& s : spent) {
      const size_t c = s.capacity();
      if (c < kMinCapacity || c > kMaxCapacity || shared_bytes_ + c > kMaxSharedBytes) continue;
      s.clear();
      shared_bytes_ += c;
      shared_.push_back(std::move(s));
    }
    shared_count_.store(shared_.size(), std::memory_order_relaxed);
  }
  spent.clear();  // frees what was not kept, outside the lock
}

void StringRecycler::Release() {
  std::vector<std::string> freed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    freed.swap(shared_);
    shared_bytes_ = 0;
    shared_count_.store(0, std::memory_order_relaxed);
  }
}

size_t StringRecycler::SharedForTest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shared_.size();
}

size_t StringRecycler::SharedBytesForTest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shared_bytes_;
}

size_t StringRecycler::LocalForTest() const { return Local(this).strings.size(); }

uint64_t StringRecycler::ServedOnThisThread() { return t_served; }

}  // namespace relaytap
