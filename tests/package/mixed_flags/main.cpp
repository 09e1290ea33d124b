// SPDX-License-Identifier: Apache-2.0
// Two translation units built with different instruction-set flags linked
// into one program (docs/dispatch.md): each must compute the right answer,
// and where the flags differ each must call its own copy of the entry (an
// entry shared by mangled name would run one unit's code in the other).
#include <cmath>
#include <cstdio>
#include <vector>

#include "tu.hpp"

int main() {
  std::vector<float> x(1000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i)) * static_cast<float>(i);
  float want = 0;
  for (float v : x) want = std::fabs(v) > want ? std::fabs(v) : want;
  const tu_report a = native(x.data(), x.size()), b = baseline(x.data(), x.size());
  std::printf("native: tier %d, amax %g; baseline: tier %d, amax %g; want %g\n", a.static_tier,
              static_cast<double>(a.amax), b.static_tier, static_cast<double>(b.amax), static_cast<double>(want));
  if (a.amax != want || b.amax != want) return 1;
  if (a.static_tier != b.static_tier && a.entry == b.entry) {
    std::printf("error: units built with different flags share one fp8::amax\n");
    return 1;
  }
  return 0;
}
