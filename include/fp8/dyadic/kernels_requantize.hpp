// SPDX-License-Identifier: Apache-2.0
// Requantization kernels behind dyadic/requantize.hpp, one overload of
// kernel::requantize_tile per ISA tag of detail/isa.hpp (AVX-512, AVX2,
// SSE2 with SSE4.1 where present, portable). Each evaluates the four steps
// derived in dyadic/requantize_lanes.hpp on a tile of `rows` x `cols` int32
// accumulators and writes one byte per element (the low 8 bits of the
// clamped output value; 4-bit outputs are packed by the caller). The
// portable overload is the definition element by element; the vector ones
// equal it bit for bit (tests/test_dyadic_bulk.cpp).
//
// A kernel handles `width` lanes at a time: the 32-bit steps on all lanes,
// the 64-bit step 3 on even lanes and odd lanes separately (the x86 signed
// 32x32->64 multiply reads the even 32-bit lanes), after which the results
// return to one lane each (AVX-512 narrows with saturation; AVX2 and SSE2,
// after the pre-clamp, keep the low 32 bits). Per-channel constants are built
// once per block of `width` columns and reused down all rows (the loop over
// rows is innermost), so per-channel rescaling costs about what per-tensor does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../config.hpp"
#include "../detail/isa.hpp"
#include "dyadic.hpp"
#include "requantize_lanes.hpp"

#if FP8_ISA_SSE2
#include <immintrin.h>
#endif

FP8_BEGIN_NAMESPACE
namespace detail {

// The definition of one output element (before narrowing to a byte).
FP8_HOST_DEVICE constexpr std::int32_t requant_scalar(std::int32_t acc, std::int32_t bias, dyadic d, dyadic_rounding r,
                                                      std::int32_t zero_point, std::int32_t lo,
                                                      std::int32_t hi) noexcept {
  const std::int32_t y = requantize(saturate_int32(std::int64_t{acc} + bias), d, r);
  const std::int64_t v = std::int64_t{y} + zero_point;
  return static_cast<std::int32_t>(v < lo ? lo : v > hi ? hi : v);
}

inline std::uint8_t requant_low_byte(std::int32_t v) noexcept {
  return static_cast<std::uint8_t>(static_cast<std::uint32_t>(v) & 0xFFu);
}

// The smallest and largest shift of n dyadics (n >= 1).
inline void dyadic_shift_range(const dyadic* d, std::size_t n, int& lo, int& hi) noexcept {
  const dyadic* const end = d + n;  // pointer loops: GCC -O3 cannot bound an index loop over n here
  lo = hi = d->shift;
#if FP8_ISA_AVX512
  if (n >= 8) {  // eight dyadics per load; the shift is the high half of each 64-bit word
    __m512i vlo = _mm512_set1_epi64(lo), vhi = vlo;
    for (; end - d >= 8; d += 8) {
      const __m512i s = _mm512_srai_epi64(_mm512_loadu_si512(d), 32);
      vlo = _mm512_min_epi64(vlo, s);
      vhi = _mm512_max_epi64(vhi, s);
    }
    lo = static_cast<int>(_mm512_reduce_min_epi64(vlo));
    hi = static_cast<int>(_mm512_reduce_max_epi64(vhi));
  }
#endif
  for (; d != end; ++d) {
    lo = d->shift < lo ? d->shift : lo;
    hi = d->shift > hi ? d->shift : hi;
  }
}

// Loops shared by the vector kernels. K supplies width, consts, make()
// (the constants of the `w` columns from `column` on; the rest are neutral),
// full() (width lanes) and partial() (fewer).
template <class K>
void requant_drive(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                   std::size_t rows, std::size_t cols, const requant_lanes& src, const requant_plan& plan) {
  constexpr std::size_t width = K::width;
  if (src.uniform()) {
    const typename K::consts c = K::make(src, 0, width, plan);
    for (std::size_t r = 0; r < rows; ++r) {
      const std::int32_t* a = acc + r * acc_stride;
      std::uint8_t* o = out + r * out_stride;
      std::size_t j = 0;
      for (; j + 2 * width <= cols; j += 2 * width) {  // two independent vectors per trip
        K::full(a + j, o + j, c);
        K::full(a + j + width, o + j + width, c);
      }
      for (; j + width <= cols; j += width) K::full(a + j, o + j, c);
      if (j < cols) K::partial(a + j, o + j, cols - j, c);
    }
    return;
  }
  for (std::size_t j = 0; j < cols; j += width) {
    const std::size_t w = cols - j < width ? cols - j : width;
    const typename K::consts c = K::make(src, j, w, plan);
    if (w == width) {
      for (std::size_t r = 0; r < rows; ++r) K::full(acc + r * acc_stride + j, out + r * out_stride + j, c);
    } else {
      for (std::size_t r = 0; r < rows; ++r) K::partial(acc + r * acc_stride + j, out + r * out_stride + j, w, c);
    }
  }
}

// The lanes of columns [column, column + w), padded with neutral lanes (a
// zero multiplier: computed, never stored). For kernels that build their
// constants from requant_lane.
template <std::size_t Width>
void requant_fill_lanes(requant_lane* lanes, const requant_lanes& src, std::size_t column, std::size_t w) noexcept {
  const requant_lane neutral = requant_lane_for(dyadic{0, 0}, 0, src.rounding);
  std::size_t ch = src.channel(column);  // advanced, not recomputed: no division per lane
  for (std::size_t l = 0; l < Width; ++l) {
    lanes[l] = l < w ? src.lane_of_channel(ch) : neutral;
    if (++ch == src.period) ch = 0;
  }
}

#if FP8_ISA_AVX512
// ---------------------------------------------------------------- AVX-512
// 16 lanes. Step 3 runs on the exact int64 values and no 32-bit clamp is
// needed: the results are narrowed with signed saturation, which is the clamp
// to [-128, 127] (clamp(sat32(y) + zp, lo, hi) = clamp(y + zp, lo, hi) for any
// [lo, hi] inside int32), then clamped to [lo, hi] as bytes and, for uint8,
// moved to their range:
//     clamp(y + zp, lo, hi) = clamp(sat8(y + zp - 128), lo - 128, hi - 128) ^ 0x80
// (only uint8 has values above 127; every other type stays signed). With a
// bias, step 1's clamp only has to make acc + bias saturate.
//
// Two ways to bring the 64-bit lanes back to 16 results:
//   narrow_bytes (some channel has shift >= 0): each half is shifted by
//     vpsravq and narrowed by vpmovsqb, and the bytes are interleaved. The
//     zero point is folded into `add` as zp * 2^count (an integer multiple of
//     2^count passes through the floor) when every count is <= 53, as then
//     |p| <= 2^62, |add| <= 2^30 + 2^52 and |zp * 2^count| <= 2^61 cannot
//     overflow; otherwise (narrow_bytes_late) it is added after the shift.
//   narrow_high / narrow_high_late (every channel has shift <= -1, count >=
//     32, the usual case for scales below 1/2): floor(x / 2^count) =
//     floor(hi32(x) / 2^(count-32)), so one vpermt2d gathers the high halves
//     of both halves in order, one 16-lane vpsravd shifts them and vpmovsdb
//     narrows: three 16-lane ops where the other way needs five half-width
//     ones. |y| <= 2^62 / 2^32 + |zp| fits in 32 bits. The zero point is
//     folded as above when every count is <= 53, else added after the shift.
//
// This CPU runs 512-bit integer ops at half the rate of 256-bit ones, so
// instructions count:
//   - the odd lanes come from a second load at acc + 1 (vpmuldq reads the
//     low 32 bits of each 64-bit lane), not from a shift; the load masks its
//     last 32-bit lane, which vpmuldq ignores, so it never reads past acc[15];
//   - double_rounding tests p < 0 (vpmovq2m) instead of p < -2^30: for p in
//     [-2^30, -1] both give 0, as p + 2^30 + 2^(30+rs) - 2^31 lies in
//     [0, 2^(31+rs)) for every rs >= 1;
//   - half_even adds 1 under a mask of bit `count` of p (vptestmq);
//   - Bytes: the byte clamp and the uint8 flip are skipped when they change
//     nothing (int8 with the full range).
// The per-lane constants are built with vector ops from the dyadics: a
// dyadic is one 64-bit word (multiplier low, shift high), so vpermt2q splits
// 16 of them into even and odd lanes whose low halves are the multipliers.
enum class requant_narrow { bytes, bytes_late, high, high_late };

template <dyadic_rounding R, bool Bias, requant_narrow Narrow, bool Bytes>
struct requant_avx512 {
  static constexpr bool High = Narrow == requant_narrow::high || Narrow == requant_narrow::high_late;
  static constexpr bool Fold = Narrow == requant_narrow::bytes || Narrow == requant_narrow::high;
  static constexpr std::size_t width = 16;
  struct consts {
    __m512i acc_lo, acc_hi, bias, m_even, m_odd, add_even, add_odd, count_even, count_odd, bit_even, bit_odd;
    __m512i sub_even, sub_odd;  // 2^31 in lanes with shift < 0 (double_rounding subtracts it where p < 0), else 0
    __m512i count32, gather_high, zero_point32;  // narrow_high
    __m512i zero_point, one;
    __m128i byte_lo, byte_hi, byte_flip;
  };
  static_assert(sizeof(dyadic) == 8 && sizeof(int) == 4, "a dyadic is one 64-bit word");

  // count = 31 - shift; add = 2^(count-1) [+ 2^30 where double_rounding has
  // shift < 0] [- 1 for half_even] [+ zp * 2^count when folded].
  // Only what the variant uses is computed: make() runs once per 16 channels.
  static void derive(__m512i d, __m512i zp, __m512i& count, __m512i& add, __m512i& bit, __m512i& sub) noexcept {
    const __m512i one = _mm512_set1_epi64(1);
    const __m512i shift = _mm512_srai_epi64(d, 32);
    count = _mm512_sub_epi64(_mm512_set1_epi64(31), shift);
    add = _mm512_sllv_epi64(one, _mm512_sub_epi64(count, one));
    if constexpr (R == dyadic_rounding::half_even) {
      bit = _mm512_sllv_epi64(one, count);
      add = _mm512_sub_epi64(add, one);
    }
    if constexpr (R == dyadic_rounding::double_rounding) {
      const __mmask8 negative = _mm512_cmplt_epi64_mask(shift, _mm512_setzero_si512());
      sub = _mm512_maskz_mov_epi64(negative, _mm512_set1_epi64(std::int64_t{1} << 31));
      add = _mm512_mask_add_epi64(add, negative, add, _mm512_set1_epi64(std::int64_t{1} << 30));
    }
    if constexpr (Fold) add = _mm512_add_epi64(add, _mm512_sllv_epi64(zp, count));  // zp * 2^count, zp may be < 0
  }

  static consts make(const requant_lanes& src, std::size_t column, std::size_t w, const requant_plan& plan) noexcept {
    // The block's dyadics and biases, contiguous: straight from the caller's
    // arrays when they are, else gathered (channels that wrap, or uniform).
    alignas(64) dyadic dyadics[16];
    alignas(64) std::int32_t biases[16];
    const std::size_t first = src.channel(column);
    const bool contiguous = first + w <= src.period;
    const dyadic* d = src.dyadics;
    const std::int32_t* b = src.biases;
    if (d == nullptr || !contiguous) {
      std::size_t ch = first;
      for (std::size_t l = 0; l < w; ++l) {
        dyadics[l] = d != nullptr ? d[ch] : src.uniform_dyadic;
        if (++ch == src.period) ch = 0;
      }
      d = dyadics;
    } else {
      d += first;
    }
    if (b != nullptr && !contiguous) {
      std::size_t ch = first;
      for (std::size_t l = 0; l < w; ++l) {
        biases[l] = b[ch];
        if (++ch == src.period) ch = 0;
      }
      b = biases;
    } else if (b != nullptr) {
      b += first;
    }
    // Lanes past w get the neutral dyadic {0, -1}: a zero multiplier, and a
    // shift that suits both ways of narrowing.
    const auto lanes = static_cast<__mmask16>(w >= 16 ? 0xFFFFu : (1u << w) - 1u);
    const __m512i neutral = _mm512_set1_epi64(static_cast<std::int64_t>(~std::uint64_t{0} << 32));
    const __m512i lo8 = _mm512_mask_loadu_epi64(neutral, static_cast<__mmask8>(lanes & 0xFFu), d);
    const __m512i hi8 = _mm512_mask_loadu_epi64(neutral, static_cast<__mmask8>(lanes >> 8), d + 8);
    const __m512i even = _mm512_permutex2var_epi64(lo8, _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), hi8);
    const __m512i odd = _mm512_permutex2var_epi64(lo8, _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), hi8);

    // Values above 127 exist only for uint8 (then lo >= 0): work in the
    // signed byte domain shifted down by 128.
    const int flip = plan.hi > 127 ? 128 : 0;
    const std::int64_t zp = std::int64_t{plan.zero_point} - flip;
    consts c{};  // members a variant does not use stay zero (never read uninitialized)
    c.m_even = even;
    c.m_odd = odd;
    derive(even, _mm512_set1_epi64(zp), c.count_even, c.add_even, c.bit_even, c.sub_even);
    derive(odd, _mm512_set1_epi64(zp), c.count_odd, c.add_odd, c.bit_odd, c.sub_odd);
    // High: the shifts of the 16 lanes in order (high halves of the dyadics),
    // count - 32 = -1 - shift; and the dword indices of the high halves of
    // even[j] (2j+1) and odd[j] (16 + 2j+1) for result lanes 2j, 2j+1.
    if constexpr (High) {
      const __m512i shifts = _mm512_permutex2var_epi32(
          lo8, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), hi8);
      c.count32 = _mm512_sub_epi32(_mm512_set1_epi32(-1), shifts);
      c.gather_high = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
      c.zero_point32 = _mm512_set1_epi32(static_cast<int>(zp));
    }
    c.zero_point = _mm512_set1_epi64(zp);
    c.one = _mm512_set1_epi64(1);
    c.byte_lo = _mm_set1_epi8(static_cast<char>(plan.lo - flip));
    c.byte_hi = _mm_set1_epi8(static_cast<char>(plan.hi - flip));
    c.byte_flip = _mm_set1_epi8(static_cast<char>(-flip));
    // Saturating acc + bias as clamp(acc, lo, hi) + bias: lo = INT32_MIN - bias
    // where the bias is negative, hi = INT32_MAX - bias where it is positive.
    if constexpr (Bias) {
      c.bias = _mm512_maskz_loadu_epi32(lanes, b);
      const __m512i min = _mm512_set1_epi32(INT32_MIN), max = _mm512_set1_epi32(INT32_MAX);
      c.acc_lo = _mm512_mask_sub_epi32(min, _mm512_cmplt_epi32_mask(c.bias, _mm512_setzero_si512()), min, c.bias);
      c.acc_hi = _mm512_mask_sub_epi32(max, _mm512_cmpgt_epi32_mask(c.bias, _mm512_setzero_si512()), max, c.bias);
    }
    return c;
  }

  // Step 3 up to the shift, on eight 64-bit lanes.
  static __m512i rounded_sum(__m512i p, __m512i add, __m512i bit, __m512i sub, const consts& c) noexcept {
    __m512i x = _mm512_add_epi64(p, add);
    if constexpr (R == dyadic_rounding::double_rounding) x = _mm512_mask_sub_epi64(x, _mm512_movepi64_mask(p), x, sub);
    if constexpr (R == dyadic_rounding::half_even)
      x = _mm512_mask_add_epi64(x, _mm512_test_epi64_mask(p, bit), x, c.one);
    return x;
  }

  static __m128i compute(__m512i even, __m512i odd, const consts& c) noexcept {
    const __m512i xe = rounded_sum(_mm512_mul_epi32(even, c.m_even), c.add_even, c.bit_even, c.sub_even, c);
    const __m512i xo = rounded_sum(_mm512_mul_epi32(odd, c.m_odd), c.add_odd, c.bit_odd, c.sub_odd, c);
    __m128i b;
    if constexpr (High) {
      const __m512i high = _mm512_permutex2var_epi32(xe, c.gather_high, xo);
      __m512i y = _mm512_srav_epi32(high, c.count32);
      if constexpr (!Fold) y = _mm512_add_epi32(y, c.zero_point32);
      b = _mm512_cvtsepi32_epi8(y);
    } else {
      __m512i ye = _mm512_srav_epi64(xe, c.count_even), yo = _mm512_srav_epi64(xo, c.count_odd);
      if constexpr (!Fold) {
        ye = _mm512_add_epi64(ye, c.zero_point);
        yo = _mm512_add_epi64(yo, c.zero_point);
      }
      b = _mm_unpacklo_epi8(_mm512_cvtsepi64_epi8(ye), _mm512_cvtsepi64_epi8(yo));
    }
    if constexpr (Bytes) b = _mm_xor_si128(_mm_min_epi8(_mm_max_epi8(b, c.byte_lo), c.byte_hi), c.byte_flip);
    return b;
  }

  static __m512i saturating_bias(__m512i acc, const consts& c) noexcept {
    return _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(acc, c.acc_lo), c.acc_hi), c.bias);
  }

  static void full(const std::int32_t* acc, std::uint8_t* out, const consts& c) noexcept {
    __m128i b;
    if constexpr (Bias) {
      const __m512i a = saturating_bias(_mm512_loadu_si512(acc), c);
      b = compute(a, _mm512_srli_epi64(a, 32), c);
    } else {
      b = compute(_mm512_loadu_si512(acc), _mm512_maskz_loadu_epi32(0x7FFF, acc + 1), c);
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), b);
  }
  static void partial(const std::int32_t* acc, std::uint8_t* out, std::size_t w, const consts& c) noexcept {
    const auto mask = static_cast<__mmask16>((1u << w) - 1u);
    __m512i a = _mm512_maskz_loadu_epi32(mask, acc);
    if constexpr (Bias) a = saturating_bias(a, c);
    _mm_mask_storeu_epi8(out, mask, compute(a, _mm512_srli_epi64(a, 32), c));
  }
};
#endif  // FP8_ISA_AVX512

// Without a 64-bit arithmetic shift (AVX2, SSE2), step 3 shifts logically:
// with X the true (signed) value, X + 2^63 lies in [0, 2^64) and
//   (X + 2^63) >> count  =  floor(X / 2^count) + 2^(63 - count)   (logical shift)
// so the kernels add `add + 2^63` (mod 2^64) instead of `add`, and subtract
// low32(2^(63 - count)) from the 32-bit result (0 for count <= 31).
FP8_HOST_DEVICE constexpr std::int64_t requant_biased_add(std::int64_t add) noexcept {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(add) ^ (std::uint64_t{1} << 63));
}
FP8_HOST_DEVICE constexpr std::int32_t requant_bias_fix(int count) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>((std::uint64_t{1} << (63 - count)) & 0xFFFFFFFFu));
}

#if FP8_ISA_AVX2
// ---------------------------------------------------------------- AVX2
// 8 lanes. vpsrlvq (per-lane logical 64-bit shift), vpcmpgtq.
template <dyadic_rounding R>
struct requant_avx2 {
  static constexpr std::size_t width = 8;
  struct consts {
    __m256i acc_lo, acc_hi, bias, m_even, m_odd, add_even, add_odd, sub_even, sub_odd, count_even, count_odd, fix;
    __m256i ylo, yhi, zero_point, minus_2p30, one, pick;
  };

  static consts make(const requant_lanes& src, std::size_t column, std::size_t w, const requant_plan& plan) noexcept {
    requant_lane lanes[width];
    requant_fill_lanes<width>(lanes, src, column, w);
    return make_lanes(lanes, plan);
  }
  static consts make_lanes(const requant_lane* lanes, const requant_plan& plan) noexcept {
    alignas(32) std::int32_t lo[8], hi[8], bias[8], fix[8];
    alignas(32) std::int64_t me[4], mo[4], ae[4], ao[4], se[4], so[4], ce[4], co[4];
    for (int j = 0; j < 8; ++j) {
      lo[j] = lanes[j].acc_lo;
      hi[j] = lanes[j].acc_hi;
      bias[j] = lanes[j].bias;
      fix[j] = requant_bias_fix(lanes[j].count);
    }
    for (int j = 0; j < 4; ++j) {
      const requant_lane& e = lanes[2 * j];
      const requant_lane& o = lanes[2 * j + 1];
      me[j] = e.multiplier;
      mo[j] = o.multiplier;
      ae[j] = requant_biased_add(e.add);
      ao[j] = requant_biased_add(o.add);
      se[j] = e.sub;
      so[j] = o.sub;
      ce[j] = e.count;
      co[j] = o.count;
    }
    const auto load = [](const void* p) { return _mm256_load_si256(static_cast<const __m256i*>(p)); };
    consts c;
    c.acc_lo = load(lo);
    c.acc_hi = load(hi);
    c.bias = load(bias);
    c.fix = load(fix);
    c.m_even = load(me);
    c.m_odd = load(mo);
    c.add_even = load(ae);
    c.add_odd = load(ao);
    c.sub_even = load(se);
    c.sub_odd = load(so);
    c.count_even = load(ce);
    c.count_odd = load(co);
    c.ylo = _mm256_set1_epi32(static_cast<int>(std::int64_t{plan.lo} - plan.zero_point));
    c.yhi = _mm256_set1_epi32(static_cast<int>(std::int64_t{plan.hi} - plan.zero_point));
    c.zero_point = _mm256_set1_epi32(plan.zero_point);
    c.minus_2p30 = _mm256_set1_epi64x(-(std::int64_t{1} << 30));
    c.one = _mm256_set1_epi64x(1);
    // vpshufb: byte 0 of each 32-bit lane to bytes 0-3 of its 128-bit half.
    c.pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,  //
                              0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    return c;
  }

  static __m256i shift_round(__m256i p, __m256i add, __m256i sub, __m256i count, const consts& c) noexcept {
    __m256i x = _mm256_add_epi64(p, add);
    if constexpr (R == dyadic_rounding::double_rounding)
      x = _mm256_sub_epi64(x, _mm256_and_si256(_mm256_cmpgt_epi64(c.minus_2p30, p), sub));
    if constexpr (R == dyadic_rounding::half_even)
      x = _mm256_add_epi64(x, _mm256_and_si256(_mm256_srlv_epi64(p, count), c.one));
    return _mm256_srlv_epi64(x, count);
  }

  static __m256i compute(__m256i acc, const consts& c) noexcept {
    const __m256i a = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(acc, c.acc_lo), c.acc_hi), c.bias);
    const __m256i pe = _mm256_mul_epi32(a, c.m_even);
    const __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(a, 32), c.m_odd);
    const __m256i ye = shift_round(pe, c.add_even, c.sub_even, c.count_even, c);
    const __m256i yo = shift_round(po, c.add_odd, c.sub_odd, c.count_odd, c);
    const __m256i y = _mm256_sub_epi32(_mm256_blend_epi32(ye, _mm256_slli_epi64(yo, 32), 0xAA), c.fix);
    return _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(y, c.ylo), c.yhi), c.zero_point);
  }

  static __m128i bytes(__m256i v, const consts& c) noexcept {
    const __m256i t = _mm256_shuffle_epi8(v, c.pick);
    return _mm_unpacklo_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));  // 8 bytes in order
  }
  static void full(const std::int32_t* acc, std::uint8_t* out, const consts& c) noexcept {
    const __m256i v = compute(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc)), c);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes(v, c));
  }
  static void partial(const std::int32_t* acc, std::uint8_t* out, std::size_t w, const consts& c) noexcept {
    alignas(32) std::int32_t a[8] = {};
    std::memcpy(a, acc, w * sizeof(std::int32_t));
    alignas(16) std::uint8_t b[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(b),
                    bytes(compute(_mm256_load_si256(reinterpret_cast<__m256i*>(a)), c), c));
    std::memcpy(out, b, w);
  }
};
#endif  // FP8_ISA_AVX2

#if FP8_ISA_SSE2
// ---------------------------------------------------------------- SSE2 (+SSE4.1)
// 4 lanes. SSE2 has no signed 32x32->64 multiply, no 32-bit min/max, no
// per-lane shift and no 64-bit compare; each is built from what it has
// (SSE4.1's pmuldq/pminsd/pmaxsd are used when the target has them).
template <dyadic_rounding R>
struct requant_sse2 {
  static constexpr std::size_t width = 4;
  struct consts {
    __m128i acc_lo, acc_hi, bias, m_even, m_odd, add_even, add_odd, sub_even, sub_odd, fix;
    __m128i count_even0, count_even1, count_odd0, count_odd1;  // the count of 64-bit lane 0 / 1, as psrlq wants
    __m128i ylo, yhi, zero_point, plus_2p30, one, low_bytes, low_dwords;
  };

  static consts make(const requant_lanes& src, std::size_t column, std::size_t w, const requant_plan& plan) noexcept {
    requant_lane lanes[width];
    requant_fill_lanes<width>(lanes, src, column, w);
    return make_lanes(lanes, plan);
  }
  static consts make_lanes(const requant_lane* lanes, const requant_plan& plan) noexcept {
    alignas(16) std::int32_t lo[4], hi[4], bias[4], fix[4];
    alignas(16) std::int64_t me[2], mo[2], ae[2], ao[2], se[2], so[2];
    for (int j = 0; j < 4; ++j) {
      lo[j] = lanes[j].acc_lo;
      hi[j] = lanes[j].acc_hi;
      bias[j] = lanes[j].bias;
      fix[j] = requant_bias_fix(lanes[j].count);
    }
    for (int j = 0; j < 2; ++j) {
      me[j] = lanes[2 * j].multiplier;
      mo[j] = lanes[2 * j + 1].multiplier;
      ae[j] = requant_biased_add(lanes[2 * j].add);
      ao[j] = requant_biased_add(lanes[2 * j + 1].add);
      se[j] = lanes[2 * j].sub;
      so[j] = lanes[2 * j + 1].sub;
    }
    const auto load = [](const void* p) { return _mm_load_si128(static_cast<const __m128i*>(p)); };
    consts c;
    c.acc_lo = load(lo);
    c.acc_hi = load(hi);
    c.bias = load(bias);
    c.fix = load(fix);
    c.m_even = load(me);
    c.m_odd = load(mo);
    c.add_even = load(ae);
    c.add_odd = load(ao);
    c.sub_even = load(se);
    c.sub_odd = load(so);
    c.count_even0 = _mm_cvtsi32_si128(lanes[0].count);
    c.count_even1 = _mm_cvtsi32_si128(lanes[2].count);
    c.count_odd0 = _mm_cvtsi32_si128(lanes[1].count);
    c.count_odd1 = _mm_cvtsi32_si128(lanes[3].count);
    c.ylo = _mm_set1_epi32(static_cast<int>(std::int64_t{plan.lo} - plan.zero_point));
    c.yhi = _mm_set1_epi32(static_cast<int>(std::int64_t{plan.hi} - plan.zero_point));
    c.zero_point = _mm_set1_epi32(plan.zero_point);
    c.plus_2p30 = _mm_set_epi32(0, 1 << 30, 0, 1 << 30);
    c.one = _mm_set_epi32(0, 1, 0, 1);
    c.low_bytes = _mm_set1_epi32(0xFF);
    c.low_dwords = _mm_set_epi32(0, -1, 0, -1);
    return c;
  }

  static __m128i min32(__m128i a, __m128i b) noexcept {
#if FP8_ISA_SSE41
    return _mm_min_epi32(a, b);
#else
    const __m128i gt = _mm_cmpgt_epi32(a, b);
    return _mm_or_si128(_mm_and_si128(gt, b), _mm_andnot_si128(gt, a));
#endif
  }
  static __m128i max32(__m128i a, __m128i b) noexcept {
#if FP8_ISA_SSE41
    return _mm_max_epi32(a, b);
#else
    const __m128i gt = _mm_cmpgt_epi32(a, b);
    return _mm_or_si128(_mm_and_si128(gt, a), _mm_andnot_si128(gt, b));
#endif
  }
  // Signed product of the even 32-bit lanes. Without pmuldq: the unsigned
  // product of the same bits exceeds the signed one by 2^32 * (b if a < 0)
  // + 2^32 * (a if b < 0), modulo 2^64.
  static __m128i mul_even(__m128i a, __m128i b) noexcept {
#if FP8_ISA_SSE41
    return _mm_mul_epi32(a, b);
#else
    const __m128i u = _mm_mul_epu32(a, b);
    const __m128i fix = _mm_add_epi32(_mm_and_si128(_mm_srai_epi32(a, 31), b), _mm_and_si128(_mm_srai_epi32(b, 31), a));
    return _mm_sub_epi64(u, _mm_slli_epi64(fix, 32));
#endif
  }
  // Logical shift of each 64-bit lane by its own count.
  static __m128i shift_lanes(__m128i x, __m128i count0, __m128i count1) noexcept {
    return _mm_castpd_si128(
        _mm_move_sd(_mm_castsi128_pd(_mm_srl_epi64(x, count1)), _mm_castsi128_pd(_mm_srl_epi64(x, count0))));
  }

  static __m128i shift_round(__m128i p, __m128i add, __m128i sub, __m128i count0, __m128i count1,
                             const consts& c) noexcept {
    __m128i x = _mm_add_epi64(p, add);
    if constexpr (R == dyadic_rounding::double_rounding) {
      // p < -2^30 iff p + 2^30 < 0: the sign of the high half, copied to both halves.
      const __m128i negative = _mm_shuffle_epi32(_mm_srai_epi32(_mm_add_epi64(p, c.plus_2p30), 31), 0xF5);
      x = _mm_sub_epi64(x, _mm_and_si128(negative, sub));
    }
    if constexpr (R == dyadic_rounding::half_even)
      x = _mm_add_epi64(x, _mm_and_si128(shift_lanes(p, count0, count1), c.one));
    return shift_lanes(x, count0, count1);
  }

  static __m128i compute(__m128i acc, const consts& c) noexcept {
    const __m128i a = _mm_add_epi32(min32(max32(acc, c.acc_lo), c.acc_hi), c.bias);
    const __m128i pe = mul_even(a, c.m_even);
    const __m128i po = mul_even(_mm_srli_epi64(a, 32), c.m_odd);
    const __m128i ye = shift_round(pe, c.add_even, c.sub_even, c.count_even0, c.count_even1, c);
    const __m128i yo = shift_round(po, c.add_odd, c.sub_odd, c.count_odd0, c.count_odd1, c);
    const __m128i y = _mm_sub_epi32(_mm_or_si128(_mm_and_si128(ye, c.low_dwords), _mm_slli_epi64(yo, 32)), c.fix);
    return _mm_add_epi32(min32(max32(y, c.ylo), c.yhi), c.zero_point);
  }

  // The low byte of each lane: masked to 0..255, both packs are exact.
  static int bytes(__m128i v, const consts& c) noexcept {
    const __m128i w = _mm_packs_epi32(_mm_and_si128(v, c.low_bytes), _mm_setzero_si128());
    return _mm_cvtsi128_si32(_mm_packus_epi16(w, w));
  }
  static void full(const std::int32_t* acc, std::uint8_t* out, const consts& c) noexcept {
    const int b = bytes(compute(_mm_loadu_si128(reinterpret_cast<const __m128i*>(acc)), c), c);
    std::memcpy(out, &b, 4);
  }
  static void partial(const std::int32_t* acc, std::uint8_t* out, std::size_t w, const consts& c) noexcept {
    alignas(16) std::int32_t a[4] = {};
    std::memcpy(a, acc, w * sizeof(std::int32_t));
    const int b = bytes(compute(_mm_load_si128(reinterpret_cast<const __m128i*>(a)), c), c);
    std::memcpy(out, &b, w);
  }
};
#endif  // FP8_ISA_SSE2

#define FP8_DYADIC_DISPATCH(KERNEL)                                                                                   \
  switch (src.rounding) {                                                                                             \
    case dyadic_rounding::double_rounding:                                                                            \
      return ::fp8::detail::requant_drive<KERNEL<dyadic_rounding::double_rounding>>(acc, acc_stride, out, out_stride, \
                                                                                    rows, cols, src, plan);           \
    case dyadic_rounding::single_rounding:                                                                            \
      return ::fp8::detail::requant_drive<KERNEL<dyadic_rounding::single_rounding>>(acc, acc_stride, out, out_stride, \
                                                                                    rows, cols, src, plan);           \
    case dyadic_rounding::half_even:                                                                                  \
      return ::fp8::detail::requant_drive<KERNEL<dyadic_rounding::half_even>>(acc, acc_stride, out, out_stride, rows, \
                                                                              cols, src, plan);                       \
  }

#if FP8_ISA_AVX512
// How a tile's results are narrowed (see requant_avx512): from the high
// halves if every channel has shift <= -1, else per half; with the zero
// point folded if every shift is >= -22 (count <= 53).
inline requant_narrow requant_choose_narrow(const requant_lanes& src) noexcept {
  int lo = src.uniform_dyadic.shift, hi = lo;
  if (src.shifts_known) {
    lo = src.min_shift;
    hi = src.max_shift;
  } else if (src.dyadics != nullptr) {
    dyadic_shift_range(src.dyadics, src.period, lo, hi);
  }
  if (hi <= -1) return lo >= -22 ? requant_narrow::high : requant_narrow::high_late;
  return lo >= -22 ? requant_narrow::bytes : requant_narrow::bytes_late;
}

template <bool Bias, requant_narrow Narrow, bool Bytes>
void requant_avx512_dispatch(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                             std::size_t rows, std::size_t cols, const requant_lanes& src, const requant_plan& plan) {
  switch (src.rounding) {
    case dyadic_rounding::double_rounding:
      return requant_drive<requant_avx512<dyadic_rounding::double_rounding, Bias, Narrow, Bytes>>(
          acc, acc_stride, out, out_stride, rows, cols, src, plan);
    case dyadic_rounding::single_rounding:
      return requant_drive<requant_avx512<dyadic_rounding::single_rounding, Bias, Narrow, Bytes>>(
          acc, acc_stride, out, out_stride, rows, cols, src, plan);
    case dyadic_rounding::half_even:
      return requant_drive<requant_avx512<dyadic_rounding::half_even, Bias, Narrow, Bytes>>(
          acc, acc_stride, out, out_stride, rows, cols, src, plan);
  }
}
#endif

}  // namespace detail

namespace kernel {

// ---------------------------------------------------------------- portable
// The definition, element by element: what every other overload must equal.
inline void requantize_tile(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                            std::size_t rows, std::size_t cols, const ::fp8::detail::requant_lanes& src,
                            const ::fp8::detail::requant_plan& plan, isa::portable) {
  for (std::size_t j = 0; j < cols; ++j) {
    const dyadic d = src.dyadic_at(j);
    const std::int32_t bias = src.bias_at(j);
    for (std::size_t r = 0; r < rows; ++r)
      out[r * out_stride + j] = ::fp8::detail::requant_low_byte(::fp8::detail::requant_scalar(
          acc[r * acc_stride + j], bias, d, plan.rounding, plan.zero_point, plan.lo, plan.hi));
  }
}

#if FP8_ISA_SSE2
inline void requantize_tile(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                            std::size_t rows, std::size_t cols, const ::fp8::detail::requant_lanes& src,
                            const ::fp8::detail::requant_plan& plan, isa::sse2) {
  FP8_DYADIC_DISPATCH(::fp8::detail::requant_sse2)
}
#endif
#if FP8_ISA_AVX2
inline void requantize_tile(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                            std::size_t rows, std::size_t cols, const ::fp8::detail::requant_lanes& src,
                            const ::fp8::detail::requant_plan& plan, isa::avx2) {
  FP8_DYADIC_DISPATCH(::fp8::detail::requant_avx2)
}
#endif
#if FP8_ISA_AVX512
inline void requantize_tile(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                            std::size_t rows, std::size_t cols, const ::fp8::detail::requant_lanes& src,
                            const ::fp8::detail::requant_plan& plan, isa::avx512) {
  using ::fp8::detail::requant_avx512_dispatch;
  using narrow = ::fp8::detail::requant_narrow;
  using tile_fn = void (*)(const std::int32_t*, std::size_t, std::uint8_t*, std::size_t, std::size_t, std::size_t,
                           const ::fp8::detail::requant_lanes&, const ::fp8::detail::requant_plan&);
  // Sixteen instantiations per rounding; each is a short loop.
  static constexpr tile_fn variants[2][4][2] = {
      {{requant_avx512_dispatch<false, narrow::bytes, false>, requant_avx512_dispatch<false, narrow::bytes, true>},
       {requant_avx512_dispatch<false, narrow::bytes_late, false>,
        requant_avx512_dispatch<false, narrow::bytes_late, true>},
       {requant_avx512_dispatch<false, narrow::high, false>, requant_avx512_dispatch<false, narrow::high, true>},
       {requant_avx512_dispatch<false, narrow::high_late, false>,
        requant_avx512_dispatch<false, narrow::high_late, true>}},
      {{requant_avx512_dispatch<true, narrow::bytes, false>, requant_avx512_dispatch<true, narrow::bytes, true>},
       {requant_avx512_dispatch<true, narrow::bytes_late, false>,
        requant_avx512_dispatch<true, narrow::bytes_late, true>},
       {requant_avx512_dispatch<true, narrow::high, false>, requant_avx512_dispatch<true, narrow::high, true>},
       {requant_avx512_dispatch<true, narrow::high_late, false>,
        requant_avx512_dispatch<true, narrow::high_late, true>}}};
  const bool bias = src.biases != nullptr, bytes = !(plan.lo == -128 && plan.hi == 127);
  variants[bias][static_cast<int>(::fp8::detail::requant_choose_narrow(src))][bytes](acc, acc_stride, out, out_stride,
                                                                                     rows, cols, src, plan);
}
#endif
#undef FP8_DYADIC_DISPATCH

}  // namespace kernel
FP8_END_NAMESPACE
