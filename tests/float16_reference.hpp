// SPDX-License-Identifier: Apache-2.0
// Independent references for half and bfloat16: the textbook formula of a
// binary16 code's value, and the well-known "add 0x7FFF plus the lowest
// kept bit" rounding of float bits to bfloat16.
#pragma once

#include <cmath>
#include <cstdint>

#include "formats.hpp"

// The value of binary16 code h (NaN without its sign).
inline double half_formula(unsigned h) {
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  const int e = static_cast<int>((h >> 10) & 0x1F);
  const double m = static_cast<double>(h & 0x3FF);
  if (e == 31) return m == 0 ? sign * INFINITY : NAN;
  return e == 0 ? sign * std::ldexp(m, -24) : sign * std::ldexp(1024 + m, e - 25);
}

// float x rounded to bfloat16 bits (nearest, ties to even; NaN to the
// canonical quiet NaN with x's sign).
inline std::uint16_t bf16_reference(float x) {
  const std::uint32_t u = float_bits(x);
  if (std::isnan(x)) return static_cast<std::uint16_t>((u >> 16 & 0x8000u) | 0x7FC0u);
  return static_cast<std::uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}
