// SPDX-License-Identifier: Apache-2.0
// Throughput of integer linear quantization (dyadic/linear.hpp, ONNX
// QuantizeLinear / DequantizeLinear): int8 per tensor and per channel (rows
// and columns), uint8 and int4 per tensor, and fake quantization, at an
// L1-resident size (4 Ki elements) and a memory size (16 Mi elements).
// Yardsticks in the same binary: the scalar definition run as a plain loop,
// a hand-written ONNX-style loop (std::nearbyint and a clamp, as GCC
// vectorizes it: not bit-exact on NaN, which it sends to INT_MIN), fp8::encode
// / fp8::decode E4M3 with the same scales, and memcpy of the bytes each
// operation moves. Counters: items/s (elements) and bytes/s (bytes read plus
// bytes written per element; scales and zero points are not counted).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fp8/codec/bulk.hpp>
#include <fp8/dyadic/linear.hpp>
#include <random>
#include <vector>

namespace {

constexpr std::int64_t L1 = 4 << 10, MEM = 16 << 20;

std::vector<float> make_inputs(std::size_t n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.0f, 20.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<std::int8_t> make_codes(std::size_t n) {
  std::mt19937 rng(2);
  std::vector<std::int8_t> v(n);
  for (auto& c : v) c = static_cast<std::int8_t>(static_cast<int>(rng() & 0xFF) - 128);
  return v;
}

void counters(benchmark::State& state, std::size_t n, std::size_t bytes_per_element) {
  const auto items = static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n);
  state.SetItemsProcessed(items);
  state.SetBytesProcessed(items * static_cast<std::int64_t>(bytes_per_element));
}

// range(1) of the per-tensor benchmarks: 0 = scale 0.3 (a true division),
// 1 = scale 0.25 (a power of two: multiply by 4, the same quotient).
float scale_of(const benchmark::State& state) { return state.range(1) == 0 ? 0.3f : 0.25f; }

// rows x cols with rows * cols = n: 64 x 64 and 4096 x 4096.
std::size_t side(std::size_t n) { return static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(n)))); }

// ---------------------------------------------------------------- yardsticks

void BM_memcpy(benchmark::State& state) {  // range(1) bytes per element, counted once
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

void BM_encode_e4m3(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const float scale = scale_of(state);
  const auto src = make_inputs(n);
  std::vector<fp8::e4m3_t> dst(n);
  for (auto _ : state) {
    fp8::encode(src.data(), dst.data(), n, scale);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

void BM_decode_e4m3(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<fp8::e4m3_t> src(n);
  fp8::encode(make_inputs(n).data(), src.data(), n, 0.3f);
  std::vector<float> dst(n);
  for (auto _ : state) {
    fp8::decode(src.data(), dst.data(), n, 0.3f);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

void BM_quantize_int8_scalar_loop(benchmark::State& state) {  // the definition, element by element
  const auto n = static_cast<std::size_t>(state.range(0));
  const float scale = scale_of(state);
  const auto src = make_inputs(n);
  std::vector<std::int8_t> dst(n);
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i)
      dst[i] = static_cast<std::int8_t>(fp8::quantize_linear_value<std::int8_t>(src[i], scale, 3));
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

void BM_quantize_int8_onnx_loop(benchmark::State& state) {  // what a compiler makes of the ONNX formula
  const auto n = static_cast<std::size_t>(state.range(0));
  const float scale = scale_of(state);
  const auto src = make_inputs(n);
  std::vector<std::int8_t> dst(n);
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) {
      const float r = std::nearbyint(src[i] / scale) + 3.0f;
      dst[i] = static_cast<std::int8_t>(r < -128.0f ? -128.0f : (r > 127.0f ? 127.0f : r));
    }
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

void BM_dequantize_int8_scalar_loop(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_codes(n);
  std::vector<float> dst(n);
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = fp8::dequantize_linear_value(src[i], 0.3f, 3);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

// ---------------------------------------------------------------- per tensor

template <class Out>
void BM_quantize(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const float scale = scale_of(state);
  const auto src = make_inputs(n);
  std::vector<std::uint8_t> dst(fp8::quantized_bytes<Out>(n));
  const std::int32_t zp = fp8::quantized_type<Out>::lowest < 0 ? 3 : 100;
  for (auto _ : state) {
    fp8::quantize_linear<Out>(src.data(), reinterpret_cast<fp8::quantized_storage_t<Out>*>(dst.data()), n, scale, zp);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

void BM_dequantize_int8(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto src = make_codes(n);
  std::vector<float> dst(n);
  for (auto _ : state) {
    fp8::dequantize_linear<std::int8_t>(src.data(), dst.data(), n, 0.3f, 3);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, sizeof(float) + 1);
}

void BM_fake_quantize_int8(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const float scale = scale_of(state);
  const auto src = make_inputs(n);
  std::vector<float> dst(n);
  for (auto _ : state) {
    fp8::fake_quantize_linear<std::int8_t>(src.data(), dst.data(), n, scale, 3);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, 2 * sizeof(float));
}

// ---------------------------------------------------------------- per channel
// range(1): 0 = one scale and zero point per row, 1 = per column; the scales
// are arbitrary (divisions).

std::vector<float> channel_scales(std::size_t count) {
  std::vector<float> s(count);
  for (std::size_t i = 0; i < count; ++i) s[i] = 0.1f + 0.01f * static_cast<float>(i % 97);
  return s;
}
std::vector<std::int32_t> channel_zero_points(std::size_t count) {
  std::vector<std::int32_t> z(count);
  for (std::size_t i = 0; i < count; ++i) z[i] = static_cast<std::int32_t>(i % 11) - 5;
  return z;
}

void BM_quantize_int8_per_channel(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto ax = state.range(1) == 0 ? fp8::axis::rows : fp8::axis::columns;
  const std::size_t rows = side(n), cols = n / rows, channels = ax == fp8::axis::rows ? rows : cols;
  const auto src = make_inputs(rows * cols);
  const auto scale = channel_scales(channels);
  const auto zp = channel_zero_points(channels);
  std::vector<std::int8_t> dst(rows * cols);
  for (auto _ : state) {
    fp8::quantize_linear_per_channel<std::int8_t>(src.data(), dst.data(), rows, cols, scale.data(), zp.data(), ax);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, rows * cols, sizeof(float) + 1);
}

void BM_dequantize_int8_per_channel(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto ax = state.range(1) == 0 ? fp8::axis::rows : fp8::axis::columns;
  const std::size_t rows = side(n), cols = n / rows, channels = ax == fp8::axis::rows ? rows : cols;
  const auto src = make_codes(rows * cols);
  const auto scale = channel_scales(channels);
  const auto zp = channel_zero_points(channels);
  std::vector<float> dst(rows * cols);
  for (auto _ : state) {
    fp8::dequantize_linear_per_channel<std::int8_t>(src.data(), dst.data(), rows, cols, scale.data(), zp.data(), ax);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  counters(state, rows * cols, sizeof(float) + 1);
}

}  // namespace

BENCHMARK(BM_memcpy)->Args({L1, 5})->Args({MEM, 5});
// {n, scale (0: 0.3, divide; 1: 0.25, multiply)}
BENCHMARK(BM_encode_e4m3)->Args({L1, 0})->Args({L1, 1})->Args({MEM, 0});
BENCHMARK(BM_decode_e4m3)->Arg(L1)->Arg(MEM);
BENCHMARK(BM_quantize_int8_scalar_loop)->Args({L1, 0});
BENCHMARK(BM_quantize_int8_onnx_loop)->Args({L1, 0});
BENCHMARK(BM_dequantize_int8_scalar_loop)->Arg(L1);

BENCHMARK_TEMPLATE(BM_quantize, std::int8_t)->Args({L1, 0})->Args({L1, 1})->Args({MEM, 0});
BENCHMARK_TEMPLATE(BM_quantize, std::uint8_t)->Args({L1, 0});
BENCHMARK_TEMPLATE(BM_quantize, fp8::int4)->Args({L1, 0});
BENCHMARK(BM_dequantize_int8)->Arg(L1)->Arg(MEM);
BENCHMARK(BM_fake_quantize_int8)->Args({L1, 0})->Args({MEM, 0});

// {n, axis (0 rows, 1 columns)}
BENCHMARK(BM_quantize_int8_per_channel)->Args({L1, 0})->Args({L1, 1})->Args({MEM, 0})->Args({MEM, 1});
BENCHMARK(BM_dequantize_int8_per_channel)->Args({L1, 0})->Args({L1, 1})->Args({MEM, 0})->Args({MEM, 1});
