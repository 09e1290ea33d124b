// SPDX-License-Identifier: Apache-2.0
// Integer linear quantization (dyadic/linear.hpp) against references written
// from the ONNX QuantizeLinear / DequantizeLinear text, not from the code:
// quantize = saturate(rint(x / scale) + zero_point) with the float32
// quotient, rint by std::nearbyint in double (ties to even) and explicit
// clamps, cross-checked by a search for the nearest code; dequantize =
// (q - zero_point) * scale as an exact double product rounded once to float.
// Covered: every int8/uint8 code (and every 4-bit code) through dequantize
// at every zero point extreme; values on and next to every tie for several
// scales; saturation, NaN and infinities; int4/uint4 packing at odd and even
// counts; per-channel rows and columns with leading dimensions (padding, and
// padding nibbles, untouched); fake quantization = dequantize(quantize), in
// place; 16-bit sources; the parameter helpers on known ranges; bulk ==
// scalar definition at every tail length and misalignment; every argument
// error with the output untouched. Every tier the CPU runs, in one binary:
// the entry tests under each fp8::tier_scope, and each tier's kernels called
// directly (test_tiers::for_each_tier) at every length to 130 and every zero
// point edge, per tensor and per channel on both axes with leading
// dimensions, against the definitions and the portable tier.
#include <catch2/catch.hpp>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fp8/dyadic/linear.hpp>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "formats.hpp"
#include "tiers.hpp"

namespace {

// ---------------------------------------------------------------- the reference
// The ranges of the ONNX integer types, from the ONNX IR's type table.
template <class Out>
struct range;
template <>
struct range<std::int8_t> {
  static constexpr int lo = -128, hi = 127;
};
template <>
struct range<std::uint8_t> {
  static constexpr int lo = 0, hi = 255;
};
template <>
struct range<fp8::int4> {
  static constexpr int lo = -8, hi = 7;
};
template <>
struct range<fp8::uint4> {
  static constexpr int lo = 0, hi = 15;
};
template <class Out>
constexpr bool is_4bit = range<Out>::hi - range<Out>::lo == 15;

// ONNX QuantizeLinear: y = saturate(rint(x / y_scale) + y_zero_point), the
// division in float32 (the reference runs numpy on float32 arrays), rint
// rounding half to even. NaN: the documented choice, the zero point.
template <class Out>
int ref_quantize(float x, float scale, int zp) {
  const float q = x / scale;
  if (std::isnan(q)) return zp;
  const double r = std::nearbyint(static_cast<double>(q));  // q is an exact double; default mode: ties to even
  const double v = r + zp;  // exact below 2^53; beyond it far outside any 8-bit range either way
  if (v < range<Out>::lo) return range<Out>::lo;
  if (v > range<Out>::hi) return range<Out>::hi;
  return static_cast<int>(v);
}

// The same by search: the code k whose real value k - zp is nearest to
// the quotient, ties to the even k - zp.
template <class Out>
int ref_quantize_search(float x, float scale, int zp) {
  const float q = x / scale;
  if (std::isnan(q)) return zp;
  int best = range<Out>::lo;
  double best_distance = std::numeric_limits<double>::infinity();
  for (int k = range<Out>::lo; k <= range<Out>::hi; ++k) {
    const double d = std::fabs(static_cast<double>(q) - (k - zp));  // inf for infinite q: the first code wins
    const bool tie_to_even = d == best_distance && (k - zp) % 2 == 0;
    if (d < best_distance || tie_to_even) {
      best = k;
      best_distance = d;
    }
  }
  if (std::isinf(q)) return q > 0 ? range<Out>::hi : range<Out>::lo;
  return best;
}

// ONNX DequantizeLinear: (x - x_zero_point) * x_scale in float32. The
// difference has at most 9 bits, so the double product is exact and one
// rounding to float gives the float32 product; above FLT_MAX plus half an
// ulp it rounds to infinity (done by hand: converting such a double to
// float is undefined behaviour).
float ref_dequantize(int q, float scale, int zp) {
  const double p = static_cast<double>(q - zp) * static_cast<double>(scale);
  constexpr double overflow = 0x1.ffffffp127;  // halfway between FLT_MAX and 2^128: ties to even go up
  if (std::fabs(p) >= overflow)
    return p > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
  return static_cast<float>(p);
}

template <class Out>
float ref_fake(float x, float scale, int zp) {
  return ref_dequantize(ref_quantize<Out>(x, scale, zp), scale, zp);
}

bool same_bits(float a, float b) { return float_bits(a) == float_bits(b); }

// A double to float for building inputs, infinite beyond FLT_MAX (a plain
// conversion of such a double is undefined behaviour).
float narrow(double d) {
  if (std::fabs(d) > FLT_MAX)
    return d > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
  return static_cast<float>(d);
}

// ---------------------------------------------------------------- inputs
const float nan_f = std::numeric_limits<float>::quiet_NaN();
const float inf_f = std::numeric_limits<float>::infinity();

// Scales for every path: 1 (no scaling), powers of two (multiply by the
// reciprocal, one of them with a subnormal reciprocal), arbitrary values
// (divide), a subnormal scale (its reciprocal overflows: divide), extremes.
const float test_scales[] = {1.0f,    0.5f,   0x1p-7f,   4.0f,    0x1p127f, 0.1f,   0.3f,
                             0.0234f, 3.0e5f, 0x1p-130f, FLT_MIN, FLT_MAX,  1e-30f, 0.007843138f};

template <class Out>
std::vector<int> zero_points() {
  constexpr int lo = range<Out>::lo, hi = range<Out>::hi;
  std::vector<int> z = {lo, lo + 1, (lo + hi) / 2, hi - 1, hi};
  if (lo < 0) z.push_back(0);
  return z;
}

// Floats that reach every path of a quantizer with the given scale:
// quotients near every code and tie, far beyond the range, float
// subnormals, specials and arbitrary bit patterns.
std::vector<float> mixed_floats(std::size_t n, float scale, std::mt19937_64& rng) {
  std::vector<float> v(n);
  for (auto& x : v) {
    const unsigned kind = static_cast<unsigned>(rng() % 16);
    const double k = static_cast<double>(static_cast<int>(rng() % 700) - 350);
    switch (kind) {
      case 0:
      case 1:
      case 2:
        x = narrow((k + 0.5) * scale);
        break;  // at a tie (exactly, for 2^k scales)
      case 3:
        x = std::nextafter(narrow((k + 0.5) * scale), inf_f);
        break;
      case 4:
        x = std::nextafter(narrow((k + 0.5) * scale), -inf_f);
        break;
      case 5:
      case 6:
        x = narrow((k + std::uniform_real_distribution<double>(0, 1)(rng)) * scale);
        break;
      case 7:
        x = static_cast<float>(k);
        break;
      case 8:
        x = std::numeric_limits<float>::denorm_min() * static_cast<float>(rng() % 100000);
        break;
      case 9: {
        const float s[] = {nan_f, -nan_f, inf_f, -inf_f, 0.0f, -0.0f, FLT_MAX, -FLT_MAX, FLT_MIN, 1e30f, -1e30f};
        x = s[rng() % (sizeof s / sizeof s[0])];
        break;
      }
      default:
        x = float_from_bits(static_cast<std::uint32_t>(rng()));
        break;
    }
    if (rng() % 2 != 0) x = -x;
  }
  return v;
}

// Element i of Out's storage.
template <class Out>
int element(const std::uint8_t* p, std::size_t i) {
  if constexpr (std::is_same<Out, fp8::int4>::value) return fp8::unpack_int4_nibble(p[i / 2], static_cast<int>(i % 2));
  if constexpr (std::is_same<Out, fp8::uint4>::value)
    return fp8::unpack_uint4_nibble(p[i / 2], static_cast<int>(i % 2));
  if constexpr (std::is_same<Out, std::int8_t>::value) return static_cast<int>(static_cast<std::int8_t>(p[i]));
  return static_cast<int>(p[i]);
}
template <class Out>
constexpr std::size_t storage_bytes(std::size_t n) {
  return is_4bit<Out> ? (n + 1) / 2 : n;
}

constexpr std::uint8_t kCanary = 0xA5;

// n codes of Out, packed as Out stores them.
template <class Out>
std::vector<std::uint8_t> pack_codes(const std::vector<int>& v) {
  std::vector<std::uint8_t> p(storage_bytes<Out>(v.size()), 0);
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (is_4bit<Out>)
      p[i / 2] = static_cast<std::uint8_t>(p[i / 2] | ((static_cast<unsigned>(v[i]) & 0xFu) << (4 * (i % 2))));
    else
      p[i] = static_cast<std::uint8_t>(v[i] & 0xFF);
  }
  return p;
}

template <class Out>
fp8::quantized_storage_t<Out>* as_storage(std::uint8_t* p) {
  return reinterpret_cast<fp8::quantized_storage_t<Out>*>(p);
}
template <class Out>
const fp8::quantized_storage_t<Out>* as_storage(const std::uint8_t* p) {
  return reinterpret_cast<const fp8::quantized_storage_t<Out>*>(p);
}

// Calls f() once per tier the entries can run on this CPU, under a
// tier_scope that caps them to it (the tier is named in a failure).
template <class Fn>
void for_each_entry_tier(Fn&& f) {
  using fp8::cpu_tier;
  for (const cpu_tier t : {cpu_tier::portable, cpu_tier::sse2, cpu_tier::avx2, cpu_tier::avx512}) {
    if (t > fp8::best_tier(fp8::cpu())) continue;
    const fp8::tier_scope scope(t);
    INFO("entry tier " << static_cast<int>(t));
    f();
  }
}

#define LINEAR_TYPES std::int8_t, std::uint8_t, fp8::int4, fp8::uint4

}  // namespace

// ---------------------------------------------------------------- hand-made values

TEST_CASE("linear: the ONNX operator examples", "[dyadic][linear]") {
  for_each_entry_tier([&] {
    // QuantizeLinear's uint8 and int8 examples (scale 2, zero points 128 and -1).
    const float x[] = {0, 2, 3, 1000, -254, -1000};
    std::uint8_t u[6];
    fp8::quantize_linear<std::uint8_t>(x, u, 6, 2.0f, 128);
    CHECK(std::vector<int>(u, u + 6) == std::vector<int>{128, 129, 130, 255, 1, 0});
    std::int8_t s[6];
    fp8::quantize_linear<std::int8_t>(x, s, 6, 2.0f, -1);
    CHECK(std::vector<int>(s, s + 6) == std::vector<int>{-1, 0, 1, 127, -128, -128});
    // DequantizeLinear's example.
    const std::uint8_t q[] = {0, 3, 128, 255};
    float y[4];
    fp8::dequantize_linear<std::uint8_t>(q, y, 4, 2.0f, 128);
    CHECK(std::vector<float>(y, y + 4) == std::vector<float>{-256, -250, 0, 254});
    // int4, packed low nibble first: 0 2 -2 7 -8 1 3 (+ pad 0).
    const float f[] = {0.0f, 2.5f, -2.5f, 100.0f, -inf_f, 1.4f, 3.0f};
    std::uint8_t p[4] = {kCanary, kCanary, kCanary, kCanary};
    fp8::quantize_linear<fp8::int4>(f, p, 7, 1.0f, 0);
    CHECK(p[0] == 0x20);
    CHECK(p[1] == 0x7E);
    CHECK(p[2] == 0x18);
    CHECK(p[3] == 0x03);
    float back[7] = {};  // zeroed: GCC 12 -O2 takes the const void* check of dst for a read
    fp8::dequantize_linear<fp8::int4>(p, back, 7, 0.5f, -1);  // (q + 1) * 0.5
    CHECK(std::vector<float>(back, back + 7) == std::vector<float>{0.5f, 1.5f, -0.5f, 4.0f, -3.5f, 1.0f, 2.0f});
  });
}

TEST_CASE("linear: ties to even, saturation, NaN and infinities by hand", "[dyadic][linear]") {
  using fp8::quantize_linear_value;
  CHECK(quantize_linear_value<std::int8_t>(0.5f, 1.0f, 0) == 0);
  CHECK(quantize_linear_value<std::int8_t>(1.5f, 1.0f, 0) == 2);
  CHECK(quantize_linear_value<std::int8_t>(2.5f, 1.0f, 0) == 2);
  CHECK(quantize_linear_value<std::int8_t>(-0.5f, 1.0f, 0) == 0);
  CHECK(quantize_linear_value<std::int8_t>(-1.5f, 1.0f, 0) == -2);
  CHECK(quantize_linear_value<std::int8_t>(-2.5f, 1.0f, 0) == -2);
  CHECK(quantize_linear_value<std::int8_t>(std::nextafter(2.5f, 3.0f), 1.0f, 0) == 3);
  CHECK(quantize_linear_value<std::int8_t>(127.5f, 1.0f, 0) == 127);
  CHECK(quantize_linear_value<std::int8_t>(-128.5f, 1.0f, 0) == -128);
  CHECK(quantize_linear_value<std::uint8_t>(-0.5f, 1.0f, 0) == 0);
  CHECK(quantize_linear_value<std::uint8_t>(127.5f, 1.0f, 128) == 255);  // 128 + 128 saturates
  CHECK(quantize_linear_value<std::uint8_t>(inf_f, 0.1f, 3) == 255);
  CHECK(quantize_linear_value<std::uint8_t>(-inf_f, 0.1f, 3) == 0);
  CHECK(quantize_linear_value<fp8::int4>(inf_f, 1.0f, 0) == 7);
  CHECK(quantize_linear_value<fp8::uint4>(-FLT_MAX, 1e-30f, 15) == 0);
  CHECK(quantize_linear_value<std::uint8_t>(nan_f, 0.1f, 37) == 37);
  CHECK(quantize_linear_value<std::int8_t>(-nan_f, 0.1f, -128) == -128);
  CHECK(quantize_linear_value<fp8::uint4>(nan_f, 2.0f, 9) == 9);
  // The quotient is the float32 one: 0.3 / 0.1 is 3.0000000 in float (2.9999...6 in double).
  CHECK(quantize_linear_value<std::int8_t>(0.3f, 0.1f, 0) == 3);
  // fake quantization of NaN and of a negative value that rounds to the zero point: +0.
  CHECK(same_bits(fp8::fake_quantize_linear_value<std::int8_t>(nan_f, 0.25f, 5), 0.0f));
  CHECK(same_bits(fp8::fake_quantize_linear_value<std::int8_t>(-0.1f, 0.25f, 5), 0.0f));
  CHECK(fp8::dequantize_linear_value(-128, 0.5f, 127) == -127.5f);
  // Out-of-range zero points and bad scales are defined for the scalar form.
  CHECK(quantize_linear_value<std::int8_t>(nan_f, 1.0f, 1000) == 127);
  CHECK(quantize_linear_value<std::int8_t>(-1000.0f, 1.0f, 1000) == 0);
  CHECK(quantize_linear_value<std::int8_t>(5.0f, 0.0f, 0) == 127);
  CHECK(quantize_linear_value<std::int8_t>(0.0f, 0.0f, 4) == 4);
  static_assert(fp8::quantize_linear_value<std::int8_t>(2.5f, 1.0f, 0) == 2, "constexpr, ties to even");
  static_assert(fp8::quantize_linear_value<std::uint8_t>(-3.5f, 1.0f, 10) == 6, "constexpr");
}

// ---------------------------------------------------------------- dequantize every code

TEMPLATE_TEST_CASE("linear: dequantize every code at every zero point extreme", "[dyadic][linear]", LINEAR_TYPES) {
  for_each_entry_tier([&] {
    constexpr int lo = range<TestType>::lo, hi = range<TestType>::hi;
    std::vector<int> codes;
    for (int k = lo; k <= hi; ++k) codes.push_back(k);
    for (std::size_t trim : {std::size_t{0}, std::size_t{1}}) {  // even and odd counts
      std::vector<int> v(codes.begin(), codes.end() - static_cast<std::ptrdiff_t>(trim));
      const auto packed = pack_codes<TestType>(v);
      for (const float scale : test_scales) {
        for (const int zp : zero_points<TestType>()) {
          std::vector<float> out(v.size() + 2, -7.0f);
          fp8::dequantize_linear<TestType>(as_storage<TestType>(packed.data()), out.data() + 1, v.size(), scale, zp);
          CHECK(out.front() == -7.0f);
          CHECK(out.back() == -7.0f);
          for (std::size_t i = 0; i < v.size(); ++i) {
            INFO("code " << v[i] << " scale " << scale << " zp " << zp);
            REQUIRE(same_bits(out[i + 1], ref_dequantize(v[i], scale, zp)));
            REQUIRE(same_bits(fp8::dequantize_linear_value(v[i], scale, zp), ref_dequantize(v[i], scale, zp)));
          }
        }
      }
    }
  });
}

// ---------------------------------------------------------------- ties

TEMPLATE_TEST_CASE("linear: quantize on and next to every tie", "[dyadic][linear]", LINEAR_TYPES) {
  for_each_entry_tier([&] {
    constexpr int lo = range<TestType>::lo, hi = range<TestType>::hi;
    for (const float scale : test_scales) {
      for (const int zp : zero_points<TestType>()) {
        std::vector<float> x;
        std::size_t exact_ties = 0;
        // Quotients (k + 0.5) for every k that the codes reach, and three beyond each end.
        for (int k = lo - zp - 4; k <= hi - zp + 3; ++k) {
          const float t = narrow((k + 0.5) * static_cast<double>(scale));
          if (t / scale == static_cast<float>(k + 0.5)) ++exact_ties;
          float up = t, down = t;
          x.push_back(t);
          for (int step = 0; step < 2; ++step) {
            up = std::nextafter(up, inf_f);
            down = std::nextafter(down, -inf_f);
            x.push_back(up);
            x.push_back(down);
          }
          x.push_back(narrow(k * static_cast<double>(scale)));  // on a code
        }
        // Power-of-two scales whose tie values are normal floats hit every tie exactly.
        int e = 0;
        if (std::frexp(scale, &e) == 0.5f && scale >= 0x1p-100f && scale <= 0x1p100f)
          CHECK(exact_ties == static_cast<std::size_t>(hi - lo + 8));
        std::vector<std::uint8_t> out(storage_bytes<TestType>(x.size()));
        fp8::quantize_linear<TestType>(x.data(), as_storage<TestType>(out.data()), x.size(), scale, zp);
        for (std::size_t i = 0; i < x.size(); ++i) {
          const int want = ref_quantize<TestType>(x[i], scale, zp);
          INFO("x " << x[i] << " scale " << scale << " zp " << zp << " quotient " << x[i] / scale);
          REQUIRE(ref_quantize_search<TestType>(x[i], scale, zp) == want);
          REQUIRE(fp8::quantize_linear_value<TestType>(x[i], scale, zp) == want);
          REQUIRE(element<TestType>(out.data(), i) == want);
        }
      }
    }
  });
}

TEMPLATE_TEST_CASE("linear: saturation, NaN and infinities at every zero point", "[dyadic][linear]", LINEAR_TYPES) {
  for_each_entry_tier([&] {
    constexpr int lo = range<TestType>::lo, hi = range<TestType>::hi;
    const float x[] = {nan_f,
                       -nan_f,
                       float_from_bits(0x7F800001u),
                       float_from_bits(0xFFC12345u),
                       inf_f,
                       -inf_f,
                       FLT_MAX,
                       -FLT_MAX,
                       1e30f,
                       -1e30f,
                       3e9f,
                       -3e9f,
                       0x1p31f,
                       -0x1p31f,
                       0.0f,
                       -0.0f,
                       std::numeric_limits<float>::denorm_min(),
                       -std::numeric_limits<float>::denorm_min()};
    constexpr std::size_t n = sizeof x / sizeof x[0];
    for (const float scale : test_scales) {
      for (const int zp : zero_points<TestType>()) {
        std::vector<std::uint8_t> out(storage_bytes<TestType>(n));
        fp8::quantize_linear<TestType>(x, as_storage<TestType>(out.data()), n, scale, zp);
        for (std::size_t i = 0; i < n; ++i) {
          int want;
          if (std::isnan(x[i]))
            want = zp;
          else if (std::isinf(x[i]))
            want = x[i] > 0 ? hi : lo;
          else
            want = ref_quantize<TestType>(x[i], scale, zp);
          INFO("x " << x[i] << " scale " << scale << " zp " << zp);
          REQUIRE(ref_quantize<TestType>(x[i], scale, zp) == want);
          REQUIRE(element<TestType>(out.data(), i) == want);
        }
        // +-FLT_MAX beyond the range both ways (unless the scale is near FLT_MAX): the extreme codes.
        if (scale < 1e37f) {
          CHECK(element<TestType>(out.data(), 6) == hi);
          CHECK(element<TestType>(out.data(), 7) == lo);
        }
      }
    }
  });
}

// ---------------------------------------------------------------- 4-bit packing

TEMPLATE_TEST_CASE("linear: 4-bit codes are packed low nibble first, odd counts padded with 0", "[dyadic][linear]",
                   fp8::int4, fp8::uint4) {
  for_each_entry_tier([&] {
    std::mt19937_64 rng(11);
    for (std::size_t n = 0; n <= 70; ++n) {
      std::vector<float> x(n);
      for (auto& v : x) v = static_cast<float>(static_cast<int>(rng() % 40) - 20) * 0.5f;
      const int zp = zero_points<TestType>()[rng() % zero_points<TestType>().size()];
      std::vector<int> codes(n);
      for (std::size_t i = 0; i < n; ++i) codes[i] = ref_quantize<TestType>(x[i], 1.5f, zp);
      const auto want = pack_codes<TestType>(codes);
      std::vector<std::uint8_t> out(want.size() + 2, kCanary);
      fp8::quantize_linear<TestType>(x.data(), as_storage<TestType>(out.data() + 1), n, 1.5f, zp);
      INFO("n " << n);
      CHECK(out.front() == kCanary);
      CHECK(out.back() == kCanary);
      REQUIRE(std::vector<std::uint8_t>(out.begin() + 1, out.end() - 1) == want);  // includes the 0 pad nibble
      // And back.
      std::vector<float> y(n);
      fp8::dequantize_linear<TestType>(as_storage<TestType>(out.data() + 1), y.data(), n, 1.5f, zp);
      for (std::size_t i = 0; i < n; ++i) REQUIRE(same_bits(y[i], ref_dequantize(codes[i], 1.5f, zp)));
    }
  });
}

// ---------------------------------------------------------------- bulk == scalar

TEMPLATE_TEST_CASE("linear: bulk equals the scalar definition at every tail and misalignment", "[dyadic][linear]",
                   LINEAR_TYPES) {
  for_each_entry_tier([&] {
    std::mt19937_64 rng(12);
    constexpr std::size_t widest = 4 * 16;  // the AVX-512 step: four vectors of 16 floats
    const std::size_t max_n = 3 * widest;
    const auto zps = zero_points<TestType>();
    for (std::size_t n = 0; n <= max_n; ++n) {
      for (std::size_t misalign = 0; misalign < 4; ++misalign) {
        const float scale = test_scales[rng() % (sizeof test_scales / sizeof test_scales[0])];
        const int zp = zps[rng() % zps.size()];
        const std::vector<float> x0 = mixed_floats(n + misalign, scale, rng);
        const float* x = x0.data() + misalign;
        INFO("n " << n << " misalign " << misalign << " scale " << scale << " zp " << zp);
        // quantize
        const std::size_t dst_off = (misalign + 1) % 4, bytes = storage_bytes<TestType>(n);
        std::vector<std::uint8_t> q(bytes + 8, kCanary);
        fp8::quantize_linear<TestType>(x, as_storage<TestType>(q.data() + dst_off), n, scale, zp);
        std::vector<int> codes(n);
        for (std::size_t i = 0; i < n; ++i) {
          codes[i] = fp8::quantize_linear_value<TestType>(x[i], scale, zp);
          REQUIRE(codes[i] == ref_quantize<TestType>(x[i], scale, zp));
          REQUIRE(element<TestType>(q.data() + dst_off, i) == codes[i]);
        }
        if (is_4bit<TestType> && n % 2 != 0) REQUIRE((q[dst_off + bytes - 1] & 0xF0) == 0);
        for (std::size_t i = 0; i < q.size(); ++i)
          if (i < dst_off || i >= dst_off + bytes) REQUIRE(q[i] == kCanary);
        // dequantize, from a misaligned copy of random codes
        std::vector<int> r(n);
        for (auto& c : r)
          c = range<TestType>::lo +
              static_cast<int>(rng() % static_cast<std::uint64_t>(range<TestType>::hi - range<TestType>::lo + 1));
        const auto packed = pack_codes<TestType>(r);
        std::vector<std::uint8_t> src(packed.size() + misalign);
        std::copy(packed.begin(), packed.end(), src.begin() + static_cast<std::ptrdiff_t>(misalign));
        std::vector<float> y(n + 2, -7.0f);
        fp8::dequantize_linear<TestType>(as_storage<TestType>(src.data() + misalign), y.data() + 1, n, scale, zp);
        REQUIRE(y.front() == -7.0f);
        REQUIRE(y.back() == -7.0f);
        for (std::size_t i = 0; i < n; ++i) REQUIRE(same_bits(y[i + 1], fp8::dequantize_linear_value(r[i], scale, zp)));
        // fake quantize, out of place and in place
        std::vector<float> f(n + 2, -7.0f);
        fp8::fake_quantize_linear<TestType>(x, f.data() + 1, n, scale, zp);
        std::vector<float> in_place(x, x + n);
        fp8::fake_quantize_linear<TestType>(in_place.data(), in_place.data(), n, scale, zp);
        REQUIRE(f.front() == -7.0f);
        REQUIRE(f.back() == -7.0f);
        for (std::size_t i = 0; i < n; ++i) {
          const float want = fp8::dequantize_linear_value(codes[i], scale, zp);
          REQUIRE(same_bits(fp8::fake_quantize_linear_value<TestType>(x[i], scale, zp), want));
          REQUIRE(same_bits(ref_fake<TestType>(x[i], scale, zp), want));
          REQUIRE(same_bits(f[i + 1], want));
          REQUIRE(same_bits(in_place[i], want));
        }
      }
    }
  });
}

TEST_CASE("linear: bulk equals the scalar definition on every int8/uint8 quotient pattern", "[dyadic][linear]") {
  // Many random floats per scale, long enough to run the main loops at length.
  std::mt19937_64 rng(13);
  const std::size_t n = FP8_TEST_SANITIZED ? 20000 : 200000;
  for (const float scale : test_scales) {
    const std::vector<float> x = mixed_floats(n, scale, rng);
    std::vector<std::int8_t> s_want(n);
    std::vector<std::uint8_t> u_want(n);
    for (std::size_t i = 0; i < n; ++i) {
      s_want[i] = static_cast<std::int8_t>(ref_quantize<std::int8_t>(x[i], scale, -3));
      u_want[i] = static_cast<std::uint8_t>(ref_quantize<std::uint8_t>(x[i], scale, 131));
    }
    for_each_entry_tier([&] {
      std::vector<std::int8_t> s(n);
      std::vector<std::uint8_t> u(n);
      fp8::quantize_linear<std::int8_t>(x.data(), s.data(), n, scale, -3);
      fp8::quantize_linear<std::uint8_t>(x.data(), u.data(), n, scale, 131);
      for (std::size_t i = 0; i < n; ++i) {
        if (s[i] == s_want[i] && u[i] == u_want[i]) continue;
        INFO("x " << x[i] << " scale " << scale);
        REQUIRE(int{s[i]} == int{s_want[i]});
        REQUIRE(int{u[i]} == int{u_want[i]});
      }
    });
  }
}

// ---------------------------------------------------------------- every tier's kernels
// Each tier compiled into this binary that the CPU runs, its kernels called
// directly (test_tiers::for_each_tier): codes as bytes, rows x cols with
// leading dimensions, against the scalar definitions and the portable tier.

namespace {

// A code byte as the kernels read it: sign-extended for the signed types.
template <class Out>
int byte_value(std::uint8_t b) {
  return range<Out>::lo < 0 ? static_cast<int>(static_cast<std::int8_t>(b)) : static_cast<int>(b);
}

// One call of each kernel of `tag` on rows x cols at leading dimension ld
// (padding and one element past the span keep their canaries), checked
// element by element against the definitions and against the portable tier.
// Per tensor is one row with axis::rows and one scale.
template <class Out, class Tag>
void check_kernels(Tag tag, const char* tier, std::size_t rows, std::size_t cols, std::size_t ld, fp8::axis ax,
                   const std::vector<float>& scale, const std::vector<std::int32_t>& zp, bool with_zp,
                   std::mt19937_64& rng) {
  using fp8::detail::linear_dequantize;
  using fp8::detail::linear_fake;
  using fp8::detail::linear_quantize;
  INFO("tier " << tier << " " << rows << "x" << cols << " ld " << ld << " axis " << static_cast<int>(ax) << " zp "
               << with_zp << " scale[0] " << scale[0]);
  const std::size_t size = rows * ld + 1;
  const std::vector<float> x = mixed_floats(size, scale[0], rng);
  std::vector<std::uint8_t> codes(size);
  for (auto& c : codes) c = static_cast<std::uint8_t>(rng());  // any byte: the kernels read every one alike
  const std::int32_t* z = with_zp ? zp.data() : nullptr;
  const auto inside = [&](std::size_t i) { return i < (rows == 0 ? 0 : (rows - 1) * ld + cols) && i % ld < cols; };
  const auto channel = [&](std::size_t i) { return ax == fp8::axis::rows ? i / ld : i % ld; };
  const auto zp_at = [&](std::size_t i) { return with_zp ? zp[channel(i)] : 0; };

  std::vector<std::uint8_t> q(size, kCanary), q0(size, kCanary);
  linear_quantize<Out>(x.data(), ld, q.data(), ld, rows, cols, scale.data(), z, ax, tag);
  linear_quantize<Out>(x.data(), ld, q0.data(), ld, rows, cols, scale.data(), z, ax, fp8::isa::portable{});
  std::vector<float> d(size, -7.0f), f(size, -7.0f), in_place = x;
  linear_dequantize<Out>(codes.data(), ld, d.data(), ld, rows, cols, scale.data(), z, ax, tag);
  linear_fake<Out>(x.data(), ld, f.data(), ld, rows, cols, scale.data(), z, ax, tag);
  linear_fake<Out>(in_place.data(), ld, in_place.data(), ld, rows, cols, scale.data(), z, ax, tag);
  for (std::size_t i = 0; i < size; ++i) {
    if (!inside(i)) {
      REQUIRE(q[i] == kCanary);
      REQUIRE(d[i] == -7.0f);
      REQUIRE(f[i] == -7.0f);
      REQUIRE(same_bits(in_place[i], x[i]));
      continue;
    }
    const float s = scale[channel(i)];
    const int zi = zp_at(i);
    INFO("element " << i << " x " << x[i] << " code byte " << int{codes[i]} << " scale " << s << " zp " << zi);
    const int want = fp8::quantize_linear_value<Out>(x[i], s, zi);
    REQUIRE(want == ref_quantize<Out>(x[i], s, zi));
    REQUIRE(byte_value<Out>(q[i]) == want);
    REQUIRE(q[i] == q0[i]);
    REQUIRE(same_bits(d[i], fp8::dequantize_linear_value(byte_value<Out>(codes[i]), s, zi)));
    const float fake = fp8::fake_quantize_linear_value<Out>(x[i], s, zi);
    REQUIRE(same_bits(fake, ref_fake<Out>(x[i], s, zi)));
    REQUIRE(same_bits(f[i], fake));
    REQUIRE(same_bits(in_place[i], fake));
  }
}

}  // namespace

TEMPLATE_TEST_CASE("linear: every tier's kernels per tensor at every length and zero point", "[dyadic][linear]",
                   LINEAR_TYPES) {
  // Every length to two AVX-512 steps and a bit (every tail of every tier),
  // every zero point edge, every scale path.
  test_tiers::for_each_tier([](auto tag, const char* tier) {
    std::mt19937_64 rng(14);
    const auto zps = zero_points<TestType>();
    constexpr std::size_t scales = sizeof test_scales / sizeof test_scales[0];
    for (std::size_t n = 0; n <= 130; ++n)
      for (const int zp : zps) {
        const std::vector<float> scale = {test_scales[(n + static_cast<std::size_t>(zp)) % scales]};
        check_kernels<TestType>(tag, tier, 1, n, n, fp8::axis::rows, scale, {zp}, true, rng);
      }
  });
}

TEMPLATE_TEST_CASE("linear: every tier's kernels per channel, rows and columns", "[dyadic][linear]", LINEAR_TYPES) {
  test_tiers::for_each_tier([](auto tag, const char* tier) {
    std::mt19937_64 rng(18);
    const auto zps = zero_points<TestType>();
    constexpr std::size_t scales = sizeof test_scales / sizeof test_scales[0];
    // One row of every length (per-element scales and zero points), then
    // matrices with leading dimensions on both axes.
    for (std::size_t n = 0; n <= 130; ++n) {
      std::vector<float> scale(n + 1);
      std::vector<std::int32_t> zp(n + 1);
      for (std::size_t i = 0; i <= n; ++i) {
        scale[i] = test_scales[rng() % scales];
        zp[i] = zps[rng() % zps.size()];
      }
      check_kernels<TestType>(tag, tier, 1, n, n, fp8::axis::columns, scale, zp, n % 3 != 0, rng);
    }
    for (const std::size_t rows : {1u, 2u, 5u}) {
      for (const std::size_t cols : {1u, 3u, 15u, 16u, 17u, 33u, 64u, 65u, 100u, 129u}) {
        for (const std::size_t pad : {0u, 1u, 7u}) {
          for (const fp8::axis ax : {fp8::axis::rows, fp8::axis::columns}) {
            const std::size_t channels = ax == fp8::axis::rows ? rows : cols;
            std::vector<float> scale(channels);
            std::vector<std::int32_t> zp(channels);
            for (std::size_t i = 0; i < channels; ++i) {
              scale[i] = test_scales[rng() % scales];
              zp[i] = zps[rng() % zps.size()];
            }
            check_kernels<TestType>(tag, tier, rows, cols, cols + pad, ax, scale, zp, pad != 1, rng);
          }
        }
      }
    }
  });
}

TEMPLATE_TEST_CASE("linear: every tier widens 16-bit sources exactly", "[dyadic][linear]", fp8::bfloat16, fp8::half) {
  test_tiers::for_each_tier([](auto tag, const char* tier) {
    std::mt19937_64 rng(19);
    for (std::size_t n = 0; n <= 130; ++n) {
      std::vector<TestType> src(n);
      for (auto& v : src) v = TestType::from_bits(static_cast<std::uint16_t>(rng()));
      std::vector<float> dst(n + 1, -7.0f);
      fp8::detail::linear_widen(src.data(), dst.data(), n, tag);
      REQUIRE(dst[n] == -7.0f);
      for (std::size_t i = 0; i < n; ++i) {
        const float want = static_cast<float>(src[i]);
        INFO("tier " << tier << " n " << n << " bits " << src[i].bits());
        REQUIRE((same_bits(dst[i], want) || (std::isnan(dst[i]) && std::isnan(want))));
      }
    }
  });
}

// ---------------------------------------------------------------- 16-bit sources

TEMPLATE_TEST_CASE("linear: bfloat16 and half sources quantize their exact float values", "[dyadic][linear]",
                   fp8::bfloat16, fp8::half) {
  for_each_entry_tier([&] {
    std::mt19937_64 rng(15);
    for (const std::size_t n :
         {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{100}, std::size_t{513}, std::size_t{1500}}) {
      std::vector<TestType> src(n);
      std::vector<float> widened(n);
      for (std::size_t i = 0; i < n; ++i) {
        src[i] = TestType::from_bits(static_cast<std::uint16_t>(rng()));
        widened[i] = static_cast<float>(src[i]);
      }
      std::vector<std::uint8_t> a(n), b((n + 1) / 2 + 1, kCanary);
      fp8::quantize_linear<std::uint8_t>(src.data(), a.data(), n, 0.05f, 100);
      fp8::quantize_linear<fp8::int4>(src.data(), b.data(), n, 0.25f, -2);
      for (std::size_t i = 0; i < n; ++i) {
        INFO("n " << n << " x " << widened[i]);
        REQUIRE(a[i] == ref_quantize<std::uint8_t>(widened[i], 0.05f, 100));
        REQUIRE(element<fp8::int4>(b.data(), i) == ref_quantize<fp8::int4>(widened[i], 0.25f, -2));
      }
      REQUIRE(b.back() == kCanary);
      // Per channel, columns, with a leading dimension.
      if (n >= 100) {
        const std::size_t cols = 45, rows = n / 50, ld = 50;
        std::vector<float> scale(cols);
        std::vector<std::int32_t> zp(cols);
        for (std::size_t c = 0; c < cols; ++c) {
          scale[c] = 0.01f * static_cast<float>(c + 1);
          zp[c] = static_cast<std::int32_t>(c) - 20;
        }
        std::vector<std::int8_t> q(rows * ld, 99);
        fp8::quantize_linear_per_channel<std::int8_t>(src.data(), ld, q.data(), ld, rows, cols, scale.data(), zp.data(),
                                                      fp8::axis::columns);
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t c = 0; c < ld; ++c)
            REQUIRE(q[r * ld + c] == (c < cols ? ref_quantize<std::int8_t>(widened[r * ld + c], scale[c], zp[c]) : 99));
      }
    }
  });
}

// ---------------------------------------------------------------- per channel

namespace {

struct shape {
  std::size_t rows, cols, src_pad, dst_pad;
};
const shape shapes[] = {{1, 1, 0, 0},   {3, 7, 0, 0},   {5, 16, 3, 1},   {2, 64, 0, 5},  {7, 65, 1, 0}, {4, 129, 2, 3},
                        {3, 200, 0, 0}, {2, 513, 7, 3}, {2, 1100, 0, 1}, {33, 31, 1, 1}, {9, 3, 0, 2},  {6, 5, 1, 1}};

// Which element (r, c) of a matrix with leading dimension ld a flat index is,
// or none (padding).
bool in_matrix(std::size_t index, std::size_t cols, std::size_t ld) { return index % ld < cols; }

}  // namespace

TEMPLATE_TEST_CASE("linear: per channel rows and columns with leading dimensions", "[dyadic][linear]", LINEAR_TYPES) {
  for_each_entry_tier([&] {
    std::mt19937_64 rng(16);
    const auto zps = zero_points<TestType>();
    for (const shape& sh : shapes) {
      const std::size_t src_ld = sh.cols + sh.src_pad, dst_ld = sh.cols + sh.dst_pad;
      const std::size_t src_span = (sh.rows - 1) * src_ld + sh.cols, dst_span = (sh.rows - 1) * dst_ld + sh.cols;
      for (const fp8::axis ax : {fp8::axis::rows, fp8::axis::columns}) {
        const std::size_t channels = ax == fp8::axis::rows ? sh.rows : sh.cols;
        for (const bool with_zp : {true, false}) {
          std::vector<float> scale(channels);
          std::vector<std::int32_t> zp(channels);
          for (std::size_t i = 0; i < channels; ++i) {
            scale[i] = test_scales[rng() % (sizeof test_scales / sizeof test_scales[0])];
            zp[i] = zps[rng() % zps.size()];
          }
          const std::int32_t* z = with_zp ? zp.data() : nullptr;
          const auto ch = [&](std::size_t r, std::size_t c) { return ax == fp8::axis::rows ? r : c; };
          const auto zp_of = [&](std::size_t r, std::size_t c) { return with_zp ? zp[ch(r, c)] : 0; };
          const std::vector<float> x = mixed_floats(src_span, 0.1f, rng);
          INFO(sh.rows << "x" << sh.cols << " ld " << src_ld << "/" << dst_ld << " axis " << static_cast<int>(ax)
                       << " zp " << with_zp);
          // quantize: the padding (bytes or nibbles) and the bytes around keep their canaries
          const std::size_t bytes = storage_bytes<TestType>(dst_span);
          std::vector<std::uint8_t> q(bytes + 2, kCanary);
          std::uint8_t* qd = q.data() + 1;
          fp8::quantize_linear_per_channel<TestType>(x.data(), src_ld, as_storage<TestType>(qd), dst_ld, sh.rows,
                                                     sh.cols, scale.data(), z, ax);
          CHECK(q.front() == kCanary);
          CHECK(q.back() == kCanary);
          std::vector<int> codes(dst_span);
          for (std::size_t i = 0; i < dst_span; ++i) {
            if (!in_matrix(i, sh.cols, dst_ld)) {
              const int canary = is_4bit<TestType> ? element<fp8::uint4>(&kCanary, i % 2) : kCanary;
              REQUIRE(element<std::conditional_t<is_4bit<TestType>, fp8::uint4, std::uint8_t>>(qd, i) == canary);
              continue;
            }
            const std::size_t r = i / dst_ld, c = i % dst_ld;
            codes[i] = ref_quantize<TestType>(x[r * src_ld + c], scale[ch(r, c)], zp_of(r, c));
            REQUIRE(element<TestType>(qd, i) == codes[i]);
          }
          if (is_4bit<TestType> && dst_span % 2 != 0) REQUIRE((qd[bytes - 1] & 0xF0) == 0);
          // dequantize those codes back, to a padded float matrix (src_ld of the floats = src_ld here)
          std::vector<float> y(src_span, -7.0f);
          fp8::dequantize_linear_per_channel<TestType>(as_storage<TestType>(qd), dst_ld, y.data(), src_ld, sh.rows,
                                                       sh.cols, scale.data(), z, ax);
          for (std::size_t i = 0; i < src_span; ++i) {
            if (!in_matrix(i, sh.cols, src_ld)) {
              REQUIRE(y[i] == -7.0f);
              continue;
            }
            const std::size_t r = i / src_ld, c = i % src_ld;
            REQUIRE(same_bits(y[i], ref_dequantize(codes[r * dst_ld + c], scale[ch(r, c)], zp_of(r, c))));
          }
          // fake quantize: out of place (into padded floats) and in place
          std::vector<float> f((sh.rows - 1) * dst_ld + sh.cols, -7.0f);
          fp8::fake_quantize_linear_per_channel<TestType>(x.data(), src_ld, f.data(), dst_ld, sh.rows, sh.cols,
                                                          scale.data(), z, ax);
          std::vector<float> in_place = x;
          fp8::fake_quantize_linear_per_channel<TestType>(in_place.data(), src_ld, in_place.data(), src_ld, sh.rows,
                                                          sh.cols, scale.data(), z, ax);
          for (std::size_t r = 0; r < sh.rows; ++r) {
            for (std::size_t c = 0; c < sh.cols; ++c) {
              const float want = ref_fake<TestType>(x[r * src_ld + c], scale[ch(r, c)], zp_of(r, c));
              REQUIRE(same_bits(f[r * dst_ld + c], want));
              REQUIRE(same_bits(in_place[r * src_ld + c], want));
            }
            for (std::size_t c = sh.cols; c < src_ld && r + 1 < sh.rows; ++c)
              REQUIRE(same_bits(in_place[r * src_ld + c], x[r * src_ld + c]));
            for (std::size_t c = sh.cols; c < dst_ld && r + 1 < sh.rows; ++c) REQUIRE(f[r * dst_ld + c] == -7.0f);
          }
          // The dense overloads are the ld = cols case.
          if (sh.src_pad == 0 && sh.dst_pad == 0) {
            std::vector<std::uint8_t> dense(storage_bytes<TestType>(sh.rows * sh.cols));
            fp8::quantize_linear_per_channel<TestType>(x.data(), as_storage<TestType>(dense.data()), sh.rows, sh.cols,
                                                       scale.data(), z, ax);
            REQUIRE(dense == std::vector<std::uint8_t>(qd, qd + bytes));
            std::vector<float> dy(sh.rows * sh.cols), df(sh.rows * sh.cols);
            fp8::dequantize_linear_per_channel<TestType>(as_storage<TestType>(dense.data()), dy.data(), sh.rows,
                                                         sh.cols, scale.data(), z, ax);
            fp8::fake_quantize_linear_per_channel<TestType>(x.data(), df.data(), sh.rows, sh.cols, scale.data(), z, ax);
            for (std::size_t i = 0; i < dy.size(); ++i) {
              REQUIRE(same_bits(dy[i], y[i]));
              REQUIRE(same_bits(df[i], f[i]));
            }
          }
        }
      }
    }
  });
}

TEMPLATE_TEST_CASE("linear: long 4-bit runs cross the staging buffer at odd nibble offsets", "[dyadic][linear]",
                   fp8::int4, fp8::uint4) {
  for_each_entry_tier([&] {
    std::mt19937_64 rng(17);
    // Per tensor past several 512-element chunks; rows longer than a chunk with
    // odd leading dimensions (rows start in the middle of a byte).
    const std::size_t n = 5001;
    const std::vector<float> x = mixed_floats(n, 0.7f, rng);
    std::vector<std::uint8_t> q((n + 1) / 2);
    fp8::quantize_linear<TestType>(x.data(), as_storage<TestType>(q.data()), n, 0.7f, 3);
    for (std::size_t i = 0; i < n; ++i)
      REQUIRE(element<TestType>(q.data(), i) == ref_quantize<TestType>(x[i], 0.7f, 3));
    std::vector<float> y(n);
    fp8::dequantize_linear<TestType>(as_storage<TestType>(q.data()), y.data(), n, 0.7f, 3);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(same_bits(y[i], ref_fake<TestType>(x[i], 0.7f, 3)));
    const std::size_t rows = 3, cols = 1100, ld = 1103, span = (rows - 1) * ld + cols;
    const std::vector<float> m = mixed_floats(rows * cols, 0.7f, rng);
    std::vector<float> scale(cols, 0.7f);
    scale[600] = 0.2f;
    std::vector<std::int32_t> zp(cols, 1);
    zp[1099] = 7;
    std::vector<std::uint8_t> p((span + 1) / 2, kCanary);
    fp8::quantize_linear_per_channel<TestType>(m.data(), cols, as_storage<TestType>(p.data()), ld, rows, cols,
                                               scale.data(), zp.data(), fp8::axis::columns);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c)
        REQUIRE(element<TestType>(p.data(), r * ld + c) == ref_quantize<TestType>(m[r * cols + c], scale[c], zp[c]));
    std::vector<float> back(rows * cols);
    fp8::dequantize_linear_per_channel<TestType>(as_storage<TestType>(p.data()), ld, back.data(), cols, rows, cols,
                                                 scale.data(), zp.data(), fp8::axis::columns);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c)
        REQUIRE(same_bits(back[r * cols + c], ref_fake<TestType>(m[r * cols + c], scale[c], zp[c])));
  });
}

// ---------------------------------------------------------------- parameter helpers

TEST_CASE("linear: parameters from known ranges", "[dyadic][linear]") {
  using fp8::linear_mapping;
  using fp8::linear_params_from_range;
  const auto check = [](fp8::linear_params p, float scale, int zp) {
    CHECK(p.scale == scale);
    CHECK(p.zero_point == zp);
  };
  // Asymmetric (ONNX DynamicQuantizeLinear): ranges whose results are exact.
  check(linear_params_from_range<std::uint8_t>(0.0f, 255.0f), 1.0f, 0);
  check(linear_params_from_range<std::uint8_t>(-128.0f, 127.0f), 1.0f, 128);
  check(linear_params_from_range<std::int8_t>(-128.0f, 127.0f), 1.0f, 0);
  check(linear_params_from_range<std::int8_t>(0.0f, 510.0f), 2.0f, -128);
  check(linear_params_from_range<fp8::uint4>(-7.5f, 0.0f), 0.5f, 15);
  check(linear_params_from_range<fp8::int4>(-4.0f, 3.5f), 0.5f, 0);
  // The range is extended to include 0.
  check(linear_params_from_range<std::uint8_t>(51.0f, 255.0f), 1.0f, 0);
  check(linear_params_from_range<std::uint8_t>(-255.0f, -3.0f), 1.0f, 255);
  // Rounding of the zero point: 0 - (-1) / (2/255) = 127.5 in exact arithmetic.
  {
    const float s = 2.0f / 255.0f;
    const auto p = linear_params_from_range<std::uint8_t>(-1.0f, 1.0f);
    CHECK(p.scale == s);
    const float intermediate = 0.0f - (-1.0f) / s;  // ONNX's float32 steps, then round half to even
    CHECK(p.zero_point == static_cast<int>(std::nearbyint(intermediate)));
    CHECK((p.zero_point == 127 || p.zero_point == 128));
  }
  // The all-zero range: scale 1, the real 0 at qmin.
  check(linear_params_from_range<std::uint8_t>(0.0f, 0.0f), 1.0f, 0);
  check(linear_params_from_range<std::int8_t>(0.0f, 0.0f), 1.0f, -128);
  check(linear_params_from_range<fp8::int4>(-0.0f, 0.0f), 1.0f, -8);
  // A range too wide for float: max / 255 - min / 255.
  {
    const auto p = linear_params_from_range<std::uint8_t>(-FLT_MAX, FLT_MAX);
    CHECK(std::isfinite(p.scale));
    CHECK(p.scale == FLT_MAX / 255.0f * 2.0f);
    CHECK((p.zero_point == 127 || p.zero_point == 128));  // 255 / 2 up to the roundings of the scale
  }
  // A tiny range: the scale is raised to FLT_MIN.
  check(linear_params_from_range<std::uint8_t>(0.0f, std::numeric_limits<float>::denorm_min()), FLT_MIN, 0);
  // Symmetric: amax / 127 or / 7; zero point 0, 128, 0, 8.
  check(linear_params_from_range<std::int8_t>(-3.0f, 1.27f, linear_mapping::symmetric), 3.0f / 127.0f, 0);
  check(linear_params_from_range<std::uint8_t>(-3.0f, 1.27f, linear_mapping::symmetric), 3.0f / 127.0f, 128);
  check(linear_params_from_range<fp8::int4>(-0.5f, 7.0f, linear_mapping::symmetric), 1.0f, 0);
  check(linear_params_from_range<fp8::uint4>(-0.5f, 7.0f, linear_mapping::symmetric), 1.0f, 8);
  check(linear_params_from_range<std::int8_t>(0.0f, 0.0f, linear_mapping::symmetric), 1.0f, 0);
  check(linear_params_from_range<std::uint8_t>(0.0f, 0.0f, linear_mapping::symmetric), 1.0f, 128);
  check(linear_params_from_range<fp8::uint4>(0.0f, 0.0f, linear_mapping::symmetric), 1.0f, 8);
  // Symmetric int8 and uint8 give the same values, the codes 128 apart.
  {
    const auto s8 = linear_params_from_range<std::int8_t>(-2.0f, 5.0f, linear_mapping::symmetric);
    const auto u8 = linear_params_from_range<std::uint8_t>(-2.0f, 5.0f, linear_mapping::symmetric);
    for (float x = -6.0f; x <= 6.0f; x += 0.01f) {
      const int a = fp8::quantize_linear_value<std::int8_t>(x, s8.scale, s8.zero_point);
      const int b = fp8::quantize_linear_value<std::uint8_t>(x, u8.scale, u8.zero_point);
      REQUIRE(b == a + 128);
    }
    CHECK(fp8::quantize_linear_value<std::int8_t>(5.0f, s8.scale, s8.zero_point) == 127);
    CHECK(fp8::quantize_linear_value<std::int8_t>(-5.0f, s8.scale, s8.zero_point) == -127);
  }
}

TEMPLATE_TEST_CASE("linear: asymmetric parameters keep 0 exact and the range inside the codes", "[dyadic][linear]",
                   LINEAR_TYPES) {
  constexpr int lo = range<TestType>::lo, hi = range<TestType>::hi;
  std::mt19937_64 rng(18);
  for (int trial = 0; trial < 3000; ++trial) {
    float a = std::ldexp(std::uniform_real_distribution<float>(-1, 1)(rng), static_cast<int>(rng() % 60) - 30);
    float b = std::ldexp(std::uniform_real_distribution<float>(-1, 1)(rng), static_cast<int>(rng() % 60) - 30);
    if (a > b) std::swap(a, b);
    for (const auto mapping : {fp8::linear_mapping::asymmetric, fp8::linear_mapping::symmetric}) {
      const auto p = fp8::linear_params_from_range<TestType>(a, b, mapping);
      INFO("range [" << a << ", " << b << "] mapping " << static_cast<int>(mapping));
      REQUIRE(std::isfinite(p.scale));
      REQUIRE(p.scale > 0.0f);
      REQUIRE(p.zero_point >= lo);
      REQUIRE(p.zero_point <= hi);
      REQUIRE(fp8::quantize_linear_value<TestType>(0.0f, p.scale, p.zero_point) == p.zero_point);
      // The ends of the (extended) range are within half a step, plus float rounding.
      for (const float x : {std::fmin(a, 0.0f), std::fmax(b, 0.0f)}) {
        const float back = fp8::fake_quantize_linear_value<TestType>(x, p.scale, p.zero_point);
        REQUIRE(std::fabs(back - x) <= p.scale * 0.5f * (1.0f + 1e-5f) + std::fabs(x) * 1e-6f);
      }
    }
  }
}

// ---------------------------------------------------------------- argument errors

namespace {

template <class Fn>
void require_invalid(Fn&& fn, const char* argument) {
  try {
    fn();
    FAIL("no exception for " << argument);
  } catch (const fp8::invalid_argument& e) {
    INFO(e.what());
    CHECK(std::string(e.argument()) == argument);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("linear: per tensor bad arguments throw before writing", "[dyadic][linear]", LINEAR_TYPES) {
  using S = fp8::quantized_storage_t<TestType>;
  constexpr int lo = range<TestType>::lo, hi = range<TestType>::hi;
  const std::size_t n = 40;
  std::vector<float> x(n, 1.25f), y(n, -3.0f);
  std::vector<std::uint8_t> q(n, 0x33);
  S* qs = as_storage<TestType>(q.data());
  const auto untouched = [&] {
    for (const auto b : q) REQUIRE(b == 0x33);
    for (const float v : y) REQUIRE(v == -3.0f);
  };
  for (const float bad : {0.0f, -0.0f, -1.0f, nan_f, inf_f, -inf_f}) {
    require_invalid([&] { fp8::quantize_linear<TestType>(x.data(), qs, n, bad, 0 + lo); }, "scale");
    require_invalid([&] { fp8::dequantize_linear<TestType>(qs, y.data(), n, bad, lo); }, "scale");
    require_invalid([&] { fp8::fake_quantize_linear<TestType>(x.data(), y.data(), n, bad, lo); }, "scale");
  }
  for (const std::int32_t bad : {lo - 1, hi + 1, std::numeric_limits<std::int32_t>::min(), 1 << 20}) {
    require_invalid([&] { fp8::quantize_linear<TestType>(x.data(), qs, n, 1.0f, bad); }, "zero_point");
    require_invalid([&] { fp8::dequantize_linear<TestType>(qs, y.data(), n, 1.0f, bad); }, "zero_point");
    require_invalid([&] { fp8::fake_quantize_linear<TestType>(x.data(), y.data(), n, 1.0f, bad); }, "zero_point");
  }
  require_invalid([&] { fp8::quantize_linear<TestType>(static_cast<const float*>(nullptr), qs, n, 1.0f, lo); }, "src");
  require_invalid([&] { fp8::quantize_linear<TestType>(x.data(), static_cast<S*>(nullptr), n, 1.0f, lo); }, "dst");
  require_invalid([&] { fp8::dequantize_linear<TestType>(static_cast<const S*>(nullptr), y.data(), n, 1.0f, lo); },
                  "src");
  require_invalid([&] { fp8::dequantize_linear<TestType>(qs, nullptr, n, 1.0f, lo); }, "dst");
  require_invalid([&] { fp8::fake_quantize_linear<TestType>(nullptr, y.data(), n, 1.0f, lo); }, "src");
  require_invalid([&] { fp8::fake_quantize_linear<TestType>(x.data(), nullptr, n, 1.0f, lo); }, "dst");
  // n * sizeof(float) overflows.
  require_invalid(
      [&] { fp8::quantize_linear<TestType>(x.data(), qs, std::numeric_limits<std::size_t>::max() / 2, 1.0f, lo); },
      "n");
  // Overlap: codes written into the floats they are read from, floats into the codes.
  require_invalid(
      [&] {
        fp8::quantize_linear<TestType>(y.data(), as_storage<TestType>(reinterpret_cast<std::uint8_t*>(y.data() + 3)), 8,
                                       1.0f, lo);
      },
      "dst");
  {
    std::vector<float> big(n, -3.0f);
    const auto* inside = as_storage<TestType>(reinterpret_cast<const std::uint8_t*>(big.data() + 5));
    require_invalid([&] { fp8::dequantize_linear<TestType>(inside, big.data(), 10, 1.0f, lo); }, "dst");
    for (const float v : big) REQUIRE(v == -3.0f);
  }
  // fake: in place is fine, a shifted overlap is not.
  require_invalid([&] { fp8::fake_quantize_linear<TestType>(y.data(), y.data() + 1, 10, 1.0f, lo); }, "dst");
  untouched();
  // Nothing to do: null pointers are fine.
  CHECK_NOTHROW(
      fp8::quantize_linear<TestType>(static_cast<const float*>(nullptr), static_cast<S*>(nullptr), 0, 1.0f, lo));
  CHECK_NOTHROW(fp8::dequantize_linear<TestType>(nullptr, nullptr, 0, 1.0f, lo));
  CHECK_NOTHROW(fp8::fake_quantize_linear<TestType>(nullptr, nullptr, 0, 1.0f, lo));
  // The message names the function, the argument and the range.
  CHECK_THROWS_WITH(fp8::quantize_linear<TestType>(x.data(), qs, n, 1.0f, hi + 1),
                    Catch::Contains("fp8::quantize_linear") && Catch::Contains("'zero_point'") &&
                        Catch::Contains(std::to_string(hi) + "]"));
}

TEMPLATE_TEST_CASE("linear: per channel bad arguments throw before writing", "[dyadic][linear]", LINEAR_TYPES) {
  using S = fp8::quantized_storage_t<TestType>;
  constexpr int lo = range<TestType>::lo, hi = range<TestType>::hi;
  const std::size_t rows = 4, cols = 40;
  std::vector<float> x(rows * cols, 1.5f), y(rows * cols, -3.0f), scale(cols, 2.0f);
  std::vector<std::int32_t> zp(cols, lo);
  std::vector<std::uint8_t> q(rows * cols, 0x33);
  S* qs = as_storage<TestType>(q.data());
  const auto untouched = [&] {
    for (const auto b : q) REQUIRE(b == 0x33);
    for (const float v : y) REQUIRE(v == -3.0f);
  };
  for (const fp8::axis ax : {fp8::axis::rows, fp8::axis::columns}) {
    const std::size_t last = ax == fp8::axis::rows ? rows - 1 : cols - 1;
    for (const float bad : {0.0f, -2.0f, nan_f, inf_f}) {
      std::vector<float> s = scale;
      s[last] = bad;
      require_invalid(
          [&] { fp8::quantize_linear_per_channel<TestType>(x.data(), qs, rows, cols, s.data(), zp.data(), ax); },
          "scale");
      require_invalid(
          [&] { fp8::dequantize_linear_per_channel<TestType>(qs, y.data(), rows, cols, s.data(), zp.data(), ax); },
          "scale");
      require_invalid(
          [&] {
            fp8::fake_quantize_linear_per_channel<TestType>(x.data(), y.data(), rows, cols, s.data(), zp.data(), ax);
          },
          "scale");
    }
    for (const std::int32_t bad : {lo - 1, hi + 1}) {
      std::vector<std::int32_t> z = zp;
      z[last] = bad;
      require_invalid(
          [&] { fp8::quantize_linear_per_channel<TestType>(x.data(), qs, rows, cols, scale.data(), z.data(), ax); },
          "zero_point");
      require_invalid(
          [&] { fp8::dequantize_linear_per_channel<TestType>(qs, y.data(), rows, cols, scale.data(), z.data(), ax); },
          "zero_point");
      require_invalid(
          [&] {
            fp8::fake_quantize_linear_per_channel<TestType>(x.data(), y.data(), rows, cols, scale.data(), z.data(), ax);
          },
          "zero_point");
    }
    require_invalid([&] { fp8::quantize_linear_per_channel<TestType>(x.data(), qs, rows, cols, nullptr, nullptr, ax); },
                    "scale");
    require_invalid(
        [&] {
          fp8::quantize_linear_per_channel<TestType>(static_cast<const float*>(nullptr), qs, rows, cols, scale.data(),
                                                     nullptr, ax);
        },
        "src");
    require_invalid(
        [&] { fp8::dequantize_linear_per_channel<TestType>(qs, nullptr, rows, cols, scale.data(), nullptr, ax); },
        "dst");
    require_invalid(
        [&] {
          fp8::quantize_linear_per_channel<TestType>(x.data(), cols - 1, qs, cols, rows, cols, scale.data(), nullptr,
                                                     ax);
        },
        "src_ld");
    require_invalid(
        [&] {
          fp8::dequantize_linear_per_channel<TestType>(qs, cols, y.data(), cols - 1, rows, cols, scale.data(), nullptr,
                                                       ax);
        },
        "dst_ld");
    require_invalid(
        [&] {
          fp8::quantize_linear_per_channel<TestType>(x.data(), std::numeric_limits<std::size_t>::max() / 2, qs, cols,
                                                     rows, cols, scale.data(), nullptr, ax);
        },
        "src_ld");
    // dst over the scales or the zero points
    {
      std::vector<float> ys(rows * cols + cols, -3.0f);
      const std::size_t channels = ax == fp8::axis::rows ? rows : cols;
      std::copy(scale.begin(), scale.begin() + static_cast<std::ptrdiff_t>(channels), ys.begin() + rows * cols - 1);
      require_invalid(
          [&] {
            fp8::dequantize_linear_per_channel<TestType>(qs, ys.data(), rows, cols, ys.data() + rows * cols - 1,
                                                         nullptr, ax);
          },
          "dst");
      for (std::size_t i = 0; i < ys.size(); ++i)
        REQUIRE(ys[i] == (i + 1 >= rows * cols && i + 1 < rows * cols + channels ? 2.0f : -3.0f));
      // Codes and zero points in one buffer, the codes' last byte inside the zero points' first.
      std::vector<std::int32_t> joint(rows * cols / 4 + channels + 1, lo);
      auto* codes = as_storage<TestType>(reinterpret_cast<std::uint8_t*>(joint.data()));
      const std::int32_t* joint_zp = joint.data() + (storage_bytes<TestType>(rows * cols) - 1) / 4;
      require_invalid(
          [&] { fp8::quantize_linear_per_channel<TestType>(x.data(), codes, rows, cols, scale.data(), joint_zp, ax); },
          "dst");
      for (std::size_t i = 0; i < joint.size(); ++i) REQUIRE(joint[i] == lo);
    }
    // fake: in place needs the same leading dimension
    require_invalid(
        [&] {
          fp8::fake_quantize_linear_per_channel<TestType>(y.data(), cols, y.data(), cols + 1, rows - 1, cols,
                                                          scale.data(), nullptr, ax);
        },
        "dst");
    require_invalid(
        [&] {
          fp8::fake_quantize_linear_per_channel<TestType>(y.data(), cols, y.data() + 1, cols, rows, cols - 1,
                                                          scale.data(), nullptr, ax);
        },
        "dst");
  }
  require_invalid(
      [&] {
        fp8::quantize_linear_per_channel<TestType>(x.data(), qs, rows, cols, scale.data(), nullptr,
                                                   static_cast<fp8::axis>(2));
      },
      "channel");
  require_invalid(
      [&] {
        fp8::fake_quantize_linear_per_channel<TestType>(x.data(), y.data(), 0, 0, scale.data(), nullptr,
                                                        static_cast<fp8::axis>(-1));
      },
      "channel");
  untouched();
  CHECK_NOTHROW(fp8::quantize_linear_per_channel<TestType>(static_cast<const float*>(nullptr), static_cast<S*>(nullptr),
                                                           0, 5, nullptr, nullptr, fp8::axis::rows));
  CHECK_THROWS_WITH(
      fp8::quantize_linear_per_channel<TestType>(x.data(), qs, rows, cols, scale.data(),
                                                 std::vector<std::int32_t>(cols, hi + 1).data(), fp8::axis::columns),
      Catch::Contains("fp8::quantize_linear_per_channel") && Catch::Contains("'zero_point' [0]"));
}

TEST_CASE("linear: parameter helper bad arguments", "[dyadic][linear]") {
  require_invalid([] { fp8::linear_params_from_range<std::int8_t>(nan_f, 1.0f); }, "range_min");
  require_invalid([] { fp8::linear_params_from_range<std::int8_t>(-inf_f, 1.0f); }, "range_min");
  require_invalid([] { fp8::linear_params_from_range<std::int8_t>(0.0f, nan_f); }, "range_max");
  require_invalid([] { fp8::linear_params_from_range<std::uint8_t>(0.0f, inf_f); }, "range_max");
  require_invalid([] { fp8::linear_params_from_range<std::uint8_t>(2.0f, 1.0f); }, "range_max");
  require_invalid([] { fp8::linear_params_from_range<fp8::int4>(0.0f, 1.0f, static_cast<fp8::linear_mapping>(2)); },
                  "mapping");
}
