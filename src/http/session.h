// Session: one HTTP/1.1 connection, in the manner of Beast's async server
// example: owned by its pending handlers (shared_from_this), do_X / on_X
// pairs, a deadline before every read and write, the parser re-created
// per request with its limits.
//
// Deadlines: a session keeps its own (a time point; none while its handler
// works), and its worker's registry sweeps them every tick (Server), closing
// the socket of each session past its deadline, as beast::tcp_stream's timer
// would. One timer per worker instead of one per operation: tcp_stream armed
// and cancelled an Asio timer around every read and write, which cost a heap
// insert and removal, a cancelled handler run and, when the earliest timer
// changed, a timerfd_settime call per operation.
//
// Limits (SPEC §2): a request line over 8 KiB gets 414, headers over 8 KiB
// 431, a body where the handler takes none (or any Transfer-Encoding) 400,
// a body over the handler's limit 413; each closes the connection, after
// draining what the client still sends for at most 2 s and 32 MiB. A new
// connection must send its full headers within header_timeout; so must a
// keep-alive one from its next request's first byte; an idle keep-alive
// connection closes after idle_timeout.
//
// Connection limit: a listener holds at most max_connections. A connection
// waiting for its first byte, or idle between requests, is "reusable": the
// registry keeps those oldest first, and a new connection past the limit
// takes the place of the oldest (nginx does the same). With nothing to
// reuse, the newcomer is shed: a 503 and a close (Shed).
//
// Thread-safety: a session lives on one worker thread; only Complete() is
// called from elsewhere, and it posts back.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <list>
#include <memory>
#include <optional>

#include "http/message.h"

namespace refgate {

struct ListenerOptions {
  Handler* handler = nullptr;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds io_timeout{30000};  // writes and body reads
  size_t max_connections = 0;                   // 0: no limit
  // Connections counted against max_connections; set by the Server.
  std::atomic<int64_t>* live = nullptr;
  // Metrics label of requests refused before their head parsed (after it,
  // the handler's Classify says).
  Route reject_route = Route::kAdminOther;
};

class Session;

// Beast's verb as the handlers' Method (kOther for the rest).
Method ToMethod(boost::beast::http::verb v);

// Points *req at the fields of a parsed request that handlers read. The views
// stay valid while `msg` lives and is not modified. (peer is left alone.)
// X-Forwarded-For lines are joined into req->joined_forwarded_for when
// there are several. (view_request.cc)
void ViewRequest(const boost::beast::http::request<boost::beast::http::string_body>& msg,
                 HttpRequest* req);

// The sessions of one worker thread: `busy` ones and `reusable` ones (see
// above), each list oldest first. Both lists and `stopping` are touched only
// on that thread; `ready` is where other threads hand back sessions whose
// handler completed (a lock-free stack), drained on the worker.
struct SessionRegistry {
  std::list<Session*> busy;
  std::list<Session*> reusable;
  bool stopping = false;
  std::atomic<Session*> ready{nullptr};

  // Closes the oldest reusable session and hands its place in the
  // listener's count to the caller. False if there is none.
  bool EvictOldest();
  // Closes every session whose deadline is at or before `now`.
  void Sweep(std::chrono::steady_clock::time_point now);
};

// A connection's socket, bound to its worker's io_context by
// type: Asio's type-erased any_io_executor costs a copy and a destroy per
// operation on the hot path.
using Executor = boost::asio::io_context::executor_type;
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;

// Refuses a connection past the limit: reads what the client has sent so
// far, answers 503 with Retry-After and closes, without blocking.
void Shed(Socket& socket);

class Session final : public std::enable_shared_from_this<Session>, private Completion {
 public:
  Session(Socket socket, const ListenerOptions* opts, SessionRegistry* reg);
  ~Session();

  void Start();
  // Stop after the request in hand; close at once if none is. Worker thread.
  void Shutdown();
  // Closes a reusable session now; its place is counted to another.
  void Evict();

 private:
  friend struct SessionRegistry;
  using Clock = std::chrono::steady_clock;

  void SetDeadline(std::chrono::milliseconds timeout, Clock::time_point now = Clock::now());
  void Expire();  // past the deadline: close
  void ReadHeader();
  void OnHeader(boost::beast::error_code ec, size_t n);
  void ReadBody();
  void OnBody(boost::beast::error_code ec);
  void WaitIdle(std::chrono::milliseconds timeout);
  void SetReusable(bool reusable);
  void OnIdle(boost::beast::error_code ec, size_t n);
  void Dispatch();
  void Complete(Outcome outcome) override;  // any outcome: the response goes out
  static void DrainReady(SessionRegistry* reg);
  void Write();
  void OnWrite(boost::beast::error_code ec);
  void Reject(int status);  // respond and close
  void Linger();            // half-close, drain (bounded in time and bytes), then Close
  void Drain();
  void Close();
  int LimitStatus() const;  // 414 or 431 for an over-long header block

  Socket socket_;
  Clock::time_point deadline_ = Clock::time_point::max();
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  const ListenerOptions* const opts_;
  SessionRegistry* const reg_;
  std::list<Session*>::iterator reg_it_;  // in reg_->busy or reg_->reusable
  bool reusable_ = false;
  bool counted_ = true;  // holds a place in opts_->live
  bool fresh_ = true;    // no byte received yet
  HttpRequest req_;
  HttpResponse res_;
  std::string out_;
  bool keep_alive_ = true;
  size_t lingered_ = 0;
  Route reject_route_ = Route::kAdminOther;  // label of a refusal of the request in hand
  std::shared_ptr<Session> pending_self_;    // held while a handler completes elsewhere
  Session* ready_next_ = nullptr;            // link in SessionRegistry::ready
  // Also held meanwhile: with no I/O pending, the worker's io_context would
  // otherwise run out of work (at shutdown) before the completion arrives.
  std::optional<boost::asio::executor_work_guard<Executor>> pending_work_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace refgate
