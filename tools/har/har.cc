#include "tools/har/har.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/ascii.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "nlohmann/json.hpp"
#include "redact/json_writer.h"

namespace relaytap::tools::har {
namespace {

using json = nlohmann::ordered_json;
using recorder::query::RecordedExchange;

std::string IsoTime(int64_t us) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMicros(us), absl::UTCTimeZone());
}

// Milliseconds, rounded to microseconds; -1 (HAR's "does not apply") when unknown or negative.
double Ms(std::optional<int64_t> us) {
  if (!us || *us < 0) return -1;
  return std::round(static_cast<double>(*us)) / 1000.0;
}

// The stored [[name, value], ...] as HAR's [{name, value}, ...].
json Headers(const std::string& stored) {
  json out = json::array();
  nlohmann::json j = nlohmann::json::parse(stored, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const auto& pair : j) {
    if (pair.is_array() && pair.size() == 2 && pair[0].is_string() && pair[1].is_string()) {
      out.push_back({{"name", pair[0]}, {"value", pair[1]}});
    }
  }
  return out;
}

std::string HeaderValue(const json& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (EqualsIgnoreCase(h["name"].get<std::string>(), name)) return h["value"];
  }
  return "";
}

// The query string as HAR's [{name, value}] (values as stored: already redacted).
json QueryString(const std::string& path) {
  json out = json::array();
  const size_t q = path.find('?');
  if (q == std::string::npos) return out;
  std::string_view rest = std::string_view(path).substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    out.push_back(
        {{"name", std::string(pair.substr(0, eq))},
         {"value", eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1))}});
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return out;
}

std::string Url(const RecordedExchange& x) {
  const bool default_port =
      x.port == 0 || (x.scheme == "https" && x.port == 443) || (x.scheme == "http" && x.port == 80);
  const std::string scheme = x.scheme == "https" ? "https" : "http";
  return StrCat(scheme, "://", x.host, default_port ? "" : StrCat(":", x.port),
                x.path.empty() ? "/" : x.path);
}

json Timings(const RecordedExchange& x) {
  const double dns = Ms(x.dns_us);
  const double ssl = Ms(x.tls_us);
  // HAR's connect includes the TLS handshake.
  const double connect =
      x.connect_us ? Ms(*x.connect_us + (x.tls_us ? std::max<int64_t>(*x.tls_us, 0) : 0)) : -1;
  // The request head was read before the dial: waiting is what is left of head-to-head.
  double wait = 0;
  if (x.response_headers_us) {
    wait = Ms(*x.response_headers_us - x.request_start_us);
    wait -= std::max(dns, 0.0) + std::max(connect, 0.0);
    wait = std::max(wait, 0.0);
  }
  double receive = 0;
  if (x.end_us && x.response_headers_us) {
    receive = std::max(Ms(*x.end_us - *x.response_headers_us), 0.0);
  }
  return {{"blocked", -1}, {"dns", dns},         {"connect", connect}, {"send", 0},
          {"wait", wait},  {"receive", receive}, {"ssl", ssl}};
}

double TotalTime(const json& timings) {
  double total = 0;
  for (const char* k : {"blocked", "dns", "connect", "send", "wait", "receive"}) {
    total += std::max(timings[k].get<double>(), 0.0);
  }
  return std::round(total * 1000) / 1000;
}

json Entry(const RecordedExchange& x, bool websocket) {
  json request_headers = Headers(x.request_headers);
  json response_headers = Headers(x.response_headers);
  json request = {{"method", x.method.empty() ? "GET" : x.method},
                  {"url", Url(x)},
                  {"httpVersion", "HTTP/1.1"},
                  {"cookies", json::array()},
                  {"headers", request_headers},
                  {"queryString", QueryString(x.path)},
                  {"headersSize", -1},
                  {"bodySize", static_cast<int64_t>(x.request_body.size())}};
  if (!x.request_body.empty()) {
    std::string mime = HeaderValue(request_headers, "content-type");
    request["postData"] = {{"mimeType", mime.empty() ? "application/octet-stream" : mime},
                           {"text", x.request_body}};
  }
  std::string mime = HeaderValue(response_headers, "content-type");
  json content = {{"size", static_cast<int64_t>(x.response_body.size())},
                  {"mimeType", mime.empty() ? "x-unknown" : mime}};
  if (!x.response_body.empty()) content["text"] = x.response_body;
  json response = {{"status", x.status},
                   {"statusText", ""},
                   {"httpVersion", "HTTP/1.1"},
                   {"cookies", json::array()},
                   {"headers", response_headers},
                   {"content", content},
                   {"redirectURL", HeaderValue(response_headers, "location")},
                   {"headersSize", -1},
                   {"bodySize", x.status == 0 ? -1 : static_cast<int64_t>(x.response_body.size())}};
  json timings = Timings(x);
  json entry = {{"startedDateTime", IsoTime(x.request_start_us)},
                {"time", TotalTime(timings)},
                {"request", request},
                {"response", response},
                {"cache", json::object()},
                {"timings", timings}};
  if (!x.server_address.empty()) {
    const size_t colon = x.server_address.rfind(':');
    std::string ip = x.server_address.substr(0, colon);
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    entry["serverIPAddress"] = ip;
  }
  entry["connection"] = std::to_string(x.connection_id);
  if (websocket) entry["_resourceType"] = "websocket";
  return entry;
}

// Appends one of Chrome's `_webSocketMessages`, on its own line. Written as text rather than
// through a DOM: a store of a million events exports a million of these.
void AppendMessage(std::string& out, const recorder::query::MessageView& m, bool first) {
  out.append(first ? "\n{\"type\":\"" : ",\n{\"type\":\"");
  out.append(m.from_client ? "send" : "receive");
  // Seconds since the epoch with microseconds, as Chrome writes them.
  char time[32];
  const int n =
      std::snprintf(time, sizeof time, "%lld.%06lld", static_cast<long long>(m.at_us / 1'000'000),
                    static_cast<long long>(m.at_us % 1'000'000));
  out.append("\",\"time\":").append(time, static_cast<size_t>(n));
  out.append(",\"opcode\":").append(std::to_string(m.opcode));
  out.append(",\"data\":");
  redact::AppendQuoted(out, m.payload);
  out.push_back('}');
}

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

// The document is written as text around compact JSON entries (one entry, and one WebSocket
// message, a line), handed to `write` a megabyte at a time: memory stays flat however large the
// store.
absl::Status WriteHar(recorder::query::StoreReader& reader,
                      const recorder::query::TimeWindow& window,
                      const std::string& relaytap_version,
                      absl::FunctionRef<bool(std::string_view)> write) {
  constexpr size_t kChunk = 1 << 20;
  RELAYTAP_ASSIGN_OR_RETURN(std::vector<RecordedExchange> exchanges, reader.Exchanges(window));
  const json creator = {{"name", "relaytap"}, {"version", relaytap_version}};
  std::string out =
      StrCat("{\"log\":{\"version\":\"1.2\",\"creator\":", Dump(creator),
             ",\"pages\":[],\"comment\":\"Recorded by relaytap; headers, bodies and messages are "
             "redacted.\",\"entries\":[");
  out.reserve(2 * kChunk);
  bool write_failed = false;
  auto flush_if_full = [&] {
    if (out.size() < kChunk || write_failed) return;
    write_failed = !write(out);
    out.clear();
  };
  bool first = true;
  for (const RecordedExchange& x : exchanges) {
    std::string entry = Dump(Entry(x, x.session_ref.has_value()));
    out.append(first ? "\n" : ",\n");
    first = false;
    if (!x.session_ref) {
      out.append(entry);
      flush_if_full();
      continue;
    }
    entry.pop_back();  // the entry's closing brace
    out.append(entry).append(",\"_webSocketMessages\":[");
    bool first_message = true;
    RELAYTAP_RETURN_IF_ERROR(
        reader.ForEachMessage(*x.session_ref, [&](const recorder::query::MessageView& m) {
          AppendMessage(out, m, first_message);
          first_message = false;
          flush_if_full();
        }));
    out.append(first_message ? "]}" : "\n]}");
    if (write_failed) break;
  }
  out.append("\n]}}\n");
  if (write_failed || !write(out)) return absl::UnavailableError("writing the HAR failed");
  return absl::OkStatus();
}

absl::StatusOr<std::string> ExportHar(recorder::query::StoreReader& reader,
                                      const recorder::query::TimeWindow& window,
                                      const std::string& relaytap_version) {
  std::string out;
  RELAYTAP_RETURN_IF_ERROR(WriteHar(reader, window, relaytap_version, [&](std::string_view piece) {
    out.append(piece);
    return true;
  }));
  return out;
}

}  // namespace relaytap::tools::har
