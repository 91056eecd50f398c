#include "tests/testing/ports.h"

#include <algorithm>
#include <boost/asio.hpp>
#include <fstream>
#include <random>

namespace relaytap::testing {

namespace net = boost::asio;
using tcp = net::ip::tcp;

uint16_t FreeLoopbackPort() {
  int ephemeral_low = 32768;
  if (std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range"); range) {
    range >> ephemeral_low;
  }
  const int low = 10000;
  const int span = std::max(1000, ephemeral_low - low);
  thread_local std::mt19937 random(std::random_device{}());
  net::io_context ioc;
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto port = static_cast<uint16_t>(low + static_cast<int>(random() % span));
    boost::system::error_code ec;
    tcp::acceptor a(ioc);
    a.open(tcp::v4(), ec);
    if (!ec) a.bind(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) return port;
  }
  tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

}  // namespace relaytap::testing
