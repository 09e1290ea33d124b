// SPDX-License-Identifier: Apache-2.0
// Running a kernel test on every tier in one binary: the entries choose
// their tier at run time (detail/dispatch.hpp), and fp8::tier_scope caps it
// for the calls of this thread.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <fp8/fp8.hpp>

namespace test_tiers {

// Calls f(tag, name) for every tier this binary has code for and the CPU
// runs, each kernel family's overload called directly.
template <class Fn>
void for_each_tier(Fn&& f) {
  using fp8::cpu_tier;
  namespace isa = fp8::isa;
  const cpu_tier cpu = fp8::best_tier(fp8::cpu());
  f(isa::portable{}, "portable");
#if FP8_ISA_SSE2
  if (cpu >= cpu_tier::sse2) f(isa::sse2{}, "sse2");
#endif
#if FP8_TIER_AVX2
  if (cpu >= cpu_tier::avx2) f(isa::avx2{}, "avx2");
#endif
#if FP8_TIER_AVX512
  if (cpu >= cpu_tier::avx512) f(isa::avx512{}, "avx512");
#endif
#if FP8_TIER_AVX512BF16
  if (cpu >= cpu_tier::avx512bf16) f(isa::avx512bf16{}, "avx512bf16");
#endif
  (void)cpu;
}

// The GEMM micro-kernel a call with FP8 A runs on this thread now.
inline const char* gemm_kernel_now() {
  return fp8::detail::dispatch(
      [](auto tag) -> const char* { return fp8::kernel::kernel_of<decltype(tag), fp8::e4m3_t>::type::name; });
}

// Calls f(kernel name) under a tier_scope for every tier the CPU runs whose
// GEMM and conv micro-kernel differs from the tiers' before it (tiers above
// the flags that reach the same kernel would only repeat the work).
template <class Fn>
void for_each_gemm_tier(Fn&& f) {
  using fp8::cpu_tier;
  std::vector<std::string> seen;
  for (cpu_tier t : {cpu_tier::avx512bf16, cpu_tier::avx512, cpu_tier::avx2, cpu_tier::sse2, cpu_tier::portable}) {
    if (t > fp8::best_tier(fp8::cpu())) continue;
    const fp8::tier_scope scope(t);
    const std::string name = gemm_kernel_now();
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    seen.push_back(name);
    f(name.c_str());
  }
}

}  // namespace test_tiers
