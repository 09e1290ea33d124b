// SPDX-License-Identifier: Apache-2.0
// Internals shared by the quantization layer (quant/*.hpp), not for users:
// argument checks that go beyond codec/bulk.hpp's (buffer overlap of 2-D and
// multi-buffer calls). The lane primitives the layer uses are general and
// live in detail/simd_xsimd.hpp, detail/simd_avx2.hpp and
// detail/simd_avx512.hpp; the loop every encoder runs is the codec's
// streaming encoder (codec/stream.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "../codec/simd_core.hpp"
#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/isa.hpp"
#include "../detail/simd_xsimd.hpp"
#include "../error.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

// True when the byte ranges [a, a + a_bytes) and [b, b + b_bytes) do not
// intersect (detail/arguments.hpp's overlap, the library's one rule).
inline bool disjoint(const void* a, std::size_t a_bytes, const void* b, std::size_t b_bytes) noexcept {
  return !overlap(a, a_bytes, b, b_bytes);
}

// Elements spanned by a row-major rows x cols matrix with leading dimension
// ld >= cols: (rows - 1) * ld + cols, or 0 when it is empty. The caller has
// checked that this does not overflow (span_fits).
inline std::size_t span_elements(std::size_t rows, std::size_t cols, std::size_t ld) noexcept {
  return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;
}
// True when span_elements(rows, cols, ld) * element_bytes fits in size_t.
inline bool span_fits(std::size_t rows, std::size_t cols, std::size_t ld, std::size_t element_bytes) noexcept {
  if (rows == 0 || cols == 0) return true;
  constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
  if (rows - 1 > (max - cols) / ld) return false;
  return (rows - 1) * ld + cols <= max / element_bytes;
}

}  // namespace detail
FP8_END_NAMESPACE
