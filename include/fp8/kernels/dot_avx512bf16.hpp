// SPDX-License-Identifier: Apache-2.0
// The small-m path on AVX512-BF16, for op(B) = B^T with B stored n x k (k
// contiguous: how Linear layers store weights). With few rows of A there is
// nothing to amortize packing over: each of B's n rows is read once, straight
// from the caller's memory, decoded in registers and dotted with every row of
// A, so the call streams B's k * n bytes at memory speed. Kernels are named
// after XNNPACK's scheme: gemm_fp8_bf16dot_MBxNB__avx512bf16 computes MB rows
// of A against NB rows of B.
//
// Decoding 64 codes: the vpermi2b tables of codec/decode_vbmi.hpp give the
// low and high bytes of the 64 bfloat16 values; vpunpcklbw / vpunpckhbw
// (one cycle, instead of two more vpermi2b) pair them into two zmm of 32
// bfloat16 each, in the order
//   w0 = codes 0-7, 16-23, 32-39, 48-55     w1 = codes 8-15, 24-31, 40-47, 56-63
// (per 128-bit lane). A dot product does not care about the order of k as
// long as A uses the same one, so A is decoded by the same function into a
// buffer once per call. Each float lane of an accumulator sums the pairs
// (k, k+1) that land in it with vdpbf16ps (exact products, two float
// additions per pair); the 16 lanes are then added by _mm512_reduce_add_ps.
// Every element of C goes through that same sequence whatever its position
// or thread, so the bits do not depend on the thread count.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "../codec/decode_vbmi.hpp"
#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../types/float16.hpp"
#include "../types/format.hpp"
#include "../types/fp8.hpp"
#include "buffer.hpp"
#include "driver.hpp"
#include "epilogue.hpp"
#include "smallm_f32.hpp"

#if FP8_TIER_AVX512BF16
#include <immintrin.h>

FP8_BEGIN_TARGET_AVX512BF16
FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace detail {

// 64 codes -> 64 bfloat16 in the order above.
template <class F>
inline void decode64_bf16(__m512i codes, __m512i& w0, __m512i& w1) noexcept {
  __m512i lo, hi;
  ::fp8::detail::vbmi_lookup<F, BF16>(codes, lo, hi);
  w0 = _mm512_unpacklo_epi8(lo, hi);
  w1 = _mm512_unpackhi_epi8(lo, hi);
}

// Codes [0, count) of p, zeros (+0 in every format) past them.
inline __m512i load_codes(const std::uint8_t* p, std::size_t count) noexcept {
  if (count >= 64) return _mm512_loadu_si512(p);
  return _mm512_maskz_loadu_epi8(static_cast<__mmask64>((std::uint64_t{1} << count) - 1), p);
}

inline __m512bh bh(__m512i x) noexcept { return (__m512bh)x; }

// The sum of the 16 lanes, halves first: lanes i and i + 8, then i and
// i + 4, then (0 + 2) + (1 + 3) (GCC's _mm512_reduce_add_ps order, written
// out: that intrinsic starts from an undefined register, which GCC 12's
// -Wall reports in the consumer's build, and clang's may add in another order).
inline float add_lanes(__m512 v) noexcept {
  alignas(64) float x[16];
  _mm512_store_ps(x, v);
  float s8[8], s4[4];
  for (int i = 0; i < 8; ++i) s8[i] = x[i + 8] + x[i];
  for (int i = 0; i < 4; ++i) s4[i] = s8[i + 4] + s8[i];
  return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

// How far ahead of its reads each row of B asks for its lines: B streams
// from memory in NB rows at once, and the hardware prefetchers alone kept
// too few lines in flight (M = 1, K = N = 4096 from DRAM: 0.73 of the read
// stream). 512 bytes (8 lines per row, 64 for the 8 rows of M = 1) was the
// best of 256..2048 here, and the next tile's rows are asked for at the
// start of each tile, so a row never starts cold: 1.33x together, at the
// read stream; M = 8 1.33x too (README, GEMM). A version that tested for
// the row's end at each step gained less at M = 1 and lost 15% at M = 8.
// The lookahead may run past the end of B (pack.hpp's prefetch_line).
inline constexpr std::size_t dot_prefetch_bytes = 512;

// MB rows of A (decoded, kpad bfloat16 each, a_ld apart) against NB rows of
// B over k [k0, k1) (k0 a multiple of 64), added to acc.
template <class FB, std::size_t MB, std::size_t NB>
inline void dot_span(const std::uint16_t* a, std::size_t a_ld, const std::uint8_t* b, std::size_t ldb, std::size_t k0,
                     std::size_t k1, __m512 (&acc)[MB][NB]) noexcept {
  for (std::size_t kk = k0; kk < k1; kk += 64) {
    __m512i w0[NB], w1[NB];
#pragma GCC unroll 8
    for (std::size_t j = 0; j < NB; ++j) prefetch_line(b + j * ldb + kk, dot_prefetch_bytes);
#pragma GCC unroll 8
    for (std::size_t j = 0; j < NB; ++j) decode64_bf16<FB>(load_codes(b + j * ldb + kk, k1 - kk), w0[j], w1[j]);
#pragma GCC unroll 8
    for (std::size_t i = 0; i < MB; ++i) {
      const __m512i a0 = _mm512_loadu_si512(a + i * a_ld + kk), a1 = _mm512_loadu_si512(a + i * a_ld + kk + 32);
#pragma GCC unroll 8
      for (std::size_t j = 0; j < NB; ++j)
        acc[i][j] = _mm512_dpbf16_ps(_mm512_dpbf16_ps(acc[i][j], bh(a0), bh(w0[j])), bh(a1), bh(w1[j]));
    }
  }
}

// sums[i][j] for i < MB, j < NB: rows j0 + j of B. With block scales (block a
// multiple of 64) each block's sum is kept apart and added as
// total = fma(block sum, s_kb, total) (kernels/smallm_f32.hpp's rule).
template <class FB, std::size_t MB, std::size_t NB>
inline void dot_tile(const std::uint16_t* a, std::size_t a_ld, const std::uint8_t* b, std::size_t ldb,
                     const gemm_output& out, std::size_t j0, float (&sums)[MB][NB]) noexcept {
  const std::size_t k = out.k;
  __m512 acc[MB][NB];
#pragma GCC unroll 8
  for (std::size_t i = 0; i < MB; ++i)
#pragma GCC unroll 8
    for (std::size_t j = 0; j < NB; ++j) acc[i][j] = _mm512_setzero_ps();
  const block_scales& bs = out.blocks;
  if (bs.block == 0) {
    dot_span<FB, MB, NB>(a, a_ld, b, ldb, 0, k, acc);
  } else {
    for (std::size_t k0 = 0, kb = 0; k0 < k; k0 += bs.block, ++kb) {
      __m512 part[MB][NB];
#pragma GCC unroll 8
      for (std::size_t i = 0; i < MB; ++i)
#pragma GCC unroll 8
        for (std::size_t j = 0; j < NB; ++j) part[i][j] = _mm512_setzero_ps();
      dot_span<FB, MB, NB>(a, a_ld, b, ldb, k0, std::min(k, k0 + bs.block), part);
      for (std::size_t i = 0; i < MB; ++i)
        for (std::size_t j = 0; j < NB; ++j)
          acc[i][j] = _mm512_fmadd_ps(part[i][j], _mm512_set1_ps(smallm::block_scale(out, i, j0 + j, kb)),
                                      acc[i][j]);
    }
  }
#pragma GCC unroll 8
  for (std::size_t i = 0; i < MB; ++i)
#pragma GCC unroll 8
    for (std::size_t j = 0; j < NB; ++j) sums[i][j] = add_lanes(acc[i][j]);
}

// Rows [n0, n1) of B for all MB rows of A, with the epilogue.
template <class FB, std::size_t MB, std::size_t NB>
void dot_rows(const std::uint16_t* a, std::size_t a_ld, const std::uint8_t* b, std::size_t ldb, std::size_t n0,
              std::size_t n1, const gemm_output& out) noexcept {
  std::size_t j = n0;
  const tile_epilogue e = smallm::final_epilogue(out);  // one block of k: first and last
  auto store = [&](const float* s, std::size_t sj, std::size_t count, std::size_t j0) {
    for (std::size_t i = 0; i < MB; ++i)
      for (std::size_t t = 0; t < count; ++t) epilogue_store(e, i, j0 + t, s[i * sj + t], out.c + i * out.ldc + j0 + t);
  };
  for (; j + NB <= n1; j += NB) {
    if (j + 2 * NB <= n1)  // the first lines of the next tile's rows, which dot_span does not ask for
#pragma GCC unroll 8
      for (std::size_t t = 0; t < NB; ++t)
        for (std::size_t o = 0; o < dot_prefetch_bytes && o < out.k; o += 64) prefetch_line(b + (j + NB + t) * ldb, o);
    float s[MB][NB];
    dot_tile<FB, MB, NB>(a, a_ld, b + j * ldb, ldb, out, j, s);
    store(&s[0][0], NB, NB, j);
  }
  for (; j < n1; ++j) {  // the last rows of B one at a time: the same per-element sequence
    float s[MB][1];
    dot_tile<FB, MB, 1>(a, a_ld, b + j * ldb, ldb, out, j, s);
    store(&s[0][0], 1, 1, j);
  }
}

}  // namespace detail

static_assert(smallm_max <= 8, "gemm_dot_part has variants for m = 1..8");

// Decodes the m rows of op(A) into a (m rows of kpad = round_up(k, 64)
// bfloat16, in decode64_bf16's order, zero-padded).
template <class FA>
void dot_decode_a(const matrix_source<fp8<FA>>& av, std::size_t m, std::size_t k, std::uint16_t* a) {
  const std::size_t kpad = round_up(k, 64);
  aligned_buffer<std::uint8_t> row(av.ks == 1 ? 0 : kpad);
  for (std::size_t i = 0; i < m; ++i) {
    const std::uint8_t* src = reinterpret_cast<const std::uint8_t*>(av.p + i * av.rs);
    if (av.ks != 1) {  // transposed A: gather the row
      for (std::size_t kk = 0; kk < k; ++kk) row.data()[kk] = src[kk * av.ks];
      src = row.data();
    }
    for (std::size_t kk = 0; kk < kpad; kk += 64) {
      __m512i w0, w1;
      detail::decode64_bf16<FA>(detail::load_codes(src + kk, k - std::min(k, kk)), w0, w1);
      _mm512_storeu_si512(a + i * kpad + kk, w0);
      _mm512_storeu_si512(a + i * kpad + kk + 32, w1);
    }
  }
}
// bfloat16 A (weight-only GEMM): the same order, by moving values. Code k of
// a 64-block sits in 128-bit lane k / 16 of w0 (k % 16 < 8) or of w1.
inline void dot_decode_a(const matrix_source<bfloat16>& av, std::size_t m, std::size_t k, std::uint16_t* a) {
  const std::size_t kpad = round_up(k, 64);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t kk = 0; kk < kpad; ++kk) {
      const std::size_t q = kk % 64, at = kk - q + (q % 16 < 8 ? 0 : 32) + (q / 16) * 8 + q % 8;
      a[i * kpad + at] = kk < k ? av.p[i * av.rs + kk * av.ks].bits() : std::uint16_t{0};
    }
}

// C rows [0, m) x columns [n0, n1), m <= smallm_max, from A decoded by
// dot_decode_a and B stored n x k.
template <class FB>
void gemm_dot_part(const std::uint16_t* a, std::size_t m, const std::uint8_t* b, std::size_t ldb, std::size_t n0,
                   std::size_t n1, const gemm_output& out) {
  const std::size_t kpad = round_up(out.k, 64);
  switch (m) {
    case 1: return detail::dot_rows<FB, 1, 8>(a, kpad, b, ldb, n0, n1, out);
    case 2: return detail::dot_rows<FB, 2, 4>(a, kpad, b, ldb, n0, n1, out);
    case 3: return detail::dot_rows<FB, 3, 4>(a, kpad, b, ldb, n0, n1, out);
    case 4: return detail::dot_rows<FB, 4, 4>(a, kpad, b, ldb, n0, n1, out);
    case 5: return detail::dot_rows<FB, 5, 2>(a, kpad, b, ldb, n0, n1, out);
    case 6: return detail::dot_rows<FB, 6, 2>(a, kpad, b, ldb, n0, n1, out);
    case 7: return detail::dot_rows<FB, 7, 2>(a, kpad, b, ldb, n0, n1, out);
    default: return detail::dot_rows<FB, 8, 2>(a, kpad, b, ldb, n0, n1, out);
  }
}

FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512BF16

#endif  // FP8_TIER_AVX512BF16
