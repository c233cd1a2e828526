// RedirectHandler: the public listener's Handler. Routes a request, looks
// the code up, decides the redirect and hands the click to the sink.
#pragma once

#include "clicklog/click_sink.h"
#include "http/message.h"
#include "redirect/redirect.h"
#include "store/code_store.h"

namespace refgate {

class RedirectHandler : public Handler {
 public:
  // `store` and `sink` must outlive the handler. Thread-safe.
  RedirectHandler(RedirectOptions opt, CodeStore* store, ClickSink* sink)
      : opt_(std::move(opt)), store_(store), sink_(sink) {}

  // No route takes a body. Refusals are counted as kPublicOther.
  RequestClass Classify(Method, std::string_view) const override {
    return {0, Route::kPublicOther};
  }
  void RenderRefusal(HttpResponse* res) const override;
  bool Handle(const HttpRequest& req, HttpResponse* res, Completion* done) override;

 private:
  const RedirectOptions opt_;
  CodeStore* const store_;
  ClickSink* const sink_;
};

}  // namespace refgate
