// SPDX-License-Identifier: Apache-2.0
// fp8::half and fp8::bfloat16 against independent references: the F16C
// instructions (vcvtph2ps / vcvtps2ph, hardware IEEE conversions) where the
// build has them, the textbook formula otherwise, and for bfloat16 the
// well-known "add 0x7FFF plus the lowest kept bit" rounding on float bits.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

#if defined(__F16C__)
#include <immintrin.h>
#endif

#include <fp8/fp8.hpp>

#include "formats.hpp"

namespace {

double half_formula(unsigned h) {
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  const int e = static_cast<int>((h >> 10) & 0x1F);
  const double m = static_cast<double>(h & 0x3FF);
  if (e == 31) return m == 0 ? sign * INFINITY : NAN;
  return e == 0 ? sign * std::ldexp(m, -24) : sign * std::ldexp(1024 + m, e - 25);
}

std::uint16_t bf16_reference(float x) {
  const std::uint32_t u = float_bits(x);
  if (std::isnan(x)) return static_cast<std::uint16_t>((u >> 16 & 0x8000u) | 0x7FC0u);
  return static_cast<std::uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

}  // namespace

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
