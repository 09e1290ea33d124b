// SPDX-License-Identifier: Apache-2.0
// The float32 FMA micro-kernels of the avx512 and avx2 tiers in intrinsics,
// compiled inside their tiers' target regions (detail/dispatch.hpp) so that
// a build without -march runs them on a CPU that has the tier:
//
//   gemm_f32fma_12x32__avx512  12 rows x 2 zmm: 24 accumulators + 2 of B + 1 broadcast
//   gemm_f32fma_6x16__avx2     6 rows x 2 ymm: 12 accumulators + 2 of B + 1 broadcast
//
// The same arithmetic as the xsimd kernel of microkernel_f32.hpp (which
// serves the sse2 tier): per k, acc = fma(a, b, acc), then the vector
// epilogue (epilogue_vector.hpp): masked on avx512, whole rows on avx2 with
// the scalar definition on partial tiles. So the bits of C are the same on
// every float kernel.
// Packed panels: A [k][MR], B [k][NR] floats (kernels/pack.hpp, k group 1).
#pragma once

#include <cstddef>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../detail/simd_avx512.hpp"
#include "blocking.hpp"
#include "epilogue.hpp"
#include "epilogue_vector.hpp"

#if FP8_TIER_AVX512
#include <immintrin.h>

FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE

struct gemm_f32fma_12x32__avx512 {
  using tier = isa::avx512;
  using packed = float;
  static constexpr std::size_t kgroup = 1;
  static constexpr blocking block = blocks::avx512_f32;
  static constexpr const char* name = "gemm_f32fma_12x32__avx512";
  static constexpr std::size_t MR = 12, NR = 32, NV = 2, L = 16;
  static_assert(block.mr == MR && block.nr == NR, "tile matches the blocking table");

  static void run(std::size_t groups, const float* a, const float* b, float* c, std::size_t ldc, std::size_t mv,
                  std::size_t nv, const tile_epilogue& e) noexcept {
    __m512 acc[MR][NV];
#pragma GCC unroll 12
    for (std::size_t i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (std::size_t p = 0; p < groups; ++p) {
      const __m512 b0 = _mm512_loadu_ps(b + p * NR), b1 = _mm512_loadu_ps(b + p * NR + L);
#pragma GCC unroll 12
      for (std::size_t i = 0; i < MR; ++i) {
        const __m512 av = _mm512_set1_ps(a[p * MR + i]);
        acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
      }
    }
    using lanes = lanes_avx512::ops;  // masked: partial tiles too
    const lanes::mask mask[NV] = {lanes::first(nv), nv > L ? lanes::first(nv - L) : lanes::mask{0}};
    lanes_avx512::epilogue_rows<lanes>(acc, c, ldc, mv, mask, e);
  }
};

FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512
#endif  // FP8_TIER_AVX512

#if FP8_TIER_AVX2
#include <immintrin.h>

FP8_BEGIN_TARGET_AVX2
FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE

struct gemm_f32fma_6x16__avx2 {
  using tier = isa::avx2;
  using packed = float;
  static constexpr std::size_t kgroup = 1;
  static constexpr blocking block = blocks::avx2_f32;
  static constexpr const char* name = "gemm_f32fma_6x16__avx2";
  static constexpr std::size_t MR = 6, NR = 16, NV = 2, L = 8;
  static_assert(block.mr == MR && block.nr == NR, "tile matches the blocking table");

  static void run(std::size_t groups, const float* a, const float* b, float* c, std::size_t ldc, std::size_t mv,
                  std::size_t nv, const tile_epilogue& e) noexcept {
    __m256 acc[MR][NV];
#pragma GCC unroll 6
    for (std::size_t i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (std::size_t p = 0; p < groups; ++p) {
      const __m256 b0 = _mm256_loadu_ps(b + p * NR), b1 = _mm256_loadu_ps(b + p * NR + L);
#pragma GCC unroll 6
      for (std::size_t i = 0; i < MR; ++i) {
        const __m256 av = _mm256_broadcast_ss(a + p * MR + i);
        acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
      }
    }
    if (nv == NR) {
      const lanes_avx2::ops::mask all[NV] = {};
      lanes_avx2::epilogue_rows<lanes_avx2::ops>(acc, c, ldc, mv, all, e);
      return;
    }
    alignas(32) float tile[MR][NR];  // partial tiles: the scalar definition
#pragma GCC unroll 6
    for (std::size_t i = 0; i < MR; ++i) {
      _mm256_store_ps(&tile[i][0], acc[i][0]);
      _mm256_store_ps(&tile[i][L], acc[i][1]);
    }
    epilogue_tile(e, &tile[0][0], NR, mv, nv, c, ldc);
  }
};

FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
FP8_END_TARGET_AVX2
#endif  // FP8_TIER_AVX2
