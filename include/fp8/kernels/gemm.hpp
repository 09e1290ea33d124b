// SPDX-License-Identifier: Apache-2.0
// fp8::gemm, the BLAS-like FP8 matrix product, row-major only:
//
//   C (m x n, ldc) = alpha * op(A) * op(B) + beta * C
//
// op(A) is m x k and op(B) is k x n; A and B are row-major FP8 matrices of any
// two formats with leading dimensions lda and ldb (op(X) = X for
// transpose::no, X^T for transpose::yes, so B stored n x k as Linear layers
// store weights is tb = transpose::yes). Values are decoded exactly (to
// bfloat16 on AVX512-BF16, to float elsewhere), products are exact, sums are
// float32. beta == 0 never reads C. An overload takes gemm_options: threads,
// per-row and per-column scales, bias and a ReLU/clamp epilogue (the formula
// is in kernels/epilogue.hpp). packed_b holds op(B) packed once for reuse.
//
// Structure (docs/gemm.md): checks here, then the five BLIS loops of
// kernels/driver.hpp over a micro-kernel chosen at compile time from the
// target ISA (detail/isa.hpp), threads over rectangles of C
// (kernels/parallel.hpp). Results are bit-identical for every thread count.
//
// Bad input (null pointers with nonzero sizes, a leading dimension smaller
// than the row it describes, a matrix whose extent overflows size_t, C
// overlapping A or B) throws fp8::invalid_argument naming the argument,
// before anything is read or written (error.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <thread>
#include <type_traits>

#include "../config.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"
#include "../types/float16.hpp"
#include "../types/fp8.hpp"
#include "blocking.hpp"
#include "buffer.hpp"
#include "dot_avx512bf16.hpp"
#include "driver.hpp"
#include "epilogue.hpp"
#include "microkernel_avx512bf16.hpp"
#include "microkernel_f32.hpp"
#include "parallel.hpp"

FP8_BEGIN_NAMESPACE

enum class transpose { no, yes };

// What the epilogue does after scaling and beta (kernels/epilogue.hpp).
enum class activation {
  none,
  relu,   // max(x, 0)
  clamp,  // min(max(x, clamp_lo), clamp_hi)
};

struct gemm_options {
  // Threads that share C (each computes whole tiles; k is never split, so the
  // bits do not depend on it). 0: std::thread::hardware_concurrency(). Small
  // products use fewer threads than asked, which changes nothing but time.
  std::size_t threads = 1;
  const float* row_scale = nullptr;  // m floats, one per row of op(A) (per token), or null
  const float* col_scale = nullptr;  // n floats, one per column of op(B) (per output channel), or null
  const float* bias = nullptr;       // n floats added after alpha, scales and beta, or null
  activation act = activation::none;
  float clamp_lo = 0.0f, clamp_hi = 0.0f;  // for activation::clamp
};

namespace kernel {

// The micro-kernel of this translation unit's target.
#if FP8_ISA_AVX512BF16
using gemm_default = gemm_bf16dot_12x32__avx512bf16;
#elif FP8_ISA_SSE2
using gemm_default = gemm_f32fma__xsimd;
#else
using gemm_default = gemm_f32_4x8__scalar;
#endif

namespace detail {

// The number of elements a rows x cols matrix with leading dimension ld
// spans, (rows - 1) * ld + cols, or false if that many elements of `size`
// bytes overflow size_t.
inline bool extent(std::size_t rows, std::size_t cols, std::size_t ld, std::size_t size, std::size_t& out) noexcept {
  out = 0;
  if (rows == 0 || cols == 0) return true;
  const std::size_t max = std::numeric_limits<std::size_t>::max() / size;
  if (cols > max || rows - 1 > (max - cols) / ld) return false;  // ld >= cols >= 1 here
  out = (rows - 1) * ld + cols;
  return true;
}

inline bool overlap(const void* p, std::size_t pbytes, const void* q, std::size_t qbytes) noexcept {
  if (pbytes == 0 || qbytes == 0) return false;
  const auto a = reinterpret_cast<std::uintptr_t>(p), b = reinterpret_cast<std::uintptr_t>(q);
  return a < b + qbytes && b < a + pbytes;
}

// Every check of a GEMM call, in argument order; a_size is the bytes of one
// element of A (1 for FP8).
inline void check_gemm(const char* fn, transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k,
                       const void* a, std::size_t lda, std::size_t a_size, const void* b, std::size_t ldb,
                       const float* c, std::size_t ldc, bool b_packed) {
  const bool at = ta == transpose::yes, bt = tb == transpose::yes;
  // Stored shapes: A is m x k (or k x m), B is k x n (or n x k).
  const std::size_t a_rows = at ? k : m, a_cols = at ? m : k;
  const std::size_t b_rows = bt ? n : k, b_cols = bt ? k : n;
  if (m != 0 && k != 0) FP8_REQUIRE_ARG(a != nullptr, fn, "a", "is null while m and k are nonzero");
  FP8_REQUIRE_ARG(lda >= a_cols, fn, "lda", at ? "is smaller than m (A is k x m)" : "is smaller than k (A is m x k)");
  std::size_t a_extent = 0, b_extent = 0, c_extent = 0;
  FP8_REQUIRE_ARG(extent(a_rows, a_cols, lda, a_size, a_extent), fn, "lda", "makes the extent of A overflow size_t");
  if (!b_packed) {
    if (k != 0 && n != 0) FP8_REQUIRE_ARG(b != nullptr, fn, "b", "is null while k and n are nonzero");
    FP8_REQUIRE_ARG(ldb >= b_cols, fn, "ldb", bt ? "is smaller than k (B is n x k)" : "is smaller than n (B is k x n)");
    FP8_REQUIRE_ARG(extent(b_rows, b_cols, ldb, 1, b_extent), fn, "ldb", "makes the extent of B overflow size_t");
  }
  if (m != 0 && n != 0) FP8_REQUIRE_ARG(c != nullptr, fn, "c", "is null while m and n are nonzero");
  FP8_REQUIRE_ARG(ldc >= n, fn, "ldc", "is smaller than n (C is m x n)");
  FP8_REQUIRE_ARG(extent(m, n, ldc, sizeof(float), c_extent), fn, "ldc", "makes the extent of C overflow size_t");
  FP8_REQUIRE_ARG(!overlap(c, c_extent * sizeof(float), a, a_extent * a_size), fn, "c", "overlaps a");
  FP8_REQUIRE_ARG(!overlap(c, c_extent * sizeof(float), b, b_extent), fn, "c", "overlaps b");
}

inline void check_options(const char* fn, std::size_t m, std::size_t n, const gemm_options& o) {
  (void)m;
  (void)n;
  if (o.act == activation::clamp)
    FP8_REQUIRE_ARG(o.clamp_lo <= o.clamp_hi, fn, "options.clamp_lo", "is greater than options.clamp_hi (or NaN)");
}

inline tile_epilogue make_epilogue(float alpha, float beta, const gemm_options& o) noexcept {
  tile_epilogue e;
  e.alpha = alpha;
  e.beta = beta;
  e.row_scale = o.row_scale;
  e.col_scale = o.col_scale;
  e.bias = o.bias;
  e.clamp = o.act != activation::none;
  e.lo = o.act == activation::relu ? 0.0f : o.clamp_lo;
  e.hi = o.act == activation::relu ? std::numeric_limits<float>::infinity() : o.clamp_hi;
  return e;
}

// Threads worth starting: at least 2^22 multiply-adds each (a few
// microseconds of work, about the cost of starting a std::thread).
inline std::size_t useful_threads(std::size_t asked, std::size_t m, std::size_t n, std::size_t k) noexcept {
  std::size_t t = asked != 0 ? asked : std::max<std::size_t>(1, std::thread::hardware_concurrency());
  const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const double cap = std::max(1.0, work / 4194304.0);
  if (static_cast<double>(t) > cap) t = static_cast<std::size_t>(cap);
  return std::max<std::size_t>(1, t);
}

// k == 0 or alpha == 0: op(A) op(B) contributes nothing (and, as in BLAS, A
// and B are not read): C = beta * C (never read if beta == 0), then bias and
// clamp.
inline void scale_only(std::size_t m, std::size_t n, float* c, std::size_t ldc, tile_epilogue e) noexcept {
  e.first = e.last = true;
  const float zero = 0.0f;
  for (std::size_t i = 0; i < m; ++i) {
    tile_epilogue ei = e;
    if (e.row_scale != nullptr) ei.row_scale = e.row_scale + i;
    for (std::size_t j = 0; j < n; ++j) epilogue_store(ei, 0, j, zero, c + i * ldc + j);
  }
}

}  // namespace detail

// The whole call for micro-kernel K, after the checks: the tests run every
// kernel compiled into their translation unit through this.
template <class K, class FA, class FB>
void gemm_unchecked(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
                    const std::uint8_t* a, std::size_t lda, const std::uint8_t* b, std::size_t ldb, float beta,
                    float* c, std::size_t ldc, const gemm_options& o, const prepacked_view<K>* pb) {
  if (m == 0 || n == 0) return;
  const tile_epilogue e = detail::make_epilogue(alpha, beta, o);
  if (k == 0 || alpha == 0.0f) {
    detail::scale_only(m, n, c, ldc, e);
    return;
  }
  const code_view av{a, ta == transpose::no ? lda : 1, ta == transpose::no ? 1 : lda};
  const code_view bv{b, tb == transpose::no ? 1 : ldb, tb == transpose::no ? ldb : 1};
  const gemm_output out{c, ldc, k, e};
  const std::size_t threads = detail::useful_threads(o.threads, m, n, k);
#if FP8_HAVE_DOT_AVX512BF16
  // Few rows against B stored n x k: stream B once (kernels/dot_avx512bf16.hpp).
  if (std::is_same<K, gemm_bf16dot_12x32__avx512bf16>::value && pb == nullptr && tb == transpose::yes &&
      m <= dot_max_m) {
    aligned_buffer<std::uint16_t> ad(m * round_up(k, 64));
    dot_decode_a<FA>(av, m, k, ad.data());
    parallel_run(threads, [&](std::size_t t) {
      std::size_t n0, n1;
      part_range(n, 8, threads, t, n0, n1);
      gemm_dot_part<FB>(ad.data(), m, b, ldb, n0, n1, out);
    });
    return;
  }
#endif
  constexpr blocking bl = K::block;
  const split2d s = choose_split(m, n, bl.mr, bl.nr, threads);
  parallel_run(s.tm * s.tn, [&](std::size_t t) {
    std::size_t m0, m1, n0, n1;
    part_range(m, bl.mr, s.tm, t / s.tn, m0, m1);
    part_range(n, bl.nr, s.tn, t % s.tn, n0, n1);
    gemm_blocked<K, FA, FB>(av, bv, pb, out, m0, m1, n0, n1);
  });
}

template <class K, class FA, class FB>
void gemm_with(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
               const fp8<FA>* a, std::size_t lda, const fp8<FB>* b, std::size_t ldb, float beta, float* c,
               std::size_t ldc, const gemm_options& o) {
  detail::check_gemm("fp8::gemm", ta, tb, m, n, k, a, lda, 1, b, ldb, c, ldc, false);
  detail::check_options("fp8::gemm", m, n, o);
  gemm_unchecked<K, FA, FB>(ta, tb, m, n, k, alpha, reinterpret_cast<const std::uint8_t*>(a), lda,
                            reinterpret_cast<const std::uint8_t*>(b), ldb, beta, c, ldc, o, nullptr);
}

}  // namespace kernel

// C = alpha * op(A) * op(B) + beta * C, with options.
template <class FA, class FB>
void gemm(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const fp8<FA>* a,
          std::size_t lda, const fp8<FB>* b, std::size_t ldb, float beta, float* c, std::size_t ldc,
          const gemm_options& options) {
  kernel::gemm_with<kernel::gemm_default>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, options);
}

// C = alpha * op(A) * op(B) + beta * C, on one thread.
template <class FA, class FB>
void gemm(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const fp8<FA>* a,
          std::size_t lda, const fp8<FB>* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, gemm_options{});
}

// op(B) (k x n) decoded and packed once for the micro-kernel of this
// translation unit, to be reused by many gemm calls (weights): the packing
// work of every call is gone. The pointer b is not kept.
template <class FB>
class packed_b {
 public:
  using kernel_type = kernel::gemm_default;

  packed_b(transpose tb, std::size_t k, std::size_t n, const fp8<FB>* b, std::size_t ldb) : k_(k), n_(n) {
    const char* fn = "fp8::packed_b";
    const bool bt = tb == transpose::yes;
    std::size_t extent = 0;
    if (k != 0 && n != 0) FP8_REQUIRE_ARG(b != nullptr, fn, "b", "is null while k and n are nonzero");
    FP8_REQUIRE_ARG(ldb >= (bt ? k : n), fn, "ldb", bt ? "is smaller than k (B is n x k)" : "is smaller than n (B is k x n)");
    FP8_REQUIRE_ARG(kernel::detail::extent(bt ? n : k, bt ? k : n, ldb, 1, extent), fn, "ldb",
                    "makes the extent of B overflow size_t");
    data_ = kernel::aligned_buffer<typename kernel_type::packed>(kernel::packed_b_size<kernel_type>(k, n));
    if (k != 0 && n != 0)
      kernel::pack_b_all<FB, kernel_type>(
          kernel::code_view{reinterpret_cast<const std::uint8_t*>(b), bt ? ldb : 1, bt ? 1 : ldb}, k, n, data_.data());
  }
  std::size_t k() const noexcept { return k_; }
  std::size_t n() const noexcept { return n_; }
  // The packed panels, kernels/driver.hpp's prepacked_view layout.
  kernel::prepacked_view<kernel_type> view() const noexcept {
    return {data_.data(), (n_ + kernel_type::block.nr - 1) / kernel_type::block.nr};
  }

 private:
  std::size_t k_, n_;
  kernel::aligned_buffer<typename kernel_type::packed> data_;
};

// C = alpha * op(A) * B + beta * C with B packed beforehand (k and n are B's).
template <class FA, class FB>
void gemm(transpose ta, std::size_t m, float alpha, const fp8<FA>* a, std::size_t lda, const packed_b<FB>& b,
          float beta, float* c, std::size_t ldc, const gemm_options& options = {}) {
  using K = typename packed_b<FB>::kernel_type;
  kernel::detail::check_gemm("fp8::gemm", ta, transpose::no, m, b.n(), b.k(), a, lda, 1, nullptr, b.n(), c, ldc,
                             true);
  kernel::detail::check_options("fp8::gemm", m, b.n(), options);
  const auto view = b.view();
  kernel::gemm_unchecked<K, FA, FB>(ta, transpose::no, m, b.n(), b.k(), alpha, reinterpret_cast<const std::uint8_t*>(a),
                                    lda, nullptr, b.n(), beta, c, ldc, options, &view);
}

FP8_END_NAMESPACE
