// SPDX-License-Identifier: Apache-2.0
// Per-channel scales for row-major 2-D data: one scale per
// row (axis::rows, e.g. per output channel of a [out, in] weight matrix) or
// one per column (axis::columns, e.g. per channel of [tokens, channels]
// activations). Element (r, c) lives at src[r * src_ld + c] and is scaled by
// its channel's scale, ch = r or c:
//
//   encode: dst[r * dst_ld + c] = fp8<F>::from_float(src[r * src_ld + c] / scale[ch], o)
//   decode: dst[r * dst_ld + c] = static_cast<float>(src[r * src_ld + c]) * scale[ch]
//
// bit for bit: the same definitions as codec/bulk.hpp's per-tensor calls,
// with scale[ch] in place of the one scale. The tier is chosen once per call
// at run time (detail/dispatch.hpp). Encoding is the codec's streaming
// encoder (codec/stream.hpp) over all the rows in one call, with a factor per
// row or a vector of factors per column: when every scale is a power of two
// with an exactly representable reciprocal, x / s is computed as x * (1 / s)
// (the same correctly rounded quotient, detail::scaling's rule) from a table
// of reciprocals, otherwise x / s from a copy of the scales (the table on the
// stack up to 512 channels, on the heap beyond, allocated before anything is
// written). Decoding rows is the bulk decoder, one call per row; columns
// multiply each row's decoded codes by a vector of scales.
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
#include <cstring>
#include <memory>
#include <string>

#include "../codec/bulk.hpp"
#include "../codec/kernels.hpp"
#include "../codec/scalar.hpp"
#include "../codec/simd_core.hpp"
#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"
#include "../types/counted.hpp"
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
                              std::size_t cols, counted<const float> scale, axis channel) {
  require_enumerator(function, "channel", channel);
  if (rows == 0 || cols == 0) return;
  FP8_REQUIRE_ARG(scale != nullptr, function, "scale", "is null while rows * cols > 0");
  std::size_t spans[2];
  check_matrices(
      function,
      {{"src", "src_ld", src, rows, cols, src_ld, src_bytes}, {"dst", "dst_ld", dst, rows, cols, dst_ld, dst_bytes}},
      spans);
  const std::size_t src_span = spans[0], dst_span = spans[1];
  const std::size_t channels = channel == axis::rows ? rows : cols;
  require_count(function, "scale", scale, channels, channel == axis::rows ? "rows" : "cols");
  FP8_REQUIRE_ARG(span_fits(scale, channels, sizeof(float)), function, "scale",
                  "runs past the end of the address space");
  require_disjoint(function, "dst", dst, dst_span, "src", src, src_span);
  require_disjoint(function, "dst", dst, dst_span, "scale", scale, channels * sizeof(float));
  // The values last: everything that can be judged without reading the
  // caller's arrays is judged first.
  check_scales(function, "scale", scale, channels);
}

// ---------------------------------------------------------------- columns
FP8_BEGIN_TU_NAMESPACE

// The definitions, element by element.
template <class F>
void encode_rows(const float* src, std::size_t src_ld, std::uint8_t* dst, std::size_t dst_ld, std::size_t rows,
                 std::size_t cols, const float* scale, overflow o, isa::portable tag) {
  for (std::size_t r = 0; r < rows; ++r) kernel::encode<F>(src + r * src_ld, dst + r * dst_ld, cols, scale[r], o, tag);
}
template <class F>
void encode_columns(const float* src, std::size_t src_ld, std::uint8_t* dst, std::size_t dst_ld, std::size_t rows,
                    std::size_t cols, const float* scale, overflow o, isa::portable) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) dst[r * dst_ld + c] = scalar::encode<F>(src[r * src_ld + c] / scale[c], o);
}
// Decoding rows is the bulk decoder on each row, every tier (on avx512bf16
// its VBMI tables), in a function of its own: in the entry's lambda the loop
// reloaded every captured bound after each call.
template <class F, class Tag>
void decode_rows(const std::uint8_t* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,
                 std::size_t cols, const float* scale, Tag tag) {
  for (std::size_t r = 0; r < rows; ++r) kernel::decode<F>(src + r * src_ld, dst + r * dst_ld, cols, scale[r], tag);
}
template <class F>
void decode_columns(const std::uint8_t* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,
                    std::size_t cols, const float* scale, isa::portable) noexcept {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) dst[r * dst_ld + c] = scalar::decode<F>(src[r * src_ld + c]) * scale[c];
}

FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE

// Each tier's per-column decoder, written once.
#define FP8_CODEC_TIER_BODY "../quant/per_channel-inl.hpp"
#include "../codec/tiers-inl.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE

// Each tier's decoder, by tag.
#if FP8_ISA_SSE2
template <class F>
void decode_columns(const std::uint8_t* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,
                    std::size_t cols, const float* scale, isa::sse2) noexcept {
  sse2::decode_columns<F>(src, src_ld, dst, dst_ld, rows, cols, scale);
}
#endif
#if FP8_TIER_AVX2
template <class F>
void decode_columns(const std::uint8_t* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,
                    std::size_t cols, const float* scale, isa::avx2) noexcept {
  avx2::decode_columns<F>(src, src_ld, dst, dst_ld, rows, cols, scale);
}
#endif
#if FP8_TIER_AVX512
template <class F>
void decode_columns(const std::uint8_t* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,
                    std::size_t cols, const float* scale, isa::avx512) noexcept {
  avx512::decode_columns<F>(src, src_ld, dst, dst_ld, rows, cols, scale);
}
#endif

#if FP8_ISA_SSE2
// The factors of a scale per channel, decided once per call: the
// reciprocals if every scale allows it (detail::scaling; a scale of 1 gives
// 1, x * 1 = x), else the scales themselves, padded with 1 to a whole number
// of column_pad. On the stack up to `chunk` channels, on the heap beyond:
// the only allocation, made before any write (std::bad_alloc leaves dst as
// it was).
class channel_factors {
 public:
  channel_factors(const float* scale, std::size_t count)
      : heap_(padded(count) > chunk ? new float[padded(count)] : nullptr) {
    for (std::size_t c = 0; c < count && kind_ == scaling::multiply; ++c)
      if (scaling(scale[c]).kind == scaling::divide) kind_ = scaling::divide;
    float* f = heap_ ? heap_.get() : stack_;
    if (kind_ == scaling::divide) {
      std::memcpy(f, scale, count * sizeof(float));
    } else {
      for (std::size_t c = 0; c < count; ++c) {
        const scaling s(scale[c]);
        f[c] = s.kind == scaling::multiply ? s.factor : 1.0f;
      }
    }
    for (std::size_t c = count; c < padded(count); ++c) f[c] = 1.0f;
  }
  scaling::kind_t kind() const noexcept { return kind_; }
  const float* data() const noexcept { return heap_ ? heap_.get() : stack_; }

 private:
  static std::size_t padded(std::size_t n) noexcept { return (n + column_pad - 1) / column_pad * column_pad; }
  scaling::kind_t kind_ = scaling::multiply;
  // Aligned as a vector: an unaligned table would split a cache line on
  // every other AVX-512 load.
  alignas(64) float stack_[chunk];
  std::unique_ptr<float[]> heap_;
};

// The factors, then the policy, once, and the tier's streaming encoder over
// all the rows in one call.
template <class F, class Tag, kernel::if_vector<Tag> = 0>
void encode_rows(const float* src, std::size_t src_ld, std::uint8_t* dst, std::size_t dst_ld, std::size_t rows,
                 std::size_t cols, const float* scale, overflow o, Tag tag) {
  const channel_factors factor(scale, rows);
  with_policy(o, factor.kind(), [&](auto p) {
    using P = decltype(p);
    kernel::stream<F, P::overflow_policy>(src, src_ld, dst, dst_ld, rows, cols, row_scales<P::kind>{factor.data()},
                                          code_sink{}, tag);
  });
}
template <class F, class Tag, kernel::if_vector<Tag> = 0>
void encode_columns(const float* src, std::size_t src_ld, std::uint8_t* dst, std::size_t dst_ld, std::size_t rows,
                    std::size_t cols, const float* scale, overflow o, Tag tag) {
  const channel_factors factor(scale, cols);
  with_policy(o, factor.kind(), [&](auto p) {
    using P = decltype(p);
    kernel::stream<F, P::overflow_policy>(src, src_ld, dst, dst_ld, rows, cols, column_scales<P::kind>{factor.data()},
                                          code_sink{}, tag);
  });
}
#endif

FP8_END_TU_NAMESPACE
}  // namespace detail

// The entries live in the flags-named namespace (detail/dispatch.hpp) and
// choose the tier once per call.
FP8_BEGIN_TU_NAMESPACE

// One scale per row or per column of a rows x cols row-major matrix with
// leading dimensions src_ld and dst_ld (in elements).
template <class F>
void encode_per_channel(const float* src, std::size_t src_ld, fp8<F>* dst, std::size_t dst_ld, std::size_t rows,
                        std::size_t cols, counted<const float> scale, axis channel, overflow o = overflow::saturate) {
  detail::require_enumerator("fp8::encode_per_channel", "o", o);
  detail::check_per_channel("fp8::encode_per_channel", src, src_ld, sizeof(float), dst, dst_ld, 1, rows, cols, scale,
                            channel);
  if (rows == 0 || cols == 0) return;
  auto* d = reinterpret_cast<std::uint8_t*>(dst);
  if (channel == axis::rows) {
    detail::dispatch([&](auto tier) { detail::encode_rows<F>(src, src_ld, d, dst_ld, rows, cols, scale, o, tier); });
  } else {
    detail::dispatch([&](auto tier) { detail::encode_columns<F>(src, src_ld, d, dst_ld, rows, cols, scale, o, tier); });
  }
}
// Dense rows (leading dimension = cols).
template <class F>
void encode_per_channel(const float* src, fp8<F>* dst, std::size_t rows, std::size_t cols, counted<const float> scale,
                        axis channel, overflow o = overflow::saturate) {
  encode_per_channel<F>(src, cols, dst, cols, rows, cols, scale, channel, o);
}

template <class F>
void decode_per_channel(const fp8<F>* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,
                        std::size_t cols, counted<const float> scale, axis channel) {
  detail::check_per_channel("fp8::decode_per_channel", src, src_ld, 1, dst, dst_ld, sizeof(float), rows, cols, scale,
                            channel);
  if (rows == 0 || cols == 0) return;
  const auto* s = reinterpret_cast<const std::uint8_t*>(src);
  if (channel == axis::rows) {
    detail::dispatch([&](auto tier) { detail::decode_rows<F>(s, src_ld, dst, dst_ld, rows, cols, scale, tier); });
  } else {
    detail::dispatch([&](auto tier) { detail::decode_columns<F>(s, src_ld, dst, dst_ld, rows, cols, scale, tier); });
  }
}
template <class F>
void decode_per_channel(const fp8<F>* src, float* dst, std::size_t rows, std::size_t cols, counted<const float> scale,
                        axis channel) {
  decode_per_channel<F>(src, cols, dst, cols, rows, cols, scale, channel);
}

FP8_END_TU_NAMESPACE
FP8_END_NAMESPACE
