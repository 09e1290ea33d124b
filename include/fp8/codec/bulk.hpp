// SPDX-License-Identifier: Apache-2.0
// Bulk conversion of whole arrays between FP8 and float32 / bfloat16 / half,
// with one scale per call. Each function is defined element by element by
// the scalar codec (codec/scalar.hpp) and equals it bit for bit:
//
//   encode: dst[i] = fp8<F>::from_float(float(src[i]) / scale, o)
//   decode: dst[i] = D(float(src[i]) * scale)       D = float, bfloat16 or half
//
// float(src[i]) is exact for bfloat16 and half sources, so with scale 1 an
// encode rounds once; a decode with scale 1 is exact for every output type
// (every FP8 value is a bfloat16 and a half). A power-of-two scale whose
// reciprocal is a normal float costs a multiply instead of a divide, with
// identical results (both are the one correctly rounded quotient). Results
// assume the default floating-point environment (round to nearest).
//
// The tier (portable, sse2, avx2, avx512, avx512bf16) is chosen once per
// call by run-time dispatch (detail/dispatch.hpp, docs/dispatch.md): the
// best one the CPU runs, whatever the build's flags; the kernels live in
// codec/kernels.hpp and codec/kernels_*.hpp. Bad input (a null pointer with n > 0, a scale
// that is not a positive finite float, overlapping buffers, an o that is not
// an fp8::overflow enumerator) throws
// fp8::invalid_argument before anything is written.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/dispatch.hpp"
#include "../error.hpp"
#include "../types/float16.hpp"
#include "../types/fp8.hpp"
#include "kernels.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

inline void check_bulk(const char* function, const void* src, std::size_t src_bytes, const void* dst,
                       std::size_t dst_bytes, std::size_t n, float scale) {
  std::size_t b[2];
  check_arrays(function, {{"src", src, n, src_bytes}, {"dst", dst, n, dst_bytes}}, b);
  require_disjoint(function, "dst", dst, b[1], "src", src, b[0]);
  FP8_REQUIRE_ARG(std::isfinite(scale) && scale > 0.0f, function, "scale", "must be a positive finite float");
}
inline void check_bulk(const char* function, const void* src, std::size_t src_bytes, const void* dst,
                       std::size_t dst_bytes, std::size_t n, float scale, overflow o) {
  check_bulk(function, src, src_bytes, dst, dst_bytes, n, scale);
  require_enumerator(function, "o", o);
}

}  // namespace detail

// The entries live in the flags-named namespace (detail/dispatch.hpp), so
// units built with different flags each call their own.
FP8_BEGIN_TU_NAMESPACE

template <class F>
void encode(const float* src, fp8<F>* dst, std::size_t n, float scale = 1.0f, overflow o = overflow::saturate) {
  detail::check_bulk("fp8::encode", src, sizeof(float), dst, 1, n, scale, o);
  auto* d = reinterpret_cast<std::uint8_t*>(dst);
  detail::dispatch([&](auto tier) { kernel::encode<F>(src, d, n, scale, o, tier); });
}
template <class F>
void encode(const bfloat16* src, fp8<F>* dst, std::size_t n, float scale = 1.0f, overflow o = overflow::saturate) {
  detail::check_bulk("fp8::encode", src, sizeof(bfloat16), dst, 1, n, scale, o);
  auto* d = reinterpret_cast<std::uint8_t*>(dst);
  detail::dispatch([&](auto tier) { kernel::encode<F>(src, d, n, scale, o, tier); });
}
template <class F>
void encode(const half* src, fp8<F>* dst, std::size_t n, float scale = 1.0f, overflow o = overflow::saturate) {
  detail::check_bulk("fp8::encode", src, sizeof(half), dst, 1, n, scale, o);
  auto* d = reinterpret_cast<std::uint8_t*>(dst);
  detail::dispatch([&](auto tier) { kernel::encode<F>(src, d, n, scale, o, tier); });
}

template <class F>
void decode(const fp8<F>* src, float* dst, std::size_t n, float scale = 1.0f) {
  detail::check_bulk("fp8::decode", src, 1, dst, sizeof(float), n, scale);
  const auto* s = reinterpret_cast<const std::uint8_t*>(src);
  detail::dispatch([&](auto tier) { kernel::decode<F>(s, dst, n, scale, tier); });
}
template <class F>
void decode(const fp8<F>* src, bfloat16* dst, std::size_t n, float scale = 1.0f) {
  detail::check_bulk("fp8::decode", src, 1, dst, sizeof(bfloat16), n, scale);
  const auto* s = reinterpret_cast<const std::uint8_t*>(src);
  detail::dispatch([&](auto tier) { kernel::decode<F>(s, dst, n, scale, tier); });
}
template <class F>
void decode(const fp8<F>* src, half* dst, std::size_t n, float scale = 1.0f) {
  detail::check_bulk("fp8::decode", src, 1, dst, sizeof(half), n, scale);
  const auto* s = reinterpret_cast<const std::uint8_t*>(src);
  detail::dispatch([&](auto tier) { kernel::decode<F>(s, dst, n, scale, tier); });
}

FP8_END_TU_NAMESPACE
FP8_END_NAMESPACE
