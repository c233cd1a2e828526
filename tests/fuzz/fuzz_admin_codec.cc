// The admin API's JSON codec and validation on arbitrary bodies: whatever
// it accepts is a valid code record (allowed target, well-formed code and
// referrer), and it never crashes on the rest.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>

#include "admin/codec.h"
#include "admin/validate.h"
#include "redirect/location.h"

using namespace refgate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  boost::system::error_code ec;
  boost::json::value v =
      boost::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec || !v.is_object()) return 0;
  CodePolicy policy{"https://example.com/", {"example.com", "*.example.com"}, 302, "http://go"};
  for (CodeFields kind : {CodeFields::kCreate, CodeFields::kPatch}) {
    CodeRecord rec;  // a patch applies to a stored, valid record
    rec.referrer_id = "existing";
    rec.target_url = policy.default_target;
    if (ApplyCodeFields(v.as_object(), kind, policy, &rec)) continue;
    if (!CheckTargetUrl(rec.target_url, policy.allowed_hosts).empty()) std::abort();
    if (!rec.code.empty() && (!IsWellFormedCode(rec.code) || IsReservedCode(rec.code)))
      std::abort();
    if (!IsValidReferrerId(rec.referrer_id)) std::abort();
    (void)boost::json::serialize(CodeToJson(rec, policy));
  }
  return 0;
}
