// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness for the quantization layer (docs/quant.md): fp8::amax
// (float, bfloat16, half), scale_from_amax (both roundings) and
// scale_exponent_from_amax, encode_per_channel / decode_per_channel (both
// axes, dense and with leading dimensions), mx_encode (float, bfloat16,
// half) / mx_decode, encode_stochastic (float, bfloat16, half, any seed and
// index offset, both overflow modes), fake_quantize (in place too), the bulk
// fp8::convert between any two FP8 formats and between float, bfloat16,
// half and FP8 arrays (codec/convert.hpp: every pair the bulk form takes,
// with and without o; the scalar convert<To>(x[, o]) compared too) and
// quantize / dequantize (quant/
// quantize.hpp: per tensor, row and column, both scale roundings, both
// overflow modes, any scale_count), with valid and invalid sizes, scales,
// enums, null and overlapping buffers. Expected values are computed here
// from the definitions in docs/quant.md: codes from tests/reference.hpp's
// search encoder, the MX shared exponent in double, stochastic rounding's
// neighbours and threshold in double with the documented hash (SplitMix64
// and lowbias32) written out again, quantize's scales from each group's
// amax in double by the documented rule (amax / max_finite rounded once to
// float, or the smallest 2^k with amax <= max_finite * 2^k; 1 for amax 0;
// at least 2^-126), a conversion as the reference encoder of the source
// code's exact value, or (to bfloat16 and half) the source's exact value
// rounded to nearest even in double by the IEEE rule written out here, with
// the README's overflow table (saturate: +-max, else +-Inf) and NaN as the
// canonical quiet NaN with the source's sign.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fp8/fp8.hpp>

#include "fuzz_common.hpp"

namespace {

using namespace fz;

constexpr std::size_t max_elements = 4096;  // the most an input allocates per buffer

enum op_kind {
  amax_f32, amax_bf16, amax_f16, scale_from, scale_exponent,
  enc_pc_ld, enc_pc_dense, dec_pc_ld, dec_pc_dense,
  mx_enc_f32, mx_enc_bf16, mx_enc_f16, mx_dec,
  sr_f32, sr_bf16, sr_f16, fake,
  conv, quant, dequant,  // appended: the committed seeds' op codes keep their meaning
  conv_f32, conv_bf16, conv_f16, conv_fp8,  // bulk convert from float, bfloat16, half; FP8 to the wider types
  op_count
};
const char* const op_names[] = {
    "amax(float)", "amax(bfloat16)", "amax(half)", "scale_from_amax", "scale_exponent_from_amax",
    "encode_per_channel (leading dimensions)", "encode_per_channel (dense)",
    "decode_per_channel (leading dimensions)", "decode_per_channel (dense)",
    "mx_encode(float)", "mx_encode(bfloat16)", "mx_encode(half)", "mx_decode",
    "encode_stochastic(float)", "encode_stochastic(bfloat16)", "encode_stochastic(half)", "fake_quantize",
    "convert (bulk)", "quantize", "dequantize",
    "convert (bulk, from float)", "convert (bulk, from bfloat16)", "convert (bulk, from half)",
    "convert (bulk, FP8 to float / bfloat16 / half)"};

struct raw {
  u8 op = 0, format = 0;         // format: bits 0-1 the format (convert: from), 2-3 convert's target
  u16 rows = 0, cols = 0;        // rows doubles as n for one-dimensional calls
  u16 src_ld = 0, dst_ld = 0;    // decode_ld; quantize / dequantize: src_ld is scale_count (decode_count)
  u32 scalar = 0;                // amax or scale (decode_float)
  u8 enum_a = 0, enum_b = 0;     // axis or scale_rounding or overflow; overflow of encode_per_channel;
                                 // quantize / dequantize: enum_a options.o, enum_b per (granularity);
                                 // convert: enum_a o, enum_b bit 0 the overload without o
  u8 layout = 0;                 // bits 0-1 src shift, 2-3 dst shift (elements); 4-7 scenario
  u16 offset = 0;                // scenarios 9, 13, 14
  u8 values = 0;                 // gen_float / gen_half mode
  u8 scales = 0, bad_kind = 0;   // fill_scales; quantize: scales is options.rounding, bad_kind a src edit
  u16 bad_index = 0;
  u64 sr_seed = 0;               // encode_stochastic's seed
  u16 index_offset = 0;          // decode_size: small or near 2^32 / 2^64
  u64 seed = 0;
};
template <class IO>
void visit(IO& io, raw& r) {
  io(r.op);
  io(r.format);
  io(r.rows);
  io(r.cols);
  io(r.src_ld);
  io(r.dst_ld);
  io(r.scalar);
  io(r.enum_a);
  io(r.enum_b);
  io(r.layout);
  io(r.offset);
  io(r.values);
  io(r.scales);
  io(r.bad_kind);
  io(r.bad_index);
  io(r.sr_seed);
  io(r.index_offset);
  io(r.seed);
}

enum scenario {
  third_in_src = 9, src_null = 10, dst_null = 11, third_null = 12, dst_in_src = 13, third_in_dst = 14, same = 15
};

// The element types of the bulk conversions: the source by the operation,
// the target by format bits 2-3 (t): from float, t 0 (float to float is
// no overload) and 3 give FP8; from bfloat16 and half, t is float, bfloat16,
// half, FP8; from FP8 (conv_fp8), t 3 is float again. FP8 elements are of
// the format in bits 0-1, but conv's targets (bits 2-3 again).
enum elem_kind { e_f32, e_bf16, e_f16, e_fp8 };
const char* const elem_names[] = {"float", "bfloat16", "half", "fp8"};
bool is_convert(int op) { return op == conv || (op >= conv_f32 && op <= conv_fp8); }
int convert_source(int op) { return op == conv_f32 ? e_f32 : op == conv_bf16 ? e_bf16 : op == conv_f16 ? e_f16 : e_fp8; }
int convert_target(int op, unsigned format) {
  const int t = static_cast<int>((format >> 2) & 3u);
  if (op == conv) return e_fp8;
  if (op == conv_f32) return t == e_f32 ? e_fp8 : t;
  if (op == conv_fp8) return t == e_fp8 ? e_f32 : t;
  return t;
}
std::size_t elem_bytes(int kind) { return kind == e_f32 ? 4 : kind == e_fp8 ? 1 : 2; }

// Element sizes in bytes of src and dst per operation (third: scale arrays);
// target: a conversion's target kind.
std::size_t src_bytes(int op) {
  switch (op) {
    case amax_bf16: case amax_f16: case mx_enc_bf16: case mx_enc_f16: case sr_bf16: case sr_f16: return 2;
    case conv_bf16: case conv_f16: return 2;
    case dec_pc_ld: case dec_pc_dense: case mx_dec: case conv: case dequant: case conv_fp8: return 1;
    default: return 4;
  }
}
std::size_t dst_bytes(int op, int target) {
  if (is_convert(op)) return elem_bytes(target);
  switch (op) {
    case dec_pc_ld: case dec_pc_dense: case mx_dec: case fake: case dequant: return 4;
    default: return 1;
  }
}

// ---------------------------------------------------------------- independent references
// MX v1.0 §6.3 as docs/quant.md states it, for one block of values.
template <class F>
void mx_reference(const std::vector<double>& v, std::size_t first, std::size_t m, u8* codes, u8& scale) {
  const int emax = std::is_same<F, fp8::E4M3>::value ? 8 : 15;
  double amax = 0;
  bool special = false;
  for (std::size_t i = first; i < first + m; ++i) {
    if (!std::isfinite(v[i])) special = true;
    amax = std::max(amax, std::fabs(v[i]));
  }
  if (special) {
    scale = 0xFF;
    for (std::size_t i = 0; i < m; ++i) codes[i] = std::is_same<F, fp8::E4M3>::value ? 0x7F : 0x7E;
    return;
  }
  int e = -127;
  if (amax != 0) {
    int ex;
    (void)std::frexp(amax, &ex);  // amax in [2^(ex-1), 2^ex)
    e = std::max(ex - 1 - emax, -127);
  }
  scale = static_cast<u8>(e + 127);
  for (std::size_t i = 0; i < m; ++i) codes[i] = ref_encode<F>(std::ldexp(v[first + i], -e), true);
}

// The documented counter-based bits: SplitMix64 of the seed into two keys,
// then lowbias32 twice.
u32 lowbias32(u32 x) {
  x ^= x >> 16;
  x *= 0x7FEB352Du;
  x ^= x >> 15;
  x *= 0x846CA68Bu;
  x ^= x >> 16;
  return x;
}
u32 stochastic_bits(u64 seed, u64 index) {
  u64 z = seed + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  const u32 k_lo = static_cast<u32>(z), k_hi = static_cast<u32>(z >> 32);
  return lowbias32(static_cast<u32>(index) ^ k_lo ^ lowbias32(static_cast<u32>(index >> 32) ^ k_hi));
}
// Stochastic rounding of x (a float) with random bits r: the neighbours
// lo <= |x| < lo + step of the format with an unbounded exponent range, hi
// taken iff r < floor(frac * 2^32), then the ordinary codec.
template <class F>
u8 stochastic_reference(float x, u32 r, bool saturate) {
  const double a = std::fabs(static_cast<double>(x));
  if (a == 0 || !std::isfinite(a)) return ref_encode<F>(static_cast<double>(x), saturate);
  const ref::format& s = spec_of<F>();
  int ex;
  (void)std::frexp(a, &ex);
  const int e = std::max(ex - 1, 1 - s.bias);  // max(floor(log2 |x|), emin)
  const double step = std::ldexp(1.0, e - s.mantissa_bits);
  const double q = a / step, n = std::floor(q);
  const double t = std::floor((q - n) * 0x1p32);
  const double chosen = (n + (static_cast<double>(r) < t ? 1 : 0)) * step;
  return ref_encode<F>(std::signbit(x) ? -chosen : chosen, saturate);
}
// float(code) * scale for a float destination; NaN codes give the quiet NaN
// with the code's sign (+ for FNUZ).
template <class F>
u32 decode_reference(u8 code, float scale) {
  if (ref::is_nan(spec_of<F>(), code))
    return spec_of<F>().kind != ref::family::fnuz && (code & 0x80) != 0 ? 0xFFC00000u : 0x7FC00000u;
  return bits(static_cast<float>(code_value<F>(code)) * scale);
}
// A conversion between FP8 formats: the reference encoder of the source
// code's exact value, a NaN code as a NaN with the sign a decode gives (+
// for FNUZ), encoded as encode does.
template <class FF, class FT>
u8 convert_reference(u8 code, bool saturate) {
  if (ref::is_nan(spec_of<FF>(), code)) {
    const bool negative = spec_of<FF>().kind != ref::family::fnuz && (code & 0x80) != 0;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return ref_encode<FT>(negative ? -nan : nan, saturate);
  }
  return ref_encode<FT>(code_value<FF>(code), saturate);
}
// The bulk conversions among float, bfloat16, half and FP8. A source
// element's exact value; NaN: a NaN with the sign a decode gives (the sign
// bit; + for an FNUZ code), whatever its payload.
template <class F>
double convert_source_value(int kind, const unsigned char* p) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  switch (kind) {
    case e_f32: case e_bf16: {
      u32 b = 0;
      if (kind == e_f32) {
        std::memcpy(&b, p, 4);
      } else {
        u16 h;
        std::memcpy(&h, p, 2);
        b = static_cast<u32>(h) << 16;  // bfloat16: the top half of a float
      }
      const float x = from_bits32(b);
      return std::isnan(x) ? std::copysign(nan, (b >> 31) != 0 ? -1.0 : 1.0) : static_cast<double>(x);
    }
    case e_f16: {
      u16 h;
      std::memcpy(&h, p, 2);
      const double v = half_value(h);  // from the fields
      return std::isnan(v) ? std::copysign(nan, (h & 0x8000u) != 0 ? -1.0 : 1.0) : v;
    }
    default: {
      const u8 c = *p;
      if (!ref::is_nan(spec_of<F>(), c)) return code_value<F>(c);
      const bool negative = spec_of<F>().kind != ref::family::fnuz && (c & 0x80u) != 0;
      return std::copysign(nan, negative ? -1.0 : 1.0);
    }
  }
}
// bfloat16 or half from an exact value: round to nearest even with an
// unbounded exponent (round_bf16 / round_half: past max is +-Inf), then the
// README's overflow table: saturate gives +-max for a result past max and
// for +-Inf.
double round16(double v, bool half, bool saturate) {
  const double r = half ? round_half(v) : round_bf16(v);
  if (saturate && std::isinf(r)) return std::copysign(half ? 65504.0 : 0x1.FEp127, v);
  return r;
}
// The target element's bits (low bytes of the result) for the exact value
// v: float exactly (every source value is a float; NaN the quiet NaN with
// v's sign), bfloat16 and half by round16 (NaN: the canonical quiet NaN
// with v's sign), FP8 by the reference encoder.
template <class F>
u32 convert_wide_reference(double v, int target, bool saturate) {
  const bool nan = std::isnan(v), negative = std::signbit(v);
  switch (target) {
    case e_f32: return nan ? (negative ? 0xFFC00000u : 0x7FC00000u) : bits(static_cast<float>(v));
    case e_bf16: return bf16_bits_of(nan ? v : round16(v, false, saturate), negative);
    case e_f16: return half_bits_of(nan ? v : round16(v, true, saturate), negative);
    default: return ref_encode<F>(v, saturate);
  }
}
// Conversion sources: gen_float's six modes, and 6 (half) or 7 (bfloat16):
// values at the target's edges: its subnormal range and the binades around
// max, with random, exact or tie (half-way) fractions; subnormal ties
// (k + 1/2) * 2^-24 or 2^-133; the values at max, past it and at the tie
// that overflows.
FZ_NO_COVERAGE float gen_convert_float(filler& f, u8 mode) {
  if (mode % 8 < 6) return gen_float(f, mode);
  const bool half = mode % 8 == 6;
  const u32 r = f.u32v(), m = f.u32v();
  const float sign = (r >> 31) != 0 ? -1.0f : 1.0f;
  const int drop = half ? 13 : 16;  // float fraction bits the target lacks
  switch ((r >> 1) % 8) {
    case 0: case 1: case 2: case 3: case 4: {
      // 2^e (1 + fraction): half e in [-26, -13] or [13, 16], bfloat16 in [-135, -125] or [124, 127].
      const int e = (r >> 4) & 1 ? (half ? -26 + static_cast<int>((r >> 5) % 14) : -135 + static_cast<int>((r >> 5) % 11))
                                 : (half ? 13 + static_cast<int>((r >> 5) % 4) : 124 + static_cast<int>((r >> 5) % 4));
      u32 frac = m & 0x7FFFFFu;
      const u32 low = (1u << drop) - 1, tie = 1u << (drop - 1);
      if ((r >> 1) % 8 == 1) frac = (frac & ~low) | tie;                                // a tie of normal targets
      if ((r >> 1) % 8 == 2) frac &= ~low;                                                // exact
      if ((r >> 1) % 8 == 3) frac = ((frac & ~low) | tie) + ((m >> 31) != 0 ? 1u : -1u);  // next to a tie
      return sign * std::ldexp(1.0f + static_cast<float>(frac & 0x7FFFFFu) * 0x1p-23f, e);
    }
    case 5:  // a subnormal tie
      return sign * std::ldexp(static_cast<float>(m % (half ? 1024u : 128u)) + 0.5f, half ? -24 : -133);
    default: {
      const float edges_half[] = {65504.0f, 65519.0f, 65520.0f, 65520.0078125f, 65536.0f, 0x1p-24f, 0x1p-25f,
                                  0x1.000002p-25f, 0x1p-14f, 0x1.ff8p-15f};
      const float edges_bf16[] = {0x1.FEp127f, 0x1.FEFFFEp127f, 0x1.FFp127f, 0x1.FF0002p127f, 0x1.FFFFFEp127f, 0x1p-133f,
                                  0x1p-134f, 0x1.000002p-134f, 0x1p-126f, 0x1.FCp-127f};
      return sign * (half ? edges_half : edges_bf16)[m % 10];
    }
  }
}
// A source element of the given kind (FP8 codes stay the pool's bytes).
FZ_NO_COVERAGE void gen_convert_source(filler& f, int kind, u8 mode, unsigned char* p) {
  if (kind == e_f32) {
    const float v = gen_convert_float(f, mode);
    std::memcpy(p, &v, 4);
  } else if (kind == e_bf16) {
    const u16 v = mode % 8 < 6 ? gen_bf16(f, mode) : static_cast<u16>(bits(gen_convert_float(f, mode)) >> 16);
    std::memcpy(p, &v, 2);
  } else if (kind == e_f16) {
    const u16 v = gen_half(f, mode % 8 < 6 ? mode : 0);
    std::memcpy(p, &v, 2);
  }
}
// quantize's scale for a group whose largest magnitude is amax (finite, in
// double): 1 for 0; exact: amax / max_finite(F) rounded once to float (the
// double quotient rounded to float: double's 53 bits are more than twice
// float's 24 plus two, so the second rounding gives the correctly rounded
// quotient); power of two: the smallest 2^k with amax <= max_finite * 2^k;
// both at least 2^-126.
template <class F>
float scale_reference(double amax, bool power_of_two) {
  if (amax == 0) return 1.0f;
  const double max = table_of<F>().max();
  if (!power_of_two) return std::max(static_cast<float>(amax / max), 0x1p-126f);
  int k = -126;
  while (amax > std::ldexp(max, k)) ++k;
  return std::ldexp(1.0f, k);
}
// The format a convert call converts to, as a type (format bits 2-3).
template <class F>
struct format_tag {
  using type = F;
};
template <class Fn>
void with_format(unsigned index, Fn&& fn) {
  switch (index % 4) {
    case 0: fn(format_tag<fp8::E4M3>{}); break;
    case 1: fn(format_tag<fp8::E5M2>{}); break;
    case 2: fn(format_tag<fp8::E4M3FNUZ>{}); break;
    default: fn(format_tag<fp8::E5M2FNUZ>{}); break;
  }
}
// A conversion's element type by kind (FP8: fp8<F>).
template <class F, class Fn>
void with_elem(int kind, Fn&& fn) {
  switch (kind) {
    case e_f32: fn(format_tag<float>{}); break;
    case e_bf16: fn(format_tag<fp8::bfloat16>{}); break;
    case e_f16: fn(format_tag<fp8::half>{}); break;
    default: fn(format_tag<fp8::fp8<F>>{}); break;
  }
}
// scale_count: mostly what the granularity needs plus 0 to 4 spare, sometimes
// 1 to 3 too few, sometimes one of decode_size's special values.
std::size_t decode_count(u16 raw, std::size_t need) {
  if (raw < 0xC000 && need > size_max - 4) return need;
  return decode_ld(raw, need);
}

double widen(int op, const unsigned char* p) {
  if (src_bytes(op) == 4) {
    float x;
    std::memcpy(&x, p, 4);
    return static_cast<double>(x);
  }
  u16 h;
  std::memcpy(&h, p, 2);
  const bool bf = op == amax_bf16 || op == mx_enc_bf16 || op == sr_bf16;
  return bf ? bf16_value(h) : half_value(h);
}

struct call {
  int op;
  std::size_t rows, cols, n, src_ld, dst_ld;  // n: one-dimensional count
  const void *src, *dst, *third;              // third: per-channel scale, MX scales, quantize's scales
  float scalar;
  int enum_a, enum_b, enum_c;           // quantize: options.o, per, options.rounding
  std::size_t channels, held_channels;  // held: how many the harness allocated; quantize: the scales needed
  std::size_t scale_count, held_src;    // quantize / dequantize; held_src: src elements allocated
  int target;                           // convert: the target's elem_kind
  bool default_o;                       // convert: the overload without o (To's own rule)
};

// ============================================================================
// CONTRACT: which calls are valid (docs/quant.md; quant/*.hpp comments; the
// new rule on enum arguments).
// ============================================================================
// As in fuzz_codec: counts whose byte size overflows size_t or the address
// space cannot describe a buffer and must be rejected.
constexpr bool overflowing_counts_must_throw = true;

void count_rule(expectation& e, const void* p, u128 bytes, std::initializer_list<const char*> names) {
  if (overflowing_counts_must_throw && (bytes > size_max || wraps(p, bytes)))
    e.reject("count_overflow", names, "the size overflows size_t or the address space");
}

expectation contract(const call& c) {
  expectation e;
  const std::size_t sb = src_bytes(c.op), db = dst_bytes(c.op, c.target);
  const bool finite_positive = std::isfinite(c.scalar) && c.scalar > 0.0f;
  switch (c.op) {
    case amax_f32: case amax_bf16: case amax_f16:
      if (c.n != 0 && c.src == nullptr) e.reject("null", {"src"}, "src is null");
      if (c.n != 0) count_rule(e, c.src, static_cast<u128>(c.n) * sb, {"n", "src"});
      break;
    case scale_from: case scale_exponent:
      if (!(std::isfinite(c.scalar) && c.scalar >= 0.0f)) e.reject("amax", {"amax"}, "amax is negative, NaN or infinite");
      if (c.op == scale_from && c.enum_a != 0 && c.enum_a != 1)
        e.reject("enum", {"r", "rounding"}, "r is not an fp8::scale_rounding");
      break;
    case enc_pc_ld: case enc_pc_dense: case dec_pc_ld: case dec_pc_dense: {
      if (c.enum_a != 0 && c.enum_a != 1) e.reject("axis", {"channel"}, "channel is not an fp8::axis");
      const bool enc = c.op == enc_pc_ld || c.op == enc_pc_dense;
      if (enc && c.enum_b != 0 && c.enum_b != 1) e.reject("enum", {"o"}, "o is not an fp8::overflow");
      if (c.rows == 0 || c.cols == 0) break;
      if (c.src == nullptr) e.reject("null", {"src"}, "src is null");
      if (c.dst == nullptr) e.reject("null", {"dst"}, "dst is null");
      if (c.third == nullptr) e.reject("null", {"scale"}, "scale is null");
      if (c.src_ld < c.cols) e.reject("ld", {"src_ld"}, "src_ld < cols");
      if (c.dst_ld < c.cols) e.reject("ld", {"dst_ld"}, "dst_ld < cols");
      if (c.src_ld < c.cols || c.dst_ld < c.cols) break;
      const u128 s_span = span_bytes(c.rows, c.cols, c.src_ld, sb);
      const u128 d_span = span_bytes(c.rows, c.cols, c.dst_ld, db);
      if (s_span > size_max) e.reject("ld", {"src_ld"}, "the span of src overflows size_t");
      if (d_span > size_max) e.reject("ld", {"dst_ld"}, "the span of dst overflows size_t");
      if (s_span > size_max || d_span > size_max) break;
      count_rule(e, c.src, s_span, {"src_ld", "rows"});
      count_rule(e, c.dst, d_span, {"dst_ld", "rows"});
      if (c.third != nullptr)
        for (std::size_t i = 0; i < std::min(c.channels, c.held_channels); ++i) {
          float v;
          std::memcpy(&v, static_cast<const unsigned char*>(c.third) + 4 * i, 4);
          if (!(std::isfinite(v) && v > 0.0f)) {
            e.reject("scale_value", {"scale"}, "scale[" + std::to_string(i) + "] is not positive finite");
            break;
          }
        }
      if (overlaps(c.src, s_span, c.dst, d_span)) e.reject("overlap", {"dst"}, "dst overlaps src");
      if (overlaps(c.third, static_cast<u128>(c.channels) * 4, c.dst, d_span))
        e.reject("overlap", {"dst"}, "dst overlaps scale");
      break;
    }
    case mx_enc_f32: case mx_enc_bf16: case mx_enc_f16: case mx_dec: {
      if (c.n == 0) break;
      const u128 count = c.n / 32 + (c.n % 32 != 0);
      if (c.src == nullptr) e.reject("null", {"src"}, "src is null");
      if (c.dst == nullptr) e.reject("null", {"dst"}, "dst is null");
      if (c.third == nullptr) e.reject("null", {"scales"}, "scales is null");
      count_rule(e, c.src, static_cast<u128>(c.n) * sb, {"n", "src", "dst", "scales"});
      count_rule(e, c.dst, static_cast<u128>(c.n) * db, {"n", "src", "dst", "scales"});
      const u128 s = static_cast<u128>(c.n) * sb, d = static_cast<u128>(c.n) * db;
      if (c.op == mx_dec) {
        if (overlaps(c.src, s, c.dst, d)) e.reject("overlap", {"dst"}, "dst overlaps src");
        if (overlaps(c.third, count, c.dst, d)) e.reject("overlap", {"dst"}, "dst overlaps scales");
      } else {
        if (overlaps(c.src, s, c.dst, d)) e.reject("overlap", {"dst"}, "dst overlaps src");
        if (overlaps(c.src, s, c.third, count)) e.reject("overlap", {"scales"}, "scales overlaps src");
        if (overlaps(c.dst, d, c.third, count)) e.reject("overlap", {"scales"}, "scales overlaps dst");
      }
      break;
    }
    case sr_f32: case sr_bf16: case sr_f16: case fake: {
      if (c.enum_a != 0 && c.enum_a != 1) e.reject("enum", {"o"}, "o is not an fp8::overflow");
      if (c.n != 0) {
        if (c.src == nullptr) e.reject("null", {"src"}, "src is null");
        if (c.dst == nullptr) e.reject("null", {"dst"}, "dst is null");
        const u128 s = static_cast<u128>(c.n) * sb, d = static_cast<u128>(c.n) * db;
        count_rule(e, c.src, s, {"n", "src", "dst"});
        count_rule(e, c.dst, d, {"n", "src", "dst"});
        const bool in_place = c.op == fake && c.src == c.dst;
        if (!in_place && overlaps(c.src, s, c.dst, d)) e.reject("overlap", {"dst"}, "dst overlaps src");
      }
      if (!finite_positive) e.reject("scale", {"scale"}, "scale is not positive finite");
      break;
    }
    case conv: case conv_f32: case conv_bf16: case conv_f16: case conv_fp8: {
      // README: n elements each, disjoint (in place too); o (when passed,
      // whether it acts or not) an fp8::overflow.
      if (!c.default_o && c.enum_a != 0 && c.enum_a != 1) e.reject("enum", {"o"}, "o is not an fp8::overflow");
      if (c.n != 0) {
        if (c.src == nullptr) e.reject("null", {"src"}, "src is null");
        if (c.dst == nullptr) e.reject("null", {"dst"}, "dst is null");
        const u128 s = static_cast<u128>(c.n) * sb, d = static_cast<u128>(c.n) * db;
        count_rule(e, c.src, s, {"n"});
        count_rule(e, c.dst, d, {"n"});
        if (overlaps(c.src, s, c.dst, d)) e.reject("overlap", {"dst"}, "dst overlaps src");
      }
      break;
    }
    case quant: case dequant: {
      // README: rows x cols elements each (the span fits size_t), disjoint;
      // scale_count at least the granularity's count (1, rows or cols; 0 for
      // an empty tensor); scales disjoint from src and dst when written;
      // per / options.* enumerators; quantize's src without NaN or infinity.
      // The general rules: an output shares no byte with an input (so
      // dequantize's dst none with the scales it reads), and every element
      // of a scale array (here the ones read) is positive finite.
      const bool q = c.op == quant;
      const bool per_ok = c.enum_b >= 0 && c.enum_b <= 2;
      // quantize's per is options.per; the library names it "per" in both
      // calls (tests/test_quant_quantize.cpp pins that): either name.
      if (!per_ok) e.reject("enum", {"per", "options.per"}, "per is not an fp8::granularity");
      if (q && c.enum_c != 0 && c.enum_c != 1)
        e.reject("enum", {"options.rounding"}, "options.rounding is not an fp8::scale_rounding");
      if (q && c.enum_a != 0 && c.enum_a != 1) e.reject("enum", {"options.o"}, "options.o is not an fp8::overflow");
      const bool empty = c.rows == 0 || c.cols == 0;
      if (!empty && c.src == nullptr) e.reject("null", {"src"}, "src is null");
      if (!empty && c.dst == nullptr) e.reject("null", {"dst"}, "dst is null");
      const u128 s_span = span_bytes(c.rows, c.cols, c.cols, sb), d_span = span_bytes(c.rows, c.cols, c.cols, db);
      if (s_span > size_max || d_span > size_max) {
        e.reject("count_overflow", {"rows", "cols"}, "rows x cols elements overflow size_t");
        break;  // no extent: the other rules need one
      }
      count_rule(e, c.src, s_span, {"rows", "cols"});
      count_rule(e, c.dst, d_span, {"rows", "cols"});
      if (overlaps(c.src, s_span, c.dst, d_span)) e.reject("overlap", {"dst"}, "dst overlaps src");
      if (!per_ok) break;  // the rules below depend on the granularity
      const std::size_t need = c.channels;  // 0 for an empty tensor
      if (c.scale_count < need)
        e.reject("scale_count", {"scale_count"},
                 "scale_count = " + std::to_string(c.scale_count) + " < " + std::to_string(need) + " scales needed");
      // scale_count is how many floats `scales` holds: one whose byte size
      // overflows size_t or the address space describes no buffer.
      const u128 claimed = static_cast<u128>(c.scale_count) * 4;
      if (overflowing_counts_must_throw && (claimed > size_max || wraps(c.third, claimed))) {
        e.reject("count_overflow", {"scale_count"}, "scale_count floats overflow size_t or the address space");
        e.tag("scale_count_extent");
      }
      if (need != 0 && c.third == nullptr) e.reject("null", {"scales"}, "scales is null");
      const u128 t_bytes = static_cast<u128>(need) * 4;  // the scales read or written
      count_rule(e, c.third, t_bytes, {"scale_count", "scales"});
      if (q) {
        if (overlaps(c.third, t_bytes, c.src, s_span)) e.reject("overlap", {"scales"}, "scales overlaps src");
        if (overlaps(c.third, t_bytes, c.dst, d_span)) e.reject("overlap", {"scales"}, "scales overlaps dst");
      } else if (overlaps(c.third, t_bytes, c.dst, d_span)) {
        e.reject("overlap", {"dst", "scales"}, "dst overlaps the scales dequantize reads");
        e.tag("dequantize_scales_overlap");
      }
      // The spare scales (scale_count > need): neither read nor written; the
      // docs leave open whether the disjointness covers them.
      if (c.third != nullptr && c.held_channels > need) {
        const void* spare = static_cast<const unsigned char*>(c.third) + 4 * need;
        const u128 spare_bytes = static_cast<u128>(c.held_channels - need) * 4;
        if (overlaps(spare, spare_bytes, c.dst, d_span) || (q && overlaps(spare, spare_bytes, c.src, s_span)))
          e.open("scale_slack", "the spare scales [" + std::to_string(need) + ", scale_count) overlap an array");
      }
      if (!q && c.third != nullptr)
        for (std::size_t i = 0; i < std::min(need, c.held_channels); ++i) {
          float v;
          std::memcpy(&v, static_cast<const unsigned char*>(c.third) + 4 * i, 4);
          if (!(std::isfinite(v) && v > 0.0f)) {
            e.reject("scale_value", {"scales"}, "scales[" + std::to_string(i) + "] is not positive finite");
            e.tag("dequantize_scale_name");
            break;
          }
        }
      if (q && !empty && c.src != nullptr)
        for (std::size_t i = 0; i < std::min<u128>(s_span / 4, c.held_src); ++i) {
          float v;
          std::memcpy(&v, static_cast<const unsigned char*>(c.src) + 4 * i, 4);
          if (!std::isfinite(v)) {
            e.reject("src_value", {"src"}, "src[" + std::to_string(i / c.cols) + "][" + std::to_string(i % c.cols) +
                                               "] is NaN or infinite");
            break;
          }
        }
      break;
    }
    default: break;
  }
  return e;
}
// ============================================================================

template <class F>
void run(const raw& r, filler& f) {
  constexpr bool mx_ok = std::is_same<F, fp8::E4M3>::value || std::is_same<F, fp8::E5M2>::value;
  call c{};
  c.op = r.op % op_count;
  if (!mx_ok && c.op >= mx_enc_f32 && c.op <= mx_dec) c.op = (c.op + 4) % op_count;  // MX elements are E4M3 / E5M2
  const int op = c.op;
  const bool per_channel = op >= enc_pc_ld && op <= dec_pc_dense;
  const bool quant_op = op == quant || op == dequant;  // rows x cols, dense, scales by granularity
  const bool dense = op == enc_pc_dense || op == dec_pc_dense || quant_op;
  c.rows = decode_size(r.rows, per_channel ? 40 : quant_op ? 100 : 300);
  c.cols = decode_size(r.cols, 40);
  c.n = c.rows;
  c.src_ld = dense ? c.cols : decode_ld(r.src_ld, c.cols);
  c.dst_ld = dense ? c.cols : decode_ld(r.dst_ld, c.cols);
  c.scalar = decode_float(r.scalar);
  c.enum_a = decode_enum(r.enum_a, 2);
  c.enum_b = decode_enum(r.enum_b, quant_op ? 3 : 2);
  c.enum_c = decode_enum(r.scales, 2);  // quantize's options.rounding
  c.target = is_convert(op) ? convert_target(op, r.format) : e_fp8;
  c.default_o = is_convert(op) && (r.enum_b & 1u) != 0;
  const std::size_t sb = src_bytes(op), db = dst_bytes(op, c.target);
  const bool is_mx = op >= mx_enc_f32 && op <= mx_dec;
  const bool empty = c.rows == 0 || c.cols == 0;
  // quantize / dequantize: the scales the granularity needs (0 when empty
  // or when per is no granularity).
  const std::size_t groups = c.enum_b == 0 ? 1 : c.enum_b == 1 ? c.rows : c.enum_b == 2 ? c.cols : 0;
  c.channels = per_channel ? (c.enum_a == 1 ? c.cols : c.rows)
               : is_mx     ? c.n / 32 + (c.n % 32 != 0)
               : quant_op  ? (empty ? 0 : groups)
                           : 0;
  c.scale_count = quant_op ? decode_count(r.src_ld, c.channels) : 0;

  // Elements each buffer must hold, capped at what an input allocates.
  const auto span = [](std::size_t rows, std::size_t cols, std::size_t ld) -> u128 {
    return rows == 0 || cols == 0 ? 0 : static_cast<u128>(rows - 1) * ld + cols;
  };
  const u128 src_need = per_channel || quant_op ? span(c.rows, c.cols, c.src_ld) : c.n;
  const u128 dst_need = per_channel || quant_op ? span(c.rows, c.cols, c.dst_ld) : c.n;
  const u128 third_need = per_channel || is_mx || quant_op ? c.channels : 0;
  const auto held = [](u128 need) { return static_cast<std::size_t>(std::min<u128>(need, max_elements)); };
  const std::size_t src_held = held(src_need), dst_held = held(dst_need);
  // quantize / dequantize: scale_count floats (the spare ones too, so a
  // write past the needed ones shows), at most 16 spare.
  const std::size_t spare_cap = c.channels >= max_elements ? max_elements : c.channels + 16;
  const std::size_t third_held =
      quant_op ? std::min({c.scale_count, spare_cap, max_elements}) : held(third_need);
  const bool scalar_only = op == scale_from || op == scale_exponent;

  pool p;
  const std::size_t third_size = is_mx ? 1 : 4;
  const std::size_t s = p.add("src", src_held * sb, (r.layout & 3u) * sb, sb);
  const std::size_t d = p.add("dst", dst_held * db, ((r.layout >> 2) & 3u) * db, db);
  const std::size_t t = p.add(is_mx || quant_op ? "scales" : "scale", third_held * third_size, 0, third_size);
  const unsigned sc = r.layout >> 4;
  if (!scalar_only) {
    if (sc == dst_in_src) p.alias(d, s, r.offset % (src_held * sb + 8));
    if (sc == third_in_src) p.alias(t, s, r.offset % (src_held * sb + 8));
    if (sc == third_in_dst) p.alias(t, d, r.offset % (dst_held * db + 8));
    if (sc == same) p.alias(d, s, 0);
    if (sc == src_null) p.make_null(s);
    if (sc == dst_null) p.make_null(d);
    if (sc == third_null) p.make_null(t);
  }
  if (!(per_channel || is_mx || quant_op)) p.make_null(t);
  p.allocate(r.seed);
  unsigned char* src_store = p.storage(s);
  // Source values by the chosen distribution; codes (decodes) and E8M0
  // scales (mx_decode) stay the filler's bytes.
  if (sb != 1)
    for (std::size_t i = 0; i < src_held; ++i) {
      if (is_convert(op)) {
        gen_convert_source(f, convert_source(op), r.values, src_store + i * sb);
      } else if (sb == 4) {
        const float v = gen_float(f, r.values);
        std::memcpy(src_store + 4 * i, &v, 4);
      } else {
        const bool bf = op == amax_bf16 || op == mx_enc_bf16 || op == sr_bf16;
        const u16 v = bf ? gen_bf16(f, r.values) : gen_half(f, r.values);
        std::memcpy(src_store + 2 * i, &v, 2);
      }
    }
  // quantize's source edits (bad_kind): 1-4 NaN, -NaN, +Inf, -Inf at
  // bad_index; 5, 6 FLT_MAX, the smallest subnormal there; 7, 8 a zero row,
  // a zero column; 9 all zero; 10 all scaled by 2^-120 (scales at 2^-126).
  const unsigned edit = r.bad_kind % 16u;
  if (op == quant && !empty && src_held == src_need) {
    const float specials[] = {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                              std::numeric_limits<float>::max(), std::numeric_limits<float>::denorm_min()};
    auto* x = reinterpret_cast<float*>(src_store);  // (the pool aligns it for its elements)
    if (edit >= 1 && edit <= 6) x[r.bad_index % src_held] = specials[edit - 1];
    for (std::size_t i = 0; i < c.rows; ++i)
      for (std::size_t j = 0; j < c.cols; ++j) {
        float& v = x[i * c.cols + j];
        if ((edit == 7 && i == r.bad_index % c.rows) || (edit == 8 && j == r.bad_index % c.cols) || edit == 9) v = 0;
        if (edit == 10) v = std::ldexp(v, -120);
      }
  }
  if (per_channel || op == dequant) fill_scales(p.storage(t), third_held, f, r.scales, r.bad_kind, r.bad_index);
  c.src = p.ptr(s);
  c.dst = p.ptr(d);
  c.third = p.ptr(t);
  const u64 index_offset = decode_size(r.index_offset, 1000);

  c.held_channels = third_held;
  c.held_src = src_held;
  expectation e = contract(c);
  // A call larger than the buffers an input has runs only when it must be
  // rejected before any element is read (by a check on sizes, pointers or
  // scalars), since a short buffer is the harness's doing, not the library's.
  // (A conversion checks overlap before it reads too.)
  if ((src_need > src_held || dst_need > dst_held || third_need > third_held) &&
      !e.has({"null", "ld", "count_overflow", "enum", "axis", "scale", "amax", "scale_count"}) &&
      !(is_convert(op) && e.has({"overlap"})))
    return skip();

  std::string& ctx = context();
  ctx = std::string("fp8::") + op_names[op] + ", format " + F::name + "\n  rows/n = " + std::to_string(c.rows) +
        ", cols = " + std::to_string(c.cols) + ", src_ld = " + std::to_string(c.src_ld) +
        ", dst_ld = " + std::to_string(c.dst_ld) + ", scalar (amax / scale) = " + fnum(c.scalar) +
        ", enum a (axis / rounding / o) = " + std::to_string(c.enum_a) + ", enum b (o) = " +
        std::to_string(c.enum_b) + ", seed = " + hex(r.sr_seed) + ", index_offset = " + hex(index_offset) + "\n" +
        p.layout();
  const std::string o_text = c.default_o ? "(not passed: To's own rule)" : std::to_string(c.enum_a);
  if (op == conv)
    with_format(r.format >> 2, [&](auto tag) {
      ctx += std::string("  to ") + decltype(tag)::type::name + ", o = " + o_text + "\n";
    });
  if (is_convert(op) && op != conv)
    ctx += std::string("  from ") + elem_names[convert_source(op)] + " to " + elem_names[c.target] +
           (c.target == e_fp8 || convert_source(op) == e_fp8 ? std::string(" (FP8: ") + F::name + ")" : "") +
           ", o = " + o_text + "\n";
  if (quant_op) {
    ctx += "  scale_count = " + std::to_string(c.scale_count) + ", per = " + std::to_string(c.enum_b);
    if (op == quant)
      ctx += ", options.rounding = " + std::to_string(c.enum_c) + ", options.o = " + std::to_string(c.enum_a) +
             (edit != 0 ? ", src edit " + std::to_string(edit) + " at " + std::to_string(r.bad_index) : "");
    ctx += "\n";
  }
  for (std::size_t i = 0; i < std::min<std::size_t>(src_held, 6); ++i) {
    u32 v = 0;
    std::memcpy(&v, src_store + i * sb, sb);
    ctx += "  src[" + std::to_string(i) + "] = " + hex(v) + "\n";
  }
  for (std::size_t i = 0; i < std::min<std::size_t>(third_held, 6) && op != quant; ++i) {
    u32 v = 0;
    std::memcpy(&v, p.storage(t) + i * third_size, third_size);
    ctx += "  " + std::string(is_mx || quant_op ? "scales[" : "scale[") + std::to_string(i) + "] = " + hex(v) + "\n";
  }

  const auto* src = static_cast<const unsigned char*>(c.src);
  auto* dst = static_cast<unsigned char*>(const_cast<void*>(c.dst));
  auto* third = static_cast<unsigned char*>(const_cast<void*>(c.third));
  const auto o = static_cast<fp8::overflow>(c.enum_a);
  using code = fp8::fp8<F>;
  float scalar_result = 0;
  int exponent_result = 0;
  // Outputs a valid call writes (a call larger than its buffers is never valid here).
  if (dst_need > dst_held || third_need > third_held) {
  } else if (quant_op) {
    p.may_change(d, 0, static_cast<std::size_t>(dst_need) * db);
    if (op == quant) p.may_change(t, 0, c.channels * 4);
  } else if (per_channel) {
    // (Bounded by the buffer: with dst_ld < cols a huge row count fits it too.)
    for (std::size_t i = 0; i < c.rows && i < dst_held && c.cols != 0; ++i)
      p.may_change(d, i * c.dst_ld * db, c.cols * db);
  } else if (!scalar_only && op > amax_f16) {
    p.may_change(d, 0, c.n * db);
    if (is_mx && op != mx_dec) p.may_change(t, 0, c.channels);
  }

  // quantize rejecting a NaN or infinity names its row or column: one that
  // holds one (checked when nothing else makes the call invalid).
  std::vector<bool> bad_group;
  if (op == quant && e.v == expectation::invalid && e.tags == std::vector<std::string>{"src_value"}) {
    bad_group.assign(c.channels, false);
    for (std::size_t i = 0; i < c.rows; ++i)
      for (std::size_t j = 0; j < c.cols; ++j) {
        float v;
        std::memcpy(&v, src_store + 4 * (i * c.cols + j), 4);
        if (!std::isfinite(v)) bad_group[c.enum_b == 0 ? 0 : c.enum_b == 1 ? i : j] = true;
      }
  }
  const auto check_group_message = [&](const fp8::invalid_argument& x) {
    if (bad_group.empty() || c.enum_b == 0 || std::string(x.argument()) != "src") return;
    const std::string m = x.what(), word = c.enum_b == 1 ? " in row " : " in column ";
    const std::size_t at = m.find(word);
    std::size_t k = 0, digits = 0;
    for (std::size_t i = at == std::string::npos ? m.size() : at + word.size();
         i < m.size() && m[i] >= '0' && m[i] <= '9'; ++i, ++digits)
      k = std::min<std::size_t>(k * 10 + static_cast<std::size_t>(m[i] - '0'), size_max / 16);
    if (digits == 0) fail("the error names no" + word + "holding a NaN or infinity: " + m);
    if (k >= bad_group.size() || !bad_group[k])
      fail("the error names" + word + std::to_string(k) + ", which holds no NaN or infinity: " + m);
  };

  const auto the_call = [&] {
    switch (op) {
      case amax_f32: scalar_result = fp8::amax(reinterpret_cast<const float*>(src), c.n); break;
      case amax_bf16: scalar_result = fp8::amax(reinterpret_cast<const fp8::bfloat16*>(src), c.n); break;
      case amax_f16: scalar_result = fp8::amax(reinterpret_cast<const fp8::half*>(src), c.n); break;
      case scale_from:
        scalar_result = fp8::scale_from_amax<F>(c.scalar, static_cast<fp8::scale_rounding>(c.enum_a));
        break;
      case scale_exponent: exponent_result = fp8::scale_exponent_from_amax<F>(c.scalar); break;
      case enc_pc_ld:
        fp8::encode_per_channel(reinterpret_cast<const float*>(src), c.src_ld, reinterpret_cast<code*>(dst), c.dst_ld,
                                c.rows, c.cols, reinterpret_cast<const float*>(third), static_cast<fp8::axis>(c.enum_a),
                                static_cast<fp8::overflow>(c.enum_b));
        break;
      case enc_pc_dense:
        fp8::encode_per_channel(reinterpret_cast<const float*>(src), reinterpret_cast<code*>(dst), c.rows, c.cols,
                                reinterpret_cast<const float*>(third), static_cast<fp8::axis>(c.enum_a),
                                static_cast<fp8::overflow>(c.enum_b));
        break;
      case dec_pc_ld:
        fp8::decode_per_channel(reinterpret_cast<const code*>(src), c.src_ld, reinterpret_cast<float*>(dst), c.dst_ld,
                                c.rows, c.cols, reinterpret_cast<const float*>(third), static_cast<fp8::axis>(c.enum_a));
        break;
      case dec_pc_dense:
        fp8::decode_per_channel(reinterpret_cast<const code*>(src), reinterpret_cast<float*>(dst), c.rows, c.cols,
                                reinterpret_cast<const float*>(third), static_cast<fp8::axis>(c.enum_a));
        break;
      case mx_enc_f32: case mx_enc_bf16: case mx_enc_f16: case mx_dec:
        if constexpr (mx_ok) {
          auto* scales = reinterpret_cast<fp8::E8M0*>(third);
          if (op == mx_enc_f32)
            fp8::mx_encode(reinterpret_cast<const float*>(src), reinterpret_cast<code*>(dst), c.n, scales);
          else if (op == mx_enc_bf16)
            fp8::mx_encode(reinterpret_cast<const fp8::bfloat16*>(src), reinterpret_cast<code*>(dst), c.n, scales);
          else if (op == mx_enc_f16)
            fp8::mx_encode(reinterpret_cast<const fp8::half*>(src), reinterpret_cast<code*>(dst), c.n, scales);
          else
            fp8::mx_decode(reinterpret_cast<const code*>(src), reinterpret_cast<float*>(dst), c.n, scales);
        }
        break;
      case sr_f32:
        fp8::encode_stochastic(reinterpret_cast<const float*>(src), reinterpret_cast<code*>(dst), c.n, r.sr_seed,
                               c.scalar, o, index_offset);
        break;
      case sr_bf16:
        fp8::encode_stochastic(reinterpret_cast<const fp8::bfloat16*>(src), reinterpret_cast<code*>(dst), c.n,
                               r.sr_seed, c.scalar, o, index_offset);
        break;
      case sr_f16:
        fp8::encode_stochastic(reinterpret_cast<const fp8::half*>(src), reinterpret_cast<code*>(dst), c.n, r.sr_seed,
                               c.scalar, o, index_offset);
        break;
      case conv:
        with_format(r.format >> 2, [&](auto tag) {
          using FT = typename decltype(tag)::type;
          if (c.default_o)
            fp8::convert(reinterpret_cast<const code*>(src), reinterpret_cast<fp8::fp8<FT>*>(dst), c.n);
          else
            fp8::convert(reinterpret_cast<const code*>(src), reinterpret_cast<fp8::fp8<FT>*>(dst), c.n, o);
        });
        break;
      case conv_f32: case conv_bf16: case conv_f16: case conv_fp8:
        with_elem<F>(convert_source(op), [&](auto from) {
          with_elem<F>(c.target, [&](auto to) {
            using From = typename decltype(from)::type;
            using To = typename decltype(to)::type;
            if constexpr (!(std::is_same<From, float>::value && std::is_same<To, float>::value)) {
              if (c.default_o)
                fp8::convert(reinterpret_cast<const From*>(src), reinterpret_cast<To*>(dst), c.n);
              else
                fp8::convert(reinterpret_cast<const From*>(src), reinterpret_cast<To*>(dst), c.n, o);
            }
          });
        });
        break;
      case quant: {
        fp8::quantize_options options;
        options.per = static_cast<fp8::granularity>(c.enum_b);
        options.rounding = static_cast<fp8::scale_rounding>(c.enum_c);
        options.o = o;
        try {
          fp8::quantize<F>(reinterpret_cast<const float*>(src), c.rows, c.cols, reinterpret_cast<code*>(dst),
                           reinterpret_cast<float*>(third), c.scale_count, options);
        } catch (const fp8::invalid_argument& x) {
          check_group_message(x);
          throw;
        }
        break;
      }
      case dequant:
        fp8::dequantize(reinterpret_cast<const code*>(src), c.rows, c.cols, reinterpret_cast<const float*>(third),
                        c.scale_count, reinterpret_cast<float*>(dst), static_cast<fp8::granularity>(c.enum_b));
        break;
      default:
        fp8::fake_quantize<F>(reinterpret_cast<const float*>(src), reinterpret_cast<float*>(dst), c.n, c.scalar, o);
        break;
    }
  };

  // The source as it was (in-place fake_quantize overwrites it).
  std::vector<unsigned char> src_copy(src_store, src_store + src_held * sb);
  std::vector<unsigned char> third_copy(p.storage(t), p.storage(t) + third_held * third_size);
  const auto check = [&] {
    const auto mismatch = [&](const std::string& where, u64 got, u64 want, u64 in) {
      fail(where + " = " + hex(got) + ", expected " + hex(want) + " (input " + hex(in) + ")");
    };
    const auto src_value = [&](std::size_t i) { return widen(op, src_copy.data() + i * sb); };
    const auto src_bits = [&](std::size_t i) {
      u32 v = 0;
      std::memcpy(&v, src_copy.data() + i * sb, sb);
      return v;
    };
    switch (op) {
      case amax_f32: case amax_bf16: case amax_f16: {
        double m = 0;
        bool nan = false;
        for (std::size_t i = 0; i < c.n; ++i) {
          const double x = src_value(i);
          nan = nan || std::isnan(x);
          m = std::max(m, std::fabs(x));
        }
        const u32 want = nan ? 0x7FC00000u : bits(static_cast<float>(m));
        if (bits(scalar_result) != want) mismatch("amax", bits(scalar_result), want, 0);
        break;
      }
      case scale_from: case scale_exponent: {
        const double max = table_of<F>().max();
        int k = 0;
        if (c.scalar != 0.0f) {
          const double a = static_cast<double>(c.scalar);
          k = -200;
          while (a > std::ldexp(max, k)) ++k;  // the smallest k with a <= max * 2^k
          k = std::max(k, -126);
        }
        if (op == scale_exponent) {
          if (exponent_result != k) mismatch("scale_exponent_from_amax", static_cast<u64>(exponent_result), static_cast<u64>(k), 0);
          break;
        }
        float want = 1.0f;
        if (c.scalar != 0.0f)
          want = c.enum_a == 1 ? std::ldexp(1.0f, k) : std::max(c.scalar / static_cast<float>(max), 0x1p-126f);
        if (bits(scalar_result) != bits(want)) mismatch("scale_from_amax", bits(scalar_result), bits(want), 0);
        break;
      }
      case enc_pc_ld: case enc_pc_dense: case dec_pc_ld: case dec_pc_dense:
        for (std::size_t i = 0; i < c.rows && c.cols != 0; ++i)
          for (std::size_t j = 0; j < c.cols; ++j) {
            float sc;
            std::memcpy(&sc, third_copy.data() + 4 * (c.enum_a == 1 ? j : i), 4);
            const std::size_t si = i * c.src_ld + j, di = i * c.dst_ld + j;
            u32 got = 0, want;
            std::memcpy(&got, dst + di * db, db);
            if (op == enc_pc_ld || op == enc_pc_dense)
              want = ref_encode<F>(static_cast<double>(static_cast<float>(src_value(si)) / sc), c.enum_b == 0);
            else
              want = decode_reference<F>(src_copy[si], sc);
            if (got != want)
              mismatch("dst[" + std::to_string(i) + "][" + std::to_string(j) + "]", got, want, src_bits(si));
          }
        break;
      case mx_enc_f32: case mx_enc_bf16: case mx_enc_f16: {
        std::vector<double> v(c.n);
        for (std::size_t i = 0; i < c.n; ++i) v[i] = src_value(i);
        std::vector<u8> codes(32);
        for (std::size_t b = 0; b * 32 < c.n; ++b) {
          const std::size_t m = std::min<std::size_t>(32, c.n - b * 32);
          u8 scale;
          mx_reference<F>(v, b * 32, m, codes.data(), scale);
          if (third[b] != scale) mismatch("scales[" + std::to_string(b) + "]", third[b], scale, 0);
          for (std::size_t i = 0; i < m; ++i)
            if (dst[b * 32 + i] != codes[i])
              mismatch("dst[" + std::to_string(b * 32 + i) + "]", dst[b * 32 + i], codes[i], src_bits(b * 32 + i));
        }
        break;
      }
      case mx_dec:
        for (std::size_t i = 0; i < c.n; ++i) {
          const u8 sc = third_copy[i / 32];
          u32 got, want;
          std::memcpy(&got, dst + 4 * i, 4);
          if (sc == 0xFF)
            want = 0x7FC00000u;
          else
            want = decode_reference<F>(src_copy[i], sc == 0 ? 0x1p-127f : std::ldexp(1.0f, sc - 127));
          if (got != want) mismatch("dst[" + std::to_string(i) + "]", got, want, src_copy[i]);
        }
        break;
      case sr_f32: case sr_bf16: case sr_f16:
        for (std::size_t i = 0; i < c.n; ++i) {
          const float x = static_cast<float>(src_value(i)) / c.scalar;
          const u8 want = stochastic_reference<F>(x, stochastic_bits(r.sr_seed, index_offset + i), c.enum_a == 0);
          if (dst[i] != want) mismatch("dst[" + std::to_string(i) + "]", dst[i], want, src_bits(i));
        }
        break;
      case conv:
        with_format(r.format >> 2, [&](auto tag) {
          using FT = typename decltype(tag)::type;
          for (std::size_t i = 0; i < c.n; ++i) {
            const u8 want = convert_reference<F, FT>(src_copy[i], c.default_o || c.enum_a == 0);
            if (dst[i] != want) mismatch("dst[" + std::to_string(i) + "]", dst[i], want, src_copy[i]);
            // README: the bulk form equals the scalar element by element.
            const auto x = code::from_bits(src_copy[i]);
            const u8 scalar = (c.default_o ? fp8::convert<fp8::fp8<FT>>(x) : fp8::convert<fp8::fp8<FT>>(x, o)).bits();
            if (scalar != want)
              mismatch(std::string("scalar fp8::convert<fp8<") + FT::name + ">>(src[" + std::to_string(i) + "], o)",
                       scalar, want, src_copy[i]);
          }
        });
        break;
      case conv_f32: case conv_bf16: case conv_f16: case conv_fp8: {
        // Without o, To's own rule: IEEE (+-Inf) for bfloat16 and half, saturate for FP8.
        const bool saturate = c.default_o ? c.target == e_fp8 : c.enum_a == 0;
        with_elem<F>(convert_source(op), [&](auto from) {
          with_elem<F>(c.target, [&](auto to) {
            using From = typename decltype(from)::type;
            using To = typename decltype(to)::type;
            for (std::size_t i = 0; i < c.n; ++i) {
              const unsigned char* in = src_copy.data() + i * sb;
              const u32 want = convert_wide_reference<F>(convert_source_value<F>(convert_source(op), in), c.target,
                                                         saturate);
              u32 got = 0;
              std::memcpy(&got, dst + i * db, db);
              if (got != want) mismatch("dst[" + std::to_string(i) + "]", got, want, src_bits(i));
              // README: the bulk form equals the scalar convert element by element.
              From x;
              std::memcpy(&x, in, sizeof x);
              const To y = c.default_o ? fp8::convert<To>(x) : fp8::convert<To>(x, o);
              u32 scalar = 0;
              std::memcpy(&scalar, &y, sizeof y);
              if (scalar != want)
                mismatch(std::string("scalar fp8::convert<") + elem_names[c.target] + ">(src[" + std::to_string(i) +
                             "]" + (c.default_o ? ")" : ", o)"),
                         scalar, want, src_bits(i));
            }
          });
        });
        break;
      }
      case quant: {
        const auto group = [&](std::size_t i, std::size_t j) { return c.enum_b == 0 ? 0 : c.enum_b == 1 ? i : j; };
        std::vector<double> amax(c.channels, 0.0);
        for (std::size_t i = 0; i < c.rows && !empty; ++i)
          for (std::size_t j = 0; j < c.cols; ++j)
            amax[group(i, j)] = std::max(amax[group(i, j)], std::fabs(src_value(i * c.cols + j)));
        std::vector<float> want_scale(c.channels);
        for (std::size_t g = 0; g < c.channels; ++g) {
          want_scale[g] = scale_reference<F>(amax[g], c.enum_c == 1);
          float got;
          std::memcpy(&got, third + 4 * g, 4);
          if (bits(got) != bits(want_scale[g]))
            mismatch("scales[" + std::to_string(g) + "] (amax " + num(amax[g]) + ")", bits(got), bits(want_scale[g]),
                     0);
        }
        for (std::size_t i = 0; i < c.rows && !empty; ++i)
          for (std::size_t j = 0; j < c.cols; ++j) {
            const std::size_t k = i * c.cols + j;
            const float x = static_cast<float>(src_value(k)) / want_scale[group(i, j)];
            const u8 want = ref_encode<F>(static_cast<double>(x), c.enum_a == 0);
            if (dst[k] != want)
              mismatch("dst[" + std::to_string(i) + "][" + std::to_string(j) + "]", dst[k], want, src_bits(k));
          }
        break;
      }
      case dequant:
        for (std::size_t i = 0; i < c.rows && !empty; ++i)
          for (std::size_t j = 0; j < c.cols; ++j) {
            const std::size_t k = i * c.cols + j, g = c.enum_b == 0 ? 0 : c.enum_b == 1 ? i : j;
            float sc;
            std::memcpy(&sc, third_copy.data() + 4 * g, 4);
            u32 got;
            std::memcpy(&got, dst + 4 * k, 4);
            const u32 want = decode_reference<F>(src_copy[k], sc);
            if (got != want)
              mismatch("dst[" + std::to_string(i) + "][" + std::to_string(j) + "]", got, want, src_copy[k]);
          }
        break;
      default:
        for (std::size_t i = 0; i < c.n; ++i) {
          const float x = static_cast<float>(src_value(i)) / c.scalar;
          const u32 want = decode_reference<F>(ref_encode<F>(static_cast<double>(x), c.enum_a == 0), c.scalar);
          u32 got;
          std::memcpy(&got, dst + 4 * i, 4);
          if (got != want) mismatch("dst[" + std::to_string(i) + "]", got, want, src_bits(i));
        }
        break;
    }
  };
  if (op == fake && c.src == c.dst && c.n != 0) e.note("in place");
  if (op == conv_fp8 && !c.default_o && c.enum_a == 0 && c.target != e_f32 && std::is_same<F, fp8::E5M2>::value)
    e.tag("bulk_inf_saturate");  // a fixed bug's class (README)
  execute(e, p, the_call, check);
}

void run_input(const u8* data, std::size_t size) {
  reader in{data, size};
  raw r;
  visit(in, r);
  filler f(in.rest(), in.rest_size(), r.seed);
  switch (r.format % 4) {
    case 0: run<fp8::E4M3>(r, f); break;
    case 1: run<fp8::E5M2>(r, f); break;
    case 2: run<fp8::E4M3FNUZ>(r, f); break;
    default: run<fp8::E5M2FNUZ>(r, f); break;
  }
}

// ---------------------------------------------------------------- seeds
constexpr u32 nice(u32 index) { return index; }                    // decode_float: 1, 0.5, 2, 0.25, 3, ...
constexpr u32 special(u32 index) { return 0xA0000000u | index; }  // 0, -0, NaN, -NaN, Inf, -Inf, FLT_MAX, ...
constexpr u16 huge(u16 index) { return static_cast<u16>(0xF000u | index); }
constexpr u8 scenario_of(unsigned s) { return static_cast<u8>(s << 4); }

std::vector<seed<raw>> seeds() {
  std::vector<seed<raw>> v;
  const auto V = expectation::valid, I = expectation::invalid;
  const char* fmt[] = {"e4m3", "e5m2", "e4m3fnuz", "e5m2fnuz"};
  const char* ops[] = {"amax_f32", "amax_bf16", "amax_f16", "scale_from_amax", "scale_exponent",
                       "encode_pc_ld", "encode_pc_dense", "decode_pc_ld", "decode_pc_dense",
                       "mx_encode_f32", "mx_encode_bf16", "mx_encode_f16", "mx_decode",
                       "stochastic_f32", "stochastic_bf16", "stochastic_f16", "fake_quantize",
                       "convert", "quantize", "dequantize"};
  for (u8 o = 0; o < op_count; ++o) {
    if (is_convert(o)) continue;  // every pair of types, below
    for (u8 fm = 0; fm < 4; ++fm) {
      const bool mx = o >= mx_enc_f32 && o <= mx_dec;
      if (mx && fm >= 2) continue;
      if (!mx && fm != (o % 4) && fm != ((o + 1) % 4)) continue;  // two formats per operation
      raw r;
      r.op = o;
      r.format = fm;
      r.rows = static_cast<u16>(o >= enc_pc_ld && o <= dec_pc_dense ? 3 + o + fm : 20 + 37 * (o + fm) % 250);
      r.cols = static_cast<u16>(5 + 7 * fm + o);
      r.src_ld = static_cast<u16>(fm);  // pads 0..3 (decode_ld)
      r.dst_ld = static_cast<u16>(7 - fm);
      r.scalar = o == scale_from || o == scale_exponent ? nice(2 + fm) : nice((o + fm) % 9);
      r.enum_a = static_cast<u8>((o + fm) % 2);
      r.enum_b = static_cast<u8>(fm % 2);
      r.layout = static_cast<u8>((o * 5 + fm) % 16);
      r.values = static_cast<u8>((o + 2 * fm) % 6);
      r.scales = static_cast<u8>(fm + o);
      r.sr_seed = 0x1234567890ABCDEFull * (o + 1u);
      r.index_offset = static_cast<u16>(o * 3 + fm);
      r.seed = 100u + o * 4u + fm;
      if (o == quant || o == dequant) {
        r.enum_b = static_cast<u8>((o + fm) % 3);       // per: tensor, rows or columns
        r.values = static_cast<u8>(fm % 2 == 0 ? 1 : 3);  // finite values (NaN and Inf: invalid)
      }
      v.push_back({std::string("valid_") + ops[o] + "_" + fmt[fm], r, V});
    }
  }
  raw base;
  base.rows = 40;
  base.cols = 9;
  base.values = 2;
  base.seed = 5;
  auto with = [&](const std::string& name, int verdict, u8 op, auto&& edit) {
    raw r = base;
    r.op = op;
    edit(r);
    v.push_back({name, r, verdict});
  };
  const auto nothing = [](raw&) {};
  with("valid_amax_empty_null", V, amax_f32, [](raw& r) { r.rows = 0; r.layout = scenario_of(src_null); });
  with("valid_amax_raw_bits", V, amax_f32, [](raw& r) { r.values = 0; r.rows = 300; });
  with("valid_scale_from_amax_zero", V, scale_from, [](raw& r) { r.scalar = special(0); });
  with("valid_scale_from_amax_tiny_pow2", V, scale_from, [](raw& r) { r.scalar = special(9); r.enum_a = 1; });
  with("valid_scale_from_amax_flt_max_pow2", V, scale_from, [](raw& r) { r.scalar = special(6); r.enum_a = 1; });
  with("valid_scale_exponent_flt_max", V, scale_exponent, [](raw& r) { r.scalar = special(6); });
  with("valid_fake_quantize_in_place", V, fake, [](raw& r) { r.layout = scenario_of(same); r.scalar = nice(7); });
  with("valid_stochastic_index_wrap", V, sr_f32, [](raw& r) { r.index_offset = huge(2); r.enum_a = 1; });
  with("valid_stochastic_index_2p32", V, sr_bf16, [](raw& r) { r.index_offset = huge(14); });
  with("valid_mx_encode_extremes", V, mx_enc_f32, [](raw& r) { r.values = 3; r.rows = 97; });
  with("valid_pc_columns_subnormal_scale", V, enc_pc_ld, [](raw& r) { r.enum_a = 1; r.bad_kind = 6; });
  with("valid_pc_rows_empty_null", V, dec_pc_ld, [](raw& r) { r.rows = 0; r.layout = scenario_of(src_null); });
  with("invalid_amax_null", I, amax_bf16, [](raw& r) { r.layout = scenario_of(src_null); });
  with("invalid_amax_count_overflow", I, amax_f32, [](raw& r) { r.rows = huge(2); });
  with("invalid_scale_from_amax_negative", I, scale_from, [](raw& r) { r.scalar = nice(9); });
  with("invalid_scale_from_amax_nan", I, scale_from, [](raw& r) { r.scalar = special(2); });
  with("invalid_scale_from_amax_inf", I, scale_exponent, [](raw& r) { r.scalar = special(4); });
  with("invalid_scale_rounding_enum", I, scale_from, [](raw& r) { r.enum_a = 0xF0; });
  with("invalid_pc_axis_enum", I, enc_pc_ld, [](raw& r) { r.enum_a = 0xF1; });
  with("invalid_pc_overflow_enum", I, enc_pc_dense, [](raw& r) { r.enum_b = 0xF3; });
  with("invalid_pc_src_ld", I, enc_pc_ld, [](raw& r) { r.src_ld = 0xC001; });
  with("invalid_pc_dst_ld", I, dec_pc_ld, [](raw& r) { r.dst_ld = 0xC002; });
  with("invalid_pc_ld_overflow", I, dec_pc_ld, [](raw& r) { r.dst_ld = huge(2); });
  with("invalid_pc_scale_zero", I, enc_pc_ld, [](raw& r) { r.bad_kind = 1; r.bad_index = 3; });
  with("invalid_pc_scale_negative", I, dec_pc_dense, [](raw& r) { r.bad_kind = 3; r.enum_a = 1; });
  with("invalid_pc_scale_nan", I, enc_pc_dense, [](raw& r) { r.bad_kind = 4; r.bad_index = 39; });
  with("invalid_pc_scale_inf", I, dec_pc_ld, [](raw& r) { r.bad_kind = 5; });
  with("invalid_pc_scale_null", I, enc_pc_ld, [](raw& r) { r.layout = scenario_of(third_null); });
  with("invalid_pc_dst_in_src", I, enc_pc_ld, [](raw& r) { r.layout = scenario_of(dst_in_src); r.offset = 40; });
  with("invalid_pc_scale_in_dst", I, dec_pc_ld, [](raw& r) { r.layout = scenario_of(third_in_dst); r.offset = 12; });
  with("invalid_mx_scales_null", I, mx_enc_f32, [](raw& r) { r.layout = scenario_of(third_null); });
  with("invalid_mx_scales_in_dst", I, mx_enc_bf16, [](raw& r) { r.layout = scenario_of(third_in_dst); r.offset = 3; });
  with("invalid_mx_decode_scales_in_dst", I, mx_dec, [](raw& r) { r.layout = scenario_of(third_in_dst); r.offset = 8; });
  with("invalid_mx_dst_in_src", I, mx_enc_f16, [](raw& r) { r.layout = scenario_of(dst_in_src); r.offset = 9; });
  with("invalid_mx_count_overflow", I, mx_dec, [](raw& r) { r.rows = huge(2); });
  with("invalid_stochastic_scale_nan", I, sr_f32, [](raw& r) { r.scalar = special(2); });
  with("invalid_stochastic_overflow_enum", I, sr_f16, [](raw& r) { r.enum_a = 0xF5; });
  with("invalid_stochastic_dst_null", I, sr_bf16, [](raw& r) { r.layout = scenario_of(dst_null); });
  with("invalid_fake_quantize_partial_overlap", I, fake, [](raw& r) { r.layout = scenario_of(dst_in_src); r.offset = 4; });
  with("invalid_fake_quantize_scale_zero", I, fake, [](raw& r) { r.scalar = special(0); });
  with("invalid_fake_quantize_enum", I, fake, [](raw& r) { r.enum_a = 0xF2; });
  with("invalid_fake_quantize_count_overflow", I, fake, [](raw& r) { r.rows = huge(7); });

  // convert: every pair of formats (from: bits 0-1 of format, to: bits 2-3),
  // both overflow modes, across the 256-element blocks.
  for (u8 from = 0; from < 4; ++from)
    for (u8 to = 0; to < 4; ++to) {
      const unsigned k = from * 4u + to;
      raw r;
      r.op = conv;
      r.format = static_cast<u8>(from | to << 2);
      r.rows = static_cast<u16>(k % 3 == 0 ? 300 : 20 + 17 * k);
      r.enum_a = static_cast<u8>((from + to) % 2);
      r.layout = static_cast<u8>(k % 16);
      r.seed = 300u + k;
      v.push_back({std::string("valid_convert_") + fmt[from] + "_to_" + fmt[to], r, V});
    }
  const auto convert_seed = [&](const std::string& name, int verdict, u8 format, auto&& edit) {
    with(name, verdict, conv, [&](raw& r) {
      r.format = format;
      edit(r);
    });
  };
  convert_seed("valid_convert_empty_null", V, 1 | 0 << 2, [](raw& r) { r.rows = 0; r.layout = scenario_of(src_null); });
  convert_seed("invalid_convert_src_null", I, 0 | 1 << 2, [](raw& r) { r.layout = scenario_of(src_null); });
  convert_seed("invalid_convert_dst_null", I, 2 | 3 << 2, [](raw& r) { r.layout = scenario_of(dst_null); });
  convert_seed("invalid_convert_in_place", I, 1 | 1 << 2, [](raw& r) { r.layout = scenario_of(same); });
  convert_seed("invalid_convert_dst_in_src", I, 3 | 0 << 2, [](raw& r) {
    r.layout = scenario_of(dst_in_src);
    r.offset = 17;
  });
  convert_seed("invalid_convert_overflow_enum", I, 0 | 2 << 2, [](raw& r) { r.enum_a = 0xF3; });
  convert_seed("invalid_convert_overflow_enum_empty", I, 2 | 0 << 2, [](raw& r) { r.enum_a = 0xF0; r.rows = 0; });
  convert_seed("invalid_convert_count_overflow", I, 1 | 2 << 2, [](raw& r) { r.rows = huge(2); });
  convert_seed("valid_convert_without_o", V, 1 | 0 << 2, [](raw& r) {
    r.enum_b = 1;  // the overload without o: saturate
    r.rows = 300;
  });
  convert_seed("valid_convert_without_o_enum_unused", V, 0 | 3 << 2, [](raw& r) {
    r.enum_b = 1;
    r.enum_a = 0xF3;  // not passed
  });

  // Bulk convert among float, bfloat16, half and FP8: every pair of types
  // (format bits 2-3 pick the target, convert_target), with o saturate,
  // non_saturating and not passed; n across SIMD tails and the 256 blocks;
  // values of every mode, the target's edges (6: half, 7: bfloat16) included.
  const u8 wide_ops[] = {conv_f32, conv_bf16, conv_f16, conv_fp8};
  const char* o_names[] = {"saturate", "non_saturating", "without_o"};
  for (u8 so = 0; so < 4; ++so)
    for (u8 t = 0; t < 4; ++t) {
      const u8 op = wide_ops[so];
      if ((op == conv_f32 && t == e_f32) || (op == conv_fp8 && t == e_fp8)) continue;  // the same pair again
      const int target = convert_target(op, static_cast<unsigned>(t) << 2);
      for (u8 om = 0; om < 3; ++om) {
        const unsigned k = so * 12u + t * 3u + om;
        raw r;
        r.op = op;
        r.format = static_cast<u8>((k % 4) | static_cast<unsigned>(t) << 2);
        r.rows = static_cast<u16>(k % 5 == 0 ? 300 : 1 + 23 * k % 190);
        r.enum_a = static_cast<u8>(om == 1 ? 1 : om == 2 ? 0xF1 : 0);  // without o: an unused bad value
        r.enum_b = static_cast<u8>(om == 2 ? 1 : 0);
        r.layout = static_cast<u8>(k % 16);
        r.values = static_cast<u8>(target == e_f16 ? (om == 0 ? 6 : k % 8) : target == e_bf16 ? (om == 0 ? 7 : k % 8) : k % 8);
        r.seed = 400u + k;
        const std::string from = elem_names[convert_source(op)], to = elem_names[target];
        v.push_back({"valid_convert_" + (from == "fp8" ? std::string(fmt[k % 4]) : from) + "_to_" +
                         (to == "fp8" ? std::string(fmt[k % 4]) : to) + "_" + o_names[om],
                     r, V});
      }
    }
  // Every FP8 format from and to each wider type (o saturate).
  for (u8 so = 0; so < 4; ++so)
    for (u8 fm = 0; fm < 4; ++fm) {
      raw r;
      r.op = wide_ops[so];
      r.format = static_cast<u8>(fm | (so == 3 ? (fm % 3u) << 2 : 3u << 2));
      r.rows = static_cast<u16>(37 + 61 * fm + so);
      r.layout = static_cast<u8>((so + fm) % 16);
      r.values = static_cast<u8>((fm + so) % 6);
      r.seed = 500u + so * 4u + fm;
      const int target = convert_target(r.op, r.format);
      const std::string from = elem_names[convert_source(r.op)], to = elem_names[target];
      v.push_back({"valid_convert_" + (from == "fp8" ? std::string(fmt[fm]) : from) + "_to_" +
                       (to == "fp8" ? std::string(fmt[fm]) : to) + "_formats",
                   r, V});
    }
  const auto wide_seed = [&](const std::string& name, int verdict, u8 op, u8 format, auto&& edit) {
    with(name, verdict, op, [&](raw& r) {
      r.format = format;
      edit(r);
    });
  };
  const u8 to_f32 = 0 << 2, to_bf16 = 1 << 2, to_f16 = 2 << 2, to_fp8 = 3 << 2;
  wide_seed("valid_convert_half_empty_null", V, conv_f16, to_f32, [](raw& r) {
    r.rows = 0;
    r.layout = scenario_of(src_null);
  });
  wide_seed("valid_convert_float_to_half_raw_bits", V, conv_f32, to_f16, [](raw& r) {
    r.values = 0;
    r.enum_a = 1;
    r.rows = 300;
  });
  wide_seed("valid_convert_half_to_bfloat16_raw_bits", V, conv_f16, to_bf16, [](raw& r) { r.values = 0; r.rows = 300; });
  wide_seed("valid_convert_bfloat16_to_half_saturate_edges", V, conv_bf16, to_f16, [](raw& r) { r.values = 6; });
  wide_seed("valid_convert_half_to_half_raw_bits", V, conv_f16, to_f16, [](raw& r) { r.values = 0; r.rows = 200; });
  wide_seed("valid_convert_float_to_bfloat16_saturate_edges", V, conv_f32, to_bf16, [](raw& r) { r.values = 7; });
  // The fixed bug bulk_inf_saturate (E5M2 +-Inf codes among the 300).
  wide_seed("valid_convert_e5m2_to_half_saturate_inf", V, conv_fp8, 1 | to_f16, [](raw& r) { r.rows = 300; r.seed = 6; });
  wide_seed("valid_convert_e5m2_to_bfloat16_saturate_inf", V, conv_fp8, 1 | to_bf16, [](raw& r) { r.rows = 300; r.seed = 6; });
  wide_seed("invalid_convert_float_src_null", I, conv_f32, to_f16, [](raw& r) { r.layout = scenario_of(src_null); });
  wide_seed("invalid_convert_e5m2_to_float_dst_null", I, conv_fp8, 1 | to_f32, [](raw& r) {
    r.layout = scenario_of(dst_null);
  });
  wide_seed("invalid_convert_half_to_bfloat16_in_place", I, conv_f16, to_bf16, [](raw& r) {
    r.layout = scenario_of(same);
  });
  wide_seed("invalid_convert_bfloat16_to_float_dst_in_src", I, conv_bf16, to_f32, [](raw& r) {
    r.layout = scenario_of(dst_in_src);
    r.offset = 50;
  });
  wide_seed("invalid_convert_float_to_e4m3_dst_in_src", I, conv_f32, 0 | to_fp8, [](raw& r) {
    r.layout = scenario_of(dst_in_src);
    r.offset = 157;  // the last bytes: 40 FP8 codes from byte 156 overlap only the last float
  });
  wide_seed("invalid_convert_e4m3fnuz_to_half_overflow_enum", I, conv_fp8, 2 | to_f16, [](raw& r) { r.enum_a = 0xF2; });
  wide_seed("invalid_convert_bfloat16_overflow_enum_empty", I, conv_bf16, to_bf16, [](raw& r) {
    r.enum_a = 0xF0;
    r.rows = 0;
  });
  wide_seed("invalid_convert_float_count_overflow", I, conv_f32, to_bf16, [](raw& r) { r.rows = huge(7); });
  wide_seed("invalid_convert_half_to_float_count_overflow", I, conv_f16, to_f32, [](raw& r) { r.rows = huge(7); });
  wide_seed("invalid_convert_e5m2fnuz_to_bfloat16_count_overflow", I, conv_fp8, 3 | to_bf16, [](raw& r) {
    r.rows = huge(5);  // size_max / 2 + 1 codes: the bfloat16s overflow
  });
  // 2^40 elements fit size_t as bytes, but the extents of two heap buffers overlap.
  wide_seed("invalid_convert_bfloat16_n_2p40_extents_overlap", I, conv_bf16, to_f16, [](raw& r) { r.rows = huge(17); });

  // quantize / dequantize: a 12 x 7 tensor of moderate values by default.
  const auto quant_seed = [&](const std::string& name, int verdict, u8 op, u8 format, u8 per, auto&& edit) {
    with(name, verdict, op, [&](raw& r) {
      r.format = format;
      r.rows = 12;
      r.cols = 7;
      r.values = 1;
      r.enum_b = per;
      edit(r);
    });
  };
  const u8 tensor = 0, by_rows = 1, by_columns = 2;  // per
  const u16 spare4 = 7, short1 = 0xC000;             // src_ld, as scale_count: 4 spare, 1 short
  const auto place = [](unsigned scenario, u16 offset) {
    return [=](raw& r) {
      r.layout = scenario_of(scenario);
      r.offset = offset;
    };
  };
  const auto edit = [](u8 kind, u16 index) {  // quantize: the source edit; dequantize: fill_scales' bad value
    return [=](raw& r) {
      r.bad_kind = kind;
      r.bad_index = index;
    };
  };
  const u8 q = quant, dq = dequant;
  quant_seed("valid_quantize_columns_pow2_nonsat", V, q, 3, by_columns, [](raw& r) {
    r.scales = 1;  // options.rounding: power_of_two
    r.enum_a = 1;  // options.o: non_saturating
    r.values = 3;
  });
  quant_seed("valid_quantize_rows_spare_scales", V, q, 0, by_rows, [&](raw& r) { r.src_ld = spare4; });
  quant_seed("valid_quantize_zero_row", V, q, 1, by_rows, edit(7, 5));
  quant_seed("valid_quantize_zero_column_pow2", V, q, 2, by_columns, [](raw& r) { r.bad_kind = 8; r.scales = 1; });
  quant_seed("valid_quantize_zero_tensor", V, q, 0, tensor, edit(9, 0));
  quant_seed("valid_quantize_tiny_clamped", V, q, 1, by_rows, [](raw& r) { r.bad_kind = 10; r.values = 4; });
  quant_seed("valid_quantize_tiny_clamped_pow2", V, q, 3, tensor, [](raw& r) { r.bad_kind = 10; r.scales = 1; });
  quant_seed("valid_quantize_flt_max_nonsat", V, q, 0, tensor, [](raw& r) { r.bad_kind = 5; r.enum_a = 1; });
  quant_seed("valid_quantize_flt_max_pow2", V, q, 1, by_columns, [](raw& r) { r.bad_kind = 5; r.scales = 1; });
  quant_seed("valid_quantize_subnormal", V, q, 2, by_rows, edit(6, 40));
  quant_seed("valid_quantize_empty_null", V, q, 0, by_rows, [](raw& r) {
    r.rows = 0;
    r.layout = scenario_of(src_null);
  });
  quant_seed("valid_quantize_one_column", V, q, 2, by_rows, [](raw& r) { r.cols = 1; r.rows = 100; });
  quant_seed("invalid_quantize_per_enum", I, q, 0, 0xF0, nothing);
  quant_seed("invalid_quantize_rounding_enum", I, q, 1, by_rows, [](raw& r) { r.scales = 0xF1; });
  quant_seed("invalid_quantize_overflow_enum", I, q, 2, by_columns, [](raw& r) { r.enum_a = 0xF2; });
  quant_seed("invalid_quantize_enum_empty", I, q, 3, tensor, [](raw& r) { r.enum_a = 0xF4; r.cols = 0; });
  quant_seed("invalid_quantize_scale_count_rows", I, q, 0, by_rows, [&](raw& r) { r.src_ld = short1; });
  quant_seed("invalid_quantize_scale_count_tensor", I, q, 1, tensor, [&](raw& r) { r.src_ld = short1; });
  quant_seed("invalid_quantize_scale_count_columns", I, q, 2, by_columns, [](raw& r) { r.src_ld = 0xC002; });
  quant_seed("invalid_quantize_scales_null", I, q, 3, by_rows, place(third_null, 0));
  quant_seed("invalid_quantize_src_null", I, q, 0, tensor, place(src_null, 0));
  quant_seed("invalid_quantize_dst_null", I, q, 1, by_columns, place(dst_null, 0));
  quant_seed("invalid_quantize_nan_row", I, q, 0, by_rows, edit(1, 30));
  quant_seed("invalid_quantize_negative_nan_column", I, q, 1, by_columns, edit(2, 50));
  quant_seed("invalid_quantize_inf_tensor", I, q, 2, tensor, edit(3, 83));
  quant_seed("invalid_quantize_negative_inf_row", I, q, 3, by_rows, edit(4, 0));
  quant_seed("invalid_quantize_specials", I, q, 0, by_columns, [](raw& r) {
    r.values = 2;  // one in 16 a special value
    r.rows = 60;
    r.cols = 40;
  });
  quant_seed("invalid_quantize_count_overflow", I, q, 1, by_rows, [](raw& r) { r.rows = huge(2); });
  quant_seed("invalid_quantize_dst_in_src", I, q, 2, by_rows, place(dst_in_src, 12));
  quant_seed("invalid_quantize_in_place", I, q, 3, tensor, place(same, 0));
  quant_seed("invalid_quantize_scales_in_src", I, q, 0, by_columns, place(third_in_src, 20));
  quant_seed("invalid_quantize_scales_in_dst", I, q, 1, by_rows, place(third_in_dst, 5));
  quant_seed("invalid_quantize_scale_count_extent", I, q, 2, tensor, [](raw& r) { r.src_ld = huge(2); });
  quant_seed("valid_dequantize_columns", V, dq, 2, by_columns, [](raw& r) { r.scales = 2; });
  quant_seed("valid_dequantize_scales_in_src", V, dq, 3, by_rows, place(third_in_src, 3));
  quant_seed("valid_dequantize_bad_spare_scale", V, dq, 0, by_rows, [&](raw& r) {
    r.src_ld = spare4;
    r.bad_kind = 1;
    r.bad_index = 14;  // a zero among the 4 spare scales, never read
  });
  quant_seed("valid_dequantize_subnormal_scale", V, dq, 1, tensor, edit(6, 0));
  quant_seed("valid_dequantize_empty_null", V, dq, 1, by_columns, [](raw& r) {
    r.cols = 0;
    r.layout = scenario_of(dst_null);
  });
  quant_seed("invalid_dequantize_per_enum", I, dq, 2, 0xF1, nothing);
  quant_seed("invalid_dequantize_scale_count", I, dq, 3, by_columns, [&](raw& r) { r.src_ld = short1; });
  quant_seed("invalid_dequantize_scales_null", I, dq, 0, tensor, place(third_null, 0));
  quant_seed("invalid_dequantize_src_null", I, dq, 1, by_rows, place(src_null, 0));
  quant_seed("invalid_dequantize_dst_in_src", I, dq, 2, tensor, place(dst_in_src, 7));
  quant_seed("invalid_dequantize_count_overflow", I, dq, 3, by_columns, [](raw& r) { r.cols = huge(5); });
  quant_seed("invalid_dequantize_scale_zero", I, dq, 0, tensor, edit(1, 0));
  quant_seed("invalid_dequantize_scale_negative_rows", I, dq, 1, by_rows, edit(3, 11));
  quant_seed("invalid_dequantize_scale_nan_columns", I, dq, 2, by_columns, edit(4, 2));
  quant_seed("invalid_dequantize_scales_in_dst_tensor", I, dq, 3, tensor, place(third_in_dst, 8));
  quant_seed("invalid_dequantize_scales_in_dst_rows", I, dq, 0, by_rows, place(third_in_dst, 16));
  (void)nothing;
  return v;
}

}  // namespace

FZ_ENTRY_POINTS((void)0)
