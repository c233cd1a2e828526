#include "cluster/log_shipper.h"

#include <fcntl.h>
#include <nats/nats.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <vector>

#include "clicklog/format.h"
#include "clicklog/reader.h"
#include "clicklog/retention.h"
#include "util/file_io.h"
#include "util/metrics.h"

namespace refgate::cluster {
namespace {

constexpr int64_t kRetryMs = 500;  // after a failure, before reading the stream again
constexpr int64_t kIdleMs = 20;    // between looks at a log with nothing new
constexpr int64_t kSaveMs = 1000;  // cluster/shipped is rewritten at most this often

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string MsgId(std::string_view node, uint64_t first, uint64_t last) {
  return std::string(node) + ":" + std::to_string(first) + "-" + std::to_string(last);
}

// The last seq of a message id of `node`; false when it is not one.
bool ParseMsgId(std::string_view id, std::string_view node, uint64_t* first, uint64_t* last) {
  if (!id.starts_with(node) || id.size() <= node.size() || id[node.size()] != ':') return false;
  unsigned long long f = 0, l = 0;
  const std::string rest(id.substr(node.size() + 1));
  char tail = 0;
  if (std::sscanf(rest.c_str(), "%llu-%llu%c", &f, &l, &tail) != 2 || f == 0 || l < f) return false;
  *first = f;
  *last = l;
  return true;
}

}  // namespace

std::string LogSubject(std::string_view node_id) { return "refgate.log." + std::string(node_id); }

// Records of the log, as their bytes, one batch's worth.
struct LogShipper::Batch {
  std::string body, id;
  uint64_t first = 0, last = 0;
  size_t records = 0;
};

// Where in the log's files the next record to read is.
struct LogShipper::Cursor {
  std::string dir, name;  // the segment's file name ("": none open)
  uint64_t offset = 0;    // just past the last record taken or skipped
  int fd = -1;
  std::string buf;  // what Take read
  ~Cursor() {
    if (fd >= 0) close(fd);
  }
  // Opens the segment that holds `seq` (or the first one, if none does).
  Status Locate(uint64_t seq) {
    std::vector<std::pair<uint64_t, std::string>> segs;
    if (Status s = clicklog::ListSegments(dir, &segs); !s.ok() || segs.empty()) return s;
    size_t i = 0;
    while (i + 1 < segs.size() && segs[i + 1].first <= seq) ++i;
    return OpenSegment(segs[i].second);
  }
  Status OpenSegment(const std::string& segment) {
    if (fd >= 0) close(fd);
    name = segment;
    offset = 0;
    fd = open((dir + "/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? Status::OK() : Status::IOError(dir + "/" + name + ": cannot open");
  }
  // The segment after this one, if the log has one: true when it moved.
  bool NextSegment() {
    std::vector<std::pair<uint64_t, std::string>> segs;
    if (!clicklog::ListSegments(dir, &segs).ok()) return false;
    for (const auto& [first, file] : segs) {
      if (file > name) return OpenSegment(file).ok();
    }
    return false;
  }
  // Appends records with seq in [from, through] to *b, within its limits,
  // from this segment; moves past what it took or skipped. *at_end: the
  // segment holds nothing more now.
  Status Take(uint64_t from, uint64_t through, size_t max_records, size_t max_bytes, Batch* b,
              bool* at_end) {
    buf.resize(max_bytes + clicklog::kHeaderSize + clicklog::kMaxPayload);
    const ssize_t n = pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset));
    if (n < 0) return Status::IOError(dir + "/" + name + ": read failed");
    clicklog::SegmentParser parser(std::string_view(buf.data(), static_cast<size_t>(n)), name,
                                   nullptr, true);
    clicklog::Record r;
    uint64_t end = 0;
    *at_end = false;
    for (;;) {
      if (!parser.Next(&r)) {
        // The file's end, or the zeros the writer extends it with ahead
        // of itself (a sealed segment keeps them).
        const size_t past = parser.valid_end();
        const std::string_view read(buf.data(), static_cast<size_t>(n));
        *at_end = read.size() < buf.size() || read.find_first_not_of('\0', past) == read.npos;
        break;
      }
      if (r.seq > through) break;
      const size_t frame = clicklog::kHeaderSize + r.payload.size();
      if (r.seq >= from) {
        if (b->records >= max_records || (b->records > 0 && b->body.size() + frame > max_bytes)) {
          break;
        }
        b->body.append(buf.data() + r.offset, frame);
        if (b->first == 0) b->first = r.seq;
        b->last = r.seq;
        ++b->records;
      }
      end = r.offset + frame;
    }
    offset += end;
    return Status::OK();
  }
};

LogShipper::LogShipper(ShipOptions options, std::function<uint64_t()> durable_seq)
    : options_(std::move(options)),
      durable_seq_(std::move(durable_seq)),
      subject_(LogSubject(options_.node_id)) {
  // Before anything ships, so that no segment goes before it is shipped.
  const uint64_t saved = clicklog::ShippedThrough(options_.data_dir);
  if (saved == std::numeric_limits<uint64_t>::max()) {
    if (Status s = WritePosition(0); !s.ok()) {
      std::fprintf(stderr, "cluster: %s\n", s.ToString().c_str());
    }
  } else {
    saved_ = saved;
  }
  thread_ = std::thread([this] { Run(); });
}

LogShipper::~LogShipper() { Stop(); }

void LogShipper::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    wake_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

bool LogShipper::Pause(int64_t ms) {
  MutexLock lock(&mu_);
  const int64_t until = NowMs() + ms;
  while (!stopping_ && NowMs() < until) {
    wake_.WaitFor(&mu_, std::chrono::milliseconds(until - NowMs()));
  }
  return !stopping_;
}

void LogShipper::Refuse(const std::string& why) {
  std::fprintf(stderr, "cluster: log shipping refused: %s\n", why.c_str());
  refused_.store(true, std::memory_order_release);
}

void LogShipper::Run() {
  std::string reported;  // the last failure printed, not printed again in a row
  bool resumed = false;
  while (!refused() && Pause(0)) {
    Status s;
    bool idle = false;
    if (!nats_) s = Connect();
    if (s.ok() && !resumed) s = Resume(&resumed);
    if (s.ok() && resumed) s = ShipOne(&idle);
    SavePosition(false);
    if (!s.ok()) {
      resumed = false;  // read the stream again: a publish may have landed unacknowledged
      if (s.ToString() != reported) {
        reported = s.ToString();
        std::fprintf(stderr, "cluster: shipping the log: %s; retrying\n", reported.c_str());
      }
    } else {
      reported.clear();
    }
    if (!s.ok() && !Pause(kRetryMs)) break;
    if (s.ok() && idle && !Pause(kIdleMs)) break;
  }
  SavePosition(true);
}

Status EnsureLogStream(NatsConn* nats, const std::string& stream, int replicas) {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus ns = js_GetStreamInfo(&si, nats->js(), stream.c_str(), nullptr, &jerr);
  if (ns == NATS_NOT_FOUND) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const std::string all = "refgate.log.*";
    const char* subjects[] = {all.c_str()};
    cfg.Name = stream.c_str();
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = replicas;
    ns = js_AddStream(&si, nats->js(), &cfg, nullptr, &jerr);
  }
  jsStreamInfo_Destroy(si);
  return FromNats(ns, "stream " + stream);
}

Status LogShipper::Connect() {
  if (Status s = NatsConn::Open(options_.servers, options_.timeout_ms, &nats_); !s.ok()) return s;
  Status s = EnsureLogStream(nats_.get(), options_.stream, options_.replicas);
  if (!s.ok()) nats_.reset();
  return s;
}

Status LogShipper::LastMessage(Batch* out, uint64_t* seq, bool* found) {
  natsMsg* m = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus ns =
      js_GetLastMsg(&m, nats_->js(), options_.stream.c_str(), subject_.c_str(), nullptr, &jerr);
  *found = false;
  if (ns == NATS_NOT_FOUND) return Status::OK();
  Status s = FromNats(ns, "the last message of " + subject_);
  const char* id = nullptr;
  if (s.ok() && (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK ||
                 !ParseMsgId(id, options_.node_id, &out->first, &out->last))) {
    s = Status::Corruption(subject_ + " holds a message refgate did not send");
  }
  if (s.ok()) {
    out->id = id;
    out->body.assign(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
    *seq = natsMsg_GetSequence(m);
    *found = true;
  }
  natsMsg_Destroy(m);
  return s;
}

// Whether the stream's message holds this log's records, byte for byte:
// what this node (before a restart, or with an acknowledgment lost) sent,
// not another process with the same node_id.
Status LogShipper::Ours(const Batch& m, bool* ours) {
  *ours = false;
  if (m.last > durable_seq_()) return Status::OK();
  Cursor c;
  c.dir = options_.data_dir + "/clicks";
  if (Status s = c.Locate(m.first); !s.ok() || c.fd < 0) return s;
  Batch mine;
  for (bool at_end = false; mine.last < m.last && !at_end;) {
    if (Status s = c.Take(m.first, m.last, SIZE_MAX, m.body.size(), &mine, &at_end); !s.ok()) {
      return s;
    }
  }
  *ours = mine.body == m.body;
  return Status::OK();
}

Status LogShipper::Resume(bool* resumed) {
  *resumed = false;
  Batch last;
  uint64_t seq = 0;
  bool found = false, ours = true;
  Status s = LastMessage(&last, &seq, &found);
  if (s.IsCorruption()) {
    Refuse(s.message());
    return Status::OK();
  }
  if (s.ok() && found) s = Ours(last, &ours);
  if (!s.ok()) return s;
  if (!ours) {
    Refuse(subject_ + " holds records " + last.id + " this log did not write: another process " +
           "ships as node_id " + options_.node_id + ", or this is not its data directory");
    return Status::OK();
  }
  cursor_.reset();
  shipped_.store(found ? last.last : 0, std::memory_order_release);
  expect_ = found ? seq : 0;
  std::printf("cluster: log shipped through seq %llu\n",
              static_cast<unsigned long long>(shipped()));
  *resumed = true;
  return Status::OK();
}

Status LogShipper::ShipOne(bool* idle) {
  const uint64_t durable = durable_seq_(), shipped = this->shipped();
  CountLag(durable, shipped);
  if (shipped >= durable) {
    *idle = true;
    return Status::OK();
  }
  if (!cursor_) {
    cursor_ = std::make_unique<Cursor>();
    cursor_->dir = options_.data_dir + "/clicks";
    if (Status s = cursor_->Locate(shipped + 1); !s.ok()) return s;
  }
  Batch b;
  bool at_end = false;
  if (cursor_->fd >= 0) {
    Status s = cursor_->Take(shipped + 1, durable, options_.max_batch_records,
                             options_.max_batch_bytes, &b, &at_end);
    if (!s.ok()) return s;
  }
  if (b.records == 0) {
    // The records to ship are in a newer segment, or not readable yet.
    if (cursor_->fd < 0 || !at_end || !cursor_->NextSegment()) *idle = true;
    return Status::OK();
  }
  b.id = MsgId(options_.node_id, b.first, b.last);
  return Publish(b);
}

Status LogShipper::Publish(const Batch& b) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = b.id.c_str();
  po.ExpectLastSubjectSeq = expect_;
  po.ExpectNoMessage = expect_ == 0;
  jsPubAck* ack = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus ns = js_Publish(&ack, nats_->js(), subject_.c_str(), b.body.data(),
                             static_cast<int>(b.body.size()), &po, &jerr);
  if (ns == NATS_OK) {
    expect_ = ack->Sequence;
    shipped_.store(b.last, std::memory_order_release);
    GlobalMetrics().cluster_shipped_records.Add(b.records);
  }
  jsPubAck_Destroy(ack);
  if (ns == NATS_OK || !WrongLastSequence(ns)) return FromNats(ns, "publish " + b.id);
  // Another message came first on this node's subject: ours, sent before
  // and acknowledged too late, or another process's.
  bool resumed = false;
  if (Status s = Resume(&resumed); !s.ok()) return s;
  return Status::OK();
}

void LogShipper::CountLag(uint64_t durable, uint64_t shipped) {
  Metrics& m = GlobalMetrics();
  const int64_t now = NowMs();
  const uint64_t lag = durable > shipped ? durable - shipped : 0;
  if (lag == 0) behind_since_ms_ = 0;
  if (lag > 0 && behind_since_ms_ == 0) behind_since_ms_ = now;
  m.cluster_shipped_seq.store(static_cast<int64_t>(shipped), std::memory_order_relaxed);
  m.cluster_ship_lag_records.store(static_cast<int64_t>(lag), std::memory_order_relaxed);
  m.cluster_ship_lag_s.store(lag == 0 ? 0 : (now - behind_since_ms_) / 1000,
                             std::memory_order_relaxed);
}

void LogShipper::SavePosition(bool force) {
  const uint64_t shipped = this->shipped();
  const int64_t now = NowMs();
  if (shipped == saved_ || (!force && now - saved_at_ms_ < kSaveMs)) return;
  if (WritePosition(shipped).ok()) saved_ = shipped;
  saved_at_ms_ = now;
}

Status LogShipper::WritePosition(uint64_t seq) {
  const std::string path = options_.data_dir + "/" + clicklog::kShippedFile;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  return WriteFileAtomic(DefaultFileIo(), path, std::to_string(seq) + "\n");
}

}  // namespace refgate::cluster
