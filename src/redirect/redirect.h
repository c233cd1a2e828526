// The redirect decision (SPEC §2): a pure function from a visit and the
// code's record to the response and the click record.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "redirect/attribution.h"
#include "redirect/location.h"
#include "refgate/click_record.h"
#include "refgate/code_record.h"
#include "util/click_id.h"

namespace refgate {

struct RedirectOptions {
  int default_status = 302;
  std::string not_found_url;  // "": 404
  std::string expired_url;    // "": 410
  LocationOptions location;
  CookieOptions cookie;
  std::string no_track_param = "rg_notrack";
  bool anonymize_ip = true;
  std::vector<Cidr> trusted_proxies;
  // Signs the click ids of live codes (util/click_id.h); must outlive the
  // options. Null: the Visit's click_id as drawn (tests).
  const ClickIdKey* click_key = nullptr;
};

// One request for a well-formed code.
struct Visit {
  bool head = false;
  std::string_view code;
  std::string_view query;  // raw, without '?'
  const HttpRequest* request = nullptr;
  int64_t now_us = 0;
  // Identifiers the caller drew, used only if needed (click_id: for
  // records of unknown and dead codes, or every record without click_key).
  std::string_view fresh_visitor_id;
  std::string_view click_id;
};

struct Decision {
  bool record = false;  // false: nothing goes to the click log (no-track)
  ClickRecord click;
};

// Fills *res (status, Location, cookie, caching) and *out with the click
// record for `visit`. `rec` is null for an unknown code. *out may hold an
// earlier decision: every field is set anew, and its strings keep their
// capacity, so a caller that reuses one allocates nothing for them.
void DecideRedirect(const RedirectOptions& opt, const Visit& visit, const CodeRecord* rec,
                    HttpResponse* res, Decision* out);

// The same, into a fresh Decision.
inline Decision DecideRedirect(const RedirectOptions& opt, const Visit& visit,
                               const CodeRecord* rec, HttpResponse* res) {
  Decision d;
  DecideRedirect(opt, visit, rec, res, &d);
  return d;
}

}  // namespace refgate
