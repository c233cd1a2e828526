#include "webhooks/sender.h"

#include <openssl/hmac.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace refgate::webhooks {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

std::string Signature(int64_t unix_seconds, std::string_view body,
                      const std::vector<std::string>& secrets) {
  const std::string t = std::to_string(unix_seconds);
  std::string signed_text = t + "." + std::string(body);
  std::string out = "t=" + t;
  static constexpr char kHex[] = "0123456789abcdef";
  for (const std::string& secret : secrets) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), mac, &len);
    out += ",v1=";
    for (unsigned int i = 0; i < len; ++i) {
      out += kHex[mac[i] >> 4];
      out += kHex[mac[i] & 15];
    }
  }
  return out;
}

std::vector<std::string> SplitSecrets(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view s = list.substr(0, comma);
    list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    if (!s.empty()) out.emplace_back(s);
  }
  return out;
}

Status ParseTarget(std::string_view url, Target* out) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) return Status::InvalidArgument("not an absolute URL");
  if (u->has_userinfo()) return Status::InvalidArgument("must not carry credentials");
  const std::string scheme = u->scheme();
  out->tls = scheme == "https";
  out->host = u->host_address();
  if (out->host.empty()) return Status::InvalidArgument("has no host");
  const bool loopback = out->host == "127.0.0.1" || out->host == "::1" || out->host == "localhost";
  if (!out->tls && !(scheme == "http" && loopback)) {
    return Status::InvalidArgument("must be https (or http to a loopback host)");
  }
  out->port = u->has_port() ? std::string(u->port()) : (out->tls ? "443" : "80");
  out->path = u->encoded_path().empty() ? "/" : std::string(u->encoded_path());
  if (u->has_query()) out->path += "?" + std::string(u->encoded_query());
  return Status::OK();
}

Sender::Sender(int timeout_ms) : timeout_ms_(timeout_ms), tls_(asio::ssl::context::tls_client) {
  tls_.set_default_verify_paths();
  tls_.set_verify_mode(asio::ssl::verify_peer);
}

namespace {

// Shuts a socket down at a deadline, so that the blocking reads and writes
// on it return: one thread per attempt, for attempts are few.
class Watchdog {
 public:
  Watchdog(int fd, std::chrono::steady_clock::time_point deadline)
      : thread_([this, fd, deadline] {
          std::unique_lock lock(mu_);
          if (!cv_.wait_until(lock, deadline, [&] { return done_; })) {
            fired_ = true;
            ::shutdown(fd, SHUT_RDWR);
          }
        }) {}
  // True when the deadline came first.
  bool Finish() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    return fired_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false, fired_ = false;
  std::thread thread_;
};

template <typename Stream>
void Exchange(Stream& stream, const http::request<http::string_body>& req,
              http::response<http::string_body>* res, beast::error_code& ec) {
  http::write(stream, req, ec);
  if (ec) return;
  beast::flat_buffer buffer;
  http::read(stream, buffer, *res, ec);
}

}  // namespace

// Connecting is asynchronous (so that run_for bounds it); the exchange
// after it blocks, bounded by a Watchdog. Synchronous Beast is a fraction
// of the asynchronous one's compile time, and deliveries are one at a time.
Status Sender::Post(const Target& t, std::string_view body, std::string_view signature,
                    int* status) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  http::request<http::string_body> req{http::verb::post, t.path, 11};
  // RFC 9110 §7.2: an IPv6 literal in brackets, the port unless the scheme's.
  std::string host = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
  if (t.port != (t.tls ? "443" : "80")) host += ":" + t.port;
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "refgate-webhooks/" REFGATE_VERSION);
  req.set(http::field::content_type, "application/json");
  req.set("Refgate-Signature", signature);
  req.body() = body;
  req.prepare_payload();

  asio::io_context ioc(1);
  beast::error_code ec;
  auto addrs = tcp::resolver(ioc).resolve(t.host, t.port, ec);
  if (ec) return Status::IOError("resolving " + t.host + ": " + ec.message());
  asio::ssl::stream<tcp::socket> stream(ioc, tls_);
  tcp::socket& socket = stream.next_layer();
  bool connected = false;
  asio::async_connect(socket, addrs, [&](beast::error_code e, const tcp::endpoint&) {
    ec = e;
    connected = true;
  });
  ioc.run_until(deadline);
  if (!connected) return Status::IOError("no connection within the timeout");
  if (ec) return Status::IOError("connecting: " + ec.message());

  http::response<http::string_body> res;
  Watchdog dog(socket.native_handle(), deadline);
  if (!t.tls) {
    Exchange(socket, req, &res, ec);
  } else if (!SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str())) {
    ec = beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
  } else {
    stream.set_verify_callback(asio::ssl::host_name_verification(t.host));
    stream.handshake(asio::ssl::stream_base::client, ec);
    if (!ec) Exchange(stream, req, &res, ec);
  }
  if (dog.Finish()) return Status::IOError("no answer within the timeout");
  if (ec) return Status::IOError(ec.message());
  *status = res.result_int();
  return Status::OK();
}

}  // namespace refgate::webhooks
