// SPDX-License-Identifier: Apache-2.0
// fp8::gemm instantiated for the harness's combinations 8-15 (fuzz_gemm.hpp);
// a translation unit of its own so the build compiles it beside _a.
#define FZGEMM_FIRST 8
#define FZGEMM_FUNCTION call_b
#include "fuzz_gemm_calls.inc"
