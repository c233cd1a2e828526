// Attribution's arithmetic and rules, without the log: half-even rounding,
// calendar months, code activity, recurring rewards of a bound customer.
#include "rollup/attribution.h"

#include <gtest/gtest.h>

#include "clicklog/format.h"
#include "rollup/conversion_rows.h"
#include "tests/rollup/attribution_records.h"
#include "tests/util/scratch_dir.h"
#include "util/time.h"

namespace refgate::rollup {
namespace {

int64_t At(const char* rfc3339) { return *ParseRfc3339(rfc3339) * 1'000'000; }

TEST(DivideHalfEven, TiesGoToTheEvenNeighbour) {
  EXPECT_EQ(DivideHalfEven(5, 2), 2);    // 2.5
  EXPECT_EQ(DivideHalfEven(7, 2), 4);    // 3.5
  EXPECT_EQ(DivideHalfEven(-5, 2), -2);  // -2.5
  EXPECT_EQ(DivideHalfEven(-7, 2), -4);
  EXPECT_EQ(DivideHalfEven(26, 10), 3);
  EXPECT_EQ(DivideHalfEven(24, 10), 2);
  EXPECT_EQ(DivideHalfEven(15 * 100000, 1'000'000), 2);  // 10 % of 15
  EXPECT_EQ(DivideHalfEven(5 * 100000, 1'000'000), 0);   // 10 % of 5
  // No overflow for the largest amount at 100 %.
  const __int128 big = static_cast<__int128>(1'000'000'000'000'000) * 1'000'000;
  EXPECT_EQ(DivideHalfEven(big, 1'000'000), 1'000'000'000'000'000);
}

TEST(AddMonths, ClampsToTheMonthsEndAndKeepsTheTimeOfDay) {
  EXPECT_EQ(AddMonths(At("2027-01-31T10:00:00Z"), 1), At("2027-02-28T10:00:00Z"));
  EXPECT_EQ(AddMonths(At("2028-01-31T10:00:00Z"), 1), At("2028-02-29T10:00:00Z"));
  EXPECT_EQ(AddMonths(At("2026-12-15T00:00:01Z"), 1), At("2027-01-15T00:00:01Z"));
  EXPECT_EQ(AddMonths(At("2026-11-22T10:04:00Z"), 12), At("2027-11-22T10:04:00Z"));
  EXPECT_EQ(AddMonths(At("1969-12-31T23:00:00Z"), 2), At("1970-02-28T23:00:00Z"));
}

TEST(ActiveAt, FollowsTheCodesChangesAndItsExpiry) {
  CodeInfo c;
  c.created_us = 100;
  c.history = {{100, CodeStatus::kActive, 0},
               {200, CodeStatus::kDisabled, 0},
               {300, CodeStatus::kActive, 400}};
  EXPECT_FALSE(ActiveAt(c, 99));  // before it existed
  EXPECT_TRUE(ActiveAt(c, 150));
  EXPECT_FALSE(ActiveAt(c, 250));
  EXPECT_TRUE(ActiveAt(c, 350));
  EXPECT_FALSE(ActiveAt(c, 400));  // expired
  CodeInfo from_clicks;            // no history: it was clicked, so it exists
  EXPECT_TRUE(ActiveAt(from_clicks, 5));
}

// Hands `a` a sale s<n> (order o<n>) of 1000 by cus_1 at `at`, through
// `code` when not empty; true when it was taken.
bool OnSale(Attribution* a, uint64_t seq, const std::string& n, int64_t at, std::string code) {
  EventRecord e;
  e.type = EventType::kSale;
  e.seq = seq;
  e.event_id = "s" + n;
  e.order_id = "o" + n;
  e.customer_id = "cus_1";
  e.code = std::move(code);
  e.amount_minor = 1000;
  e.occurred_us = e.received_us = at;
  std::string payload;
  clicklog::EncodeEvent(e, &payload);
  return a->OnEvent(e, payload).ok();
}

class RecurringTest : public ::testing::Test {
 protected:
  // Runs one Attribution over `events`: the first binds cus_1 to alice by
  // her code; returns the rewards of all of them, in order.
  std::vector<int64_t> Rewards(int recurring_months, std::vector<int64_t> sale_times) {
    ScratchDir dir;
    std::unique_ptr<StateDb> db;
    EXPECT_TRUE(StateDb::Open(dir.path() + "/state", false, &db).ok());
    Aggregate agg(db.get());
    AttributionOptions opt;
    opt.rules.recurring_months = recurring_months;
    Attribution a(db.get(), opt, &agg);
    EXPECT_TRUE(a.OnCode(AliceCode(0)).ok());
    for (size_t i = 0; i < sale_times.size(); ++i) {
      EXPECT_TRUE(OnSale(&a, i + 1, std::to_string(i), sale_times[i], i == 0 ? "al_code" : ""));
    }
    EXPECT_TRUE(a.Finish().ok());
    std::vector<StateDb::Write> writes;
    a.Writes(&writes);
    std::vector<int64_t> rewards(sale_times.size(), -1);
    for (const auto& w : writes) {
      Decision d;
      if (w.key[0] != 'E' || !Decode(w.value, &d)) continue;
      EXPECT_EQ(d.referrer_id, "alice") << d.event_id;
      rewards[std::stoi(d.event_id.substr(1))] = d.reward_minor;
    }
    return rewards;
  }
};

TEST_F(RecurringTest, ABoundCustomersSalesEarnForRecurringMonthsAfterTheBinding) {
  const int64_t bound = At("2026-01-15T12:00:00Z");
  EXPECT_EQ(Rewards(2, {bound, bound + 30 * kMicrosPerDay, At("2026-03-15T11:59:59Z"),
                        At("2026-03-15T12:00:00Z")}),
            (std::vector<int64_t>{100, 100, 100, 0}));
}

TEST_F(RecurringTest, ZeroRecurringMonthsPaysTheFirstSaleOnly) {
  const int64_t bound = At("2026-01-15T12:00:00Z");
  EXPECT_EQ(Rewards(0, {bound, bound + kMicrosPerDay}), (std::vector<int64_t>{100, 0}));
}

// A customer's binding is deleted, with its end key, once its period and
// then the window have passed by the log's clock; not before.
class BindingExpiryTest : public ::testing::Test {
 protected:
  static constexpr int64_t kBound = 1795305600'000000;  // 2026-11-22T00:00:00Z

  void SetUp() override { ASSERT_TRUE(StateDb::Open(dir_.path() + "/state", false, &db_).ok()); }

  // One run: a code change at `code_at` (the log's clock), and with `sale`
  // a sale of cus_1 at kBound through the code. Commits; returns its writes.
  std::vector<StateDb::Write> Run(int64_t code_at, bool sale) {
    Aggregate agg(db_.get());
    AttributionOptions opt;
    opt.window_days = 1;
    opt.customer_binding_days = 1;
    Attribution a(db_.get(), opt, &agg);
    EXPECT_TRUE(a.OnCode(AliceCode(code_at)).ok());
    if (sale) {
      EXPECT_TRUE(OnSale(&a, 1, "1", kBound, "al_code"));
    }
    EXPECT_TRUE(a.Finish().ok());
    std::vector<StateDb::Write> writes;
    a.Writes(&writes);
    EXPECT_TRUE(db_->Commit(writes).ok());
    return writes;
  }
  bool Has(const std::string& key) {
    std::string v;
    return db_->Get(key, &v).ok();
  }

  ScratchDir dir_;
  std::unique_ptr<StateDb> db_;
};

TEST_F(BindingExpiryTest, AnEndedBindingIsDeletedOnceTheWindowHasPassed) {
  Run(0, true);
  const std::string end = BindingEndKey(kBound + kMicrosPerDay, "cus_1");
  ASSERT_TRUE(Has(BindingKey("cus_1")));
  ASSERT_TRUE(Has(end));
  Run(kBound + 2 * kMicrosPerDay - 1, false);  // the window after the end not yet passed
  EXPECT_TRUE(Has(BindingKey("cus_1")));
  EXPECT_TRUE(Has(end));
  Run(kBound + 2 * kMicrosPerDay + 1, false);
  EXPECT_FALSE(Has(BindingKey("cus_1")));
  EXPECT_FALSE(Has(end));
}

TEST(BindingEndKey, SortsInTimeOrderAndParsesBack) {
  EXPECT_LT(BindingEndKey(-5, "z"), BindingEndKey(3, "a"));
  EXPECT_LT(BindingEndKey(3, "z"), BindingEndKey(1LL << 40, "a"));
  int64_t until;
  std::string_view customer;
  const std::string k = BindingEndKey(-7, "cus_7");
  ASSERT_TRUE(ParseBindingEndKey(k, &until, &customer));
  EXPECT_EQ(until, -7);
  EXPECT_EQ(customer, "cus_7");
  EXPECT_FALSE(ParseBindingEndKey(k.substr(0, 5), &until, &customer));
}

}  // namespace
}  // namespace refgate::rollup
