// EventIndex: exactly once, durable before answered, rebuilt from the log.
#include "events/event_index.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "clicklog/format.h"
#include "clicklog/reader.h"
#include "tests/clicklog/faulty_io.h"
#include "tests/util/scratch_dir.h"

namespace refgate::events {
namespace {

using clicklog::FaultyIo;
using clicklog::GateGuard;
using clicklog::WaitUntil;
using namespace std::chrono_literals;

EventRecord Sale(std::string id, int64_t amount = 4990) {
  EventRecord e;
  e.type = EventType::kSale;
  e.event_id = std::move(id);
  e.order_id = "ord_1";
  e.amount_minor = amount;
  e.currency = "EUR";
  e.received_us = e.occurred_us = 1'700'000'000'000'000;
  return e;
}

// A reply that can be waited for.
struct Answer {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result> result;
  int calls = 0;
  std::thread::id thread;  // the one that answered
  EventIndex::Reply Reply() {
    return [this](Result r) {
      std::lock_guard lock(mu);
      result = r;
      thread = std::this_thread::get_id();
      ++calls;
      cv.notify_all();
    };
  }
  std::optional<Result> Wait() {
    std::unique_lock lock(mu);
    cv.wait_for(lock, 20s, [&] { return result.has_value(); });
    return result;
  }
};

// A runner for EventIndex::CompleteOn: one thread taking functions in
// order, as the admin listener's worker does; or, once `stopped`, one that
// drops them (a worker that has stopped during shutdown).
class RunnerThread {
 public:
  RunnerThread() : thread_([this] { Loop(); }) {}
  ~RunnerThread() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Run(std::function<void()> f) {
    std::lock_guard lock(mu_);
    if (!stopped_) queue_.push_back(std::move(f));
    ++given_;
    cv_.notify_all();
  }
  void Stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  int given() {
    std::lock_guard lock(mu_);
    return given_;
  }
  std::thread::id id() const { return thread_.get_id(); }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return done_ || !queue_.empty(); });
      if (queue_.empty()) return;
      std::function<void()> f = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      f();
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool done_ = false, stopped_ = false;
  int given_ = 0;
  std::thread thread_;
};

class EventIndexFixture : public ::testing::Test {
 protected:
  void Open(clicklog::Durability d = clicklog::Durability::kNone, FileIo* io = nullptr) {
    std::vector<std::string> notes;
    ASSERT_TRUE(clicklog::ClickLog::Open(
                    {.dir = dir_.path() + "/clicks", .durability = d, .max_wait_ms = 200, .io = io},
                    &log_, &notes)
                    .ok());
    Options o{dir_.path() + "/events", dir_.path() + "/clicks", 200, 10};
    notes_.clear();
    ASSERT_TRUE(EventIndex::Open(o, log_.get(), &index_, &notes_).ok());
    if (use_runner_)
      index_->CompleteOn([this](std::function<void()> f) { runner_.Run(std::move(f)); });
  }
  void Close() {
    log_->Close();
    index_->Close();
    index_.reset();
    log_.reset();
  }
  // Posts and waits for the answer, whichever way it comes.
  Result PostAndWait(const EventRecord& e) {
    Answer a;
    if (auto now = index_->Post(e, a.Reply())) return *now;
    auto r = a.Wait();
    EXPECT_TRUE(r.has_value());
    return r.value_or(Result::kUnavailable);
  }
  std::vector<std::string> LoggedEventIds() {
    std::vector<std::string> ids;
    clicklog::LogReader reader(dir_.path() + "/clicks", nullptr);
    EXPECT_TRUE(reader.Open(0).ok());
    clicklog::Record rec;
    while (reader.Next(&rec)) {
      EventRecord e;
      if (rec.type == clicklog::kEvent && clicklog::DecodeEvent(rec.payload, &e).ok()) {
        ids.push_back(e.event_id);
      }
    }
    return ids;
  }

  bool use_runner_ = false;
  RunnerThread runner_;  // outlives the index: destroyed after it
  ScratchDir dir_;
  std::unique_ptr<clicklog::ClickLog> log_;
  std::unique_ptr<EventIndex> index_;
  std::vector<std::string> notes_;
};

// Every case runs twice: answered by the indexer thread, and through
// CompleteOn (serve's way).
class EventIndexTest : public EventIndexFixture, public ::testing::WithParamInterface<bool> {
 protected:
  EventIndexTest() { use_runner_ = GetParam(); }
};

class EventIndexRunnerTest : public EventIndexFixture {
 protected:
  EventIndexRunnerTest() { use_runner_ = true; }
};

TEST_P(EventIndexTest, ANewEventIsRecordedOnceAndItsRetryIsAReplay) {
  Open();
  EXPECT_EQ(PostAndWait(Sale("e1")), Result::kRecorded);
  EXPECT_EQ(PostAndWait(Sale("e1")), Result::kReplayed);
  EventRecord got;
  ASSERT_TRUE(index_->Get("e1", &got).ok());
  EXPECT_EQ(got, Sale("e1"));
  EXPECT_TRUE(index_->Get("e2", &got).IsNotFound());
  Close();
  EXPECT_EQ(LoggedEventIds(), std::vector<std::string>{"e1"});
}

TEST_P(EventIndexTest, AnotherBodyUnderARecordedIdIsAConflict) {
  Open();
  EXPECT_EQ(PostAndWait(Sale("e1", 100)), Result::kRecorded);
  EXPECT_EQ(PostAndWait(Sale("e1", 101)), Result::kConflict);
  Close();
  EXPECT_EQ(LoggedEventIds().size(), 1u);
}

TEST_P(EventIndexTest, WhenRefgateFilledInTheTimeARetryWithoutItIsStillTheSameEvent) {
  Open();
  EventRecord first = Sale("e1");
  EventRecord retry = first;
  retry.received_us = retry.occurred_us = first.received_us + 5'000'000;  // taken 5 s later
  EXPECT_EQ(PostAndWait(first), Result::kRecorded);
  EXPECT_EQ(PostAndWait(retry), Result::kReplayed);
  retry.occurred_given = true;  // now the caller says when: another event
  EXPECT_EQ(PostAndWait(retry), Result::kConflict);
  Close();
}

TEST_P(EventIndexTest, ConcurrentPostsOfOneIdGiveOneRecordedAndTheRestReplayed) {
  FaultyIo io;
  Open(clicklog::Durability::kSync, &io);
  GateGuard guard{io};
  io.Hold();  // the first post's sync waits at the gate: the others arrive meanwhile
  Answer a[4];
  ASSERT_FALSE(index_->Post(Sale("e1"), a[0].Reply()).has_value());
  ASSERT_TRUE(io.WaitForSyncs(1));
  for (int i = 1; i < 4; ++i) ASSERT_FALSE(index_->Post(Sale("e1"), a[i].Reply()).has_value());
  // Another body under the id in flight is refused at once.
  Answer other;
  EXPECT_EQ(index_->Post(Sale("e1", 1), other.Reply()), Result::kConflict);
  io.Release();
  EXPECT_EQ(a[0].Wait(), Result::kRecorded);
  for (int i = 1; i < 4; ++i) EXPECT_EQ(a[i].Wait(), Result::kReplayed);
  Close();
  for (auto& x : a) EXPECT_EQ(x.calls, 1);
  EXPECT_EQ(other.calls, 0);
  EXPECT_EQ(LoggedEventIds(), std::vector<std::string>{"e1"});
}

TEST_P(EventIndexTest, AFailingDiskIsUnavailableAndTheRetryIsRecorded) {
  FaultyIo io;
  Open(clicklog::Durability::kNone, &io);
  io.fail_writes = 1;
  EXPECT_EQ(PostAndWait(Sale("e1")), Result::kUnavailable);
  EventRecord got;
  EXPECT_TRUE(index_->Get("e1", &got).IsNotFound());
  EXPECT_EQ(PostAndWait(Sale("e1")), Result::kRecorded);  // not a replay: the first was lost
  Close();
  EXPECT_EQ(LoggedEventIds(), std::vector<std::string>{"e1"});
}

TEST_P(EventIndexTest, AStalledDiskIsUnavailableInTimeAndTheEventIsReplayedOnceWritten) {
  FaultyIo io;
  Open(clicklog::Durability::kNone, &io);
  GateGuard guard{io};
  io.Hold();
  Answer first;
  ASSERT_FALSE(index_->Post(Sale("e1"), first.Reply()).has_value());
  EXPECT_EQ(first.Wait(), Result::kUnavailable);  // answer_timeout_ms passed, still in fdatasync
  // Its fate is unknown: a retry is told to come back, and writes nothing.
  EXPECT_EQ(PostAndWait(Sale("e1")), Result::kUnavailable);
  io.Release();
  EventRecord got;
  ASSERT_TRUE(WaitUntil([&] { return index_->Get("e1", &got).ok(); }));
  EXPECT_EQ(PostAndWait(Sale("e1")), Result::kReplayed);
  Close();
  EXPECT_EQ(first.calls, 1);
  EXPECT_EQ(LoggedEventIds(), std::vector<std::string>{"e1"});
}

// A crash after the log append and before the index commit: the next Open
// finds the event in the log, so a retry is a replay, not a second record.
TEST_P(EventIndexTest, AnEventInTheLogButNotInTheIndexIsIndexedAtOpen) {
  {
    std::vector<std::string> notes;
    std::unique_ptr<clicklog::ClickLog> log;
    ASSERT_TRUE(clicklog::ClickLog::Open({.dir = dir_.path() + "/clicks"}, &log, &notes).ok());
    std::string payload;
    clicklog::EncodeEvent(Sale("lost"), &payload);
    struct : Completion {
      void Complete(Outcome) override {}
    } ignore;
    ASSERT_TRUE(log->AppendDurable(clicklog::kEvent, payload, &ignore));
    log->Close();
  }
  Open();
  ASSERT_EQ(notes_.size(), 1u);
  EXPECT_NE(notes_[0].find("1 events found in the log"), std::string::npos) << notes_[0];
  EXPECT_EQ(PostAndWait(Sale("lost")), Result::kReplayed);
  EXPECT_EQ(PostAndWait(Sale("lost", 1)), Result::kConflict);
  Close();
  EXPECT_EQ(LoggedEventIds(), std::vector<std::string>{"lost"});
}

TEST_P(EventIndexTest, TheWatermarkFollowsTheLogSoAReopenReadsOnlyWhatIsNew) {
  Open();
  EXPECT_EQ(PostAndWait(Sale("e1")), Result::kRecorded);
  EXPECT_EQ(PostAndWait(Sale("e2")), Result::kRecorded);
  const uint64_t durable = log_->durable_seq();
  ASSERT_TRUE(WaitUntil([&] { return EventIndex::Watermark(dir_.path() + "/events") == durable; }))
      << "watermark " << EventIndex::Watermark(dir_.path() + "/events") << " log " << durable;
  Close();
  Open();
  EXPECT_TRUE(notes_.empty());
  EXPECT_EQ(PostAndWait(Sale("e2")), Result::kReplayed);
  Close();
}

TEST_F(EventIndexRunnerTest, CommitsAndAnswersRunOnTheRunner) {
  FaultyIo io;
  Open(clicklog::Durability::kSync, &io);
  GateGuard guard{io};
  io.Hold();  // one sync for all: the posts are written as one batch
  Answer a[8];
  ASSERT_FALSE(index_->Post(Sale("e0"), a[0].Reply()).has_value());
  ASSERT_TRUE(io.WaitForSyncs(1));
  for (int i = 1; i < 8; ++i) {
    ASSERT_FALSE(index_->Post(Sale("e" + std::to_string(i)), a[i].Reply()).has_value());
  }
  io.Release();
  for (auto& x : a) {
    EXPECT_EQ(x.Wait(), Result::kRecorded);
    EXPECT_EQ(x.thread, runner_.id());
  }
  // A call per batch of completions, more when the runner drains while the
  // writer is still completing one; never one each and then some.
  EXPECT_GE(runner_.given(), 1);
  EXPECT_LE(runner_.given(), 8);
  Close();
}

// A runner that no longer runs anything (the admin worker stopped during
// shutdown): the indexer takes the queue and still answers every post.
TEST_F(EventIndexRunnerTest, APostWhoseRunnerDropsItIsStillRecordedAndAnswered) {
  Open();
  runner_.Stop();
  EXPECT_EQ(PostAndWait(Sale("e1")), Result::kRecorded);
  EXPECT_EQ(PostAndWait(Sale("e2")), Result::kRecorded);
  EXPECT_EQ(PostAndWait(Sale("e1")), Result::kReplayed);
  Close();
  EXPECT_EQ(LoggedEventIds(), (std::vector<std::string>{"e1", "e2"}));
}

INSTANTIATE_TEST_SUITE_P(IndexerOrRunner, EventIndexTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "Runner" : "Indexer";
                         });

TEST(EventIndexWatermark, NoIndexMeansNoEventEverTaken) {
  ScratchDir dir;
  EXPECT_EQ(EventIndex::Watermark(dir.path() + "/events"), UINT64_MAX);
}

}  // namespace
}  // namespace refgate::events
