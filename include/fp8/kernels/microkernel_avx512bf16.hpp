// SPDX-License-Identifier: Apache-2.0
// The AVX512-BF16 micro-kernel gemm_bf16dot_12x32__avx512bf16: a 12 x 32
// tile of float32 sums built with vdpbf16ps on panels decoded to bfloat16.
// Every FP8 value of every format is exact in bfloat16 (at most 4 significant
// bits, exponents within bfloat16's normal range), and the product of two is
// exact in float, so vdpbf16ps, which computes per float lane
//   acc += a[2l] * b[2l] + a[2l+1] * b[2l+1]
// with round-to-nearest float additions, adds exact products: the only
// rounding is float accumulation, two additions per k pair (the pair's two
// products reach the accumulator in one instruction, summed in float).
// vdpbf16ps flushes bfloat16 denormal inputs and float denormal results; no
// FP8 value is a bfloat16 denormal (the smallest, E5M2FNUZ's 2^-17, is far
// above 2^-126) and every nonzero partial sum of FP8 products is a multiple of
// the smallest product 2^-34, so nothing is flushed.
//
// Packed panels (kernels/pack.hpp, k group 2): for each k pair p, A holds
// [p][MR rows][2] and B [p][32 columns][2] bfloat16, so one dword of A (a
// row's pair) is broadcast against 32 columns' pairs in two zmm of B. The
// kernel computes the whole padded tile and stores its valid part with masked
// loads and stores (the epilogue of epilogue_vector.hpp): it owns its edges. Rows past the valid ones are skipped
// by variants of 1, 2, 4 and 8 rows: each row's arithmetic is the same in
// every variant, so the bits of an element do not depend on its tile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/simd_avx512.hpp"
#include "../detail/isa.hpp"
#include "../types/float16.hpp"
#include "blocking.hpp"
#include "epilogue.hpp"
#include "epilogue_vector.hpp"

// Compiled for the avx512bf16 tier: by the flags, or inside the tier's
// target region for run-time dispatch (detail/dispatch.hpp).
#if FP8_TIER_AVX512BF16
#include <immintrin.h>

FP8_BEGIN_TARGET_AVX512BF16
FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace detail {

// A vector cast (same 64 bytes, no instruction): GCC and clang both declare
// __m512bh as a vector of 32 shorts.
inline __m512bh as_bh(__m512i x) noexcept { return (__m512bh)x; }

// Where a tile's A is: a list of segments of k, each a run of k pairs of
// every row. Pair p of segment s of row i is the dword at
// a + seg[s].offset + p * pair_bytes + i * row_bytes. A packed panel
// (pack.hpp) is one segment with pair_bytes = 4 MR and row_bytes = 4; A read
// in place (the convolution's input, kernels/conv2d.hpp) has one segment per
// tap, pair_bytes = 4 and row_bytes the distance between two output
// pixels' inputs. B is a packed panel either way, its pairs following the
// segments in order.
struct a_segment {
  std::size_t offset;  // bytes from the tile's first row
  std::size_t pairs;   // k pairs
};

// The dword at p, broadcast to 16 lanes.
inline __m512i broadcast_pair(const unsigned char* p) noexcept {
  std::int32_t pair;
  std::memcpy(&pair, p, 4);
  return _mm512_set1_epi32(pair);
}

// Row i's pair of an A read in place, at ap + i * row_bytes, broadcast to
// 16 lanes. Row i = odd * 2^t (odd in 1, 3, ..., 11) is addressed as
// ap + (odd * row_bytes) * 2^t: six offsets in registers (odd[(odd - 1) /
// 2]), the power of two an address's index scale. Written as the product,
// GCC 12 hoists each row's offset out of the loop instead, runs out of
// general registers for the eleven, and keeps two in vector registers,
// moved back at every k pair (45 instructions per pair against the packed
// loop's 43); with the addresses in assembly the loop is 43, and the
// kernel alone on the convolution's tiles and the dense layers themselves
// ran 1.00-1.03x faster in three runs of compare_builds (bench_conv's
// microkernel_direct and fp8_conv2d_packed rows). Without GNU assembly, and
// under AddressSanitizer (which does not see inside it), the same load in
// C++.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FP8_DETAIL_KERNEL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FP8_DETAIL_KERNEL_ASAN 1
#endif
template <unsigned Scale>
inline __m512i broadcast_at(const unsigned char* ap, std::size_t offset) noexcept {
#if defined(__GNUC__) && !defined(FP8_DETAIL_KERNEL_ASAN)
  __m512i r;
  // The "m" operand: the assembly reads memory at ap (nothing writes A
  // while a tile runs).
  __asm__("vpbroadcastd (%1,%2,%c3), %0"
          : "=v"(r)
          : "r"(ap), "r"(offset), "i"(Scale), "m"(*reinterpret_cast<const std::int32_t*>(ap)));
  return r;
#else
  return broadcast_pair(ap + offset * Scale);
#endif
}
// i is a constant once the row loop is unrolled, and the switch folds away.
inline __m512i broadcast_row(const unsigned char* ap, const std::size_t (&odd)[6], std::size_t i) noexcept {
  switch (i) {
    case 1: return broadcast_at<1>(ap, odd[0]);
    case 2: return broadcast_at<2>(ap, odd[0]);
    case 3: return broadcast_at<1>(ap, odd[1]);
    case 4: return broadcast_at<4>(ap, odd[0]);
    case 5: return broadcast_at<1>(ap, odd[2]);
    case 6: return broadcast_at<2>(ap, odd[1]);
    case 7: return broadcast_at<1>(ap, odd[3]);
    case 8: return broadcast_at<8>(ap, odd[0]);
    case 9: return broadcast_at<1>(ap, odd[4]);
    case 10: return broadcast_at<2>(ap, odd[2]);
    case 11: return broadcast_at<1>(ap, odd[5]);
    default: return broadcast_pair(ap);
  }
}

// ROWS rows of the tile; the packed form (Packed) has both strides as
// constants, which the loads take as displacements.
template <std::size_t ROWS, bool Packed>
inline void bf16dot_rows(const a_segment* seg, std::size_t nseg, const unsigned char* a, std::size_t a_row_bytes,
                         const bfloat16* b, float* c, std::size_t ldc, std::size_t mv, std::size_t nv,
                         const tile_epilogue& e) noexcept {
  const std::size_t row_bytes = Packed ? 4 : a_row_bytes, pair_bytes = Packed ? 4 * blocks::avx512bf16.mr : 4;
  // The tile of C is read (or written) only after every pair of k; asking
  // for its lines now hides their latency behind the loop. Where C is larger
  // than L2 (2048^3: 16 MiB, read back at each block of k) the epilogue
  // otherwise waits on a miss per row at every tile's end.
#pragma GCC unroll 12
  for (std::size_t i = 0; i < ROWS; ++i)
    if (i < mv) {
      const float* row = c + i * ldc;
      _mm_prefetch(reinterpret_cast<const char*>(row), _MM_HINT_T0);
      if (nv > 16) _mm_prefetch(reinterpret_cast<const char*>(row + 16), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(row + nv - 1), _MM_HINT_T0);
    }
  __m512 acc[ROWS][2];
#pragma GCC unroll 12
  for (std::size_t i = 0; i < ROWS; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  const unsigned char* bp = reinterpret_cast<const unsigned char*>(b);
  static_assert(ROWS <= 12, "broadcast_row addresses rows 0 to 11");
  std::size_t odd[6];  // odd multiples of the row stride (broadcast_row)
  for (std::size_t o = 0; o < 6; ++o) odd[o] = (2 * o + 1) * row_bytes;
  for (std::size_t s = 0; s < nseg; ++s) {
    const unsigned char* ap = a + seg[s].offset;
    for (std::size_t p = 0; p < seg[s].pairs; ++p, ap += pair_bytes, bp += 128) {
      const __m512bh b0 = as_bh(_mm512_loadu_si512(bp));
      const __m512bh b1 = as_bh(_mm512_loadu_si512(bp + 64));
#pragma GCC unroll 12
      for (std::size_t i = 0; i < ROWS; ++i) {
        __m512bh av;
        if constexpr (Packed)
          av = as_bh(broadcast_pair(ap + i * row_bytes));
        else
          av = as_bh(broadcast_row(ap, odd, i));
        acc[i][0] = _mm512_dpbf16_ps(acc[i][0], av, b0);
        acc[i][1] = _mm512_dpbf16_ps(acc[i][1], av, b1);
      }
    }
  }
  using lanes = lanes_avx512::ops;
  const lanes::mask mask[2] = {lanes::first(nv), nv > 16 ? lanes::first(nv - 16) : lanes::mask{0}};
  lanes_avx512::epilogue_rows<lanes>(acc, c, ldc, mv, mask, e);
}

// The tile of mv valid rows on the variant of 1, 2, 4, 8 or 12 rows.
template <bool Packed>
inline void bf16dot_tile(const a_segment* seg, std::size_t nseg, const unsigned char* a, std::size_t a_row_bytes,
                         const bfloat16* b, float* c, std::size_t ldc, std::size_t mv, std::size_t nv,
                         const tile_epilogue& e) noexcept {
  if (mv > 8)
    bf16dot_rows<12, Packed>(seg, nseg, a, a_row_bytes, b, c, ldc, mv, nv, e);
  else if (mv > 4)
    bf16dot_rows<8, Packed>(seg, nseg, a, a_row_bytes, b, c, ldc, mv, nv, e);
  else if (mv > 2)
    bf16dot_rows<4, Packed>(seg, nseg, a, a_row_bytes, b, c, ldc, mv, nv, e);
  else if (mv > 1)
    bf16dot_rows<2, Packed>(seg, nseg, a, a_row_bytes, b, c, ldc, mv, nv, e);
  else
    bf16dot_rows<1, Packed>(seg, nseg, a, a_row_bytes, b, c, ldc, mv, nv, e);
}

}  // namespace detail

struct gemm_bf16dot_12x32__avx512bf16 {
  using tier = isa::avx512bf16;
  using packed = bfloat16;
  static constexpr std::size_t kgroup = 2;  // k values per packed group: vdpbf16ps's pair
  static constexpr blocking block = blocks::avx512bf16;
  static constexpr const char* name = "gemm_bf16dot_12x32__avx512bf16";
  static constexpr std::size_t MR = 12, NR = 32;
  static_assert(block.mr == MR && block.nr == NR, "tile matches the blocking table");

  // Not inlined into the loops that call it: GCC 12 ran the tile 1.8x
  // slower inlined into the convolution's loops.
  FP8_NOINLINE static void run(std::size_t pairs, const bfloat16* a, const bfloat16* b, float* c, std::size_t ldc,
                               std::size_t mv, std::size_t nv, const tile_epilogue& e) noexcept {
    const detail::a_segment whole{0, pairs};
    detail::bf16dot_tile<true>(&whole, 1, reinterpret_cast<const unsigned char*>(a), 0, b, c, ldc, mv, nv, e);
  }

  // The same tile with A read in place (detail::a_segment).
  FP8_NOINLINE static void run_direct(const detail::a_segment* seg, std::size_t nseg, const unsigned char* a,
                                      std::size_t a_row_bytes, const bfloat16* b, float* c, std::size_t ldc,
                                      std::size_t mv, std::size_t nv, const tile_epilogue& e) noexcept {
    detail::bf16dot_tile<false>(seg, nseg, a, a_row_bytes, b, c, ldc, mv, nv, e);
  }
};

FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512BF16

#endif  // FP8_TIER_AVX512BF16
