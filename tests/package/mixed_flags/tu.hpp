// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <cstddef>

struct tu_report {
  float amax = 0;
  int static_tier = -1;         // fp8::cpu_tier the unit's flags enable
  const void* entry = nullptr;  // the address of the fp8::amax the unit calls
};
tu_report native(const float* x, std::size_t n);
tu_report baseline(const float* x, std::size_t n);
