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
//   microkernel_direct/<layer>/a:A/halves:H  the micro-kernel alone on the layer's
//                                         tiles (AVX512-BF16 builds; below)
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

#include <algorithm>
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

#if FP8_ISA_AVX512BF16
// The micro-kernel alone on a dense stride-1 layer's tiles, in the order the
// driver runs them on one thread (kernels/driver.hpp: blocks of whole output
// rows, or of MC pixels for a 1x1 layer; per block, every column tile over
// its row tiles; tiles never cross an output row), on an input already
// decoded and zero-bordered, panels of B packed once, C written once (one
// block of k: these layers have K <= KC) with a plain store (the
// convolution's epilogue also scales by column). No decode, no threads, no
// checks.
// a: 0 reads A in place (run_direct, one segment per tap, as the
// convolution does), 1 from panels of A packed once outside the clock (the
// GEMM's run): the same tiles, k and epilogue, so the two differ only in
// where A comes from. halves: 1 cuts tiles as the driver does
// (in_place_tile_rows: a short last tile of an output row merged with the
// one before into two of about half, 28 = 12 + 8 + 8), 0 as it did before,
// 12 rows until the row ends (28 = 12 + 12 + 4).
void microkernel_direct(benchmark::State& state, const fp8::conv2d_shape& s, bool packed_a, bool halves) {
  using K = fp8::kernel::gemm_bf16dot_12x32__avx512bf16;
  const std::size_t c = s.in_c, n = s.out_c, taps = s.kernel_h * s.kernel_w, k = taps * c, pairs = k / 2;
  const std::size_t oh = s.out_h(), ow = s.out_w(), hp = s.in_h + s.pad_top + s.pad_bottom,
                    wp = s.in_w + s.pad_left + s.pad_right;
  const bool pointwise = taps == 1;
  const std::size_t pixels = oh * ow, period = pointwise ? K::block.mc : ow;
  const std::size_t block = pointwise ? K::block.mc : std::max<std::size_t>(1, K::block.mc / ow) * ow;
  std::mt19937 g(5);
  const auto random_bf16 = [&g] { return fp8::bfloat16::from_bits(static_cast<std::uint16_t>(0x3c00 | (g() & 0x7ff))); };
  std::vector<fp8::bfloat16> x(hp * wp * c + K::MR * c), b(n * k);
  for (auto& v : x) v = random_bf16();
  for (auto& v : b) v = random_bf16();  // panel j: [pair][32 columns][2]
  std::vector<float> out(pixels * n);
  // The blocks, each a list of tiles (first pixel, rows) cut from runs of
  // at most `period` pixels.
  struct tile {
    std::size_t i, mv;
  };
  std::vector<std::vector<tile>> blocks;
  for (std::size_t p0 = 0; p0 < pixels; p0 += block) {
    blocks.emplace_back();
    for (std::size_t q0 = p0; q0 < std::min(pixels, p0 + block); q0 += period) {
      const std::size_t q1 = std::min({pixels, p0 + block, q0 + period});
      std::vector<tile>& ts = blocks.back();
      for (std::size_t i = q0, mv; i < q1; i += mv) {
        mv = halves ? fp8::kernel::in_place_tile_rows(q1 - i, K::MR) : std::min(K::MR, q1 - i);
        ts.push_back({i, mv});
      }
    }
  }
  // A's segments (one per tap) and, for packed_a, the panels of every tile
  // in order, [pair][MR rows][2].
  std::vector<fp8::kernel::detail::a_segment> seg;
  for (std::size_t t = 0; t < taps; ++t)
    seg.push_back({((t / s.kernel_w) * wp + t % s.kernel_w) * c * sizeof(fp8::bfloat16), c / 2});
  const auto input_of = [&](std::size_t p) {  // output pixel p's first input value
    return x.data() + (pointwise ? p * c : ((p / ow) * wp + p % ow) * c);
  };
  std::vector<fp8::bfloat16> ap;
  if (packed_a)
    for (const auto& ts : blocks)
      for (const tile& t : ts) {
        const std::size_t at = ap.size();
        ap.resize(at + K::MR * k);
        for (std::size_t r = 0; r < K::MR; ++r)
          for (std::size_t kk = 0; kk < k; ++kk)
            ap[at + (kk / 2 * K::MR + r) * 2 + kk % 2] =
                input_of(t.i + std::min(r, t.mv - 1))[seg[kk / c].offset / sizeof(fp8::bfloat16) + kk % c];
      }
  fp8::kernel::tile_epilogue e;
  for (auto _ : state) {
    const fp8::bfloat16* a = ap.data();
    for (const auto& ts : blocks) {
      for (std::size_t j = 0; j < n; j += K::NR) {
        const fp8::bfloat16* bj = b.data() + j * k;
        for (std::size_t t = 0; t < ts.size(); ++t) {
          float* ct = out.data() + ts[t].i * n + j;
          if (packed_a)
            K::run(pairs, a + t * K::MR * k, bj, ct, n, ts[t].mv, K::NR, e);
          else
            K::run_direct(seg.data(), seg.size(), reinterpret_cast<const unsigned char*>(input_of(ts[t].i)),
                          c * sizeof(fp8::bfloat16), bj, ct, n, ts[t].mv, K::NR, e);
        }
      }
      if (packed_a) a += ts.size() * K::MR * k;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  count_flops(state, s);
  state.counters["peak%"] = benchmark::Counter(100.0 * flop(s) * 1e-9 / fp8_bench::bf16dot_peak_gflops(),
                                               benchmark::Counter::kIsIterationInvariantRate);
}
#endif

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
#if FP8_ISA_AVX512BF16
    if (s.groups == 1 && s.stride_w == 1 && s.stride_h == 1 && s.in_c % 2 == 0 && s.out_c % 32 == 0)
      for (int a = 0; a < 2; ++a)
        for (int halves = 0; halves < 2; ++halves)
          benchmark::RegisterBenchmark(
              ("microkernel_direct/" + name + "/a:" + std::to_string(a) + "/halves:" + std::to_string(halves)).c_str(),
              [s, a, halves](benchmark::State& st) { microkernel_direct(st, s, a == 1, halves == 1); })
              ->UseRealTime()
              ->Unit(benchmark::kMillisecond);
#endif
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
