// SPDX-License-Identifier: Apache-2.0
// Inputs and helpers shared by the tests of the quantization layer
// (tests/test_quant_*.cpp): float arrays that reach every path of an FP8
// encoder (values across and beyond each format's range, exact codes, ties,
// NaN payloads, infinities, signed zeros, float subnormals), bit comparison of
// floats, a check that a call throws fp8::invalid_argument naming an
// argument, and the two ways a test reaches every tier in one binary: each
// tier's kernel called directly with its tag, and the entries under each
// fp8::tier_scope (for_each_way, with the call:: wrappers).
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

// The quantization layer's own headers, not the umbrella: these tests also
// show that quant/ needs nothing else.
#include <fp8/codec/bulk.hpp>
#include <fp8/codec/stochastic.hpp>
#include <fp8/quant/quant.hpp>

#include "formats.hpp"
#include "tiers.hpp"

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
        case 0:
          y = nan_with(static_cast<std::uint32_t>(rng()), false);
          break;
        case 1:
          y = std::numeric_limits<float>::infinity();
          break;
        case 2:
          y = 0.0f;
          break;
        case 3:
          y = std::numeric_limits<float>::max();
          break;
        case 4:
          y = std::numeric_limits<float>::denorm_min() * static_cast<float>(rng() % 1000);
          break;
        case 5:
          y = std::numeric_limits<float>::min();
          break;
        case 6:
          y = static_cast<float>(std::ldexp(1.0, T::max_exponent)) * spread;
          break;
        default:
          y = fp8::scalar::decode<F>(T::max_finite_code) * spread;
          break;
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

// ------------------------------------------------------------ every tier
// A way of reaching a quantizer: a tier's isa:: tag calls that tier's kernel
// directly (the detail:: overload the entry would call); via_entry calls the
// public entry, under whatever fp8::tier_scope is active.
struct via_entry {};

// Calls f(way) for every tier the binary has and the CPU runs, first each
// tier's kernel directly, then the entries capped by a tier_scope at each
// tier (the entries choose their tier at run time), with the way named in
// the failure message.
template <class Fn>
void for_each_way(Fn&& f) {
  test_tiers::for_each_tier([&](auto tag, const char* name) {
    INFO("kernel of tier " << name);
    f(tag);
  });
  using fp8::cpu_tier;
  for (const cpu_tier t :
       {cpu_tier::portable, cpu_tier::sse2, cpu_tier::avx2, cpu_tier::avx512, cpu_tier::avx512bf16}) {
    if (t > fp8::best_tier(fp8::cpu())) continue;
    const fp8::tier_scope scope(t);
    INFO("entry under tier_scope " << fp8::tier_name(t));
    f(via_entry{});
  }
}

template <class Way>
constexpr bool is_entry = std::is_same<Way, via_entry>::value;

namespace call {

template <class F, class Way>
void fake_quantize(Way way, const float* src, float* dst, std::size_t n, float scale, fp8::overflow o) {
  if constexpr (is_entry<Way>)
    fp8::fake_quantize<F>(src, dst, n, scale, o);
  else
    fp8::detail::fake_quantize<F>(src, dst, n, scale, o, way);
}

template <class F, class Way, class Src>
void encode_stochastic(Way way, const Src* src, fp8::fp8<F>* dst, std::size_t n, std::uint64_t seed, float scale,
                       fp8::overflow o, std::uint64_t offset) {
  if constexpr (is_entry<Way>)
    fp8::encode_stochastic(src, dst, n, seed, scale, o, offset);
  else
    fp8::detail::encode_stochastic<F>(src, reinterpret_cast<std::uint8_t*>(dst), n, seed, scale, o, offset, way);
}

template <class F, class Way, class Src>
void mx_encode(Way way, const Src* src, fp8::fp8<F>* dst, std::size_t n, fp8::E8M0* scales) {
  if constexpr (is_entry<Way>)
    fp8::mx_encode(src, dst, n, scales);
  else
    fp8::detail::mx_encode<F>(src, reinterpret_cast<std::uint8_t*>(dst), n, scales, way);
}
template <class F, class Way>
void mx_decode(Way way, const fp8::fp8<F>* src, float* dst, std::size_t n, const fp8::E8M0* scales) {
  if constexpr (is_entry<Way>)
    fp8::mx_decode(src, dst, n, scales);
  else
    fp8::detail::mx_decode<F>(reinterpret_cast<const std::uint8_t*>(src), dst, n, scales, way);
}

// Rows: the codec's kernels row by row (as the entry runs them); columns:
// the per-column kernels.
template <class F, class Way>
void encode_per_channel(Way way, const float* src, std::size_t src_ld, fp8::fp8<F>* dst, std::size_t dst_ld,
                        std::size_t rows, std::size_t cols, const float* scale, fp8::axis ax, fp8::overflow o) {
  auto* d = reinterpret_cast<std::uint8_t*>(dst);
  if constexpr (is_entry<Way>) {
    fp8::encode_per_channel(src, src_ld, dst, dst_ld, rows, cols, scale, ax, o);
  } else if (ax == fp8::axis::rows) {
    fp8::detail::encode_rows<F>(src, src_ld, d, dst_ld, rows, cols, scale, o, way);
  } else {
    fp8::detail::encode_columns<F>(src, src_ld, d, dst_ld, rows, cols, scale, o, way);
  }
}
template <class F, class Way>
void decode_per_channel(Way way, const fp8::fp8<F>* src, std::size_t src_ld, float* dst, std::size_t dst_ld,
                        std::size_t rows, std::size_t cols, const float* scale, fp8::axis ax) {
  const auto* s = reinterpret_cast<const std::uint8_t*>(src);
  if constexpr (is_entry<Way>) {
    fp8::decode_per_channel(src, src_ld, dst, dst_ld, rows, cols, scale, ax);
  } else if (ax == fp8::axis::rows) {
    fp8::detail::decode_rows<F>(s, src_ld, dst, dst_ld, rows, cols, scale, way);
  } else {
    fp8::detail::decode_columns<F>(s, src_ld, dst, dst_ld, rows, cols, scale, way);
  }
}

}  // namespace call

}  // namespace quant_test
