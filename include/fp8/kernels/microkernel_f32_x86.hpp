// SPDX-License-Identifier: Apache-2.0
// The float32 FMA micro-kernels of the avx512 and avx2 tiers in intrinsics,
// compiled inside their tiers' target regions (detail/dispatch.hpp) so that
// a build without -march runs them on a CPU that has the tier:
//
//   gemm_f32fma_12x32__avx512  12 rows x 2 zmm: 24 accumulators + 2 of B + 1 broadcast
//   gemm_f32fma_6x16__avx2     6 rows x 2 ymm: 12 accumulators + 2 of B + 1 broadcast
//
// The same arithmetic as the xsimd kernel of microkernel_f32.hpp (which
// serves the sse2 tier): per k, acc = fma(a, b, acc), then the epilogue in
// epilogue_store's order on whole rows, the scalar definition on partial
// tiles. So the bits of C are the same on every float kernel.
// Packed panels: A [k][MR], B [k][NR] floats (kernels/pack.hpp, k group 1).
#pragma once

#include <cstddef>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../detail/simd_avx512.hpp"
#include "blocking.hpp"
#include "epilogue.hpp"

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
    if (nv == NR) {
      store_rows(acc, c, ldc, mv, e);
      return;
    }
    alignas(64) float tile[MR][NR];  // partial tiles: the scalar definition
#pragma GCC unroll 12
    for (std::size_t i = 0; i < MR; ++i) {
      _mm512_store_ps(&tile[i][0], acc[i][0]);
      _mm512_store_ps(&tile[i][L], acc[i][1]);
    }
    epilogue_tile(e, &tile[0][0], NR, mv, nv, c, ldc);
  }

 private:
  static void store_rows(const __m512 (&acc)[MR][NV], float* c, std::size_t ldc, std::size_t mv,
                         const tile_epilogue& e) noexcept {
    const __m512 alpha = _mm512_set1_ps(e.alpha), beta = _mm512_set1_ps(e.beta);
    const __m512 lo = _mm512_set1_ps(e.lo), hi = _mm512_set1_ps(e.hi);
    __m512 cs[NV], bias[NV];
    for (std::size_t v = 0; v < NV; ++v) {
      cs[v] = e.col_scale != nullptr ? _mm512_loadu_ps(e.col_scale + v * L) : _mm512_set1_ps(1.0f);
      bias[v] = e.bias != nullptr ? _mm512_loadu_ps(e.bias + v * L) : _mm512_setzero_ps();
    }
    for (std::size_t i = 0; i < mv; ++i)
      for (std::size_t v = 0; v < NV; ++v) {
        float* cp = c + i * ldc + v * L;
        __m512 s = e.row_scale != nullptr ? _mm512_set1_ps(e.row_scale[i]) : alpha;
        if (e.col_scale != nullptr) s = _mm512_mul_ps(s, cs[v]);
        __m512 r = _mm512_mul_ps(acc[i][v], s);
        if (e.first) {
          if (e.beta != 0.0f) r = _mm512_fmadd_ps(beta, _mm512_loadu_ps(cp), r);
        } else {
          r = _mm512_add_ps(r, _mm512_loadu_ps(cp));
        }
        if (e.last) {
          if (e.bias != nullptr) r = _mm512_add_ps(r, bias[v]);
          if (e.clamp) {  // max then min, NaN giving the bound: epilogue_store's fmax/fmin
            r = ::fp8::detail::zmm::max(r, lo);
            r = ::fp8::detail::zmm::min(r, hi);
          }
        }
        _mm512_storeu_ps(cp, r);
      }
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
      store_rows(acc, c, ldc, mv, e);
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

 private:
  static void store_rows(const __m256 (&acc)[MR][NV], float* c, std::size_t ldc, std::size_t mv,
                         const tile_epilogue& e) noexcept {
    const __m256 alpha = _mm256_set1_ps(e.alpha), beta = _mm256_set1_ps(e.beta);
    const __m256 lo = _mm256_set1_ps(e.lo), hi = _mm256_set1_ps(e.hi);
    __m256 cs[NV], bias[NV];
    for (std::size_t v = 0; v < NV; ++v) {
      cs[v] = e.col_scale != nullptr ? _mm256_loadu_ps(e.col_scale + v * L) : _mm256_set1_ps(1.0f);
      bias[v] = e.bias != nullptr ? _mm256_loadu_ps(e.bias + v * L) : _mm256_setzero_ps();
    }
    for (std::size_t i = 0; i < mv; ++i)
      for (std::size_t v = 0; v < NV; ++v) {
        float* cp = c + i * ldc + v * L;
        __m256 s = e.row_scale != nullptr ? _mm256_set1_ps(e.row_scale[i]) : alpha;
        if (e.col_scale != nullptr) s = _mm256_mul_ps(s, cs[v]);
        __m256 r = _mm256_mul_ps(acc[i][v], s);
        if (e.first) {
          if (e.beta != 0.0f) r = _mm256_fmadd_ps(beta, _mm256_loadu_ps(cp), r);
        } else {
          r = _mm256_add_ps(r, _mm256_loadu_ps(cp));
        }
        if (e.last) {
          if (e.bias != nullptr) r = _mm256_add_ps(r, bias[v]);
          if (e.clamp) {  // vmaxps/vminps return the second operand on NaN: the bound
            r = _mm256_max_ps(r, lo);
            r = _mm256_min_ps(r, hi);
          }
        }
        _mm256_storeu_ps(cp, r);
      }
  }
};

FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
FP8_END_TARGET_AVX2
#endif  // FP8_TIER_AVX2
