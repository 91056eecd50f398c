#include "tools/bench/stats.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace relaytap::tools::bench {
namespace {

constexpr std::string_view kIdPrefix = "\"event_id\":\"evt_";

std::optional<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void Latencies::Merge(const Latencies& other) {
  values_.insert(values_.end(), other.values_.begin(), other.values_.end());
  sorted_ = false;
}

size_t Latencies::CountAbove(int64_t ns) const {
  return static_cast<size_t>(
      std::count_if(values_.begin(), values_.end(), [ns](int64_t v) { return v > ns; }));
}

int64_t Latencies::Percentile(double p) const {
  if (values_.empty()) return 0;
  auto& v = const_cast<std::vector<int64_t>&>(values_);
  if (!sorted_ || !std::is_sorted(v.begin(), v.end())) std::sort(v.begin(), v.end());
  sorted_ = true;
  // Nearest rank: the smallest value with at least p% of the values at or below it.
  double rank = std::ceil(p / 100.0 * static_cast<double>(v.size()));
  size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return v[std::min(index, v.size() - 1)];
}

int64_t Latencies::Max() const {
  return values_.empty() ? 0 : *std::max_element(values_.begin(), values_.end());
}

std::string AppendMessage(uint32_t session, uint64_t seq, std::string_view audio_base64) {
  char id[32];
  std::snprintf(id, sizeof(id), "%06u_%09llu", session % 1000000u,
                static_cast<unsigned long long>(seq % 1000000000ull));
  std::string out;
  out.reserve(audio_base64.size() + 96);
  out += "{\"type\":\"input_audio_buffer.append\",";
  out += kIdPrefix;
  out += id;
  out += "\",\"audio\":\"";
  out += audio_base64;
  out += "\"}";
  return out;
}

std::optional<uint64_t> ParseSeq(std::string_view message) {
  size_t at = message.substr(0, 128).find(kIdPrefix);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = message.substr(at + kIdPrefix.size());
  // "SSSSSS_QQQQQQQQQ"
  if (rest.size() < 16 || rest[6] != '_') return std::nullopt;
  uint64_t seq = 0;
  std::string_view digits = rest.substr(7, 9);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  return seq;
}

std::string Base64(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8) |
                 static_cast<uint8_t>(data[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i < data.size()) {
    uint32_t n = static_cast<uint8_t>(data[i]) << 16;
    if (i + 1 < data.size()) n |= static_cast<uint8_t>(data[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<int64_t> ParseStatusRssKib(std::string_view status) {
  size_t at = status.find("\nVmRSS:");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = status.substr(at + 7);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  int64_t kib = 0;
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), kib);
  if (ec != std::errc()) return std::nullopt;
  return kib;
}

std::optional<double> ParseStatCpuSeconds(std::string_view stat, long ticks_per_second) {
  // The command name (field 2) is in parentheses and may hold spaces: start after the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return std::nullopt;
  std::istringstream in(std::string(stat.substr(close + 1)));
  std::string field;
  // Fields after ')': 3 state ... 14 utime, 15 stime.
  unsigned long long utime = 0, stime = 0;
  for (int n = 3; n <= 15; ++n) {
    if (!(in >> field)) return std::nullopt;
    if (n == 14) utime = std::stoull(field);
    if (n == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(ticks_per_second);
}

std::optional<int64_t> ReadRssKib(pid_t pid) {
  auto text = ReadWhole("/proc/" + std::to_string(pid) + "/status");
  if (!text) return std::nullopt;
  return ParseStatusRssKib(*text);
}

std::optional<double> ReadCpuSeconds(pid_t pid) {
  auto text = ReadWhole("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  return ParseStatCpuSeconds(*text, sysconf(_SC_CLK_TCK));
}

}  // namespace relaytap::tools::bench
