// SPDX-License-Identifier: Apache-2.0
// What a micro-kernel does with its tile of float32 sums before storing it:
// the one definition of the GEMM epilogue, shared by every micro-kernel (the
// vector kernels do the same operations in the same order, lane by lane).
//
// The k dimension is cut into blocks of kc (kernels/blocking.hpp); the tile
// of block b holds acc_b = sum over that block of op(A)[i][k] * op(B)[k][j].
// With s = alpha * row_scale[i] * col_scale[j] (absent scales are 1):
//
//   first block:  c = s * acc_0 + beta * c     (beta == 0: c = s * acc_0, C is never read)
//   later blocks: c = s * acc_b + c
//   last block:   then c = c + bias[j], then c = min(max(c, lo), hi) if clamping
//
// so the result is alpha * row_scale * col_scale * op(A) op(B) + beta * C +
// bias, clamped. The blocks of k are fixed by kc alone, never by the thread
// count, which is what makes the bits independent of the number of threads.
#pragma once

#include <cmath>
#include <cstddef>

#include "../config.hpp"

FP8_BEGIN_NAMESPACE
namespace kernel {

struct tile_epilogue {
  float alpha = 1.0f;
  float beta = 0.0f;
  bool first = true;                // first block of k: apply beta
  bool last = true;                 // last block of k: apply bias and clamp
  const float* row_scale = nullptr; // at the tile's first row, or null
  const float* col_scale = nullptr; // at the tile's first column, or null
  const float* bias = nullptr;      // at the tile's first column, or null
  bool clamp = false;               // clamp to [lo, hi] on the last block
  float lo = 0.0f, hi = 0.0f;
};

// Element (i, j) of the tile: the definition the vector kernels follow.
inline float epilogue_scale(const tile_epilogue& e, std::size_t i, std::size_t j, float acc) noexcept {
  float v = acc * e.alpha;
  if (e.row_scale != nullptr) v *= e.row_scale[i];
  if (e.col_scale != nullptr) v *= e.col_scale[j];
  return v;
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

}  // namespace kernel
FP8_END_NAMESPACE
