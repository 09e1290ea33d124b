// SPDX-License-Identifier: Apache-2.0
// Format tags and their traits: the one place where a format's facts live.
// The four FP8 formats, plus IEEE binary16 and bfloat16 (the 16-bit storage
// types engines convert to and from), which share the same description.
//
// A tag states four primary facts: exponent bits, mantissa bits, exponent bias
// and which codes are special (its `specials` family). Every other fact (max
// finite, min normal, min subnormal, NaN and infinity codes, whether -0
// exists) is derived in format_traits<F> from those four, so nothing about a
// format is written twice. The special-value families follow OCP "8-bit
// Floating Point Specification (OFP8)" rev 1.0 §5 and the FNUZ formats of
// Graphcore/AMD (ONNX float8e4m3fnuz, float8e5m2fnuz):
//
//   ieee : exponent all ones encodes Inf (mantissa 0) and NaN (mantissa != 0)
//   fn   : finite only; S.1111.111 is NaN, every other code is a number
//   fnuz : finite only, unsigned zero; 0x80 ("negative zero") is the one NaN
#pragma once

#include <cstdint>
#include <type_traits>

#include "../config.hpp"
#include "../detail/enum.hpp"

FP8_BEGIN_NAMESPACE

enum class specials { ieee, fn, fnuz };

// What encoding does with a finite value that rounds beyond the largest finite
// code, and with an infinite input.
enum class overflow {
  saturate,        // clamp to +-max (ONNX saturate=1, CUDA __NV_SATFINITE)
  non_saturating,  // give Inf where the format has it, otherwise NaN (ONNX saturate=0)
};
FP8_ENUM_RANGE(overflow, non_saturating)

// OCP E4M3 (ONNX float8e4m3fn, ml_dtypes float8_e4m3fn): bias 7, max 448.
struct E4M3 {
  static constexpr int exponent_bits = 4, mantissa_bits = 3, exponent_bias = 7;
  static constexpr specials special_values = specials::fn;
  static constexpr const char* name = "E4M3";
};
// OCP E5M2 (ONNX float8e5m2): bias 15, max 57344, IEEE-style Inf and NaN.
struct E5M2 {
  static constexpr int exponent_bits = 5, mantissa_bits = 2, exponent_bias = 15;
  static constexpr specials special_values = specials::ieee;
  static constexpr const char* name = "E5M2";
};
// Graphcore F143 / AMD (ONNX float8e4m3fnuz): bias 8, max 240.
struct E4M3FNUZ {
  static constexpr int exponent_bits = 4, mantissa_bits = 3, exponent_bias = 8;
  static constexpr specials special_values = specials::fnuz;
  static constexpr const char* name = "E4M3FNUZ";
};
// Graphcore F152 / AMD (ONNX float8e5m2fnuz): bias 16, max 57344.
struct E5M2FNUZ {
  static constexpr int exponent_bits = 5, mantissa_bits = 2, exponent_bias = 16;
  static constexpr specials special_values = specials::fnuz;
  static constexpr const char* name = "E5M2FNUZ";
};
using E4M3FN = E4M3;  // the ONNX spelling
// IEEE 754 binary16.
struct F16 {
  static constexpr int exponent_bits = 5, mantissa_bits = 10, exponent_bias = 15;
  static constexpr specials special_values = specials::ieee;
  static constexpr const char* name = "F16";
};
// bfloat16: the top half of an IEEE binary32.
struct BF16 {
  static constexpr int exponent_bits = 8, mantissa_bits = 7, exponent_bias = 127;
  static constexpr specials special_values = specials::ieee;
  static constexpr const char* name = "BF16";
};

// Everything derivable about format F. All codes are sign-magnitude: bit 7 is
// the sign, the low 7 bits are the magnitude, and the value grows with the
// magnitude code among finite codes.
template <class F>
struct format_traits {
  static constexpr int exponent_bits = F::exponent_bits;
  static constexpr int mantissa_bits = F::mantissa_bits;
  static constexpr int exponent_bias = F::exponent_bias;
  static constexpr specials special_values = F::special_values;
  static constexpr int bits = 1 + exponent_bits + mantissa_bits;
  static_assert(bits == 8 || bits == 16, "formats of 8 or 16 bits");
  using storage = std::conditional_t<bits == 8, std::uint8_t, std::uint16_t>;

  static constexpr storage sign_mask = static_cast<storage>(1u << (bits - 1));
  static constexpr storage magnitude_mask = static_cast<storage>(sign_mask - 1);
  static constexpr storage mantissa_mask = static_cast<storage>((1u << mantissa_bits) - 1);
  static constexpr int exponent_field_max = (1 << exponent_bits) - 1;

  static constexpr bool has_infinity = special_values == specials::ieee;
  static constexpr bool has_negative_zero = special_values != specials::fnuz;

  // Largest finite magnitude code: ieee loses the top exponent to Inf/NaN
  // (0.11110.11 = 0x7B for E5M2), fn loses only S.1111.111 (0x7E), fnuz
  // loses nothing in the positive half (0x7F).
  static constexpr storage max_finite_code =
      special_values == specials::ieee
          ? static_cast<storage>(((exponent_field_max - 1) << mantissa_bits) | mantissa_mask)
      : special_values == specials::fn ? static_cast<storage>(magnitude_mask - 1)
                                       : magnitude_mask;
  static constexpr int max_exponent = (max_finite_code >> mantissa_bits) - exponent_bias;  // of max finite
  static constexpr int min_normal_exponent = 1 - exponent_bias;
  // Exponent of the smallest subnormal step, 2^(1 - bias - M).
  static constexpr int subnormal_exponent = min_normal_exponent - mantissa_bits;
  static constexpr storage min_normal_code = static_cast<storage>(1u << mantissa_bits);
  static constexpr storage min_subnormal_code = 1;

  // Canonical codes produced by encoding. The ieee NaN is quiet (top mantissa
  // bit set: 0.11111.10 = 0x7E for E5M2); fn has one NaN per sign, fnuz one.
  static constexpr storage nan_code =
      special_values == specials::ieee
          ? static_cast<storage>((exponent_field_max << mantissa_bits) | (1u << (mantissa_bits - 1)))
      : special_values == specials::fn ? magnitude_mask
                                       : sign_mask;
  static constexpr storage infinity_code =
      static_cast<storage>(exponent_field_max << mantissa_bits);  // meaningful if has_infinity

  // True if the code encodes NaN.
  FP8_HOST_DEVICE static constexpr bool is_nan_code(storage c) noexcept {
    const unsigned mag = c & magnitude_mask;
    switch (special_values) {
      case specials::ieee: return (mag >> mantissa_bits) == exponent_field_max && (mag & mantissa_mask) != 0;
      case specials::fn: return mag == magnitude_mask;
      case specials::fnuz: return c == sign_mask;
    }
    return false;
  }
  FP8_HOST_DEVICE static constexpr bool is_infinity_code(storage c) noexcept {
    return has_infinity && (c & magnitude_mask) == infinity_code;
  }
};

FP8_END_NAMESPACE
