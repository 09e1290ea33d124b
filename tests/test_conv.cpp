// SPDX-License-Identifier: Apache-2.0
// fp8::conv2d against an independent double-precision direct convolution:
// input and weight codes are decoded with tests/reference.hpp (std::ldexp
// from the spec's formula, no code shared with include/fp8), and the seven
// nested loops of the textbook definition (NHWC input, OHWI weights, groups,
// each padding side, stride, dilation) sum the products in double. Each
// output element must come from some value inside the bound of the API,
//   |v - exact| <= (K + 8) 2^-23 |input_scale * ws[oc]| sum |x||w| + 2^-23 |bias|
// (K = kernel_h * kernel_w * in_c / groups), passed through the activation
// and then the output type's one rounding: float is checked against the
// interval itself, bfloat16 against the interval's ends rounded to nearest
// even (a rounding written here with std::nearbyint), FP8 against the codes
// the reference encoder (nearest by search, ties to even) gives for the ends
// of the interval divided by output_scale (every rounding is monotone).
// Covered: every padding side alone, strides, dilations, groups 1, 2, 3,
// depthwise with channel multiplier 1 and 2, 1x1 and 7x7 kernels, batch > 1,
// K past the GEMM blocks, NCHW input and output and OIHW weights (transposed
// here from the canonical tensors), every epilogue (weight scales and bias
// null or not, ReLU, clamp, float / bfloat16 / E4M3 / E5M2 output with an
// output scale, saturating or not), mixed formats, random shapes for five
// format pairs, packed weights (same bits), threads 1..3 (same bits), guard
// elements around the output that must keep their NaN, and every bad
// argument of the API (named, output untouched). Inputs and weights are
// allocated at their exact sizes, so the sanitizers see any over-read. About
// 3-6 s in Release, 5 s under ASan + UBSan (a smaller random sweep).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <fp8/fp8.hpp>

#include "formats.hpp"
#include "tiers.hpp"

namespace {

using fp8::conv2d_shape;
using fp8::tensor_layout;
using fp8::weight_layout;

constexpr bool sanitized = FP8_TEST_SANITIZED != 0;
constexpr double unit = 0x1p-23;   // the API's u: 2^-23
constexpr std::size_t guard = 17;  // NaN elements on each side of the output
constexpr double inf = std::numeric_limits<double>::infinity();

std::size_t pick(std::mt19937& g, std::size_t lo, std::size_t hi) {
  return std::uniform_int_distribution<std::size_t>(lo, hi)(g);
}
float uniform(std::mt19937& g, float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(g); }

struct dims {
  std::size_t n, h, w, c;
};

// All fields by name (order as conv2d_shape declares them).
conv2d_shape make_shape(dims in, std::size_t out_c, std::size_t kh, std::size_t kw, std::size_t sh = 1,
                        std::size_t sw = 1, std::size_t pt = 0, std::size_t pl = 0, std::size_t pb = 0,
                        std::size_t pr = 0, std::size_t dh = 1, std::size_t dw = 1, std::size_t groups = 1) {
  conv2d_shape s{};
  s.batch = in.n;
  s.in_h = in.h;
  s.in_w = in.w;
  s.in_c = in.c;
  s.out_c = out_c;
  s.kernel_h = kh;
  s.kernel_w = kw;
  s.stride_h = sh;
  s.stride_w = sw;
  s.pad_top = pt;
  s.pad_left = pl;
  s.pad_bottom = pb;
  s.pad_right = pr;
  s.dilation_h = dh;
  s.dilation_w = dw;
  s.groups = groups;
  return s;
}

// Output extent from the definition, in signed arithmetic: the number of
// window positions p = 0, 1, ... with p * stride + (k - 1) * d <= in + p0 + p1 - 1.
std::size_t out_extent(std::size_t in, std::size_t p0, std::size_t p1, std::size_t k, std::size_t d, std::size_t st) {
  const long long last = static_cast<long long>(in + p0 + p1) - 1 - static_cast<long long>((k - 1) * d);
  std::size_t count = 0;
  for (long long p = 0; p <= last; p += static_cast<long long>(st)) ++count;
  return count;
}

std::string describe(const conv2d_shape& s) {
  std::ostringstream o;
  o << "N" << s.batch << " " << s.in_h << "x" << s.in_w << "x" << s.in_c << " -> " << s.out_c << " k" << s.kernel_h
    << "x" << s.kernel_w << " stride " << s.stride_h << "," << s.stride_w << " pad t" << s.pad_top << " l" << s.pad_left
    << " b" << s.pad_bottom << " r" << s.pad_right << " dil " << s.dilation_h << "," << s.dilation_w << " groups "
    << s.groups;
  return o.str();
}

// ---------------------------------------------------------------------------
// The reference.

template <class F>
fp8::fp8<F> random_code(std::mt19937& g) {
  std::uniform_int_distribution<unsigned> d(0, 255);
  for (;;) {
    const unsigned c = d(g);
    if (std::isfinite(ref::decode(spec_of<F>(), c))) return fp8::fp8<F>::from_bits(static_cast<std::uint8_t>(c));
  }
}

// The element types of input and weights: an FP8 format in the type lists
// stands for its codes, bfloat16, half and float for themselves.
template <class X>
constexpr bool is_wide = std::is_same<X, fp8::bfloat16>::value || std::is_same<X, fp8::half>::value ||
                         std::is_same<X, float>::value;
template <class X>
using elem_t = typename std::conditional<is_wide<X>, X, fp8::fp8<X>>::type;
template <class X>
const char* type_name() {
  if constexpr (std::is_same<X, fp8::bfloat16>::value)
    return "bfloat16";
  else if constexpr (std::is_same<X, fp8::half>::value)
    return "half";
  else if constexpr (std::is_same<X, float>::value)
    return "float";
  else
    return X::name;
}

// Random values of the wide types: random sign and mantissa, exponents in
// [-6, 6] (products and sums stay far inside float), +-0 one time in 32;
// their exact values from the bits (half by its field formula, bfloat16 as a
// float's high half), without the library.
template <class X>
X random_element(std::mt19937& g) {
  if constexpr (!is_wide<X>) {
    return random_code<typename X::format>(g);
  } else {
    const auto r = static_cast<std::uint32_t>(g());
    const std::uint32_t sign = (r >> 5) & 1u, e = static_cast<std::uint32_t>(static_cast<int>((r >> 6) % 13u) - 6);
    const bool zero = (r & 31u) == 0;
    if constexpr (std::is_same<X, fp8::bfloat16>::value)
      return X::from_bits(static_cast<std::uint16_t>(sign << 15 | (zero ? 0u : (e + 127u) << 7 | (r >> 16 & 0x7Fu))));
    else if constexpr (std::is_same<X, fp8::half>::value)
      return X::from_bits(static_cast<std::uint16_t>(sign << 15 | (zero ? 0u : (e + 15u) << 10 | (r >> 16 & 0x3FFu))));
    else
      return float_from_bits(sign << 31 | (zero ? 0u : (e + 127u) << 23 | (static_cast<std::uint32_t>(g()) & 0x7FFFFFu)));
  }
}
template <class F>
double exact_value(fp8::fp8<F> v) {
  return ref::decode(spec_of<F>(), v.bits());
}
double exact_value(fp8::bfloat16 v) { return static_cast<double>(float_from_bits(static_cast<std::uint32_t>(v.bits()) << 16)); }
double exact_value(fp8::half v) {
  const unsigned b = v.bits(), e = (b >> 10) & 0x1Fu, m = b & 0x3FFu;
  const double x = e == 0 ? std::ldexp(m, -24) : e == 31 ? (m != 0 ? std::nan("") : inf) : std::ldexp(m + 1024, static_cast<int>(e) - 25);
  return (b & 0x8000u) != 0 ? -x : x;
}
double exact_value(float v) { return static_cast<double>(v); }

// A convolution with random codes, its canonical tensors (input NHWC,
// weights OHWI) and, per output element in NHWC order, the exact sum S and
// sum |x||w| computed in double from the reference decoding.
template <class FX, class FW>
struct problem {
  conv2d_shape s{};
  std::size_t oh = 0, ow = 0, cg = 0, taps = 0;  // taps = K
  std::vector<elem_t<FX>> x;                     // [n][h][w][c]
  std::vector<elem_t<FW>> w;                     // [oc][kh][kw][c / groups]
  std::vector<double> sum, abs;                  // [n][oh][ow][oc]
  std::size_t outputs() const { return sum.size(); }
};

template <class FX, class FW>
problem<FX, FW> make_problem(const conv2d_shape& s, std::mt19937& g) {
  problem<FX, FW> p;
  p.s = s;
  p.oh = out_extent(s.in_h, s.pad_top, s.pad_bottom, s.kernel_h, s.dilation_h, s.stride_h);
  p.ow = out_extent(s.in_w, s.pad_left, s.pad_right, s.kernel_w, s.dilation_w, s.stride_w);
  p.cg = s.in_c / s.groups;
  p.taps = s.kernel_h * s.kernel_w * p.cg;
  p.x.resize(s.batch * s.in_h * s.in_w * s.in_c);
  p.w.resize(s.out_c * s.kernel_h * s.kernel_w * p.cg);
  for (auto& v : p.x) v = random_element<elem_t<FX>>(g);
  for (auto& v : p.w) v = random_element<elem_t<FW>>(g);
  std::vector<double> xd(p.x.size()), wd(p.w.size());
  for (std::size_t i = 0; i < xd.size(); ++i) xd[i] = exact_value(p.x[i]);
  for (std::size_t i = 0; i < wd.size(); ++i) wd[i] = exact_value(p.w[i]);
  const std::size_t per_group = s.out_c / s.groups;
  p.sum.assign(s.batch * p.oh * p.ow * s.out_c, 0.0);
  p.abs.assign(p.sum.size(), 0.0);
  const auto H = static_cast<long long>(s.in_h), W = static_cast<long long>(s.in_w);
  for (std::size_t n = 0; n < s.batch; ++n)
    for (std::size_t oy = 0; oy < p.oh; ++oy)
      for (std::size_t ox = 0; ox < p.ow; ++ox)
        for (std::size_t oc = 0; oc < s.out_c; ++oc) {
          const std::size_t group = oc / per_group;
          double sm = 0, ab = 0;
          for (std::size_t ky = 0; ky < s.kernel_h; ++ky) {
            const long long iy =
                static_cast<long long>(oy * s.stride_h + ky * s.dilation_h) - static_cast<long long>(s.pad_top);
            if (iy < 0 || iy >= H) continue;  // a tap in the padding contributes 0
            for (std::size_t kx = 0; kx < s.kernel_w; ++kx) {
              const long long ix =
                  static_cast<long long>(ox * s.stride_w + kx * s.dilation_w) - static_cast<long long>(s.pad_left);
              if (ix < 0 || ix >= W) continue;
              for (std::size_t ci = 0; ci < p.cg; ++ci) {
                const double xv =
                    xd[((n * s.in_h + static_cast<std::size_t>(iy)) * s.in_w + static_cast<std::size_t>(ix)) * s.in_c +
                       group * p.cg + ci];
                const double wv = wd[((oc * s.kernel_h + ky) * s.kernel_w + kx) * p.cg + ci];
                sm += xv * wv;
                ab += std::fabs(xv * wv);
              }
            }
          }
          const std::size_t i = ((n * p.oh + oy) * p.ow + ox) * s.out_c + oc;
          p.sum[i] = sm;
          p.abs[i] = ab;
        }
  return p;
}

// Layout transposes of the canonical tensors.
template <class T>
std::vector<T> nhwc_to_nchw(const std::vector<T>& v, dims d) {
  std::vector<T> r(v.size());
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t y = 0; y < d.h; ++y)
      for (std::size_t x = 0; x < d.w; ++x)
        for (std::size_t c = 0; c < d.c; ++c)
          r[((n * d.c + c) * d.h + y) * d.w + x] = v[((n * d.h + y) * d.w + x) * d.c + c];
  return r;
}
template <class T>
std::vector<T> ohwi_to_oihw(const std::vector<T>& v, std::size_t o, std::size_t kh, std::size_t kw, std::size_t ci) {
  std::vector<T> r(v.size());
  for (std::size_t a = 0; a < o; ++a)
    for (std::size_t y = 0; y < kh; ++y)
      for (std::size_t x = 0; x < kw; ++x)
        for (std::size_t c = 0; c < ci; ++c) r[((a * ci + c) * kh + y) * kw + x] = v[((a * kh + y) * kw + x) * ci + c];
  return r;
}
// Where canonical output element i = [n][oy][ox][oc] is stored.
std::size_t stored_index(tensor_layout l, std::size_t i, std::size_t oh, std::size_t ow, std::size_t oc_count) {
  if (l == tensor_layout::nhwc) return i;
  const std::size_t oc = i % oc_count, ox = (i / oc_count) % ow, oy = (i / oc_count / ow) % oh,
                    n = i / oc_count / ow / oh;
  return ((n * oc_count + oc) * oh + oy) * ow + ox;
}

// ---------------------------------------------------------------------------
// Epilogues and output types.

enum class out_kind { f32, bf16, f16, e4m3, e5m2, e4m3fnuz };
bool is_fp8_out(out_kind k) { return k == out_kind::e4m3 || k == out_kind::e5m2 || k == out_kind::e4m3fnuz; }
const char* name_of(out_kind k) {
  switch (k) {
    case out_kind::f32: return "float";
    case out_kind::bf16: return "bfloat16";
    case out_kind::f16: return "half";
    case out_kind::e4m3: return "E4M3";
    case out_kind::e5m2: return "E5M2";
    case out_kind::e4m3fnuz: return "E4M3FNUZ";
  }
  return "?";
}
const char* name_of(fp8::activation a) {
  return a == fp8::activation::none ? "none" : a == fp8::activation::relu ? "relu" : "clamp";
}

struct variant {
  out_kind out;
  bool scales, bias;
  fp8::activation act;
  fp8::overflow ovf;
};
constexpr auto sat = fp8::overflow::saturate, nonsat = fp8::overflow::non_saturating;
constexpr auto none = fp8::activation::none, relu = fp8::activation::relu, clamp = fp8::activation::clamp;
// Every epilogue feature appears with every output type at least once, but
// half, which adds only its output rounding to what bfloat16 tests.
const variant variants[] = {
    {out_kind::f32, false, false, none, sat},     {out_kind::f32, true, true, relu, sat},
    {out_kind::f32, true, false, clamp, sat},     {out_kind::f32, false, true, none, sat},
    {out_kind::bf16, false, true, none, sat},     {out_kind::bf16, true, true, relu, sat},
    {out_kind::bf16, true, false, clamp, sat},    {out_kind::e4m3, true, true, none, sat},
    {out_kind::e4m3, false, false, relu, nonsat}, {out_kind::e4m3, true, false, clamp, nonsat},
    {out_kind::e5m2, true, false, clamp, sat},    {out_kind::e5m2, false, true, none, nonsat},
    {out_kind::e5m2, true, true, relu, sat},      {out_kind::f16, true, true, clamp, sat},
};
constexpr std::size_t variant_count = sizeof(variants) / sizeof(variants[0]);

struct epilogue {
  float input_scale = 1.0f;
  std::vector<float> ws, bias;  // empty: pass nullptr
  fp8::activation act = none;
  float clamp_lo = 0.0f, clamp_hi = 0.0f;
  float output_scale = 1.0f;
  fp8::overflow ovf = sat;
};

double activate(const epilogue& e, double v) {
  switch (e.act) {
    case fp8::activation::none: return v;
    case fp8::activation::relu: return std::max(v, 0.0);
    case fp8::activation::clamp:
      return std::min(std::max(v, static_cast<double>(e.clamp_lo)), static_cast<double>(e.clamp_hi));
  }
  return v;
}

// The exact value before the activation, and the API's bound on the float
// result's distance to it.
template <class FX, class FW>
void exact_and_bound(const problem<FX, FW>& p, const epilogue& e, std::size_t i, double& v, double& bound) {
  const std::size_t oc = i % p.s.out_c;
  const double scale = static_cast<double>(e.input_scale) * (e.ws.empty() ? 1.0 : static_cast<double>(e.ws[oc]));
  const double b = e.bias.empty() ? 0.0 : static_cast<double>(e.bias[oc]);
  v = scale * p.sum[i] + b;
  bound = static_cast<double>(p.taps + 8) * unit * std::fabs(scale) * p.abs[i] + unit * std::fabs(b);
}

// The interval the library's float v may lie in, after the activation (which
// is monotone, so the ends map to the ends).
template <class FX, class FW>
void interval(const problem<FX, FW>& p, const epilogue& e, std::size_t i, double& lo, double& hi) {
  double v, bound;
  exact_and_bound(p, e, i, v, bound);
  lo = activate(e, v - bound);
  hi = activate(e, v + bound);
}

double format_max(out_kind k) {
  switch (k) {
    case out_kind::e4m3: return ref::e4m3.max;
    case out_kind::e5m2: return ref::e5m2.max;
    case out_kind::e4m3fnuz: return ref::e4m3fnuz.max;
    default: return 1.0;
  }
}

// Random scales and bias sized to the problem's values: bias comparable to
// the products so ReLU cuts, a clamp window inside the range, and for FP8
// output a scale that puts the largest outputs at 1.6 x the format's max (so
// some saturate or overflow, most do not).
template <class FX, class FW>
epilogue make_epilogue(const problem<FX, FW>& p, const variant& v, std::mt19937& g) {
  epilogue e;
  e.input_scale = uniform(g, 0.05f, 2.0f);
  if (v.scales) {
    e.ws.resize(p.s.out_c);
    for (auto& x : e.ws) x = uniform(g, 0.25f, 4.0f);
  }
  double mean = 0;
  for (std::size_t i = 0; i < p.outputs(); ++i) {
    double x, b;
    exact_and_bound(p, e, i, x, b);
    mean += std::fabs(x);
  }
  mean = p.outputs() == 0 ? 1.0 : mean / static_cast<double>(p.outputs());
  if (mean == 0.0 || !std::isfinite(mean)) mean = 1.0;
  if (v.bias) {
    e.bias.resize(p.s.out_c);
    for (auto& x : e.bias) x = static_cast<float>(static_cast<double>(uniform(g, -2.0f, 2.0f)) * mean);
  }
  double maxabs = 0;
  for (std::size_t i = 0; i < p.outputs(); ++i) {
    double x, b;
    exact_and_bound(p, e, i, x, b);
    maxabs = std::max(maxabs, std::fabs(x));
  }
  if (maxabs == 0.0) maxabs = 1.0;
  e.act = v.act;
  if (v.act == clamp) {
    e.clamp_lo = static_cast<float>(-0.3 * maxabs);
    e.clamp_hi = static_cast<float>(0.4 * maxabs);
  }
  if (is_fp8_out(v.out)) {
    double amax = 0;
    for (std::size_t i = 0; i < p.outputs(); ++i) {
      double x, b;
      exact_and_bound(p, e, i, x, b);
      amax = std::max(amax, std::fabs(activate(e, x)));
    }
    e.output_scale = amax == 0.0 ? 1.0f : static_cast<float>(amax / (format_max(v.out) * 1.6));
    if (!(e.output_scale > 0.0f) || !std::isfinite(e.output_scale)) e.output_scale = 1.0f;
  }
  e.ovf = v.ovf;
  return e;
}

// bfloat16 round to nearest even, by scaling to an integer grid (not bits):
// a value in [2^(e-1), 2^e) has 8 significant bits, so its ulp is 2^(e-8),
// at least the subnormal step 2^-133.
double round_bf16(double x) {
  if (x == 0.0 || !std::isfinite(x)) return x;
  int e;
  std::frexp(x, &e);
  const double ulp = std::ldexp(1.0, std::max(e - 8, -133));
  return std::nearbyint(x / ulp) * ulp;
}

// half likewise: 11 significant bits, subnormal step 2^-24, and beyond
// 65504 (the largest half) infinity.
double round_half(double x) {
  if (x == 0.0 || !std::isfinite(x)) return x;
  int e;
  std::frexp(x, &e);
  const double ulp = std::ldexp(1.0, std::max(e - 11, -24));
  const double y = std::nearbyint(x / ulp) * ulp;
  return std::fabs(y) > 65504.0 ? std::copysign(inf, x) : y;
}

template <class TO>
struct out_type;
template <>
struct out_type<float> {
  static float nan() { return std::numeric_limits<float>::quiet_NaN(); }
  static std::uint32_t bits(float x) { return float_bits(x); }
  static double value(float x) { return x; }
  static bool accepts(float got, double lo, double hi, const epilogue&) { return lo <= got && got <= hi; }
};
template <>
struct out_type<fp8::bfloat16> {
  static fp8::bfloat16 nan() { return fp8::bfloat16::from_bits(0x7FC1); }
  static std::uint32_t bits(fp8::bfloat16 x) { return x.bits(); }
  static double value(fp8::bfloat16 x) { return float_from_bits(std::uint32_t{x.bits()} << 16); }
  static bool accepts(fp8::bfloat16 got, double lo, double hi, const epilogue&) {
    const double v = value(got);
    return round_bf16(lo) <= v && v <= round_bf16(hi);
  }
};
template <>
struct out_type<fp8::half> {
  static fp8::half nan() { return fp8::half::from_bits(0x7E01); }
  static std::uint32_t bits(fp8::half x) { return x.bits(); }
  // From the fields: 2^(e-15) (1 + m/1024), subnormal 2^-24 m.
  static double value(fp8::half x) {
    const unsigned b = x.bits(), ex = (b >> 10) & 31u, m = b & 1023u;
    const double mag = ex == 31 ? (m != 0 ? std::numeric_limits<double>::quiet_NaN() : inf)
                       : ex == 0 ? std::ldexp(static_cast<double>(m), -24)
                                 : std::ldexp(static_cast<double>(m + 1024u), static_cast<int>(ex) - 25);
    return (b & 0x8000u) != 0 ? -mag : mag;
  }
  static bool accepts(fp8::half got, double lo, double hi, const epilogue&) {
    const double v = value(got);
    return round_half(lo) <= v && v <= round_half(hi);
  }
};
template <class F>
struct out_type<fp8::fp8<F>> {
  static fp8::fp8<F> nan() { return fp8::fp8<F>::from_bits(fp8::fp8<F>::traits::nan_code); }
  static std::uint32_t bits(fp8::fp8<F> x) { return x.bits(); }
  // Codes in increasing order of value; E4M3's non-saturating overflow code
  // (NaN with the input's sign) sits past +-max like an infinity.
  static double ordered(unsigned c) {
    const ref::format& f = spec_of<F>();
    if (f.kind == ref::family::fn && ref::is_nan(f, c)) return (c & 0x80) ? -inf : inf;
    return ref::decode(f, c);
  }
  static double value(fp8::fp8<F> x) { return ordered(x.bits()); }
  // v / output_scale rounds once in float (relative 2^-24, or 2^-149 near
  // zero); the interval is widened by that before encoding its ends.
  static bool accepts(fp8::fp8<F> got, double lo, double hi, const epilogue& e) {
    static const ref::table table(spec_of<F>());
    double a = lo / static_cast<double>(e.output_scale), b = hi / static_cast<double>(e.output_scale);
    a -= std::fabs(a) * unit + 0x1p-149;
    b += std::fabs(b) * unit + 0x1p-149;
    const bool saturate = e.ovf == fp8::overflow::saturate;
    const double ca = ordered(ref::encode(spec_of<F>(), table, a, saturate));
    const double cb = ordered(ref::encode(spec_of<F>(), table, b, saturate));
    const double v = ordered(got.bits());
    return ca <= v && v <= cb;
  }
};

struct layouts {
  tensor_layout in = tensor_layout::nhwc, out = tensor_layout::nhwc;
  weight_layout w = weight_layout::ohwi;
};
const layouts all_layouts[] = {
    {tensor_layout::nhwc, tensor_layout::nhwc, weight_layout::ohwi},
    {tensor_layout::nchw, tensor_layout::nchw, weight_layout::oihw},
    {tensor_layout::nchw, tensor_layout::nhwc, weight_layout::ohwi},
    {tensor_layout::nhwc, tensor_layout::nchw, weight_layout::oihw},
    {tensor_layout::nhwc, tensor_layout::nhwc, weight_layout::oihw},
    {tensor_layout::nchw, tensor_layout::nchw, weight_layout::ohwi},
    {tensor_layout::nchw, tensor_layout::nhwc, weight_layout::oihw},
    {tensor_layout::nhwc, tensor_layout::nchw, weight_layout::ohwi},
};
std::string describe(const layouts& l) {
  return std::string(l.in == tensor_layout::nhwc ? "in NHWC" : "in NCHW") +
         (l.out == tensor_layout::nhwc ? ", out NHWC" : ", out NCHW") +
         (l.w == weight_layout::ohwi ? ", w OHWI" : ", w OIHW");
}

template <class TO>
bool same_bits(const std::vector<TO>& a, const std::vector<TO>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (out_type<TO>::bits(a[i]) != out_type<TO>::bits(b[i])) return false;
  return true;
}

// Checks the elements and the guards of one output buffer (guard elements,
// the output, guard elements), all NaN before the call.
template <class TO, class FX, class FW>
void check_output(const problem<FX, FW>& p, const epilogue& e, tensor_layout l, const std::vector<TO>& out,
                  const std::string& what) {
  std::size_t bad = 0;
  const TO sentinel = out_type<TO>::nan();
  for (std::size_t i = 0; i < p.outputs(); ++i) {
    double lo, hi;
    interval(p, e, i, lo, hi);
    const TO got = out[guard + stored_index(l, i, p.oh, p.ow, p.s.out_c)];
    if (!out_type<TO>::accepts(got, lo, hi, e) && bad++ < 3) {
      const std::size_t oc = i % p.s.out_c, ox = (i / p.s.out_c) % p.ow, oy = (i / p.s.out_c / p.ow) % p.oh,
                        n = i / p.s.out_c / p.ow / p.oh;
      double v, bound;
      exact_and_bound(p, e, i, v, bound);
      FAIL_CHECK(what << ": out[n=" << n << "][oh=" << oy << "][ow=" << ox << "][oc=" << oc
                      << "] = " << out_type<TO>::value(got) << " (bits 0x" << std::hex << out_type<TO>::bits(got)
                      << std::dec << "), want act(" << v << " +- " << bound << ") in [" << lo << ", " << hi << "]");
    }
  }
  for (std::size_t i = 0; i < guard; ++i) {
    if (out_type<TO>::bits(out[i]) != out_type<TO>::bits(sentinel) && bad++ < 3)
      FAIL_CHECK(what << ": wrote before the output");
    const std::size_t j = out.size() - 1 - i;
    if (out_type<TO>::bits(out[j]) != out_type<TO>::bits(sentinel) && bad++ < 3)
      FAIL_CHECK(what << ": wrote past the output");
  }
  CHECK(bad == 0);
}

// One call of fp8::conv2d on the stored (possibly transposed) tensors,
// checked against the reference. extra: also packed weights and the other
// thread counts of 1..3, which must give the same bits.
template <class TO, class FX, class FW>
void run(const problem<FX, FW>& p, const epilogue& e, const layouts& l, std::size_t threads, bool extra,
         const std::string& what) {
  const conv2d_shape& s = p.s;
  const auto x = l.in == tensor_layout::nhwc ? p.x : nhwc_to_nchw(p.x, dims{s.batch, s.in_h, s.in_w, s.in_c});
  const auto w = l.w == weight_layout::ohwi ? p.w : ohwi_to_oihw(p.w, s.out_c, s.kernel_h, s.kernel_w, p.cg);
  const float* ws = e.ws.empty() ? nullptr : e.ws.data();
  const float* bias = e.bias.empty() ? nullptr : e.bias.data();
  fp8::conv2d_options o;
  o.threads = threads;
  o.act = e.act;
  o.clamp_lo = e.clamp_lo;
  o.clamp_hi = e.clamp_hi;
  o.input_layout = l.in;
  o.output_layout = l.out;
  o.weights = l.w;
  o.output_scale = e.output_scale;
  o.output_overflow = e.ovf;
  const TO sentinel = out_type<TO>::nan();
  std::vector<TO> out(guard + p.outputs() + guard, sentinel);
  fp8::conv2d(s, x.data(), e.input_scale, w.data(), ws, bias, out.data() + guard, o);
  const std::string full =
      what + " [" + describe(s) + "; " + describe(l) + "; threads " + std::to_string(threads) + "]";
  check_output(p, e, l.out, out, full);
  if (extra) {
    // Packed for the input type (float and half input: float panels).
    using X = typename std::conditional<std::is_same<FX, float>::value || std::is_same<FX, fp8::half>::value, float,
                                        fp8::bfloat16>::type;
    const fp8::packed_conv_weights<FW, X> packed(s, w.data(), l.w);
    for (std::size_t t = 1; t <= 3; ++t) {
      fp8::conv2d_options ot = o;
      ot.threads = t;
      std::vector<TO> again(out.size(), sentinel);
      fp8::conv2d(s, x.data(), e.input_scale, packed, ws, bias, again.data() + guard, ot);
      if (!same_bits(out, again)) FAIL_CHECK(full << ": packed weights, threads " << t << ": other bits than unpacked");
      if (t == threads) continue;
      std::fill(again.begin(), again.end(), sentinel);
      fp8::conv2d(s, x.data(), e.input_scale, w.data(), ws, bias, again.data() + guard, ot);
      if (!same_bits(out, again)) FAIL_CHECK(full << ": threads " << t << ": other bits than threads " << threads);
    }
  }
}

// The overload without options is the one with default options.
template <class FX, class FW>
void run_default_overload(const problem<FX, FW>& p, const std::string& what) {
  const conv2d_shape& s = p.s;
  epilogue e;
  e.input_scale = 0.375f;
  std::vector<float> a(guard + p.outputs() + guard, out_type<float>::nan()), b = a;
  fp8::conv2d(s, p.x.data(), e.input_scale, p.w.data(), nullptr, nullptr, a.data() + guard);
  fp8::conv2d(s, p.x.data(), e.input_scale, p.w.data(), nullptr, nullptr, b.data() + guard, fp8::conv2d_options{});
  CHECK(same_bits(a, b));
  check_output(p, e, tensor_layout::nhwc, a, what + " (overload without options) [" + describe(s) + "]");
}

// The output stage sees only the float result, whatever the input formats:
// every output type runs with E4M3 x E5M2 inputs, the other pairs write
// float (each conv2d<FX, FW, TO> instantiates the kernel layer for every
// tier; the whole cross product tripled this file's compile time).
template <class FX, class FW>
constexpr bool every_output = std::is_same<FX, fp8::E4M3>::value && std::is_same<FW, fp8::E5M2>::value;
// A layer kept in half (input, weights and output): float or half output.
template <class FX, class FW>
constexpr bool half_layer = std::is_same<FX, fp8::half>::value && std::is_same<FW, fp8::half>::value;

template <class FX, class FW>
void run_variant(const problem<FX, FW>& p, variant v, const layouts& l, std::size_t threads, bool extra,
                 std::mt19937& g, const std::string& what) {
  if (half_layer<FX, FW>) v.out = v.out == out_kind::f32 ? out_kind::f32 : out_kind::f16;
  else if (!every_output<FX, FW>) v.out = out_kind::f32;
  const epilogue e = make_epilogue(p, v, g);
  std::ostringstream d;
  d << what << " " << type_name<FX>() << " x " << type_name<FW>() << " -> " << name_of(v.out) << " (input_scale " << e.input_scale
    << (v.scales ? ", weight scales" : "") << (v.bias ? ", bias" : "") << ", " << name_of(v.act);
  if (v.act == clamp) d << " [" << e.clamp_lo << ", " << e.clamp_hi << "]";
  if (is_fp8_out(v.out))
    d << ", output_scale " << e.output_scale << (v.ovf == sat ? ", saturate" : ", non_saturating");
  d << ")";
  if constexpr (half_layer<FX, FW>) {
    if (v.out == out_kind::f16)
      run<fp8::half>(p, e, l, threads, extra, d.str());
    else
      run<float>(p, e, l, threads, extra, d.str());
  } else if constexpr (!every_output<FX, FW>) {
    run<float>(p, e, l, threads, extra, d.str());
  } else {
    switch (v.out) {
      case out_kind::f32: run<float>(p, e, l, threads, extra, d.str()); break;
      case out_kind::bf16: run<fp8::bfloat16>(p, e, l, threads, extra, d.str()); break;
      case out_kind::f16: run<fp8::half>(p, e, l, threads, extra, d.str()); break;
      case out_kind::e4m3: run<fp8::e4m3_t>(p, e, l, threads, extra, d.str()); break;
      case out_kind::e5m2: run<fp8::e5m2_t>(p, e, l, threads, extra, d.str()); break;
      case out_kind::e4m3fnuz: run<fp8::e4m3fnuz_t>(p, e, l, threads, extra, d.str()); break;
    }
  }
}

// Each shape with every epilogue variant and every layout combination;
// packed weights and thread counts compared on one layout per variant.
template <class FX, class FW>
void sweep_shape(const char* name, const conv2d_shape& s, std::mt19937& g) {
  const auto p = make_problem<FX, FW>(s, g);
  CHECK(s.out_h() == p.oh);
  CHECK(s.out_w() == p.ow);
  for (std::size_t vi = 0; vi < variant_count; ++vi)
    for (std::size_t li = 0; li < 8; ++li)
      run_variant(p, variants[vi], all_layouts[li], 1 + (vi + li) % 3, li == vi % 8, g, name);
  run_default_overload(p, name);
}

struct named_shape {
  const char* name;
  conv2d_shape s;
};
std::vector<named_shape> named_shapes() {
  std::vector<named_shape> v;
  // Each padding side alone, with a 3x3 window and with a 1x1 window (whose
  // border outputs see only padding: bias alone).
  v.push_back({"pad top", make_shape({2, 5, 6, 3}, 4, 3, 3, 1, 1, 2, 0, 0, 0)});
  v.push_back({"pad left", make_shape({2, 5, 6, 3}, 4, 3, 3, 1, 1, 0, 2, 0, 0)});
  v.push_back({"pad bottom", make_shape({2, 5, 6, 3}, 4, 3, 3, 1, 1, 0, 0, 2, 0)});
  v.push_back({"pad right", make_shape({2, 5, 6, 3}, 4, 3, 3, 1, 1, 0, 0, 0, 2)});
  v.push_back({"1x1, pad top", make_shape({1, 4, 3, 5}, 3, 1, 1, 1, 1, 1, 0, 0, 0)});
  v.push_back({"1x1, pad left", make_shape({1, 4, 3, 5}, 3, 1, 1, 1, 1, 0, 1, 0, 0)});
  v.push_back({"1x1, pad bottom", make_shape({1, 4, 3, 5}, 3, 1, 1, 1, 1, 0, 0, 1, 0)});
  v.push_back({"1x1, pad right", make_shape({1, 4, 3, 5}, 3, 1, 1, 1, 1, 0, 0, 0, 1)});
  // Strides and dilations.
  v.push_back({"stride 2", make_shape({1, 9, 10, 7}, 5, 3, 3, 2, 2, 1, 1, 1, 1)});
  v.push_back({"stride 2x3", make_shape({2, 8, 11, 5}, 6, 2, 3, 2, 3)});
  v.push_back({"dilation 2", make_shape({1, 9, 9, 5}, 7, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2)});
  v.push_back({"dilation 2x3, stride 2", make_shape({1, 10, 12, 4}, 3, 3, 3, 2, 2, 1, 0, 0, 1, 2, 3)});
  // Groups.
  v.push_back({"groups 2", make_shape({2, 6, 7, 6}, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2)});
  v.push_back({"groups 3, odd channels", make_shape({1, 5, 5, 9}, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3)});
  v.push_back({"groups 2, 1x1", make_shape({1, 5, 4, 34}, 18, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2)});
  // A 1x1 stride-1 layer read in place: tiles run across output rows and
  // images (7 pixels a row, 105 in all, tiles of 12).
  v.push_back({"1x1, batch 3, tiles across rows and images", make_shape({3, 5, 7, 6}, 10, 1, 1)});
  v.push_back({"groups 2, 1x1, even channels", make_shape({2, 3, 5, 12}, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2)});
  // Depthwise (groups == in_c == out_c), and with channel multiplier 2.
  v.push_back({"depthwise C13", make_shape({1, 8, 9, 13}, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 13)});
  v.push_back({"depthwise C32 stride 2", make_shape({1, 9, 8, 32}, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 32)});
  v.push_back({"depthwise C48", make_shape({2, 6, 7, 48}, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 48)});
  v.push_back({"depthwise C83", make_shape({1, 5, 6, 83}, 83, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 83)});
  v.push_back({"depthwise 5x5 C17 dilation 2", make_shape({1, 9, 10, 17}, 17, 5, 5, 1, 1, 2, 2, 2, 2, 2, 1, 17)});
  v.push_back({"depthwise x2, C7 -> 14", make_shape({2, 7, 6, 7}, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 7)});
  // Rows wide enough for the avx512 loop that keeps each input vector for
  // every tap of a kernel row (blocks of 14 pixels, the rest after them):
  // 3, 5 and 7 taps, a channel tail past the vectors, a dilated height.
  v.push_back({"depthwise C40, 31 wide", make_shape({1, 4, 31, 40}, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 40)});
  v.push_back({"depthwise 5x5 C16, dilation 2 x 1", make_shape({1, 9, 30, 16}, 16, 5, 5, 1, 1, 4, 2, 4, 2, 2, 1, 16)});
  v.push_back({"depthwise 7x7 C33, 17 wide", make_shape({2, 3, 17, 33}, 33, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 33)});
  v.push_back({"depthwise x2, C16 -> 32, stride 2", make_shape({1, 9, 9, 16}, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 16)});
  // Rows wide enough that a band (depthwise_band: output rows sharing
  // 256 KiB of decoded input rows) holds one row, and two rows at stride 2;
  // the other named shapes have bands of 8 rows, cut at each image's end.
  v.push_back({"depthwise C128, 130 wide: bands of 1 row",
               make_shape({1, 4, 130, 128}, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 128)});
  v.push_back({"depthwise C128, 94 wide, stride 2: bands of 2 rows",
               make_shape({2, 9, 94, 128}, 128, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 128)});
  // 1x1 and 7x7 kernels.
  v.push_back({"1x1", make_shape({1, 7, 5, 37}, 45, 1, 1)});
  v.push_back({"1x1 stride 2", make_shape({2, 9, 9, 20}, 33, 1, 1, 2, 2)});
  v.push_back({"7x7 stride 2 pad 3 (stem)", make_shape({1, 12, 11, 3}, 16, 7, 7, 2, 2, 3, 3, 3, 3)});
  v.push_back({"7x7 pad 3", make_shape({1, 9, 9, 8}, 5, 7, 7, 1, 1, 3, 3, 3, 3)});
  // Batch, tile edges of out_c, K past the GEMM blocks (KC 192..2048).
  v.push_back({"batch 3", make_shape({3, 6, 5, 5}, 7, 3, 3, 1, 1, 1, 1, 1, 1)});
  v.push_back({"out_c 33", make_shape({1, 5, 5, 8}, 33, 3, 3)});
  v.push_back({"1x1 out_c 65", make_shape({1, 4, 13, 16}, 65, 1, 1)});
  v.push_back({"K = 1170", make_shape({1, 6, 6, 130}, 70, 3, 3, 1, 1, 1, 1, 1, 1)});
  v.push_back({"K = 2088", make_shape({1, 4, 5, 232}, 20, 3, 3, 1, 1, 1, 1, 1, 1)});
  // Even channels per group (the AVX512-BF16 path that reads bf16 pairs of
  // the input in place), each padding side, stride, dilation, groups, and
  // output rows wider than one 12-row tile.
  v.push_back({"pad top, even C", make_shape({2, 5, 6, 4}, 4, 3, 3, 1, 1, 2, 0, 0, 0)});
  v.push_back({"pad left, even C", make_shape({2, 5, 6, 4}, 4, 3, 3, 1, 1, 0, 2, 0, 0)});
  v.push_back({"pad bottom, even C", make_shape({2, 5, 6, 4}, 4, 3, 3, 1, 1, 0, 0, 2, 0)});
  v.push_back({"pad right, even C", make_shape({2, 5, 6, 4}, 4, 3, 3, 1, 1, 0, 0, 0, 2)});
  v.push_back({"stride 2, even C", make_shape({1, 9, 10, 6}, 5, 3, 3, 2, 2, 1, 1, 1, 1)});
  v.push_back({"dilation 2, even C", make_shape({1, 9, 9, 4}, 7, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2)});
  v.push_back({"groups 2, even Cg", make_shape({2, 6, 7, 8}, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2)});
  v.push_back({"wide rows", make_shape({1, 5, 29, 6}, 20, 3, 3, 1, 1, 1, 1, 1, 1)});
  v.push_back({"wide rows, stride 2", make_shape({1, 6, 53, 10}, 12, 3, 3, 2, 2, 0, 1, 1, 0)});
  v.push_back({"wide rows, dilation 3", make_shape({1, 7, 40, 2}, 35, 3, 3, 1, 1, 3, 3, 3, 3, 3, 3)});
  v.push_back({"wide rows, odd C", make_shape({1, 4, 27, 5}, 9, 3, 3, 1, 1, 1, 1, 1, 1)});
  // Runs of 13..16 rows, which the driver cuts into two tiles of about half
  // (in_place_tile_rows): output rows 13 and 15 wide, a 1x1 layer of
  // 64 pixels (a block of 48, then 16) and one of 14.
  v.push_back({"rows of 13, even C", make_shape({2, 3, 13, 4}, 6, 3, 3, 1, 1, 1, 1, 1, 1)});
  v.push_back({"rows of 15, even C, stride 2", make_shape({1, 5, 29, 6}, 34, 3, 3, 2, 2, 1, 1, 1, 1)});
  v.push_back({"1x1, 64 pixels, even C", make_shape({1, 4, 16, 6}, 7, 1, 1)});
  v.push_back({"1x1, 14 pixels, even C", make_shape({1, 2, 7, 8}, 33, 1, 1)});
  // Degenerate windows: a 1x1 input with all padding; a window exactly the
  // padded input.
  v.push_back({"1x1 input, pad 1", make_shape({1, 1, 1, 3}, 4, 3, 3, 1, 1, 1, 1, 1, 1)});
  v.push_back({"window = padded input", make_shape({1, 4, 4, 2}, 3, 5, 5, 1, 1, 1, 1, 0, 0)});
  return v;
}

// A random valid shape: groups 1 (often), 2, 3 or depthwise (multiplier 1 or
// 2); kernels 1..5, strides 1..3, dilations 1..3, each pad 0..3. large: up
// to 200 channels (K up to 5000, past several GEMM k blocks).
conv2d_shape random_shape(std::mt19937& g, bool large = false) {
  conv2d_shape s{};
  const std::size_t kind = pick(g, 0, 5);
  if (kind <= 2) {
    s.groups = kind == 2 ? pick(g, 2, 3) : 1;
    s.in_c = s.groups * pick(g, 1, kind == 0 ? (large ? 200 : 40) : 9);
    s.out_c = s.groups * pick(g, 1, kind == 0 ? (large ? 150 : 40) : 7);
  } else {
    s.groups = pick(g, 1, 100);
    s.in_c = s.groups;
    s.out_c = s.groups * (kind == 5 ? 2 : 1);
  }
  s.batch = pick(g, 1, 3);
  s.kernel_h = pick(g, 1, 5);
  s.kernel_w = pick(g, 1, 5);
  s.stride_h = pick(g, 1, 3);
  s.stride_w = pick(g, 1, 3);
  s.dilation_h = pick(g, 0, 3) == 0 ? pick(g, 2, 3) : 1;
  s.dilation_w = pick(g, 0, 3) == 0 ? pick(g, 2, 3) : 1;
  s.pad_top = pick(g, 0, 3);
  s.pad_left = pick(g, 0, 3);
  s.pad_bottom = pick(g, 0, 3);
  s.pad_right = pick(g, 0, 3);
  const std::size_t span_h = s.dilation_h * (s.kernel_h - 1) + 1, span_w = s.dilation_w * (s.kernel_w - 1) + 1;
  const std::size_t pads_h = s.pad_top + s.pad_bottom, pads_w = s.pad_left + s.pad_right;
  s.in_h = (span_h > pads_h ? span_h - pads_h : 1) + pick(g, 0, 9);
  s.in_w = (span_w > pads_w ? span_w - pads_w : 1) + pick(g, 0, 9);
  return s;
}

struct e4m3_e4m3 {
  using X = fp8::E4M3;
  using W = fp8::E4M3;
};
struct e4m3_e5m2 {
  using X = fp8::E4M3;
  using W = fp8::E5M2;
};
struct e5m2_e4m3 {
  using X = fp8::E5M2;
  using W = fp8::E4M3;
};
struct e5m2_e5m2 {
  using X = fp8::E5M2;
  using W = fp8::E5M2;
};
struct fnuz_mixed {
  using X = fp8::E4M3FNUZ;
  using W = fp8::E5M2FNUZ;
};

}  // namespace

TEST_CASE("conv2d: a hand-computed 3x3 example", "[conv]") {
  // Input 1..9 in a 3x3 single-channel image, a 3x3 window of ones, pad 1:
  // each output is the sum of its 3x3 neighbourhood.
  std::vector<fp8::e4m3_t> x, w(9, fp8::e4m3_t(1.0f));
  for (int i = 1; i <= 9; ++i) x.push_back(fp8::e4m3_t(static_cast<float>(i)));
  const auto s = make_shape({1, 3, 3, 1}, 1, 3, 3, 1, 1, 1, 1, 1, 1);
  REQUIRE(s.out_h() == 3);
  REQUIRE(s.out_w() == 3);
  std::vector<float> out(9, -1.0f);
  fp8::conv2d(s, x.data(), 0.5f, w.data(), nullptr, nullptr, out.data());
  const float want[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
  for (std::size_t i = 0; i < 9; ++i) CHECK(out[i] == want[i] * 0.5f);
  // Weight scale 2, bias 1, ReLU, E4M3 output with output_scale 4: out =
  // e4m3((S * 0.25 * 2 + 1) / 4), e.g. S = 21: 2.875, a tie between 2.75 and
  // 3 that goes to the even code 3; S = 27: 3.625 -> 3.5 (even).
  const float ws = 2.0f, bias = 1.0f;
  fp8::conv2d_options o;
  o.act = fp8::activation::relu;
  o.output_scale = 4.0f;
  std::vector<fp8::e4m3_t> q(9);
  fp8::conv2d(s, x.data(), 0.25f, w.data(), &ws, &bias, q.data(), o);
  const float want_q[9] = {1.75f, 3.0f, 2.25f, 3.5f, 6.0f, 4.5f, 3.25f, 5.0f, 3.75f};
  for (std::size_t i = 0; i < 9; ++i) CHECK(static_cast<float>(q[i]) == want_q[i]);
  // Negative bias and ReLU: S * 0.5 - 10 is negative for S < 20.
  const float neg = -10.0f;
  std::vector<float> r(9, -1.0f);
  o.output_scale = 1.0f;
  fp8::conv2d(s, x.data(), 0.25f, w.data(), &ws, &neg, r.data(), o);
  for (std::size_t i = 0; i < 9; ++i) CHECK(r[i] == std::max(want[i] * 0.5f - 10.0f, 0.0f));
}

// The depthwise loops' documented order: per output element, one fused
// multiply-add per tap from +0, taps in order (row by row), so with unit
// scales and float output every tier gives exactly the float sum written
// here. The E4M3 values span 2^-9..448, so the sums round and another
// order of additions shows in the bits.
TEST_CASE("conv2d: depthwise sums the taps in order, one fused multiply-add each, on every tier", "[conv]") {
  const conv2d_shape shapes[] = {
      make_shape({1, 4, 31, 40}, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 40),   // blocks of 14 pixels, then 3
      make_shape({1, 9, 30, 16}, 16, 5, 5, 1, 1, 4, 2, 4, 2, 2, 1, 16),   // 5 taps, dilated height
      make_shape({2, 3, 17, 33}, 33, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 33),   // 7 taps, a channel tail
      make_shape({1, 9, 20, 32}, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 32),   // stride 2
      make_shape({1, 6, 19, 24}, 24, 3, 3, 1, 1, 1, 2, 1, 2, 1, 2, 24)};  // dilated width
  std::mt19937 g(7);
  for (const auto& s : shapes) {
    INFO(describe(s));
    std::vector<fp8::e4m3_t> x(s.batch * s.in_h * s.in_w * s.in_c), w(s.out_c * s.kernel_h * s.kernel_w);
    for (auto& v : x) v = random_code<fp8::E4M3>(g);
    for (auto& v : w) v = random_code<fp8::E4M3>(g);
    auto value = [](fp8::e4m3_t v) { return static_cast<float>(ref::decode(spec_of<fp8::E4M3>(), v.bits())); };
    const std::size_t oh = s.out_h(), ow = s.out_w(), c_n = s.in_c;
    std::vector<float> want(s.batch * oh * ow * c_n);
    for (std::size_t n = 0; n < s.batch; ++n)
      for (std::size_t y = 0; y < oh; ++y)
        for (std::size_t xo = 0; xo < ow; ++xo)
          for (std::size_t c = 0; c < c_n; ++c) {
            float a = 0.0f;
            for (std::size_t th = 0; th < s.kernel_h; ++th)
              for (std::size_t tw = 0; tw < s.kernel_w; ++tw) {
                const long ih = static_cast<long>(y * s.stride_h + th * s.dilation_h) - static_cast<long>(s.pad_top);
                const long iw = static_cast<long>(xo * s.stride_w + tw * s.dilation_w) - static_cast<long>(s.pad_left);
                const bool in = ih >= 0 && iw >= 0 && ih < static_cast<long>(s.in_h) && iw < static_cast<long>(s.in_w);
                const float v =
                    in ? value(x[((n * s.in_h + static_cast<std::size_t>(ih)) * s.in_w + static_cast<std::size_t>(iw)) *
                                     c_n +
                                 c])
                       : 0.0f;
                a = std::fma(v, value(w[(c * s.kernel_h + th) * s.kernel_w + tw]), a);
              }
            want[((n * oh + y) * ow + xo) * c_n + c] = a;
          }
    test_tiers::for_each_gemm_tier([&](const char* kernel) {
      INFO(kernel);
      std::vector<float> got(want.size(), -1.0f);
      fp8::conv2d(s, x.data(), 1.0f, w.data(), nullptr, nullptr, got.data());
      std::size_t differ = 0;
      for (std::size_t i = 0; i < got.size(); ++i) differ += float_bits(got[i]) != float_bits(want[i]);
      CHECK(differ == 0);
    });
  }
}

TEST_CASE("conv2d: padding sides, strides, dilations, groups, depthwise, 1x1, 7x7, batch; every layout and epilogue",
          "[conv]") {
  test_tiers::for_each_gemm_tier([](const char* kernel) {
    INFO(kernel);
    std::mt19937 g(2024);
    for (const auto& n : named_shapes()) {
      sweep_shape<fp8::E4M3, fp8::E5M2>(n.name, n.s, g);  // mixed formats
      if (!sanitized) sweep_shape<fp8::E4M3, fp8::E4M3>(n.name, n.s, g);
    }
  });
}

TEMPLATE_TEST_CASE("conv2d: random shapes", "[conv]", e4m3_e4m3, e4m3_e5m2, e5m2_e4m3, e5m2_e5m2, fnuz_mixed) {
  using FX = typename TestType::X;
  using FW = typename TestType::W;
  std::size_t tier = 0;  // the best tier's kernel gets every case, the others a third
  test_tiers::for_each_gemm_tier([&](const char* kernel) {
  INFO(kernel);
  std::mt19937 g(99);
  const std::size_t share = tier++ == 0 ? 1 : 3;
  const std::size_t cases = (sanitized ? 500 : 1500) / share, large = (sanitized ? 10 : 40) / share;
  for (std::size_t c = 0; c < cases + large; ++c) {
    const conv2d_shape s = random_shape(g, c >= cases);
    const auto p = make_problem<FX, FW>(s, g);
    CHECK(s.out_h() == p.oh);
    CHECK(s.out_w() == p.ow);
    variant v = variants[pick(g, 0, variant_count - 1)];
    if (pick(g, 0, 9) == 0) {  // FNUZ output, saturating
      v.out = out_kind::e4m3fnuz;
      v.ovf = sat;
    }
    run_variant(p, v, all_layouts[pick(g, 0, 7)], pick(g, 1, 3), pick(g, 0, 3) == 0, g,
                "random case " + std::to_string(c) + ":");
  }
  });
}

// Layers kept in 16 bits or float (input) and 16 bits (weights), the other
// operand FP8 or not: with the FP8 x FP8 cases above, every input x weight
// pair of the operand matrix, each over every named shape, epilogue and
// layout on every tier (vdpbf16ps for bfloat16 / FP8 operands, the float
// kernels otherwise).
struct bf16_bf16 {
  using X = fp8::bfloat16;
  using W = fp8::bfloat16;
};
struct half_half {
  using X = fp8::half;
  using W = fp8::half;
};
struct float_e4m3 {
  using X = float;
  using W = fp8::E4M3;
};
struct e4m3_bf16 {
  using X = fp8::E4M3;
  using W = fp8::bfloat16;
};
struct bf16_half {
  using X = fp8::bfloat16;
  using W = fp8::half;
};
struct half_e5m2 {
  using X = fp8::half;
  using W = fp8::E5M2;
};
struct bf16_e4m3 {
  using X = fp8::bfloat16;
  using W = fp8::E4M3;
};
struct e5m2_half {
  using X = fp8::E5M2;
  using W = fp8::half;
};
struct half_bf16 {
  using X = fp8::half;
  using W = fp8::bfloat16;
};
struct float_bf16 {
  using X = float;
  using W = fp8::bfloat16;
};
struct float_half {
  using X = float;
  using W = fp8::half;
};

TEMPLATE_TEST_CASE("conv2d: bfloat16, half and float input, bfloat16 and half weights; every shape and tier", "[conv]",
                   bf16_bf16, half_half, float_e4m3, e4m3_bf16, bf16_half, half_e5m2, bf16_e4m3, e5m2_half,
                   half_bf16, float_bf16, float_half) {
  using FX = typename TestType::X;
  using FW = typename TestType::W;
  std::size_t tier = 0;  // under the sanitizers each tier takes every third shape, a different third
  test_tiers::for_each_gemm_tier([&](const char* kernel) {
    INFO(kernel);
    std::mt19937 g(16);
    const auto shapes = named_shapes();
    for (std::size_t i = 0; i < shapes.size(); ++i)
      if (!sanitized || i % 3 == tier % 3) sweep_shape<FX, FW>(shapes[i].name, shapes[i].s, g);
    ++tier;
  });
}

// Every input (FP8, bfloat16, half, float) x weights (FP8, bfloat16, half)
// x output (float, bfloat16, half, FP8) combination: a dense and a
// depthwise layer each, with scales, bias and ReLU; packed weights and
// threads 1..3 give the same bits (run's extra checks).
namespace {
template <class FX, class FW, class TO>
void conv_matrix_case(out_kind k, std::mt19937& g) {
  for (const conv2d_shape& s : {make_shape({1, 6, 5, 8}, 6, 3, 3, 1, 1, 1, 1, 1, 1),
                                make_shape({1, 5, 6, 6}, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6)}) {
    const auto p = make_problem<FX, FW>(s, g);
    const epilogue e = make_epilogue(p, variant{k, true, true, relu, sat}, g);
    run<TO>(p, e, all_layouts[0], 2, true,
            std::string("operand matrix ") + type_name<FX>() + " x " + type_name<FW>() + " -> " + name_of(k));
  }
}
template <class FX, class FW>
void conv_matrix_row(std::mt19937& g) {
  conv_matrix_case<FX, FW, float>(out_kind::f32, g);
  conv_matrix_case<FX, FW, fp8::bfloat16>(out_kind::bf16, g);
  conv_matrix_case<FX, FW, fp8::half>(out_kind::f16, g);
  conv_matrix_case<FX, FW, fp8::e4m3_t>(out_kind::e4m3, g);
}
template <class FX>
void conv_matrix_input(std::mt19937& g) {
  conv_matrix_row<FX, fp8::E5M2>(g);
  conv_matrix_row<FX, fp8::bfloat16>(g);
  conv_matrix_row<FX, fp8::half>(g);
}
}  // namespace

TEST_CASE("conv2d: every input x weights x output combination of the operand matrix", "[conv]") {
  std::mt19937 g(48);
  conv_matrix_input<fp8::E4M3>(g);
  conv_matrix_input<fp8::bfloat16>(g);
  conv_matrix_input<fp8::half>(g);
  conv_matrix_input<float>(g);
}

TEST_CASE("conv2d: bfloat16 operands whose products fall below 2^-126 are exact", "[conv]") {
  // bfloat16 input and weights in [2^-64, 2^-62) (products below 2^-124,
  // some subnormal as floats, all multiples of 2^-142), and E4M3 input
  // (|x| <= 2) with subnormal or smallest-binade bfloat16 weights: every
  // partial sum is exact in float, so each output must be the exact sum.
  // vdpbf16ps would flush them; the call must take the float kernel.
  std::mt19937 g(5);
  const auto tiny = [&](bool subnormal) {
    const auto r = static_cast<std::uint32_t>(g());
    const std::uint32_t biased = subnormal ? (r >> 16) % 2u : 63u + (r >> 16) % 2u;
    return fp8::bfloat16::from_bits(static_cast<std::uint16_t>((r & 0x8000u) | biased << 7 | ((r >> 1) & 0x7Fu)));
  };
  for (const conv2d_shape& s : {make_shape({1, 5, 5, 4}, 6, 3, 3, 1, 1, 1, 1, 1, 1), make_shape({2, 4, 3, 8}, 5, 1, 1)})
    for (bool fp8_input : {false, true}) {
      const std::size_t in = s.batch * s.in_h * s.in_w * s.in_c, wn = s.out_c * s.kernel_h * s.kernel_w * s.in_c;
      std::vector<fp8::bfloat16> x16(in), w(wn);
      std::vector<fp8::e4m3_t> x8(in);
      for (auto& v : x16) v = tiny(false);
      for (auto& v : x8) v = fp8::e4m3_t::from_bits(static_cast<std::uint8_t>((g() % 0x41u) | (g() & 0x80u)));
      for (auto& v : w) v = tiny(fp8_input);
      std::vector<double> xd(in), wd(wn);
      for (std::size_t i = 0; i < in; ++i) xd[i] = fp8_input ? exact_value(x8[i]) : exact_value(x16[i]);
      for (std::size_t i = 0; i < wn; ++i) wd[i] = exact_value(w[i]);
      const std::size_t oh = s.out_h(), ow = s.out_w();
      std::vector<float> out(s.batch * oh * ow * s.out_c);
      const auto check = [&](const char* what) {
        std::size_t bad = 0;
        for (std::size_t n = 0; n < s.batch; ++n)
          for (std::size_t y = 0; y < oh; ++y)
            for (std::size_t xo = 0; xo < ow; ++xo)
              for (std::size_t oc = 0; oc < s.out_c; ++oc) {
                double sum = 0;
                for (std::size_t ky = 0; ky < s.kernel_h; ++ky)
                  for (std::size_t kx = 0; kx < s.kernel_w; ++kx) {
                    const long long iy = static_cast<long long>(y + ky) - static_cast<long long>(s.pad_top);
                    const long long ix = static_cast<long long>(xo + kx) - static_cast<long long>(s.pad_left);
                    if (iy < 0 || ix < 0 || iy >= static_cast<long long>(s.in_h) || ix >= static_cast<long long>(s.in_w))
                      continue;
                    for (std::size_t c = 0; c < s.in_c; ++c)
                      sum += xd[((n * s.in_h + static_cast<std::size_t>(iy)) * s.in_w + static_cast<std::size_t>(ix)) *
                                    s.in_c + c] *
                             wd[((oc * s.kernel_h + ky) * s.kernel_w + kx) * s.in_c + c];
                  }
                const float got = out[((n * oh + y) * ow + xo) * s.out_c + oc];
                if (static_cast<double>(got) != sum && bad++ < 3)
                  FAIL_CHECK(what << (fp8_input ? " E4M3 input, subnormal bfloat16 weights" : " bfloat16 near 2^-63")
                                  << " [" << describe(s) << "]: output " << got << ", want " << sum);
              }
        CHECK(bad == 0);
      };
      const fp8::packed_conv_weights<fp8::bfloat16> packed(s, w.data());
      if (fp8_input) {
        fp8::conv2d(s, x8.data(), 1.0f, w.data(), nullptr, nullptr, out.data());
        check("unpacked");
        fp8::conv2d(s, x8.data(), 1.0f, packed, nullptr, nullptr, out.data());
        check("packed");
      } else {
        fp8::conv2d(s, x16.data(), 1.0f, w.data(), nullptr, nullptr, out.data());
        check("unpacked");
        fp8::conv2d(s, x16.data(), 1.0f, packed, nullptr, nullptr, out.data());
        check("packed");
      }
    }
}

TEST_CASE("conv2d: threads 1..3 and packed weights give the same bits on larger layers", "[conv]") {
  std::mt19937 g(7);
  const named_shape layers[] = {
      {"3x3 C16 -> 32, 28x28", make_shape({1, 28, 28, 16}, 32, 3, 3, 1, 1, 1, 1, 1, 1)},
      {"depthwise 3x3 C64, 56x56", make_shape({1, 56, 56, 64}, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 64)},
      {"depthwise x2 3x3 C40 -> 80, 2 x 40x40", make_shape({2, 40, 40, 40}, 80, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 40)},
      {"1x1 C64 -> 96, 2 x 14x14", make_shape({2, 14, 14, 64}, 96, 1, 1)},
      {"3x3 stride 2 C24 -> 40, 29x31", make_shape({1, 29, 31, 24}, 40, 3, 3, 2, 2, 0, 1, 1, 0)},
  };
  for (const auto& l : layers) {
    const auto p = make_problem<fp8::E4M3, fp8::E5M2>(l.s, g);  // every output type (every_output)
    run_variant(p, variants[1], all_layouts[0], 1, true, g, l.name);
    run_variant(p, variants[7], all_layouts[sanitized ? 0 : 1], 2, true, g, l.name);
  }
}

TEST_CASE("conv2d: FP8 output saturates or overflows as asked", "[conv]") {
  // 1x1 convolution, one channel, weight 1: out = code((x * input_scale) / output_scale).
  const auto s = make_shape({1, 1, 4, 1}, 1, 1, 1);
  // e4m3(300) = 288.
  const std::vector<fp8::e4m3_t> x = {fp8::e4m3_t(300.0f), fp8::e4m3_t(-300.0f), fp8::e4m3_t(100.0f),
                                      fp8::e4m3_t(-0.5f)};
  const std::vector<fp8::e4m3_t> w = {fp8::e4m3_t(1.0f)};
  fp8::conv2d_options o;
  o.output_scale = 0.5f;  // doubles the values: 576, -576, 192, -1
  std::vector<fp8::e4m3_t> q(4);
  fp8::conv2d(s, x.data(), 1.0f, w.data(), nullptr, nullptr, q.data(), o);
  CHECK(q[0].bits() == 0x7E);                 // +448
  CHECK(q[1].bits() == 0xFE);                 // -448
  CHECK(static_cast<float>(q[2]) == 192.0f);  // x = e4m3(100) = 96 (tie to even), 96 * 2 = 192
  CHECK(static_cast<float>(q[3]) == -1.0f);
  o.output_overflow = fp8::overflow::non_saturating;
  fp8::conv2d(s, x.data(), 1.0f, w.data(), nullptr, nullptr, q.data(), o);
  CHECK(q[0].bits() == 0x7F);  // NaN with the input's sign
  CHECK(q[1].bits() == 0xFF);
  std::vector<fp8::e5m2_t> r(4);
  o.output_scale = 1.0f / 256.0f;  // 288 * 256 = 73728 > 57344
  fp8::conv2d(s, x.data(), 1.0f, w.data(), nullptr, nullptr, r.data(), o);
  CHECK(r[0].bits() == 0x7C);  // +Inf
  CHECK(r[1].bits() == 0xFC);  // -Inf
  o.output_overflow = fp8::overflow::saturate;
  fp8::conv2d(s, x.data(), 1.0f, w.data(), nullptr, nullptr, r.data(), o);
  CHECK(r[0].bits() == 0x7B);  // +57344
  CHECK(r[1].bits() == 0xFB);
  CHECK(static_cast<float>(r[2]) == 24576.0f);  // 96 * 256, exact in E5M2
}

TEST_CASE("conv2d: bad arguments are named and the output is untouched", "[conv]") {
  const auto base = make_shape({1, 5, 5, 4}, 6, 3, 3, 1, 1, 1, 1, 1, 1);
  // Buffers large enough for every shape tried below, so a missing check
  // shows as a failed expectation, not as a crash.
  std::vector<fp8::e4m3_t> x(4096, fp8::e4m3_t(1.0f)), w(4096, fp8::e4m3_t(1.0f));
  std::vector<float> out(4096, 5.0f);
  std::vector<fp8::bfloat16> out16(4096, fp8::bfloat16::from_bits(0x4040));
  std::vector<fp8::e4m3_t> out8(4096, fp8::e4m3_t::from_bits(0x33));
  const auto untouched = [&] {
    for (float v : out)
      if (float_bits(v) != float_bits(5.0f)) return false;
    for (auto v : out16)
      if (v.bits() != 0x4040) return false;
    for (auto v : out8)
      if (v.bits() != 0x33) return false;
    return true;
  };
  const auto expect = [&](const char* argument, const char* why, auto&& call) {
    INFO(argument << ": " << why);
    try {
      call();
      FAIL_CHECK("no error for " << argument << " (" << why << ")");
    } catch (const fp8::invalid_argument& e) {
      CHECK(std::string(e.argument()) == argument);
      CHECK(std::string(e.what()).find(argument) != std::string::npos);
    }
    CHECK(untouched());
  };
  // A 16-bit input's extent counts two bytes per element: an output at its
  // byte 120 (of 200) overlaps it.
  {
    std::vector<fp8::bfloat16> x16(4096, fp8::bfloat16::from_bits(0x3F80));
    expect("output", "overlapping the second half of a bfloat16 input", [&] {
      fp8::conv2d(base, x16.data(), 1.0f, w.data(), nullptr, nullptr, reinterpret_cast<float*>(x16.data() + 60));
    });
    CHECK(x16[60].bits() == 0x3F80);
  }
  // The shape errors, through the overloads with and without options and
  // through packed weights (packed from the valid base shape).
  const fp8::packed_conv_weights<fp8::E4M3> packed(base, w.data());
  const auto shape_error = [&](const char* argument, const char* why, conv2d_shape s) {
    expect(argument, why, [&] { fp8::conv2d(s, x.data(), 1.0f, w.data(), nullptr, nullptr, out.data()); });
    expect(argument, why,
           [&] { fp8::conv2d(s, x.data(), 1.0f, w.data(), nullptr, nullptr, out8.data(), fp8::conv2d_options{}); });
    // Packed weights hold the base shape's weights: only shapes with the same
    // weight tensor (out_c, kernel, in_c, groups) are tried with them.
    const bool same_weights = s.out_c == base.out_c && s.kernel_h == base.kernel_h && s.kernel_w == base.kernel_w &&
                              s.in_c == base.in_c && s.groups == base.groups;
    if (same_weights)
      expect(argument, why, [&] { fp8::conv2d(s, x.data(), 1.0f, packed, nullptr, nullptr, out.data()); });
  };
  auto s = base;
  s.batch = 0;
  shape_error("shape.batch", "zero", s);
  s = base;
  s.in_h = 0;
  s.kernel_h = 1;
  s.pad_top = 1;  // so the window still fits the padded input
  shape_error("shape.in_h", "zero", s);
  s = base;
  s.in_w = 0;
  s.kernel_w = 1;
  s.pad_right = 1;
  shape_error("shape.in_w", "zero", s);
  s = base;
  s.in_c = 0;
  shape_error("shape.in_c", "zero", s);
  s = base;
  s.out_c = 0;
  shape_error("shape.out_c", "zero", s);
  s = base;
  s.kernel_h = 0;
  shape_error("shape.kernel_h", "zero", s);
  s = base;
  s.kernel_w = 0;
  shape_error("shape.kernel_w", "zero", s);
  s = base;
  s.kernel_h = 8;  // 8 > 5 + 1 + 1
  shape_error("shape.kernel_h", "larger than the padded input", s);
  s = base;
  s.kernel_w = 8;
  shape_error("shape.kernel_w", "larger than the padded input", s);
  s = base;
  s.dilation_h = 4;  // 4 * 2 + 1 = 9 > 7
  shape_error("shape.kernel_h", "dilated window larger than the padded input", s);
  s = base;
  s.dilation_w = 4;
  shape_error("shape.kernel_w", "dilated window larger than the padded input", s);
  s = base;
  s.stride_h = 0;
  shape_error("shape.stride_h", "zero", s);
  s = base;
  s.stride_w = 0;
  shape_error("shape.stride_w", "zero", s);
  s = base;
  s.dilation_h = 0;
  shape_error("shape.dilation_h", "zero", s);
  s = base;
  s.dilation_w = 0;
  shape_error("shape.dilation_w", "zero", s);
  s = base;
  s.groups = 0;
  shape_error("shape.groups", "zero", s);
  s = base;
  s.groups = 3;  // divides out_c 6, not in_c 4
  shape_error("shape.groups", "not dividing in_c", s);
  s = base;
  s.groups = 4;  // divides in_c 4, not out_c 6
  shape_error("shape.groups", "not dividing out_c", s);

  const fp8::e4m3_t* no_input = nullptr;
  const fp8::e4m3_t* no_weights = nullptr;
  float* no_output = nullptr;
  expect("input", "null", [&] { fp8::conv2d(base, no_input, 1.0f, w.data(), nullptr, nullptr, out.data()); });
  expect("input", "null", [&] { fp8::conv2d(base, no_input, 1.0f, packed, nullptr, nullptr, out.data()); });
  expect("weights", "null", [&] { fp8::conv2d(base, x.data(), 1.0f, no_weights, nullptr, nullptr, out.data()); });
  expect("output", "null", [&] { fp8::conv2d(base, x.data(), 1.0f, w.data(), nullptr, nullptr, no_output); });
  expect("output", "null", [&] { fp8::conv2d(base, x.data(), 1.0f, packed, nullptr, nullptr, no_output); });
  for (float bad : {0.0f, -1.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    expect("input_scale", "not positive finite",
           [&] { fp8::conv2d(base, x.data(), bad, w.data(), nullptr, nullptr, out.data()); });
    expect("input_scale", "not positive finite",
           [&] { fp8::conv2d(base, x.data(), bad, packed, nullptr, nullptr, out8.data()); });
    fp8::conv2d_options o;
    o.output_scale = bad;
    expect("options.output_scale", "not positive finite (FP8 output)",
           [&] { fp8::conv2d(base, x.data(), 1.0f, w.data(), nullptr, nullptr, out8.data(), o); });
    expect("options.output_scale", "not positive finite (FP8 output, packed)",
           [&] { fp8::conv2d(base, x.data(), 1.0f, packed, nullptr, nullptr, out8.data(), o); });
  }
  for (float not_one : {2.0f, 0.5f}) {
    fp8::conv2d_options o;
    o.output_scale = not_one;
    expect("options.output_scale", "not 1 for float output",
           [&] { fp8::conv2d(base, x.data(), 1.0f, w.data(), nullptr, nullptr, out.data(), o); });
    expect("options.output_scale", "not 1 for bfloat16 output",
           [&] { fp8::conv2d(base, x.data(), 1.0f, w.data(), nullptr, nullptr, out16.data(), o); });
    expect("options.output_scale", "not 1 for float output, packed",
           [&] { fp8::conv2d(base, x.data(), 1.0f, packed, nullptr, nullptr, out.data(), o); });
  }
  fp8::conv2d_options o;
  o.act = fp8::activation::clamp;
  o.clamp_lo = 1.0f;
  o.clamp_hi = 0.0f;
  expect("options.clamp_lo", "clamp_lo > clamp_hi",
         [&] { fp8::conv2d(base, x.data(), 1.0f, w.data(), nullptr, nullptr, out.data(), o); });
  expect("options.clamp_lo", "clamp_lo > clamp_hi (bfloat16 output)",
         [&] { fp8::conv2d(base, x.data(), 1.0f, w.data(), nullptr, nullptr, out16.data(), o); });
  expect("options.clamp_lo", "clamp_lo > clamp_hi (packed)",
         [&] { fp8::conv2d(base, x.data(), 1.0f, packed, nullptr, nullptr, out.data(), o); });

  // The same valid call works, and writes.
  fp8::conv2d(base, x.data(), 1.0f, w.data(), nullptr, nullptr, out.data());
  CHECK(out[0] == 16.0f);  // corner: 2 x 2 taps x 4 channels of 1 * 1
  CHECK(out[5 * 5 * 6] == 5.0f);
}
