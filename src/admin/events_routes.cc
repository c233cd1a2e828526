// The events API's routes (SPEC §6): POST /api/v1/events answers once the
// event is durable (EventIndex), GET /api/v1/events/{event_id} reads it.
#include <boost/json/serialize.hpp>

#include "admin/admin_handler.h"
#include "admin/events_codec.h"
#include "admin/json_response.h"
#include "events/event_index.h"
#include "rollup/listing.h"
#include "util/time.h"

namespace refgate {
namespace json = boost::json;

namespace {

void Answer(events::Result result, const std::string& event_id, HttpResponse* res) {
  switch (result) {
    case events::Result::kRecorded:
    case events::Result::kReplayed: {
      json::object o;
      o["event_id"] = event_id;
      o["status"] = "recorded";
      o["replayed"] = result == events::Result::kReplayed;
      return JsonResponse(res, 201, json::serialize(o));
    }
    case events::Result::kConflict:
      return ErrorResponse(
          res, ApiError{409, "conflict", "event_id was recorded with another body: " + event_id,
                        "event_id"});
    case events::Result::kUnavailable:
      return UnavailableResponse(
          res, "the event could not be written to disk; retry with the same body");
  }
}

}  // namespace

void AdminHandler::PostEvent(const Call& c, HttpResponse* res) {
  if (events_.index == nullptr) return UnavailableResponse(res, "events are not enabled");
  json::object body;
  if (auto e = ParseObject(c.req.body, &body)) return ErrorResponse(res, *e);
  EventRecord ev;
  if (auto e = ParseEvent(body, events_.currency, NowMicros(), &ev)) return ErrorResponse(res, *e);
  Completion* done = c.done;
  auto later = [res, done, id = ev.event_id](events::Result r) {
    Answer(r, id, res);
    done->Complete(Outcome::kOk);
  };
  if (std::optional<events::Result> now = events_.index->Post(ev, std::move(later))) {
    return Answer(*now, ev.event_id, res);
  }
  *c.later = true;
}

void AdminHandler::GetEvent(const Call& c, HttpResponse* res) {
  if (events_.index == nullptr) return UnavailableResponse(res, "events are not enabled");
  EventRecord ev;
  Status s = events_.index->Get(c.arg, &ev);
  if (s.IsNotFound()) return ErrorResponse(res, 404, "not_found", "no such event");
  if (!s.ok()) return InternalErrorResponse(res, s);
  json::object o = EventToJson(ev);
  // Decided by the compaction job; until it has run over the event, pending.
  o["status"] = "pending";
  o["attribution"] = nullptr;
  o["reward_minor"] = nullptr;
  o["reason"] = nullptr;
  if (events_.rollups) {
    s = events_.rollups(
        [&](const StateDb* db) { return rollup::EventDecision(db, ev.event_id, &o); });
    if (!s.ok() && !s.IsNotFound()) return InternalErrorResponse(res, s);
  }
  JsonResponse(res, 200, json::serialize(o));
}

}  // namespace refgate
