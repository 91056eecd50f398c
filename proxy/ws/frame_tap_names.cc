// The words for FrameTap's enums (frame_tap.h): directions, opcodes and truncations, as logs
// and the recorder's boundary spell them.
#include "proxy/ws/frame_tap.h"

namespace relaytap::proxy::ws {

std::string_view DirectionName(Direction d) {
  return d == Direction::kClientToServer ? "client" : "server";
}

std::string_view TruncationName(Truncation t) {
  switch (t) {
    case Truncation::kNone:
      return "none";
    case Truncation::kObservationCap:
      return "observation_cap";
    case Truncation::kExpansionRatio:
      return "expansion_ratio";
    case Truncation::kReassemblyBudget:
      return "reassembly_budget";
  }
  return "unknown";
}

std::string_view OpcodeName(Opcode op) {
  switch (op) {
    case Opcode::kContinuation:
      return "continuation";
    case Opcode::kText:
      return "text";
    case Opcode::kBinary:
      return "binary";
    case Opcode::kClose:
      return "close";
    case Opcode::kPing:
      return "ping";
    case Opcode::kPong:
      return "pong";
  }
  return "unknown";
}

}  // namespace relaytap::proxy::ws
