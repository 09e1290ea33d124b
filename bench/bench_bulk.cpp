// SPDX-License-Identifier: Apache-2.0
// Bulk conversion throughput (codec/bulk.hpp) at three working-set sizes, L1
// (4 Ki elements), L2 (256 Ki) and DRAM (64 Mi), beside yardsticks in the
// same binary: memcpy of the float array, the scalar codec loop, and the int8
// quantization loop an engine would otherwise write. bytes_per_second counts
// memory traffic, bytes read plus bytes written, for every benchmark alike.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <type_traits>
#include <vector>

#include <fp8/fp8.hpp>

namespace {

template <class T>
std::vector<T> make_inputs(std::size_t n);
template <>
std::vector<float> make_inputs<float>(std::size_t n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.0f, 50.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}
template <>
std::vector<fp8::bfloat16> make_inputs<fp8::bfloat16>(std::size_t n) {
  const std::vector<float> f = make_inputs<float>(n);
  std::vector<fp8::bfloat16> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = fp8::bfloat16(f[i]);
  return v;
}
template <>
std::vector<fp8::half> make_inputs<fp8::half>(std::size_t n) {
  const std::vector<float> f = make_inputs<float>(n);
  std::vector<fp8::half> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = fp8::half(f[i]);
  return v;
}
template <class F>
std::vector<fp8::fp8<F>> make_codes(std::size_t n) {
  std::vector<fp8::fp8<F>> v(n);
  std::mt19937 rng(2);
  for (auto& c : v) c = fp8::fp8<F>::from_bits(static_cast<std::uint8_t>(rng() & 0xFF));
  return v;
}

void counters(benchmark::State& state, std::size_t n, std::size_t bytes_per_element) {
  const auto items = static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n);
  state.SetItemsProcessed(items);
  state.SetBytesProcessed(items * static_cast<std::int64_t>(bytes_per_element));
}

// The array rows make one call before the clock: on this project's VMs the
// first pass over 64 Mi fresh elements took 20x a later one (150 ms against 7
// for bfloat16 -> E4M3, no page fault counted in the guest), and a row whose
// first iteration passes the minimum time reported that iteration alone.
template <class F, class Src>
void BM_encode(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs<Src>(n);
  std::vector<fp8::fp8<F>> dst(n);
  fp8::encode(src.data(), dst.data(), n);
  for (auto _ : state) {
    fp8::encode(src.data(), dst.data(), n);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(Src) + 1);
}

template <class F>
void BM_encode_scaled(benchmark::State& state) {  // a general (non power of two) scale: one divide per element
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs<float>(n);
  std::vector<fp8::fp8<F>> dst(n);
  fp8::encode(src.data(), dst.data(), n, 0.3f);
  for (auto _ : state) {
    fp8::encode(src.data(), dst.data(), n, 0.3f);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

template <class F, class Dst>
void BM_decode(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_codes<F>(n);
  std::vector<Dst> dst(n);
  fp8::decode(src.data(), dst.data(), n);
  for (auto _ : state) {
    fp8::decode(src.data(), dst.data(), n);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(Dst) + 1);
}

// Each tier compiled into this binary, called directly (run-time dispatch:
// docs/dispatch.md), float -> F at scale 1 and F -> float at scale 1; a tier
// the CPU lacks reports an error instead of a time.
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

template <class F, class Tag>
void BM_encode_tier(benchmark::State& state) {
  if (!cpu_runs<Tag>(state)) return;
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs<float>(n);
  std::vector<std::uint8_t> dst(n);
  for (auto _ : state) {
    fp8::kernel::encode<F>(src.data(), dst.data(), n, 1.0f, fp8::overflow::saturate, Tag{});
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

template <class F, class Tag>
void BM_decode_tier(benchmark::State& state) {
  if (!cpu_runs<Tag>(state)) return;
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_codes<F>(n);
  std::vector<float> dst(n);
  for (auto _ : state) {
    fp8::kernel::decode<F>(reinterpret_cast<const std::uint8_t*>(src.data()), dst.data(), n, 1.0f, Tag{});
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

template <class F>
void BM_encode_scalar_loop(benchmark::State& state) {  // yardstick: the scalar codec
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs<float>(n);
  std::vector<fp8::fp8<F>> dst(n);
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = fp8::fp8<F>::from_float(src[i]);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

template <class F>
void BM_decode_scalar_loop(benchmark::State& state) {  // yardstick: the scalar codec
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_codes<F>(n);
  std::vector<float> dst(n);
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

// Yardstick: memcpy of n floats (4 bytes read and 4 written per element).
void BM_memcpy(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<float> src(n, 1.0f), dst(n);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), n * sizeof(float));
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, 2 * sizeof(float));
}

// Yardstick: per-tensor int8 quantization as an engine writes it by hand.
void BM_int8_quantize_loop(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_inputs<float>(n);
  std::vector<std::int8_t> dst(n);
  const float scale = 1.5f;
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) {
      const float q = std::nearbyint(src[i] / scale);
      dst[i] = static_cast<std::int8_t>(q < -128.0f ? -128.0f : q > 127.0f ? 127.0f : q);
    }
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

constexpr std::int64_t L1 = 4 << 10, L2 = 256 << 10, DRAM = 64 << 20;

}  // namespace

#define FP8_SIZES ->Arg(L1)->Arg(L2)->Arg(DRAM)
BENCHMARK(BM_memcpy) FP8_SIZES;
BENCHMARK(BM_int8_quantize_loop)->Arg(L1);
BENCHMARK_TEMPLATE(BM_encode_scalar_loop, fp8::E4M3)->Arg(L1);
BENCHMARK_TEMPLATE(BM_encode_scalar_loop, fp8::E5M2)->Arg(L1);
BENCHMARK_TEMPLATE(BM_decode_scalar_loop, fp8::E4M3)->Arg(L1);
BENCHMARK_TEMPLATE(BM_decode_scalar_loop, fp8::E5M2)->Arg(L1);
BENCHMARK_TEMPLATE(BM_encode, fp8::E4M3, float) FP8_SIZES;
BENCHMARK_TEMPLATE(BM_encode, fp8::E5M2, float) FP8_SIZES;
BENCHMARK_TEMPLATE(BM_encode, fp8::E4M3FNUZ, float)->Arg(L1);
BENCHMARK_TEMPLATE(BM_encode, fp8::E4M3, fp8::bfloat16)->Arg(L1)->Arg(DRAM);
BENCHMARK_TEMPLATE(BM_encode, fp8::E4M3, fp8::half)->Arg(L1)->Arg(DRAM);
BENCHMARK_TEMPLATE(BM_encode_scaled, fp8::E4M3)->Arg(L1);
BENCHMARK_TEMPLATE(BM_decode, fp8::E4M3, float) FP8_SIZES;
BENCHMARK_TEMPLATE(BM_decode, fp8::E5M2, float)->Arg(L1);
BENCHMARK_TEMPLATE(BM_decode, fp8::E4M3FNUZ, float)->Arg(L1);
BENCHMARK_TEMPLATE(BM_decode, fp8::E4M3, fp8::bfloat16) FP8_SIZES;
BENCHMARK_TEMPLATE(BM_decode, fp8::E4M3, fp8::half)->Arg(L1);

BENCHMARK_TEMPLATE(BM_encode_tier, fp8::E4M3, fp8::isa::portable)->Arg(L1);
BENCHMARK_TEMPLATE(BM_decode_tier, fp8::E4M3, fp8::isa::portable)->Arg(L1);
#if FP8_ISA_SSE2
BENCHMARK_TEMPLATE(BM_encode_tier, fp8::E4M3, fp8::isa::sse2)->Arg(L1);
BENCHMARK_TEMPLATE(BM_decode_tier, fp8::E4M3, fp8::isa::sse2)->Arg(L1);
#endif
#if FP8_TIER_AVX2
BENCHMARK_TEMPLATE(BM_encode_tier, fp8::E4M3, fp8::isa::avx2)->Arg(L1);
BENCHMARK_TEMPLATE(BM_decode_tier, fp8::E4M3, fp8::isa::avx2)->Arg(L1);
#endif
#if FP8_TIER_AVX512
BENCHMARK_TEMPLATE(BM_encode_tier, fp8::E4M3, fp8::isa::avx512)->Arg(L1);
BENCHMARK_TEMPLATE(BM_decode_tier, fp8::E4M3, fp8::isa::avx512)->Arg(L1);
#endif
#if FP8_TIER_AVX512BF16
BENCHMARK_TEMPLATE(BM_encode_tier, fp8::E4M3, fp8::isa::avx512bf16)->Arg(L1);
BENCHMARK_TEMPLATE(BM_decode_tier, fp8::E4M3, fp8::isa::avx512bf16)->Arg(L1);
#endif
