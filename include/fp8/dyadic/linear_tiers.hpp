// SPDX-License-Identifier: Apache-2.0
// The vector tiers of the integer linear quantizer (dyadic/linear.hpp): the
// float-lane primitives each tier adds to the requantizer's integer ones
// (dyadic/requantize_tiers.hpp: load, set1_d, paddd, psubd, width), the
// quantizer's loops compiled once per tier from dyadic/linear_loop-inl.hpp,
// and one overload per tier tag of the functions the entries call
// (detail::linear_quantize, linear_dequantize, linear_fake, linear_widen; the
// portable overloads, the definitions element by element, are in linear.hpp).
// SSE2 is the build's flags' (SSE4.1's pmovsxbd / pmovzxbd and F16C where
// the flags have them); AVX2 and AVX-512 are intrinsics inside target
// regions (docs/dispatch.md), compiled whatever the flags under run-time
// dispatch, so a build without -march runs them on a CPU that has them. The
// tags inherit: avx512bf16 runs avx512's code.
//
// Rules of the regions: opened and closed at file scope, nothing but the
// include-guard-free loop is included inside them, no lambdas; GCC 12's
// unmasked AVX-512 intrinsics that start from an undefined register
// (vcvtps2dq, vpmovsxbd, vminps, ...) are spelled in their zero-masking form
// with a full mask (detail/simd_avx512.hpp), the same instruction, so a
// consumer's -Wall stays quiet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../codec/stream.hpp"
#include "../config.hpp"
#include "../detail/bit.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../detail/simd_avx512.hpp"
#include "../quant/per_channel.hpp"
#include "../types/float16.hpp"
#include "requantize.hpp"
#include "requantize_tiers.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

template <class Out>
constexpr bool linear_signed = quantized_type<Out>::lowest < 0;
template <class Out>
constexpr bool linear_nibbles = quantized_type<Out>::bits == 4;

FP8_BEGIN_TU_NAMESPACE

// The scaling rule of codec/stream.hpp (detail::scaling: a multiply only
// where it is the same correctly rounded quotient) decided from the bits,
// without its std::frexp call, which per-row calls would pay once per row
// (about half the time of a 64-column row): 1 needs no scaling; a normal
// power of two 2^k (fraction bits 0, exponent field 1..254, so -126 <= k <=
// 127) has the reciprocal 2^-k, a float for every such k (2^-127 is
// subnormal, still exact), and x * 2^-k is the correctly rounded x / 2^k;
// everything else divides (a subnormal power of two too: dividing is always
// the definition).
inline scaling linear_scaling(float scale) noexcept {
  scaling s(1.0f);  // kind none
  if (scale == 1.0f) return s;
  const auto u = bit_cast<std::uint32_t>(scale);
  const std::uint32_t exponent = (u >> 23) & 0xFFu;
  if ((u & 0x807FFFFFu) == 0 && exponent - 1u < 254u) {
    s.kind = scaling::multiply;
    s.factor = 1.0f / scale;
  } else {
    s.kind = scaling::divide;
    s.factor = scale;
  }
  return s;
}

FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE

#if FP8_ISA_SSE2
// ---------------------------------------------------------------- SSE2
// 4 lanes. No region: the baseline of x86-64, with whatever the flags add.
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace linear_sse2 {

struct lanes : requant_sse2::lanes {
  using f = __m128;
#if defined(__F16C__)
  static constexpr bool f16c = true;
#else
  static constexpr bool f16c = false;
#endif

  static f loadf(const float* p) noexcept { return _mm_loadu_ps(p); }
  static void storef(float* p, f x) noexcept { _mm_storeu_ps(p, x); }
  static f set1f(float x) noexcept { return _mm_set1_ps(x); }
  static f mulps(f a, f b) noexcept { return _mm_mul_ps(a, b); }
  static f divps(f a, f b) noexcept { return _mm_div_ps(a, b); }
  // NaN lanes to 0, then min(max(q, lo), hi) (cmpordps and an and: maxps
  // would return lo for NaN).
  static f clamp0(f q, f lo, f hi) noexcept {
    return _mm_min_ps(_mm_max_ps(_mm_and_ps(q, _mm_cmpord_ps(q, q)), lo), hi);
  }
  static v cvtps2dq(f x) noexcept { return _mm_cvtps_epi32(x); }
  static f cvtdq2ps(v x) noexcept { return _mm_cvtepi32_ps(x); }
  // 4 code bytes widened to int32 lanes, with sign or without. SSE2: each
  // byte copied into all four bytes of its lane (two self-unpacks), then an
  // arithmetic shift by 24; or unpacked with zeros.
  template <bool Signed>
  static v load_codes(const std::uint8_t* p) noexcept {
    std::int32_t word;
    std::memcpy(&word, p, 4);
    const __m128i x = _mm_cvtsi32_si128(word);
#if FP8_ISA_SSE41
    return Signed ? _mm_cvtepi8_epi32(x) : _mm_cvtepu8_epi32(x);
#else
    if (Signed) {
      const __m128i b = _mm_unpacklo_epi8(x, x);
      return _mm_srai_epi32(_mm_unpacklo_epi16(b, b), 24);
    }
    const __m128i z = _mm_setzero_si128();
    return _mm_unpacklo_epi16(_mm_unpacklo_epi8(x, z), z);
#endif
  }
  // 4 vectors -> 16 bytes in order: packssdw (exact on int16), then packsswb
  // or packuswb, saturating to int8 or uint8.
  template <bool Signed>
  static void store_codes(std::uint8_t* p, v a, v b, v c, v d) noexcept {
    const __m128i lo = _mm_packs_epi32(a, b), hi = _mm_packs_epi32(c, d);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), Signed ? _mm_packs_epi16(lo, hi) : _mm_packus_epi16(lo, hi));
  }
  // A bfloat16 is the top half of the float of the same value.
  static f widen(const bfloat16* p) noexcept {
    return _mm_castsi128_ps(
        _mm_unpacklo_epi16(_mm_setzero_si128(), _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
#if defined(__F16C__)
  static f widen(const half* p) noexcept {  // vcvtph2ps: exact
    return _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
#endif
};

#include "linear_loop-inl.hpp"

}  // namespace linear_sse2
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
#endif  // FP8_ISA_SSE2

#if FP8_TIER_AVX2
// ---------------------------------------------------------------- AVX2
// 8 lanes: vpmovsxbd / vpmovzxbd, F16C; the packs work within 128-bit
// halves, one vpermd restores the order.
FP8_BEGIN_TARGET_AVX2
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace linear_avx2 {

struct lanes : requant_avx2::lanes {
  using f = __m256;
  static constexpr bool f16c = true;

  static f loadf(const float* p) noexcept { return _mm256_loadu_ps(p); }
  static void storef(float* p, f x) noexcept { _mm256_storeu_ps(p, x); }
  static f set1f(float x) noexcept { return _mm256_set1_ps(x); }
  static f mulps(f a, f b) noexcept { return _mm256_mul_ps(a, b); }
  static f divps(f a, f b) noexcept { return _mm256_div_ps(a, b); }
  static f clamp0(f q, f lo, f hi) noexcept {
    return _mm256_min_ps(_mm256_max_ps(_mm256_and_ps(q, _mm256_cmp_ps(q, q, _CMP_ORD_Q)), lo), hi);
  }
  static v cvtps2dq(f x) noexcept { return _mm256_cvtps_epi32(x); }
  static f cvtdq2ps(v x) noexcept { return _mm256_cvtepi32_ps(x); }
  template <bool Signed>
  static v load_codes(const std::uint8_t* p) noexcept {
    const __m128i x = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    return Signed ? _mm256_cvtepi8_epi32(x) : _mm256_cvtepu8_epi32(x);
  }
  // The packs leave dwords b0.lo b1.lo b2.lo b3.lo | b0.hi b1.hi b2.hi b3.hi.
  template <bool Signed>
  static void store_codes(std::uint8_t* p, v a, v b, v c, v d) noexcept {
    const __m256i lo = _mm256_packs_epi32(a, b), hi = _mm256_packs_epi32(c, d);
    const __m256i packed = Signed ? _mm256_packs_epi16(lo, hi) : _mm256_packus_epi16(lo, hi);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm256_permutevar8x32_epi32(packed, order));
  }
  static f widen(const bfloat16* p) noexcept {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static f widen(const half* p) noexcept {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
};

#include "linear_loop-inl.hpp"

}  // namespace linear_avx2
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX2
#endif  // FP8_TIER_AVX2

#if FP8_TIER_AVX512
// ---------------------------------------------------------------- AVX-512
// 16 lanes: the NaN test folded into a zero-masked vmaxps.
FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace linear_avx512 {

struct lanes : requant_avx512::lanes {
  using f = __m512;
  static constexpr bool f16c = true;

  static f loadf(const float* p) noexcept { return _mm512_loadu_ps(p); }
  static void storef(float* p, f x) noexcept { _mm512_storeu_ps(p, x); }
  static f set1f(float x) noexcept { return _mm512_set1_ps(x); }
  static f mulps(f a, f b) noexcept { return _mm512_mul_ps(a, b); }
  static f divps(f a, f b) noexcept { return _mm512_div_ps(a, b); }
  static f clamp0(f q, f lo, f hi) noexcept {
    return zmm::min(_mm512_maskz_max_ps(_mm512_cmp_ps_mask(q, q, _CMP_ORD_Q), q, lo), hi);
  }
  static v cvtps2dq(f x) noexcept { return _mm512_maskz_cvtps_epi32(all32, x); }
  static f cvtdq2ps(v x) noexcept { return zmm::cvt_i32_f32(x); }
  template <bool Signed>
  static v load_codes(const std::uint8_t* p) noexcept {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return Signed ? _mm512_maskz_cvtepi8_epi32(all32, x) : zmm::zext_u8_i32(x);
  }
  // The packs leave dword 4L + j = vector j's lane L; vpermd puts dword
  // 4j + L there instead.
  template <bool Signed>
  static void store_codes(std::uint8_t* p, v a, v b, v c, v d) noexcept {
    const __m512i lo = _mm512_packs_epi32(a, b), hi = _mm512_packs_epi32(c, d);
    const __m512i packed = Signed ? _mm512_packs_epi16(lo, hi) : _mm512_packus_epi16(lo, hi);
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    _mm512_storeu_si512(p, zmm::permute32(order, packed));
  }
  static f widen(const bfloat16* p) noexcept {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(zmm::sll32<16>(zmm::zext_u16_i32(h)));
  }
  static f widen(const half* p) noexcept {
    return zmm::cvt_f16_f32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
};

#include "linear_loop-inl.hpp"

}  // namespace linear_avx512
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512
#endif  // FP8_TIER_AVX512

// ---------------------------------------------------------------- per tier tag
// Plain calls into each tier's code (compiled for the tier, never inlined
// here): no vector crosses the call. The entries (linear.hpp) choose the
// tag once per call.
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE

#define FP8_DETAIL_LINEAR_TIER(ns, tag)                                                                                \
  template <class Out>                                                                                                 \
  void linear_quantize(const float* src, std::size_t src_ld, std::uint8_t* dst, std::size_t dst_ld, std::size_t rows,  \
                       std::size_t cols, const float* scale, const std::int32_t* zero_point, axis channel,             \
                       tag) noexcept {                                                                                 \
    ns::quantize<Out>(src, src_ld, dst, dst_ld, rows, cols, scale, zero_point, channel);                               \
  }                                                                                                                    \
  template <class Out>                                                                                                 \
  void linear_dequantize(const std::uint8_t* src, std::size_t src_ld, float* dst, std::size_t dst_ld,                  \
                         std::size_t rows, std::size_t cols, const float* scale, const std::int32_t* zero_point,       \
                         axis channel, tag) noexcept {                                                                 \
    ns::dequantize<Out>(src, src_ld, dst, dst_ld, rows, cols, scale, zero_point, channel);                             \
  }                                                                                                                    \
  template <class Out>                                                                                                 \
  void linear_fake(const float* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,             \
                   std::size_t cols, const float* scale, const std::int32_t* zero_point, axis channel, tag) noexcept { \
    ns::fake<Out>(src, src_ld, dst, dst_ld, rows, cols, scale, zero_point, channel);                                   \
  }                                                                                                                    \
  template <class Src>                                                                                                 \
  void linear_widen(const Src* src, float* dst, std::size_t n, tag) noexcept {                                         \
    ns::widen(src, dst, n);                                                                                            \
  }
#if FP8_ISA_SSE2
FP8_DETAIL_LINEAR_TIER(linear_sse2, isa::sse2)
#endif
#if FP8_TIER_AVX2
FP8_DETAIL_LINEAR_TIER(linear_avx2, isa::avx2)
#endif
#if FP8_TIER_AVX512
FP8_DETAIL_LINEAR_TIER(linear_avx512, isa::avx512)
#endif
#undef FP8_DETAIL_LINEAR_TIER

FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
