#include "http/session.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <limits>

#include "util/metrics.h"

namespace refgate {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr size_t kLineLimit = 8192;    // request line
constexpr size_t kFieldsLimit = 8192;  // header fields
constexpr size_t kBufferLimit = 64 * 1024;
constexpr size_t kLingerLimit = 32 << 20;       // bytes drained after a refusal, at most
constexpr std::chrono::seconds kLingerTime{2};  // and for at most this long

IpAddress PeerOf(const Socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  IpAddress ip;
  if (ec) return ip;
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  if (a.is_v4()) {
    ip.v4 = true;
    ip.bytes[10] = ip.bytes[11] = 0xff;
    auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), ip.bytes.begin() + 12);
  } else {
    ip.bytes = a.to_v6().to_bytes();
  }
  return ip;
}

}  // namespace

Session::Session(Socket socket, const ListenerOptions* opts, SessionRegistry* reg)
    : socket_(std::move(socket)), buffer_(kBufferLimit), opts_(opts), reg_(reg) {
  req_.peer = PeerOf(socket_);
  reg_it_ = reg_->busy.insert(reg_->busy.end(), this);
  GlobalMetrics().open_connections.fetch_add(1, std::memory_order_relaxed);
}

Session::~Session() {
  (reusable_ ? reg_->reusable : reg_->busy).erase(reg_it_);
  if (counted_ && opts_->live) opts_->live->fetch_sub(1, std::memory_order_relaxed);
  GlobalMetrics().open_connections.fetch_sub(1, std::memory_order_relaxed);
}

void Session::SetReusable(bool reusable) {
  if (reusable == reusable_) return;
  auto& from = reusable_ ? reg_->reusable : reg_->busy;
  auto& to = reusable ? reg_->reusable : reg_->busy;
  to.splice(to.end(), from, reg_it_);  // the iterator stays valid
  reusable_ = reusable;
}

void SessionRegistry::Sweep(std::chrono::steady_clock::time_point now) {
  // busy first: an expired reusable session moves to the end of busy.
  for (auto* list : {&busy, &reusable}) {
    for (auto it = list->begin(); it != list->end();) {
      Session* s = *it++;
      if (s->deadline_ <= now) s->Expire();
    }
  }
}

void Session::SetDeadline(std::chrono::milliseconds timeout, Clock::time_point now) {
  deadline_ = now + timeout;
}

void Session::Expire() {
  deadline_ = Clock::time_point::max();
  SetReusable(false);  // no longer a candidate for eviction
  GlobalMetrics().connections_timed_out.Add(1);
  beast::error_code ec;
  socket_.close(ec);  // the pending operation ends with operation_aborted
}

bool SessionRegistry::EvictOldest() {
  if (reusable.empty()) return false;
  reusable.front()->Evict();
  return true;
}

void Session::Start() { WaitIdle(opts_->header_timeout); }

void Session::Shutdown() {
  if (reusable_) {
    beast::error_code ec;
    socket_.cancel(ec);
  }
  // Otherwise the response in hand goes out with Connection: close.
}

void Session::Evict() {
  SetReusable(false);  // not a candidate twice
  counted_ = false;
  GlobalMetrics().connections_evicted.Add(1);
  beast::error_code ec;
  socket_.close(ec);  // the pending read ends with operation_aborted
}

void Shed(Socket& socket) {
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
      "Connection: close\r\n\r\n";
  GlobalMetrics().connections_shed.Add(1);
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  // Unread input would turn the close into a reset that can overtake the 503.
  char sink[4096];
  for (int i = 0; i < 16 && !ec; ++i) socket.read_some(asio::buffer(sink), ec);
  socket.write_some(asio::buffer(kBusy.data(), kBusy.size()), ec);
  socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

void Session::ReadHeader() {
  SetReusable(false);
  reject_route_ = opts_->reject_route;
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(kLineLimit + kFieldsLimit + 4));
  // Beast checks Content-Length against this while parsing the header; the
  // per-route limit is applied in OnHeader, where the target is known.
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  http::async_read_header(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t n) { self->OnHeader(ec, n); });
}

int Session::LimitStatus() const {
  // Beast consumes the request line from the buffer once it has parsed it:
  // then the message holds the target, and the fields were too long.
  const auto& target = parser_->get().target();
  if (!target.empty()) return target.size() > kLineLimit ? 414 : 431;
  auto data = buffer_.data();
  std::string_view head(static_cast<const char*>(data.data()), data.size());
  size_t eol = head.find("\r\n");
  return (eol == std::string_view::npos || eol > kLineLimit) ? 414 : 431;
}

void Session::OnHeader(beast::error_code ec, size_t n) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return Reject(LimitStatus());
  }
  if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
      ec == asio::error::bad_descriptor || ec == asio::error::eof ||
      ec == asio::error::connection_reset) {
    return Close();
  }
  if (ec) return Reject(400);
  const auto& msg = parser_->get();
  size_t line = msg.method_string().size() + msg.target().size() + 12;  // " ", " HTTP/1.1\r\n"
  if (msg.target().size() > kLineLimit) return Reject(414);
  if (n > line + kFieldsLimit) return Reject(431);
  keep_alive_ = msg.keep_alive();
  bool has_te = msg.count(http::field::transfer_encoding) > 0;
  auto length = parser_->content_length();
  const RequestClass rc = opts_->handler->Classify(ToMethod(msg.method()), msg.target());
  reject_route_ = rc.route;        // a refusal from here on is counted to its route
  if (has_te) return Reject(400);  // no chunked bodies: no framing ambiguity
  if (length && *length > 0) {
    if (rc.body_limit == 0) return Reject(400);
    if (*length > rc.body_limit) return Reject(413);
    parser_->body_limit(rc.body_limit);
    return ReadBody();
  }
  Dispatch();
}

void Session::ReadBody() {
  SetDeadline(opts_->io_timeout);
  auto read = [self = shared_from_this()] {
    http::async_read(self->socket_, self->buffer_, *self->parser_,
                     [self](beast::error_code ec, size_t) { self->OnBody(ec); });
  };
  const auto& expect = parser_->get()[http::field::expect];
  if (!beast::iequals(expect, "100-continue")) return read();
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                    [self = shared_from_this(), read](beast::error_code ec, size_t) {
                      if (ec) return self->Close();
                      read();
                    });
}

void Session::OnBody(beast::error_code ec) {
  if (ec == http::error::body_limit) return Reject(413);
  if (ec) return Close();
  Dispatch();
}

void Session::Dispatch() {
  started_ = std::chrono::steady_clock::now();
  deadline_ = Clock::time_point::max();  // no I/O while the handler works
  ViewRequest(parser_->get(), &req_);
  res_.Reset();
  pending_self_ = shared_from_this();
  pending_work_.emplace(socket_.get_executor());
  if (opts_->handler->Handle(req_, &res_, this)) {
    pending_self_.reset();
    pending_work_.reset();
    Write();
  }
}

void Session::Complete(Outcome) {
  // Join the worker's ready list; only the push that finds it empty posts,
  // so a batch of clicks costs one post (and one wake-up) per worker.
  Session* old = reg_->ready.load(std::memory_order_relaxed);
  do {
    ready_next_ = old;
  } while (!reg_->ready.compare_exchange_weak(old, this, std::memory_order_release,
                                              std::memory_order_relaxed));
  if (old == nullptr) asio::post(socket_.get_executor(), [reg = reg_] { DrainReady(reg); });
}

void Session::DrainReady(SessionRegistry* reg) {
  Session* s = reg->ready.exchange(nullptr, std::memory_order_acquire);
  while (s) {
    Session* next = s->ready_next_;
    std::shared_ptr<Session> self = std::move(s->pending_self_);
    self->pending_work_.reset();
    self->Write();
    s = next;
  }
}

void Session::Write() {
  if (reg_->stopping) keep_alive_ = false;
  out_.clear();
  SerializeResponse(res_, req_.method == Method::kHead, keep_alive_, &out_);
  GlobalMetrics().CountRequest(res_.route, res_.status);
  const Clock::time_point now = Clock::now();  // one clock read for both
  if (res_.route == Route::kRedirect || res_.route == Route::kNotFound ||
      res_.route == Route::kGone) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - started_);
    GlobalMetrics().redirect_latency.Observe(static_cast<uint64_t>(us.count()));
  }
  SetDeadline(opts_->io_timeout, now);
  asio::async_write(
      socket_, asio::buffer(out_),
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
}

void Session::OnWrite(beast::error_code ec) {
  if (ec) return Close();
  if (res_.close) return Linger();
  if (!keep_alive_ || reg_->stopping) return Close();
  if (buffer_.size() > 0) {  // a pipelined request is already here
    SetDeadline(opts_->header_timeout);
    return ReadHeader();
  }
  WaitIdle(opts_->idle_timeout);
}

void Session::WaitIdle(std::chrono::milliseconds timeout) {
  SetReusable(true);
  SetDeadline(timeout);
  socket_.async_read_some(
      buffer_.prepare(4096),
      [self = shared_from_this()](beast::error_code ec, size_t n) { self->OnIdle(ec, n); });
}

void Session::OnIdle(beast::error_code ec, size_t n) {
  if (ec) return Close();
  buffer_.commit(n);
  // A new connection's header_timeout runs from its accept, a keep-alive
  // one's from the first byte of its next request.
  if (!fresh_) SetDeadline(opts_->header_timeout);
  fresh_ = false;
  ReadHeader();
}

void Session::Reject(int status) {
  res_.Reset();
  res_.status = status;
  res_.route = reject_route_;
  opts_->handler->RenderRefusal(&res_);
  res_.close = true;
  req_.method = Method::kOther;
  keep_alive_ = false;
  started_ = std::chrono::steady_clock::now();
  Write();
}

void Session::Linger() {
  // The client may still be sending a body we refused: stop sending and
  // drain what arrives for a while, so it reads our answer instead of a
  // reset. The while is kLingerTime in all, however the client drips, and
  // the drain at most kLingerLimit bytes.
  beast::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  SetDeadline(kLingerTime);
  Drain();
}

void Session::Drain() {
  buffer_.clear();
  socket_.async_read_some(buffer_.prepare(kBufferLimit / 2),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            self->lingered_ += n;
                            if (ec || self->lingered_ > kLingerLimit) return self->Close();
                            self->Drain();
                          });
}

void Session::Close() {
  beast::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  socket_.close(ec);
}

}  // namespace refgate
