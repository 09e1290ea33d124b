// SPDX-License-Identifier: Apache-2.0
// A tour of the four FP8 formats: their ranges, how a few values round, and
// what the two overflow policies do at the edges. Everything printed is
// computed by the library at run time.
#include <cstdio>
#include <limits>

#include <fp8/fp8.hpp>

namespace {

template <class F>
void describe() {
  using T = fp8::fp8<F>;
  using L = std::numeric_limits<T>;
  std::printf("%-9s max %-8g min normal %-11g min subnormal %-11g epsilon %-6g Inf: %s\n", F::name,
              static_cast<double>(L::max()), static_cast<double>(L::min()), static_cast<double>(L::denorm_min()),
              static_cast<double>(L::epsilon()), L::has_infinity ? "yes" : "no");
}

template <class F>
void row(double x) {
  using T = fp8::fp8<F>;
  const T s = T::from_double(x, fp8::overflow::saturate);
  const T n = T::from_double(x, fp8::overflow::non_saturating);
  std::printf("  %-9s %12g -> saturate 0x%02X (%g), non_saturating 0x%02X (%g)\n", F::name, x, s.bits(),
              static_cast<double>(s), n.bits(), static_cast<double>(n));
}

template <class... Fs>
void rows(double x) {
  (row<Fs>(x), ...);
}

}  // namespace

int main() {
  std::printf("Formats\n");
  describe<fp8::E4M3>();
  describe<fp8::E5M2>();
  describe<fp8::E4M3FNUZ>();
  describe<fp8::E5M2FNUZ>();

  std::printf("\nRounding (nearest, ties to even) and overflow\n");
  for (const double x : {0.1, 1.0 / 3, 300.0, 464.0, 465.0, 61440.0, 1e6, -0.0, -1e-9,
                         std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
    rows<fp8::E4M3, fp8::E5M2, fp8::E4M3FNUZ, fp8::E5M2FNUZ>(x);
  }

  std::printf("\nArithmetic rounds through float, once: e4m3(1.125) + e4m3(0.0625) = %g\n",
              static_cast<double>(fp8::e4m3_t(1.125f) + fp8::e4m3_t(0.0625f)));
  return 0;
}
