// SPDX-License-Identifier: Apache-2.0
// The AVX-512 (F, BW, VL, DQ) tier of the bulk codec (codec/kernels.hpp), in
// intrinsics compiled by target attribute whatever the unit's flags (run-time
// dispatch, docs/dispatch.md): float, bfloat16 and half -> FP8 codes, and
// FP8 codes -> float, bfloat16 and half. The arithmetic is codec/simd_core.hpp's
// (its comments derive every step) on 16 int32/float lanes, with AVX-512
// masks where simd_core blends; each function equals codec/scalar.hpp bit for
// bit, its tail included (one masked step: no scalar code below the entry).
//
// Rules of the dispatched tiers: every function here carries
// FP8_TARGET_AVX512, none contains a lambda, none passes a vector to a
// function without the attribute; GCC 12's unmasked AVX-512 intrinsics that
// start from an undefined register (shifts, conversions, vpermd, vpminsd,
// ...) are replaced by their zero-masking forms with a full mask, the same
// instruction, so a consumer's -Wall stays quiet.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../types/float16.hpp"
#include "../types/format.hpp"
#include "scalar.hpp"
#include "simd_core.hpp"

#if FP8_TIER_AVX512
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace avx512 {

constexpr __mmask16 all16 = 0xFFFF;

// ------------------------------------------------------------ primitives
// The zero-masking spellings (see above), named after the instruction.
template <unsigned K>
FP8_TARGET_AVX512 inline __m512i vpsrld(__m512i v) noexcept {
  return _mm512_maskz_srli_epi32(all16, v, K);
}
template <unsigned K>
FP8_TARGET_AVX512 inline __m512i vpslld(__m512i v) noexcept {
  return _mm512_maskz_slli_epi32(all16, v, K);
}
FP8_TARGET_AVX512 inline __m512i vpminsd(__m512i a, __m512i b) noexcept { return _mm512_maskz_min_epi32(all16, a, b); }
FP8_TARGET_AVX512 inline __m512 vcvtdq2ps(__m512i v) noexcept { return _mm512_maskz_cvtepi32_ps(all16, v); }
FP8_TARGET_AVX512 inline __m512i set1(std::int32_t v) noexcept { return _mm512_set1_epi32(v); }

// Lanes of 16-bit floats and bytes, widened to 16 int32/float lanes; k
// selects the lanes read (the others read as 0, and their memory is not
// touched).
FP8_TARGET_AVX512 inline __m512 load16(const float* p, __mmask16 k) noexcept { return _mm512_maskz_loadu_ps(k, p); }
FP8_TARGET_AVX512 inline __m512 load16(const bfloat16* p, __mmask16 k) noexcept {
  // A bfloat16 is the top half of the float of the same value.
  const __m256i h = _mm256_maskz_loadu_epi16(k, p);
  return _mm512_castsi512_ps(vpslld<16>(_mm512_maskz_cvtepu16_epi32(all16, h)));
}
FP8_TARGET_AVX512 inline __m512 load16(const half* p, __mmask16 k) noexcept {
  return _mm512_maskz_cvtph_ps(all16, _mm256_maskz_loadu_epi16(k, p));  // vcvtph2ps: exact
}
FP8_TARGET_AVX512 inline __m512i load_codes(const std::uint8_t* p, __mmask16 k) noexcept {
  return _mm512_maskz_cvtepu8_epi32(all16, _mm_maskz_loadu_epi8(k, p));
}
FP8_TARGET_AVX512 inline __m512i load_codes(const std::uint8_t* p) noexcept {
  return _mm512_maskz_cvtepu8_epi32(all16, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// x / scale by the call's scaling kind (detail::scaling).
template <scaling::kind_t K>
FP8_TARGET_AVX512 inline __m512 apply_scaling(__m512 x, __m512 factor) noexcept {
  if (K == scaling::multiply) return _mm512_mul_ps(x, factor);
  if (K == scaling::divide) return _mm512_div_ps(x, factor);
  return x;
}

// ------------------------------------------------------------ encode
// 16 float lanes -> FP8 codes in int32 lanes: simd_core.hpp's encode_lanes.
template <class F, overflow O>
FP8_TARGET_AVX512 inline __m512i encode_lanes(__m512 x) noexcept {
  using T = format_traits<F>;
  constexpr int M = T::mantissa_bits, S = 23 - M;
  constexpr std::int32_t max_bits = static_cast<std::int32_t>(
      static_cast<std::uint32_t>(T::max_finite_code) << S) + ((127 - T::exponent_bias) << 23);
  constexpr std::int32_t min_normal_bits = (T::min_normal_exponent + 127) << 23;
  constexpr std::int32_t magic_bits = (T::min_normal_exponent - M + 23 + 127) << 23;
  constexpr std::int32_t round_rebias = ((1 << (S - 1)) - 1) - ((127 - T::exponent_bias) << 23);

  const __m512i u = _mm512_castps_si512(x);
  __m512i a = _mm512_and_si512(u, set1(0x7FFFFFFF));
  const __m512i sign = _mm512_and_si512(vpsrld<24>(u), set1(0x80));
  const __mmask16 nan = _mm512_cmpgt_epi32_mask(a, set1(0x7F800000));
  if (O == overflow::saturate) a = vpminsd(a, set1(max_bits));

  // Normal: (a + round_rebias + bit S of a) >> S, ties to even.
  __m512i biased = _mm512_add_epi32(a, set1(round_rebias));
  biased = _mm512_mask_add_epi32(biased, _mm512_test_epi32_mask(a, set1(1 << S)), biased, set1(1));
  __m512i mag = vpsrld<S>(biased);
  // Subnormal: the FPU rounds |x| + 2^(emin - M + 23) to the FP8 step.
  const __m512 magic = _mm512_castsi512_ps(set1(magic_bits));
  const __m512i subnormal =
      _mm512_sub_epi32(_mm512_castps_si512(_mm512_add_ps(_mm512_castsi512_ps(a), magic)), set1(magic_bits));
  mag = _mm512_mask_mov_epi32(mag, _mm512_cmplt_epi32_mask(a, set1(min_normal_bits)), subnormal);

  // Sign: fnuz has no negative zero.
  __m512i code = T::has_negative_zero ? _mm512_or_si512(mag, sign)
                                      : _mm512_mask_or_epi32(mag, _mm512_test_epi32_mask(mag, mag), mag, sign);
  if (O == overflow::non_saturating) {
    const std::int32_t ovf = T::has_infinity ? T::infinity_code : T::nan_code;
    const __m512i ovf_code = T::special_values == specials::fnuz ? set1(ovf) : _mm512_or_si512(set1(ovf), sign);
    code = _mm512_mask_mov_epi32(code, _mm512_cmpgt_epi32_mask(mag, set1(T::max_finite_code)), ovf_code);
  }
  const __m512i nan_code =
      T::special_values == specials::fnuz ? set1(T::nan_code) : _mm512_or_si512(set1(T::nan_code), sign);
  return _mm512_mask_mov_epi32(code, nan, nan_code);
}

// Four vectors of codes (values 0..255) -> 64 bytes in order. The packs work
// within 128-bit lanes, leaving dword 4L + j = codes[j] lane L; vpermd puts
// dword 4j + L there instead.
FP8_TARGET_AVX512 inline void store64(__m512i c0, __m512i c1, __m512i c2, __m512i c3, std::uint8_t* dst) noexcept {
  const __m512i packed = _mm512_packus_epi16(_mm512_packs_epi32(c0, c1), _mm512_packs_epi32(c2, c3));
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  _mm512_storeu_si512(dst, _mm512_maskz_permutexvar_epi32(all16, order, packed));
}

// The whole array: 64 elements a step, then 16 at a time, the last step
// masked. Returns nothing: it owns its tail.
template <class F, overflow O, scaling::kind_t K, class Src>
FP8_TARGET_AVX512 void encode(const Src* src, std::uint8_t* dst, std::size_t n, float factor) noexcept {
  const __m512 f = _mm512_set1_ps(factor);
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i c0 = encode_lanes<F, O>(apply_scaling<K>(load16(src + i, all16), f));
    const __m512i c1 = encode_lanes<F, O>(apply_scaling<K>(load16(src + i + 16, all16), f));
    const __m512i c2 = encode_lanes<F, O>(apply_scaling<K>(load16(src + i + 32, all16), f));
    const __m512i c3 = encode_lanes<F, O>(apply_scaling<K>(load16(src + i + 48, all16), f));
    store64(c0, c1, c2, c3, dst + i);
  }
  for (; i < n; i += 16) {
    const std::size_t left = n - i < 16 ? n - i : 16;
    const auto k = static_cast<__mmask16>((1u << left) - 1u);
    const __m512i c = encode_lanes<F, O>(apply_scaling<K>(load16(src + i, k), f));
    _mm512_mask_cvtepi32_storeu_epi8(dst + i, k, c);  // vpmovdb
  }
}

// ------------------------------------------------------------ decode
// FP8 codes in 16 int32 lanes -> float lanes: simd_core.hpp's decode_lanes.
template <class F>
FP8_TARGET_AVX512 inline __m512 decode_lanes(__m512i c) noexcept {
  using T = format_traits<F>;
  constexpr int M = T::mantissa_bits, S = 23 - M;
  const __m512i mag = _mm512_and_si512(c, set1(0x7F));
  const __m512i sign = vpslld<24>(_mm512_and_si512(c, set1(0x80)));
  const __m512i normal = _mm512_add_epi32(vpslld<S>(mag), set1((127 - T::exponent_bias) << 23));
  const __m512 step = _mm512_set1_ps(static_cast<float>(scalar::detail::pow2(T::subnormal_exponent)));
  const __m512i subnormal = _mm512_castps_si512(_mm512_mul_ps(vcvtdq2ps(mag), step));
  __m512i bits = _mm512_mask_mov_epi32(normal, _mm512_cmplt_epi32_mask(mag, set1(1 << M)), subnormal);
  bits = _mm512_or_si512(bits, sign);
  const __m512i qnan = set1(0x7FC00000);
  switch (T::special_values) {
    case specials::ieee:  // exponent all ones: Inf (mantissa 0) or NaN
      bits = _mm512_mask_mov_epi32(bits, _mm512_cmpgt_epi32_mask(mag, set1(T::infinity_code)),
                                   _mm512_or_si512(qnan, sign));
      bits = _mm512_mask_mov_epi32(bits, _mm512_cmpeq_epi32_mask(mag, set1(T::infinity_code)),
                                   _mm512_or_si512(set1(0x7F800000), sign));
      break;
    case specials::fn:
      bits = _mm512_mask_mov_epi32(bits, _mm512_cmpeq_epi32_mask(mag, set1(0x7F)), _mm512_or_si512(qnan, sign));
      break;
    case specials::fnuz:
      bits = _mm512_mask_mov_epi32(bits, _mm512_cmpeq_epi32_mask(c, set1(0x80)), qnan);
      break;
  }
  return _mm512_castsi512_ps(bits);
}

// float lanes -> 16 16-bit patterns, the scalar codec's one rounding to
// nearest even; NaN becomes the quiet NaN of its sign (bfloat16 0x7FC0 |
// sign, half 0x7E00 | sign).
FP8_TARGET_AVX512 inline __m256i narrow16(__m512 x, bfloat16*) noexcept {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i lsb = _mm512_and_si512(vpsrld<16>(u), set1(1));
  const __m512i rounded = vpsrld<16>(_mm512_add_epi32(_mm512_add_epi32(u, set1(0x7FFF)), lsb));
  const __m512i nan = _mm512_or_si512(_mm512_and_si512(vpsrld<16>(u), set1(0x8000)), set1(0x7FC0));
  const __mmask16 is_nan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(u, set1(0x7FFFFFFF)), set1(0x7F800000));
  return _mm512_maskz_cvtepi32_epi16(all16, _mm512_mask_mov_epi32(rounded, is_nan, nan));  // vpmovdw
}
FP8_TARGET_AVX512 inline __m256i narrow16(__m512 x, half*) noexcept {
  // vcvtps2ph rounds to nearest even (explicit rounding control) and keeps a
  // NaN's payload; replacing NaN by the float quiet NaN of its sign first
  // (0x7FC00000 | sign) makes it give 0x7E00 | sign.
  const __m512i u = _mm512_castps_si512(x);
  const __m512i qnan =
      _mm512_or_si512(_mm512_and_si512(u, set1(static_cast<std::int32_t>(0x80000000u))), set1(0x7FC00000));
  const __mmask16 is_nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  const __m512 y = _mm512_castsi512_ps(_mm512_mask_mov_epi32(u, is_nan, qnan));
  return _mm512_maskz_cvtps_ph(all16, y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// Decoded lanes, scaled when Scaled, stored to the first lanes k of dst.
template <bool Scaled>
FP8_TARGET_AVX512 inline void store16(__m512 x, __m512 factor, float* dst, __mmask16 k) noexcept {
  _mm512_mask_storeu_ps(dst, k, Scaled ? _mm512_mul_ps(x, factor) : x);
}
template <bool Scaled, class Dst>
FP8_TARGET_AVX512 inline void store16(__m512 x, __m512 factor, Dst* dst, __mmask16 k) noexcept {
  _mm256_mask_storeu_epi16(dst, k, narrow16(Scaled ? _mm512_mul_ps(x, factor) : x, dst));
}

template <class F, bool Scaled, class Dst>
FP8_TARGET_AVX512 void decode(const std::uint8_t* src, Dst* dst, std::size_t n, float scale) noexcept {
  const __m512 f = _mm512_set1_ps(scale);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) store16<Scaled>(decode_lanes<F>(load_codes(src + i)), f, dst + i, all16);
  if (i < n) {
    const auto k = static_cast<__mmask16>((1u << (n - i)) - 1u);
    store16<Scaled>(decode_lanes<F>(load_codes(src + i, k)), f, dst + i, k);
  }
}

}  // namespace avx512
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
#endif  // FP8_TIER_AVX512
