#include "tests/integration/guard_storm_clients.h"

#include <cmath>
#include <random>

namespace relaytap::testing {

Answer Send(ProxyHarness& h, const std::string& raw_request) {
  Answer a;
  try {
    auto c = h.InterceptedClient();
    c->Write(raw_request);
    auto res = c->ReadResponse();
    a.status = res.result_int();
    a.should_retry = std::string(res["x-should-retry"]);
    a.retry_after_ms = std::string(res["retry-after-ms"]);
    a.guard_reason = std::string(res["x-relaytap-guard"]);
  } catch (const std::exception&) {
    a.status = 0;
  }
  return a;
}

Answer Post(ProxyHarness& h, const std::string& target, const std::string& body, int retry_count) {
  std::string head =
      "POST " + target + " HTTP/1.1\r\nHost: " + kAzureHost +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n";
  if (retry_count >= 0) head += "x-stainless-retry-count: " + std::to_string(retry_count) + "\r\n";
  return Send(h, head + "\r\n" + body);
}

Answer Upgrade(ProxyHarness& h, const std::string& target) {
  return Send(h, "GET " + target + " HTTP/1.1\r\nHost: " + std::string(kAzureHost) +
                     "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13"
                     "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
}

ClientRun SdkClient(ProxyHarness& h, const std::string& target, const std::string& body,
                    int max_retries, uint64_t seed) {
  ClientRun r;
  std::mt19937_64 rng(seed);
  for (int retry = 0;; ++retry) {
    Answer a = Post(h, target, body, retry);
    r.attempts++;
    r.final_status = a.status;
    if (!a.guard_reason.empty()) r.guard_answers++;
    if (a.status >= 200 && a.status < 400) return r;
    if (a.should_retry == "false") {
      r.stopped_by_should_retry = true;
      return r;
    }
    bool retryable = a.should_retry == "true" || a.status == 0 || a.status == 408 ||
                     a.status == 409 || a.status == 429 || a.status >= 500;
    if (!retryable || retry >= max_retries) return r;
    int64_t delay = 0;
    if (!a.retry_after_ms.empty() && std::stoll(a.retry_after_ms) < 60'000) {
      delay = std::stoll(a.retry_after_ms);
    } else {
      double base = std::min(0.5 * std::pow(2.0, retry), 8.0);
      double jitter = 1 - std::uniform_real_distribution<double>(0, 0.25)(rng);
      delay = static_cast<int64_t>(base * jitter * 1000);
    }
    r.backoffs_ms.push_back(delay);
  }
}

ClientRun NaiveClient(ProxyHarness& h, const std::string& target, const std::string& body,
                      int max_attempts, bool websocket) {
  ClientRun r;
  for (int i = 0; i < max_attempts; ++i) {
    Answer a = websocket ? Upgrade(h, target) : Post(h, target, body);
    r.attempts++;
    r.final_status = a.status;
    if (!a.guard_reason.empty()) r.guard_answers++;
    if (a.status == 101 || (a.status >= 200 && a.status < 400)) break;
  }
  return r;
}

size_t UpstreamCount(ProxyHarness& h, const std::string& marker) {
  size_t n = 0;
  for (const auto& r : h.upstream().requests()) n += r.target.find(marker) != std::string::npos;
  return n;
}

}  // namespace relaytap::testing
