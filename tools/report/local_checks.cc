#include "tools/report/local_checks.h"

#include "base/str_cat.h"
#include "tools/report/svg_charts.h"
#include "tools/report/text.h"

namespace relaytap::tools::report {
namespace {

using recorder::query::LocalCheck;

std::string Outcome(const LocalCheck& c) {
  if (c.verdict == "ok") return "ok";
  return c.failed_stage.empty() ? "FAILED" : StrCat("FAILED at ", c.failed_stage);
}

// The ids a run saw, "session_id sess_1, apim-request-id 7f..."; empty when none.
std::string Ids(const LocalCheck& c) {
  std::string out;
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string&>{"session_id", c.session_id},
        {"response_id", c.response_id},
        {"apim-request-id", c.apim_request_id}}) {
    if (!value.empty()) out += StrCat(out.empty() ? "" : ", ", name, " ", value);
  }
  return out;
}

// One line of Markdown code: backticks would end it.
std::string Code(std::string s) {
  for (char& ch : s) ch = ch == '`' ? '\'' : ch;
  return StrCat("`", s, "`");
}

}  // namespace

std::string LocalChecksMarkdown(const std::vector<LocalCheck>& checks) {
  if (checks.empty()) return "";
  std::string md = StrCat("\n## Local checks (", checks.size(), ")\n\n");
  for (const LocalCheck& c : checks) {
    const std::string ids = Ids(c);
    md += StrCat("- ", Utc(c.run_us), " ", c.tool, " ", Code(c.url), ": ", Outcome(c), " (", c.ms,
                 " ms)", ids.empty() ? "" : StrCat("; ", ids), "\n");
  }
  return md;
}

std::string LocalChecksHtml(const std::vector<LocalCheck>& checks) {
  if (checks.empty()) return "";
  std::string h = StrCat("<section id=\"local-checks\">\n<h2>Local checks (", checks.size(),
                         ")</h2>\n<table>\n<tr><th>time (UTC)</th><th>tool</th><th>url</th>"
                         "<th>result</th><th>ms</th><th>ids</th></tr>\n");
  for (const LocalCheck& c : checks) {
    h += StrCat("<tr><td>", Utc(c.run_us), "</td><td>", EscapeHtml(c.tool), "</td><td>",
                EscapeHtml(c.url), "</td><td>", EscapeHtml(Outcome(c)), "</td><td>", c.ms,
                "</td><td>", EscapeHtml(Ids(c)), "</td></tr>\n");
  }
  return h + "</table>\n</section>\n";
}

nlohmann::json LocalChecksJson(const std::vector<LocalCheck>& checks) {
  nlohmann::json out = nlohmann::json::array();
  for (const LocalCheck& c : checks) {
    out.push_back({{"time", Utc(c.run_us)},
                   {"tool", c.tool},
                   {"url", c.url},
                   {"host", c.host},
                   {"verdict", c.verdict},
                   {"failed_stage", c.failed_stage},
                   {"ms", c.ms},
                   {"session_id", c.session_id},
                   {"response_id", c.response_id},
                   {"apim_request_id", c.apim_request_id}});
  }
  return out;
}

}  // namespace relaytap::tools::report
