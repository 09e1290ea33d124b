// SPDX-License-Identifier: Apache-2.0
// The scalar reference codec, element by element, beside two yardsticks in
// the same binary: memcpy of the same bytes and the int8 quantization loop an
// engine would otherwise write (divide, round, clamp). Vector kernels are
// measured against these in bench_bulk once they exist.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include <fp8/fp8.hpp>

namespace {

constexpr std::size_t kN = 4096;  // 16 KiB of floats: L1-resident

std::vector<float> inputs() {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.0f, 50.0f);
  std::vector<float> v(kN);
  for (float& x : v) x = d(rng);
  return v;
}

void set_counters(benchmark::State& state, std::size_t bytes_per_element) {
  const auto items = static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(kN);
  state.SetItemsProcessed(items);
  state.SetBytesProcessed(items * static_cast<std::int64_t>(bytes_per_element));
}

template <class F>
void BM_encode_scalar(benchmark::State& state) {
  const std::vector<float> src = inputs();
  std::vector<std::uint8_t> dst(kN);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kN; ++i) dst[i] = fp8::scalar::encode<F>(src[i]);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, sizeof(float) + 1);
}

template <class F>
void BM_decode_scalar(benchmark::State& state) {
  std::vector<std::uint8_t> src(kN);
  for (std::size_t i = 0; i < kN; ++i) src[i] = static_cast<std::uint8_t>(i * 37);
  std::vector<float> dst(kN);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kN; ++i) dst[i] = fp8::scalar::decode<F>(src[i]);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, sizeof(float) + 1);
}

void BM_yardstick_memcpy(benchmark::State& state) {
  const std::vector<float> src = inputs();
  std::vector<float> dst(kN);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), kN * sizeof(float));
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, 2 * sizeof(float));
}

void BM_yardstick_int8_quantize(benchmark::State& state) {
  const std::vector<float> src = inputs();
  std::vector<std::int8_t> dst(kN);
  const float scale = 1.5f;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kN; ++i) {
      const float q = std::nearbyint(src[i] / scale);
      dst[i] = static_cast<std::int8_t>(q < -128.0f ? -128.0f : q > 127.0f ? 127.0f : q);
    }
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, sizeof(float) + 1);
}

}  // namespace

BENCHMARK(BM_yardstick_memcpy);
BENCHMARK(BM_yardstick_int8_quantize);
BENCHMARK_TEMPLATE(BM_encode_scalar, fp8::E4M3);
BENCHMARK_TEMPLATE(BM_encode_scalar, fp8::E5M2);
BENCHMARK_TEMPLATE(BM_encode_scalar, fp8::E4M3FNUZ);
BENCHMARK_TEMPLATE(BM_decode_scalar, fp8::E4M3);
BENCHMARK_TEMPLATE(BM_decode_scalar, fp8::E5M2);
BENCHMARK_TEMPLATE(BM_decode_scalar, fp8::E4M3FNUZ);
