// SPDX-License-Identifier: Apache-2.0
// The scalar dyadic layer (dyadic/dyadic.hpp) against the independent
// reference of dyadic_reference.hpp: the regression cases quoted in public
// threads, hand-made ties of both rounding stages, INT32 extremes at every
// shift, random triples, the literal gemmlowp/TFLite code inside its domain,
// and to_dyadic against frexp/llround on edges and random doubles.
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <fp8/dyadic/dyadic.hpp>

#include "dyadic_reference.hpp"

namespace {

using fp8::dyadic;
using fp8::dyadic_rounding;
constexpr auto dbl = dyadic_rounding::double_rounding;
constexpr auto sgl = dyadic_rounding::single_rounding;
constexpr auto hev = dyadic_rounding::half_even;
constexpr dyadic_rounding all_roundings[] = {dbl, sgl, hev};
constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();

int ref_index(dyadic_rounding r) { return r == dbl ? 0 : r == sgl ? 1 : 2; }

std::int32_t ref(std::int32_t acc, dyadic d, dyadic_rounding r) {
  return dref::requantize(acc, d.multiplier, d.shift, ref_index(r));
}

// An int32 with a random number of significant bits and a random sign: small
// and large magnitudes equally likely, extremes included.
std::int32_t random_int32(std::mt19937_64& rng) {
  const int bits = static_cast<int>(rng() % 33);
  const std::uint64_t u = rng();
  std::int64_t v = bits == 0 ? 0
                             : static_cast<std::int64_t>(u & ((std::uint64_t{1} << (bits - 1)) - 1)) |
                                   (std::int64_t{1} << (bits - 1)) * static_cast<std::int64_t>(rng() % 2);
  if (rng() % 2 != 0) v = -v;
  if (rng() % 64 == 0) v = rng() % 2 != 0 ? kMin : kMax;
  return static_cast<std::int32_t>(v < kMin ? kMin : v > kMax ? kMax : v);
}

}  // namespace

TEST_CASE("dyadic: regression cases from public threads", "[dyadic]") {
  // tensorflow#25087: exact 7984 * 1583594044 / 2^40 = 11.4991...; the first
  // rounding gives 5888 = 11.5 * 2^9, which the second rounds away to 12.
  CHECK(fp8::requantize(7984, {1583594044, -9}, dbl) == 12);
  CHECK(fp8::requantize(7984, {1583594044, -9}, sgl) == 11);
  CHECK(fp8::requantize(7984, {1583594044, -9}, hev) == 11);
  CHECK(dref::tflite_double_rounding(7984, 1583594044, -9) == 12);
  CHECK(dref::tflite_single_rounding(7984, 1583594044, -9) == 11);
  // 1 * 0.5 * 2^-1 = 0.25: SRDHM rounds 0.5 up to 1, RDBPOT rounds 1/2 away to 1.
  CHECK(fp8::requantize(1, {1 << 30, -1}, dbl) == 1);
  CHECK(fp8::requantize(1, {1 << 30, -1}, sgl) == 0);
  CHECK(fp8::requantize(1, {1 << 30, -1}, hev) == 0);
  CHECK(dref::tflite_double_rounding(1, 1 << 30, -1) == 1);
  CHECK(dref::tflite_single_rounding(1, 1 << 30, -1) == 0);
  // Negative mirror images. SRDHM -5887.54 -> -5888 = -11.5 * 2^9, rounded
  // away to -12; but the first stage ties toward +inf, so -0.25 gives
  // SRDHM(-1, 2^30) = round(-0.5) = 0 and double rounding is not odd-symmetric.
  CHECK(fp8::requantize(-7984, {1583594044, -9}, dbl) == -12);
  CHECK(fp8::requantize(-7984, {1583594044, -9}, sgl) == -11);
  CHECK(fp8::requantize(-1, {1 << 30, -1}, dbl) == 0);
  CHECK(dref::tflite_double_rounding(-1, 1 << 30, -1) == 0);
  // Scale 1.0 and 0.5 are exact.
  CHECK(fp8::to_dyadic(1.0) == dyadic{1 << 30, 1});
  CHECK(fp8::to_dyadic(0.5) == dyadic{1 << 30, 0});
  for (dyadic_rounding r : all_roundings) {
    CHECK(fp8::requantize(123456789, fp8::to_dyadic(1.0), r) == 123456789);
    CHECK(fp8::requantize(kMin, fp8::to_dyadic(1.0), r) == kMin);
    CHECK(fp8::requantize(kMax, fp8::to_dyadic(1.0), r) == kMax);
  }
}

TEST_CASE("dyadic: the scalar functions are constant expressions", "[dyadic]") {
  static_assert(fp8::requantize(7984, {1583594044, -9}, dyadic_rounding::double_rounding) == 12, "");
  static_assert(fp8::requantize(7984, {1583594044, -9}, dyadic_rounding::single_rounding) == 11, "");
  static_assert(fp8::saturating_rounding_doubling_high_mul(kMin, kMin) == kMax, "");
  static_assert(fp8::rounding_divide_by_pot(-3, 1) == -2, "");
  static_assert(fp8::rounding_shift_right_half_even(6, 2) == 2 && fp8::rounding_shift_right_half_even(10, 2) == 2, "");
#if FP8_CONSTEXPR_BIT_CAST
  static_assert(fp8::to_dyadic(0.25) == dyadic{1 << 30, -1}, "");
  static_assert(fp8::to_dyadic(0.1, 8) == dyadic{205, -3 - 8 + 31}, "");  // 0.1 = 0.8 * 2^-3, round(0.8 * 256) = 205
#endif
  SUCCEED();
}

TEST_CASE("dyadic: exact ties of both rounding stages", "[dyadic]") {
  // multiplier 2^30 is one half: SRDHM(acc, 2^30) = acc / 2 exactly for even
  // acc, and a tie at 2^31 for odd acc.
  for (std::int32_t acc : {1, 3, 5, -1, -3, -5, kMax, kMin + 1}) {
    INFO("acc " << acc);
    CHECK(fp8::saturating_rounding_doubling_high_mul(acc, 1 << 30) == dref::gemmlowp_srdhm(acc, 1 << 30));
    CHECK(fp8::requantize(acc, {1 << 30, 0}, dbl) ==
          fp8::requantize(acc, {1 << 30, 0}, sgl));  // shift >= 0: one rounding
    CHECK(fp8::requantize(acc, {1 << 30, 0}, sgl) == static_cast<std::int32_t>(std::floor(acc / 2.0 + 0.5)));
  }
  // Second-stage ties: y1 = acc / 2 = (2j + 1) * 2^(rs - 1), so y1 / 2^rs = j + 1/2.
  for (int rs = 1; rs <= 30; ++rs) {
    for (std::int64_t j : {0, 1, 2, 7, -1, -2, -8}) {
      const std::int64_t y1 = (2 * j + 1) * (std::int64_t{1} << (rs - 1));
      const std::int64_t acc64 = 2 * y1;
      if (acc64 < kMin || acc64 > kMax) continue;
      const auto acc = static_cast<std::int32_t>(acc64);
      INFO("rs " << rs << " j " << j);
      const dyadic d{1 << 30, -rs};
      CHECK(fp8::requantize(acc, d, dbl) == (j >= 0 ? j + 1 : j));  // away from zero: j + 1 for j >= 0, j for j < 0
      CHECK(fp8::requantize(acc, d, sgl) == j + 1);                 // exact j + 1/2, ties up
      CHECK(fp8::requantize(acc, d, hev) == (j % 2 == 0 ? j : j + 1));
      for (dyadic_rounding r : all_roundings) CHECK(fp8::requantize(acc, d, r) == ref(acc, d, r));
      CHECK(fp8::requantize(acc, d, dbl) == dref::tflite_double_rounding(acc, d.multiplier, d.shift));
    }
  }
  // Double rounding differs from single exactly when the first rounding
  // creates a tie: odd acc with y1 = acc/2 rounded up landing on (2j+1) 2^(rs-1).
  for (int rs = 2; rs <= 20; ++rs) {
    const std::int64_t y1 = 3 * (std::int64_t{1} << (rs - 1));  // 1.5 * 2^rs
    const auto acc = static_cast<std::int32_t>(2 * y1 - 1);     // acc/2 = y1 - 1/2 -> SRDHM ties up to y1
    INFO("rs " << rs);
    CHECK(fp8::requantize(acc, {1 << 30, -rs}, dbl) == 2);  // 1.5 rounded away
    CHECK(fp8::requantize(acc, {1 << 30, -rs}, sgl) == 1);  // 1.5 - 2^-(rs+1) rounds down
    CHECK(fp8::requantize(acc, {1 << 30, -rs}, hev) == 1);
  }
}

TEST_CASE("dyadic: INT32 extremes at every shift equal the wide reference", "[dyadic]") {
  const std::vector<std::int32_t> accs = {kMin, kMin + 1, -(1 << 30), -65536, -3,      -2,       -1,  0,
                                          1,    2,        3,          65535,  1 << 30, kMax - 1, kMax};
  const std::vector<std::int32_t> mults = {kMin, kMin + 1, -(1 << 30) - 1, -(1 << 30), -1,       0,   1,
                                           3,    1 << 30,  (1 << 30) + 1,  1583594044, kMax - 1, kMax};
  for (int shift = -40; shift <= 40; ++shift)
    for (std::int32_t m : mults)
      for (std::int32_t acc : accs)
        for (dyadic_rounding r : all_roundings) {
          const dyadic d{m, shift};
          const std::int32_t got = fp8::requantize(acc, d, r), want = ref(acc, d, r);
          if (got != want) {
            INFO("acc " << acc << " m " << m << " shift " << shift << " rounding " << ref_index(r));
            CHECK(got == want);
          }
        }
}

TEST_CASE("dyadic: random triples equal the wide reference", "[dyadic]") {
  std::mt19937_64 rng(20240501);
  for (int i = 0; i < 300000; ++i) {
    const std::int32_t acc = random_int32(rng);
    const dyadic d{random_int32(rng), static_cast<int>(rng() % 62) - 31};
    for (dyadic_rounding r : all_roundings) {
      const std::int32_t got = fp8::requantize(acc, d, r), want = ref(acc, d, r);
      if (got != want) {
        INFO("acc " << acc << " m " << d.multiplier << " shift " << d.shift << " rounding " << ref_index(r));
        REQUIRE(got == want);
      }
    }
  }
}

TEST_CASE("dyadic: equals the literal gemmlowp/TFLite code inside TFLite's domain", "[dyadic]") {
  std::mt19937_64 rng(7);
  int checked = 0;
  for (int i = 0; i < 300000; ++i) {
    const std::int32_t acc = random_int32(rng);
    const int shift = static_cast<int>(rng() % 62) - 31;
    std::int32_t m = random_int32(rng);
    // Double rounding: defined where acc * 2^max(shift, 0) fits in int32.
    const int left = shift > 0 ? shift : 0;
    const std::int64_t shifted = std::int64_t{acc} * (std::int64_t{1} << left);
    if (shifted >= kMin && shifted <= kMax) {
      INFO("acc " << acc << " m " << m << " shift " << shift);
      REQUIRE(fp8::requantize(acc, {m, shift}, dbl) == dref::tflite_double_rounding(acc, m, shift));
      ++checked;
    }
    // Single rounding: m >= 0, result within int32.
    if (m < 0) m = m == kMin ? kMax : -m;
    const dref::i128 exact = dref::round_div_pow2(dref::i128{acc} * m, 31 - shift, dref::tie::up);
    if (exact >= kMin && exact <= kMax) {
      INFO("acc " << acc << " m " << m << " shift " << shift);
      REQUIRE(fp8::requantize(acc, {m, shift}, sgl) == dref::tflite_single_rounding(acc, m, shift));
    }
  }
  CHECK(checked > 100000);
}

TEST_CASE("dyadic: fixed-point primitives", "[dyadic]") {
  std::mt19937_64 rng(11);
  const std::vector<std::int32_t> edges = {kMin, kMin + 1, -(1 << 30), -1, 0, 1, 1 << 30, kMax - 1, kMax};
  for (std::int32_t a : edges)
    for (std::int32_t b : edges) CHECK(fp8::saturating_rounding_doubling_high_mul(a, b) == dref::gemmlowp_srdhm(a, b));
  for (int i = 0; i < 200000; ++i) {
    const std::int32_t a = random_int32(rng), b = random_int32(rng);
    REQUIRE(fp8::saturating_rounding_doubling_high_mul(a, b) == dref::gemmlowp_srdhm(a, b));
    const int e = static_cast<int>(rng() % 32);
    REQUIRE(fp8::rounding_divide_by_pot(a, e) == dref::gemmlowp_rdbpot(a, e));
    // 64-bit shifts against division.
    const auto x = static_cast<std::int64_t>(rng()) >> (rng() % 64);
    const int s = static_cast<int>(rng() % 66);
    REQUIRE(fp8::rounding_shift_right_half_up(x, s) == dref::round_div_pow2(x, s, dref::tie::up));
    REQUIRE(fp8::rounding_shift_right_half_even(x, s) == dref::round_div_pow2(x, s, dref::tie::even));
    REQUIRE(fp8::rounding_shift_right_half_away(x, s) == dref::round_div_pow2(x, s, dref::tie::away));
  }
  const std::int64_t big[] = {
      std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::min() + 1, -3, -2, -1, 0, 1, 2, 3,
      std::numeric_limits<std::int64_t>::max()};
  for (std::int64_t x : big)
    for (int s = 0; s <= 70; ++s) {
      INFO("x " << x << " s " << s);
      CHECK(fp8::rounding_shift_right_half_up(x, s) == dref::round_div_pow2(x, s, dref::tie::up));
      CHECK(fp8::rounding_shift_right_half_even(x, s) == dref::round_div_pow2(x, s, dref::tie::even));
      CHECK(fp8::rounding_shift_right_half_away(x, s) == dref::round_div_pow2(x, s, dref::tie::away));
    }
  // Exponents past gemmlowp's 31 stay exact.
  for (std::int32_t a : edges)
    for (int e = 32; e <= 70; ++e)
      CHECK(fp8::rounding_divide_by_pot(a, e) == dref::round_div_pow2(a, e, dref::tie::away));
  CHECK(fp8::saturate_int32(std::int64_t{kMax} + 1) == kMax);
  CHECK(fp8::saturate_int32(std::int64_t{kMin} - 1) == kMin);
}

namespace {

void check_to_dyadic(double x) {
  const dyadic got = fp8::to_dyadic(x);
  const auto want = dref::quantize_multiplier(x);
  INFO("x " << x << " (" << std::hexfloat << x << std::defaultfloat << ")");
  CHECK(got.multiplier == want.first);
  CHECK(got.shift == want.second);
}

}  // namespace

TEST_CASE("dyadic: to_dyadic equals QuantizeMultiplier (frexp, llround) on edges", "[dyadic]") {
  const double denorm = std::numeric_limits<double>::denorm_min();
  const double edges[] = {0.0,         -0.0,
                          denorm,      -denorm,
                          DBL_MIN,     -DBL_MIN,
                          DBL_MIN / 2, DBL_MAX,
                          -DBL_MAX,    1.0,
                          -1.0,        0.5,
                          -0.5,        0.1,
                          1.0 / 3,     2.0 / 3,
                          1e-6,        1e-9,
                          1e9,         0x1p-31,
                          0x1p-32,     0x1p-33,
                          0x1p30,      0x1p31,
                          0x1p40,      1583594044.0 / 2147483648.0};
  for (double x : edges) check_to_dyadic(x);
  // The renormalization edge: q * 2^31 rounds to 2^31 iff q >= 1 - 2^-32, so
  // just below every power of two the multiplier renormalizes to 2^30 with
  // shift + 1; one ulp further below the edge it does not.
  for (int k = -40; k <= 40; ++k) {
    const double p = std::ldexp(1.0, k);
    const double edge = p * (1 - 0x1p-32);  // q = 1 - 2^-32 exactly: a tie, rounded away to 2^31
    for (double x : {std::nextafter(p, 0.0), edge, std::nextafter(edge, 0.0), std::nextafter(edge, 1e300),
                     p * (1 - 0x1p-31), std::nextafter(p, 1e300)}) {
      check_to_dyadic(x);
      check_to_dyadic(-x);
    }
  }
  CHECK(fp8::to_dyadic(std::nextafter(1.0, 0.0)) == dyadic{1 << 30, 1});       // renormalized
  CHECK(fp8::to_dyadic(1 - 0x1p-32) == dyadic{1 << 30, 1});                    // the tie itself
  CHECK(fp8::to_dyadic(std::nextafter(1 - 0x1p-32, 0.0)) == dyadic{kMax, 0});  // just below: 2^31 - 1
  CHECK(fp8::to_dyadic(-std::nextafter(1.0, 0.0)) == dyadic{kMin, 0});         // TFLite keeps -2^31
  // The flush edge: 2^-32 has frexp exponent -31 and stays; below it flushes,
  // except where rounding renormalizes back up to exponent -31.
  CHECK(fp8::to_dyadic(0x1p-32) == dyadic{1 << 30, -31});
  CHECK(fp8::to_dyadic(std::nextafter(0x1p-32, 0.0)) == dyadic{1 << 30, -31});
  CHECK(fp8::to_dyadic(0x1p-32 * (1 - 0x1p-31)) == dyadic{0, 0});
  CHECK(fp8::to_dyadic(denorm) == dyadic{0, 0});
  CHECK(fp8::to_dyadic(0.0) == dyadic{0, 0});
  // Not numbers (TFLite: undefined).
  CHECK(fp8::to_dyadic(std::numeric_limits<double>::quiet_NaN()) == dyadic{0, 0});
  CHECK(fp8::to_dyadic(std::numeric_limits<double>::infinity()) == fp8::to_dyadic(DBL_MAX));
  CHECK(fp8::to_dyadic(-std::numeric_limits<double>::infinity()) == dyadic{-(1 << 30), 1025});
}

TEST_CASE("dyadic: to_dyadic equals QuantizeMultiplier on random doubles", "[dyadic]") {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200000; ++i) {
    // Random bit patterns cover every exponent; a second draw concentrates on
    // the range scales actually take.
    double x;
    std::uint64_t bits = rng();
    std::memcpy(&x, &bits, sizeof x);
    if (!std::isfinite(x)) continue;
    check_to_dyadic(x);
    const double fraction =
        static_cast<double>(rng() >> 11) * 0x1p-53;  // draws sequenced: same values on every compiler
    const double y = std::ldexp(fraction, static_cast<int>(rng() % 80) - 50);
    check_to_dyadic(y);
    // The value is within half a unit of the 31-bit multiplier.
    const dyadic d = fp8::to_dyadic(y);
    if (d.multiplier != 0) REQUIRE(std::fabs(fp8::dyadic_value(d) - y) <= std::ldexp(1.0, d.shift - 32));
  }
}

TEST_CASE("dyadic: to_dyadic with a chosen number of multiplier bits", "[dyadic]") {
  std::mt19937_64 rng(5);
  for (int bits = 1; bits <= 31; ++bits) {
    for (int i = 0; i < 3000; ++i) {
      const double sign = rng() % 2 != 0 ? -1.0 : 1.0;
      const double fraction = static_cast<double>(rng() >> 11) * 0x1p-53;
      const double x = sign * std::ldexp(fraction, static_cast<int>(rng() % 90) - 60);
      const dyadic got = fp8::to_dyadic(x, bits);
      const auto want = dref::quantize_multiplier_bits(x, bits);
      INFO("x " << x << " bits " << bits);
      REQUIRE(got.multiplier == want.first);
      REQUIRE(got.shift == want.second);
      REQUIRE(std::abs(static_cast<long long>(got.multiplier)) < (1LL << bits));
      if (x >= 0) REQUIRE(fp8::to_dyadic(x, 31) == fp8::to_dyadic(x));
    }
    // Just below a power of two the b-bit multiplier renormalizes.
    const double below = std::ldexp(1.0, -5) * (1 - std::ldexp(1.0, -bits - 1));
    CHECK(fp8::to_dyadic(below, bits) == dyadic{static_cast<std::int32_t>(1LL << (bits - 1)), -5 + 1 - bits + 31});
  }
  CHECK(fp8::to_dyadic(0.1, 8) == dyadic{205, 20});
  CHECK_THROWS_AS(fp8::to_dyadic(0.1, 0), fp8::invalid_argument);
  CHECK_THROWS_AS(fp8::to_dyadic(0.1, 32), fp8::invalid_argument);
  CHECK_THROWS_WITH(fp8::to_dyadic(0.1, 0), Catch::Contains("multiplier_bits"));
  // Small multipliers rescale with the same value: to_dyadic(s, b) * acc rounds
  // like s' * acc for the b-bit s'.
  const dyadic d8 = fp8::to_dyadic(0.0123, 8);
  for (std::int32_t acc : {1000, -1000, 123456, kMax, kMin})
    for (dyadic_rounding r : all_roundings) CHECK(fp8::requantize(acc, d8, r) == ref(acc, d8, r));
}
