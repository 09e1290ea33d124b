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
// The vector tiers (sse2 on xsimd, avx2 and avx512 in intrinsics, chosen
// once per call at run time) run the codec's streaming encoder
// (codec/stream.hpp) with a rule that hashes the element indices in 32-bit
// lanes, picks the neighbour below or above |x| exactly as the scalar
// definition does, and encodes the chosen (exactly representable) value with
// the tier's encode_lanes, so the overflow, NaN, sign and zero rules are
// shared with the round-to-nearest codec instead of written again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "../codec/bulk.hpp"
#include "../codec/kernels.hpp"
#include "../codec/simd_core.hpp"
#include "../codec/stochastic.hpp"
#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"
#include "../types/float16.hpp"
#include "../types/fp8.hpp"
#include "common.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

// The streaming encoder's rule (codec/stream.hpp) for stochastic rounding:
// element i of the call is x[i] / scale (detail::scaling's rule, factor as
// in one_scale) rounded with the random bits of (seed, first_index + i).
template <scaling::kind_t K>
struct stochastic_scale {
  float factor;
  scalar::detail::stochastic_key key;
  std::uint64_t first_index;
  stochastic_scale from(std::size_t i) const noexcept { return {factor, key, first_index + i}; }
};

FP8_BEGIN_TU_NAMESPACE

// The definition, element by element.
template <class F, class Src>
void encode_stochastic(const Src* src, std::uint8_t* dst, std::size_t n, std::uint64_t seed, float scale, overflow o,
                       std::uint64_t first_index, isa::portable) noexcept {
  const auto key = scalar::detail::make_stochastic_key(seed);
  for (std::size_t i = 0; i < n; ++i)
    dst[i] = scalar::encode_stochastic<F>(to_float(src[i]) / scale, scalar::detail::stochastic_bits(key, first_index + i),
                                          o);
}

#if FP8_ISA_SSE2
namespace sse2 {

// lowbias32 of codec/stochastic.hpp on every lane.
inline I lowbias32_lanes(I x) noexcept {
  constexpr isa::sse2 tag{};
  x = x ^ srl32<16, isa::sse2>(x);
  x = mullo32(x, I(0x7FEB352D), tag);
  x = x ^ srl32<15, isa::sse2>(x);
  x = mullo32(x, I(static_cast<std::int32_t>(0x846CA68Bu)), tag);
  return x ^ srl32<16, isa::sse2>(x);
}

// stochastic_bits(key, first + lane) for the W lanes. The low index words
// are first_lo + lane; the high-word part of the hash is a scalar per
// vector, except in the one vector in 2^32 / W whose low words wrap past
// 2^32, where the lanes that wrapped take the next high word's.
inline I stochastic_bits_lanes(scalar::detail::stochastic_key key, std::uint64_t first, I iota) noexcept {
  const auto lo = static_cast<std::uint32_t>(first);
  const auto hi = static_cast<std::uint32_t>(first >> 32);
  const I lanes = I(static_cast<std::int32_t>(lo)) + iota;
  I k(static_cast<std::int32_t>(scalar::detail::stochastic_high_key(key, hi)));
  if (lo > 0xFFFFFFFFu - (I::size - 1)) {
    const I next(static_cast<std::int32_t>(scalar::detail::stochastic_high_key(key, hi + 1)));
    k = detail::select(less_unsigned<isa::sse2>(lanes, I(static_cast<std::int32_t>(lo))), next, k);
  }
  return lowbias32_lanes(lanes ^ k);
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
template <class F, overflow O>
inline I encode_stochastic_lanes(Fl x, I r) noexcept {
  using T = format_traits<F>;
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
  const auto up = less_unsigned<isa::sse2>(r, detail::select(subnormal, t_sub, t_normal));
  const I chosen_normal = lo_normal + detail::select(up, I(1 << S), I(0));
  const I chosen_sub =
      xsimd::bitwise_cast<I>(xsimd::batch_cast<float>(lo_sub + detail::select(up, I(1), I(0))) * down_scale);
  I chosen = detail::select(subnormal, chosen_sub, chosen_normal) | sign;
  chosen = detail::select(a >= I(0x7F800000), u, chosen);
  return encode_lanes<F, O, isa::sse2>(xsimd::bitwise_cast<Fl>(chosen));
}

template <scaling::kind_t K>
struct lanes_of<stochastic_scale<K>> : stateless_lanes {
  Fl f;
  I iota;
  scalar::detail::stochastic_key key;
  std::uint64_t first_index;
  explicit lanes_of(const stochastic_scale<K>& r) noexcept
      : f(r.factor), iota(_mm_setr_epi32(0, 1, 2, 3)), key(r.key), first_index(r.first_index) {}
  template <class F, overflow O>
  I codes(Fl x, std::size_t index, std::size_t) const noexcept {
    const I r = stochastic_bits_lanes(key, first_index + index, iota);
    return encode_stochastic_lanes<F, O>(apply_scaling<K, isa::sse2>(x, f), r);
  }
};

}  // namespace sse2
#endif

FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE

#if FP8_TIER_AVX2
FP8_BEGIN_TARGET_AVX2
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace avx2 {

// The sse2 tier's stochastic lanes (above, with their derivation) on 8
// lanes: vpmulld for the hash, whole-lane masks for the choices.
inline __m256i lowbias32_lanes(__m256i x) noexcept {
  x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
  x = _mm256_mullo_epi32(x, set1(0x7FEB352D));
  x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 15));
  x = _mm256_mullo_epi32(x, set1(static_cast<std::int32_t>(0x846CA68Bu)));
  return _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
}
inline __m256i stochastic_bits_lanes(scalar::detail::stochastic_key key, std::uint64_t first) noexcept {
  const auto lo = static_cast<std::uint32_t>(first);
  const auto hi = static_cast<std::uint32_t>(first >> 32);
  const __m256i low = set1(static_cast<std::int32_t>(lo));
  const __m256i lanes = _mm256_add_epi32(low, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  __m256i k = set1(static_cast<std::int32_t>(scalar::detail::stochastic_high_key(key, hi)));
  if (lo > 0xFFFFFFFFu - (W - 1)) {
    const __m256i next = set1(static_cast<std::int32_t>(scalar::detail::stochastic_high_key(key, hi + 1)));
    k = select(ymm::less_u32(lanes, low), next, k);
  }
  return lowbias32_lanes(_mm256_xor_si256(lanes, k));
}
template <class F, overflow O>
inline __m256i encode_stochastic_lanes(__m256 x, __m256i r) noexcept {
  using T = format_traits<F>;
  constexpr int M = T::mantissa_bits, S = 23 - M;
  constexpr std::int32_t min_normal_bits = (T::min_normal_exponent + 127) << 23;
  const __m256 up_scale = _mm256_set1_ps(static_cast<float>(scalar::detail::pow2(M - T::min_normal_exponent)));
  const __m256 down_scale = _mm256_set1_ps(static_cast<float>(scalar::detail::pow2(T::min_normal_exponent - M)));

  const __m256i u = _mm256_castps_si256(x);
  const __m256i a = _mm256_and_si256(u, set1(0x7FFFFFFF));
  const __m256i sign = _mm256_and_si256(u, set1(std::numeric_limits<std::int32_t>::min()));
  const __m256i lo_normal = _mm256_and_si256(a, set1(~((1 << S) - 1)));
  const __m256i t_normal = _mm256_slli_epi32(a, 32 - S);

  const __m256 y = _mm256_mul_ps(_mm256_castsi256_ps(a), up_scale);
  const __m256i lo_sub = _mm256_cvttps_epi32(y);
  const __m256 fraction = _mm256_sub_ps(y, _mm256_cvtepi32_ps(lo_sub));
  const __m256i t_sub = ymm::cvtt_f32_u32(_mm256_mul_ps(fraction, _mm256_set1_ps(4294967296.0f)));

  const __m256i subnormal = _mm256_cmpgt_epi32(set1(min_normal_bits), a);
  const __m256i up = ymm::less_u32(r, select(subnormal, t_sub, t_normal));
  const __m256i chosen_normal = _mm256_add_epi32(lo_normal, _mm256_and_si256(up, set1(1 << S)));
  const __m256i chosen_sub = _mm256_castps_si256(
      _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(lo_sub, _mm256_and_si256(up, set1(1)))), down_scale));
  __m256i chosen = _mm256_or_si256(select(subnormal, chosen_sub, chosen_normal), sign);
  chosen = select(_mm256_cmpgt_epi32(a, set1(0x7F7FFFFF)), u, chosen);
  return encode_lanes<F, O>(_mm256_castsi256_ps(chosen));
}

template <scaling::kind_t K>
struct lanes_of<stochastic_scale<K>> : stateless_lanes {
  __m256 f;
  scalar::detail::stochastic_key key;
  std::uint64_t first_index;
  explicit lanes_of(const stochastic_scale<K>& r) noexcept
      : f(_mm256_set1_ps(r.factor)), key(r.key), first_index(r.first_index) {}
  template <class F, overflow O>
  __m256i codes(__m256 x, std::size_t index, std::size_t) const noexcept {
    return encode_stochastic_lanes<F, O>(apply_scaling<K>(x, f), stochastic_bits_lanes(key, first_index + index));
  }
};

}  // namespace avx2
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX2
#endif

#if FP8_TIER_AVX512
FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace avx512 {

// The sse2 tier's stochastic lanes (above, with their derivation) on 16
// lanes, with masks for the choices and the unsigned compare and
// conversion AVX-512 has.
inline __m512i lowbias32_lanes(__m512i x) noexcept {
  x = _mm512_xor_si512(x, zmm::srl32<16>(x));
  x = _mm512_mullo_epi32(x, set1(0x7FEB352D));
  x = _mm512_xor_si512(x, zmm::srl32<15>(x));
  x = _mm512_mullo_epi32(x, set1(static_cast<std::int32_t>(0x846CA68Bu)));
  return _mm512_xor_si512(x, zmm::srl32<16>(x));
}
inline __m512i stochastic_bits_lanes(scalar::detail::stochastic_key key, std::uint64_t first) noexcept {
  const auto lo = static_cast<std::uint32_t>(first);
  const auto hi = static_cast<std::uint32_t>(first >> 32);
  const __m512i low = set1(static_cast<std::int32_t>(lo));
  const __m512i lanes = _mm512_add_epi32(low, _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  __m512i k = set1(static_cast<std::int32_t>(scalar::detail::stochastic_high_key(key, hi)));
  if (lo > 0xFFFFFFFFu - (W - 1)) {
    const __m512i next = set1(static_cast<std::int32_t>(scalar::detail::stochastic_high_key(key, hi + 1)));
    k = _mm512_mask_mov_epi32(k, _mm512_cmplt_epu32_mask(lanes, low), next);
  }
  return lowbias32_lanes(_mm512_xor_si512(lanes, k));
}
template <class F, overflow O>
inline __m512i encode_stochastic_lanes(__m512 x, __m512i r) noexcept {
  using T = format_traits<F>;
  constexpr int M = T::mantissa_bits, S = 23 - M;
  constexpr std::int32_t min_normal_bits = (T::min_normal_exponent + 127) << 23;
  const __m512 up_scale = _mm512_set1_ps(static_cast<float>(scalar::detail::pow2(M - T::min_normal_exponent)));
  const __m512 down_scale = _mm512_set1_ps(static_cast<float>(scalar::detail::pow2(T::min_normal_exponent - M)));

  const __m512i u = _mm512_castps_si512(x);
  const __m512i a = _mm512_and_si512(u, set1(0x7FFFFFFF));
  const __m512i sign = _mm512_and_si512(u, set1(std::numeric_limits<std::int32_t>::min()));
  const __m512i lo_normal = _mm512_and_si512(a, set1(~((1 << S) - 1)));
  const __m512i t_normal = zmm::sll32<32 - S>(a);

  const __m512 y = _mm512_mul_ps(_mm512_castsi512_ps(a), up_scale);
  const __m512i lo_sub = zmm::cvtt_f32_i32(y);
  const __m512 fraction = _mm512_sub_ps(y, zmm::cvt_i32_f32(lo_sub));
  const __m512i t_sub = zmm::cvtt_f32_u32(_mm512_mul_ps(fraction, _mm512_set1_ps(4294967296.0f)));

  const __mmask16 subnormal = _mm512_cmplt_epi32_mask(a, set1(min_normal_bits));
  const __mmask16 up = _mm512_cmplt_epu32_mask(r, _mm512_mask_mov_epi32(t_normal, subnormal, t_sub));
  const __m512i chosen_normal = _mm512_mask_add_epi32(lo_normal, up, lo_normal, set1(1 << S));
  const __m512i chosen_sub = _mm512_castps_si512(
      _mm512_mul_ps(zmm::cvt_i32_f32(_mm512_mask_add_epi32(lo_sub, up, lo_sub, set1(1))), down_scale));
  __m512i chosen = _mm512_or_si512(_mm512_mask_mov_epi32(chosen_normal, subnormal, chosen_sub), sign);
  chosen = _mm512_mask_mov_epi32(chosen, _mm512_cmpgt_epi32_mask(a, set1(0x7F7FFFFF)), u);
  return encode_lanes<F, O>(_mm512_castsi512_ps(chosen));
}

template <scaling::kind_t K>
struct lanes_of<stochastic_scale<K>> : stateless_lanes {
  __m512 f;
  scalar::detail::stochastic_key key;
  std::uint64_t first_index;
  explicit lanes_of(const stochastic_scale<K>& r) noexcept
      : f(_mm512_set1_ps(r.factor)), key(r.key), first_index(r.first_index) {}
  template <class F, overflow O>
  __m512i codes(__m512 x, std::size_t index, std::size_t) const noexcept {
    return encode_stochastic_lanes<F, O>(apply_scaling<K>(x, f), stochastic_bits_lanes(key, first_index + index));
  }
};

}  // namespace avx512
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512
#endif

FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE

#if FP8_ISA_SSE2
// Every vector tier: the policy chosen once, then the tier's streaming
// encoder with the stochastic rule.
template <class F, class Src, class Tag, kernel::if_vector<Tag> = 0>
void encode_stochastic(const Src* src, std::uint8_t* dst, std::size_t n, std::uint64_t seed, float scale, overflow o,
                       std::uint64_t first_index, Tag tag) noexcept {
  const scaling s(scale);
  const auto key = scalar::detail::make_stochastic_key(seed);
  with_policy(o, s.kind, [&](auto p) {
    using P = decltype(p);
    kernel::stream<F, P::overflow_policy>(src, dst, n, stochastic_scale<P::kind>{s.factor, key, first_index},
                                          code_sink{}, tag);
  });
}
#endif

template <class F, class Src>
void encode_stochastic_entry(const Src* src, fp8<F>* dst, std::size_t n, std::uint64_t seed, float scale, overflow o,
                             std::uint64_t index_offset) {
  check_bulk("fp8::encode_stochastic", src, sizeof(Src), dst, 1, n, scale, o);
  auto* d = reinterpret_cast<std::uint8_t*>(dst);
  dispatch([&](auto tier) { encode_stochastic<F>(src, d, n, seed, scale, o, index_offset, tier); });
}

FP8_END_TU_NAMESPACE
}  // namespace detail

// The entries live in the flags-named namespace (detail/dispatch.hpp) and
// choose the tier once per call.
FP8_BEGIN_TU_NAMESPACE

// dst[i] = stochastic rounding of src[i] / scale into F with the random bits
// of (seed, index_offset + i); see the top of this file and
// codec/stochastic.hpp. Errors as fp8::encode (null pointers, overlapping
// buffers, a scale that is not a positive finite float), before any write.
template <class F>
void encode_stochastic(const float* src, fp8<F>* dst, std::size_t n, std::uint64_t seed, float scale = 1.0f,
                       overflow o = overflow::saturate, std::uint64_t index_offset = 0) {
  detail::encode_stochastic_entry(src, dst, n, seed, scale, o, index_offset);
}
// The same from bfloat16 or half (widened to float exactly): element i still
// uses the random bits of (seed, index_offset + i).
template <class F>
void encode_stochastic(const bfloat16* src, fp8<F>* dst, std::size_t n, std::uint64_t seed, float scale = 1.0f,
                       overflow o = overflow::saturate, std::uint64_t index_offset = 0) {
  detail::encode_stochastic_entry(src, dst, n, seed, scale, o, index_offset);
}
template <class F>
void encode_stochastic(const half* src, fp8<F>* dst, std::size_t n, std::uint64_t seed, float scale = 1.0f,
                       overflow o = overflow::saturate, std::uint64_t index_offset = 0) {
  detail::encode_stochastic_entry(src, dst, n, seed, scale, o, index_offset);
}

FP8_END_TU_NAMESPACE
FP8_END_NAMESPACE
