// SPDX-License-Identifier: Apache-2.0
// Per-channel scales for row-major 2-D data (issue 3, item 3): one scale per
// row (axis::rows, e.g. per output channel of a [out, in] weight matrix) or
// one per column (axis::columns, e.g. per channel of [tokens, channels]
// activations). Element (r, c) lives at src[r * src_ld + c] and is scaled by
// its channel's scale, ch = r or c:
//
//   encode: dst[r * dst_ld + c] = fp8<F>::from_float(src[r * src_ld + c] / scale[ch], o)
//   decode: dst[r * dst_ld + c] = static_cast<float>(src[r * src_ld + c]) * scale[ch]
//
// bit for bit: the same definitions as codec/bulk.hpp's per-tensor calls,
// with scale[ch] in place of the one scale. Rows are the bulk kernels, one
// call per row. Columns are a vector loop over each row with a vector of
// scales: when every column scale is a power of two with an exactly
// representable reciprocal, x / s is computed as x * (1 / s) (the same
// correctly rounded quotient, detail::scaling's rule) from a table of
// reciprocals (on the stack up to 512 columns, on the heap beyond, allocated
// before anything is written); otherwise every column divides by its scale.
// Either way the rows are streamed in order, as the per-row path does.
// Elements between cols and the leading dimension are neither read nor
// written.
//
// Errors (fp8::invalid_argument, before anything is written): a null pointer
// while the matrix is not empty, a leading dimension below cols, a span that
// overflows size_t, a scale that is not a positive finite float (the message
// gives its index), dst overlapping src or scale.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "../codec/bulk.hpp"
#include "../codec/kernels.hpp"
#include "../codec/scalar.hpp"
#include "../codec/simd_core.hpp"
#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"
#include "../types/fp8.hpp"
#include "common.hpp"

FP8_BEGIN_NAMESPACE

// Which index of a row-major matrix selects the scale.
enum class axis {
  rows,     // one scale per row: scale has `rows` entries
  columns,  // one scale per column: scale has `cols` entries
};
FP8_ENUM_RANGE(axis, columns)

namespace detail {

inline void check_per_channel(const char* function, const void* src, std::size_t src_ld, std::size_t src_bytes,
                              const void* dst, std::size_t dst_ld, std::size_t dst_bytes, std::size_t rows,
                              std::size_t cols, const float* scale, axis channel) {
  require_enumerator(function, "channel", channel);
  if (rows == 0 || cols == 0) return;
  FP8_REQUIRE_ARG(src != nullptr, function, "src", "is null while rows * cols > 0");
  FP8_REQUIRE_ARG(dst != nullptr, function, "dst", "is null while rows * cols > 0");
  FP8_REQUIRE_ARG(scale != nullptr, function, "scale", "is null while rows * cols > 0");
  FP8_REQUIRE_ARG(src_ld >= cols, function, "src_ld", "is less than cols");
  FP8_REQUIRE_ARG(dst_ld >= cols, function, "dst_ld", "is less than cols");
  FP8_REQUIRE_ARG(span_fits(rows, cols, src_ld, src_bytes), function, "src_ld", "makes the matrix overflow size_t");
  FP8_REQUIRE_ARG(span_fits(rows, cols, dst_ld, dst_bytes), function, "dst_ld", "makes the matrix overflow size_t");
  const std::size_t channels = channel == axis::rows ? rows : cols;
  const std::size_t src_span = span_elements(rows, cols, src_ld) * src_bytes;
  const std::size_t dst_span = span_elements(rows, cols, dst_ld) * dst_bytes;
  FP8_REQUIRE_ARG(span_fits(src, src_span, 1), function, "src_ld", "makes src run past the end of the address space");
  FP8_REQUIRE_ARG(span_fits(dst, dst_span, 1), function, "dst_ld", "makes dst run past the end of the address space");
  FP8_REQUIRE_ARG(span_fits(scale, channels, sizeof(float)), function, "scale",
                  "runs past the end of the address space");
  FP8_REQUIRE_ARG(disjoint(src, src_span, dst, dst_span), function, "dst", "overlaps src");
  FP8_REQUIRE_ARG(disjoint(scale, channels * sizeof(float), dst, dst_span), function, "dst", "overlaps scale");
  // The values last: everything that can be judged without reading the
  // caller's arrays is judged first.
  for (std::size_t i = 0; i < channels; ++i)
    FP8_REQUIRE_ARG(std::isfinite(scale[i]) && scale[i] > 0.0f, function, "scale",
                    "[" + std::to_string(i) + "] is not a positive finite float");
}

// ---------------------------------------------------------------- columns
// The definitions, element by element.
template <class F>
void encode_columns(const float* src, std::size_t src_ld, std::uint8_t* dst, std::size_t dst_ld, std::size_t rows,
                    std::size_t cols, const float* scale, overflow o, isa::portable) noexcept {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) dst[r * dst_ld + c] = scalar::encode<F>(src[r * src_ld + c] / scale[c], o);
}
template <class F>
void decode_columns(const std::uint8_t* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,
                    std::size_t cols, const float* scale, isa::portable) noexcept {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) dst[r * dst_ld + c] = scalar::decode<F>(src[r * src_ld + c]) * scale[c];
}

#if FP8_ISA_SSE2
// Each row 4 * W columns at a time (the byte store's unit) against the
// factors (reciprocals for K = multiply, the scales for K = divide), the
// remaining columns by the definition.
template <class F, overflow O, scaling::kind_t K, class Tag>
void encode_columns_main(const float* src, std::size_t src_ld, std::uint8_t* dst, std::size_t dst_ld,
                         std::size_t rows, std::size_t cols, const float* factor, const float* scale,
                         Tag tag) noexcept {
  using Fl = vf<Tag>;
  constexpr std::size_t W = Fl::size, block = 4 * W;
  const std::size_t vector_width = cols - cols % block;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* s_row = src + r * src_ld;
    std::uint8_t* d_row = dst + r * dst_ld;
    for (std::size_t c = 0; c < vector_width; c += block) {
      vi<Tag> codes[4];
      FP8_UNROLL_VECTORS
      for (std::size_t k = 0; k < 4; ++k)
        codes[k] = encode_lanes<F, O, Tag>(
            apply_scaling<K, Tag>(Fl::load_unaligned(s_row + c + k * W), Fl::load_unaligned(factor + c + k * W)));
      store_bytes(codes, d_row + c, tag);
    }
    for (std::size_t c = vector_width; c < cols; ++c) d_row[c] = scalar::encode<F>(s_row[c] / scale[c], O);
  }
}

template <class F, scaling::kind_t K, class Tag>
void encode_columns(const float* src, std::size_t src_ld, std::uint8_t* dst, std::size_t dst_ld, std::size_t rows,
                    std::size_t cols, const float* factor, const float* scale, overflow o, Tag tag) noexcept {
  if (o == overflow::saturate)
    encode_columns_main<F, overflow::saturate, K>(src, src_ld, dst, dst_ld, rows, cols, factor, scale, tag);
  else
    encode_columns_main<F, overflow::non_saturating, K>(src, src_ld, dst, dst_ld, rows, cols, factor, scale, tag);
}

// The one decision per call: multiply by a table of reciprocals if every
// scale allows it, else divide by the scales themselves. The table is the
// only allocation, made before any write (std::bad_alloc leaves dst as it was).
template <class F, class Tag>
void encode_columns(const float* src, std::size_t src_ld, std::uint8_t* dst, std::size_t dst_ld, std::size_t rows,
                    std::size_t cols, const float* scale, overflow o, Tag tag) {
  bool multiply = true;
  for (std::size_t c = 0; c < cols && multiply; ++c) multiply = scaling(scale[c]).kind != scaling::divide;
  if (!multiply) {
    encode_columns<F, scaling::divide>(src, src_ld, dst, dst_ld, rows, cols, scale, scale, o, tag);
    return;
  }
  float stack[chunk];
  std::unique_ptr<float[]> heap(cols > chunk ? new float[cols] : nullptr);
  float* factor = cols > chunk ? heap.get() : stack;
  for (std::size_t c = 0; c < cols; ++c) {
    const scaling s(scale[c]);
    factor[c] = s.kind == scaling::multiply ? s.factor : 1.0f;
  }
  encode_columns<F, scaling::multiply>(src, src_ld, dst, dst_ld, rows, cols, factor, scale, o, tag);
}

// Decoding multiplies by scale[c] itself (the definition), read straight from
// the caller's array.
template <class F, class Tag>
void decode_columns(const std::uint8_t* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,
                    std::size_t cols, const float* scale, Tag tag) noexcept {
  using Fl = vf<Tag>;
  constexpr std::size_t W = Fl::size;
  const std::size_t vector_width = cols - cols % W;
  for (std::size_t r = 0; r < rows; ++r) {
    const std::uint8_t* s_row = src + r * src_ld;
    float* d_row = dst + r * dst_ld;
    for (std::size_t c = 0; c < vector_width; c += W)
      (decode_lanes<F, Tag>(load_bytes(s_row + c, tag)) * Fl::load_unaligned(scale + c)).store_unaligned(d_row + c);
    for (std::size_t c = vector_width; c < cols; ++c) d_row[c] = scalar::decode<F>(s_row[c]) * scale[c];
  }
}
#endif

}  // namespace detail

// One scale per row or per column of a rows x cols row-major matrix with
// leading dimensions src_ld and dst_ld (in elements).
template <class F>
void encode_per_channel(const float* src, std::size_t src_ld, fp8<F>* dst, std::size_t dst_ld, std::size_t rows,
                        std::size_t cols, const float* scale, axis channel, overflow o = overflow::saturate) {
  detail::require_enumerator("fp8::encode_per_channel", "o", o);
  detail::check_per_channel("fp8::encode_per_channel", src, src_ld, sizeof(float), dst, dst_ld, 1, rows, cols, scale,
                            channel);
  if (rows == 0 || cols == 0) return;
  auto* d = reinterpret_cast<std::uint8_t*>(dst);
  if (channel == axis::rows) {
    for (std::size_t r = 0; r < rows; ++r)
      kernel::encode<F>(src + r * src_ld, d + r * dst_ld, cols, scale[r], o, isa::best{});
  } else {
    detail::encode_columns<F>(src, src_ld, d, dst_ld, rows, cols, scale, o, isa::best{});
  }
}
// Dense rows (leading dimension = cols).
template <class F>
void encode_per_channel(const float* src, fp8<F>* dst, std::size_t rows, std::size_t cols, const float* scale,
                        axis channel, overflow o = overflow::saturate) {
  encode_per_channel<F>(src, cols, dst, cols, rows, cols, scale, channel, o);
}

template <class F>
void decode_per_channel(const fp8<F>* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,
                        std::size_t cols, const float* scale, axis channel) {
  detail::check_per_channel("fp8::decode_per_channel", src, src_ld, 1, dst, dst_ld, sizeof(float), rows, cols, scale,
                            channel);
  if (rows == 0 || cols == 0) return;
  const auto* s = reinterpret_cast<const std::uint8_t*>(src);
  if (channel == axis::rows) {
    for (std::size_t r = 0; r < rows; ++r)
      kernel::decode<F>(s + r * src_ld, dst + r * dst_ld, cols, scale[r], isa::best{});
  } else {
    detail::decode_columns<F>(s, src_ld, dst, dst_ld, rows, cols, scale, isa::best{});
  }
}
template <class F>
void decode_per_channel(const fp8<F>* src, float* dst, std::size_t rows, std::size_t cols, const float* scale,
                        axis channel) {
  decode_per_channel<F>(src, cols, dst, cols, rows, cols, scale, channel);
}

FP8_END_NAMESPACE
