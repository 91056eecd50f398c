// Many hosts at once: stats, report and diff read several stores (one per host) as one, and every
// row names the machine that recorded it (its run's hostname).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "nlohmann/json.hpp"
#include "recorder/query/store_reader.h"
#include "recorder/recorder.h"
#include "tests/recorder/test_util.h"
#include "tests/tools/recorded_mix.h"
#include "tools/diff/diff.h"
#include "tools/report/report.h"
#include "tools/stats/stats.h"

namespace relaytap::tools {
namespace {

namespace fs = std::filesystem;
using recorder::query::StoreReader;
using ::testing::HasSubstr;
using ::testing::Not;

class FleetTest : public ::testing::Test {
 protected:
  // The known mix recorded on two machines: dir_/host-a.db and dir_/host-b.db.
  void SetUp() override {
    dir_ = recorder::testing::MakeTempDir("fleet");
    for (const char* host : {"host-a", "host-b"}) {
      recorder::RecorderOptions o;
      o.db_path = Db(host);
      o.key_dir = dir_ + "/ca";
      o.relaytap_version = "test";
      o.batch_interval = absl::Milliseconds(10);
      ASSERT_NO_FATAL_FAILURE(testing::RecordKnownMix(o));
      SetHostname(o.db_path, host);
    }
  }

  std::string Db(const std::string& host) const { return dir_ + "/" + host + ".db"; }

  static void SetHostname(const std::string& db, const std::string& host) {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    const std::string sql = "UPDATE runs SET hostname = '" + host + "'";
    EXPECT_EQ(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(h);
  }

  std::unique_ptr<StoreReader> Open(const std::vector<std::string>& dbs) {
    auto reader = StoreReader::Open(dbs);
    EXPECT_TRUE(reader.ok()) << reader.status();
    return reader.ok() ? std::move(*reader) : nullptr;
  }

  std::string dir_;
};

TEST_F(FleetTest, StatsLabelEveryRowWithItsMachine) {
  auto one = Open({Db("host-a")});
  auto both = Open({Db("host-a"), Db("host-b")});
  ASSERT_TRUE(one && both);
  auto single = one->Attempts({});
  auto fleet = both->Attempts({});
  ASSERT_TRUE(single.ok() && fleet.ok());
  ASSERT_EQ(fleet->size(), 2 * single->size());
  for (const auto& a : *fleet) EXPECT_THAT(a.machine, ::testing::AnyOf("host-a", "host-b"));

  const auto j1 = nlohmann::json::parse(
      stats::FormatJson(stats::Compute(*single, stats::GroupBy::kHour, absl::UTCTimeZone())));
  const auto j2 = nlohmann::json::parse(
      stats::FormatJson(stats::Compute(*fleet, stats::GroupBy::kHour, absl::UTCTimeZone())));
  EXPECT_EQ(j1["machines"], nlohmann::json({"host-a"}));
  EXPECT_FALSE(j1["rows"][0].contains("machine"));  // one machine: the rows as before
  EXPECT_EQ(j2["machines"], nlohmann::json({"host-a", "host-b"}));
  EXPECT_EQ(j2["totals"]["sessions"], 2 * j1["totals"]["sessions"].get<int>());
  EXPECT_EQ(j2["totals"]["failures"], 2 * j1["totals"]["failures"].get<int>());
  // Each hour once per machine, in time order, each part equal to that machine's own hour.
  ASSERT_EQ(j2["rows"].size(), 2 * j1["rows"].size());
  for (size_t i = 0; i < j2["rows"].size(); ++i) {
    nlohmann::json row = j2["rows"][i];
    EXPECT_EQ(row["machine"], i % 2 == 0 ? "host-a" : "host-b") << i;
    row.erase("machine");
    EXPECT_EQ(row, j1["rows"][i / 2]) << i;
  }
  const std::string table =
      stats::FormatTable(stats::Compute(*fleet, stats::GroupBy::kHour, absl::UTCTimeZone()));
  EXPECT_THAT(table, HasSubstr("machine"));
  EXPECT_THAT(table, HasSubstr("host-b"));
  const std::string csv =
      stats::FormatCsv(stats::Compute(*fleet, stats::GroupBy::kHour, absl::UTCTimeZone()));
  EXPECT_THAT(csv, ::testing::StartsWith("hour,machine,sessions,"));

  // --by machine: one row per machine, each that machine's totals.
  const auto by = nlohmann::json::parse(
      stats::FormatJson(stats::Compute(*fleet, stats::GroupBy::kMachine, absl::UTCTimeZone())));
  ASSERT_EQ(by["rows"].size(), 2u);
  for (const auto& row : by["rows"]) {
    EXPECT_EQ(row["sessions"], j1["totals"]["sessions"]);
    EXPECT_EQ(row["failures"], j1["totals"]["failures"]);
    EXPECT_FALSE(row.contains("machine"));  // the machine is the bucket
  }
  EXPECT_EQ(by["rows"][0]["bucket"], "host-a");
  EXPECT_EQ(by["rows"][1]["bucket"], "host-b");
}

TEST_F(FleetTest, TheReportNamesTheMachineOfEveryFailure) {
  auto one = Open({Db("host-a")});
  auto both = Open({Db("host-a"), Db("host-b")});
  ASSERT_TRUE(one && both);
  auto r1 = report::BuildReport(*one, {}, absl::UTCTimeZone(), "");
  auto r2 = report::BuildReport(*both, {}, absl::UTCTimeZone(), "");
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_FALSE(r1->several_machines());
  EXPECT_THAT(report::FormatMarkdown(*r1, absl::UTCTimeZone()), Not(HasSubstr("Machines")));
  ASSERT_TRUE(r2->several_machines());
  ASSERT_EQ(r2->failures.size(), 2 * r1->failures.size());
  // The hourly failure rate is the fleet's, not split per machine.
  EXPECT_EQ(r2->per_hour.rows.size(), r1->per_hour.rows.size());
  EXPECT_EQ(r2->machines_affected, (std::vector<std::string>{"host-a", "host-b"}));
  const std::string md = report::FormatMarkdown(*r2, absl::UTCTimeZone());
  EXPECT_THAT(md, HasSubstr("| machine | time (UTC) |"));
  EXPECT_THAT(md, HasSubstr("| host-b | "));
  EXPECT_THAT(md, HasSubstr("- Machines: host-a ("));
  const auto j = nlohmann::json::parse(report::FormatJson(*r2, absl::UTCTimeZone()));
  ASSERT_EQ(j["summary"]["machines"].size(), 2u);
  EXPECT_EQ(j["summary"]["machines"][1]["machine"], "host-b");
  EXPECT_EQ(j["summary"]["machines"][1]["failures"], r1->per_hour.totals.failures);
  int on_b = 0;
  for (const auto& f : j["failures"]) on_b += f["machine"] == "host-b";
  EXPECT_EQ(on_b, static_cast<int>(r1->failures.size()));
}

TEST_F(FleetTest, DiffComparesAndSelectsByMachine) {
  // Every attempt of host-b fails (its store says so); host-a's mix is unchanged.
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(Db("host-b").c_str(), &h), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(h, "UPDATE exchanges SET outcome = 'upstream_5xx'", nullptr, nullptr, nullptr),
      SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(h, "UPDATE ws_sessions SET outcome = 'upstream_5xx'", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(h);
  auto both = Open({Db("host-a"), Db("host-b")});
  ASSERT_TRUE(both);
  auto profiles = both->Profiles({});
  ASSERT_TRUE(profiles.ok());
  auto good = diff::Selector::Parse("outcome=ok");
  auto bad = diff::Selector::Parse("outcome!=ok,machine=host-b");
  ASSERT_TRUE(good.ok() && bad.ok());
  std::vector<recorder::query::Profile> g, b;
  for (const auto& p : *profiles) {
    if (good->Matches(p)) g.push_back(p);
    if (bad->Matches(p)) b.push_back(p);
  }
  ASSERT_FALSE(g.empty());
  ASSERT_FALSE(b.empty());
  for (const auto& p : b) EXPECT_EQ(p.machine, "host-b");
  const diff::DiffResult r = diff::Compare(g, b);
  // Every working attempt is host-a's and every failing one host-b's: the machine separates them
  // completely.
  auto it = std::find_if(r.differences.begin(), r.differences.end(),
                         [](const diff::Difference& d) { return d.field == "machine"; });
  ASSERT_NE(it, r.differences.end());
  EXPECT_DOUBLE_EQ(it->score, 1.0);
}

TEST_F(FleetTest, AStoreNamedTwiceIsReadOnceAndAMissingOneIsNamed) {
  auto once = Open({Db("host-a")});
  auto twice = Open({Db("host-a"), Db("host-a")});
  ASSERT_TRUE(once && twice);
  EXPECT_EQ(twice->Attempts({})->size(), once->Attempts({})->size());
  auto missing = StoreReader::Open(std::vector<std::string>{Db("host-a"), dir_ + "/nope.db"});
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("nope.db"));
  // A set and a file together: the folder holds host-a and host-b, named again on its own.
  auto set = Open({dir_, Db("host-b")});
  ASSERT_TRUE(set);
  EXPECT_EQ(set->Attempts({})->size(), 2 * once->Attempts({})->size());
}

// The root each upstream chain was verified against (connections.upstream_tls_issuer): listed per
// host, and a host verified against two roots (a TLS-inspecting proxy on part of the path) is a
// finding.
TEST_F(FleetTest, TheReportNamesTheUpstreamTlsRootsAndAChangeOfRoot) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(Db("host-a").c_str(), &h), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(h,
                   "UPDATE connections SET upstream_tls_issuer = CASE WHEN connection_id <= 3 "
                   "THEN 'CN=DigiCert Global Root G2' ELSE 'CN=CORP-CA' END",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(h);
  auto b = Open({Db("host-b")});  // no root recorded
  ASSERT_TRUE(b);
  auto rb = report::BuildReport(*b, {}, absl::UTCTimeZone(), "");
  ASSERT_TRUE(rb.ok());
  EXPECT_TRUE(rb->tls_roots.empty());
  EXPECT_THAT(report::FormatMarkdown(*rb, absl::UTCTimeZone()), Not(HasSubstr("TLS roots")));
  for (const auto& f : rb->findings) EXPECT_NE(f.id, "tls_root_changed");

  auto a = Open({Db("host-a")});
  ASSERT_TRUE(a);
  auto r = report::BuildReport(*a, {}, absl::UTCTimeZone(), "");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->tls_roots.size(), 2u);
  EXPECT_EQ(r->tls_roots[0].root, "CN=DigiCert Global Root G2");
  EXPECT_EQ(r->tls_roots[0].attempts, 3);
  EXPECT_EQ(r->tls_roots[1].root, "CN=CORP-CA");
  EXPECT_EQ(r->tls_roots[1].attempts, 2);
  EXPECT_THAT(report::FormatMarkdown(*r, absl::UTCTimeZone()),
              HasSubstr("- Upstream TLS roots: contoso-eus2.openai.azure.com: CN=DigiCert Global "
                        "Root G2 (3 attempts); contoso-eus2.openai.azure.com: CN=CORP-CA (2 "
                        "attempts)"));
  auto it = std::find_if(r->findings.begin(), r->findings.end(),
                         [](const report::Finding& f) { return f.id == "tls_root_changed"; });
  ASSERT_NE(it, r->findings.end());
  EXPECT_THAT(it->statement, HasSubstr("verified against 2 different roots"));
  EXPECT_EQ(it->evidence, "CN=DigiCert Global Root G2: 3 attempts; CN=CORP-CA: 2 attempts");
  const auto j = nlohmann::json::parse(report::FormatJson(*r, absl::UTCTimeZone()));
  EXPECT_EQ(j["summary"]["upstream_tls_roots"][1]["root"], "CN=CORP-CA");
}

}  // namespace
}  // namespace relaytap::tools
