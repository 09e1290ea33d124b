// SPDX-License-Identifier: Apache-2.0
// An independent reference for the dyadic rescaling layer, used only by the
// tests. It shares no code with include/fp8/dyadic and is written differently:
//   - arithmetic on exact 128-bit integers, rounding by division and
//     remainder (x / 2^e written as a division by a power of two, never a
//     shift), straight from the formulas the frameworks document;
//   - a literal transcription of the published gemmlowp / TFLite scalar code
//     (nudge and truncating division; mask, remainder and threshold), valid
//     where TFLite is defined;
//   - QuantizeMultiplier from std::frexp and std::llround, as TFLite writes it.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

namespace dref {

__extension__ typedef __int128 i128;  // __extension__: no -Wpedantic warning

constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();

inline i128 pow2(int e) {
  i128 p = 1;
  for (int i = 0; i < e; ++i) p *= 2;
  return p;
}

// floor(x / d) for d > 0, from C++'s truncating division.
inline i128 floor_div(i128 x, i128 d) {
  i128 q = x / d;
  if (x % d != 0 && x < 0) q -= 1;
  return q;
}

enum class tie { up, even, away };

// x / 2^e rounded to nearest with the given tie rule, e >= 0.
inline i128 round_div_pow2(i128 x, int e, tie t) {
  const i128 d = pow2(e);
  const i128 q = floor_div(x, d);
  const i128 r2 = 2 * (x - q * d);  // twice the remainder, in [0, 2d)
  if (r2 > d) return q + 1;
  if (r2 < d) return q;
  switch (t) {  // exact tie: q + 1/2
    case tie::up:
      return q + 1;
    case tie::even:
      return q % 2 == 0 ? q : q + 1;
    case tie::away:
      return x >= 0 ? q + 1 : q;
  }
  return q;
}

inline std::int32_t sat32(i128 x) {
  if (x < kMin) return kMin;
  if (x > kMax) return kMax;
  return static_cast<std::int32_t>(x);
}

// rounding: 0 double (gemmlowp/TFLite default), 1 single (TFLITE_SINGLE_ROUNDING,
// ties up), 2 half-even; the saturating extension of docs/dyadic.md.
inline std::int32_t requantize(std::int32_t acc, std::int32_t m, int shift, int rounding) {
  const i128 x = acc;
  if (rounding == 0) {
    const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    // SRDHM on the exact acc * 2^left: round(x * 2^left * m / 2^31), ties up.
    const i128 high = round_div_pow2(x * pow2(left) * m, 31, tie::up);
    if (right == 0) return sat32(high);
    // gemmlowp saturates the high product into int32 before dividing.
    return sat32(round_div_pow2(sat32(high), right, tie::away));
  }
  const i128 p = x * m;
  if (shift >= 31) return sat32(p * pow2(shift - 31));
  return sat32(round_div_pow2(p, 31 - shift, rounding == 1 ? tie::up : tie::even));
}

// ---------------------------------------------------------------- literal transcriptions
// gemmlowp fixedpoint.h, scalar int32 specializations, as published.
inline std::int32_t gemmlowp_srdhm(std::int32_t a, std::int32_t b) {
  const bool overflow = a == b && a == kMin;
  const std::int64_t ab = std::int64_t{a} * std::int64_t{b};
  const std::int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  const auto high = static_cast<std::int32_t>((ab + nudge) / (std::int64_t{1} << 31));
  return overflow ? kMax : high;
}
inline std::int32_t gemmlowp_rdbpot(std::int32_t x, int exponent) {
  const auto mask = static_cast<std::int32_t>((std::int64_t{1} << exponent) - 1);
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}
// TFLite MultiplyByQuantizedMultiplier, default build. Defined only where
// x * 2^left_shift fits in int32.
inline std::int32_t tflite_double_rounding(std::int32_t x, std::int32_t m, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  return gemmlowp_rdbpot(gemmlowp_srdhm(static_cast<std::int32_t>(std::int64_t{x} * (std::int64_t{1} << left)), m),
                         right);
}
// TFLite MultiplyByQuantizedMultiplier, TFLITE_SINGLE_ROUNDING build
// (m >= 0, shift in [-31, 30], result within int32).
inline std::int32_t tflite_single_rounding(std::int32_t x, std::int32_t m, int shift) {
  const std::int64_t total_shift = 31 - shift;
  const std::int64_t round = std::int64_t{1} << (total_shift - 1);
  const std::int64_t result = (std::int64_t{x} * m + round) >> total_shift;
  return static_cast<std::int32_t>(result);
}

// TFLite QuantizeMultiplier (default build), through frexp and llround.
inline std::pair<std::int32_t, int> quantize_multiplier(double x) {
  if (x == 0.0) return {0, 0};
  int shift = 0;
  const double q = std::frexp(x, &shift);
  long long q_fixed = std::llround(q * 2147483648.0);  // round half away from zero, exact here
  if (q_fixed == (1LL << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) {
    shift = 0;
    q_fixed = 0;
  }
  return {static_cast<std::int32_t>(q_fixed), shift};
}

// The multiplier-bits variant as fp8 documents it: |m| = llround(|q| * 2^bits),
// renormalized at 2^bits for both signs, shift = e - bits + 31, flushed below -31.
inline std::pair<std::int32_t, int> quantize_multiplier_bits(double x, int bits) {
  if (x == 0.0) return {0, 0};
  int e = 0;
  const double q = std::frexp(std::fabs(x), &e);
  long long m = std::llround(std::ldexp(q, bits));
  if (m == (1LL << bits)) {
    m /= 2;
    ++e;
  }
  const int shift = e - bits + 31;
  if (shift < -31) return {0, 0};
  return {static_cast<std::int32_t>(x < 0 ? -m : m), shift};
}

}  // namespace dref
