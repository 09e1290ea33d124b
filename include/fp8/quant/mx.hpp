// SPDX-License-Identifier: Apache-2.0
// MXFP8: OCP Microscaling Formats (MX) v1.0 blocks of k = 32 FP8 elements
// (E4M3 or E5M2) sharing one E8M0 scale X (types/e8m0.hpp); a block's values
// are X * P_i. Encoding follows the spec's conversion of §6.3:
//
//   shared_exp = floor(log2(amax)) - emax_elem     amax = max_i |V_i|
//   X          = 2^shared_exp
//   P_i        = quantize_to_element_format(V_i / X), normal numbers clamped
//
// emax_elem is the exponent of the element format's largest normal (E4M3:
// 448 = 1.75 * 2^8, emax 8; E5M2: 57344 = 1.75 * 2^15, emax 15), so amax
// lands in the element's top binade [2^emax, 2^(emax+1)), and values there
// above max (E4M3 (448, 512)) saturate to +-max.
//
// Our precise rules, where the spec leaves room:
//   * P_i = fp8<F>::from_float(V_i / X, overflow::saturate): nearest, ties to
//     even (codec/scalar.hpp). V_i / X is exact in float except when it is
//     below 2^-126, where it is far below half the element's smallest
//     subnormal and encodes to a signed zero either way.
//   * shared_exp is clamped below at -127, E8M0's smallest exponent (blocks
//     with amax < 2^(emax - 127) and all-zero blocks, whose log2 is -Inf):
//     an all-zero block gets X = 2^-127 (code 0x00) and zeros that keep
//     their signs. It never exceeds 127 - emax for a finite amax (FLT_MAX <
//     2^128), so no finite block overflows the scale.
//   * A block containing a NaN or an infinity has no meaningful shared
//     exponent (log2 of Inf/NaN): X is NaN (0xFF), as in the MX reference
//     implementation (microsoft/microxcaling), and all its elements are the
//     element format's NaN code (E4M3 0x7F, E5M2 0x7E). The spec decodes
//     every element of a NaN-scale block as NaN whatever its P_i.
//   * n need not be a multiple of 32: the last block is partial, holds the
//     n % 32 remaining elements, and its scale comes from those alone. The
//     scale array has mx_scale_count(n) = ceil(n / 32) entries.
//
// Decoding: dst[i] = float(P_i) * float(X), a float multiply. It is exact
// for every block mx_encode produces (|P_i| <= max and X <= 2^(127 - emax)
// keep the product below 2^128, and down to X = 2^-127 it is at worst a
// float subnormal, still exact); a scale and element pair no encoder gives
// (e.g. 448 * 2^120) overflows to Inf as the multiply does. A NaN scale
// gives the quiet NaN 0x7FC00000 for every element of its block.
//
// Vector tiers (sse2 on xsimd, avx2 and avx512 in intrinsics, chosen once
// per call at run time): the codec's streaming encoder (codec/stream.hpp)
// with a rule that takes the block amax as an integer max of magnitude bits
// (quant/amax.hpp) reduced across lanes, the scale code from its exponent
// field, and multiplies the elements by the reciprocal 1 / X (always a
// normal power of two here, so the product is the quotient V_i / X) before
// the tier's encode_lanes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../codec/kernels.hpp"
#include "../codec/scalar.hpp"
#include "../codec/simd_core.hpp"
#include "../config.hpp"
#include "../detail/bit.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"
#include "../types/e8m0.hpp"
#include "../types/float16.hpp"
#include "../types/fp8.hpp"
#include "common.hpp"

FP8_BEGIN_NAMESPACE

constexpr std::size_t mx_block_size = 32;  // k of the MX v1.0 concrete formats

// Number of E8M0 scales for n elements: ceil(n / 32).
constexpr std::size_t mx_scale_count(std::size_t n) noexcept { return n / mx_block_size + (n % mx_block_size != 0); }

namespace detail {

template <class F>
constexpr bool is_mx_element() noexcept {
  return std::is_same<F, E4M3>::value || std::is_same<F, E5M2>::value;
}

// The E8M0 code of a block whose largest magnitude has the float magnitude
// bits `amax_bits`. Its biased exponent field b is floor(log2 amax) + 127 for
// a normal amax, so the code shared_exp + 127 is b - emax, clamped at 0. A
// subnormal or zero amax has b = 0 and a true floor(log2) below -126, so it
// clamps to 0 as well, as it should. b = 255 is Inf or NaN.
template <class F>
constexpr std::uint8_t mx_scale_code(std::uint32_t amax_bits) noexcept {
  constexpr int emax = format_traits<F>::max_exponent;
  const int b = static_cast<int>(amax_bits >> 23);
  return b == 255 ? E8M0::nan_code : static_cast<std::uint8_t>(b > emax ? b - emax : 0);
}

// 1 / X as a float for a non-NaN code: 2^(127 - code), biased exponent
// 254 - code, which is in [1, 254] because code <= 254 - emax (the code of
// FLT_MAX) and emax >= 1: a normal float.
inline float mx_reciprocal(std::uint8_t code) noexcept {
  return bit_cast<float>(static_cast<std::uint32_t>(254 - code) << 23);
}

// Everything below that compiles to vector code, plain loops included (the
// compiler vectorizes them for the unit's flags), lives in the flags-named
// namespace (detail/dispatch.hpp).
FP8_BEGIN_TU_NAMESPACE

// One block, element by element, from the definition (partial blocks, and
// blocks left over by the vector loop).
template <class F>
void mx_encode_block(const float* src, std::uint8_t* dst, std::size_t m, E8M0* scale) noexcept {
  std::uint32_t amax = 0;
  for (std::size_t i = 0; i < m; ++i) {
    const std::uint32_t a = bit_cast<std::uint32_t>(src[i]) & 0x7FFFFFFFu;
    amax = a > amax ? a : amax;
  }
  const std::uint8_t code = mx_scale_code<F>(amax);
  *scale = E8M0::from_bits(code);
  if (code == E8M0::nan_code) {
    std::memset(dst, format_traits<F>::nan_code, m);
    return;
  }
  const float x = static_cast<float>(E8M0::from_bits(code));
  for (std::size_t i = 0; i < m; ++i) dst[i] = scalar::encode<F>(src[i] / x, overflow::saturate);
}

template <class F>
void mx_encode(const float* src, std::uint8_t* dst, std::size_t n, E8M0* scales, isa::portable) noexcept {
  for (std::size_t b = 0; b * mx_block_size < n; ++b) {
    const std::size_t i = b * mx_block_size, m = n - i < mx_block_size ? n - i : mx_block_size;
    mx_encode_block<F>(src + i, dst + i, m, scales + b);
  }
}
// 16-bit sources: each block widened to float (exactly) first.
template <class F, class Src>
void mx_encode(const Src* src, std::uint8_t* dst, std::size_t n, E8M0* scales, isa::portable) noexcept {
  float block[mx_block_size];
  for (std::size_t b = 0; b * mx_block_size < n; ++b) {
    const std::size_t i = b * mx_block_size, m = n - i < mx_block_size ? n - i : mx_block_size;
    for (std::size_t k = 0; k < m; ++k) block[k] = to_float(src[i + k]);
    mx_encode_block<F>(block, dst + i, m, scales + b);
  }
}

template <class F>
void mx_decode_block(const std::uint8_t* src, float* dst, std::size_t m, E8M0 scale) noexcept {
  if (scale.is_nan()) {
    for (std::size_t i = 0; i < m; ++i) dst[i] = bit_cast<float>(0x7FC00000u);
    return;
  }
  kernel::decode<F>(src, dst, m, static_cast<float>(scale), isa::portable{});
}

template <class F>
void mx_decode(const std::uint8_t* src, float* dst, std::size_t n, const E8M0* scales, isa::portable) noexcept {
  for (std::size_t b = 0; b * mx_block_size < n; ++b) {
    const std::size_t i = b * mx_block_size, m = n - i < mx_block_size ? n - i : mx_block_size;
    mx_decode_block<F>(src + i, dst + i, m, scales[b]);
  }
}

FP8_END_TU_NAMESPACE

// The streaming encoder's rule (codec/stream.hpp) for MX blocks; its lanes
// are quant/mx-inl.hpp's.
struct mx_blocks {
  std::uint8_t* scales;  // E8M0 codes, one per block of the call
  mx_blocks from(std::size_t i) const noexcept { return {scales + i / mx_block_size}; }
};

}  // namespace detail
FP8_END_NAMESPACE

// The MX rule's lanes and the whole-block decoder, written once for every tier.
#define FP8_CODEC_TIER_BODY "../quant/mx-inl.hpp"
#include "../codec/tiers-inl.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE

#if FP8_ISA_SSE2
// Every vector tier: the tier's streaming encoder with the MX rule (MX
// always saturates and has no other scaling).
template <class F, class Src, class Tag, kernel::if_vector<Tag> = 0>
void mx_encode(const Src* src, std::uint8_t* dst, std::size_t n, E8M0* scales, Tag tag) noexcept {
  static_assert(sizeof(E8M0) == 1, "E8M0 is its code");
  kernel::stream<F, overflow::saturate>(src, dst, n, mx_blocks{reinterpret_cast<std::uint8_t*>(scales)}, code_sink{},
                                        tag);
}

// Each tier's whole-block decoder, by tag.
template <class F>
void mx_decode_blocks(const std::uint8_t* src, float* dst, std::size_t blocks, const E8M0* scales, isa::sse2) noexcept {
  sse2::mx_decode_blocks<F>(src, dst, blocks, scales);
}
#if FP8_TIER_AVX2
template <class F>
void mx_decode_blocks(const std::uint8_t* src, float* dst, std::size_t blocks, const E8M0* scales, isa::avx2) noexcept {
  avx2::mx_decode_blocks<F>(src, dst, blocks, scales);
}
#endif
#if FP8_TIER_AVX512
template <class F>
void mx_decode_blocks(const std::uint8_t* src, float* dst, std::size_t blocks, const E8M0* scales,
                      isa::avx512) noexcept {
  avx512::mx_decode_blocks<F>(src, dst, blocks, scales);
}
#endif

// Decoding: whole blocks by the tier, the partial last one by the definition.
template <class F, class Tag, kernel::if_vector<Tag> = 0>
void mx_decode(const std::uint8_t* src, float* dst, std::size_t n, const E8M0* scales, Tag tag) noexcept {
  const std::size_t blocks = n / mx_block_size, done = blocks * mx_block_size;
  mx_decode_blocks<F>(src, dst, blocks, scales, tag);
  mx_decode<F>(src + done, dst + done, n - done, scales + blocks, isa::portable{});
}
#endif

FP8_END_TU_NAMESPACE
}  // namespace detail

// The shared E8M0 scale MX v1.0 §6.3 gives a block whose largest magnitude
// is |amax| (rules at the top of this file: clamped at 2^-127, NaN for an
// infinite or NaN amax).
template <class F>
FP8_BIT_CAST_CONSTEXPR E8M0 mx_scale(float amax) noexcept {
  static_assert(detail::is_mx_element<F>(), "MXFP8 elements are E4M3 or E5M2");
  return E8M0::from_bits(detail::mx_scale_code<F>(detail::bit_cast<std::uint32_t>(amax) & 0x7FFFFFFFu));
}

namespace detail {
template <class F, class Src>
void check_mx_encode(const Src* src, const fp8<F>* dst, std::size_t n, const E8M0* scales) {
  static_assert(is_mx_element<F>(), "MXFP8 elements are E4M3 or E5M2");
  constexpr const char* function = "fp8::mx_encode";
  std::size_t b[3];
  check_arrays(function, {{"src", src, n, sizeof(Src)}, {"dst", dst, n, 1}, {"scales", scales, mx_scale_count(n), 1}},
               b);
  require_disjoint(function, "dst", dst, b[1], "src", src, b[0]);
  require_disjoint(function, "scales", scales, b[2], "src", src, b[0]);
  require_disjoint(function, "scales", scales, b[2], "dst", dst, b[1]);
}
FP8_BEGIN_TU_NAMESPACE
template <class F, class Src>
void mx_encode_entry(const Src* src, fp8<F>* dst, std::size_t n, E8M0* scales) {
  check_mx_encode(src, dst, n, scales);
  auto* d = reinterpret_cast<std::uint8_t*>(dst);
  dispatch([&](auto tier) { mx_encode<F>(src, d, n, scales, tier); });
}
FP8_END_TU_NAMESPACE
}  // namespace detail

// The entries live in the flags-named namespace (detail/dispatch.hpp) and
// choose the tier once per call.
FP8_BEGIN_TU_NAMESPACE

// Encodes n floats into MXFP8 blocks of 32: n element codes in dst and
// mx_scale_count(n) scales in scales (the last block may be partial).
template <class F>
void mx_encode(const float* src, fp8<F>* dst, std::size_t n, E8M0* scales) {
  detail::mx_encode_entry(src, dst, n, scales);
}
// The same from bfloat16 or half: each value is widened to float exactly, so
// the result equals mx_encode of the widened array.
template <class F>
void mx_encode(const bfloat16* src, fp8<F>* dst, std::size_t n, E8M0* scales) {
  detail::mx_encode_entry(src, dst, n, scales);
}
template <class F>
void mx_encode(const half* src, fp8<F>* dst, std::size_t n, E8M0* scales) {
  detail::mx_encode_entry(src, dst, n, scales);
}

// Decodes n MXFP8 elements with their mx_scale_count(n) scales to float.
template <class F>
void mx_decode(const fp8<F>* src, float* dst, std::size_t n, const E8M0* scales) {
  static_assert(detail::is_mx_element<F>(), "MXFP8 elements are E4M3 or E5M2");
  constexpr const char* function = "fp8::mx_decode";
  std::size_t b[3];
  detail::check_arrays(
      function, {{"src", src, n, 1}, {"dst", dst, n, sizeof(float)}, {"scales", scales, mx_scale_count(n), 1}}, b);
  detail::require_disjoint(function, "dst", dst, b[1], "src", src, b[0]);
  detail::require_disjoint(function, "dst", dst, b[1], "scales", scales, b[2]);
  const auto* s = reinterpret_cast<const std::uint8_t*>(src);
  detail::dispatch([&](auto tier) { detail::mx_decode<F>(s, dst, n, scales, tier); });
}

FP8_END_TU_NAMESPACE
FP8_END_NAMESPACE
