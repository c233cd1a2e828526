// Session and Server over loopback TCP with a trivial handler: keep-alive,
// pipelining, the request limits (414, 431, 400, 413), Expect: 100-continue,
// the deadlines, the connection limit and shutdown. Every wait is on a
// condition (a response, a close); timeouts are bounds, never measured.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <string>

#include "http/server.h"

namespace refgate {
namespace {

using namespace std::chrono_literals;

constexpr size_t kBodyLimit = 16;  // of targets under /body; others take none

// Answers "<METHOD> <target>[ <body>]"; holds /hold until the test releases it.
class TestHandler : public Handler {
 public:
  RequestClass Classify(Method, std::string_view target) const override {
    RequestClass rc;
    rc.route = Route::kPublicOther;
    if (target.starts_with("/body")) rc.body_limit = kBodyLimit;
    return rc;
  }
  void RenderRefusal(HttpResponse* res) const override {
    res->content_type = "text/plain";
    res->body = "refused " + std::to_string(res->status);
  }
  bool Handle(const HttpRequest& req, HttpResponse* res, Completion* done) override {
    res->status = 200;
    res->route = Route::kPublicOther;
    res->content_type = "text/plain";
    res->body = std::string(req.method_name) + " " + std::string(req.target);
    if (!req.body.empty()) res->body += " " + std::string(req.body);
    std::lock_guard lock(mu_);
    ++handled_;
    if (req.target != "/hold") return true;
    held_ = done;
    cv_.notify_all();
    return false;
  }

  // Waits until a /hold request is in the handler.
  bool WaitHeld() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 20s, [&] { return held_ != nullptr; });
  }
  // Completes the held request, if any, from this thread.
  void Release() {
    Completion* done;
    {
      std::lock_guard lock(mu_);
      done = held_;
      held_ = nullptr;
    }
    if (done) done->Complete(Outcome::kOk);
  }
  int handled() {
    std::lock_guard lock(mu_);
    return handled_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  Completion* held_ = nullptr;
  int handled_ = 0;
};

struct Response {
  int status = 0;
  std::string head;  // status line and fields
  std::string body;
  bool Has(std::string_view line) const {
    return head.find("\r\n" + std::string(line) + "\r\n") != std::string::npos;
  }
};

// A blocking client socket; every receive gives up after 20 s (a bound for
// a broken build, not a time a test depends on).
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{20, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response: its head and Content-Length bytes of body (none for
  // a HEAD request). False if the connection ends first.
  bool Read(Response* r, bool head_request = false) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return false;
    }
    r->head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    if (!r->head.starts_with("HTTP/1.1 ") || r->head.size() < 12) return false;
    r->status = std::stoi(r->head.substr(9, 3));
    size_t length = 0;
    size_t cl = r->head.find("\r\nContent-Length: ");
    if (cl != std::string::npos) length = std::stoul(r->head.substr(cl + 18));
    if (head_request) length = 0;
    while (buf_.size() < length) {
      if (!Fill()) return false;
    }
    r->body = buf_.substr(0, length);
    buf_.erase(0, length);
    return true;
  }

  // True once the server has closed the connection (end of stream or a
  // reset); what came before the close is appended to *rest.
  bool WaitClosed(std::string* rest = nullptr) {
    if (rest) rest->append(buf_);
    buf_.clear();
    char chunk[65536];
    for (;;) {
      ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) return true;
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno == ECONNRESET;  // EAGAIN: the 20 s bound passed
      }
      if (rest) rest->append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  bool Fill() {
    char chunk[65536];
    for (;;) {
      ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buf_.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

std::string Get(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}

std::string Post(std::string_view target, std::string_view body, std::string_view extra = "") {
  return "POST " + std::string(target) +
         " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra) + "\r\n" + std::string(body);
}

class SessionTest : public testing::Test {
 protected:
  void Start(ListenerOptions opts = {}) {
    opts.handler = &handler_;
    opts.reject_route = Route::kPublicOther;
    server_ = std::make_unique<Server>(1);
    HostPort bound;
    ASSERT_TRUE(server_->ListenPublic({"127.0.0.1", 0}, opts, &bound).ok());
    port_ = bound.port;
    server_->Start();
  }
  void TearDown() override {
    handler_.Release();  // a test that failed while a request was held
    if (server_) {
      server_->BeginShutdown();
      EXPECT_TRUE(server_->Drain(20s));
    }
  }
  // One request on a new connection; its response.
  Response Once(const std::string& request) {
    Client c(port_);
    EXPECT_TRUE(c.connected());
    EXPECT_TRUE(c.Send(request));
    Response r;
    EXPECT_TRUE(c.Read(&r)) << request.substr(0, 80);
    return r;
  }
  // Sends `request` on a new connection and expects `status`, then a close.
  void ExpectRefused(const std::string& request, int status) {
    Client c(port_);
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.Send(request));
    Response r;
    ASSERT_TRUE(c.Read(&r)) << request.substr(0, 80);
    EXPECT_EQ(r.status, status) << r.head;
    EXPECT_EQ(r.body, "refused " + std::to_string(status));
    EXPECT_TRUE(r.Has("Connection: close")) << r.head;
    std::string rest;
    EXPECT_TRUE(c.WaitClosed(&rest));
    EXPECT_EQ(rest, "");
  }

  TestHandler handler_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

TEST_F(SessionTest, AnswersRequestsOnOneKeptAliveConnection) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  for (const char* target : {"/a", "/b?x=1", "/c"}) {
    ASSERT_TRUE(c.Send(Get(target)));
    Response r;
    ASSERT_TRUE(c.Read(&r));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, std::string("GET ") + target);
    EXPECT_FALSE(r.Has("Connection: close")) << r.head;
  }
  EXPECT_EQ(handler_.handled(), 3);
}

TEST_F(SessionTest, PipelinedRequestsAreAnsweredInOrder) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Get("/1") + Post("/body", "abc") + Get("/3") + Get("/4")));
  for (const char* body : {"GET /1", "POST /body abc", "GET /3", "GET /4"}) {
    Response r;
    ASSERT_TRUE(c.Read(&r)) << body;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, body);
  }
}

TEST_F(SessionTest, ARequestSentByteByByteIsAnswered) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  for (char ch : Post("/body", "hello")) ASSERT_TRUE(c.Send(std::string_view(&ch, 1)));
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.body, "POST /body hello");
}

TEST_F(SessionTest, ConnectionCloseIsHonoured) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Get("/a", "Connection: close\r\n") + Get("/never")));
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.body, "GET /a");
  EXPECT_TRUE(r.Has("Connection: close")) << r.head;
  std::string rest;
  EXPECT_TRUE(c.WaitClosed(&rest));
  EXPECT_EQ(rest, "");  // the pipelined request after it is not answered
  EXPECT_EQ(handler_.handled(), 1);
}

TEST_F(SessionTest, AnHttp10RequestWithoutKeepAliveIsClosedAfterItsAnswer) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("GET /old HTTP/1.0\r\n\r\n"));
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.body, "GET /old");
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(SessionTest, AHeadAnswerHasTheLengthButNoBody) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("HEAD /h HTTP/1.1\r\n\r\n" + Get("/next")));
  Response head;
  ASSERT_TRUE(c.Read(&head, /*head_request=*/true));
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.Has("Content-Length: 7")) << head.head;  // "HEAD /h"
  // Had a body followed, it would be read as the next response.
  Response next;
  ASSERT_TRUE(c.Read(&next));
  EXPECT_EQ(next.body, "GET /next");
}

TEST_F(SessionTest, ARequestLineAtTheLimitIsAnswered) {
  Start();
  std::string target = "/" + std::string(8191, 'a');  // 8192 bytes
  Response r = Once(Get(target));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET " + target);
}

TEST_F(SessionTest, ATargetOverTheLimitIs414AndCloses) {
  Start();
  ExpectRefused(Get("/" + std::string(8192, 'a')), 414);  // 8193 bytes
}

TEST_F(SessionTest, AFarLongerRequestLineIs414AndCloses) {
  Start();
  // Past the whole header limit: Beast gives up before it has the target.
  ExpectRefused(Get("/" + std::string(40000, 'a')), 414);
}

TEST_F(SessionTest, HeaderFieldsOfExactlyTheLimitAreAnswered) {
  Start();
  // Fields and the blank line after them: 8192 bytes, the limit itself.
  std::string req = "GET /f HTTP/1.1\r\nX: " + std::string(8192 - 3 - 2 - 2, 'v') + "\r\n\r\n";
  Response r = Once(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /f");
}

TEST_F(SessionTest, HeaderFieldsOverTheLimitAre431AndClose) {
  Start();
  ExpectRefused("GET /f HTTP/1.1\r\nX: " + std::string(8192 - 3 - 2 - 2 + 1, 'v') + "\r\n\r\n",
                431);
}

TEST_F(SessionTest, ManyHeaderFieldsPastTheWholeLimitAre431) {
  Start();
  std::string req = "GET /f HTTP/1.1\r\n";
  for (int i = 0; i < 2000; ++i) req += "X-Field-" + std::to_string(i) + ": value\r\n";
  ExpectRefused(req + "\r\n", 431);
}

TEST_F(SessionTest, AMalformedRequestIs400AndCloses) {
  Start();
  ExpectRefused("NOT AN HTTP REQUEST\r\n\r\n", 400);
}

TEST_F(SessionTest, ABodyWhereTheHandlerTakesNoneIs400) {
  Start();
  ExpectRefused(Post("/nobody", "abc"), 400);
  EXPECT_EQ(handler_.handled(), 0);
}

TEST_F(SessionTest, AnEmptyBodyIsFineWhereTheHandlerTakesNone) {
  Start();
  Response r = Once(Post("/nobody", ""));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /nobody");
}

TEST_F(SessionTest, AnyTransferEncodingIs400) {
  Start();
  ExpectRefused(
      "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      400);
  ExpectRefused("GET /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
  EXPECT_EQ(handler_.handled(), 0);
}

TEST_F(SessionTest, ABodyAtTheLimitIsAnswered) {
  Start();
  std::string body(kBodyLimit, 'b');
  Response r = Once(Post("/body", body));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /body " + body);
}

TEST_F(SessionTest, ABodyOverTheLimitIs413) {
  Start();
  ExpectRefused(Post("/body", std::string(kBodyLimit + 1, 'b')), 413);
  EXPECT_EQ(handler_.handled(), 0);
}

TEST_F(SessionTest, ARefusedBodyIsDrainedSoTheClientReadsTheAnswer) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  // The client sends all of its body before it reads: the answer is there
  // for it, not lost to a reset.
  ASSERT_TRUE(c.Send(Post("/body", std::string(256 << 10, 'b'))));
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(SessionTest, ExpectContinueGets100BeforeTheBody) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(
      "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  Response cont;
  ASSERT_TRUE(c.Read(&cont));
  EXPECT_EQ(cont.status, 100);
  ASSERT_TRUE(c.Send("hello"));
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /body hello");
}

TEST_F(SessionTest, ExpectContinueOverTheLimitIs413WithoutAContinue) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(
      "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n"));
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(SessionTest, ANewConnectionThatSendsNothingIsClosedAtTheHeaderTimeout) {
  ListenerOptions o;
  o.header_timeout = 50ms;
  Start(o);
  Client c(port_);
  ASSERT_TRUE(c.connected());
  std::string rest;
  EXPECT_TRUE(c.WaitClosed(&rest));
  EXPECT_EQ(rest, "");  // no answer, just the close
  EXPECT_EQ(handler_.handled(), 0);
}

TEST_F(SessionTest, AnUnfinishedHeaderIsClosedAtTheHeaderTimeout) {
  ListenerOptions o;
  o.header_timeout = 50ms;
  Start(o);
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("GET /slow HTTP/1.1\r\nHost: t\r\n"));
  std::string rest;
  EXPECT_TRUE(c.WaitClosed(&rest));
  EXPECT_EQ(rest, "");
  EXPECT_EQ(handler_.handled(), 0);
}

TEST_F(SessionTest, AKeptAliveConnectionMustFinishItsNextHeaderInTime) {
  ListenerOptions o;
  o.header_timeout = 1500ms;  // long enough for the first request on a loaded machine
  o.idle_timeout = 60s;       // far longer: only the header deadline can close it
  Start(o);
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Get("/first")));
  Response r;
  ASSERT_TRUE(c.Read(&r));
  ASSERT_TRUE(c.Send("GET /second HTTP/1.1\r\n"));  // and never the rest
  std::string rest;
  EXPECT_TRUE(c.WaitClosed(&rest));
  EXPECT_EQ(rest, "");
  EXPECT_EQ(handler_.handled(), 1);
}

TEST_F(SessionTest, AnIdleKeptAliveConnectionIsClosedAtTheIdleTimeout) {
  ListenerOptions o;
  o.idle_timeout = 50ms;
  Start(o);
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Get("/a")));
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_FALSE(r.Has("Connection: close"));
  std::string rest;
  EXPECT_TRUE(c.WaitClosed(&rest));
  EXPECT_EQ(rest, "");
}

TEST_F(SessionTest, ABodyThatStopsComingIsClosedAtTheIoTimeout) {
  ListenerOptions o;
  o.io_timeout = 50ms;
  Start(o);
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"));
  std::string rest;
  EXPECT_TRUE(c.WaitClosed(&rest));
  EXPECT_EQ(rest, "");
  EXPECT_EQ(handler_.handled(), 0);
}

TEST_F(SessionTest, PastTheLimitAConnectionWaitingForItsFirstByteMakesRoom) {
  ListenerOptions o;
  o.max_connections = 1;
  Start(o);
  Client idle(port_);
  ASSERT_TRUE(idle.connected());
  Client next(port_);  // accepted after `idle`: takes its place
  ASSERT_TRUE(next.connected());
  ASSERT_TRUE(next.Send(Get("/next")));
  Response r;
  ASSERT_TRUE(next.Read(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /next");
  std::string rest;
  EXPECT_TRUE(idle.WaitClosed(&rest));
  EXPECT_EQ(rest, "");
}

TEST_F(SessionTest, PastTheLimitWithNothingToReuseANewcomerGets503) {
  ListenerOptions o;
  o.max_connections = 1;
  Start(o);
  Client busy(port_);
  ASSERT_TRUE(busy.connected());
  ASSERT_TRUE(busy.Send(Get("/hold", "Connection: close\r\n")));
  ASSERT_TRUE(handler_.WaitHeld());
  {
    Client shed(port_);
    ASSERT_TRUE(shed.connected());
    Response r;
    ASSERT_TRUE(shed.Read(&r));
    EXPECT_EQ(r.status, 503);
    EXPECT_TRUE(r.Has("Retry-After: 1")) << r.head;
    EXPECT_TRUE(shed.WaitClosed());
  }
  handler_.Release();
  Response r;
  ASSERT_TRUE(busy.Read(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /hold");
  ASSERT_TRUE(busy.WaitClosed());
  // Its place is free again.
  Response again = Once(Get("/again"));
  EXPECT_EQ(again.status, 200);
}

TEST_F(SessionTest, ShutdownClosesIdleConnectionsAndFinishesTheRequestInHand) {
  Start();
  Client idle(port_);
  ASSERT_TRUE(idle.connected());
  ASSERT_TRUE(idle.Send(Get("/a")));
  Response first;
  ASSERT_TRUE(idle.Read(&first));
  Client busy(port_);
  ASSERT_TRUE(busy.connected());
  ASSERT_TRUE(busy.Send(Get("/hold")));
  ASSERT_TRUE(handler_.WaitHeld());

  server_->BeginShutdown();
  EXPECT_TRUE(idle.WaitClosed());
  // No new connections once the idle one is closed: the acceptor went first.
  Client late(port_);
  EXPECT_FALSE(late.connected());

  handler_.Release();
  Response r;
  ASSERT_TRUE(busy.Read(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /hold");
  EXPECT_TRUE(r.Has("Connection: close")) << r.head;  // kept alive no longer
  EXPECT_TRUE(busy.WaitClosed());
  EXPECT_TRUE(server_->Drain(20s));
}

TEST_F(SessionTest, AHandlerMayCompleteFromAnotherThread) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Get("/hold")));
  ASSERT_TRUE(handler_.WaitHeld());
  std::thread other([&] { handler_.Release(); });
  other.join();
  Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.body, "GET /hold");
  // The connection carries on.
  ASSERT_TRUE(c.Send(Get("/after")));
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.body, "GET /after");
}

}  // namespace
}  // namespace refgate
