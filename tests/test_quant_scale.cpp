// SPDX-License-Identifier: Apache-2.0
// The scale machinery: the E8M0 type against the MX v1.0 definition of its
// 256 codes (value 2^(code - 127), 0xFF NaN), SIMD amax against a plain
// std::fabs loop (NaN anywhere, infinities, signed zeros, subnormals, every
// tail length and misalignment, bfloat16 and half), and scale selection from
// amax against its defining inequalities, including the argument errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "test_quant_common.hpp"

using namespace quant_test;

TEST_CASE("E8M0: every code decodes to 2^(code - 127), 0xFF is NaN", "[quant]") {
  for (unsigned c = 0; c < 256; ++c) {
    const fp8::E8M0 s = fp8::E8M0::from_bits(static_cast<std::uint8_t>(c));
    INFO("code " << c);
    CHECK(s.bits() == c);
    if (c == 0xFF) {
      CHECK(s.is_nan());
      CHECK(std::isnan(static_cast<float>(s)));
      CHECK(s != s);
      CHECK_FALSE(s == s);
      CHECK(fp8::E8M0::from_exponent(128).is_nan());
    } else {
      CHECK_FALSE(s.is_nan());
      CHECK(s.exponent() == static_cast<int>(c) - 127);
      // std::ldexp in double, then to float: exact for 2^-127 (a float subnormal) too.
      CHECK(static_cast<float>(s) == static_cast<float>(std::ldexp(1.0, static_cast<int>(c) - 127)));
      CHECK(fp8::E8M0::from_exponent(static_cast<int>(c) - 127).bits() == c);
      CHECK(s == s);
    }
  }
  CHECK(float_bits(static_cast<float>(fp8::E8M0::from_bits(0))) == 0x00400000u);  // 2^-127: subnormal
  CHECK(std::fpclassify(static_cast<float>(fp8::E8M0::from_bits(0))) == FP_SUBNORMAL);
  CHECK(static_cast<float>(fp8::E8M0::from_bits(0xFE)) == 0x1p127f);
  CHECK(fp8::E8M0().bits() == 127);  // default: 1
  CHECK(fp8::E8M0::from_exponent(-128).is_nan());
  CHECK(fp8::E8M0::from_bits(3) < fp8::E8M0::from_bits(4));
  CHECK(fp8::E8M0::from_bits(4) >= fp8::E8M0::from_bits(4));
  CHECK_FALSE(fp8::E8M0::nan() < fp8::E8M0::from_bits(4));
  CHECK_FALSE(fp8::E8M0::from_bits(4) <= fp8::E8M0::nan());
  static_assert(fp8::E8M0::from_exponent(0).bits() == 127, "constexpr");
  static_assert(fp8::E8M0::from_bits(130).exponent() == 3, "constexpr");
#if FP8_CONSTEXPR_BIT_CAST
  static_assert(static_cast<float>(fp8::E8M0::from_exponent(-2)) == 0.25f, "constexpr");
#endif
}

namespace {
// The reference: a plain loop over std::fabs in double, NaN if any is NaN.
float reference_amax(const std::vector<float>& x, std::size_t begin, std::size_t n) {
  double m = 0;
  for (std::size_t i = begin; i < begin + n; ++i) {
    if (std::isnan(x[i])) return std::numeric_limits<float>::quiet_NaN();
    m = std::max(m, std::fabs(static_cast<double>(x[i])));
  }
  return static_cast<float>(m);
}
}  // namespace

TEST_CASE("amax equals a std::fabs loop for every length and alignment", "[quant]") {
  std::mt19937_64 rng(7);
  std::vector<float> x(400);
  for (int round = 0; round < 4; ++round) {
    for (auto& v : x) {
      v = std::ldexp(std::uniform_real_distribution<float>(-2.0f, 2.0f)(rng),
                     std::uniform_int_distribution<int>(-150, 127)(rng));
    }
    for (std::size_t begin = 0; begin < 5; ++begin) {
      for (std::size_t n = 0; n + begin <= x.size(); n += (n < 140 ? 1 : 37)) {
        INFO("begin " << begin << " n " << n);
        const float got = fp8::amax(x.data() + begin, n);
        REQUIRE(same_bits(got, reference_amax(x, begin, n)));
      }
    }
  }
}

TEST_CASE("amax: NaN anywhere gives NaN; infinities, zeros, subnormals", "[quant]") {
  std::vector<float> x(203, 0.5f);
  CHECK(fp8::amax(x.data(), 0) == 0.0f);
  CHECK(fp8::amax(static_cast<const float*>(nullptr), 0) == 0.0f);
  for (std::size_t at = 0; at < x.size(); ++at) {
    std::vector<float> y = x;
    y[at] = nan_with(static_cast<std::uint32_t>(at * 77), at % 2 == 0);
    INFO("NaN at " << at);
    const float m = fp8::amax(y.data(), y.size());
    REQUIRE(float_bits(m) == 0x7FC00000u);  // the canonical quiet NaN
    y[at] = -std::numeric_limits<float>::infinity();
    REQUIRE(fp8::amax(y.data(), y.size()) == std::numeric_limits<float>::infinity());
  }
  std::vector<float> z(77, -0.0f);
  CHECK(float_bits(fp8::amax(z.data(), z.size())) == 0u);  // +0, not -0
  z[40] = -std::numeric_limits<float>::denorm_min();
  CHECK(fp8::amax(z.data(), z.size()) == std::numeric_limits<float>::denorm_min());
  z[41] = -3e38f;
  CHECK(fp8::amax(z.data(), z.size()) == 3e38f);
}

TEST_CASE("amax of bfloat16 and half equals the loop over their exact floats", "[quant]") {
  std::mt19937 rng(11);
  std::vector<fp8::bfloat16> b(300);
  std::vector<fp8::half> h(300);
  for (int round = 0; round < 20; ++round) {
    for (std::size_t i = 0; i < b.size(); ++i) {
      b[i] = fp8::bfloat16::from_bits(static_cast<std::uint16_t>(rng()));
      h[i] = fp8::half::from_bits(static_cast<std::uint16_t>(rng()));
    }
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{33}, std::size_t{64},
                          std::size_t{65}, std::size_t{300}}) {
      std::vector<float> fb(n), fh(n);
      for (std::size_t i = 0; i < n; ++i) {
        fb[i] = static_cast<float>(b[i]);
        fh[i] = static_cast<float>(h[i]);
      }
      INFO("n " << n);
      REQUIRE(same_bits(fp8::amax(b.data(), n), reference_amax(fb, 0, n)));
      REQUIRE(same_bits(fp8::amax(h.data(), n), reference_amax(fh, 0, n)));
    }
  }
}

TEMPLATE_TEST_CASE("scale_from_amax: amax / max, or the smallest power of two above it", "[quant]",
                   FP8_QUANT_FORMATS) {
  using T = fp8::format_traits<TestType>;
  const float max = fp8::scalar::decode<TestType>(T::max_finite_code);
  CHECK(fp8::scale_from_amax<TestType>(0.0f) == 1.0f);
  CHECK(fp8::scale_from_amax<TestType>(0.0f, fp8::scale_rounding::power_of_two) == 1.0f);
  CHECK(fp8::scale_exponent_from_amax<TestType>(0.0f) == 0);
  CHECK(fp8::scale_from_amax<TestType>(max) == 1.0f);
  CHECK(fp8::scale_from_amax<TestType>(max, fp8::scale_rounding::power_of_two) == 1.0f);
  CHECK(fp8::scale_exponent_from_amax<TestType>(max) == 0);
  CHECK(fp8::scale_exponent_from_amax<TestType>(std::nextafter(max, 1e30f)) == 1);
  CHECK(fp8::scale_exponent_from_amax<TestType>(max / 2) == -1);
  CHECK(fp8::scale_exponent_from_amax<TestType>(std::nextafter(max / 2, 1e30f)) == 0);

  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    const float amax = std::ldexp(std::uniform_real_distribution<float>(1.0f, 2.0f)(rng),
                                  std::uniform_int_distribution<int>(-149, 127)(rng));
    if (!std::isfinite(amax) || amax == 0.0f) continue;
    INFO("amax " << amax);
    const float s = fp8::scale_from_amax<TestType>(amax);
    REQUIRE(s >= 0x1p-126f);
    if (s > 0x1p-126f) {
      REQUIRE(s == amax / max);
      // amax / s encodes to max in both modes: the quotient's rounding error is tiny.
      REQUIRE(fp8::scalar::encode<TestType>(amax / s, sat) == T::max_finite_code);
      REQUIRE(fp8::scalar::encode<TestType>(amax / s, nonsat) == T::max_finite_code);
    }
    const int k = fp8::scale_exponent_from_amax<TestType>(amax);
    const float p = fp8::scale_from_amax<TestType>(amax, fp8::scale_rounding::power_of_two);
    REQUIRE(static_cast<double>(p) == std::ldexp(1.0, k));
    REQUIRE(k >= -126);
    // Rounded up: amax fits under max * 2^k; minimal: it would not under 2^(k-1).
    REQUIRE(static_cast<double>(amax) <= static_cast<double>(max) * std::ldexp(1.0, k));
    if (k > -126) REQUIRE(static_cast<double>(amax) > static_cast<double>(max) * std::ldexp(1.0, k - 1));
    // So a power-of-two scale never saturates amax: it encodes to at most max.
    REQUIRE((fp8::scalar::encode<TestType>(amax / p, nonsat) & 0x7F) <= T::max_finite_code);
  }
}

TEMPLATE_TEST_CASE("scale_from_amax rejects a negative, NaN or infinite amax", "[quant]", FP8_QUANT_FORMATS) {
  for (float bad : {-1.0f, -0x1p-149f, std::numeric_limits<float>::quiet_NaN(),
                    std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()}) {
    INFO("amax " << bad);
    require_invalid([&] { (void)fp8::scale_from_amax<TestType>(bad); }, "amax");
    require_invalid([&] { (void)fp8::scale_from_amax<TestType>(bad, fp8::scale_rounding::power_of_two); }, "amax");
    require_invalid([&] { (void)fp8::scale_exponent_from_amax<TestType>(bad); }, "amax");
  }
  require_invalid([] { (void)fp8::amax(static_cast<const float*>(nullptr), 3); }, "src");
  // -0 is a valid amax (it is zero).
  CHECK(fp8::scale_from_amax<TestType>(-0.0f) == 1.0f);
}

TEST_CASE("Scales from a real amax: amax then scale then encode uses the whole range", "[quant]") {
  std::vector<float> x(1000);
  std::mt19937 rng(3);
  for (auto& v : x) v = std::normal_distribution<float>(0.0f, 3.0f)(rng);
  const float a = fp8::amax(x.data(), x.size());
  const float s = fp8::scale_from_amax<fp8::E4M3>(a, fp8::scale_rounding::power_of_two);
  std::vector<fp8::e4m3_t> q(x.size());
  fp8::encode(x.data(), q.data(), x.size(), s);
  unsigned top = 0;
  for (auto c : q) top = std::max(top, static_cast<unsigned>(c.bits() & 0x7F));
  // amax / s is in (max / 2, max] = (224, 448]: the largest element lands at
  // 224 (0x76, if it rounds down) or above, without clipping past 448 (0x7E).
  CHECK(top >= 0x76);
  CHECK(top <= 0x7E);
}
