// SPDX-License-Identifier: Apache-2.0
// The argument contract (README, "Arguments") and the regressions that
// fuzzing found: every case here failed, crashed or read or wrote out of
// bounds before its fix. Expected values come from double arithmetic on the
// textbook formulas (FP8 codes through tests/reference.hpp, bfloat16 by its
// bits), never from the library; rejected calls must name the argument and
// leave every output byte as it was.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <fp8/fp8.hpp>

#include "dyadic_reference.hpp"
#include "formats.hpp"

namespace {

using e4m3 = fp8::fp8<fp8::E4M3>;
using bf16 = fp8::bfloat16;
using fp8::transpose;

constexpr std::size_t big_shift = 62;

double value(e4m3 x) { return ref::decode(ref::e4m3, x.bits()); }
bf16 bf16_of(double x) {  // x must be a bfloat16 value (the tests pass powers of two and small integers)
  const float f = static_cast<float>(x);
  REQUIRE(static_cast<double>(f) == x);
  const std::uint32_t b = float_bits(f);
  REQUIRE((b & 0xFFFFu) == 0);
  return bf16::from_bits(static_cast<std::uint16_t>(b >> 16));
}
e4m3 code_of(double x) {  // x must be an E4M3 value
  for (unsigned c = 0; c < 256; ++c)
    if (ref::decode(ref::e4m3, c) == x) return e4m3::from_bits(static_cast<std::uint8_t>(c));
  FAIL("not an E4M3 value: " << x);
  return e4m3{};
}

// Runs f, which must throw fp8::invalid_argument naming `argument`, and
// checks that the bytes of out did not change.
template <class T, class Fn>
void rejects(const char* argument, std::vector<T>& out, Fn&& f) {
  const std::vector<T> before = out;
  try {
    f();
    FAIL("no error; expected one naming '" << argument << "'");
  } catch (const fp8::invalid_argument& e) {
    INFO(e.what());
    CHECK(std::string(e.argument()) == argument);
  }
  CHECK(std::memcmp(before.data(), out.data(), out.size() * sizeof(T)) == 0);
}

// ---- conv2d: padding and strides far beyond the input.

// NHWC, OHWI, groups 1 or depthwise, float output, no activation: the direct
// definition in double.
std::vector<double> conv_reference(const fp8::conv2d_shape& s, const std::vector<e4m3>& x, const std::vector<e4m3>& w,
                                   const std::vector<float>& bias) {
  const std::size_t oh = s.out_h(), ow = s.out_w(), cg = s.in_c / s.groups, og = s.out_c / s.groups;
  std::vector<double> out(s.batch * oh * ow * s.out_c);
  for (std::size_t n = 0; n < s.batch; ++n)
    for (std::size_t y = 0; y < oh; ++y)
      for (std::size_t xo = 0; xo < ow; ++xo)
        for (std::size_t oc = 0; oc < s.out_c; ++oc) {
          double acc = 0;
          for (std::size_t th = 0; th < s.kernel_h; ++th)
            for (std::size_t tw = 0; tw < s.kernel_w; ++tw) {
              // Signed positions in long double: the strides here reach 2^62.
              const long double ih = static_cast<long double>(y) * static_cast<long double>(s.stride_h) +
                                     static_cast<long double>(th * s.dilation_h) - static_cast<long double>(s.pad_top);
              const long double iw = static_cast<long double>(xo) * static_cast<long double>(s.stride_w) +
                                     static_cast<long double>(tw * s.dilation_w) - static_cast<long double>(s.pad_left);
              if (ih < 0 || iw < 0 || ih >= static_cast<long double>(s.in_h) || iw >= static_cast<long double>(s.in_w))
                continue;
              const auto hi = static_cast<std::size_t>(ih), wi = static_cast<std::size_t>(iw);
              for (std::size_t ci = 0; ci < cg; ++ci) {
                const std::size_t g = oc / og;
                acc += value(x[((n * s.in_h + hi) * s.in_w + wi) * s.in_c + g * cg + ci]) *
                       value(w[((oc * s.kernel_h + th) * s.kernel_w + tw) * cg + ci]);
              }
            }
          out[((n * oh + y) * ow + xo) * s.out_c + oc] = acc + (bias.empty() ? 0.0 : bias[oc]);
        }
  return out;
}

void check_conv(const fp8::conv2d_shape& s) {
  const std::size_t cg = s.in_c / s.groups;
  std::vector<e4m3> x(s.batch * s.in_h * s.in_w * s.in_c), w(s.out_c * s.kernel_h * s.kernel_w * cg);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = code_of(static_cast<double>(i % 7) - 3.0);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = code_of(static_cast<double>(i % 5) + 1.0);
  std::vector<float> bias(s.out_c);
  for (std::size_t c = 0; c < s.out_c; ++c) bias[c] = 0.5f + static_cast<float>(c);
  const std::vector<double> want = conv_reference(s, x, w, bias);
  std::vector<float> y(want.size(), -99.0f);
  fp8::conv2d(s, x.data(), 1.0f, w.data(), nullptr, bias.data(), y.data(), fp8::conv2d_options{});
  for (std::size_t i = 0; i < y.size(); ++i) {
    INFO("output element " << i);
    CHECK(static_cast<double>(y[i]) == want[i]);  // small integers: every sum is exact
  }
}

TEST_CASE("conv2d: padding and stride of 2^62 compute the padding rows without a padded copy", "[contract][conv]") {
  fp8::conv2d_shape s;
  s.batch = 1;
  s.in_h = 1;
  s.in_w = 4;
  s.in_c = 2;
  s.out_c = 2;
  s.kernel_h = s.kernel_w = 1;
  s.pad_top = s.stride_h = std::size_t{1} << big_shift;  // the fuzzer's reproducer: a heap write past the buffer
  REQUIRE(s.out_h() == 2);
  REQUIRE(s.out_w() == 4);
  check_conv(s);
}

TEST_CASE("conv2d: depthwise with pad_left = stride_w = 2^61 and 2^62", "[contract][conv]") {
  for (std::size_t shift : {std::size_t{61}, std::size_t{62}}) {
    fp8::conv2d_shape s;
    s.batch = 1;
    s.in_h = 2;
    s.in_w = 3;
    s.in_c = s.out_c = s.groups = 4;
    s.kernel_h = s.kernel_w = 1;
    s.pad_left = s.stride_w = std::size_t{1} << shift;
    INFO("shift " << shift);
    check_conv(s);
  }
}

TEST_CASE("conv2d: paddings of 2^30 to 2^40 and a huge dilation run in memory of the work's size", "[contract][conv]") {
  for (int e = 30; e <= 40; e += 5) {
    for (bool depthwise : {false, true}) {
      fp8::conv2d_shape s;
      s.batch = 1;
      s.in_h = 3;
      s.in_w = 2;
      s.in_c = s.out_c = 4;
      s.groups = depthwise ? 4 : 1;
      s.kernel_h = s.kernel_w = 2;
      s.pad_top = s.pad_bottom = s.pad_left = s.pad_right = std::size_t{1} << e;
      s.stride_h = s.stride_w = std::size_t{1} << e;  // 3 x 3 outputs
      INFO("padding 2^" << e << (depthwise ? ", depthwise" : ""));
      check_conv(s);
    }
  }
  fp8::conv2d_shape s;  // the dilated kernel spans 2^40 rows; one output row
  s.batch = 1;
  s.in_h = 2;
  s.in_w = 3;
  s.in_c = s.out_c = 2;
  s.kernel_h = 2;
  s.kernel_w = 1;
  s.dilation_h = std::size_t{1} << 40;
  s.pad_top = std::size_t{1} << 40;
  check_conv(s);
}

TEST_CASE("conv2d: a huge stride alone (the direct path's read margin) stays in memory of the work's size",
          "[contract][conv]") {
  fp8::conv2d_shape s;  // the fuzzer's case: the margin (MR - 1) * stride_w * in_c overflowed
  s.batch = 1;
  s.in_h = 4;
  s.in_w = 11;
  s.in_c = 4;
  s.out_c = 5;
  s.kernel_h = s.kernel_w = 3;
  s.stride_w = SIZE_MAX / 3;
  s.dilation_w = 3;
  s.pad_top = s.pad_bottom = 1;
  check_conv(s);
}

TEST_CASE("conv2d: a padding that overflows is named", "[contract][conv]") {
  fp8::conv2d_shape s;
  s.batch = s.in_h = s.in_w = s.in_c = s.out_c = s.kernel_h = s.kernel_w = 1;
  s.pad_top = SIZE_MAX;
  std::vector<e4m3> x(1), w(1);
  std::vector<float> y(4, -1.0f);
  rejects("shape.pad_top", y, [&] { fp8::conv2d(s, x.data(), 1.0f, w.data(), nullptr, nullptr, y.data()); });
  s.pad_top = 0;
  s.pad_right = SIZE_MAX;
  rejects("shape.pad_right", y, [&] { fp8::conv2d(s, x.data(), 1.0f, w.data(), nullptr, nullptr, y.data()); });
}

// ---- conv2d: scales, enums and overlaps.

TEST_CASE("conv2d: scales, enums and overlapping buffers are rejected by name", "[contract][conv]") {
  fp8::conv2d_shape s;
  s.batch = 1;
  s.in_h = s.in_w = 2;
  s.in_c = s.out_c = 4;
  s.kernel_h = s.kernel_w = 1;
  std::vector<e4m3> x(16, code_of(1.0)), w(16, code_of(1.0));
  std::vector<float> y(16, -1.0f), ws(4, 1.0f);
  const auto run = [&](const float* scales, const float* bias, float* out, const fp8::conv2d_options& o) {
    fp8::conv2d(s, x.data(), 1.0f, w.data(), scales, bias, out, o);
  };
  for (float bad : {0.0f, -1.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    ws[2] = bad;
    rejects("weight_scales", y, [&] { run(ws.data(), nullptr, y.data(), {}); });
  }
  ws[2] = 1.0f;
  ws[1] = 1e-30f;  // input_scale x weight_scales below 2^-126
  rejects("weight_scales", y, [&] { fp8::conv2d(s, x.data(), 1e-10f, w.data(), ws.data(), nullptr, y.data(), {}); });
  ws[1] = 1.0f;
  rejects("options.act", y, [&] {
    fp8::conv2d_options o;
    o.act = static_cast<fp8::activation>(7);
    o.clamp_lo = 1.0f;  // > clamp_hi: once ignored because act was not `clamp`, then clamped anyway
    run(nullptr, nullptr, y.data(), o);
  });
  rejects("options.input_layout", y, [&] {
    fp8::conv2d_options o;
    o.input_layout = static_cast<fp8::tensor_layout>(5);
    run(nullptr, nullptr, y.data(), o);
  });
  rejects("options.weights", y, [&] {
    fp8::conv2d_options o;
    o.weights = static_cast<fp8::weight_layout>(5);
    run(nullptr, nullptr, y.data(), o);
  });
  rejects("options.output_overflow", y, [&] {
    fp8::conv2d_options o;
    o.output_overflow = static_cast<fp8::overflow>(7);
    run(nullptr, nullptr, y.data(), o);
  });
  rejects("output", y, [&] { run(nullptr, y.data() + 3, y.data(), {}); });  // bias inside the output
  std::fill(y.begin(), y.end(), 1.0f);  // valid scales, inside the output
  rejects("output", y, [&] { run(y.data() + 12, nullptr, y.data(), {}); });
}

// ---- gemm: enums, alpha and beta, scale arrays, overlaps.

struct gemm_case {
  std::vector<e4m3> a = std::vector<e4m3>(8, e4m3(1.0f)), b = std::vector<e4m3>(8, e4m3(1.0f));
  std::vector<float> c = std::vector<float>(4, -3.0f), row = {1.0f, 1.0f}, col = {1.0f, 1.0f};
  void run(const fp8::gemm_options& o, transpose ta = transpose::no, float alpha = 1.0f, float beta = 0.0f) {
    fp8::gemm(ta, transpose::yes, 2, 2, 4, alpha, a.data(), 4, b.data(), 4, beta, c.data(), 2, o);
  }
};

TEST_CASE("gemm: an out-of-range transpose is rejected, not read as a stride", "[contract][gemm]") {
  gemm_case g;  // the fuzzer's reproducer: an out-of-bounds read in smallm::row_to_float
  rejects("ta", g.c, [&] { g.run({}, static_cast<transpose>(2)); });
  rejects("tb", g.c, [&] {
    fp8::gemm(transpose::no, static_cast<transpose>(-1), 2, 2, 4, 1.0f, g.a.data(), 4, g.b.data(), 4, 0.0f, g.c.data(), 2);
  });
  std::vector<float> none(1);
  rejects("tb", none, [&] { fp8::packed_b<fp8::E4M3> p(static_cast<transpose>(3), 4, 2, g.b.data(), 4); });
}

TEST_CASE("gemm: alpha and beta must be finite", "[contract][gemm]") {
  gemm_case g;
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    rejects("alpha", g.c, [&] { g.run({}, transpose::no, bad); });
    rejects("beta", g.c, [&] { g.run({}, transpose::no, 1.0f, bad); });
  }
}

TEST_CASE("gemm: activation values outside the enum are rejected", "[contract][gemm]") {
  gemm_case g;
  fp8::gemm_options o;
  o.act = static_cast<fp8::activation>(7);
  o.clamp_lo = 2.0f;
  o.clamp_hi = 1.0f;
  rejects("options.act", g.c, [&] { g.run(o); });
  o.act = fp8::activation::none;  // lo > hi does not matter without a clamp
  g.run(o);
  CHECK(g.c[0] == 4.0f);
}

TEST_CASE("gemm: scale arrays must hold positive finite floats, named with the element", "[contract][gemm]") {
  const float bads[] = {0.0f, -0.0f, -2.0f, std::numeric_limits<float>::quiet_NaN(),
                        std::numeric_limits<float>::infinity()};
  for (float bad : bads) {
    gemm_case g;
    fp8::gemm_options o;
    g.row[1] = bad;
    o.row_scale = g.row.data();
    rejects("options.row_scale", g.c, [&] { g.run(o); });
    o.row_scale = nullptr;
    g.col[0] = bad;
    o.col_scale = g.col.data();
    rejects("options.col_scale", g.c, [&] { g.run(o); });
    o.col_scale = nullptr;
    std::vector<float> blocks = {bad, 1.0f};
    o.scale_block = 2;  // k = 4: two blocks per row
    o.b_block_scale = blocks.data();
    rejects("options.b_block_scale", g.c, [&] { g.run(o); });
  }
}

TEST_CASE("gemm: an infinite block scale is an error on the small-m and blocked paths alike", "[contract][gemm]") {
  // The fuzzer's case: A all 1, B = {2, 1, 1} stored n x k, b_block_scale =
  // {inf}: m = 1 gave -NaN, m = 9 gave +Inf.
  for (std::size_t m : {std::size_t{1}, std::size_t{9}}) {
    std::vector<e4m3> a(m * 3, e4m3(1.0f)), b = {e4m3(2.0f), e4m3(1.0f), e4m3(1.0f)};
    std::vector<float> c(m, 5.0f), bs = {std::numeric_limits<float>::infinity()};
    fp8::gemm_options o;
    o.b_block_scale = bs.data();
    INFO("m = " << m);
    rejects("options.b_block_scale", c, [&] {
      fp8::gemm(transpose::no, transpose::yes, m, 1, 3, 1.0f, a.data(), 3, b.data(), 3, 0.0f, c.data(), 1, o);
    });
  }
}

TEST_CASE("gemm: scale products beyond the float range are rejected; inside it none overflows", "[contract][gemm]") {
  // Two block scales of 1e30: r * c = 1e60 (once NaN for a finite result).
  std::vector<e4m3> a(4, e4m3(1.0f)), b(4, e4m3(1.0f));
  std::vector<float> c(1, 5.0f), big = {1e30f};
  fp8::gemm_options o;
  o.a_block_scale = big.data();
  o.b_block_scale = big.data();
  rejects("alpha", c, [&] { fp8::gemm(transpose::no, transpose::yes, 1, 1, 4, 1.0f, a.data(), 4, b.data(), 4, 0.0f, c.data(), 1, o); });
  std::vector<float> tiny = {1e-30f};  // 1e-30 * 1e-30 below 2^-126
  o.a_block_scale = o.b_block_scale = tiny.data();
  rejects("alpha", c, [&] { fp8::gemm(transpose::no, transpose::yes, 1, 1, 4, 1.0f, a.data(), 4, b.data(), 4, 0.0f, c.data(), 1, o); });
  rejects("alpha", c, [&] { fp8::gemm(transpose::no, transpose::yes, 1, 1, 4, 1e-39f, a.data(), 4, b.data(), 4, 0.0f, c.data(), 1); });

  // The fuzzer's case: E4M3 C, alpha = 2^-149, row_scale ~ 4e33, a_block_scale
  // = 3. The product's scale is 2^-149 * 4e33 * 3 ~ 1.7e-11, well inside
  // float; multiplying alpha in first underflowed it, and an order that
  // multiplied the large scales first overflowed to the overflow code.
  for (std::size_t m : {std::size_t{1}, std::size_t{9}}) {
    const float alpha = 0x1p-149f, row_scale = 4e33f, ab = 3.0f;
    std::vector<e4m3> am(m * 4, e4m3(2.0f)), bm(4, e4m3(0.5f));
    std::vector<float> rows(m, row_scale), ablocks(m, ab);
    std::vector<e4m3> cm(m, e4m3::from_bits(0x55));
    fp8::gemm_options go;
    go.row_scale = rows.data();
    go.a_block_scale = ablocks.data();
    go.scale_block = 4;
    go.output_scale = 1e-11f;
    fp8::gemm(transpose::no, transpose::yes, m, 1, 4, alpha, am.data(), 4, bm.data(), 4, 0.0f, cm.data(), 1, go);
    const double want = 4.0 * static_cast<double>(alpha) * static_cast<double>(row_scale) * ab / 1e-11;  // ~6.8
    for (std::size_t i = 0; i < m; ++i) {
      INFO("m = " << m << ", row " << i << ": want about " << want);
      CHECK(std::fabs(value(cm[i]) - want) <= 0.5);  // E4M3 has steps of 0.5 at 4..8
    }
  }
}

TEST_CASE("gemm: C must not overlap bias or the scale arrays", "[contract][gemm]") {
  std::vector<e4m3> a(8, e4m3(1.0f)), b(8, e4m3(1.0f));
  std::vector<float> c(8, 1.0f);
  const auto run = [&](const fp8::gemm_options& o) {
    fp8::gemm(transpose::no, transpose::yes, 2, 2, 4, 1.0f, a.data(), 4, b.data(), 4, 0.0f, c.data(), 2, o);
  };
  fp8::gemm_options o;
  o.bias = c.data() + 1;
  rejects("c", c, [&] { run(o); });
  o = {};
  o.row_scale = c.data() + 3;
  rejects("c", c, [&] { run(o); });
  o = {};
  o.col_scale = c.data();
  rejects("c", c, [&] { run(o); });
  o = {};
  o.a_block_scale = c.data() + 2;
  o.scale_block = 4;
  rejects("c", c, [&] { run(o); });
  o = {};
  o.bias = c.data() + 4;  // just past C (4 floats): allowed
  run(o);
  CHECK(c[0] == 5.0f);
}

TEST_CASE("gemm: an out-of-range output overflow mode is rejected", "[contract][gemm]") {
  std::vector<e4m3> a(8, e4m3(1.0f)), b(8, e4m3(1.0f)), c(4, e4m3::from_bits(0x11));
  fp8::gemm_options o;
  o.output_overflow = static_cast<fp8::overflow>(7);
  rejects("options.output_overflow", c, [&] {
    fp8::gemm(transpose::no, transpose::yes, 2, 2, 4, 1.0f, a.data(), 4, b.data(), 4, 0.0f, c.data(), 2, o);
  });
}

// ---- gemm: bfloat16 A holding values below 2^-102 (vdpbf16ps would flush them).

// C (m x 1) for bfloat16 A rows of k values and one column of B, on every path
// (small m and blocked; B plain and packed), against the double sum.
void check_tiny_bf16(const std::vector<double>& a_row, const std::vector<double>& b_col, float alpha) {
  const std::size_t k = a_row.size();
  double want = 0;
  for (std::size_t t = 0; t < k; ++t) want += a_row[t] * b_col[t];
  want *= static_cast<double>(alpha);
  std::vector<e4m3> b(k);
  for (std::size_t t = 0; t < k; ++t) b[t] = code_of(b_col[t]);
  const fp8::packed_b<fp8::E4M3> packed(transpose::yes, k, 1, b.data(), k);
  for (std::size_t m : {std::size_t{1}, std::size_t{9}, std::size_t{13}}) {
    std::vector<bf16> a(m * k);
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t t = 0; t < k; ++t) a[i * k + t] = bf16_of(a_row[t]);
    for (bool use_packed : {false, true}) {
      std::vector<float> c(m, -1.0f);
      if (use_packed)
        fp8::gemm(transpose::no, m, alpha, a.data(), k, packed, 0.0f, c.data(), 1);
      else
        fp8::gemm(transpose::no, transpose::yes, m, 1, k, alpha, a.data(), k, b.data(), k, 0.0f, c.data(), 1);
      for (std::size_t i = 0; i < m; ++i) {
        INFO("m = " << m << (use_packed ? ", packed B" : "") << ", row " << i << ": want " << want);
        // Two terms: the float sum rounds once, so within half an ulp of want.
        CHECK(std::fabs(static_cast<double>(c[i]) - want) <= std::fabs(want) * 0x1p-24);
      }
    }
  }
}

TEST_CASE("gemm: bfloat16 A spanning bfloat16's whole range stays exact", "[contract][gemm]") {
  // A = {2^-130, 2^127}, B = {0, 0.5}: 2^126 (scaling A by 2^28 overflowed to +Inf).
  check_tiny_bf16({0x1p-130, 0x1p127}, {0.0, 0.5}, 1.0f);
  // A = {2^-130, 1}, B = {1, 1}, alpha = 1e-37: about 1e-37 (alpha * 2^-28 underflowed to 0).
  check_tiny_bf16({0x1p-130, 1.0}, {1.0, 1.0}, 1e-37f);
  // The tiny product alone, at float's subnormal floor: 2^-133 * 2^-9 = 2^-142.
  check_tiny_bf16({0x1p-133, 0.0}, {0x1p-9, 1.0}, 1.0f);
}

// ---- dyadic.

TEST_CASE("requantize: shifts at INT_MIN and INT_MAX are defined", "[contract][dyadic]") {
  using fp8::dyadic_rounding;
  for (dyadic_rounding r : {dyadic_rounding::double_rounding, dyadic_rounding::single_rounding, dyadic_rounding::half_even})
    for (int shift : {INT_MIN, INT_MIN + 1, INT_MIN + 31, -200, -97, -96, -95}) {
      INFO("rounding " << static_cast<int>(r) << ", shift " << shift);
      CHECK(fp8::requantize(1, {1 << 30, shift}, r) == 0);
      CHECK(fp8::requantize(INT_MIN, {INT_MIN, shift}, r) == 0);
      CHECK(fp8::requantize(INT_MAX, {INT_MAX, shift}, r) == 0);
    }
  for (dyadic_rounding r : {dyadic_rounding::double_rounding, dyadic_rounding::single_rounding, dyadic_rounding::half_even})
    for (int shift : {INT_MAX, INT_MAX - 1, 200, 96, 95}) {
      INFO("rounding " << static_cast<int>(r) << ", shift " << shift);
      CHECK(fp8::requantize(1, {1 << 30, shift}, r) == INT32_MAX);
      CHECK(fp8::requantize(-1, {1 << 30, shift}, r) == INT32_MIN);
      CHECK(fp8::requantize(0, {1 << 30, shift}, r) == 0);
    }
  // Against the __int128 reference near the clamp, where results are not all 0.
  for (int shift : {-64, -63, -62, -33, 60, 61, 62, 63, 64})
    for (std::int32_t acc : {INT_MIN, -3, -1, 1, 7, INT_MAX})
      for (std::int32_t m : {INT_MIN, -(1 << 30), 1, 1 << 30, INT_MAX}) {
        INFO("acc " << acc << ", multiplier " << m << ", shift " << shift);
        CHECK(fp8::requantize(acc, {m, shift}, dyadic_rounding::double_rounding) == dref::requantize(acc, m, shift, 0));
        CHECK(fp8::requantize(acc, {m, shift}, dyadic_rounding::single_rounding) == dref::requantize(acc, m, shift, 1));
        CHECK(fp8::requantize(acc, {m, shift}, dyadic_rounding::half_even) == dref::requantize(acc, m, shift, 2));
      }
}

TEST_CASE("requantize_per_channel: dst overlapping d or bias is rejected", "[contract][dyadic]") {
  // dst (int8 outputs) carved from the same bytes as the per-channel arrays.
  std::vector<std::int32_t> acc(8, 100);
  std::vector<std::int32_t> bias_mem(16, 0);
  auto* bias = bias_mem.data();
  auto* dst = reinterpret_cast<std::int8_t*>(bias_mem.data()) + 4;  // inside bias[0..3]
  std::vector<fp8::dyadic> d(4, fp8::dyadic{1 << 30, 0});
  rejects("dst", bias_mem, [&] { fp8::requantize_per_channel<std::int8_t>(acc.data(), dst, 2, 4, d.data(), bias); });
  std::vector<fp8::dyadic> d_mem(8, fp8::dyadic{1 << 30, 0});
  auto* dst2 = reinterpret_cast<std::int8_t*>(d_mem.data());  // over d[0..]
  rejects("dst", d_mem, [&] { fp8::requantize_per_channel<std::int8_t>(acc.data(), dst2, 2, 4, d_mem.data(), nullptr); });
  rejects("dst", bias_mem, [&] { fp8::requantize<std::int8_t>(acc.data(), dst, 2, 4, fp8::dyadic{1 << 30, 0}, bias); });
  rejects("params.rounding", bias_mem, [&] {
    fp8::requantize_params p;
    p.rounding = static_cast<fp8::dyadic_rounding>(3);
    fp8::requantize<std::int8_t>(acc.data(), reinterpret_cast<std::int8_t*>(bias_mem.data() + 8), 8, fp8::dyadic{1 << 30, 0}, p);
  });
}

TEST_CASE("quantize_bias and concat: an underflowing scale product, an empty concat of many rows",
          "[contract][dyadic]") {
  // 2^-300 * DBL_MIN underflows to 0, and 0 / 0 was cast to int32.
  std::vector<float> bias = {0.0f, 1.0f};
  std::vector<std::int32_t> dst = {7, 7};
  const std::vector<double> ws = {DBL_MIN, 1.0};
  rejects("weight_scale", dst, [&] { fp8::quantize_bias(bias.data(), dst.data(), 2, ws.data(), true, 0x1p-300); });
  // One input with no channel and SIZE_MAX rows: nothing to write, and no
  // walk over the rows (it never returned).
  const fp8::concat_input<std::int8_t> in{nullptr, 0, fp8::quantized_branch{fp8::dyadic{1 << 30, 0}, 0}};
  std::int8_t out = 5;
  fp8::concat<std::int8_t>(&in, 1, SIZE_MAX, &out);
  CHECK(out == 5);
}

TEST_CASE("counts that overflow or run past the address space are rejected", "[contract]") {
  std::vector<float> src(4, 1.0f);
  std::vector<e4m3> q(4, e4m3::from_bits(0x22));
  const std::size_t huge = std::size_t{1} << 62;  // 2^62 floats: 2^64 bytes
  rejects("n", q, [&] { fp8::encode(src.data(), q.data(), huge); });
  rejects("n", q, [&] { (void)fp8::amax(src.data(), huge); });
  rejects("n", src, [&] { fp8::fake_quantize<fp8::E4M3>(src.data(), src.data(), huge); });
  // k = lda = ldb = ldc = 2^32: B spans nearly 2^64 bytes from its pointer.
  const std::size_t k = std::size_t{1} << 32;
  std::vector<float> c(4, -1.0f);
  rejects("ldb", c, [&] {
    fp8::gemm(transpose::no, transpose::no, 2, 2, k, 1.0f, q.data(), k, q.data() + 2, k, 0.0f, c.data(), k);
  });
}

TEST_CASE("metrics, residual_add and int4 packing: counts past the address space are named", "[contract]") {
  // These entries checked only for null pointers; a count whose bytes wrap
  // the address space is now named like everywhere else.
  std::vector<float> x(4, 1.0f), none(1);
  const std::size_t huge = std::size_t{1} << 62;  // 2^62 floats: 2^64 bytes
  fp8::error_stats st;
  rejects("n", none, [&] { st.add(x.data(), x.data(), huge); });
  rejects("n", none, [&] { (void)fp8::metric_value(fp8::metric::mse, x.data(), x.data(), huge); });
  rejects("n", none, [&] { (void)fp8::kld(x.data(), x.data(), huge); });
  fp8::histogram h(8, 0.0f, 1.0f);
  rejects("n", none, [&] { h.add(x.data(), huge); });
  const std::uint64_t counts[2] = {1, 1};
  rejects("bins", none, [&] { (void)fp8::kl_divergence(counts, counts, huge); });
  std::vector<std::int8_t> a(4, 1), out(4, 0);
  const fp8::quantized_branch branch{};
  // Bytes of int8 that fit size_t but run past any pointer; read from a
  // volatile so that GCC does not follow the constant into the loop the
  // check keeps it from reaching (-Wstringop-overflow at -O3).
  volatile std::size_t past_bytes = SIZE_MAX - 16;
  const std::size_t past = past_bytes;
  rejects("n", out, [&] { fp8::residual_add<std::int8_t>(a.data(), branch, a.data(), branch, out.data(), past); });
  rejects("n", out, [&] { fp8::pack_int4(a.data(), reinterpret_cast<std::uint8_t*>(out.data()), past); });
}

TEST_CASE("argument checks run in stages: a null pointer is named before another buffer's size", "[contract]") {
  // Per-channel encode: dst is null and src's leading dimension makes it
  // run past the address space; the null pointer is named (every pointer
  // is judged before any size), whichever buffer comes first.
  std::vector<float> src(4, 1.0f), scale(2, 1.0f);
  std::vector<e4m3> none(1);
  const std::size_t ld = SIZE_MAX / 4 - 4;  // 2 rows: SIZE_MAX - 11 bytes of floats, past any pointer
  rejects("dst", none, [&] {
    fp8::encode_per_channel<fp8::E4M3>(src.data(), ld, nullptr, 2, 2, 2, scale.data(), fp8::axis::rows);
  });
  // GEMM: ldc < n is named before A's span, which wraps.
  std::vector<float> c(4, -1.0f);
  std::vector<e4m3> q(4, e4m3::from_bits(0x22));
  rejects("ldc", c, [&] {
    fp8::gemm(transpose::no, transpose::no, 2, 2, 2, 1.0f, q.data(), SIZE_MAX - 16, q.data(), 2, 0.0f, c.data(), 1);
  });
}

// ---- codec and quantization enums.

TEST_CASE("codec and quant: out-of-range overflow, scale_rounding and axis values are rejected", "[contract][codec]") {
  std::vector<float> src(8, 1.0f), out(8, -1.0f);
  std::vector<e4m3> q(8, e4m3::from_bits(0x22));
  const auto bad_o = static_cast<fp8::overflow>(7);
  rejects("o", q, [&] { fp8::encode(src.data(), q.data(), q.size(), 1.0f, bad_o); });
  rejects("o", q, [&] { fp8::encode_stochastic(src.data(), q.data(), q.size(), 1u, 1.0f, bad_o); });
  rejects("o", out, [&] { fp8::fake_quantize<fp8::E4M3>(src.data(), out.data(), out.size(), 1.0f, bad_o); });
  const std::vector<float> scale(2, 1.0f);
  rejects("o", q, [&] { fp8::encode_per_channel(src.data(), q.data(), 2, 4, scale.data(), fp8::axis::rows, bad_o); });
  rejects("channel", q, [&] {
    fp8::encode_per_channel(src.data(), q.data(), 2, 4, scale.data(), static_cast<fp8::axis>(2));
  });
  std::vector<float> none(1);
  rejects("r", none, [&] { (void)fp8::scale_from_amax<fp8::E4M3>(1.0f, static_cast<fp8::scale_rounding>(9)); });
}

// ---- the integer quantizer and the ptq/ layer (found by fuzz_linear and
// fuzz_ptq).

TEST_CASE("linear quantizer and weight search: extents past the address space are rejected", "[contract][ptq]") {
  std::vector<float> w(16, 1.0f);
  const float scale[4] = {1, 1, 1, 1};
  // rows x 1 with ld 1: 2^62 - 1 floats, 2^64 - 4 bytes, fits size_t but
  // not the address space after any user pointer.
  const std::size_t rows = (std::size_t{1} << 62) - 1;
  std::vector<std::int8_t> q(16, 7);
  rejects("src_ld", q, [&] {
    fp8::quantize_linear_per_channel<std::int8_t>(w.data(), 1, q.data(), 1, rows, 1, scale, nullptr, fp8::axis::columns);
  });
  std::vector<float> none(1);
  rejects("ld", none, [&] { (void)fp8::search_weights(w.data(), rows, 1, 1); });
  // cols > SIZE_MAX / 4: the old extent test wrapped and passed.
  const std::size_t cols = SIZE_MAX / 4 + 2;
  rejects("ld", none, [&] { (void)fp8::search_weights(w.data(), 3, cols, cols); });
}

TEST_CASE("percentile calibration: a subnormal percentile never stops at an empty bin", "[contract][ptq]") {
  fp8::calibrator c(64);
  const float x[1] = {1.0f};
  c.add(x, 1);
  // p / 100 * 1 underflows to 0 in double; the target is still positive,
  // so the threshold is that of the only value (capped at amax = 1).
  CHECK(c.threshold(fp8::calibration::percentile, fp8::qformat::int8, 4.9e-324) == 1.0f);
}

TEST_CASE("kl_divergence: extreme epsilon gives the finite defined value", "[contract][ptq]") {
  const std::uint64_t p[3] = {1, 1, 1}, q[3] = {1, 0, 0};
  // P = (1, 1, 1) / 3; Q = (1, e, e) / (1 + 2e), so
  // KL = ln(1/3) + ln(1 + 2e) - (2/3) ln(e); 2e overflows double for
  // e = DBL_MAX, not long double.
  const auto want = [](double e) {
    const long double le = e;
    return static_cast<double>(std::log(1.0L / 3) + std::log1p(2 * le) - 2.0L / 3 * std::log(le));
  };
  const double huge = DBL_MAX, tiny = std::numeric_limits<double>::denorm_min();
  CHECK(std::isfinite(want(huge)));
  CHECK(fp8::kl_divergence(p, q, 3, huge) == Approx(want(huge)).epsilon(1e-12));
  CHECK(fp8::kl_divergence(p, q, 3, tiny) == Approx(want(tiny)).epsilon(1e-12));
}

TEST_CASE("mixed precision: the sensitivity bound is on the exact sum", "[contract][ptq]") {
  // 2^1000 + 2^-100 exceeds 2^1000; a double running sum rounds it to 2^1000.
  std::vector<fp8::mixed_precision_layer> layers(2);
  layers[0].choices = {{std::ldexp(1.0, 1000), 1, 1, 1}};
  layers[1].choices = {{std::ldexp(1.0, -100), 1, 1, 1}};
  try {
    (void)fp8::solve_mixed_precision(layers, {});
    FAIL("no error; expected one naming 'layers'");
  } catch (const fp8::invalid_argument& e) {
    CHECK(std::string(e.argument()) == "layers");
  }
}

TEST_CASE("report: JSON stays valid for names that are not UTF-8", "[contract][ptq]") {
  fp8::report rep;
  const float r[2] = {1, 2}, x[2] = {1, 2};
  rep.compare(std::string("a\xff\xc3\xa9\xe0\x80z"), r, x, 2, false);
  std::ostringstream out;
  rep.write_json(out);
  // 0xFF and the overlong start 0xE0 0x80 become U+FFFD byte by byte; the
  // well-formed U+00E9 is copied.
  CHECK(out.str().find("\"a\\ufffd\xc3\xa9\\ufffd\\ufffdz\"") != std::string::npos);
}

}  // namespace

TEST_CASE("per-channel encode and the streaming encoder: one row with a huge leading dimension forms no pointer past "
          "the buffers",
          "[contract][quant]") {
  // Fuzzing found it (UBSan, pointer overflow): the streaming encoder
  // advanced src and dst by their leading dimensions after the last row,
  // which with one row may be any value >= cols.
  const std::size_t huge = std::numeric_limits<std::size_t>::max() / 2;
  for (fp8::axis channel : {fp8::axis::rows, fp8::axis::columns}) {
    const std::vector<float> src = {1.5f, -3.0f, 0.25f, 448.0f, 1000.0f};
    const std::vector<float> scale(5, 1.0f);
    std::vector<e4m3> dst(5);
    fp8::encode_per_channel(src.data(), huge, dst.data(), huge, 1, 5, scale.data(), channel,
                            fp8::overflow::saturate);
    for (std::size_t j = 0; j < 5; ++j)
      CHECK(dst[j].bits() == e4m3::from_float(src[j], fp8::overflow::saturate).bits());
  }
}
