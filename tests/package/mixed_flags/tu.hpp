// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <cstddef>
#include <vector>

struct tu_report {
  float amax = 0;
  int static_tier = -1;         // fp8::cpu_tier the unit's flags enable
  const void* entry = nullptr;  // the address of the fp8::amax the unit calls
  // C = A B for the E4M3 matrices of gemm_inputs (small integers: exact),
  // by fp8::gemm and by a packed_b the unit packs itself.
  std::vector<float> c, c_packed;
  const void* gemm_entry = nullptr;  // the address of the fp8::gemm it calls
  std::vector<unsigned char> codes;  // fp8::encode<E4M3> of the x it was given
};
// m x k and k x n values for the GEMM, whole numbers of at most 4 bits.
constexpr std::size_t gemm_m = 30, gemm_n = 40, gemm_k = 50;
inline float gemm_a(std::size_t i, std::size_t t) { return static_cast<float>(static_cast<int>((i * 7 + t * 3) % 9) - 4); }
inline float gemm_b(std::size_t t, std::size_t j) { return static_cast<float>(static_cast<int>((t * 5 + j) % 7) - 3); }
tu_report native(const float* x, std::size_t n);
tu_report baseline(const float* x, std::size_t n);
