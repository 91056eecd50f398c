#pragma once
// The realtime conversation state behind one fake-upstream WebSocket session: it answers each
// client event the way the service does (session.update -> session.updated, item create ->
// conversation.item.created, audio buffer commit -> committed, server VAD speech edges, and an
// `error` event carrying the client's event_id for anything malformed or unknown). Pure apart
// from random ids; owned by one session. Events are built in GA names; a preview session's
// events are renamed by the caller (dialect.h) except the session object, built here per dialect.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tools/fake_upstream/dialect.h"
#include "tools/fake_upstream/speech_detector.h"

namespace relaytap::tools::fake_upstream {

// What to do after one client message: send `events` in order, then (if `respond`) run one
// response with the output modality given.
struct ClientAnswer {
  std::vector<std::string> events;
  bool respond = false;
  bool text_only = false;  // the response's output modalities are ["text"]
  bool close = false;      // the fake's `close.request` test switch
};

class Conversation {
 public:
  Conversation(Dialect dialect, std::string session_id, std::string model);

  std::string SessionCreated() const;
  ClientAnswer Answer(std::string_view message, bool text);

  Dialect dialect() const { return dialect_; }
  const std::string& session_id() const { return session_id_; }
  // The item the last response follows (previous_item_id of its output item).
  const std::string& last_item_id() const { return last_item_id_; }
  void set_last_item_id(std::string id) { last_item_id_ = std::move(id); }

 private:
  using json = nlohmann::json;

  void Dispatch(const std::string& type, const json& event, ClientAnswer& answer);
  void SessionUpdate(const json& event, ClientAnswer& answer);
  void ItemCreate(const json& event, ClientAnswer& answer);
  void Append(const json& event, ClientAnswer& answer);
  void Commit(const json& event, ClientAnswer& answer);
  void Clear(ClientAnswer& answer);
  void ResponseCreate(const json& event, ClientAnswer& answer);
  void ItemOp(const std::string& type, const json& event, ClientAnswer& answer);
  // Commits the input buffer as a user audio item: committed + conversation.item.created.
  void CommitBuffer(std::string item_id, ClientAnswer& answer);
  void Error(ClientAnswer& answer, std::string_view code, std::string message,
             std::string_view param = "") const;

  json& TurnDetection();
  bool TextOnly(const json& modalities) const;
  void RememberItem(const json& item);

  const Dialect dialect_;
  const std::string session_id_;
  json session_;              // the session object as session.updated reports it
  std::string event_id_;      // the client event_id of the message being answered
  std::string last_item_id_;  // the conversation's last item
  std::vector<json> items_;   // the conversation's items (bounded)
  uint64_t buffer_bytes_ = 0;
  std::string speech_item_id_;  // the item a speech in progress will commit into
  SpeechDetector vad_;
};

}  // namespace relaytap::tools::fake_upstream
