// SPDX-License-Identifier: Apache-2.0
// One call from a float tensor to FP8 codes and their scales, and back:
//
//   quantize<F>(src, rows, cols, dst, scales, scale_count, options)
//   dequantize(src, rows, cols, scales, scale_count, dst, per)
//
// src is a rows x cols row-major matrix (a vector is one row). The scales
// are per tensor (1), per row (rows) or per column (cols), options.per; each
// is scale_from_amax<F>(amax of its group, options.rounding)
// (quant/scale.hpp), and the codes are encode / encode_per_channel with
// those scales and options.o: quantize is those calls, made for you.
// scale_count is how many floats `scales` holds (at least the number the
// granularity needs; a short array is an error, not an overflow).
// MXFP8 blocks are one call already (quant/mx.hpp: encode_mx computes the
// E8M0 block scales).
//
// Errors (fp8::invalid_argument, before anything is written): a null or
// overlapping array, too few scales, an enumerator out of range, and a NaN
// or infinity in src (its group's amax would have no scale; the message
// names the row or column).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../codec/bulk.hpp"
#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/bit.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/enum.hpp"
#include "../error.hpp"
#include "../types/fp8.hpp"
#include "amax.hpp"
#include "per_channel.hpp"
#include "scale.hpp"

FP8_BEGIN_NAMESPACE

// Which elements share a scale.
enum class granularity {
  tensor,   // one scale
  rows,     // one per row
  columns,  // one per column
};
FP8_ENUM_RANGE(granularity, columns)

struct quantize_options {
  granularity per = granularity::tensor;
  scale_rounding rounding = scale_rounding::exact;
  overflow o = overflow::saturate;
};

namespace detail {

inline std::size_t scales_needed(granularity per, std::size_t rows, std::size_t cols) noexcept {
  return per == granularity::tensor ? 1 : per == granularity::rows ? rows : cols;
}

// The checks both directions share, in the contract's order. per_name: the
// granularity's argument ("options.per" or "per"); scales are written
// (quantize) or read (dequantize: positive finite floats, judged last).
inline void check_quantize(const char* fn, const void* src, std::size_t src_bytes, const void* dst,
                           std::size_t dst_bytes, std::size_t rows, std::size_t cols, const float* scales,
                           std::size_t scale_count, granularity per, const char* per_name, bool scales_written) {
  require_enumerator(fn, per_name, per);
  std::size_t b[2];
  check_matrices(fn, {{"src", "cols", src, rows, cols, cols, src_bytes}, {"dst", "cols", dst, rows, cols, cols, dst_bytes}},
                 b);
  const std::size_t need = rows == 0 || cols == 0 ? 0 : scales_needed(per, rows, cols);
  FP8_REQUIRE_ARG(scale_count >= need, fn, "scale_count",
                  "is " + std::to_string(scale_count) + ", fewer than the " + std::to_string(need) +
                      " scales the granularity needs");
  // A count whose floats would not fit the address space describes no array.
  FP8_REQUIRE_ARG(span_fits(scales, scale_count, sizeof(float)), fn, "scale_count",
                  "floats from scales run past the end of the address space");
  const std::size_t sb = check_array(fn, "scales", scales, need, sizeof(float), "scale_count");
  require_disjoint(fn, "dst", dst, b[1], "src", src, b[0]);
  if (scales_written) {
    require_disjoint(fn, "scales", scales, sb, "src", src, b[0]);
    require_disjoint(fn, "scales", scales, sb, "dst", dst, b[1]);
  } else {
    require_disjoint(fn, "dst", dst, b[1], "scales", scales, sb);
    check_scales(fn, "scales", scales, need);
  }
}

// max |x| per column of a rows x cols matrix, as amax computes it (the
// magnitude bits' integer maximum: exact, NaN above +Inf). A loop the
// compiler vectorizes for the unit's flags: in the flags-named namespace.
FP8_BEGIN_TU_NAMESPACE
inline std::vector<float> column_amax(const float* src, std::size_t rows, std::size_t cols) {
  std::vector<std::uint32_t> m(cols, 0);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) {
      const std::uint32_t a = bit_cast<std::uint32_t>(src[i * cols + j]) & 0x7FFFFFFFu;
      if (a > m[j]) m[j] = a;
    }
  std::vector<float> r(cols);
  for (std::size_t j = 0; j < cols; ++j) r[j] = bit_cast<float>(m[j] > 0x7F800000u ? 0x7FC00000u : m[j]);
  return r;
}
FP8_END_TU_NAMESPACE

}  // namespace detail

// The entries live in the flags-named namespace (detail/dispatch.hpp).
FP8_BEGIN_TU_NAMESPACE

template <class F>
void quantize(const float* src, std::size_t rows, std::size_t cols, fp8<F>* dst, float* scales,
              std::size_t scale_count, const quantize_options& options = {}) {
  const char* fn = "fp8::quantize";
  detail::check_quantize(fn, src, sizeof(float), dst, 1, rows, cols, scales, scale_count, options.per, "options.per",
                         true);
  detail::require_enumerator(fn, "options.rounding", options.rounding);
  detail::require_enumerator(fn, "options.o", options.o);
  if (rows == 0 || cols == 0) return;
  const std::size_t need = detail::scales_needed(options.per, rows, cols);
  std::vector<float> amax_of(need);
  if (options.per == granularity::tensor)
    amax_of[0] = amax(src, rows * cols);
  else if (options.per == granularity::rows)
    for (std::size_t i = 0; i < rows; ++i) amax_of[i] = amax(src + i * cols, cols);
  else
    amax_of = detail::column_amax(src, rows, cols);
  for (std::size_t g = 0; g < need; ++g)
    if (!(amax_of[g] <= detail::bit_cast<float>(0x7F7FFFFFu)))  // NaN or Inf
      detail::fail_argument(fn, "src",
                            "holds a NaN or an infinity" +
                                (options.per == granularity::tensor ? std::string()
                                 : options.per == granularity::rows ? " in row " + std::to_string(g)
                                                                    : " in column " + std::to_string(g)));
  for (std::size_t g = 0; g < need; ++g) scales[g] = scale_from_amax<F>(amax_of[g], options.rounding);
  if (options.per == granularity::tensor)
    encode(src, dst, rows * cols, scales[0], options.o);
  else
    encode_per_channel(src, dst, rows, cols, scales, options.per == granularity::rows ? axis::rows : axis::columns,
                       options.o);
}

template <class F>
void dequantize(const fp8<F>* src, std::size_t rows, std::size_t cols, const float* scales, std::size_t scale_count,
                float* dst, granularity per) {
  const char* fn = "fp8::dequantize";
  detail::check_quantize(fn, src, 1, dst, sizeof(float), rows, cols, scales, scale_count, per, "per", false);
  if (rows == 0 || cols == 0) return;
  if (per == granularity::tensor)
    decode(src, dst, rows * cols, scales[0]);
  else
    decode_per_channel(src, dst, rows, cols, scales, per == granularity::rows ? axis::rows : axis::columns);
}

FP8_END_TU_NAMESPACE
FP8_END_NAMESPACE
