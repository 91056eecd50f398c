#include "tools/replay/timeline.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "base/str_cat.h"

namespace relaytap::tools::replay {
namespace {

std::string OpcodeName(const RecordedEvent& e) {
  switch (e.opcode) {
    case 8:
      return "close";
    case 9:
      return "ping";
    case 10:
      return "pong";
    case 2:
      return "binary";
    default:
      return e.type.empty() ? "text" : e.type;
  }
}

void AppendField(std::string& line, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  line.append(StrCat("  ", name, "=", value));
}

std::string RelativeMs(int64_t us, int64_t origin_us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%10.3f", static_cast<double>(us - origin_us) / 1000.0);
  return buf;
}

std::string EventLine(const RecordedEvent& e, int64_t origin_us) {
  std::string line = StrCat(RelativeMs(e.first_frame_us, origin_us), " ms  ",
                            e.from_client ? "->" : "<-", "  ", OpcodeName(e));
  AppendField(line, "event_id", e.event_id);
  AppendField(line, "response_id", e.response_id);
  AppendField(line, "item_id", e.item_id);
  line.append(StrCat("  bytes=", e.payload_bytes));
  if (e.truncated) line.append(" (truncated)");
  if (e.audio_bytes) line.append(StrCat("  audio_bytes=", *e.audio_bytes));
  if (e.audio_ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", *e.audio_ms);
    line.append(StrCat("  audio_ms=", buf));
  }
  AppendField(line, "status", e.response_status);
  if (!e.error_type.empty() || !e.error_code.empty()) {
    line.append(StrCat("  FAILURE ", e.error_type, "/", e.error_code));
  }
  if (e.close_code) line.append(StrCat("  code=", *e.close_code));
  return line;
}

std::string EndingLine(const RecordedSession& s) {
  std::string line = StrCat(RelativeMs(s.close_us ? s.close_us : s.open_us, s.open_us),
                            " ms  end  outcome=", s.outcome.empty() ? "?" : s.outcome);
  if (s.close_code) line.append(StrCat("  close_code=", *s.close_code));
  AppendField(line, "close_side", s.close_side);
  AppendField(line, "reason", s.close_reason);
  AppendField(line, "app_end", s.app_end);
  AppendField(line, "upstream_end", s.upstream_end);
  return line;
}

}  // namespace

std::string FormatUtc(int64_t unix_us) {
  std::time_t secs = static_cast<std::time_t>(unix_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((unix_us % 1'000'000) / 1000));
  return buf;
}

std::string FormatList(const std::vector<ListEntry>& entries) {
  std::string out = "kind      id  time_utc                  deployment  status  outcome  what\n";
  for (const ListEntry& e : entries) {
    char head[64];
    std::snprintf(head, sizeof head, "%-8s %3" PRId64 "  ", e.kind.c_str(), e.id);
    std::string what =
        e.kind == "session"
            ? StrCat(e.session_id.empty() ? "(no session id)" : e.session_id, "  ", e.host, e.path)
            : StrCat(e.method, " ", e.host, e.path, "  (", e.transport, ")");
    out.append(StrCat(head, FormatUtc(e.time_us), "  ", e.deployment.empty() ? "-" : e.deployment,
                      "  ", e.status ? StrCat(*e.status) : std::string("-"), "  ",
                      e.outcome.empty() ? "?" : e.outcome, "  ", what, "\n"));
  }
  if (entries.empty()) out.append("(no sessions or exchanges recorded)\n");
  return out;
}

std::string FormatTimeline(const RecordedSession& s) {
  std::string out =
      StrCat("session ", s.id, "  ", s.session_id.empty() ? "-" : s.session_id,
             "  model=", s.model.empty() ? "-" : s.model, "  opened ", FormatUtc(s.open_us), "\n");
  if (s.upgrade) {
    out.append(StrCat("      0.000 ms  upgrade  ", s.upgrade->method, " ", s.upgrade->host,
                      s.upgrade->path, "  status=", s.upgrade->status));
    if (!s.upgrade->apim_request_id.empty()) {
      out.append(StrCat("  apim-request-id=", s.upgrade->apim_request_id));
    }
    out.append("\n");
  }
  for (const RecordedEvent& e : s.events) out.append(EventLine(e, s.open_us)).append("\n");
  out.append(EndingLine(s)).append("\n");
  return out;
}

}  // namespace relaytap::tools::replay
