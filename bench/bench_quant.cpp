// SPDX-License-Identifier: Apache-2.0
// Throughput of the quantization layer (quant/*.hpp): amax, per-channel
// encode and decode (per row and per column, power-of-two and arbitrary
// scales), MXFP8 encode and decode, stochastic encode and fake_quantize, at
// an L1-resident size (4 Ki elements) and a DRAM size (64 Mi elements).
// Yardsticks in the same binary: memcpy of the bytes each operation moves
// (counted once, as bench_bulk counts them), the per-tensor fp8::encode the
// scaled variants are compared with, and each operation's scalar definition
// run as a plain loop. Counters: items/s (elements) and bytes/s (bytes read
// plus bytes written per element; scales are not counted). The *_tier rows
// call each tier compiled into the binary directly (run-time dispatch,
// docs/dispatch.md), at the L1 size: `--benchmark_filter=tier`.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <type_traits>
#include <vector>

#include <fp8/codec/bulk.hpp>
#include <fp8/quant/quant.hpp>

namespace {

constexpr std::int64_t L1 = 4 << 10, DRAM = 64 << 20;

std::vector<float> make_inputs(std::size_t n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.0f, 50.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

template <class F>
std::vector<fp8::fp8<F>> make_codes(std::size_t n) {
  std::vector<fp8::fp8<F>> v(n);
  std::mt19937 rng(2);
  for (auto& c : v) {
    c = fp8::fp8<F>::from_bits(static_cast<std::uint8_t>(rng() & 0xFF));
    if (c.is_nan() || c.is_inf()) c = fp8::fp8<F>::from_bits(0x30);
  }
  return v;
}

void counters(benchmark::State& state, std::size_t n, std::size_t bytes_per_element) {
  const auto items = static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n);
  state.SetItemsProcessed(items);
  state.SetBytesProcessed(items * static_cast<std::int64_t>(bytes_per_element));
}

// rows x cols with rows * cols = n, square-ish (64 x 64, 8192 x 8192).
std::size_t side(std::size_t n) { return static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(n)))); }

// ---------------------------------------------------------------- yardsticks

// memcpy of the bytes an operation moves per element (range(1)), counted once.
void BM_memcpy(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto bytes = static_cast<std::size_t>(state.range(1));
  std::vector<std::uint8_t> src(bytes * n, 1), dst(bytes * n);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, bytes);
}

// Per-tensor fp8::encode with a power-of-two scale: what per-channel and MX
// encodes cost on top of.
template <class F>
void BM_encode_per_tensor(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs(n);
  std::vector<fp8::fp8<F>> dst(n);
  for (auto _ : state) {
    fp8::encode(src.data(), dst.data(), n, 0.25f);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

// The scalar from_float loop (the definition of encode).
template <class F>
void BM_encode_scalar_loop(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs(n);
  std::vector<std::uint8_t> dst(n);
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = fp8::scalar::encode<F>(src[i] / 0.25f);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

// ---------------------------------------------------------------- amax

void BM_amax(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs(n);
  for (auto _ : state) benchmark::DoNotOptimize(fp8::amax(src.data(), n));
  counters(state, n, sizeof(float));
}

void BM_amax_scalar_loop(benchmark::State& state) {  // yardstick: std::fabs and a NaN check per element
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs(n);
  for (auto _ : state) {
    float m = 0.0f;
    for (std::size_t i = 0; i < n; ++i) {
      const float a = std::fabs(src[i]);
      m = (a > m || a != a) ? a : m;
    }
    benchmark::DoNotOptimize(m);
  }
  counters(state, n, sizeof(float));
}

void BM_amax_bf16(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto f = make_inputs(n);
  std::vector<fp8::bfloat16> src(n);
  for (std::size_t i = 0; i < n; ++i) src[i] = fp8::bfloat16(f[i]);
  for (auto _ : state) benchmark::DoNotOptimize(fp8::amax(src.data(), n));
  counters(state, n, sizeof(fp8::bfloat16));
}

// Each tier compiled into this binary, called directly (run-time dispatch:
// docs/dispatch.md); a tier the CPU lacks reports an error instead of a time.
template <class Tag>
void BM_amax_tier(benchmark::State& state) {
  const auto need = std::is_same<Tag, fp8::isa::avx512>::value ? fp8::cpu_tier::avx512
                    : std::is_same<Tag, fp8::isa::avx2>::value ? fp8::cpu_tier::avx2
                    : std::is_same<Tag, fp8::isa::sse2>::value ? fp8::cpu_tier::sse2
                                                                : fp8::cpu_tier::portable;
  if (fp8::best_tier(fp8::cpu()) < need) {
    state.SkipWithError("this CPU does not run the tier");
    return;
  }
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs(n);
  for (auto _ : state) benchmark::DoNotOptimize(fp8::detail::amax_bits(src.data(), n, Tag{}));
  counters(state, n, sizeof(float));
}

// ---------------------------------------------------------------- per channel
// range(1): 0 = per row, 1 = per column; range(2): 0 = power-of-two scales,
// 1 = arbitrary scales (the division path for columns).

std::vector<float> channel_scales(std::size_t count, bool arbitrary) {
  std::vector<float> s(count);
  for (std::size_t i = 0; i < count; ++i)
    s[i] = arbitrary ? 0.3f + 0.01f * static_cast<float>(i % 97) : std::ldexp(1.0f, static_cast<int>(i % 7) - 3);
  return s;
}

template <class F>
void BM_encode_per_channel(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto ax = state.range(1) == 0 ? fp8::axis::rows : fp8::axis::columns;
  const std::size_t rows = side(n), cols = n / rows;
  const auto src = make_inputs(rows * cols);
  const auto scale = channel_scales(ax == fp8::axis::rows ? rows : cols, state.range(2) != 0);
  std::vector<fp8::fp8<F>> dst(rows * cols);
  for (auto _ : state) {
    fp8::encode_per_channel(src.data(), dst.data(), rows, cols, scale.data(), ax);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, rows * cols, sizeof(float) + 1);
}

template <class F>
void BM_decode_per_channel(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto ax = state.range(1) == 0 ? fp8::axis::rows : fp8::axis::columns;
  const std::size_t rows = side(n), cols = n / rows;
  const auto src = make_codes<F>(rows * cols);
  const auto scale = channel_scales(ax == fp8::axis::rows ? rows : cols, state.range(2) != 0);
  std::vector<float> dst(rows * cols);
  for (auto _ : state) {
    fp8::decode_per_channel(src.data(), dst.data(), rows, cols, scale.data(), ax);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, rows * cols, sizeof(float) + 1);
}

// ---------------------------------------------------------------- MX

template <class F>
void BM_mx_encode(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs(n);
  std::vector<fp8::fp8<F>> dst(n);
  std::vector<fp8::E8M0> scales(fp8::mx_scale_count(n));
  for (auto _ : state) {
    fp8::mx_encode(src.data(), dst.data(), n, scales.data());
    benchmark::DoNotOptimize(dst.data());
    benchmark::DoNotOptimize(scales.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

template <class F>
void BM_mx_encode_scalar_loop(benchmark::State& state) {  // yardstick: the definition, block by block
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs(n);
  std::vector<std::uint8_t> dst(n);
  std::vector<fp8::E8M0> scales(fp8::mx_scale_count(n));
  for (auto _ : state) {
    fp8::detail::mx_encode<F>(src.data(), dst.data(), n, scales.data(), fp8::isa::portable{});
    benchmark::DoNotOptimize(dst.data());
    benchmark::DoNotOptimize(scales.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

template <class F>
void BM_mx_decode(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_codes<F>(n);
  std::vector<fp8::E8M0> scales(fp8::mx_scale_count(n));
  for (std::size_t b = 0; b < scales.size(); ++b) scales[b] = fp8::E8M0::from_exponent(static_cast<int>(b % 9) - 4);
  std::vector<float> dst(n);
  for (auto _ : state) {
    fp8::mx_decode(src.data(), dst.data(), n, scales.data());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

// ---------------------------------------------------------------- stochastic

template <class F>
void BM_encode_stochastic(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs(n);
  std::vector<fp8::fp8<F>> dst(n);
  std::uint64_t seed = 1;
  for (auto _ : state) {
    fp8::encode_stochastic(src.data(), dst.data(), n, seed++, 0.25f);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

template <class F>
void BM_encode_stochastic_scalar_loop(benchmark::State& state) {  // yardstick: the definition
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs(n);
  std::vector<std::uint8_t> dst(n);
  std::uint64_t seed = 1;
  for (auto _ : state) {
    const std::uint64_t s = seed++;
    for (std::size_t i = 0; i < n; ++i)
      dst[i] = fp8::scalar::encode_stochastic<F>(src[i] / 0.25f, fp8::scalar::stochastic_bits(s, i));
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

// ---------------------------------------------------------------- fake_quantize

template <class F>
void BM_fake_quantize(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const float scale = state.range(1) == 0 ? 1.0f : 0.3f;
  const auto src = make_inputs(n);
  std::vector<float> dst(n);
  for (auto _ : state) {
    fp8::fake_quantize<F>(src.data(), dst.data(), n, scale);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, 2 * sizeof(float));
}

template <class F>
void BM_fake_quantize_two_step(benchmark::State& state) {  // yardstick: fp8::encode then fp8::decode
  const auto n = static_cast<std::size_t>(state.range(0));
  const float scale = state.range(1) == 0 ? 1.0f : 0.3f;
  const auto src = make_inputs(n);
  std::vector<fp8::fp8<F>> mid(n);
  std::vector<float> dst(n);
  for (auto _ : state) {
    fp8::encode(src.data(), mid.data(), n, scale);
    fp8::decode(mid.data(), dst.data(), n, scale);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, 2 * sizeof(float));
}

template <class F>
void BM_fake_quantize_scalar_loop(benchmark::State& state) {  // yardstick: the definition
  const auto n = static_cast<std::size_t>(state.range(0));
  const float scale = state.range(1) == 0 ? 1.0f : 0.3f;
  const auto src = make_inputs(n);
  std::vector<float> dst(n);
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i)
      dst[i] = fp8::scalar::decode<F>(fp8::scalar::encode<F>(src[i] / scale)) * scale;
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, 2 * sizeof(float));
}

// ---------------------------------------------------------------- every tier
// Each tier's kernel called directly, as the entry would after choosing it;
// a tier the CPU lacks reports an error instead of a time.

template <class Tag>
bool cpu_runs(benchmark::State& state) {
  const auto need = std::is_same<Tag, fp8::isa::avx512bf16>::value ? fp8::cpu_tier::avx512bf16
                    : std::is_same<Tag, fp8::isa::avx512>::value   ? fp8::cpu_tier::avx512
                    : std::is_same<Tag, fp8::isa::avx2>::value     ? fp8::cpu_tier::avx2
                    : std::is_same<Tag, fp8::isa::sse2>::value     ? fp8::cpu_tier::sse2
                                                                   : fp8::cpu_tier::portable;
  if (fp8::best_tier(fp8::cpu()) >= need) return true;
  state.SkipWithError("this CPU does not run the tier");
  return false;
}

// One scale per column (range(1): 0 powers of two, 1 arbitrary).
template <class F, class Tag>
void BM_encode_per_channel_tier(benchmark::State& state) {
  if (!cpu_runs<Tag>(state)) return;
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::size_t rows = side(n), cols = n / rows;
  const auto src = make_inputs(rows * cols);
  const auto scale = channel_scales(cols, state.range(1) != 0);
  std::vector<std::uint8_t> dst(rows * cols);
  for (auto _ : state) {
    fp8::detail::encode_columns<F>(src.data(), cols, dst.data(), cols, rows, cols, scale.data(),
                                   fp8::overflow::saturate, Tag{});
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, rows * cols, sizeof(float) + 1);
}

template <class F, class Tag>
void BM_mx_encode_tier(benchmark::State& state) {
  if (!cpu_runs<Tag>(state)) return;
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs(n);
  std::vector<std::uint8_t> dst(n);
  std::vector<fp8::E8M0> scales(fp8::mx_scale_count(n));
  for (auto _ : state) {
    fp8::detail::mx_encode<F>(src.data(), dst.data(), n, scales.data(), Tag{});
    benchmark::DoNotOptimize(dst.data());
    benchmark::DoNotOptimize(scales.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

template <class F, class Tag>
void BM_encode_stochastic_tier(benchmark::State& state) {
  if (!cpu_runs<Tag>(state)) return;
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs(n);
  std::vector<std::uint8_t> dst(n);
  std::uint64_t seed = 1;
  for (auto _ : state) {
    fp8::detail::encode_stochastic<F>(src.data(), dst.data(), n, seed++, 0.25f, fp8::overflow::saturate, 0, Tag{});
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

template <class F, class Tag>
void BM_fake_quantize_tier(benchmark::State& state) {
  if (!cpu_runs<Tag>(state)) return;
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs(n);
  std::vector<float> dst(n);
  for (auto _ : state) {
    fp8::detail::fake_quantize<F>(src.data(), dst.data(), n, 0.25f, fp8::overflow::saturate, Tag{});
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, 2 * sizeof(float));
}

}  // namespace

using fp8::E4M3;
using fp8::E5M2;

BENCHMARK(BM_memcpy)->Args({L1, 4})->Args({L1, 5})->Args({L1, 8})->Args({DRAM, 4})->Args({DRAM, 5})->Args({DRAM, 8});
BENCHMARK_TEMPLATE(BM_encode_per_tensor, E4M3)->Arg(L1)->Arg(DRAM);
BENCHMARK_TEMPLATE(BM_encode_scalar_loop, E4M3)->Arg(L1);

BENCHMARK(BM_amax)->Arg(L1)->Arg(DRAM);
BENCHMARK(BM_amax_bf16)->Arg(L1)->Arg(DRAM);
BENCHMARK(BM_amax_scalar_loop)->Arg(L1);
BENCHMARK_TEMPLATE(BM_amax_tier, fp8::isa::portable)->Arg(L1);
#if FP8_ISA_SSE2
BENCHMARK_TEMPLATE(BM_amax_tier, fp8::isa::sse2)->Arg(L1);
#endif
#if FP8_TIER_AVX2
BENCHMARK_TEMPLATE(BM_amax_tier, fp8::isa::avx2)->Arg(L1);
#endif
#if FP8_TIER_AVX512
BENCHMARK_TEMPLATE(BM_amax_tier, fp8::isa::avx512)->Arg(L1);
#endif

// {n, axis (0 rows, 1 columns), scales (0 powers of two, 1 arbitrary)}
BENCHMARK_TEMPLATE(BM_encode_per_channel, E4M3)
    ->Args({L1, 0, 0})->Args({L1, 1, 0})->Args({L1, 1, 1})
    ->Args({DRAM, 0, 0})->Args({DRAM, 1, 0})->Args({DRAM, 1, 1});
BENCHMARK_TEMPLATE(BM_decode_per_channel, E4M3)
    ->Args({L1, 0, 1})->Args({L1, 1, 1})->Args({DRAM, 0, 1})->Args({DRAM, 1, 1});

BENCHMARK_TEMPLATE(BM_mx_encode, E4M3)->Arg(L1)->Arg(DRAM);
BENCHMARK_TEMPLATE(BM_mx_encode, E5M2)->Arg(L1)->Arg(DRAM);
BENCHMARK_TEMPLATE(BM_mx_encode_scalar_loop, E4M3)->Arg(L1);
BENCHMARK_TEMPLATE(BM_mx_decode, E4M3)->Arg(L1)->Arg(DRAM);

BENCHMARK_TEMPLATE(BM_encode_stochastic, E4M3)->Arg(L1)->Arg(DRAM);
BENCHMARK_TEMPLATE(BM_encode_stochastic, E5M2)->Arg(L1);
BENCHMARK_TEMPLATE(BM_encode_stochastic_scalar_loop, E4M3)->Arg(L1);

// {n, scale (0: 1, 1: 0.3, the division path)}
BENCHMARK_TEMPLATE(BM_fake_quantize, E4M3)->Args({L1, 0})->Args({L1, 1})->Args({DRAM, 0})->Args({DRAM, 1});
BENCHMARK_TEMPLATE(BM_fake_quantize, E5M2)->Args({L1, 0});
BENCHMARK_TEMPLATE(BM_fake_quantize_two_step, E4M3)->Args({L1, 0})->Args({DRAM, 0});
BENCHMARK_TEMPLATE(BM_fake_quantize_scalar_loop, E4M3)->Args({L1, 0});

// Every tier of the streaming encoder's users (the entries above run the
// best one); tiers the binary lacks are not registered.
#define FP8_BENCH_QUANT_TIER(tag)                                                            \
  BENCHMARK_TEMPLATE(BM_encode_per_channel_tier, E4M3, tag)->Args({L1, 0})->Args({L1, 1}); \
  BENCHMARK_TEMPLATE(BM_mx_encode_tier, E4M3, tag)->Arg(L1);                               \
  BENCHMARK_TEMPLATE(BM_encode_stochastic_tier, E4M3, tag)->Arg(L1);                       \
  BENCHMARK_TEMPLATE(BM_fake_quantize_tier, E4M3, tag)->Arg(L1)
FP8_BENCH_QUANT_TIER(fp8::isa::portable);
#if FP8_ISA_SSE2
FP8_BENCH_QUANT_TIER(fp8::isa::sse2);
#endif
#if FP8_TIER_AVX2
FP8_BENCH_QUANT_TIER(fp8::isa::avx2);
#endif
#if FP8_TIER_AVX512
FP8_BENCH_QUANT_TIER(fp8::isa::avx512);
#endif
