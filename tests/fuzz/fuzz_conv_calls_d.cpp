// SPDX-License-Identifier: Apache-2.0
// fp8::conv2d instantiated for the harness's combinations 12-16 (fuzz_conv.hpp:
// bfloat16, half and float input; bfloat16 weights); a translation unit of its own like _a to _c.
#define FZCONV_FIRST 12
#define FZCONV_COUNT 5
#define FZCONV_FUNCTION call_d
#include "fuzz_conv_calls.inc"
