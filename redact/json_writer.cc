#include "redact/json_writer.h"

#include <algorithm>
#include <vector>

namespace relaytap::redact {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid (overlong forms,
// surrogates and code points above U+10FFFF are invalid).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

void AppendQuoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Bytes written as they are; runs of them are appended in one go rather than byte by byte
  // (every key and kept value of every event passes through here, nearly all plain ASCII).
  const auto plain = [](unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; };
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    size_t run = i;
    while (run < s.size() && plain(static_cast<unsigned char>(s[run]))) ++run;
    out.append(s.data() + i, run - i);
    if (run == s.size()) break;
    i = run;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        out.append("\\ufffd");
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:  // the other control characters (every byte >= 0x20 left is handled above)
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
    ++i;
  }
  out.push_back('"');
}

void AppendScalar(std::string& out, const nlohmann::ordered_json& v) {
  switch (v.type()) {
    case nlohmann::ordered_json::value_t::string:
      AppendQuoted(out, v.get_ref<const std::string&>());
      break;
    case nlohmann::ordered_json::value_t::boolean:
      out.append(v.get<bool>() ? "true" : "false");
      break;
    case nlohmann::ordered_json::value_t::null:
    case nlohmann::ordered_json::value_t::discarded:
      out.append("null");
      break;
    default:  // numbers and binary: leaves, so dump() cannot recurse deeply
      out.append(v.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  }
}

std::string SerializeCompact(const nlohmann::ordered_json& v, const JsonHoles* holes,
                             bool sorted_keys) {
  using Doc = nlohmann::ordered_json;
  using Member = Doc::object_t::value_type;
  struct Frame {
    const Doc* container;
    Doc::const_iterator it;
    std::vector<const Member*> sorted;  // with sorted_keys: an object's members in key order
    size_t next = 0;
    bool first = true;
  };
  std::string out;
  std::vector<Frame> stack;
  const auto open = [&](const Doc& node) {
    if (node.is_object() || node.is_array()) {
      out.push_back(node.is_object() ? '{' : '[');
      Frame f{&node, node.cbegin(), {}};
      if (sorted_keys && node.is_object()) {
        for (const Member& m : node.get_ref<const Doc::object_t&>()) f.sorted.push_back(&m);
        std::sort(f.sorted.begin(), f.sorted.end(),
                  [](const Member* a, const Member* b) { return a->first < b->first; });
      }
      stack.push_back(std::move(f));
    } else if (holes != nullptr && node.is_string()) {
      AppendQuoted(out, holes->Resolve(node.get_ref<const std::string&>()));
    } else {
      AppendScalar(out, node);
    }
  };
  open(v);
  while (!stack.empty()) {
    Frame& f = stack.back();
    const bool by_key = sorted_keys && f.container->is_object();
    if (by_key ? f.next == f.sorted.size() : f.it == f.container->cend()) {
      out.push_back(f.container->is_object() ? '}' : ']');
      stack.pop_back();
      continue;
    }
    if (!f.first) out.push_back(',');
    f.first = false;
    const Doc* child = nullptr;
    if (by_key) {
      const Member* m = f.sorted[f.next++];
      AppendQuoted(out, m->first);
      out.push_back(':');
      child = &m->second;
    } else {
      if (f.container->is_object()) {
        AppendQuoted(out, f.it.key());
        out.push_back(':');
      }
      child = &*f.it;
      ++f.it;
    }
    open(*child);  // may grow `stack`; `f` is not used after this
  }
  return out;
}

std::string_view TruncateUtf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

}  // namespace relaytap::redact
