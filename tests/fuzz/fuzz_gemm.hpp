// SPDX-License-Identifier: Apache-2.0
// What fuzz_gemm.cpp (decoding, contract, reference) and the two
// translation units that instantiate fp8::gemm (fuzz_gemm_calls_a.cpp,
// _b.cpp, _c.cpp, _d.cpp, _e.cpp) share: the operand types of each of the
// thirty-four combinations the harness covers, and one call's arguments as
// plain data. The instantiations live apart because each costs seconds to
// compile; split in five, the build's two jobs compile them side by side.
#pragma once

#include <cstddef>

#include <fp8/kernels/gemm.hpp>

namespace fzgemm {

// Element kinds: 0-3 the FP8 formats (E4M3, E5M2, E4M3FNUZ, E5M2FNUZ),
// 4 bfloat16, 5 float, 6 half.
struct combo {
  int a, b, c;
  bool packed;  // whether the packed_b overload is compiled for it
};
// A of every kind, B of every format, C float / bfloat16 / FP8, each at least
// three times; packed B for eight of them (one per A kind and C kind).
// Appended (so the committed seeds' combos keep their meaning), 16-23: half
// A with B of every format and C of every kind (packed_b<FB, float> twice),
// and half C from A of each other kind.
// Appended, 24-33: bfloat16 and half B (a layer kept in 16 bits). bfloat16
// B with A of every class (FP8: E4M3 and E5M2FNUZ, whose subnormal step
// 2^-17 meets tiny bfloat16 in the flush rule; bfloat16; float; half), half
// B with A E5M2, bfloat16, half and float; C float, bfloat16, half, FP8;
// packed for six (packed_b<bfloat16>, <bfloat16, float>, <half>, <half,
// float>: packed_float_panels).
constexpr int combo_count = 34;
constexpr combo combos[combo_count] = {
    {0, 0, 5, true},  {0, 1, 4, false}, {0, 0, 0, true},  {1, 1, 5, false}, {1, 2, 1, true},  {2, 3, 5, false},
    {2, 2, 2, true},  {3, 3, 4, false}, {3, 0, 3, false}, {4, 0, 5, true},  {4, 1, 4, false}, {4, 2, 0, true},
    {4, 3, 5, false}, {5, 0, 5, true},  {5, 1, 4, false}, {5, 3, 1, true},
    {6, 0, 5, true},  {6, 1, 6, false}, {6, 2, 4, true},  {6, 3, 0, false}, {0, 1, 6, true},  {4, 3, 6, false},
    {5, 2, 6, true},  {3, 0, 6, false},
    {4, 4, 5, true},  {0, 4, 4, true},  {3, 4, 5, false}, {5, 4, 6, true},  {4, 4, 4, false},
    {6, 6, 6, true},  {4, 6, 5, true},  {1, 6, 1, true},  {6, 4, 4, false}, {5, 6, 5, false}};
// Which packed_b a packed combo builds: packed_b<FB, float> (float panels)
// for float and half A, as required; for bfloat16 A with half B too, where
// either works (E5M2 A with half B keeps the default, bfloat16).
constexpr bool packed_float_panels(const combo& k) { return k.a == 5 || k.a == 6 || (k.a == 4 && k.b == 6); }

struct call {
  int combo;
  bool packed, legacy;  // packed_b overload; the 13-argument overload (FP8 A, float C, no options)
  int ta, tb;
  std::size_t m, n, k, lda, ldb, ldc;
  float alpha, beta;
  const void* a;
  const void* b;
  void* c;
  fp8::gemm_options options;
};

// Combos 0-7, 8-15, 16-23, 24-28 and 29-33.
void call_a(const call& c);
void call_b(const call& c);
void call_c(const call& c);
void call_d(const call& c);
void call_e(const call& c);

}  // namespace fzgemm
