// EventIndex's campaign rules and payouts (event_index.h).
#include "events/event_index.h"
#include "events/index_keys.h"
#include "util/coding.h"

namespace refgate::events {

void EventIndex::CampaignWrites(const clicklog::CampaignChange& c,
                                std::vector<StateDb::Write>* out) {
  std::string payload;
  clicklog::EncodeCampaignChange(c, &payload);
  out->push_back({CampaignKey(c.campaign), payload, c.deleted});
}

void EventIndex::PayoutWrites(const clicklog::Payout& p, std::string_view digest, int64_t paid,
                              std::vector<StateDb::Write>* out) {
  std::string payload, total;
  clicklog::EncodePayout(p, &payload);
  PutFixed64(&total, static_cast<uint64_t>(paid + p.amount_minor));
  std::string value;
  PutLengthPrefixed(&value, digest);
  out->push_back({PayoutKey(p.payout_id), value + payload});
  out->push_back({PaidKey(p.referrer_id), total});
}

Status EventIndex::GetCampaign(std::string_view campaign, clicklog::CampaignChange* c) const {
  std::string value;
  Status s = db_->Get(CampaignKey(campaign), &value);
  return s.ok() ? clicklog::DecodeCampaignChange(value, c) : s;
}

Status EventIndex::CommitCampaign(const clicklog::CampaignChange& c) {
  std::vector<StateDb::Write> writes;
  CampaignWrites(c, &writes);
  return db_->Commit(writes);
}

Status EventIndex::GetPayout(std::string_view payout_id, std::string* digest,
                             clicklog::Payout* p) const {
  std::string value;
  Status s = db_->Get(PayoutKey(payout_id), &value);
  if (!s.ok()) return s;
  std::string_view in = value, d;
  if (!GetLengthPrefixed(&in, &d)) return Status::Corruption("payout index entry");
  digest->assign(d);
  return clicklog::DecodePayout(in, p);
}

Status EventIndex::PaidTo(std::string_view referrer, int64_t* paid) const {
  std::string v;
  Status s = db_->Get(PaidKey(referrer), &v);
  *paid = s.ok() && v.size() == 8 ? static_cast<int64_t>(DecodeFixed64(v.data())) : 0;
  return s.ok() || s.IsNotFound() ? Status::OK() : s;
}

Status EventIndex::CommitPayout(const clicklog::Payout& p, std::string_view digest) {
  int64_t paid;
  if (Status s = PaidTo(p.referrer_id, &paid); !s.ok()) return s;
  std::vector<StateDb::Write> writes;
  PayoutWrites(p, digest, paid, &writes);
  return db_->Commit(writes);
}

std::string EventIndex::PayoutDigestOf(const clicklog::Payout& p) { return PayoutDigest(p); }

}  // namespace refgate::events
