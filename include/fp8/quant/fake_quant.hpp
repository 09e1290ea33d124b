// SPDX-License-Identifier: Apache-2.0
// fp8::fake_quantize, the fused quantize-dequantize of issue 3 item 2: the
// "FP8 quantization simulation" that measures a model's accuracy under FP8
// while computing in float. By definition, bit for bit,
//
//   dst[i] = static_cast<float>(fp8<F>::from_float(src[i] / scale, o)) * scale
//
// i.e. fp8::decode(fp8::encode(src, n, scale, o), n, scale) without the
// intermediate FP8 array: each vector is encoded and decoded in registers
// (the streaming encoder of codec/stream.hpp with a sink that decodes), so
// memory traffic is one float read and one float write per element. The tier
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

// The streaming encoder's sink (codec/stream.hpp) for fake quantization: each
// code decoded in registers and multiplied back by the scale (not at all for
// scaling::none, where the scale is 1), one float per element.
template <scaling::kind_t K>
struct fake_sink {
  using out_type = float;
  float scale;
};

FP8_BEGIN_TU_NAMESPACE

// The definition, element by element.
template <class F>
void fake_quantize(const float* src, float* dst, std::size_t n, float scale, overflow o, isa::portable) noexcept {
  for (std::size_t i = 0; i < n; ++i) dst[i] = scalar::decode<F>(scalar::encode<F>(src[i] / scale, o)) * scale;
}

#if FP8_ISA_SSE2
namespace sse2 {
template <scaling::kind_t K>
struct sink_of<fake_sink<K>> {
  Fl back;
  explicit sink_of(const fake_sink<K>& s) noexcept : back(s.scale) {}
  template <class F, std::size_t V>
  void put(const I (&c)[V], float* dst) const noexcept {
    FP8_UNROLL_VECTORS
    for (std::size_t k = 0; k < V; ++k) {
      Fl y = decode_lanes<F, isa::sse2>(c[k]);
      if (K != scaling::none) y = y * back;
      y.store_unaligned(dst + k * W);
    }
  }
};
}  // namespace sse2
#endif

FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE

#if FP8_TIER_AVX2
FP8_BEGIN_TARGET_AVX2
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace avx2 {
template <scaling::kind_t K>
struct sink_of<fake_sink<K>> {
  __m256 back;
  explicit sink_of(const fake_sink<K>& s) noexcept : back(_mm256_set1_ps(s.scale)) {}
  template <class F, std::size_t V>
  void put(const __m256i (&c)[V], float* dst) const noexcept {
    FP8_UNROLL_VECTORS
    for (std::size_t k = 0; k < V; ++k) {
      const __m256 y = decode_lanes<F>(c[k]);
      _mm256_storeu_ps(dst + k * W, K != scaling::none ? _mm256_mul_ps(y, back) : y);
    }
  }
};
}  // namespace avx2
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX2
#endif

#if FP8_TIER_AVX512
FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
namespace avx512 {
template <scaling::kind_t K>
struct sink_of<fake_sink<K>> {
  __m512 back;
  explicit sink_of(const fake_sink<K>& s) noexcept : back(_mm512_set1_ps(s.scale)) {}
  template <class F, std::size_t V>
  void put(const __m512i (&c)[V], float* dst) const noexcept {
    FP8_UNROLL_VECTORS
    for (std::size_t k = 0; k < V; ++k) {
      const __m512 y = decode_lanes<F>(c[k]);
      _mm512_storeu_ps(dst + k * W, K != scaling::none ? _mm512_mul_ps(y, back) : y);
    }
  }
};
}  // namespace avx512
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512
#endif

FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
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
