// SPDX-License-Identifier: Apache-2.0
// The five loops of the blocked GEMM (BLIS / GotoBLAS), generic over a
// micro-kernel K (microkernel_*.hpp) and the FP8 formats of A and B:
//
//   for jc in [n0, n1) step NC          B block: kc x nc, in L3
//     for pc in [0, k) step KC          one block of k (fixed by KC alone)
//       pack op(B)[pc:pc+kc, jc:jc+nc]  (or take it from a packed_b)
//       for ic in [m0, m1) step MC      A block: mc x kc, in L2
//         pack op(A)[ic:ic+mc, pc:pc+kc]
//         for jr in [0, nc) step NR     B micro-panel: kc x NR, stays in L1
//           for ir in [0, mc) step MR   A micro-panel streams from L2
//             K::run: C[ic+ir.., jc+jr..] (MR x NR tile, epilogue)
//
// An A source that the micro-kernel reads where it lies (in_place: the
// convolution's input, kernels/conv2d.hpp) skips the packing of A: per block
// of k it describes where that block's values are (k_block), and runs each
// tile itself (run_tile); its tiles never cross the end of one of its
// periods of rows (period_left: an output row of the convolution, whose
// pixels are a fixed stride apart; a short last tile of a period is merged
// with the one before, in_place_tile_rows), and the MC blocks and thread rectangles
// are whole periods (row_period; a period of 0: rows that run on without a
// break, cut like a packed A's).
//
// A thread runs these loops on its own rectangle [m0, m1) x [n0, n1) of C,
// whose edges are multiples of MR and NR; k is never split across threads,
// so every element of C is computed by the same sequence of operations for
// any thread count (kernels/epilogue.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "blocking.hpp"
#include "buffer.hpp"
#include "epilogue.hpp"
#include "pack.hpp"
#include "profile.hpp"

FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE

// An operand of the loops: a matrix of T (fp8<F> codes, bfloat16 or float)
// seen as R-major panels, element (r, k) at p[r * rs + k * ks] (gemm.hpp
// derives rs and ks from the transpose flags). Anything with the same pack()
// can feed the loops: kernels/conv2d.hpp gathers its A panels through an
// indirection buffer instead.
template <class T>
struct matrix_source {
  using value_type = T;
  const T* p;
  std::size_t rs, ks;
  // Packs rows [r0, r0 + rows) x k [k0, k0 + kc) as one R-row panel of K's
  // layout (pack.hpp); codes is scratch of R * round_up(kc, K::kgroup) bytes;
  // next_rows are the valid rows of the following panel, to prefetch.
  template <class K>
  void pack(std::size_t r0, std::size_t rows, std::size_t R, std::size_t k0, std::size_t kc, std::uint8_t* codes,
            typename K::packed* dst, std::size_t next_rows) const noexcept {
    pack_operand<K>(p + r0 * rs + k0 * ks, rs, ks, rows, R, kc, codes, dst, next_rows);
  }
  // The same operand without its first r0 rows.
  matrix_source rows_from(std::size_t r0) const noexcept { return {p + r0 * rs, rs, ks}; }
};

// Whether A source SA is read in place (it declares in_place = true).
template <class SA, class = void>
struct reads_in_place : std::false_type {};
template <class SA>
struct reads_in_place<SA, std::enable_if_t<SA::in_place>> : std::true_type {};

// The rows an A source's tiles and blocks are cut at: its row period when it
// is read in place, none (0) otherwise or when its rows never break.
template <class SA>
std::size_t row_period(const SA& a) noexcept {
  if constexpr (reads_in_place<SA>::value)
    return a.row_period();
  else
    return (void)a, 0;
}

// Where block [pc, pc + kc) of k lies in an in-place A source (its
// k_block), or an empty tag for a source that packs.
struct packed_a {};
template <class K, class SA>
auto k_block_of(const SA& a, std::size_t pc, std::size_t kc) noexcept {
  if constexpr (reads_in_place<SA>::value)
    return a.template k_block<K>(pc, kc);
  else
    return (void)a, (void)pc, (void)kc, packed_a{};
}

// Block scales (DeepSeek-V3): op(A)'s rows carry one scale per `block` of k
// (a[i * kblocks + kb]), op(B) one per block x block square
// (b[(j / block) * kblocks + kb]); either may be null.
struct block_scales {
  const float* a = nullptr;
  const float* b = nullptr;
  std::size_t block = 0;  // 0: no block scales
  std::size_t kblocks = 0;
};

// What the loops need besides the operands: C, the epilogue's parameters
// (tile_epilogue with first/last and pointer offsets filled in per tile), k.
// Without block scales base.row_scale holds r (alpha folded in); with them,
// the caller's row scales (block_row_scale folds them per block).
struct gemm_output {
  float* c;
  std::size_t ldc;
  std::size_t k;
  tile_epilogue base;  // alpha, beta, clamp; pointers at row 0 / column 0
  block_scales blocks;
};

inline constexpr std::size_t round_up(std::size_t x, std::size_t to) noexcept { return (x + to - 1) / to * to; }

// A B operand already packed for kernel K over all of k and n (packed_b):
// the block (pc, jc) is a pointer into it.
template <class K>
struct prepacked_view {
  const typename K::packed* data;
  std::size_t n_panels;  // ceil(n / NR)
  int least_step;        // the least step of B's values (gemm.hpp's least_step)
  const typename K::packed* block(std::size_t pc, std::size_t jc, std::size_t k) const noexcept {
    constexpr blocking bl = K::block;
    const std::size_t groups = (std::min(bl.kc, k - pc) + K::kgroup - 1) / K::kgroup;
    return data + (pc / bl.kc) * n_panels * bl.nr * bl.kc + (jc / bl.nr) * bl.nr * groups * K::kgroup;
  }
  // Element (kk, j) of op(B): in its block's panel, [group][NR][kgroup].
  const typename K::packed& at(std::size_t kk, std::size_t j, std::size_t k) const noexcept {
    constexpr blocking bl = K::block;
    constexpr std::size_t G = K::kgroup;
    const std::size_t pc = kk / bl.kc * bl.kc, t = kk - pc;
    return block(pc, j, k)[(t / G * bl.nr + j % bl.nr) * G + t % G];
  }
};

// The B source of a call whose B is always prepacked (the convolution's
// weights): it never packs, and its type does not vary with the weights'.
struct prepacked_only {
  template <class K>
  void pack(std::size_t, std::size_t, std::size_t, std::size_t, std::size_t, std::uint8_t*, typename K::packed*,
            std::size_t) const noexcept {}
};

// Packs all of op(B) (k x n) for kernel K into dst, in prepacked_view's
// layout: for each block of k, every NR-column panel in turn.
template <class K, class SB>
void pack_b_all(const SB& b, std::size_t k, std::size_t n, typename K::packed* dst) {
  constexpr blocking bl = K::block;
  constexpr std::size_t G = K::kgroup;
  aligned_buffer<std::uint8_t> codes(bl.nr * round_up(std::min(bl.kc, k), G));
  const std::size_t panels = (n + bl.nr - 1) / bl.nr;
  for (std::size_t pc = 0; pc < k; pc += bl.kc) {
    const std::size_t kc = std::min(bl.kc, k - pc), groups = (kc + G - 1) / G;
    typename K::packed* block = dst + (pc / bl.kc) * panels * bl.nr * bl.kc;
    for (std::size_t q = 0; q < panels; ++q)
      b.template pack<K>(q * bl.nr, std::min(bl.nr, n - q * bl.nr), bl.nr, pc, kc, codes.data(),
                         block + q * bl.nr * groups * G, q + 1 < panels ? std::min(bl.nr, n - (q + 1) * bl.nr) : 0);
  }
}
template <class K>
std::size_t packed_b_size(std::size_t k, std::size_t n) noexcept {
  constexpr blocking bl = K::block;
  const std::size_t panels = (n + bl.nr - 1) / bl.nr;
  // Every block of k but the last is kc deep; the last is padded to the group.
  return panels * bl.nr * (k / bl.kc * bl.kc + round_up(k % bl.kc, K::kgroup));
}

// With block scales, r and c of block kb (kernels/epilogue.hpp): r =
// alpha * row_scale[i] * a_block[i][kb] and c = col_scale[j] *
// b_block[j / block][kb], each formed in double and rounded once
// (fold_scale); out.base holds alpha and the caller's row and column scales.
inline float block_row_scale(const gemm_output& out, std::size_t i, std::size_t kb) noexcept {
  const block_scales& bs = out.blocks;
  return fold_scale(out.base.alpha, out.base.row_scale != nullptr ? out.base.row_scale[i] : 1.0f,
                    bs.a != nullptr ? bs.a[i * bs.kblocks + kb] : 1.0f);
}
inline float block_col_scale(const gemm_output& out, std::size_t j, std::size_t kb) noexcept {
  const block_scales& bs = out.blocks;
  return fold_scale(out.base.col_scale != nullptr ? out.base.col_scale[j] : 1.0f,
                    bs.b != nullptr ? bs.b[(j / bs.block) * bs.kblocks + kb] : 1.0f);
}

namespace detail {
// One tile over k [pc, pc + kc) of packed panels a and b (group-major, MR and
// NR wide). Without block scales: one micro-kernel call. With them: one call
// per piece of k cut at the multiples of the block, each with that block's
// r and c (block_row_scale, block_col_scale), so C accumulates
// sum_kb acc_kb * (r_kb * c_kb).
template <class K>
inline void run_tile(const gemm_output& out, tile_epilogue e, std::size_t pc, std::size_t kc,
                     const typename K::packed* a, const typename K::packed* b, std::size_t i, std::size_t j,
                     std::size_t mv, std::size_t nv) noexcept {
  constexpr std::size_t G = K::kgroup, MR = K::block.mr, NR = K::block.nr;
  float* c = out.c + i * out.ldc + j;
  const block_scales& bs = out.blocks;
  if (bs.block == 0) {
    K::run((kc + G - 1) / G, a, b, c, out.ldc, mv, nv, e);
    return;
  }
  float rs[MR], cs[NR];
  for (std::size_t k0 = pc; k0 < pc + kc;) {
    const std::size_t kb = k0 / bs.block, k1 = std::min(pc + kc, (kb + 1) * bs.block);
    for (std::size_t t = 0; t < MR; ++t) rs[t] = t < mv ? block_row_scale(out, i + t, kb) : 1.0f;
    for (std::size_t t = 0; t < NR; ++t) cs[t] = t < nv ? block_col_scale(out, j + t, kb) : 1.0f;
    e.row_scale = rs;
    e.col_scale = cs;
    e.first = k0 == 0;
    e.last = k1 == out.k;
    const std::size_t g0 = (k0 - pc) / G;  // k0 - pc is a multiple of G: KC and the block are
    K::run((k1 - k0 + G - 1) / G, a + g0 * MR * G, b + g0 * NR * G, c, out.ldc, mv, nv, e);
    k0 = k1;
  }
}
}  // namespace detail

// The rows of the next tile of an in-place A, `left` rows before the end of
// its period or block. Where one tile of mr rows would leave at most mr / 3
// rows, the short tile would run on a variant of mr / 3 rows or fewer,
// which streams the whole B micro-panel for a third of the work or less; the
// last mr + r rows go as two tiles of about half instead. On a 28-pixel
// output row, 12 + 8 + 8 rows read 91% of the vdpbf16ps peak against 85%
// for 12 + 12 + 4 (bench_conv's microkernel_direct, 3x3 C128 layer).
constexpr std::size_t in_place_tile_rows(std::size_t left, std::size_t mr) noexcept {
  return left > mr && left - mr <= mr / 3 ? left / 2 : std::min(mr, left);
}

// The loops on the rectangle [m0, m1) x [n0, n1) of C. pb is null to pack
// op(B) here, or points to all of op(B) packed.
template <class K, class SA, class SB>
void gemm_blocked(const SA& a, const SB& b, const prepacked_view<K>* pb, const gemm_output& out, std::size_t m0,
                  std::size_t m1, std::size_t n0, std::size_t n1) {
  constexpr blocking bl = K::block;
  constexpr std::size_t G = K::kgroup, MR = bl.mr, NR = bl.nr;
  static_assert(bl.kc % G == 0 && bl.mc % MR == 0 && bl.nc % NR == 0, "blocks are whole tiles");
  const std::size_t k = out.k;
  if (m0 >= m1 || n0 >= n1 || k == 0) return;
  const std::size_t kcp = round_up(std::min(bl.kc, k), G);
  using P = typename K::packed;
  constexpr bool in_place = reads_in_place<SA>::value;  // no block scales then (the convolution has none)
  aligned_buffer<P> ap(!in_place ? round_up(std::min(bl.mc, m1 - m0), MR) * kcp : 0);
  aligned_buffer<P> bp(pb != nullptr ? 0 : round_up(std::min(bl.nc, n1 - n0), NR) * kcp);
  aligned_buffer<std::uint8_t> codes(std::max(MR, NR) * kcp);

  const std::size_t period = row_period(a);
  // A block of MC rows, or of whole periods for an in-place A.
  const std::size_t mc_rows = period == 0 ? bl.mc : std::max<std::size_t>(1, bl.mc / period) * period;
  for (std::size_t jc = n0; jc < n1; jc += bl.nc) {
    const std::size_t nc = std::min(bl.nc, n1 - jc);
    for (std::size_t pc = 0; pc < k; pc += bl.kc) {
      const std::size_t kc = std::min(bl.kc, k - pc), panel = round_up(kc, G);
      const P* bblock;
      if (pb != nullptr) {
        bblock = pb->block(pc, jc, k);
      } else {
        FP8_PROFILE_SCOPE(pack_b);
        for (std::size_t jr = 0; jr < nc; jr += NR)
          b.template pack<K>(jc + jr, std::min(NR, nc - jr), NR, pc, kc, codes.data(), bp.data() + jr * panel,
                             nc - jr > NR ? std::min(NR, nc - jr - NR) : 0);
        bblock = bp.data();
      }
      tile_epilogue e = out.base;
      e.first = pc == 0;
      e.last = pc + kc == k;
      // Where the block of k lies in an in-place A (its segments); nothing for a packed one.
      const auto where = k_block_of<K>(a, pc, kc);
      for (std::size_t ic = m0; ic < m1; ic += mc_rows) {
        const std::size_t end = std::min(m1, ic + mc_rows);
        if constexpr (!in_place) {
          FP8_PROFILE_SCOPE(pack_a);
          for (std::size_t ir = 0; ir < end - ic; ir += MR)
            a.template pack<K>(ic + ir, std::min(MR, end - ic - ir), MR, pc, kc, codes.data(), ap.data() + ir * panel,
                               end - ic - ir > MR ? std::min(MR, end - ic - ir - MR) : 0);
        }
        FP8_PROFILE_SCOPE(kernel);
        for (std::size_t jr = 0; jr < nc; jr += NR) {
          const std::size_t j = jc + jr, nv = std::min(NR, nc - jr);
          e.col_scale = out.base.col_scale != nullptr ? out.base.col_scale + j : nullptr;
          e.bias = out.base.bias != nullptr ? out.base.bias + j : nullptr;
          for (std::size_t i = ic, mv; i < end; i += mv) {
            mv = std::min(MR, end - i);
            e.row_scale = out.base.row_scale != nullptr ? out.base.row_scale + i : nullptr;
            if constexpr (in_place) {
              mv = in_place_tile_rows(std::min(end - i, a.period_left(i)), MR);
              a.template run_tile<K>(where, i, mv, bblock + jr * panel, out.c + i * out.ldc + j, out.ldc, nv, e);
            } else {
              detail::run_tile<K>(out, e, pc, kc, ap.data() + (i - ic) * panel, bblock + jr * panel, i, j, mv, nv);
            }
          }
        }
      }
    }
  }
}

// How threads share C: a tm x tn grid of rectangles whose edges are whole
// tiles, chosen from the sizes and the thread count only. The longer side of
// C is split first (each part then packs all of the shorter operand, the
// cheaper duplication); a side is split only into as many parts as it has
// tiles.
struct split2d {
  std::size_t tm, tn;
};
inline split2d choose_split(std::size_t m, std::size_t n, std::size_t mr, std::size_t nr,
                            std::size_t threads) noexcept {
  const std::size_t um = (m + mr - 1) / mr, un = (n + nr - 1) / nr;
  split2d s{1, 1};
  if (n >= m) {
    s.tn = std::min(threads, un);
    s.tm = std::min(threads / s.tn, um);
  } else {
    s.tm = std::min(threads, um);
    s.tn = std::min(threads / s.tm, un);
  }
  return s;
}
// Part t of `parts` of [0, units) in whole units of `unit`, clipped to size.
inline void part_range(std::size_t size, std::size_t unit, std::size_t parts, std::size_t t, std::size_t& lo,
                       std::size_t& hi) noexcept {
  const std::size_t units = (size + unit - 1) / unit, q = units / parts, r = units % parts;
  const std::size_t first = t * q + std::min(t, r), count = q + (t < r ? 1 : 0);
  lo = std::min(size, first * unit);
  hi = std::min(size, (first + count) * unit);
}

FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
