#include "redact/json_parse.h"

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace relaytap::redact {
namespace {

using Json = nlohmann::ordered_json;

// Builds the DOM from nlohmann's SAX events (its parser is iterative; so is this builder). An
// object's members are staged in a vector of (key, value) with a movable key and moved into the
// object when it closes: ordered_json's own vector of pair<const key, value> copies every member,
// subtree and all, each time it grows. While a container is open its parent gets no new element,
// so pointers to open containers stay valid. Staging vectors are reused per depth.
class OrderedDomBuilder {
 public:
  // Objects up to this size find a duplicate key by a scan; larger ones through an index.
  static constexpr size_t kScanKeys = 16;

  explicit OrderedDomBuilder(size_t max_values) : values_left_(max_values) {}
  bool over_budget() const { return over_budget_; }

  bool null() { return Put(Json(nullptr)); }
  bool boolean(bool v) { return Put(Json(v)); }
  bool number_integer(Json::number_integer_t v) { return Put(Json(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return Put(Json(v)); }
  bool number_float(Json::number_float_t v, const std::string&) { return Put(Json(v)); }
  bool string(std::string& v) { return Put(Json(std::move(v))); }
  bool binary(Json::binary_t& v) { return Put(Json::binary(std::move(v))); }
  bool start_object(std::size_t) { return Open(Json::value_t::object); }
  bool start_array(std::size_t) { return Open(Json::value_t::array); }
  bool end_array() {
    open_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

  bool key(std::string& k) {
    Level& level = open_.back();
    Members& members = staged_[level.stage];
    const size_t at = Find(level, members, k);
    if (at < members.size()) {
      slot_ = &members[at].second;
      *slot_ = nullptr;  // the last value wins, at the first position
      return true;
    }
    if (level.index) level.index->emplace(k, members.size());
    members.emplace_back(std::move(k), nullptr);
    slot_ = &members.back().second;
    if (!level.index && members.size() > kScanKeys) Index(level, members);
    return true;
  }

  bool end_object() {
    Level& level = open_.back();
    Members& members = staged_[level.stage];
    Json::object_t& object = level.node->get_ref<Json::object_t&>();
    object.reserve(members.size());
    for (auto& [k, v] : members) object.emplace_back(std::move(k), std::move(v));
    members.clear();  // keeps its capacity for the next object at this depth
    --objects_open_;
    open_.pop_back();
    return true;
  }

  Json Take() { return std::move(root_); }

 private:
  using Members = std::vector<std::pair<std::string, Json>>;
  struct Level {
    Json* node;
    size_t stage;  // objects: staged_[stage] holds the members read so far
    std::unique_ptr<std::unordered_map<std::string, size_t>> index;  // key -> position
  };

  static size_t Find(const Level& level, const Members& members, const std::string& k) {
    if (level.index) {
      const auto it = level.index->find(k);
      return it == level.index->end() ? members.size() : it->second;
    }
    for (size_t i = 0; i < members.size(); ++i) {
      if (members[i].first == k) return i;
    }
    return members.size();
  }

  static void Index(Level& level, const Members& members) {
    level.index = std::make_unique<std::unordered_map<std::string, size_t>>();
    for (size_t i = 0; i < members.size(); ++i) level.index->emplace(members[i].first, i);
  }

  // Places `v` where the parser is (the root, the next array element, or the last key's value)
  // and returns it.
  Json* Place(Json&& v) {
    if (open_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Json* top = open_.back().node;
    if (top->is_array()) {
      Json::array_t& array = top->get_ref<Json::array_t&>();
      array.push_back(std::move(v));
      return &array.back();
    }
    *slot_ = std::move(v);
    return slot_;
  }
  // Counts one more value; false (which stops the parse) past the budget.
  bool Count() {
    if (values_left_ == 0) {
      over_budget_ = true;
      return false;
    }
    --values_left_;
    return true;
  }
  bool Put(Json&& v) {
    if (!Count()) return false;
    Place(std::move(v));
    return true;
  }
  bool Open(Json::value_t t) {
    if (!Count()) return false;
    Json* node = Place(Json(t));
    size_t stage = 0;
    if (t == Json::value_t::object) {
      stage = objects_open_++;
      if (staged_.size() < objects_open_) staged_.emplace_back();
    }
    open_.push_back(Level{node, stage, nullptr});
    return true;
  }

  Json root_;
  std::vector<Level> open_;
  std::vector<Members> staged_;  // one per depth of open objects
  size_t objects_open_ = 0;
  Json* slot_ = nullptr;  // the value of the key just read
  size_t values_left_;
  bool over_budget_ = false;
};

}  // namespace

nlohmann::ordered_json ParseOrderedJson(std::string_view text, size_t max_values,
                                        bool* over_budget) {
  OrderedDomBuilder builder(max_values);
  const bool ok = Json::sax_parse(text.begin(), text.end(), &builder, Json::input_format_t::json,
                                  /*strict=*/true, /*ignore_comments=*/false);
  if (over_budget != nullptr) *over_budget = builder.over_budget();
  if (!ok) return Json(Json::value_t::discarded);
  return builder.Take();
}

}  // namespace relaytap::redact
