#pragma once
// The ids one realtime response carries.

#include <string>

namespace relaytap::tools::fake_upstream {

struct RealtimeResponseIds {
  std::string session_id;
  std::string response_id;
  std::string item_id;
  std::string conversation_id;
};

}  // namespace relaytap::tools::fake_upstream
