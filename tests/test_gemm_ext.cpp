// SPDX-License-Identifier: Apache-2.0
// The GEMM extensions against an independent double-precision reference:
// weight-only A (bfloat16, half, float) x FP8 B, bfloat16 and half B with
// every A type on every tier, bfloat16, half and FP8 C (output_scale,
// both overflow modes, beta reading C), DeepSeek-V3 block scales of A and B,
// packed B for every A type, the float scratch that bfloat16 and FP8 C go
// through, subnormal and special values of bfloat16 / float A, thread counts,
// guard columns past n, and the new argument checks.
//
// Operands are decoded without the library's codec: FP8 codes with
// tests/reference.hpp (std::ldexp from the spec's formula), bfloat16 by
// shifting its bits into a float's high half, floats as they are. The
// reference multiplies and sums in double (the textbook loop, block by block
// when block scales are given) and gives each element of C an interval
// [v - bound, v + bound] (then ReLU / clamp, which are monotone):
//
//   FP8 and bfloat16 A (exact products):  bound = sum over blocks kb of
//     2^-23 * (K + 2 ceil(K / 64) + 4) * |s_kb| * sum_kb |a||b|
//   float A (the products round too):  (K + 2 ceil(K / 64) + 6) instead,
//   with K the block's length (k without block scales), s_kb the block's
//   scale (alpha * row_scale * a_block_scale * col_scale * b_block_scale) and
//   4 + (number of blocks) more roundings per block when block scales are
//   given (the scale products, the product by the block's sum and the sum over
//   blocks); plus 3 * 2^-23 |beta Cin| and 2^-23 (|v| + |bias|).
//
// float C must lie in the interval (test_gemm.cpp's check); bfloat16 C
// between the round-to-nearest-even of its ends (written here, on doubles);
// FP8 C between the reference encoder's codes (tests/reference.hpp) of
// (v -+ bound) / output_scale, widened by 2^-22 relatively for the float
// division (or multiplication by the reciprocal). Rounding is monotone, so a
// correct float result always lands there.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <fp8/fp8.hpp>

#include "formats.hpp"
#include "tiers.hpp"

namespace {

using fp8::transpose;
using bf16 = fp8::bfloat16;
using f16 = fp8::half;
using e4m3 = fp8::fp8<fp8::E4M3>;
using e5m2 = fp8::fp8<fp8::E5M2>;
constexpr transpose both[] = {transpose::no, transpose::yes};
// Sweeps over 1..67 step by 1, or by 5 under the sanitizers (about 10x slower).
constexpr std::size_t sweep_step = FP8_TEST_SANITIZED ? 5 : 1;
constexpr double u = 0x1p-23;
constexpr double inf = std::numeric_limits<double>::infinity();

template <class T>
struct tag {};
template <class T>
struct is_fp8 : std::false_type {};
template <class F>
struct is_fp8<fp8::fp8<F>> : std::true_type {};
// B's element type in the tests' type lists: an FP8 format stands for its
// codes, bfloat16 and half for themselves (packed_b's convention).
template <class FB>
using b_type = typename std::conditional<std::is_same<FB, bf16>::value || std::is_same<FB, f16>::value, FB,
                                         fp8::fp8<FB>>::type;

// ---- Element types: names, exact values (no library codec), random values.

inline const char* type_name(tag<float>) { return "float"; }
inline const char* type_name(tag<bf16>) { return "bf16"; }
inline const char* type_name(tag<f16>) { return "half"; }
template <class F>
const char* type_name(tag<fp8::fp8<F>>) { return F::name; }

template <class F>
const std::vector<double>& code_values() {
  static const std::vector<double> table = [] {
    std::vector<double> t(256);
    for (unsigned c = 0; c < 256; ++c) t[c] = ref::decode(spec_of<F>(), c);
    return t;
  }();
  return table;
}
inline double value_of(float x) { return static_cast<double>(x); }
inline double value_of(bf16 x) { return static_cast<double>(float_from_bits(static_cast<std::uint32_t>(x.bits()) << 16)); }
// binary16 from its fields: (-1)^s 2^(e-15) (1 + m/1024), subnormal 2^-14 m/1024.
inline double value_of(f16 x) {
  const unsigned b = x.bits(), e = (b >> 10) & 31u, m = b & 1023u;
  const double mag = e == 31 ? (m != 0 ? std::numeric_limits<double>::quiet_NaN() : inf)
                     : e == 0 ? std::ldexp(static_cast<double>(m), -24)
                              : std::ldexp(static_cast<double>(m + 1024u), static_cast<int>(e) - 25);
  return (b & 0x8000u) != 0 ? -mag : mag;
}
template <class F>
double value_of(fp8::fp8<F> x) { return code_values<F>()[x.bits()]; }

inline std::uint32_t bits_of(float x) { return float_bits(x); }
inline std::uint32_t bits_of(bf16 x) { return x.bits(); }
inline std::uint32_t bits_of(f16 x) { return x.bits(); }
template <class F>
std::uint32_t bits_of(fp8::fp8<F> x) { return x.bits(); }

// %.9g: enough digits to tell floats apart in messages.
inline std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

inline std::uint32_t random_bits(std::mt19937& g) { return static_cast<std::uint32_t>(g()); }

// Exponent range of random bfloat16 and float values (normal numbers).
struct exps {
  int lo = -20, hi = 20;
};

// Random finite codes, every one equally likely.
template <class F>
fp8::fp8<F> random_value(tag<fp8::fp8<F>>, std::mt19937& g, exps) {
  std::uint8_t x;
  do x = static_cast<std::uint8_t>(random_bits(g) & 0xFF);
  while (!std::isfinite(code_values<F>()[x]));
  return fp8::fp8<F>::from_bits(x);
}
// Random sign, exponent in [e.lo, e.hi], all mantissa bits random; +-0 one
// time in 32.
inline bf16 random_value(tag<bf16>, std::mt19937& g, exps e) {
  const std::uint32_t r = random_bits(g);
  const std::uint32_t sign = (r >> 5) & 1u;
  if ((r & 31u) == 0) return bf16::from_bits(static_cast<std::uint16_t>(sign << 15));
  std::uniform_int_distribution<int> ex(e.lo, e.hi);
  const std::uint32_t biased = static_cast<std::uint32_t>(ex(g) + 127);
  return bf16::from_bits(static_cast<std::uint16_t>(sign << 15 | biased << 7 | ((r >> 8) & 0x7Fu)));
}
// The same for half, its exponents clipped to binary16's normal range
// [-14, 15].
inline f16 random_value(tag<f16>, std::mt19937& g, exps e) {
  const std::uint32_t r = random_bits(g);
  const std::uint32_t sign = (r >> 5) & 1u;
  if ((r & 31u) == 0) return f16::from_bits(static_cast<std::uint16_t>(sign << 15));
  std::uniform_int_distribution<int> ex(std::max(e.lo, -14), std::min(e.hi, 15));
  const std::uint32_t biased = static_cast<std::uint32_t>(ex(g) + 15);
  return f16::from_bits(static_cast<std::uint16_t>(sign << 15 | biased << 10 | ((r >> 8) & 0x3FFu)));
}
inline float random_value(tag<float>, std::mt19937& g, exps e) {
  const std::uint32_t r = random_bits(g);
  const std::uint32_t sign = (r >> 5) & 1u;
  if ((r & 31u) == 0) return float_from_bits(sign << 31);
  std::uniform_int_distribution<int> ex(e.lo, e.hi);
  const std::uint32_t biased = static_cast<std::uint32_t>(ex(g) + 127);
  return float_from_bits(sign << 31 | biased << 23 | (random_bits(g) & 0x7FFFFFu));
}

// Fillers: NaN where nothing may be read, and a sentinel past n in C.
template <class F>
fp8::fp8<F> nan_value(tag<fp8::fp8<F>>) { return fp8::fp8<F>::from_bits(fp8::fp8<F>::traits::nan_code); }
inline bf16 nan_value(tag<bf16>) { return bf16::from_bits(0x7FC0); }
inline f16 nan_value(tag<f16>) { return f16::from_bits(0x7E00); }
inline float nan_value(tag<float>) { return std::numeric_limits<float>::quiet_NaN(); }
template <class F>
fp8::fp8<F> sentinel(tag<fp8::fp8<F>>) { return fp8::fp8<F>::from_bits(0x35); }
inline bf16 sentinel(tag<bf16>) { return bf16::from_bits(0x1234); }
inline f16 sentinel(tag<f16>) { return f16::from_bits(0x1234); }
inline float sentinel(tag<float>) { return -7.25f; }

template <class T>
bool same_bits(const std::vector<T>& x, const std::vector<T>& y) {
  return x.size() == y.size() && (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(T)) == 0);
}

// ---- Output rounding of the reference.

// Round to nearest even into bfloat16 (8 significant bits, subnormals down to
// 2^-133, overflow to infinity), on doubles.
inline double round_bf16(double x) {
  if (x == 0.0 || !std::isfinite(x)) return x;
  int e;
  (void)std::frexp(x, &e);  // |x| in [2^(e-1), 2^e)
  const int q = std::max(e - 8, -133);
  const double y = std::ldexp(std::nearbyint(std::ldexp(x, -q)), q);  // nearbyint: ties to even
  return std::fabs(y) >= 0x1p128 ? std::copysign(inf, x) : y;
}

// Round to nearest even into half (11 significant bits, subnormals down to
// 2^-24, overflow to infinity from 65520 = 65504 + half a step), on doubles.
inline double round_half(double x) {
  if (x == 0.0 || !std::isfinite(x)) return x;
  int e;
  (void)std::frexp(x, &e);
  const int q = std::max(e - 11, -24);
  const double y = std::ldexp(std::nearbyint(std::ldexp(x, -q)), q);
  return std::fabs(y) > 65504.0 ? std::copysign(inf, x) : y;
}

template <class F>
std::uint8_t encode_ref(double x, fp8::overflow o) {
  static const ref::table t(spec_of<F>());
  return ref::encode(spec_of<F>(), t, x, o == fp8::overflow::saturate);
}
// Codes in value order; the NaN a non-saturating overflow gives (E4M3) counts
// as an infinity of its sign.
template <class F>
double order_key(std::uint8_t code) {
  const double d = code_values<F>()[code];
  if (std::isnan(d)) return (code & 0x80) != 0 && spec_of<F>().kind != ref::family::fnuz ? -inf : inf;
  return d;
}

// ---- One problem: operands, scales, options.

struct setup {
  float alpha = 1.0f, beta = 0.0f;
  std::size_t pad = 0;  // added to lda, ldb and ldc
  exps a_exps;
  exps b_exps{-8, 8};  // bfloat16 and half B (FP8 B: every finite code)
  float output_scale = 1.0f;
  fp8::overflow output_overflow = fp8::overflow::saturate;
  bool a_blocks = false, b_blocks = false;
  std::size_t scale_block = 128;
  bool row_col = false, bias = false;
  fp8::activation act = fp8::activation::none;
  float clamp_lo = -500.0f, clamp_hi = 700.0f;
};

template <class T>
struct matrix {
  std::size_t rows = 0, cols = 0, ld = 1;
  std::vector<T> v;
  std::vector<double> d;  // value_of(v), same layout
};

// rows x cols of random values, ld >= cols; the gap past cols holds NaN, so
// reading it shows.
template <class T>
matrix<T> random_matrix(std::size_t rows, std::size_t cols, std::size_t ld, std::mt19937& g, exps e) {
  matrix<T> x;
  x.rows = rows;
  x.cols = cols;
  x.ld = ld;
  x.v.assign(rows * ld, nan_value(tag<T>{}));
  x.d.assign(rows * ld, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) {
      x.v[r * ld + c] = random_value(tag<T>{}, g, e);
      x.d[r * ld + c] = value_of(x.v[r * ld + c]);
    }
  return x;
}

template <class TA, class FB>
struct problem {
  transpose ta = transpose::no, tb = transpose::no;
  std::size_t m = 0, n = 0, k = 0, lda = 1, ldb = 1, ldc = 0;
  setup s;
  matrix<TA> a;
  matrix<b_type<FB>> b;
  std::vector<float> row_scale, col_scale, bias, a_block_scale, b_block_scale;

  std::size_t kblocks() const { return (k + s.scale_block - 1) / s.scale_block; }
  fp8::gemm_options options(std::size_t threads = 1) const {
    fp8::gemm_options o;
    o.threads = threads;
    if (s.row_col) {
      o.row_scale = row_scale.data();
      o.col_scale = col_scale.data();
    }
    if (s.bias) o.bias = bias.data();
    o.act = s.act;
    o.clamp_lo = s.clamp_lo;
    o.clamp_hi = s.clamp_hi;
    if (s.a_blocks) o.a_block_scale = a_block_scale.data();
    if (s.b_blocks) o.b_block_scale = b_block_scale.data();
    o.scale_block = s.scale_block;
    o.output_scale = s.output_scale;
    o.output_overflow = s.output_overflow;
    return o;
  }
  std::string name() const {
    std::string r = std::string(type_name(tag<TA>{})) + "x" + type_name(tag<b_type<FB>>{}) + " ta=" + (ta == transpose::yes ? "T" : "N") +
                    " tb=" + (tb == transpose::yes ? "T" : "N") + " m=" + std::to_string(m) +
                    " n=" + std::to_string(n) + " k=" + std::to_string(k) + " alpha=" + std::to_string(s.alpha) +
                    " beta=" + std::to_string(s.beta) + " pad=" + std::to_string(s.pad);
    if (s.a_blocks || s.b_blocks)
      r += std::string(" blocks=") + (s.a_blocks ? "A" : "") + (s.b_blocks ? "B" : "") +
           " scale_block=" + std::to_string(s.scale_block);
    if (s.row_col) r += " row/col scales";
    if (s.bias) r += " bias";
    if (s.act != fp8::activation::none) r += s.act == fp8::activation::relu ? " relu" : " clamp";
    if (s.output_scale != 1.0f) r += " output_scale=" + std::to_string(s.output_scale);
    if (s.output_overflow == fp8::overflow::non_saturating) r += " non_saturating";
    return r;
  }
};

template <class TA, class FB>
problem<TA, FB> make_problem(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, const setup& s,
                             std::mt19937& g) {
  problem<TA, FB> p;
  p.ta = ta;
  p.tb = tb;
  p.m = m;
  p.n = n;
  p.k = k;
  p.s = s;
  p.lda = std::max<std::size_t>((ta == transpose::no ? k : m) + s.pad, 1);
  p.ldb = std::max<std::size_t>((tb == transpose::no ? n : k) + s.pad, 1);
  p.ldc = n + s.pad;
  p.a = random_matrix<TA>(ta == transpose::no ? m : k, ta == transpose::no ? k : m, p.lda, g, s.a_exps);
  p.b = random_matrix<b_type<FB>>(tb == transpose::no ? k : n, tb == transpose::no ? n : k, p.ldb, g, s.b_exps);
  std::uniform_real_distribution<float> scale(0.25f, 4.0f), block_scale(0.125f, 8.0f), bias(-50.0f, 50.0f);
  if (s.row_col) {
    for (std::size_t i = 0; i < m; ++i) p.row_scale.push_back(scale(g));
    for (std::size_t j = 0; j < n; ++j) p.col_scale.push_back(scale(g));
  }
  if (s.bias)
    for (std::size_t j = 0; j < n; ++j) p.bias.push_back(bias(g));
  if (s.a_blocks)
    for (std::size_t i = 0; i < m * p.kblocks(); ++i) p.a_block_scale.push_back(block_scale(g));
  if (s.b_blocks)
    for (std::size_t i = 0; i < (n + s.scale_block - 1) / s.scale_block * p.kblocks(); ++i)
      p.b_block_scale.push_back(block_scale(g));
  return p;
}

// C before the call: NaN when beta == 0 (never read), else random values
// (float in +-[0.25, 8), bfloat16 likewise, FP8 any finite code); the
// sentinel past n.
template <class TC, class TA, class FB>
std::vector<TC> initial_c(const problem<TA, FB>& p, std::mt19937& g) {
  std::vector<TC> c(p.m * p.ldc, sentinel(tag<TC>{}));
  for (std::size_t i = 0; i < p.m; ++i)
    for (std::size_t j = 0; j < p.n; ++j)
      c[i * p.ldc + j] = p.s.beta == 0.0f ? nan_value(tag<TC>{}) : random_value(tag<TC>{}, g, exps{-2, 2});
  return c;
}

// What beta multiplies: float(C), times output_scale for FP8 C.
inline double c_in(float c, float) { return c; }
inline double c_in(bf16 c, float) { return value_of(c); }
inline double c_in(f16 c, float) { return value_of(c); }
template <class F>
double c_in(fp8::fp8<F> c, float output_scale) { return value_of(c) * static_cast<double>(output_scale); }

// The interval each element of C (before the output conversion) lies in.
struct interval {
  std::vector<double> lo, hi;
};

template <class TA, class FB, class TC>
interval reference(const problem<TA, FB>& p, const std::vector<TC>& c0) {
  const std::size_t m = p.m, n = p.n, k = p.k;
  const setup& s = p.s;
  // op(A) (m x k) and op(B) (k x n), dense.
  std::vector<double> a(m * k), b(k * n);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t q = 0; q < k; ++q) a[i * k + q] = p.ta == transpose::no ? p.a.d[i * p.lda + q] : p.a.d[q * p.lda + i];
  for (std::size_t q = 0; q < k; ++q)
    for (std::size_t j = 0; j < n; ++j) b[q * n + j] = p.tb == transpose::no ? p.b.d[q * p.ldb + j] : p.b.d[j * p.ldb + q];
  const bool blocked = s.a_blocks || s.b_blocks;
  const std::size_t block = blocked ? s.scale_block : std::max<std::size_t>(k, 1);
  const std::size_t nkb = (k + block - 1) / block;
  const double extra = (std::is_same<TA, float>::value ? 6.0 : 4.0) + (blocked ? 4.0 + static_cast<double>(nkb) : 0.0);
  interval r;
  r.lo.resize(m * n);
  r.hi.resize(m * n);
  std::vector<double> sum(n), abs(n);
  for (std::size_t i = 0; i < m; ++i) {
    std::vector<double> v(n, 0.0), bound(n, 0.0);
    for (std::size_t kb = 0; kb < nkb; ++kb) {
      const std::size_t k0 = kb * block, k1 = std::min(k, k0 + block), len = k1 - k0;
      std::fill(sum.begin(), sum.end(), 0.0);
      std::fill(abs.begin(), abs.end(), 0.0);
      for (std::size_t q = k0; q < k1; ++q) {
        const double x = a[i * k + q];
        for (std::size_t j = 0; j < n; ++j) {
          const double t = x * b[q * n + j];
          sum[j] += t;
          abs[j] += std::fabs(t);
        }
      }
      const double rounds = static_cast<double>(len + 2 * ((len + 63) / 64)) + extra;
      for (std::size_t j = 0; j < n; ++j) {
        double scale = s.alpha;
        if (s.row_col) scale *= static_cast<double>(p.row_scale[i]) * p.col_scale[j];
        if (s.a_blocks) scale *= p.a_block_scale[i * nkb + kb];
        if (s.b_blocks) scale *= p.b_block_scale[(j / block) * nkb + kb];
        v[j] += scale * sum[j];
        bound[j] += u * rounds * std::fabs(scale) * abs[j];
      }
    }
    for (std::size_t j = 0; j < n; ++j) {
      double x = v[j], e = bound[j];
      if (s.beta != 0.0f) {
        const double t = static_cast<double>(s.beta) * c_in(c0[i * p.ldc + j], s.output_scale);
        x += t;
        e += 3 * u * std::fabs(t);
      }
      if (s.bias) {
        x += p.bias[j];
        e += u * (std::fabs(x) + std::fabs(p.bias[j]));
      }
      double lo = x - e - 1e-30, hi = x + e + 1e-30;
      if (s.act == fp8::activation::relu) {
        lo = std::max(lo, 0.0);
        hi = std::max(hi, 0.0);
      } else if (s.act == fp8::activation::clamp) {
        lo = std::min(std::max(lo, static_cast<double>(s.clamp_lo)), static_cast<double>(s.clamp_hi));
        hi = std::min(std::max(hi, static_cast<double>(s.clamp_lo)), static_cast<double>(s.clamp_hi));
      }
      r.lo[i * n + j] = lo;
      r.hi[i * n + j] = hi;
    }
  }
  return r;
}

// Whether C's element lies in the reference interval after the output
// conversion, and what was wanted (for the message).
inline bool within(float got, double lo, double hi, const setup&, std::string& want) {
  if (got >= lo && got <= hi) return true;
  want = "[" + num(lo) + ", " + num(hi) + "]";
  return false;
}
inline bool within(bf16 got, double lo, double hi, const setup&, std::string& want) {
  const double x = value_of(got), rlo = round_bf16(lo), rhi = round_bf16(hi);
  if (x >= rlo && x <= rhi) return true;
  want = "bf16 in [" + num(rlo) + ", " + num(rhi) + "] (exact interval [" + num(lo) +
         ", " + num(hi) + "]), got bits " + std::to_string(got.bits());
  return false;
}
inline bool within(f16 got, double lo, double hi, const setup&, std::string& want) {
  const double x = value_of(got), rlo = round_half(lo), rhi = round_half(hi);
  if (x >= rlo && x <= rhi) return true;
  want = "half in [" + num(rlo) + ", " + num(rhi) + "] (exact interval [" + num(lo) + ", " + num(hi) +
         "]), got bits " + std::to_string(got.bits());
  return false;
}
template <class F>
bool within(fp8::fp8<F> got, double lo, double hi, const setup& s, std::string& want) {
  const double os = s.output_scale;
  double xl = lo / os, xh = hi / os;
  xl -= std::fabs(xl) * 0x1p-22;
  xh += std::fabs(xh) * 0x1p-22;
  const std::uint8_t clo = encode_ref<F>(xl, s.output_overflow), chi = encode_ref<F>(xh, s.output_overflow);
  const double key = order_key<F>(got.bits());
  if (key >= order_key<F>(clo) && key <= order_key<F>(chi)) return true;
  want = std::string(F::name) + " code in [" + std::to_string(clo) + ", " + std::to_string(chi) + "] (values " +
         num(order_key<F>(clo)) + ", " + num(order_key<F>(chi)) + "; scaled interval [" +
         num(xl) + ", " + num(xh) + "]), got code " + std::to_string(got.bits()) + " = " +
         num(key);
  return false;
}

// C against the reference, and the sentinels past n (ldc > n) untouched.
template <class TA, class FB, class TC>
void check_c(const problem<TA, FB>& p, const std::vector<TC>& c, const interval& r, const std::string& what) {
  std::size_t bad = 0;
  const std::uint32_t guard = bits_of(sentinel(tag<TC>{}));
  for (std::size_t i = 0; i < p.m; ++i) {
    for (std::size_t j = 0; j < p.n; ++j) {
      std::string want;
      if (!within(c[i * p.ldc + j], r.lo[i * p.n + j], r.hi[i * p.n + j], p.s, want) && bad++ < 3)
        FAIL_CHECK(what << ": C[" << i << "][" << j << "] = " << value_of(c[i * p.ldc + j]) << ", want " << want);
    }
    for (std::size_t j = p.n; j < p.ldc; ++j)
      if (bits_of(c[i * p.ldc + j]) != guard && bad++ < 3) FAIL_CHECK(what << ": wrote C[" << i << "][" << j << "] past n");
  }
  CHECK(bad == 0);
}

template <class TA, class FB>
using packed_for =
    typename std::conditional<std::is_same<TA, float>::value || std::is_same<TA, f16>::value, fp8::packed_b<FB, float>,
                              fp8::packed_b<FB>>::type;

template <class TA, class FB, class TC>
void call(const problem<TA, FB>& p, std::vector<TC>& c, std::size_t threads = 1) {
  fp8::gemm(p.ta, p.tb, p.m, p.n, p.k, p.s.alpha, p.a.v.data(), p.lda, p.b.v.data(), p.ldb, p.s.beta, c.data(), p.ldc,
            p.options(threads));
}
template <class TA, class FB, class TC>
void call_packed(const problem<TA, FB>& p, const packed_for<TA, FB>& pb, std::vector<TC>& c, std::size_t threads = 1) {
  fp8::gemm(p.ta, p.m, p.s.alpha, p.a.v.data(), p.lda, pb, p.s.beta, c.data(), p.ldc, p.options(threads));
}

// One call on random operands, checked; returns the reference interval (the
// FP8 output tests count how many results overflow).
template <class TA, class FB, class TC>
interval run_case(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, const setup& s,
                  std::mt19937& g) {
  const auto p = make_problem<TA, FB>(ta, tb, m, n, k, s, g);
  auto c = initial_c<TC>(p, g);
  const interval r = reference(p, c);
  call(p, c);
  check_c(p, c, r, p.name() + " C=" + type_name(tag<TC>{}));
  return r;
}

struct bf16_e4m3 { using A = bf16; using B = fp8::E4M3; };
struct bf16_e5m2 { using A = bf16; using B = fp8::E5M2; };
struct bf16_fnuz { using A = bf16; using B = fp8::E4M3FNUZ; };
struct float_e4m3 { using A = float; using B = fp8::E4M3; };
struct float_e5m2 { using A = float; using B = fp8::E5M2; };
struct float_fnuz { using A = float; using B = fp8::E4M3FNUZ; };
struct half_e4m3 { using A = f16; using B = fp8::E4M3; };
struct half_e5m2 { using A = f16; using B = fp8::E5M2; };

template <class A_, class B_, class C_>
struct abc {
  using A = A_;
  using B = B_;
  using C = C_;
};

}  // namespace

// ---------------------------------------------------------------------------
// Weight-only GEMM, float C.

TEMPLATE_TEST_CASE("gemm ext: bfloat16 / float A x FP8 B, every transpose, sizes 1..67, past the blocks", "[gemm]",
                   bf16_e4m3, bf16_e5m2, bf16_fnuz, float_e4m3, float_e5m2, float_fnuz, half_e4m3, half_e5m2) {
  using TA = typename TestType::A;
  using FB = typename TestType::B;
  std::mt19937 g(2024);
  const setup s;
  for (transpose ta : both)
    for (transpose tb : both) {
      for (std::size_t x = 1; x <= 67; x += sweep_step) {
        run_case<TA, FB, float>(ta, tb, x, 37, 29, s, g);  // m: every tile edge, the small-m path
        run_case<TA, FB, float>(ta, tb, 13, x, 41, s, g);  // n
        run_case<TA, FB, float>(ta, tb, 19, 35, x, s, g);  // k: odd k, k = 1
      }
      // Past MC (48 to 240 by tier) and KC (192 to 2048), past NC (4096),
      // padded leading dimensions.
      setup p = s;
      p.pad = 3;
      run_case<TA, FB, float>(ta, tb, 251, 67, 389, p, g);
      run_case<TA, FB, float>(ta, tb, 13, 35, 2053, p, g);
      p.pad = 1;
      run_case<TA, FB, float>(ta, tb, 3, 4099, 7, p, g);
      p.pad = 5;
      p.alpha = -0.5f;
      p.beta = 1.5f;
      run_case<TA, FB, float>(ta, tb, 61, 97, 773, p, g);
    }
}

TEMPLATE_TEST_CASE("gemm ext: alpha and beta with bfloat16 / half / float A; beta = 0 never reads C", "[gemm]", bf16, f16,
                   float) {
  using TA = TestType;
  std::mt19937 g(99);
  for (float alpha : {1.0f, -0.5f, 3.0f, 0.0f})
    for (float beta : {0.0f, 1.0f, -2.5f})
      for (transpose ta : both)
        for (transpose tb : both)
          for (std::size_t m : {std::size_t{1}, std::size_t{5}, std::size_t{30}}) {
            setup s;
            s.alpha = alpha;
            s.beta = beta;
            s.pad = 2;
            run_case<TA, fp8::E4M3, float>(ta, tb, m, 45, 70, s, g);
          }
  // k = 0 (A and B not read; empty, so null): C = beta * Cin, for every C type.
  for (float beta : {0.0f, -1.5f}) {
    setup s;
    s.beta = beta;
    s.pad = 1;
    run_case<TA, fp8::E5M2, float>(transpose::no, transpose::yes, 3, 5, 0, s, g);
    run_case<TA, fp8::E5M2, bf16>(transpose::no, transpose::yes, 3, 5, 0, s, g);
    run_case<TA, fp8::E5M2, f16>(transpose::no, transpose::yes, 3, 5, 0, s, g);
    s.output_scale = 0.25f;
    run_case<TA, fp8::E5M2, e4m3>(transpose::no, transpose::yes, 3, 5, 0, s, g);
  }
}

// ---------------------------------------------------------------------------
// bfloat16 and half B (a layer kept in 16 bits), on every tier's kernel:
// vdpbf16ps for bfloat16 B with FP8 or bfloat16 A, the float kernels for
// half B and for float or half A.

TEMPLATE_TEST_CASE("gemm ext: bfloat16 / half B with every A type, every tier, every transpose", "[gemm]",
                   (abc<bf16, bf16, float>), (abc<e4m3, bf16, float>), (abc<float, bf16, bf16>),
                   (abc<f16, bf16, float>), (abc<f16, f16, f16>), (abc<e5m2, f16, float>), (abc<bf16, f16, float>),
                   (abc<float, f16, e4m3>)) {
  using TA = typename TestType::A;
  using FB = typename TestType::B;
  using TC = typename TestType::C;
  std::mt19937 g(16);
  test_tiers::for_each_gemm_tier([&](const char* kernel) {
    INFO("the tier of kernel " << kernel);
    std::size_t count = 0;
    for (transpose ta : both)
      for (transpose tb : both) {
        for (std::size_t x = 1; x <= 67; x += 4 * sweep_step) {
          setup s;
          s.a_exps = exps{-6, 6};
          s.pad = count % 3;
          s.beta = count % 2 == 0 ? 0.0f : 0.5f;
          if (is_fp8<TC>::value) s.output_scale = 4.0f;
          ++count;
          run_case<TA, FB, TC>(ta, tb, x, 37, 29, s, g);  // m: every tile edge (16-bit B never takes small m)
          run_case<TA, FB, TC>(ta, tb, 13, x, 41, s, g);  // n
          run_case<TA, FB, TC>(ta, tb, 19, 35, x, s, g);  // k: odd k, k = 1
        }
        setup p;
        p.a_exps = exps{-6, 6};
        p.pad = 3;
        p.alpha = -0.5f;
        p.beta = 1.5f;
        p.row_col = p.bias = true;
        if (is_fp8<TC>::value) p.output_scale = 4.0f;
        run_case<TA, FB, TC>(ta, tb, 251, 67, 389, p, g);  // past MC and KC
      }
  });
}

// ---------------------------------------------------------------------------
// The whole operand matrix: every A (FP8, bfloat16, half, float) x B (FP8,
// bfloat16, half) x C (float, bfloat16, half, FP8) combination, unpacked and
// packed, on a blocked and a small m.

namespace {
template <class TA, class FB, class TC>
void matrix_case(std::mt19937& g) {
  for (transpose tb : both)
    for (std::size_t m : {std::size_t{3}, std::size_t{13}}) {
      setup s;
      s.a_exps = exps{-6, 6};
      s.beta = 0.5f;
      s.pad = 1;
      s.row_col = m == 13;
      if (is_fp8<TC>::value) s.output_scale = 4.0f;
      const auto p = make_problem<TA, FB>(transpose::no, tb, m, 37, 50, s, g);
      auto c = initial_c<TC>(p, g);
      auto cp = c;
      const interval r = reference(p, c);
      call(p, c);
      const std::string what = p.name() + " C=" + type_name(tag<TC>{});
      check_c(p, c, r, what);
      const packed_for<TA, FB> pb(tb, p.k, p.n, p.b.v.data(), p.ldb);
      call_packed(p, pb, cp);
      check_c(p, cp, r, what + " packed");
    }
}
template <class TA, class FB>
void matrix_row(std::mt19937& g) {
  matrix_case<TA, FB, float>(g);
  matrix_case<TA, FB, bf16>(g);
  matrix_case<TA, FB, f16>(g);
  matrix_case<TA, FB, e4m3>(g);
}
template <class TA>
void matrix_a(std::mt19937& g) {
  matrix_row<TA, fp8::E5M2>(g);
  matrix_row<TA, bf16>(g);
  matrix_row<TA, f16>(g);
}
}  // namespace

TEST_CASE("gemm ext: every A x B x C combination of the operand matrix, unpacked and packed", "[gemm]") {
  std::mt19937 g(48);
  matrix_a<e4m3>(g);
  matrix_a<bf16>(g);
  matrix_a<f16>(g);
  matrix_a<float>(g);
}

// ---------------------------------------------------------------------------
// bfloat16 C.

TEMPLATE_TEST_CASE("gemm ext: bfloat16 and half C, rounded to nearest even, beta reads it", "[gemm]",
                   (abc<e4m3, fp8::E4M3, bf16>), (abc<bf16, fp8::E4M3, bf16>), (abc<bf16, fp8::E5M2, bf16>),
                   (abc<float, fp8::E4M3FNUZ, bf16>), (abc<e4m3, fp8::E4M3, f16>), (abc<f16, fp8::E5M2, f16>),
                   (abc<bf16, fp8::E4M3, f16>), (abc<float, fp8::E5M2, f16>)) {
  using TA = typename TestType::A;
  using FB = typename TestType::B;
  using TC = typename TestType::C;
  std::mt19937 g(31);
  std::size_t count = 0;
  for (transpose ta : both)
    for (transpose tb : both) {
      for (std::size_t x = 1; x <= 67; x += 3 * sweep_step) {
        setup s;
        s.beta = count % 2 == 0 ? 0.0f : 0.75f;
        s.pad = count % 3 == 0 ? 2 : 0;
        ++count;
        run_case<TA, FB, TC>(ta, tb, x, 37, 29, s, g);
        run_case<TA, FB, TC>(ta, tb, 13, x, 41, s, g);
        run_case<TA, FB, TC>(ta, tb, 19, 35, x, s, g);
      }
      setup s;
      s.beta = -1.0f;
      s.pad = 3;
      run_case<TA, FB, TC>(ta, tb, 251, 67, 389, s, g);  // past MC and KC (and the scratch's rows)
    }
  // The epilogue before the rounding.
  for (transpose tb : both)
    for (fp8::activation act : {fp8::activation::none, fp8::activation::relu, fp8::activation::clamp}) {
      setup s;
      s.alpha = 0.5f;
      s.beta = 0.25f;
      s.row_col = true;
      s.bias = true;
      s.act = act;
      s.a_exps = exps{-3, 3};
      run_case<TA, FB, TC>(transpose::no, tb, 6, 53, 450, s, g);
      run_case<TA, FB, TC>(transpose::no, tb, 40, 53, 450, s, g);
    }
}

// ---------------------------------------------------------------------------
// FP8 C with an output scale.

TEMPLATE_TEST_CASE("gemm ext: FP8 C with output_scale, saturating and not, beta reads float(C) * output_scale",
                   "[gemm]", (abc<e4m3, fp8::E4M3, e4m3>), (abc<bf16, fp8::E4M3, e4m3>), (abc<float, fp8::E4M3, e4m3>),
                   (abc<bf16, fp8::E5M2, e5m2>), (abc<float, fp8::E5M2, e5m2>), (abc<e4m3, fp8::E5M2, e5m2>)) {
  using TA = typename TestType::A;
  using FB = typename TestType::B;
  using TC = typename TestType::C;
  using FC = typename TC::format;
  std::mt19937 g(8);
  struct shape {
    std::size_t m, n, k;
  };
  const double max_finite = ref::table(spec_of<FC>()).max();
  std::size_t count = 0, beyond = 0, inside = 0;
  for (float os : {0.25f, 3.0f, 1.0f})
    for (fp8::overflow ovf : {fp8::overflow::saturate, fp8::overflow::non_saturating})
      for (float beta : {0.0f, 0.5f})
        for (transpose tb : both)
          for (shape sh : {shape{1, 37, 29}, shape{5, 67, 50}, shape{30, 45, 70}, shape{13, 33, 400}, shape{250, 20, 17}}) {
            setup s;
            s.output_scale = os;
            s.output_overflow = ovf;
            s.beta = beta;
            s.alpha = count % 3 == 2 ? 1.0f / 64 : 1.0f;
            s.a_exps = exps{-3, 3};
            s.pad = count % 2;
            if (count % 7 == 3) {
              s.bias = true;
              s.act = fp8::activation::relu;
            }
            const transpose ta = (count / 2) % 2 == 0 ? transpose::no : transpose::yes;
            ++count;
            const interval r = run_case<TA, FB, TC>(ta, tb, sh.m, sh.n, sh.k, s, g);
            for (std::size_t i = 0; i < r.lo.size(); ++i) {
              if (std::min(std::fabs(r.lo[i]), std::fabs(r.hi[i])) / os > 1.2 * max_finite) ++beyond;
              if (std::max(std::fabs(r.lo[i]), std::fabs(r.hi[i])) / os < 0.8 * max_finite) ++inside;
            }
          }
  // Both the overflow rule and ordinary rounding were exercised.
  CHECK(beyond > 100);
  CHECK(inside > 100);
}

// ---------------------------------------------------------------------------
// DeepSeek-V3 block scales.

TEMPLATE_TEST_CASE("gemm ext: block scales of A, of B and both, with row and column scales", "[gemm]",
                   (abc<e4m3, fp8::E4M3, float>), (abc<bf16, fp8::E4M3, float>), (abc<float, fp8::E4M3, float>),
                   (abc<bf16, fp8::E5M2, float>), (abc<e4m3, fp8::E4M3, bf16>), (abc<e4m3, fp8::E4M3, e4m3>)) {
  using TA = typename TestType::A;
  using FB = typename TestType::B;
  using TC = typename TestType::C;
  std::mt19937 g(128);
  struct shape {
    std::size_t m, n;
  };
  const shape shapes[] = {{1, 200}, {7, 37}, {37, 200}, {5, 129}, {13, 64}};
  const std::vector<std::size_t> blocks = FP8_TEST_SANITIZED ? std::vector<std::size_t>{128, 2}
                                                             : std::vector<std::size_t>{128, 64, 2, 200};
  const std::vector<std::size_t> ks = FP8_TEST_SANITIZED ? std::vector<std::size_t>{300, 1}
                                                         : std::vector<std::size_t>{300, 129, 1, 256, 128};
  std::size_t count = 0;
  for (std::size_t sb : blocks)
    for (std::size_t k : ks)
      for (transpose tb : both)
        for (int which = 0; which < 3; ++which)  // A only, B only, both
          for (bool row_col : {false, true}) {
            setup s;
            s.scale_block = sb;
            s.a_blocks = which != 1;
            s.b_blocks = which != 0;
            s.row_col = row_col;
            s.beta = count % 3 == 0 ? 0.5f : 0.0f;
            s.bias = count % 5 == 1;
            s.pad = count % 2;
            s.alpha = count % 4 == 3 ? -0.75f : 1.0f;
            if (is_fp8<TC>::value) s.output_scale = 2.0f;
            const shape sh = shapes[count % 5];
            const transpose ta = (count / 5) % 2 == 0 ? transpose::no : transpose::yes;
            ++count;
            run_case<TA, FB, TC>(ta, tb, sh.m, sh.n, k, s, g);
          }
  // Deep k: several KC blocks, blocks straddling KC (200 and 6 do not divide
  // 384 or 2048), a block larger than k, many column blocks.
  struct deep {
    std::size_t m, n, k, sb;
  };
  for (deep d : {deep{3, 300, 1000, 128}, deep{50, 130, 520, 200}, deep{9, 70, 800, 6}, deep{20, 40, 300, 512}, deep{14, 33, 2300, 200}})
    for (transpose tb : both) {
      setup s;
      s.scale_block = d.sb;
      s.a_blocks = s.b_blocks = true;
      s.row_col = true;
      s.beta = -1.0f;
      s.bias = true;
      s.act = tb == transpose::no ? fp8::activation::relu : fp8::activation::none;
      if (is_fp8<TC>::value) s.output_scale = 2.0f;
      run_case<TA, FB, TC>(transpose::no, tb, d.m, d.n, d.k, s, g);
    }
}

// ---------------------------------------------------------------------------
// bfloat16 and FP8 C go through a float scratch of max(MC, 2^21 / n / MC * MC)
// rows: with n = 4400 that is 432 rows for MC = 48 (the AVX-512 kernels: m =
// 500 and 900 in two and three pieces) and 360 for MC = 120 (AVX2: m = 500
// and 900 in two and three), each piece with its own row scales and A block
// scales.

TEMPLATE_TEST_CASE("gemm ext: bfloat16 and FP8 C with m past the float scratch's rows", "[gemm]",
                   (abc<bf16, fp8::E4M3, bf16>), (abc<e4m3, fp8::E5M2, e4m3>), (abc<float, fp8::E4M3, e5m2>),
                   (abc<f16, fp8::E4M3, f16>)) {
  using TA = typename TestType::A;
  using FB = typename TestType::B;
  using TC = typename TestType::C;
  std::mt19937 g(21);
  for (transpose tb : both)
    for (std::size_t m : {std::size_t{251}, std::size_t{500}, std::size_t{900}}) {
      if (FP8_TEST_SANITIZED && (m >= 500 || tb == transpose::yes)) continue;
      setup s;
      s.beta = 0.5f;
      s.row_col = s.bias = true;
      s.a_blocks = s.b_blocks = true;
      s.scale_block = 8;
      s.a_exps = exps{-3, 3};
      s.pad = 1;
      if (is_fp8<TC>::value) s.output_scale = 2.0f;
      run_case<TA, FB, TC>(tb == transpose::no ? transpose::yes : transpose::no, tb, m, 4400, 20, s, g);
    }
}

// ---------------------------------------------------------------------------
// Packed B.

TEMPLATE_TEST_CASE("gemm ext: packed B (packed_b<FB> for bfloat16 A, packed_b<FB, float> for float A) equals unpacked",
                   "[gemm]", (abc<bf16, fp8::E4M3, float>), (abc<float, fp8::E4M3, float>), (abc<bf16, fp8::E5M2, bf16>),
                   (abc<float, fp8::E4M3FNUZ, e4m3>), (abc<e4m3, fp8::E4M3, bf16>), (abc<f16, fp8::E4M3, f16>),
                   (abc<f16, fp8::E5M2, float>), (abc<bf16, bf16, bf16>), (abc<f16, f16, f16>),
                   (abc<e4m3, f16, float>), (abc<float, bf16, e4m3>)) {
  using TA = typename TestType::A;
  using FB = typename TestType::B;
  using TC = typename TestType::C;
  std::mt19937 g(6);
  const auto one = [&](transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, const setup& s) {
    const auto p = make_problem<TA, FB>(ta, tb, m, n, k, s, g);
    const packed_for<TA, FB> pb(tb, k, n, p.b.v.data(), p.ldb);
    auto c1 = initial_c<TC>(p, g);
    auto c2 = c1, c3 = c1;
    const interval r = reference(p, c1);
    call(p, c1);
    call_packed(p, pb, c2);
    call_packed(p, pb, c3, 3);
    const std::string what = p.name() + " C=" + type_name(tag<TC>{}) + " packed";
    check_c(p, c2, r, what);
    // The blocked path packs B the same way: identical bits. The small-m
    // paths (m <= smallm_max, FP8 B) never pack B and sum in another order,
    // so they are compared within the bound only.
    const bool small_m_path = m <= fp8::kernel::smallm_max && is_fp8<b_type<FB>>::value;
    INFO(what);
    if (!small_m_path) CHECK(same_bits(c1, c2));
    CHECK(same_bits(c2, c3));
  };
  for (transpose ta : both)
    for (transpose tb : both)
      for (std::size_t m : {std::size_t{1}, std::size_t{3}, std::size_t{13}, std::size_t{50}}) {
        setup s;
        s.alpha = 1.5f;
        s.beta = -1.0f;
        s.pad = m % 2;
        if (is_fp8<TC>::value) s.output_scale = 4.0f;
        one(ta, tb, m, 77, 801, s);
        if (m == 50) one(ta, tb, m, 45, 2101, s);  // k past every tier's KC: packed blocks of k
        // With block scales, per-row/column scales, bias and ReLU.
        s.a_blocks = s.b_blocks = true;
        s.scale_block = m == 3 ? 64 : 128;
        s.row_col = s.bias = true;
        s.act = fp8::activation::relu;
        one(ta, tb, m, 77, 801, s);
        if (m == 13) one(ta, tb, m, 45, 2101, s);
      }
}

// ---------------------------------------------------------------------------
// Threads.

namespace {
template <class TA, class FB, class TC>
void threads_identical(const setup& s, bool packed, std::mt19937& g) {
  struct shape {
    std::size_t m, n, k;  // m * n * k >= 4 * 2^22: four threads are worth starting
  };
  for (transpose tb : both)
    for (shape sh : {shape{64, 260, 1010}, shape{260, 64, 1010}, shape{3, 2800, 2000}}) {
      // Under the sanitizers: the blocked path with B k x n, the small-m one with B n x k.
      if (FP8_TEST_SANITIZED && !((sh.m == 64 && tb == transpose::no) || (sh.m == 3 && tb == transpose::yes))) continue;
      const transpose ta = sh.m == 64 ? transpose::yes : transpose::no;
      const auto p = make_problem<TA, FB>(ta, tb, sh.m, sh.n, sh.k, s, g);
      std::unique_ptr<packed_for<TA, FB>> pb;
      if (packed) pb.reset(new packed_for<TA, FB>(tb, sh.k, sh.n, p.b.v.data(), p.ldb));
      const auto c0 = initial_c<TC>(p, g);
      std::vector<TC> first;
      for (std::size_t t = 1; t <= 4; ++t) {
        auto c = c0;
        if (packed)
          call_packed(p, *pb, c, t);
        else
          call(p, c, t);
        if (t == 1) {
          first = c;
        } else {
          INFO(p.name() << " C=" << type_name(tag<TC>{}) << (packed ? " packed" : "") << " threads=" << t);
          CHECK(same_bits(first, c));
        }
      }
    }
}
}  // namespace

TEST_CASE("gemm ext: thread counts 1..4 give identical bits for every new feature", "[gemm]") {
  std::mt19937 g(4);
  setup s;
  s.alpha = 0.75f;
  s.beta = 0.5f;
  s.a_exps = exps{-3, 3};
  threads_identical<bf16, fp8::E4M3, float>(s, false, g);
  threads_identical<float, fp8::E5M2, float>(s, false, g);
  threads_identical<bf16, fp8::E5M2, bf16>(s, false, g);
  setup f = s;
  f.output_scale = 3.0f;
  f.output_overflow = fp8::overflow::non_saturating;
  threads_identical<e4m3, fp8::E4M3, e4m3>(f, false, g);
  threads_identical<bf16, fp8::E5M2, e5m2>(f, false, g);
  setup b = s;
  b.a_blocks = b.b_blocks = true;
  b.row_col = true;
  threads_identical<e4m3, fp8::E4M3, float>(b, false, g);
  b.a_blocks = false;
  b.scale_block = 64;
  threads_identical<bf16, fp8::E4M3, bf16>(b, false, g);
  b.a_blocks = true;
  b.b_blocks = false;
  threads_identical<float, fp8::E4M3, float>(b, false, g);
  threads_identical<bf16, fp8::E4M3, float>(s, true, g);
  threads_identical<float, fp8::E4M3, e4m3>(f, true, g);
  threads_identical<f16, f16, f16>(s, false, g);
  threads_identical<bf16, bf16, float>(s, true, g);
}

// ---------------------------------------------------------------------------
// Special values of the new A types.

TEST_CASE("gemm ext: bfloat16 and float A: subnormal values and float-subnormal products are exact", "[gemm]") {
  // Products and all their partial sums are exact in float here (multiples of
  // 2^-142 resp. 2^-149 below 2^-120 resp. 2^-126), so C must be the exact
  // sum: a kernel that flushes denormals (inputs or results) is caught.
  std::mt19937 g(1);
  const std::size_t n = 40, k = 16;
  for (transpose tb : both)
    for (std::size_t m : {std::size_t{1}, std::size_t{4}, std::size_t{20}}) {
      // B: E4M3 values of magnitude at most 2, random signs.
      std::vector<e4m3> b(k * n);
      for (auto& x : b)
        x = e4m3::from_bits(static_cast<std::uint8_t>((random_bits(g) % 0x41u) | (random_bits(g) & 0x80u)));
      const auto b_at = [&](std::size_t q, std::size_t j) {
        return value_of(tb == transpose::no ? b[q * n + j] : b[j * k + q]);
      };
      const std::size_t ldb = tb == transpose::no ? n : k;
      // bfloat16 A: subnormal (exponent field 0) or the smallest normal binade.
      std::vector<bf16> ab(m * k);
      for (auto& x : ab) {
        const std::uint32_t r = random_bits(g);
        x = bf16::from_bits(static_cast<std::uint16_t>((r & 0x8000u) | ((r >> 16) % 2u) << 7 | ((r >> 1) & 0x7Fu)));
      }
      // float A: multiples of 2^-140 below 2^-131 (subnormal floats).
      std::vector<float> af(m * k);
      for (auto& x : af) {
        const std::uint32_t r = random_bits(g);
        x = std::ldexp(static_cast<float>(r & 0x1FFu), -140) * ((r & 0x1000u) != 0 ? -1.0f : 1.0f);
      }
      const auto check = [&](const std::vector<float>& c, const auto& a, const char* what) {
        std::size_t bad = 0;
        for (std::size_t i = 0; i < m; ++i)
          for (std::size_t j = 0; j < n; ++j) {
            double s = 0;
            for (std::size_t q = 0; q < k; ++q) s += value_of(a[i * k + q]) * b_at(q, j);
            if (static_cast<double>(c[i * n + j]) != s && bad++ < 3)
              FAIL_CHECK(what << " tb=" << (tb == transpose::yes ? "T" : "N") << " m=" << m << ": C[" << i << "][" << j
                              << "] = " << c[i * n + j] << ", want " << s);
          }
        CHECK(bad == 0);
      };
      std::vector<float> c(m * n, std::numeric_limits<float>::quiet_NaN());
      fp8::gemm(transpose::no, tb, m, n, k, 1.0f, ab.data(), k, b.data(), ldb, 0.0f, c.data(), n);
      check(c, ab, "bf16 A");
      const fp8::packed_b<fp8::E4M3> pb(tb, k, n, b.data(), ldb);
      fp8::gemm(transpose::no, m, 1.0f, ab.data(), k, pb, 0.0f, c.data(), n);
      check(c, ab, "bf16 A, packed B");
      fp8::gemm(transpose::no, tb, m, n, k, 1.0f, af.data(), k, b.data(), ldb, 0.0f, c.data(), n);
      check(c, af, "float A");
      const fp8::packed_b<fp8::E4M3, float> pf(tb, k, n, b.data(), ldb);
      fp8::gemm(transpose::no, m, 1.0f, af.data(), k, pf, 0.0f, c.data(), n);
      check(c, af, "float A, packed B");
    }
}

TEST_CASE("gemm ext: bfloat16 B: subnormal values and products below 2^-126 are exact", "[gemm]") {
  // As above with bfloat16 B: FP8 A times subnormal or smallest-binade B
  // (products multiples of 2^-142 below 2^-123), and bfloat16 A times
  // bfloat16 B both in [2^-64, 2^-62) (normal values whose products lie in
  // [2^-128, 2^-124): some subnormal as floats, all multiples of 2^-142).
  // vdpbf16ps would flush them; C must be the exact sum.
  std::mt19937 g(2);
  const std::size_t n = 40, k = 16;
  const auto tiny_bf16 = [&](bool subnormal) {
    const std::uint32_t r = random_bits(g);
    const std::uint32_t biased = subnormal ? (r >> 16) % 2u : 63u + (r >> 16) % 2u;  // 2^-64, 2^-63
    return bf16::from_bits(static_cast<std::uint16_t>((r & 0x8000u) | biased << 7 | ((r >> 1) & 0x7Fu)));
  };
  for (transpose tb : both)
    for (std::size_t m : {std::size_t{1}, std::size_t{4}, std::size_t{20}})
      for (bool subnormal : {true, false}) {
        std::vector<bf16> b(k * n), ab(m * k);
        for (auto& x : b) x = tiny_bf16(subnormal);
        for (auto& x : ab) x = tiny_bf16(false);
        std::vector<e4m3> a8(m * k);
        for (auto& x : a8)
          x = e4m3::from_bits(static_cast<std::uint8_t>((random_bits(g) % 0x41u) | (random_bits(g) & 0x80u)));
        const std::size_t ldb = tb == transpose::no ? n : k;
        const auto check = [&](const std::vector<float>& c, const auto& a, const char* what) {
          std::size_t bad = 0;
          for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < n; ++j) {
              double s = 0;
              for (std::size_t q = 0; q < k; ++q)
                s += value_of(a[i * k + q]) * value_of(tb == transpose::no ? b[q * n + j] : b[j * k + q]);
              if (static_cast<double>(c[i * n + j]) != s && bad++ < 3)
                FAIL_CHECK(what << (subnormal ? " subnormal B" : " B near 2^-63") << " tb="
                                << (tb == transpose::yes ? "T" : "N") << " m=" << m << ": C[" << i << "][" << j
                                << "] = " << c[i * n + j] << ", want " << s);
            }
          CHECK(bad == 0);
        };
        const fp8::packed_b<bf16> pb(tb, k, n, b.data(), ldb);
        std::vector<float> c(m * n, std::numeric_limits<float>::quiet_NaN());
        fp8::gemm(transpose::no, tb, m, n, k, 1.0f, a8.data(), k, b.data(), ldb, 0.0f, c.data(), n);
        check(c, a8, "E4M3 A");
        fp8::gemm(transpose::no, m, 1.0f, a8.data(), k, pb, 0.0f, c.data(), n);
        check(c, a8, "E4M3 A, packed B");
        if (subnormal) continue;  // bfloat16 A near 2^-63 times subnormal B: exact only past float's range
        fp8::gemm(transpose::no, tb, m, n, k, 1.0f, ab.data(), k, b.data(), ldb, 0.0f, c.data(), n);
        check(c, ab, "bf16 A");
        fp8::gemm(transpose::no, m, 1.0f, ab.data(), k, pb, 0.0f, c.data(), n);
        check(c, ab, "bf16 A, packed B");
      }
}

TEST_CASE("gemm ext: an empty bfloat16 B of any width packs without visiting its columns", "[gemm]") {
  // k = 0, n = 2^62: B has no element, and its least step (the flush rule)
  // must not walk n empty columns (a scan over n took hours; found by fuzzing).
  const std::size_t n = std::size_t{1} << 62;
  const fp8::packed_b<bf16> pb(transpose::no, 0, n, static_cast<const bf16*>(nullptr), n);
  CHECK(pb.k() == 0);
  CHECK(pb.n() == n);
}

TEST_CASE("gemm ext: NaN and infinity in bfloat16 / float A propagate", "[gemm]") {
  for (transpose tb : both)
    for (std::size_t m : {std::size_t{4}, std::size_t{20}}) {
      const std::size_t n = 3, k = 8;
      std::vector<bf16> ab(m * k, bf16::from_bits(0x3F80));  // 1
      std::vector<float> af(m * k, 1.0f);
      ab[1 * k + 2] = bf16::from_bits(0x7FC0);
      ab[2 * k + 5] = bf16::from_bits(0x7F80);
      af[1 * k + 2] = std::numeric_limits<float>::quiet_NaN();
      af[2 * k + 5] = std::numeric_limits<float>::infinity();
      const std::vector<e5m2> b(k * n, e5m2::from_bits(0x3C));  // 1
      std::vector<float> c1(m * n, 0.0f), c2(m * n, 0.0f);
      fp8::gemm(transpose::no, tb, m, n, k, 1.0f, ab.data(), k, b.data(), tb == transpose::no ? n : k, 0.0f, c1.data(), n);
      fp8::gemm(transpose::no, tb, m, n, k, 1.0f, af.data(), k, b.data(), tb == transpose::no ? n : k, 0.0f, c2.data(), n);
      for (const auto* c : {&c1, &c2})
        for (std::size_t j = 0; j < n; ++j) {
          CHECK((*c)[0 * n + j] == 8.0f);
          CHECK(std::isnan((*c)[1 * n + j]));
          CHECK((*c)[2 * n + j] == std::numeric_limits<float>::infinity());
        }
    }
}

// ---------------------------------------------------------------------------
// Errors.

TEST_CASE("gemm ext: bad output_scale and scale_block are named and C is untouched", "[gemm]") {
  const std::vector<e4m3> a8(64, e4m3::from_bits(0x38)), b(64, e4m3::from_bits(0x38));
  const std::vector<bf16> ab(64, bf16::from_bits(0x3F80));
  const std::vector<float> af(64, 1.0f);
  const std::vector<float> cf0(64, 5.0f);
  const std::vector<bf16> cb0(64, bf16::from_bits(0x40A0));
  const std::vector<e4m3> c80(64, e4m3::from_bits(0x4A));
  std::vector<float> cf = cf0;
  std::vector<bf16> cb = cb0;
  std::vector<e4m3> c8 = c80;
  const std::vector<float> scales(64, 1.0f);
  const auto expect = [&](const char* argument, const std::string& what, auto&& f) {
    INFO(what);
    try {
      f();
      FAIL_CHECK("no error for " << argument);
    } catch (const fp8::invalid_argument& e) {
      CHECK(std::string(e.argument()) == argument);
      CHECK(std::string(e.what()).find(argument) != std::string::npos);
    }
    CHECK(same_bits(cf, cf0));
    CHECK(same_bits(cb, cb0));
    CHECK(same_bits(c8, c80));
    cf = cf0;
    cb = cb0;
    c8 = c80;
  };
  // A valid call on the 4 x 4 ones: C[0..16) = 4, the rest untouched.
  const auto product_done = [](const std::vector<float>& c) {
    for (std::size_t i = 0; i < c.size(); ++i)
      if (c[i] != (i < 16 ? 4.0f : 5.0f)) return false;
    return true;
  };
  const auto N = transpose::no, T = transpose::yes;
  const fp8::packed_b<fp8::E4M3> pb(N, 4, 4, b.data(), 4);
  const fp8::packed_b<fp8::E4M3, float> pf(N, 4, 4, b.data(), 4);

  // output_scale: positive finite, and 1 unless C is FP8.
  for (float os : {0.0f, -0.0f, -1.0f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                   std::numeric_limits<float>::quiet_NaN()}) {
    fp8::gemm_options o;
    o.output_scale = os;
    const std::string what = "output_scale = " + std::to_string(os);
    expect("options.output_scale", what + ", fp8 A, fp8 C", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, a8.data(), 4, b.data(), 4, 0.0f, c8.data(), 4, o); });
    expect("options.output_scale", what + ", bf16 A, fp8 C", [&] { fp8::gemm(N, T, 4, 4, 4, 1.0f, ab.data(), 4, b.data(), 4, 0.0f, c8.data(), 4, o); });
    expect("options.output_scale", what + ", float A, fp8 C", [&] { fp8::gemm(T, N, 4, 4, 4, 1.0f, af.data(), 4, b.data(), 4, 0.0f, c8.data(), 4, o); });
    expect("options.output_scale", what + ", bf16 A, fp8 C, packed", [&] { fp8::gemm(N, 4, 1.0f, ab.data(), 4, pb, 0.0f, c8.data(), 4, o); });
    expect("options.output_scale", what + ", float A, fp8 C, packed", [&] { fp8::gemm(N, 4, 1.0f, af.data(), 4, pf, 0.0f, c8.data(), 4, o); });
  }
  for (float os : {2.0f, 0.5f}) {
    fp8::gemm_options o;
    o.output_scale = os;
    const std::string what = "output_scale = " + std::to_string(os);
    expect("options.output_scale", what + ", fp8 A, float C", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, a8.data(), 4, b.data(), 4, 0.0f, cf.data(), 4, o); });
    expect("options.output_scale", what + ", bf16 A, float C", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, ab.data(), 4, b.data(), 4, 0.0f, cf.data(), 4, o); });
    expect("options.output_scale", what + ", float A, bf16 C", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, af.data(), 4, b.data(), 4, 0.0f, cb.data(), 4, o); });
    expect("options.output_scale", what + ", fp8 A, bf16 C", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, a8.data(), 4, b.data(), 4, 0.0f, cb.data(), 4, o); });
    expect("options.output_scale", what + ", bf16 A, float C, packed", [&] { fp8::gemm(N, 4, 1.0f, ab.data(), 4, pb, 0.0f, cf.data(), 4, o); });
    expect("options.output_scale", what + ", float A, bf16 C, packed", [&] { fp8::gemm(N, 4, 1.0f, af.data(), 4, pf, 0.0f, cb.data(), 4, o); });
    // Fine with FP8 C.
    CHECK_NOTHROW(fp8::gemm(N, N, 4, 4, 4, 1.0f, ab.data(), 4, b.data(), 4, 0.0f, c8.data(), 4, o));
    c8 = c80;
  }

  // scale_block: positive and even when a block scale is given.
  for (std::size_t sb : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{127}}) {
    const std::string what = "scale_block = " + std::to_string(sb);
    for (int which = 0; which < 3; ++which) {
      fp8::gemm_options o;
      o.scale_block = sb;
      if (which != 1) o.a_block_scale = scales.data();
      if (which != 0) o.b_block_scale = scales.data();
      const std::string w = what + (which == 0 ? ", A blocks" : which == 1 ? ", B blocks" : ", both");
      expect("options.scale_block", w + ", fp8 A", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, a8.data(), 4, b.data(), 4, 0.0f, cf.data(), 4, o); });
      expect("options.scale_block", w + ", bf16 A, bf16 C", [&] { fp8::gemm(N, T, 4, 4, 4, 1.0f, ab.data(), 4, b.data(), 4, 0.0f, cb.data(), 4, o); });
      expect("options.scale_block", w + ", float A, fp8 C", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, af.data(), 4, b.data(), 4, 0.0f, c8.data(), 4, o); });
      expect("options.scale_block", w + ", bf16 A, packed", [&] { fp8::gemm(N, 4, 1.0f, ab.data(), 4, pb, 0.0f, cf.data(), 4, o); });
      expect("options.scale_block", w + ", float A, packed", [&] { fp8::gemm(N, 4, 1.0f, af.data(), 4, pf, 0.0f, cf.data(), 4, o); });
    }
    // Without block scales scale_block is not used: fine.
    fp8::gemm_options o;
    o.scale_block = sb;
    CHECK_NOTHROW(fp8::gemm(N, N, 4, 4, 4, 1.0f, ab.data(), 4, b.data(), 4, 0.0f, cf.data(), 4, o));
    CHECK(product_done(cf));
    cf = cf0;
  }
  // A null a_block_scale with a b_block_scale (and the reverse) is fine.
  {
    fp8::gemm_options o;
    o.scale_block = 2;
    o.b_block_scale = scales.data();
    CHECK_NOTHROW(fp8::gemm(N, N, 4, 4, 4, 1.0f, a8.data(), 4, b.data(), 4, 0.0f, cf.data(), 4, o));
    CHECK(product_done(cf));
    o.b_block_scale = nullptr;
    o.a_block_scale = scales.data();
    CHECK_NOTHROW(fp8::gemm(N, 4, 1.0f, af.data(), 4, pf, 0.0f, cf.data(), 4, o));
    CHECK(product_done(cf));
    cf = cf0;
  }

  // The old checks with the new operand types.
  expect("a", "bf16 A null", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, static_cast<const bf16*>(nullptr), 4, b.data(), 4, 0.0f, cb.data(), 4); });
  expect("a", "float A null", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, static_cast<const float*>(nullptr), 4, b.data(), 4, 0.0f, c8.data(), 4); });
  expect("c", "bf16 C null", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, ab.data(), 4, b.data(), 4, 0.0f, static_cast<bf16*>(nullptr), 4); });
  expect("lda", "float A, lda < m", [&] { fp8::gemm(T, N, 5, 4, 4, 1.0f, af.data(), 4, b.data(), 4, 0.0f, cf.data(), 5); });
  expect("ldb", "bf16 A, ldb < k", [&] { fp8::gemm(N, T, 4, 4, 5, 1.0f, ab.data(), 5, b.data(), 4, 0.0f, cb.data(), 4); });
  expect("ldc", "fp8 C, ldc < n", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, ab.data(), 4, b.data(), 4, 0.0f, c8.data(), 3); });
  expect("ldc", "bf16 C, packed, ldc < n", [&] { fp8::gemm(N, 4, 1.0f, af.data(), 4, pf, 0.0f, cb.data(), 3); });
  // C overlapping A, with the sizes of the new element types: bf16 C whose
  // last element lies in the first bytes of A.
  {
    std::vector<bf16> shared(64, bf16::from_bits(0x3F80));
    expect("c", "bf16 C overlapping bf16 A", [&] {
      fp8::gemm(N, N, 4, 4, 4, 1.0f, shared.data() + 15, 4, b.data(), 4, 0.0f, shared.data(), 4);
    });
    CHECK(shared[0].bits() == 0x3F80);
    std::vector<float> sf(64, 1.0f);
    expect("c", "float A overlapping FP8 C", [&] {
      fp8::gemm(N, N, 4, 4, 4, 1.0f, sf.data(), 4, b.data(), 4, 0.0f, reinterpret_cast<e4m3*>(sf.data() + 3), 4);
    });
  }
  // 16-bit B: its extent counts two bytes per element (C overlapping the
  // second half of a 4 x 4 bfloat16 B), and its leading dimension is checked.
  {
    std::vector<bf16> bb(64, bf16::from_bits(0x3F80));
    const std::vector<f16> bh(64, f16::from_bits(0x3C00));
    expect("c", "float C overlapping bf16 B's last 16 bytes", [&] {
      fp8::gemm(N, N, 4, 4, 4, 1.0f, ab.data(), 4, bb.data(), 4, 0.0f, reinterpret_cast<float*>(bb.data() + 8), 4);
    });
    CHECK(bb[8].bits() == 0x3F80);
    expect("ldb", "half B, ldb < n", [&] { fp8::gemm(N, N, 4, 4, 4, 1.0f, af.data(), 4, bh.data(), 3, 0.0f, cf.data(), 4); });
    expect("b", "bf16 B null", [&] {
      fp8::gemm(N, N, 4, 4, 4, 1.0f, a8.data(), 4, static_cast<const bf16*>(nullptr), 4, 0.0f, cb.data(), 4);
    });
    CHECK_NOTHROW(fp8::gemm(N, N, 4, 4, 4, 1.0f, af.data(), 4, bh.data(), 4, 0.0f, cf.data(), 4));
    CHECK(product_done(cf));
    cf = cf0;
  }
}
