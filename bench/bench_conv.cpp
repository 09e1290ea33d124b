// SPDX-License-Identifier: Apache-2.0
// fp8::conv2d throughput (GFLOP/s = 2 N OH OW OC KH KW (IC / groups) per
// second) on ResNet-50, MobileNetV2 and EfficientNet layers at batch 1, NHWC, E4M3 input x
// E4M3 weights (per-output-channel weight scales), float output, beside
// oneDNN's convolution on the same layers in the same binary:
//
//   fp8_conv2d/<layer>/threads:T          weights passed as OHWI codes (packed on every call)
//   fp8_conv2d_packed/<layer>/threads:T   weights packed once (fp8::packed_conv_weights)
//   onednn_f32/<layer>/omp_threads:N      f32 src/weights/dst, NHWC
//   onednn_bf16/<layer>/omp_threads:N     bf16 src and weights, f32 dst, NHWC
//
// oneDNN's weights are declared format_tag::any and reordered once outside
// the timed loop, and its activations are decoded to f32 / bf16 beforehand
// (fp8::conv2d reads the FP8 codes themselves). oneDNN runs on
// OMP_NUM_THREADS threads (read once, shown in the name); fp8::conv2d on 1
// and 2 threads (conv2d_options::threads). The label of a oneDNN benchmark is
// the implementation it chose. Layers: ResNet-50 conv2_x 3x3 C64 -> 64 at
// 56x56 pad 1, 1x1 C256 -> 64 at 56x56, 1x1 C512 -> 128 at 28x28, 3x3
// C128 -> 128 at 28x28 pad 1; MobileNetV2 depthwise 3x3 C144 at 56x56 pad 1
// (groups = 144); EfficientNet-B0 depthwise 5x5 C240 at 28x28 pad 2.
//
// Run (the machine is shared: quote medians and compare within one run):
//   cmake --preset release && cmake --build --preset release --target bench_conv
//   OMP_NUM_THREADS=1 build/release/bench/bench_conv --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true --benchmark_min_time=0.1   (one line)
// or by hand (one line):
//   g++ -std=c++17 -O3 -march=native -DFP8_HAVE_DNNL -Iinclude bench/bench_conv.cpp
//     -lbenchmark_main -lbenchmark -ldnnl -pthread -o bench_conv
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <fp8/fp8.hpp>

#include "profile_split.hpp"

#if defined(FP8_HAVE_DNNL)
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {

struct layer {
  const char* name;
  fp8::conv2d_shape s;
};

// Batch 1, square input, square kernel, stride 1, the same pad on each side.
fp8::conv2d_shape make_layer(std::size_t in_c, std::size_t hw, std::size_t out_c, std::size_t kernel, std::size_t pad,
                             std::size_t groups) {
  fp8::conv2d_shape s{};
  s.batch = 1;
  s.in_h = s.in_w = hw;
  s.in_c = in_c;
  s.out_c = out_c;
  s.kernel_h = s.kernel_w = kernel;
  s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = pad;
  s.groups = groups;
  return s;
}

const layer layers[] = {
    {"resnet50_3x3_c64_k64_56x56", make_layer(64, 56, 64, 3, 1, 1)},
    {"resnet50_1x1_c256_k64_56x56", make_layer(256, 56, 64, 1, 0, 1)},
    {"resnet50_1x1_c512_k128_28x28", make_layer(512, 28, 128, 1, 0, 1)},
    {"resnet50_3x3_c128_k128_28x28", make_layer(128, 28, 128, 3, 1, 1)},
    {"mobilenetv2_dw3x3_c144_56x56", make_layer(144, 56, 144, 3, 1, 144)},
    {"efficientnet_dw5x5_c240_28x28", make_layer(240, 28, 240, 5, 2, 240)},
};

double flop(const fp8::conv2d_shape& s) {
  return 2.0 *
         static_cast<double>(s.batch * s.out_h() * s.out_w() * s.out_c * s.kernel_h * s.kernel_w * (s.in_c / s.groups));
}
void count_flops(benchmark::State& state, const fp8::conv2d_shape& s) {
  state.counters["GFLOP/s"] = benchmark::Counter(flop(s) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

std::size_t input_size(const fp8::conv2d_shape& s) { return s.batch * s.in_h * s.in_w * s.in_c; }
std::size_t weight_size(const fp8::conv2d_shape& s) { return s.out_c * s.kernel_h * s.kernel_w * (s.in_c / s.groups); }
std::size_t output_size(const fp8::conv2d_shape& s) { return s.batch * s.out_h() * s.out_w() * s.out_c; }

std::vector<fp8::e4m3_t> random_e4m3(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::vector<fp8::e4m3_t> v(n);
  for (auto& x : v) {
    auto c = static_cast<std::uint8_t>(g());
    if ((c & 0x7F) == 0x7F) c = 0;  // no NaN
    x = fp8::e4m3_t::from_bits(c);
  }
  return v;
}

void fp8_conv(benchmark::State& state, const fp8::conv2d_shape& s, std::size_t threads, bool packed) {
  const auto x = random_e4m3(input_size(s), 1);
  const auto w = random_e4m3(weight_size(s), 2);
  std::vector<float> scales(s.out_c), out(output_size(s));
  std::mt19937 g(3);
  for (auto& v : scales) v = std::uniform_real_distribution<float>(0.001f, 0.01f)(g);
  fp8::conv2d_options o;
  o.threads = threads;
  std::unique_ptr<fp8::packed_conv_weights<fp8::E4M3>> pw;
  if (packed) pw = std::make_unique<fp8::packed_conv_weights<fp8::E4M3>>(s, w.data());
  const fp8_bench::profile_split split;
  for (auto _ : state) {
    if (packed)
      fp8::conv2d(s, x.data(), 0.05f, *pw, scales.data(), nullptr, out.data(), o);
    else
      fp8::conv2d(s, x.data(), 0.05f, w.data(), scales.data(), nullptr, out.data(), o);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  split.report(state, flop(s), threads);
  count_flops(state, s);
}

#if defined(FP8_HAVE_DNNL)
template <class T>
constexpr dnnl::memory::data_type dnnl_type() {
  return std::is_same<T, float>::value ? dnnl::memory::data_type::f32 : dnnl::memory::data_type::bf16;
}

// oneDNN forward-inference convolution, src and weights of type T (float or
// fp8::bfloat16, decoded from the same E4M3 codes as fp8_conv), f32 dst,
// NHWC activations; weights from OHWI (GOHWI when grouped) reordered once to
// the layout the primitive chose.
template <class T>
void onednn_conv(benchmark::State& state, const fp8::conv2d_shape& s) {
  using namespace dnnl;
  using tag = memory::format_tag;
  const auto d = [](std::size_t v) { return static_cast<memory::dim>(v); };
  const memory::data_type dt = dnnl_type<T>();
  engine eng(engine::kind::cpu, 0);
  stream str(eng);
  const memory::dims src_dims{d(s.batch), d(s.in_c), d(s.in_h), d(s.in_w)};
  const memory::dims dst_dims{d(s.batch), d(s.out_c), d(s.out_h()), d(s.out_w())};
  const bool grouped = s.groups > 1;
  const memory::dims w_dims =
      grouped ? memory::dims{d(s.groups), d(s.out_c / s.groups), d(s.in_c / s.groups), d(s.kernel_h), d(s.kernel_w)}
              : memory::dims{d(s.out_c), d(s.in_c), d(s.kernel_h), d(s.kernel_w)};
  const memory::desc src_md(src_dims, dt, tag::nhwc);
  const memory::desc w_any(w_dims, dt, tag::any);
  const memory::desc dst_md(dst_dims, memory::data_type::f32, tag::nhwc);
  convolution_forward::primitive_desc pd;
  try {
    pd = convolution_forward::primitive_desc(
        convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, src_md, w_any, dst_md,
                                  {d(s.stride_h), d(s.stride_w)}, {d(s.dilation_h - 1), d(s.dilation_w - 1)},
                                  {d(s.pad_top), d(s.pad_left)}, {d(s.pad_bottom), d(s.pad_right)}),
        eng);
  } catch (const dnnl::error& e) {
    state.SkipWithError(e.what());
    return;
  }
  const convolution_forward conv(pd);
  state.SetLabel(pd.impl_info_str());

  const auto x8 = random_e4m3(input_size(s), 1);
  const auto w8 = random_e4m3(weight_size(s), 2);
  std::vector<T> x(x8.size()), w(w8.size());
  fp8::decode(x8.data(), x.data(), x.size());
  fp8::decode(w8.data(), w.data(), w.size());
  memory src(src_md, eng, x.data()), dst(dst_md, eng);
  memory user_w({w_dims, dt, grouped ? tag::gohwi : tag::ohwi}, eng, w.data());
  memory wmem(pd.weights_desc(), eng);
  reorder(user_w, wmem).execute(str, user_w, wmem);
  str.wait();
  // One call before the clock: oneDNN allocates dst without touching it
  // (the first call would pay its page faults; fp8's out is a vector,
  // written when made).
  conv.execute(str, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wmem}, {DNNL_ARG_DST, dst}});
  str.wait();
  for (auto _ : state) {
    conv.execute(str, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wmem}, {DNNL_ARG_DST, dst}});
    str.wait();
  }
  count_flops(state, s);
}
#endif

bool register_all() {
  const char* omp = std::getenv("OMP_NUM_THREADS");
  [[maybe_unused]] const std::string omp_threads =
      std::string("/omp_threads:") + (omp != nullptr && *omp != '\0' ? omp : "default");
  for (const layer& l : layers) {
    const std::string name = l.name;
    const fp8::conv2d_shape s = l.s;
    for (bool packed : {false, true})
      for (std::size_t threads : {std::size_t{1}, std::size_t{2}})
        benchmark::RegisterBenchmark(
            ((packed ? "fp8_conv2d_packed/" : "fp8_conv2d/") + name + "/threads:" + std::to_string(threads)).c_str(),
            [s, threads, packed](benchmark::State& st) { fp8_conv(st, s, threads, packed); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
#if defined(FP8_HAVE_DNNL)
    benchmark::RegisterBenchmark(("onednn_f32/" + name + omp_threads).c_str(),
                                 [s](benchmark::State& st) { onednn_conv<float>(st, s); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("onednn_bf16/" + name + omp_threads).c_str(),
                                 [s](benchmark::State& st) { onednn_conv<fp8::bfloat16>(st, s); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
#endif
  }
  return true;
}

[[maybe_unused]] const bool registered = register_all();

}  // namespace
