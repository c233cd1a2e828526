// JSON <-> CodeRecord for the admin API, with validation.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "admin/validate.h"
#include "refgate/code_record.h"

namespace refgate {

struct CodePolicy {
  std::string default_target;
  std::vector<std::string> allowed_hosts;  // effective: never empty
  int default_status = 302;
  std::string short_base;  // "http://127.0.0.1:8080", no trailing slash
};

enum class CodeFields { kCreate, kPatch };

// Applies a create or patch body to *rec, validating every field. Create
// takes referrer_id (required), code, target_url, campaign, utm,
// redirect_status, expires_at; patch takes those after code plus status.
// An unknown or misplaced field is an error naming it. On create, *rec
// should be default-constructed; its target defaults to the policy's.
std::optional<ApiError> ApplyCodeFields(const boost::json::object& body, CodeFields kind,
                                        const CodePolicy& policy, CodeRecord* rec);

boost::json::object CodeToJson(const CodeRecord& rec, const CodePolicy& policy);
// The code's short link on the public listener.
std::string ShortUrl(const CodeRecord& rec, const CodePolicy& policy);

std::string ErrorToJson(const ApiError& e);

}  // namespace refgate
