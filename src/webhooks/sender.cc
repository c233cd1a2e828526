#include "webhooks/sender.h"

#include <openssl/hmac.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

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

// The exchange on a connected (and, for TLS, handshaken) stream.
template <typename Stream>
asio::awaitable<void> Exchange(Stream& stream, http::request<http::string_body>& req,
                               http::response<http::string_body>& res, beast::error_code& ec) {
  co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  beast::flat_buffer buffer;
  co_await http::async_read(stream, buffer, res, asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> Run(const Target& t, asio::ssl::context& tls, std::chrono::milliseconds limit,
                          http::request<http::string_body>& req,
                          http::response<http::string_body>& res, beast::error_code& ec) {
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  auto addrs = co_await resolver.async_resolve(t.host, t.port,
                                               asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  beast::ssl_stream<beast::tcp_stream> stream(ex, tls);
  beast::tcp_stream& tcp = beast::get_lowest_layer(stream);
  tcp.expires_after(limit);  // for every step below together
  co_await tcp.async_connect(addrs, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  if (!t.tls) co_return co_await Exchange(tcp, req, res, ec);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str())) {
    ec = beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
    co_return;
  }
  stream.set_verify_callback(asio::ssl::host_name_verification(t.host));
  co_await stream.async_handshake(asio::ssl::stream_base::client,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  co_await Exchange(stream, req, res, ec);
}

}  // namespace

Status Sender::Post(const Target& t, std::string_view body, std::string_view signature,
                    int* status) {
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
  http::response<http::string_body> res;
  beast::error_code ec;
  bool done = false;
  const std::chrono::milliseconds limit(timeout_ms_);
  asio::io_context ioc(1);  // destroyed first: a step cut off by run_for goes with it
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        co_await Run(t, tls_, limit, req, res, ec);
        done = true;
      },
      asio::detached);
  ioc.run_for(limit);  // the name's resolution included
  if (!done) return Status::IOError("no answer within " + std::to_string(timeout_ms_) + " ms");
  if (ec) return Status::IOError(ec.message());
  *status = res.result_int();
  return Status::OK();
}

}  // namespace refgate::webhooks
