// SPDX-License-Identifier: Apache-2.0
// The AVX2 (with FMA and F16C) tier of the bulk codec (codec/kernels.hpp), in
// intrinsics compiled by target attribute whatever the unit's flags (run-time
// dispatch, docs/dispatch.md): float, bfloat16 and half -> FP8 codes, and
// FP8 codes -> float, bfloat16 and half. The arithmetic is codec/simd_core.hpp's
// (its comments derive every step) on 8 int32/float lanes; each function
// equals codec/scalar.hpp bit for bit. A tail shorter than a step goes
// through a zero-padded stack block, so no scalar code runs below the entry.
//
// Rules of the dispatched tiers: every function here carries
// FP8_TARGET_AVX2, none contains a lambda, none passes a vector to a function
// without the attribute.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../types/float16.hpp"
#include "../types/format.hpp"
#include "scalar.hpp"
#include "simd_core.hpp"

#if FP8_TIER_AVX2
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace avx2 {

FP8_TARGET_AVX2 inline __m256i set1(std::int32_t v) noexcept { return _mm256_set1_epi32(v); }
// vpblendvb on whole-lane masks (all ones or all zeros per int32).
FP8_TARGET_AVX2 inline __m256i select(__m256i mask, __m256i yes, __m256i no) noexcept {
  return _mm256_blendv_epi8(no, yes, mask);
}

// 8 elements widened to float lanes.
FP8_TARGET_AVX2 inline __m256 load8(const float* p) noexcept { return _mm256_loadu_ps(p); }
FP8_TARGET_AVX2 inline __m256 load8(const bfloat16* p) noexcept {
  // A bfloat16 is the top half of the float of the same value.
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
FP8_TARGET_AVX2 inline __m256 load8(const half* p) noexcept {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));  // vcvtph2ps: exact
}

// x / scale by the call's scaling kind (detail::scaling).
template <scaling::kind_t K>
FP8_TARGET_AVX2 inline __m256 apply_scaling(__m256 x, __m256 factor) noexcept {
  if (K == scaling::multiply) return _mm256_mul_ps(x, factor);
  if (K == scaling::divide) return _mm256_div_ps(x, factor);
  return x;
}

// ------------------------------------------------------------ encode
// 8 float lanes -> FP8 codes in int32 lanes: simd_core.hpp's encode_lanes.
template <class F, overflow O>
FP8_TARGET_AVX2 inline __m256i encode_lanes(__m256 x) noexcept {
  using T = format_traits<F>;
  constexpr int M = T::mantissa_bits, S = 23 - M;
  constexpr std::int32_t max_bits = static_cast<std::int32_t>(
      static_cast<std::uint32_t>(T::max_finite_code) << S) + ((127 - T::exponent_bias) << 23);
  constexpr std::int32_t min_normal_bits = (T::min_normal_exponent + 127) << 23;
  constexpr std::int32_t magic_bits = (T::min_normal_exponent - M + 23 + 127) << 23;
  constexpr std::int32_t round_rebias = ((1 << (S - 1)) - 1) - ((127 - T::exponent_bias) << 23);

  const __m256i u = _mm256_castps_si256(x);
  __m256i a = _mm256_and_si256(u, set1(0x7FFFFFFF));
  const __m256i sign = _mm256_and_si256(_mm256_srli_epi32(u, 24), set1(0x80));
  const __m256i nan = _mm256_cmpgt_epi32(a, set1(0x7F800000));
  if (O == overflow::saturate) a = _mm256_min_epi32(a, set1(max_bits));

  // Normal: (a + round_rebias + bit S of a) >> S, ties to even.
  const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(a, S), set1(1));
  const __m256i normal = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(a, set1(round_rebias)), odd), S);
  // Subnormal: the FPU rounds |x| + 2^(emin - M + 23) to the FP8 step.
  const __m256 magic = _mm256_castsi256_ps(set1(magic_bits));
  const __m256i subnormal =
      _mm256_sub_epi32(_mm256_castps_si256(_mm256_add_ps(_mm256_castsi256_ps(a), magic)), set1(magic_bits));
  const __m256i mag = select(_mm256_cmpgt_epi32(set1(min_normal_bits), a), subnormal, normal);

  // Sign: fnuz has no negative zero.
  __m256i code = T::has_negative_zero
                     ? _mm256_or_si256(mag, sign)
                     : _mm256_or_si256(mag, _mm256_andnot_si256(_mm256_cmpeq_epi32(mag, _mm256_setzero_si256()), sign));
  if (O == overflow::non_saturating) {
    const std::int32_t ovf = T::has_infinity ? T::infinity_code : T::nan_code;
    const __m256i ovf_code = T::special_values == specials::fnuz ? set1(ovf) : _mm256_or_si256(set1(ovf), sign);
    code = select(_mm256_cmpgt_epi32(mag, set1(T::max_finite_code)), ovf_code, code);
  }
  const __m256i nan_code =
      T::special_values == specials::fnuz ? set1(T::nan_code) : _mm256_or_si256(set1(T::nan_code), sign);
  return select(nan, nan_code, code);
}

// 32 elements -> 32 codes. The packs work within 128-bit lanes, leaving
// dwords in the order c0.lo c1.lo c2.lo c3.lo | c0.hi c1.hi c2.hi c3.hi;
// one vpermd restores it.
template <class F, overflow O, scaling::kind_t K, class Src>
FP8_TARGET_AVX2 inline void encode32(const Src* src, std::uint8_t* dst, __m256 f) noexcept {
  const __m256i c0 = encode_lanes<F, O>(apply_scaling<K>(load8(src), f));
  const __m256i c1 = encode_lanes<F, O>(apply_scaling<K>(load8(src + 8), f));
  const __m256i c2 = encode_lanes<F, O>(apply_scaling<K>(load8(src + 16), f));
  const __m256i c3 = encode_lanes<F, O>(apply_scaling<K>(load8(src + 24), f));
  const __m256i packed = _mm256_packus_epi16(_mm256_packs_epi32(c0, c1), _mm256_packs_epi32(c2, c3));
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm256_permutevar8x32_epi32(packed, order));
}

template <class F, overflow O, scaling::kind_t K, class Src>
FP8_TARGET_AVX2 void encode(const Src* src, std::uint8_t* dst, std::size_t n, float factor) noexcept {
  const __m256 f = _mm256_set1_ps(factor);
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) encode32<F, O, K>(src + i, dst + i, f);
  if (i < n) {
    Src in[32] = {};
    std::uint8_t out[32];
    std::memcpy(in, src + i, (n - i) * sizeof(Src));
    encode32<F, O, K>(in, out, f);
    std::memcpy(dst + i, out, n - i);
  }
}

// ------------------------------------------------------------ decode
// FP8 codes in 8 int32 lanes -> float lanes: simd_core.hpp's decode_lanes.
template <class F>
FP8_TARGET_AVX2 inline __m256 decode_lanes(__m256i c) noexcept {
  using T = format_traits<F>;
  constexpr int M = T::mantissa_bits, S = 23 - M;
  const __m256i mag = _mm256_and_si256(c, set1(0x7F));
  const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(c, set1(0x80)), 24);
  const __m256i normal = _mm256_add_epi32(_mm256_slli_epi32(mag, S), set1((127 - T::exponent_bias) << 23));
  const __m256 step = _mm256_set1_ps(static_cast<float>(scalar::detail::pow2(T::subnormal_exponent)));
  const __m256i subnormal = _mm256_castps_si256(_mm256_mul_ps(_mm256_cvtepi32_ps(mag), step));
  __m256i bits = _mm256_or_si256(select(_mm256_cmpgt_epi32(set1(1 << M), mag), subnormal, normal), sign);
  const __m256i qnan = set1(0x7FC00000);
  switch (T::special_values) {
    case specials::ieee:  // exponent all ones: Inf (mantissa 0) or NaN
      bits = select(_mm256_cmpgt_epi32(mag, set1(T::infinity_code)), _mm256_or_si256(qnan, sign), bits);
      bits = select(_mm256_cmpeq_epi32(mag, set1(T::infinity_code)), _mm256_or_si256(set1(0x7F800000), sign), bits);
      break;
    case specials::fn:
      bits = select(_mm256_cmpeq_epi32(mag, set1(0x7F)), _mm256_or_si256(qnan, sign), bits);
      break;
    case specials::fnuz:
      bits = select(_mm256_cmpeq_epi32(c, set1(0x80)), qnan, bits);
      break;
  }
  return _mm256_castsi256_ps(bits);
}

// float lanes -> 8 16-bit patterns, the scalar codec's one rounding to
// nearest even; NaN becomes the quiet NaN of its sign (bfloat16 0x7FC0 |
// sign, half 0x7E00 | sign).
FP8_TARGET_AVX2 inline __m128i narrow8(__m256 x, bfloat16*) noexcept {
  const __m256i u = _mm256_castps_si256(x);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), set1(1));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, set1(0x7FFF)), lsb), 16);
  const __m256i nan = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(u, 16), set1(0x8000)), set1(0x7FC0));
  const __m256i r = select(_mm256_cmpgt_epi32(_mm256_and_si256(u, set1(0x7FFFFFFF)), set1(0x7F800000)), nan, rounded);
  // Lanes hold 0..0xFFFF, which vpackusdw keeps as they are.
  return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
}
FP8_TARGET_AVX2 inline __m128i narrow8(__m256 x, half*) noexcept {
  // vcvtps2ph rounds to nearest even (explicit rounding control) and keeps a
  // NaN's payload; replacing NaN by the float quiet NaN of its sign first
  // (0x7FC00000 | sign) makes it give 0x7E00 | sign.
  const __m256 qnan = _mm256_or_ps(_mm256_and_ps(x, _mm256_set1_ps(-0.0f)), _mm256_castsi256_ps(set1(0x7FC00000)));
  const __m256 y = _mm256_blendv_ps(x, qnan, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
  return _mm256_cvtps_ph(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// 8 codes decoded, scaled when Scaled, stored.
template <bool Scaled>
FP8_TARGET_AVX2 inline void store8(__m256 x, __m256 factor, float* dst) noexcept {
  _mm256_storeu_ps(dst, Scaled ? _mm256_mul_ps(x, factor) : x);
}
template <bool Scaled, class Dst>
FP8_TARGET_AVX2 inline void store8(__m256 x, __m256 factor, Dst* dst) noexcept {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), narrow8(Scaled ? _mm256_mul_ps(x, factor) : x, dst));
}
template <class F, bool Scaled, class Dst>
FP8_TARGET_AVX2 inline void decode8(const std::uint8_t* src, Dst* dst, __m256 factor) noexcept {
  const __m256i c = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src)));
  store8<Scaled>(decode_lanes<F>(c), factor, dst);
}

template <class F, bool Scaled, class Dst>
FP8_TARGET_AVX2 void decode(const std::uint8_t* src, Dst* dst, std::size_t n, float scale) noexcept {
  const __m256 f = _mm256_set1_ps(scale);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) decode8<F, Scaled>(src + i, dst + i, f);
  if (i < n) {
    std::uint8_t in[8] = {};
    Dst out[8];
    std::memcpy(in, src + i, n - i);
    decode8<F, Scaled>(in, out, f);
    std::memcpy(dst + i, out, (n - i) * sizeof(Dst));
  }
}

}  // namespace avx2
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
#endif  // FP8_TIER_AVX2
