// SPDX-License-Identifier: Apache-2.0
// The arithmetic shared by every requantization kernel (not for direct use;
// the entry points are in dyadic/requantize.hpp). Each output element is
//
//   out = clamp(requantize(sat32(acc + bias), d, r) + zero_point, lo, hi)
//
// (dyadic/requantize.hpp, requantize_element). A vector kernel evaluates it
// as four steps per lane, with constants derived here once per channel:
//
//   1. a = min(max(acc, acc_lo), acc_hi) + bias                     (int32)
//   2. p = a * multiplier                                           (int64)
//   3. y = (p + add - (p < -2^30 ? sub : 0)) >> count               (int64, floor)
//      half_even adds bit `count` of p as well (see below)
//   4. out = min(max(y, lo - zp), hi - zp) + zp                     (int32, one byte)
//
// Step 1, the pre-clamp (every vector tier). Rescaling is
// monotone in a, so clamping a to a range
// [-A, A] outside of which every result already lies beyond the output clamp
// changes no output, and it bounds |y| so that step 3 fits in int32 (the
// kernels keep only the low 32 bits of y). With bl = bit length of |m| and
// v(a) = a * m * 2^(shift - 31):
//     |m| in [2^(bl-1), 2^bl)  =>  |v(2^e)| in [2^(e + bl + shift - 32), 2^(e + bl + shift - 31))
// so e = 43 - shift - bl puts |v(A)| in [2^11, 2^12): at the clamp |y| >= 2^11 - 1,
// beyond every output clamp (lo, hi and zp lie in one 8-bit range, so
// |lo - zp|, |hi - zp| <= 255; the margin is deliberate), and |y| <= 2^12 + 1
// inside. If e >= 31 no clamp is needed (|v| <= 2^(bl + shift) <= 2^12 for every
// int32 a); if e <= 0, A = 1 (already |v(1)| >= 2^11, and |v(1)| <= 2^30).
// The bias is folded in: clamp(sat32(acc + bias), -A, A) ==
// clamp(acc, max(-A - bias, INT32_MIN), min(A - bias, INT32_MAX)) + bias, and
// the right-hand side never overflows. Without a clamp the same bounds are
// exactly the saturating addition sat32(acc + bias).
//
// Step 3, one floor shift per rounding (p is exact: |p| <= 2^62):
//   single_rounding   floor((p + 2^(k-1)) / 2^k), k = 31 - shift in [1, 62]
//   half_even         floor((p + 2^(k-1) - 1 + bit_k(p)) / 2^k): a tie
//                     (remainder exactly 2^(k-1)) rounds up iff the quotient
//                     floor(p / 2^k), whose lowest bit is bit_k(p), is odd;
//                     any other remainder is unaffected by the -1 + bit.
//   double_rounding   shift >= 0: as single_rounding (the left shift is exact).
//                     shift < 0, rs = -shift in [1, 31]: SRDHM gives
//                     y1 = floor((p + 2^30) / 2^31); RoundingDivideByPOT gives
//                     floor((y1 + 2^(rs-1) - [y1 < 0]) / 2^rs) (ties away from
//                     zero); y1 < 0 iff p < -2^30, and an integer added inside
//                     a floor passes through it, so both floors merge into
//                     floor((p + 2^30 + 2^(30+rs) - [p < -2^30] * 2^31) / 2^(31+rs)):
//                     add = 2^30 + 2^(30+rs), sub = 2^31, count = 31 + rs.
//                     (Exact y1 = 2^31 for INT32_MIN^2, where gemmlowp saturates
//                     to 2^31 - 1, rounds the same after any rs >= 1.)
// |p + add| < 2^62 + 2^61 + 2^30 < 2^63: no step overflows.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../config.hpp"
#include "../detail/bit.hpp"
#include "dyadic.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

// Constants for one lane (one channel).
struct requant_lane {
  std::int32_t acc_lo, acc_hi, bias;  // step 1
  std::int32_t multiplier;            // step 2
  std::int64_t add, sub;              // step 3
  int count;                          // step 3, in [1, 62]
};

// Per call: the output clamp of step 4.
struct requant_plan {
  dyadic_rounding rounding;
  std::int32_t zero_point;
  std::int32_t lo, hi;  // the effective output clamp (Out's range, clamp_min/max, ReLU)
};

FP8_HOST_DEVICE constexpr int requant_bit_length(std::uint32_t x) noexcept {
  return x == 0 ? 0 : 64 - countl_zero64(x);
}

// d.shift must lie in [-31, 30] (the bulk entry points check it).
FP8_HOST_DEVICE constexpr requant_lane requant_lane_for(dyadic d, std::int32_t bias, dyadic_rounding r) noexcept {
  requant_lane lane{};
  lane.multiplier = d.multiplier;
  lane.bias = bias;
  // Step 1: A, as derived above.
  const std::uint32_t magnitude =
      d.multiplier < 0 ? 0u - static_cast<std::uint32_t>(d.multiplier) : static_cast<std::uint32_t>(d.multiplier);
  const int e = 43 - d.shift - requant_bit_length(magnitude);
  std::int64_t a_lo = INT32_MIN, a_hi = INT32_MAX;
  if (magnitude != 0 && e < 31) {
    const std::int64_t a = e <= 0 ? 1 : std::int64_t{1} << e;
    a_lo = -a;
    a_hi = a;
  }
  const std::int64_t lo = a_lo - bias, hi = a_hi - bias;
  lane.acc_lo = static_cast<std::int32_t>(lo < INT32_MIN ? INT32_MIN : lo);
  lane.acc_hi = static_cast<std::int32_t>(hi > INT32_MAX ? INT32_MAX : hi);
  // Step 3.
  const int k = 31 - d.shift;
  if (r == dyadic_rounding::double_rounding && d.shift < 0) {
    const int rs = -d.shift;
    lane.add = (std::int64_t{1} << 30) + (std::int64_t{1} << (30 + rs));
    lane.sub = std::int64_t{1} << 31;
    lane.count = 31 + rs;
  } else {
    lane.add = (std::int64_t{1} << (k - 1)) - (r == dyadic_rounding::half_even ? 1 : 0);
    lane.sub = 0;
    lane.count = k;
  }
  return lane;
}

// Where a tile's lanes come from: one dyadic and no bias (uniform), or
// per-column dyadics and/or biases. Column j of a tile is channel
// (first + j) % period.
struct requant_lanes {
  dyadic uniform_dyadic;
  const dyadic* dyadics;       // null: uniform_dyadic for every channel
  const std::int32_t* biases;  // null: no bias
  std::size_t period, first;
  dyadic_rounding rounding;
  // The smallest and largest shift of the channels, when the entry knows them
  // (it scanned them to check them); otherwise the kernel scans them.
  bool shifts_known = false;
  int min_shift = 0, max_shift = 0;

  constexpr bool uniform() const noexcept { return dyadics == nullptr && biases == nullptr; }
  std::size_t channel(std::size_t column) const noexcept { return (first + column) % period; }
  requant_lane lane_of_channel(std::size_t c) const noexcept {
    return requant_lane_for(dyadics != nullptr ? dyadics[c] : uniform_dyadic, biases != nullptr ? biases[c] : 0,
                            rounding);
  }
  requant_lane lane(std::size_t column) const noexcept { return lane_of_channel(channel(column)); }
  dyadic dyadic_at(std::size_t column) const noexcept {
    return dyadics != nullptr ? dyadics[(first + column) % period] : uniform_dyadic;
  }
  std::int32_t bias_at(std::size_t column) const noexcept {
    return biases != nullptr ? biases[(first + column) % period] : 0;
  }
};

// Without a 64-bit arithmetic shift a tier shifts logically and adds 2^63
// (dyadic/requantize_loop-inl.hpp derives both): the rounding constant with
// its sign bit flipped, and the low 32 bits of 2^(63 - count) that the
// logical shift leaves in the result (0 for count <= 31).
FP8_HOST_DEVICE constexpr std::int64_t requant_biased_add(std::int64_t add) noexcept {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(add) ^ (std::uint64_t{1} << 63));
}
FP8_HOST_DEVICE constexpr std::int32_t requant_bias_fix(int count) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>((std::uint64_t{1} << (63 - count)) & 0xFFFFFFFFu));
}

}  // namespace detail
FP8_END_NAMESPACE
