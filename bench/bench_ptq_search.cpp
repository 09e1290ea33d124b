// SPDX-License-Identifier: Apache-2.0
// Time of the quantization decisions (ptq/search.hpp, ptq/calibrate.hpp): a
// per-channel weight search of a 4096 x 4096 Linear weight over E4M3 and
// E5M2 x 16 power-of-two scales (512 M quantize-dequantize-and-compare
// element steps), the same per tensor, and the activation calibrator's
// collection and thresholds. Yardsticks in the same binary: one
// fp8::fake_quantize pass plus one error_stats pass over the same weight
// (what each of the 32 candidates costs at least), and a plain read of it.
// Counters: items/s are weight elements times candidates for the searches
// (so the search rate and the yardsticks' rate compare directly), elements
// for the calibrator.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include <fp8/ptq/calibrate.hpp>
#include <fp8/ptq/search.hpp>

namespace {

constexpr std::size_t side = 4096;

const std::vector<float>& weight() {
  static const std::vector<float> w = [] {
    std::mt19937 g(1);
    std::normal_distribution<float> d(0.0f, 0.02f);
    std::vector<float> v(side * side);
    for (auto& x : v) x = d(g);
    for (std::size_t i = 0; i < v.size(); i += 1009) v[i] *= 20.0f;  // outliers, as trained weights have
    return v;
  }();
  return w;
}

fp8::search_options options(bool per_channel) {
  fp8::search_options o;
  o.formats = {fp8::qformat::e4m3, fp8::qformat::e5m2};
  o.scales.amax = false;  // exactly 16 candidates: 2^(e0 - 15) .. 2^e0
  o.scales.exponent_lo = -15;
  o.scales.exponent_hi = 0;
  o.per_channel = per_channel;
  return o;
}

void BM_search_4096x4096(benchmark::State& state) {
  const auto& w = weight();
  const fp8::search_options o = options(state.range(0) != 0);
  for (auto _ : state) {
    fp8::search_result r = fp8::search_weights(w.data(), side, side, side, o);
    benchmark::DoNotOptimize(r.scales.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(side * side * 32));
  state.SetLabel(state.range(0) != 0 ? "per channel, 2 formats x 16 scales" : "per tensor, 2 formats x 16 scales");
}
BENCHMARK(BM_search_4096x4096)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

// Yardstick: one candidate's least work over the whole weight, row by row as
// the per-channel search goes (a 16 KiB row and its copy stay in L1).
void BM_yardstick_fake_quantize_and_stats(benchmark::State& state) {
  const auto& w = weight();
  std::vector<float> buf(side);
  for (auto _ : state) {
    fp8::error_stats st;
    for (std::size_t r = 0; r < side; ++r) {
      fp8::fake_quantize<fp8::E4M3>(w.data() + r * side, buf.data(), side, 0.01f);
      st.add(w.data() + r * side, buf.data(), side);
    }
    benchmark::DoNotOptimize(st.mse());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(side * side));
}
BENCHMARK(BM_yardstick_fake_quantize_and_stats)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_yardstick_read(benchmark::State& state) {
  const auto& w = weight();
  for (auto _ : state) {
    float s = 0.0f;
    for (std::size_t r = 0; r < side; ++r) s += std::accumulate(w.data() + r * side, w.data() + (r + 1) * side, 0.0f);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(side * side));
}
BENCHMARK(BM_yardstick_read)->Unit(benchmark::kMillisecond)->UseRealTime();

// The calibrator: 64 batches of 64 Ki activations, then each threshold.
void BM_calibrator_add(benchmark::State& state) {
  std::mt19937 g(2);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(1 << 16);
  for (auto& v : x) v = d(g);
  for (auto _ : state) {
    fp8::calibrator c;
    for (int b = 0; b < 64; ++b) c.add(x.data(), x.size());
    benchmark::DoNotOptimize(c.amax());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 64 * static_cast<std::int64_t>(x.size()));
}
BENCHMARK(BM_calibrator_add)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_calibrator_threshold(benchmark::State& state) {
  std::mt19937 g(3);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(1 << 20);
  for (auto& v : x) v = d(g);
  fp8::calibrator c;
  c.add(x.data(), x.size());
  const auto method = static_cast<fp8::calibration>(state.range(0));
  const auto format = static_cast<fp8::qformat>(state.range(1));
  for (auto _ : state) benchmark::DoNotOptimize(c.threshold(method, format));
  state.SetLabel(std::string(method == fp8::calibration::entropy ? "entropy" : "mse") + ", " + fp8::qformat_name(format));
}
BENCHMARK(BM_calibrator_threshold)
    ->Args({static_cast<int>(fp8::calibration::entropy), static_cast<int>(fp8::qformat::int8)})
    ->Args({static_cast<int>(fp8::calibration::entropy), static_cast<int>(fp8::qformat::e4m3)})
    ->Args({static_cast<int>(fp8::calibration::mse), static_cast<int>(fp8::qformat::int8)})
    ->Args({static_cast<int>(fp8::calibration::mse), static_cast<int>(fp8::qformat::e4m3)})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
