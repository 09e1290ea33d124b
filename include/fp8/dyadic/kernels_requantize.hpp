// SPDX-License-Identifier: Apache-2.0
// Requantization kernels behind dyadic/requantize.hpp: one overload of
// kernel::requantize_tile per tier tag (detail/isa.hpp), each evaluating a
// tile of `rows` x `cols` int32 accumulators and writing one byte per element
// (the low 8 bits of the clamped output value; 4-bit outputs are packed by
// the caller). The portable overload is the definition element by element;
// the vector tiers (sse2, avx2, avx512; the tags inherit, so avx512bf16 runs
// avx512's) are one loop, dyadic/requantize_loop-inl.hpp, compiled per tier
// over that tier's lane primitives (dyadic/requantize_tiers.hpp), and equal
// the portable overload bit for bit (tests/test_dyadic_bulk.cpp runs every
// tier the CPU has). The entries choose the tier once per call
// (detail::dispatch); nothing here asks the CPU.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "dyadic.hpp"
#include "requantize_lanes.hpp"
#include "requantize_tiers.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

// The definition of one output element (before narrowing to a byte).
FP8_HOST_DEVICE constexpr std::int32_t requant_scalar(std::int32_t acc, std::int32_t bias, dyadic d, dyadic_rounding r,
                                                      std::int32_t zero_point, std::int32_t lo,
                                                      std::int32_t hi) noexcept {
  const std::int32_t y = requantize(saturate_int32(std::int64_t{acc} + bias), d, r);
  const std::int64_t v = std::int64_t{y} + zero_point;
  return static_cast<std::int32_t>(v < lo ? lo : v > hi ? hi : v);
}

inline std::uint8_t requant_low_byte(std::int32_t v) noexcept {
  return static_cast<std::uint8_t>(static_cast<std::uint32_t>(v) & 0xFFu);
}

}  // namespace detail

namespace kernel {
FP8_BEGIN_TU_NAMESPACE

// ---------------------------------------------------------------- portable
// The definition, element by element: what every other overload must equal.
inline void requantize_tile(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                            std::size_t rows, std::size_t cols, const ::fp8::detail::requant_lanes& src,
                            const ::fp8::detail::requant_plan& plan, isa::portable) {
  for (std::size_t j = 0; j < cols; ++j) {
    const dyadic d = src.dyadic_at(j);
    const std::int32_t bias = src.bias_at(j);
    for (std::size_t r = 0; r < rows; ++r)
      out[r * out_stride + j] = ::fp8::detail::requant_low_byte(::fp8::detail::requant_scalar(
          acc[r * acc_stride + j], bias, d, plan.rounding, plan.zero_point, plan.lo, plan.hi));
  }
}

// The smallest and largest shift of n >= 1 dyadics (the per-channel entry
// checks them and passes them on).
inline void dyadic_shift_range(const dyadic* d, std::size_t n, int& lo, int& hi, isa::portable) noexcept {
  lo = hi = d[0].shift;
  for (std::size_t c = 1; c < n; ++c) {
    lo = d[c].shift < lo ? d[c].shift : lo;
    hi = d[c].shift > hi ? d[c].shift : hi;
  }
}

// ---------------------------------------------------------------- vector tiers
// Plain calls into each tier's code (compiled for the tier, never inlined
// here): no vector crosses the call.
#if FP8_ISA_SSE2
inline void requantize_tile(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                            std::size_t rows, std::size_t cols, const ::fp8::detail::requant_lanes& src,
                            const ::fp8::detail::requant_plan& plan, isa::sse2) {
  ::fp8::detail::requant_sse2::requantize_tile(acc, acc_stride, out, out_stride, rows, cols, src, plan);
}
inline void dyadic_shift_range(const dyadic* d, std::size_t n, int& lo, int& hi, isa::sse2) noexcept {
  ::fp8::detail::requant_sse2::dyadic_shift_range(d, n, lo, hi);
}
#endif
#if FP8_TIER_AVX2
inline void requantize_tile(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                            std::size_t rows, std::size_t cols, const ::fp8::detail::requant_lanes& src,
                            const ::fp8::detail::requant_plan& plan, isa::avx2) {
  ::fp8::detail::requant_avx2::requantize_tile(acc, acc_stride, out, out_stride, rows, cols, src, plan);
}
inline void dyadic_shift_range(const dyadic* d, std::size_t n, int& lo, int& hi, isa::avx2) noexcept {
  ::fp8::detail::requant_avx2::dyadic_shift_range(d, n, lo, hi);
}
#endif
#if FP8_TIER_AVX512
inline void requantize_tile(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                            std::size_t rows, std::size_t cols, const ::fp8::detail::requant_lanes& src,
                            const ::fp8::detail::requant_plan& plan, isa::avx512) {
  ::fp8::detail::requant_avx512::requantize_tile(acc, acc_stride, out, out_stride, rows, cols, src, plan);
}
inline void dyadic_shift_range(const dyadic* d, std::size_t n, int& lo, int& hi, isa::avx512) noexcept {
  ::fp8::detail::requant_avx512::dyadic_shift_range(d, n, lo, hi);
}
#endif

FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
