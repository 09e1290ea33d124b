// SPDX-License-Identifier: Apache-2.0
// Arithmetic is defined within one format: mixing E4M3 and E5M2 needs an explicit conversion.
#include <fp8/types/fp8.hpp>

int main() {
  const fp8::e4m3_t a(1.0f);
  const fp8::e5m2_t b(1.0f);
#ifdef FP8_COMPILE_FAIL
  const auto c = a + b;
#else
  const auto c = a + fp8::e4m3_t(static_cast<float>(b));
#endif
  return c.bits() == 0x40 ? 0 : 1;
}
