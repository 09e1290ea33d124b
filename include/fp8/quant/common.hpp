// SPDX-License-Identifier: Apache-2.0
// Internals shared by the quantization layer (quant/*.hpp), not for users:
// argument checks that go beyond codec/bulk.hpp's (buffer overlap of 2-D and
// multi-buffer calls), the chunked widening of 16-bit sources, the scaling
// rule of codec/simd_core.hpp as a compile-time choice, and the few lane
// primitives the layer needs that xsimd 8.1 lacks or implements slowly: a
// horizontal maximum left in every lane (MX block amax), a 32-bit multiply
// for SSE2 (hashing for stochastic rounding), and an unsigned 32-bit
// compare. The FP8 rounding itself is not here: every kernel of the layer
// calls codec/simd_core.hpp's encode_lanes and decode_lanes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "../codec/simd_core.hpp"
#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"

// Fully unrolls the short constant-trip loops over the vectors of a step
// (4 vectors per byte store, 32 / W per MX block). GCC 12 at -O2 keeps them as
// loops with the vectors in a stack array, a store and reload each; unrolled,
// they stay in registers. Clang accepts the GCC spelling.
#if defined(__GNUC__)
#define FP8_UNROLL_VECTORS _Pragma("GCC unroll 16")
#else
#define FP8_UNROLL_VECTORS
#endif

FP8_BEGIN_NAMESPACE
namespace detail {

// True when the byte ranges [a, a + a_bytes) and [b, b + b_bytes) do not
// intersect (detail/arguments.hpp's overlap, the library's one rule).
inline bool disjoint(const void* a, std::size_t a_bytes, const void* b, std::size_t b_bytes) noexcept {
  return !overlap(a, a_bytes, b, b_bytes);
}

// Elements spanned by a row-major rows x cols matrix with leading dimension
// ld >= cols: (rows - 1) * ld + cols, or 0 when it is empty. The caller has
// checked that this does not overflow (span_fits).
inline std::size_t span_elements(std::size_t rows, std::size_t cols, std::size_t ld) noexcept {
  return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;
}
// True when span_elements(rows, cols, ld) * element_bytes fits in size_t.
inline bool span_fits(std::size_t rows, std::size_t cols, std::size_t ld, std::size_t element_bytes) noexcept {
  if (rows == 0 || cols == 0) return true;
  constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
  if (rows - 1 > (max - cols) / ld) return false;
  return (rows - 1) * ld + cols <= max / element_bytes;
}

// Calls fn(buffer, first, m) for consecutive chunks [first, first + m) of n
// 16-bit values widened to float in a stack buffer of `chunk` floats (a
// multiple of the MX block). Widening is exact, so a float kernel run on the
// buffer equals its definition on the 16-bit source.
template <class Src, class Fn>
void for_each_widened_chunk(const Src* src, std::size_t n, Fn&& fn) {
  float buffer[chunk];
  for (std::size_t first = 0; first < n; first += chunk) {
    const std::size_t m = n - first < chunk ? n - first : chunk;
#if FP8_ISA_SSE2
    widen(src + first, buffer, m, isa::best{});
#else
    for (std::size_t i = 0; i < m; ++i) buffer[i] = to_float(src[first + i]);
#endif
    fn(static_cast<const float*>(buffer), first, m);
  }
}

#if FP8_ISA_SSE2

// ------------------------------------------------------------ horizontal max
// The maximum of the lanes, broadcast to every lane: a butterfly of
// max(v, permute(v)) steps, each halving the distance between the lanes it
// combines, so no scalar round trip is needed before the result is used as
// a vector. Signed compare: callers pass non-negative values.
inline vi<isa::sse2> all_lanes_max(vi<isa::sse2> v, isa::sse2) noexcept {
  using I = vi<isa::sse2>;
  v = xsimd::max(v, I(_mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2))));  // lanes 0,1 <-> 2,3
  return xsimd::max(v, I(_mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1))));  // lane 0 <-> 1, 2 <-> 3
}
#if FP8_ISA_AVX2
inline vi<isa::avx2> all_lanes_max(vi<isa::avx2> v, isa::avx2) noexcept {
  using I = vi<isa::avx2>;
  v = xsimd::max(v, I(_mm256_permute2x128_si256(v, v, 0x01)));  // swap the 128-bit halves
  v = xsimd::max(v, I(_mm256_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2))));
  return xsimd::max(v, I(_mm256_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1))));
}
#endif
#if FP8_ISA_AVX512
inline vi<isa::avx512> all_lanes_max(vi<isa::avx512> v, isa::avx512) noexcept {
  using I = vi<isa::avx512>;
  v = xsimd::max(v, I(_mm512_shuffle_i32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2))));  // 256-bit halves
  v = xsimd::max(v, I(_mm512_shuffle_i32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1))));  // 128-bit quarters
  v = xsimd::max(v, I(_mm512_shuffle_epi32(v, static_cast<_MM_PERM_ENUM>(_MM_SHUFFLE(1, 0, 3, 2)))));
  return xsimd::max(v, I(_mm512_shuffle_epi32(v, static_cast<_MM_PERM_ENUM>(_MM_SHUFFLE(2, 3, 0, 1)))));
}
#endif

// x / scale by detail::scaling's rule, with the rule's kind a template
// parameter: GCC at -O2 does not unswitch loops, so a kind tested inside a
// loop stays a branch per vector. Kernels dispatch on the kind once per call.
template <scaling::kind_t K, class Tag>
inline vf<Tag> apply_scaling(vf<Tag> x, vf<Tag> factor) noexcept {
  if (K == scaling::multiply) return x * factor;
  if (K == scaling::divide) return x / factor;
  return x;
}

// Lane 0 as a scalar, without the store and reload of xsimd's batch::get.
inline std::int32_t first_lane(vi<isa::sse2> v) noexcept { return _mm_cvtsi128_si32(v); }
#if FP8_ISA_AVX2
inline std::int32_t first_lane(vi<isa::avx2> v) noexcept { return _mm_cvtsi128_si32(_mm256_castsi256_si128(v)); }
#endif
#if FP8_ISA_AVX512
inline std::int32_t first_lane(vi<isa::avx512> v) noexcept { return _mm_cvtsi128_si32(_mm512_castsi512_si128(v)); }
#endif

// ------------------------------------------------------------ 32-bit multiply
// The low 32 bits of a * b per lane. SSE2 has no pmulld (SSE4.1), and
// xsimd's SSE2 fallback multiplies lane by lane in scalar code, so two
// pmuludq (even and odd lanes, 32 x 32 -> 64) are recombined instead.
inline vi<isa::sse2> mullo32(vi<isa::sse2> a, vi<isa::sse2> b, isa::sse2) noexcept {
#if FP8_ISA_SSE41
  return _mm_mullo_epi32(a, b);
#else
  const __m128i even = _mm_mul_epu32(a, b);
  const __m128i odd = _mm_mul_epu32(_mm_srli_epi64(a, 32), _mm_srli_epi64(b, 32));
  return _mm_unpacklo_epi32(_mm_shuffle_epi32(even, _MM_SHUFFLE(0, 0, 2, 0)),
                            _mm_shuffle_epi32(odd, _MM_SHUFFLE(0, 0, 2, 0)));
#endif
}
#if FP8_ISA_AVX2
inline vi<isa::avx2> mullo32(vi<isa::avx2> a, vi<isa::avx2> b, isa::avx2) noexcept { return a * b; }
#endif
#if FP8_ISA_AVX512
inline vi<isa::avx512> mullo32(vi<isa::avx512> a, vi<isa::avx512> b, isa::avx512) noexcept { return a * b; }
#endif

// Logical right shift of int32 lanes (xsimd's >> on signed lanes is arithmetic).
template <int K, class Tag>
inline vi<Tag> srl32(vi<Tag> v) noexcept {
  static_assert(K > 0 && K < 32, "shift in 1..31");
  return (v >> K) & vi<Tag>(static_cast<std::int32_t>(0xFFFFFFFFu >> K));
}

// Unsigned a < b per lane: flipping the sign bit maps unsigned order onto
// signed order.
template <class Tag>
inline auto less_unsigned(vi<Tag> a, vi<Tag> b) noexcept {
  const vi<Tag> flip(std::numeric_limits<std::int32_t>::min());
  return (a ^ flip) < (b ^ flip);
}

#endif  // FP8_ISA_SSE2

}  // namespace detail
FP8_END_NAMESPACE
