// Posts durable sale events at a steady rate to a refgate admin listener
// until the server goes away, then appends what it reached to a file.
// Started by bench/refgate_with_events.sh beside compare_nginx.py's refgate,
// so that the background events cost the machine what they cost refgate,
// not what a load generator in Python costs (about 0.25 core at 1,000/s).
//
//   refgate_events_pacer HOST PORT RATE OUT_FILE [CODE]
//
// With CODE, each sale names that referral code, so that compaction
// attributes it (and webhooks announce it: bench/refgate_with_webhooks.sh).
// Authenticates with compare_nginx.py's admin token; 16 keep-alive
// connections on one thread, request i sent at start + i/RATE.
#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr int kConnections = 16;
constexpr const char* kToken = "Bearer bench-admin-token-0123456789";  // compare_nginx.py's

struct Pacer {
  asio::io_context io;
  tcp::endpoint server;
  double rate = 1000;
  std::string code;  // "": the sales carry no evidence
  Clock::time_point start;
  uint64_t next = 0, created = 0, other = 0;

  Clock::time_point Due(uint64_t i) const {
    return start + std::chrono::nanoseconds(static_cast<int64_t>(i * 1e9 / rate));
  }
};

// One keep-alive connection: waits for the next request's time, posts it,
// reads the answer, and again. Any error means the server is gone.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(Pacer* p) : p_(p), socket_(p->io), timer_(p->io) {}

  void Start() {
    socket_.async_connect(p_->server, [self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return self->p_->io.stop();
      self->Next();
    });
  }

 private:
  void Next() {
    const uint64_t i = p_->next++;
    timer_.expires_at(p_->Due(i));
    timer_.async_wait([self = shared_from_this(), i](boost::system::error_code) { self->Send(i); });
  }

  void Send(uint64_t i) {
    req_ = {http::verb::post, "/api/v1/events", 11};
    req_.set(http::field::host, "127.0.0.1");
    req_.set(http::field::authorization, kToken);
    req_.set(http::field::content_type, "application/json");
    req_.body() = "{\"event_id\":\"bg-" + std::to_string(i) +
                  "\",\"type\":\"sale\",\"order_id\":\"o-" + std::to_string(i) +
                  "\",\"amount_minor\":4990,\"customer_id\":\"cus_" + std::to_string(i % 5000) +
                  (p_->code.empty() ? "" : "\",\"code\":\"" + p_->code) + "\"}";
    req_.prepare_payload();
    http::async_write(socket_, req_,
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        if (ec) return self->p_->io.stop();
                        self->Receive();
                      });
  }

  void Receive() {
    res_ = {};
    http::async_read(socket_, buffer_, res_,
                     [self = shared_from_this()](boost::system::error_code ec, size_t) {
                       if (ec) return self->p_->io.stop();
                       ++(self->res_.result_int() == 201 ? self->p_->created : self->p_->other);
                       self->Next();
                     });
  }

  Pacer* p_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  boost::beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

// Until the listener accepts: refgate_with_events.sh starts us first.
void WaitForServer(Pacer* p) {
  for (;;) {
    tcp::socket s(p->io);
    boost::system::error_code ec;
    s.connect(p->server, ec);
    if (!ec) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: %s HOST PORT RATE OUT_FILE [CODE]\n", argv[0]);
    return 2;
  }
  Pacer p;
  p.server = {asio::ip::make_address(argv[1]), static_cast<uint16_t>(std::atoi(argv[2]))};
  p.rate = std::atof(argv[3]);
  if (argc == 6) p.code = argv[5];
  WaitForServer(&p);
  p.start = Clock::now();
  std::vector<std::shared_ptr<Connection>> conns;
  for (int i = 0; i < kConnections; ++i) {
    conns.push_back(std::make_shared<Connection>(&p));
    conns.back()->Start();
  }
  p.io.run();
  const double secs = std::chrono::duration<double>(Clock::now() - p.start).count();
  FILE* out = std::fopen(argv[4], "a");
  if (out == nullptr) return 1;
  std::fprintf(out, "events 201: %llu other: %llu in %.1fs: %.0f/s\n",
               static_cast<unsigned long long>(p.created), static_cast<unsigned long long>(p.other),
               secs, p.created / secs);
  return std::fclose(out) == 0 ? 0 : 1;
}
