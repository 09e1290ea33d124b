// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness for the dyadic (integer-only) layer (docs/dyadic.md):
// scalar fp8::requantize for any int32 accumulator, multiplier and shift
// (INT_MIN included) and each rounding; to_dyadic with and without
// multiplier_bits for any double; the bulk requantize (per tensor, per
// tensor with bias, per channel) to int8, uint8, int4 and uint4 with any
// requantize_params; fold_batch_norm, quantize_bias, residual_add and concat.
// Expected values come from tests/dyadic_reference.hpp (exact __int128
// arithmetic, TFLite's QuantizeMultiplier through frexp and llround), with
// the shifts that reference cannot take directly (|shift| beyond 64, where
// the result is a saturation or 0 by a one-line argument) decided here.
#include <cfloat>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <fp8/fp8.hpp>

#include "dyadic_reference.hpp"
#include "fuzz_common.hpp"

namespace {

using namespace fz;
using dref::i128;

constexpr std::size_t max_elements = 4096;
constexpr std::int32_t int_min = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t int_max = std::numeric_limits<std::int32_t>::max();

enum op_kind {
  scalar_requantize, to_dyadic_plain, to_dyadic_bits,
  bulk_tensor, bulk_tensor_bias, bulk_channel,
  fold_bn, quant_bias, residual, concat_op,
  op_count
};
const char* const op_names[] = {"requantize (scalar)", "to_dyadic(double)", "to_dyadic(double, multiplier_bits)",
                                "requantize (per tensor)", "requantize (per tensor, bias)",
                                "requantize_per_channel", "fold_batch_norm", "quantize_bias", "residual_add",
                                "concat"};

struct raw {
  u8 op = 0, out = 0, type_a = 0, type_b = 0;
  u32 acc = 0;                      // decode_i32
  u32 multiplier = 0, shift = 0;    // decode_multiplier, decode_shift
  u8 rounding = 0;                  // scalar: % 3; bulk: params.rounding (decode_enum)
  u64 real = 0;                     // to_dyadic's double, quantize_bias's input_scale (decode_double)
  u8 bits = 0;                      // multiplier_bits: 1..31 mostly
  u16 rows = 0, channels = 0;
  u32 zero_point = 0, clamp_min = 0, clamp_max = 0;  // decode_i32 (clamps: mostly the full range)
  u8 relu = 0;
  u8 layout = 0;                    // bits 0-3: which pointer is null (1 + index), 4-7: scenario
  u16 offset = 0;
  u8 values = 0;                    // accumulator distribution
  u8 dmode = 0, bad_kind = 0;       // per-channel dyadics; one bad shift
  u16 bad_index = 0;
  u32 multiplier_b = 0, shift_b = 0, zero_a = 0, zero_b = 0;  // residual_add's branches
  u32 eps = 0;                      // fold_batch_norm (decode_float)
  u8 count = 0;                     // concat inputs
  u64 seed = 0;
};
template <class IO>
void visit(IO& io, raw& r) {
  io(r.op); io(r.out); io(r.type_a); io(r.type_b);
  io(r.acc); io(r.multiplier); io(r.shift); io(r.rounding);
  io(r.real); io(r.bits);
  io(r.rows); io(r.channels);
  io(r.zero_point); io(r.clamp_min); io(r.clamp_max); io(r.relu);
  io(r.layout); io(r.offset);
  io(r.values); io(r.dmode); io(r.bad_kind); io(r.bad_index);
  io(r.multiplier_b); io(r.shift_b); io(r.zero_a); io(r.zero_b);
  io(r.eps); io(r.count);
  io(r.seed);
}

// ---------------------------------------------------------------- decoding
std::int32_t decode_i32(u32 raw) {
  static const std::int32_t special[] = {int_min, int_max, 0, -1, 1, int_min + 1, int_max - 1, 1 << 30, -(1 << 30),
                                         127, -128, 255, 7, -8, 15, 0x7FFF8000, 1 << 24, -(1 << 24)};
  const u32 cls = raw >> 28;
  if (cls < 8) return static_cast<std::int32_t>(raw % 601u) - 300;
  if (cls < 10) return special[(raw & 0xFFFFu) % (sizeof special / sizeof special[0])];
  return static_cast<std::int32_t>(raw);
}
std::int32_t decode_multiplier(u32 raw) {
  const u32 cls = raw >> 28;
  if (cls < 6) return static_cast<std::int32_t>((1u << 30) | (raw & 0x3FFFFFFFu));  // a to_dyadic multiplier
  if (cls < 8) return -static_cast<std::int32_t>((1u << 30) | (raw & 0x3FFFFFFFu));
  return decode_i32(raw << 4 | raw >> 28);
}
// A clamp bound: mostly the default (the full range), else a small or
// special value.
std::int32_t decode_clamp(u32 raw, std::int32_t dflt) {
  if (raw < 0xC0000000u) return dflt;
  return decode_i32((raw & 0x0FFFFFFFu) | ((raw >> 28) & 1u ? 0x80000000u : 0u));
}
int decode_shift(u32 raw) {
  static const int special[] = {int_min, int_max, -31, 30, 31, -32, 62, 63, 64, -63, -64, 1025, -1100, 1 << 20,
                                -(1 << 20), 32, -33, 94, -94, int_min + 1};
  const u32 cls = raw >> 28;
  if (cls < 12) return static_cast<int>(raw % 81u) - 40;
  if (cls < 14) return special[(raw & 0xFFFFu) % (sizeof special / sizeof special[0])];
  return static_cast<int>(raw);
}
double decode_double(u64 raw) {
  const double special[] = {0.0, -0.0, std::numeric_limits<double>::quiet_NaN(), HUGE_VAL, -HUGE_VAL,
                            std::numeric_limits<double>::max(), std::numeric_limits<double>::min(),
                            std::numeric_limits<double>::denorm_min(), 0x1p30, 0x1p31, 1 - 0x1p-53, 0.5, -0.5,
                            0x1p-31, 0x1p-32, 0x1.8p-32, 1.0, -1.0, 0x1.fffffffffffffp-1, 0x1p-300, 1e300};
  const u64 cls = raw >> 60;
  if (cls < 10) {  // (1 + f) 2^e, e in [-80, 80], with the sign of bit 59
    const double f = 1.0 + static_cast<double>(raw & 0xFFFFFFFFFFFull) / 0x1p44;
    const double v = std::ldexp(f, static_cast<int>((raw >> 44) % 161) - 80);
    return (raw >> 59) & 1 ? -v : v;
  }
  if (cls == 10) return special[(raw & 0xFFFFu) % (sizeof special / sizeof special[0])];
  double d;
  std::memcpy(&d, &raw, 8);
  return d;
}

// ---------------------------------------------------------------- references
// requantize(acc, {m, shift}, rounding) (rounding 0 double, 1 single, 2 half
// even) for every shift: dref::requantize where its __int128 arithmetic
// holds, and the limits (saturation, 0) beyond.
std::int32_t ref_requantize(std::int32_t acc, std::int32_t m, long long shift, int rounding) {
  const i128 p = static_cast<i128>(acc) * m;  // |p| <= 2^62
  if (p == 0) return 0;
  if (rounding == 0) {
    const long long left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    // SRDHM on the exact p * 2^left: beyond left = 64 it is at least 2^33 in magnitude.
    std::int32_t high;
    if (left > 64)
      high = p > 0 ? int_max : int_min;
    else
      high = dref::sat32(dref::round_div_pow2(p * dref::pow2(static_cast<int>(left)), 31, dref::tie::up));
    if (right == 0) return high;
    // |high| <= 2^31: at right >= 33 the quotient is below 1/2 in magnitude.
    if (right > 40) return 0;
    return dref::sat32(dref::round_div_pow2(high, static_cast<int>(right), dref::tie::away));
  }
  if (shift >= 31) {
    if (shift - 31 >= 64) return p > 0 ? int_max : int_min;
    return dref::sat32(p * dref::pow2(static_cast<int>(shift - 31)));
  }
  const long long e = 31 - shift;  // >= 1
  if (e > 70) return 0;            // |p| / 2^e < 2^-8
  return dref::sat32(dref::round_div_pow2(p, static_cast<int>(e), rounding == 1 ? dref::tie::up : dref::tie::even));
}

template <class Out>
struct out_info;
template <>
struct out_info<std::int8_t> {
  static constexpr int lo = -128, hi = 127, bits = 8;
  static constexpr const char* name = "int8";
};
template <>
struct out_info<std::uint8_t> {
  static constexpr int lo = 0, hi = 255, bits = 8;
  static constexpr const char* name = "uint8";
};
template <>
struct out_info<fp8::int4> {
  static constexpr int lo = -8, hi = 7, bits = 4;
  static constexpr const char* name = "int4";
};
template <>
struct out_info<fp8::uint4> {
  static constexpr int lo = 0, hi = 15, bits = 4;
  static constexpr const char* name = "uint4";
};
template <class Out>
std::size_t out_bytes(std::size_t n) {
  return out_info<Out>::bits == 4 ? n / 2 + n % 2 : n;
}

struct params {
  int rounding;
  std::int32_t zero_point, clamp_min, clamp_max;
  bool relu;
};
template <class Out>
void effective_range(const params& p, long long& lo, long long& hi) {
  lo = std::max<long long>(out_info<Out>::lo, p.clamp_min);
  if (p.relu) lo = std::max<long long>(lo, p.zero_point);
  hi = std::min<long long>(out_info<Out>::hi, p.clamp_max);
}
// The bytes Out stores for the values v (4-bit: two per byte, low first, an
// odd count leaves the last high nibble 0).
template <class Out>
std::vector<u8> pack(const std::vector<long long>& v) {
  std::vector<u8> b(out_bytes<Out>(v.size()), 0);
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto x = static_cast<u8>(static_cast<unsigned long long>(v[i]) & (out_info<Out>::bits == 4 ? 0xFu : 0xFFu));
    if (out_info<Out>::bits == 8)
      b[i] = x;
    else
      b[i / 2] = static_cast<u8>(b[i / 2] | (i % 2 == 0 ? x : x << 4));
  }
  return b;
}
std::int32_t sat32(long long x) { return x < int_min ? int_min : x > int_max ? int_max : static_cast<std::int32_t>(x); }

template <class T>
struct in_info {
  static constexpr bool narrow = !std::is_same<T, std::int32_t>::value;
  static constexpr long long lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
};
const char* type_name(int t) { return t == 0 ? "int8" : t == 1 ? "uint8" : "int32"; }

// ============================================================================
// CONTRACT: which calls are valid (docs/dyadic.md; dyadic/*.hpp comments;
// the new rules: enum arguments, requantize_per_channel's dst not
// overlapping d or bias).
// ============================================================================
// As in fuzz_codec: counts whose bytes overflow the address space must be rejected.
constexpr bool overflowing_counts_must_throw = true;

template <class Out>
void params_rules(expectation& e, const params& p) {
  if (p.rounding < 0 || p.rounding > 2)
    e.reject("enum_rounding", {"params.rounding"}, "params.rounding is not a dyadic_rounding");
  if (p.zero_point < out_info<Out>::lo || p.zero_point > out_info<Out>::hi)
    e.reject("params", {"params.zero_point"}, "params.zero_point outside the output range");
  if (p.clamp_min > p.clamp_max) {
    e.reject("params", {"params.clamp_min"}, "params.clamp_min > params.clamp_max");
  } else {
    long long lo, hi;
    effective_range<Out>(p, lo, hi);
    if (lo > hi) e.reject("params", {"params.clamp_max"}, "the effective output range is empty");
  }
}

struct bulk_call {
  int op;
  std::size_t rows, channels;  // per tensor: rows 1, channels n
  const void *acc, *dst, *d, *bias;
  params p;
  fp8::dyadic dy;                    // per tensor
  const fp8::dyadic* held_d;         // per channel (the harness's copy)
  std::size_t held;                  // dyadics the harness holds
};
template <class Out>
expectation bulk_contract(const bulk_call& c) {
  expectation e;
  const u128 n = static_cast<u128>(c.rows) * c.channels;
  if (c.channels != 0 && c.rows > size_max / c.channels / 4)
    e.reject("count_overflow", {"rows", "n"}, "rows times channels overflows");
  if (n != 0 && n <= size_max / 4) {
    if (c.acc == nullptr) e.reject("null", {"acc"}, "acc is null");
    if (c.dst == nullptr) e.reject("null", {"dst"}, "dst is null");
    const u128 ab = n * 4, db = out_info<Out>::bits == 4 ? n / 2 + n % 2 : n;
    if (overflowing_counts_must_throw && (wraps(c.acc, ab) || wraps(c.dst, db)))
      e.reject("count_overflow", {"rows", "n", "dst", "acc"}, "the buffers run past the address space");
    else if (overlaps(c.acc, ab, c.dst, db))
      e.reject("overlap", {"dst"}, "dst overlaps acc");
    if (c.op == bulk_channel) {
      if (overlaps(c.d, static_cast<u128>(c.channels) * 8, c.dst, db))
        e.reject("overlap_new", {"dst", "d"}, "dst overlaps d");
      if (overlaps(c.bias, static_cast<u128>(c.channels) * 4, c.dst, db))
        e.reject("overlap_new", {"dst", "bias"}, "dst overlaps bias");
    }
    if (c.op == bulk_tensor_bias && overlaps(c.bias, static_cast<u128>(c.channels) * 4, c.dst, db))
      e.open("overlap_bias", "dst overlaps bias (a rule for requantize_per_channel only)", true);
  }
  params_rules<Out>(e, c.p);
  if (c.op != bulk_channel && (c.dy.shift < -31 || c.dy.shift > 30))
    e.reject("shift", {"d"}, "d.shift outside [-31, 30]");
  if (c.op == bulk_channel && n != 0) {
    if (c.d == nullptr) {
      e.reject("null", {"d"}, "d is null");
    } else {
      for (std::size_t i = 0; i < std::min(c.channels, c.held); ++i)
        if (c.held_d[i].shift < -31 || c.held_d[i].shift > 30) {
          e.reject("shift", {"d"}, "d[" + std::to_string(i) + "].shift outside [-31, 30]");
          break;
        }
    }
  }
  return e;
}

struct fold_call {
  std::size_t channels, per_channel, held;  // held: channels the harness allocated
  const void *weight, *bias, *gamma, *beta, *mean, *var;
  float eps;
};
expectation fold_contract(const fold_call& c) {
  expectation e;
  if (c.channels == 0) return e;
  if (c.weight == nullptr && c.per_channel != 0) e.reject("null", {"weight"}, "weight is null");
  if (c.bias == nullptr) e.reject("null", {"bias"}, "bias is null");
  if (c.gamma == nullptr) e.reject("null", {"gamma"}, "gamma is null");
  if (c.beta == nullptr) e.reject("null", {"beta"}, "beta is null");
  if (c.mean == nullptr) e.reject("null", {"mean"}, "mean is null");
  if (c.var == nullptr) {
    e.reject("null", {"var"}, "var is null");
  } else if (e.v == expectation::valid) {
    for (std::size_t i = 0; i < std::min(c.channels, c.held); ++i) {
      float v;
      std::memcpy(&v, static_cast<const unsigned char*>(c.var) + 4 * i, 4);
      const double s = static_cast<double>(v) + static_cast<double>(c.eps);
      if (!(s > 0.0 && std::isfinite(s))) {
        e.reject("var", {"var"}, "var[" + std::to_string(i) + "] + eps is not positive finite");
        break;
      }
    }
  }
  return e;
}

struct qbias_call {
  std::size_t channels, held;  // held: channels the harness allocated
  bool per_channel;
  const void *bias, *dst, *ws;
  double input_scale;
};
expectation qbias_contract(const qbias_call& c) {
  expectation e;
  if (c.channels == 0) return e;
  if (c.bias == nullptr) e.reject("null", {"bias"}, "bias is null");
  if (c.dst == nullptr) e.reject("null", {"dst"}, "dst is null");
  if (c.ws == nullptr) e.reject("null", {"weight_scale"}, "weight_scale is null");
  const std::size_t nws = c.per_channel ? c.channels : 1;
  if (c.dst != nullptr && overlaps(c.dst, u128{c.channels} * 4, c.bias, u128{c.channels} * 4))
    e.reject("overlap_new", {"dst"}, "dst overlaps bias");
  if (c.dst != nullptr && overlaps(c.dst, u128{c.channels} * 4, c.ws, u128{nws} * 8))
    e.reject("overlap_new", {"dst"}, "dst overlaps weight_scale");
  const bool is_ok = std::isfinite(c.input_scale) && c.input_scale > 0.0;
  if (!is_ok) e.reject("scale", {"input_scale"}, "input_scale is not positive finite");
  if (c.ws != nullptr)
    for (std::size_t i = 0; i < std::min(nws, c.held); ++i) {
      double w;
      std::memcpy(&w, static_cast<const unsigned char*>(c.ws) + 8 * i, 8);
      if (!(std::isfinite(w) && w > 0.0)) {
        e.reject("scale_value", {"weight_scale"}, "weight_scale[" + std::to_string(i) + "] is not positive finite");
        break;
      }
      // The accumulator's scale must be a normal double (no 0 / 0, no lost bits).
      const double acc = w * c.input_scale;
      if (is_ok && !(acc >= DBL_MIN && acc <= DBL_MAX)) {
        e.reject("scale_range", {"weight_scale"}, "weight_scale[" + std::to_string(i) + "] * input_scale is not normal");
        break;
      }
    }
  if (c.bias != nullptr)
    for (std::size_t i = 0; i < std::min(c.channels, c.held); ++i) {
      float b;
      std::memcpy(&b, static_cast<const unsigned char*>(c.bias) + 4 * i, 4);
      if (std::isnan(b)) {
        e.reject("nan", {"bias"}, "bias[" + std::to_string(i) + "] is NaN");
        break;
      }
    }
  return e;
}

template <class Out, class A, class B>
expectation residual_contract(std::size_t n, const void* a, const void* b, const void* dst, std::int32_t za,
                              std::int32_t zb, const params& p) {
  expectation e;
  if (n != 0) {
    if (a == nullptr) e.reject("null", {"a"}, "a is null");
    if (b == nullptr) e.reject("null", {"b"}, "b is null");
    if (dst == nullptr) e.reject("null", {"dst"}, "dst is null");
    const u128 ob = out_bytes<Out>(n);
    const u128 ab = static_cast<u128>(n) * sizeof(A), bb = static_cast<u128>(n) * sizeof(B);
    if (overflowing_counts_must_throw && (ab > size_max || bb > size_max || wraps(a, ab) || wraps(b, bb) || wraps(dst, ob)))
      e.reject("count_overflow", {"n"}, "the buffers run past the address space");
    const bool same_a = dst == a && sizeof(A) == 1 && out_info<Out>::bits == 8;
    const bool same_b = dst == b && sizeof(B) == 1 && out_info<Out>::bits == 8;
    if (!same_a && overlaps(dst, ob, a, static_cast<u128>(n) * sizeof(A)))
      e.reject("overlap", {"dst"}, "dst overlaps a");
    if (!same_b && overlaps(dst, ob, b, static_cast<u128>(n) * sizeof(B)))
      e.reject("overlap", {"dst"}, "dst overlaps b");
  }
  if (in_info<A>::narrow && (za < in_info<A>::lo || za > in_info<A>::hi))
    e.reject("params", {"branch_a.zero_point"}, "branch_a.zero_point outside a's range");
  if (in_info<B>::narrow && (zb < in_info<B>::lo || zb > in_info<B>::hi))
    e.reject("params", {"branch_b.zero_point"}, "branch_b.zero_point outside b's range");
  params_rules<Out>(e, p);
  return e;
}

template <class Out, class In>
expectation concat_contract(const fp8::concat_input<In>* inputs, const fp8::concat_input<In>* held, std::size_t count,
                            std::size_t rows, const void* dst, const params& p) {
  expectation e;
  if (inputs == nullptr && count > 0) {
    e.reject("null", {"inputs"}, "inputs is null");
    params_rules<Out>(e, p);
    return e;
  }
  u128 total = 0;
  bool overflow = false;
  for (std::size_t i = 0; i < count; ++i) {
    if (held[i].channels > size_max / 8 - static_cast<std::size_t>(std::min<u128>(total, size_max / 8))) overflow = true;
    total += held[i].channels;
  }
  if (overflow) {
    e.reject("count_overflow", {"inputs"}, "the channel total overflows");
    return e;
  }
  if (total != 0 && rows > size_max / 8 / static_cast<std::size_t>(total)) {
    e.reject("count_overflow", {"rows"}, "rows times channels overflows");
    return e;
  }
  const u128 n = static_cast<u128>(rows) * total;
  if (n != 0) {
    if (dst == nullptr) e.reject("null", {"dst"}, "dst is null");
    for (std::size_t i = 0; i < count; ++i) {
      if (held[i].channels == 0) continue;
      if (held[i].data == nullptr) e.reject("null", {"inputs"}, "inputs[" + std::to_string(i) + "].data is null");
      else if (overlaps(dst, out_info<Out>::bits == 4 ? n / 2 + n % 2 : n, held[i].data,
                        static_cast<u128>(rows) * held[i].channels * sizeof(In)))
        e.reject("overlap", {"dst"}, "dst overlaps inputs[" + std::to_string(i) + "].data");
    }
  }
  for (std::size_t i = 0; i < count; ++i)
    if (in_info<In>::narrow && (held[i].branch.zero_point < in_info<In>::lo || held[i].branch.zero_point > in_info<In>::hi))
      e.reject("params", {"inputs"}, "inputs[" + std::to_string(i) + "].branch.zero_point outside the input range");
  params_rules<Out>(e, p);
  return e;
}
// ============================================================================

std::string dyadic_str(fp8::dyadic d) { return "{" + std::to_string(d.multiplier) + ", " + std::to_string(d.shift) + "}"; }
std::string params_str(const params& p) {
  return "params {rounding " + std::to_string(p.rounding) + ", zero_point " + std::to_string(p.zero_point) +
         ", clamp [" + std::to_string(p.clamp_min) + ", " + std::to_string(p.clamp_max) + "], relu " +
         std::to_string(p.relu) + "}";
}
fp8::requantize_params to_params(const params& p) {
  fp8::requantize_params q;
  q.rounding = static_cast<fp8::dyadic_rounding>(p.rounding);
  q.zero_point = p.zero_point;
  q.clamp_min = p.clamp_min;
  q.clamp_max = p.clamp_max;
  q.relu = p.relu;
  return q;
}

// Accumulator values by mode: small, around the output range, any int32,
// extremes mixed in.
std::int32_t gen_acc(filler& f, u8 mode) {
  const u32 r = f.u32v();
  switch (mode % 4) {
    case 0: return static_cast<std::int32_t>(r % 20001u) - 10000;
    case 1: return static_cast<std::int32_t>(r);
    case 2: return (r & 15u) == 0 ? decode_i32(0x80000000u | (r >> 4)) : static_cast<std::int32_t>(r % 2001u) - 1000;
    default: return static_cast<std::int32_t>(r >> static_cast<unsigned>(r & 31u));
  }
}
fp8::dyadic gen_dyadic(filler& f, u8 mode) {
  const u32 m = f.u32v(), s = f.u32v();
  switch (mode % 3) {
    case 0: return {static_cast<std::int32_t>((1u << 30) | (m & 0x3FFFFFFFu)), -static_cast<int>(s % 21u)};
    case 1: return {decode_multiplier(m), static_cast<int>(s % 62u) - 31};
    default: return {static_cast<std::int32_t>(m), static_cast<int>(s % 62u) - 31};
  }
}

// ---------------------------------------------------------------- bulk requantize
template <class Out>
void run_bulk(const raw& r, filler& f, int op) {
  bulk_call c{};
  c.op = op;
  const std::size_t n_or_rows = decode_size(r.rows, op == bulk_tensor ? 300 : 40);
  c.rows = op == bulk_tensor ? 1 : n_or_rows;
  c.channels = op == bulk_tensor ? n_or_rows : decode_size(r.channels, 70);
  c.p = {decode_enum(r.rounding, 3), decode_i32(r.zero_point),
         decode_clamp(r.clamp_min, int_min), decode_clamp(r.clamp_max, int_max),
         (r.relu & 1) != 0};
  c.dy = {decode_multiplier(r.multiplier), decode_shift(r.shift)};
  const u128 n = static_cast<u128>(c.rows) * c.channels;
  const std::size_t n_held = static_cast<std::size_t>(std::min<u128>(n, max_elements));
  const std::size_t ch_held = std::min(c.channels, max_elements);

  pool p;
  const std::size_t a = p.add("acc", n_held * 4, 0, 4);
  const std::size_t d = p.add("dst", out_bytes<Out>(n_held), r.offset & 3u, 1);
  const std::size_t dy = p.add("d", op == bulk_channel ? ch_held * 8 : 0, 0, 4);
  const std::size_t b = p.add("bias", op != bulk_tensor ? ch_held * 4 : 0, 0, 4);
  const unsigned sc = r.layout >> 4, which_null = r.layout & 15u;
  if (sc == 12) p.alias(d, a, r.offset % (n_held * 4 + 4));
  if (sc == 13) p.alias(dy, d, r.offset % (out_bytes<Out>(n_held) + 8));
  if (sc == 14) p.alias(b, d, r.offset % (out_bytes<Out>(n_held) + 8));
  if (sc == 15) p.alias(d, b, 0);
  if (which_null == 1) p.make_null(a);
  if (which_null == 2) p.make_null(d);
  if (which_null == 3 || op != bulk_channel) p.make_null(dy);
  if (which_null == 4 || op == bulk_tensor || (r.relu & 2) != 0) p.make_null(b);
  p.allocate(r.seed);
  std::vector<std::int32_t> acc(n_held), bias(ch_held, 0);
  std::vector<fp8::dyadic> ds(ch_held);
  for (auto& x : acc) x = gen_acc(f, r.values);
  for (auto& x : bias) x = gen_acc(f, static_cast<u8>(r.values + 1));
  for (auto& x : ds) x = gen_dyadic(f, r.dmode);
  if (!ds.empty()) {
    const int bad[] = {31, -32, int_min, int_max, 64, -1100};
    if (r.bad_kind % 16 < 6) ds[r.bad_index % ds.size()].shift = bad[r.bad_kind % 16];
  }
  put(p.storage(a), acc.data(), n_held * 4);
  if (op == bulk_channel) put(p.storage(dy), ds.data(), ch_held * 8);
  if (op != bulk_tensor) put(p.storage(b), bias.data(), ch_held * 4);
  c.acc = p.ptr(a);
  c.dst = p.ptr(d);
  c.d = p.ptr(dy);
  c.bias = p.ptr(b);
  c.held_d = ds.data();
  c.held = ch_held;
  expectation e = bulk_contract<Out>(c);
  if ((n > n_held || c.channels > ch_held) && !e.has({"null", "count_overflow", "enum_rounding", "params"}) &&
      !(e.has({"shift"}) && op != bulk_channel))
    return skip();

  std::string& ctx = context();
  ctx = std::string("fp8::") + op_names[op] + "<" + out_info<Out>::name + ">\n  rows = " + std::to_string(c.rows) +
        ", channels = " + std::to_string(c.channels) + ", d = " + dyadic_str(c.dy) + ", " + params_str(c.p) + "\n" +
        p.layout();
  for (std::size_t i = 0; i < std::min<std::size_t>(n_held, 6); ++i)
    ctx += "  acc[" + std::to_string(i) + "] = " + std::to_string(acc[i]) + "\n";
  for (std::size_t i = 0; i < std::min<std::size_t>(ch_held, 4) && op != bulk_tensor; ++i)
    ctx += "  bias[" + std::to_string(i) + "] = " + std::to_string(bias[i]) +
           (op == bulk_channel ? ", d[" + std::to_string(i) + "] = " + dyadic_str(ds[i]) : "") + "\n";
  if (n <= n_held) p.may_change(d, 0, out_bytes<Out>(static_cast<std::size_t>(n)));

  using S = fp8::quantized_storage_t<Out>;
  auto* dst = reinterpret_cast<S*>(const_cast<void*>(c.dst));
  const auto* accp = static_cast<const std::int32_t*>(c.acc);
  const auto* biasp = static_cast<const std::int32_t*>(c.bias);
  const fp8::requantize_params q = to_params(c.p);
  const auto the_call = [&] {
    if (op == bulk_tensor)
      fp8::requantize<Out>(accp, dst, c.channels, c.dy, q);
    else if (op == bulk_tensor_bias)
      fp8::requantize<Out>(accp, dst, c.rows, c.channels, c.dy, biasp, q);
    else
      fp8::requantize_per_channel<Out>(accp, dst, c.rows, c.channels, static_cast<const fp8::dyadic*>(c.d), biasp, q);
  };
  const auto check = [&] {
    long long lo, hi;
    effective_range<Out>(c.p, lo, hi);
    std::vector<long long> want(n_held);
    for (std::size_t i = 0; i < n_held; ++i) {
      const std::size_t ch = c.channels == 0 ? 0 : i % c.channels;
      const fp8::dyadic dd = op == bulk_channel ? ds[ch] : c.dy;
      const std::int32_t v = sat32(static_cast<long long>(acc[i]) + (c.bias != nullptr ? bias[ch] : 0));
      const long long y = static_cast<long long>(ref_requantize(v, dd.multiplier, dd.shift, c.p.rounding)) + c.p.zero_point;
      want[i] = std::min(std::max(y, lo), hi);
    }
    const std::vector<u8> bytes = pack<Out>(want);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      const u8 got = static_cast<const u8*>(c.dst)[i];
      if (got != bytes[i])
        fail("dst byte " + std::to_string(i) + " = " + hex(got) + ", expected " + hex(bytes[i]) + " (element " +
             std::to_string(out_info<Out>::bits == 4 ? 2 * i : i) + ": acc " + std::to_string(acc[out_info<Out>::bits == 4 ? 2 * i : i]) +
             ", expected value " + std::to_string(want[out_info<Out>::bits == 4 ? 2 * i : i]) + ")");
    }
  };
  execute(e, p, the_call, check);
}

// ---------------------------------------------------------------- residual_add and concat
template <class T>
T gen_input(filler& f, u8 mode) {
  if (std::is_same<T, std::int32_t>::value) return static_cast<T>(gen_acc(f, mode));
  return static_cast<T>(f.byte());
}

template <class Out, class A, class B>
void run_residual(const raw& r, filler& f) {
  const std::size_t n = decode_size(r.rows, 300);
  const std::size_t held = std::min(n, max_elements);
  const params pr{decode_enum(r.rounding, 3), decode_i32(r.zero_point),
                  decode_clamp(r.clamp_min, int_min), decode_clamp(r.clamp_max, int_max), (r.relu & 1) != 0};
  const fp8::quantized_branch ba{{decode_multiplier(r.multiplier), decode_shift(r.shift)}, decode_i32(r.zero_a)};
  const fp8::quantized_branch bb{{decode_multiplier(r.multiplier_b), decode_shift(r.shift_b)}, decode_i32(r.zero_b)};
  pool p;
  const std::size_t ia = p.add("a", held * sizeof(A), 0, sizeof(A));
  const std::size_t ib = p.add("b", held * sizeof(B), 0, sizeof(B));
  const std::size_t id = p.add("dst", out_bytes<Out>(held), 0, 1);
  const unsigned sc = r.layout >> 4, which_null = r.layout & 15u;
  if (sc == 12) p.alias(id, ia, 0);  // in place on a
  if (sc == 13) p.alias(id, ib, 0);  // in place on b
  if (sc == 14) p.alias(id, ia, r.offset % (held * sizeof(A) + 4));
  if (which_null == 1) p.make_null(ia);
  if (which_null == 2) p.make_null(ib);
  if (which_null == 3) p.make_null(id);
  p.allocate(r.seed);
  std::vector<A> av(held);
  std::vector<B> bv(held);
  for (auto& x : av) x = gen_input<A>(f, r.values);
  for (auto& x : bv) x = gen_input<B>(f, r.values);
  put(p.storage(ia), av.data(), held * sizeof(A));
  put(p.storage(ib), bv.data(), held * sizeof(B));
  const A* a = reinterpret_cast<const A*>(p.ptr(ia));
  const B* b = reinterpret_cast<const B*>(p.ptr(ib));
  auto* dst = reinterpret_cast<fp8::quantized_storage_t<Out>*>(p.ptr(id));
  expectation e = residual_contract<Out, A, B>(n, a, b, dst, ba.zero_point, bb.zero_point, pr);
  if (ba.d.shift <= int_min + 64 || bb.d.shift <= int_min + 64) e.tag("shift_int_min");
  if (n > held && !e.has({"null", "params", "enum_rounding"})) return skip();
  context() = std::string("fp8::residual_add<") + out_info<Out>::name + ", " + type_name(r.type_a % 3) + ", " +
              type_name(r.type_b % 3) + ">\n  n = " + std::to_string(n) + ", branch_a {d " + dyadic_str(ba.d) +
              ", zero_point " + std::to_string(ba.zero_point) + "}, branch_b {d " + dyadic_str(bb.d) +
              ", zero_point " + std::to_string(bb.zero_point) + "}, " + params_str(pr) + "\n" + p.layout();
  for (std::size_t i = 0; i < std::min<std::size_t>(held, 4); ++i)
    context() += "  a[" + std::to_string(i) + "] = " + std::to_string(av[i]) + ", b[" + std::to_string(i) + "] = " +
                 std::to_string(bv[i]) + "\n";
  if (n <= held) p.may_change(id, 0, out_bytes<Out>(n));
  const auto the_call = [&] { fp8::residual_add<Out>(a, ba, b, bb, dst, n, to_params(pr)); };
  const auto check = [&] {
    long long lo, hi;
    effective_range<Out>(pr, lo, hi);
    std::vector<long long> want(n);
    for (std::size_t i = 0; i < n; ++i) {
      const long long x = ref_requantize(sat32(static_cast<long long>(av[i]) - ba.zero_point), ba.d.multiplier,
                                         ba.d.shift, pr.rounding);
      const long long y = ref_requantize(sat32(static_cast<long long>(bv[i]) - bb.zero_point), bb.d.multiplier,
                                         bb.d.shift, pr.rounding);
      want[i] = std::min(std::max(x + y + pr.zero_point, lo), hi);
    }
    const std::vector<u8> bytes = pack<Out>(want);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      const u8 got = reinterpret_cast<const u8*>(dst)[i];
      if (got != bytes[i]) fail("dst byte " + std::to_string(i) + " = " + hex(got) + ", expected " + hex(bytes[i]));
    }
  };
  execute(e, p, the_call, check);
}

template <class Out, class In>
void run_concat(const raw& r, filler& f) {
  const std::size_t count = r.count % 16 == 15 ? decode_size(static_cast<u16>(0xF000u | r.count), 0) : r.count % 5;
  const std::size_t count_held = std::min<std::size_t>(count, 4);
  const std::size_t rows = decode_size(r.rows, 20);
  const params pr{decode_enum(r.rounding, 3), decode_i32(r.zero_point),
                  decode_clamp(r.clamp_min, int_min), decode_clamp(r.clamp_max, int_max), (r.relu & 1) != 0};
  std::vector<fp8::concat_input<In>> inputs(count_held);
  std::vector<std::size_t> held_ch(count_held);
  u128 total = 0;
  for (std::size_t i = 0; i < count_held; ++i) {
    const u16 ch = f.u16v();
    inputs[i].channels = decode_size(i == 0 ? r.channels : static_cast<u16>(ch % 0xF100u), 9);
    total += inputs[i].channels;
    // Zero points: the first from the header, the others mostly within the input type.
    const u32 z = f.u32v();
    const long long span = in_info<In>::hi - in_info<In>::lo + 1;
    const std::int32_t zp = i == 0                    ? decode_i32(r.zero_a)
                            : (z & 0xF0u) != 0xF0u ? static_cast<std::int32_t>(in_info<In>::lo + static_cast<long long>(z >> 8) % span)
                                                   : decode_i32(z & 0x8FFFFFFFu);
    inputs[i].branch = {gen_dyadic(f, r.dmode), zp};
  }
  const u128 n = total * rows;
  pool p;
  const std::size_t held_n = static_cast<std::size_t>(std::min<u128>(n, max_elements));
  const std::size_t idst = p.add("dst", out_bytes<Out>(held_n), 0, 1);
  std::vector<std::size_t> ids;
  for (std::size_t i = 0; i < count_held; ++i) {
    held_ch[i] = static_cast<std::size_t>(std::min<u128>(static_cast<u128>(rows) * inputs[i].channels, max_elements));
    ids.push_back(p.add("inputs[" + std::to_string(i) + "].data", held_ch[i] * sizeof(In), 0, sizeof(In)));
  }
  const std::size_t iarr = p.add("inputs", count_held * sizeof(fp8::concat_input<In>), 0, alignof(fp8::concat_input<In>));
  const unsigned sc = r.layout >> 4, which_null = r.layout & 15u;
  if (sc >= 12 && !ids.empty()) p.alias(idst, ids[r.offset % ids.size()], r.offset % 7);
  if (which_null == 1) p.make_null(idst);
  if (which_null == 2) p.make_null(iarr);
  if (which_null >= 3 && which_null - 3 < ids.size()) p.make_null(ids[which_null - 3]);
  p.allocate(r.seed);
  std::vector<std::vector<In>> data(count_held);
  for (std::size_t i = 0; i < count_held; ++i) {
    data[i].resize(held_ch[i]);
    for (auto& x : data[i]) x = gen_input<In>(f, r.values);
    put(p.storage(ids[i]), data[i].data(), held_ch[i] * sizeof(In));
    inputs[i].data = reinterpret_cast<const In*>(p.ptr(ids[i]));
  }
  put(p.storage(iarr), inputs.data(), count_held * sizeof(fp8::concat_input<In>));
  const auto* arr = reinterpret_cast<const fp8::concat_input<In>*>(p.ptr(iarr));
  auto* dst = reinterpret_cast<fp8::quantized_storage_t<Out>*>(p.ptr(idst));
  expectation e = concat_contract<Out, In>(arr, inputs.data(), count_held, rows, dst, pr);
  for (const auto& in : inputs)
    if (in.branch.d.shift <= int_min + 64) e.tag("shift_int_min");
  // Nothing to write, yet concat walks all rows of each input (known: time
  // in proportion to rows; 2^32 rows of 0 channels take seconds).
  if (total == 0 && rows > (std::size_t{1} << 24)) e.tag("empty_huge_rows");
  bool oversize = count > count_held || n > held_n;
  for (std::size_t i = 0; i < count_held; ++i) oversize = oversize || static_cast<u128>(rows) * inputs[i].channels > held_ch[i];
  if (count > count_held && !(arr == nullptr && count > 0)) return skip();  // the array itself is short
  if (oversize && !e.has({"null", "count_overflow"})) return skip();
  std::string& ctx = context();
  ctx = std::string("fp8::concat<") + out_info<Out>::name + ", " + type_name(r.type_a % 3) + ">\n  count = " +
        std::to_string(count) + ", rows = " + std::to_string(rows) + ", " + params_str(pr) + "\n";
  for (std::size_t i = 0; i < count_held; ++i)
    ctx += "  inputs[" + std::to_string(i) + "]: channels " + std::to_string(inputs[i].channels) + ", d " +
           dyadic_str(inputs[i].branch.d) + ", zero_point " + std::to_string(inputs[i].branch.zero_point) + "\n";
  ctx += p.layout();
  if (!oversize) p.may_change(idst, 0, out_bytes<Out>(static_cast<std::size_t>(n)));
  const auto the_call = [&] { fp8::concat<Out, In>(arr, count, rows, dst, to_params(pr)); };
  const auto check = [&] {
    long long lo, hi;
    effective_range<Out>(pr, lo, hi);
    const std::size_t tot = static_cast<std::size_t>(total);
    std::vector<long long> want(static_cast<std::size_t>(n));
    std::size_t off = 0;
    for (std::size_t i = 0; i < count_held && n != 0; ++i) {  // n == 0: rows may be huge, nothing to check
      const auto& in = inputs[i];
      for (std::size_t row = 0; row < rows && in.channels != 0; ++row)
        for (std::size_t c = 0; c < in.channels; ++c) {
          const long long y = ref_requantize(sat32(static_cast<long long>(data[i][row * in.channels + c]) - in.branch.zero_point),
                                             in.branch.d.multiplier, in.branch.d.shift, pr.rounding);
          want[row * tot + off + c] = std::min(std::max(y + pr.zero_point, lo), hi);
        }
      off += in.channels;
    }
    const std::vector<u8> bytes = pack<Out>(want);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      const u8 got = reinterpret_cast<const u8*>(dst)[i];
      if (got != bytes[i]) fail("dst byte " + std::to_string(i) + " = " + hex(got) + ", expected " + hex(bytes[i]));
    }
  };
  execute(e, p, the_call, check);
}

// ---------------------------------------------------------------- the scalar functions, fold, quantize_bias
void run_scalar(const raw& r) {
  const std::int32_t acc = decode_i32(r.acc), m = decode_multiplier(r.multiplier);
  const int shift = decode_shift(r.shift), rounding = r.rounding % 3;  // noexcept: enumerators only
  const double x = decode_double(r.real);
  const int bits_arg = r.bits < 0xF0 ? 1 + r.bits % 31 : static_cast<int>(static_cast<signed char>(r.bits)) + (r.bits & 1 ? 48 : 0);
  pool p;
  p.allocate(0);
  const int op = r.op % op_count;
  expectation e;
  fp8::dyadic got{}, want{};
  std::int32_t got_v = 0;
  if (op == scalar_requantize) {
    if (shift <= int_min + 64) e.tag("shift_int_min");  // a class with a known bug (-shift, 31 - shift overflow)
    context() = "fp8::requantize(" + std::to_string(acc) + ", " + dyadic_str({m, shift}) + ", " +
                std::to_string(rounding) + ")\n";
    execute(e, p, [&] { got_v = fp8::requantize(acc, {m, shift}, static_cast<fp8::dyadic_rounding>(rounding)); },
            [&] {
              const std::int32_t w = ref_requantize(acc, m, shift, rounding);
              if (got_v != w) fail("returned " + std::to_string(got_v) + ", expected " + std::to_string(w));
            });
    return;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", x);
  if (op == to_dyadic_plain) {
    context() = std::string("fp8::to_dyadic(") + buf + ")\n";
    if (std::isnan(x))
      want = {0, 0};
    else if (std::isinf(x))
      want = {x < 0 ? -(1 << 30) : (1 << 30), 1025};
    else {
      const auto q = dref::quantize_multiplier(x);
      want = {q.first, q.second};
    }
    execute(e, p, [&] { got = fp8::to_dyadic(x); }, [&] {
      if (got != want) fail("returned " + dyadic_str(got) + ", expected " + dyadic_str(want));
    });
    return;
  }
  context() = std::string("fp8::to_dyadic(") + buf + ", " + std::to_string(bits_arg) + ")\n";
  if (bits_arg < 1 || bits_arg > 31) e.reject("bits", {"multiplier_bits"}, "multiplier_bits outside [1, 31]");
  if (std::isnan(x)) {
    want = {0, 0};
  } else {
    const double y = std::isinf(x) ? std::copysign(std::numeric_limits<double>::max(), x) : x;
    if (bits_arg >= 1 && bits_arg <= 31) {
      const auto q = dref::quantize_multiplier_bits(y, bits_arg);
      want = {q.first, q.second};
    }
  }
  execute(e, p, [&] { got = fp8::to_dyadic(x, bits_arg); }, [&] {
    if (got != want) fail("returned " + dyadic_str(got) + ", expected " + dyadic_str(want));
  });
}

void run_fold(const raw& r, filler& f) {
  fold_call c{};
  c.channels = decode_size(r.rows, 40);
  c.per_channel = decode_size(r.channels, 40);
  c.eps = decode_float(r.eps);
  const std::size_t ch = std::min(c.channels, max_elements / 64), wpc = std::min(c.per_channel, std::size_t{64});
  pool p;
  const char* names[] = {"weight", "bias", "gamma", "beta", "mean", "var"};
  std::size_t id[6];
  for (int i = 0; i < 6; ++i) id[i] = p.add(names[i], (i == 0 ? ch * wpc : ch) * 4, 0, 4);
  if ((r.layout & 15u) >= 1 && (r.layout & 15u) <= 6) p.make_null(id[(r.layout & 15u) - 1]);
  p.allocate(r.seed);
  std::vector<std::vector<float>> v(6);
  for (int i = 0; i < 6; ++i) {
    v[static_cast<std::size_t>(i)].resize(i == 0 ? ch * wpc : ch);
    for (auto& x : v[static_cast<std::size_t>(i)]) x = i == 5 ? std::fabs(gen_float(f, r.values)) : gen_float(f, r.values);
    if (i == 5 && ch != 0 && r.bad_kind % 4 == 1) v[5][r.bad_index % ch] = -1.0f;
    put(p.storage(id[i]), v[static_cast<std::size_t>(i)].data(), v[static_cast<std::size_t>(i)].size() * 4);
  }
  c.weight = p.ptr(id[0]);
  c.bias = p.ptr(id[1]);
  c.gamma = p.ptr(id[2]);
  c.beta = p.ptr(id[3]);
  c.mean = p.ptr(id[4]);
  c.var = p.ptr(id[5]);
  c.held = ch;
  const expectation e = fold_contract(c);
  if ((ch < c.channels || wpc < c.per_channel) && !e.has({"null"})) return skip();
  context() = "fp8::fold_batch_norm\n  out_channels = " + std::to_string(c.channels) + ", weights_per_channel = " +
              std::to_string(c.per_channel) + ", eps = " + fnum(c.eps) + "\n" + p.layout();
  for (std::size_t i = 0; i < std::min<std::size_t>(ch, 3); ++i)
    context() += "  gamma " + fnum(v[2][i]) + " beta " + fnum(v[3][i]) + " mean " + fnum(v[4][i]) + " var " +
                 fnum(v[5][i]) + "\n";
  p.may_change(id[0], 0, ch * wpc * 4);
  p.may_change(id[1], 0, ch * 4);
  const auto fl = [&](std::size_t i) { return reinterpret_cast<float*>(p.ptr(id[i])); };
  const auto the_call = [&] {
    fp8::fold_batch_norm(fl(0), fl(1), c.channels, c.per_channel, fl(2), fl(3), fl(4), fl(5), c.eps);
  };
  const auto check = [&] {
    const auto same = [](float got, float want) { return (std::isnan(got) && std::isnan(want)) || bits(got) == bits(want); };
    for (std::size_t k = 0; k < ch; ++k) {
      const double s = static_cast<double>(v[2][k]) / std::sqrt(static_cast<double>(v[5][k]) + static_cast<double>(c.eps));
      for (std::size_t i = 0; i < wpc; ++i) {
        const float want = static_cast<float>(static_cast<double>(v[0][k * wpc + i]) * s), got = fl(0)[k * wpc + i];
        if (!same(got, want)) fail("weight[" + std::to_string(k * wpc + i) + "] = " + fnum(got) + ", expected " + fnum(want));
      }
      const float want = static_cast<float>((static_cast<double>(v[1][k]) - static_cast<double>(v[4][k])) * s +
                                            static_cast<double>(v[3][k]));
      if (!same(fl(1)[k], want)) fail("bias[" + std::to_string(k) + "] = " + fnum(fl(1)[k]) + ", expected " + fnum(want));
    }
  };
  execute(e, p, the_call, check);
}

void run_quantize_bias(const raw& r, filler& f) {
  qbias_call c{};
  c.channels = decode_size(r.rows, 40);
  c.per_channel = (r.relu & 1) != 0;
  c.input_scale = decode_double(r.real);
  const std::size_t ch = std::min(c.channels, max_elements);
  pool p;
  const std::size_t ib = p.add("bias", ch * 4, 0, 4), id = p.add("dst", ch * 4, 0, 4);
  const std::size_t iw = p.add("weight_scale", (c.per_channel ? ch : std::min<std::size_t>(ch, 1)) * 8, 0, 8);
  if ((r.layout & 15u) == 1) p.make_null(ib);
  if ((r.layout & 15u) == 2) p.make_null(id);
  if ((r.layout & 15u) == 3) p.make_null(iw);
  p.allocate(r.seed);
  std::vector<float> bias(ch);
  for (auto& x : bias) x = gen_float(f, r.values);
  std::vector<double> ws(c.per_channel ? ch : std::min<std::size_t>(ch, 1));
  for (auto& x : ws) x = (r.dmode & 1) ? decode_double(f.u64v()) : static_cast<double>(gen_scale(f, r.dmode));
  if (!ws.empty() && r.bad_kind % 4 == 1) ws[r.bad_index % ws.size()] = -(r.bad_kind >> 4);
  put(p.storage(ib), bias.data(), ch * 4);
  put(p.storage(iw), ws.data(), ws.size() * 8);
  c.bias = p.ptr(ib);
  c.dst = p.ptr(id);
  c.ws = p.ptr(iw);
  c.held = ch;
  expectation e = qbias_contract(c);
  if (ch < c.channels && !e.has({"null", "scale"})) return skip();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", c.input_scale);
  context() = "fp8::quantize_bias\n  out_channels = " + std::to_string(c.channels) + ", per_channel = " +
              std::to_string(c.per_channel) + ", input_scale = " + buf + "\n" + p.layout();
  for (std::size_t i = 0; i < std::min<std::size_t>(ch, 3); ++i) {
    std::snprintf(buf, sizeof buf, "%a", ws[c.per_channel ? i : 0]);
    context() += "  bias " + fnum(bias[i]) + ", weight_scale " + buf + "\n";
  }
  p.may_change(id, 0, ch * 4);
  auto* dst = reinterpret_cast<std::int32_t*>(p.ptr(id));
  const auto the_call = [&] {
    fp8::quantize_bias(reinterpret_cast<const float*>(c.bias), dst, c.channels, reinterpret_cast<const double*>(c.ws),
                       c.per_channel, c.input_scale);
  };
  const auto check = [&] {
    for (std::size_t k = 0; k < ch; ++k) {
      // Nearest, ties to even, of bias / (ws * input_scale) in double, saturated.
      const double den = ws[c.per_channel ? k : 0] * c.input_scale;
      const double b = static_cast<double>(bias[k]);
      long long want;
      if (b == 0) {
        want = 0;
      } else {
        const double q = b / den;
        if (q >= 2147483647.0) want = int_max;
        else if (q <= -2147483648.0) want = int_min;
        else {
          const double fl = std::floor(q), frac = q - fl;
          want = static_cast<long long>(fl) + (frac > 0.5 || (frac == 0.5 && std::fmod(fl, 2.0) != 0) ? 1 : 0);
        }
      }
      if (dst[k] != want)
        fail("dst[" + std::to_string(k) + "] = " + std::to_string(dst[k]) + ", expected " + std::to_string(want));
    }
  };
  execute(e, p, the_call, check);
}

void run_mixed(const raw& r, filler& f, int op) {
  switch (op) {
    case residual: {
      // Nine input pairs, each with one output type (every output type
      // twice or more): the 36 combinations would only cost build time.
      using i8 = std::int8_t;
      using u8t = std::uint8_t;
      using i32 = std::int32_t;
      switch ((r.type_a % 3) * 3 + r.type_b % 3) {
        case 0: run_residual<std::int8_t, i8, i8>(r, f); break;
        case 1: run_residual<std::uint8_t, i8, u8t>(r, f); break;
        case 2: run_residual<fp8::int4, i8, i32>(r, f); break;
        case 3: run_residual<fp8::uint4, u8t, i8>(r, f); break;
        case 4: run_residual<std::uint8_t, u8t, u8t>(r, f); break;
        case 5: run_residual<std::int8_t, u8t, i32>(r, f); break;
        case 6: run_residual<fp8::uint4, i32, i8>(r, f); break;
        case 7: run_residual<fp8::int4, i32, u8t>(r, f); break;
        default: run_residual<std::int8_t, i32, i32>(r, f); break;
      }
      break;
    }
    default:
      // Each input type with two output types.
      switch ((r.type_a % 3) * 2 + r.type_b % 2) {
        case 0: run_concat<std::int8_t, std::int8_t>(r, f); break;
        case 1: run_concat<fp8::uint4, std::int8_t>(r, f); break;
        case 2: run_concat<std::uint8_t, std::uint8_t>(r, f); break;
        case 3: run_concat<fp8::int4, std::uint8_t>(r, f); break;
        case 4: run_concat<std::int8_t, std::int32_t>(r, f); break;
        default: run_concat<fp8::uint4, std::int32_t>(r, f); break;
      }
  }
}

void run_input(const u8* data, std::size_t size) {
  reader in{data, size};
  raw r;
  visit(in, r);
  filler f(in.rest(), in.rest_size(), r.seed);
  const int op = r.op % op_count;
  if (op <= to_dyadic_bits) return run_scalar(r);
  if (op == fold_bn) return run_fold(r, f);
  if (op == quant_bias) return run_quantize_bias(r, f);
  if (op == residual || op == concat_op) return run_mixed(r, f, op);
  switch (r.out % 4) {
    case 0: run_bulk<std::int8_t>(r, f, op); break;
    case 1: run_bulk<std::uint8_t>(r, f, op); break;
    case 2: run_bulk<fp8::int4>(r, f, op); break;
    default: run_bulk<fp8::uint4>(r, f, op); break;
  }
}

// ---------------------------------------------------------------- seeds
constexpr u32 small_i32(int v) { return static_cast<u32>(v + 300); }  // decode_i32: [-300, 300]
constexpr u32 special_i32(u32 index) { return 0x80000000u | index; }  // INT_MIN, INT_MAX, 0, -1, 1, ...
constexpr u32 shift_of(int s) { return static_cast<u32>(s + 40); }     // decode_shift: [-40, 40]
constexpr u32 special_shift(u32 index) { return 0xC0000000u | index; }  // INT_MIN, INT_MAX, -31, 30, 31, -32, ...
constexpr u32 clamp_small(int v) { return 0xC0000000u | static_cast<u32>(v + 300); }  // decode_clamp
constexpr u32 clamp_special(u32 index) { return 0xD0000000u | index; }

std::vector<seed<raw>> seeds() {
  std::vector<seed<raw>> v;
  const auto V = expectation::valid, I = expectation::invalid;
  raw base;
  base.rows = 37;
  base.channels = 5;
  base.multiplier = 0x12345678;  // 2^30 | ...
  base.shift = shift_of(-9);
  base.values = 2;
  base.zero_point = base.zero_a = base.zero_b = small_i32(0);
  base.bad_kind = 15;  // no bad shift
  base.seed = 9;
  auto with = [&](const std::string& name, int verdict, u8 op, auto&& edit) {
    raw r = base;
    r.op = op;
    edit(r);
    v.push_back({name, r, verdict});
  };
  // The scalar function, each rounding, with the extremes the contract covers.
  for (u8 rd = 0; rd < 3; ++rd) {
    with("valid_requantize_scalar_r" + std::to_string(rd), V, scalar_requantize, [&](raw& r) { r.rounding = rd; r.acc = small_i32(7); });
    with("valid_requantize_scalar_int_min_acc_r" + std::to_string(rd), V, scalar_requantize, [&](raw& r) { r.rounding = rd; r.acc = special_i32(0); r.multiplier = 0x90000000u; });
    // requantize(1, {2^30, INT_MIN}, rounding)
    with("valid_requantize_scalar_shift_int_min_r" + std::to_string(rd), V, scalar_requantize, [&](raw& r) { r.rounding = rd; r.acc = small_i32(1); r.multiplier = 0; r.shift = special_shift(0); });
    with("valid_requantize_scalar_shift_int_max_r" + std::to_string(rd), V, scalar_requantize, [&](raw& r) { r.rounding = rd; r.acc = small_i32(-3); r.shift = special_shift(1); });
  }
  with("valid_requantize_tflite_25087", V, scalar_requantize, [](raw& r) { r.acc = 0x3000001Fu; r.multiplier = 0x5E63713Cu; r.shift = shift_of(-9); });
  with("valid_to_dyadic", V, to_dyadic_plain, [](raw& r) { r.real = 0x0123456789ABCDEFull; });
  with("valid_to_dyadic_nan", V, to_dyadic_plain, [](raw& r) { r.real = 0xA000000000000002ull; });
  with("valid_to_dyadic_inf", V, to_dyadic_plain, [](raw& r) { r.real = 0xA000000000000004ull; });
  with("valid_to_dyadic_subnormal", V, to_dyadic_plain, [](raw& r) { r.real = 0xA000000000000007ull; });
  with("valid_to_dyadic_bits", V, to_dyadic_bits, [](raw& r) { r.real = 0x0223456789ABCDEFull; r.bits = 7; });
  with("valid_to_dyadic_bits_inf", V, to_dyadic_bits, [](raw& r) { r.real = 0xA000000000000003ull; r.bits = 30; });
  with("invalid_to_dyadic_bits_zero", I, to_dyadic_bits, [](raw& r) { r.bits = 0xF0; });
  with("invalid_to_dyadic_bits_32", I, to_dyadic_bits, [](raw& r) { r.bits = 0xF3; });
  const char* outs[] = {"int8", "uint8", "int4", "uint4"};
  for (u8 o = 0; o < 4; ++o) {
    const std::string t = outs[o];
    with("valid_requantize_tensor_" + t, V, bulk_tensor, [&](raw& r) { r.out = o; r.rounding = o % 3; });
    with("valid_requantize_tensor_bias_" + t, V, bulk_tensor_bias, [&](raw& r) { r.out = o; r.rounding = (o + 1) % 3; r.relu = 1; });
    with("valid_requantize_per_channel_" + t, V, bulk_channel, [&](raw& r) { r.out = o; r.rounding = (o + 2) % 3; r.dmode = o; });
  }
  const char* ins[] = {"int8", "uint8", "int32"};
  for (u8 a = 0; a < 3; ++a) {
    for (u8 b = 0; b < 3; ++b)
      with(std::string("valid_residual_add_") + ins[a] + "_" + ins[b], V, residual, [&](raw& r) {
        r.type_a = a; r.type_b = b; r.multiplier_b = 0x2345; r.shift_b = shift_of(-3); r.rounding = (a + b) % 3;
      });
    for (u8 b = 0; b < 2; ++b)
      with(std::string("valid_concat_") + ins[a] + "_" + std::to_string(b), V, concat_op, [&](raw& r) {
        r.type_a = a; r.type_b = b; r.count = 3; r.rows = 6;
      });
  }
  with("valid_requantize_tensor_odd_int4", V, bulk_tensor, [](raw& r) { r.out = 2; r.rows = 33; });
  with("valid_requantize_tensor_clamped", V, bulk_tensor, [](raw& r) { r.clamp_min = clamp_small(-20); r.clamp_max = clamp_small(50); });
  with("valid_requantize_empty_null", V, bulk_tensor, [](raw& r) { r.rows = 0; r.layout = 1; });
  with("valid_residual_in_place", V, residual, [](raw& r) { r.type_a = 0; r.layout = 12 << 4; });
  with("valid_fold_batch_norm", V, fold_bn, [](raw& r) { r.rows = 7; r.channels = 9; r.eps = 0x0000001Fu; });
  with("valid_quantize_bias", V, quant_bias, [](raw& r) { r.rows = 11; r.real = 0x0423456789ABCDEFull; r.relu = 1; });
  with("valid_quantize_bias_per_tensor", V, quant_bias, [](raw& r) { r.rows = 4; r.real = 0x0423456789ABCDEFull; });
  // weight_scale * input_scale (DBL_MIN * 2^-300) underflows to 0 (and the
  // bias is 0): rejected, the accumulator's scale must be a normal double.
  with("invalid_quantize_bias_scale_product_underflow", I, quant_bias, [](raw& r) {
    r.rows = 1; r.values = 4; r.dmode = 1; r.real = 0xA000000000000013ull;
  });
  v.back().tail = {0x08, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xA0};
  // One input of 0 channels and SIZE_MAX rows: nothing to write.
  with("valid_concat_empty_input_huge_rows", V, concat_op, [](raw& r) { r.count = 1; r.channels = 0; r.rows = 0xF002; });
  with("invalid_requantize_shift_31", I, bulk_tensor, [](raw& r) { r.shift = shift_of(31); });
  with("invalid_requantize_shift_int_min", I, bulk_tensor_bias, [](raw& r) { r.shift = special_shift(0); });
  with("invalid_requantize_per_channel_shift", I, bulk_channel, [](raw& r) { r.bad_kind = 0; r.bad_index = 2; });
  with("invalid_requantize_rounding_enum", I, bulk_tensor, [](raw& r) { r.rounding = 0xF0; });
  with("invalid_requantize_zero_point", I, bulk_tensor, [](raw& r) { r.zero_point = small_i32(200); });
  with("invalid_requantize_clamp_order", I, bulk_channel, [](raw& r) { r.clamp_min = clamp_small(10); r.clamp_max = clamp_small(-10); });
  with("invalid_requantize_empty_range", I, bulk_tensor, [](raw& r) { r.out = 1; r.clamp_max = clamp_special(3); });
  with("invalid_requantize_acc_null", I, bulk_tensor, [](raw& r) { r.layout = 1; });
  with("invalid_requantize_dst_null", I, bulk_channel, [](raw& r) { r.layout = 2; });
  with("invalid_requantize_d_null", I, bulk_channel, [](raw& r) { r.layout = 3; });
  with("invalid_requantize_dst_in_acc", I, bulk_tensor, [](raw& r) { r.layout = 12 << 4; r.offset = 8; });
  with("invalid_requantize_per_channel_d_in_dst", I, bulk_channel, [](raw& r) { r.layout = 13 << 4; r.offset = 3; });
  with("invalid_requantize_per_channel_bias_in_dst", I, bulk_channel, [](raw& r) { r.layout = 14 << 4; r.offset = 1; });
  with("invalid_requantize_count_overflow", I, bulk_tensor, [](raw& r) { r.rows = 0xF002; });
  with("invalid_residual_zero_point", I, residual, [](raw& r) { r.type_a = 0; r.zero_a = small_i32(-200); });
  with("invalid_residual_overlap", I, residual, [](raw& r) { r.type_a = 2; r.layout = 14 << 4; r.offset = 5; });
  with("invalid_residual_b_null", I, residual, [](raw& r) { r.layout = 2; });
  with("invalid_concat_inputs_null", I, concat_op, [](raw& r) { r.count = 2; r.layout = 2; });
  with("invalid_concat_data_null", I, concat_op, [](raw& r) { r.count = 2; r.layout = 3; });
  with("invalid_concat_overlap", I, concat_op, [](raw& r) { r.count = 1; r.layout = 12 << 4; r.offset = 0; });
  with("invalid_fold_var_negative", I, fold_bn, [](raw& r) { r.rows = 5; r.channels = 3; r.bad_kind = 1; r.eps = 0; });
  with("invalid_fold_gamma_null", I, fold_bn, [](raw& r) { r.rows = 5; r.layout = 3; });
  with("invalid_quantize_bias_input_scale", I, quant_bias, [](raw& r) { r.rows = 3; r.real = 0xA000000000000000ull; });
  with("invalid_quantize_bias_weight_scale", I, quant_bias, [](raw& r) { r.rows = 3; r.relu = 1; r.real = 0x0423456789ABCDEFull; r.bad_kind = 0x11; });
  return v;
}

}  // namespace

FZ_ENTRY_POINTS((void)0)
