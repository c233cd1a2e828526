#include "rollup/visitor_set.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cmath>

#include "util/coding.h"

namespace refgate {

uint64_t VisitorSet::Hash(std::string_view id) { return XXH3_64bits(id.data(), id.size()); }

void VisitorSet::AddToSketch(uint64_t h) const {
  size_t index = h >> (64 - kPrecision);
  uint64_t rest = (h << kPrecision) | (uint64_t{1} << (kPrecision - 1));  // bounds the rank
  uint8_t rank = static_cast<uint8_t>(std::countl_zero(rest) + 1);
  if (rank > registers_[index]) registers_[index] = rank;
}

void VisitorSet::ToSketch() const {
  registers_.assign(size_t{1} << kPrecision, 0);
  for (uint64_t h : hashes_) AddToSketch(h);
  hashes_.clear();
  hashes_.shrink_to_fit();
  sorted_ = 0;
}

void VisitorSet::Normalize() const {
  if (!registers_.empty() || sorted_ == hashes_.size()) return;
  std::sort(hashes_.begin(), hashes_.end());
  hashes_.erase(std::unique(hashes_.begin(), hashes_.end()), hashes_.end());
  sorted_ = hashes_.size();
  if (hashes_.size() > kExactLimit) ToSketch();
}

void VisitorSet::Add(uint64_t h) {
  if (!registers_.empty()) return AddToSketch(h);
  hashes_.push_back(h);
  if (hashes_.size() - sorted_ > std::max<size_t>(64, sorted_)) Normalize();  // amortised
}

void VisitorSet::Merge(const VisitorSet& other) {
  other.Normalize();
  Normalize();
  if (exact() && other.exact()) {
    hashes_.insert(hashes_.end(), other.hashes_.begin(), other.hashes_.end());
    Normalize();
    return;
  }
  if (exact()) ToSketch();
  if (other.exact()) {
    for (uint64_t h : other.hashes_) AddToSketch(h);
  } else {
    for (size_t i = 0; i < registers_.size(); ++i) {
      registers_[i] = std::max(registers_[i], other.registers_[i]);
    }
  }
}

uint64_t VisitorSet::Count() const {
  Normalize();
  if (exact()) return hashes_.size();
  const double m = static_cast<double>(registers_.size());
  double sum = 0;
  size_t zeros = 0;
  for (uint8_t r : registers_) {
    sum += std::ldexp(1.0, -r);
    zeros += r == 0;
  }
  double estimate = 0.7213 / (1 + 1.079 / m) * m * m / sum;
  if (estimate <= 2.5 * m && zeros > 0) {
    estimate = m * std::log(m / static_cast<double>(zeros));  // linear counting
  }
  return static_cast<uint64_t>(std::llround(estimate));
}

void VisitorSet::EncodeTo(std::string* out) const {
  Normalize();
  if (exact()) {
    out->push_back(0);
    PutVarint64(out, hashes_.size());
    for (uint64_t h : hashes_) PutFixed64(out, h);
  } else {
    out->push_back(1);
    out->append(reinterpret_cast<const char*>(registers_.data()), registers_.size());
  }
}

void VisitorSet::EncodeUnionTo(std::span<const uint64_t> more, std::string* out) const {
  Normalize();
  // Calls emit(h) for each hash of the union, in order (the set exact).
  auto merge = [&](auto&& emit) {
    auto a = hashes_.begin();
    auto b = more.begin();
    while (a != hashes_.end() || b != more.end()) {
      if (b == more.end() || (a != hashes_.end() && *a < *b)) {
        emit(*a++);
      } else {
        a += a != hashes_.end() && *a == *b;
        emit(*b++);
      }
    }
  };
  size_t n = 0;  // the union's size, while exact
  if (exact()) merge([&n](uint64_t) { ++n; });
  if (!exact() || n > kExactLimit) {
    VisitorSet copy = *this;
    for (uint64_t h : more) copy.Add(h);
    return copy.EncodeTo(out);
  }
  out->push_back(0);
  PutVarint64(out, n);
  merge([out](uint64_t h) { PutFixed64(out, h); });
}

bool VisitorSet::DecodeFrom(std::string_view* in) {
  hashes_.clear();
  registers_.clear();
  sorted_ = 0;
  if (in->empty()) return false;
  char kind = (*in)[0];
  in->remove_prefix(1);
  if (kind == 0) {
    uint64_t n;
    if (!GetVarint64(in, &n) || n > kExactLimit || in->size() < n * 8) return false;
    hashes_.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      if (!GetFixed64(in, &hashes_[i])) return false;
    }
    sorted_ = n;
    return true;
  }
  size_t m = size_t{1} << kPrecision;
  if (kind != 1 || in->size() < m) return false;
  registers_.assign(in->begin(), in->begin() + m);
  in->remove_prefix(m);
  return true;
}

bool VisitorSet::CountFrom(std::string_view* in, uint64_t* count) {
  if (!in->empty() && (*in)[0] == 0) {  // exact: its size, as DecodeFrom reads it
    std::string_view rest = in->substr(1);
    uint64_t n;
    if (!GetVarint64(&rest, &n) || n > kExactLimit || rest.size() < n * 8) return false;
    *in = rest.substr(n * 8);
    *count = n;
    return true;
  }
  VisitorSet set;
  if (!set.DecodeFrom(in)) return false;
  *count = set.Count();
  return true;
}

}  // namespace refgate
