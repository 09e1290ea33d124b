// SPDX-License-Identifier: Apache-2.0
// fp8::gemm throughput (GFLOP/s = 2 m n k per second) beside the yardsticks
// of the same run: the vdpbf16ps register peak, a DRAM read stream (GB/s),
// OpenBLAS sgemm on dequantized floats (alone, and with the dequantize pass
// an engine would pay per call), and oneDNN bf16 matmul with prepacked
// weights. Shapes: 1024^3, 2048^3 (B k x n), and K = N = 4096 with
// M = 1, 8, 32, 128 on weights stored n x k (tb = yes, Linear layout), warm
// (B stays in cache between iterations) and streamed (each iteration reads
// another copy of B, 128 MiB in all, so B comes from DRAM); one and two
// threads; and, on one thread, the other operand types (bfloat16 or float
// A, bfloat16 or FP8 C, block scales: fp8_gemm_variant). OpenBLAS needs
// OPENBLAS_CORETYPE=SkylakeX on Zen 5 (or it runs
// its AVX2 kernels); oneDNN runs on OMP_NUM_THREADS threads. The machine is
// shared: quote medians (--benchmark_repetitions=5
// --benchmark_report_aggregates_only=true) and compare within one run.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fp8/fp8.hpp>

#include "profile_split.hpp"

#if defined(FP8_HAVE_OPENBLAS)
#include <cblas.h>
#endif
#if defined(FP8_HAVE_DNNL)
#include <oneapi/dnnl/dnnl.hpp>
#endif
#if FP8_ISA_AVX512BF16
#include <immintrin.h>
#endif

namespace {

constexpr std::size_t stream_bytes = std::size_t{128} << 20;  // > L3 (32 MiB) four times over

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

struct shape {
  std::size_t m, n, k;
  bool tb;  // B stored n x k
};
shape shape_of(const benchmark::State& s) {
  return {static_cast<std::size_t>(s.range(0)), static_cast<std::size_t>(s.range(1)),
          static_cast<std::size_t>(s.range(2)), s.range(3) != 0};
}
double flop_count(const shape& sh) { return 2.0 * static_cast<double>(sh.m * sh.n * sh.k); }
void flops(benchmark::State& state, const shape& sh) {
  state.counters["GFLOP/s"] = benchmark::Counter(flop_count(sh) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
// Copies of B: 1 (warm) or enough to fill stream_bytes (streamed).
std::size_t copies(bool streamed, std::size_t bytes) { return streamed ? (stream_bytes + bytes - 1) / bytes : 1; }

// Args: m, n, k, tb, threads, streamed.
void fp8_gemm(benchmark::State& state) {
  const shape sh = shape_of(state);
  const std::size_t threads = static_cast<std::size_t>(state.range(4));
  const std::size_t nb = copies(state.range(5) != 0, sh.k * sh.n);
  const auto a = random_e4m3(sh.m * sh.k, 1);
  std::vector<std::vector<fp8::e4m3_t>> b;
  for (std::size_t i = 0; i < nb; ++i) b.push_back(random_e4m3(sh.k * sh.n, 2 + static_cast<unsigned>(i)));
  std::vector<float> c(sh.m * sh.n);
  fp8::gemm_options o;
  o.threads = threads;
  std::size_t it = 0;
  const fp8_bench::profile_split split;
  for (auto _ : state) {
    fp8::gemm(fp8::transpose::no, sh.tb ? fp8::transpose::yes : fp8::transpose::no, sh.m, sh.n, sh.k, 1.0f, a.data(),
              sh.k, b[it++ % nb].data(), sh.tb ? sh.k : sh.n, 0.0f, c.data(), sh.n, o);
    benchmark::DoNotOptimize(c.data());
  }
  split.report(state, flop_count(sh), threads);
  flops(state, sh);
  state.counters["B GB/s"] = benchmark::Counter(static_cast<double>(sh.k * sh.n) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void fp8_gemm_packed(benchmark::State& state) {
  const shape sh = shape_of(state);
  const std::size_t threads = static_cast<std::size_t>(state.range(4));
  const std::size_t nb = copies(state.range(5) != 0, sh.k * sh.n * 2);
  const auto a = random_e4m3(sh.m * sh.k, 1);
  std::vector<std::unique_ptr<fp8::packed_b<fp8::E4M3>>> b;
  for (std::size_t i = 0; i < nb; ++i) {
    const auto raw = random_e4m3(sh.k * sh.n, 2 + static_cast<unsigned>(i));
    b.push_back(std::make_unique<fp8::packed_b<fp8::E4M3>>(sh.tb ? fp8::transpose::yes : fp8::transpose::no, sh.k, sh.n,
                                                           raw.data(), sh.tb ? sh.k : sh.n));
  }
  std::vector<float> c(sh.m * sh.n);
  fp8::gemm_options o;
  o.threads = threads;
  std::size_t it = 0;
  const fp8_bench::profile_split split;
  for (auto _ : state) {
    fp8::gemm(fp8::transpose::no, sh.m, 1.0f, a.data(), sh.k, *b[it++ % nb], 0.0f, c.data(), sh.n, o);
    benchmark::DoNotOptimize(c.data());
  }
  split.report(state, flop_count(sh), threads);
  flops(state, sh);
}

// What an engine pays per weight at load time: a packed_b made from B
// stored n x k (Args: n, k) and dropped, each iteration: the allocation of
// its storage, the first touch of its pages, the packing. One thread.
void fp8_packed_b_make(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0)), k = static_cast<std::size_t>(state.range(1));
  const auto raw = random_e4m3(n * k, 2);
  for (auto _ : state) {
    const fp8::packed_b<fp8::E4M3> b(fp8::transpose::yes, k, n, raw.data(), k);
    benchmark::DoNotOptimize(&b);
  }
  state.counters["Gcodes/s"] =
      benchmark::Counter(static_cast<double>(n * k) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// The other operand and output types, on one thread (Args: m, n, k, tb,
// streamed, variant): 0 = bfloat16 A (weight-only GEMM, exact products),
// 1 = float A (the float micro-kernel), 2 = E4M3 A with bfloat16 C, 3 = E4M3
// A with E4M3 C (output scale 1/64), 4 = E4M3 A with DeepSeek-V3 128 x 128
// block scales of A and B.
enum variant_kind : std::int64_t { a_bf16, a_float, c_bf16, c_e4m3, block_scaled };
template <class TA, class TC>
void run_variant(benchmark::State& state, const shape& sh, std::size_t nb, const fp8::gemm_options& o) {
  const auto a8 = random_e4m3(sh.m * sh.k, 1);
  std::vector<TA> a(sh.m * sh.k);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = TA(static_cast<float>(a8[i]));
  std::vector<std::vector<fp8::e4m3_t>> b;
  for (std::size_t i = 0; i < nb; ++i) b.push_back(random_e4m3(sh.k * sh.n, 2 + static_cast<unsigned>(i)));
  std::vector<TC> c(sh.m * sh.n);
  std::size_t it = 0;
  const fp8_bench::profile_split split;
  for (auto _ : state) {
    fp8::gemm(fp8::transpose::no, sh.tb ? fp8::transpose::yes : fp8::transpose::no, sh.m, sh.n, sh.k, 1.0f, a.data(),
              sh.k, b[it++ % nb].data(), sh.tb ? sh.k : sh.n, 0.0f, c.data(), sh.n, o);
    benchmark::DoNotOptimize(c.data());
  }
  split.report(state, flop_count(sh), o.threads);
  flops(state, sh);
}
void fp8_gemm_variant(benchmark::State& state) {
  const shape sh = shape_of(state);
  const std::size_t nb = copies(state.range(4) != 0, sh.k * sh.n);
  fp8::gemm_options o;
  std::vector<float> as, bs;
  switch (state.range(5)) {
    case a_bf16: return run_variant<fp8::bfloat16, float>(state, sh, nb, o);
    case a_float: return run_variant<float, float>(state, sh, nb, o);
    case c_bf16: return run_variant<fp8::e4m3_t, fp8::bfloat16>(state, sh, nb, o);
    case c_e4m3:
      o.output_scale = 64.0f;
      return run_variant<fp8::e4m3_t, fp8::e4m3_t>(state, sh, nb, o);
    default: {
      const std::size_t kb = (sh.k + 127) / 128;
      as.assign(sh.m * kb, 0.5f);
      bs.assign((sh.n + 127) / 128 * kb, 0.25f);
      o.a_block_scale = as.data();
      o.b_block_scale = bs.data();
      return run_variant<fp8::e4m3_t, float>(state, sh, nb, o);
    }
  }
}

// The DRAM yardstick: read stream_bytes once per iteration (sum of words).
void dram_read(benchmark::State& state) {
  std::vector<std::uint64_t> v(stream_bytes / 8, 1);
  for (auto _ : state) {
    std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (std::size_t i = 0; i < v.size(); i += 4) s0 += v[i], s1 += v[i + 1], s2 += v[i + 2], s3 += v[i + 3];
    benchmark::DoNotOptimize(s0 + s1 + s2 + s3);
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(stream_bytes) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

#if FP8_ISA_AVX512BF16
// The compute yardstick: 24 independent vdpbf16ps chains in registers
// (profile_split.hpp's bf16dot_run), with the clock measured in the same
// iterations (core_ghz_run): GHz, and per_cycle, the vdpbf16ps issued per
// cycle (2 on a full-rate host, 1 on a half-rate one).
void peak_bf16dot(benchmark::State& state) {
  constexpr long inner = 100000;
  // Each loop's rate over all iterations (the same work in each: the
  // harmonic mean of the per-iteration rates), its own time only.
  double dot_inverse = 0, add_inverse = 0;
  for (auto _ : state) {
    dot_inverse += 1.0 / fp8_bench::bf16dot_run(inner);
    add_inverse += 1.0 / fp8_bench::core_ghz_run(inner);
  }
  const auto n = static_cast<double>(state.iterations());
  const double gflops = n / dot_inverse, ghz = n / add_inverse;
  state.counters["GFLOP/s"] = gflops;
  state.counters["GHz"] = ghz;
  state.counters["per_cycle"] = gflops / (64.0 * ghz);
}
#endif

#if FP8_ISA_AVX512BF16
// The AVX512-BF16 micro-kernel alone, on panels packed once (random
// bfloat16 of FP8-like magnitudes), no packing, no threads: the driver's
// loops over one jc block of a 2048-deep k (pc: k in blocks of kc; jr: nc/32
// B micro-panels; ir: mc/12 A micro-panels; C rows 2048 floats apart, as in
// 2048^3, read back at every block of k but the first). Args: kc, mc, nc;
// (kc, 12, 32) is one tile with k = kc, its panels in L1: the loop's own
// ceiling at that depth, which the fixed cost of each call (its start and
// its epilogue) lowers at small k (the convolutions' K is 256 to 1152);
// nc = 8192 makes B 32 MiB, larger than L3, so its micro-panels
// come from DRAM (as a 4096 x 4096 packed_b's do at M = 128). peak% is
// the rate as a share of peak_bf16dot's loop: what the block sizes of
// kernels/blocking.hpp cost the kernel where its operands come from (L1,
// L2, L3, DRAM), which a whole call's kernel% cannot separate.
void microkernel_bf16dot(benchmark::State& state) {
  using K = fp8::kernel::gemm_bf16dot_12x32__avx512bf16;
  const auto kc = static_cast<std::size_t>(state.range(0)), mc = static_cast<std::size_t>(state.range(1)),
             nc = static_cast<std::size_t>(state.range(2));
  const std::size_t k = mc == K::MR && nc == K::NR ? kc : 2048, ldc = std::max<std::size_t>(nc, 2048);
  std::mt19937 g(5);
  std::vector<fp8::bfloat16> a(mc * k), b(nc * k);  // per block of k: mc x kc, then nc x kc
  for (auto& x : a) x = fp8::bfloat16::from_bits(static_cast<std::uint16_t>(0x3c00 | (g() & 0x7ff)));
  for (auto& x : b) x = fp8::bfloat16::from_bits(static_cast<std::uint16_t>(0x3c00 | (g() & 0x7ff)));
  std::vector<float> c(mc * ldc);
  for (auto _ : state) {
    for (std::size_t pc = 0; pc < k; pc += kc) {
      fp8::kernel::tile_epilogue e;
      e.first = pc == 0;
      e.last = pc + kc >= k;
      const fp8::bfloat16* ab = a.data() + pc * mc;
      const fp8::bfloat16* bb = b.data() + pc * nc;
      for (std::size_t j = 0; j < nc; j += K::NR)
        for (std::size_t i = 0; i < mc; i += K::MR)
          K::run(kc / 2, ab + i * kc, bb + j * kc, c.data() + i * ldc + j, ldc, K::MR, K::NR, e);
    }
    benchmark::DoNotOptimize(c.data());
  }
  const double flop = 2.0 * static_cast<double>(mc * nc * k);
  state.counters["GFLOP/s"] = benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak%"] = benchmark::Counter(100.0 * flop * 1e-9 / fp8_bench::bf16dot_peak_gflops(),
                                               benchmark::Counter::kIsIterationInvariantRate);
}
#endif

#if defined(FP8_HAVE_OPENBLAS)
// Args as fp8_gemm, plus 6: 1 to dequantize A and B inside the loop (the
// pipeline an engine holding FP8 weights runs today).
void openblas_sgemm(benchmark::State& state) {
  const shape sh = shape_of(state);
  openblas_set_num_threads(static_cast<int>(state.range(4)));
  const bool dequantize = state.range(6) != 0;
  const std::size_t nb = copies(state.range(5) != 0, sh.k * sh.n * (dequantize ? 1 : 4));
  const auto a8 = random_e4m3(sh.m * sh.k, 1);
  std::vector<float> a(sh.m * sh.k), c(sh.m * sh.n);
  fp8::decode(a8.data(), a.data(), a.size());
  std::vector<std::vector<fp8::e4m3_t>> b8;
  std::vector<std::vector<float>> b;
  for (std::size_t i = 0; i < nb; ++i) {
    b8.push_back(random_e4m3(sh.k * sh.n, 2 + static_cast<unsigned>(i)));
    if (!dequantize) {
      b.emplace_back(sh.k * sh.n);
      fp8::decode(b8.back().data(), b.back().data(), sh.k * sh.n);
    }
  }
  std::vector<float> scratch(dequantize ? sh.k * sh.n : 0);
  std::size_t it = 0;
  for (auto _ : state) {
    const std::size_t i = it++ % nb;
    const float* bp;
    if (dequantize) {
      fp8::decode(a8.data(), a.data(), a.size());
      fp8::decode(b8[i].data(), scratch.data(), scratch.size());
      bp = scratch.data();
    } else {
      bp = b[i].data();
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, sh.tb ? CblasTrans : CblasNoTrans, static_cast<int>(sh.m),
                static_cast<int>(sh.n), static_cast<int>(sh.k), 1.0f, a.data(), static_cast<int>(sh.k), bp,
                static_cast<int>(sh.tb ? sh.k : sh.n), 0.0f, c.data(), static_cast<int>(sh.n));
    benchmark::DoNotOptimize(c.data());
  }
  flops(state, sh);
}
#endif

#if defined(FP8_HAVE_DNNL)
// oneDNN bf16 x bf16 -> f32 matmul, weights reordered once to the layout the
// primitive prefers (prepacked), A converted to bf16 outside the loop.
void onednn_bf16(benchmark::State& state) {
  using namespace dnnl;
  const shape sh = shape_of(state);
  const auto M = static_cast<memory::dim>(sh.m), N = static_cast<memory::dim>(sh.n), K = static_cast<memory::dim>(sh.k);
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  const memory::desc src_md({M, K}, memory::data_type::bf16, memory::format_tag::ab);
  const memory::desc wany_md({K, N}, memory::data_type::bf16, memory::format_tag::any);
  const memory::desc dst_md({M, N}, memory::data_type::f32, memory::format_tag::ab);
  const matmul::primitive_desc pd(matmul::desc(src_md, wany_md, dst_md), eng);
  const matmul mm(pd);
  const auto a8 = random_e4m3(sh.m * sh.k, 1);
  std::vector<fp8::bfloat16> a(sh.m * sh.k);
  fp8::decode(a8.data(), a.data(), a.size());
  memory src(src_md, eng, a.data()), dst(dst_md, eng);
  const std::size_t nb = copies(state.range(5) != 0, sh.k * sh.n * 2);
  std::vector<memory> w;
  for (std::size_t i = 0; i < nb; ++i) {
    const auto b8 = random_e4m3(sh.k * sh.n, 2 + static_cast<unsigned>(i));
    std::vector<fp8::bfloat16> b(sh.k * sh.n);
    fp8::decode(b8.data(), b.data(), b.size());
    const memory::desc wplain({K, N}, memory::data_type::bf16, sh.tb ? memory::format_tag::ba : memory::format_tag::ab);
    memory plain(wplain, eng, b.data());
    w.emplace_back(pd.weights_desc(), eng);
    reorder(plain, w.back()).execute(s, plain, w.back());
  }
  // One call before the clock: oneDNN allocates dst without touching it, so
  // the first call pays a page fault per 4 KiB of C (2048^3: 16 MiB, 4096
  // faults, about as long as the product itself on this VM), and at 2048^3
  // a repetition is a single call.
  mm.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w[0]}, {DNNL_ARG_DST, dst}});
  s.wait();
  std::size_t it = 0;
  for (auto _ : state) {
    mm.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w[it++ % nb]}, {DNNL_ARG_DST, dst}});
    s.wait();
  }
  flops(state, sh);
}
#endif

// The shapes: {m, n, k, tb}.
const std::vector<std::vector<std::int64_t>> shapes = {
    {1024, 1024, 1024, 0}, {2048, 2048, 2048, 0}, {1, 4096, 4096, 1},
    {8, 4096, 4096, 1},    {32, 4096, 4096, 1},   {128, 4096, 4096, 1},
};

void args_fp8(benchmark::internal::Benchmark* b) {
  for (const auto& s : shapes)
    for (std::int64_t threads : {1, 2})
      for (std::int64_t streamed : {0, 1}) {
        if (streamed != 0 && s[0] > 128) continue;  // streaming matters for the K = N = 4096 weights
        b->Args({s[0], s[1], s[2], s[3], threads, streamed});
      }
}
void args_variant(benchmark::internal::Benchmark* b) {
  for (std::int64_t v : {a_bf16, a_float, c_bf16, c_e4m3, block_scaled})
    for (const auto& s : shapes) {
      if (s[0] == 1024) continue;
      b->Args({s[0], s[1], s[2], s[3], 0, v});
      if (s[0] == 1) b->Args({s[0], s[1], s[2], s[3], 1, v});
    }
}
// oneDNN runs on OMP_NUM_THREADS threads (1 in the documented command).
void args_onednn(benchmark::internal::Benchmark* b) {
  for (const auto& s : shapes)
    for (std::int64_t streamed : {0, 1})
      if (streamed == 0 || s[0] <= 128) b->Args({s[0], s[1], s[2], s[3], 1, streamed});
}
void args_yardstick(benchmark::internal::Benchmark* b) {
  for (const auto& s : shapes)
    for (std::int64_t threads : {1, 2})
      for (std::int64_t streamed : {0, 1}) {
        if (streamed != 0 && s[0] > 128) continue;
        b->Args({s[0], s[1], s[2], s[3], threads, streamed, 0});
        if (s[0] <= 128 && streamed == 0) b->Args({s[0], s[1], s[2], s[3], threads, streamed, 1});
      }
}

}  // namespace

BENCHMARK(fp8_gemm)->Apply(args_fp8)->ArgNames({"m", "n", "k", "tb", "threads", "streamed"})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(fp8_gemm_packed)->Apply(args_fp8)->ArgNames({"m", "n", "k", "tb", "threads", "streamed"})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(fp8_gemm_variant)->Apply(args_variant)->ArgNames({"m", "n", "k", "tb", "streamed", "variant"})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(fp8_packed_b_make)->Args({4096, 4096})->Args({512, 384})->ArgNames({"n", "k"})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(dram_read)->UseRealTime()->Unit(benchmark::kMillisecond);
#if FP8_ISA_AVX512BF16
BENCHMARK(peak_bf16dot)->UseRealTime()->Unit(benchmark::kMillisecond);
// The tile alone; the previous AVX512-BF16 blocking (kc 384, mc 240); the present one (kernels/blocking.hpp); the
// present one and mc 96 with B from DRAM.
BENCHMARK(microkernel_bf16dot)
    ->Args({256, 12, 32})->Args({384, 12, 32})->Args({576, 12, 32})->Args({1152, 12, 32})->Args({2048, 12, 32})
    ->Args({384, 240, 512})->Args({2048, 48, 512})->Args({2048, 48, 8192})->Args({2048, 96, 8192})
    ->ArgNames({"kc", "mc", "nc"})->UseRealTime()->Unit(benchmark::kMillisecond);
#endif
#if defined(FP8_HAVE_OPENBLAS)
BENCHMARK(openblas_sgemm)->Apply(args_yardstick)->ArgNames({"m", "n", "k", "tb", "threads", "streamed", "dequantize"})->UseRealTime()->Unit(benchmark::kMillisecond);
#endif
#if defined(FP8_HAVE_DNNL)
BENCHMARK(onednn_bf16)->Apply(args_onednn)->ArgNames({"m", "n", "k", "tb", "threads", "streamed"})->UseRealTime()->Unit(benchmark::kMillisecond);
#endif
