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
// float32. beta == 0 never reads C. A may also hold bfloat16, half or float
// values (weight-only GEMM: bfloat16 and half products stay exact, float
// ones round), B bfloat16 or half values (a layer kept in 16 bits: products
// exact), and C may be bfloat16, half (both rounded to nearest even,
// overflowing to infinity) or FP8 (with an output scale). gemm_options add threads,
// per-row and per-column scales, DeepSeek-V3 block scales, bias and a
// ReLU/clamp epilogue (the formula is in kernels/epilogue.hpp). packed_b
// holds op(B) packed once for reuse.
//
// Structure (docs/gemm.md): checks here, then the five BLIS loops of
// kernels/driver.hpp over the micro-kernel of the tier the entry chooses
// once per call (detail/dispatch.hpp: at run time by default; kernel_of
// below maps a tier to its kernels), threads over rectangles of C
// (kernels/parallel.hpp). Results are bit-identical for every thread count,
// and for every tier whose kernels sum in the same order (the float kernels
// of every width do; vdpbf16ps adds a k pair's two products first).
//
// Bad input (null pointers with nonzero sizes, a leading dimension smaller
// than the row it describes, a matrix whose extent overflows size_t, C
// overlapping A or B) throws fp8::invalid_argument naming the argument,
// before anything is read or written (error.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"
#include "../types/counted.hpp"
#include "../types/float16.hpp"
#include "../types/fp8.hpp"
#include "../types/format.hpp"
#include "../codec/kernels.hpp"
#include "blocking.hpp"
#include "buffer.hpp"
#include "dot_avx512bf16.hpp"
#include "driver.hpp"
#include "epilogue.hpp"
#include "microkernel_avx512bf16.hpp"
#include "microkernel_f32.hpp"
#include "microkernel_f32_x86.hpp"
#include "output.hpp"
#include "parallel.hpp"
#include "profile.hpp"
#include "smallm_f32.hpp"

FP8_BEGIN_NAMESPACE

enum class transpose { no, yes };

FP8_ENUM_RANGE(transpose, yes)

// The options of a GEMM: those of every kernel entry (threads, executor,
// activation, FP8 output scale and overflow: kernels/output.hpp), and the
// scale and bias arrays.
struct gemm_options : output_options {
  // Each array a pointer, or a container or pointer and count whose count
  // the call checks (fp8::counted, types/counted.hpp).
  counted<const float> row_scale;  // m floats, one per row of op(A) (per token), or null
  counted<const float> col_scale;  // n floats, one per column of op(B) (per output channel), or null
  counted<const float> bias;       // n floats added after alpha, scales and beta, or null
  // Block scales (the DeepSeek-V3 FP8 layout), either or both, or null:
  // a_block_scale holds m x ceil(k / scale_block) floats, row-major, the
  // scale of op(A)[i][kb * scale_block ...]; b_block_scale holds
  // ceil(n / scale_block) x ceil(k / scale_block) floats, row-major, the
  // scale of the square block (j / scale_block, kb) of op(B) (DeepSeek's
  // weight_scale_inv of an n x k weight). scale_block: positive and even.
  counted<const float> a_block_scale;
  counted<const float> b_block_scale;
  std::size_t scale_block = 128;
};

namespace kernel {
FP8_BEGIN_TU_NAMESPACE

// The float micro-kernel of the build's flags (xsimd's widest vector, or
// plain C++): every tier below avx512bf16 runs it, and float A (weight-only
// GEMM) needs it on every tier, since rounding A to bfloat16 would change
// the products.
#if FP8_ISA_SSE2
using gemm_f32_default = gemm_f32fma__xsimd;
#else
using gemm_f32_default = gemm_f32_4x8__scalar;
#endif

// The kernel a call on tier Tag (an isa:: tag from detail::dispatch) with A
// of type TA and B of type TB runs: the tier's whole choice, in one place.
// portable and sse2 run the flags' float kernel; avx2 and avx512 their
// intrinsic float kernels; avx512bf16 vdpbf16ps when both operands are
// exact in bfloat16 (FP8 codes, bfloat16), avx512's float kernel when
// either is float or half (needs_float_kernel, pack.hpp).
template <class Tag, class TA, class TB = bfloat16>
struct kernel_of {
  using type = gemm_f32_default;
};
#if FP8_TIER_AVX2
template <class TA, class TB>
struct kernel_of<isa::avx2, TA, TB> {
  using type = gemm_f32fma_6x16__avx2;
};
#endif
#if FP8_TIER_AVX512
template <class TA, class TB>
struct kernel_of<isa::avx512, TA, TB> {
  using type = gemm_f32fma_12x32__avx512;
};
#endif
#if FP8_TIER_AVX512BF16
template <class TA, class TB>
struct kernel_of<isa::avx512bf16, TA, TB> {
  using type = std::conditional_t<needs_float_kernel<TA> || needs_float_kernel<TB>, gemm_f32fma_12x32__avx512,
                                  gemm_bf16dot_12x32__avx512bf16>;
};
#endif

template <class T>
struct is_matrix_source : std::false_type {};
template <class T>
struct is_matrix_source<matrix_source<T>> : std::true_type {};
template <class T>
struct is_fp8_matrix : std::false_type {};
template <class F>
struct is_fp8_matrix<matrix_source<fp8<F>>> : std::true_type {};

// The element types the GEMM accepts for A and C, and for B.
template <class T>
struct is_fp8_type : std::false_type {};
template <class F>
struct is_fp8_type<fp8<F>> : std::true_type {};
template <class T>
constexpr bool is_gemm_value = is_fp8_type<T>::value || std::is_same<T, bfloat16>::value ||
                               std::is_same<T, half>::value || std::is_same<T, float>::value;
template <class T>
constexpr bool is_gemm_b_value = is_gemm_value<T> && !std::is_same<T, float>::value;

// B's element type named by packed_b's first parameter: an FP8 format tag
// (packed_b<E4M3>) stands for fp8<E4M3>; a value type (bfloat16, half,
// fp8<F>) for itself.
template <class X>
using b_operand_t = std::conditional_t<::fp8::detail::is_value_type<X>::value, X, fp8<X>>;

namespace detail {

// What gemm_options may hold, for a call of m x n x k with C of c_bytes
// bytes at c (README, "Arguments"): the output options (check_output); scale arrays
// of positive finite floats that C does not overlap (nor bias); and, when the
// product is formed (alpha != 0, k != 0), every r = |alpha| * row_scale *
// a_block_scale, c = col_scale * b_block_scale and r * c in the normal float
// range (kernels/epilogue.hpp forms them in float).
inline void check_options(const char* fn, const gemm_options& o, bool c_is_fp8, std::size_t m, std::size_t n,
                          std::size_t k, float alpha, const void* c, std::size_t c_bytes) {
  using ::fp8::detail::check_scales;
  check_output(fn, o, c_is_fp8, "C");
  const bool blocks = o.a_block_scale != nullptr || o.b_block_scale != nullptr;
  if (blocks)
    FP8_REQUIRE_ARG(o.scale_block != 0 && o.scale_block % 2 == 0, fn, "options.scale_block",
                    "must be positive and even when a block scale is given");
  // m * kblocks <= m * k and nblocks * kblocks <= n * k: the extents of A and
  // B, which fit size_t (check_gemm).
  const std::size_t kblocks = blocks ? (k + o.scale_block - 1) / o.scale_block : 0;
  const std::size_t a_count = m * kblocks, b_count = blocks ? (n + o.scale_block - 1) / o.scale_block * kblocks : 0;
  ::fp8::detail::require_count(fn, "options.row_scale", o.row_scale, m, "m");
  ::fp8::detail::require_count(fn, "options.col_scale", o.col_scale, n, "n");
  ::fp8::detail::require_count(fn, "options.bias", o.bias, n, "n");
  ::fp8::detail::require_count(fn, "options.a_block_scale", o.a_block_scale, a_count, "m x ceil(k / scale_block)");
  ::fp8::detail::require_count(fn, "options.b_block_scale", o.b_block_scale, b_count,
                               "ceil(n / scale_block) x ceil(k / scale_block)");
  const struct {
    const void* p;
    std::size_t count;
    const char* name;
  } arrays[] = {{o.row_scale, m, "options.row_scale"},
                {o.col_scale, n, "options.col_scale"},
                {o.bias, n, "options.bias"},
                {o.a_block_scale, a_count, "options.a_block_scale"},
                {o.b_block_scale, b_count, "options.b_block_scale"}};
  for (const auto& x : arrays)
    ::fp8::detail::require_disjoint(fn, "c", c, c_bytes, x.name, x.p, x.count * sizeof(float));
  // The scales' values last, after everything judged without reading them.
  const auto row = check_scales(fn, "options.row_scale", o.row_scale, m);
  const auto col = check_scales(fn, "options.col_scale", o.col_scale, n);
  const auto ab = check_scales(fn, "options.a_block_scale", o.a_block_scale, a_count);
  const auto bb = check_scales(fn, "options.b_block_scale", o.b_block_scale, b_count);
  if (alpha == 0.0f || k == 0 || m == 0 || n == 0) return;  // no product: the scales are not used
  const double a = std::fabs(static_cast<double>(alpha));
  const ::fp8::detail::scale_range r = ::fp8::detail::scale_range{a, a} * row * ab, cs = col * bb;
  const char* r_name = o.row_scale != nullptr       ? "options.row_scale"
                       : o.a_block_scale != nullptr ? "options.a_block_scale"
                                                    : "alpha";
  const char* c_name = o.col_scale != nullptr ? "options.col_scale" : "options.b_block_scale";
  ::fp8::detail::check_scale_product(fn, r_name, "|alpha| x row_scale x a_block_scale", r);
  ::fp8::detail::check_scale_product(fn, c_name, "col_scale x b_block_scale", cs);
  ::fp8::detail::check_scale_product(fn, "alpha", "|alpha| times every row, column and block scale", r * cs);
}

// Every check of a GEMM call, in argument order; a_size, b_size and c_size
// are the bytes of one element of A, B and C; b_packed: B is a packed_b (b
// is unused).
inline void check_gemm(const char* fn, transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k,
                       float alpha, const void* a, std::size_t lda, std::size_t a_size, const void* b, std::size_t ldb,
                       std::size_t b_size, float beta, const void* c, std::size_t ldc, std::size_t c_size, bool b_packed,
                       const gemm_options& o, bool c_is_fp8) {
  namespace d = ::fp8::detail;
  d::require_enumerator(fn, "ta", ta);
  d::require_enumerator(fn, "tb", tb);
  const bool at = ta == transpose::yes, bt = tb == transpose::yes;
  // Stored shapes: A is m x k (or k x m), B is k x n (or n x k).
  FP8_REQUIRE_ARG(std::isfinite(alpha), fn, "alpha", "must be finite");
  FP8_REQUIRE_ARG(std::isfinite(beta), fn, "beta", "must be finite");
  const d::matrix_arg mats[3] = {
      {"a", "lda", a, at ? k : m, at ? m : k, lda, a_size, "m and k", at ? "m (A is k x m)" : "k (A is m x k)"},
      b_packed ? d::matrix_arg{"b", "ldb", nullptr, 0, 0, 0, 1}  // a packed_b: nothing to check here
               : d::matrix_arg{"b", "ldb", b, bt ? n : k, bt ? k : n, ldb, b_size, "k and n",
                               bt ? "k (B is n x k)" : "n (B is k x n)"},
      {"c", "ldc", c, m, n, ldc, c_size, "m and n", "n (C is m x n)"}};
  std::size_t bytes[3];
  d::check_matrices(fn, mats, bytes);
  const std::size_t a_bytes = bytes[0], b_bytes = bytes[1], c_bytes = bytes[2];
  d::require_disjoint(fn, "c", c, c_bytes, "a", a, a_bytes);
  d::require_disjoint(fn, "c", c, c_bytes, "b", b, b_bytes);
  check_options(fn, o, c_is_fp8, m, n, k, alpha, c, c_bytes);
}

inline tile_epilogue make_epilogue(float alpha, float beta, const gemm_options& o) noexcept {
  return make_epilogue(alpha, beta, o, o.row_scale, o.col_scale, o.bias);
}

// k == 0 or alpha == 0: op(A) op(B) contributes nothing (and, as in BLAS, A
// and B are not read): C = beta * C (never read if beta == 0), then bias and
// clamp.
inline void scale_only(std::size_t m, std::size_t n, float* c, std::size_t ldc, tile_epilogue e) noexcept {
  e.first = e.last = true;
  e.alpha = 0.0f;  // the product is +0 (the scales are not used: alpha == 0 skips their range check)
  e.row_scale = e.col_scale = nullptr;
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) epilogue_store(e, 0, j, 0.0f, c + i * ldc + j);
}

}  // namespace detail

// bfloat16 operands on vdpbf16ps: the instruction flushes bfloat16
// subnormal inputs and float subnormal results to zero. A product of nonzero
// a and b is a multiple of step(a) * step(b), the values of their last bits,
// and so is every partial sum of such products: when every step(a) *
// step(b) >= 2^-126, no nonzero product or sum is below 2^-126, none is
// subnormal, nothing is flushed, and the products stay exact. least_step is
// the exponent of the smallest step among an operand's values: its format's
// subnormal step for FP8 (which decodes to a normal bfloat16), the least
// over its nonzero values for bfloat16 (2^e * 1.f has step 2^(e - 7)), and
// far below any bound when a value is subnormal (flushed on input). A call
// whose two least steps sum below -126 runs the float micro-kernel (float
// FMA: exact products, gradual underflow) instead. Scaling an operand by a
// power of two would not do: a row may span bfloat16's whole range.
constexpr int flush_free_step = -126;  // the least step exponent of a product vdpbf16ps keeps
// half and float operands: the float micro-kernel, which flushes nothing.
template <class T>
int least_step(const matrix_source<T>&, std::size_t, std::size_t) noexcept {
  return 1000;
}
template <class F>
int least_step(const matrix_source<fp8<F>>&, std::size_t, std::size_t) noexcept {
  return format_traits<F>::subnormal_exponent;
}
// rows x cols elements of x (element (r, k) at p[r * rs + k * ks]).
inline int least_step(const matrix_source<bfloat16>& x, std::size_t rows, std::size_t cols) noexcept {
  int least = 1000;  // no nonzero value: no product to flush
  if (cols == 0) return least;  // an empty operand of any width (k = 0, n huge) has no element to visit
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t t = 0; t < cols; ++t) {
      const unsigned v = x.p[r * x.rs + t * x.ks].bits() & 0x7FFFu, e = v >> 7;
      if (v == 0 || e == 0xFF) continue;  // zero, infinity, NaN: no step
      if (e == 0) return -1000;           // subnormal: flushed to zero as an input
      least = std::min(least, static_cast<int>(e) - 127 - 7);
    }
  return least;
}
// op(B) read back from panels packed for kernel K (a packed_b), as a B
// operand for another kernel's packing: how a packed_b serves the float
// kernel in the case above. Every packed value is an exact FP8 value.
template <class K>
struct prepacked_source {
  prepacked_view<K> v;
  std::size_t k;
  template <class K2>
  void pack(std::size_t c0, std::size_t cols, std::size_t R, std::size_t k0, std::size_t kc, std::uint8_t*,
            typename K2::packed* dst, std::size_t) const noexcept {
    constexpr std::size_t G = K2::kgroup;
    const std::size_t kp = (kc + G - 1) / G * G;
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t t = 0; t < kp; ++t) {
        const float x = r < cols && t < kc ? static_cast<float>(v.at(k0 + t, c0 + r, k)) : 0.0f;
        dst[(t / G * R + r) * G + t % G] = static_cast<typename K2::packed>(x);
      }
  }
};

// The float result of a call for micro-kernel K into the float matrix c,
// after the checks: SA and SB are matrix_source (driver.hpp) or anything
// with the same pack(); small_m allows the small-m path (decided on the whole
// call's m, so every row of C takes the same path).
template <class K, class SA, class SB>
void gemm_float(const SA& a, const SB& b, std::size_t m, std::size_t n, std::size_t k, float alpha, float beta,
                float* c, std::size_t ldc, const gemm_options& o, const prepacked_view<K>* pb, bool small_m) {
  if (m == 0 || n == 0) return;
  tile_epilogue e = detail::make_epilogue(alpha, beta, o);
  if (k == 0 || alpha == 0.0f) {
    detail::scale_only(m, n, c, ldc, e);
    return;
  }
  if constexpr (std::is_same<typename K::packed, bfloat16>::value && is_matrix_source<SA>::value &&
                is_matrix_source<SB>::value &&
                (std::is_same<SA, matrix_source<bfloat16>>::value || std::is_same<SB, matrix_source<bfloat16>>::value)) {
    const int step_b = pb != nullptr ? pb->least_step : least_step(b, n, k);
    if (least_step(a, m, k) + step_b < flush_free_step) {
      using KF = typename kernel_of<typename K::tier, float>::type;  // the tier's float kernel
      const prepacked_view<KF>* none = nullptr;
      if (pb == nullptr)
        gemm_float<KF>(a, b, m, n, k, alpha, beta, c, ldc, o, none, small_m);
      else
        gemm_float<KF>(a, prepacked_source<K>{*pb, k}, m, n, k, alpha, beta, c, ldc, o, none, false);
      return;
    }
  }
  block_scales bs;
  if (o.a_block_scale != nullptr || o.b_block_scale != nullptr)
    bs = {o.a_block_scale, o.b_block_scale, o.scale_block, (k + o.scale_block - 1) / o.scale_block};
  aligned_buffer<float> folded;  // r = alpha * row_scale (kernels/epilogue.hpp); blocks fold per block
  if (bs.block == 0 && o.row_scale != nullptr) {
    folded = aligned_buffer<float>(m);
    for (std::size_t i = 0; i < m; ++i) folded.data()[i] = fold_scale(alpha, o.row_scale[i]);
    e.row_scale = folded.data();
  }
  const gemm_output out{c, ldc, k, e, bs};
  const std::size_t threads = detail::useful_threads(o.threads, m, n, k);
  if constexpr (is_matrix_source<SA>::value && is_fp8_matrix<SB>::value) {
    if (small_m && pb == nullptr) {
      // Few rows: FP8 B is read once from the caller's memory, never packed
      // (16-bit B takes the blocked path at every m).
      using FB = typename SB::value_type::format;
      const auto* bp = reinterpret_cast<const std::uint8_t*>(b.p);
      const bool rows_k = b.ks == 1;  // B stored n x k: column j of op(B) is a run of k codes
#if FP8_TIER_AVX512BF16
      // AVX512-BF16 (FP8 or bfloat16 A): 64 codes decoded in registers per
      // step, vdpbf16ps (kernels/dot_avx512bf16.hpp).
      if constexpr (std::is_same<K, gemm_bf16dot_12x32__avx512bf16>::value &&
                    !std::is_same<typename SA::value_type, float>::value) {
        if (rows_k && bs.block % 64 == 0) {
          aligned_buffer<std::uint16_t> ad(m * round_up(k, 64));
          {
            FP8_PROFILE_SCOPE(decode);
            dot_decode_a(a, m, k, ad.data());
          }
          parallel_run(o.executor, threads, [&](std::size_t t) {
            std::size_t n0, n1;
            part_range(n, 8, threads, t, n0, n1);
            FP8_PROFILE_SCOPE(kernel);
            gemm_dot_part<FB>(ad.data(), m, bp, b.rs, n0, n1, out);
          });
          return;
        }
      }
#endif
      // Every other case, in float (kernels/smallm_f32.hpp).
      aligned_buffer<float> ad;
      {
        FP8_PROFILE_SCOPE(decode);
        ad = smallm::a_segments(a, m, k, smallm::segments_of(k, bs), typename K::tier{});
      }
      parallel_run(o.executor, threads, [&](std::size_t t) {
        std::size_t n0, n1;
        part_range(n, 16, threads, t, n0, n1);
        if (n0 >= n1) return;
        FP8_PROFILE_SCOPE(kernel);
        if (rows_k)
          gemm_f32dot_rows<FB>(ad.data(), m, bp, b.rs, n0, n1, out, typename K::tier{});
        else
          gemm_f32axpy_rows<FB>(ad.data(), m, bp, b.ks, n0, n1, out, typename K::tier{});
      });
      return;
    }
  }
  (void)small_m;
  constexpr blocking bl = K::block;
  const std::size_t unit = row_period(a) != 0 ? row_period(a) : bl.mr;  // rows of C per part: whole tiles or periods
  const split2d s = choose_split(m, n, unit, bl.nr, threads);
  parallel_run(o.executor, s.tm * s.tn, [&](std::size_t t) {
    std::size_t m0, m1, n0, n1;
    part_range(m, unit, s.tm, t / s.tn, m0, m1);
    part_range(n, bl.nr, s.tn, t % s.tn, n0, n1);
    gemm_blocked<K>(a, b, pb, out, m0, m1, n0, n1);
  });
}

// The whole call for micro-kernel K after the checks, for any output type:
// float C is the float result; bfloat16 and FP8 C get it through a float
// scratch of at most max(MC, 2^21 / n) rows at a time (8 MiB), converted per
// row (a product needs the float sum over all of k before it can round).
template <class K, class SA, class SB, class TC>
void gemm_any(const SA& a, const SB& b, std::size_t m, std::size_t n, std::size_t k, float alpha, float beta, TC* c,
              std::size_t ldc, const gemm_options& o, const prepacked_view<K>* pb) {
  const bool small_m = m <= smallm_max;
  if constexpr (std::is_same<TC, float>::value) {
    gemm_float<K>(a, b, m, n, k, alpha, beta, c, ldc, o, pb, small_m);
  } else {
    if (m == 0 || n == 0) return;
    constexpr std::size_t mc = K::block.mc;
    const std::size_t chunk = std::min(m, std::max(mc, (std::size_t{1} << 21) / n / mc * mc));
    aligned_buffer<float> tmp(chunk * n);
    for (std::size_t r0 = 0; r0 < m; r0 += chunk) {
      const std::size_t rows = std::min(chunk, m - r0);
      if (beta != 0.0f) {
        FP8_PROFILE_SCOPE(output);
        for (std::size_t i = 0; i < rows; ++i)
          detail::load_row(c + (r0 + i) * ldc, tmp.data() + i * n, n, o, typename K::tier{});
      }
      gemm_options part = o;
      if (o.row_scale != nullptr) part.row_scale = o.row_scale + r0;
      if (o.a_block_scale != nullptr)
        part.a_block_scale = o.a_block_scale + r0 * ((k + o.scale_block - 1) / o.scale_block);
      gemm_float<K>(a.rows_from(r0), b, rows, n, k, alpha, beta, tmp.data(), n, part, pb, small_m);
      FP8_PROFILE_SCOPE(output);
      for (std::size_t i = 0; i < rows; ++i)
        detail::store_row(tmp.data() + i * n, c + (r0 + i) * ldc, n, o, typename K::tier{});
    }
  }
}

// The checked call for micro-kernel K (the tests run every kernel compiled
// into their translation unit through this).
template <class K, class TA, class TB, class TC>
void gemm_with(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const TA* a,
               std::size_t lda, const TB* b, std::size_t ldb, float beta, TC* c, std::size_t ldc,
               const gemm_options& o) {
  static_assert(is_gemm_value<TA>, "A holds fp8<F>, bfloat16, half or float");
  static_assert(is_gemm_b_value<TB>, "B holds fp8<F>, bfloat16 or half");
  static_assert(is_gemm_value<TC>, "C holds float, bfloat16, half or fp8<F>");
  detail::check_gemm("fp8::gemm", ta, tb, m, n, k, alpha, a, lda, sizeof(TA), b, ldb, sizeof(TB), beta, c, ldc,
                     sizeof(TC), false, o, is_fp8_type<TC>::value);
  const matrix_source<TA> av{a, ta == transpose::no ? lda : 1, ta == transpose::no ? 1 : lda};
  const matrix_source<TB> bv{b, tb == transpose::no ? 1 : ldb, tb == transpose::no ? ldb : 1};
  gemm_any<K>(av, bv, m, n, k, alpha, beta, c, ldc, o, nullptr);
}

FP8_END_TU_NAMESPACE
}  // namespace kernel

// What a packed_b or packed_conv_weights was packed for: the micro-kernel's
// name, tile, depth, k group and value size. A packed operand is used only
// with a kernel of the same layout; another (a unit built with other flags
// under static dispatch, or FP8_MAX_TIER set differently) is a clear error.
namespace kernel {
struct panel_layout {
  const char* kernel = "";
  std::size_t mr = 0, nr = 0, kc = 0, kgroup = 0, value_bytes = 0;
};
FP8_BEGIN_TU_NAMESPACE
template <class K>
constexpr panel_layout layout_of() noexcept {
  return {K::name, K::block.mr, K::block.nr, K::block.kc, K::kgroup, sizeof(typename K::packed)};
}
inline bool same_layout(const panel_layout& a, const panel_layout& b) noexcept {
  return std::strcmp(a.kernel, b.kernel) == 0 && a.mr == b.mr && a.nr == b.nr && a.kc == b.kc && a.kgroup == b.kgroup &&
         a.value_bytes == b.value_bytes;
}
// The check every use of packed panels makes before reading them.
inline void require_layout(const char* fn, const char* arg, const panel_layout& packed, const panel_layout& run) {
  if (!same_layout(packed, run))
    ::fp8::detail::fail_argument(fn, arg,
                                 std::string("was packed for the micro-kernel ") + packed.kernel +
                                     " and this call runs " + run.kernel +
                                     " (pack it where it is used: a unit with other flags and static dispatch, or "
                                     "another FP8_MAX_TIER, chooses another kernel)");
}
FP8_END_TU_NAMESPACE
}  // namespace kernel

FP8_BEGIN_TU_NAMESPACE

// C = alpha * op(A) * op(B) + beta * C for every operand type: A fp8<F>,
// bfloat16, half or float; B fp8<F>, bfloat16 or half; C float, bfloat16,
// half or fp8<F> (with options.output_scale). The tier is chosen here, once.
template <class TA, class TB, class TC>
void gemm(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const TA* a,
          std::size_t lda, const TB* b, std::size_t ldb, float beta, TC* c, std::size_t ldc,
          const gemm_options& options = {}) {
  ::fp8::detail::dispatch([&](auto tier) {
    using K = typename kernel::kernel_of<decltype(tier), TA, TB>::type;
    kernel::gemm_with<K>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, options);
  });
}

// The FP8 x FP8 -> float form, which also takes the formats explicitly
// (gemm<E4M3, E5M2>(...)).
template <class FA, class FB>
void gemm(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const fp8<FA>* a,
          std::size_t lda, const fp8<FB>* b, std::size_t ldb, float beta, float* c, std::size_t ldc,
          const gemm_options& options = {}) {
  gemm<fp8<FA>, fp8<FB>, float>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, options);
}

FP8_END_TU_NAMESPACE

// op(B) (k x n) decoded and packed once, to be reused by many gemm calls
// (weights): the packing work of every call is gone. The pointer b is not
// kept. FB names B's elements: an FP8 format (packed_b<E4M3> holds
// fp8<E4M3> weights), bfloat16 or half. TA is the type of the A it will
// meet: FP8 and bfloat16 A share one packing (the default), float and half A
// need packed_b<FB, float> (float panels for the float kernel; half B
// always packs those, for either TA). The panels are laid out for the
// micro-kernel of the tier the constructor runs (layout()); gemm checks that
// it runs the same.
template <class FB, class TA = bfloat16>
class packed_b {
 public:
  using b_type = kernel::b_operand_t<FB>;
  static_assert(kernel::is_gemm_b_value<b_type>, "B holds fp8<F>, bfloat16 or half: packed_b<F>, <bfloat16>, <half>");

  // A template only so that units built with different flags keep their
  // constructors apart (Key names the unit's flags: detail/dispatch.hpp).
  template <class Key = ::fp8::detail::tu_key>
  packed_b(transpose tb, std::size_t k, std::size_t n, const b_type* b, std::size_t ldb) : k_(k), n_(n) {
    const char* fn = "fp8::packed_b";
    ::fp8::detail::require_enumerator(fn, "tb", tb);
    const bool bt = tb == transpose::yes;
    ::fp8::detail::check_matrix(fn, {"b", "ldb", b, bt ? n : k, bt ? k : n, ldb, sizeof(b_type), "k and n",
                                     bt ? "k (B is n x k)" : "n (B is k x n)"});
    const kernel::matrix_source<b_type> src{b, bt ? ldb : 1, bt ? 1 : ldb};
    least_step_ = kernel::least_step(src, n, k);
    ::fp8::detail::dispatch(
        [&](auto tier) { pack<typename kernel::kernel_of<decltype(tier), TA, b_type>::type>(src); });
  }
  std::size_t k() const noexcept { return k_; }
  std::size_t n() const noexcept { return n_; }
  const kernel::panel_layout& layout() const noexcept { return layout_; }
  // The packed panels as kernels/driver.hpp's prepacked_view for kernel K,
  // whose layout must be layout() (kernel::require_layout).
  template <class K>
  kernel::prepacked_view<K> view() const noexcept {
    return {panels<K>(), (n_ + K::block.nr - 1) / K::block.nr, least_step_};
  }

 private:
  template <class K>
  void pack(const kernel::matrix_source<b_type>& src) {
    layout_ = kernel::layout_of<K>();
    auto& data = storage<typename K::packed>();
    data = kernel::aligned_buffer<typename K::packed>(kernel::packed_b_size<K>(k_, n_));
    if (k_ != 0 && n_ != 0) kernel::pack_b_all<K>(src, k_, n_, data.data());
  }
  template <class P>
  kernel::aligned_buffer<P>& storage() noexcept {
    if constexpr (std::is_same<P, float>::value)
      return f32_;
    else
      return bf16_;
  }
  template <class K>
  const typename K::packed* panels() const noexcept {
    if constexpr (std::is_same<typename K::packed, float>::value)
      return f32_.data();
    else
      return bf16_.data();
  }
  std::size_t k_, n_;
  int least_step_ = 0;  // kernel::least_step of B's values
  kernel::panel_layout layout_;
  kernel::aligned_buffer<bfloat16> bf16_;  // the panels of a bfloat16 kernel, or
  kernel::aligned_buffer<float> f32_;      // those of a float kernel
};

FP8_BEGIN_TU_NAMESPACE

// C = alpha * op(A) * B + beta * C with B packed beforehand (k and n are B's).
template <class TA, class FB, class X, class TC>
void gemm(transpose ta, std::size_t m, float alpha, const TA* a, std::size_t lda, const packed_b<FB, X>& b, float beta,
          TC* c, std::size_t ldc, const gemm_options& options = {}) {
  using TB = typename packed_b<FB, X>::b_type;
  static_assert(kernel::is_gemm_value<TA> && kernel::is_gemm_value<TC>, "A and C hold fp8<F>, bfloat16, half or float");
  // The same kernel on every tier as the packing's: the float kernel for
  // half B whatever A is, otherwise as A needs it.
  static_assert(kernel::needs_float_kernel<TB> || kernel::needs_float_kernel<TA> == kernel::needs_float_kernel<X>,
                "float and half A need packed_b<FB, float>; FP8 and bfloat16 A need packed_b<FB>");
  const char* fn = "fp8::gemm";
  kernel::detail::check_gemm(fn, ta, transpose::no, m, b.n(), b.k(), alpha, a, lda, sizeof(TA), nullptr, b.n(),
                             sizeof(TB), beta, c, ldc, sizeof(TC), true, options, kernel::is_fp8_type<TC>::value);
  ::fp8::detail::dispatch([&](auto tier) {
    using K = typename kernel::kernel_of<decltype(tier), TA, TB>::type;
    kernel::require_layout(fn, "b", b.layout(), kernel::layout_of<K>());
    const auto view = b.template view<K>();
    const kernel::matrix_source<TA> av{a, ta == transpose::no ? lda : 1, ta == transpose::no ? 1 : lda};
    const kernel::matrix_source<TB> none{nullptr, 0, 0};
    kernel::gemm_any<K>(av, none, m, b.n(), b.k(), alpha, beta, c, ldc, options, &view);
  });
}

FP8_END_TU_NAMESPACE
FP8_END_NAMESPACE
