// SPDX-License-Identifier: Apache-2.0
// Encoding rules on hand-made inputs (the numbers the specs
// quote), and from_double against the reference search on doubles that a
// detour through float would round differently.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include <fp8/fp8.hpp>

#include "formats.hpp"

namespace {
constexpr auto sat = fp8::overflow::saturate;
constexpr auto nonsat = fp8::overflow::non_saturating;
const float inf = std::numeric_limits<float>::infinity();
const float qnan = std::numeric_limits<float>::quiet_NaN();

template <class F>
unsigned enc(double x, fp8::overflow o = sat) {
  return fp8::scalar::encode<F>(x, o);
}
}  // namespace

TEST_CASE("E4M3 rounding and overflow at the top of the range", "[codec]") {
  using F = fp8::E4M3;
  CHECK(enc<F>(448) == 0x7E);
  CHECK(enc<F>(464) == 0x7E);  // tie between 448 (even) and 480 (odd, unrepresentable)
  CHECK(enc<F>(464, nonsat) == 0x7E);
  CHECK(enc<F>(std::nextafter(464.0, 1e9), nonsat) == 0x7F);  // rounds past max: NaN
  CHECK(enc<F>(-465, nonsat) == 0xFF);
  CHECK(enc<F>(465) == 0x7E);
  CHECK(enc<F>(-1e30) == 0xFE);
  CHECK(enc<F>(inf) == 0x7E);
  CHECK(enc<F>(-inf) == 0xFE);
  CHECK(enc<F>(inf, nonsat) == 0x7F);
  CHECK(enc<F>(-inf, nonsat) == 0xFF);
  CHECK(enc<F>(qnan) == 0x7F);
  CHECK(enc<F>(-qnan) == 0xFF);
  CHECK(enc<F>(-0.0) == 0x80);
  CHECK(enc<F>(1.0) == 0x38);       // 0.0111.000
  CHECK(enc<F>(0x1p-9) == 0x01);    // smallest subnormal
  CHECK(enc<F>(0x1p-10) == 0x00);   // tie with 0: even
  CHECK(enc<F>(std::nextafter(0x1p-10, 1.0)) == 0x01);
  CHECK(enc<F>(-0x1p-10) == 0x80);  // negative values that round to zero keep the sign
  CHECK(enc<F>(3 * 0x1p-10) == 0x02);  // 1.5 steps: tie, to even 2
  CHECK(enc<F>(0x1p-6) == 0x08);    // min normal
  CHECK(enc<F>(0x1.Ep-7) == 0x08);  // 7.5 subnormal steps: carries into the normal binade
}

TEST_CASE("E5M2 rounding, Inf and NaN", "[codec]") {
  using F = fp8::E5M2;
  CHECK(enc<F>(57344) == 0x7B);
  CHECK(enc<F>(61440) == 0x7B);          // saturate
  CHECK(enc<F>(61440, nonsat) == 0x7C);  // tie goes to the even 2^16: Inf
  CHECK(enc<F>(std::nextafter(61440.0, 0.0), nonsat) == 0x7B);
  CHECK(enc<F>(-inf, nonsat) == 0xFC);
  CHECK(enc<F>(-inf) == 0xFB);
  CHECK(enc<F>(qnan) == 0x7E);
  CHECK(enc<F>(-qnan) == 0xFE);
  CHECK(enc<F>(0x1p-16) == 0x01);
  CHECK(enc<F>(0x1p-17) == 0x00);
  CHECK(enc<F>(-0.0) == 0x80);
  CHECK(std::isinf(fp8::scalar::decode<F>(0x7C)));
  CHECK(std::isinf(fp8::scalar::decode<F>(0xFC)));
}

TEST_CASE("FNUZ formats: one NaN, no negative zero", "[codec]") {
  CHECK(enc<fp8::E4M3FNUZ>(240) == 0x7F);
  CHECK(enc<fp8::E4M3FNUZ>(247.9) == 0x7F);
  CHECK(enc<fp8::E4M3FNUZ>(248) == 0x7F);              // saturate
  CHECK(enc<fp8::E4M3FNUZ>(248, nonsat) == 0x80);      // tie to even 256: overflow, NaN
  CHECK(enc<fp8::E4M3FNUZ>(-1e9, nonsat) == 0x80);
  CHECK(enc<fp8::E4M3FNUZ>(-inf) == 0xFF);
  CHECK(enc<fp8::E4M3FNUZ>(-0.0) == 0x00);
  CHECK(enc<fp8::E4M3FNUZ>(-0x1p-12) == 0x00);         // rounds to zero: unsigned
  CHECK(enc<fp8::E4M3FNUZ>(-qnan) == 0x80);
  CHECK(enc<fp8::E4M3FNUZ>(1.0) == 0x40);              // bias 8: 0.1000.000
  CHECK(enc<fp8::E5M2FNUZ>(1.0) == 0x40);              // bias 16: 0.10000.00
  CHECK(enc<fp8::E5M2FNUZ>(57344) == 0x7F);
  CHECK(enc<fp8::E5M2FNUZ>(inf, nonsat) == 0x80);
  CHECK(enc<fp8::E5M2FNUZ>(0x1p-17) == 0x01);
  CHECK(std::isnan(fp8::scalar::decode<fp8::E5M2FNUZ>(0x80)));
  CHECK(fp8::scalar::decode<fp8::E5M2FNUZ>(0x00) == 0.0f);
}

TEMPLATE_TEST_CASE("from_double rounds once, not through float", "[codec]", FP8_ALL_FORMATS) {
  const ref::format& f = spec_of<TestType>();
  const ref::table t(f);
  using T = fp8::fp8<TestType>;
  int differs_from_float_path = 0;
  for (std::size_t j = 0; j + 1 < t.size(); ++j) {
    const double mid = (t.value[j] + t.value[j + 1]) / 2;
    // Doubles a hair off a midpoint: float would round them onto the tie.
    for (const double x : {mid, mid * (1 + 0x1p-40), mid * (1 - 0x1p-40), std::nextafter(mid, 0.0),
                           std::nextafter(mid, 1e300)}) {
      for (const double s : {1.0, -1.0}) {
        for (const bool saturate : {true, false}) {
          const auto o = saturate ? sat : nonsat;
          INFO(f.name << " x=" << s * x);
          REQUIRE(T::from_double(s * x, o).bits() == ref::encode(f, t, s * x, saturate));
          if (T::from_double(s * x, o).bits() != T::from_float(static_cast<float>(s * x), o).bits())
            ++differs_from_float_path;
        }
      }
    }
  }
  CHECK(differs_from_float_path > 0);  // the test does reach inputs where a float detour errs
}

TEMPLATE_TEST_CASE("from_double matches the reference on random doubles", "[codec]", FP8_ALL_FORMATS) {
  const ref::format& f = spec_of<TestType>();
  const ref::table t(f);
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> exponent(-1100, 40);
  std::uniform_real_distribution<double> mantissa(1.0, 2.0);
  for (int i = 0; i < 200000; ++i) {
    const double x = (i % 2 ? -1 : 1) * std::ldexp(mantissa(rng), exponent(rng));
    INFO(f.name << " x=" << x);
    REQUIRE(fp8::scalar::encode<TestType>(x, sat) == ref::encode(f, t, x, true));
    REQUIRE(fp8::scalar::encode<TestType>(x, nonsat) == ref::encode(f, t, x, false));
  }
  // Raw bit patterns reach NaN payloads, infinities and double subnormals.
  for (int i = 0; i < 200000; ++i) {
    const std::uint64_t u = rng();
    double x;
    std::memcpy(&x, &u, sizeof x);
    REQUIRE(fp8::scalar::encode<TestType>(x, nonsat) == ref::encode(f, t, x, false));
  }
}
