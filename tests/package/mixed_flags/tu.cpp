// SPDX-License-Identifier: Apache-2.0
// One translation unit of the mixed-flags program, compiled twice: with
// the build's instruction-set flags (TU_NAME native) and without any
// (TU_NAME baseline). Each reports what it runs.
#include <fp8/fp8.hpp>

#include "tu.hpp"

tu_report TU_NAME(const float* x, std::size_t n) {
  tu_report r;
  r.amax = fp8::amax(x, n);
  r.static_tier = static_cast<int>(fp8::detail::static_tier());
  float (*entry)(const float*, std::size_t) = &fp8::amax;
  r.entry = reinterpret_cast<const void*>(entry);
  return r;
}
