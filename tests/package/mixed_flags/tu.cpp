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
  r.codes.resize(n);
  fp8::encode<fp8::E4M3>(x, reinterpret_cast<fp8::e4m3_t*>(r.codes.data()), n);

  std::vector<fp8::e4m3_t> a(gemm_m * gemm_k), b(gemm_k * gemm_n);
  for (std::size_t i = 0; i < gemm_m; ++i)
    for (std::size_t t = 0; t < gemm_k; ++t) a[i * gemm_k + t] = fp8::e4m3_t(gemm_a(i, t));
  for (std::size_t t = 0; t < gemm_k; ++t)
    for (std::size_t j = 0; j < gemm_n; ++j) b[t * gemm_n + j] = fp8::e4m3_t(gemm_b(t, j));
  r.c.assign(gemm_m * gemm_n, -1.0f);
  r.c_packed.assign(gemm_m * gemm_n, -1.0f);
  void (*gemm)(fp8::transpose, fp8::transpose, std::size_t, std::size_t, std::size_t, float, const fp8::e4m3_t*,
               std::size_t, const fp8::e4m3_t*, std::size_t, float, float*, std::size_t, const fp8::gemm_options&) =
      &fp8::gemm<fp8::E4M3, fp8::E4M3>;
  r.gemm_entry = reinterpret_cast<const void*>(gemm);
  gemm(fp8::transpose::no, fp8::transpose::no, gemm_m, gemm_n, gemm_k, 1.0f, a.data(), gemm_k, b.data(), gemm_n, 0.0f,
       r.c.data(), gemm_n, fp8::gemm_options{});
  const fp8::packed_b<fp8::E4M3> pb(fp8::transpose::no, gemm_k, gemm_n, b.data(), gemm_n);
  fp8::gemm(fp8::transpose::no, gemm_m, 1.0f, a.data(), gemm_k, pb, 0.0f, r.c_packed.data(), gemm_n);
  return r;
}
