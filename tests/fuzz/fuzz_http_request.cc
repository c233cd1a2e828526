// Raw bytes through Beast's request parser (with the public listener's
// header limit) into the redirect handler over a real code store, then the
// response bytes: never a crash, and every header line the response carries
// is one line of printable text.
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "clicklog/click_sink.h"
#include "http/session.h"
#include "redirect/redirect_handler.h"

using namespace refgate;
namespace http = boost::beast::http;

namespace {

struct DropSink : ClickSink {
  bool Append(const ClickRecord&, Completion*) override { return false; }
  bool Healthy() const override { return true; }
};

struct World {
  std::unique_ptr<CodeStore> store;
  DropSink sink;
  std::unique_ptr<RedirectHandler> handler;
  World() {
    std::string dir =
        std::filesystem::temp_directory_path() / ("refgate-fuzz-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    if (!CodeStore::Open(dir, 1000, &store).ok()) std::abort();
    CodeRecord rec;
    rec.code = "Ab3xY9k";
    rec.referrer_id = "r";
    rec.target_url = "https://example.com/w";
    std::vector<Status> results;
    if (!store->Insert(std::span(&rec, 1), &results).ok()) std::abort();
    handler = std::make_unique<RedirectHandler>(RedirectOptions{}, store.get(), &sink);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(0);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_header_done()) return 0;
  HttpRequest req;
  ViewRequest(parser.get(), &req);  // the session's own mapping
  HttpResponse res;
  if (!world.handler->Handle(req, &res, nullptr)) std::abort();  // the sink never waits
  std::string out;
  SerializeResponse(res, req.method == Method::kHead, true, &out);
  std::string_view head(out);
  head = head.substr(0, head.find("\r\n\r\n"));
  for (unsigned char c : head) {
    if ((c < 0x20 && c != '\r' && c != '\n') || c == 0x7f) std::abort();
  }
  for (size_t i = 0; i < head.size(); ++i) {  // CR only as part of CRLF, LF only after CR
    if (head[i] == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n')) std::abort();
    if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) std::abort();
  }
  return 0;
}
