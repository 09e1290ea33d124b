// SPDX-License-Identifier: Apache-2.0
// The depthwise convolution's vector loop on the avx512 tier, for a
// build whose flags do not reach it (kernels/conv2d.hpp, depthwise_rows):
// the same operations, in the same order, as its xsimd loop, 16 channels
// per vector. Per output element: one fused multiply-add per tap in tap
// order from +0, then the vector epilogue (epilogue_vector.hpp).
#pragma once

#include <cstddef>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/simd_avx512.hpp"
#include "epilogue.hpp"
#include "epilogue_vector.hpp"

#if FP8_TIER_AVX512
#include <immintrin.h>

FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace conv {

// P pixels x V vectors of channels from channel c of pixel xo: tp[t] is
// tap t's input at output pixel 0 of the row, xs the step to the next
// output pixel, w the weights [tap][oc_n].
template <std::size_t P, std::size_t V>
FP8_ALWAYS_INLINE void depthwise_block_avx512(const float* const* tp, std::size_t taps, const float* w,
                                              std::size_t oc_n, std::size_t xs, const tile_epilogue& e, std::size_t xo,
                                              std::size_t c, float* out) noexcept {
  __m512 a[P][V];
  for (std::size_t q = 0; q < P; ++q)
    for (std::size_t v = 0; v < V; ++v) a[q][v] = _mm512_setzero_ps();
  for (std::size_t t = 0; t < taps; ++t) {
    __m512 wv[V];
    for (std::size_t v = 0; v < V; ++v) wv[v] = _mm512_loadu_ps(w + t * oc_n + c + v * 16);
    const float* xq = tp[t] + xo * xs + c;
    for (std::size_t q = 0; q < P; ++q)
      for (std::size_t v = 0; v < V; ++v)
        a[q][v] = _mm512_fmadd_ps(_mm512_loadu_ps(xq + q * xs + v * 16), wv[v], a[q][v]);
  }
  // The epilogue (epilogue_vector.hpp) on P rows (pixels, oc_n apart) of
  // V vectors, its column arrays at channel c.
  tile_epilogue ec = e;
  if (ec.col_scale != nullptr) ec.col_scale += c;
  if (ec.bias != nullptr) ec.bias += c;
  using lanes = lanes_avx512::ops;
  lanes::mask all[V];
  for (std::size_t v = 0; v < V; ++v) all[v] = lanes::all;
  lanes_avx512::epilogue_rows<lanes>(a, out + xo * oc_n + c, oc_n, P, all, ec);
}

// One output row (ow pixels of oc_n channels, channel multiplier 1): the
// channels below oc_n / 16 * 16, which it returns; pixels outer, 4 at a
// time, channels inner, 32 at a time.
inline std::size_t depthwise_row_avx512(const float* const* tp, std::size_t taps, const float* w, std::size_t oc_n,
                                        std::size_t ow, std::size_t xs, const tile_epilogue& e, float* out) noexcept {
  const std::size_t c2 = oc_n / 32 * 32, c1 = oc_n / 16 * 16;
  std::size_t xo = 0;
  for (; xo + 4 <= ow; xo += 4) {
    for (std::size_t c = 0; c < c2; c += 32) depthwise_block_avx512<4, 2>(tp, taps, w, oc_n, xs, e, xo, c, out);
    for (std::size_t c = c2; c < c1; c += 16) depthwise_block_avx512<4, 1>(tp, taps, w, oc_n, xs, e, xo, c, out);
  }
  for (; xo < ow; ++xo) {
    for (std::size_t c = 0; c < c2; c += 32) depthwise_block_avx512<1, 2>(tp, taps, w, oc_n, xs, e, xo, c, out);
    for (std::size_t c = c2; c < c1; c += 16) depthwise_block_avx512<1, 1>(tp, taps, w, oc_n, xs, e, xo, c, out);
  }
  return c1;
}

}  // namespace conv
FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512

#endif  // FP8_TIER_AVX512
