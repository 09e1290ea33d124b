// SPDX-License-Identifier: Apache-2.0
// What a micro-kernel does with its tile of float32 sums before storing it:
// the one definition of the GEMM epilogue, shared by every micro-kernel (the
// vector kernels do the same operations in the same order, lane by lane).
//
// The k dimension is cut into blocks of kc (kernels/blocking.hpp); the tile
// of block b holds acc_b = sum over that block of op(A)[i][k] * op(B)[k][j].
// Each element's scale is s = r[i] * c[j], one float multiply, where
//
//   r[i] = alpha * row_scale[i]        (row_scale[i] here already holds that
//                                       product, formed in double and rounded
//                                       once: fold_scale; alpha alone when
//                                       there are no row scales)
//   c[j] = col_scale[j]                (1 when absent)
//
// and then
//
//   first block:  c = acc_0 * s + beta * c     (beta == 0: c = acc_0 * s, C is never read)
//   later blocks: c = acc_b * s + c
//   last block:   then c = c + bias[j], then c = min(max(c, lo), hi) if clamping
//
// so the result is alpha * row_scale * col_scale * op(A) op(B) + beta * C +
// bias, clamped. The entry points check that every r, c and r * c lies in
// the normal float range (detail/arguments.hpp), so forming s never
// overflows, underflows or goes subnormal: the only overflow left is that of
// the result itself. Block scales (DeepSeek-V3) enter r and c per block of k
// (kernels/driver.hpp). The blocks of k are fixed by kc alone, never by the
// thread count, which is what makes the bits independent of the number of
// threads.
#pragma once

#include <cmath>
#include <cstddef>

#include "../config.hpp"
#include "../detail/dispatch.hpp"

FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE

struct tile_epilogue {
  float alpha = 1.0f;               // r of every row when row_scale is null
  float beta = 0.0f;
  bool first = true;                // first block of k: apply beta
  bool last = true;                 // last block of k: apply bias and clamp
  const float* row_scale = nullptr; // r (alpha folded in) at the tile's first row, or null
  const float* col_scale = nullptr; // c at the tile's first column, or null
  const float* bias = nullptr;      // at the tile's first column, or null
  bool clamp = false;               // clamp to [lo, hi] on the last block
  float lo = 0.0f, hi = 0.0f;
};

// A product of scales as r and c hold it: formed in double (a product of
// three floats never overflows or underflows there) and rounded once.
inline float fold_scale(float x, float y, float z = 1.0f) noexcept {
  return static_cast<float>(static_cast<double>(x) * static_cast<double>(y) * static_cast<double>(z));
}

// The scale of element (i, j) of the tile, s = r[i] * c[j].
inline float epilogue_factor(const tile_epilogue& e, std::size_t i, std::size_t j) noexcept {
  const float r = e.row_scale != nullptr ? e.row_scale[i] : e.alpha;
  return e.col_scale != nullptr ? r * e.col_scale[j] : r;
}

// Element (i, j) of the tile: the definition the vector kernels follow.
inline float epilogue_scale(const tile_epilogue& e, std::size_t i, std::size_t j, float acc) noexcept {
  return acc * epilogue_factor(e, i, j);
}
inline void epilogue_store(const tile_epilogue& e, std::size_t i, std::size_t j, float acc, float* c) noexcept {
  const float v = epilogue_scale(e, i, j, acc);
  float r;
  if (e.first)
    r = e.beta == 0.0f ? v : std::fma(e.beta, *c, v);
  else
    r = v + *c;
  if (e.last) {
    if (e.bias != nullptr) r += e.bias[j];
    if (e.clamp) r = std::fmin(std::fmax(r, e.lo), e.hi);
  }
  *c = r;
}

// Applies the epilogue to an mr x nr tile of sums held in acc (row stride
// acc_ld), writing the m x n valid part of C: how kernels own their edges.
inline void epilogue_tile(const tile_epilogue& e, const float* acc, std::size_t acc_ld, std::size_t m, std::size_t n,
                          float* c, std::size_t ldc) noexcept {
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) epilogue_store(e, i, j, acc[i * acc_ld + j], c + i * ldc + j);
}

FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
