// SPDX-License-Identifier: Apache-2.0
// fp8::quantize / fp8::dequantize (quant/quantize.hpp) against a reference
// written from the documented rule: per group, amax = max |x| (in double),
// scale = amax / max_finite(F) as one float division (or the smallest 2^k
// with amax <= max * 2^k), 1 for an all-zero group; code = the reference
// search encoder of x / scale (a float division); dequantized = value *
// scale. On every tier the CPU runs; bad arguments first, untouched buffers.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <fp8/fp8.hpp>

#include "formats.hpp"

namespace {

using fp8::granularity;

float reference_scale(const ref::format& f, double amax, bool power_of_two) {
  if (amax == 0.0) return 1.0f;
  if (!power_of_two) return std::max(static_cast<float>(amax) / static_cast<float>(f.max), std::ldexp(1.0f, -126));
  int k = -126;
  while (amax > f.max * std::ldexp(1.0, k)) ++k;
  return std::ldexp(1.0f, k);
}

template <class F>
void check(std::size_t rows, std::size_t cols, granularity per, bool pow2, fp8::overflow o, std::mt19937& g) {
  const ref::format& f = spec_of<F>();
  const ref::table t(f);
  std::vector<float> x(rows * cols);
  std::lognormal_distribution<float> mag(0.0f, 3.0f);
  for (auto& v : x) v = (g() & 1 ? -1.0f : 1.0f) * mag(g);
  if (rows > 2) std::fill(x.begin() + static_cast<std::ptrdiff_t>(cols), x.begin() + static_cast<std::ptrdiff_t>(2 * cols), 0.0f);
  const std::size_t groups = per == granularity::tensor ? 1 : per == granularity::rows ? rows : cols;
  std::vector<double> amax(groups, 0.0);
  auto group = [&](std::size_t i, std::size_t j) { return per == granularity::tensor ? 0 : per == granularity::rows ? i : j; };
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j)
      amax[group(i, j)] = std::max(amax[group(i, j)], std::fabs(static_cast<double>(x[i * cols + j])));
  std::vector<float> want_scale(groups);
  for (std::size_t k = 0; k < groups; ++k) want_scale[k] = reference_scale(f, amax[k], pow2);

  fp8::quantize_options opt;
  opt.per = per;
  opt.rounding = pow2 ? fp8::scale_rounding::power_of_two : fp8::scale_rounding::exact;
  opt.o = o;
  std::vector<fp8::fp8<F>> codes(rows * cols);
  std::vector<float> scales(groups + 1, -7.0f), back(rows * cols);
  fp8::quantize(x.data(), rows, cols, codes.data(), scales.data(), scales.size(), opt);
  fp8::dequantize(codes.data(), rows, cols, scales.data(), groups, back.data(), per);
  std::size_t bad = 0;
  for (std::size_t k = 0; k < groups; ++k) bad += scales[k] != want_scale[k];
  CHECK(scales[groups] == -7.0f);  // the spare entry untouched
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) {
      const float s = want_scale[group(i, j)];
      const std::uint8_t want = ref::encode(f, t, static_cast<double>(x[i * cols + j] / s), o == fp8::overflow::saturate);
      bad += codes[i * cols + j].bits() != want;
      const float deq = static_cast<float>(ref::decode(f, want) * static_cast<double>(s));
      bad += !(back[i * cols + j] == deq);
    }
  INFO(f.name << " " << rows << " x " << cols << ", per " << static_cast<int>(per) << (pow2 ? ", 2^k" : ", exact"));
  CHECK(bad == 0);
}

}  // namespace

TEMPLATE_TEST_CASE("quantize and dequantize: one call per tensor, row or column, as the documented rule", "[quant]",
                   FP8_ALL_FORMATS) {
  std::mt19937 g(42);
  for (const fp8::cpu_tier tier : {fp8::cpu_tier::avx512bf16, fp8::cpu_tier::avx512, fp8::cpu_tier::avx2,
                                   fp8::cpu_tier::sse2, fp8::cpu_tier::portable}) {
    if (tier > fp8::best_tier(fp8::cpu())) continue;
    const fp8::tier_scope scope(tier);
    for (const granularity per : {granularity::tensor, granularity::rows, granularity::columns})
      for (const bool pow2 : {false, true})
        for (const auto& shape : {std::pair<std::size_t, std::size_t>{1, 1000}, {7, 33}, {64, 5}})
          check<TestType>(shape.first, shape.second, per, pow2,
                          pow2 ? fp8::overflow::saturate : fp8::overflow::non_saturating, g);
  }
}

TEST_CASE("quantize: bad arguments are named before anything is written", "[quant]") {
  std::vector<float> x(12, 1.0f);
  std::vector<fp8::e4m3_t> codes(12, fp8::e4m3_t::from_bits(0x11));
  std::vector<float> scales(4, -7.0f);
  fp8::quantize_options rows;
  rows.per = granularity::rows;
  auto untouched = [&] {
    for (const auto& c : codes) CHECK(c.bits() == 0x11);
    for (float s : scales) CHECK(s == -7.0f);
  };
  CHECK_THROWS_WITH(fp8::quantize(x.data(), 3, 4, codes.data(), scales.data(), 2, rows),
                    Catch::Contains("'scale_count'") && Catch::Contains("fewer than the 3"));
  CHECK_THROWS_WITH(fp8::quantize(x.data(), 3, 4, codes.data(), static_cast<float*>(nullptr), 3, rows),
                    Catch::Contains("'scales'"));
  CHECK_THROWS_WITH(fp8::quantize(x.data(), 3, 4, reinterpret_cast<fp8::e4m3_t*>(x.data()), scales.data(), 3, rows),
                    Catch::Contains("overlaps"));
  x[6] = std::nanf("");
  CHECK_THROWS_WITH(fp8::quantize(x.data(), 3, 4, codes.data(), scales.data(), 4, rows),
                    Catch::Contains("'src'") && Catch::Contains("row 1"));
  fp8::quantize_options cols;
  cols.per = granularity::columns;
  CHECK_THROWS_WITH(fp8::quantize(x.data(), 3, 4, codes.data(), scales.data(), 4, cols), Catch::Contains("column 2"));
  x[6] = INFINITY;
  CHECK_THROWS_WITH(fp8::quantize(x.data(), 3, 4, codes.data(), scales.data(), 4), Catch::Contains("infinity"));
  fp8::quantize_options bad;
  bad.per = static_cast<granularity>(9);
  CHECK_THROWS_WITH(fp8::quantize(x.data(), 3, 4, codes.data(), scales.data(), 4, bad),
                    Catch::Contains("'options.per'"));
  // A count no array can have.
  CHECK_THROWS_WITH(fp8::quantize(x.data(), 3, 4, codes.data(), scales.data(), SIZE_MAX), Catch::Contains("'scale_count'"));
  untouched();
  std::vector<float> out(12, -3.0f);
  CHECK_THROWS_WITH(fp8::dequantize(codes.data(), 3, 4, scales.data(), 3, out.data(), granularity::columns),
                    Catch::Contains("fewer than the 4"));
  CHECK_THROWS_WITH(fp8::dequantize(codes.data(), 3, 4, scales.data(), SIZE_MAX, out.data(), granularity::rows),
                    Catch::Contains("'scale_count'"));
  // dequantize's scales are its own argument: named "scales", whichever
  // granularity, and an output over them is refused.
  const std::vector<float> zero(4, 0.0f);
  for (granularity g : {granularity::tensor, granularity::rows, granularity::columns})
    CHECK_THROWS_WITH(fp8::dequantize(codes.data(), 3, 4, zero.data(), 4, out.data(), g),
                      Catch::Contains("fp8::dequantize") && Catch::Contains("'scales' [0] = 0"));
  std::vector<float> inside(16, 1.0f);
  CHECK_THROWS_WITH(fp8::dequantize(codes.data(), 3, 4, inside.data() + 2, 1, inside.data(), granularity::tensor),
                    Catch::Contains("'dst'") && Catch::Contains("overlaps scales"));
  for (float v : out) CHECK(v == -3.0f);
}
