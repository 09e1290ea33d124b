// SPDX-License-Identifier: Apache-2.0
// What fuzz_conv.cpp (decoding, contract, reference) and the translation
// units that instantiate fp8::conv2d (fuzz_conv_calls_a.cpp to _e.cpp) share:
// the format combinations the harness covers and one call's arguments as
// plain data. The instantiations are split for the same reason as
// fuzz_gemm's: each costs seconds to compile.
#pragma once

#include <cstddef>

#include <fp8/kernels/conv2d.hpp>

namespace fzconv {

// Kinds: 0-3 the FP8 formats (E4M3, E5M2, E4M3FNUZ, E5M2FNUZ), 4 bfloat16, 5 float, 6 half.
struct combo {
  int x, w, out;
};
// Input and weights of every format, float, bfloat16 and FP8 output;
// appended (so the committed seeds' combos keep their meaning), 8-11: half
// output from each input format; 12-21: bfloat16, half and float input
// (with FP8, bfloat16 and half weights) and bfloat16 and half weights (with
// input of every class), output of every kind. 15 and 16 meet the flush
// rule (bfloat16 with bfloat16, E5M2FNUZ with bfloat16).
constexpr int combo_count = 22;
constexpr combo combos[combo_count] = {{0, 0, 5}, {0, 1, 4}, {1, 0, 0}, {1, 1, 5}, {2, 3, 5}, {3, 2, 2},
                                       {0, 0, 1}, {1, 0, 4}, {0, 0, 6}, {1, 2, 6}, {3, 3, 6}, {2, 1, 6},
                                       {4, 0, 5}, {6, 1, 4}, {5, 2, 6}, {4, 4, 5}, {3, 4, 4}, {6, 6, 6},
                                       {5, 4, 5}, {4, 6, 0}, {5, 6, 4}, {0, 6, 5}};
// The second parameter of the packed_conv_weights a combo builds: float
// for float and half input, as required, and for bfloat16 input with half
// weights, where either works (E4M3 input with half weights keeps bfloat16).
constexpr bool packed_float_panels(const combo& k) { return k.x == 5 || k.x == 6 || (k.x == 4 && k.w == 6); }

struct call {
  int combo;
  int variant;  // 0: unpacked weights with options, 1: packed_conv_weights, 2: the 7-argument overload
  fp8::conv2d_shape shape;
  const void* input;
  float input_scale;
  const void* weights;
  const float* weight_scales;
  const float* bias;
  void* output;
  fp8::conv2d_options options;
};

// Combos 0-3, 4-7, 8-11, 12-16 and 17-21.
void call_a(const call& c);
void call_b(const call& c);
void call_c(const call& c);
void call_d(const call& c);
void call_e(const call& c);

}  // namespace fzconv
