// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness for fp8::conv2d (docs/conv.md): twenty-two input /
// weight / output type combinations (fuzz_conv.hpp: FP8, bfloat16, half or
// float input; FP8, bfloat16 or half weights; float, bfloat16, half or FP8
// output; bfloat16 values as tiny as vdpbf16ps would flush: value modes
// 0xF0 and up), weights packed per call, through
// packed_conv_weights or the 7-argument overload, every conv2d_shape field
// (batch, sizes, groups including depthwise and channel multipliers,
// kernels, strides, dilations, each padding side) with small values or
// values where size arithmetic breaks (paddings and strides up to 2^63 and
// SIZE_MAX, strides tied to the padding so a huge padding still gives a
// small output), and every conv2d_options field (threads, ReLU / clamp,
// NCHW input and output, OIHW weights, output_scale and overflow of FP8
// output), input scales and weight scales of every kind, null and
// overlapping buffers, enum values that are no enumerator.
//
// The reference is test_conv.cpp's: codes decoded with tests/reference.hpp,
// bfloat16 and half values from their bits (fuzz_common.hpp), the textbook
// direct convolution in double (taps in the padding add
// nothing; input and output positions computed in 128-bit integers, so any
// padding works), and each output element within
//   (K + 8) 2^-23 |input_scale * weight_scale| sum |x w| + 2^-23 |bias|
// (K = kernel_h kernel_w in_c / groups; K + 9 for float input, whose
// products round), widened as fuzz_gemm.cpp explains
// for extreme scales, then the activation and the output type's rounding.
// Besides, a valid call must not make any single allocation much larger
// than its unpadded tensors (the new rule that padding costs no memory).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fp8/fp8.hpp>

#include "fuzz_common.hpp"
#include "fuzz_conv.hpp"

namespace {

using namespace fz;
using fzconv::combos;
__extension__ typedef __int128 i128;

constexpr std::size_t max_elements = 1 << 14;  // per tensor an input can hold
constexpr double flt_max = static_cast<double>(std::numeric_limits<float>::max());

struct raw {
  u8 combo = 0, variant = 0;  // variant % 3: unpacked with options, packed_conv_weights, 7 arguments
  u16 batch = 0, in_h = 0, in_w = 0, in_c = 0, out_c = 0, kernel_h = 0, kernel_w = 0;
  u16 stride_h = 0, stride_w = 0, pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  u16 dilation_h = 0, dilation_w = 0, groups = 0;
  u32 input_scale = 0;
  u8 extras = 0;  // bit 0 weight_scales, bit 1 bias
  u8 ws_mode = 0, bad_kind = 0;
  u16 bad_index = 0;
  u8 threads = 0, act = 0;
  u32 clamp_lo = 0, clamp_hi = 0;
  u8 in_layout = 0, out_layout = 0, w_layout = 0;  // decode_enum
  u32 output_scale = 0;
  u8 output_overflow = 0;
  u8 layout = 0;  // bits 4-7: scenario
  u16 offset = 0;
  u8 x_values = 0, w_values = 0, bias_values = 0;
  u64 seed = 0;
};
template <class IO>
void visit(IO& io, raw& r) {
  io(r.combo); io(r.variant);
  io(r.batch); io(r.in_h); io(r.in_w); io(r.in_c); io(r.out_c); io(r.kernel_h); io(r.kernel_w);
  io(r.stride_h); io(r.stride_w); io(r.pad_top); io(r.pad_left); io(r.pad_bottom); io(r.pad_right);
  io(r.dilation_h); io(r.dilation_w); io(r.groups);
  io(r.input_scale); io(r.extras); io(r.ws_mode); io(r.bad_kind); io(r.bad_index);
  io(r.threads); io(r.act); io(r.clamp_lo); io(r.clamp_hi);
  io(r.in_layout); io(r.out_layout); io(r.w_layout);
  io(r.output_scale); io(r.output_overflow);
  io(r.layout); io(r.offset);
  io(r.x_values); io(r.w_values); io(r.bias_values);
  io(r.seed);
}

enum scenario { input_null = 9, weights_null = 10, output_null = 11, output_in_input = 12, output_in_weights = 13,
                extra_in_output = 14, output_at_input = 15 };
const char* const kind_names[] = {"E4M3", "E5M2", "E4M3FNUZ", "E5M2FNUZ", "bfloat16", "float", "half"};

// ---------------------------------------------------------------- shape decoding
std::size_t dim(u16 raw, std::size_t lo, std::size_t range) {
  return raw < 0xF000 ? lo + raw % range : decode_size(raw, 0);
}
std::size_t pad(u16 raw) { return raw < 0xF000 ? raw % 4 : decode_size(raw, 0); }
std::size_t dilation(u16 raw) { return raw < 0xF000 ? (raw % 4 == 0 ? 2 + raw / 4 % 2 : 1) : decode_size(raw, 0); }
// The extent that fits the window: span - pads (at least 1), plus 0..5;
// or 1..9 (the window may not fit); or a special size.
std::size_t extent(u16 raw, std::size_t k, std::size_t d, std::size_t p0, std::size_t p1) {
  if (raw >= 0xF000) return decode_size(raw, 0);
  if (raw >= 0x8000) return 1 + raw % 9;
  const u128 span = static_cast<u128>(d) * (k == 0 ? 0 : k - 1) + 1, pads = static_cast<u128>(p0) + p1;
  const u128 need = span > pads ? span - pads : 1;
  return need > 64 ? 1 + raw % 9 : static_cast<std::size_t>(need) + raw % 6;
}
// A stride: 1..3, one tied to the padding (a huge padding with a stride as
// large gives a small output), or a special size.
std::size_t stride(u16 raw, std::size_t p0, std::size_t p1, std::size_t in) {
  if (raw < 0xE000) return 1 + raw % 3;
  if (raw < 0xF000) {
    const std::size_t options[] = {p0, p1, p0 + p1, (p0 / 2 + p1 / 2 + in / 2) + 1, p0 + 1};
    return options[(raw & 0xFFu) % 5];
  }
  return decode_size(raw, 0);
}

u128 out_extent(std::size_t in, std::size_t p0, std::size_t p1, std::size_t k, std::size_t d, std::size_t s) {
  const u128 padded = static_cast<u128>(in) + p0 + p1;
  if (k == 0 || d == 0 || s == 0) return 0;
  const u128 span = static_cast<u128>(d) * (k - 1) + 1;
  return span > padded ? 0 : (padded - span) / s + 1;
}

// ---------------------------------------------------------------- values
// FP8 codes: any byte, finite ones, small ones, finite with a rare special.
FZ_NO_COVERAGE u8 gen_code(filler& fl, int f, u8 mode) {
  u8 c = fl.byte();
  switch (mode % 4) {
    case 0: return c;
    case 2: c = static_cast<u8>((c & 0x80) | (c & 0x3F)); break;
    case 3:
      if ((c & 0x1F) == 0x1F) return fl.byte();
      break;
    default: break;
  }
  while (!std::isfinite(fp8_value(f, c))) c = static_cast<u8>(c - 1);
  return c;
}

// Bytes of an element of kind k; the exact value of element i of a buffer of kind k.
std::size_t elem_size(int k) { return k <= 3 ? 1 : k == 5 ? 4 : 2; }
FZ_NO_COVERAGE double value_at(int k, const unsigned char* p, std::size_t i) {
  if (k <= 3) return fp8_value(k, p[i]);
  if (k == 5) {
    float v;
    std::memcpy(&v, p + 4 * i, 4);
    return static_cast<double>(v);
  }
  u16 b;
  std::memcpy(&b, p + 2 * i, 2);
  return k == 4 ? bf16_value(b) : half_value(b);
}

struct args {
  fzconv::call c;
  int kx, kw, ko;
  std::vector<float> ws, bias;  // held copies (empty: absent)
  std::size_t oh, ow;           // valid when the call's sizes are in range
};

// docs/conv.md: the padding holds zeros and a padding tap adds 0 * w, as in
// zero-padding frameworks: a NaN or infinite weight on a padding tap makes
// the output element NaN (before the activation).
constexpr bool padding_times_nonfinite_weight_is_nan = true;

// ============================================================================
// CONTRACT: which calls are valid (docs/conv.md, kernels/conv2d.hpp, and the
// new rules: enum arguments; positive finite weight scales whose products
// with input_scale stay within [2^-126, FLT_MAX]; any padding whose sums fit
// size_t; output not overlapping input, weights, weight_scales or bias;
// every extent in bytes of its element type: an input whose bytes overflow
// size_t is rejected naming "input", one running past the end of the
// address space too).
// ============================================================================
expectation contract(const args& x) {
  expectation e;
  const fzconv::call& c = x.c;
  const fp8::conv2d_shape& s = c.shape;
  const fp8::conv2d_options& o = c.options;
  const struct {
    std::size_t v;
    const char* name;
  } nonzero[] = {{s.batch, "shape.batch"},       {s.in_h, "shape.in_h"},         {s.in_w, "shape.in_w"},
                 {s.in_c, "shape.in_c"},         {s.out_c, "shape.out_c"},       {s.kernel_h, "shape.kernel_h"},
                 {s.kernel_w, "shape.kernel_w"}, {s.stride_h, "shape.stride_h"}, {s.stride_w, "shape.stride_w"},
                 {s.dilation_h, "shape.dilation_h"}, {s.dilation_w, "shape.dilation_w"}, {s.groups, "shape.groups"}};
  bool shape_ok = true;
  for (const auto& f : nonzero)
    if (f.v == 0) {
      e.reject("shape", {f.name}, std::string(f.name) + " is zero");
      shape_ok = false;
    }
  if (shape_ok && (s.in_c % s.groups != 0 || s.out_c % s.groups != 0)) {
    e.reject("shape", {"shape.groups"}, "groups does not divide in_c and out_c");
    shape_ok = false;
  }
  const auto axis = [&](std::size_t in, std::size_t p0, std::size_t p1, std::size_t k, std::size_t d, std::size_t st,
                        std::initializer_list<const char*> names, const char* what) {
    if (!shape_ok) return;
    if (static_cast<u128>(in) + p0 + p1 > size_max) {
      e.reject("shape", names, std::string(what) + ": input plus padding overflows size_t");
      shape_ok = false;
    } else if (static_cast<u128>(d) * (k - 1) + 1 > static_cast<u128>(in) + p0 + p1) {
      e.reject("shape", names, std::string(what) + ": the dilated kernel is larger than the padded input");
      shape_ok = false;
    }
    (void)st;
  };
  axis(s.in_h, s.pad_top, s.pad_bottom, s.kernel_h, s.dilation_h, s.stride_h,
       {"shape.kernel_h", "shape.pad_top", "shape.pad_bottom", "shape.in_h", "shape.dilation_h"}, "height");
  axis(s.in_w, s.pad_left, s.pad_right, s.kernel_w, s.dilation_w, s.stride_w,
       {"shape.kernel_w", "shape.pad_left", "shape.pad_right", "shape.in_w", "shape.dilation_w"}, "width");
  if (shape_ok) {
    const u128 oh = out_extent(s.in_h, s.pad_top, s.pad_bottom, s.kernel_h, s.dilation_h, s.stride_h);
    const u128 ow = out_extent(s.in_w, s.pad_left, s.pad_right, s.kernel_w, s.dilation_w, s.stride_w);
    const auto fits = [](std::initializer_list<u128> f, u128 size) {
      u128 p = size;
      for (u128 v : f) {
        if (v != 0 && p > size_max / v) return false;
        p *= v;
      }
      return p <= size_max;
    };
    const bool ok = fits({s.batch, s.in_h, s.in_w, s.in_c}, 1) && fits({s.batch, oh, ow, s.out_c}, 4) &&
                    fits({s.out_c, s.kernel_h, s.kernel_w, s.in_c / s.groups}, 4);
    if (!ok) {
      e.reject("shape", {"shape.batch", "shape.in_h", "shape.in_w", "shape.in_c", "shape.out_c", "shape.kernel_h",
                         "shape.kernel_w", "shape.stride_h", "shape.stride_w", "shape.pad_top", "shape.pad_left",
                         "shape.pad_bottom", "shape.pad_right"},
               "a tensor's size overflows size_t");
      shape_ok = false;
    }
  }
  if (c.input == nullptr) e.reject("null", {"input"}, "input is null");
  if (c.variant != 1 && c.weights == nullptr) e.reject("null", {"weights"}, "weights is null");
  if (c.variant == 1 && c.weights == nullptr) e.reject("null", {"weights"}, "weights is null (packed_conv_weights)");
  if (c.output == nullptr) e.reject("null", {"output"}, "output is null");
  if (!(std::isfinite(c.input_scale) && c.input_scale > 0.0f))
    e.reject("scalar", {"input_scale"}, "input_scale is not positive finite");
  const bool out_fp8 = x.ko <= 3;
  if (c.variant != 2) {
    if (static_cast<int>(o.act) < 0 || static_cast<int>(o.act) > 2)
      e.reject("enum", {"options.act"}, "options.act is not an fp8::activation");
    if (o.act == fp8::activation::clamp && !(o.clamp_lo <= o.clamp_hi))
      e.reject("scalar", {"options.clamp_lo"}, "clamp_lo > clamp_hi (or NaN)");
    if (!(std::isfinite(o.output_scale) && o.output_scale > 0.0f))
      e.reject("scalar", {"options.output_scale"}, "output_scale is not positive finite");
    else if (!out_fp8 && o.output_scale != 1.0f)
      e.reject("scalar", {"options.output_scale"}, "output_scale != 1 for float / bfloat16 / half output");
    if (static_cast<int>(o.input_layout) < 0 || static_cast<int>(o.input_layout) > 1)
      e.reject("enum", {"options.input_layout"}, "options.input_layout is not an fp8::tensor_layout");
    if (static_cast<int>(o.output_layout) < 0 || static_cast<int>(o.output_layout) > 1)
      e.reject("enum", {"options.output_layout"}, "options.output_layout is not an fp8::tensor_layout");
    if (static_cast<int>(o.weights) < 0 || static_cast<int>(o.weights) > 1)
      e.reject("enum", {"options.weights", "layout"}, "the weight layout is not an fp8::weight_layout");
    const int ovf = static_cast<int>(o.output_overflow);
    if (ovf != 0 && ovf != 1) {
      e.reject("enum", {"options.output_overflow"}, "options.output_overflow is not an fp8::overflow (checked used or not)");
    }
  }
  // Weight scales: positive finite; input_scale * ws within [2^-126, FLT_MAX].
  bool ws_ok = true;
  for (std::size_t i = 0; i < x.ws.size(); ++i)
    if (!(std::isfinite(x.ws[i]) && x.ws[i] > 0.0f)) {
      e.reject("scale_value", {"weight_scales"}, "weight_scales[" + std::to_string(i) + "] is not positive finite");
      ws_ok = false;
      break;
    }
  if (ws_ok && std::isfinite(c.input_scale) && c.input_scale > 0.0f) {
    double lo = 1, hi = 1;
    if (!x.ws.empty()) {
      lo = HUGE_VAL;
      hi = 0;
      for (float w : x.ws) lo = std::min(lo, static_cast<double>(w)), hi = std::max(hi, static_cast<double>(w));
    }
    const double is = static_cast<double>(c.input_scale);
    if (is * lo < 0x1p-126 || is * hi > flt_max)
      e.reject("scale_range", {"input_scale", "weight_scales"},
               "input_scale * weight_scales leaves [2^-126, FLT_MAX]: [" + num(is * lo) + ", " + num(is * hi) + "]");
  }
  // Overlaps of the output with what the call reads, in bytes: the input's
  // and weights' elements are 1 (FP8), 2 (bfloat16, half) or 4 (float) bytes.
  if (shape_ok) {
    const u128 out_bytes = static_cast<u128>(s.batch * x.oh * x.ow * s.out_c) * elem_size(x.ko);
    const u128 in_bytes = static_cast<u128>(s.batch * s.in_h * s.in_w * s.in_c) * elem_size(x.kx);
    const u128 w_bytes = static_cast<u128>(s.out_c * s.kernel_h * s.kernel_w * (s.in_c / s.groups)) * elem_size(x.kw);
    // The input's count fits size_t (the shape rule); its bytes may not.
    if (in_bytes > size_max)
      e.reject("input_bytes", {"input"}, "the input's size in bytes (" + std::to_string(elem_size(x.kx)) +
                                              " per element) overflows size_t");
    if (wraps(c.input, in_bytes) || wraps(c.output, out_bytes) || (c.variant != 1 && wraps(c.weights, w_bytes)))
      e.reject("count_overflow", {"input", "output", "weights"}, "a tensor runs past the end of the address space");
    if (overlaps(c.output, out_bytes, c.input, in_bytes)) e.reject("overlap", {"output"}, "output overlaps input");
    if (c.variant != 1 && overlaps(c.output, out_bytes, c.weights, w_bytes))
      e.reject("overlap_new", {"output", "weights"}, "output overlaps weights");
    if (overlaps(c.output, out_bytes, c.weight_scales, static_cast<u128>(s.out_c) * 4))
      e.reject("overlap_new", {"output", "weight_scales"}, "output overlaps weight_scales");
    if (overlaps(c.output, out_bytes, c.bias, static_cast<u128>(s.out_c) * 4))
      e.reject("overlap_new", {"output", "bias"}, "output overlaps bias");
  }
  return e;
}
// ============================================================================

// ---------------------------------------------------------------- reference
struct conv_values {
  std::vector<double> x, w;
};

FZ_NO_COVERAGE accept_set reference(const args& a, const conv_values& val, std::size_t n, std::size_t oy,
                                    std::size_t ox, std::size_t oc, double& v_out, double& bound_out) {
  const fzconv::call& c = a.c;
  const fp8::conv2d_shape& s = c.shape;
  const bool nchw_in = c.variant != 2 && c.options.input_layout == fp8::tensor_layout::nchw;
  const bool oihw = c.variant != 2 && c.options.weights == fp8::weight_layout::oihw;
  const std::size_t cg = s.in_c / s.groups, og = s.out_c / s.groups, g = oc / og;
  double sum = 0, abs = 0, abs_finite = 0;
  bool padding_nan = false;  // a padding tap with a NaN or infinite weight
  const auto weight_index = [&](std::size_t ky, std::size_t kx, std::size_t ci) {
    return oihw ? ((oc * cg + ci) * s.kernel_h + ky) * s.kernel_w + kx : ((oc * s.kernel_h + ky) * s.kernel_w + kx) * cg + ci;
  };
  for (std::size_t ky = 0; ky < s.kernel_h; ++ky) {
    const i128 ih = static_cast<i128>(oy) * s.stride_h + static_cast<i128>(ky) * s.dilation_h - s.pad_top;
    for (std::size_t kx = 0; kx < s.kernel_w; ++kx) {
      const i128 iw = static_cast<i128>(ox) * s.stride_w + static_cast<i128>(kx) * s.dilation_w - s.pad_left;
      if (ih < 0 || ih >= static_cast<i128>(s.in_h) || iw < 0 || iw >= static_cast<i128>(s.in_w)) {
        // A tap in the padding adds 0 * w (see padding_times_nonfinite_weight_is_nan).
        for (std::size_t ci = 0; ci < cg && padding_times_nonfinite_weight_is_nan; ++ci)
          padding_nan = padding_nan || !std::isfinite(val.w[weight_index(ky, kx, ci)]);
        continue;
      }
      const auto y = static_cast<std::size_t>(ih), xx = static_cast<std::size_t>(iw);
      for (std::size_t ci = 0; ci < cg; ++ci) {
        const std::size_t ch = g * cg + ci;
        const std::size_t xi = nchw_in ? ((n * s.in_c + ch) * s.in_h + y) * s.in_w + xx
                                       : ((n * s.in_h + y) * s.in_w + xx) * s.in_c + ch;
        const std::size_t wi = weight_index(ky, kx, ci);
        const double p = val.x[xi] * val.w[wi];
        sum += p;
        abs += std::fabs(p);
        if (std::isfinite(p)) abs_finite += std::fabs(p);
      }
    }
  }
  const double is = static_cast<double>(c.input_scale);
  const double ws = a.ws.empty() ? 1.0 : static_cast<double>(a.ws[oc]);
  const double bias = a.bias.empty() ? 0.0 : static_cast<double>(a.bias[oc]);
  // (Float input's products round: one more 2^-23 sum |x w|.)
  const double taps = static_cast<double>(s.kernel_h * s.kernel_w * cg) + (a.kx == 5 ? 9 : 8);
  const double amp = std::max(1.0, is) * std::max(1.0, ws);
  const double v = sum * is * ws + bias;
  double bound = taps * 0x1p-23 * is * ws * abs + 0x1p-23 * std::fabs(bias) + taps * 0x1p-149 * amp;
  accept_set set;
  if (std::isnan(v) || std::isinf(v))
    set.point(v);
  else
    set.add(v - bound, v + bound);
  double envelope = abs_finite * amp;
  if (std::isfinite(v)) envelope = std::max(envelope, std::fabs(v) + bound);
  if (!(envelope < 0x1p127)) set.any_special();
  if (padding_nan) {  // 0 * Inf or 0 * NaN: the sum is NaN
    set = accept_set{};
    set.point(std::numeric_limits<double>::quiet_NaN());
  }
  v_out = v;
  bound_out = bound;
  return set;
}

// FP8 codes, bfloat16 (tiny ones from mode 0xF0 on), half or float values.
FZ_NO_COVERAGE void fill_values(filler& f, int kind, unsigned char* p, std::size_t n, u8 mode) {
  for (std::size_t i = 0; i < n; ++i) {
    if (kind <= 3) {
      p[i] = gen_code(f, kind, mode);
    } else if (kind == 5) {
      const float v = gen_float(f, mode);
      std::memcpy(p + 4 * i, &v, 4);
    } else {
      const u16 v = kind == 6 ? gen_half(f, mode) : mode >= 0xF0 ? gen_bf16_tiny(f, mode) : gen_bf16(f, mode);
      std::memcpy(p + 2 * i, &v, 2);
    }
  }
}

void run_input(const u8* data, std::size_t size) {
  reader in{data, size};
  raw r;
  visit(in, r);
  filler f(in.rest(), in.rest_size(), r.seed);

  args x{};
  fzconv::call& c = x.c;
  c.combo = r.combo % fzconv::combo_count;
  const fzconv::combo ck = combos[c.combo];
  x.kx = ck.x;
  x.kw = ck.w;
  x.ko = ck.out;
  c.variant = r.variant % 3;
  if (c.variant == 2 && ck.out != 5) c.variant = 0;  // the 7-argument overload has float output
  fp8::conv2d_shape& s = c.shape;
  // Groups: 1 (often), 2, 3, depthwise (multiplier 1 or 2), or any value.
  const unsigned gk = r.groups < 0xF000 ? r.groups % 8u : 8u;
  const std::size_t groups = gk < 4 ? 1 : gk == 4 ? 2 : gk == 5 ? 3 : gk == 6 ? dim(r.in_c, 2, 20) : decode_size(r.groups, 5);
  s.groups = groups;
  if (gk == 6) {  // depthwise
    s.in_c = groups;
    s.out_c = r.out_c < 0xF000 ? groups * (1 + r.out_c % 2) : decode_size(r.out_c, 0);
  } else {
    s.in_c = r.in_c < 0xF000 ? (1 + r.in_c % 8u) * (gk == 7 ? 1 : groups) : decode_size(r.in_c, 0);
    s.out_c = r.out_c < 0xF000 ? (1 + r.out_c % 8u) * (gk == 7 ? 1 : groups) : decode_size(r.out_c, 0);
  }
  s.batch = dim(r.batch, 1, 3);
  s.kernel_h = dim(r.kernel_h, 1, 4);
  s.kernel_w = dim(r.kernel_w, 1, 4);
  s.dilation_h = dilation(r.dilation_h);
  s.dilation_w = dilation(r.dilation_w);
  s.pad_top = pad(r.pad_top);
  s.pad_bottom = pad(r.pad_bottom);
  s.pad_left = pad(r.pad_left);
  s.pad_right = pad(r.pad_right);
  s.in_h = extent(r.in_h, s.kernel_h, s.dilation_h, s.pad_top, s.pad_bottom);
  s.in_w = extent(r.in_w, s.kernel_w, s.dilation_w, s.pad_left, s.pad_right);
  s.stride_h = stride(r.stride_h, s.pad_top, s.pad_bottom, s.in_h);
  s.stride_w = stride(r.stride_w, s.pad_left, s.pad_right, s.in_w);
  c.input_scale = r.input_scale < 0x80000000u ? decode_float(r.input_scale & 0x9FFFFFFFu) : decode_float(r.input_scale);
  fp8::conv2d_options& o = c.options;
  o.threads = r.threads < 0xC0 ? 1 : r.threads < 0xF0 ? r.threads % 4u : (r.threads & 1 ? size_max : 5);
  o.act = static_cast<fp8::activation>(decode_enum(r.act, 3));
  o.clamp_lo = decode_float(r.clamp_lo);
  o.clamp_hi = r.clamp_hi >> 31 == 0 ? o.clamp_lo + std::fabs(decode_float(r.clamp_hi << 1)) : decode_float(r.clamp_hi);
  o.input_layout = static_cast<fp8::tensor_layout>(decode_enum(r.in_layout, 2));
  o.output_layout = static_cast<fp8::tensor_layout>(decode_enum(r.out_layout, 2));
  o.weights = static_cast<fp8::weight_layout>(decode_enum(r.w_layout, 2));
  if (ck.out <= 3)
    o.output_scale = r.output_scale < 0x40000000u ? 1.0f : decode_float(r.output_scale << 2);
  else
    o.output_scale = r.output_scale < 0xE0000000u ? 1.0f : decode_float(r.output_scale << 3);
  o.output_overflow = static_cast<fp8::overflow>(decode_enum(r.output_overflow, 2));
  if (c.variant == 2) o = fp8::conv2d_options{};

  // Tensor sizes (elements) when the shape's arithmetic holds.
  const bool nz = s.batch && s.in_h && s.in_w && s.in_c && s.out_c && s.kernel_h && s.kernel_w && s.groups;
  const u128 oh = nz ? out_extent(s.in_h, s.pad_top, s.pad_bottom, s.kernel_h, s.dilation_h, s.stride_h) : 0;
  const u128 ow = nz ? out_extent(s.in_w, s.pad_left, s.pad_right, s.kernel_w, s.dilation_w, s.stride_w) : 0;
  const u128 cg = nz ? s.in_c / s.groups : 0;
  const auto prod = [](std::initializer_list<u128> v) {
    u128 p = 1;
    for (u128 x : v) {
      if (x != 0 && p > (static_cast<u128>(1) << 100) / x) return static_cast<u128>(1) << 100;
      p *= x;
    }
    return p;
  };
  const u128 need[] = {prod({s.batch, s.in_h, s.in_w, s.in_c}), prod({s.out_c, s.kernel_h, s.kernel_w, cg}),
                       prod({s.batch, oh, ow, s.out_c}), s.out_c, s.out_c};
  std::size_t held[5];
  bool oversize = false;
  for (int i = 0; i < 5; ++i) {
    held[i] = static_cast<std::size_t>(std::min<u128>(need[i], max_elements));
    oversize = oversize || (need[i] > held[i] && (i < 3 || ((r.extras >> (i - 3)) & 1) != 0));
  }
  const u128 work = prod({need[2], s.kernel_h, s.kernel_w, cg});
  if (!oversize && work > 400000) oversize = true;  // keep one input well under a millisecond or two
  x.oh = static_cast<std::size_t>(std::min<u128>(oh, size_max));
  x.ow = static_cast<std::size_t>(std::min<u128>(ow, size_max));

  pool p;
  const std::size_t osz = elem_size(ck.out), xsz = elem_size(ck.x), wsz = elem_size(ck.w);
  const std::size_t ii = p.add("input", held[0] * xsz, 0, xsz), iw = p.add("weights", held[1] * wsz, 0, wsz);
  const std::size_t io = p.add("output", held[2] * osz, 0, osz);
  const std::size_t is = p.add("weight_scales", held[3] * 4, 0, 4), ib = p.add("bias", held[4] * 4, 0, 4);
  const unsigned sc = r.layout >> 4;
  if (sc == input_null) p.make_null(ii);
  if (sc == weights_null) p.make_null(iw);
  if (sc == output_null) p.make_null(io);
  if (sc == output_in_input) p.alias(io, ii, r.offset % (held[0] * xsz + 4));
  if (sc == output_in_weights) p.alias(io, iw, r.offset % (held[1] * wsz + 4));
  if (sc == output_at_input) p.alias(io, ii, 0);
  if (sc == extra_in_output) p.alias(r.offset % 2 ? ib : is, io, (r.offset >> 1) % (held[2] * osz + 4));
  if ((r.extras & 1) == 0 || oversize) p.make_null(is);
  if ((r.extras & 2) == 0 || oversize) p.make_null(ib);
  p.allocate(r.seed);
  if (!oversize) {
    fill_values(f, ck.x, p.storage(ii), held[0], r.x_values);
    fill_values(f, ck.w, p.storage(iw), held[1], r.w_values);
  }
  fill_scales(p.storage(is), held[3], f, r.ws_mode, r.bad_kind, r.bad_index);
  unsigned char* bias_store = p.storage(ib);
  for (std::size_t i = 0; i < held[4]; ++i) {
    const float v = gen_float(f, r.bias_values);
    std::memcpy(bias_store + 4 * i, &v, 4);
  }
  c.input = p.ptr(ii);
  c.weights = p.ptr(iw);
  c.output = p.ptr(io);
  c.weight_scales = reinterpret_cast<const float*>(p.ptr(is));
  c.bias = reinterpret_cast<const float*>(p.ptr(ib));
  if (c.weight_scales != nullptr) {
    x.ws.resize(held[3]);
    put(x.ws.data(), p.storage(is), held[3] * 4);
  }
  if (c.bias != nullptr) {
    x.bias.resize(held[4]);
    put(x.bias.data(), p.storage(ib), held[4] * 4);
  }

  expectation e = contract(x);
  // A call larger than an input's buffers runs only when it must be rejected
  // on its shape, pointers or scalars, before any element is read.
  if (oversize && !e.has({"shape", "null", "scalar", "enum", "input_bytes", "count_overflow"})) return skip();
  // packed_conv_weights packs all weights before the call's other checks: a
  // call too large for its buffers runs only when the constructor must
  // reject it (shape, null weights, layout).
  const int wl = static_cast<int>(o.weights);
  // (Only weights larger than their buffer: a call rejected for its input,
  // say, packs weights it holds first.)
  if (oversize && need[1] > held[1] && c.variant == 1 && !e.has({"shape"}) && c.weights != nullptr && (wl == 0 || wl == 1))
    return skip();
  const std::size_t pads_max = std::max({s.pad_top, s.pad_bottom, s.pad_left, s.pad_right});
  if (pads_max > 64) e.tag("huge_padding");  // a class with a known bug (allocation in proportion to the padding)
  if (std::max(s.stride_h, s.stride_w) > 64) e.tag("huge_stride");
  if (std::max(s.dilation_h, s.dilation_w) > 64) e.tag("huge_dilation");

  std::string& ctx = context();
  static const char* const variants[] = {"weights packed per call", "packed_conv_weights", "7 arguments"};
  ctx = std::string("fp8::conv2d (") + variants[c.variant] + "): input " + kind_names[ck.x] + ", weights " +
        kind_names[ck.w] + ", output " + kind_names[ck.out] + "\n  shape: batch " + std::to_string(s.batch) +
        ", in " + std::to_string(s.in_h) + " x " + std::to_string(s.in_w) + " x " + std::to_string(s.in_c) +
        ", out_c " + std::to_string(s.out_c) + ", kernel " + std::to_string(s.kernel_h) + " x " +
        std::to_string(s.kernel_w) + ", stride " + std::to_string(s.stride_h) + ", " + std::to_string(s.stride_w) +
        ", pad top " + std::to_string(s.pad_top) + " left " + std::to_string(s.pad_left) + " bottom " +
        std::to_string(s.pad_bottom) + " right " + std::to_string(s.pad_right) + ", dilation " +
        std::to_string(s.dilation_h) + ", " + std::to_string(s.dilation_w) + ", groups " + std::to_string(s.groups) +
        "\n  output " + std::to_string(x.oh) + " x " + std::to_string(x.ow) + ", input_scale " + fnum(c.input_scale) +
        "\n  options: threads " + std::to_string(o.threads) + ", act " + std::to_string(static_cast<int>(o.act)) +
        ", clamp [" + fnum(o.clamp_lo) + ", " + fnum(o.clamp_hi) + "], input_layout " +
        std::to_string(static_cast<int>(o.input_layout)) + ", output_layout " +
        std::to_string(static_cast<int>(o.output_layout)) + ", weights " + std::to_string(static_cast<int>(o.weights)) +
        ", output_scale " + fnum(o.output_scale) + ", output_overflow " +
        std::to_string(static_cast<int>(o.output_overflow)) + "\n" + p.layout();
  const auto show = [&](const char* name, const std::vector<float>& v) {
    if (v.empty()) return;
    ctx += std::string("  ") + name + ":";
    for (std::size_t i = 0; i < std::min<std::size_t>(v.size(), 6); ++i) ctx += " " + num(v[i]);
    ctx += "\n";
  };
  show("weight_scales", x.ws);
  show("bias", x.bias);

  if (!oversize) p.may_change(io, 0, held[2] * osz);
  const std::vector<unsigned char> x0(p.storage(ii), p.storage(ii) + held[0] * xsz);
  const std::vector<unsigned char> w0(p.storage(iw), p.storage(iw) + held[1] * wsz);
  std::size_t largest = 0;
  const auto the_call = [&] {
    largest_allocation().store(0);
    if (c.combo < 4)
      fzconv::call_a(c);
    else if (c.combo < 8)
      fzconv::call_b(c);
    else if (c.combo < 12)
      fzconv::call_c(c);
    else if (c.combo < 17)
      fzconv::call_d(c);
    else
      fzconv::call_e(c);
    largest = largest_allocation().load();
  };
  const auto check = [&] {
    // Padding must cost no memory: no single allocation far beyond what the
    // unpadded tensors (and a border as wide as the dilated kernel) need.
    const u128 span_h = static_cast<u128>(s.dilation_h) * (s.kernel_h - 1) + 1;
    const u128 span_w = static_cast<u128>(s.dilation_w) * (s.kernel_w - 1) + 1;
    const u128 bordered = prod({s.batch, s.in_h + 2 * span_h, s.in_w + 2 * span_w, s.in_c});
    const u128 budget = (static_cast<u128>(16) << 20) + 256 * (need[0] + need[1] + need[2] + bordered);
    if (largest > budget)
      fail("one allocation of " + std::to_string(largest) + " bytes during the call; the tensors without padding need "
           "about " + std::to_string(static_cast<unsigned long long>(budget)) + " (allocation in proportion to the padding?)");
    if (need[2] == 0) return;
    conv_values val;
    val.x.resize(held[0]);
    val.w.resize(held[1]);
    for (std::size_t i = 0; i < held[0]; ++i) val.x[i] = value_at(ck.x, x0.data(), i);
    for (std::size_t i = 0; i < held[1]; ++i) val.w[i] = value_at(ck.w, w0.data(), i);
    const bool nchw_out = c.variant != 2 && o.output_layout == fp8::tensor_layout::nchw;
    const int act = c.variant == 2 ? 0 : static_cast<int>(o.act);
    const double lo = act == 2 ? static_cast<double>(o.clamp_lo) : 0.0, hi = act == 2 ? static_cast<double>(o.clamp_hi) : 0.0;
    const auto* out = static_cast<const unsigned char*>(c.output);
    for (std::size_t n = 0; n < s.batch; ++n)
      for (std::size_t oy = 0; oy < x.oh; ++oy)
        for (std::size_t ox = 0; ox < x.ow; ++ox)
          for (std::size_t oc = 0; oc < s.out_c; ++oc) {
            double v, bound;
            const accept_set set = activate(reference(x, val, n, oy, ox, oc, v, bound), act, lo, hi);
            const std::size_t at = nchw_out ? ((n * s.out_c + oc) * x.oh + oy) * x.ow + ox
                                            : ((n * x.oh + oy) * x.ow + ox) * s.out_c + oc;
            std::string got;
            const bool ok = accepts_output(ck.out, set, out, at, static_cast<double>(o.output_scale),
                                            o.output_overflow == fp8::overflow::saturate, got);
            if (!ok)
              fail("output[n=" + std::to_string(n) + "][oh=" + std::to_string(oy) + "][ow=" + std::to_string(ox) +
                   "][oc=" + std::to_string(oc) + "] = " + got + ", expected within " + set.str() +
                   " (exact value before the activation " + num(v) + " +- " + num(bound) + ")");
          }
  };
  execute(e, p, the_call, check);
}

// ---------------------------------------------------------------- seeds
constexpr u32 nice(u32 index) { return index; }                    // decode_float: 1, 0.5, 2, 0.25, 3, ...
constexpr u32 special(u32 index) { return 0xA0000000u | index; }  // 0, -0, NaN, -NaN, Inf, -Inf, FLT_MAX, ...
constexpr u16 huge(u16 index) { return static_cast<u16>(0xF000u | index); }  // decode_size: 0, 1, SIZE_MAX, ...
constexpr u16 tied(u16 option) { return static_cast<u16>(0xE000u | option); }  // stride: p0, p1, p0 + p1, ...
constexpr u8 scenario_of(unsigned s) { return static_cast<u8>(s << 4); }

std::vector<seed<raw>> seeds() {
  std::vector<seed<raw>> v;
  const auto V = expectation::valid, I = expectation::invalid;
  raw base;
  base.in_c = 3;  // 4 channels
  base.out_c = 4;  // 5 channels
  base.kernel_h = base.kernel_w = 2;  // 3 x 3
  base.pad_top = base.pad_left = base.pad_bottom = base.pad_right = 1;
  base.in_h = 3;
  base.in_w = 4;
  base.dilation_h = base.dilation_w = 1;
  base.input_scale = nice(1);
  base.x_values = base.w_values = 1;
  base.bias_values = 1;
  base.seed = 11;
  auto with = [&](const std::string& name, int verdict, u8 combo, auto&& edit) {
    raw r = base;
    r.combo = combo;
    edit(r);
    v.push_back({name, r, verdict});
  };
  for (u8 cb = 0; cb < fzconv::combo_count; ++cb) {
    const std::string t = std::string(kind_names[combos[cb].x]) + "_" + kind_names[combos[cb].w] + "_" +
                          kind_names[combos[cb].out];
    with("valid_" + t, V, cb, [&](raw& r) { r.variant = 0; r.extras = 3; r.in_layout = cb % 2; r.w_layout = cb / 2 % 2; });
    with("valid_" + t + "_packed", V, cb, [&](raw& r) { r.variant = 1; r.out_layout = 1; r.act = 1; r.batch = 1; });
  }
  with("valid_seven_arguments", V, 0, [](raw& r) { r.variant = 2; r.extras = 3; });
  with("valid_depthwise", V, 0, [](raw& r) { r.groups = 6; r.in_c = 5; r.out_c = 0; r.extras = 1; });
  with("valid_depthwise_multiplier", V, 3, [](raw& r) { r.groups = 6; r.in_c = 9; r.out_c = 1; r.stride_h = 1; });
  with("valid_groups_3", V, 2, [](raw& r) { r.groups = 5; r.in_c = 1; r.out_c = 2; r.dilation_h = 4; });
  with("valid_stride_dilation", V, 1, [](raw& r) { r.stride_h = 1; r.stride_w = 2; r.dilation_w = 4; r.in_w = 5; });
  with("valid_1x1_pointwise", V, 0, [](raw& r) { r.kernel_h = r.kernel_w = 0; r.pad_top = r.pad_left = r.pad_bottom = r.pad_right = 0; });
  with("valid_clamp_fp8_out", V, 2, [](raw& r) { r.act = 2; r.clamp_lo = nice(9); r.clamp_hi = nice(8); r.output_scale = 0x40000000u | nice(2); r.output_overflow = 1; });
  with("valid_threads", V, 0, [](raw& r) { r.threads = 0xC2; r.in_h = 5; r.in_w = 5; r.batch = 2; });
  with("valid_special_codes", V, 3, [](raw& r) { r.x_values = 0; r.extras = 2; r.bias_values = 0; });
  // The padding must cost nothing: 2 x 4 output, pad_top = stride_h = 2^62.
  with("valid_pad_top_stride_2p62", V, 0, [](raw& r) {
    r.batch = 0; r.in_h = 0; r.in_w = 3; r.in_c = 1; r.out_c = 0; r.kernel_h = r.kernel_w = 0;
    r.pad_top = huge(10); r.pad_left = r.pad_bottom = r.pad_right = 0; r.stride_h = tied(0);
  });
  // Depthwise C4, pad_left = stride_w = 2^61.
  with("valid_depthwise_pad_left_stride_2p61", V, 0, [](raw& r) {
    r.groups = 6; r.in_c = 2; r.out_c = 0; r.kernel_h = r.kernel_w = 0; r.in_h = 1; r.in_w = 3;
    r.pad_left = huge(9); r.pad_top = r.pad_bottom = r.pad_right = 0; r.stride_w = tied(0);
  });
  with("valid_pad_bottom_huge_nchw", V, 3, [](raw& r) {
    r.pad_bottom = huge(11); r.pad_top = 0; r.stride_h = tied(1); r.in_layout = 1; r.out_layout = 1; r.w_layout = 1;
  });
  // A huge stride alone (no padding), on the AVX512-BF16 direct path (even channels).
  with("valid_stride_w_huge", V, 0, [](raw& r) { r.pad_left = r.pad_right = 0; r.stride_w = huge(6); r.dilation_w = 4; });
  // half output (combos 8-11).
  with("valid_half_out_overflow", V, 8, [](raw& r) { r.input_scale = nice(25); r.extras = 2; });
  with("valid_half_out_subnormal", V, 9, [](raw& r) {
    r.input_scale = nice(24); r.extras = 1; r.ws_mode = 1; r.out_c = 7; r.x_values = r.w_values = 2;  // 0.01 * 2^-20..2^20 * small sums
  });
  with("valid_half_out_depthwise", V, 10, [](raw& r) { r.groups = 6; r.in_c = 5; r.out_c = 1; r.extras = 3; });
  with("valid_half_out_clamp_nchw", V, 11, [](raw& r) {
    r.act = 2; r.clamp_lo = nice(9); r.clamp_hi = nice(25); r.in_layout = 1; r.out_layout = 1; r.w_layout = 1; r.extras = 3;
  });
  with("valid_half_out_threads_special", V, 8, [](raw& r) { r.threads = 0xC2; r.in_h = 5; r.in_w = 5; r.batch = 2; r.x_values = 0; r.w_values = 0; });
  with("valid_half_out_pointwise", V, 9, [](raw& r) { r.kernel_h = r.kernel_w = 0; r.pad_top = r.pad_left = r.pad_bottom = r.pad_right = 0; r.variant = 1; });
  with("invalid_half_out_output_scale", I, 10, [](raw& r) { r.output_scale = 0xE0000000u | nice(2); });
  with("invalid_half_output_in_input", I, 11, [](raw& r) { r.layout = scenario_of(output_in_input); r.offset = 9; });
  with("invalid_half_bias_in_output", I, 8, [](raw& r) { r.extras = 2; r.layout = scenario_of(extra_in_output); r.offset = 1 + 2 * 5; });
  // bfloat16, half and float input, bfloat16 and half weights (combos 12-21).
  // The flush rule, exact (as fuzz_gemm's): 1 x 1 kernel, 2 channels, one pixel, one output channel.
  const auto one_pixel = [](raw& r) {
    r.kernel_h = r.kernel_w = 0; r.pad_top = r.pad_left = r.pad_bottom = r.pad_right = 0;
    r.in_h = r.in_w = 0; r.in_c = 1; r.out_c = 0; r.extras = 0; r.x_values = r.w_values = 0; r.seed = 0;
  };
  // bfloat16 x = {2^-64, 1.5 2^-64}, w = {2^-64, 2^-70}: 2^-128 + 1.5 2^-134 (float subnormal).
  const std::vector<u8> bf16_tiny = {0x00, 0x00, 0x80, 0x1F, 0x00, 0x00, 0xC0, 0x1F,
                                     0x00, 0x00, 0x80, 0x1F, 0x00, 0x00, 0x80, 0x1C};
  with("valid_bf16_flush_exact", V, 15, [&](raw& r) { one_pixel(r); });
  v.back().tail = bf16_tiny;
  with("valid_bf16_flush_exact_packed", V, 15, [&](raw& r) { one_pixel(r); r.variant = 1; });
  v.back().tail = bf16_tiny;
  with("valid_bf16_flush_exact_seven_arguments", V, 15, [&](raw& r) { one_pixel(r); r.variant = 2; });
  v.back().tail = bf16_tiny;
  // E5M2FNUZ x = {2^-17, 2^-16}, bfloat16 w = {2^-112, 2^-110}: 2^-129 + 2^-126 (bfloat16 output).
  with("valid_bf16_flush_exact_fp8_in", V, 16, [&](raw& r) { one_pixel(r); });
  v.back().tail = {0x01, 0x02, 0x00, 0x00, 0x80, 0x07, 0x00, 0x00, 0x80, 0x08};
  // bfloat16 x = {1, 2^-9}, w = {2^-133 (subnormal), 2^-120}: 2^-133 + 2^-129.
  with("valid_bf16_flush_subnormal_w_packed", V, 15, [&](raw& r) { one_pixel(r); r.variant = 1; });
  v.back().tail = {0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x3B, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x80, 0x03};
  // Random tiny bfloat16 (mode 0xF0 + c: exponents around -64 - 4c, some subnormal).
  with("valid_bf16_tiny", V, 15, [](raw& r) { r.x_values = r.w_values = 0xF0; r.extras = 0; });
  with("valid_bf16_tiny_packed_nchw", V, 15, [](raw& r) {
    r.x_values = 0xF1; r.w_values = 0xF0; r.extras = 0; r.variant = 1; r.in_layout = 1; r.w_layout = 1;
  });
  with("valid_bf16_tiny_odd_channels", V, 15, [](raw& r) { r.x_values = r.w_values = 0xF0; r.extras = 0; r.in_c = 2; });
  with("valid_bf16_tiny_w_fp8_in", V, 16, [](raw& r) { r.x_values = 2; r.w_values = 0xFC; r.extras = 0; });
  with("valid_bf16_tiny_w_fp8_in_packed", V, 16, [](raw& r) { r.x_values = 2; r.w_values = 0xFE; r.extras = 0; r.variant = 1; });
  with("valid_bf16_tiny_depthwise", V, 15, [](raw& r) { r.x_values = r.w_values = 0xF0; r.extras = 0; r.groups = 6; r.in_c = 5; r.out_c = 0; });
  with("valid_float_in_huge_and_tiny", V, 18, [](raw& r) { r.x_values = 3; r.w_values = 3; });
  with("valid_float_in_half_out", V, 14, [](raw& r) { r.extras = 1; r.ws_mode = 1; r.x_values = 1; });
  with("valid_float_in_threads", V, 20, [](raw& r) { r.threads = 0xC2; r.in_h = 5; r.in_w = 5; r.batch = 2; });
  with("valid_float_in_pointwise_packed", V, 18, [](raw& r) {
    r.kernel_h = r.kernel_w = 0; r.pad_top = r.pad_left = r.pad_bottom = r.pad_right = 0; r.variant = 1;
  });
  with("valid_float_in_special", V, 18, [](raw& r) { r.x_values = 0; r.extras = 2; r.bias_values = 0; });
  with("valid_half_in_half_w_depthwise", V, 17, [](raw& r) { r.groups = 6; r.in_c = 5; r.out_c = 1; r.extras = 3; });
  with("valid_half_in_grouped_stride", V, 13, [](raw& r) { r.groups = 5; r.in_c = 1; r.out_c = 2; r.stride_w = 2; r.dilation_h = 4; });
  with("valid_half_in_subnormal", V, 17, [](raw& r) { r.x_values = 4; r.w_values = 3; r.extras = 2; });
  with("valid_half_w_special", V, 21, [](raw& r) { r.x_values = 0; r.w_values = 0; });
  with("valid_bf16_in_special_nchw", V, 12, [](raw& r) { r.x_values = 0; r.in_layout = 1; r.out_layout = 1; r.extras = 3; });
  with("valid_bf16_in_half_w_clamp_fp8_out_packed", V, 19, [](raw& r) {
    r.act = 2; r.clamp_lo = nice(9); r.clamp_hi = nice(8); r.output_scale = 0x40000000u | nice(6); r.output_overflow = 1; r.variant = 1;
  });
  // Input bytes past size_t: 2^61 x 1 pixels of 4 channels, 2^63 elements (a 1 x 1 kernel, stride_h 2^61).
  const auto huge_input = [](raw& r) {
    r.kernel_h = r.kernel_w = 0; r.pad_top = r.pad_left = r.pad_bottom = r.pad_right = 0;
    r.in_h = huge(9); r.in_w = 0x8001; r.stride_h = huge(9);  // in_w 1
  };
  with("invalid_float_input_bytes", I, 18, huge_input);
  with("invalid_bf16_input_bytes_packed", I, 15, [&](raw& r) { huge_input(r); r.variant = 1; });
  with("invalid_half_input_bytes_nchw", I, 13, [&](raw& r) { huge_input(r); r.in_layout = 1; });  // 2^64 bytes
  // The output from the input's or the weights' last byte: inside only because their elements are 2 bytes.
  with("invalid_output_in_bf16_input_last_byte", I, 12, [](raw& r) { r.layout = scenario_of(output_in_input); r.offset = 2 * 4 * 5 * 4 - 1; });
  with("invalid_output_in_half_weights_last_byte", I, 17, [](raw& r) { r.layout = scenario_of(output_in_weights); r.offset = 2 * 5 * 9 * 4 - 1; });
  with("invalid_output_in_float_input", I, 14, [](raw& r) { r.layout = scenario_of(output_in_input); r.offset = 200; });
  with("invalid_float_input_null", I, 18, [](raw& r) { r.layout = scenario_of(input_null); });
  with("invalid_bf16_weights_null_packed", I, 16, [](raw& r) { r.layout = scenario_of(weights_null); r.variant = 1; });
  with("invalid_half_in_input_scale_nan", I, 13, [](raw& r) { r.input_scale = special(2); });
  with("invalid_float_in_bias_in_output", I, 20, [](raw& r) { r.extras = 2; r.layout = scenario_of(extra_in_output); r.offset = 1 + 2 * 5; });
  with("invalid_batch_zero", I, 0, [](raw& r) { r.batch = huge(0); });
  with("invalid_kernel_zero", I, 1, [](raw& r) { r.kernel_w = huge(0); });
  with("invalid_stride_zero", I, 0, [](raw& r) { r.stride_h = huge(0); });
  with("invalid_dilation_zero", I, 3, [](raw& r) { r.dilation_w = huge(0); });
  with("invalid_groups_not_dividing", I, 0, [](raw& r) { r.groups = 7 + 8 * 1; });
  with("invalid_kernel_too_large", I, 2, [](raw& r) { r.in_h = 0x8001; r.kernel_h = 3; r.pad_top = r.pad_bottom = 0; });
  with("invalid_padding_overflow", I, 0, [](raw& r) { r.pad_top = huge(2); r.pad_bottom = huge(2); });
  with("invalid_output_size_overflow", I, 0, [](raw& r) { r.pad_top = huge(11); r.stride_h = 1; });
  with("invalid_input_null", I, 0, [](raw& r) { r.layout = scenario_of(input_null); });
  with("invalid_weights_null", I, 1, [](raw& r) { r.layout = scenario_of(weights_null); });
  with("invalid_weights_null_packed", I, 1, [](raw& r) { r.layout = scenario_of(weights_null); r.variant = 1; });
  with("invalid_output_null", I, 3, [](raw& r) { r.layout = scenario_of(output_null); });
  with("invalid_input_scale_zero", I, 0, [](raw& r) { r.input_scale = special(0); });
  with("invalid_input_scale_nan", I, 2, [](raw& r) { r.input_scale = special(2); });
  with("invalid_input_scale_subnormal", I, 0, [](raw& r) { r.input_scale = special(9); });
  with("invalid_weight_scale_negative", I, 0, [](raw& r) { r.extras = 1; r.bad_kind = 3; });
  with("invalid_weight_scale_inf", I, 3, [](raw& r) { r.extras = 1; r.bad_kind = 5; r.bad_index = 2; });
  with("invalid_weight_scale_range", I, 0, [](raw& r) { r.extras = 1; r.bad_kind = 7; r.input_scale = nice(8); });
  with("invalid_output_scale_float", I, 0, [](raw& r) { r.output_scale = 0xE0000000u | nice(2); });
  with("invalid_clamp_order", I, 1, [](raw& r) { r.act = 2; r.clamp_lo = nice(8); r.clamp_hi = 0x80000000u | nice(0); });
  with("invalid_act_enum", I, 0, [](raw& r) { r.act = 0xF0; });
  with("invalid_input_layout_enum", I, 1, [](raw& r) { r.in_layout = 0xF0; });
  with("invalid_output_layout_enum", I, 3, [](raw& r) { r.out_layout = 0xF2; });
  with("invalid_weight_layout_enum", I, 0, [](raw& r) { r.w_layout = 0xF1; });
  with("invalid_weight_layout_enum_packed", I, 3, [](raw& r) { r.w_layout = 0xF1; r.variant = 1; });
  with("invalid_output_overflow_enum", I, 2, [](raw& r) { r.output_overflow = 0xF0; });
  with("invalid_output_in_input", I, 0, [](raw& r) { r.layout = scenario_of(output_in_input); r.offset = 8; });
  with("invalid_output_at_input", I, 2, [](raw& r) { r.layout = scenario_of(output_at_input); });
  with("invalid_output_in_weights", I, 0, [](raw& r) { r.layout = scenario_of(output_in_weights); r.offset = 4; });
  with("invalid_bias_in_output", I, 1, [](raw& r) { r.extras = 2; r.layout = scenario_of(extra_in_output); r.offset = 1 + 2 * 6; });
  with("invalid_weight_scales_in_output", I, 3, [](raw& r) { r.extras = 1; r.layout = scenario_of(extra_in_output); r.offset = 0; });
  return v;
}

}  // namespace

FZ_ENTRY_POINTS(install_allocation_hook())
