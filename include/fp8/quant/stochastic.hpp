// SPDX-License-Identifier: Apache-2.0
// Bulk stochastic rounding into an FP8 format:
//
//   dst[i] = scalar::encode_stochastic<F>(src[i] / scale,
//                                         scalar::stochastic_bits(seed, index_offset + i), o)
//
// bit for bit, with src[i] / scale computed as codec/bulk.hpp's encode does
// (a multiply by the reciprocal when that is the same correctly rounded
// quotient). The rounding rule and the counter-based random bits are defined
// in codec/stochastic.hpp. Because element i's bits depend only on
// (seed, index_offset + i), the result never depends on the ISA, the vector
// width or how the array is split: encoding [0, k) and then [k, n) with
// index_offset = k gives the same bytes as one call over [0, n).
//
// The vector tiers (sse2 on xsimd, avx2 and avx512 in intrinsics, chosen
// once per call at run time) run the codec's streaming encoder
// (codec/stream.hpp) with its stochastic_scale rule, which hashes the element
// indices in 32-bit lanes, picks the neighbour below or above |x| exactly as
// the scalar definition does, and encodes the chosen (exactly representable)
// value with the tier's encode_lanes, so the overflow, NaN, sign and zero
// rules are shared with the round-to-nearest codec instead of written again
// (each tier's lanes: codec/simd_core.hpp, which derives them,
// codec/kernels_avx2.hpp, codec/kernels_avx512.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "../codec/bulk.hpp"
#include "../codec/kernels.hpp"
#include "../codec/simd_core.hpp"
#include "../codec/stochastic.hpp"
#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"
#include "../types/float16.hpp"
#include "../types/fp8.hpp"
#include "common.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

FP8_BEGIN_TU_NAMESPACE

// The definition, element by element.
template <class F, class Src>
void encode_stochastic(const Src* src, std::uint8_t* dst, std::size_t n, std::uint64_t seed, float scale, overflow o,
                       std::uint64_t first_index, isa::portable) noexcept {
  const auto key = scalar::detail::make_stochastic_key(seed);
  for (std::size_t i = 0; i < n; ++i)
    dst[i] = scalar::encode_stochastic<F>(to_float(src[i]) / scale,
                                          scalar::detail::stochastic_bits(key, first_index + i), o);
}

#if FP8_ISA_SSE2
// Every vector tier: the policy chosen once, then the tier's streaming
// encoder with the stochastic rule.
template <class F, class Src, class Tag, kernel::if_vector<Tag> = 0>
void encode_stochastic(const Src* src, std::uint8_t* dst, std::size_t n, std::uint64_t seed, float scale, overflow o,
                       std::uint64_t first_index, Tag tag) noexcept {
  const scaling s(scale);
  const auto key = scalar::detail::make_stochastic_key(seed);
  with_policy(o, s.kind, [&](auto p) {
    using P = decltype(p);
    kernel::stream<F, P::overflow_policy>(src, dst, n, stochastic_scale<P::kind>{s.factor, key, first_index},
                                          code_sink{}, tag);
  });
}
#endif

template <class F, class Src>
void encode_stochastic_entry(const Src* src, fp8<F>* dst, std::size_t n, std::uint64_t seed, float scale, overflow o,
                             std::uint64_t index_offset) {
  check_bulk("fp8::encode_stochastic", src, sizeof(Src), dst, 1, n, scale, o);
  auto* d = reinterpret_cast<std::uint8_t*>(dst);
  dispatch([&](auto tier) { encode_stochastic<F>(src, d, n, seed, scale, o, index_offset, tier); });
}

FP8_END_TU_NAMESPACE
}  // namespace detail

// The entries live in the flags-named namespace (detail/dispatch.hpp) and
// choose the tier once per call.
FP8_BEGIN_TU_NAMESPACE

// dst[i] = stochastic rounding of src[i] / scale into F with the random bits
// of (seed, index_offset + i); see the top of this file and
// codec/stochastic.hpp. Errors as fp8::encode (null pointers, overlapping
// buffers, a scale that is not a positive finite float), before any write.
template <class F>
void encode_stochastic(const float* src, fp8<F>* dst, std::size_t n, std::uint64_t seed, float scale = 1.0f,
                       overflow o = overflow::saturate, std::uint64_t index_offset = 0) {
  detail::encode_stochastic_entry(src, dst, n, seed, scale, o, index_offset);
}
// The same from bfloat16 or half (widened to float exactly): element i still
// uses the random bits of (seed, index_offset + i).
template <class F>
void encode_stochastic(const bfloat16* src, fp8<F>* dst, std::size_t n, std::uint64_t seed, float scale = 1.0f,
                       overflow o = overflow::saturate, std::uint64_t index_offset = 0) {
  detail::encode_stochastic_entry(src, dst, n, seed, scale, o, index_offset);
}
template <class F>
void encode_stochastic(const half* src, fp8<F>* dst, std::size_t n, std::uint64_t seed, float scale = 1.0f,
                       overflow o = overflow::saturate, std::uint64_t index_offset = 0) {
  detail::encode_stochastic_entry(src, dst, n, seed, scale, o, index_offset);
}

FP8_END_TU_NAMESPACE
FP8_END_NAMESPACE
