// SPDX-License-Identifier: Apache-2.0
// Dyadic numbers and integer-only rescaling, the arithmetic of HAWQ-V3
// (Yao et al., "HAWQ-V3: Dyadic Neural Network Quantization", ICML 2021,
// §3.1, eq. 4-5): a real scale S is replaced by a dyadic number
// multiplier * 2^(shift - 31), and rescaling an int32 accumulator becomes one
// integer multiply, a rounding shift and a saturation, with no float and no
// division. This header holds the scalar definition that every bulk kernel
// equals bit for bit:
//   - struct dyadic and to_dyadic(), which is TFLite's QuantizeMultiplier
//     (tensorflow/lite/kernels/internal/quantization_util.cc) for every double;
//   - the fixed-point primitives, each named after the instruction or the tie
//     rule it implements (gemmlowp fixedpoint/fixedpoint.h, ARM SQRDMULH/SRSHR);
//   - requantize(acc, dyadic, dyadic_rounding), the three rounding conventions
//     that frameworks disagree on (tensorflow/tensorflow#25087).
// Everything is constexpr, 64-bit integer arithmetic only (no __int128), and
// callable from CUDA device code.
#pragma once

#include <cstdint>

#include "../config.hpp"
#include "../detail/bit.hpp"
#include "../detail/enum.hpp"
#include "../error.hpp"

FP8_BEGIN_NAMESPACE

// value = multiplier * 2^(shift - 31). to_dyadic() normalizes
// |multiplier| into [2^30, 2^31) (a Q0.31 fraction in [0.5, 1)) and shift is
// then the exponent of frexp; any other pair is accepted by requantize() too
// (HAWQ-V3 uses multipliers of a few bits).
struct dyadic {
  std::int32_t multiplier;
  int shift;
};

FP8_HOST_DEVICE constexpr bool operator==(dyadic a, dyadic b) noexcept {
  return a.multiplier == b.multiplier && a.shift == b.shift;
}
FP8_HOST_DEVICE constexpr bool operator!=(dyadic a, dyadic b) noexcept { return !(a == b); }

// How requantize() rounds acc * multiplier * 2^(shift - 31) to an integer.
// Each matches a framework bit for bit where that framework is defined
// (docs/dyadic.md has the table):
enum class dyadic_rounding {
  // gemmlowp / TFLite default build: SaturatingRoundingDoublingHighMul (ties
  // toward +inf) of acc * 2^max(shift, 0), then RoundingDivideByPOT (ties away
  // from zero) by 2^max(-shift, 0). Two roundings: (7984, 1583594044, -9) -> 12.
  double_rounding,
  // TFLITE_SINGLE_ROUNDING, XNNPACK "rndnu", ruy, CMSIS-NN single rounding:
  // the exact product rounded once, ties toward +inf. (7984, 1583594044, -9) -> 11.
  single_rounding,
  // The exact product rounded once, ties to even: ONNX QLinear* reference
  // kernels (which round in float with ties to even) and HAWQ-V3's PyTorch
  // simulation (torch.round), wherever their float arithmetic is exact.
  half_even
};
FP8_ENUM_RANGE(dyadic_rounding, half_even)

// ---------------------------------------------------------------- primitives
// gemmlowp's fixed-point building blocks and the three rounding right shifts.
// Right shifts of negative numbers below are arithmetic (floor), as every
// supported compiler defines them and C++20 requires; left shifts are only
// applied to non-negative or unsigned values (a negative one would be UB).

// x / 2^e rounded to nearest, ties toward +infinity: floor(x / 2^e + 1/2).
// ARM SRSHR/URSHR, XNNPACK rndnu, TFLITE_SINGLE_ROUNDING. Exact for every
// int64 x and e >= 0 (e <= 0 returns x).
FP8_HOST_DEVICE constexpr std::int64_t rounding_shift_right_half_up(std::int64_t x, int e) noexcept {
  if (e <= 0) return x;
  if (e >= 64) return 0;          // |x / 2^e| <= 1/2 with -1/2 only for INT64_MIN / 2^64: floor(0) = 0
  const std::int64_t q = x >> e;  // floor(x / 2^e)
  const std::uint64_t r = static_cast<std::uint64_t>(x) & ((std::uint64_t{1} << e) - 1);
  const std::uint64_t midpoint = std::uint64_t{1} << (e - 1);
  return q + (r >= midpoint ? 1 : 0);  // q <= 2^(63-e) - 1, so q + 1 cannot overflow
}

// x / 2^e rounded to nearest, ties to even (IEEE 754 roundTiesToEven).
FP8_HOST_DEVICE constexpr std::int64_t rounding_shift_right_half_even(std::int64_t x, int e) noexcept {
  if (e <= 0) return x;
  if (e >= 64) return 0;  // at most a tie at -1/2 (x = INT64_MIN, e = 64), which goes to the even 0
  const std::int64_t q = x >> e;
  const std::uint64_t r = static_cast<std::uint64_t>(x) & ((std::uint64_t{1} << e) - 1);
  const std::uint64_t midpoint = std::uint64_t{1} << (e - 1);
  return q + ((r > midpoint || (r == midpoint && (q & 1) != 0)) ? 1 : 0);
}

// x / 2^e rounded to nearest, ties away from zero (C's round()).
FP8_HOST_DEVICE constexpr std::int64_t rounding_shift_right_half_away(std::int64_t x, int e) noexcept {
  if (e <= 0) return x;
  if (e >= 64) return x == INT64_MIN && e == 64 ? -1 : 0;  // the one tie: -2^63 / 2^64 = -1/2
  const std::int64_t q = x >> e;
  const std::uint64_t r = static_cast<std::uint64_t>(x) & ((std::uint64_t{1} << e) - 1);
  const std::uint64_t midpoint = std::uint64_t{1} << (e - 1);
  return q + ((r > midpoint || (r == midpoint && x >= 0)) ? 1 : 0);  // a negative tie keeps floor: away from zero
}

// Clamp a 64-bit value into int32.
FP8_HOST_DEVICE constexpr std::int32_t saturate_int32(std::int64_t x) noexcept {
  return x < INT32_MIN ? INT32_MIN : x > INT32_MAX ? INT32_MAX : static_cast<std::int32_t>(x);
}

// gemmlowp SaturatingRoundingDoublingHighMul = ARMv7 VQRDMULH / AArch64
// SQRDMULH on one lane: the high half of 2*a*b with rounding,
// floor(a * b / 2^31 + 1/2) (ties toward +inf: gemmlowp's nudge 1 - 2^30
// for negative products, followed by a division that truncates toward zero,
// is that floor), saturated: only a = b = INT32_MIN overflows (2^31).
FP8_HOST_DEVICE constexpr std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) noexcept {
  return saturate_int32(rounding_shift_right_half_up(std::int64_t{a} * b, 31));
}

// gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away
// from zero. gemmlowp requires exponent in [0, 31]; larger exponents are
// exact here too (the result is 0, or -1 for INT32_MIN / 2^32), and a
// negative exponent is treated as 0.
FP8_HOST_DEVICE constexpr std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) noexcept {
  // |x| <= 2^31, so exponents past 33 all give 0, as 63 does.
  return static_cast<std::int32_t>(rounding_shift_right_half_away(x, exponent > 63 ? 63 : exponent));
}

// ---------------------------------------------------------------- to_dyadic
namespace detail {

// frexp, exactly, as integers: |x| = significand * 2^(exponent - 53) with
// significand in [2^52, 2^53), i.e. frexp's fraction is significand / 2^53 and
// its exponent is `exponent`. Only for finite, non-zero, normal x (the callers
// flush subnormals: their exponent is far below -31).
struct dyadic_frexp {
  std::uint64_t significand;
  int exponent;
  bool negative;
};

FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR dyadic_frexp dyadic_decompose(double x) noexcept {
  const std::uint64_t bits = ::fp8::detail::bit_cast<std::uint64_t>(x);
  const int biased = static_cast<int>((bits >> 52) & 0x7FF);
  // binary64: x = 1.f * 2^(biased - 1023) = (2^52 + f) * 2^(biased - 1075);
  // frexp's fraction is (2^52 + f) / 2^53, so its exponent is biased - 1022.
  return {(bits & ((std::uint64_t{1} << 52) - 1)) | (std::uint64_t{1} << 52), biased - 1022, (bits >> 63) != 0};
}

enum class dyadic_class { zero, normal, nan, infinite };

FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR dyadic_class dyadic_classify(double x) noexcept {
  const std::uint64_t bits = ::fp8::detail::bit_cast<std::uint64_t>(x);
  const std::uint64_t exponent = (bits >> 52) & 0x7FF;
  const std::uint64_t fraction = bits & ((std::uint64_t{1} << 52) - 1);
  if (exponent == 0x7FF) return fraction != 0 ? dyadic_class::nan : dyadic_class::infinite;
  // Zero and subnormals: frexp's exponent is <= -1022 (< -31), so TFLite
  // flushes both to (0, 0).
  if (exponent == 0) return dyadic_class::zero;
  return dyadic_class::normal;
}

}  // namespace detail

// TFLite QuantizeMultiplier (default build), for every double:
//   q, e = frexp(scale); m = round_half_away(q * 2^31);
//   if m == 2^31: m = 2^30, e += 1            (only for positive q: TFLite
//                                              compares with +2^31, so a
//                                              negative scale may give INT32_MIN)
//   if e < -31:   m = 0, e = 0                 (flush: every product would
//                                              round to 0; zero and subnormal
//                                              scales land here)
// The result is bit-identical to TFLite's, including negative scales. Unlike
// a TFLITE_SINGLE_ROUNDING build it does not clamp shift to 30: a shift above
// 30 is returned as is (requantize() accepts it; the bulk functions reject it).
// Cases where TFLite has undefined behaviour get a documented answer here:
// NaN -> {0, 0}; +-infinity -> what +-DBL_MAX gives, {+-2^30, 1025}.
FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR dyadic to_dyadic(double scale) noexcept {
  switch (detail::dyadic_classify(scale)) {
    case detail::dyadic_class::zero:
    case detail::dyadic_class::nan:
      return {0, 0};
    case detail::dyadic_class::infinite:
      return {scale < 0 ? -(std::int32_t{1} << 30) : (std::int32_t{1} << 30), 1025};
    case detail::dyadic_class::normal:
      break;
  }
  const detail::dyadic_frexp f = detail::dyadic_decompose(scale);
  // q * 2^31 = significand * 2^(31 - 53): round half away from zero by
  // adding half of the dropped 2^22 and truncating (the magnitude is rounded,
  // the sign applied after, which is what round() does).
  std::uint64_t m = (f.significand + (std::uint64_t{1} << 21)) >> 22;  // in [2^30, 2^31]
  int shift = f.exponent;
  if (m == (std::uint64_t{1} << 31) && !f.negative) {
    m >>= 1;
    ++shift;
  }
  if (shift < -31) return {0, 0};
  // m <= 2^31; a negative 2^31 is INT32_MIN, written without overflowing.
  const std::int32_t multiplier =
      f.negative ? static_cast<std::int32_t>(-static_cast<std::int64_t>(m)) : static_cast<std::int32_t>(m);
  return {multiplier, shift};
}

// The same with a multiplier of at most `multiplier_bits` significant bits
// (1..31), as HAWQ-V3 uses for hardware with narrow multipliers (its
// batch_frexp: round_half_up(frexp fraction * 2^bits)):
//   |multiplier| = round_half_away(q * 2^bits), renormalized to 2^(bits-1)
//   with the exponent + 1 when it reaches 2^bits (for either sign, so
//   |multiplier| < 2^bits always), and shift = e - bits + 31, so that
//   multiplier * 2^(shift - 31) = round(q * 2^bits) * 2^(e - bits).
// Shifts below -31 flush to {0, 0} as above (the value is below 2^(bits-63),
// so every int32 product rounds to 0 anyway). For non-negative scales,
// to_dyadic(scale, 31) == to_dyadic(scale). Throws fp8::invalid_argument for
// multiplier_bits outside [1, 31].
FP8_BIT_CAST_CONSTEXPR dyadic to_dyadic(double scale, int multiplier_bits) {
  FP8_REQUIRE_ARG(multiplier_bits >= 1 && multiplier_bits <= 31, "fp8::to_dyadic", "multiplier_bits",
                  "must be in [1, 31]");
  const int b = multiplier_bits;
  switch (detail::dyadic_classify(scale)) {
    case detail::dyadic_class::zero:
    case detail::dyadic_class::nan:
      return {0, 0};
    case detail::dyadic_class::infinite: {
      const std::int32_t top = static_cast<std::int32_t>(std::int64_t{1} << (b - 1));
      return {scale < 0 ? -top : top, 1025 - b + 31};
    }
    case detail::dyadic_class::normal:
      break;
  }
  const detail::dyadic_frexp f = detail::dyadic_decompose(scale);
  // q * 2^b = significand * 2^(b - 53), b - 53 <= -22.
  const int drop = 53 - b;
  std::uint64_t m = (f.significand + (std::uint64_t{1} << (drop - 1))) >> drop;  // in [2^(b-1), 2^b]
  int e = f.exponent;
  if (m == (std::uint64_t{1} << b)) {
    m >>= 1;
    ++e;
  }
  const int shift = e - b + 31;
  if (shift < -31) return {0, 0};
  const auto magnitude = static_cast<std::int32_t>(m);
  return {f.negative ? -magnitude : magnitude, shift};
}

// The real number a dyadic stands for (exact unless it under/overflows a double).
FP8_HOST_DEVICE constexpr double dyadic_value(dyadic d) noexcept {
  double v = static_cast<double>(d.multiplier);
  // Beyond +-1200 the result is 0 or +-inf anyway (|multiplier| < 2^32).
  int e = d.shift < -1200 ? -1200 : d.shift > 1200 ? 1200 : d.shift - 31;
  for (; e > 0; --e) v *= 2.0;
  for (; e < 0; ++e) v *= 0.5;
  return v;
}

// ---------------------------------------------------------------- requantize
// acc * multiplier * 2^(shift - 31), rounded as `r` says, saturated to int32.
// Defined for every int32 acc and multiplier and every shift:
//
//   single_rounding  floor(v + 1/2) of the exact v = acc * m * 2^(shift-31)
//   half_even        v rounded to nearest, ties to even
//   double_rounding  shift >= 0: SRDHM(acc * 2^shift, m), the product taken
//                    exactly, so this equals single_rounding;
//                    shift < 0: RoundingDivideByPOT(SRDHM(acc, m), -shift)
//
// Saturation: where the exact result, or TFLite's intermediate
// acc * 2^shift, does not fit in int32, the result is the exact value clamped
// to [INT32_MIN, INT32_MAX]. TFLite has undefined behaviour there (a signed
// overflow in `x * (1 << left_shift)`, or a DCHECK), so within TFLite's domain
// (shift in [-31, 30], no overflow) every variant equals TFLite bit for bit.
//
// Every shift is defined, INT_MIN and INT_MAX included: |acc * multiplier| <=
// 2^62, so below shift = -96 every rounding gives 0 and above 96 every
// nonzero product saturates, as at -96 and 96; the shift is clamped to
// [-96, 96] first, which changes no result and keeps the arithmetic on it
// from overflowing. Like the rest of the scalar layer (constexpr, callable
// from device code) this function reports no errors: an r that is not a
// dyadic_rounding enumerator rounds as single_rounding. The bulk functions
// (dyadic/requantize.hpp) reject such an r.
FP8_HOST_DEVICE constexpr std::int32_t requantize(std::int32_t acc, dyadic d, dyadic_rounding r) noexcept {
  const int shift = d.shift < -96 ? -96 : d.shift > 96 ? 96 : d.shift;
  if (r == dyadic_rounding::double_rounding && shift < 0) {
    // Two roundings: ties toward +inf at 2^31, then ties away from zero at
    // 2^-shift. SRDHM saturates only INT32_MIN * INT32_MIN (2^31 ->
    // 2^31 - 1), which changes no final result: (2^31 - 1) / 2^e and
    // 2^31 / 2^e round to the same integer for every e >= 1.
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(acc, d.multiplier), -shift);
  }
  const std::int64_t p = std::int64_t{acc} * d.multiplier;  // |p| <= 2^62: exact
  const int k = 31 - shift;                                 // v = p / 2^k
  if (k <= 0) {
    // A left shift: exact, then saturated. p * 2^-k fits iff p lies between
    // INT32_MIN >> -k and INT32_MAX >> -k (floor division by 2^-k).
    if (p == 0) return 0;
    if (-k >= 32) return p > 0 ? INT32_MAX : INT32_MIN;
    const int s = -k;
    if (p > (std::int64_t{INT32_MAX} >> s)) return INT32_MAX;
    if (p < (std::int64_t{INT32_MIN} >> s)) return INT32_MIN;
    return static_cast<std::int32_t>(p * (std::int64_t{1} << s));
  }
  return saturate_int32(r == dyadic_rounding::half_even ? rounding_shift_right_half_even(p, k)
                                                        : rounding_shift_right_half_up(p, k));
}

FP8_END_NAMESPACE
