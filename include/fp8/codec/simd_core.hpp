// SPDX-License-Identifier: Apache-2.0
// The vector FP8 codec, written once over xsimd batches of int32/float lanes
// (any width), plus the few per-ISA primitives xsimd 8.1 lacks: bytes widened
// to int32 lanes, int32 lanes narrowed to bytes, 16-bit floats widened and
// narrowed. Every function here equals codec/scalar.hpp bit for bit; the
// derivation of each step is in the comments. The xsimd part is the codec's
// sse2 tier (codec/kernels.hpp), with its lane operations for the streaming
// encoder (codec/stream-inl.hpp);
// the avx2 and avx512 tiers restate its arithmetic in intrinsics
// (codec/kernels_avx2.hpp, codec/kernels_avx512.hpp), except the avx512
// encode, which rounds by one float add (its own derivation there). The
// xsimd vector types and general lane primitives are detail/simd_xsimd.hpp's. Not for direct use: the entry points are in
// codec/bulk.hpp.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "../config.hpp"
#include "../detail/bit.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../detail/simd_xsimd.hpp"
#include "../types/float16.hpp"
#include "../types/format.hpp"
#include "scalar.hpp"
#include "stream.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

inline float to_float(float x) noexcept { return x; }
template <class F>
inline float to_float(storage16<F> x) noexcept {
  return static_cast<float>(x);
}
template <class D>
inline D from_float(float x) noexcept {
  return D(x);  // float: identity; 16-bit: one rounding to nearest even
}

constexpr std::size_t chunk = 512;  // floats of stack buffer for 16-bit sources and outputs

#if FP8_ISA_SSE2
// Everything below depends on the unit's flags (the xsimd architectures it
// has), so it lives in the flags-named namespace (detail/dispatch.hpp).
FP8_BEGIN_TU_NAMESPACE

// ------------------------------------------------------------ encode core
// float lanes -> FP8 codes in int32 lanes. With x = (-1)^s * 1.f * 2^(e-127)
// in float bits u and magnitude bits a = u & 0x7FFFFFFF:
//  * normal results (|x| >= 2^emin): rounding a at bit S = 23 - M, ties to
//    even, is a + (2^(S-1) - 1) + (bit S of a), then >> S; the carry of a
//    round-up flows into the exponent field as it should. What remains is
//    the float exponent and M mantissa bits, so subtracting (127 - bias) << M
//    rebiases it into the FP8 code.
//  * subnormal results (|x| < 2^emin): adding K = 2^(emin - M + 23) puts |x|
//    into [K, 2K), where a float's step is 2^(emin - M), the FP8 subnormal
//    step; the FPU's round-to-nearest-even then rounds |x| exactly as the
//    codec does and bits(|x| + K) - bits(K) is the code (2^M when it rounds up
//    to the smallest normal). Float subnormal inputs, flushed or not, give 0,
//    as they must: they are far below half the smallest FP8 step.
//  * saturation clamps a to max before rounding (max rounds to itself);
//    without it, a code above max is an overflow.
template <class F, overflow O, class Tag>
FP8_ALWAYS_INLINE vi<Tag> encode_lanes(vf<Tag> x) noexcept {
  using T = format_traits<F>;
  using I = vi<Tag>;
  using Fl = vf<Tag>;
  constexpr int M = T::mantissa_bits, S = 23 - M;
  constexpr std::int32_t max_bits =
      static_cast<std::int32_t>(static_cast<std::uint32_t>(T::max_finite_code) << S) + ((127 - T::exponent_bias) << 23);
  constexpr std::int32_t min_normal_bits = (T::min_normal_exponent + 127) << 23;
  constexpr std::int32_t magic_bits = (T::min_normal_exponent - M + 23 + 127) << 23;

  const I u = xsimd::bitwise_cast<I>(x);
  I a = u & I(0x7FFFFFFF);
  const I sign = (u >> 24) & I(0x80);  // arithmetic shift: bit 7 is the float's sign
  const auto nan = a > I(0x7F800000);
  if (O == overflow::saturate) a = xsimd::min(a, I(max_bits));

  // The rebias is folded into the rounding constant: (a + c - (r << S)) >> S
  // is (a + c) >> S - r exactly, because r << S is a multiple of 2^S. Lanes
  // where this goes negative are subnormal and take the other path.
  constexpr std::int32_t round_rebias = ((1 << (S - 1)) - 1) - ((127 - T::exponent_bias) << 23);
  const I biased = a + I(round_rebias);
  const I normal = detail::select((a & I(1 << S)) != I(0), biased + I(1), biased) >> S;
  const I subnormal =
      xsimd::bitwise_cast<I>(xsimd::bitwise_cast<Fl>(a) + xsimd::bitwise_cast<Fl>(I(magic_bits))) - I(magic_bits);
  const I mag = detail::select(a < I(min_normal_bits), subnormal, normal);

  // Sign: fnuz has no negative zero.
  I code = T::has_negative_zero ? (mag | sign) : (mag | detail::select(mag == I(0), I(0), sign));
  if (O == overflow::non_saturating) {
    const std::int32_t ovf = T::has_infinity ? T::infinity_code : T::nan_code;
    const I ovf_code = T::special_values == specials::fnuz ? I(ovf) : (I(ovf) | sign);
    code = detail::select(mag > I(T::max_finite_code), ovf_code, code);
  }
  const I nan_code = T::special_values == specials::fnuz ? I(T::nan_code) : (I(T::nan_code) | sign);
  return detail::select(nan, nan_code, code);
}

// ------------------------------------------------------------ decode core
// FP8 codes in int32 lanes -> float lanes. A normal code's exponent and
// mantissa fields, shifted left by S = 23 - M, are the float's fields with
// the FP8 bias; adding (127 - bias) << 23 rebiases them. A subnormal code m
// is m * 2^(emin - M): an exact int-to-float conversion and an exact multiply
// by a power of two.
template <class F, class Tag>
FP8_ALWAYS_INLINE vf<Tag> decode_lanes(vi<Tag> c) noexcept {
  using T = format_traits<F>;
  using I = vi<Tag>;
  using Fl = vf<Tag>;
  constexpr int M = T::mantissa_bits, S = 23 - M;
  const I mag = c & I(0x7F);
  const I sign = (c & I(0x80)) << 24;
  const I normal = (mag << S) + I((127 - T::exponent_bias) << 23);
  const Fl step = Fl(static_cast<float>(scalar::detail::pow2(T::subnormal_exponent)));
  const I subnormal = xsimd::bitwise_cast<I>(xsimd::to_float(mag) * step);
  I bits = detail::select(mag < I(1 << M), subnormal, normal) | sign;
  switch (T::special_values) {
    case specials::ieee:  // exponent all ones: Inf (mantissa 0) or NaN
      bits = detail::select(mag >= I(T::infinity_code),
                            detail::select(mag == I(T::infinity_code), I(0x7F800000), I(0x7FC00000)) | sign, bits);
      break;
    case specials::fn:
      bits = detail::select(mag == I(0x7F), I(0x7FC00000) | sign, bits);
      break;
    case specials::fnuz:
      bits = detail::select(c == I(0x80), I(0x7FC00000), bits);
      break;
  }
  return xsimd::bitwise_cast<Fl>(bits);
}

// ------------------------------------------------------------ per-ISA bytes
// Four int32 batches of values 0..255 -> 16 bytes, in order.
FP8_ALWAYS_INLINE void store_bytes(const vi<isa::sse2> (&b)[4], std::uint8_t* dst, isa::sse2) noexcept {
  const __m128i lo = _mm_packs_epi32(b[0], b[1]), hi = _mm_packs_epi32(b[2], b[3]);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_packus_epi16(lo, hi));
}
FP8_ALWAYS_INLINE vi<isa::sse2> load_bytes(const std::uint8_t* src, isa::sse2) noexcept {
  std::int32_t word;
  std::memcpy(&word, src, 4);
  const __m128i z = _mm_setzero_si128();
  return _mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(word), z), z);
}

// ------------------------------------------------------------ scaling
// x / scale by detail::scaling's rule, with the rule's kind a template
// parameter (codec/stream.hpp).
template <scaling::kind_t K, class Tag>
FP8_ALWAYS_INLINE vf<Tag> apply_scaling(vf<Tag> x, vf<Tag> factor) noexcept {
  if (K == scaling::multiply) return x * factor;
  if (K == scaling::divide) return x / factor;
  return x;
}

// ------------------------------------------------------------ decode loop
// Returns how many leading elements it converted (a multiple of the
// width); the caller finishes the tail with the scalar codec.
template <class F, class Tag>
std::size_t decode_main(const std::uint8_t* src, float* dst, std::size_t n, float scale, Tag tag) noexcept {
  using Fl = vf<Tag>;
  constexpr std::size_t W = Fl::size;
  const Fl factor(scale);
  std::size_t i = 0;
  for (; i + W <= n; i += W) {
    Fl x = decode_lanes<F, Tag>(load_bytes(src + i, tag));
    if (scale != 1.0f) x = x * factor;
    x.store_unaligned(dst + i);
  }
  return i;
}

// ------------------------------------------------------------ 16-bit floats
// bfloat16 -> float is a 16-bit shift; half -> float is F16C's exact
// vcvtph2ps where the build has it, the scalar codec otherwise.
template <class Src>
void widen(const Src* src, float* dst, std::size_t n, isa::sse2) noexcept {
  std::size_t i = 0;
  if (std::is_same<Src, bfloat16>::value) {
    for (; i + 8 <= n; i += 8) {
      const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
      const __m128i z = _mm_setzero_si128();
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_unpacklo_epi16(z, h));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 4), _mm_unpackhi_epi16(z, h));
    }
  }
#if defined(__F16C__)
  if (std::is_same<Src, half>::value) {
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
#endif
  for (; i < n; ++i) dst[i] = to_float(src[i]);
}

// float -> bfloat16, rounded to nearest even on the bits (the scalar codec's
// rule; NaN becomes the canonical quiet NaN 0x7FC0 | sign); float -> half
// through F16C's vcvtps2ph with explicit round-to-nearest where available
// (NaN likewise made canonical), the scalar codec otherwise.
template <class Dst>
void narrow(const float* src, Dst* dst, std::size_t n, isa::sse2) noexcept {
  std::size_t i = 0;
  if (std::is_same<Dst, bfloat16>::value) {
    using I = vi<isa::sse2>;
    for (; i + 8 <= n; i += 8) {
      I r[2];
      for (std::size_t k = 0; k < 2; ++k) {
        const I u = xsimd::bitwise_cast<I>(vf<isa::sse2>::load_unaligned(src + i + 4 * k));
        const I rounded = (u + I(0x7FFF) + ((u >> 16) & I(1))) >> 16;
        const I nan = ((u >> 16) & I(0x8000)) | I(0x7FC0);
        r[k] = detail::select((u & I(0x7FFFFFFF)) > I(0x7F800000), nan, rounded) & I(0xFFFF);
      }
      // Sign-extend each 16-bit result so the signed saturating pack keeps it.
      const __m128i lo = _mm_srai_epi32(_mm_slli_epi32(r[0], 16), 16),
                    hi = _mm_srai_epi32(_mm_slli_epi32(r[1], 16), 16);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_packs_epi32(lo, hi));
    }
  }
#if defined(__F16C__)
  if (std::is_same<Dst, half>::value) {
    for (; i + 8 <= n; i += 8) {
      const __m256 x = _mm256_loadu_ps(src + i);
      __m128i h = _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      const __m256 isnan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
      const __m128i nanmask = _mm_packs_epi32(_mm256_castsi256_si128(_mm256_castps_si256(isnan)),
                                              _mm256_extractf128_si256(_mm256_castps_si256(isnan), 1));
      const __m128i canonical =
          _mm_or_si128(_mm_and_si128(h, _mm_set1_epi16(static_cast<short>(0x8000))), _mm_set1_epi16(0x7E00));
      h = _mm_or_si128(_mm_and_si128(nanmask, canonical), _mm_andnot_si128(nanmask, h));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
    }
  }
#endif
  for (; i < n; ++i) dst[i] = from_float<Dst>(src[i]);
}

// ------------------------------------------------------------ the sse2 tier
// What the bodies written once for every tier (codec/stream-inl.hpp, the
// streaming encoder, and quant/'s) are compiled over for sse2, on xsimd's
// SSE2 batches of 4 lanes whatever the flags.
namespace sse2 {

using I = vi<isa::sse2>;
using Fl = vf<isa::sse2>;

// lowbias32 of codec/stochastic.hpp on every lane.
FP8_ALWAYS_INLINE I lowbias32_lanes(I x) noexcept {
  constexpr isa::sse2 tag{};
  x = x ^ srl32<16, isa::sse2>(x);
  x = mullo32(x, I(0x7FEB352D), tag);
  x = x ^ srl32<15, isa::sse2>(x);
  x = mullo32(x, I(static_cast<std::int32_t>(0x846CA68Bu)), tag);
  return x ^ srl32<16, isa::sse2>(x);
}

// stochastic_bits(key, first + lane) for the 4 lanes. The low index words
// are first_lo + lane; the high-word part of the hash is a scalar per
// vector, except in the one vector in 2^32 / 4 whose low words wrap past
// 2^32, where the lanes that wrapped take the next high word's.
FP8_ALWAYS_INLINE I stochastic_bits_lanes(scalar::detail::stochastic_key key, std::uint64_t first) noexcept {
  const auto lo = static_cast<std::uint32_t>(first);
  const auto hi = static_cast<std::uint32_t>(first >> 32);
  const I lanes = I(static_cast<std::int32_t>(lo)) + I(_mm_setr_epi32(0, 1, 2, 3));
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
FP8_ALWAYS_INLINE I encode_stochastic_lanes(Fl x, I r) noexcept {
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

// The lane operations (codec/stream-inl.hpp lists them): floats only.
struct ops {
  using vf = Fl;
  using vi = I;
  using mask = xsimd::batch_bool<std::int32_t, xsimd::sse2>;
  static constexpr std::size_t W = Fl::size;
  static FP8_ALWAYS_INLINE vf load(const float* p) noexcept { return Fl::load_unaligned(p); }
  static FP8_ALWAYS_INLINE void store(float* p, vf x) noexcept { x.store_unaligned(p); }
  static FP8_ALWAYS_INLINE vi load_codes(const std::uint8_t* p) noexcept { return load_bytes(p, isa::sse2{}); }
  static FP8_ALWAYS_INLINE void store_codes(vi c0, vi c1, vi c2, vi c3, std::uint8_t* p) noexcept {
    const I four[4] = {c0, c1, c2, c3};
    store_bytes(four, p, isa::sse2{});
  }
  static FP8_ALWAYS_INLINE vf set1(float x) noexcept { return Fl(x); }
  static FP8_ALWAYS_INLINE vi set1_i32(std::int32_t x) noexcept { return I(x); }
  static FP8_ALWAYS_INLINE vf mul(vf a, vf b) noexcept { return a * b; }
  template <scaling::kind_t K>
  static FP8_ALWAYS_INLINE vf scale(vf x, vf factor) noexcept {
    return apply_scaling<K, isa::sse2>(x, factor);
  }
  template <class F, overflow O>
  static FP8_ALWAYS_INLINE vi encode(vf x) noexcept {
    return encode_lanes<F, O, isa::sse2>(x);
  }
  template <class F>
  static FP8_ALWAYS_INLINE vf decode(vi c) noexcept {
    return decode_lanes<F, isa::sse2>(c);
  }
  static FP8_ALWAYS_INLINE vi stochastic_bits(scalar::detail::stochastic_key key, std::uint64_t first) noexcept {
    return stochastic_bits_lanes(key, first);
  }
  template <class F, overflow O>
  static FP8_ALWAYS_INLINE vi encode_stochastic(vf x, vi r) noexcept {
    return encode_stochastic_lanes<F, O>(x, r);
  }
  static FP8_ALWAYS_INLINE vi magnitude(vf x) noexcept { return xsimd::bitwise_cast<I>(x) & I(0x7FFFFFFF); }
  static FP8_ALWAYS_INLINE vi max_i32(vi a, vi b) noexcept { return xsimd::max(a, b); }
  static FP8_ALWAYS_INLINE vi all_lanes_max(vi m) noexcept { return detail::all_lanes_max(m, isa::sse2{}); }
  static FP8_ALWAYS_INLINE std::int32_t first_lane(vi m) noexcept { return detail::first_lane(m); }
  static FP8_ALWAYS_INLINE vi sub_i32(vi a, vi b) noexcept { return a - b; }
  template <unsigned K>
  static FP8_ALWAYS_INLINE vi srl(vi a) noexcept {
    return srl32<K, isa::sse2>(a);
  }
  template <unsigned K>
  static FP8_ALWAYS_INLINE vi sll(vi a) noexcept {
    return a << K;
  }
  static FP8_ALWAYS_INLINE vf as_float(vi a) noexcept { return xsimd::bitwise_cast<Fl>(a); }
  static FP8_ALWAYS_INLINE mask greater_i32(vi a, vi b) noexcept { return a > b; }
  static FP8_ALWAYS_INLINE vi select(mask m, vi yes, vi no) noexcept { return detail::select(m, yes, no); }
};

}  // namespace sse2

FP8_END_TU_NAMESPACE
#endif  // FP8_ISA_SSE2

}  // namespace detail
FP8_END_NAMESPACE
