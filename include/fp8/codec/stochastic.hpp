// SPDX-License-Identifier: Apache-2.0
// The scalar definition of stochastic rounding (SR) into any format of
// types/format.hpp, and of the counter-based random bits the bulk
// fp8::encode_stochastic (quant/stochastic.hpp) feeds it. Like
// codec/scalar.hpp, these constexpr functions ARE the definition; the vector
// kernels equal them bit for bit.
//
// Rounding. A finite x lies between two adjacent values of the format
// extended with an unbounded exponent range, lo <= |x| < hi = lo + step
// (step = 2^(E - M), E = max(floor(log2 |x|), emin), as in scalar::encode).
// SR keeps lo or takes hi with
//     P(hi) = (|x| - lo) / step,
// so E[result] = |x| and exactly representable values never change. The
// decision uses 32 random bits r: with the fraction f = (|x| - lo) / step
// written as the 32-bit fixed-point threshold t = floor(f * 2^32), SR takes
// hi iff r < t. For a uniform r, P(hi) = t / 2^32, which is f exactly
// whenever f has at most 32 fraction bits: always for results in the
// format's normal range (f has 23 - M bits there), and for subnormal
// results of |x| >= 2^(emin - M - 9) (2^-18 for E4M3); below that f is
// truncated to 32 bits, a bias under 2^-32 of a step.
// The chosen magnitude then gets x's sign and is encoded by scalar::encode,
// which is exact on it, so the codec's rules apply unchanged: a choice past
// max is an overflow (saturate: max; non_saturating: Inf or NaN), so with
// non_saturating a value between max and max + step overflows with
// probability f; NaN, +-Inf, zeros and the sign of a result that is zero
// follow codec/scalar.hpp's table.
//
// Random bits. stochastic_bits(seed, i) is a counter-based hash of the
// 64-bit seed and the 64-bit element index, so a bulk call's result for
// element i never depends on the vector width, the chunking or the thread
// that computes it. The seed is expanded once by SplitMix64 (Steele, Lea,
// Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014) into
// two 32-bit keys k_lo, k_hi, and with lowbias32 (C. Wellons' 32-bit
// finalizer: xorshift-multiply twice, constants found by search for low
// avalanche bias) as M:
//     bits(seed, i) = M(lo32(i) ^ k_lo ^ M(hi32(i) ^ k_hi))
// The inner M depends only on the high index word, which changes once every
// 2^32 elements, so the vector kernel computes it once per vector (in
// scalar) and pays one M, two 32-bit multiplies, per element; every x86
// vector ISA has those. For a fixed seed and high word the map from the low
// word is a bijection: 2^32 consecutive elements never share their bits.
#pragma once

#include <cstdint>

#include "../config.hpp"
#include "../detail/bit.hpp"
#include "../types/format.hpp"
#include "scalar.hpp"

FP8_BEGIN_NAMESPACE
namespace scalar {
namespace detail {

FP8_HOST_DEVICE constexpr std::uint64_t splitmix64(std::uint64_t z) noexcept {
  z += 0x9E3779B97F4A7C15ull;  // 2^64 / golden ratio, the Weyl increment
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

FP8_HOST_DEVICE constexpr std::uint32_t lowbias32(std::uint32_t x) noexcept {
  x ^= x >> 16;
  x *= 0x7FEB352Du;
  x ^= x >> 15;
  x *= 0x846CA68Bu;
  x ^= x >> 16;
  return x;
}

// The two 32-bit keys of a seed; the bulk kernels compute them once per call.
struct stochastic_key {
  std::uint32_t lo, hi;
};
FP8_HOST_DEVICE constexpr stochastic_key make_stochastic_key(std::uint64_t seed) noexcept {
  const std::uint64_t k = splitmix64(seed);
  return {static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(k >> 32)};
}
// The part of the hash that depends on the index's high word only.
FP8_HOST_DEVICE constexpr std::uint32_t stochastic_high_key(stochastic_key key, std::uint32_t high) noexcept {
  return key.lo ^ lowbias32(high ^ key.hi);
}
FP8_HOST_DEVICE constexpr std::uint32_t stochastic_bits(stochastic_key key, std::uint64_t index) noexcept {
  return lowbias32(static_cast<std::uint32_t>(index) ^
                   stochastic_high_key(key, static_cast<std::uint32_t>(index >> 32)));
}

}  // namespace detail

// The 32 random bits that the bulk stochastic encode uses for element
// `index` (index_offset + i) under `seed`.
FP8_HOST_DEVICE constexpr std::uint32_t stochastic_bits(std::uint64_t seed, std::uint64_t index) noexcept {
  return detail::stochastic_bits(detail::make_stochastic_key(seed), index);
}

// Stochastically rounds x into format F using the random bits `random`
// (see the top of this file for the exact rule).
template <class F>
FP8_HOST_DEVICE FP8_BIT_CAST_CONSTEXPR detail::code_t<F> encode_stochastic(float x, std::uint32_t random,
                                                                          overflow o = overflow::saturate) noexcept {
  using T = format_traits<F>;
  constexpr int M = T::mantissa_bits;
  constexpr int emin = T::min_normal_exponent;

  const std::uint32_t u = ::fp8::detail::bit_cast<std::uint32_t>(x);
  const std::uint32_t a = u & 0x7FFFFFFFu;
  if (a == 0 || a >= 0x7F800000u) return encode<F>(x, o);  // zeros, +-Inf, NaN: nothing to round

  // |x| = sig * 2^e2 with an integer significand (float: 1.8.23).
  const int biased = static_cast<int>(a >> 23);
  const std::uint64_t sig = biased != 0 ? (a & 0x7FFFFFu) | 0x800000u : a;
  const int e2 = (biased != 0 ? biased : 1) - 150;
  const int lead = 63 - ::fp8::detail::countl_zero64(sig) + e2;  // floor(log2 |x|)
  const int E = lead > emin ? lead : emin;
  const int q = E - M;       // |x| lies in [n * 2^q, (n + 1) * 2^q)
  const int shift = q - e2;  // >= 23 - M > 0: the step is coarser than x's last bit

  std::uint64_t n = 0, rest = sig;
  if (shift < 64) {
    n = sig >> shift;
    rest = sig & ((std::uint64_t{1} << shift) - 1);
  }
  // t = floor(rest / 2^shift * 2^32); rest < 2^24, so a shift of 56 or more
  // leaves nothing.
  std::uint64_t t = 0;
  if (shift <= 32) {
    t = rest << (32 - shift);
  } else if (shift - 32 < 64) {
    t = rest >> (shift - 32);
  }
  if (random < t) ++n;
  // Exact: n <= 2^(M+1) and 2^q is a normal double.
  const double chosen = static_cast<double>(n) * detail::pow2(q);
  return encode<F>((u >> 31) != 0 ? -chosen : chosen, o);
}

}  // namespace scalar
FP8_END_NAMESPACE
