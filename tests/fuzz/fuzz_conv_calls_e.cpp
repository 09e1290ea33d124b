// SPDX-License-Identifier: Apache-2.0
// fp8::conv2d instantiated for the harness's combinations 17-21 (fuzz_conv.hpp:
// half weights, and float input with bfloat16 weights); a translation unit of its own like _a to _d.
#define FZCONV_FIRST 17
#define FZCONV_COUNT 5
#define FZCONV_FUNCTION call_e
#include "fuzz_conv_calls.inc"
