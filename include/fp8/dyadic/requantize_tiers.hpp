// SPDX-License-Identifier: Apache-2.0
// The lane primitives of each vector tier of the requantizer, and the
// requantizer itself compiled once per tier from
// dyadic/requantize_loop-inl.hpp (which lists what a tier provides and
// derives the arithmetic): detail::requant_sse2, requant_avx2 and
// requant_avx512::requantize_tile. SSE2 is the build's flags' (SSE4.1's
// pminsd / pmaxsd / pmuldq where the flags have it); AVX2 and AVX-512 are
// intrinsics inside target regions (docs/dispatch.md), compiled whatever the
// flags under run-time dispatch, so a build without -march runs them on a
// CPU that has them.
//
// Rules of the regions: opened and closed at file scope, nothing but the
// include-guard-free loop is included inside them; GCC 12's unmasked
// AVX-512 intrinsics that start from an undefined register (vpminsd,
// vpmuldq, shifts, vpmovdb) are spelled in their zero-masking form with a
// full mask, the same instruction, so a consumer's -Wall stays quiet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "dyadic.hpp"
#include "requantize_lanes.hpp"

#if FP8_ISA_SSE2
#include <immintrin.h>  // the SSE2 tier (detail/dispatch.hpp includes it only for GCC and clang)
#endif

#if FP8_ISA_SSE2
// ---------------------------------------------------------------- SSE2 (+SSE4.1)
// 4 lanes. SSE2 has no signed 32x32->64 multiply, no 32-bit min/max, no
// per-lane 64-bit shift and no 64-bit compare; each is built from what it has.
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace requant_sse2 {

struct lanes {
  using v = __m128i;
  struct count {
    __m128i lane0, lane1;  // psrlq shifts every lane by one count: one register per 64-bit lane
  };
  static constexpr std::size_t width = 4;
  static constexpr bool logical_shift = true;
  static constexpr bool high_halves = false;  // no per-lane 32-bit shift

  static v load(const std::int32_t* p) noexcept { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
  static v load_n(const std::int32_t* p, std::size_t n) noexcept {
    alignas(16) std::int32_t a[4] = {};
    std::memcpy(a, p, n * sizeof(std::int32_t));
    return _mm_load_si128(reinterpret_cast<const __m128i*>(a));
  }
  static count load_count(const std::int64_t* k) noexcept {
    return {_mm_loadl_epi64(reinterpret_cast<const __m128i*>(k)),
            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(k + 1))};
  }
  static v pminsd(v a, v b) noexcept {
#if FP8_ISA_SSE41
    return _mm_min_epi32(a, b);
#else
    const __m128i gt = _mm_cmpgt_epi32(a, b);
    return _mm_or_si128(_mm_and_si128(gt, b), _mm_andnot_si128(gt, a));
#endif
  }
  static v pmaxsd(v a, v b) noexcept {
#if FP8_ISA_SSE41
    return _mm_max_epi32(a, b);
#else
    const __m128i gt = _mm_cmpgt_epi32(a, b);
    return _mm_or_si128(_mm_and_si128(gt, a), _mm_andnot_si128(gt, b));
#endif
  }
  static v paddd(v a, v b) noexcept { return _mm_add_epi32(a, b); }
  static v psubd(v a, v b) noexcept { return _mm_sub_epi32(a, b); }
  static v paddq(v a, v b) noexcept { return _mm_add_epi64(a, b); }
  static v psubq(v a, v b) noexcept { return _mm_sub_epi64(a, b); }
  static v pand(v a, v b) noexcept { return _mm_and_si128(a, b); }
  // Without SSE4.1's pmuldq: the unsigned product of the same bits exceeds
  // the signed one by 2^32 * (b if a < 0) + 2^32 * (a if b < 0), mod 2^64.
  static v pmuldq(v a, v b) noexcept {
#if FP8_ISA_SSE41
    return _mm_mul_epi32(a, b);
#else
    const __m128i u = _mm_mul_epu32(a, b);
    const __m128i fix = _mm_add_epi32(_mm_and_si128(_mm_srai_epi32(a, 31), b), _mm_and_si128(_mm_srai_epi32(b, 31), a));
    return _mm_sub_epi64(u, _mm_slli_epi64(fix, 32));
#endif
  }
  static v psrlq32(v a) noexcept { return _mm_srli_epi64(a, 32); }
  static v set1_d(std::int32_t x) noexcept { return _mm_set1_epi32(x); }
  static v set1_q(std::int64_t x) noexcept { return _mm_set1_epi64x(x); }
  static count to_count(v k) noexcept { return {k, _mm_unpackhi_epi64(k, k)}; }
  static v odd_lanes(const std::int32_t*, v a) noexcept { return psrlq32(a); }
  // x + bit k of p, per 64-bit lane (bit = 2^k).
  static v paddq_bit(v x, v p, count k, v, v one) noexcept { return _mm_add_epi64(x, _mm_and_si128(shift_q(p, k), one)); }
  // The sign of each high half, copied to both halves of its 64-bit lane.
  static v psubq_if_negative(v x, v p, v s) noexcept {
    return _mm_sub_epi64(x, _mm_and_si128(_mm_shuffle_epi32(_mm_srai_epi32(p, 31), 0xF5), s));
  }
  static v shift_q(v x, count k) noexcept {
    return _mm_castpd_si128(
        _mm_move_sd(_mm_castsi128_pd(_mm_srl_epi64(x, k.lane1)), _mm_castsi128_pd(_mm_srl_epi64(x, k.lane0))));
  }
  static v join_low(v even, v odd) noexcept {
    return _mm_or_si128(_mm_and_si128(even, _mm_set_epi32(0, -1, 0, -1)), _mm_slli_epi64(odd, 32));
  }
  // The low byte of each lane: masked to 0..255, both packs are exact.
  static int bytes(v x) noexcept {
    const __m128i w = _mm_packs_epi32(_mm_and_si128(x, _mm_set1_epi32(0xFF)), _mm_setzero_si128());
    return _mm_cvtsi128_si32(_mm_packus_epi16(w, w));
  }
  static void store_bytes(std::uint8_t* out, v x) noexcept {
    const int b = bytes(x);
    std::memcpy(out, &b, 4);
  }
  static void store_bytes_n(std::uint8_t* out, v x, std::size_t n) noexcept {
    const int b = bytes(x);
    std::memcpy(out, &b, n);
  }
  static int bytes_saturated(v x) noexcept {
    const __m128i w = _mm_packs_epi32(x, x);
    return _mm_cvtsi128_si32(_mm_packs_epi16(w, w));
  }
  static void store_bytes_saturated(std::uint8_t* out, v x) noexcept {
    const int b = bytes_saturated(x);
    std::memcpy(out, &b, 4);
  }
  static void store_bytes_saturated_n(std::uint8_t* out, v x, std::size_t n) noexcept {
    const int b = bytes_saturated(x);
    std::memcpy(out, &b, n);
  }
};

#include "requantize_loop-inl.hpp"

}  // namespace requant_sse2
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
#endif  // FP8_ISA_SSE2

#if FP8_TIER_AVX2
// ---------------------------------------------------------------- AVX2
// 8 lanes: vpsrlvq (per-lane logical 64-bit shift), vpcmpgtq, vpmaskmovd.
FP8_BEGIN_TARGET_AVX2
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace requant_avx2 {

struct lanes {
  using v = __m256i;
  using count = __m256i;
  static constexpr std::size_t width = 8;
  static constexpr bool logical_shift = true;
  static constexpr bool high_halves = true;

  static v load(const std::int32_t* p) noexcept { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  // vpmaskmovd reads (and faults on) only the selected lanes.
  static v load_n(const std::int32_t* p, std::size_t n) noexcept {
    const __m256i mask =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_maskload_epi32(reinterpret_cast<const int*>(p), mask);
  }
  static count load_count(const std::int64_t* k) noexcept { return load(reinterpret_cast<const std::int32_t*>(k)); }
  static v pminsd(v a, v b) noexcept { return _mm256_min_epi32(a, b); }
  static v pmaxsd(v a, v b) noexcept { return _mm256_max_epi32(a, b); }
  static v paddd(v a, v b) noexcept { return _mm256_add_epi32(a, b); }
  static v psubd(v a, v b) noexcept { return _mm256_sub_epi32(a, b); }
  static v paddq(v a, v b) noexcept { return _mm256_add_epi64(a, b); }
  static v psubq(v a, v b) noexcept { return _mm256_sub_epi64(a, b); }
  static v pand(v a, v b) noexcept { return _mm256_and_si256(a, b); }
  static v pmuldq(v a, v b) noexcept { return _mm256_mul_epi32(a, b); }
  static v psrlq32(v a) noexcept { return _mm256_srli_epi64(a, 32); }
  static v odd_lanes(const std::int32_t*, v a) noexcept { return psrlq32(a); }
  static v paddq_bit(v x, v p, count k, v, v one) noexcept {
    return _mm256_add_epi64(x, _mm256_and_si256(_mm256_srlv_epi64(p, k), one));
  }
  static v psubq_if_negative(v x, v p, v s) noexcept {
    return _mm256_sub_epi64(x, _mm256_and_si256(_mm256_cmpgt_epi64(_mm256_setzero_si256(), p), s));
  }
  // For deriving per-channel constants (dyadic/requantize_loop-inl.hpp, derive).
  static v set1_d(std::int32_t x) noexcept { return _mm256_set1_epi32(x); }
  static v set1_q(std::int64_t x) noexcept { return _mm256_set1_epi64x(x); }
  static void store(std::int32_t* p, v x) noexcept { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), x); }
  template <int n>
  static v psllq_n(v a) noexcept { return _mm256_slli_epi64(a, n); }
  template <int n>
  static v psrlq_n(v a) noexcept { return _mm256_srli_epi64(a, n); }
  static v psllvq(v a, v k) noexcept { return _mm256_sllv_epi64(a, k); }
  static count to_count(v k) noexcept { return k; }
  // width dyadics from p: as 64-bit lanes (multiplier low, shift high),
  // channels 0..3 in first, 4..7 in second.
  static void load_dyadics(const dyadic* p, v& first, v& second) noexcept {
    first = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    second = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 4));
  }
  // The even channels' and the odd channels' 64-bit lanes, in order.
  static void deinterleave_q(v first, v second, v& even, v& odd) noexcept {
    even = _mm256_permute4x64_epi64(_mm256_unpacklo_epi64(first, second), 0xD8);
    odd = _mm256_permute4x64_epi64(_mm256_unpackhi_epi64(first, second), 0xD8);
  }
  static v shift_q(v x, count k) noexcept { return _mm256_srlv_epi64(x, k); }
  static v join_low(v even, v odd) noexcept { return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA); }
  // vpshufd 0xF5 copies dwords 1 and 3 of even to dwords 0 and 2.
  static v join_high(v even, v odd) noexcept { return _mm256_blend_epi32(_mm256_shuffle_epi32(even, 0xF5), odd, 0xAA); }
  static v shift_d(v x, v k) noexcept { return _mm256_srlv_epi32(x, k); }
  // vpshufb moves byte 0 of each 32-bit lane to bytes 0-3 of its 128-bit
  // half; the two halves' first dwords then make 8 bytes in order.
  static __m128i bytes(v x) noexcept {
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,  //
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i t = _mm256_shuffle_epi8(x, pick);
    return _mm_unpacklo_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
  }
  static void store_bytes(std::uint8_t* out, v x) noexcept {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes(x));
  }
  static void store_bytes_n(std::uint8_t* out, v x, std::size_t n) noexcept {
    alignas(16) std::uint8_t b[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(b), bytes(x));
    std::memcpy(out, b, n);
  }
  // The packs work within 128-bit halves: each half's four bytes end up in
  // its first dword.
  static __m128i bytes_saturated(v x) noexcept {
    const __m256i w = _mm256_packs_epi32(x, x);
    const __m256i t = _mm256_packs_epi16(w, w);
    return _mm_unpacklo_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
  }
  static void store_bytes_saturated(std::uint8_t* out, v x) noexcept {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes_saturated(x));
  }
  static void store_bytes_saturated_n(std::uint8_t* out, v x, std::size_t n) noexcept {
    alignas(16) std::uint8_t b[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(b), bytes_saturated(x));
    std::memcpy(out, b, n);
  }
};

#include "requantize_loop-inl.hpp"

}  // namespace requant_avx2
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX2
#endif  // FP8_TIER_AVX2

#if FP8_TIER_AVX512
// ---------------------------------------------------------------- AVX-512
// 16 lanes: vpsravq (the 64-bit arithmetic shift: no bias, no fix), opmask
// tails (loads and stores touch only the lanes they keep), vpmovdb.
FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace requant_avx512 {

struct lanes {
  using v = __m512i;
  using count = __m512i;
  static constexpr std::size_t width = 16;
  static constexpr bool logical_shift = false;
  static constexpr bool high_halves = true;
  static constexpr __mmask16 all32 = 0xFFFF;
  static constexpr __mmask8 all64 = 0xFF;

  static __mmask16 first(std::size_t n) noexcept { return static_cast<__mmask16>((1u << n) - 1u); }
  static v load(const std::int32_t* p) noexcept { return _mm512_loadu_si512(p); }
  static v load_n(const std::int32_t* p, std::size_t n) noexcept { return _mm512_maskz_loadu_epi32(first(n), p); }
  static count load_count(const std::int64_t* k) noexcept { return _mm512_loadu_si512(k); }
  static v pminsd(v a, v b) noexcept { return _mm512_maskz_min_epi32(all32, a, b); }
  static v pmaxsd(v a, v b) noexcept { return _mm512_maskz_max_epi32(all32, a, b); }
  static v paddd(v a, v b) noexcept { return _mm512_add_epi32(a, b); }
  static v psubd(v a, v b) noexcept { return _mm512_sub_epi32(a, b); }
  static v paddq(v a, v b) noexcept { return _mm512_add_epi64(a, b); }
  static v psubq(v a, v b) noexcept { return _mm512_sub_epi64(a, b); }
  static v pand(v a, v b) noexcept { return _mm512_and_si512(a, b); }
  static v pmuldq(v a, v b) noexcept { return _mm512_maskz_mul_epi32(all64, a, b); }
  static v psrlq32(v a) noexcept { return _mm512_maskz_srli_epi64(all64, a, 32); }
  // A second load at p + 1 (a load costs less than a shift here); its last
  // lane, which vpmuldq ignores, is masked off: nothing past p[width - 1] is read.
  static v odd_lanes(const std::int32_t* p, v) noexcept { return _mm512_maskz_loadu_epi32(0x7FFF, p + 1); }
  static v set1_d(std::int32_t x) noexcept { return _mm512_set1_epi32(x); }
  static v set1_q(std::int64_t x) noexcept { return _mm512_set1_epi64(x); }
  static void store(std::int32_t* p, v x) noexcept { _mm512_storeu_si512(p, x); }
  template <int n>
  static v psllq_n(v a) noexcept { return _mm512_maskz_slli_epi64(all64, a, n); }
  template <int n>
  static v psrlq_n(v a) noexcept { return _mm512_maskz_srli_epi64(all64, a, n); }
  static v psllvq(v a, v k) noexcept { return _mm512_maskz_sllv_epi64(all64, a, k); }
  static count to_count(v k) noexcept { return k; }
  static void load_dyadics(const dyadic* p, v& first, v& second) noexcept {
    first = _mm512_loadu_si512(p);
    second = _mm512_loadu_si512(p + 8);
  }
  static void deinterleave_q(v first, v second, v& even, v& odd) noexcept {
    even = _mm512_permutex2var_epi64(first, _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), second);
    odd = _mm512_permutex2var_epi64(first, _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), second);
  }
  // vptestmq and a masked add: two instructions where a shift, an and and an add are three.
  static v paddq_bit(v x, v p, count, v bit, v one) noexcept {
    return _mm512_mask_add_epi64(x, _mm512_test_epi64_mask(p, bit), x, one);
  }
  static v psubq_if_negative(v x, v p, v s) noexcept { return _mm512_mask_sub_epi64(x, _mm512_movepi64_mask(p), x, s); }
  static v shift_q(v x, count k) noexcept { return _mm512_maskz_srav_epi64(all64, x, k); }
  // vpshufd with imm 0xA0 puts dword 0 and 2 of each 128-bit lane of odd
  // into dwords 1 and 3; the odd-lane mask keeps even's dwords 0 and 2.
  static v join_low(v even, v odd) noexcept {
    return _mm512_mask_shuffle_epi32(even, static_cast<__mmask16>(0xAAAA), odd, static_cast<_MM_PERM_ENUM>(0xA0));
  }
  // The even-lane mask takes dwords 1 and 3 of each 128-bit lane of even
  // (vpshufd 0xF5) into dwords 0 and 2; odd keeps its own dwords 1 and 3.
  static v join_high(v even, v odd) noexcept {
    return _mm512_mask_shuffle_epi32(odd, static_cast<__mmask16>(0x5555), even, static_cast<_MM_PERM_ENUM>(0xF5));
  }
  static v shift_d(v x, v k) noexcept { return _mm512_maskz_srav_epi32(all32, x, k); }
  static void store_bytes(std::uint8_t* out, v x) noexcept {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_maskz_cvtepi32_epi8(all32, x));
  }
  static void store_bytes_n(std::uint8_t* out, v x, std::size_t n) noexcept {
    _mm512_mask_cvtepi32_storeu_epi8(out, first(n), x);
  }
  static void store_bytes_saturated(std::uint8_t* out, v x) noexcept {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_maskz_cvtsepi32_epi8(all32, x));
  }
  static void store_bytes_saturated_n(std::uint8_t* out, v x, std::size_t n) noexcept {
    _mm512_mask_cvtsepi32_storeu_epi8(out, first(n), x);
  }
};

#include "requantize_loop-inl.hpp"

}  // namespace requant_avx512
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512
#endif  // FP8_TIER_AVX512
