#include "tests/testing/real_prometheus.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "proxy/stream/net.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"

namespace relaytap::testing {
namespace {

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string Get(uint16_t port, const std::string& target) {
  net::io_context ioc;
  beast::tcp_stream s(ioc);
  s.expires_after(std::chrono::seconds(10));
  boost::system::error_code ec;
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return "";
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(s, req, ec);
  http::response<http::string_body> res;
  beast::flat_buffer b;
  if (!ec) http::read(s, b, res, ec);
  return ec ? "" : res.body();
}

}  // namespace

std::unique_ptr<RealPrometheus> RealPrometheus::Start(uint16_t scrape_port) {
  // One that exits at once usually lost its port to another process: try another port.
  constexpr int kAttempts = 3;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    const std::filesystem::path dir = FreshTempDir("prometheus");
    const uint16_t port = FreeLoopbackPort();
    const std::filesystem::path conf = dir / "prometheus.yml";
    std::ofstream(conf) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                           "scrape_configs:\n  - job_name: relaytap\n    static_configs:\n"
                           "      - targets: ['127.0.0.1:"
                        << scrape_port << "']\n";
    bool exited = false;
    std::unique_ptr<RealProxy> p = RealProxy::Spawn(
        "prometheus",
        {"/usr/bin/prometheus", "--config.file=" + conf.string(),
         "--storage.tsdb.path=" + (dir / "data").string(),
         "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"},
        dir, port, attempt == kAttempts, &exited);
    if (p) {
      std::unique_ptr<RealPrometheus> out(new RealPrometheus());
      out->process_ = std::move(p);
      return out;
    }
    if (!exited) break;
  }
  return nullptr;
}

std::optional<double> RealPrometheus::Query(const std::string& promql) {
  const std::string body = Get(port(), "/api/v1/query?query=" + UrlEncode(promql));
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || doc.value("status", "") != "success") return std::nullopt;
  const nlohmann::json& result = doc["data"]["result"];
  if (!result.is_array() || result.size() != 1) return std::nullopt;
  const nlohmann::json& value = result[0]["value"];
  if (!value.is_array() || value.size() != 2 || !value[1].is_string()) return std::nullopt;
  return std::stod(value[1].get<std::string>());
}

::testing::AssertionResult RealPrometheus::WaitForValue(const std::string& promql, double want) {
  std::optional<double> seen;
  ::testing::AssertionResult r = WaitFor(
      [&] {
        seen = Query(promql);
        return seen == want;
      },
      promql + " == " + std::to_string(want));
  if (!r) {
    r << " (last seen: " << (seen ? std::to_string(*seen) : std::string("no sample")) << ")";
  }
  return r;
}

}  // namespace relaytap::testing
