// SPDX-License-Identifier: Apache-2.0
// Throughput of the loss metrics and histograms (ptq/metrics.hpp):
// error_stats::add over (reference, candidate) pairs, histogram::add and
// add_magnitudes with 2048 bins, and the one-call kld, at an L1-resident
// size (4 Ki elements) and a DRAM size (16 Mi elements: two 64 MiB arrays).
// Yardsticks in the same binary: a plain float sum over the same arrays (16
// independent partial sums, which the compiler vectorizes: what reading the
// memory costs), and each operation's definition as a plain scalar loop.
// Counters: items/s (elements; a pair counts as one element) and bytes/s
// (bytes read per element: 8 for a pair, 4 for one array). The _tier rows
// run the same entries under fp8::tier_scope (second argument: the
// fp8::cpu_tier, 0 portable, 1 sse2, 2 avx2, 3 avx512), so one binary
// shows what each tier's loops cost; tiers the CPU lacks are skipped.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <fp8/detail/cpu.hpp>
#include <fp8/ptq/metrics.hpp>

namespace {

constexpr std::int64_t L1 = 4 << 10, DRAM = 16 << 20;

// A reference tensor (normal, sigma 50) and a candidate: the reference
// rounded to a grid of 1/8, the shape of a quantization error.
struct pair_data {
  std::vector<float> r, x;
  explicit pair_data(std::size_t n) : r(n), x(n) {
    std::mt19937 rng(1);
    std::normal_distribution<float> d(0.0f, 50.0f);
    for (std::size_t i = 0; i < n; ++i) {
      r[i] = d(rng);
      x[i] = std::round(r[i] * 8.0f) / 8.0f;
    }
  }
};

void counters(benchmark::State& state, std::size_t n, std::size_t bytes_per_element) {
  const auto items = static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n);
  state.SetItemsProcessed(items);
  state.SetBytesProcessed(items * static_cast<std::int64_t>(bytes_per_element));
}

// ---------------------------------------------------------------- yardsticks

// Sum of n floats from each of `arrays` arrays (both read in the same loop,
// as error_stats::add reads them) into 64 partial sums per array:
// independent sums need no reassociation, so the compiler vectorizes them
// (4 AVX-512 or 8 AVX2 accumulators per array, enough to hide the add
// latency), and the loop runs at the speed the data can be read.
void BM_float_sum(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto arrays = static_cast<std::size_t>(state.range(1));
  const pair_data d(n);
  constexpr std::size_t P = 64;
  for (auto _ : state) {
    float acc[P] = {}, bcc[P] = {};
    const float* r = d.r.data();
    const float* x = d.x.data();
    if (arrays == 2) {
      for (std::size_t i = 0; i + P <= n; i += P)
        for (std::size_t j = 0; j < P; ++j) {
          acc[j] += r[i + j];
          bcc[j] += x[i + j];
        }
    } else {
      for (std::size_t i = 0; i + P <= n; i += P)
        for (std::size_t j = 0; j < P; ++j) acc[j] += r[i + j];
    }
    float total = 0.0f;  // the arrays' addresses must not escape, or they live in memory
    for (std::size_t j = 0; j < P; ++j) total += acc[j] + bcc[j];
    benchmark::DoNotOptimize(total);
  }
  counters(state, n, 4 * arrays);
}

// The error_stats definition as the plain double loop a user would write.
void BM_error_stats_scalar_loop(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const pair_data d(n);
  for (auto _ : state) {
    double rr = 0, xx = 0, rx = 0, ee = 0, ae = 0, m = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double r = d.r[i], x = d.x[i], e = x - r;
      rr += r * r;
      xx += x * x;
      rx += r * x;
      ee += e * e;
      ae += std::fabs(e);
      m = std::fabs(e) > m ? std::fabs(e) : m;
    }
    benchmark::DoNotOptimize(rr + xx + rx + ee + ae + m);
  }
  counters(state, n, 8);
}

// Binning one value at a time by the rule (histogram::bin_of).
void BM_histogram_scalar_loop(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const pair_data d(n);
  fp8::histogram h(fp8::kld_default_bins, -250.0f, 250.0f);
  std::vector<std::uint64_t> c(h.bins() + 3);
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) ++c[h.bin_of(d.r[i])];
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, 4);
}

// ---------------------------------------------------------------- the library

void BM_error_stats_add(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const pair_data d(n);
  for (auto _ : state) {
    fp8::error_stats s;
    s.add(d.r.data(), d.x.data(), n);
    // The whole accumulator: reading one sum let the compiler drop the
    // others' arithmetic wherever it inlined add() (the loop before run-time
    // dispatch), which timed a third of the work.
    benchmark::DoNotOptimize(s);
  }
  counters(state, n, 8);
}

void BM_histogram_add(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const pair_data d(n);
  fp8::histogram h(fp8::kld_default_bins, -250.0f, 250.0f);  // +-5 sigma
  for (auto _ : state) {
    h.add(d.r.data(), n);
    benchmark::DoNotOptimize(h.counts());
    benchmark::ClobberMemory();
  }
  counters(state, n, 4);
}

void BM_histogram_add_magnitudes(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const pair_data d(n);
  fp8::histogram h(fp8::kld_default_bins, 0.0f, 250.0f);
  for (auto _ : state) {
    h.add_magnitudes(d.r.data(), n);
    benchmark::DoNotOptimize(h.counts());
    benchmark::ClobberMemory();
  }
  counters(state, n, 4);
}

// metric_value(kld): the NaN/range scan, two histograms, KL over 2048 bins.
void BM_kld(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const pair_data d(n);
  for (auto _ : state) benchmark::DoNotOptimize(fp8::metric_value(fp8::metric::kld, d.r.data(), d.x.data(), n));
  counters(state, n, 8);
}

// ---------------------------------------------------------------- per tier

// The tier of argument 1 as a cap for the calls of this thread; false (and
// the row skipped) when the CPU lacks it.
bool cap_tier(benchmark::State& state) {
  const auto t = static_cast<fp8::cpu_tier>(state.range(1));
  if (t > fp8::best_tier(fp8::cpu())) {
    state.SkipWithError("the CPU lacks this tier");
    return false;
  }
  return true;
}

void BM_error_stats_add_tier(benchmark::State& state) {
  if (!cap_tier(state)) return;
  const fp8::tier_scope scope(static_cast<fp8::cpu_tier>(state.range(1)));
  BM_error_stats_add(state);
}
void BM_histogram_add_tier(benchmark::State& state) {
  if (!cap_tier(state)) return;
  const fp8::tier_scope scope(static_cast<fp8::cpu_tier>(state.range(1)));
  BM_histogram_add(state);
}
void BM_kld_tier(benchmark::State& state) {
  if (!cap_tier(state)) return;
  const fp8::tier_scope scope(static_cast<fp8::cpu_tier>(state.range(1)));
  BM_kld(state);
}

}  // namespace

BENCHMARK(BM_float_sum)->Args({L1, 2})->Args({DRAM, 2})->Args({L1, 1})->Args({DRAM, 1});
BENCHMARK(BM_error_stats_add)->Arg(L1)->Arg(DRAM);
BENCHMARK(BM_error_stats_scalar_loop)->Arg(L1)->Arg(DRAM);
BENCHMARK(BM_histogram_add)->Arg(L1)->Arg(DRAM);
BENCHMARK(BM_histogram_add_magnitudes)->Arg(L1)->Arg(DRAM);
BENCHMARK(BM_histogram_scalar_loop)->Arg(L1)->Arg(DRAM);
BENCHMARK(BM_kld)->Arg(L1)->Arg(DRAM);
BENCHMARK(BM_error_stats_add_tier)->ArgsProduct({{L1, DRAM}, {0, 1, 2, 3}});
BENCHMARK(BM_histogram_add_tier)->ArgsProduct({{L1, DRAM}, {0, 1, 2, 3}});
BENCHMARK(BM_kld_tier)->ArgsProduct({{L1, DRAM}, {0, 1, 2, 3}});
