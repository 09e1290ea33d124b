// SPDX-License-Identifier: Apache-2.0
// The AVX2 (with FMA and F16C) tier of the bulk codec (codec/kernels.hpp), in
// intrinsics compiled by target attribute whatever the unit's flags (run-time
// dispatch, docs/dispatch.md): float, bfloat16 and half -> FP8 codes, and
// FP8 codes -> float, bfloat16 and half. The arithmetic is codec/simd_core.hpp's
// (its comments derive every step) on 8 int32/float lanes; each function
// equals codec/scalar.hpp bit for bit. A tail shorter than a step goes
// through a zero-padded stack block, so no scalar code runs below the entry.
//
// Rules of the dispatched tiers: everything here is compiled in the avx2
// target region (detail/dispatch.hpp), contains no lambda, and passes no
// vector to a function outside a region. At the end, `ops`: the tier's lane
// operations, which the bodies written once for every tier
// (codec/stream-inl.hpp, the streaming encoder, and quant/'s) are compiled
// over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../detail/simd_avx2.hpp"
#include "../types/float16.hpp"
#include "../types/format.hpp"
#include "scalar.hpp"
#include "simd_core.hpp"
#include "stream.hpp"

#if FP8_TIER_AVX2
FP8_BEGIN_TARGET_AVX2
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace avx2 {

using ymm::select;
using ymm::set1;

// 8 elements widened to float lanes.
FP8_ALWAYS_INLINE __m256 load8(const float* p) noexcept { return _mm256_loadu_ps(p); }
FP8_ALWAYS_INLINE __m256 load8(const bfloat16* p) noexcept {
  // A bfloat16 is the top half of the float of the same value.
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
FP8_ALWAYS_INLINE __m256 load8(const half* p) noexcept {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));  // vcvtph2ps: exact
}
// 8 codes zero-extended to int32 lanes.
FP8_ALWAYS_INLINE __m256i load_codes(const std::uint8_t* p) noexcept {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

// x / scale by the call's scaling kind (detail::scaling).
template <scaling::kind_t K>
FP8_ALWAYS_INLINE __m256 apply_scaling(__m256 x, __m256 factor) noexcept {
  if (K == scaling::multiply) return _mm256_mul_ps(x, factor);
  if (K == scaling::divide) return _mm256_div_ps(x, factor);
  return x;
}

// ------------------------------------------------------------ encode
// 8 float lanes -> FP8 codes in int32 lanes: simd_core.hpp's encode_lanes.
template <class F, overflow O>
FP8_ALWAYS_INLINE __m256i encode_lanes(__m256 x) noexcept {
  using T = format_traits<F>;
  constexpr int M = T::mantissa_bits, S = 23 - M;
  constexpr std::int32_t max_bits =
      static_cast<std::int32_t>(static_cast<std::uint32_t>(T::max_finite_code) << S) + ((127 - T::exponent_bias) << 23);
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

// Four vectors of codes (values 0..255) -> 32 bytes in order. The packs work
// within 128-bit lanes, leaving dwords in the order c0.lo c1.lo c2.lo c3.lo |
// c0.hi c1.hi c2.hi c3.hi; one vpermd restores it.
FP8_ALWAYS_INLINE void store32(__m256i c0, __m256i c1, __m256i c2, __m256i c3, std::uint8_t* dst) noexcept {
  const __m256i packed = _mm256_packus_epi16(_mm256_packs_epi32(c0, c1), _mm256_packs_epi32(c2, c3));
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm256_permutevar8x32_epi32(packed, order));
}

// ------------------------------------------------------------ stochastic rounding
// quant/stochastic.hpp's lanes (codec/simd_core.hpp's sse2 forms derive
// them) on 8 lanes: vpmulld for the hash, whole-lane masks for the choices.
FP8_ALWAYS_INLINE __m256i lowbias32_lanes(__m256i x) noexcept {
  x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
  x = _mm256_mullo_epi32(x, set1(0x7FEB352D));
  x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 15));
  x = _mm256_mullo_epi32(x, set1(static_cast<std::int32_t>(0x846CA68Bu)));
  return _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
}
FP8_ALWAYS_INLINE __m256i stochastic_bits_lanes(scalar::detail::stochastic_key key, std::uint64_t first) noexcept {
  const auto lo = static_cast<std::uint32_t>(first);
  const auto hi = static_cast<std::uint32_t>(first >> 32);
  const __m256i low = set1(static_cast<std::int32_t>(lo));
  const __m256i lanes = _mm256_add_epi32(low, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  __m256i k = set1(static_cast<std::int32_t>(scalar::detail::stochastic_high_key(key, hi)));
  if (lo > 0xFFFFFFFFu - 7) {
    const __m256i next = set1(static_cast<std::int32_t>(scalar::detail::stochastic_high_key(key, hi + 1)));
    k = select(ymm::less_u32(lanes, low), next, k);
  }
  return lowbias32_lanes(_mm256_xor_si256(lanes, k));
}
template <class F, overflow O>
FP8_ALWAYS_INLINE __m256i encode_stochastic_lanes(__m256 x, __m256i r) noexcept {
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

// ------------------------------------------------------------ decode
// FP8 codes in 8 int32 lanes -> float lanes: simd_core.hpp's decode_lanes.
template <class F>
FP8_ALWAYS_INLINE __m256 decode_lanes(__m256i c) noexcept {
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
FP8_ALWAYS_INLINE __m128i narrow8(__m256 x, bfloat16*) noexcept {
  const __m256i u = _mm256_castps_si256(x);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), set1(1));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, set1(0x7FFF)), lsb), 16);
  const __m256i nan = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(u, 16), set1(0x8000)), set1(0x7FC0));
  const __m256i r = select(_mm256_cmpgt_epi32(_mm256_and_si256(u, set1(0x7FFFFFFF)), set1(0x7F800000)), nan, rounded);
  // Lanes hold 0..0xFFFF, which vpackusdw keeps as they are.
  return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
}
FP8_ALWAYS_INLINE __m128i narrow8(__m256 x, half*) noexcept {
  // vcvtps2ph rounds to nearest even (explicit rounding control) and keeps a
  // NaN's payload; replacing NaN by the float quiet NaN of its sign first
  // (0x7FC00000 | sign) makes it give 0x7E00 | sign.
  const __m256 qnan = _mm256_or_ps(_mm256_and_ps(x, _mm256_set1_ps(-0.0f)), _mm256_castsi256_ps(set1(0x7FC00000)));
  const __m256 y = _mm256_blendv_ps(x, qnan, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
  return _mm256_cvtps_ph(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// 8 codes decoded, scaled when Scaled, stored.
template <bool Scaled>
FP8_ALWAYS_INLINE void store8(__m256 x, __m256 factor, float* dst) noexcept {
  _mm256_storeu_ps(dst, Scaled ? _mm256_mul_ps(x, factor) : x);
}
template <bool Scaled, class Dst>
FP8_ALWAYS_INLINE void store8(__m256 x, __m256 factor, Dst* dst) noexcept {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), narrow8(Scaled ? _mm256_mul_ps(x, factor) : x, dst));
}
template <class F, bool Scaled, class Dst>
FP8_ALWAYS_INLINE void decode8(const std::uint8_t* src, Dst* dst, __m256 factor) noexcept {
  store8<Scaled>(decode_lanes<F>(load_codes(src)), factor, dst);
}

template <class F, bool Scaled, class Dst>
void decode(const std::uint8_t* src, Dst* dst, std::size_t n, float scale) noexcept {
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

// ------------------------------------------------------------ lane operations
// What the bodies written once for every tier are compiled over
// (codec/stream-inl.hpp lists them): 8 lanes, masks as whole-lane vectors.
struct ops {
  using vf = __m256;
  using vi = __m256i;
  using mask = __m256i;
  static constexpr std::size_t W = 8;
  template <class Src>
  static FP8_ALWAYS_INLINE vf load(const Src* p) noexcept {
    return load8(p);
  }
  static FP8_ALWAYS_INLINE void store(float* p, vf x) noexcept { _mm256_storeu_ps(p, x); }
  static FP8_ALWAYS_INLINE vi load_codes(const std::uint8_t* p) noexcept { return avx2::load_codes(p); }
  static FP8_ALWAYS_INLINE void store_codes(vi c0, vi c1, vi c2, vi c3, std::uint8_t* p) noexcept {
    store32(c0, c1, c2, c3, p);
  }
  static FP8_ALWAYS_INLINE vf set1(float x) noexcept { return _mm256_set1_ps(x); }
  static FP8_ALWAYS_INLINE vi set1_i32(std::int32_t x) noexcept { return _mm256_set1_epi32(x); }
  static FP8_ALWAYS_INLINE vf mul(vf a, vf b) noexcept { return _mm256_mul_ps(a, b); }
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
    return _mm256_and_si256(_mm256_castps_si256(x), set1_i32(0x7FFFFFFF));
  }
  static FP8_ALWAYS_INLINE vi max_i32(vi a, vi b) noexcept { return _mm256_max_epi32(a, b); }
  static FP8_ALWAYS_INLINE vi all_lanes_max(vi m) noexcept { return ymm::all_lanes_max_i32(m); }
  static FP8_ALWAYS_INLINE std::int32_t first_lane(vi m) noexcept { return ymm::first_lane(m); }
  static FP8_ALWAYS_INLINE vi sub_i32(vi a, vi b) noexcept { return _mm256_sub_epi32(a, b); }
  template <unsigned K>
  static FP8_ALWAYS_INLINE vi srl(vi a) noexcept {
    return _mm256_srli_epi32(a, K);
  }
  template <unsigned K>
  static FP8_ALWAYS_INLINE vi sll(vi a) noexcept {
    return _mm256_slli_epi32(a, K);
  }
  static FP8_ALWAYS_INLINE vf as_float(vi a) noexcept { return _mm256_castsi256_ps(a); }
  static FP8_ALWAYS_INLINE mask greater_i32(vi a, vi b) noexcept { return _mm256_cmpgt_epi32(a, b); }
  static FP8_ALWAYS_INLINE vi select(mask m, vi yes, vi no) noexcept { return ymm::select(m, yes, no); }
};

}  // namespace avx2
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX2
#endif  // FP8_TIER_AVX2
