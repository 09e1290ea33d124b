// SPDX-License-Identifier: Apache-2.0
// The program every packaging test builds (find_package, pkg-config,
// add_subdirectory): it checks a conversion at compile time and at run time.
#include <cstdio>

#include <fp8/fp8.hpp>

static_assert(fp8::e4m3_t(448.0f).bits() == 0x7E, "448 is E4M3's largest finite value, 0.1111.110");

int main(int argc, char**) {
  // argc makes the input unknown to the compiler, so the run-time path runs.
  const float x = 448.0f * static_cast<float>(argc);
  const fp8::e4m3_t y(x);
  const float back = static_cast<float>(y);
  std::printf("fp8 %d.%d.%d: e4m3(%g) = 0x%02X -> %g\n", FP8_VERSION_MAJOR, FP8_VERSION_MINOR, FP8_VERSION_PATCH,
              static_cast<double>(x), y.bits(), static_cast<double>(back));
  return y.bits() == 0x7E && back == 448.0f ? 0 : 1;
}
