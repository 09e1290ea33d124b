// SPDX-License-Identifier: Apache-2.0
// The streaming encoder's tier-independent half: the rules and sinks that
// its one loop is parameterised by, and the one policy dispatch.
//
// The loop is written once, codec/stream-inl.hpp, and compiled per vector
// tier (sse2, avx2, avx512) over that tier's lane operations `ops`
// (codec/simd_core.hpp, codec/kernels_avx2.hpp, codec/kernels_avx512.hpp):
// `stream<F, O>(src, src_ld, dst, dst_ld, rows, n, rule, sink)` reads float
// lanes from src (widening bfloat16 and half where the tier loads them),
// lets the rule turn each vector into FP8 codes (the rule applies its scale
// and the overflow policy O through the tier's encode), and lets the sink
// store them: a step is `vectors` vectors (at least the four a byte store
// packs), and the tail is one step over a zero-padded copy, so every tier
// owns its tail and no scalar code runs below the entry. Rules and sinks
// here are plain data, so the non-target code that builds them passes no
// vector to the target code that runs them; the loop's lanes_of<Rule> and
// sink_of<Sink> hold the vectors they need.
//
//   rule                 element i (index i of the call) becomes
//   one_scale<K>         encode(x[i] / s)             one scale (codec/bulk.hpp)
//   column_scales<K>     encode(x[i] / s[i])          a scale per column (quant/per_channel.hpp)
//   row_scales<K>        encode(x[i] / s[row])        a scale per row (quant/per_channel.hpp)
//   stochastic_scale<K>  encode_stochastic(x[i] / s, bits(seed, first + i))   (quant/stochastic.hpp)
//   quant/mx.hpp         encode(x[i] * 2^-e(block))   the block's E8M0 scale
//   sink                 stores
//   code_sink            the codes, one byte each
//   fake_sink<K>         decode(code) * s, a float each (quant/fake_quant.hpp)
//
// The overflow policy and the kind of scaling are the loops' template
// arguments, chosen once per call by with_policy: GCC at -O2 does not
// unswitch loops, so a policy tested inside would stay a branch per vector.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../config.hpp"
#include "../detail/bit.hpp"
#include "../types/format.hpp"
#include "stochastic.hpp"

FP8_BEGIN_NAMESPACE
namespace detail {

// How an encode applies its scale, decided once per call: not at all, by
// the reciprocal (a power of two whose reciprocal is a float: x / 2^k and
// x * 2^-k are the same correctly rounded quotient), or by division. The
// powers of two with a finite reciprocal are the positive normal ones and
// the subnormal 2^-127, read from the bits (an inline test, where frexp is a
// library call per row of a per-channel encode).
struct scaling {
  enum kind_t { none, multiply, divide } kind;
  float factor;
  explicit scaling(float scale) noexcept : kind(divide), factor(scale) {
    const std::uint32_t u = bit_cast<std::uint32_t>(scale);
    if (u == 0x3F800000u) {  // 1
      kind = none;
    } else if (((u & 0x807FFFFFu) == 0 && (u >> 23) - 1u < 254u) || u == 0x00400000u) {
      kind = multiply;
      factor = 1.0f / scale;
    }
  }
};

// An overflow policy and a kind of scaling as compile-time constants.
template <overflow O, scaling::kind_t K>
struct policy {
  static constexpr overflow overflow_policy = O;
  static constexpr scaling::kind_t kind = K;
};

// Calls f(policy<O, K>{}) for the run-time pair (o, k): the one place where
// the policy becomes a template argument. f is instantiated six times.
template <class Fn>
decltype(auto) with_policy(overflow o, scaling::kind_t k, Fn&& f) {
  if (o == overflow::saturate) {
    if (k == scaling::none) return f(policy<overflow::saturate, scaling::none>{});
    if (k == scaling::multiply) return f(policy<overflow::saturate, scaling::multiply>{});
    return f(policy<overflow::saturate, scaling::divide>{});
  }
  if (k == scaling::none) return f(policy<overflow::non_saturating, scaling::none>{});
  if (k == scaling::multiply) return f(policy<overflow::non_saturating, scaling::multiply>{});
  return f(policy<overflow::non_saturating, scaling::divide>{});
}

// One scale for the whole call: x / scale by detail::scaling's rule, with
// factor = scaling::factor (the reciprocal for multiply, the scale for
// divide, unused for none).
// Every rule has from(i): the same rule for the elements from index i on
// (a tier that runs a call in chunks, e.g. sse2 widening 16-bit sources,
// passes each chunk its part).
template <scaling::kind_t K>
struct one_scale {
  float factor;
  one_scale from(std::size_t) const noexcept { return *this; }
};

// A scale per column: element c of a row (index c of the row's call) is
// x / scale[c], from a table of factors (reciprocals for K = multiply, the
// scales for K = divide) padded with 1 to a whole number of the widest step
// (column_pad), so the padded tail step reads inside it.
template <scaling::kind_t K>
struct column_scales {
  const float* factor;
  column_scales from(std::size_t i) const noexcept { return {factor + i}; }
};
constexpr std::size_t column_pad = 64;

// A scale per row: every element of row r is x / scale[r], from a table of
// factors as column_scales'.
template <scaling::kind_t K>
struct row_scales {
  const float* factor;
  row_scales from(std::size_t) const noexcept { return *this; }
};

// Stochastic rounding (codec/stochastic.hpp): element i of the call is x[i]
// / scale (factor as in one_scale) rounded with the random bits of (seed,
// first_index + i).
template <scaling::kind_t K>
struct stochastic_scale {
  float factor;
  scalar::detail::stochastic_key key;
  std::uint64_t first_index;
  stochastic_scale from(std::size_t i) const noexcept { return {factor, key, first_index + i}; }
};

// What a rule's lanes_of has unless the rule needs a step of its own (MX):
// four vectors a step (one byte store), nothing to do at the start of a row
// (row(r)) nor before and after the step's codes.
struct stateless_lanes {
  static constexpr std::size_t vectors = 4;
  void row(std::size_t) noexcept {}
  template <class F, class Vectors>
  void begin(const Vectors&, std::size_t) noexcept {}
  void finish(std::size_t, std::size_t) noexcept {}
};

// The codes themselves, one byte per element.
struct code_sink {
  using out_type = std::uint8_t;
};

// Fake quantization: each code decoded in registers and multiplied back by
// the scale (not at all for scaling::none, where the scale is 1), one float
// per element.
template <scaling::kind_t K>
struct fake_sink {
  using out_type = float;
  float scale;
};

}  // namespace detail
FP8_END_NAMESPACE
