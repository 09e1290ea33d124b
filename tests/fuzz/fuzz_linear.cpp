// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness for the integer quantizer of dyadic/linear.hpp (ONNX
// QuantizeLinear / DequantizeLinear, docs/dyadic.md "Integer quantization"):
// quantize_linear (float, bfloat16 and half sources), dequantize_linear and
// fake_quantize_linear (in place too) to and from int8, uint8, int4 and
// uint4, per tensor and per channel (rows or columns, dense or with leading
// dimensions, 4-bit leading dimensions in nibbles, zero points null or not),
// and linear_params_from_range (both mappings), with valid and invalid
// counts, leading dimensions, scales, zero points, enums, null and
// overlapping buffers. The reference is the ONNX definition written out
// here: the float32 quotient x / s, std::nearbyint of it in double (ties to
// even), plus the zero point, saturated; NaN to the zero point; (q - z) * s
// as one float rounding; 4-bit codes packed low nibble first, computed into
// a copy of the output buffer so that every byte the call must not touch
// (gaps between rows, the other nibble of a shared byte) is checked too.
#include <cfloat>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <fp8/fp8.hpp>

#include "fuzz_common.hpp"

namespace {

using namespace fz;

constexpr std::size_t max_elements = 4096;  // the most an input allocates per buffer

// The check (a lambda over the call's locals) carries no coverage
// instrumentation and is not inlined into the instrumented decoding.
#define FZ_REFERENCE __attribute__((no_sanitize("coverage"), noinline))
constexpr std::int32_t int_min = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t int_max = std::numeric_limits<std::int32_t>::max();

enum op_kind {
  q_tensor, dq_tensor, fake_tensor,
  q_pc_ld, q_pc_dense, dq_pc_ld, dq_pc_dense, fake_pc_ld, fake_pc_dense,
  params_range,
  op_count
};
const char* const op_names[] = {"quantize_linear", "dequantize_linear", "fake_quantize_linear",
                                "quantize_linear_per_channel (leading dimensions)",
                                "quantize_linear_per_channel (dense)",
                                "dequantize_linear_per_channel (leading dimensions)",
                                "dequantize_linear_per_channel (dense)",
                                "fake_quantize_linear_per_channel (leading dimensions)",
                                "fake_quantize_linear_per_channel (dense)", "linear_params_from_range"};

struct raw {
  u8 op = 0, out = 0, src_type = 0;
  u16 rows = 0, cols = 0;        // rows is n for the per-tensor calls
  u16 src_ld = 0, dst_ld = 0;    // decode_ld (in elements; nibbles for 4-bit codes)
  u32 scale = 0;                 // decode_float: the per-tensor scale
  u32 zero_point = 0;            // decode_zero_point: the per-tensor zero point
  u8 axis = 0, mapping = 0;      // decode_enum
  u32 range_min = 0, range_max = 0;  // decode_float
  u8 layout = 0;                 // bits 0-1 src shift, 2-3 dst shift (elements); 4-7 scenario
  u16 offset = 0;                // aliasing scenarios
  u8 values = 0;                 // source distribution (gen_value)
  u8 scales = 0, bad_kind = 0;   // fill_scales
  u16 bad_index = 0;
  u8 zps = 0, zp_bad = 0;        // per-channel zero points: mode, one bad value
  u16 zp_bad_index = 0;
  u64 seed = 0;
};
template <class IO>
void visit(IO& io, raw& r) {
  io(r.op); io(r.out); io(r.src_type);
  io(r.rows); io(r.cols); io(r.src_ld); io(r.dst_ld);
  io(r.scale); io(r.zero_point); io(r.axis); io(r.mapping);
  io(r.range_min); io(r.range_max);
  io(r.layout); io(r.offset); io(r.values);
  io(r.scales); io(r.bad_kind); io(r.bad_index);
  io(r.zps); io(r.zp_bad); io(r.zp_bad_index);
  io(r.seed);
}

// Buffer scenarios (layout >> 4); the others leave every buffer separate.
enum scenario {
  zp_in_dst = 8, scale_in_dst = 9, src_null = 10, dst_null = 11, scale_null = 12, dst_in_src = 13,
  zp_null = 14, same = 15
};

// ---------------------------------------------------------------- output types
template <class Out>
struct out_info;
template <>
struct out_info<std::int8_t> {
  static constexpr int lo = -128, hi = 127, bits = 8;
  static constexpr const char* name = "std::int8_t";
};
template <>
struct out_info<std::uint8_t> {
  static constexpr int lo = 0, hi = 255, bits = 8;
  static constexpr const char* name = "std::uint8_t";
};
template <>
struct out_info<fp8::int4> {
  static constexpr int lo = -8, hi = 7, bits = 4;
  static constexpr const char* name = "fp8::int4";
};
template <>
struct out_info<fp8::uint4> {
  static constexpr int lo = 0, hi = 15, bits = 4;
  static constexpr const char* name = "fp8::uint4";
};

// A zero point: mostly inside [lo, hi], sometimes just outside or extreme.
std::int32_t decode_zero_point(u32 raw, int lo, int hi) {
  if (raw < 0xE0000000u) return lo + static_cast<std::int32_t>(raw % static_cast<u32>(hi - lo + 1));
  const std::int32_t special[] = {lo - 1, hi + 1, int_min, int_max, -129, 256, 16, -9, 128, -1, lo, hi};
  return special[(raw & 0xFFu) % (sizeof special / sizeof special[0])];
}

// Storage bytes of `count` codes of `bits` bits (exact, no wrap).
u128 code_bytes(u128 count, int bits) { return bits == 4 ? count / 2 + count % 2 : count; }

// ---------------------------------------------------------------- the reference (ONNX)
// QuantizeLinear of one float: the float32 quotient, nearest integer with
// ties to even (std::nearbyint in the default rounding mode, in double, where
// every float is exact), plus z, saturated; NaN gives z.
FZ_NO_COVERAGE int ref_quantize(float x, float scale, std::int32_t z, int lo, int hi) {
  const float q = x / scale;
  double v = static_cast<double>(z);
  if (!std::isnan(q)) v += std::nearbyint(static_cast<double>(q));  // +-inf stays +-inf
  if (v < lo) return lo;
  if (v > hi) return hi;
  return static_cast<int>(v);
}
// DequantizeLinear: (q - z) has at most 9 bits and scale 24, so the double
// product is exact and the cast to float is the one rounding.
FZ_NO_COVERAGE float ref_dequantize(int q, float scale, std::int32_t z) {
  return static_cast<float>(static_cast<double>(static_cast<long long>(q) - z) * static_cast<double>(scale));
}
// A code stored in a buffer: byte k (8-bit) or nibble k, low nibble first.
FZ_NO_COVERAGE int read_code(const u8* p, std::size_t k, int bits, bool is_signed) {
  if (bits == 8) return is_signed ? static_cast<int>(static_cast<std::int8_t>(p[k])) : static_cast<int>(p[k]);
  const int nib = (p[k / 2] >> (4 * (k % 2))) & 15;
  return is_signed ? (nib ^ 8) - 8 : nib;
}
FZ_NO_COVERAGE void write_code(u8* p, std::size_t k, int code, int bits) {
  if (bits == 8) {
    p[k] = static_cast<u8>(code & 0xFF);
    return;
  }
  const unsigned sh = 4u * static_cast<unsigned>(k % 2);
  p[k / 2] = static_cast<u8>((p[k / 2] & ~(0xFu << sh)) | (static_cast<unsigned>(code) & 0xFu) << sh);
}

// Source element types of quantize_linear.
enum src_kind { src_float, src_bf16, src_half };
const char* const src_names[] = {"float", "fp8::bfloat16", "fp8::half"};
std::size_t src_size(int k) { return k == src_float ? 4 : 2; }
FZ_NO_COVERAGE float src_value(int k, const u8* p, std::size_t i) {
  if (k == src_float) {
    float x;
    std::memcpy(&x, p + 4 * i, 4);
    return x;
  }
  u16 h;
  std::memcpy(&h, p + 2 * i, 2);
  return static_cast<float>(k == src_bf16 ? bf16_value(h) : half_value(h));  // exact
}
// Values: the common distributions, plus (mode 6, 7) ties and near-ties of
// the scale: (k + 1/2) s and its float neighbours, where rounding to even
// decides.
FZ_NO_COVERAGE void gen_value(filler& f, u8 mode, int kind, float scale, u8* p, std::size_t i) {
  float x;
  if (mode % 8 >= 6 && std::isfinite(scale) && scale > 0.0f) {
    const u8 b = f.byte();
    x = (static_cast<float>(static_cast<int>(b % 64u) - 32) + 0.5f) * scale;
    if (b & 64u) x = std::nextafter(x, (b & 128u) ? HUGE_VALF : -HUGE_VALF);
  } else {
    x = gen_float(f, mode);
  }
  if (kind == src_float) {
    std::memcpy(p + 4 * i, &x, 4);
  } else {
    u16 h = kind == src_bf16 ? gen_bf16(f, mode) : gen_half(f, mode);
    if (mode % 8 >= 6) {  // the tie rounded to the source type (mostly still a tie of a coarser grid)
      const double y = static_cast<double>(x);
      h = kind == src_bf16 ? bf16_bits_of(round_bf16(y), false) : half_bits_of(round_half(y), false);
    }
    std::memcpy(p + 2 * i, &h, 2);
  }
}

struct call {
  int op = 0;
  bool per_channel = false;
  std::size_t rows = 0, cols = 0, src_ld = 0, dst_ld = 0;  // per tensor: rows = 1, cols = n
  std::size_t n = 0;
  std::size_t src_elem = 0, dst_elem = 0;  // bytes per element; 0: codes
  int bits = 8, lo = 0, hi = 0;
  const void *src = nullptr, *dst = nullptr;
  const float* scale = nullptr;
  const std::int32_t* zp = nullptr;
  float scalar_scale = 1.0f;
  std::int32_t scalar_zp = 0;
  int axis = 0;
  std::size_t channels = 0, held_channels = 0;
  const u8* scale_store = nullptr;  // the held scale and zero point values (even when passed null)
  const u8* zp_store = nullptr;
};

u128 bytes_of_span(u128 elements, std::size_t elem, int bits) {
  return elem == 0 ? code_bytes(elements, bits) : elements * elem;
}

// ============================================================================
// CONTRACT: which calls are valid (README "Arguments", docs/dyadic.md
// "Integer quantization"; linear.hpp's comments).
// ============================================================================
// As in the other harnesses: counts whose byte size overflows size_t, or
// whose buffer would run past the end of the address space, cannot describe
// a buffer and must be rejected (README: "must fit size_t and end inside the
// address space"). The second half has its own tag, address_wrap.
constexpr bool overflowing_counts_must_throw = true;

expectation contract(const call& c) {
  expectation e;
  const bool fake = c.op == fake_tensor || c.op == fake_pc_ld || c.op == fake_pc_dense;
  if (c.op == params_range) return e;  // contract_params
  if (!c.per_channel) {
    if (c.n != 0) {
      if (c.src == nullptr) e.reject("null", {"src"}, "src is null while n > 0");
      if (c.dst == nullptr) e.reject("null", {"dst"}, "dst is null while n > 0");
      const u128 sb = bytes_of_span(c.n, c.src_elem, c.bits), db = bytes_of_span(c.n, c.dst_elem, c.bits);
      if (overflowing_counts_must_throw && (sb > size_max || db > size_max))
        e.reject("count_overflow", {"n"}, "n elements overflow size_t");
      else if (overflowing_counts_must_throw && (wraps(c.src, sb) || wraps(c.dst, db)))
        e.reject("address_wrap", {"n", "src", "dst"}, "n elements run past the end of the address space");
      else if (!(fake && c.src == c.dst) && overlaps(c.src, sb, c.dst, db))
        e.reject("overlap", {"dst"}, "dst overlaps src");
    }
    if (!(std::isfinite(c.scalar_scale) && c.scalar_scale > 0.0f))
      e.reject("scale", {"scale"}, "scale is not a positive finite float");
    if (c.scalar_zp < c.lo || c.scalar_zp > c.hi) e.reject("zero_point", {"zero_point"}, "zero_point is outside Out");
    return e;
  }
  if (c.axis != 0 && c.axis != 1) e.reject("enum", {"channel"}, "channel is not an fp8::axis");
  if (c.rows == 0 || c.cols == 0) return e;
  if (c.src == nullptr) e.reject("null", {"src"}, "src is null");
  if (c.dst == nullptr) e.reject("null", {"dst"}, "dst is null");
  if (c.scale == nullptr) e.reject("null", {"scale"}, "scale is null");
  if (c.src_ld < c.cols) e.reject("ld", {"src_ld"}, "src_ld < cols");
  if (c.dst_ld < c.cols) e.reject("ld", {"dst_ld"}, "dst_ld < cols");
  if (c.src_ld < c.cols || c.dst_ld < c.cols) return e;
  const u128 s_el = static_cast<u128>(c.rows - 1) * c.src_ld + c.cols;
  const u128 d_el = static_cast<u128>(c.rows - 1) * c.dst_ld + c.cols;
  const u128 sb = bytes_of_span(s_el, c.src_elem, c.bits), db = bytes_of_span(d_el, c.dst_elem, c.bits);
  bool sizes_ok = true;
  if (s_el > size_max || sb > size_max) {
    e.reject("count_overflow", {"src_ld", "rows", "cols"}, "the span of src overflows size_t");
    sizes_ok = false;
  }
  if (d_el > size_max || db > size_max) {
    e.reject("count_overflow", {"dst_ld", "rows", "cols"}, "the span of dst overflows size_t");
    sizes_ok = false;
  }
  if (!sizes_ok) return e;
  const u128 ch_bytes = static_cast<u128>(c.channels) * 4;
  if (overflowing_counts_must_throw) {
    if (wraps(c.src, sb)) e.reject("address_wrap", {"src_ld", "rows", "cols", "src"}, "src runs past the address space");
    if (wraps(c.dst, db)) e.reject("address_wrap", {"dst_ld", "rows", "cols", "dst"}, "dst runs past the address space");
    if (ch_bytes > size_max || wraps(c.scale, ch_bytes))
      e.reject("address_wrap", {"scale", "rows", "cols"}, "scale runs past the address space");
    if (c.zp != nullptr && (ch_bytes > size_max || wraps(c.zp, ch_bytes)))
      e.reject("address_wrap", {"zero_point", "rows", "cols"}, "zero_point runs past the address space");
  }
  if (c.scale_store != nullptr)
    for (std::size_t i = 0; i < std::min(c.channels, c.held_channels); ++i) {
      float v;
      std::memcpy(&v, c.scale_store + 4 * i, 4);
      if (!(std::isfinite(v) && v > 0.0f)) {
        if (c.scale != nullptr)
          e.reject("scale_value", {"scale"}, "scale[" + std::to_string(i) + "] is not a positive finite float");
        break;
      }
    }
  if (c.zp != nullptr)
    for (std::size_t i = 0; i < std::min(c.channels, c.held_channels); ++i) {
      std::int32_t v;
      std::memcpy(&v, c.zp_store + 4 * i, 4);
      if (v < c.lo || v > c.hi) {
        e.reject("zero_point", {"zero_point"}, "zero_point[" + std::to_string(i) + "] is outside Out");
        break;
      }
    }
  const bool in_place = fake && c.src == c.dst && c.src_ld == c.dst_ld;
  if (!in_place && overlaps(c.src, sb, c.dst, db)) e.reject("overlap", {"dst"}, "dst overlaps src");
  if (overlaps(c.scale, ch_bytes, c.dst, db)) e.reject("overlap", {"dst"}, "dst overlaps scale");
  if (overlaps(c.zp, ch_bytes, c.dst, db)) e.reject("overlap", {"dst"}, "dst overlaps zero_point");
  return e;
}

expectation contract_params(float lo, float hi, int mapping) {
  expectation e;
  if (mapping != 0 && mapping != 1) e.reject("enum", {"mapping"}, "mapping is not an fp8::linear_mapping");
  if (!std::isfinite(lo)) e.reject("range", {"range_min"}, "range_min is not finite");
  if (!std::isfinite(hi)) e.reject("range", {"range_max"}, "range_max is not finite");
  if (std::isfinite(lo) && std::isfinite(hi) && lo > hi)
    e.reject("range", {"range_min", "range_max"}, "range_min > range_max");
  return e;
}
// ============================================================================

// linear_params_from_range as docs/dyadic.md's table states it.
FZ_NO_COVERAGE void ref_params(float rmin, float rmax, int mapping, int lo, int hi, float& scale, std::int32_t& zp) {
  if (mapping == 0) {  // symmetric
    const int side = (hi - lo) / 2;
    const float amax = std::max(std::fabs(rmin), std::fabs(rmax));
    scale = amax == 0.0f ? 1.0f : std::max(amax / static_cast<float>(side), FLT_MIN);
    zp = lo + side + 1;
    return;
  }
  const float qmin = static_cast<float>(lo), qmax = static_cast<float>(hi), steps = qmax - qmin;
  const float xmin = std::min(rmin, 0.0f), xmax = std::max(rmax, 0.0f);
  if (xmin == 0.0f && xmax == 0.0f) {
    scale = 1.0f;
  } else {
    float s = (xmax - xmin) / steps;
    if (!std::isfinite(s)) s = xmax / steps - xmin / steps;
    scale = std::max(s, FLT_MIN);
  }
  const float inter = qmin - xmin / scale;
  const float sat = std::min(std::max(inter, qmin), qmax);
  zp = static_cast<std::int32_t>(std::nearbyint(static_cast<double>(sat)));
}

template <class Out>
void run_params(const raw& r) {
  const float rmin = decode_float(r.range_min), rmax = decode_float(r.range_max);
  const int mapping = decode_enum(r.mapping, 2);
  expectation e = contract_params(rmin, rmax, mapping);
  context() = std::string("fp8::linear_params_from_range<") + out_info<Out>::name + ">(range_min " + fnum(rmin) +
              ", range_max " + fnum(rmax) + ", mapping " + std::to_string(mapping) + ")\n";
  pool p;
  p.allocate(r.seed);
  fp8::linear_params got;
  const auto the_call = [&] {
    got = fp8::linear_params_from_range<Out>(rmin, rmax, static_cast<fp8::linear_mapping>(mapping));
  };
  const auto check = [&]() FZ_REFERENCE {
    float s;
    std::int32_t z;
    ref_params(rmin, rmax, mapping, out_info<Out>::lo, out_info<Out>::hi, s, z);
    if (bits(got.scale) != bits(s) || got.zero_point != z)
      fail("linear_params {scale " + fnum(got.scale) + ", zero_point " + std::to_string(got.zero_point) +
           "}, expected {scale " + fnum(s) + ", zero_point " + std::to_string(z) + "}");
    // Every result is a valid argument of the bulk calls.
    if (!(got.scale >= FLT_MIN && got.scale <= FLT_MAX) || got.zero_point < out_info<Out>::lo ||
        got.zero_point > out_info<Out>::hi)
      fail("linear_params is not a valid argument of the bulk calls");
  };
  execute(e, p, the_call, check);
}

template <class Out, class Src>
void run(const raw& r, filler& f) {
  using storage = fp8::quantized_storage_t<Out>;
  constexpr int bits_ = out_info<Out>::bits, lo = out_info<Out>::lo, hi = out_info<Out>::hi;
  constexpr bool is_signed = lo < 0;
  const int skind = std::is_same<Src, float>::value ? src_float : std::is_same<Src, fp8::bfloat16>::value ? src_bf16 : src_half;
  call c;
  c.op = r.op % op_count;
  const int op = c.op;
  c.per_channel = op >= q_pc_ld && op <= fake_pc_dense;
  const bool dense = op == q_pc_dense || op == dq_pc_dense || op == fake_pc_dense;
  const bool is_q = op == q_tensor || op == q_pc_ld || op == q_pc_dense;
  const bool is_dq = op == dq_tensor || op == dq_pc_ld || op == dq_pc_dense;
  c.bits = bits_;
  c.lo = lo;
  c.hi = hi;
  if (c.per_channel) {
    c.rows = decode_size(r.rows, 24);
    c.cols = decode_size(r.cols, 40);
    c.src_ld = dense ? c.cols : decode_ld(r.src_ld, c.cols);
    c.dst_ld = dense ? c.cols : decode_ld(r.dst_ld, c.cols);
  } else {
    c.n = decode_size(r.rows, 300);
  }
  c.src_elem = is_q ? src_size(skind) : is_dq ? 0 : 4;
  c.dst_elem = is_q ? 0 : 4;
  c.scalar_scale = decode_float(r.scale);
  c.scalar_zp = decode_zero_point(r.zero_point, lo, hi);
  c.axis = decode_enum(r.axis, 2);
  c.channels = c.per_channel ? (c.axis == 1 ? c.cols : c.rows) : 0;

  // Elements each buffer must hold, capped at what an input allocates.
  const u128 s_need = c.per_channel ? (c.rows == 0 || c.cols == 0 ? 0 : static_cast<u128>(c.rows - 1) * c.src_ld + c.cols) : c.n;
  const u128 d_need = c.per_channel ? (c.rows == 0 || c.cols == 0 ? 0 : static_cast<u128>(c.rows - 1) * c.dst_ld + c.cols) : c.n;
  const auto held = [](u128 need) { return static_cast<std::size_t>(std::min<u128>(need, max_elements)); };
  const std::size_t s_held = held(s_need), d_held = held(d_need), ch_held = held(c.channels);
  const std::size_t s_bytes = static_cast<std::size_t>(bytes_of_span(s_held, c.src_elem, bits_));
  const std::size_t d_bytes = static_cast<std::size_t>(bytes_of_span(d_held, c.dst_elem, bits_));

  pool p;
  const std::size_t s_align = c.src_elem == 0 ? 1 : c.src_elem, d_align = c.dst_elem == 0 ? 1 : c.dst_elem;
  const std::size_t is = p.add("src", s_bytes, (r.layout & 3u) * s_align, s_align);
  const std::size_t id = p.add("dst", d_bytes, ((r.layout >> 2) & 3u) * d_align, d_align);
  const std::size_t isc = p.add("scale", ch_held * 4, 0, 4);
  const std::size_t izp = p.add("zero_point", ch_held * 4, 0, 4);
  const unsigned sc = r.layout >> 4;
  // Per-channel zero points: zps % 4 == 0 passes null (all zero), else an array.
  const bool zp_array = c.per_channel && r.zps % 4 != 0 && sc != zp_null;
  if (sc == src_null) p.make_null(is);
  if (sc == dst_null) p.make_null(id);
  if (sc == scale_null) p.make_null(isc);
  if (sc == dst_in_src) p.alias(id, is, r.offset % (s_bytes + 8));
  if (sc == same) p.alias(id, is, 0);
  if (sc == scale_in_dst && c.per_channel) p.alias(isc, id, r.offset % (d_bytes + 8));
  if (sc == zp_in_dst && zp_array) p.alias(izp, id, r.offset % (d_bytes + 8));
  if (!c.per_channel) p.make_null(isc);
  if (!zp_array) p.make_null(izp);
  p.allocate(r.seed);

  // Scales and zero points first (tie values depend on the scale).
  u8* scale_store = p.storage(isc);
  u8* zp_store = p.storage(izp);
  if (c.per_channel) {
    fill_scales(scale_store, ch_held, f, r.scales, r.bad_kind, r.bad_index);
    for (std::size_t i = 0; i < ch_held; ++i) {
      const u32 z = f.u32v();
      std::int32_t v = (r.zps % 4 == 1) ? 0 : lo + static_cast<std::int32_t>(z % static_cast<u32>(hi - lo + 1));
      if (r.zps % 4 == 3) v = (z & 1u) ? lo : hi;  // the extremes
      std::memcpy(zp_store + 4 * i, &v, 4);
    }
    const unsigned kind = r.zp_bad % 16u;
    if (ch_held != 0 && kind >= 1 && kind <= 6) {
      const std::int32_t bad[] = {0, lo - 1, hi + 1, int_min, int_max, -129, 256};
      std::memcpy(zp_store + 4 * (r.zp_bad_index % ch_held), &bad[kind], 4);
    }
  }
  const auto scale_at = [&](std::size_t ch) {
    float s;
    std::memcpy(&s, scale_store + 4 * ch, 4);
    return s;
  };
  const auto zp_at = [&](std::size_t ch) -> std::int32_t {
    if (!zp_array) return 0;
    std::int32_t z;
    std::memcpy(&z, zp_store + 4 * ch, 4);
    return z;
  };
  // Source values (codes of dequantize stay the allocation's random bytes).
  u8* src_store = p.storage(is);
  if (!is_dq) {
    const int kind = is_q ? skind : src_float;
    if (c.per_channel) {
      for (std::size_t k = 0; k < s_held; ++k) {
        const std::size_t row = c.src_ld == 0 ? 0 : k / c.src_ld, col = c.src_ld == 0 ? 0 : k % c.src_ld;
        const std::size_t ch = c.axis == 1 ? col : row;
        gen_value(f, r.values, kind, ch < ch_held ? scale_at(ch) : 1.0f, src_store, k);
      }
    } else {
      for (std::size_t k = 0; k < s_held; ++k) gen_value(f, r.values, kind, c.scalar_scale, src_store, k);
    }
  }
  c.src = p.ptr(is);
  c.dst = p.ptr(id);
  c.scale = reinterpret_cast<const float*>(p.ptr(isc));
  c.zp = reinterpret_cast<const std::int32_t*>(p.ptr(izp));
  c.held_channels = ch_held;
  c.scale_store = c.per_channel ? scale_store : nullptr;
  c.zp_store = zp_store;

  expectation e = contract(c);
  // A call larger than the buffers an input has runs only when it must be
  // rejected before any element is read (the scale and zero-point values are
  // read by the checks, after the size and pointer checks).
  if ((s_need > s_held || d_need > d_held || c.channels > ch_held) &&
      !e.has({"null", "ld", "count_overflow", "address_wrap", "enum", "scale", "zero_point"}))
    return skip();
  if (!c.per_channel && c.n > s_held && !e.has({"null", "count_overflow", "address_wrap", "scale", "zero_point"}))
    return skip();
  if (c.per_channel && c.channels > ch_held && !e.has({"null", "ld", "count_overflow", "address_wrap", "enum"}))
    return skip();

  std::string& ctx = context();
  ctx = std::string("fp8::") + op_names[op] + "<" + out_info<Out>::name + (is_q ? std::string(", ") + src_names[skind] : "") + ">\n";
  if (c.per_channel)
    ctx += "  rows = " + std::to_string(c.rows) + ", cols = " + std::to_string(c.cols) + ", src_ld = " +
           std::to_string(c.src_ld) + ", dst_ld = " + std::to_string(c.dst_ld) + ", channel = " + std::to_string(c.axis) +
           ", zero_point " + (zp_array ? "array" : "null") + "\n";
  else
    ctx += "  n = " + std::to_string(c.n) + ", scale = " + fnum(c.scalar_scale) + ", zero_point = " +
           std::to_string(c.scalar_zp) + "\n";
  ctx += p.layout();
  for (std::size_t i = 0; i < std::min<std::size_t>(ch_held, 4); ++i)
    ctx += "  scale[" + std::to_string(i) + "] = " + fnum(scale_at(i)) + ", zero_point[" + std::to_string(i) +
           "] = " + std::to_string(zp_at(i)) + "\n";
  if (s_bytes != 0 && src_store != nullptr) {
    ctx += "  src bytes:";
    for (std::size_t i = 0; i < std::min<std::size_t>(s_bytes, 24); ++i) ctx += " " + hex(src_store[i]);
    ctx += "\n";
  }

  const bool fits = s_need <= s_held && d_need <= d_held && c.channels <= ch_held;
  if (fits) p.may_change(id, 0, d_bytes);  // check() compares every byte of dst with its expected value
  // The originals: in-place calls overwrite the source.
  const std::vector<u8> src_copy(src_store, src_store + s_bytes);
  const std::vector<u8> dst_copy(p.storage(id), p.storage(id) + d_bytes);

  const auto* srcp = static_cast<const void*>(c.src);
  void* dstp = const_cast<void*>(c.dst);
  const auto ax = static_cast<fp8::axis>(c.axis);
  const auto the_call = [&] {
    switch (op) {
      case q_tensor:
        fp8::quantize_linear<Out>(static_cast<const Src*>(srcp), static_cast<storage*>(dstp), c.n, c.scalar_scale, c.scalar_zp);
        break;
      case dq_tensor:
        fp8::dequantize_linear<Out>(static_cast<const storage*>(srcp), static_cast<float*>(dstp), c.n, c.scalar_scale,
                                    c.scalar_zp);
        break;
      case fake_tensor:
        fp8::fake_quantize_linear<Out>(static_cast<const float*>(srcp), static_cast<float*>(dstp), c.n, c.scalar_scale,
                                       c.scalar_zp);
        break;
      case q_pc_ld:
        fp8::quantize_linear_per_channel<Out>(static_cast<const Src*>(srcp), c.src_ld, static_cast<storage*>(dstp),
                                              c.dst_ld, c.rows, c.cols, c.scale, c.zp, ax);
        break;
      case q_pc_dense:
        fp8::quantize_linear_per_channel<Out>(static_cast<const Src*>(srcp), static_cast<storage*>(dstp), c.rows, c.cols,
                                              c.scale, c.zp, ax);
        break;
      case dq_pc_ld:
        fp8::dequantize_linear_per_channel<Out>(static_cast<const storage*>(srcp), c.src_ld, static_cast<float*>(dstp),
                                                c.dst_ld, c.rows, c.cols, c.scale, c.zp, ax);
        break;
      case dq_pc_dense:
        fp8::dequantize_linear_per_channel<Out>(static_cast<const storage*>(srcp), static_cast<float*>(dstp), c.rows,
                                                c.cols, c.scale, c.zp, ax);
        break;
      case fake_pc_ld:
        fp8::fake_quantize_linear_per_channel<Out>(static_cast<const float*>(srcp), c.src_ld, static_cast<float*>(dstp),
                                                   c.dst_ld, c.rows, c.cols, c.scale, c.zp, ax);
        break;
      default:
        fp8::fake_quantize_linear_per_channel<Out>(static_cast<const float*>(srcp), static_cast<float*>(dstp), c.rows,
                                                   c.cols, c.scale, c.zp, ax);
        break;
    }
  };
  const auto check = [&]() FZ_REFERENCE {
    // The expected dst: its old bytes with every element of the call written.
    std::vector<u8> want = dst_copy;
    const std::size_t rows = c.per_channel ? c.rows : (c.n == 0 ? 0 : 1);
    const std::size_t cols = c.per_channel ? c.cols : c.n;
    const std::size_t sld = c.per_channel ? c.src_ld : c.n, dld = c.per_channel ? c.dst_ld : c.n;
    for (std::size_t i = 0; i < rows && cols != 0; ++i)
      for (std::size_t j = 0; j < cols; ++j) {
        const std::size_t ch = c.axis == 1 ? j : i;
        const float s = c.per_channel ? scale_at(ch) : c.scalar_scale;
        const std::int32_t z = c.per_channel ? zp_at(ch) : c.scalar_zp;
        const std::size_t si = i * sld + j, di = i * dld + j;
        if (is_q) {
          write_code(want.data(), di, ref_quantize(src_value(skind, src_copy.data(), si), s, z, lo, hi), bits_);
        } else {
          const float v = is_dq ? ref_dequantize(read_code(src_copy.data(), si, bits_, is_signed), s, z)
                                : ref_dequantize(ref_quantize(src_value(src_float, src_copy.data(), si), s, z, lo, hi), s, z);
          std::memcpy(want.data() + 4 * di, &v, 4);
        }
      }
    // An odd 4-bit span leaves the last high nibble 0.
    const std::size_t span = rows == 0 || cols == 0 ? 0 : (rows - 1) * dld + cols;
    if (is_q && bits_ == 4 && span % 2 != 0) want[span / 2] = static_cast<u8>(want[span / 2] & 0x0Fu);
    const u8* got = static_cast<const u8*>(p.storage(id));
    for (std::size_t k = 0; k < want.size(); ++k) {
      if (got[k] == want[k]) continue;
      std::string where = "dst byte " + std::to_string(k);
      if (!is_q) {
        const std::size_t el = k / 4, i = dld == 0 ? 0 : el / dld, j = dld == 0 ? 0 : el % dld;
        float g, w;
        std::memcpy(&g, got + 4 * el, 4);
        std::memcpy(&w, want.data() + 4 * el, 4);
        const std::size_t si = i * sld + j;
        where += " (element [" + std::to_string(i) + "][" + std::to_string(j) + "]) = " + fnum(g) + ", expected " + fnum(w);
        if (j < cols && si < s_held)
          where += "; source " + (is_dq ? "code " + std::to_string(read_code(src_copy.data(), si, bits_, is_signed))
                                        : fnum(src_value(src_float, src_copy.data(), si)));
      } else {
        const std::size_t el = bits_ == 4 ? 2 * k : k, i = dld == 0 ? 0 : el / dld, j = dld == 0 ? 0 : el % dld;
        where += " (element [" + std::to_string(i) + "][" + std::to_string(j) + "]" + (bits_ == 4 ? " and the next" : "") +
                 ") = " + hex(got[k]) + ", expected " + hex(want[k]);
        if (j < cols && i * sld + j < s_held) where += "; source " + fnum(src_value(skind, src_copy.data(), i * sld + j));
      }
      fail(where);
    }
  };
  if (op == fake_tensor || op == fake_pc_ld || op == fake_pc_dense)
    if (c.src == c.dst && c.src != nullptr) e.note("in place");
  execute(e, p, the_call, check);
}

template <class Out>
void run_out(const raw& r, filler& f) {
  if (r.op % op_count == params_range) return run_params<Out>(r);
  switch (r.src_type % 3) {
    case 0: return run<Out, float>(r, f);
    case 1: return run<Out, fp8::bfloat16>(r, f);
    default: return run<Out, fp8::half>(r, f);
  }
}

void run_input(const u8* data, std::size_t size) {
  reader in{data, size};
  raw r;
  visit(in, r);
  filler f(in.rest(), in.rest_size(), r.seed);
  switch (r.out % 4) {
    case 0: run_out<std::int8_t>(r, f); break;
    case 1: run_out<std::uint8_t>(r, f); break;
    case 2: run_out<fp8::int4>(r, f); break;
    default: run_out<fp8::uint4>(r, f); break;
  }
}

// ---------------------------------------------------------------- seeds
constexpr u32 nice(u32 index) { return index; }                    // decode_float: 1, 0.5, 2, 0.25, 3, ...
constexpr u32 special(u32 index) { return 0xA0000000u | index; }  // 0, -0, NaN, -NaN, Inf, -Inf, FLT_MAX, ...
constexpr u16 huge(u16 index) { return static_cast<u16>(0xF000u | index); }
constexpr u8 scenario_of(unsigned s) { return static_cast<u8>(s << 4); }
constexpr u32 zp_special(u32 index) { return 0xE0000000u | index; }  // lo-1, hi+1, INT_MIN, INT_MAX, ...

std::vector<seed<raw>> seeds() {
  std::vector<seed<raw>> v;
  const auto V = expectation::valid, I = expectation::invalid;
  const char* outs[] = {"int8", "uint8", "int4", "uint4"};
  const char* srcs[] = {"f32", "bf16", "f16"};
  const char* ops[] = {"quantize", "dequantize", "fake", "quantize_pc_ld", "quantize_pc_dense", "dequantize_pc_ld",
                       "dequantize_pc_dense", "fake_pc_ld", "fake_pc_dense", "params"};
  for (u8 o = 0; o < op_count; ++o)
    for (u8 t = 0; t < 4; ++t) {
      const bool q = o == q_tensor || o == q_pc_ld || o == q_pc_dense;
      for (u8 s = 0; s < (q ? 3 : 1); ++s) {
        raw r;
        r.op = o;
        r.out = t;
        r.src_type = s;
        const bool pc = o >= q_pc_ld && o <= fake_pc_dense;
        r.rows = static_cast<u16>(pc ? 3 + (o + t + s) % 7 : 17 + 29 * (o + t + s) % 200);
        r.cols = static_cast<u16>(5 + 3 * t + o + s);
        r.src_ld = static_cast<u16>(4 + t);  // pads 1..4 (decode_ld)
        r.dst_ld = static_cast<u16>(7 - t);
        r.scale = nice((o + t + s) % 9);
        r.zero_point = static_cast<u32>(o * 37 + t * 11 + s);
        r.axis = static_cast<u8>((o + t) % 2);
        r.mapping = static_cast<u8>(t % 2);
        const u32 negative[] = {9, 10, 16, 22};  // decode_float's negative nice values
        r.range_min = nice(negative[t]);
        r.range_max = nice(2 + o % 5);
        r.layout = static_cast<u8>((o * 5 + t + s) % 8);
        r.values = static_cast<u8>((o + 2 * t + s) % 8);
        r.scales = static_cast<u8>(t + o);
        r.zps = static_cast<u8>(t + s);
        r.seed = 1000u + o * 16u + t * 4u + s;
        v.push_back({std::string("valid_") + ops[o] + "_" + outs[t] + (q ? std::string("_") + srcs[s] : ""), r, V});
      }
    }
  raw base;
  base.rows = 6;
  base.cols = 9;
  base.values = 2;
  base.seed = 7;
  auto with = [&](const std::string& name, int verdict, u8 op, auto&& edit) {
    raw r = base;
    r.op = op;
    edit(r);
    v.push_back({name, r, verdict});
  };
  // Valid edge classes.
  with("valid_quantize_ties_int8", V, q_tensor, [](raw& r) { r.rows = 120; r.values = 6; r.scale = nice(1); });
  with("valid_quantize_ties_int4_odd", V, q_tensor, [](raw& r) { r.out = 2; r.rows = 61; r.values = 7; r.scale = nice(6); });
  with("valid_quantize_nan_inf", V, q_tensor, [](raw& r) { r.rows = 200; r.values = 0; r.zero_point = 5; });
  with("valid_quantize_tiny_scale", V, q_tensor, [](raw& r) { r.out = 1; r.scale = special(9); r.values = 3; });
  with("valid_quantize_flt_max_scale", V, q_tensor, [](raw& r) { r.out = 3; r.scale = special(6); r.values = 3; });
  with("valid_quantize_zp_extremes", V, q_tensor, [](raw& r) { r.zero_point = 127; r.values = 3; });
  with("valid_quantize_empty_null", V, q_tensor, [](raw& r) { r.rows = 0; r.layout = scenario_of(src_null); });
  with("valid_quantize_bf16_ties", V, q_tensor, [](raw& r) { r.src_type = 1; r.values = 6; r.rows = 90; });
  with("valid_dequantize_uint4_odd", V, dq_tensor, [](raw& r) { r.out = 3; r.rows = 33; });
  with("valid_fake_in_place", V, fake_tensor, [](raw& r) { r.layout = scenario_of(same); r.rows = 77; });
  with("valid_fake_pc_in_place", V, fake_pc_ld, [](raw& r) { r.layout = scenario_of(same); r.src_ld = 5; r.dst_ld = 5; });
  with("valid_pc_int4_odd_ld", V, q_pc_ld, [](raw& r) { r.out = 2; r.rows = 5; r.cols = 7; r.src_ld = 6; r.dst_ld = 4; r.axis = 1; });
  with("valid_pc_uint4_columns_ld", V, dq_pc_ld, [](raw& r) { r.out = 3; r.rows = 4; r.cols = 3; r.src_ld = 6; r.axis = 1; r.zps = 3; });
  with("valid_pc_zero_point_null", V, q_pc_dense, [](raw& r) { r.zps = 0; r.axis = 1; });
  with("valid_pc_empty_rows", V, dq_pc_ld, [](raw& r) { r.rows = 0; r.layout = scenario_of(scale_null); });
  with("valid_pc_subnormal_scale", V, fake_pc_ld, [](raw& r) { r.bad_kind = 6; r.bad_index = 2; });
  with("valid_params_symmetric_zero", V, params_range, [](raw& r) { r.mapping = 0; r.range_min = special(0); r.range_max = special(0); });
  with("valid_params_asymmetric_zero", V, params_range, [](raw& r) { r.out = 1; r.mapping = 1; r.range_min = special(1); r.range_max = special(0); });
  with("valid_params_flt_max", V, params_range, [](raw& r) { r.out = 1; r.mapping = 1; r.range_min = special(7); r.range_max = special(6); });
  with("valid_params_tiny", V, params_range, [](raw& r) { r.out = 2; r.mapping = 1; r.range_min = special(10); r.range_max = special(9); });
  // Invalid classes.
  with("invalid_quantize_src_null", I, q_tensor, [](raw& r) { r.layout = scenario_of(src_null); });
  with("invalid_quantize_dst_null", I, q_tensor, [](raw& r) { r.out = 2; r.layout = scenario_of(dst_null); });
  with("invalid_quantize_scale_zero", I, q_tensor, [](raw& r) { r.scale = special(0); });
  with("invalid_quantize_scale_negative", I, q_tensor, [](raw& r) { r.scale = nice(9); });
  with("invalid_quantize_scale_nan", I, dq_tensor, [](raw& r) { r.scale = special(2); });
  with("invalid_quantize_scale_inf", I, fake_tensor, [](raw& r) { r.scale = special(4); });
  with("invalid_quantize_zero_point_high", I, q_tensor, [](raw& r) { r.out = 3; r.zero_point = zp_special(1); });
  with("invalid_quantize_zero_point_low", I, dq_tensor, [](raw& r) { r.out = 1; r.zero_point = zp_special(0); });
  with("invalid_quantize_zero_point_int_min", I, fake_tensor, [](raw& r) { r.out = 2; r.zero_point = zp_special(2); });
  with("invalid_quantize_dst_in_src", I, q_tensor, [](raw& r) { r.layout = scenario_of(dst_in_src); r.offset = 3; });
  with("invalid_dequantize_same", I, dq_tensor, [](raw& r) { r.layout = scenario_of(same); });
  with("invalid_fake_partial_overlap", I, fake_tensor, [](raw& r) { r.layout = scenario_of(dst_in_src); r.offset = 4; });
  with("invalid_quantize_count_overflow", I, q_tensor, [](raw& r) { r.rows = huge(2); });
  with("invalid_fake_count_overflow", I, fake_tensor, [](raw& r) { r.rows = huge(3); });
  // Extents that fit size_t but run past the end of the address space (tag address_wrap).
  with("invalid_quantize_address_wrap", I, q_tensor, [](raw& r) { r.out = 2; r.src_type = 1; r.rows = huge(4); });
  with("invalid_dequantize_address_wrap", I, dq_tensor, [](raw& r) { r.out = 3; r.rows = huge(2); });
  with("invalid_pc_address_wrap", I, fake_pc_ld, [](raw& r) { r.out = 1; r.rows = 4; r.cols = huge(21); r.src_ld = 0; r.dst_ld = 0; });
  with("invalid_pc_axis_enum", I, q_pc_ld, [](raw& r) { r.axis = 0xF1; });
  with("invalid_pc_axis_enum_empty", I, dq_pc_dense, [](raw& r) { r.axis = 0xF3; r.rows = 0; });
  with("invalid_pc_src_ld", I, q_pc_ld, [](raw& r) { r.src_ld = 0xC001; });
  with("invalid_pc_dst_ld", I, dq_pc_ld, [](raw& r) { r.dst_ld = 0xC002; });
  with("invalid_pc_ld_overflow", I, fake_pc_ld, [](raw& r) { r.dst_ld = huge(2); });
  with("invalid_pc_scale_null", I, q_pc_dense, [](raw& r) { r.layout = scenario_of(scale_null); });
  with("invalid_pc_src_null", I, dq_pc_ld, [](raw& r) { r.layout = scenario_of(src_null); });
  with("invalid_pc_scale_zero", I, q_pc_ld, [](raw& r) { r.bad_kind = 1; r.bad_index = 3; });
  with("invalid_pc_scale_nan", I, dq_pc_dense, [](raw& r) { r.bad_kind = 4; r.axis = 1; });
  with("invalid_pc_scale_inf", I, fake_pc_dense, [](raw& r) { r.bad_kind = 5; });
  with("invalid_pc_scale_negative", I, q_pc_ld, [](raw& r) { r.out = 2; r.bad_kind = 3; r.axis = 1; });
  with("invalid_pc_zero_point_out", I, q_pc_ld, [](raw& r) { r.zps = 2; r.zp_bad = 2; r.zp_bad_index = 1; });
  with("invalid_pc_zero_point_int4", I, dq_pc_ld, [](raw& r) { r.out = 2; r.zps = 1; r.zp_bad = 1; });
  with("invalid_pc_dst_in_src", I, fake_pc_ld, [](raw& r) { r.layout = scenario_of(dst_in_src); r.offset = 12; });
  with("invalid_pc_in_place_other_ld", I, fake_pc_ld, [](raw& r) { r.layout = scenario_of(same); r.src_ld = 5; r.dst_ld = 6; });
  with("invalid_pc_scale_in_dst", I, dq_pc_ld, [](raw& r) { r.layout = scenario_of(scale_in_dst); r.offset = 8; });
  with("invalid_pc_zero_point_in_dst", I, q_pc_ld, [](raw& r) { r.zps = 2; r.layout = scenario_of(zp_in_dst); r.offset = 2; });
  with("invalid_params_mapping_enum", I, params_range, [](raw& r) { r.mapping = 0xF0; });
  with("invalid_params_min_nan", I, params_range, [](raw& r) { r.range_min = special(2); });
  with("invalid_params_max_inf", I, params_range, [](raw& r) { r.range_max = special(4); });
  with("invalid_params_reversed", I, params_range, [](raw& r) { r.range_min = nice(2); r.range_max = nice(1); });
  return v;
}

}  // namespace

FZ_ENTRY_POINTS((void)0)
