// SPDX-License-Identifier: Apache-2.0
// fp8::half and fp8::bfloat16 against independent references: the F16C
// instructions (vcvtph2ps / vcvtps2ph, hardware IEEE conversions) where the
// build has them, the textbook formula otherwise, and for bfloat16 the
// well-known "add 0x7FFF plus the lowest kept bit" rounding on float bits.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <sstream>

#if defined(__F16C__)
#include <immintrin.h>
#endif

#include <fp8/fp8.hpp>

#include "float16_reference.hpp"
#include "formats.hpp"


TEST_CASE("half and bfloat16 decode all 65536 codes exactly", "[float16]") {
  for (unsigned c = 0; c < 65536; ++c) {
    const auto code = static_cast<std::uint16_t>(c);
    const float h = static_cast<float>(fp8::half::from_bits(code));
    const float b = static_cast<float>(fp8::bfloat16::from_bits(code));
    INFO("code 0x" << std::hex << c);
    const double want = half_formula(c);
    if (std::isnan(want)) {
      REQUIRE(std::isnan(h));
    } else {
      REQUIRE(static_cast<double>(h) == want);
      REQUIRE(std::signbit(h) == std::signbit(want));
    }
#if defined(__F16C__)
    const float hw = _cvtsh_ss(code);
    if (!std::isnan(hw)) REQUIRE(float_bits(h) == float_bits(hw));
#endif
    const float bw = float_from_bits(c << 16);
    if (std::isnan(bw)) {
      REQUIRE(std::isnan(b));
      REQUIRE(std::signbit(b) == std::signbit(bw));
    } else {
      REQUIRE(float_bits(b) == float_bits(bw));
    }
  }
}

TEST_CASE("half and bfloat16 narrow every float correctly", "[float16][exhaustive]") {
  std::uint64_t bad_bf16 = 0, bad_half = 0, bad_bulk = 0;
  for (std::uint64_t b = 0; b <= 0xFFFFFFFFu; ++b) {
    const float x = float_from_bits(static_cast<std::uint32_t>(b));
    if (fp8::bfloat16(x).bits() != bf16_reference(x)) ++bad_bf16;
    // The vectorizable form the kernels use (codec/kernels.hpp).
    if (fp8::kernel::bfloat16_bits(x) != bf16_reference(x)) ++bad_bulk;
#if defined(__F16C__)
    // _mm_cvtps_ph rather than _cvtss_sh: clang 14's macro for the latter is a
    // compound literal, which -Wpedantic rejects.
    const auto hw = static_cast<std::uint16_t>(
        _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(x), _MM_FROUND_TO_NEAREST_INT), 0));
    // The hardware keeps NaN payload bits; ours is the canonical quiet NaN.
    const std::uint16_t want = std::isnan(x) ? static_cast<std::uint16_t>((hw & 0x8000u) | 0x7E00u) : hw;
    if (fp8::half(x).bits() != want) ++bad_half;
#endif
  }
  REQUIRE(bad_bf16 == 0);
  REQUIRE(bad_bulk == 0);
  REQUIRE(bad_half == 0);
}

namespace {
// The value of a code by the formulas above, independent of the library.
double value16(bool bf, unsigned c) {
  return bf ? static_cast<double>(float_from_bits(static_cast<std::uint32_t>(c) << 16)) : half_formula(c);
}
template <class T>
void check_numbers(bool bf) {
  for (unsigned c = 0; c < 65536; ++c) {
    const T x = T::from_bits(static_cast<std::uint16_t>(c));
    const double v = value16(bf, c);
    INFO((bf ? "bfloat16" : "half") << " code 0x" << std::hex << c);
    REQUIRE(fp8::isnan(x) == std::isnan(v));
    REQUIRE(fp8::isinf(x) == std::isinf(v));
    REQUIRE(fp8::isfinite(x) == std::isfinite(v));
    REQUIRE(fp8::signbit(x) == ((c & 0x8000u) != 0));  // NaN's sign bit included
    REQUIRE((fp8::abs(x).bits()) == (c & 0x7FFFu));
    REQUIRE((-x).bits() == (c ^ 0x8000u));
    REQUIRE((static_cast<double>(x) == v || (std::isnan(v) && std::isnan(static_cast<double>(x)))));
    // Against every 257th code: the exact values' IEEE comparisons.
    for (unsigned d = c % 257; d < 65536; d += 4099) {
      const T y = T::from_bits(static_cast<std::uint16_t>(d));
      const double w = value16(bf, d);
      REQUIRE((x == y) == (v == w));
      REQUIRE((x != y) == (v != w));
      REQUIRE((x < y) == (v < w));
      REQUIRE((x <= y) == (v <= w));
      REQUIRE((x > y) == (v > w));
      REQUIRE((x >= y) == (v >= w));
      if (v == w) REQUIRE(std::hash<T>{}(x) == std::hash<T>{}(y));  // -0 and +0 too
    }
  }
}
}  // namespace

TEST_CASE("half and bfloat16 compare, classify and negate as their exact values", "[float16]") {
  check_numbers<fp8::half>(false);
  check_numbers<fp8::bfloat16>(true);
  std::ostringstream os;
  os << fp8::half(1.5f) << ' ' << fp8::bfloat16(-0.25f);
  CHECK(os.str() == "1.5 -0.25");
}

TEST_CASE("numeric_limits of half and bfloat16 are IEEE binary16's and binary32's range at 8 bits", "[float16]") {
  using H = std::numeric_limits<fp8::half>;
  STATIC_REQUIRE(H::is_specialized);
  STATIC_REQUIRE(H::is_iec559);
  STATIC_REQUIRE(H::digits == 11);
  STATIC_REQUIRE(H::digits10 == 3);
  STATIC_REQUIRE(H::max_digits10 == 5);
  STATIC_REQUIRE(H::min_exponent == -13);
  STATIC_REQUIRE(H::max_exponent == 16);
  STATIC_REQUIRE(H::min_exponent10 == -4);
  STATIC_REQUIRE(H::max_exponent10 == 4);
  CHECK(static_cast<float>(H::max()) == 65504.0f);
  CHECK(static_cast<float>(H::lowest()) == -65504.0f);
  CHECK(static_cast<float>(H::min()) == std::ldexp(1.0f, -14));
  CHECK(static_cast<float>(H::denorm_min()) == std::ldexp(1.0f, -24));
  CHECK(static_cast<float>(H::epsilon()) == std::ldexp(1.0f, -10));
  CHECK(static_cast<float>(H::round_error()) == 0.5f);
  CHECK(std::isinf(static_cast<float>(H::infinity())));
  CHECK(std::isnan(static_cast<float>(H::quiet_NaN())));

  using B = std::numeric_limits<fp8::bfloat16>;
  using F = std::numeric_limits<float>;
  STATIC_REQUIRE(B::is_specialized);
  STATIC_REQUIRE(!B::is_iec559);
  STATIC_REQUIRE(B::digits == 8);
  STATIC_REQUIRE(B::digits10 == 2);
  STATIC_REQUIRE(B::max_digits10 == 4);
  STATIC_REQUIRE(B::min_exponent == F::min_exponent);  // float's exponent range
  STATIC_REQUIRE(B::max_exponent == F::max_exponent);
  STATIC_REQUIRE(B::min_exponent10 == F::min_exponent10);
  STATIC_REQUIRE(B::max_exponent10 == F::max_exponent10);
  CHECK(static_cast<float>(B::max()) == float_from_bits(0x7F7F0000u));
  CHECK(static_cast<float>(B::lowest()) == -float_from_bits(0x7F7F0000u));
  CHECK(static_cast<float>(B::min()) == F::min());
  CHECK(static_cast<float>(B::denorm_min()) == std::ldexp(1.0f, -133));
  CHECK(static_cast<float>(B::epsilon()) == std::ldexp(1.0f, -7));
  CHECK(std::isinf(static_cast<float>(B::infinity())));
  CHECK(std::isnan(static_cast<float>(B::quiet_NaN())));
}
