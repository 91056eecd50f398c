#include "tools/report/svg_charts.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "absl/time/time.h"
#include "base/str_cat.h"
#include "tools/report/text.h"

namespace relaytap::tools::report {
namespace {

using recorder::query::EventMark;
using recorder::query::Failure;

// Every chart is this wide; the plot area leaves room for axis labels.
constexpr double kWidth = 720;

constexpr const char* kLatencyLabels[] = {"<10",     "10–20",   "20–50",   "50–100",
                                          "100–200", "200–500", "0.5–1 s", "1–2 s",
                                          "2–5 s",   "5–10 s",  "≥10 s"};
static_assert(std::size(kLatencyLabels) == std::size(kLatencyBucketsMs) + 1);

std::string Num(double v) { return Fixed(v, 1); }

// The opening of a chart: its id, size, and an accessible title the svg is labelled by.
std::string OpenSvg(std::string_view id, double height, std::string_view title) {
  return StrCat("<svg id=\"", id, "\" class=\"chart\" role=\"img\" aria-labelledby=\"", id,
                "-title\" width=\"", Num(kWidth), "\" height=\"", Num(height), "\" viewBox=\"0 0 ",
                Num(kWidth), " ", Num(height), "\"><title id=\"", id, "-title\">",
                EscapeHtml(title), "</title>\n");
}

std::string Text(double x, double y, std::string_view cls, std::string_view escaped_text) {
  return StrCat("<text x=\"", Num(x), "\" y=\"", Num(y), "\" class=\"", cls, "\">", escaped_text,
                "</text>\n");
}

std::string NoData(double height) { return Text(kWidth / 2, height / 2, "no-data", "no data"); }

std::string Line(double x1, double y1, double x2, double y2, std::string_view cls) {
  return StrCat("<line x1=\"", Num(x1), "\" y1=\"", Num(y1), "\" x2=\"", Num(x2), "\" y2=\"",
                Num(y2), "\" class=\"", cls, "\"/>\n");
}

// A bar whose <title> says what it counts (`escaped_title` is already escaped).
std::string Bar(double x, double y, double w, double h, std::string_view cls,
                std::string_view escaped_title) {
  return StrCat("<rect x=\"", Num(x), "\" y=\"", Num(y), "\" width=\"", Num(w), "\" height=\"",
                Num(h), "\" class=\"mark ", cls, "\"><title>", escaped_title, "</title></rect>\n");
}

// A vertical count axis for a plot from `top` to `bottom` at x = `left`: 0, the middle and
// `max`, with grid lines across `width`.
std::string CountAxis(double left, double top, double bottom, double width, int64_t max) {
  std::string out;
  std::vector<int64_t> ticks = {0, max};
  if (max >= 4) ticks.insert(ticks.begin() + 1, max / 2);
  for (int64_t v : ticks) {
    const double y = bottom - (bottom - top) * static_cast<double>(v) / static_cast<double>(max);
    out += Line(left, y, left + width, y, "grid");
    out += Text(left - 6, y + 4, "tick-y", StrCat(v));
  }
  out += Line(left, bottom, left + width, bottom, "axis");
  return out;
}

// "2025-07-15T09:00+02:00" -> "07-15 09:00": the hour without the year and zone.
std::string ShortHour(const std::string& key) {
  if (key.size() < 16) return key;
  std::string s = key.substr(5, 11);
  s[5] = ' ';
  return s;
}

// Where each row of an hourly Stats goes on the time axis: its hour's offset from the first row's,
// so hours without attempts leave a gap. Over a week (or with a key that is not an hour) the
// rows stand side by side instead, one slot each.
std::vector<int64_t> HourSlots(const std::vector<stats::Bucket>& rows) {
  constexpr int64_t kMaxSlots = 7 * 24;
  std::vector<int64_t> slots;
  absl::Time first;
  for (const stats::Bucket& b : rows) {
    absl::Time t;
    std::string error;
    if (!absl::ParseTime("%Y-%m-%dT%H:%M%Ez", b.key, &t, &error)) break;
    if (slots.empty()) first = t;
    slots.push_back(absl::ToInt64Hours(t - first));
  }
  if (slots.size() == rows.size() && (slots.empty() || slots.back() < kMaxSlots)) return slots;
  slots.clear();
  for (size_t i = 0; i < rows.size(); ++i) slots.push_back(static_cast<int64_t>(i));
  return slots;
}

// At most `max` bytes of `s`, cut on a UTF-8 character boundary, with an ellipsis if cut.
std::string Shortened(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n) + "…";
}

}  // namespace

std::string EscapeHtml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\t':
      case '\n':
      case '\r':
        out += c;
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += "\uFFFD";
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string AttemptsPerHourSvg(const stats::Stats& per_hour) {
  constexpr double kHeight = 260, kLeft = 48, kRight = 16, kTop = 32, kBottom = 52;
  std::string svg = OpenSvg("chart-attempts", kHeight, "Attempts and failures per hour");
  svg += "<rect x=\"48\" y=\"8\" width=\"10\" height=\"10\" class=\"attempts\"/>";
  svg += Text(62, 17, "legend", "attempts");
  svg += "<rect x=\"130\" y=\"8\" width=\"10\" height=\"10\" class=\"failures\"/>";
  svg += Text(144, 17, "legend", "failures");
  const std::vector<stats::Bucket>& rows = per_hour.rows;
  if (rows.empty()) return svg + NoData(kHeight) + "</svg>\n";
  int64_t max = 1;
  for (const stats::Bucket& b : rows) max = std::max(max, b.attempts());
  const double plot_w = kWidth - kLeft - kRight, bottom = kHeight - kBottom;
  svg += CountAxis(kLeft, kTop, bottom, plot_w, max);
  const std::vector<int64_t> slots = HourSlots(rows);
  const double band = plot_w / static_cast<double>(slots.back() + 1);
  const double bar = std::min(band * 0.4, 40.0);
  const auto label_every = static_cast<int64_t>(std::ceil(90.0 / band));
  auto height = [&](int64_t v) {
    return (bottom - kTop) * static_cast<double>(v) / static_cast<double>(max);
  };
  int64_t next_label = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const stats::Bucket& b = rows[i];
    const double mid = kLeft + band * (static_cast<double>(slots[i]) + 0.5);
    const std::string hour = EscapeHtml(b.key);
    svg += Bar(mid - bar, bottom - height(b.attempts()), bar, height(b.attempts()), "attempts",
               StrCat(hour, ": ", b.attempts(), " attempts"));
    if (b.failures > 0) {
      svg += Bar(mid, bottom - height(b.failures), bar, height(b.failures), "failures",
                 StrCat(hour, ": ", b.failures, " failures"));
    }
    if (slots[i] >= next_label) {
      svg += Text(mid, bottom + 16, "tick-x", EscapeHtml(ShortHour(b.key)));
      next_label = slots[i] + label_every;
    }
  }
  svg += Text(kLeft + plot_w / 2, kHeight - 12, "caption",
              StrCat("hour (", EscapeHtml(per_hour.zone), ")"));
  return svg + "</svg>\n";
}

std::vector<int64_t> LatencyHistogram(const std::vector<double>& values) {
  std::vector<int64_t> counts(std::size(kLatencyBucketsMs) + 1, 0);
  for (double v : values) {
    const double* bound =
        std::upper_bound(std::begin(kLatencyBucketsMs), std::end(kLatencyBucketsMs), v);
    ++counts[static_cast<size_t>(bound - std::begin(kLatencyBucketsMs))];
  }
  return counts;
}

std::string LatencyHistogramSvg(const std::vector<double>& upgrade_ms) {
  constexpr double kHeight = 240, kLeft = 48, kRight = 16, kTop = 16, kBottom = 52;
  std::string svg = OpenSvg("chart-latency", kHeight,
                            "Upgrade latency (request to response head): attempts per bucket");
  if (upgrade_ms.empty()) return svg + NoData(kHeight) + "</svg>\n";
  const std::vector<int64_t> counts = LatencyHistogram(upgrade_ms);
  const int64_t max = std::max<int64_t>(1, *std::max_element(counts.begin(), counts.end()));
  const double plot_w = kWidth - kLeft - kRight, bottom = kHeight - kBottom;
  svg += CountAxis(kLeft, kTop, bottom, plot_w, max);
  const double band = plot_w / static_cast<double>(counts.size());
  for (size_t i = 0; i < counts.size(); ++i) {
    const double x = kLeft + band * static_cast<double>(i);
    if (counts[i] > 0) {
      const double h = (bottom - kTop) * static_cast<double>(counts[i]) / static_cast<double>(max);
      svg += Bar(x + band * 0.1, bottom - h, band * 0.8, h, "latency",
                 StrCat(kLatencyLabels[i], " ms: ", counts[i], " attempts"));
    }
    svg += Text(x + band / 2, bottom + 16, "tick-x", kLatencyLabels[i]);
  }
  svg += Text(kLeft + plot_w / 2, kHeight - 12, "caption", "milliseconds (log-spaced buckets)");
  return svg + "</svg>\n";
}

std::string FailureTimelineSvg(const Failure& f, int n) {
  // The right margin leaves room for the slanted labels of the last events.
  constexpr double kHeight = 250, kLeft = 96, kRight = 150, kClientY = 92, kServerY = 132;
  constexpr double kAxisY = kHeight - 28;
  const std::string id = StrCat("timeline-", n);
  std::string svg = OpenSvg(id, kHeight,
                            StrCat("Events before the failure of session ",
                                   f.session_id.empty() ? "(no session id)" : f.session_id, " at ",
                                   Utc(f.at_us), " (", f.outcome, ")"));
  svg += Text(kLeft - 8, kClientY + 4, "lane", "app → Azure");
  svg += Text(kLeft - 8, kServerY + 4, "lane", "Azure → app");
  const std::vector<EventMark>& events = f.events_before_failure;
  if (events.empty()) return svg + NoData(kHeight) + "</svg>\n";
  // Events come in the session's order; their times need not be (each is its first frame's).
  auto [earliest, latest] = std::minmax_element(
      events.begin(), events.end(),
      [](const EventMark& a, const EventMark& b) { return a.rel_ms < b.rel_ms; });
  const double t0 = std::min(0.0, earliest->rel_ms);
  const double t1 = std::max(latest->rel_ms, t0 + 1);
  const double plot_w = kWidth - kLeft - kRight;
  auto x_of = [&](double rel) { return kLeft + (rel - t0) / (t1 - t0) * plot_w; };
  svg += Line(kLeft, kClientY, kLeft + plot_w, kClientY, "lane-line");
  svg += Line(kLeft, kServerY, kLeft + plot_w, kServerY, "lane-line");
  svg += Line(kLeft, kAxisY, kLeft + plot_w, kAxisY, "axis");
  const double step = (t1 - t0) / 4;
  const int digits = step < 1 ? 2 : step < 10 ? 1 : 0;  // five distinct labels, even for 1 ms
  for (int k = 0; k <= 4; ++k) {
    const double t = t0 + step * k;
    svg += Line(x_of(t), kAxisY, x_of(t), kAxisY + 4, "axis");
    svg += Text(x_of(t), kAxisY + 16, "tick-x", StrCat(Fixed(t, digits), " ms"));
  }
  const double fail_x = x_of(events.back().rel_ms);
  svg += Line(fail_x, 28, fail_x, kAxisY, "failure-line");
  svg += Text(fail_x - 6, 22, "failure-label", EscapeHtml(StrCat("failure: ", f.outcome)));
  for (size_t i = 0; i < events.size(); ++i) {
    const EventMark& e = events[i];
    const bool client = e.direction == "client";
    const bool failing = i + 1 == events.size();
    const double x = x_of(e.rel_ms), y = client ? kClientY : kServerY;
    const std::string what =
        StrCat(Fixed(e.rel_ms, 1), " ms, ", client ? "app → Azure" : "Azure → app", ": ", e.type,
               failing ? StrCat(" (the failure: ", f.outcome, ")") : "");
    svg += StrCat("<circle cx=\"", Num(x), "\" cy=\"", Num(y), "\" r=\"", failing ? "7" : "5",
                  "\" class=\"mark event ", client ? "client" : "server", failing ? " failing" : "",
                  "\"><title>", EscapeHtml(what), "</title></circle>\n");
    // Labels lean away from the lanes and are staggered so neighbours overlap less.
    const double stagger = static_cast<double>(i % 3) * 8;
    const double ly = client ? y - 10 - stagger : y + 16 + stagger;
    svg += StrCat("<text x=\"", Num(x), "\" y=\"", Num(ly), "\" class=\"event-label\" transform=\"",
                  "rotate(", client ? "-20 " : "20 ", Num(x), " ", Num(ly), ")\">",
                  EscapeHtml(Shortened(e.type, 32)), "</text>\n");
  }
  return svg + "</svg>\n";
}

}  // namespace relaytap::tools::report
