// ListEvents' paging and Balances over conversion rows written straight
// into a StateDb.
#include "rollup/listing.h"

#include <gtest/gtest.h>

#include "rollup/conversion_csv.h"
#include "rollup/conversion_rows.h"
#include "tests/util/scratch_dir.h"
#include "util/time.h"

namespace refgate::rollup {
namespace {
namespace json = boost::json;

constexpr int64_t kDec1 = 1796083200;  // 2026-12-01T00:00:00Z
constexpr int64_t kDec2 = kDec1 + kSecondsPerDay;
constexpr int64_t kDec3 = kDec2 + kSecondsPerDay;

class ListingTest : public testing::Test {
 protected:
  ScratchDir dir_;  // declared first: removed only after the database is closed
  void SetUp() override { ASSERT_TRUE(StateDb::Open(dir_.path(), false, &db_).ok()); }

  void PutEvent(int64_t day, const std::string& id, const std::string& referrer) {
    Decision d;
    d.type = EventType::kSale;
    d.event_id = id;
    d.order_id = "ord_" + id;
    d.referrer_id = referrer;
    d.code = referrer.empty() ? "" : "code_" + referrer;
    d.method = referrer.empty() ? "" : "click_id";
    d.status = referrer.empty() ? "unattributed" : "attributed";
    d.occurred_us = (day + 3600) * 1000000;
    d.amount_minor = 1000;
    d.reward_minor = referrer.empty() ? 0 : 100;
    std::string v;
    Encode(d, &v);
    ASSERT_TRUE(db_->Commit({{DecisionKey(FormatDate(day), id), v}}).ok());
  }

  // Every page's event ids, following next_cursor from the first page.
  std::vector<std::string> AllPages(EventPage page, size_t* pages) {
    std::vector<std::string> ids;
    std::string cursor;
    *pages = 0;
    do {
      json::array events;
      page.cursor = cursor;
      Status s = ListEvents(db_.get(), page, &events, &cursor);
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok()) break;
      EXPECT_LE(events.size(), page.limit);
      for (const auto& e : events) ids.emplace_back(e.at("event_id").as_string());
      ++*pages;
    } while (!cursor.empty());
    return ids;
  }

  std::unique_ptr<StateDb> db_;
};

TEST_F(ListingTest, PagesNewestDayFirstAndEndWithoutCursor) {
  PutEvent(kDec1, "a1", "alice");
  PutEvent(kDec1, "a2", "");
  PutEvent(kDec2, "b1", "bob");
  PutEvent(kDec3, "c1", "alice");  // outside the range asked for
  size_t pages = 0;
  EXPECT_EQ(AllPages({kDec1, kDec2, "", "", 2}, &pages),
            (std::vector<std::string>{"b1", "a1", "a2"}));
  EXPECT_EQ(pages, 2u);
  // A page that ends exactly at the last event says there is none after it.
  EXPECT_EQ(AllPages({kDec1, kDec2, "", "", 3}, &pages).size(), 3u);
  EXPECT_EQ(pages, 1u);
  EXPECT_EQ(AllPages({kDec1, kDec3, "alice", "", 1}, &pages),
            (std::vector<std::string>{"c1", "a1"}));
}

TEST_F(ListingTest, EventObjectCarriesItsAttribution) {
  PutEvent(kDec1, "a1", "alice");
  PutEvent(kDec1, "a2", "");
  json::array events;
  std::string next;
  ASSERT_TRUE(ListEvents(db_.get(), {kDec1, kDec1, "", "", 10}, &events, &next).ok());
  ASSERT_EQ(events.size(), 2u);
  const json::object& a = events[0].as_object();
  EXPECT_EQ(a.at("date").as_string(), "2026-12-01");
  EXPECT_EQ(a.at("type").as_string(), "sale");
  EXPECT_EQ(a.at("occurred_at").as_string(), "2026-12-01T01:00:00Z");
  EXPECT_EQ(a.at("amount_minor").as_int64(), 1000);
  EXPECT_EQ(a.at("reward_minor").as_int64(), 100);
  EXPECT_EQ(a.at("attribution").at("referrer_id").as_string(), "alice");
  EXPECT_TRUE(a.at("customer_id").is_null());
  EXPECT_EQ(events[1].at("status").as_string(), "unattributed");
  EXPECT_TRUE(events[1].at("attribution").is_null());
}

TEST_F(ListingTest, RefusesCursorsItCouldNotHaveIssued) {
  PutEvent(kDec1, "a1", "alice");
  json::array events;
  std::string next;
  for (std::string_view bad : {"a1", "2026-12-01/zz", "2026-13-01/a1", "2026-11-30/a1", "/"}) {
    Status s = ListEvents(db_.get(), {kDec1, kDec2, "", bad, 10}, &events, &next);
    EXPECT_TRUE(s.IsInvalidArgument()) << bad;
  }
  // Outside the range, even though the event exists.
  EXPECT_TRUE(ListEvents(db_.get(), {kDec2, kDec3, "", "2026-12-01/a1", 10}, &events, &next)
                  .IsInvalidArgument());
  EXPECT_TRUE(ListEvents(nullptr, {kDec1, kDec2, "", "2026-12-01/a1", 10}, &events, &next)
                  .IsInvalidArgument());
  EXPECT_TRUE(ListEvents(nullptr, {kDec1, kDec2, "", "", 10}, &events, &next).ok());
  EXPECT_TRUE(events.empty());
}

TEST_F(ListingTest, BalancesMatchRewardsCsv) {
  Earnings w;
  w.leads = 1;
  w.sales = 2;
  w.revenue = 5000;
  w.reward = 500;
  w.paid = 200;
  std::string v, line;
  Encode(w, &v);
  EncodeAmount(500, &line);
  ASSERT_TRUE(
      db_->Commit({{EarningsKey("alice"), v}, {RewardLineKey("alice", 0, "e1", "sale"), line}})
          .ok());
  json::array rows;
  ASSERT_TRUE(Balances(db_.get(), &rows).ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("referrer_id").as_string(), "alice");
  EXPECT_EQ(rows[0].at("payable_minor").as_int64(), 500);
  EXPECT_EQ(rows[0].at("balance_minor").as_int64(), 300);
  std::string csv;
  ASSERT_TRUE(RewardsCsv(db_.get(), "EUR", &csv).ok());
  EXPECT_NE(csv.find("\r\nalice,EUR,1,2,5000,0,500,500,200,300\r\n"), std::string::npos) << csv;
  ASSERT_TRUE(RewardsCsv(nullptr, "EUR", &csv).ok());
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1);
  rows.clear();
  ASSERT_TRUE(Balances(nullptr, &rows).ok());
  EXPECT_TRUE(rows.empty());
}

}  // namespace
}  // namespace refgate::rollup
