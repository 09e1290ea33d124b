// SPDX-License-Identifier: Apache-2.0
// fp8::fake_quantize, the fused quantize-dequantize of issue 3 item 2: the
// "FP8 quantization simulation" that measures a model's accuracy under FP8
// while computing in float. By definition, bit for bit,
//
//   dst[i] = static_cast<float>(fp8<F>::from_float(src[i] / scale, o)) * scale
//
// i.e. fp8::decode(fp8::encode(src, n, scale, o), n, scale) without the
// intermediate FP8 array: each vector is encoded and decoded in registers
// (codec/simd_core.hpp's encode_lanes and decode_lanes), so memory traffic is
// one float read and one float write per element. src / scale is computed as
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
#include "../detail/isa.hpp"
#include "../error.hpp"
#include "../types/format.hpp"
#include "common.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

// The definition, element by element.
template <class F>
void fake_quantize(const float* src, float* dst, std::size_t n, float scale, overflow o, isa::portable) noexcept {
  for (std::size_t i = 0; i < n; ++i) dst[i] = scalar::decode<F>(scalar::encode<F>(src[i] / scale, o)) * scale;
}

#if FP8_ISA_SSE2
// Four vectors per step for instruction-level parallelism; each is loaded
// before its own store, so src == dst is safe.
template <class F, overflow O, scaling::kind_t K, class Tag>
std::size_t fake_quantize_main(const float* src, float* dst, std::size_t n, float factor, float scale,
                               Tag) noexcept {
  using Fl = vf<Tag>;
  constexpr std::size_t W = Fl::size;
  const Fl f(factor), back(scale);
  const auto one = [&](std::size_t i) {
    Fl y = decode_lanes<F, Tag>(encode_lanes<F, O, Tag>(apply_scaling<K, Tag>(Fl::load_unaligned(src + i), f)));
    if (K != scaling::none) y = y * back;
    y.store_unaligned(dst + i);
  };
  std::size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    one(i);
    one(i + W);
    one(i + 2 * W);
    one(i + 3 * W);
  }
  for (; i + W <= n; i += W) one(i);
  return i;
}

template <class F, overflow O, class Tag>
std::size_t fake_quantize_main(const float* src, float* dst, std::size_t n, float scale, Tag tag) noexcept {
  const scaling s(scale);
  switch (s.kind) {
    case scaling::none: return fake_quantize_main<F, O, scaling::none>(src, dst, n, s.factor, scale, tag);
    case scaling::multiply: return fake_quantize_main<F, O, scaling::multiply>(src, dst, n, s.factor, scale, tag);
    case scaling::divide: break;
  }
  return fake_quantize_main<F, O, scaling::divide>(src, dst, n, s.factor, scale, tag);
}

template <class F, class Tag>
void fake_quantize(const float* src, float* dst, std::size_t n, float scale, overflow o, Tag tag) noexcept {
  const std::size_t done = o == overflow::saturate
                               ? fake_quantize_main<F, overflow::saturate>(src, dst, n, scale, tag)
                               : fake_quantize_main<F, overflow::non_saturating>(src, dst, n, scale, tag);
  fake_quantize<F>(src + done, dst + done, n - done, scale, o, isa::portable{});
}
#endif

}  // namespace detail

template <class F>
void fake_quantize(const float* src, float* dst, std::size_t n, float scale = 1.0f, overflow o = overflow::saturate) {
  constexpr const char* function = "fp8::fake_quantize";
  if (n != 0) {
    FP8_REQUIRE_ARG(src != nullptr, function, "src", "is null while n > 0");
    FP8_REQUIRE_ARG(dst != nullptr, function, "dst", "is null while n > 0");
    FP8_REQUIRE_ARG(detail::span_fits(src, n, sizeof(float)) && detail::span_fits(dst, n, sizeof(float)), function, "n",
                    "elements overflow size_t or run past the end of the address space");
    FP8_REQUIRE_ARG(src == dst || detail::disjoint(src, n * sizeof(float), dst, n * sizeof(float)), function, "dst",
                    "overlaps src without being equal to it");
  }
  FP8_REQUIRE_ARG(std::isfinite(scale) && scale > 0.0f, function, "scale", "must be a positive finite float");
  detail::require_enumerator(function, "o", o);
  detail::fake_quantize<F>(src, dst, n, scale, o, isa::best{});
}

FP8_END_NAMESPACE
