// SPDX-License-Identifier: Apache-2.0
// Bulk stochastic rounding into an FP8 format (issue 3, item 4):
//
//   dst[i] = scalar::encode_stochastic<F>(src[i] / scale,
//                                         scalar::stochastic_bits(seed, index_offset + i), o)
//
// bit for bit, with src[i] / scale computed as codec/bulk.hpp's encode does
// (a multiply by the reciprocal when that is the same correctly rounded
// quotient). The rounding rule and the counter-based random bits are defined
// in codec/stochastic.hpp. Because element i's bits depend only on
// (seed, index_offset + i), the result never depends on the ISA, the vector
// width or how the array is split: encoding [0, k) and then [k, n) with
// index_offset = k gives the same bytes as one call over [0, n).
//
// The vector kernel hashes the element indices in 32-bit lanes, picks the
// neighbour below or above |x| exactly as the scalar definition does, and
// encodes the chosen (exactly representable) value with codec/simd_core.hpp's
// encode_lanes, so the overflow, NaN, sign and zero rules are shared with
// the round-to-nearest codec instead of written again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "../codec/bulk.hpp"
#include "../codec/simd_core.hpp"
#include "../codec/stochastic.hpp"
#include "../config.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"
#include "../types/float16.hpp"
#include "../types/fp8.hpp"
#include "common.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

// The definition, element by element.
template <class F>
void encode_stochastic_scalar(const float* src, std::uint8_t* dst, std::size_t n, scalar::detail::stochastic_key key,
                              std::uint64_t first_index, float scale, overflow o) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    dst[i] = scalar::encode_stochastic<F>(src[i] / scale, scalar::detail::stochastic_bits(key, first_index + i), o);
}

#if FP8_ISA_SSE2

// lowbias32 of codec/stochastic.hpp on every lane.
template <class Tag>
inline vi<Tag> lowbias32_lanes(vi<Tag> x, Tag tag) noexcept {
  using I = vi<Tag>;
  x = x ^ srl32<16, Tag>(x);
  x = mullo32(x, I(0x7FEB352D), tag);
  x = x ^ srl32<15, Tag>(x);
  x = mullo32(x, I(static_cast<std::int32_t>(0x846CA68Bu)), tag);
  return x ^ srl32<16, Tag>(x);
}

// stochastic_bits(key, first + lane) for the W lanes. The low index words
// are first_lo + lane; the high-word part of the hash is a scalar per
// vector, except in the one vector in 2^32 / W whose low words wrap past
// 2^32, where the lanes that wrapped take the next high word's.
template <class Tag>
inline vi<Tag> stochastic_bits_lanes(scalar::detail::stochastic_key key, std::uint64_t first, vi<Tag> iota,
                                     Tag tag) noexcept {
  using I = vi<Tag>;
  const auto lo = static_cast<std::uint32_t>(first);
  const auto hi = static_cast<std::uint32_t>(first >> 32);
  const I lanes = I(static_cast<std::int32_t>(lo)) + iota;
  I k(static_cast<std::int32_t>(scalar::detail::stochastic_high_key(key, hi)));
  if (lo > 0xFFFFFFFFu - (I::size - 1)) {
    const I next(static_cast<std::int32_t>(scalar::detail::stochastic_high_key(key, hi + 1)));
    k = detail::select(less_unsigned<Tag>(lanes, I(static_cast<std::int32_t>(lo))), next, k);
  }
  return lowbias32_lanes<Tag>(lanes ^ k, tag);
}

// Stochastic rounding of float lanes x with random bits r into codes of F in
// int32 lanes: the vector form of scalar::encode_stochastic.
//  * |x| >= 2^emin (normal results): lo is |x| with its S = 23 - M low bits
//    cleared, hi = lo + 2^S in the bits (a carry into the exponent field is
//    the next binade, as it should be), and the dropped bits shifted to the
//    top of 32 are the threshold t.
//  * |x| < 2^emin (subnormal results, float subnormals included): y = |x| *
//    2^(M - emin) is exact (a power-of-two scaling up), lo = trunc(y) steps,
//    the fraction y - trunc(y) is exact, and t = floor(fraction * 2^32) is an
//    exact float (a scaling) truncated to uint32; the chosen value is
//    (lo + up) * 2^(emin - M), exact again.
// Lanes holding NaN or +-Inf keep x, whose encoding needs no rounding.
template <class F, overflow O, class Tag>
inline vi<Tag> encode_stochastic_lanes(vf<Tag> x, vi<Tag> r, Tag) noexcept {
  using T = format_traits<F>;
  using I = vi<Tag>;
  using Fl = vf<Tag>;
  constexpr int M = T::mantissa_bits, S = 23 - M;
  constexpr std::int32_t min_normal_bits = (T::min_normal_exponent + 127) << 23;
  const Fl up_scale(static_cast<float>(scalar::detail::pow2(M - T::min_normal_exponent)));
  const Fl down_scale(static_cast<float>(scalar::detail::pow2(T::min_normal_exponent - M)));

  const I u = xsimd::bitwise_cast<I>(x);
  const I a = u & I(0x7FFFFFFF);
  const I sign = u & I(std::numeric_limits<std::int32_t>::min());

  const I lo_normal = a & I(~((1 << S) - 1));
  const I t_normal = a << (32 - S);

  const Fl y = xsimd::bitwise_cast<Fl>(a) * up_scale;
  const I lo_sub = xsimd::batch_cast<std::int32_t>(y);  // truncation; y < 2^M in these lanes
  const Fl fraction = y - xsimd::batch_cast<float>(lo_sub);
  const I t_sub = xsimd::bitwise_cast<I>(xsimd::batch_cast<std::uint32_t>(fraction * Fl(4294967296.0f)));

  const auto subnormal = a < I(min_normal_bits);
  const auto up = less_unsigned<Tag>(r, detail::select(subnormal, t_sub, t_normal));
  const I chosen_normal = lo_normal + detail::select(up, I(1 << S), I(0));
  const I chosen_sub =
      xsimd::bitwise_cast<I>(xsimd::batch_cast<float>(lo_sub + detail::select(up, I(1), I(0))) * down_scale);
  I chosen = detail::select(subnormal, chosen_sub, chosen_normal) | sign;
  chosen = detail::select(a >= I(0x7F800000), u, chosen);
  return encode_lanes<F, O, Tag>(xsimd::bitwise_cast<Fl>(chosen));
}

template <class F, overflow O, scaling::kind_t K, class Tag>
std::size_t encode_stochastic_main(const float* src, std::uint8_t* dst, std::size_t n, float factor,
                                   scalar::detail::stochastic_key key, std::uint64_t first_index, Tag tag) noexcept {
  using Fl = vf<Tag>;
  using I = vi<Tag>;
  constexpr std::size_t W = Fl::size, block = 4 * W;
  alignas(64) static constexpr std::int32_t lane_index[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  static_assert(W <= 16, "lane_index covers 16 lanes");
  const I iota = I::load_aligned(lane_index);
  const Fl f(factor);
  std::size_t i = 0;
  for (; i + block <= n; i += block) {
    I codes[4];
    FP8_UNROLL_VECTORS
    for (std::size_t k = 0; k < 4; ++k) {
      const Fl x = apply_scaling<K, Tag>(Fl::load_unaligned(src + i + k * W), f);
      const I r = stochastic_bits_lanes<Tag>(key, first_index + i + k * W, iota, tag);
      codes[k] = encode_stochastic_lanes<F, O, Tag>(x, r, tag);
    }
    store_bytes(codes, dst + i, tag);
  }
  return i;
}

template <class F, overflow O, class Tag>
std::size_t encode_stochastic_main(const float* src, std::uint8_t* dst, std::size_t n, scaling s,
                                   scalar::detail::stochastic_key key, std::uint64_t first_index, Tag tag) noexcept {
  switch (s.kind) {
    case scaling::none:
      return encode_stochastic_main<F, O, scaling::none>(src, dst, n, s.factor, key, first_index, tag);
    case scaling::multiply:
      return encode_stochastic_main<F, O, scaling::multiply>(src, dst, n, s.factor, key, first_index, tag);
    case scaling::divide: break;
  }
  return encode_stochastic_main<F, O, scaling::divide>(src, dst, n, s.factor, key, first_index, tag);
}

template <class F, class Tag>
void encode_stochastic(const float* src, std::uint8_t* dst, std::size_t n, std::uint64_t seed, float scale, overflow o,
                       std::uint64_t first_index, Tag tag) noexcept {
  const scaling s(scale);
  const auto key = scalar::detail::make_stochastic_key(seed);
  const std::size_t done =
      o == overflow::saturate
          ? encode_stochastic_main<F, overflow::saturate>(src, dst, n, s, key, first_index, tag)
          : encode_stochastic_main<F, overflow::non_saturating>(src, dst, n, s, key, first_index, tag);
  encode_stochastic_scalar<F>(src + done, dst + done, n - done, key, first_index + done, scale, o);
}

#endif  // FP8_ISA_SSE2

template <class F>
void encode_stochastic(const float* src, std::uint8_t* dst, std::size_t n, std::uint64_t seed, float scale, overflow o,
                       std::uint64_t first_index, isa::portable) noexcept {
  encode_stochastic_scalar<F>(src, dst, n, scalar::detail::make_stochastic_key(seed), first_index, scale, o);
}

}  // namespace detail

// dst[i] = stochastic rounding of src[i] / scale into F with the random bits
// of (seed, index_offset + i); see the top of this file and
// codec/stochastic.hpp. Errors as fp8::encode (null pointers, overlapping
// buffers, a scale that is not a positive finite float), before any write.
template <class F>
void encode_stochastic(const float* src, fp8<F>* dst, std::size_t n, std::uint64_t seed, float scale = 1.0f,
                       overflow o = overflow::saturate, std::uint64_t index_offset = 0) {
  detail::check_bulk("fp8::encode_stochastic", src, sizeof(float), dst, 1, n, scale, o);
  detail::encode_stochastic<F>(src, reinterpret_cast<std::uint8_t*>(dst), n, seed, scale, o, index_offset,
                               isa::best{});
}

namespace detail {
template <class F, class Src>
void encode_stochastic16(const Src* src, fp8<F>* dst, std::size_t n, std::uint64_t seed, float scale, overflow o,
                         std::uint64_t index_offset) {
  check_bulk("fp8::encode_stochastic", src, sizeof(Src), dst, 1, n, scale, o);
  auto* d = reinterpret_cast<std::uint8_t*>(dst);
  for_each_widened_chunk(src, n, [&](const float* x, std::size_t first, std::size_t m) {
    encode_stochastic<F>(x, d + first, m, seed, scale, o, index_offset + first, isa::best{});
  });
}
}  // namespace detail

// The same from bfloat16 or half (widened to float exactly): element i still
// uses the random bits of (seed, index_offset + i).
template <class F>
void encode_stochastic(const bfloat16* src, fp8<F>* dst, std::size_t n, std::uint64_t seed, float scale = 1.0f,
                       overflow o = overflow::saturate, std::uint64_t index_offset = 0) {
  detail::encode_stochastic16(src, dst, n, seed, scale, o, index_offset);
}
template <class F>
void encode_stochastic(const half* src, fp8<F>* dst, std::size_t n, std::uint64_t seed, float scale = 1.0f,
                       overflow o = overflow::saturate, std::uint64_t index_offset = 0) {
  detail::encode_stochastic16(src, dst, n, seed, scale, o, index_offset);
}

FP8_END_NAMESPACE
