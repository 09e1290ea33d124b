// SPDX-License-Identifier: Apache-2.0
// fp8::conv2d instantiated for the harness's combinations 0-3 (fuzz_conv.hpp);
// a translation unit of its own so the build compiles it beside _b.
#define FZCONV_FIRST 0
#define FZCONV_FUNCTION call_a
#include "fuzz_conv_calls.inc"
