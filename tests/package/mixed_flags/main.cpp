// SPDX-License-Identifier: Apache-2.0
// Two translation units built with different instruction-set flags linked
// into one program (docs/dispatch.md): each must compute the right answer,
// and where the flags differ each must call its own copy of the entry (an
// entry shared by mangled name would run one unit's code in the other).
#include <cmath>
#include <cstdio>
#include <vector>

#include <fp8/fp8.hpp>

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
  if (a.static_tier != b.static_tier && a.gemm_entry == b.gemm_entry) {
    std::printf("error: units built with different flags share one fp8::gemm\n");
    return 1;
  }
  for (std::size_t i = 0; i < gemm_m; ++i)
    for (std::size_t j = 0; j < gemm_n; ++j) {
      float s = 0;  // whole numbers far below 2^24: exact in any order
      for (std::size_t t = 0; t < gemm_k; ++t) s += gemm_a(i, t) * gemm_b(t, j);
      const std::size_t at = i * gemm_n + j;
      if (a.c[at] != s || b.c[at] != s || a.c_packed[at] != s || b.c_packed[at] != s) {
        std::printf("error: C[%zu][%zu] = %g, %g (packed %g, %g), want %g\n", i, j, static_cast<double>(a.c[at]),
                    static_cast<double>(b.c[at]), static_cast<double>(a.c_packed[at]),
                    static_cast<double>(b.c_packed[at]), static_cast<double>(s));
        return 1;
      }
    }
  for (std::size_t i = 0; i < x.size(); ++i) {
    const unsigned char want_code = fp8::e4m3_t(x[i]).bits();  // the value type's conversion, scalar
    if (a.codes[i] != want_code || b.codes[i] != want_code) {
      std::printf("error: encode of x[%zu] = %g gives %u and %u, want %u\n", i, static_cast<double>(x[i]), a.codes[i],
                  b.codes[i], want_code);
      return 1;
    }
  }
  std::printf("gemm and encode: both units exact\n");
  return 0;
}
