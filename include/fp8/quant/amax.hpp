// SPDX-License-Identifier: Apache-2.0
// fp8::amax: the largest magnitude max |x[i]| of an array of float, bfloat16
// or half, the statistic every scale is chosen from (per-tensor scales in
// quant/scale.hpp, MX block scales in quant/mx.hpp, OCP MX v1.0 §6.3).
//
// Semantics:
//   * n == 0 gives +0; -0 counts as 0; infinities count (amax can be +Inf).
//   * NaN in, NaN out: if any element is NaN the result is a quiet NaN
//     (0x7FC00000). A NaN silently dropped would give a scale that hides it.
//   * The result is exact (it is one of the |x[i]|), so the order of the
//     reduction does not matter and SIMD equals the scalar loop bit for bit.
//
// How: the magnitude bits of an IEEE float, read as an integer, order the
// values the same way (the exponent field sits above the mantissa), and every
// NaN's magnitude bits exceed +Inf's 0x7F800000. So an integer maximum of
// (bits & 0x7FFFFFFF) is the float maximum of |x| with NaN propagation built
// in, and needs no float compare (whose NaN rules differ between ISAs). The
// same holds for the 16-bit formats with 0x7FFF.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/bit.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"
#include "../types/float16.hpp"
#include "common.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

// Largest magnitude bits of n floats: the definition, element by element.
inline std::uint32_t amax_bits(const float* x, std::size_t n, isa::portable) noexcept {
  std::uint32_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t a = bit_cast<std::uint32_t>(x[i]) & 0x7FFFFFFFu;
    m = a > m ? a : m;
  }
  return m;
}
template <class Format>
inline std::uint32_t amax_bits(const storage16<Format>* x, std::size_t n, isa::portable) noexcept {
  std::uint32_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t a = x[i].bits() & 0x7FFFu;
    m = a > m ? a : m;
  }
  return m;
}

#if FP8_ISA_SSE2
// Four independent accumulators hide the latency of the max; the loop is
// then bound by loads (two vectors per cycle on current cores).
template <class Tag>
std::uint32_t amax_bits(const float* x, std::size_t n, Tag tag) noexcept {
  using I = vi<Tag>;
  using Fl = vf<Tag>;
  constexpr std::size_t W = I::size;
  const I mask(0x7FFFFFFF);
  I m0(0), m1(0), m2(0), m3(0);
  std::size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    m0 = xsimd::max(m0, xsimd::bitwise_cast<I>(Fl::load_unaligned(x + i)) & mask);
    m1 = xsimd::max(m1, xsimd::bitwise_cast<I>(Fl::load_unaligned(x + i + W)) & mask);
    m2 = xsimd::max(m2, xsimd::bitwise_cast<I>(Fl::load_unaligned(x + i + 2 * W)) & mask);
    m3 = xsimd::max(m3, xsimd::bitwise_cast<I>(Fl::load_unaligned(x + i + 3 * W)) & mask);
  }
  for (; i + W <= n; i += W) m0 = xsimd::max(m0, xsimd::bitwise_cast<I>(Fl::load_unaligned(x + i)) & mask);
  const I m = all_lanes_max(xsimd::max(xsimd::max(m0, m1), xsimd::max(m2, m3)), tag);
  const std::uint32_t head = static_cast<std::uint32_t>(first_lane(m));
  const std::uint32_t tail = amax_bits(x + i, n - i, isa::portable{});
  return head > tail ? head : tail;
}

// 16-bit sources: the same over int16 lanes (all of them non-negative after
// the mask, so a signed max is right), twice as many per vector.
template <class Format, class Tag>
std::uint32_t amax_bits(const storage16<Format>* x, std::size_t n, Tag) noexcept {
  using H = xsimd::batch<std::int16_t, typename xsimd_arch<Tag>::type>;
  constexpr std::size_t W = H::size;
  const H mask(0x7FFF);
  H m0(0), m1(0);
  std::size_t i = 0;
  // storage16 is a standard-layout wrapper of one uint16_t; the vector load
  // reads its bytes through the intrinsics' may-alias vector types.
  const auto* p = reinterpret_cast<const std::int16_t*>(x);
  for (; i + 2 * W <= n; i += 2 * W) {
    m0 = xsimd::max(m0, H::load_unaligned(p + i) & mask);
    m1 = xsimd::max(m1, H::load_unaligned(p + i + W) & mask);
  }
  alignas(64) std::int16_t lanes[W];
  xsimd::max(m0, m1).store_aligned(lanes);
  std::uint32_t m = 0;
  for (std::size_t k = 0; k < W; ++k) {
    const auto a = static_cast<std::uint32_t>(lanes[k]);
    m = a > m ? a : m;
  }
  const std::uint32_t tail = amax_bits(x + i, n - i, isa::portable{});
  return m > tail ? m : tail;
}
#endif

template <class T>
inline void check_amax_span(const T* src, std::size_t n) {
  if (n == 0) return;
  FP8_REQUIRE_ARG(src != nullptr, "fp8::amax", "src", "is null while n > 0");
  FP8_REQUIRE_ARG(span_fits(src, n, sizeof(T)), "fp8::amax", "n",
                  "elements overflow size_t or run past the end of the address space");
}

}  // namespace detail

// max |src[i]| over n floats; +0 for n == 0; a quiet NaN if any element is NaN.
inline float amax(const float* src, std::size_t n) {
  detail::check_amax_span(src, n);
  const std::uint32_t m = detail::amax_bits(src, n, isa::best{});
  return detail::bit_cast<float>(m > 0x7F800000u ? 0x7FC00000u : m);
}
// The same for bfloat16 and half sources; the result is exact as a float.
inline float amax(const bfloat16* src, std::size_t n) {
  detail::check_amax_span(src, n);
  const std::uint32_t m = detail::amax_bits(src, n, isa::best{});
  return detail::bit_cast<float>(m > 0x7F80u ? 0x7FC00000u : m << 16);
}
inline float amax(const half* src, std::size_t n) {
  detail::check_amax_span(src, n);
  const std::uint32_t m = detail::amax_bits(src, n, isa::best{});
  return m > 0x7C00u ? detail::bit_cast<float>(0x7FC00000u)
                     : static_cast<float>(half::from_bits(static_cast<std::uint16_t>(m)));
}

FP8_END_NAMESPACE
