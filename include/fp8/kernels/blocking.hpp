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
// B micro-panel in L1: kc/2 pairs x 32 columns x 4 bytes = 64 kc bytes; at
// kc = 384 that is 24 KiB, half of L1d, leaving room for the streamed A
// micro-panel (12 x 384 x 2 bytes = 9 KiB). A block in L2: mc x kc x 2 bytes
// = 240 x 384 x 2 = 180 KiB, a fifth of L2. B block: kc x nc x 2 bytes =
// 384 x 512 x 2 = 384 KiB per thread. NC is set by the TLB rather than L3:
// B stored n x k (Linear weights, rows k bytes apart) puts every column of
// op(B) in its own 4 KiB page when k >= 4096, so packing one B block reads
// from nc pages; 512 of them stay within the L2 TLB while the pc loop walks
// along them (measured, K = N = 4096: M = 32 went from 106 to 125 GFLOP/s,
// M = 128 from 167 to 173, 2048^3 unchanged at 190-193 for NC = 256..4096).
inline constexpr blocking avx512bf16{12, 32, 384, 240, 512};

// AVX-512F fp32 FMA (xsimd), 12 x 32: the same register budget; a B
// micro-panel holds floats, 128 kc bytes: kc = 192 gives 24 KiB. NC as above.
inline constexpr blocking avx512_f32{12, 32, 192, 240, 512};

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
