// SPDX-License-Identifier: Apache-2.0
// fp8::conv2d instantiated for the harness's combinations 4-7 (fuzz_conv.hpp);
// a translation unit of its own so the build compiles it beside _a.
#define FZCONV_FIRST 4
#define FZCONV_FUNCTION call_b
#include "fuzz_conv_calls.inc"
