// ReadHeader over a scripted stream: a head that arrives in pieces is read as if it came whole
// (tinyproxy, for one, writes a CONNECT's start line and its fields separately).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "proxy/http/raw_parser.h"
#include "tests/testing/fake_byte_stream.h"

namespace relaytap::proxy::http_relay {
namespace {

using testing::FakeByteStream;

struct HeadRead {
  error_code ec;
  size_t size = 0;
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string left;  // what stays in the buffer
};

HeadRead ReadInPieces(const std::vector<std::string>& pieces) {
  net::io_context ioc;
  FakeByteStream stream(ioc.get_executor());
  for (const std::string& p : pieces) stream.PushRead(p);
  std::optional<HeadRead> out;
  net::co_spawn(
      ioc,
      [&]() -> Awaitable<void> {
        RawParser<true> parser;
        beast::flat_buffer buf;
        HeadRead r;
        r.ec = co_await ReadHeader(stream, buf, parser, r.size);
        r.method = parser.method;
        r.target = parser.target;
        r.fields = parser.fields;
        r.left = beast::buffers_to_string(buf.data());
        out = r;
      },
      net::detached);
  ioc.run_for(std::chrono::seconds(10));
  EXPECT_TRUE(out.has_value()) << "ReadHeader did not return";
  return out.value_or(HeadRead{});
}

const std::string kHead =
    "CONNECT 127.0.0.1:8443 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nConnection: close\r\n"
    "Via: 1.1 relaytap-0123456789abcdef, 1.1 vm (tinyproxy/1.11.1)\r\n\r\n";

void ExpectTheHead(const HeadRead& r) {
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.method, "CONNECT");
  EXPECT_EQ(r.target, "127.0.0.1:8443");
  ASSERT_EQ(r.fields.size(), 3u);
  EXPECT_EQ(r.fields[0].first, "Host");
  EXPECT_EQ(r.fields[2].second, "1.1 relaytap-0123456789abcdef, 1.1 vm (tinyproxy/1.11.1)");
  EXPECT_EQ(r.size, kHead.size());
}

TEST(ReadHeaderTest, AHeadInOnePieceIsRead) {
  HeadRead r = ReadInPieces({kHead});
  ExpectTheHead(r);
  EXPECT_EQ(r.left, kHead);  // the head stays at the front of the buffer, to be forwarded
}

TEST(ReadHeaderTest, AHeadWrittenLineByLineIsReadWhole) {
  std::vector<std::string> lines;
  for (size_t at = 0; at < kHead.size();) {
    const size_t end = kHead.find("\r\n", at) + 2;
    lines.push_back(kHead.substr(at, end - at));
    at = end;
  }
  ASSERT_EQ(lines.size(), 5u);
  HeadRead r = ReadInPieces(lines);
  ExpectTheHead(r);
  EXPECT_EQ(r.left, kHead);
}

TEST(ReadHeaderTest, AHeadSplitAtEveryByteIsReadWhole) {
  std::vector<std::string> bytes;
  for (char c : kHead) bytes.emplace_back(1, c);
  ExpectTheHead(ReadInPieces(bytes));
}

TEST(ReadHeaderTest, BytesAfterTheHeadStayInTheBufferAfterIt) {
  HeadRead r = ReadInPieces({kHead.substr(0, 40), kHead.substr(40) + "\x16\x03\x01"});
  ExpectTheHead(r);
  EXPECT_EQ(r.left, kHead + "\x16\x03\x01");
}

}  // namespace
}  // namespace relaytap::proxy::http_relay
