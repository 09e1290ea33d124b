// SPDX-License-Identifier: Apache-2.0
// The small-m path in float, for every target: a few rows of A (FP8,
// bfloat16 or float, decoded to float once per call) against FP8 B read
// straight from the caller's memory, so no packing is paid per call. The
// blocked path would pack (decode and rearrange) all of B for a handful of
// rows; here B is decoded a segment at a time into a small float buffer
// (codec/kernels.hpp, the bulk decoder) and used at once.
//
// * B stored n x k (tb = yes, Linear weights): each column j of op(B) is a
//   run of k codes; C[i][j] is a dot product, summed in 16 partial sums
//   (fused multiply-add; FP8 x FP8 and bfloat16 x FP8 products are exact,
//   float x FP8 ones round once) added in a fixed order at the end, the
//   same on every tier: gemm_f32dot_rows.
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
// The loops are written once (smallm_f32-inl.hpp) and compiled for every
// tier over its lane operations (kernels/lanes.hpp); the call's tier picks
// them. Every element goes through the same operations whatever its
// position, thread or tier, so the bits depend on none of them; they may differ in
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
#include "lanes.hpp"

FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE

// The largest m the float small-m path takes.
inline constexpr std::size_t smallm_max = 8;

namespace smallm {

// The partial sums of the dot form, on every tier (16: one zmm, two ymm,
// four xmm or sixteen floats): a fixed number, so that the bits do not
// depend on the tier.
inline constexpr std::size_t lanes = 16;

// The sum of the 16 partial sums, in a fixed order: halves added pairwise.
inline float reduce(float* x) noexcept {
  for (std::size_t w = lanes / 2; w >= 1; w /= 2)
    for (std::size_t i = 0; i < w; ++i) x[i] += x[i + w];
  return x[0];
}

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

}  // namespace smallm

FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE

// The loops of smallm_f32-inl.hpp compiled for each tier over its lane
// operations (kernels/lanes.hpp).
#if FP8_TIER_AVX512
FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace lanes_avx512 {
#include "smallm_f32-inl.hpp"
}  // namespace lanes_avx512
FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512
#endif
#if FP8_TIER_AVX2
FP8_BEGIN_TARGET_AVX2
FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace lanes_avx2 {
#include "smallm_f32-inl.hpp"
}  // namespace lanes_avx2
FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
FP8_END_TARGET_AVX2
#endif
FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE
#if FP8_ISA_SSE2
namespace lanes_xsimd {
#include "smallm_f32-inl.hpp"
}  // namespace lanes_xsimd
#endif
namespace lanes_scalar {
#include "smallm_f32-inl.hpp"
}  // namespace lanes_scalar

// The small-m loops of each tier: declared only, for overload resolution on
// the tag (a tier without its own loops takes those of the tier below).
lanes_scalar::smallm_loops smallm_loops_for(isa::portable);
#if FP8_ISA_SSE2
lanes_xsimd::smallm_loops smallm_loops_for(isa::sse2);
#endif
#if FP8_TIER_AVX2
lanes_avx2::smallm_loops smallm_loops_for(isa::avx2);
#endif
#if FP8_TIER_AVX512
lanes_avx512::smallm_loops smallm_loops_for(isa::avx512);
#endif

// The small-m loops of the call's tier (Tag): C[0, m) x [n0, n1), A laid
// out by smallm::a_segments; the dot form for B stored n x k (column j of
// op(B) is row j of b, ldb apart), the axpy form for B stored k x n.
template <class FB, class Tag>
void gemm_f32dot_rows(const float* a, std::size_t m, const std::uint8_t* b, std::size_t ldb, std::size_t n0,
                      std::size_t n1, const gemm_output& out, Tag tag) {
  decltype(smallm_loops_for(tag))::template dot_rows<FB>(a, m, b, ldb, n0, n1, out, tag);
}
template <class FB, class Tag>
void gemm_f32axpy_rows(const float* a, std::size_t m, const std::uint8_t* b, std::size_t ldb, std::size_t n0,
                       std::size_t n1, const gemm_output& out, Tag tag) {
  decltype(smallm_loops_for(tag))::template axpy_rows<FB>(a, m, b, ldb, n0, n1, out, tag);
}

FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
