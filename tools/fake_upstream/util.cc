#include "tools/fake_upstream/util.h"

#include <openssl/rand.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <random>
#include <stdexcept>

namespace relaytap::tools::fake_upstream {

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string ToHex(const unsigned char* data, size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

void RandomBytes(unsigned char* out, size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    for (size_t i = 0; i < size; ++i) out[i] = static_cast<unsigned char>(rng());
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx_);
    throw std::runtime_error("EVP sha256 init failed");
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::Update(const void* data, size_t size) {
  if (size > 0) EVP_DigestUpdate(ctx_, data, size);
}

std::string Sha256::FinalHex() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, md.data(), &len);
  return ToHex(md.data(), len);
}

std::string Sha256Hex(std::string_view data) {
  Sha256 h;
  h.Update(data.data(), data.size());
  return h.FinalHex();
}

std::string NewUuid() {
  std::array<unsigned char, 16> b{};
  RandomBytes(b.data(), b.size());
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  std::string hex = ToHex(b.data(), b.size());
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string RandomId(std::string_view prefix, size_t length) {
  static constexpr char kAlnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out(prefix);
  std::string raw(length, '\0');
  RandomBytes(reinterpret_cast<unsigned char*>(raw.data()), raw.size());
  for (char c : raw) out.push_back(kAlnum[static_cast<unsigned char>(c) % 62]);
  return out;
}

std::string Base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  if (text.empty()) return std::string();
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t pad = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

void FillDeterministic(uint64_t offset, unsigned char* out, size_t size) {
  for (size_t i = 0; i < size; ++i) out[i] = DeterministicByte(offset + i);
}

Target ParseTarget(std::string_view target) {
  Target t;
  size_t q = target.find('?');
  t.path = std::string(target.substr(0, q));
  if (q == std::string_view::npos) return t;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view part = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string key = PercentDecode(part.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(part.substr(eq + 1));
    t.query[key] = value;
  }
  return t;
}

uint64_t QueryUint(const Target& t, const std::string& key, uint64_t fallback) {
  auto it = t.query.find(key);
  if (it == t.query.end()) return fallback;
  uint64_t v = 0;
  const std::string& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return fallback;
  return v;
}

std::string DeploymentOf(const Target& t) {
  for (const char* key : {"deployment", "model"}) {
    auto it = t.query.find(key);
    if (it != t.query.end() && !it->second.empty()) return it->second;
  }
  constexpr std::string_view kPrefix = "/openai/deployments/";
  if (t.path.starts_with(kPrefix)) {
    std::string rest = t.path.substr(kPrefix.size());
    return rest.substr(0, rest.find('/'));
  }
  return "";
}

void AddAzureHeaders(boost::beast::http::fields& fields) {
  static std::atomic<uint64_t> remaining{19999};
  uint64_t r = remaining.fetch_sub(1, std::memory_order_relaxed);
  if (r < 1000) remaining.store(19999, std::memory_order_relaxed);
  fields.set("apim-request-id", NewUuid());
  fields.set("x-request-id", NewUuid());
  fields.set("x-ms-region", "Sweden Central");
  // A throttling answer has already set them to 0.
  if (fields.find("x-ratelimit-remaining-requests") == fields.end()) {
    fields.set("x-ratelimit-remaining-requests", std::to_string(r % 20000));
  }
  if (fields.find("x-ratelimit-remaining-tokens") == fields.end()) {
    fields.set("x-ratelimit-remaining-tokens", std::to_string(r * 40 % 800000));
  }
}

}  // namespace relaytap::tools::fake_upstream
