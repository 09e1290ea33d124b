// SPDX-License-Identifier: Apache-2.0
// The profile binaries' split of a benchmark's time (bench_gemm_profile and
// bench_conv_profile: bench_gemm.cpp and bench_conv.cpp built with
// FP8_PROFILE=1, kernels/profile.hpp). Around the timed loop,
//
//   profile_split split;   // before: resets the counters, starts a clock
//   for (auto _ : state) { ... }
//   split.report(state, flop_per_call, threads);
//
// adds counters, each a percentage of the loop's thread time (wall time x
// threads): decode%, pack_a%, pack_b%, kernel% (micro-kernel calls, their
// fused epilogue included), output%, and rest% (what they leave: waking and
// joining threads, idle threads, allocation, checks); and peak%, the
// achieved rate per thread as a fraction of the vdpbf16ps register peak
// (bf16dot_peak_gflops, measured once per process by the same loop as
// bench_gemm's peak_bf16dot) when the binary is built for AVX512-BF16, and
// kernel_peak%, the same for the time in the kernel phase alone (peak% /
// kernel%: how fast the micro-kernel loops run while they run).
// In the normal binaries the class does nothing and adds no counter.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>

#include <fp8/fp8.hpp>

#if FP8_ISA_AVX512BF16
#include <immintrin.h>
#endif

namespace fp8_bench {

#if FP8_ISA_AVX512BF16
// The core's clock in GHz: one chain of 32 dependent integer adds per step,
// `inner` steps. An add waits one cycle for the previous one on every
// x86-64 core, so the chain's rate is the clock the thread runs at, whatever
// the host reports. With it, peak_bf16dot's rate becomes vdpbf16ps issued per
// cycle: 2 on a full-rate host, 1 on a half-rate one, whatever the clock
// (a 512-bit vdpbf16ps is 64 flops).
__attribute__((noinline)) inline double core_ghz_run(long inner) {
  unsigned long x = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < inner; ++i) __asm__ volatile(".rept 32\n\tadd $1, %0\n\t.endr" : "+r"(x));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  benchmark::DoNotOptimize(x);
  return 32.0 * static_cast<double>(inner) * 1e-9 / s;
}

// GFLOP/s of 24 independent vdpbf16ps chains in registers, `inner` steps.
// Out of line, so that every caller runs the same code (inlined into a
// caller with other live values GCC kept the chains in memory: a third of
// the rate).
__attribute__((noinline)) inline double bf16dot_run(long inner) {
  __m512 acc[24];
  for (auto& x : acc) x = _mm512_setzero_ps();
  __m512bh a = (__m512bh)_mm512_set1_epi32(0x3f803f80);
  const __m512bh b = (__m512bh)_mm512_set1_epi32(0x3f803f80);
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < inner; ++i) {
#pragma GCC unroll 24
    for (int j = 0; j < 24; ++j) acc[j] = _mm512_dpbf16_ps(acc[j], a, b);
    __asm__ volatile("" : "+v"(a));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  float sum = 0;
  for (auto& x : acc) sum += _mm512_reduce_add_ps(x);
  benchmark::DoNotOptimize(sum);
  return 24.0 * 64 * static_cast<double>(inner) * 1e-9 / s;
}
// The register peak of one core, best of five runs of about 20 ms.
inline double bf16dot_peak_gflops() {
  static const double peak = [] {
    double best = 0;
    for (int r = 0; r < 5; ++r) {
      const double g = bf16dot_run(5000000);
      if (g > best) best = g;
    }
    return best;
  }();
  return peak;
}
#endif

class profile_split {
 public:
#if FP8_PROFILE
  profile_split() noexcept {
    fp8::profile_reset();
    start_ = std::chrono::steady_clock::now();
  }
  void report(benchmark::State& state, double flop_per_call, std::size_t threads) const {
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double total_ns = wall * 1e9 * static_cast<double>(threads);
    const fp8::profile_counters c = fp8::profile_totals();
    static constexpr const char* names[fp8::profile_phases] = {"decode%", "pack_a%", "pack_b%", "kernel%", "output%"};
    double known = 0;
    for (unsigned p = 0; p < fp8::profile_phases; ++p) {
      const double ns = static_cast<double>(c.ns[p]);
      known += ns;
      state.counters[names[p]] = 100.0 * ns / total_ns;
    }
    state.counters["rest%"] = 100.0 * (total_ns - known) / total_ns;
#if FP8_ISA_AVX512BF16
    const double rate = flop_per_call * static_cast<double>(state.iterations()) * 1e-9 / wall;
    const double peak = bf16dot_peak_gflops() * static_cast<double>(threads);
    state.counters["peak%"] = 100.0 * rate / peak;
    // The rate within the kernel phase alone: what the micro-kernel loops
    // reach of the peak while they run.
    const double kernel_ns = static_cast<double>(c[fp8::profile_phase::kernel]);
    if (kernel_ns > 0) state.counters["kernel_peak%"] = 100.0 * rate * (total_ns / kernel_ns) / peak;
#else
    (void)flop_per_call;
#endif
  }

 private:
  std::chrono::steady_clock::time_point start_;
#else
  void report(benchmark::State&, double, std::size_t) const noexcept {}
#endif
};

}  // namespace fp8_bench
