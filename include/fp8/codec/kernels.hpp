// SPDX-License-Identifier: Apache-2.0
// Bulk conversion kernels behind codec/bulk.hpp, one overload per tier tag of
// detail/isa.hpp (docs/dispatch.md):
//   portable    the definition, element by element through codec/scalar.hpp;
//   sse2        xsimd (codec/simd_core.hpp), plus the SSE2/F16C loads that
//               widen and stores that narrow, which xsimd 8.1 lacks;
//   avx2        intrinsics, codec/kernels_avx2.hpp;
//   avx512      intrinsics, codec/kernels_avx512.hpp;
//   avx512bf16  the avx512 encoder, and decoding through VBMI byte tables
//               (codec/decode_vbmi.hpp).
// The avx2 and avx512 tiers (and avx512bf16) are compiled by target attribute
// whatever the unit's flags; detail::dispatch picks one per call, and callers
// that pass isa::best{} get the newest tier the flags enable. The tags
// inherit (avx512bf16 -> avx512 -> avx2 -> sse2 -> portable), so a tag
// without an overload of its own resolves to its nearest ancestor. Every
// kernel owns its tail and equals the portable overload bit for bit.
// Encoding on every vector tier is the tier's streaming encoder
// (codec/stream.hpp) with the one-scale rule; kernel::stream is how the
// quantizers (quant/*.hpp) reach the same loop with their own rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../types/float16.hpp"
#include "../types/format.hpp"
#include "decode_vbmi.hpp"
#include "kernels_avx2.hpp"
#include "kernels_avx512.hpp"
#include "scalar.hpp"
#include "simd_core.hpp"
#include "stream.hpp"

// The streaming encoder's loop, rules and sinks, compiled for every vector tier.
#define FP8_CODEC_TIER_BODY "stream-inl.hpp"
#include "tiers-inl.hpp"

FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE

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
// ---------------------------------------------------------------- sse2
// Sources other than float are widened to float a chunk at a time into a
// stack buffer, then encoded: widening is exact, so this equals the
// definition.

// Any vector tag (the quantizers' overloads that every vector tier shares).
template <class Tag>
using if_vector = std::enable_if_t<std::is_base_of<isa::sse2, Tag>::value, int>;

// The streaming encoder (codec/stream.hpp) of the sse2 tier, floats only:
// rows x n at leading dimensions src_ld, dst_ld, the rule's indices
// restarting at each row (per-column scales), in one call of the tier's loop.
template <class F, overflow O, class Rule, class Sink>
void stream(const float* src, std::size_t src_ld, typename Sink::out_type* dst, std::size_t dst_ld, std::size_t rows,
            std::size_t n, const Rule& rule, const Sink& sink, isa::sse2) noexcept {
  detail::sse2::stream<F, O>(src, src_ld, dst, dst_ld, rows, n, rule, sink);
}
// One row; 16-bit sources are widened a chunk at a time (the chunk is a
// whole number of MX blocks, so a block never straddles two chunks).
template <class F, overflow O, class Rule, class Sink, class Src>
void stream(const Src* src, typename Sink::out_type* dst, std::size_t n, const Rule& rule, const Sink& sink,
            isa::sse2 tag) noexcept {
  if constexpr (std::is_same<Src, float>::value) {
    detail::sse2::stream<F, O>(src, n, dst, n, 1, n, rule, sink);
  } else {
    float buffer[detail::chunk];
    for (std::size_t i = 0; i < n; i += detail::chunk) {
      const std::size_t m = n - i < detail::chunk ? n - i : detail::chunk;
      detail::widen(src + i, buffer, m, tag);
      detail::sse2::stream<F, O>(buffer, m, dst + i, m, 1, m, rule.from(i), sink);
    }
  }
}

template <class F>
void decode(const std::uint8_t* src, float* dst, std::size_t n, float scale, isa::sse2 tag) {
  const std::size_t done = detail::decode_main<F>(src, dst, n, scale, tag);
  decode<F>(src + done, dst + done, n - done, scale, isa::portable{});
}

// 16-bit outputs: decode and scale in float, then one narrowing.
template <class F, class Dst>
void decode(const std::uint8_t* src, Dst* dst, std::size_t n, float scale, isa::sse2 tag) {
  float buffer[detail::chunk];
  for (std::size_t i = 0; i < n; i += detail::chunk) {
    const std::size_t m = n - i < detail::chunk ? n - i : detail::chunk;
    decode<F>(src + i, buffer, m, scale, tag);
    detail::narrow(buffer, dst + i, m, tag);
  }
}
#endif

namespace tier {
template <class F, class Codec, class Dst>
void decode(const std::uint8_t* src, Dst* dst, std::size_t n, float scale) {
  if (scale == 1.0f)
    Codec::template decode<F, false>(src, dst, n, scale);
  else
    Codec::template decode<F, true>(src, dst, n, scale);
}
}  // namespace tier

#if FP8_TIER_AVX2
// ---------------------------------------------------------------- avx2
struct avx2_codec {
  template <class F, bool Scaled, class Dst>
  static void decode(const std::uint8_t* src, Dst* dst, std::size_t n, float scale) noexcept {
    detail::avx2::decode<F, Scaled>(src, dst, n, scale);
  }
};
template <class F, overflow O, class Rule, class Sink, class Src>
void stream(const Src* src, std::size_t src_ld, typename Sink::out_type* dst, std::size_t dst_ld, std::size_t rows,
            std::size_t n, const Rule& rule, const Sink& sink, isa::avx2) noexcept {
  detail::avx2::stream<F, O>(src, src_ld, dst, dst_ld, rows, n, rule, sink);
}
template <class F, class Dst>
void decode(const std::uint8_t* src, Dst* dst, std::size_t n, float scale, isa::avx2) {
  tier::decode<F, avx2_codec>(src, dst, n, scale);
}
#endif

#if FP8_TIER_AVX512
// ---------------------------------------------------------------- avx512
struct avx512_codec {
  template <class F, bool Scaled, class Dst>
  static void decode(const std::uint8_t* src, Dst* dst, std::size_t n, float scale) noexcept {
    detail::avx512::decode<F, Scaled>(src, dst, n, scale);
  }
};
template <class F, overflow O, class Rule, class Sink, class Src>
void stream(const Src* src, std::size_t src_ld, typename Sink::out_type* dst, std::size_t dst_ld, std::size_t rows,
            std::size_t n, const Rule& rule, const Sink& sink, isa::avx512) noexcept {
  detail::avx512::stream<F, O>(src, src_ld, dst, dst_ld, rows, n, rule, sink);
}
#endif

#if FP8_TIER_AVX2
// One row, on the avx2 and avx512 tiers (which load 16-bit sources).
template <class F, overflow O, class Rule, class Sink, class Src, class Tag,
          std::enable_if_t<std::is_base_of<isa::avx2, Tag>::value, int> = 0>
void stream(const Src* src, typename Sink::out_type* dst, std::size_t n, const Rule& rule, const Sink& sink,
            Tag tag) noexcept {
  stream<F, O>(src, n, dst, n, 1, n, rule, sink, tag);
}
#endif

#if FP8_HAVE_DECODE_VBMI
// VBMI byte tables for the whole 64-code steps (float outputs at any scale,
// 16-bit outputs at scale 1, where the table entry is the exact result), the
// avx512 decoder for the rest. Reached by the avx512bf16 tag, and by the
// avx512 tag in a unit whose flags enable VBMI (as before run-time
// dispatch: such a unit runs only where VBMI is).
template <class F, class Dst>
void decode_vbmi_avx512(const std::uint8_t* src, Dst* dst, std::size_t n, float scale) {
  std::size_t done = 0;
  if constexpr (std::is_same<Dst, float>::value)
    done = detail::decode_vbmi<F>(src, dst, n, scale);
  else if (scale == 1.0f)
    done = detail::decode16_vbmi<F>(src, dst, n);
  // Only when something is left: a call that converts nothing still costs
  // its constants, once per row of a per-row decode_per_channel.
  if (done < n) tier::decode<F, avx512_codec>(src + done, dst + done, n - done, scale);
}
#endif

#if FP8_TIER_AVX512
template <class F, class Dst>
void decode(const std::uint8_t* src, Dst* dst, std::size_t n, float scale, isa::avx512) {
#if FP8_ISA_AVX512VBMI && FP8_HAVE_DECODE_VBMI
  decode_vbmi_avx512<F>(src, dst, n, scale);
#else
  tier::decode<F, avx512_codec>(src, dst, n, scale);
#endif
}
#endif

#if FP8_ISA_SSE2
// ---------------------------------------------------------------- every vector tier
// One scale for the whole array: the policy chosen once (codec/stream.hpp),
// then the tier's streaming encoder with the one-scale rule.
template <class F, class Src, class Tag, if_vector<Tag> = 0>
void encode(const Src* src, std::uint8_t* dst, std::size_t n, float scale, overflow o, Tag tag) {
  const detail::scaling s(scale);
  detail::with_policy(o, s.kind, [&](auto p) {
    using P = decltype(p);
    stream<F, P::overflow_policy>(src, dst, n, detail::one_scale<P::kind>{s.factor}, detail::code_sink{}, tag);
  });
}
#endif

#if FP8_TIER_AVX512BF16 && FP8_HAVE_DECODE_VBMI && FP8_TIER_AVX512
// ---------------------------------------------------------------- avx512bf16
// Encoding is the avx512 tier's (the tag inherits it).
template <class F, class Dst>
void decode(const std::uint8_t* src, Dst* dst, std::size_t n, float scale, isa::avx512bf16) {
  decode_vbmi_avx512<F>(src, dst, n, scale);
}
#endif

FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
