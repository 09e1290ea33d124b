// SPDX-License-Identifier: Apache-2.0
// fp8::gemm instantiated for the harness's combinations 16-23 (fuzz_gemm.hpp:
// half A, half C); a translation unit of its own like _a and _b.
#define FZGEMM_FIRST 16
#define FZGEMM_FUNCTION call_c
#include "fuzz_gemm_calls.inc"
