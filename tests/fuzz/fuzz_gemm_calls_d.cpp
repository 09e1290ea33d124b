// SPDX-License-Identifier: Apache-2.0
// fp8::gemm instantiated for the harness's combinations 24-28 (fuzz_gemm.hpp:
// bfloat16 B); a translation unit of its own like _a to _c.
#define FZGEMM_FIRST 24
#define FZGEMM_COUNT 5
#define FZGEMM_FUNCTION call_d
#include "fuzz_gemm_calls.inc"
