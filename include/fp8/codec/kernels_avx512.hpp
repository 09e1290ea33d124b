// SPDX-License-Identifier: Apache-2.0
// The AVX-512 (F, BW, VL, DQ) tier of the bulk codec (codec/kernels.hpp), in
// intrinsics compiled by target attribute whatever the unit's flags (run-time
// dispatch, docs/dispatch.md): float, bfloat16 and half -> FP8 codes, and
// FP8 codes -> float, bfloat16 and half. The arithmetic is codec/simd_core.hpp's
// (its comments derive every step) on 16 int32/float lanes, with AVX-512
// masks where simd_core blends, except the encode (encode_lanes, derived
// below); each function equals codec/scalar.hpp bit for bit, its tail
// included (no scalar code below the entry).
//
// Rules of the dispatched tiers: everything here is compiled in the avx512
// target region (detail/dispatch.hpp), contains no lambda, and passes no
// vector to a function outside a region; GCC 12's unmasked AVX-512
// intrinsics that start from an undefined register (shifts, conversions,
// vpermd, vpminsd, ...) are used through detail/simd_avx512.hpp's zero-masking
// forms with a full mask, the same instruction, so a consumer's -Wall stays
// quiet. At the end, `ops`: the tier's lane operations, which the bodies
// written once for every tier (codec/stream-inl.hpp, the streaming encoder,
// and quant/'s) are compiled over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../detail/simd_avx512.hpp"
#include "../types/float16.hpp"
#include "../types/format.hpp"
#include "scalar.hpp"
#include "simd_core.hpp"
#include "stream.hpp"

#if FP8_TIER_AVX512
FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace avx512 {

using zmm::all16;
inline __m512i set1(std::int32_t v) noexcept { return _mm512_set1_epi32(v); }

// Lanes of 16-bit floats and bytes, widened to 16 int32/float lanes; k
// selects the lanes read (the others read as 0, and their memory is not
// touched).
FP8_ALWAYS_INLINE __m512 load16(const float* p, __mmask16 k) noexcept { return _mm512_maskz_loadu_ps(k, p); }
FP8_ALWAYS_INLINE __m512 load16(const bfloat16* p, __mmask16 k) noexcept {
  // A bfloat16 is the top half of the float of the same value.
  const __m256i h = _mm256_maskz_loadu_epi16(k, p);
  return _mm512_castsi512_ps(zmm::sll32<16>(zmm::zext_u16_i32(h)));
}
FP8_ALWAYS_INLINE __m512 load16(const half* p, __mmask16 k) noexcept {
  return zmm::cvt_f16_f32(_mm256_maskz_loadu_epi16(k, p));  // vcvtph2ps: exact
}
FP8_ALWAYS_INLINE __m512i load_codes(const std::uint8_t* p, __mmask16 k) noexcept {
  return zmm::zext_u8_i32(_mm_maskz_loadu_epi8(k, p));
}
FP8_ALWAYS_INLINE __m512i load_codes(const std::uint8_t* p) noexcept {
  return zmm::zext_u8_i32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// x / scale by the call's scaling kind (detail::scaling).
template <scaling::kind_t K>
FP8_ALWAYS_INLINE __m512 apply_scaling(__m512 x, __m512 factor) noexcept {
  if (K == scaling::multiply) return _mm512_mul_ps(x, factor);
  if (K == scaling::divide) return _mm512_div_ps(x, factor);
  return x;
}

// ------------------------------------------------------------ encode
// 16 float lanes -> FP8 codes in int32 lanes (simd_core.hpp's encode_lanes
// on the other tiers), in eight operations per 16 lanes (E4M3; nine for
// E5M2, eleven for the fnuz formats), the FPU doing the rounding:
//
//   c = min(|x|, L) (vrangeps; a NaN stays NaN), L = max finite when
//   saturating; otherwise the least float that rounds past max (the
//   midpoint of max and the next step, one float ulp above it when max's
//   code is even and keeps the tie), which gives max's code + 1: E4M3's NaN,
//   E5M2's Inf, fnuz's 0x80. e is c's biased float exponent raised to e0,
//   the min normal's, so that the FP8 step at c is q = 2^(e - 127 - M), for
//   subnormal c too. Let X = 2^M (e - e0) and magic = (2^23 + X) q, a float
//   of exponent e - 127 + 23 - M whose last mantissa bit is worth q. The sum
//   c + magic, rounded to nearest even, is (2^23 + X + k) q with k = c / q
//   rounded to nearest even: c / q <= 2^(M + 1), so the sum keeps magic's
//   exponent, and X is even, so a tie goes where k's does. Its mantissa
//   field X + k is the code's magnitude: 2^M (e - e0) + k is
//   2^M (e - e0 + 1) + m for a normal c = (1 + m / 2^M) 2^(e - 127) (k =
//   2^M + m; k = 2^(M + 1) carries into the code's exponent as it should),
//   and k for a subnormal one. It is at most 128 since c <= L, 128 only
//   past a fnuz max.
//
// magic depends on e only, which takes at most 32 values (15 for E4M3, 30
// for E5M2), so it is read from a table indexed by e mod 32 (vpermi2d). The
// add rounds to nearest even by instruction (not by MXCSR's mode) and never
// sees a subnormal sum, so DAZ and FTZ do not change the codes. The sign is
// x's, bit 7 of x >> 24; with a negative zero, a NaN x gives
// (x >> 24) & (0x80 | NaN code), as bits 0-6 of x >> 24 are x's exponent's
// top bits, all ones.
template <class F>
struct encode_magic {
  using T = format_traits<F>;
  static constexpr int M = T::mantissa_bits;
  static constexpr int e0 = T::min_normal_exponent + 127, e1 = T::max_exponent + 127;
  static_assert(T::exponent_bits + M == 7 && M >= 1 && e1 - e0 < 32, "an FP8 format: 7 bits of magnitude");
  static constexpr std::int32_t max_bits =
      static_cast<std::int32_t>(static_cast<std::uint32_t>(T::max_finite_code) << (23 - M)) +
      ((127 - T::exponent_bias) << 23);
  static constexpr std::int32_t past_max_bits = max_bits + (1 << (22 - M)) + (T::max_finite_code % 2 == 0 ? 1 : 0);
  static constexpr std::int32_t entry(int i) noexcept {
    const int e = e0 + ((i - e0) % 32 + 32) % 32;  // the e in [e0, e0 + 31] with e = i mod 32
    return e > e1 ? 0 : ((e + 23 - M) << 23) + ((e - e0) << M);
  }
  alignas(64) static constexpr std::int32_t table[32] = {
      entry(0),  entry(1),  entry(2),  entry(3),  entry(4),  entry(5),  entry(6),  entry(7),
      entry(8),  entry(9),  entry(10), entry(11), entry(12), entry(13), entry(14), entry(15),
      entry(16), entry(17), entry(18), entry(19), entry(20), entry(21), entry(22), entry(23),
      entry(24), entry(25), entry(26), entry(27), entry(28), entry(29), entry(30), entry(31)};
};

template <class F, overflow O>
FP8_ALWAYS_INLINE __m512i encode_lanes(__m512 x) noexcept {
  using T = format_traits<F>;
  using G = encode_magic<F>;
  zmm::keep_in_register(x);  // read once
  constexpr std::int32_t limit = O == overflow::saturate ? G::max_bits : G::past_max_bits;
  const __m512 c = zmm::min_magnitude(x, _mm512_castsi512_ps(set1(limit)));
  const __m512i e = zmm::srl32<23>(zmm::max_u32(_mm512_castps_si512(c), set1(G::e0 << 23)));
  const __m512i magic =
      _mm512_permutex2var_epi32(_mm512_load_si512(G::table), e, _mm512_load_si512(G::table + 16));
  const __m512i sum = _mm512_castps_si512(zmm::add_nearest(c, _mm512_castsi512_ps(magic)));
  __m512i high = zmm::srl32<24>(_mm512_castps_si512(x));
  if (T::has_negative_zero) {
    if (T::nan_code != 0x7F) high = _mm512_and_si512(high, set1(0x80 | T::nan_code));
    // Ordered lanes: bits 0-6 from sum, the others from high (the sign,
    // then zeros); NaN lanes keep high.
    return _mm512_mask_ternarylogic_epi32(high, _mm512_cmp_ps_mask(x, x, _CMP_ORD_Q), sum, set1(~0x7F), 0xE4);
  }
  // fnuz: bits 0-7 of the sum, the overflow code 0x80 included, or'ed with
  // the sign unless they are 0 (no negative zero); NaN gives 0x80.
  const __m512i mag = _mm512_and_si512(sum, set1(0xFF));
  const __m512i code = _mm512_maskz_ternarylogic_epi32(_mm512_test_epi32_mask(mag, mag), mag, high, set1(0x80), 0xF8);
  return _mm512_mask_mov_epi32(code, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), set1(T::nan_code));
}

// Four vectors of codes (values 0..255) -> 64 bytes in order. The packs work
// within 128-bit lanes, leaving dword 4L + j = codes[j] lane L; vpermd puts
// dword 4j + L there instead.
FP8_ALWAYS_INLINE void store64(__m512i c0, __m512i c1, __m512i c2, __m512i c3, std::uint8_t* dst) noexcept {
  const __m512i packed = _mm512_packus_epi16(_mm512_packs_epi32(c0, c1), _mm512_packs_epi32(c2, c3));
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  _mm512_storeu_si512(dst, zmm::permute32(order, packed));
}

// ------------------------------------------------------------ stochastic rounding
// quant/stochastic.hpp's lanes (codec/simd_core.hpp's sse2 forms derive
// them) on 16 lanes, with masks for the choices and the unsigned compare and
// conversion AVX-512 has.
FP8_ALWAYS_INLINE __m512i lowbias32_lanes(__m512i x) noexcept {
  x = _mm512_xor_si512(x, zmm::srl32<16>(x));
  x = _mm512_mullo_epi32(x, set1(0x7FEB352D));
  x = _mm512_xor_si512(x, zmm::srl32<15>(x));
  x = _mm512_mullo_epi32(x, set1(static_cast<std::int32_t>(0x846CA68Bu)));
  return _mm512_xor_si512(x, zmm::srl32<16>(x));
}
FP8_ALWAYS_INLINE __m512i stochastic_bits_lanes(scalar::detail::stochastic_key key, std::uint64_t first) noexcept {
  const auto lo = static_cast<std::uint32_t>(first);
  const auto hi = static_cast<std::uint32_t>(first >> 32);
  const __m512i low = set1(static_cast<std::int32_t>(lo));
  const __m512i lanes = _mm512_add_epi32(low, _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  __m512i k = set1(static_cast<std::int32_t>(scalar::detail::stochastic_high_key(key, hi)));
  if (lo > 0xFFFFFFFFu - 15) {
    const __m512i next = set1(static_cast<std::int32_t>(scalar::detail::stochastic_high_key(key, hi + 1)));
    k = _mm512_mask_mov_epi32(k, _mm512_cmplt_epu32_mask(lanes, low), next);
  }
  return lowbias32_lanes(_mm512_xor_si512(lanes, k));
}
template <class F, overflow O>
FP8_ALWAYS_INLINE __m512i encode_stochastic_lanes(__m512 x, __m512i r) noexcept {
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

// ------------------------------------------------------------ decode
// FP8 codes in 16 int32 lanes -> float lanes: simd_core.hpp's decode_lanes.
template <class F>
FP8_ALWAYS_INLINE __m512 decode_lanes(__m512i c) noexcept {
  using T = format_traits<F>;
  constexpr int M = T::mantissa_bits, S = 23 - M;
  const __m512i mag = _mm512_and_si512(c, set1(0x7F));
  const __m512i sign = zmm::sll32<24>(_mm512_and_si512(c, set1(0x80)));
  const __m512i normal = _mm512_add_epi32(zmm::sll32<S>(mag), set1((127 - T::exponent_bias) << 23));
  const __m512 step = _mm512_set1_ps(static_cast<float>(scalar::detail::pow2(T::subnormal_exponent)));
  const __m512i subnormal = _mm512_castps_si512(_mm512_mul_ps(zmm::cvt_i32_f32(mag), step));
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
FP8_ALWAYS_INLINE __m256i narrow16(__m512 x, bfloat16*) noexcept {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i lsb = _mm512_and_si512(zmm::srl32<16>(u), set1(1));
  const __m512i rounded = zmm::srl32<16>(_mm512_add_epi32(_mm512_add_epi32(u, set1(0x7FFF)), lsb));
  const __m512i nan = _mm512_or_si512(_mm512_and_si512(zmm::srl32<16>(u), set1(0x8000)), set1(0x7FC0));
  const __mmask16 is_nan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(u, set1(0x7FFFFFFF)), set1(0x7F800000));
  return zmm::trunc_i32_i16(_mm512_mask_mov_epi32(rounded, is_nan, nan));
}
FP8_ALWAYS_INLINE __m256i narrow16(__m512 x, half*) noexcept {
  // vcvtps2ph rounds to nearest even (explicit rounding control) and keeps a
  // NaN's payload; replacing NaN by the float quiet NaN of its sign first
  // (0x7FC00000 | sign) makes it give 0x7E00 | sign.
  const __m512i u = _mm512_castps_si512(x);
  const __m512i qnan =
      _mm512_or_si512(_mm512_and_si512(u, set1(static_cast<std::int32_t>(0x80000000u))), set1(0x7FC00000));
  const __mmask16 is_nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  const __m512 y = _mm512_castsi512_ps(_mm512_mask_mov_epi32(u, is_nan, qnan));
  return zmm::cvt_f32_f16(y);
}

// Decoded lanes, scaled when Scaled, stored to the first lanes k of dst.
template <bool Scaled>
FP8_ALWAYS_INLINE void store16(__m512 x, __m512 factor, float* dst, __mmask16 k) noexcept {
  _mm512_mask_storeu_ps(dst, k, Scaled ? _mm512_mul_ps(x, factor) : x);
}
template <bool Scaled, class Dst>
FP8_ALWAYS_INLINE void store16(__m512 x, __m512 factor, Dst* dst, __mmask16 k) noexcept {
  _mm256_mask_storeu_epi16(dst, k, narrow16(Scaled ? _mm512_mul_ps(x, factor) : x, dst));
}

template <class F, bool Scaled, class Dst>
void decode(const std::uint8_t* src, Dst* dst, std::size_t n, float scale) noexcept {
  const __m512 f = _mm512_set1_ps(scale);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) store16<Scaled>(decode_lanes<F>(load_codes(src + i)), f, dst + i, all16);
  if (i < n) {
    const auto k = static_cast<__mmask16>((1u << (n - i)) - 1u);
    store16<Scaled>(decode_lanes<F>(load_codes(src + i, k)), f, dst + i, k);
  }
}

// ------------------------------------------------------------ lane operations
// What the bodies written once for every tier are compiled over
// (codec/stream-inl.hpp lists them): 16 lanes.
struct ops {
  using vf = __m512;
  using vi = __m512i;
  using mask = __mmask16;
  static constexpr std::size_t W = 16;
  template <class Src>
  static FP8_ALWAYS_INLINE vf load(const Src* p) noexcept {
    return load16(p, all16);
  }
  static FP8_ALWAYS_INLINE void store(float* p, vf x) noexcept { _mm512_storeu_ps(p, x); }
  static FP8_ALWAYS_INLINE vi load_codes(const std::uint8_t* p) noexcept { return avx512::load_codes(p); }
  static FP8_ALWAYS_INLINE void store_codes(vi c0, vi c1, vi c2, vi c3, std::uint8_t* p) noexcept {
    store64(c0, c1, c2, c3, p);
  }
  static FP8_ALWAYS_INLINE vf set1(float x) noexcept { return _mm512_set1_ps(x); }
  static FP8_ALWAYS_INLINE vi set1_i32(std::int32_t x) noexcept { return _mm512_set1_epi32(x); }
  static FP8_ALWAYS_INLINE vf mul(vf a, vf b) noexcept { return _mm512_mul_ps(a, b); }
  template <scaling::kind_t K>
  static FP8_ALWAYS_INLINE vf scale(vf x, vf factor) noexcept {
    return apply_scaling<K>(x, factor);
  }
  template <class F, overflow O>
  static FP8_ALWAYS_INLINE vi encode(vf x) noexcept {
    return encode_lanes<F, O>(x);
  }
  template <class F>
  static FP8_ALWAYS_INLINE vf decode(vi c) noexcept {
    return decode_lanes<F>(c);
  }
  static FP8_ALWAYS_INLINE vi stochastic_bits(scalar::detail::stochastic_key key, std::uint64_t first) noexcept {
    return stochastic_bits_lanes(key, first);
  }
  template <class F, overflow O>
  static FP8_ALWAYS_INLINE vi encode_stochastic(vf x, vi r) noexcept {
    return encode_stochastic_lanes<F, O>(x, r);
  }
  static FP8_ALWAYS_INLINE vi magnitude(vf x) noexcept {
    return _mm512_and_si512(_mm512_castps_si512(x), set1_i32(0x7FFFFFFF));
  }
  static FP8_ALWAYS_INLINE vi max_i32(vi a, vi b) noexcept { return zmm::max_i32(a, b); }
  static FP8_ALWAYS_INLINE vi all_lanes_max(vi m) noexcept { return zmm::all_lanes_max_i32(m); }
  static FP8_ALWAYS_INLINE std::int32_t first_lane(vi m) noexcept { return zmm::first_lane(m); }
  static FP8_ALWAYS_INLINE vi sub_i32(vi a, vi b) noexcept { return _mm512_sub_epi32(a, b); }
  template <unsigned K>
  static FP8_ALWAYS_INLINE vi srl(vi a) noexcept {
    return zmm::srl32<K>(a);
  }
  template <unsigned K>
  static FP8_ALWAYS_INLINE vi sll(vi a) noexcept {
    return zmm::sll32<K>(a);
  }
  static FP8_ALWAYS_INLINE vf as_float(vi a) noexcept { return _mm512_castsi512_ps(a); }
  static FP8_ALWAYS_INLINE mask greater_i32(vi a, vi b) noexcept { return _mm512_cmpgt_epi32_mask(a, b); }
  static FP8_ALWAYS_INLINE vi select(mask m, vi yes, vi no) noexcept { return _mm512_mask_mov_epi32(no, m, yes); }
};

}  // namespace avx512
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512
#endif  // FP8_TIER_AVX512
