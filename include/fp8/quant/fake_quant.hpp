// SPDX-License-Identifier: Apache-2.0
// fp8::fake_quantize, the fused quantize-dequantize: the
// "FP8 quantization simulation" that measures a model's accuracy under FP8
// while computing in float. By definition, bit for bit,
//
//   dst[i] = static_cast<float>(fp8<F>::from_float(src[i] / scale, o)) * scale
//
// i.e. fp8::decode(fp8::encode(src, n, scale, o), n, scale) without the
// intermediate FP8 array: each vector is encoded and decoded in registers
// (the streaming encoder of codec/stream.hpp with its fake_sink, which
// decodes), so memory traffic is one float read and one float write per
// element. The tier
// is chosen once per call at run time (detail/dispatch.hpp). src / scale is computed as
// codec/bulk.hpp's encode does (multiply by the reciprocal when that is the
// same correctly rounded quotient), the product with scale as decode does.
// NaN stays NaN (quiet, with its sign; fnuz formats: +NaN); with
// overflow::non_saturating an overflow gives Inf (E5M2) or NaN.
//
// In place is allowed (src == dst); other overlaps are rejected. Errors
// (null pointers with n > 0, partial overlap, a scale that is not a positive
// finite float) throw fp8::invalid_argument before anything is written.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../codec/kernels.hpp"
#include "../codec/scalar.hpp"
#include "../codec/simd_core.hpp"
#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"
#include "../types/format.hpp"
#include "common.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE

// The definition, element by element.
template <class F>
void fake_quantize(const float* src, float* dst, std::size_t n, float scale, overflow o, isa::portable) noexcept {
  for (std::size_t i = 0; i < n; ++i) dst[i] = scalar::decode<F>(scalar::encode<F>(src[i] / scale, o)) * scale;
}

#if FP8_ISA_SSE2
// Every vector tier: the policy chosen once, then the tier's streaming
// encoder with the one-scale rule and the fake-quantization sink. A step
// loads all its vectors before it stores, so src == dst is safe.
template <class F, class Tag, kernel::if_vector<Tag> = 0>
void fake_quantize(const float* src, float* dst, std::size_t n, float scale, overflow o, Tag tag) noexcept {
  const scaling s(scale);
  with_policy(o, s.kind, [&](auto p) {
    using P = decltype(p);
    kernel::stream<F, P::overflow_policy>(src, dst, n, one_scale<P::kind>{s.factor}, fake_sink<P::kind>{scale}, tag);
  });
}
#endif
FP8_END_TU_NAMESPACE
}  // namespace detail

FP8_BEGIN_TU_NAMESPACE
template <class F>
void fake_quantize(const float* src, float* dst, std::size_t n, float scale = 1.0f, overflow o = overflow::saturate) {
  constexpr const char* function = "fp8::fake_quantize";
  std::size_t b[2];
  detail::check_arrays(function, {{"src", src, n, sizeof(float)}, {"dst", dst, n, sizeof(float)}}, b);
  if (src != dst) detail::require_disjoint(function, "dst", dst, b[1], "src without being equal to it", src, b[0]);
  FP8_REQUIRE_ARG(std::isfinite(scale) && scale > 0.0f, function, "scale", "must be a positive finite float");
  detail::require_enumerator(function, "o", o);
  detail::dispatch([&](auto tier) { detail::fake_quantize<F>(src, dst, n, scale, o, tier); });
}
FP8_END_TU_NAMESPACE

FP8_END_NAMESPACE
