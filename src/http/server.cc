#include "http/server.h"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <optional>

namespace refgate {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Where an accepted connection goes: a worker's io_context and registry.
struct Target {
  asio::io_context* ioc;
  SessionRegistry* registry;
};

// Accepts connections on one socket and deals them to the targets in turn,
// so every worker gets the same number of connections. (SO_REUSEPORT
// hashing gave one of two workers 60% of 64 connections, and that worker
// became the bottleneck.)
class Acceptor : public std::enable_shared_from_this<Acceptor> {
 public:
  Acceptor(asio::io_context& ioc, tcp::acceptor acceptor, const ListenerOptions* opts,
           std::vector<Target> targets)
      : acceptor_(std::move(acceptor)), timer_(ioc), opts_(opts), targets_(std::move(targets)) {}

  void Accept() {
    const Target& t = targets_[next_++ % targets_.size()];
    // The socket is bound to the target's io_context from the start.
    acceptor_.async_accept(
        *t.ioc, [self = shared_from_this(), t](boost::system::error_code ec, Socket socket) {
          self->OnAccept(ec, std::move(socket), t);
        });
  }

  void Close() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    timer_.cancel();
  }

 private:
  void OnAccept(boost::system::error_code ec, Socket socket, Target t) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors or memory: back off briefly rather than spin.
      std::fprintf(stderr, "refgate: accept: %s\n", ec.message().c_str());
      timer_.expires_after(std::chrono::milliseconds(50));
      timer_.async_wait([self = shared_from_this()](boost::system::error_code e) {
        if (!e) self->Accept();
      });
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    // Only this thread adds to the count, so a place taken here is never
    // more than the limit; at the limit the worker decides (it owns the
    // reusable sessions it may evict).
    bool counted = opts_->max_connections == 0 || opts_->live->load(std::memory_order_relaxed) <
                                                      static_cast<int64_t>(opts_->max_connections);
    if (counted) opts_->live->fetch_add(1, std::memory_order_relaxed);
    // The session lives on its worker's thread: start it there.
    asio::post(*t.ioc, [s = std::move(socket), opts = opts_, t, counted]() mutable {
      if (t.registry->stopping) {  // shutting down: drop it
        if (counted) opts->live->fetch_sub(1, std::memory_order_relaxed);
        return;
      }
      if (!counted && !t.registry->EvictOldest()) return Shed(s);
      std::make_shared<Session>(std::move(s), opts, t.registry)->Start();
    });
    Accept();
  }

  tcp::acceptor acceptor_;
  asio::steady_timer timer_;
  const ListenerOptions* opts_;
  std::vector<Target> targets_;
  size_t next_ = 0;
};

}  // namespace

struct Server::Worker {
  // Declared first, destroyed last: handlers the io_context destroys may
  // hold sessions, and a session unregisters itself when destroyed.
  SessionRegistry registry;
  asio::io_context ioc{1};
  // Keeps run() going while the worker has no connection: it may have no
  // acceptor of its own. Dropped at shutdown.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::shared_ptr<Acceptor>> acceptors;
  // Sweeps the registry's deadlines every tick (Session).
  asio::steady_timer sweep{ioc};
  std::thread thread;

  void Sweep(std::chrono::milliseconds tick) {
    sweep.expires_after(tick);
    sweep.async_wait([this, tick](boost::system::error_code ec) {
      if (ec) return;
      registry.Sweep(std::chrono::steady_clock::now());
      // Once stopping, the last session gone, the worker may run out of work.
      if (registry.stopping && registry.busy.empty() && registry.reusable.empty()) return;
      Sweep(tick);
    });
  }
};

namespace {

// Deadlines are kept to within an eighth of the shortest timeout, and at
// least every 250 ms: a few wake-ups a second per worker, whatever the load.
std::chrono::milliseconds SweepTick(const std::deque<ListenerOptions>& options) {
  std::chrono::milliseconds shortest(2000);  // Session::Linger's deadline
  for (const ListenerOptions& o : options) {
    shortest = std::min({shortest, o.header_timeout, o.idle_timeout, o.io_timeout});
  }
  return std::clamp(shortest / 8, std::chrono::milliseconds(10), std::chrono::milliseconds(250));
}

}  // namespace

Server::Server(size_t io_threads) {
  for (size_t i = 0; i < io_threads + 1; ++i) workers_.push_back(std::make_unique<Worker>());
}

Server::~Server() {
  BeginShutdown();
  Drain(std::chrono::milliseconds(0));
}

Status Server::Bind(Worker& w, const HostPort& addr, const ListenerOptions* opts,
                    std::vector<Worker*> targets, HostPort* bound) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(addr.host, ec);
  if (ec) return Status::InvalidArgument("bad address " + addr.host);
  tcp::endpoint ep(ip, addr.port);
  tcp::acceptor a(w.ioc);
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(4096, ec);
  if (ec) return Status::IOError("listen on " + addr.ToString() + ": " + ec.message());
  *bound = addr;
  bound->port = a.local_endpoint().port();
  std::vector<Target> t;
  for (Worker* tw : targets) t.push_back({&tw->ioc, &tw->registry});
  auto acc = std::make_shared<Acceptor>(w.ioc, std::move(a), opts, std::move(t));
  w.acceptors.push_back(acc);
  return Status::OK();
}

Status Server::ListenPublic(const HostPort& addr, ListenerOptions opts, HostPort* bound) {
  opts.live = &live_.emplace_back(0);
  const ListenerOptions* o = &options_.emplace_back(opts);
  std::vector<Worker*> io;
  for (size_t i = 0; i + 1 < workers_.size(); ++i) io.push_back(workers_[i].get());
  return Bind(*workers_[0], addr, o, io, bound);
}

Status Server::ListenAdmin(const HostPort& addr, ListenerOptions opts, HostPort* bound) {
  opts.live = &live_.emplace_back(0);
  const ListenerOptions* o = &options_.emplace_back(opts);
  return Bind(*workers_.back(), addr, o, {workers_.back().get()}, bound);
}

void Server::Start() {
  running_ = workers_.size();
  const std::chrono::milliseconds tick = SweepTick(options_);
  for (auto& w : workers_) {
    w->work.emplace(w->ioc.get_executor());
    for (auto& a : w->acceptors) a->Accept();
    w->Sweep(tick);
    Worker* wp = w.get();
    w->thread = std::thread([this, wp] {
      wp->ioc.run();
      std::lock_guard lock(mu_);
      --running_;
      cv_.notify_all();
    });
  }
}

void Server::RunOnAdmin(std::function<void()> f) { asio::post(workers_.back()->ioc, std::move(f)); }

void Server::BeginShutdown() {
  if (shutting_down_.exchange(true)) return;
  for (auto& w : workers_) {
    Worker* wp = w.get();
    asio::post(wp->ioc, [wp] {
      wp->registry.stopping = true;
      wp->work.reset();
      for (auto& a : wp->acceptors) a->Close();
      wp->acceptors.clear();
      for (auto* list : {&wp->registry.busy, &wp->registry.reusable}) {
        for (Session* s : *list) s->Shutdown();
      }
    });
  }
}

bool Server::Drain(std::chrono::milliseconds timeout) {
  bool clean;
  {
    std::unique_lock lock(mu_);
    clean = cv_.wait_for(lock, timeout, [this] { return running_ == 0; });
  }
  for (auto& w : workers_) w->ioc.stop();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  return clean;
}

}  // namespace refgate
