// SPDX-License-Identifier: Apache-2.0
// fp8(float) rounds, so it is explicit: copy-initialisation from a float must not compile.
#include <fp8/types/fp8.hpp>

int main() {
#ifdef FP8_COMPILE_FAIL
  const fp8::e4m3_t x = 1.0f;
#else
  const fp8::e4m3_t x(1.0f);
#endif
  return x.bits() == 0x38 ? 0 : 1;
}
