#pragma once
// What the writer thread classified, handed to a live view (the metrics/ counters) as it writes
// each observation into the current transaction. The outcomes are the ones the store gets: the
// same ClassifyEnd / ClassifyExchange / ClassifySession calls, made once, on the writer thread.
// Thread rule: called on the writer thread only; never on the relay's io threads.

#include <string_view>

#include "recorder/observation.h"
#include "recorder/outcome.h"

namespace relaytap::recorder {

class WriterTap {
 public:
  virtual ~WriterTap() = default;
  // One observation written into the open transaction.
  virtual void OnConnectionOpened(const ConnectionOpened& o) = 0;
  virtual void OnConnectionClosed(const ConnectionClosed& c, Outcome outcome) = 0;
  virtual void OnExchange(const Exchange& ex, Outcome outcome) = 0;
  // `type`: the event type the correlator read ("" when not a realtime JSON event).
  virtual void OnMessage(const WsMessage& msg, std::string_view type) = 0;
  virtual void OnSessionClosed(const WsSessionClosed& closed, Outcome outcome) = 0;
  virtual void OnGuardDecision(const GuardDecision& g) = 0;
  // The transaction committed: everything since the last OnCommit/OnRollback is in the store.
  virtual void OnCommit() = 0;
  // It did not: those observations became part of a gap.
  virtual void OnRollback() = 0;
};

}  // namespace relaytap::recorder
