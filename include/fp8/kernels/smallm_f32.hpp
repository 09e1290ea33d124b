// SPDX-License-Identifier: Apache-2.0
// The small-m path in float, for every target: a few rows of A (FP8,
// bfloat16 or float, decoded to float once per call) against FP8 B read
// straight from the caller's memory, so no packing is paid per call. The
// blocked path would pack (decode and rearrange) all of B for a handful of
// rows; here B is decoded a segment at a time into a small float buffer
// (codec/kernels.hpp, the bulk decoder) and used at once.
//
// * B stored n x k (tb = yes, Linear weights): each column j of op(B) is a
//   run of k codes; C[i][j] is a dot product, summed in vector lanes
//   (fused multiply-add; FP8 x FP8 and bfloat16 x FP8 products are exact,
//   float x FP8 ones round once) and the lanes added at the end:
//   gemm_f32dot_rows.
// * B stored k x n (tb = no): each row k of op(B) is a run of n codes; every
//   C row accumulates a[i][k] * B[k][:] in order of k (one rounding per k):
//   gemm_f32axpy_rows.
//
// With block scales (DeepSeek-V3), the sum of each block of k is kept apart
// and added to the total as total = fma(block_sum, s_kb, total), with s_kb =
// r_kb * c_kb as the blocked path forms it (kernels/driver.hpp,
// block_row_scale and block_col_scale; alpha is in r); the epilogue then
// scales by 1.
//
// Every element goes through the same operations whatever its position or
// thread, so the bits do not depend on the thread count; they may differ in
// the last places from the blocked path (another order of additions).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../codec/kernels.hpp"
#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../types/float16.hpp"
#include "../types/fp8.hpp"
#include "buffer.hpp"
#include "driver.hpp"
#include "epilogue.hpp"

#if FP8_ISA_SSE2
#include <xsimd/xsimd.hpp>
#endif

FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE

// The largest m the float small-m path takes.
inline constexpr std::size_t smallm_max = 8;

namespace smallm {

#if FP8_ISA_SSE2
inline constexpr std::size_t lanes = xsimd::batch<float>::size;
#else
inline constexpr std::size_t lanes = 1;
#endif

// k is cut into segments: the scale block with block scales (each padded
// with zeros to whole vectors), else runs of 512.
struct segments {
  std::size_t len;     // values per segment
  std::size_t padded;  // round_up(len, lanes)
  std::size_t count;   // ceil(k / len)
};
inline segments segments_of(std::size_t k, const block_scales& bs) noexcept {
  const std::size_t len = bs.block != 0 ? bs.block : 512;
  return {len, round_up(len, lanes), (k + len - 1) / len};
}

// Row r of op(A), k values, as floats into dst (exact for FP8 and bfloat16).
// Tag: the call's tier, whose bulk decoder converts the codes.
template <class F, class Tag>
void row_to_float(const matrix_source<fp8<F>>& a, std::size_t r, std::size_t k, float* dst, Tag tag) {
  const std::uint8_t* p = reinterpret_cast<const std::uint8_t*>(a.p + r * a.rs);
  if (a.ks == 1) {
    kernel::decode<F>(p, dst, k, 1.0f, tag);
    return;
  }
  for (std::size_t t = 0; t < k; ++t) dst[t] = scalar::decode<F>(p[t * a.ks]);
}
template <class T, class Tag>
void row_to_float(const matrix_source<T>& a, std::size_t r, std::size_t k, float* dst, Tag) {
  for (std::size_t t = 0; t < k; ++t) dst[t] = static_cast<float>(a.p[r * a.rs + t * a.ks]);
}

// op(A) as m rows of count segments of `padded` floats (zeros past each
// segment's values): the layout both paths read.
template <class TA, class Tag>
aligned_buffer<float> a_segments(const matrix_source<TA>& a, std::size_t m, std::size_t k, const segments& sg,
                                 Tag tag) {
  aligned_buffer<float> out(m * sg.count * sg.padded);
  aligned_buffer<float> row(k);
  std::fill(out.data(), out.data() + out.size(), 0.0f);
  for (std::size_t i = 0; i < m; ++i) {
    row_to_float(a, i, k, row.data(), tag);
    for (std::size_t s = 0; s < sg.count; ++s) {
      const std::size_t k0 = s * sg.len, len = std::min(sg.len, k - k0);
      std::copy(row.data() + k0, row.data() + k0 + len, out.data() + (i * sg.count + s) * sg.padded);
    }
  }
  return out;
}

// The scale s = r * c of block kb for C[i][j] (block scales only), and the
// epilogue that follows the sum over blocks (s is then 1: alpha and the row
// and column scales are in each block's s).
inline float block_scale(const gemm_output& out, std::size_t i, std::size_t j, std::size_t kb) noexcept {
  return block_row_scale(out, i, kb) * block_col_scale(out, j, kb);
}
inline tile_epilogue final_epilogue(const gemm_output& out) noexcept {
  tile_epilogue e = out.base;
  e.first = e.last = true;
  if (out.blocks.block != 0) {
    e.row_scale = e.col_scale = nullptr;
    e.alpha = 1.0f;
  }
  return e;
}

// A vector of float lanes (one float without SSE2) and what the paths do
// with it.
#if FP8_ISA_SSE2
using vec = xsimd::batch<float>;
inline vec vload(const float* p) noexcept { return vec::load_aligned(p); }
inline vec vloadu(const float* p) noexcept { return vec::load_unaligned(p); }
inline void vstoreu(float* p, vec v) noexcept { v.store_unaligned(p); }
inline vec vfma(vec a, vec b, vec c) noexcept { return xsimd::fma(a, b, c); }
inline float vsum(vec v) noexcept { return xsimd::hadd(v); }
#else
using vec = float;
inline vec vload(const float* p) noexcept { return *p; }
inline vec vloadu(const float* p) noexcept { return *p; }
inline void vstoreu(float* p, vec v) noexcept { *p = v; }
inline vec vfma(vec a, vec b, vec c) noexcept { return std::fma(a, b, c); }
inline float vsum(vec v) noexcept { return v; }
#endif

}  // namespace smallm

// C[0, m) x [n0, n1) for B stored n x k (column j of op(B) is row j of b,
// ldb apart), A laid out by smallm::a_segments.
template <class FB, class Tag>
void gemm_f32dot_rows(const float* a, std::size_t m, const std::uint8_t* b, std::size_t ldb, std::size_t n0,
                      std::size_t n1, const gemm_output& out, Tag tag) {
  using namespace smallm;
  const std::size_t k = out.k;
  const block_scales& bs = out.blocks;
  const segments sg = segments_of(k, bs);
  const tile_epilogue e = final_epilogue(out);
  aligned_buffer<float> buf(sg.padded);
  for (std::size_t j = n0; j < n1; ++j) {
    vec total[smallm_max];
    for (std::size_t i = 0; i < m; ++i) total[i] = vec(0.0f);
    for (std::size_t s = 0; s < sg.count; ++s) {
      const std::size_t k0 = s * sg.len, len = std::min(sg.len, k - k0), used = round_up(len, lanes);
      kernel::decode<FB>(b + j * ldb + k0, buf.data(), len, 1.0f, tag);
      std::fill(buf.data() + len, buf.data() + used, 0.0f);
      for (std::size_t i = 0; i < m; ++i) {
        const float* ap = a + (i * sg.count + s) * sg.padded;
        vec acc = bs.block != 0 ? vec(0.0f) : total[i];
        for (std::size_t t = 0; t < used; t += lanes) acc = vfma(vload(ap + t), vload(buf.data() + t), acc);
        total[i] = bs.block != 0 ? vfma(acc, vec(block_scale(out, i, j, s)), total[i]) : acc;
      }
    }
    for (std::size_t i = 0; i < m; ++i) epilogue_store(e, i, j, vsum(total[i]), out.c + i * out.ldc + j);
  }
}

// C[0, m) x [n0, n1) for B stored k x n (row k of op(B) is row k of b, ldb
// apart), A laid out by smallm::a_segments: every row of C accumulates
// a[i][k] * B[k][j] over k in order, in a float row of its own.
template <class FB, class Tag>
void gemm_f32axpy_rows(const float* a, std::size_t m, const std::uint8_t* b, std::size_t ldb, std::size_t n0,
                       std::size_t n1, const gemm_output& out, Tag tag) {
  using namespace smallm;
  const std::size_t k = out.k, w = n1 - n0, wp = round_up(w, lanes);
  const block_scales& bs = out.blocks;
  const segments sg = segments_of(k, bs);
  const tile_epilogue e = final_epilogue(out);
  aligned_buffer<float> row(wp), total(m * wp), part(bs.block != 0 ? m * wp : 0);
  std::fill(total.data(), total.data() + total.size(), 0.0f);
  std::fill(row.data() + w, row.data() + wp, 0.0f);
  for (std::size_t s = 0; s < sg.count; ++s) {
    const std::size_t k0 = s * sg.len, len = std::min(sg.len, k - k0);
    float* acc = bs.block != 0 ? part.data() : total.data();
    if (bs.block != 0) std::fill(part.data(), part.data() + part.size(), 0.0f);
    for (std::size_t t = 0; t < len; ++t) {
      kernel::decode<FB>(b + (k0 + t) * ldb + n0, row.data(), w, 1.0f, tag);
      for (std::size_t i = 0; i < m; ++i) {
        const vec ai(a[(i * sg.count + s) * sg.padded + t]);
        float* ci = acc + i * wp;
        for (std::size_t j = 0; j < wp; j += lanes) vstoreu(ci + j, vfma(ai, vloadu(row.data() + j), vloadu(ci + j)));
      }
    }
    if (bs.block != 0)
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < w; ++j)
          total.data()[i * wp + j] =
              std::fma(part.data()[i * wp + j], block_scale(out, i, n0 + j, s), total.data()[i * wp + j]);
  }
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < w; ++j) epilogue_store(e, i, n0 + j, total.data()[i * wp + j], out.c + i * out.ldc + n0 + j);
}

FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
