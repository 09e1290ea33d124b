// SPDX-License-Identifier: Apache-2.0
// The depthwise convolution's vector loops on the avx512 tiers
// (kernels/conv2d.hpp, depthwise_rows), 16 channels per vector. Per output
// element, as in every other loop of depthwise_rows: one fused multiply-add
// per tap in tap order from +0, then the vector epilogue
// (epilogue_vector.hpp).
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

// A row of KW taps at stride 1 and dilation 1: output pixel q's tap tw
// reads input pixel q + tw, so P pixels read P + KW - 1 input vectors per
// kernel row instead of P * KW. Each is loaded once and used by every tap
// that reaches it (the loop above is load-bound: 1.25 loads per FMA; here
// (P + 2 KW - 1) / (P KW), 0.45 for 3 taps and P = 14). Pixel q still sees
// its taps in order: tw = j - q grows with the input pixel j. rows[th]
// points at kernel row th's input for output pixel 0, xs apart per pixel;
// w holds the weights [tap][oc_n].
template <std::size_t KW, std::size_t P>
FP8_ALWAYS_INLINE void depthwise_block_unit_avx512(const float* const* rows, std::size_t kh, const float* w,
                                                   std::size_t oc_n, std::size_t xs, const tile_epilogue& e,
                                                   std::size_t xo, std::size_t c, float* out) noexcept {
  // Every loop over pixels and taps unrolled whole, so that the sums stay
  // in registers (GCC 12 kept them on the stack for 5 and 7 taps otherwise).
  __m512 a[P][1];
#pragma GCC unroll 32
  for (std::size_t q = 0; q < P; ++q) a[q][0] = _mm512_setzero_ps();
  for (std::size_t th = 0; th < kh; ++th) {
    __m512 wv[KW];
#pragma GCC unroll 32
    for (std::size_t tw = 0; tw < KW; ++tw) wv[tw] = _mm512_loadu_ps(w + (th * KW + tw) * oc_n + c);
    const float* xr = rows[th] + xo * xs + c;
#pragma GCC unroll 32
    for (std::size_t j = 0; j < P + KW - 1; ++j) {
      __m512 x = _mm512_loadu_ps(xr + j * xs);
      detail::zmm::keep_in_register(x);  // one load per input vector, not one per multiply-add
#pragma GCC unroll 32
      for (std::size_t tw = 0; tw < KW; ++tw)
        if (j >= tw && j - tw < P) a[j - tw][0] = _mm512_fmadd_ps(x, wv[tw], a[j - tw][0]);
    }
  }
  tile_epilogue ec = e;
  if (ec.col_scale != nullptr) ec.col_scale += c;
  if (ec.bias != nullptr) ec.bias += c;
  using lanes = lanes_avx512::ops;
  const lanes::mask all[1] = {lanes::all};
  lanes_avx512::epilogue_rows<lanes>(a, out + xo * oc_n + c, oc_n, P, all, ec);
}

// The whole blocks of 14 pixels of a band's nr output rows (depthwise_rows),
// for a kernel KW wide at stride 1 and dilation 1: rows[r * kh + th] is
// kernel row th's input for output pixel 0 of output row r, out[r] that
// row's output. Returns the pixels done per row (14 divides the widths of
// MobileNet's and EfficientNet's layers but the last), the rest left to the
// loops below. Channel slices outer, then blocks of pixels, then the rows
// in order: the input lines of a block of a slice come into L1 once and
// serve the kh output rows that read them (the order pixels-then-channels
// read every line from L2 once per output row, kh times), and all that is
// held in L1 meanwhile is (nr + kh - 1) x (14 + KW - 1) lines, 7 KiB for a
// band of 5 rows of a 3x3 kernel. (Rows before pixels held whole rows of
// the slice, 26 KiB, and two threads on this VM then ran at half speed in
// some runs, as if their vCPUs shared one L1.) Registers: 14 sums, KW
// weights and the input vector: 18 of 32 for 3 taps, 22 for 7. (8 pixels x
// 2 vectors ran at the same speed, but GCC 12 spilled one register in its
// loop.)
template <std::size_t KW>
inline std::size_t depthwise_band_unit_avx512(const float* const* rows, std::size_t nr, std::size_t kh, const float* w,
                                              std::size_t oc_n, std::size_t ow, std::size_t xs, const tile_epilogue& e,
                                              float* const* out) noexcept {
  constexpr std::size_t P = 14;
  const std::size_t c1 = oc_n / 16 * 16, x1 = ow / P * P;
  for (std::size_t c = 0; c < c1; c += 16)
    for (std::size_t xo = 0; xo < x1; xo += P)
      for (std::size_t r = 0; r < nr; ++r)
        depthwise_block_unit_avx512<KW, P>(rows + r * kh, kh, w, oc_n, xs, e, xo, c, out[r]);
  return x1;
}

// A band of nr output rows of one image (ow pixels of oc_n channels each,
// channel multiplier 1): the channels below oc_n / 16 * 16, which it
// returns. tp[r * kh * kw + t] is tap t's input at output pixel 0 of row r,
// out[r] row r's output. Kernel rows of 3, 5 or 7 taps at unit stride and
// dilation (unit) take the loop above for whole blocks of 14 pixels; the
// other pixels, pixels outer, 4 at a time, channels inner, 32 at a time.
inline std::size_t depthwise_band_avx512(const float* const* tp, std::size_t nr, std::size_t kh, std::size_t kw,
                                         bool unit, const float* w, std::size_t oc_n, std::size_t ow, std::size_t xs,
                                         const tile_epilogue& e, float* const* out) noexcept {
  const std::size_t taps = kh * kw, c2 = oc_n / 32 * 32, c1 = oc_n / 16 * 16;
  std::size_t x0 = 0;
  constexpr std::size_t max_rows = 128;  // nr * kh: a band holds at most 8 rows (depthwise_band)
  if (unit && c1 != 0 && nr * kh <= max_rows) {
    const float* rows[max_rows];
    for (std::size_t r = 0; r < nr; ++r)
      for (std::size_t th = 0; th < kh; ++th) rows[r * kh + th] = tp[r * taps + th * kw];
    if (kw == 3) x0 = depthwise_band_unit_avx512<3>(rows, nr, kh, w, oc_n, ow, xs, e, out);
    if (kw == 5) x0 = depthwise_band_unit_avx512<5>(rows, nr, kh, w, oc_n, ow, xs, e, out);
    if (kw == 7) x0 = depthwise_band_unit_avx512<7>(rows, nr, kh, w, oc_n, ow, xs, e, out);
  }
  for (std::size_t r = 0; r < nr; ++r) {
    const float* const* t = tp + r * taps;
    std::size_t xo = x0;
    for (; xo + 4 <= ow; xo += 4) {
      for (std::size_t c = 0; c < c2; c += 32) depthwise_block_avx512<4, 2>(t, taps, w, oc_n, xs, e, xo, c, out[r]);
      for (std::size_t c = c2; c < c1; c += 16) depthwise_block_avx512<4, 1>(t, taps, w, oc_n, xs, e, xo, c, out[r]);
    }
    for (; xo < ow; ++xo) {
      for (std::size_t c = 0; c < c2; c += 32) depthwise_block_avx512<1, 2>(t, taps, w, oc_n, xs, e, xo, c, out[r]);
      for (std::size_t c = c2; c < c1; c += 16) depthwise_block_avx512<1, 1>(t, taps, w, oc_n, xs, e, xo, c, out[r]);
    }
  }
  return c1;
}

}  // namespace conv
FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512

#endif  // FP8_TIER_AVX512
