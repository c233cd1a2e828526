// The webhooks the compaction job owes (rollup/outbox.h): announced once
// each, in decision order, committed with the decisions, with ids that a
// recompute gives again.
#include "rollup/outbox.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <functional>

#include "clicklog/format.h"
#include "rollup/attribution.h"
#include "rollup/conversion_csv.h"
#include "tests/rollup/attribution_records.h"
#include "tests/util/scratch_dir.h"
#include "util/time.h"

namespace refgate::rollup {
namespace {
namespace json = boost::json;

const int64_t kT = *ParseRfc3339("2026-11-02T10:00:00Z") * 1'000'000;

Status Sale(Attribution* a, uint64_t seq, std::string id, int64_t at, std::string customer,
            int64_t received_us = 0) {
  EventRecord e;
  e.type = EventType::kSale;
  e.seq = seq;
  e.event_id = id;
  e.order_id = "o_" + id;
  e.customer_id = std::move(customer);
  e.code = "al_code";
  e.amount_minor = 1000;
  e.occurred_us = at;
  e.received_us = received_us ? received_us : at;
  std::string payload;
  clicklog::EncodeEvent(e, &payload);
  return a->OnEvent(e, payload);
}

Status Refund(Attribution* a, uint64_t seq, std::string id, std::string order, int64_t amount,
              int64_t at) {
  EventRecord e;
  e.type = EventType::kRefund;
  e.seq = seq;
  e.event_id = std::move(id);
  e.order_id = std::move(order);
  e.amount_minor = amount;
  e.occurred_us = e.received_us = at;
  std::string payload;
  clicklog::EncodeEvent(e, &payload);
  return a->OnEvent(e, payload);
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(StateDb::Open(dir_.path() + "/state", false, &db_).ok()); }

  // One run: `feed` hands it records, then it finishes and commits.
  void Run(const std::function<void(Attribution*)>& feed) {
    Aggregate agg(db_.get());
    AttributionOptions opt;  // 10 % of a sale, payable 30 days after it
    opt.currency = "EUR";
    Attribution a(db_.get(), opt, &agg);
    feed(&a);
    ASSERT_TRUE(a.Finish().ok());
    std::vector<StateDb::Write> writes;
    a.Writes(&writes);
    ASSERT_TRUE(db_->Commit(writes).ok());
  }

  std::vector<OutboxEntry> Entries(uint64_t from = 1) {
    std::vector<OutboxEntry> out;
    EXPECT_TRUE(ReadOutbox(*db_, from, 1000, &out).ok());
    return out;
  }

  static json::object Data(const OutboxEntry& e) {
    return json::parse(e.body).as_object().at("data").as_object();
  }

  ScratchDir dir_;
  std::unique_ptr<StateDb> db_;
};

TEST_F(OutboxTest, AnAttributedSaleThenItsRewardOnceTheLogsClockPassesTheHold) {
  Run([](Attribution* a) {
    ASSERT_TRUE(a->OnCode(AliceCode(kT - kMicrosPerDay)).ok());
    ASSERT_TRUE(Sale(a, 2, "s1", kT, "cus_1").ok());
  });
  std::vector<OutboxEntry> e = Entries();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].seq, 1u);
  EXPECT_EQ(e[0].type, "event.attributed");
  EXPECT_EQ(e[0].id, NoticeId("event.attributed", "s1"));
  EXPECT_EQ(e[0].referrer_id, "alice");
  json::object body = json::parse(e[0].body).as_object();
  EXPECT_EQ(body.at("created_at").as_string(), "2026-11-02T10:00:00Z");
  EXPECT_EQ(Data(e[0]).at("reward_minor").as_int64(), 100);
  EXPECT_EQ(Data(e[0]).at("method").as_string(), "code");
  EXPECT_EQ(Data(e[0]).at("currency").as_string(), "EUR");

  // 29 days on, by the log's clock: not payable yet; 31 days: payable, once.
  Run([](Attribution* a) { ASSERT_TRUE(a->OnCode(AliceCode(kT + 29 * kMicrosPerDay)).ok()); });
  EXPECT_EQ(Entries(2).size(), 0u);
  Run([](Attribution* a) { ASSERT_TRUE(a->OnCode(AliceCode(kT + 31 * kMicrosPerDay)).ok()); });
  Run([](Attribution* a) { ASSERT_TRUE(a->OnCode(AliceCode(kT + 32 * kMicrosPerDay)).ok()); });
  e = Entries(2);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].type, "reward.payable");
  EXPECT_EQ(e[0].id, NoticeId("reward.payable", "alice\ns1"));
  EXPECT_EQ(Data(e[0]).at("amount_minor").as_int64(), 100);
  EXPECT_EQ(Data(e[0]).at("payable_at").as_string(), FormatRfc3339Micros(kT + 30 * kMicrosPerDay));
}

// What is announced payable is what payable_minor gains: the reward less
// what refunds during the hold reversed; nothing for a full refund.
TEST_F(OutboxTest, ARefundDuringTheHoldIsNettedAndAFullRefundAnnouncesNothing) {
  Run([](Attribution* a) {
    ASSERT_TRUE(a->OnCode(AliceCode(kT - kMicrosPerDay)).ok());
    ASSERT_TRUE(Sale(a, 2, "s1", kT, "cus_1").ok());  // reward 100
    ASSERT_TRUE(Sale(a, 3, "s2", kT, "cus_2").ok());  // reward 100
  });
  Run([](Attribution* a) {
    ASSERT_TRUE(Refund(a, 4, "r1", "o_s1", 250, kT + kMicrosPerDay).ok());  // reverses 25
    ASSERT_TRUE(Refund(a, 5, "r2", "o_s2", 1000, kT + kMicrosPerDay).ok());
  });
  Run([](Attribution* a) { ASSERT_TRUE(a->OnCode(AliceCode(kT + 31 * kMicrosPerDay)).ok()); });
  std::vector<OutboxEntry> payable;
  for (auto& e : Entries()) {
    if (e.type == "reward.payable") payable.push_back(e);
  }
  ASSERT_EQ(payable.size(), 1u);
  EXPECT_EQ(Data(payable[0]).at("event_id").as_string(), "s1");
  EXPECT_EQ(Data(payable[0]).at("amount_minor").as_int64(), 75);
  std::string rewards;
  ASSERT_TRUE(RewardsCsv(db_.get(), "EUR", &rewards).ok());
  EXPECT_NE(rewards.find("alice,EUR,0,2,2000,1250,75,75,0,75"), std::string::npos) << rewards;
}

TEST_F(OutboxTest, ASelfReferralIsHeldAndAnOldSaleIsPayableInTheRunThatDecidesIt) {
  Run([](Attribution* a) {
    ASSERT_TRUE(a->OnCode(AliceCode(kT - 60 * kMicrosPerDay)).ok());
    ASSERT_TRUE(Sale(a, 2, "self", kT, "alice").ok());
    // Reported today, occurred 40 days ago: past its hold at once.
    ASSERT_TRUE(Sale(a, 3, "old", kT - 40 * kMicrosPerDay, "cus_2", kT).ok());
  });
  std::vector<OutboxEntry> e = Entries();
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].type, "event.held");
  EXPECT_EQ(Data(e[0]).at("reason").as_string().empty(), false);
  EXPECT_EQ(Data(e[0]).at("reward_minor").as_int64(), 0);
  EXPECT_EQ(e[1].type, "event.attributed");
  EXPECT_EQ(e[2].type, "reward.payable");
  EXPECT_EQ(Data(e[2]).at("event_id").as_string(), "old");
}

TEST_F(OutboxTest, EntriesOlderThanTwoDaysGoAndNumbersGoOn) {
  Run([](Attribution* a) {
    ASSERT_TRUE(a->OnCode(AliceCode(kT - kMicrosPerDay)).ok());
    ASSERT_TRUE(Sale(a, 2, "s1", kT, "cus_1").ok());
  });
  Run([](Attribution* a) { ASSERT_TRUE(Sale(a, 3, "s2", kT + kMicrosPerDay, "cus_2").ok()); });
  ASSERT_EQ(Entries().size(), 2u);
  Run([](Attribution* a) {
    ASSERT_TRUE(Sale(a, 4, "s3", kT + 2 * kMicrosPerDay + 1, "cus_3").ok());
  });
  std::vector<OutboxEntry> e = Entries();
  ASSERT_EQ(e.size(), 2u);  // s1's went: created more than two days before the clock
  EXPECT_EQ(e[0].seq, 2u);
  EXPECT_EQ(e[1].seq, 3u);
  EXPECT_EQ(Data(e[1]).at("event_id").as_string(), "s3");
}

TEST_F(OutboxTest, ARecomputeAnnouncesTheSameIds) {
  auto feed = [](Attribution* a) {
    ASSERT_TRUE(a->OnCode(AliceCode(kT - kMicrosPerDay)).ok());
    ASSERT_TRUE(Sale(a, 2, "s1", kT, "cus_1").ok());
    ASSERT_TRUE(Sale(a, 3, "s2", kT, "alice").ok());
  };
  Run(feed);
  std::vector<std::string> first;
  for (const auto& e : Entries()) first.push_back(e.id);
  db_.reset();
  ScratchDir other;
  ASSERT_TRUE(StateDb::Open(other.path() + "/state", false, &db_).ok());
  Run(feed);
  std::vector<std::string> again;
  for (const auto& e : Entries()) again.push_back(e.id);
  EXPECT_EQ(again, first);
  EXPECT_EQ(first.size(), 2u);
}

}  // namespace
}  // namespace refgate::rollup
