// SPDX-License-Identifier: Apache-2.0
// Block sizes of the five-loop GEMM (kernels/gemm.hpp), one row of data per
// micro-kernel, after BLIS: MR x NR is the register tile of the micro-kernel,
// KC the depth of one packed panel, MC the rows of the packed block of A kept
// in L2, NC the columns of the packed block of B kept in L3. Each value is
// derived below from the machine the kernel targets (toolchain.md: Zen 5,
// L1d 48 KiB, L2 1 MiB per core, L3 32 MiB; 32 zmm or 16 ymm/xmm registers),
// so that retuning is editing data, not code.
#pragma once

#include <cstddef>

#include "../config.hpp"

FP8_BEGIN_NAMESPACE
namespace kernel {

struct blocking {
  std::size_t mr, nr;  // register tile: rows of op(A), columns of op(B)
  std::size_t kc;      // depth of a packed panel (a multiple of the kernel's k group)
  std::size_t mc;      // rows of op(A) per packed block (a multiple of mr)
  std::size_t nc;      // columns of op(B) per packed block (a multiple of nr)
};

namespace blocks {

// AVX512-BF16, 12 x 32 tile of vdpbf16ps. Registers: 12 rows x 2 zmm of 16
// floats = 24 accumulators, + 2 zmm of B + 1 broadcast of A = 27 of 32. Two
// vdpbf16ps issue per cycle and each has a latency of a few cycles, so the 24
// independent chains keep both pipes busy. Per k pair the tile loads 2 zmm of
// B and 12 dwords of A for 24 instructions: under the two loads per cycle.
// KC is as deep as L2 allows, not as L1 does: the tile's C is read back
// and written at every block of k, and on Zen 5 that costs the kernel more
// than its B micro-panel coming from L2 instead of L1. bench_gemm's
// microkernel_bf16dot rows (the kernel alone over one jc block of a
// 2048-deep k, C rows 8 KiB apart as in 2048^3) read 80-84% of the
// vdpbf16ps peak with kc = 384 and mc = 240 (B micro-panel 24 KiB, in L1)
// and 96-97% with kc = 2048, as much as one tile with everything in L1;
// whole GEMMs ran 1.00-1.09x faster and the dense convolutions 0.99-1.04x
// (2048^3 on two threads 1.14x; the README's "Against commit 408ecc9").
// B micro-panel: kc/2 pairs x 32 columns x 4 bytes = 128 KiB at
// kc = 2048, in L2 and streamed from it (the hardware
// prefetchers keep up with its sequential read). A block in L2: mc x kc x
// 2 bytes = 48 x 2048 x 2 = 192 KiB: with one micro-panel of B, a third of
// L2, and 4 tiles of A share each B micro-panel fetched from L3. B block:
// kc x nc x 2 bytes = 2 MiB per thread, in L3. NC is set by the TLB rather
// than L3: B stored n x k (Linear weights, rows k bytes apart) puts every
// column of op(B) in its own 4 KiB page when k >= 4096, so packing one B
// block reads from nc pages; 512 of them stay within the L2 TLB while the
// pc loop walks along them (measured with kc = 384, K = N = 4096: M = 32
// went from 106 to 125 GFLOP/s, M = 128 from 167 to 173; NC = 256 with
// kc = 2048 ran M = 128 0.95x).
inline constexpr blocking avx512bf16{12, 32, 2048, 48, 512};

// AVX-512F fp32 FMA, 12 x 32: the same register budget; a B micro-panel
// holds floats, 128 kc bytes. As above, KC is set by L2: kc = 1024 gives a
// 128 KiB micro-panel, and the A block is 48 x 1024 x 4 = 192 KiB. Against
// kc = 192 and mc = 240 (B micro-panel 24 KiB, in L1), measured on Zen 5
// with float A (compare_builds, 3 rounds): 2048^3 1.11-1.14x, M = 128
// 0.99-1.00x, M = 32 with B n x k 0.96-0.98x (its B block, packed per
// call, now leaves L2). NC as above.
inline constexpr blocking avx512_f32{12, 32, 1024, 48, 512};

// AVX2 + FMA (xsimd), 6 x 16: 16 ymm = 6 x 2 accumulators + 2 of B + 1
// broadcast. B micro-panel 16 x 4 x kc bytes: kc = 256 gives 16 KiB (Haswell
// L1d is 32 KiB). A block 120 x 256 x 4 = 120 KiB. NC as above.
inline constexpr blocking avx2_f32{6, 16, 256, 120, 512};

// SSE2 (xsimd, no FMA), 6 x 8: the same 15 of 16 registers with 4 lanes.
inline constexpr blocking sse2_f32{6, 8, 256, 120, 512};

// Plain C++: a small tile the compiler can keep in registers or vectorize.
inline constexpr blocking portable_f32{4, 8, 256, 64, 1024};

}  // namespace blocks
}  // namespace kernel
FP8_END_NAMESPACE
