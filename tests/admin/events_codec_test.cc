// ParseEvent: every field's bad input is a 400 naming the field.
#include "admin/events_codec.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace refgate {
namespace {

constexpr int64_t kEventNow = 1'764'000'000'000'000;

std::optional<ApiError> Parse(std::string_view body, EventRecord* e) {
  return ParseEvent(boost::json::parse(body).as_object(), "EUR", kEventNow, e);
}

// The field ParseEvent blames for `body`, or "" when it accepts it.
std::string Blamed(std::string_view body) {
  EventRecord e;
  auto err = Parse(body, &e);
  return err ? err->field : "";
}

TEST(ParseEvent, ASaleWithEveryFieldIsTakenAsSent) {
  EventRecord e;
  ASSERT_FALSE(Parse(R"({"event_id": "ord_8812-paid", "type": "sale",
      "occurred_at": "2026-11-22T10:04:00Z", "customer_id": "cus_77",
      "click_id": "abcDEF_-0", "visitor_id": "AAAAAAAAAAAAAAAAAAAAAA", "code": "Ab3xY9k",
      "order_id": "ord_8812", "amount_minor": 4990, "currency": "EUR",
      "metadata": {"plan": "pro", "a": ""}})",
                     &e));
  EXPECT_EQ(e.type, EventType::kSale);
  EXPECT_EQ(e.event_id, "ord_8812-paid");
  EXPECT_EQ(e.occurred_us, int64_t{1'795'341'840} * 1'000'000);
  EXPECT_TRUE(e.occurred_given);
  EXPECT_EQ(e.received_us, kEventNow);
  EXPECT_EQ(e.amount_minor, 4990);
  EXPECT_EQ(e.code, "Ab3xY9k");
  using M = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(e.metadata, (M{{"a", ""}, {"plan", "pro"}}));  // sorted: one digest whatever the order
}

TEST(ParseEvent, ALeadNeedsOnlyAnIdAndItsTimeIsNow) {
  EventRecord e;
  ASSERT_FALSE(Parse(R"({"event_id": "l1", "type": "lead"})", &e));
  EXPECT_EQ(e.occurred_us, kEventNow);
  EXPECT_FALSE(e.occurred_given);
  EXPECT_EQ(e.currency, "EUR");
}

TEST(ParseEvent, RequiredFieldsAreNamed) {
  EXPECT_EQ(Blamed(R"({"type": "lead"})"), "event_id");
  EXPECT_EQ(Blamed(R"({"event_id": "x"})"), "type");
  EXPECT_EQ(Blamed(R"({"event_id": "x", "type": "sale", "order_id": "o"})"), "amount_minor");
  EXPECT_EQ(Blamed(R"({"event_id": "x", "type": "sale", "amount_minor": 5})"), "order_id");
  EXPECT_EQ(Blamed(R"({"event_id": "x", "type": "refund", "amount_minor": 5})"), "order_id");
  EXPECT_EQ(Blamed(R"({"event_id": "x", "type": "lead", "amount_minor": 5})"), "amount_minor");
}

TEST(ParseEvent, EveryBadValueIsBlamedOnItsField) {
  const std::string sale = R"({"type": "sale", "order_id": "o", "amount_minor": 5, )";
  const std::pair<std::string, std::string> cases[] = {
      {R"("event_id": ""})", "event_id"},
      {R"("event_id": "has space"})", "event_id"},
      {R"("event_id": ")" + std::string(129, 'a') + R"("})", "event_id"},
      {R"("event_id": 7})", "event_id"},
      {R"("event_id": "x", "type2": 1})", "type2"},
      {R"("event_id": "x", "occurred_at": "yesterday"})", "occurred_at"},
      {R"("event_id": "x", "occurred_at": 1764000000})", "occurred_at"},
      {R"("event_id": "x", "customer_id": "-starts-with-dash"})", "customer_id"},
      {R"("event_id": "x", "click_id": ")" + std::string(65, 'a') + R"("})", "click_id"},
      {R"("event_id": "x", "click_id": "a/b"})", "click_id"},
      {R"("event_id": "x", "visitor_id": "short"})", "visitor_id"},
      {R"("event_id": "x", "code": "ab"})", "code"},
      {R"("event_id": "x", "order_id": "o o"})", "order_id"},
      {R"("event_id": "x", "currency": "USD"})", "currency"},
      {R"("event_id": "x", "currency": "euro"})", "currency"},
      {R"("event_id": "x", "metadata": {"k": 1}})", "metadata"},
      {R"("event_id": "x", "metadata": {"k": ")" + std::string(257, 'v') + R"("}})", "metadata"},
      {R"("event_id": "x", "metadata": ["k"]})", "metadata"},
  };
  for (const auto& [tail, field] : cases) EXPECT_EQ(Blamed(sale + tail), field) << tail;
  std::string many = R"({"event_id": "x", "type": "lead", "metadata": {)";
  for (int i = 0; i < 21; ++i) many += (i ? "," : "") + ("\"k" + std::to_string(i) + "\": \"v\"");
  EXPECT_EQ(Blamed(many + "}}"), "metadata");
}

TEST(ParseEvent, AmountsAreWholePositiveMinorUnitsUpTo10To15) {
  auto amount = [](std::string a) {
    return Blamed(R"({"event_id": "x", "type": "sale", "order_id": "o", "amount_minor": )" + a +
                  "}");
  };
  EXPECT_EQ(amount("1"), "");
  EXPECT_EQ(amount("1000000000000000"), "");
  EXPECT_EQ(amount("1000000000000001"), "amount_minor");
  EXPECT_EQ(amount("0"), "amount_minor");
  EXPECT_EQ(amount("-5"), "amount_minor");
  EXPECT_EQ(amount("49.9"), "amount_minor");
  EXPECT_EQ(amount("18446744073709551615"), "amount_minor");
  EXPECT_EQ(amount("\"4990\""), "amount_minor");
}

TEST(EventToJson, GivesBackWhatWasSent) {
  EventRecord e;
  ASSERT_FALSE(Parse(R"({"event_id": "s1", "type": "sale", "order_id": "o1",
      "amount_minor": 10, "occurred_at": "2026-11-22T10:04:00Z", "metadata": {"plan": "pro"}})",
                     &e));
  boost::json::object o = EventToJson(e);
  EXPECT_EQ(o["event_id"], "s1");
  EXPECT_EQ(o["type"], "sale");
  EXPECT_EQ(o["occurred_at"], "2026-11-22T10:04:00.000000Z");
  EXPECT_EQ(o["amount_minor"], 10);
  EXPECT_TRUE(o["customer_id"].is_null());
  EXPECT_EQ(o["metadata"].as_object()["plan"], "pro");
}

}  // namespace
}  // namespace refgate
