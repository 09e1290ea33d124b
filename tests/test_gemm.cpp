// SPDX-License-Identifier: Apache-2.0
// fp8::gemm against an independent double-precision reference: the operands
// are decoded with tests/reference.hpp (std::ldexp from the spec's formula,
// no code shared with include/fp8), multiplied and summed in double in the
// textbook triple loop, and each element of C must lie within the float32
// accumulation bound  2^-23 * (k + 2 ceil(k / 64) + 4) * |alpha| * sum_k |a||b|
// (+ 2^-23 |beta c|), i.e. k * 2^-23 * sum |a||b| up to the few extra
// roundings of the epilogue; k = 4096 is checked against exactly
// k * 2^-23 * sum |a||b|. Every transpose pair, format pairs (all four
// formats, mixed), sizes 1..67 in each dimension, primes and sizes past every
// block, alpha/beta (beta = 0 with NaN in C), scales, bias, ReLU/clamp,
// packed B, thread counts 1..4 (identical bits), every micro-kernel compiled
// into this translation unit, and bad arguments (named, C untouched).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <fp8/fp8.hpp>

#include "formats.hpp"
#include "tiers.hpp"

namespace {

using fp8::transpose;
constexpr transpose both[] = {transpose::no, transpose::yes};
// Sweeps step through 1..67 one by one, or by 5 under the sanitizers (about
// 10x slower).
constexpr std::size_t sweep_step = FP8_TEST_SANITIZED ? 5 : 1;

template <class F>
struct matrix {
  std::size_t rows = 0, cols = 0, ld = 0;
  std::vector<fp8::fp8<F>> v;
  double at(std::size_t r, std::size_t c) const { return ref::decode(spec_of<F>(), v[r * ld + c].bits()); }
};

// Random finite codes of format F, rows x cols with ld >= cols; the gap
// between rows holds NaN codes where the format has them, so reading it shows.
template <class F>
matrix<F> random_matrix(std::size_t rows, std::size_t cols, std::size_t ld, std::mt19937& g) {
  matrix<F> m{rows, cols, ld, {}};
  m.v.resize(rows == 0 ? 0 : (rows - 1) * ld + cols + (ld - cols));
  std::uniform_int_distribution<int> code(0, 255);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < ld; ++c) {
      std::uint8_t x;
      if (c < cols) {
        do x = static_cast<std::uint8_t>(code(g));
        while (!std::isfinite(ref::decode(spec_of<F>(), x)));
      } else {
        x = fp8::fp8<F>::traits::nan_code;
      }
      if (r * ld + c < m.v.size()) m.v[r * ld + c] = fp8::fp8<F>::from_bits(x);
    }
  return m;
}

struct reference_result {
  std::vector<double> value, bound;
};

// op(X)[i][j] of a stored matrix.
template <class F>
double op_at(const matrix<F>& x, transpose t, std::size_t i, std::size_t j) {
  return t == transpose::no ? x.at(i, j) : x.at(j, i);
}

struct epilogue_ref {
  const float* row_scale = nullptr;
  const float* col_scale = nullptr;
  const float* bias = nullptr;
  bool clamp = false;
  double lo = 0, hi = 0;
};

template <class FA, class FB>
reference_result reference(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
                           const matrix<FA>& a, const matrix<FB>& b, float beta, const std::vector<float>& c0,
                           std::size_t ldc, const epilogue_ref& e = {}) {
  reference_result r;
  r.value.assign(m * n, 0.0);
  r.bound.assign(m * n, 0.0);
  const double u = std::ldexp(1.0, -23);
  const double rounds = static_cast<double>(k + 2 * ((k + 63) / 64) + 4);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0, abs = 0;
      for (std::size_t p = 0; p < k; ++p) {
        const double x = op_at(a, ta, i, p) * op_at(b, tb, p, j);
        s += x;
        abs += std::fabs(x);
      }
      double scale = alpha;
      if (e.row_scale != nullptr) scale *= e.row_scale[i];
      if (e.col_scale != nullptr) scale *= e.col_scale[j];
      double v = scale * s, bound = u * rounds * std::fabs(scale) * abs;
      if (beta != 0.0f) {
        v += static_cast<double>(beta) * c0[i * ldc + j];
        bound += 2 * u * std::fabs(static_cast<double>(beta) * c0[i * ldc + j]);
      }
      if (e.bias != nullptr) {
        v += e.bias[j];
        bound += u * (std::fabs(v) + std::fabs(e.bias[j]));
      }
      if (e.clamp) v = std::min(std::max(v, e.lo), e.hi);
      r.value[i * n + j] = v;
      r.bound[i * n + j] = bound + 1e-30;
    }
  return r;
}

// Checks C against the reference and that the gap past n in each row of C
// (ldc > n) still holds its sentinel.
inline void check_c(const std::vector<float>& c, std::size_t m, std::size_t n, std::size_t ldc,
                    const reference_result& r, float sentinel, const std::string& what) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const double got = c[i * ldc + j], want = r.value[i * n + j];
      if (!(std::fabs(got - want) <= r.bound[i * n + j])) {
        if (bad++ < 3) FAIL_CHECK(what << ": C[" << i << "][" << j << "] = " << got << ", want " << want << " +- " << r.bound[i * n + j]);
      }
    }
    for (std::size_t j = n; j < ldc && i * ldc + j < c.size(); ++j)
      if (float_bits(c[i * ldc + j]) != float_bits(sentinel) && bad++ < 3) FAIL_CHECK(what << ": wrote past n");
  }
  CHECK(bad == 0);
}

// The micro-kernels compiled here, run through the checked entry point.
struct default_kernel {
  // The dispatched kernel (test_tiers::for_each_gemm_tier), copied: the
  // name it hands out lives for one call, and later test cases in the same
  // process read this (a dangling pointer there was a use after free).
  static inline std::string name;
  template <class FA, class FB>
  static void gemm(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
                   const fp8::fp8<FA>* a, std::size_t lda, const fp8::fp8<FB>* b, std::size_t ldb, float beta,
                   float* c, std::size_t ldc, const fp8::gemm_options& o = {}) {
    fp8::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, o);
  }
};
template <class K>
struct with_kernel {
  static constexpr const char* name = K::name;
  template <class FA, class FB>
  static void gemm(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
                   const fp8::fp8<FA>* a, std::size_t lda, const fp8::fp8<FB>* b, std::size_t ldb, float beta,
                   float* c, std::size_t ldc, const fp8::gemm_options& o = {}) {
    fp8::kernel::gemm_with<K>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, o);
  }
};

// One call on random operands of the given shape, checked.
template <class Run, class FA, class FB>
void run_case(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, float alpha, float beta,
              std::mt19937& g, std::size_t pad = 0) {
  const std::size_t lda = (ta == transpose::no ? k : m) + pad, ldb = (tb == transpose::no ? n : k) + pad;
  const std::size_t ldc = n + pad;
  const auto a = random_matrix<FA>(ta == transpose::no ? m : k, ta == transpose::no ? k : m, std::max<std::size_t>(lda, 1), g);
  const auto b = random_matrix<FB>(tb == transpose::no ? k : n, tb == transpose::no ? n : k, std::max<std::size_t>(ldb, 1), g);
  const float sentinel = -7.25f;
  std::vector<float> c(m * ldc, sentinel);
  std::uniform_real_distribution<float> d(-2, 2);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? std::numeric_limits<float>::quiet_NaN() : d(g);
  const auto r = reference(ta, tb, m, n, k, alpha, a, b, beta, c, ldc);
  Run::gemm(ta, tb, m, n, k, alpha, a.v.data(), std::max<std::size_t>(lda, 1), b.v.data(), std::max<std::size_t>(ldb, 1),
            beta, c.data(), ldc);
  check_c(c, m, n, ldc, r, sentinel,
          std::string(Run::name) + " " + FA::name + "x" + FB::name + " ta=" + (ta == transpose::yes ? "T" : "N") +
              " tb=" + (tb == transpose::yes ? "T" : "N") + " m=" + std::to_string(m) + " n=" + std::to_string(n) +
              " k=" + std::to_string(k));
}

template <class Run, class FA, class FB>
void sweep(std::mt19937& g) {
  for (transpose ta : both)
    for (transpose tb : both) {
      for (std::size_t s = 1; s <= 67; s += sweep_step) {
        run_case<Run, FA, FB>(ta, tb, s, 37, 29, 1.0f, 0.0f, g);  // m: every tile edge, small-m paths
        run_case<Run, FA, FB>(ta, tb, 13, s, 41, 1.0f, 0.0f, g);  // n
        run_case<Run, FA, FB>(ta, tb, 19, 35, s, 1.0f, 0.0f, g);  // k: odd k, k = 1
      }
      // Primes and sizes past the blocks: m past MC (48 to 240 by tier), k
      // past KC (192 to 2048), n past NC (512) several times, with padded
      // leading dimensions (m > 8: the blocked path; m = 3: the small-m paths).
      run_case<Run, FA, FB>(ta, tb, 251, 67, 389, 1.0f, 0.0f, g, 3);
      run_case<Run, FA, FB>(ta, tb, 13, 35, 2053, 1.0f, 0.0f, g, 2);
      run_case<Run, FA, FB>(ta, tb, 13, 4099, 7, 1.0f, 0.0f, g, 1);
      run_case<Run, FA, FB>(ta, tb, 3, 4099, 7, 1.0f, 0.0f, g, 1);
      run_case<Run, FA, FB>(ta, tb, 61, 97, 773, -0.5f, 1.5f, g, 5);
    }
}

struct e4m3_e4m3 { using A = fp8::E4M3; using B = fp8::E4M3; };
struct e5m2_e5m2 { using A = fp8::E5M2; using B = fp8::E5M2; };
struct e4m3_e5m2 { using A = fp8::E4M3; using B = fp8::E5M2; };
struct e5m2_e4m3 { using A = fp8::E5M2; using B = fp8::E4M3; };
struct fnuz_mixed { using A = fp8::E4M3FNUZ; using B = fp8::E5M2FNUZ; };
struct fnuz_mixed2 { using A = fp8::E5M2FNUZ; using B = fp8::E4M3; };

}  // namespace

TEMPLATE_TEST_CASE("gemm: every transpose, sizes 1..67, primes, past every block", "[gemm]", e4m3_e4m3, e5m2_e5m2,
                   e4m3_e5m2, e5m2_e4m3, fnuz_mixed, fnuz_mixed2) {
  test_tiers::for_each_gemm_tier([](const char* kernel) {
    std::mt19937 g(12345);
    default_kernel::name = kernel;
    sweep<default_kernel, typename TestType::A, typename TestType::B>(g);
  });
}

TEST_CASE("gemm: every compiled micro-kernel", "[gemm]") {
  std::mt19937 g(777);
  sweep<with_kernel<fp8::kernel::gemm_f32_4x8__scalar>, fp8::E4M3, fp8::E5M2>(g);
#if FP8_ISA_SSE2
  sweep<with_kernel<fp8::kernel::gemm_f32fma__xsimd>, fp8::E4M3, fp8::E5M2>(g);
  sweep<with_kernel<fp8::kernel::gemm_f32fma__xsimd>, fp8::E5M2FNUZ, fp8::E4M3FNUZ>(g);
#endif
#if FP8_TIER_AVX2
  if (fp8::best_tier(fp8::cpu()) >= fp8::cpu_tier::avx2)
    sweep<with_kernel<fp8::kernel::gemm_f32fma_6x16__avx2>, fp8::E4M3, fp8::E5M2>(g);
#endif
#if FP8_TIER_AVX512
  if (fp8::best_tier(fp8::cpu()) >= fp8::cpu_tier::avx512)
    sweep<with_kernel<fp8::kernel::gemm_f32fma_12x32__avx512>, fp8::E4M3, fp8::E5M2>(g);
#endif
#if FP8_TIER_AVX512BF16
  if (fp8::best_tier(fp8::cpu()) >= fp8::cpu_tier::avx512bf16)
    sweep<with_kernel<fp8::kernel::gemm_bf16dot_12x32__avx512bf16>, fp8::E4M3, fp8::E5M2>(g);
#endif
}

TEST_CASE("gemm: alpha and beta; beta = 0 never reads C", "[gemm]") {
  std::mt19937 g(99);
  for (float alpha : {1.0f, -0.5f, 3.0f, 0.0f})
    for (float beta : {0.0f, 1.0f, -2.5f})
      for (transpose ta : both)
        for (transpose tb : both)
          for (std::size_t m : {std::size_t{1}, std::size_t{5}, std::size_t{30}}) run_case<default_kernel, fp8::E4M3, fp8::E5M2>(ta, tb, m, 45, 70, alpha, beta, g, 2);
  // k = 0: C = beta * C, NaN-free when beta = 0.
  std::vector<float> c(6, std::numeric_limits<float>::quiet_NaN());
  fp8::gemm<fp8::E4M3, fp8::E4M3>(transpose::no, transpose::no, 2, 3, 0, 1.0f, nullptr, 0, nullptr, 3, 0.0f, c.data(), 3);
  for (float x : c) CHECK(x == 0.0f);
  std::vector<float> c2(6, 2.0f);
  fp8::gemm<fp8::E4M3, fp8::E4M3>(transpose::no, transpose::no, 2, 3, 0, 1.0f, nullptr, 0, nullptr, 3, -1.5f, c2.data(), 3);
  for (float x : c2) CHECK(x == -3.0f);
}

TEST_CASE("gemm: k = 4096 within k * 2^-23 * sum |a||b|", "[gemm]") {
  std::mt19937 g(4096);
  const std::size_t k = 4096;
  for (transpose tb : both)
    for (std::size_t m : {std::size_t{1}, std::size_t{7}, std::size_t{29}}) {
      const std::size_t n = 45;
      const auto a = random_matrix<fp8::E4M3>(m, k, k, g);
      const auto b = tb == transpose::no ? random_matrix<fp8::E5M2>(k, n, n, g) : random_matrix<fp8::E5M2>(n, k, k, g);
      std::vector<float> c(m * n, std::numeric_limits<float>::quiet_NaN());
      fp8::gemm(transpose::no, tb, m, n, k, 1.0f, a.v.data(), k, b.v.data(), b.ld, 0.0f, c.data(), n);
      std::size_t bad = 0;
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
          double s = 0, abs = 0;
          for (std::size_t p = 0; p < k; ++p) {
            const double x = a.at(i, p) * op_at(b, tb, p, j);
            s += x;
            abs += std::fabs(x);
          }
          if (!(std::fabs(c[i * n + j] - s) <= static_cast<double>(k) * std::ldexp(1.0, -23) * abs)) ++bad;
        }
      CHECK(bad == 0);
    }
}

TEST_CASE("gemm: thread counts 1..4 give identical bits", "[gemm]") {
  std::mt19937 g(4);
  struct shape {
    std::size_t m, n, k;
  };
  for (transpose ta : both)
    for (transpose tb : both)
      for (shape s : {shape{1, 1000, 700}, shape{4, 777, 300}, shape{100, 300, 500}, shape{300, 70, 400}, shape{37, 999, 65}}) {
        const auto a = random_matrix<fp8::E4M3>(ta == transpose::no ? s.m : s.k, ta == transpose::no ? s.k : s.m,
                                                ta == transpose::no ? s.k : s.m, g);
        const auto b = random_matrix<fp8::E5M2>(tb == transpose::no ? s.k : s.n, tb == transpose::no ? s.n : s.k,
                                                tb == transpose::no ? s.n : s.k, g);
        std::vector<float> first;
        for (std::size_t t = 1; t <= 4; ++t) {
          fp8::gemm_options o;
          o.threads = t;
          std::vector<float> c(s.m * s.n, 1.0f);
          fp8::gemm(ta, tb, s.m, s.n, s.k, 0.75f, a.v.data(), a.ld, b.v.data(), b.ld, 0.5f, c.data(), s.n, o);
          if (t == 1)
            first = c;
          else
            CHECK(std::memcmp(first.data(), c.data(), c.size() * sizeof(float)) == 0);
        }
      }
}

TEST_CASE("gemm: the float small-m path gives the same bits on every tier of float kernels", "[gemm]") {
  // Its dot form keeps 16 partial sums whatever the vector width and adds
  // them in one order: avx512, avx2, sse2 and portable agree bit for bit
  // (avx512bf16 runs another kernel for FP8 A, vdpbf16ps, with its own
  // order; float A takes the float path there too).
  std::mt19937 g(9);
  for (transpose tb : both)
    for (bool blocks : {false, true})
      for (std::size_t k : {std::size_t{1}, std::size_t{37}, std::size_t{700}}) {
        const std::size_t m = 5, n = 83;
        const auto a = random_matrix<fp8::E4M3>(m, k, k, g);
        const auto b = random_matrix<fp8::E5M2>(tb == transpose::no ? k : n, tb == transpose::no ? n : k,
                                                tb == transpose::no ? n : k, g);
        std::vector<float> af(m * k);
        for (std::size_t i = 0; i < af.size(); ++i) af[i] = static_cast<float>(a.v[i]) * 1.25f;  // rounds in products
        const std::size_t kb = (k + 63) / 64;
        std::vector<float> as(m * kb, 0.5f), bs(((n + 63) / 64) * kb, 2.0f);
        for (std::size_t i = 0; i < as.size(); ++i) as[i] = 0.25f + 0.125f * static_cast<float>(i % 7);
        fp8::gemm_options o;
        if (blocks) {
          o.scale_block = 64;
          o.a_block_scale = as.data();
          o.b_block_scale = bs.data();
        }
        std::vector<float> first8, firstf;
        for (fp8::cpu_tier t : {fp8::cpu_tier::portable, fp8::cpu_tier::sse2, fp8::cpu_tier::avx2, fp8::cpu_tier::avx512,
                                fp8::cpu_tier::avx512bf16}) {
          if (t > fp8::best_tier(fp8::cpu())) continue;
          const fp8::tier_scope scope(t);
          std::vector<float> c8(m * n, 0.5f), cf(m * n, 0.5f);
          fp8::gemm(transpose::no, tb, m, n, k, 0.75f, af.data(), k, b.v.data(), b.ld, 0.5f, cf.data(), n, o);
          if (t != fp8::cpu_tier::avx512bf16)
            fp8::gemm(transpose::no, tb, m, n, k, 0.75f, a.v.data(), a.ld, b.v.data(), b.ld, 0.5f, c8.data(), n, o);
          INFO("tier " << static_cast<int>(t) << ", tb " << static_cast<int>(tb) << ", blocks " << blocks << ", k " << k);
          if (firstf.empty()) {
            first8 = c8;
            firstf = cf;
            continue;
          }
          CHECK(std::memcmp(firstf.data(), cf.data(), cf.size() * sizeof(float)) == 0);
          if (t != fp8::cpu_tier::avx512bf16)
            CHECK(std::memcmp(first8.data(), c8.data(), c8.size() * sizeof(float)) == 0);
        }
      }
}

TEST_CASE("gemm: per-row and per-column scales, bias, ReLU and clamp", "[gemm]") {
  std::mt19937 g(5);
  std::uniform_real_distribution<float> d(0.25f, 4.0f), db(-50, 50);
  for (transpose tb : both)
    for (std::size_t m : {std::size_t{1}, std::size_t{6}, std::size_t{40}})
      for (int act = 0; act < 3; ++act) {
        const std::size_t n = 53, k = 450;
        const auto a = random_matrix<fp8::E4M3>(m, k, k, g);
        const auto b = tb == transpose::no ? random_matrix<fp8::E4M3>(k, n, n, g) : random_matrix<fp8::E4M3>(n, k, k, g);
        std::vector<float> rs(m), cs(n), bias(n);
        for (auto& x : rs) x = d(g);
        for (auto& x : cs) x = d(g);
        for (auto& x : bias) x = db(g) * 100;
        fp8::gemm_options o;
        o.row_scale = rs.data();
        o.col_scale = cs.data();
        o.bias = bias.data();
        o.act = act == 0 ? fp8::activation::none : act == 1 ? fp8::activation::relu : fp8::activation::clamp;
        o.clamp_lo = -500.0f;
        o.clamp_hi = 700.0f;
        std::vector<float> c(m * n, 3.0f);
        epilogue_ref e{rs.data(), cs.data(), bias.data(), act != 0, act == 1 ? 0.0 : -500.0,
                       act == 1 ? std::numeric_limits<double>::infinity() : 700.0};
        const auto r = reference(transpose::no, tb, m, n, k, 0.5f, a, b, 0.25f, c, n, e);
        fp8::gemm(transpose::no, tb, m, n, k, 0.5f, a.v.data(), k, b.v.data(), b.ld, 0.25f, c.data(), n, o);
        check_c(c, m, n, n, r, 0.0f, "epilogue");
      }
}

TEST_CASE("gemm: packed B equals unpacked B", "[gemm]") {
  test_tiers::for_each_gemm_tier([](const char* kernel) {
  INFO(kernel);
  std::mt19937 g(6);
  for (transpose ta : both)
    for (transpose tb : both)
      for (std::size_t m : {std::size_t{1}, std::size_t{3}, std::size_t{13}, std::size_t{50}}) {
        const std::size_t n = 77, k = 801;
        const auto a = random_matrix<fp8::E5M2>(ta == transpose::no ? m : k, ta == transpose::no ? k : m,
                                                ta == transpose::no ? k : m, g);
        const auto b = tb == transpose::no ? random_matrix<fp8::E4M3>(k, n, n, g) : random_matrix<fp8::E4M3>(n, k, k, g);
        const fp8::packed_b<fp8::E4M3> pb(tb, k, n, b.v.data(), b.ld);
        std::vector<float> c1(m * n, 2.0f), c2(m * n, 2.0f);
        fp8::gemm(ta, m, 1.5f, a.v.data(), a.ld, pb, -1.0f, c1.data(), n);
        // The blocked path packs B the same way: identical bits (the small-m
        // paths, m <= smallm_max, never pack B and sum in another order, so
        // compare within the bound there).
        fp8::gemm(ta, tb, m, n, k, 1.5f, a.v.data(), a.ld, b.v.data(), b.ld, -1.0f, c2.data(), n);
        const bool same_path = m > fp8::kernel::smallm_max;
        if (same_path) CHECK(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float)) == 0);
        const auto r = reference(ta, tb, m, n, k, 1.5f, a, b, -1.0f, std::vector<float>(m * n, 2.0f), n);
        check_c(c1, m, n, n, r, 0.0f, "packed");
        // With threads too.
        fp8::gemm_options o;
        o.threads = 3;
        std::vector<float> c3(m * n, 2.0f);
        fp8::gemm(ta, m, 1.5f, a.v.data(), a.ld, pb, -1.0f, c3.data(), n, o);
        CHECK(std::memcmp(c1.data(), c3.data(), c1.size() * sizeof(float)) == 0);
      }
  });
}

TEST_CASE("gemm: B packed for one micro-kernel is refused by another, by name", "[gemm]") {
  std::vector<std::string> kernels;
  test_tiers::for_each_gemm_tier([&](const char* kernel) { kernels.push_back(kernel); });
  if (kernels.size() < 2) return;  // one kernel on this CPU and build: nothing to mix
  const std::size_t k = 10, n = 20;
  std::vector<fp8::e4m3_t> b(k * n, fp8::e4m3_t(1.0f)), a(k, fp8::e4m3_t(1.0f));
  const fp8::packed_b<fp8::E4M3> pb(transpose::no, k, n, b.data(), n);  // the best tier's kernel
  CHECK(std::string(pb.layout().kernel) == kernels[0]);
  std::vector<float> c(n, 5.0f);
  const fp8::tier_scope lower(fp8::cpu_tier::sse2);
  try {
    fp8::gemm(transpose::no, 1, 1.0f, a.data(), k, pb, 0.0f, c.data(), n);
    FAIL("no error");
  } catch (const fp8::invalid_argument& e) {
    CHECK(std::string(e.argument()) == "b");
    CHECK_THAT(e.what(), Catch::Contains(kernels[0]));
  }
  CHECK(c == std::vector<float>(n, 5.0f));
}

TEST_CASE("gemm: NaN and infinity propagate", "[gemm]") {
  std::vector<fp8::e5m2_t> a(4 * 8, fp8::e5m2_t(1.0f)), b(8 * 3, fp8::e5m2_t(1.0f));
  a[1 * 8 + 2] = std::numeric_limits<fp8::e5m2_t>::quiet_NaN();
  a[2 * 8 + 5] = std::numeric_limits<fp8::e5m2_t>::infinity();
  std::vector<float> c(4 * 3, 0.0f);
  fp8::gemm(transpose::no, transpose::no, 4, 3, 8, 1.0f, a.data(), 8, b.data(), 3, 0.0f, c.data(), 3);
  for (std::size_t j = 0; j < 3; ++j) {
    CHECK(c[0 * 3 + j] == 8.0f);
    CHECK(std::isnan(c[1 * 3 + j]));
    CHECK(c[2 * 3 + j] == std::numeric_limits<float>::infinity());
  }
}

TEST_CASE("gemm: bad arguments are named and C is untouched", "[gemm]") {
  std::vector<fp8::e4m3_t> a(64), b(64);
  std::vector<float> c(64, 5.0f);
  const auto untouched = [&] {
    for (float x : c)
      if (x != 5.0f) return false;
    return true;
  };
  const auto expect = [&](const char* argument, auto&& call) {
    try {
      call();
      FAIL("no error for " << argument);
    } catch (const fp8::invalid_argument& e) {
      CHECK(std::string(e.argument()) == argument);
      CHECK(std::string(e.what()).find(argument) != std::string::npos);
    }
    CHECK(untouched());
  };
  const auto N = transpose::no, T = transpose::yes;
  const std::size_t big = std::numeric_limits<std::size_t>::max() / 2;
  expect("a", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, static_cast<const fp8::e4m3_t*>(nullptr), 4, b.data(), 4, 0.0f, c.data(), 4); });
  expect("b", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, a.data(), 4, static_cast<const fp8::e4m3_t*>(nullptr), 4, 0.0f, c.data(), 4); });
  expect("c", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, a.data(), 4, b.data(), 4, 0.0f, nullptr, 4); });
  expect("lda", [&] { fp8::gemm(N, N, 4, 4, 5, 1.0f, a.data(), 4, b.data(), 4, 0.0f, c.data(), 4); });
  expect("lda", [&] { fp8::gemm(T, N, 5, 4, 4, 1.0f, a.data(), 4, b.data(), 4, 0.0f, c.data(), 5); });
  expect("ldb", [&] { fp8::gemm(N, N, 4, 5, 4, 1.0f, a.data(), 4, b.data(), 4, 0.0f, c.data(), 5); });
  expect("ldb", [&] { fp8::gemm(N, T, 4, 4, 5, 1.0f, a.data(), 5, b.data(), 4, 0.0f, c.data(), 4); });
  expect("ldc", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, a.data(), 4, b.data(), 4, 0.0f, c.data(), 3); });
  expect("lda", [&] { fp8::gemm(N, N, big, 1, 4, 1.0f, a.data(), 4, b.data(), 1, 0.0f, c.data(), 1); });
  expect("ldb", [&] { fp8::gemm(N, N, 1, 4, big, 1.0f, a.data(), big, b.data(), 4, 0.0f, c.data(), 4); });
  expect("ldc", [&] { fp8::gemm(N, N, big / 2, 2, 1, 1.0f, a.data(), 1, b.data(), 2, 0.0f, c.data(), 2); });
  expect("c", [&] {
    fp8::gemm(N, N, 4, 4, 4, 1.0f, reinterpret_cast<const fp8::e4m3_t*>(c.data()), 4, b.data(), 4, 0.0f, c.data(), 4);
  });
  fp8::gemm_options o;
  o.act = fp8::activation::clamp;
  o.clamp_lo = 1.0f;
  o.clamp_hi = 0.0f;
  expect("options.clamp_lo", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, a.data(), 4, b.data(), 4, 0.0f, c.data(), 4, o); });
  expect("ldb", [&] { fp8::packed_b<fp8::E4M3> p(T, 8, 4, b.data(), 7); });
  const fp8::packed_b<fp8::E4M3> pb(N, 4, 4, b.data(), 4);
  expect("lda", [&] { fp8::gemm(N, 4, 1.0f, a.data(), 3, pb, 0.0f, c.data(), 4); });
  expect("ldc", [&] { fp8::gemm(N, 4, 1.0f, a.data(), 4, pb, 0.0f, c.data(), 3); });
  // Empty products are fine with null pointers.
  fp8::gemm<fp8::E4M3, fp8::E4M3>(N, N, 0, 0, 0, 1.0f, nullptr, 0, nullptr, 0, 0.0f, nullptr, 0);
  fp8::gemm<fp8::E4M3, fp8::E4M3>(N, N, 0, 5, 3, 1.0f, nullptr, 3, b.data(), 5, 0.0f, nullptr, 5);
}
