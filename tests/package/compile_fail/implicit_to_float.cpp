// SPDX-License-Identifier: Apache-2.0
// Widening to float is explicit too, so an fp8 never decays silently into float arithmetic.
#include <fp8/types/fp8.hpp>

int main() {
  const fp8::e4m3_t x(1.0f);
#ifdef FP8_COMPILE_FAIL
  const float f = x;
#else
  const float f = static_cast<float>(x);
#endif
  return f == 1.0f ? 0 : 1;
}
