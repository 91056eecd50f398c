// `relaytap report --format html` on the known mix (tests/tools/recorded_mix.h) plus one hostile
// session: a self-contained page with its three kinds of chart and every failure's ids, nothing
// it would fetch, the store's text escaped, and no secret.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "tests/recorder/test_util.h"
#include "tests/tools/recorded_mix.h"
#include "tools/report/html.h"
#include "tools/report/svg_charts.h"
#include "tools/report/text.h"

namespace relaytap::tools::report {
namespace {

using recorder::query::StoreReader;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kCanary = "CANARYh7ml";
constexpr const char* kScript = "<script>alert(1)</script>";
constexpr const char* kBreakout = R"("><img src=x onerror=alert(2)>)";

// A session whose key, query key and subprotocol key are canaries, one of whose event types
// breaks out of an attribute, and whose response fails with a message carrying markup.
void SubmitHostileSession(recorder::Sink& sink, uint64_t conn, int64_t t0) {
  using recorder::testing::Text;
  constexpr auto kUp = recorder::WsDirection::kClientToServer;
  constexpr auto kDown = recorder::WsDirection::kServerToClient;
  const std::string canary = kCanary;
  sink.TrySubmit(recorder::ConnectionOpened{conn, t0, "127.0.0.1:5003",
                                            "contoso-eus2.openai.azure.com", 443, true, false});
  sink.TrySubmit(recorder::testing::RealtimeUpgrade(conn, t0, "sk-" + canary + "aaaaaaaaaaaaaaaa",
                                                    canary + "q", canary + "s"));
  const int64_t open = t0 + 80'000;
  sink.TrySubmit(Text(conn, 1, kDown, open + 50'000,
                      R"({"type":"session.created","session":{"id":"sess_hostile"}})"));
  sink.TrySubmit(
      Text(conn, 2, kUp, open + 100'000, R"({"type":"\"><img src=x onerror=alert(2)>"})"));
  sink.TrySubmit(
      Text(conn, 3, kDown, open + 600'000,
           R"({"type":"response.done","response":{"id":"resp_9","status":"failed",)"
           R"("status_details":{"type":"failed","error":{"type":"server_error",)"
           R"("message":"<script>alert(1)</script> \"><img src=x onerror=alert(2)>"}}}})"));
  sink.TrySubmit(recorder::testing::Closed(conn, open + 700'000));
  recorder::ConnectionClosed cc;
  cc.connection_id = conn;
  cc.close_us = open + 710'000;
  cc.end = recorder::EndFacts{
      .reason = recorder::EndReason::kRelayEnded, .up_ended_first = true, .websocket = true};
  sink.TrySubmit(std::move(cc));
}

class ReportHtmlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = recorder::testing::MakeTempDir("report_html");
    options_.db_path = dir + "/relaytap.db";
    options_.key_dir = dir + "/ca";
    options_.relaytap_version = "test";
    options_.batch_interval = absl::Milliseconds(10);
    ASSERT_NO_FATAL_FAILURE(testing::RecordKnownMix(options_));
    auto rec = recorder::Recorder::Open(options_);  // a second run in the same store
    ASSERT_TRUE(rec.ok()) << rec.status();
    SubmitHostileSession(**rec, 6, testing::kT0 + testing::kHour + 240'000'000);  // 09:04
    ASSERT_TRUE((*rec)->Close().ok());
    auto reader = StoreReader::Open(options_.db_path);
    ASSERT_TRUE(reader.ok()) << reader.status();
    reader_ = std::move(*reader);
  }

  Report Build(const std::string& session = "") {
    absl::StatusOr<Report> r = BuildReport(*reader_, {}, absl::UTCTimeZone(), session);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Report{};
  }

  recorder::RecorderOptions options_;
  std::unique_ptr<StoreReader> reader_;
};

// The <svg> element with this id, whole ("" when there is none).
std::string Svg(const std::string& html, const std::string& id) {
  const size_t start = html.find("<svg id=\"" + id + "\"");
  if (start == std::string::npos) return "";
  const size_t end = html.find("</svg>", start);
  return end == std::string::npos ? "" : html.substr(start, end + 6 - start);
}

int Marks(const std::string& svg) {
  int n = 0;
  for (size_t at = svg.find("class=\"mark"); at != std::string::npos && n < 10'000;
       at = svg.find("class=\"mark", at + 1)) {
    ++n;
  }
  return n;
}

TEST_F(ReportHtmlTest, HasTheThreeKindsOfChart) {
  const Report r = Build();
  ASSERT_EQ(r.failures.size(), 3u);
  EXPECT_EQ(r.upgrade_ms.size(), 6u);
  const std::string html = FormatHtml(r, absl::UTCTimeZone());
  const std::string attempts = Svg(html, "chart-attempts");
  EXPECT_THAT(attempts, HasSubstr("<title id=\"chart-attempts-title\">"));
  EXPECT_EQ(Marks(attempts), 3) << "attempts for 08:00 and 09:00, failures for 09:00 only";
  EXPECT_EQ(Marks(Svg(html, "chart-latency")), 3) << "30 ms (the 429), 80 ms, 200 ms";
  // One timeline per failed realtime session; the 429 upgrade opened no session.
  const std::string first = Svg(html, "timeline-1"), second = Svg(html, "timeline-2");
  EXPECT_EQ(Marks(first), 4);
  EXPECT_THAT(first, HasSubstr("sess_3"));
  EXPECT_THAT(first, HasSubstr("response.done (the failure: response_failed)"));
  EXPECT_EQ(Marks(second), 3);
  EXPECT_EQ(Svg(html, "timeline-3"), "");
}

TEST_F(ReportHtmlTest, CarriesEveryFailuresIds) {
  const Report r = Build();
  const std::string html = FormatHtml(r, absl::UTCTimeZone());
  int ids = 0;
  for (const auto& f : r.failures) {
    for (const std::string* id :
         {&f.apim_request_id, &f.x_request_id, &f.session_id, &f.response_id}) {
      if (id->empty()) continue;
      ++ids;
      EXPECT_THAT(html, HasSubstr(">" + EscapeHtml(*id) + "<"));
    }
    EXPECT_THAT(html, HasSubstr(Utc(f.at_us)));
  }
  EXPECT_GE(ids, 6);
  EXPECT_THAT(html, HasSubstr("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"));
  EXPECT_THAT(html, HasSubstr("req-7f3e"));
  EXPECT_THAT(html, HasSubstr("failures_without_request_id"));
  EXPECT_THAT(html, HasSubstr("<td>throttled_429</td>"));
}

TEST_F(ReportHtmlTest, FetchesNothing) {
  const std::string html = FormatHtml(Build(), absl::UTCTimeZone());
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(html, HasSubstr("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                              "'none'; style-src 'unsafe-inline'\">"));
  // Store text is escaped, so every '<' opens one of our own tags: check each tag and attribute
  // (a tag that does not close counts too).
  const std::regex tag(R"(<([a-zA-Z!/][^<>]*)>?)"), attr(R"(([a-zA-Z:-]+)=\"([^"]*)\")");
  int tags = 0;
  for (std::sregex_iterator t(html.begin(), html.end(), tag), end; t != end && tags < 100'000;
       ++t, ++tags) {
    const std::string inside = (*t)[1];
    for (const char* banned : {"script", "img", "image", "link", "iframe", "object", "embed", "use",
                               "foreignObject", "a ", "base", "form"}) {
      EXPECT_FALSE(inside.rfind(banned, 0) == 0) << "<" << inside << ">";
    }
    for (std::sregex_iterator a(inside.begin(), inside.end(), attr); a != end; ++a) {
      const std::string name = (*a)[1], value = (*a)[2];
      EXPECT_THAT(name, Not(::testing::AnyOf("src", "href", "xlink:href", "srcset", "action")));
      EXPECT_THAT(value, Not(HasSubstr("//"))) << name;
      EXPECT_THAT(value, Not(HasSubstr("url("))) << name;
    }
  }
  EXPECT_GT(tags, 100);
  EXPECT_THAT(html, Not(HasSubstr("http://")));
  EXPECT_THAT(html, Not(HasSubstr("https://")));
  EXPECT_THAT(html, Not(HasSubstr("@import")));
}

TEST_F(ReportHtmlTest, RecordedMarkupAppearsEscapedOnly) {
  const Report r = Build();
  ASSERT_EQ(r.failures.size(), 3u);
  // The hostile text did reach the report: otherwise nothing below would be tested.
  ASSERT_THAT(r.failures[2].message, HasSubstr(kScript));
  ASSERT_THAT(r.failures[2].message, HasSubstr(kBreakout));
  ASSERT_EQ(r.failures[2].events_before_failure.size(), 3u);
  // The store keeps a hostile event type only as its fingerprint (the identifier rule for
  // columns); the formatter must still escape whatever a label holds, so it is planted here.
  ASSERT_THAT(r.failures[2].events_before_failure[1].type, ::testing::StartsWith("hmac:"));
  Report hostile = r;
  hostile.failures[2].events_before_failure[1].type = kBreakout;
  const std::string html = FormatHtml(hostile, absl::UTCTimeZone());
  EXPECT_THAT(html, Not(HasSubstr(kScript)));
  EXPECT_THAT(html, Not(HasSubstr("\"><img")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt; "
                              "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
  // The event type is a label, a <title> and a table cell of the second timeline.
  EXPECT_THAT(Svg(html, "timeline-2"), HasSubstr("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
}

TEST_F(ReportHtmlTest, CarriesNoSecret) {
  const std::string html = FormatHtml(Build(), absl::UTCTimeZone());
  EXPECT_THAT(html, HasSubstr("sess_hostile"));
  EXPECT_EQ(html.find(kCanary), std::string::npos);
}

TEST_F(ReportHtmlTest, OneSessionHasItsTimelineAndNoOtherData) {
  const std::string html = FormatHtml(Build("sess_3"), absl::UTCTimeZone());
  EXPECT_THAT(Svg(html, "chart-attempts"), HasSubstr("no data"));
  EXPECT_THAT(Svg(html, "chart-latency"), HasSubstr("no data"));
  EXPECT_EQ(Marks(Svg(html, "timeline-1")), 4);
  EXPECT_EQ(Svg(html, "timeline-2"), "");
}

TEST(ReportHtmlPureTest, EmptyReportSaysNoData) {
  const std::string html = FormatHtml(Report{}, absl::UTCTimeZone());
  EXPECT_THAT(Svg(html, "chart-attempts"), HasSubstr(">no data<"));
  EXPECT_THAT(Svg(html, "chart-latency"), HasSubstr(">no data<"));
  EXPECT_THAT(html, HasSubstr("None of the known patterns was found."));
  EXPECT_THAT(html, HasSubstr("<h2>Failures (0)</h2>"));
  EXPECT_THAT(html, Not(HasSubstr("timeline-")));
  EXPECT_THAT(html, HasSubstr("</html>\n"));
}

TEST(ReportHtmlPureTest, EscapesTextAndAttributeContexts) {
  EXPECT_EQ(EscapeHtml("<a href='x'>&\"\x01\tok"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;\uFFFD\tok");
  EXPECT_EQ(EscapeHtml("sess_3 é"), "sess_3 é");
}

TEST(ReportHtmlPureTest, HoursWithoutAttemptsLeaveAGap) {
  stats::Stats s;
  s.zone = "UTC";
  for (const char* hour : {"2025-07-15T08:00+00:00", "2025-07-15T11:00+00:00"}) {
    stats::Bucket b;
    b.key = hour;
    b.sessions = 2;
    s.rows.push_back(b);
  }
  // Four hour slots of 164 px from x = 48; each attempts bar (40 px) ends at its slot's middle.
  const std::string svg = AttemptsPerHourSvg(s);
  EXPECT_THAT(svg, HasSubstr("<rect x=\"90.0\" y=\"32.0\" width=\"40.0\""));
  EXPECT_THAT(svg, HasSubstr("<rect x=\"582.0\" y=\"32.0\" width=\"40.0\""));
  EXPECT_EQ(Marks(svg), 2);
}

TEST(ReportHtmlPureTest, LatencyBucketsAreLogSpaced) {
  EXPECT_THAT(LatencyHistogram({5, 10, 15, 99.9, 100, 999, 20000}),
              ::testing::ElementsAre(1, 2, 0, 1, 1, 0, 1, 0, 0, 0, 1));
}

}  // namespace
}  // namespace relaytap::tools::report
