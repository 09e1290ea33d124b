// SPDX-License-Identifier: Apache-2.0
// fp8::gemm instantiated for the harness's combinations 29-33 (fuzz_gemm.hpp:
// half B, and half A with bfloat16 B); a translation unit of its own like _a to _d.
#define FZGEMM_FIRST 29
#define FZGEMM_COUNT 5
#define FZGEMM_FUNCTION call_e
#include "fuzz_gemm_calls.inc"
