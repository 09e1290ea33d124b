// SPDX-License-Identifier: Apache-2.0
// fp8::gemm instantiated for the harness's combinations 0-7 (fuzz_gemm.hpp);
// a translation unit of its own so the build compiles it beside _b.
#define FZGEMM_FIRST 0
#define FZGEMM_FUNCTION call_a
#include "fuzz_gemm_calls.inc"
