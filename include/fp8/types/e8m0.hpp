// SPDX-License-Identifier: Apache-2.0
// fp8::E8M0, the shared scale of OCP Microscaling (MX) v1.0 blocks (the
// spec's E8M0 scale data type): one byte holding a biased exponent and nothing else,
// so its value is always a power of two. Bias 127, no sign, no zero, no
// infinity; the code 0xFF is NaN. The values run from 2^-127 (0x00) to 2^127
// (0xFE), which is why the conversion to float needs care at the bottom:
// 2^-127 is below FLT_MIN = 2^-126 and is a float subnormal. Every numeric
// fact of the format lives in this class. Needs only the standard library.
#pragma once

#include <cstdint>

#include "../config.hpp"
#include "../detail/bit.hpp"

FP8_BEGIN_NAMESPACE

class E8M0 {
 public:
  static constexpr int exponent_bias = 127;
  static constexpr int min_exponent = -127;  // code 0x00
  static constexpr int max_exponent = 127;   // code 0xFE
  static constexpr std::uint8_t nan_code = 0xFF;
  static constexpr const char* name = "E8M0";

  // 2^0 = 1, the neutral scale (the format has no zero to default to).
  FP8_HOST_DEVICE constexpr E8M0() noexcept : bits_(exponent_bias) {}

  FP8_HOST_DEVICE static constexpr E8M0 from_bits(std::uint8_t b) noexcept {
    E8M0 r;
    r.bits_ = b;
    return r;
  }
  // 2^e for e in [-127, 127]; any other e has no code and gives NaN, as an
  // overflowing shared exponent does in the MX reference implementation.
  FP8_HOST_DEVICE static constexpr E8M0 from_exponent(int e) noexcept {
    return from_bits(e < min_exponent || e > max_exponent ? nan_code
                                                          : static_cast<std::uint8_t>(e + exponent_bias));
  }
  FP8_HOST_DEVICE static constexpr E8M0 nan() noexcept { return from_bits(nan_code); }

  FP8_HOST_DEVICE constexpr std::uint8_t bits() const noexcept { return bits_; }
  FP8_HOST_DEVICE constexpr bool is_nan() const noexcept { return bits_ == nan_code; }
  // The e of 2^e; meaningless for NaN (returns 128, one past the largest).
  FP8_HOST_DEVICE constexpr int exponent() const noexcept { return static_cast<int>(bits_) - exponent_bias; }

  // Exact. Codes 1..254 are the float exponent field itself (float's bias is
  // also 127), so the float is bits << 23. Code 0 is 2^-127 = 2^22 * 2^-149:
  // the float subnormal with only mantissa bit 22 set, 0x00400000. NaN is the
  // quiet NaN 0x7FC00000.
  FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR explicit operator float() const noexcept {
    const std::uint32_t u = bits_ == nan_code ? 0x7FC00000u
                            : bits_ == 0      ? 0x00400000u
                                              : static_cast<std::uint32_t>(bits_) << 23;
    return ::fp8::detail::bit_cast<float>(u);
  }

 private:
  std::uint8_t bits_;
};

// Comparisons order the values; NaN is unordered, as in IEEE 754 (NaN != NaN).
FP8_HOST_DEVICE constexpr bool operator==(E8M0 a, E8M0 b) noexcept {
  return !a.is_nan() && a.bits() == b.bits();
}
FP8_HOST_DEVICE constexpr bool operator!=(E8M0 a, E8M0 b) noexcept { return !(a == b); }
FP8_HOST_DEVICE constexpr bool operator<(E8M0 a, E8M0 b) noexcept {
  return !a.is_nan() && !b.is_nan() && a.bits() < b.bits();
}
FP8_HOST_DEVICE constexpr bool operator>(E8M0 a, E8M0 b) noexcept { return b < a; }
FP8_HOST_DEVICE constexpr bool operator<=(E8M0 a, E8M0 b) noexcept {
  return !a.is_nan() && !b.is_nan() && a.bits() <= b.bits();
}
FP8_HOST_DEVICE constexpr bool operator>=(E8M0 a, E8M0 b) noexcept { return b <= a; }

static_assert(sizeof(E8M0) == 1, "E8M0 is one byte");

FP8_END_NAMESPACE
