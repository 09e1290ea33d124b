// SPDX-License-Identifier: Apache-2.0
// Packing: copying a panel of op(A) or op(B) out of the caller's FP8 matrix
// into the layout a micro-kernel reads, decoding to its compute type on the
// way (bfloat16 for vdpbf16ps, float otherwise; both exact for every FP8
// value). After BLIS, packing is its own step: the micro-kernels never see
// strides, transposes or formats.
//
// A panel is R rows (rows of op(A), or columns of op(B)) by kc values of k,
// seen through two strides: element (r, k) of the panel is src[r * rs + k *
// ks], which covers both transposes of both operands (gemm.hpp derives rs and
// ks). Its packed layout, for a kernel whose k group is G (2 for vdpbf16ps
// pairs, 1 for float FMA), is
//
//   packed[((k / G) * R + r) * G + k % G]
//
// with zeros past the valid rows and past kc (up to a multiple of G): the
// zero code is +0 in every FP8 format, so padding adds nothing. The codes are
// first rearranged (bytes, the cheap part), then decoded in one bulk call per
// panel through codec/kernels.hpp, which uses the vpermi2b tables of
// codec/decode_vbmi.hpp on AVX-512 VBMI: the decode is never written twice.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../codec/decode_vbmi.hpp"
#include "../codec/kernels.hpp"
#include "../config.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../detail/simd_avx512.hpp"
#include "../types/float16.hpp"
#include "../types/fp8.hpp"

FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE

// True for a micro-kernel of the avx512bf16 tier (bfloat16 pairs for
// vdpbf16ps), whose panels the VBMI routines below pack.
template <class K>
constexpr bool on_bf16_tier = std::is_same<typename K::tier, isa::avx512bf16>::value;

// Asks for the cache line holding byte `offset` of p. The address may lie
// past the end of p's array (a stream's lookahead running off its end): a
// prefetch never faults, and the address is formed as an integer, so no
// pointer leaves its array and hot loops need no test for the end.
inline void prefetch_line(const void* p, std::size_t offset = 0) noexcept {
#if FP8_HAS_BUILTIN(__builtin_prefetch) || defined(__GNUC__)
  __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(p) + offset));
#else
  (void)p;
  (void)offset;
#endif
}

// Asks for the cache lines of [p, p + bytes). Panels gather short runs from
// many rows of the caller's matrix (kc codes from each of R rows, ld bytes
// apart), a pattern the hardware prefetchers follow poorly: without this the
// packing of a transposed B waits on one cache miss after another.
inline void prefetch_run(const std::uint8_t* p, std::size_t bytes) noexcept {
  for (std::size_t i = 0; i < bytes; i += 64) prefetch_line(p, i);
}

// Rearranges an R x kc panel of codes into the packed layout (codes stays
// R * round_up(kc, G) bytes).
template <std::size_t G>
inline void pack_codes(const std::uint8_t* src, std::size_t rs, std::size_t ks, std::size_t rows, std::size_t R,
                       std::size_t kc, std::uint8_t* codes) noexcept {
  const std::size_t groups = (kc + G - 1) / G;
  if (rows < R || kc % G != 0) std::memset(codes, 0, groups * R * G);
  if (ks == 1) {
    // k contiguous (A not transposed, B transposed): each row's run of k is
    // read once and scattered as G-byte units, R * G bytes apart.
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint8_t* s = src + r * rs;
      std::uint8_t* d = codes + r * G;
      const std::size_t full = kc / G;
      for (std::size_t g = 0; g < full; ++g) std::memcpy(d + g * R * G, s + g * G, G);
      for (std::size_t t = 0; t < kc % G; ++t) d[full * R * G + t] = s[full * G + t];
    }
  } else if (rs == 1) {
    // Rows contiguous (A transposed, B not transposed): G runs of k are
    // interleaved byte by byte into each group.
    for (std::size_t k = 0; k < kc; ++k) {
      const std::uint8_t* s = src + k * ks;
      std::uint8_t* d = codes + (k / G) * R * G + k % G;
      for (std::size_t r = 0; r < rows; ++r) d[r * G] = s[r];
    }
  } else {
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t k = 0; k < kc; ++k) codes[((k / G) * R + r) * G + k % G] = src[r * rs + k * ks];
  }
}

FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE

#if FP8_TIER_AVX512BF16
FP8_BEGIN_TARGET_AVX512BF16
FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace zmm = ::fp8::detail::zmm;

// Pairs (G = 2) from R <= 32 contiguous rows: each k pair interleaves two
// runs of up to 32 codes with one vpermt2b (index j / 2 + 64 * (j % 2):
// byte 2r from the first run, 2r + 1 from the second).
inline void pack_pairs_rows_vbmi(const std::uint8_t* src, std::size_t ks, std::size_t rows, std::size_t R,
                                 std::size_t kc, std::uint8_t* codes) noexcept {
  alignas(64) std::uint8_t index[64];
  for (unsigned j = 0; j < 64; ++j) index[j] = static_cast<std::uint8_t>(j / 2 + 64 * (j % 2));
  const __m512i idx = _mm512_load_si512(index);
  const __mmask64 in = (__mmask64{1} << rows) - 1;                                // rows <= R <= 32
  const __mmask64 out = R >= 32 ? ~__mmask64{0} : (__mmask64{1} << (2 * R)) - 1;  // 2R bytes per pair
  for (std::size_t k = 0; k < kc; k += 2) {
    if (k + 16 < kc) prefetch_run(src + (k + 16) * ks, rows), prefetch_run(src + (k + 17) * ks, rows);
    const __m512i r0 = _mm512_maskz_loadu_epi8(in, src + k * ks);
    const __m512i r1 = k + 1 < kc ? _mm512_maskz_loadu_epi8(in, src + (k + 1) * ks) : _mm512_setzero_si512();
    _mm512_mask_storeu_epi8(codes + k * R, out, _mm512_permutex2var_epi8(r0, idx, r1));
  }
}

// The 16 x 16 transpose of 32-bit elements: r[i] becomes column i. Three
// rounds of in-lane unpacks and 128-bit lane shuffles, 64 instructions.
inline void transpose16x16_epi32(__m512i (&r)[16]) noexcept {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = zmm::unpacklo32(r[2 * i], r[2 * i + 1]);      // per lane: rows 2i, 2i+1 of columns 0, 1
    t[2 * i + 1] = zmm::unpackhi32(r[2 * i], r[2 * i + 1]);  // columns 2, 3
  }
  for (int i = 0; i < 4; ++i) {  // u[4i + j], lane L: column 4L + j of rows 4i..4i+3
    u[4 * i] = zmm::unpacklo64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = zmm::unpackhi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = zmm::unpacklo64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = zmm::unpackhi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int j = 0; j < 4; ++j) {  // gather lane L of u[j], u[4+j], u[8+j], u[12+j]: column 4L + j
    const __m512i a = zmm::shuffle_i32x4<0x88>(u[j], u[4 + j]), b = zmm::shuffle_i32x4<0xDD>(u[j], u[4 + j]);
    const __m512i c = zmm::shuffle_i32x4<0x88>(u[8 + j], u[12 + j]);
    const __m512i d = zmm::shuffle_i32x4<0xDD>(u[8 + j], u[12 + j]);
    r[j] = zmm::shuffle_i32x4<0x88>(a, c);
    r[8 + j] = zmm::shuffle_i32x4<0xDD>(a, c);
    r[4 + j] = zmm::shuffle_i32x4<0x88>(b, d);
    r[12 + j] = zmm::shuffle_i32x4<0xDD>(b, d);
  }
}

// Pairs (G = 2) of bfloat16 from rows whose k is contiguous (B stored n x k,
// A stored m x k), in registers: 64 codes of each of 16 rows decoded in
// natural order (the codec's vpermi2b tables: 32 pairs = two zmm of dwords
// per row), the 16 x 16 blocks of pair dwords transposed, and each pair's 16
// rows stored as one vector at [pair][R][2]. R is any panel width (rows past
// `rows` are zero, stores past R masked). For each run of 64 codes it
// loads, it asks for the same run of the next panel (next_rows valid rows,
// R rows further): one request per load, a panel ahead.
template <class F>
inline void pack_pairs_krows_vbmi(const std::uint8_t* src, std::size_t rs, std::size_t rows, std::size_t R,
                                  std::size_t kc, bfloat16* dst, std::size_t next_rows) noexcept {
  const __m512i order = _mm512_load_si512(::fp8::detail::vbmi_order.words);
  const std::size_t pairs = (kc + 1) / 2;
  for (std::size_t k0 = 0; k0 < kc; k0 += 64) {
    const std::size_t count = std::min<std::size_t>(64, kc - k0), np = std::min<std::size_t>(32, pairs - k0 / 2);
    for (std::size_t r0 = 0; r0 < R; r0 += 16) {
      __m512i lo[16], hi[16];  // pairs 0-15 and 16-31 of 16 rows
      for (std::size_t i = 0; i < 16; ++i) {
        if (r0 + i >= rows) {
          lo[i] = hi[i] = _mm512_setzero_si512();
          continue;
        }
        const std::uint8_t* p = src + (r0 + i) * rs + k0;
        if (r0 + i < next_rows) {  // the run's first and last line in the next panel
          prefetch_line(p + R * rs);
          prefetch_line(p + R * rs, count - 1);
        }
        const __m512i codes =
            count >= 64 ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8((__mmask64{1} << count) - 1, p);
        __m512i l, h;
        ::fp8::detail::vbmi_lookup<F, BF16>(zmm::permute_bytes(order, codes), l, h);
        lo[i] = _mm512_unpacklo_epi8(l, h);
        hi[i] = _mm512_unpackhi_epi8(l, h);
      }
      transpose16x16_epi32(lo);
      transpose16x16_epi32(hi);
      const std::size_t width = std::min<std::size_t>(16, R - r0);
      const __mmask16 m = static_cast<__mmask16>((1u << width) - 1u);
      for (std::size_t q = 0; q < np; ++q)
        _mm512_mask_storeu_epi32(dst + ((k0 / 2 + q) * R + r0) * 2, m, q < 16 ? lo[q] : hi[q - 16]);
    }
  }
}

// The same for bfloat16 values (weight-only GEMM with bfloat16 A): 16 pairs
// of each of 16 rows per step, loaded instead of decoded.
inline void pack_pairs_bf16_rows_avx512(const bfloat16* src, std::size_t rs, std::size_t rows, std::size_t R,
                                        std::size_t kc, bfloat16* dst) noexcept {
  const std::size_t pairs = (kc + 1) / 2;
  for (std::size_t k0 = 0; k0 < kc; k0 += 32) {
    const std::size_t count = std::min<std::size_t>(32, kc - k0), np = std::min<std::size_t>(16, pairs - k0 / 2);
    const __mmask32 in = count >= 32 ? ~__mmask32{0} : static_cast<__mmask32>((1u << count) - 1u);
    for (std::size_t r0 = 0; r0 < R; r0 += 16) {
      __m512i v[16];
      for (std::size_t i = 0; i < 16; ++i)
        v[i] = r0 + i < rows ? _mm512_maskz_loadu_epi16(in, src + (r0 + i) * rs + k0) : _mm512_setzero_si512();
      transpose16x16_epi32(v);
      const std::size_t width = std::min<std::size_t>(16, R - r0);
      const __mmask16 m = static_cast<__mmask16>((1u << width) - 1u);
      for (std::size_t q = 0; q < np; ++q) _mm512_mask_storeu_epi32(dst + ((k0 / 2 + q) * R + r0) * 2, m, v[q]);
    }
  }
}
FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
FP8_END_TARGET_AVX512BF16
#endif

FP8_BEGIN_NAMESPACE
namespace kernel {
FP8_BEGIN_TU_NAMESPACE

// n codes of F decoded exactly into K's packed type, on K's tier (the bulk
// codec's overload for it).
template <class F, class K>
inline void decode_for(const std::uint8_t* src, typename K::packed* dst, std::size_t n) noexcept {
  kernel::decode<F>(src, dst, n, 1.0f, typename K::tier{});
}

// Packs one panel: rearranges into codes (scratch of R * round_up(kc, G)
// bytes), then decodes all of it into dst.
// next_rows: the valid rows of the panel that follows (R rows further), whose
// runs are prefetched while this one is packed; 0 at the last panel.
template <class F, class K>
inline void pack_panel(const std::uint8_t* src, std::size_t rs, std::size_t ks, std::size_t rows, std::size_t R,
                       std::size_t kc, std::uint8_t* codes, typename K::packed* dst,
                       std::size_t next_rows = 0) noexcept {
  constexpr std::size_t G = K::kgroup;
#if FP8_TIER_AVX512BF16
  if constexpr (on_bf16_tier<K>) {
    if (ks == 1) {
      pack_pairs_krows_vbmi<F>(src, rs, rows, R, kc, dst, next_rows);
      return;
    }
  }
#endif
  if (G == 2 && ks == 1) {
    // k contiguous: decode each row's run of k in one bulk call (natural
    // order, so a pair is one dword), then copy those dwords R apart.
    // Decoding first moves 4-byte units instead of 2-byte ones.
    static_assert(sizeof(typename K::packed) == 2 || G != 2, "pairs of 16-bit values");
    using P = typename K::packed;
    const std::size_t pairs = (kc + 1) / 2;
    alignas(64) P tmp[512];  // one row, 256 pairs at a time
    const P zero[2] = {};
    for (std::size_t r = 0; r < R; ++r) {
      if (r < next_rows) prefetch_run(src + (R + r) * rs, kc);
      if (r >= rows) {
        for (std::size_t p = 0; p < pairs; ++p) std::memcpy(dst + 2 * (p * R + r), zero, 4);
        continue;
      }
      for (std::size_t p0 = 0; p0 < pairs; p0 += 256) {
        const std::size_t np = std::min<std::size_t>(256, pairs - p0);
        const std::size_t kk = 2 * p0, nk = std::min(kc - kk, 2 * np);
        tmp[2 * np - 1] = P{};  // the odd tail's second half stays +0
        decode_for<F, K>(src + r * rs + kk, tmp, nk);
        for (std::size_t p = 0; p < np; ++p) std::memcpy(dst + 2 * ((p0 + p) * R + r), tmp + 2 * p, 4);
      }
    }
    return;
  }
  bool packed = false;
#if FP8_TIER_AVX512BF16
  if constexpr (on_bf16_tier<K>) {
    if (rs == 1 && R <= 32) {
      pack_pairs_rows_vbmi(src, ks, rows, R, kc, codes);
      packed = true;
    }
  }
#endif
  if (!packed) pack_codes<G>(src, rs, ks, rows, R, kc, codes);
  const std::size_t n = (kc + G - 1) / G * G * R;
  decode_for<F, K>(codes, dst, n);
}

// An operand of value type T needs a float micro-kernel on every tier: float
// and half values would round to bfloat16 (half has 11 significant bits,
// bfloat16 8); FP8 codes and bfloat16 are exact in bfloat16. The one place
// this is decided (gemm.hpp's kernel_of and packed_b follow it).
template <class T>
constexpr bool needs_float_kernel = std::is_same<T, float>::value || std::is_same<T, half>::value;

// Panels of values rather than codes (weight-only GEMM: A in bfloat16, half
// or float): the same layout, each value converted exactly to the kernel's
// type (bfloat16 -> bfloat16 or float, half and float -> float; never half
// or float -> bfloat16, which would round).
template <class P, class T>
inline P to_packed(T x) noexcept {
  static_assert(!(std::is_same<P, bfloat16>::value && needs_float_kernel<T>),
                "float and half operands need a float micro-kernel (kernel_of<tier, float>)");
  return static_cast<P>(static_cast<float>(x));
}
template <>
inline bfloat16 to_packed<bfloat16, bfloat16>(bfloat16 x) noexcept {
  return x;
}

// n values of an operand into the compute type P of a kernel, exactly (the
// convolution's input and depthwise weights): FP8 codes through the bulk
// codec on tier Tag, the 16-bit types and float by conversion (to_packed's
// rule: never a rounding conversion).
template <class P, class F, class Tag>
inline void widen_to(const fp8<F>* src, P* dst, std::size_t n, Tag tag) noexcept {
  kernel::decode<F>(reinterpret_cast<const std::uint8_t*>(src), dst, n, 1.0f, tag);
}
template <class P, class T, class Tag>  // bfloat16, half, float (the FP8 overload is more specialised)
inline void widen_to(const T* src, P* dst, std::size_t n, Tag) noexcept {
  if constexpr (std::is_same<T, P>::value)
    std::memcpy(dst, src, n * sizeof(P));
  else
    for (std::size_t i = 0; i < n; ++i) dst[i] = to_packed<P>(src[i]);
}

template <class K, class T>
inline void pack_values(const T* src, std::size_t rs, std::size_t ks, std::size_t rows, std::size_t R, std::size_t kc,
                        typename K::packed* dst) noexcept {
  using P = typename K::packed;
  constexpr std::size_t G = K::kgroup;
  const std::size_t kp = (kc + G - 1) / G * G;
#if FP8_TIER_AVX512BF16
  if constexpr (on_bf16_tier<K> && std::is_same<T, P>::value) {
    if (ks == 1) {  // bfloat16 pairs of 16 rows at once, in registers
      pack_pairs_bf16_rows_avx512(src, rs, rows, R, kc, dst);
      return;
    }
  }
#endif
  for (std::size_t r = 0; r < R; ++r) {
    P* d = dst + r * G;  // value k of this row goes to d[(k / G) * R * G + k % G]
    if (r >= rows) {
      for (std::size_t k = 0; k < kp; ++k) d[(k / G) * R * G + k % G] = P{};
      continue;
    }
    const T* x = src + r * rs;
    if constexpr (std::is_same<T, P>::value && G == 2) {
      if (ks == 1) {  // a pair is one dword: copy it whole
        for (std::size_t k = 0; k + 1 < kc; k += 2) std::memcpy(d + (k / 2) * R * 2, x + k, 2 * sizeof(P));
        if (kc % 2 != 0) d[(kc / 2) * R * 2] = x[kc - 1];
        for (std::size_t k = kc; k < kp; ++k) d[(k / G) * R * G + k % G] = P{};
        continue;
      }
    }
    for (std::size_t k = 0; k < kc; ++k) d[(k / G) * R * G + k % G] = to_packed<P>(x[k * ks]);
    for (std::size_t k = kc; k < kp; ++k) d[(k / G) * R * G + k % G] = P{};
  }
}

// One packing entry point per operand type (kernels/driver.hpp's
// matrix_source): FP8 codes go through pack_panel, values through pack_values.
template <class K, class F>
inline void pack_operand(const fp8<F>* src, std::size_t rs, std::size_t ks, std::size_t rows, std::size_t R,
                         std::size_t kc, std::uint8_t* codes, typename K::packed* dst, std::size_t next_rows) noexcept {
  pack_panel<F, K>(reinterpret_cast<const std::uint8_t*>(src), rs, ks, rows, R, kc, codes, dst, next_rows);
}
template <class K, class T, std::enable_if_t<needs_float_kernel<T> || std::is_same<T, bfloat16>::value, int> = 0>
inline void pack_operand(const T* src, std::size_t rs, std::size_t ks, std::size_t rows, std::size_t R, std::size_t kc,
                         std::uint8_t*, typename K::packed* dst, std::size_t) noexcept {
  pack_values<K>(src, rs, ks, rows, R, kc, dst);
}

FP8_END_TU_NAMESPACE
}  // namespace kernel
FP8_END_NAMESPACE
