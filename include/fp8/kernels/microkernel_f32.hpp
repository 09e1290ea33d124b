// SPDX-License-Identifier: Apache-2.0
// The float32 micro-kernels: every target without AVX512-BF16 computes on
// panels decoded to float (exact: every FP8 value is a float). A product of
// two FP8 values is exact in float (at most 4 x 4 significant bits), so
// multiply-then-add rounds once per k, exactly like a fused multiply-add:
// SSE2 without FMA gives the same bits as FMA would.
//
//   gemm_f32_4x8__scalar      plain C++, the portable fallback (any target)
//   gemm_f32fma_MRxNR__xsimd  xsimd batches of the target's widest float
//                             vector: 12x32 on AVX-512F, 6x16 on AVX2+FMA,
//                             6x8 on SSE2 (kernels/blocking.hpp derives them)
//
// Packed panels (kernels/pack.hpp, k group 1): A is [k][MR] and B is [k][NR]
// floats, zero-padded past the valid rows and columns. A kernel computes the
// whole padded tile and stores only its valid mv x nv part: it owns its edges.
#pragma once

#include <cstddef>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "blocking.hpp"
#include "epilogue.hpp"
#include "epilogue_vector.hpp"

#if FP8_ISA_SSE2
#include <xsimd/xsimd.hpp>
#endif

FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE

struct gemm_f32_4x8__scalar {
  using tier = isa::portable;
  using packed = float;
  static constexpr std::size_t kgroup = 1;  // k values per packed group
  static constexpr blocking block = blocks::portable_f32;
  static constexpr const char* name = "gemm_f32_4x8__scalar";
  static constexpr std::size_t MR = 4, NR = 8;
  static_assert(block.mr == MR && block.nr == NR, "tile matches the blocking table");

  static void run(std::size_t groups, const float* a, const float* b, float* c, std::size_t ldc, std::size_t mv,
                  std::size_t nv, const tile_epilogue& e) noexcept {
    float acc[MR][NR] = {};
    for (std::size_t p = 0; p < groups; ++p)
      for (std::size_t i = 0; i < MR; ++i)
        for (std::size_t j = 0; j < NR; ++j) acc[i][j] += a[p * MR + i] * b[p * NR + j];
    epilogue_tile(e, &acc[0][0], NR, mv, nv, c, ldc);
  }
};

#if FP8_ISA_SSE2
// MR rows x NV vectors of the default xsimd architecture of this TU.
template <std::size_t MR_, std::size_t NV>
struct gemm_f32fma_xsimd {
  using tier = isa::best;  // xsimd's widest vector of the build's flags
  using batch = xsimd::batch<float>;
  using packed = float;
  static constexpr std::size_t kgroup = 1;
  static constexpr std::size_t MR = MR_, NR = NV * batch::size;
  static constexpr blocking block = batch::size == 16  ? blocks::avx512_f32
                                    : batch::size == 8 ? blocks::avx2_f32
                                                       : blocks::sse2_f32;
  static_assert(block.mr == MR && block.nr == NR, "tile matches the blocking table");
  static constexpr const char* name = batch::size == 16  ? "gemm_f32fma_12x32__xsimd_avx512"
                                      : batch::size == 8 ? "gemm_f32fma_6x16__xsimd_avx2"
                                                         : "gemm_f32_6x8__xsimd_sse2";

  static void run(std::size_t groups, const float* a, const float* b, float* c, std::size_t ldc, std::size_t mv,
                  std::size_t nv, const tile_epilogue& e) noexcept {
    batch acc[MR][NV];
#pragma GCC unroll 16
    for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) acc[i][v] = batch(0.0f);
    for (std::size_t p = 0; p < groups; ++p) {
      batch bv[NV];
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) bv[v] = batch::load_unaligned(b + p * NR + v * batch::size);
#pragma GCC unroll 16
      for (std::size_t i = 0; i < MR; ++i) {
        const batch av(a[p * MR + i]);
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) acc[i][v] = xsimd::fma(av, bv[v], acc[i][v]);
      }
    }
    if (nv == NR && (e.first ? e.beta == 0.0f || fused : true)) {
      const lanes_xsimd::ops::mask all[NV] = {};
      lanes_xsimd::epilogue_rows<lanes_xsimd::ops>(acc, c, ldc, mv, all, e);
      return;
    }
    // Partial tiles (and beta without a fused multiply-add): the scalar
    // definition, element by element.
    alignas(64) float tile[MR][NR];
#pragma GCC unroll 16
    for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) acc[i][v].store_unaligned(&tile[i][v * batch::size]);
    epilogue_tile(e, &tile[0][0], NR, mv, nv, c, ldc);
  }

 private:
#if defined(__FMA__)
  static constexpr bool fused = true;
#else
  static constexpr bool fused = false;  // xsimd::fma would round twice: beta takes the scalar path
#endif
};
using gemm_f32fma__xsimd = gemm_f32fma_xsimd<xsimd::batch<float>::size == 16 ? 12 : 6, 2>;
#endif

FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
