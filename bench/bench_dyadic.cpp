// SPDX-License-Identifier: Apache-2.0
// int32 -> int8 requantization (dyadic/requantize.hpp), L1-resident: 4096
// accumulators (16 KiB in, 4 KiB out), per tensor and per channel (64 rows x
// 64 channels), for each rounding, beside yardsticks in the same binary: the
// scalar loop an engine writes (TFLite's reference epilogue: multiply by the
// quantized multiplier, add the zero point, clamp; here through
// fp8::requantize_element, i.e. fp8::requantize per element) and memcpy of the
// output bytes; and each tier's kernel called directly (requant_tier_*: the
// entries run the best tier the CPU has whatever the build's flags, so these
// rows compare the tiers in one binary). Counters: items/s = accumulators per
// second.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include <fp8/dyadic/requantize.hpp>

namespace {

constexpr std::size_t kRows = 64, kChannels = 64, kN = kRows * kChannels;

std::vector<std::int32_t> accumulators() {
  std::mt19937 rng(1);
  std::normal_distribution<double> d(0.0, 20000.0);  // a typical int8 GEMM accumulator spread
  std::vector<std::int32_t> v(kN);
  for (auto& x : v) x = static_cast<std::int32_t>(d(rng));
  return v;
}

std::vector<fp8::dyadic> channel_dyadics() {
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> scale(0.0005, 0.01);  // spans several shifts
  std::vector<fp8::dyadic> v(kChannels);
  for (auto& d : v) d = fp8::to_dyadic(scale(rng));
  return v;
}

fp8::requantize_params params(fp8::dyadic_rounding r) {
  fp8::requantize_params p;
  p.rounding = r;
  p.zero_point = -3;
  return p;
}

void set_counters(benchmark::State& state) {
  const auto items = static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(kN);
  state.SetItemsProcessed(items);
  state.SetBytesProcessed(items * static_cast<std::int64_t>(sizeof(std::int32_t) + 1));
}

template <fp8::dyadic_rounding R>
void BM_requant_per_tensor(benchmark::State& state) {
  const auto acc = accumulators();
  std::vector<std::int8_t> out(kN);
  const fp8::dyadic d = fp8::to_dyadic(0.00371);
  const auto p = params(R);
  for (auto _ : state) {
    fp8::requantize<std::int8_t>(acc.data(), out.data(), kN, d, p);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

template <fp8::dyadic_rounding R>
void BM_requant_per_channel(benchmark::State& state) {
  const auto acc = accumulators();
  const auto d = channel_dyadics();
  std::vector<std::int8_t> out(kN);
  const auto p = params(R);
  for (auto _ : state) {
    fp8::requantize_per_channel<std::int8_t>(acc.data(), out.data(), kRows, kChannels, d.data(), nullptr, p);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

// One row of 4096 channels (a GEMV / LLM decode step): the per-channel
// constants are built once per vector of channels and used once.
template <fp8::dyadic_rounding R>
void BM_requant_per_channel_one_row(benchmark::State& state) {
  const auto acc = accumulators();
  std::vector<fp8::dyadic> d(kN);
  const auto base = channel_dyadics();
  for (std::size_t c = 0; c < kN; ++c) d[c] = base[c % kChannels];
  std::vector<std::int8_t> out(kN);
  const auto p = params(R);
  for (auto _ : state) {
    fp8::requantize_per_channel<std::int8_t>(acc.data(), out.data(), 1, kN, d.data(), nullptr, p);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

// A scale >= 1/2 (shift >= 0): the left-shift side of every rounding.
template <fp8::dyadic_rounding R>
void BM_requant_per_tensor_large_scale(benchmark::State& state) {
  const auto acc = accumulators();
  std::vector<std::int8_t> out(kN);
  const fp8::dyadic d = fp8::to_dyadic(0.75);
  const auto p = params(R);
  for (auto _ : state) {
    fp8::requantize<std::int8_t>(acc.data(), out.data(), kN, d, p);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

// Per channel with a fused bias and ReLU (the full conv epilogue).
template <fp8::dyadic_rounding R>
void BM_requant_per_channel_bias_relu(benchmark::State& state) {
  const auto acc = accumulators();
  const auto d = channel_dyadics();
  std::vector<std::int32_t> bias(kChannels);
  for (std::size_t c = 0; c < kChannels; ++c) bias[c] = static_cast<std::int32_t>(c * 37) - 1000;
  std::vector<std::int8_t> out(kN);
  auto p = params(R);
  p.relu = true;
  for (auto _ : state) {
    fp8::requantize_per_channel<std::int8_t>(acc.data(), out.data(), kRows, kChannels, d.data(), bias.data(), p);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

template <class Out>
void BM_requant_per_tensor_out(benchmark::State& state) {
  const auto acc = accumulators();
  std::vector<fp8::quantized_storage_t<Out>> out(fp8::quantized_bytes<Out>(kN));
  const fp8::dyadic d = fp8::to_dyadic(0.00371);
  fp8::requantize_params p;
  for (auto _ : state) {
    fp8::requantize<Out>(acc.data(), out.data(), kN, d, p);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

// Yardstick: the element-wise scalar loop (the definition), per tensor.
template <fp8::dyadic_rounding R>
void BM_scalar_loop_per_tensor(benchmark::State& state) {
  const auto acc = accumulators();
  std::vector<std::int8_t> out(kN);
  const fp8::dyadic d = fp8::to_dyadic(0.00371);
  const auto p = params(R);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kN; ++i)
      out[i] = static_cast<std::int8_t>(fp8::requantize_element<std::int8_t>(acc[i], 0, d, p));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

template <fp8::dyadic_rounding R>
void BM_scalar_loop_per_channel(benchmark::State& state) {
  const auto acc = accumulators();
  const auto d = channel_dyadics();
  std::vector<std::int8_t> out(kN);
  const auto p = params(R);
  for (auto _ : state) {
    for (std::size_t r = 0; r < kRows; ++r)
      for (std::size_t c = 0; c < kChannels; ++c)
        out[r * kChannels + c] =
            static_cast<std::int8_t>(fp8::requantize_element<std::int8_t>(acc[r * kChannels + c], 0, d[c], p));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

// Yardstick: copying the 4 KiB of output bytes (a floor for any epilogue that writes them).
void BM_memcpy_output(benchmark::State& state) {
  std::vector<std::int8_t> src(kN, 1), dst(kN);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), kN);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

// A tier's kernel, called directly (a tier the CPU lacks reports an error
// instead of a time): 4096 accumulators per tensor as one row, or
// 64 x 64 per channel, double_rounding.
constexpr fp8::cpu_tier tier_of(fp8::isa::portable) { return fp8::cpu_tier::portable; }
constexpr fp8::cpu_tier tier_of(fp8::isa::sse2) { return fp8::cpu_tier::sse2; }
constexpr fp8::cpu_tier tier_of(fp8::isa::avx2) { return fp8::cpu_tier::avx2; }
constexpr fp8::cpu_tier tier_of(fp8::isa::avx512) { return fp8::cpu_tier::avx512; }

template <class Tag, bool PerChannel>
void BM_requant_tier(benchmark::State& state) {
  if (fp8::best_tier(fp8::cpu()) < tier_of(Tag{})) {
    state.SkipWithError("this CPU does not run the tier");
    return;
  }
  const auto acc = accumulators();
  const auto d = channel_dyadics();
  std::vector<std::uint8_t> out(kN);
  const auto r = fp8::dyadic_rounding::double_rounding;
  const auto p = params(r);
  const fp8::detail::requant_plan plan{r, p.zero_point, fp8::requantize_lowest<std::int8_t>(p),
                                       fp8::requantize_highest<std::int8_t>(p)};
  const fp8::detail::requant_lanes lanes{
      fp8::to_dyadic(0.00371), PerChannel ? d.data() : nullptr, nullptr, PerChannel ? kChannels : 1, 0, r};
  for (auto _ : state) {
    if (PerChannel)
      fp8::kernel::requantize_tile(acc.data(), kChannels, out.data(), kChannels, kRows, kChannels, lanes, plan, Tag{});
    else
      fp8::kernel::requantize_tile(acc.data(), 0, out.data(), 0, 1, kN, lanes, plan, Tag{});
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

constexpr auto kDouble = fp8::dyadic_rounding::double_rounding;
constexpr auto kSingle = fp8::dyadic_rounding::single_rounding;
constexpr auto kHalfEven = fp8::dyadic_rounding::half_even;

}  // namespace

BENCHMARK(BM_requant_per_tensor<kDouble>)->Name("requant_per_tensor/double_rounding");
BENCHMARK(BM_requant_per_tensor<kSingle>)->Name("requant_per_tensor/single_rounding");
BENCHMARK(BM_requant_per_tensor<kHalfEven>)->Name("requant_per_tensor/half_even");
BENCHMARK(BM_requant_per_channel<kDouble>)->Name("requant_per_channel/double_rounding");
BENCHMARK(BM_requant_per_channel<kSingle>)->Name("requant_per_channel/single_rounding");
BENCHMARK(BM_requant_per_channel<kHalfEven>)->Name("requant_per_channel/half_even");
BENCHMARK(BM_requant_per_channel_bias_relu<kDouble>)->Name("requant_per_channel_bias_relu/double_rounding");
BENCHMARK(BM_requant_per_channel_one_row<kDouble>)->Name("requant_per_channel_1x4096/double_rounding");
BENCHMARK(BM_requant_per_tensor_large_scale<kDouble>)->Name("requant_per_tensor_scale0.75/double_rounding");
BENCHMARK(BM_requant_per_tensor_out<std::uint8_t>)->Name("requant_per_tensor_uint8/double_rounding");
BENCHMARK(BM_requant_per_tensor_out<fp8::int4>)->Name("requant_per_tensor_int4/double_rounding");
BENCHMARK(BM_scalar_loop_per_tensor<kDouble>)->Name("scalar_loop_per_tensor/double_rounding");
BENCHMARK(BM_scalar_loop_per_tensor<kSingle>)->Name("scalar_loop_per_tensor/single_rounding");
BENCHMARK(BM_scalar_loop_per_tensor<kHalfEven>)->Name("scalar_loop_per_tensor/half_even");
BENCHMARK(BM_scalar_loop_per_channel<kDouble>)->Name("scalar_loop_per_channel/double_rounding");
BENCHMARK(BM_memcpy_output)->Name("memcpy_output_bytes");
BENCHMARK_TEMPLATE(BM_requant_tier, fp8::isa::portable, false)->Name("requant_tier_per_tensor/portable");
BENCHMARK_TEMPLATE(BM_requant_tier, fp8::isa::portable, true)->Name("requant_tier_per_channel/portable");
#if FP8_ISA_SSE2
BENCHMARK_TEMPLATE(BM_requant_tier, fp8::isa::sse2, false)->Name("requant_tier_per_tensor/sse2");
BENCHMARK_TEMPLATE(BM_requant_tier, fp8::isa::sse2, true)->Name("requant_tier_per_channel/sse2");
#endif
#if FP8_TIER_AVX2
BENCHMARK_TEMPLATE(BM_requant_tier, fp8::isa::avx2, false)->Name("requant_tier_per_tensor/avx2");
BENCHMARK_TEMPLATE(BM_requant_tier, fp8::isa::avx2, true)->Name("requant_tier_per_channel/avx2");
#endif
#if FP8_TIER_AVX512
BENCHMARK_TEMPLATE(BM_requant_tier, fp8::isa::avx512, false)->Name("requant_tier_per_tensor/avx512");
BENCHMARK_TEMPLATE(BM_requant_tier, fp8::isa::avx512, true)->Name("requant_tier_per_channel/avx512");
#endif
