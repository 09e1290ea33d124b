// SPDX-License-Identifier: Apache-2.0
// What every kernel entry (fp8::gemm, fp8::conv2d, and the integer kernels
// to come) shares about its output, written once:
//
// - fp8::output_options, the options that say how the result is produced
//   and stored: threads and executor, the activation, and for FP8 output
//   the output scale and overflow policy. gemm_options and conv2d_options
//   derive from it and add what is their own (scale arrays, layouts);
// - the one check of those options (check_output), which every entry calls
//   before any work;
// - the epilogue parameters they turn into (make_epilogue,
//   kernels/epilogue.hpp), the thread count worth using, and the conversion
//   of a float result row to the caller's output type and back (load_row,
//   store_row: bfloat16 and half round to nearest even, FP8 goes through
//   the bulk codec of the call's tier with the output scale).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <thread>

#include "../codec/kernels.hpp"
#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/enum.hpp"
#include "../error.hpp"
#include "../types/float16.hpp"
#include "../types/format.hpp"
#include "../types/fp8.hpp"
#include "epilogue.hpp"
#include "parallel.hpp"

FP8_BEGIN_NAMESPACE

// What the epilogue does after scaling and beta (kernels/epilogue.hpp).
enum class activation {
  none,
  relu,   // max(x, 0)
  clamp,  // min(max(x, clamp_lo), clamp_hi)
};
FP8_ENUM_RANGE(activation, clamp)

struct output_options {
  // Threads that share the output (each computes whole tiles; the reduction
  // dimension is never split, so the bits do not depend on it). 0:
  // std::thread::hardware_concurrency(). Small problems use fewer threads
  // than asked, which changes nothing but time.
  std::size_t threads = 1;
  // Where the threads come from (kernels/parallel.hpp): null, the library's
  // persistent pool (fp8::default_executor()); or an engine's own.
  ::fp8::executor* executor = nullptr;
  activation act = activation::none;
  float clamp_lo = 0.0f, clamp_hi = 0.0f;  // for activation::clamp
  // FP8 output only (must stay 1 for float, bfloat16 and half output): the output
  // holds from_float(value / output_scale, output_overflow), and a beta
  // that reads it reads float(output) * output_scale, as the bulk codec
  // does (codec/bulk.hpp).
  float output_scale = 1.0f;
  overflow output_overflow = overflow::saturate;
};

namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace detail {

// The check of output_options for a call whose output (named `out`: "C",
// "output") is FP8 or not: enumerators; clamp_lo <= clamp_hi for a clamp;
// output_scale positive, finite, and 1 unless the output is FP8.
inline void check_output(const char* fn, const output_options& o, bool out_is_fp8, const char* out) {
  ::fp8::detail::require_enumerator(fn, "options.act", o.act);
  if (o.act == activation::clamp)
    FP8_REQUIRE_ARG(o.clamp_lo <= o.clamp_hi, fn, "options.clamp_lo", "is greater than options.clamp_hi (or NaN)");
  ::fp8::detail::require_enumerator(fn, "options.output_overflow", o.output_overflow);
  FP8_REQUIRE_ARG(std::isfinite(o.output_scale) && o.output_scale > 0.0f, fn, "options.output_scale",
                  "must be a positive finite float");
  if (!out_is_fp8)
    FP8_REQUIRE_ARG(
        o.output_scale == 1.0f, fn, "options.output_scale",
        std::string("applies to FP8 ") + out + " only (it must be 1 for float, bfloat16 and half " + out + ")");
}

// The epilogue of a call: alpha (r of every row without row scales), beta,
// the scale and bias arrays at row 0 / column 0, and the activation as a
// clamp (kernels/epilogue.hpp).
inline tile_epilogue make_epilogue(float alpha, float beta, const output_options& o, const float* row_scale,
                                   const float* col_scale, const float* bias) noexcept {
  tile_epilogue e;
  e.alpha = alpha;
  e.beta = beta;
  e.row_scale = row_scale;
  e.col_scale = col_scale;
  e.bias = bias;
  e.clamp = o.act != activation::none;
  e.lo = o.act == activation::relu ? 0.0f : o.clamp_lo;
  e.hi = o.act == activation::relu ? std::numeric_limits<float>::infinity() : o.clamp_hi;
  return e;
}

// Threads worth starting for `work` multiply-adds: one per `grain` of work
// or part of one (2^22 for the GEMM: a few microseconds, about the cost of
// waking a pool thread and of the duplicated packing), never more than asked.
inline std::size_t useful_threads(std::size_t asked, double work, double grain = 4194304.0) noexcept {
  std::size_t t = asked != 0 ? asked : std::max<std::size_t>(1, std::thread::hardware_concurrency());
  const double cap = std::max(1.0, std::ceil(work / grain));
  if (static_cast<double>(t) > cap) t = static_cast<std::size_t>(cap);
  return std::max<std::size_t>(1, t);
}
inline std::size_t useful_threads(std::size_t asked, std::size_t m, std::size_t n, std::size_t k) noexcept {
  return useful_threads(asked, static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k));
}

// Output elements to and from the float result, on the call's tier (Tag).
template <class Tag>
void load_row(const float* c, float* dst, std::size_t n, const output_options&, Tag) noexcept {
  std::copy(c, c + n, dst);
}
template <class Tag>
void load_row(const bfloat16* c, float* dst, std::size_t n, const output_options&, Tag) noexcept {
  for (std::size_t j = 0; j < n; ++j) dst[j] = static_cast<float>(c[j]);
}
template <class Tag>
void load_row(const half* c, float* dst, std::size_t n, const output_options&, Tag) noexcept {
  for (std::size_t j = 0; j < n; ++j) dst[j] = static_cast<float>(c[j]);
}
template <class F, class Tag>
void load_row(const fp8<F>* c, float* dst, std::size_t n, const output_options& o, Tag tag) noexcept {
  kernel::decode<F>(reinterpret_cast<const std::uint8_t*>(c), dst, n, o.output_scale, tag);
}
template <class Tag>
void store_row(const float* src, float* c, std::size_t n, const output_options&, Tag) noexcept {
  std::copy(src, src + n, c);
}
template <class Tag>
void store_row(const float* src, bfloat16* c, std::size_t n, const output_options&, Tag) noexcept {
  kernel::narrow_bfloat16(src, c, n);
}
template <class Tag>
void store_row(const float* src, half* c, std::size_t n, const output_options&, Tag) noexcept {
  for (std::size_t j = 0; j < n; ++j) c[j] = half(src[j]);
}
template <class F, class Tag>
void store_row(const float* src, fp8<F>* c, std::size_t n, const output_options& o, Tag tag) noexcept {
  kernel::encode<F>(src, reinterpret_cast<std::uint8_t*>(c), n, o.output_scale, o.output_overflow, tag);
}

}  // namespace detail
FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
