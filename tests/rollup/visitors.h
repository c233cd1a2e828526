// A visitor set holding the given ids, for tests.
#pragma once

#include <initializer_list>
#include <string_view>

#include "rollup/visitor_set.h"

namespace refgate::rollup {

inline VisitorSet Visitors(std::initializer_list<std::string_view> ids) {
  VisitorSet v;
  for (auto id : ids) v.Add(VisitorSet::Hash(id));
  return v;
}

}  // namespace refgate::rollup
