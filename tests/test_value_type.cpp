// SPDX-License-Identifier: Apache-2.0
// The value type fp8<F>: comparisons and arithmetic on all 65536 operand
// pairs against the reference, and the small members (negation, hash,
// streaming, classification).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <type_traits>

#include <fp8/fp8.hpp>

#include "formats.hpp"

TEMPLATE_TEST_CASE("comparisons have IEEE meaning on all pairs", "[types]", FP8_ALL_FORMATS) {
  using T = fp8::fp8<TestType>;
  const ref::format& f = spec_of<TestType>();
  for (unsigned i = 0; i < 256; ++i) {
    for (unsigned k = 0; k < 256; ++k) {
      const T a = T::from_bits(static_cast<std::uint8_t>(i)), b = T::from_bits(static_cast<std::uint8_t>(k));
      const double x = ref::decode(f, i), y = ref::decode(f, k);
      INFO(f.name << " 0x" << std::hex << i << " vs 0x" << k);
      REQUIRE((a == b) == (x == y));
      REQUIRE((a != b) == (x != y));
      REQUIRE((a < b) == (x < y));
      REQUIRE((a <= b) == (x <= y));
      REQUIRE((a > b) == (x > y));
      REQUIRE((a >= b) == (x >= y));
    }
  }
}

TEMPLATE_TEST_CASE("arithmetic is correctly rounded on all pairs", "[types]", FP8_ALL_FORMATS) {
  using T = fp8::fp8<TestType>;
  const ref::format& f = spec_of<TestType>();
  const ref::table t(f);
  for (unsigned i = 0; i < 256; ++i) {
    for (unsigned k = 0; k < 256; ++k) {
      const T a = T::from_bits(static_cast<std::uint8_t>(i)), b = T::from_bits(static_cast<std::uint8_t>(k));
      const double x = ref::decode(f, i), y = ref::decode(f, k);
      INFO(f.name << " 0x" << std::hex << i << " op 0x" << k);
      // Sums and products of two FP8 values are exact in double (at most 36
      // significant bits); a quotient is rounded once to 53 bits, which cannot
      // move it across an FP8 rounding boundary (53 >= 2 * 4 + 2).
      // IEEE 754 leaves the sign of a NaN result unspecified: only NaN-ness
      // is compared there.
      const auto same = [&](T got, double exact) {
        return std::isnan(exact) ? fp8::isnan(got) : got.bits() == ref::encode(f, t, exact, true);
      };
      REQUIRE(same(a + b, x + y));
      REQUIRE(same(a - b, x - y));
      REQUIRE(same(a * b, x * y));
      REQUIRE(same(a / b, x / y));
      T c = a;
      c += b;
      REQUIRE(same(c, x + y));  // compound assignment rounds like +
    }
  }
}

TEMPLATE_TEST_CASE("negation, abs and classification", "[types]", FP8_ALL_FORMATS) {
  using T = fp8::fp8<TestType>;
  const ref::format& f = spec_of<TestType>();
  for (unsigned i = 0; i < 256; ++i) {
    const T a = T::from_bits(static_cast<std::uint8_t>(i));
    const double x = ref::decode(f, i);
    INFO(f.name << " 0x" << std::hex << i);
    REQUIRE(fp8::isnan(a) == std::isnan(x));
    REQUIRE(fp8::isinf(a) == std::isinf(x));
    REQUIRE(fp8::isfinite(a) == std::isfinite(x));
    REQUIRE(a.is_zero() == (x == 0.0));
    if (std::isnan(x)) {
      REQUIRE(fp8::isnan(-a));
      continue;
    }
    REQUIRE(fp8::signbit(a) == std::signbit(x));
    REQUIRE(ref::decode(f, (-a).bits()) == -x);
    const bool unsigned_zero = x == 0.0 && f.kind == ref::family::fnuz;
    REQUIRE(std::signbit(ref::decode(f, (-a).bits())) == (std::signbit(-x) && !unsigned_zero));
    REQUIRE(ref::decode(f, fp8::abs(a).bits()) == std::fabs(x));
    REQUIRE((+a).bits() == a.bits());
  }
  CHECK(T().bits() == 0);
}

TEMPLATE_TEST_CASE("hash agrees with ==, and streaming prints the value", "[types]", FP8_ALL_FORMATS) {
  using T = fp8::fp8<TestType>;
  const std::hash<T> h;
  for (unsigned i = 0; i < 256; ++i) {
    for (unsigned k = 0; k < 256; ++k) {
      const T a = T::from_bits(static_cast<std::uint8_t>(i)), b = T::from_bits(static_cast<std::uint8_t>(k));
      if (a == b) REQUIRE(h(a) == h(b));
    }
    const T a = T::from_bits(static_cast<std::uint8_t>(i));
    std::ostringstream got, want;
    got << a;
    want << static_cast<float>(a);
    REQUIRE(got.str() == want.str());
  }
}

TEST_CASE("the value type's contract", "[types]") {
  STATIC_REQUIRE(std::is_trivially_copyable<fp8::e4m3_t>::value);
  STATIC_REQUIRE(std::is_standard_layout<fp8::e5m2fnuz_t>::value);
  STATIC_REQUIRE(sizeof(fp8::e4m3fnuz_t) == 1);
  STATIC_REQUIRE(!std::is_convertible<float, fp8::e4m3_t>::value);  // explicit only
  STATIC_REQUIRE(!std::is_convertible<fp8::e4m3_t, float>::value);
  STATIC_REQUIRE(std::is_constructible<fp8::e4m3_t, float>::value);
  STATIC_REQUIRE(fp8::is_fp8<fp8::e5m2_t>::value && !fp8::is_fp8<float>::value);
  STATIC_REQUIRE(std::is_same<fp8::E4M3FN, fp8::E4M3>::value);
  STATIC_REQUIRE(noexcept(fp8::e4m3_t::from_float(1.0f)));
}
