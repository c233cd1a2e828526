// One webhook POST (SPEC §7): its signature, its target and its exchange.
// HTTPS is verified against the system's CA store (OpenSSL's default
// paths) and the URL's host name; plain http only to a loopback host.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "refgate/status.h"

namespace refgate::webhooks {

// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">", one v1 per
// secret (two while rotating), as Stripe signs.
std::string Signature(int64_t unix_seconds, std::string_view body,
                      const std::vector<std::string>& secrets);

// Secrets from "a" or "a,b" (spaces around each trimmed); empty ones dropped.
std::vector<std::string> SplitSecrets(std::string_view list);

struct Target {
  bool tls = false;
  std::string host;  // as in the URL, brackets of an IPv6 literal removed
  std::string port;
  std::string path;  // with its query
};

// An https URL, or an http one to 127.0.0.1, [::1] or localhost; else why not.
Status ParseTarget(std::string_view url, Target* out);

class Sender {
 public:
  explicit Sender(int timeout_ms);
  // POSTs `body` with the signature; *status is the receiver's answer. An
  // error: no answer within timeout_ms (connect, TLS and exchange; not the
  // name's resolution), a refused connection or certificate, a malformed
  // response.
  Status Post(const Target& t, std::string_view body, std::string_view signature, int* status);

 private:
  const int timeout_ms_;
  boost::asio::ssl::context tls_;
};

}  // namespace refgate::webhooks
