// SPDX-License-Identifier: Apache-2.0
// The unit without FP8_PROFILE that test_profile.cpp calls: the same blocked
// gemm as its first case, which must add nothing to the phase counters.
#include <cstdint>
#include <vector>

#include <fp8/fp8.hpp>

void fp8_test_gemm_unprofiled();
void fp8_test_gemm_unprofiled() {
  const std::size_t m = 64, n = 64, k = 512;
  std::vector<fp8::e4m3_t> a(m * k, fp8::e4m3_t::from_bits(0x38)), b(k * n, fp8::e4m3_t::from_bits(0x30));
  std::vector<float> c(m * n);
  fp8::gemm(fp8::transpose::no, fp8::transpose::no, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
}
