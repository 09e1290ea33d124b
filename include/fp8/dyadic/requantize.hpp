// SPDX-License-Identifier: Apache-2.0
// Bulk requantization: int32 accumulators (a GEMM or convolution output,
// `rows` x `channels`, channels fastest, as NHWC or a row-major C) to int8,
// uint8, int4 or uint4 with a zero point, a clamp, an optional fused bias add
// and ReLU, and one dyadic per tensor or per channel: the epilogue of
// HAWQ-V3 §3.1 (eq. 5, integer-only requantization) and of TFLite's
// reference_integer_ops conv/fully_connected. Every element equals
//
//   requantize_element<Out>(acc, bias[c], d[c], params)
//     = clamp(requantize(sat32(acc + bias[c]), d[c], rounding) + zero_point, lo, hi)
//
// bit for bit, where c = element index % channels, the sum acc + bias
// saturates to int32 (TFLite adds in int32 and overflows), y + zero_point is
// exact, and [lo, hi] is the output type's range intersected with
// [clamp_min, clamp_max], raised to start at zero_point under ReLU.
// 4-bit outputs are packed two per byte, low nibble first (dyadic/int4.hpp);
// with an odd count the last high nibble is 0.
//
// The tier (portable, sse2, avx2, avx512) is chosen once per call at run time
// (detail::dispatch, docs/dispatch.md), whatever the build's flags; the
// kernels are in dyadic/kernels_requantize.hpp. Bad input throws fp8::invalid_argument
// before anything is written: a null pointer with elements to process,
// dst overlapping acc, d or bias, an element count that overflows, a shift outside
// [-31, 30] (the range TFLite's kernels accept; to_dyadic() returns larger
// shifts for scales >= 2^30), a zero point outside the output type, an empty
// clamp range, or a rounding that is not one of the enumerators.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"
#include "dyadic.hpp"
#include "int4.hpp"
#include "kernels_requantize.hpp"
#include "requantize_lanes.hpp"

FP8_BEGIN_NAMESPACE

// What an output type stores and which values it holds.
template <class T>
struct quantized_type;
template <>
struct quantized_type<std::int8_t> {
  using storage = std::int8_t;
  static constexpr int lowest = -128, max = 127, bits = 8;
};
template <>
struct quantized_type<std::uint8_t> {
  using storage = std::uint8_t;
  static constexpr int lowest = 0, max = 255, bits = 8;
};
template <>
struct quantized_type<int4> {
  using storage = std::uint8_t;  // two elements per byte
  static constexpr int lowest = int4::lowest, max = int4::max, bits = 4;
};
template <>
struct quantized_type<uint4> {
  using storage = std::uint8_t;
  static constexpr int lowest = uint4::lowest, max = uint4::max, bits = 4;
};
template <class T>
using quantized_storage_t = typename quantized_type<T>::storage;

// Bytes of storage for n elements of T.
template <class T>
constexpr std::size_t quantized_bytes(std::size_t n) noexcept {
  return quantized_type<T>::bits == 4 ? n / 2 + n % 2 : n;
}

struct requantize_params {
  dyadic_rounding rounding = dyadic_rounding::double_rounding;  // TFLite's default build
  std::int32_t zero_point = 0;
  // Intersected with the output type's range; the defaults clamp to that range.
  std::int32_t clamp_min = std::numeric_limits<std::int32_t>::min();
  std::int32_t clamp_max = std::numeric_limits<std::int32_t>::max();
  bool relu = false;  // fused ReLU: outputs below zero_point (real 0) become zero_point
};

// The effective output clamp [lo, hi] of the definition above.
template <class Out>
constexpr std::int32_t requantize_lowest(const requantize_params& p) noexcept {
  std::int32_t lo = quantized_type<Out>::lowest;
  if (p.clamp_min > lo) lo = p.clamp_min;
  if (p.relu && p.zero_point > lo) lo = p.zero_point;
  return lo;
}
template <class Out>
constexpr std::int32_t requantize_highest(const requantize_params& p) noexcept {
  return p.clamp_max < quantized_type<Out>::max ? p.clamp_max : quantized_type<Out>::max;
}

// One element: the definition every bulk function equals. The value is in
// Out's range (for 4-bit types, before packing).
template <class Out>
constexpr std::int32_t requantize_element(std::int32_t acc, std::int32_t bias, dyadic d,
                                          const requantize_params& p) noexcept {
  return detail::requant_scalar(acc, bias, d, p.rounding, p.zero_point, requantize_lowest<Out>(p),
                                requantize_highest<Out>(p));
}

namespace detail {
FP8_BEGIN_TU_NAMESPACE

inline void requant_check_shift(const char* function, const char* argument, dyadic d, std::size_t index, bool indexed) {
  if (d.shift < -31 || d.shift > 30)
    fail_argument(function, argument,
                  (indexed ? "element " + std::to_string(index) + " has" : std::string("has")) + " shift " +
                      std::to_string(d.shift) + " outside [-31, 30]");
}

template <class Out>
requant_plan requant_check(const char* function, const std::int32_t* acc, const void* dst, std::size_t rows,
                           std::size_t channels, const requantize_params& p) {
  FP8_REQUIRE_ARG(channels == 0 || rows <= std::numeric_limits<std::size_t>::max() / channels / sizeof(std::int32_t),
                  function, "rows", "times channels overflows");
  const std::size_t n = rows * channels;
  std::size_t b[2];
  check_arrays(function, {{"acc", acc, n, sizeof(std::int32_t)}, {"dst", dst, quantized_bytes<Out>(n), 1}}, b, "rows",
               "rows * channels");
  require_disjoint(function, "dst", dst, b[1], "acc", acc, b[0]);
  require_enumerator(function, "params.rounding", p.rounding);
  FP8_REQUIRE_ARG(p.zero_point >= quantized_type<Out>::lowest && p.zero_point <= quantized_type<Out>::max, function,
                  "params.zero_point",
                  "= " + std::to_string(p.zero_point) + " is outside the output range [" +
                      std::to_string(quantized_type<Out>::lowest) + ", " + std::to_string(quantized_type<Out>::max) +
                      "]");
  FP8_REQUIRE_ARG(p.clamp_min <= p.clamp_max, function, "params.clamp_min", "exceeds params.clamp_max");
  const std::int32_t lo = requantize_lowest<Out>(p), hi = requantize_highest<Out>(p);
  FP8_REQUIRE_ARG(lo <= hi, function, "params.clamp_max",
                  "leaves an empty output range: [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return {p.rounding, p.zero_point, lo, hi};
}

// dst (the outputs of rows x channels elements) must not overlap the
// per-channel arrays the kernels read while writing it.
template <class Out>
void requant_check_channel_arrays(const char* function, const void* dst, std::size_t rows, std::size_t channels,
                                  const dyadic* d, const std::int32_t* bias) {
  if (rows == 0 || channels == 0) return;
  const std::size_t out = quantized_bytes<Out>(rows * channels);
  FP8_REQUIRE_ARG(!overlap(dst, out, d, channels * sizeof(dyadic)), function, "dst", "overlaps d");
  FP8_REQUIRE_ARG(!overlap(dst, out, bias, channels * sizeof(std::int32_t)), function, "dst", "overlaps bias");
}

// Runs the tier's kernel over rows x channels with every output byte written
// to out[i] (8-bit types) or to a stack buffer that is then packed (4-bit).
template <class Out, class Tag>
void requant_run(const std::int32_t* acc, std::uint8_t* out, std::size_t rows, std::size_t channels,
                 const requant_lanes& lanes, const requant_plan& plan, Tag tag) {
  const std::size_t n = rows * channels;
  if (n == 0) return;
  // rows x channels, one byte per element, contiguous.
  const auto run_bytes = [&](const std::int32_t* a, std::uint8_t* o, std::size_t nrows) {
    if (lanes.uniform()) {
      kernel::requantize_tile(a, 0, o, 0, 1, nrows * channels, lanes, plan, tag);
      return;
    }
    // Few channels would leave vector lanes idle: g rows become one row of
    // g * channels columns (the lanes repeat the channels g times).
    constexpr std::size_t wide = 64;
    const std::size_t g = channels < wide ? wide / channels : 1;
    const std::size_t cols = g * channels, full_rows = nrows / g, rest = nrows - full_rows * g;
    kernel::requantize_tile(a, cols, o, cols, full_rows, cols, lanes, plan, tag);
    if (rest != 0)
      kernel::requantize_tile(a + full_rows * cols, 0, o + full_rows * cols, 0, 1, rest * channels, lanes, plan, tag);
  };
  if (quantized_type<Out>::bits == 8) {
    run_bytes(acc, out, rows);
    return;
  }
  // 4-bit: a chunk of whole rows (or a piece of one long row) at a time.
  constexpr std::size_t staging = 4096;
  std::uint8_t buffer[staging];
  if (lanes.uniform() || channels <= staging) {
    const std::size_t unit = lanes.uniform() ? 1 : channels;  // elements per row of the chunking
    const std::size_t units = lanes.uniform() ? n : rows;
    const std::size_t per_chunk = staging / unit;
    for (std::size_t u = 0; u < units; u += per_chunk) {
      const std::size_t m = units - u < per_chunk ? units - u : per_chunk;
      if (lanes.uniform())
        kernel::requantize_tile(acc + u, 0, buffer, 0, 1, m, lanes, plan, tag);
      else
        run_bytes(acc + u * channels, buffer, m);
      write_nibbles(buffer, out, u * unit, m * unit, tag);
    }
  } else {
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < channels; c += staging) {
        const std::size_t m = channels - c < staging ? channels - c : staging;
        requant_lanes piece = lanes;
        piece.first = c;
        kernel::requantize_tile(acc + r * channels + c, 0, buffer, 0, 1, m, piece, plan, tag);
        write_nibbles(buffer, out, r * channels + c, m, tag);
      }
    }
  }
  if (n % 2 != 0) out[n / 2] = static_cast<std::uint8_t>(out[n / 2] & 0x0Fu);
}

// One call: the tier chosen once, here. Per channel (lanes.dyadics not
// null), the tier's scan of the shifts comes first: it checks them (naming a
// channel only when one is out of bounds, in a second pass) before anything
// is written, and the kernel takes the range from it.
template <class Out>
void requant_dispatch(const char* function, const std::int32_t* acc, std::uint8_t* out, std::size_t rows,
                      std::size_t channels, const requant_lanes& lanes, const requant_plan& plan) {
  if (rows * channels == 0) return;
  dispatch([&](auto tag) {
    requant_lanes known = lanes;
    if (lanes.dyadics != nullptr) {
      int lo = 0, hi = 0;
      kernel::dyadic_shift_range(lanes.dyadics, channels, lo, hi, tag);
      if (lo < -31 || hi > 30)
        for (std::size_t c = 0; c < channels; ++c) requant_check_shift(function, "d", lanes.dyadics[c], c, true);
      known.shifts_known = true;
      known.min_shift = lo;
      known.max_shift = hi;
    }
    requant_run<Out>(acc, out, rows, channels, known, plan, tag);
  });
}

FP8_END_TU_NAMESPACE
}  // namespace detail

// ---------------------------------------------------------------- entry points
FP8_BEGIN_TU_NAMESPACE
// Out is one of std::int8_t, std::uint8_t, int4, uint4 and is always given
// explicitly: requantize<std::int8_t>(acc, dst, n, d).

// Per tensor: n accumulators, one dyadic.
template <class Out>
void requantize(const std::int32_t* acc, quantized_storage_t<Out>* dst, std::size_t n, dyadic d,
                const requantize_params& params = {}) {
  const char* function = "fp8::requantize";
  const detail::requant_plan plan = detail::requant_check<Out>(function, acc, dst, n, 1, params);
  detail::requant_check_shift(function, "d", d, 0, false);
  detail::requant_dispatch<Out>(
      function, acc, reinterpret_cast<std::uint8_t*>(dst), 1, n,
      detail::requant_lanes{d, nullptr, nullptr, 1, 0, params.rounding, true, d.shift, d.shift}, plan);
}

// Per tensor with a per-channel bias (bias may be null: no bias).
template <class Out>
void requantize(const std::int32_t* acc, quantized_storage_t<Out>* dst, std::size_t rows, std::size_t channels,
                dyadic d, const std::int32_t* bias, const requantize_params& params = {}) {
  const char* function = "fp8::requantize";
  const detail::requant_plan plan = detail::requant_check<Out>(function, acc, dst, rows, channels, params);
  detail::requant_check_shift(function, "d", d, 0, false);
  detail::requant_check_channel_arrays<Out>(function, dst, rows, channels, nullptr, bias);
  detail::requant_dispatch<Out>(function, acc, reinterpret_cast<std::uint8_t*>(dst), rows, channels,
                                detail::requant_lanes{d, nullptr, bias, channels == 0 ? 1 : channels, 0,
                                                      params.rounding, true, d.shift, d.shift},
                                plan);
}

// Per channel: d[channels], and an optional bias[channels] (null: no bias).
template <class Out>
void requantize_per_channel(const std::int32_t* acc, quantized_storage_t<Out>* dst, std::size_t rows,
                            std::size_t channels, const dyadic* d, const std::int32_t* bias,
                            const requantize_params& params = {}) {
  const char* function = "fp8::requantize_per_channel";
  const detail::requant_plan plan = detail::requant_check<Out>(function, acc, dst, rows, channels, params);
  const detail::requant_lanes lanes{dyadic{0, 0}, d, bias, channels == 0 ? 1 : channels, 0, params.rounding};
  if (rows * channels != 0) {
    FP8_REQUIRE_ARG(d != nullptr, function, "d", "is null while there are elements");
    detail::requant_check_channel_arrays<Out>(function, dst, rows, channels, d, bias);
  }
  // The shifts are checked in requant_dispatch, by the tier's scan.
  detail::requant_dispatch<Out>(function, acc, reinterpret_cast<std::uint8_t*>(dst), rows, channels, lanes, plan);
}

FP8_END_TU_NAMESPACE
FP8_END_NAMESPACE
