#include "http/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>

namespace refgate {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// Accepts connections on one socket for one worker.
class Acceptor : public std::enable_shared_from_this<Acceptor> {
 public:
  Acceptor(asio::io_context& ioc, tcp::acceptor acceptor, const ListenerOptions* opts,
           SessionRegistry* reg)
      : ioc_(ioc), acceptor_(std::move(acceptor)), timer_(ioc), opts_(opts), reg_(reg) {}

  void Accept() {
    acceptor_.async_accept(ioc_, [self = shared_from_this()](boost::system::error_code ec,
                                                             tcp::socket socket) {
      self->OnAccept(ec, std::move(socket));
    });
  }

  void Close() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    timer_.cancel();
  }

 private:
  void OnAccept(boost::system::error_code ec, tcp::socket socket) {
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
    std::make_shared<Session>(std::move(socket), opts_, reg_)->Start();
    Accept();
  }

  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer timer_;
  const ListenerOptions* opts_;
  SessionRegistry* reg_;
};

}  // namespace

struct Server::Worker {
  asio::io_context ioc{1};
  SessionRegistry registry;
  std::vector<std::shared_ptr<Acceptor>> acceptors;
  std::thread thread;
};

Server::Server(size_t io_threads) {
  for (size_t i = 0; i < io_threads + 1; ++i) workers_.push_back(std::make_unique<Worker>());
}

Server::~Server() {
  BeginShutdown();
  Drain(std::chrono::milliseconds(0));
}

Status Server::Bind(Worker& w, const HostPort& addr, const ListenerOptions* opts, HostPort* bound) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(addr.host, ec);
  if (ec) return Status::InvalidArgument("bad address " + addr.host);
  tcp::endpoint ep(ip, addr.port);
  tcp::acceptor a(w.ioc);
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.set_option(ReusePort(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(4096, ec);
  if (ec) return Status::IOError("listen on " + addr.ToString() + ": " + ec.message());
  *bound = addr;
  bound->port = a.local_endpoint().port();
  auto acc = std::make_shared<Acceptor>(w.ioc, std::move(a), opts, &w.registry);
  w.acceptors.push_back(acc);
  return Status::OK();
}

Status Server::ListenPublic(const HostPort& addr, ListenerOptions opts, HostPort* bound) {
  const ListenerOptions* o = &options_.emplace_back(opts);
  HostPort at = addr;
  for (size_t i = 0; i + 1 < workers_.size(); ++i) {
    Status s = Bind(*workers_[i], at, o, bound);
    if (!s.ok()) return s;
    at = *bound;  // port 0: the others join the port the first one got
  }
  return Status::OK();
}

Status Server::ListenAdmin(const HostPort& addr, ListenerOptions opts, HostPort* bound) {
  const ListenerOptions* o = &options_.emplace_back(opts);
  return Bind(*workers_.back(), addr, o, bound);
}

void Server::Start() {
  running_ = workers_.size();
  for (auto& w : workers_) {
    for (auto& a : w->acceptors) a->Accept();
    Worker* wp = w.get();
    w->thread = std::thread([this, wp] {
      wp->ioc.run();
      std::lock_guard lock(mu_);
      --running_;
      cv_.notify_all();
    });
  }
}

void Server::BeginShutdown() {
  if (shutting_down_.exchange(true)) return;
  for (auto& w : workers_) {
    Worker* wp = w.get();
    asio::post(wp->ioc, [wp] {
      wp->registry.stopping = true;
      for (auto& a : wp->acceptors) a->Close();
      wp->acceptors.clear();
      for (Session* s : wp->registry.sessions) s->Shutdown();
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
