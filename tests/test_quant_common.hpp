// SPDX-License-Identifier: Apache-2.0
// Inputs and helpers shared by the tests of the quantization layer
// (tests/test_quant_*.cpp): float arrays that reach every path of an FP8
// encoder (values across and beyond each format's range, exact codes, ties,
// NaN payloads, infinities, signed zeros, float subnormals), bit comparison of
// floats, and a check that a call throws fp8::invalid_argument naming an
// argument.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

// The quantization layer's own headers, not the umbrella: these tests also
// show that quant/ needs nothing else.
#include <fp8/codec/bulk.hpp>
#include <fp8/codec/stochastic.hpp>
#include <fp8/quant/quant.hpp>

#include "formats.hpp"

namespace quant_test {

#define FP8_QUANT_FORMATS FP8_ALL_FORMATS

constexpr auto sat = fp8::overflow::saturate;
constexpr auto nonsat = fp8::overflow::non_saturating;

inline float nan_with(std::uint32_t payload, bool negative) {
  return float_from_bits((negative ? 0xFF800000u : 0x7F800000u) | (payload & 0x7FFFFFu) | 1u);
}

// n floats for format F: a mix of random magnitudes from below F's smallest
// subnormal to above its max, exact FP8 values, midpoints between adjacent
// FP8 values (ties), specials, and arbitrary bit patterns. `spread` scales
// the magnitudes (to exercise scales other than 1).
template <class F>
std::vector<float> mixed_inputs(std::size_t n, std::uint64_t seed, float spread = 1.0f) {
  using T = fp8::format_traits<F>;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> kind(0, 99);
  std::uniform_int_distribution<int> exponent(T::subnormal_exponent - 4, T::max_exponent + 3);
  std::uniform_real_distribution<float> mantissa(1.0f, 2.0f);
  std::uniform_int_distribution<unsigned> code(0, 255);
  std::vector<float> v(n);
  for (auto& x : v) {
    const int k = kind(rng);
    const bool negative = (rng() & 1) != 0;
    float y;
    if (k < 40) {
      y = std::ldexp(mantissa(rng), exponent(rng)) * spread;
    } else if (k < 55) {
      y = fp8::scalar::decode<F>(static_cast<std::uint8_t>(code(rng))) * spread;
    } else if (k < 70) {
      const auto c = static_cast<std::uint8_t>(code(rng) & 0x7E);
      const float a = fp8::scalar::decode<F>(c), b = fp8::scalar::decode<F>(static_cast<std::uint8_t>(c + 1));
      y = std::isfinite(a) && std::isfinite(b) ? (a + b) / 2 * spread : a;
    } else if (k < 75) {
      switch (rng() % 8) {
        case 0: y = nan_with(static_cast<std::uint32_t>(rng()), false); break;
        case 1: y = std::numeric_limits<float>::infinity(); break;
        case 2: y = 0.0f; break;
        case 3: y = std::numeric_limits<float>::max(); break;
        case 4: y = std::numeric_limits<float>::denorm_min() * static_cast<float>(rng() % 1000); break;
        case 5: y = std::numeric_limits<float>::min(); break;
        case 6: y = static_cast<float>(std::ldexp(1.0, T::max_exponent)) * spread; break;
        default: y = fp8::scalar::decode<F>(T::max_finite_code) * spread; break;
      }
    } else {
      y = float_from_bits(static_cast<std::uint32_t>(rng()));
    }
    x = negative ? -y : y;
  }
  return v;
}

// Bitwise equality of floats, so NaN payloads, signs and -0 are compared.
inline bool same_bits(float a, float b) { return float_bits(a) == float_bits(b); }

// Runs f, which must throw fp8::invalid_argument naming `argument`.
template <class Fn>
void require_invalid(Fn&& f, const std::string& argument) {
  try {
    f();
    FAIL("no exception; expected one naming '" << argument << "'");
  } catch (const fp8::invalid_argument& e) {
    INFO(e.what());
    CHECK(std::string(e.argument()) == argument);
    CHECK(std::string(e.what()).find("'" + argument + "'") != std::string::npos);
  }
}

}  // namespace quant_test
