// `relaytap diff`: selectors, payload shapes, and what Compare ranks as differences, on the
// known mix (tests/tools/recorded_mix.h) and on made-up profiles.
#include "tools/diff/diff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/recorder/test_util.h"
#include "tests/tools/recorded_mix.h"

namespace relaytap::tools::diff {
namespace {

using recorder::query::Profile;
using recorder::query::StoreReader;
using ::testing::HasSubstr;

std::vector<Profile> RecordAndRead(const std::string& name) {
  recorder::RecorderOptions o;
  const std::string dir = recorder::testing::MakeTempDir(name);
  o.db_path = dir + "/relaytap.db";
  o.key_dir = dir + "/ca";
  o.relaytap_version = "test";
  o.batch_interval = absl::Milliseconds(10);
  testing::RecordKnownMix(o);
  auto reader = StoreReader::Open(o.db_path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return {};
  auto profiles = (*reader)->Profiles({});
  EXPECT_TRUE(profiles.ok()) << profiles.status();
  return profiles.ok() ? *profiles : std::vector<Profile>{};
}

std::vector<Profile> Selected(const std::vector<Profile>& all, const std::string& selector) {
  absl::StatusOr<Selector> s = Selector::Parse(selector);
  EXPECT_TRUE(s.ok()) << s.status();
  std::vector<Profile> out;
  for (const Profile& p : all) {
    if (s.ok() && s->Matches(p)) out.push_back(p);
  }
  return out;
}

const Difference* Find(const DiffResult& r, const std::string& field) {
  for (const Difference& d : r.differences) {
    if (d.field == field) return &d;
  }
  return nullptr;
}

TEST(DiffTest, TheKnownMixSeparatesByOutcomeThenRegionAndDeployment) {
  const std::vector<Profile> all = RecordAndRead("diff");
  ASSERT_EQ(all.size(), 5u);
  const std::vector<Profile>& s = all;
  EXPECT_EQ(s[0].event_types,
            (std::vector<std::string>{"session.created", "response.create",
                                      "response.output_audio.delta", "response.done"}));
  EXPECT_EQ(s[0].subprotocol, "realtime");
  EXPECT_THAT(s[0].response_create, HasSubstr("response.create"));

  const DiffResult r = Compare(Selected(all, "outcome=ok"), Selected(all, "outcome!=ok"));
  EXPECT_EQ(r.good_attempts, 3);
  EXPECT_EQ(r.bad_attempts, 2);
  ASSERT_FALSE(r.differences.empty());
  EXPECT_EQ(r.differences[0].field, "outcome");
  EXPECT_DOUBLE_EQ(r.differences[0].score, 1.0);
  const Difference* region = Find(r, "region");
  ASSERT_NE(region, nullptr);
  EXPECT_NEAR(region->score, 1.0 / 3, 1e-9);  // Sweden Central only on the good side
  EXPECT_EQ(region->good.at("Sweden Central"), 1);
  EXPECT_EQ(region->bad.at("East US 2"), 2);
  EXPECT_EQ(Find(r, "host"), nullptr);            // the same on both sides: not a difference
  EXPECT_EQ(Find(r, "event_sequence"), nullptr);  // failed and healthy sessions sent the same

  const nlohmann::json j = nlohmann::json::parse(FormatJson(r));
  EXPECT_EQ(j["differences"][0]["field"], "outcome");
  EXPECT_EQ(j["differences"][0]["good"]["ok"], 3);
  EXPECT_THAT(FormatTable(r), HasSubstr("outcome (separation 1.00)"));
}

TEST(DiffTest, TwoIdenticalStoresHaveNoDifferences) {
  const DiffResult r = Compare(RecordAndRead("diff_a"), RecordAndRead("diff_b"));
  EXPECT_EQ(r.good_attempts, 5);
  EXPECT_TRUE(r.differences.empty());
  EXPECT_THAT(FormatTable(r), HasSubstr("no differences"));
}

Profile Session(std::vector<std::string> types, std::string api_version, double upgrade_ms) {
  Profile p;
  p.session = true;
  p.host = "r.openai.azure.com";
  p.api_version = std::move(api_version);
  p.event_types = std::move(types);
  p.upgrade_ms = upgrade_ms;
  p.session_update =
      R"({"type":"session.update","session":{"voice":"alloy","turn_detection":null}})";
  return p;
}

TEST(DiffTest, SequencesTimingsAndShapes) {
  std::vector<Profile> good, bad;
  for (int i = 0; i < 4; ++i) {
    good.push_back(Session({"session.created", "session.update", "session.updated"},
                           "2025-04-01-preview", 80));
    bad.push_back(Session({"session.created", "session.update", "error"}, "", 400));
  }
  bad[0].session_update = R"({"type":"session.update","session":{"voice":123}})";
  const DiffResult r = Compare(good, bad);
  const Difference* seq = Find(r, "event_sequence");
  ASSERT_NE(seq, nullptr);
  EXPECT_EQ(seq->note,
            "the usual sequences agree for 2 events, then good has session.updated "
            "where bad has error");
  EXPECT_NEAR(seq->score, 1.0 / 3, 1e-9);
  const Difference* version = Find(r, "api_version");
  ASSERT_NE(version, nullptr);
  EXPECT_DOUBLE_EQ(version->score, 1.0);
  EXPECT_EQ(r.differences[0].field, "api_version");  // ranked first
  const Difference* upgrade = Find(r, "upgrade_ms");
  ASSERT_NE(upgrade, nullptr);
  EXPECT_EQ(upgrade->note, "median 80.0 ms good, 400.0 ms bad");
  const Difference* shape = Find(r, "session_update_shape");
  ASSERT_NE(shape, nullptr);
  EXPECT_DOUBLE_EQ(shape->score, 0.25);
  EXPECT_EQ(shape->bad.at("session.voice:number, type:string"), 1);
}

TEST(DiffTest, ShapesNameKeysAndTypesNeverValues) {
  EXPECT_EQ(
      ShapeOf(
          R"({"type":"response.create","response":{"modalities":["audio","text"],"instructions":{"redacted":"string","len":12}}})"),
      "response.instructions.len:number, response.instructions.redacted:string, "
      "response.modalities[]:string, type:string");
  EXPECT_EQ(ShapeOf(""), "");
  EXPECT_EQ(ShapeOf("{truncated"), "(not json)");
}

TEST(SelectorTest, TermsFieldsAndErrors) {
  Profile p;
  p.outcome = "upstream_reset";
  p.deployment = "gpt-4o-realtime";
  p.client = "10.1.2.3:51234";
  EXPECT_TRUE(Selector::Parse("outcome!=ok, deployment=gpt-4o-realtime")->Matches(p));
  EXPECT_FALSE(Selector::Parse("outcome=ok")->Matches(p));
  EXPECT_TRUE(Selector::Parse("client=10.1.2.3")->Matches(p));  // without the port
  EXPECT_TRUE(Selector::Parse("")->Matches(p));
  EXPECT_THAT(std::string(Selector::Parse("colour=red").status().message()),
              HasSubstr("selector field 'colour'"));
  EXPECT_FALSE(Selector::Parse("outcome").ok());
}

}  // namespace
}  // namespace relaytap::tools::diff
