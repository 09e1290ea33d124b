// SPDX-License-Identifier: Apache-2.0
// 4-bit integers: the element tags int4 ([-8, 7]) and uint4 ([0, 15]) and
// their two storage orders.
//   - Two per byte, low nibble first: element 2i in bits 0-3 of byte i,
//     element 2i+1 in bits 4-7. This is the ONNX INT4/UINT4 layout (ONNX IR
//     "4-bit integer types": "the first element is stored in the 4 LSB") and
//     PyTorch's torch.uint4x2 / quint4x2 packing. An odd count leaves the
//     last high nibble 0.
//   - Eight per 32-bit word in HAWQ-V3's order (§3.5: INT4 tensors are moved
//     as INT32 words; the first element occupies the top nibble, bits 28-31,
//     element 7 bits 0-3). Unused trailing nibbles are 0.
// Unpacking sign-extends int4 ((x ^ 8) - 8 maps nibble 8..15 to -8..-1).
// Packing rejects an element outside the type's range with
// fp8::invalid_argument before writing anything (it is a storage format, not
// a conversion: clamp with requantize() first).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"

#if FP8_ISA_SSE2
#include <immintrin.h>  // the SSE2 tier (detail/dispatch.hpp includes it only for GCC and clang)
#endif

FP8_BEGIN_NAMESPACE

struct int4 {
  static constexpr int lowest = -8;
  static constexpr int max = 7;
};
struct uint4 {
  static constexpr int lowest = 0;
  static constexpr int max = 15;
};

// ---------------------------------------------------------------- scalar
// One byte from two elements, low nibble first (only the low 4 bits of each
// argument are kept: two's complement makes that right for int4 too).
FP8_HOST_DEVICE constexpr std::uint8_t pack_nibbles(int first, int second) noexcept {
  return static_cast<std::uint8_t>((static_cast<unsigned>(first) & 0xFu) |
                                   ((static_cast<unsigned>(second) & 0xFu) << 4));
}
// Element `index` (0 = low nibble, 1 = high) of a packed byte.
FP8_HOST_DEVICE constexpr int unpack_uint4_nibble(std::uint8_t byte, int index) noexcept {
  return static_cast<int>((static_cast<unsigned>(byte) >> (4 * index)) & 0xFu);
}
FP8_HOST_DEVICE constexpr int unpack_int4_nibble(std::uint8_t byte, int index) noexcept {
  return (unpack_uint4_nibble(byte, index) ^ 8) - 8;
}

namespace detail {

template <class E>
inline void check_nibble_range(const char* function, const E* src, std::size_t n, int lowest, int max) {
  // Find the first offender, so the message can name it.
  for (std::size_t i = 0; i < n; ++i) {
    const int v = src[i];
    if (v < lowest || v > max)
      ::fp8::detail::fail_argument(function, "src",
                                   "element " + std::to_string(i) + " = " + std::to_string(v) + " is outside [" +
                                       std::to_string(lowest) + ", " + std::to_string(max) + "]");
  }
}

// src and dst hold n elements packed `src_per`, `dst_per` to a word of
// `src_word`, `dst_word` bytes (1 per byte for int8 / uint8, 2 per byte for
// nibbles, 8 per int32): both present and disjoint.
inline void check_pack_pointers(const char* function, const void* src, std::size_t src_per, std::size_t src_word,
                                const void* dst, std::size_t dst_per, std::size_t dst_word, std::size_t n) {
  std::size_t b[2];
  check_arrays(function,
               {{"src", src, n / src_per + (n % src_per != 0), src_word},
                {"dst", dst, n / dst_per + (n % dst_per != 0), dst_word}},
               b);
  require_disjoint(function, "dst", dst, b[1], "src", src, b[0]);
}

FP8_BEGIN_TU_NAMESPACE

// Pack 2m bytes (the low nibble of each counts) into m bytes, low nibble
// first. The vector paths read each byte pair as one little-endian 16-bit
// lane x = b0 | b1 << 8 and form (x & 0x000F) | ((x >> 4) & 0x00F0): b0's
// nibble stays in bits 0-3, b1's moves from bits 8-11 to 4-7; then the 16-bit
// lanes narrow to bytes.
inline void pack_nibble_pairs(const std::uint8_t* src, std::uint8_t* dst, std::size_t pairs, isa::portable) noexcept {
  for (std::size_t i = 0; i < pairs; ++i) dst[i] = pack_nibbles(src[2 * i], src[2 * i + 1]);
}
#if FP8_ISA_SSE2
inline void pack_nibble_pairs(const std::uint8_t* src, std::uint8_t* dst, std::size_t pairs, isa::sse2) noexcept {
  std::size_t i = 0;
  const __m128i lo = _mm_set1_epi16(0x000F), hi = _mm_set1_epi16(0x00F0);
  for (; i + 16 <= pairs; i += 16) {
    const __m128i x0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i));
    const __m128i x1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i + 16));
    const __m128i v0 = _mm_or_si128(_mm_and_si128(x0, lo), _mm_and_si128(_mm_srli_epi16(x0, 4), hi));
    const __m128i v1 = _mm_or_si128(_mm_and_si128(x1, lo), _mm_and_si128(_mm_srli_epi16(x1, 4), hi));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_packus_epi16(v0, v1));  // lanes <= 0xFF: exact
  }
  pack_nibble_pairs(src + 2 * i, dst + i, pairs - i, isa::portable{});
}
#endif

FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE

// The tiers above the flags, in target regions (docs/dispatch.md; the
// zero-masking AVX-512 forms keep GCC 12's -Wall quiet).
#if FP8_TIER_AVX2
FP8_BEGIN_TARGET_AVX2
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
inline void pack_nibble_pairs(const std::uint8_t* src, std::uint8_t* dst, std::size_t pairs, isa::avx2) noexcept {
  std::size_t i = 0;
  const __m256i lo = _mm256_set1_epi16(0x000F), hi = _mm256_set1_epi16(0x00F0);
  for (; i + 32 <= pairs; i += 32) {
    const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * i));
    const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * i + 32));
    const __m256i v0 = _mm256_or_si256(_mm256_and_si256(x0, lo), _mm256_and_si256(_mm256_srli_epi16(x0, 4), hi));
    const __m256i v1 = _mm256_or_si256(_mm256_and_si256(x1, lo), _mm256_and_si256(_mm256_srli_epi16(x1, 4), hi));
    // packus works per 128-bit lane: [v0.lo v1.lo | v0.hi v1.hi]; qwords 0 2 1 3 restore order.
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i),
                        _mm256_permute4x64_epi64(_mm256_packus_epi16(v0, v1), 0xD8));
  }
  pack_nibble_pairs(src + 2 * i, dst + i, pairs - i, isa::portable{});
}
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX2
#endif  // FP8_TIER_AVX2

#if FP8_TIER_AVX512
FP8_BEGIN_TARGET_AVX512
FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE
inline void pack_nibble_pairs(const std::uint8_t* src, std::uint8_t* dst, std::size_t pairs, isa::avx512) noexcept {
  std::size_t i = 0;
  const __mmask32 all = 0xFFFFFFFFu;
  const __m512i lo = _mm512_set1_epi16(0x000F), hi = _mm512_set1_epi16(0x00F0);
  for (; i + 32 <= pairs; i += 32) {
    const __m512i x = _mm512_loadu_si512(src + 2 * i);
    const __m512i v =
        _mm512_or_si512(_mm512_and_si512(x, lo), _mm512_and_si512(_mm512_maskz_srli_epi16(all, x, 4), hi));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm512_maskz_cvtepi16_epi8(all, v));
  }
  pack_nibble_pairs(src + 2 * i, dst + i, pairs - i, isa::portable{});
}
FP8_END_TU_NAMESPACE
}  // namespace detail
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512
#endif  // FP8_TIER_AVX512

FP8_BEGIN_NAMESPACE
namespace detail {
FP8_BEGIN_TU_NAMESPACE

// Write elements [first, first + n) of a low-nibble-first int4/uint4 array
// from the low nibbles of src[0..n). Nibbles outside the range are kept (a
// partial byte at either end is read, modified and written), so adjacent
// ranges may be written in any order.
template <class Tag>
void write_nibbles(const std::uint8_t* src, std::uint8_t* dst, std::size_t first, std::size_t n, Tag tag) noexcept {
  if (n == 0) return;
  if (first % 2 != 0) {  // the high nibble of a byte whose low nibble is not ours
    std::uint8_t& b = dst[first / 2];
    b = static_cast<std::uint8_t>((b & 0x0Fu) | ((src[0] & 0x0Fu) << 4));
    ++src;
    ++first;
    --n;
  }
  pack_nibble_pairs(src, dst + first / 2, n / 2, tag);
  if (n % 2 != 0) {  // the low nibble of a byte whose high nibble is not ours
    std::uint8_t& b = dst[(first + n) / 2];
    b = static_cast<std::uint8_t>((b & 0xF0u) | (src[n - 1] & 0x0Fu));
  }
}

template <bool Signed, class E>
inline void unpack_nibbles(const std::uint8_t* src, E* dst, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const int index = static_cast<int>(i % 2);
    dst[i] = static_cast<E>(Signed ? unpack_int4_nibble(src[i / 2], index) : unpack_uint4_nibble(src[i / 2], index));
  }
}

template <class E>
inline void pack_words(const E* src, std::int32_t* dst, std::size_t n) noexcept {
  const std::size_t words = (n + 7) / 8;
  for (std::size_t w = 0; w < words; ++w) {
    std::uint32_t word = 0;
    for (std::size_t j = 0; j < 8 && 8 * w + j < n; ++j)  // element j of the word in bits 28-4j .. 31-4j
      word |= (static_cast<std::uint32_t>(src[8 * w + j]) & 0xFu) << (28 - 4 * j);
    dst[w] = static_cast<std::int32_t>(word);  // two's complement reinterpretation of the bits
  }
}

template <bool Signed, class E>
inline void unpack_words(const std::int32_t* src, E* dst, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const int nibble = static_cast<int>((static_cast<std::uint32_t>(src[i / 8]) >> (28 - 4 * (i % 8))) & 0xFu);
    dst[i] = static_cast<E>(Signed ? (nibble ^ 8) - 8 : nibble);
  }
}

FP8_END_TU_NAMESPACE
}  // namespace detail

FP8_BEGIN_TU_NAMESPACE

// ---------------------------------------------------------------- two per byte
// dst holds (n + 1) / 2 bytes.
inline void pack_int4(const std::int8_t* src, std::uint8_t* dst, std::size_t n) {
  detail::check_pack_pointers("fp8::pack_int4", src, 1, 1, dst, 2, 1, n);
  detail::check_nibble_range("fp8::pack_int4", src, n, int4::lowest, int4::max);
  detail::dispatch(
      [&](auto tag) { detail::pack_nibble_pairs(reinterpret_cast<const std::uint8_t*>(src), dst, n / 2, tag); });
  if (n % 2 != 0) dst[n / 2] = pack_nibbles(src[n - 1], 0);
}
inline void pack_uint4(const std::uint8_t* src, std::uint8_t* dst, std::size_t n) {
  detail::check_pack_pointers("fp8::pack_uint4", src, 1, 1, dst, 2, 1, n);
  detail::check_nibble_range("fp8::pack_uint4", src, n, uint4::lowest, uint4::max);
  detail::dispatch([&](auto tag) { detail::pack_nibble_pairs(src, dst, n / 2, tag); });
  if (n % 2 != 0) dst[n / 2] = pack_nibbles(src[n - 1], 0);
}
// src holds (n + 1) / 2 bytes.
inline void unpack_int4(const std::uint8_t* src, std::int8_t* dst, std::size_t n) {
  detail::check_pack_pointers("fp8::unpack_int4", src, 2, 1, dst, 1, 1, n);
  detail::unpack_nibbles<true>(src, dst, n);
}
inline void unpack_uint4(const std::uint8_t* src, std::uint8_t* dst, std::size_t n) {
  detail::check_pack_pointers("fp8::unpack_uint4", src, 2, 1, dst, 1, 1, n);
  detail::unpack_nibbles<false>(src, dst, n);
}

// ---------------------------------------------------------------- eight per int32 (HAWQ-V3)
// dst holds (n + 7) / 8 words.
inline void pack_int4x8(const std::int8_t* src, std::int32_t* dst, std::size_t n) {
  detail::check_pack_pointers("fp8::pack_int4x8", src, 1, 1, dst, 8, 4, n);
  detail::check_nibble_range("fp8::pack_int4x8", src, n, int4::lowest, int4::max);
  detail::pack_words(src, dst, n);
}
inline void pack_uint4x8(const std::uint8_t* src, std::int32_t* dst, std::size_t n) {
  detail::check_pack_pointers("fp8::pack_uint4x8", src, 1, 1, dst, 8, 4, n);
  detail::check_nibble_range("fp8::pack_uint4x8", src, n, uint4::lowest, uint4::max);
  detail::pack_words(src, dst, n);
}
inline void unpack_int4x8(const std::int32_t* src, std::int8_t* dst, std::size_t n) {
  detail::check_pack_pointers("fp8::unpack_int4x8", src, 8, 4, dst, 1, 1, n);
  detail::unpack_words<true>(src, dst, n);
}
inline void unpack_uint4x8(const std::int32_t* src, std::uint8_t* dst, std::size_t n) {
  detail::check_pack_pointers("fp8::unpack_uint4x8", src, 8, 4, dst, 1, 1, n);
  detail::unpack_words<false>(src, dst, n);
}

FP8_END_TU_NAMESPACE
FP8_END_NAMESPACE
