#include "cluster/log_merger.h"

#include <nats/nats.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "clicklog/format.h"
#include "clicklog/reader.h"
#include "clicklog/retention.h"
#include "cluster/log_shipper.h"
#include "util/file_io.h"
#include "util/metrics.h"
#include "util/time.h"

namespace refgate::cluster {
namespace {

constexpr int64_t kRetryMs = 500;  // after a failure, before connecting again
constexpr int64_t kSaveMs = 1000;  // cluster/merged is rewritten at most this often
constexpr std::string_view kSubjectPrefix = "refgate.log.";

// The node's records first..last of `records` (a message's body), which
// must be whole records with consecutive seqs: false when they are not.
bool Range(std::string_view records, uint64_t* first, uint64_t* last) {
  clicklog::SegmentParser parser(records, "", nullptr);
  clicklog::Record r;
  uint64_t n = 0;
  for (; parser.Next(&r); ++n) {
    if (n > 0 && r.seq != *last + 1) return false;
    if (n == 0) *first = r.seq;
    *last = r.seq;
  }
  return n > 0 && parser.valid_end() == records.size();
}

// The bytes of `records` from the record with seq `from` on.
std::string_view From(std::string_view records, uint64_t from) {
  clicklog::SegmentParser parser(records, "", nullptr);
  clicklog::Record r;
  while (parser.Next(&r)) {
    if (r.seq >= from) return records.substr(r.offset);
  }
  return {};
}

}  // namespace

struct LogMerger::Subscription {
  natsSubscription* sub = nullptr;
  ~Subscription() { natsSubscription_Destroy(sub); }  // keeps the durable consumer
};

LogMerger::LogMerger(MergeOptions options) : options_(std::move(options)) {}

Status LogMerger::Open(MergeOptions options, std::unique_ptr<LogMerger>* out) {
  std::unique_ptr<LogMerger> m(new LogMerger(std::move(options)));
  if (Status s = m->Recover(); !s.ok()) return s;
  m->thread_ = std::thread([p = m.get()] { p->Run(); });
  *out = std::move(m);
  return Status::OK();
}

LogMerger::~LogMerger() { Stop(); }

void LogMerger::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    wake_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
  if (log_) log_->Close();  // null when Open could not open the copy
}

std::map<std::string, uint64_t> LogMerger::positions() const {
  MutexLock lock(&mu_);
  return positions_;
}

Status LogMerger::Recover() {
  clicklog::Options o;
  o.dir = options_.data_dir + "/cluster/log";
  std::error_code ec;
  std::filesystem::create_directories(o.dir, ec);
  if (ec) return Status::IOError(o.dir + ": " + ec.message());
  std::vector<std::string> notes;
  if (Status s = clicklog::ClickLog::Open(o, &log_, &notes); !s.ok()) return s;
  for (const std::string& n : notes) std::printf("cluster: copy of the stream: %s\n", n.c_str());
  std::map<std::string, uint64_t> positions;
  std::ifstream in(options_.data_dir + "/" + clicklog::kMergedFile);
  uint64_t from = 0, seq;
  std::string node;
  if (in >> from) {
    while (in >> node >> seq) positions[node] = seq;
  }
  // The records after it say the rest.
  clicklog::LogReader reader(o.dir, nullptr);
  Status s = reader.Open(from + 1);
  clicklog::Record rec;
  std::string_view id, records;
  uint64_t first, last;
  while (s.ok() && reader.Next(&rec)) {
    if (rec.type != clicklog::kShipped ||
        !clicklog::DecodeShipped(rec.payload, &id, &records).ok() ||
        !Range(records, &first, &last)) {
      return Status::Corruption(o.dir + ": record " + std::to_string(rec.seq) +
                                " is not a message of the cluster's stream");
    }
    const auto [it, fresh] = positions.try_emplace(std::string(id), last);
    if (!fresh && first != it->second + 1) {  // a write of the copy failed in between
      return Status::Corruption(o.dir + ": record " + std::to_string(rec.seq) + " holds records " +
                                std::to_string(first) + "-" + std::to_string(last) + " of " +
                                std::string(id) + ", after " + std::to_string(it->second) +
                                ": move " + options_.data_dir +
                                "/cluster away to take the stream in again");
    }
    it->second = last;
  }
  if (s.ok()) s = reader.status();
  if (!s.ok()) return s;
  merged_.store(log_->durable_seq(), std::memory_order_release);
  MutexLock lock(&mu_);
  positions_ = std::move(positions);
  saved_ = from;
  return s;
}

bool LogMerger::Pause(int64_t ms) {
  MutexLock lock(&mu_);
  const int64_t until = NowMicros() / 1000 + ms;
  while (!stopping_ && NowMicros() / 1000 < until) {
    wake_.WaitFor(&mu_, std::chrono::milliseconds(until - NowMicros() / 1000));
  }
  return !stopping_;
}

void LogMerger::Refuse(const std::string& why) {
  std::fprintf(stderr, "cluster: merging the stream refused: %s\n", why.c_str());
  refused_.store(true, std::memory_order_release);
}

void LogMerger::Run() {
  std::string reported;  // the last failure printed, not printed again in a row
  while (!refused() && Pause(0)) {
    Status s = sub_ ? Status::OK() : Connect();
    if (s.ok()) s = MergeSome();
    SavePositions(false);
    if (s.ok()) {
      reported.clear();
      continue;
    }
    sub_.reset();
    nats_.reset();
    if (s.ToString() != reported) {
      reported = s.ToString();
      std::fprintf(stderr, "cluster: merging the stream: %s; retrying\n", reported.c_str());
    }
    if (!Pause(kRetryMs)) break;
  }
  SavePositions(true);
}

Status LogMerger::Connect() {
  if (Status s = NatsConn::Open(options_.servers, options_.timeout_ms, &nats_); !s.ok()) return s;
  if (Status s = EnsureLogStream(nats_.get(), options_.stream, options_.replicas); !s.ok()) {
    return s;
  }
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const bool fresh = positions().empty();
  if (fresh) {  // an empty copy reads the stream from its start, whatever was acknowledged
    natsStatus ns = js_DeleteConsumer(nats_->js(), options_.stream.c_str(),
                                      options_.consumer.c_str(), nullptr, &jerr);
    if (ns != NATS_OK && ns != NATS_NOT_FOUND) return FromNats(ns, "deleting the consumer");
  }
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = options_.consumer.c_str();
  cc.AckPolicy = js_AckAll;
  cc.DeliverPolicy = js_DeliverAll;
  cc.AckWait = int64_t{30} * 1000 * 1000 * 1000;
  jsConsumerInfo* ci = nullptr;
  natsStatus ns = js_AddConsumer(&ci, nats_->js(), options_.stream.c_str(), &cc, nullptr, &jerr);
  jsConsumerInfo_Destroy(ci);
  if (ns != NATS_OK) return FromNats(ns, "consumer " + options_.consumer);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options_.stream.c_str();
  so.Consumer = options_.consumer.c_str();
  auto sub = std::make_unique<Subscription>();
  const std::string subject = std::string(kSubjectPrefix) + "*";
  ns = js_PullSubscribe(&sub->sub, nats_->js(), subject.c_str(), options_.consumer.c_str(), nullptr,
                        &so, &jerr);
  if (ns != NATS_OK) return FromNats(ns, "subscribing to " + options_.stream);
  sub_ = std::move(sub);
  return Status::OK();
}

bool LogMerger::Take(const std::string& node, std::string_view records, std::string* payload,
                     uint64_t* last) {
  uint64_t first = 0;
  payload->clear();
  if (!Range(records, &first, last)) {
    Refuse("a message of " + node + " holds no records refgate shipped");
    return false;
  }
  if (records.size() + node.size() + 16 > clicklog::kMaxPayload) {
    Refuse("a message of " + node + " of " + std::to_string(records.size()) +
           " bytes is more than a record of the copy holds");
    return false;
  }
  bool known;
  uint64_t have = 0;
  {
    MutexLock lock(&mu_);
    const auto it = positions_.find(node);
    known = it != positions_.end();
    if (known) have = it->second;
  }
  if (!known) {
    clicklog::EncodeShipped(node, records, payload);
    return true;
  }
  if (*last <= have) return true;  // delivered before
  if (first > have + 1) {
    Refuse("the stream lacks records " + std::to_string(have + 1) + "-" +
           std::to_string(first - 1) + " of " + node + " (next there: " + std::to_string(first) +
           "): they would never be counted");
    return false;
  }
  clicklog::EncodeShipped(node, From(records, have + 1), payload);
  return true;
}

Status LogMerger::MergeSome() {
  natsMsgList list = {nullptr, 0};
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus ns =
      natsSubscription_Fetch(&list, sub_->sub, options_.fetch, options_.timeout_ms, &jerr);
  if (ns == NATS_TIMEOUT) return Status::OK();  // nothing new
  if (ns != NATS_OK) return FromNats(ns, "fetching from " + options_.stream);
  std::vector<std::string> payloads;
  int handled = 0;  // the messages taken into payloads, or dropped as held already
  for (; handled < list.Count; ++handled) {
    natsMsg* m = list.Msgs[handled];
    const std::string_view subject = natsMsg_GetSubject(m);
    const std::string node(subject.substr(std::min(subject.size(), kSubjectPrefix.size())));
    std::string payload;
    uint64_t last = 0;
    const std::string_view body(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
    if (!Take(node, body, &payload, &last)) break;  // refused: what came before still goes in
    if (payload.empty()) continue;
    payloads.push_back(std::move(payload));
    MutexLock lock(&mu_);
    positions_[node] = last;  // so that a repeat later in this list is dropped
  }
  Status s = AppendAllDurable(log_.get(), clicklog::kShipped, payloads, /*until_outcome=*/true);
  // Acknowledged once on disk: every message up to the last handled (js_AckAll).
  if (s.ok() && handled > 0) natsMsg_Ack(list.Msgs[handled - 1], nullptr);
  natsMsgList_Destroy(&list);
  if (!s.ok()) {
    // The positions taken above may be ahead of the disk, and a later
    // message may be on it while an earlier one is not: nothing is
    // acknowledged or noted any more, and a restart reads the copy again.
    failed_ = true;
    Refuse("writing the copy of the stream: " + s.ToString() + "; restart refgate to go on");
    return Status::OK();
  }
  merged_.store(log_->durable_seq(), std::memory_order_release);
  GlobalMetrics().cluster_merged_messages.Add(payloads.size());
  return Status::OK();
}

void LogMerger::SavePositions(bool force) {
  if (failed_) return;
  const uint64_t through = log_->durable_seq();
  const int64_t now = NowMicros() / 1000;
  if (through == saved_ || (!force && now - saved_at_ms_ < kSaveMs)) return;
  std::string text = std::to_string(through) + "\n";
  for (const auto& [node, seq] : positions()) text += node + " " + std::to_string(seq) + "\n";
  const std::string path = options_.data_dir + "/" + clicklog::kMergedFile;
  if (WriteFileAtomic(DefaultFileIo(), path, text).ok()) saved_ = through;
  saved_at_ms_ = now;
}

}  // namespace refgate::cluster
