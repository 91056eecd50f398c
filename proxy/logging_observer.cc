#include <string_view>

#include "base/log.h"
#include "proxy/context.h"

namespace relaytap::proxy {
namespace {

// The value of a top-level "type" key if the payload starts like a realtime event; event types are
// protocol vocabulary, never content. Anything unexpected yields "".
std::string_view EventType(std::string_view payload) {
  constexpr std::string_view kKey = "\"type\"";
  size_t pos = payload.find(kKey);
  if (pos == std::string_view::npos || pos > 64) return {};
  pos = payload.find('"', payload.find(':', pos + kKey.size()));
  if (pos == std::string_view::npos) return {};
  size_t end = payload.find('"', pos + 1);
  if (end == std::string_view::npos || end - pos > 80) return {};
  std::string_view type = payload.substr(pos + 1, end - pos - 1);
  for (char c : type) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_')) return {};
  }
  return type;
}

class LoggingObserver final : public ws::MessageObserver {
 public:
  explicit LoggingObserver(uint64_t id) : id_(id) {}
  void OnMessage(ws::Message&& m) override {
    RELAYTAP_LOG(kDebug, "ws conn=", id_, " from=", ws::DirectionName(m.direction),
                 " opcode=", ws::OpcodeName(m.opcode), " bytes=", m.payload.size(),
                 " wire=", m.wire_bytes, " frames=", m.frame_count,
                 m.compressed ? " deflate" : "",
                 m.opcode == ws::Opcode::kText ? StrCat(" type=", EventType(m.payload)) : "",
                 m.close_code ? StrCat(" close_code=", *m.close_code) : "");
  }
  void OnTapError(ws::Direction d, std::string_view reason) override {
    RELAYTAP_LOG(kWarn, "ws conn=", id_, " frame tap stopped for ", ws::DirectionName(d),
                 " messages (bytes still relayed): ", reason);
  }

 private:
  uint64_t id_;
};

class LoggingObserverFactory final : public WsObserverFactory {
 public:
  std::unique_ptr<ws::MessageObserver> Create(const WsSessionInfo& info) override {
    return std::make_unique<LoggingObserver>(info.connection_id);
  }
};

}  // namespace

std::unique_ptr<WsObserverFactory> MakeLoggingObserverFactory() {
  return std::make_unique<LoggingObserverFactory>();
}

}  // namespace relaytap::proxy
