// SPDX-License-Identifier: Apache-2.0
// The vector FP8 codec, written once over xsimd batches of int32/float lanes
// (any width), plus the few per-ISA primitives xsimd 8.1 lacks: bytes widened
// to int32 lanes, int32 lanes narrowed to bytes, 16-bit floats widened and
// narrowed. Every function here equals codec/scalar.hpp bit for bit; the
// derivation of each step is in the comments. The xsimd part is the codec's
// sse2 tier (codec/kernels.hpp), with its streaming encoder (codec/stream.hpp);
// the avx2 and avx512 tiers restate its arithmetic in intrinsics
// (codec/kernels_avx2.hpp, codec/kernels_avx512.hpp). The xsimd vector types
// and general lane primitives are detail/simd_xsimd.hpp's. Not for direct use: the entry points are in
// codec/bulk.hpp.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
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
inline vi<Tag> encode_lanes(vf<Tag> x) noexcept {
  using T = format_traits<F>;
  using I = vi<Tag>;
  using Fl = vf<Tag>;
  constexpr int M = T::mantissa_bits, S = 23 - M;
  constexpr std::int32_t max_bits = static_cast<std::int32_t>(
      static_cast<std::uint32_t>(T::max_finite_code) << S) + ((127 - T::exponent_bias) << 23);
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
  const I subnormal = xsimd::bitwise_cast<I>(xsimd::bitwise_cast<Fl>(a) + xsimd::bitwise_cast<Fl>(I(magic_bits))) -
                      I(magic_bits);
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
inline vf<Tag> decode_lanes(vi<Tag> c) noexcept {
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
inline void store_bytes(const vi<isa::sse2> (&b)[4], std::uint8_t* dst, isa::sse2) noexcept {
  const __m128i lo = _mm_packs_epi32(b[0], b[1]), hi = _mm_packs_epi32(b[2], b[3]);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_packus_epi16(lo, hi));
}
inline vi<isa::sse2> load_bytes(const std::uint8_t* src, isa::sse2) noexcept {
  std::int32_t word;
  std::memcpy(&word, src, 4);
  const __m128i z = _mm_setzero_si128();
  return _mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(word), z), z);
}

// ------------------------------------------------------------ scaling
// x / scale by detail::scaling's rule, with the rule's kind a template
// parameter (codec/stream.hpp).
template <scaling::kind_t K, class Tag>
inline vf<Tag> apply_scaling(vf<Tag> x, vf<Tag> factor) noexcept {
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
      const __m128i lo = _mm_srai_epi32(_mm_slli_epi32(r[0], 16), 16), hi = _mm_srai_epi32(_mm_slli_epi32(r[1], 16), 16);
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
      const __m128i canonical = _mm_or_si128(_mm_and_si128(h, _mm_set1_epi16(static_cast<short>(0x8000))),
                                             _mm_set1_epi16(0x7E00));
      h = _mm_or_si128(_mm_and_si128(nanmask, canonical), _mm_andnot_si128(nanmask, h));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
    }
  }
#endif
  for (; i < n; ++i) dst[i] = from_float<Dst>(src[i]);
}

// ------------------------------------------------------------ streaming encoder
// The sse2 tier's one encode loop (codec/stream.hpp): float sources only
// (codec/kernels.hpp widens 16-bit sources a chunk at a time).
namespace sse2 {

using I = vi<isa::sse2>;
using Fl = vf<isa::sse2>;
constexpr std::size_t W = Fl::size;

template <class Rule>
struct lanes_of;
template <class Sink>
struct sink_of;

template <scaling::kind_t K>
struct lanes_of<one_scale<K>> : stateless_lanes {
  Fl f;
  explicit lanes_of(const one_scale<K>& r) noexcept : f(r.factor) {}
  template <class F, overflow O>
  I codes(Fl x, std::size_t, std::size_t) const noexcept {
    return encode_lanes<F, O, isa::sse2>(apply_scaling<K, isa::sse2>(x, f));
  }
};

template <>
struct sink_of<code_sink> {
  explicit sink_of(const code_sink&) noexcept {}
  template <class F, std::size_t V>
  void put(const I (&c)[V], std::uint8_t* dst) const noexcept {
    FP8_UNROLL_VECTORS
    for (std::size_t g = 0; g < V; g += 4) {
      const I four[4] = {c[g], c[g + 1], c[g + 2], c[g + 3]};
      store_bytes(four, dst + g * W, isa::sse2{});
    }
  }
};

// One step: every vector is loaded before anything is stored, so a sink
// may write over src (fake_quantize in place). Always inlined: GCC 12 keeps
// a large step (MX) out of line, called with its vectors in memory.
template <class F, overflow O, class R, class S, class Out>
FP8_ALWAYS_INLINE void step(const float* src, Out* dst, std::size_t index, std::size_t count, R& r, const S& s) noexcept {
  constexpr std::size_t V = R::vectors;
  Fl x[V];
  FP8_UNROLL_VECTORS
  for (std::size_t k = 0; k < V; ++k) x[k] = Fl::load_unaligned(src + k * W);
  r.template begin<F>(x, index);
  I c[V];
  FP8_UNROLL_VECTORS
  for (std::size_t k = 0; k < V; ++k) c[k] = r.template codes<F, O>(x[k], index + k * W, k);
  s.template put<F>(c, dst);
  r.finish(index, count);
}

// Rows as in codec/kernels_avx2.hpp's stream.
template <class F, overflow O, class Rule, class Sink>
void stream(const float* src, std::size_t src_ld, typename Sink::out_type* dst, std::size_t dst_ld, std::size_t rows,
            std::size_t n, const Rule& rule, const Sink& sink) noexcept {
  using Out = typename Sink::out_type;
  lanes_of<Rule> r(rule);
  const sink_of<Sink> s(sink);
  constexpr std::size_t E = lanes_of<Rule>::vectors * W;
  for (std::size_t row = 0; row < rows; ++row) {
    // Each row from the base: advancing past the last row would form a
    // pointer beyond the buffer (ld may be huge when rows == 1).
    const auto* sr = src + row * src_ld;
    auto* dr = dst + row * dst_ld;
    std::size_t i = 0;
    for (; i + E <= n; i += E) step<F, O>(sr + i, dr + i, i, E, r, s);
    if (i < n) {
      float in[E] = {};
      Out out[E] = {};
      std::memcpy(in, sr + i, (n - i) * sizeof(float));
      step<F, O>(in, out, i, n - i, r, s);
      std::memcpy(dr + i, out, (n - i) * sizeof(Out));
    }
  }
}
template <class F, overflow O, class Rule, class Sink>
void stream(const float* src, typename Sink::out_type* dst, std::size_t n, const Rule& rule, const Sink& sink) noexcept {
  stream<F, O>(src, n, dst, n, 1, n, rule, sink);
}

}  // namespace sse2

FP8_END_TU_NAMESPACE
#endif  // FP8_ISA_SSE2

}  // namespace detail
FP8_END_NAMESPACE
