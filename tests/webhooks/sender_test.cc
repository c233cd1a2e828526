// The webhook's signature (checked against Python's hmac, which the e2e
// receiver uses too), its target and its secrets.
#include "webhooks/sender.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace refgate::webhooks {
namespace {

TEST(Signature, IsHmacSha256OfTimeDotBodyOneV1PerSecret) {
  const std::string body = R"({"id":"wh_1"})";
  // python3: hmac.new(secret, b"1700000000." + body, hashlib.sha256).hexdigest()
  EXPECT_EQ(Signature(1700000000, body, {"whsec_a", "whsec_b"}),
            "t=1700000000,"
            "v1=24e0f751dbb9de06e77707f4c2f719cd5a232caec211f8c1a706c157247addad,"
            "v1=73f55fa42c1459921284546cd8ff04c506c2074408fd1adb22802586883fb05e");
  EXPECT_EQ(Signature(1700000000, body, {"whsec_b"}),
            "t=1700000000,v1=73f55fa42c1459921284546cd8ff04c506c2074408fd1adb22802586883fb05e");
  EXPECT_NE(Signature(1700000001, body, {"whsec_b"}), Signature(1700000000, body, {"whsec_b"}));
}

TEST(SplitSecrets, TrimsAndDropsEmptyOnes) {
  EXPECT_EQ(SplitSecrets("a"), (std::vector<std::string>{"a"}));
  EXPECT_EQ(SplitSecrets(" new , old "), (std::vector<std::string>{"new", "old"}));
  EXPECT_EQ(SplitSecrets(",,"), std::vector<std::string>{});
  EXPECT_EQ(SplitSecrets(""), std::vector<std::string>{});
}

TEST(ParseTarget, HttpsAnywhereHttpOnlyToLoopback) {
  Target t;
  ASSERT_TRUE(ParseTarget("https://hooks.example.com/in?k=v", &t).ok());
  EXPECT_TRUE(t.tls);
  EXPECT_EQ(t.host, "hooks.example.com");
  EXPECT_EQ(t.port, "443");
  EXPECT_EQ(t.path, "/in?k=v");
  ASSERT_TRUE(ParseTarget("http://127.0.0.1:9000", &t).ok());
  EXPECT_FALSE(t.tls);
  EXPECT_EQ(t.port, "9000");
  EXPECT_EQ(t.path, "/");
  ASSERT_TRUE(ParseTarget("http://[::1]:9000/h", &t).ok());
  EXPECT_EQ(t.host, "::1");
  ASSERT_TRUE(ParseTarget("http://localhost/h", &t).ok());
  EXPECT_EQ(t.port, "80");
  for (const char* bad : {"http://example.com/h", "http://10.0.0.1/h", "ftp://127.0.0.1/",
                          "https://user:pw@example.com/", "/relative", "https://", "nonsense"}) {
    EXPECT_TRUE(ParseTarget(bad, &t).IsInvalidArgument()) << bad;
  }
}

// A loopback listener that reads one request and answers `reply`, or
// never answers when it is empty.
class OneShotServer {
 public:
  explicit OneShotServer(std::string reply) : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      std::string got;
      while (got.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
      }
      request_ = got;
      if (!reply_.empty()) {
        (void)!::write(c, reply_.data(), reply_.size());
      } else {
        while (::read(c, buf, sizeof buf) > 0) {  // until the client gives up
        }
      }
      ::close(c);
    });
  }
  ~OneShotServer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  Target target() const { return {false, "127.0.0.1", std::to_string(port_), "/in"}; }
  const std::string& request() const { return request_; }

 private:
  std::string reply_, request_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST(Sender, PostsTheSignedBodyAndReadsTheStatus) {
  std::string request;
  {
    OneShotServer server("HTTP/1.1 204 No Content\r\n\r\n");
    Sender sender(5000);
    int status = 0;
    ASSERT_TRUE(sender.Post(server.target(), "{}", "t=1,v1=ab", &status).ok());
    EXPECT_EQ(status, 204);
    request = server.request();
  }
  EXPECT_EQ(request.rfind("POST /in HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("Refgate-Signature: t=1,v1=ab\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(request.find("Host: 127.0.0.1:"), std::string::npos) << request;
}

TEST(Sender, AReceiverThatNeverAnswersIsAnErrorAtTheTimeout) {
  OneShotServer server("");
  Sender sender(300);
  int status = 0;
  Status s = sender.Post(server.target(), "{}", "t=1,v1=ab", &status);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("timeout"), std::string::npos) << s.ToString();
}

TEST(Sender, NoListenerIsAnError) {
  Target t{false, "127.0.0.1", "1", "/"};  // port 1: nothing listens there
  int status = 0;
  EXPECT_FALSE(Sender(1000).Post(t, "{}", "t=1,v1=ab", &status).ok());
}

}  // namespace
}  // namespace refgate::webhooks
