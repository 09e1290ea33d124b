// SPDX-License-Identifier: Apache-2.0
// All 256 codes of every format: decoding against the textbook formula,
// encode(decode(c)) == c, and the format facts against the specifications.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

#include <fp8/fp8.hpp>

#include "formats.hpp"

TEMPLATE_TEST_CASE("decode equals the formula on all 256 codes", "[codec]", FP8_ALL_FORMATS) {
  const ref::format& f = spec_of<TestType>();
  for (unsigned c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    const float got = fp8::scalar::decode<TestType>(code);
    const double want = ref::decode(f, c);
    INFO(f.name << " code 0x" << std::hex << c);
    CHECK(float_bits(static_cast<float>(fp8::fp8<TestType>::from_bits(code))) == float_bits(got));
    if (std::isnan(want)) {
      REQUIRE(std::isnan(got));
      CHECK((float_bits(got) & 0x00400000u) != 0);  // quiet
      const bool signed_nan = f.kind != ref::family::fnuz && (c & 0x80) != 0;
      CHECK(std::signbit(got) == signed_nan);
    } else {
      REQUIRE(static_cast<double>(got) == want);
      REQUIRE(std::signbit(got) == std::signbit(want));
    }
  }
}

TEMPLATE_TEST_CASE("encode(decode(c)) == c for every non-NaN code", "[codec]", FP8_ALL_FORMATS) {
  const ref::format& f = spec_of<TestType>();
  for (unsigned c = 0; c < 256; ++c) {
    if (ref::is_nan(f, c)) continue;
    const auto code = static_cast<std::uint8_t>(c);
    const float x = fp8::scalar::decode<TestType>(code);
    INFO(f.name << " code 0x" << std::hex << c);
    // Inf codes come back only without saturation; saturation maps them to max.
    REQUIRE(fp8::scalar::encode<TestType>(x, fp8::overflow::non_saturating) == code);
    if (!ref::is_inf(f, c)) {
      REQUIRE(fp8::scalar::encode<TestType>(x, fp8::overflow::saturate) == code);
      REQUIRE(fp8::scalar::encode<TestType>(static_cast<double>(x)) == code);
      REQUIRE(fp8::fp8<TestType>(x).bits() == code);
    }
  }
}

TEMPLATE_TEST_CASE("traits and numeric_limits match the specifications", "[types]", FP8_ALL_FORMATS) {
  using T = fp8::fp8<TestType>;
  using L = std::numeric_limits<T>;
  using Tr = fp8::format_traits<TestType>;
  const ref::format& f = spec_of<TestType>();
  INFO(f.name);
  CHECK(static_cast<double>(L::max()) == f.max);
  CHECK(static_cast<double>(L::lowest()) == -f.max);
  CHECK(static_cast<double>(L::denorm_min()) == f.min_subnormal);
  CHECK(static_cast<double>(L::min()) == std::ldexp(1.0, 1 - f.bias));
  CHECK(static_cast<double>(L::epsilon()) == std::ldexp(1.0, -f.mantissa_bits));
  CHECK(static_cast<double>(L::round_error()) == 0.5);
  CHECK(std::isnan(static_cast<float>(L::quiet_NaN())));
  CHECK(L::has_infinity == (f.kind == ref::family::ieee));
  if (L::has_infinity) {
    CHECK(std::isinf(static_cast<float>(L::infinity())));
  } else {
    CHECK(std::isnan(static_cast<float>(L::infinity())));
  }
  CHECK(L::digits == f.mantissa_bits + 1);
  CHECK(L::digits10 == static_cast<int>(std::floor((L::digits - 1) * std::log10(2.0))));
  CHECK(L::max_digits10 == static_cast<int>(std::ceil(1 + L::digits * std::log10(2.0))));
  CHECK(L::min_exponent10 == static_cast<int>(std::ceil(std::log10(std::ldexp(1.0, 1 - f.bias)))));
  CHECK(L::max_exponent10 == static_cast<int>(std::floor(std::log10(f.max))));
  CHECK(std::ldexp(1.0, L::min_exponent - 1) == static_cast<double>(L::min()));
  CHECK(std::ldexp(1.0, L::max_exponent) > f.max);
  CHECK(std::ldexp(1.0, L::max_exponent - 1) <= f.max);
  CHECK(Tr::has_negative_zero == (f.kind != ref::family::fnuz));
  CHECK(sizeof(T) == 1);
}
