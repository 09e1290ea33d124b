// SPDX-License-Identifier: Apache-2.0
// fp8::conv2d instantiated for the harness's combinations 8-11 (fuzz_conv.hpp:
// half output); a translation unit of its own like _a and _b.
#define FZCONV_FIRST 8
#define FZCONV_FUNCTION call_c
#include "fuzz_conv_calls.inc"
