// SPDX-License-Identifier: Apache-2.0
// Bulk conversion kernels behind codec/bulk.hpp, one overload per ISA tag of
// detail/isa.hpp. The tags inherit (avx512 -> avx2 -> sse2 -> portable), so a
// call with isa::best{} resolves to the newest kernel compiled in, and every
// kernel owns its tail by finishing with the scalar codec. The arithmetic is
// written once over xsimd batches (codec/simd_core.hpp); loads that widen and
// stores that narrow, which xsimd 8.1 lacks, are intrinsics per ISA here, and
// AVX-512 VBMI decodes through byte tables (codec/decode_vbmi.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../config.hpp"
#include "../detail/isa.hpp"
#include "../types/float16.hpp"
#include "../types/format.hpp"
#include "scalar.hpp"
#include "simd_core.hpp"

FP8_BEGIN_NAMESPACE
namespace kernel {

// ---------------------------------------------------------------- portable
// The definition, element by element: what every other overload must equal.

template <class F, class Src>
void encode(const Src* src, std::uint8_t* dst, std::size_t n, float scale, overflow o, isa::portable) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = scalar::encode<F>(detail::to_float(src[i]) / scale, o);
}

template <class F, class Dst>
void decode(const std::uint8_t* src, Dst* dst, std::size_t n, float scale, isa::portable) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = detail::from_float<Dst>(scalar::decode<F>(src[i]) * scale);
}

// float -> bfloat16, round to nearest even, overflow to infinity, NaN to the
// quiet NaN of its sign: bfloat16(x) (scalar::encode<BF16>(x,
// non_saturating)) in a form compilers vectorize. bfloat16 has float's
// exponent range, so rounding the low 16 bits away is the whole conversion,
// denormals included. tests/test_float16.cpp checks it on all 2^32 floats.
inline std::uint16_t bfloat16_bits(float x) noexcept {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>(((u >> 16) & 0x8000u) | 0x7FC0u);
  return static_cast<std::uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}
inline void narrow_bfloat16(const float* src, bfloat16* dst, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) dst[i] = bfloat16::from_bits(bfloat16_bits(src[i]));
}

#if FP8_ISA_SSE2
// ---------------------------------------------------------------- SIMD
// Sources other than float are widened to float a chunk at a time into a
// stack buffer, then encoded: widening is exact, so this equals the
// definition, and the float kernel stays the only encoder.

// Tag is the caller's ISA (any vector tag): the loops below are generic over
// it, only the byte loads and stores of simd_core.hpp are per ISA.
template <class Tag>
using if_vector = std::enable_if_t<std::is_base_of<isa::sse2, Tag>::value, int>;

template <class F, class Tag, if_vector<Tag> = 0>
void encode(const float* src, std::uint8_t* dst, std::size_t n, float scale, overflow o, Tag tag) {
  const detail::scaling s(scale);
  const std::size_t done = o == overflow::saturate ? detail::encode_main<F, overflow::saturate>(src, dst, n, s, tag)
                                                   : detail::encode_main<F, overflow::non_saturating>(src, dst, n, s, tag);
  encode<F>(src + done, dst + done, n - done, scale, o, isa::portable{});
}

template <class F, class Src, class Tag, if_vector<Tag> = 0>
void encode(const Src* src, std::uint8_t* dst, std::size_t n, float scale, overflow o, Tag tag) {
  float buffer[detail::chunk];
  for (std::size_t i = 0; i < n; i += detail::chunk) {
    const std::size_t m = n - i < detail::chunk ? n - i : detail::chunk;
    detail::widen(src + i, buffer, m, tag);
    encode<F>(buffer, dst + i, m, scale, o, tag);
  }
}

template <class F, class Tag, if_vector<Tag> = 0>
void decode(const std::uint8_t* src, float* dst, std::size_t n, float scale, Tag tag) {
  const std::size_t done = detail::decode_main<F>(src, dst, n, scale, tag);
  decode<F>(src + done, dst + done, n - done, scale, isa::portable{});
}

// 16-bit outputs: exact table or arithmetic decode where the scale is 1,
// otherwise decode and scale in float, then one narrowing.
template <class F, class Dst, class Tag, if_vector<Tag> = 0>
void decode(const std::uint8_t* src, Dst* dst, std::size_t n, float scale, Tag tag) {
  std::size_t done = 0;
  if (scale == 1.0f) done = detail::decode16_main<F>(src, dst, n, tag);
  float buffer[detail::chunk];
  for (std::size_t i = done; i < n; i += detail::chunk) {
    const std::size_t m = n - i < detail::chunk ? n - i : detail::chunk;
    decode<F>(src + i, buffer, m, scale, tag);
    detail::narrow(buffer, dst + i, m, tag);
  }
}
#endif

}  // namespace kernel
FP8_END_NAMESPACE
