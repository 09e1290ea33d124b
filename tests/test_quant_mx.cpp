// SPDX-License-Identifier: Apache-2.0
// MXFP8 (quant/mx.hpp) against an independent scalar reference of OCP MX
// v1.0 §6.3 written here in double arithmetic: the block amax by std::fabs,
// floor(log2 amax) by std::frexp, the scale by std::ldexp, the elements by
// tests/reference.hpp's search encoder on the exact quotient V_i / X. Then
// hand-made blocks for each rule: all zeros, a NaN or an infinity in the
// block, amax exactly a power of two and just below one, subnormal blocks
// (FP8- and float-subnormal), amax at the element's max finite and at
// FLT_MAX, and the partial last block; decoding of every code under every
// scale; the argument errors. The reference cases run on every tier the CPU
// runs, each kernel called directly and the entries under each tier_scope
// (for_each_way).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "test_quant_common.hpp"

using namespace quant_test;

namespace {

constexpr std::size_t K = 32;

// emax_elem of §6.3: the exponent of the element format's largest normal,
// found from the reference's max value.
int emax_elem(const ref::format& f) {
  int e = 0;
  std::frexp(f.max, &e);
  return e - 1;
}

struct mx_ref {
  std::vector<std::uint8_t> codes;
  std::vector<std::uint8_t> scales;
};

mx_ref reference_mx(const ref::format& f, const std::vector<float>& v, std::size_t begin, std::size_t n) {
  const ref::table t(f);
  mx_ref out;
  for (std::size_t b = begin; b < begin + n; b += K) {
    const std::size_t m = std::min(K, begin + n - b);
    double amax = 0;
    bool special = false;
    for (std::size_t i = b; i < b + m; ++i) {
      if (!std::isfinite(v[i])) special = true;
      amax = std::max(amax, std::fabs(static_cast<double>(v[i])));
    }
    if (special) {  // NaN or Inf in the block: NaN scale, NaN elements
      out.scales.push_back(0xFF);
      for (std::size_t i = b; i < b + m; ++i) out.codes.push_back(f.nan_from_nan);
      continue;
    }
    int shared = -127;  // also the all-zero block's clamp
    if (amax > 0) {
      int e = 0;
      std::frexp(amax, &e);  // amax = mant * 2^e, mant in [0.5, 1): floor(log2 amax) = e - 1
      shared = std::max(-127, (e - 1) - emax_elem(f));
    }
    REQUIRE(shared <= 127);
    out.scales.push_back(static_cast<std::uint8_t>(shared + 127));
    const double x = std::ldexp(1.0, shared);
    for (std::size_t i = b; i < b + m; ++i) out.codes.push_back(ref::encode(f, t, v[i] / x, true));
  }
  return out;
}

template <class F, class Way>
void check_against_reference(Way way, const std::vector<float>& v, std::size_t begin, std::size_t n) {
  const ref::format& f = spec_of<F>();
  const mx_ref want = reference_mx(f, v, begin, n);
  std::vector<fp8::fp8<F>> dst(n + 1, fp8::fp8<F>::from_bits(0xA5));
  std::vector<fp8::E8M0> scales(fp8::mx_scale_count(n) + 1, fp8::E8M0::from_bits(0x11));
  call::mx_encode<F>(way, v.data() + begin, dst.data(), n, scales.data());
  REQUIRE(want.scales.size() == fp8::mx_scale_count(n));
  for (std::size_t b = 0; b < want.scales.size(); ++b) {
    INFO(f.name << " n " << n << " block " << b);
    REQUIRE(scales[b].bits() == want.scales[b]);
  }
  for (std::size_t i = 0; i < n; ++i) {
    INFO(f.name << " n " << n << " element " << i << " x " << v[begin + i] << " scale "
                << static_cast<unsigned>(scales[i / K].bits()));
    REQUIRE(dst[i].bits() == want.codes[i]);
  }
  CHECK(dst[n].bits() == 0xA5);  // nothing written past n
  CHECK(scales[fp8::mx_scale_count(n)].bits() == 0x11);

  // Decoding: float(P_i) * X in float, NaN for a NaN scale.
  std::vector<float> back(n + 1, 99.0f);
  call::mx_decode<F>(way, dst.data(), back.data(), n, scales.data());
  for (std::size_t i = 0; i < n; ++i) {
    INFO(f.name << " decode element " << i);
    const double p = ref::decode(f, dst[i].bits());
    if (scales[i / K].is_nan() || std::isnan(p)) {
      REQUIRE(std::isnan(back[i]));
    } else {
      REQUIRE(static_cast<double>(back[i]) == p * std::ldexp(1.0, scales[i / K].exponent()));  // exact
    }
  }
  CHECK(back[n] == 99.0f);
}

template <class F>
std::vector<std::uint8_t> encode_block(const std::vector<float>& v, fp8::E8M0& scale) {
  std::vector<fp8::fp8<F>> dst(v.size());
  std::vector<fp8::E8M0> s(fp8::mx_scale_count(v.size()));
  fp8::mx_encode(v.data(), dst.data(), v.size(), s.data());
  scale = s[0];
  std::vector<std::uint8_t> codes;
  for (auto c : dst) codes.push_back(c.bits());
  return codes;
}

}  // namespace

TEMPLATE_TEST_CASE("MX encode and decode equal the reference on random blocks on every tier", "[quant][dispatch]",
                   fp8::E4M3, fp8::E5M2) {
  for_each_way([](auto way) {
    std::mt19937_64 rng(31);
    for (int round = 0; round < 6; ++round) {
      // Blocks of one magnitude class each, so that most blocks are finite and
      // their scales vary widely; then the all-paths mix, where many blocks
      // hold a NaN or infinity.
      std::vector<float> v(K * 40 + 7);
      for (std::size_t b = 0; b < v.size(); b += K) {
        const int e = std::uniform_int_distribution<int>(-140, 120)(rng);
        const int width = std::uniform_int_distribution<int>(0, 24)(rng);
        for (std::size_t i = b; i < std::min(v.size(), b + K); ++i) {
          const int ei = e - std::uniform_int_distribution<int>(0, width)(rng);
          v[i] = std::ldexp(std::uniform_real_distribution<float>(-2.0f, 2.0f)(rng), ei);
        }
      }
      for (std::size_t begin : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
        for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{31}, std::size_t{32}, std::size_t{33},
                              std::size_t{64}, std::size_t{95}, std::size_t{128}, std::size_t{200}, v.size() - 3}) {
          check_against_reference<TestType>(way, v, begin, n);
        }
      }
      const std::vector<float> mixed = mixed_inputs<TestType>(K * 30, rng(), 0.001f);
      for (std::size_t n = 0; n <= 2 * K * 2 + 3; ++n) check_against_reference<TestType>(way, mixed, 0, n);
    }
  });
}

TEMPLATE_TEST_CASE("MX hand-made blocks", "[quant]", fp8::E4M3, fp8::E5M2) {
  using T = fp8::format_traits<TestType>;
  const int emax = T::max_exponent;  // 8 for E4M3, 15 for E5M2
  const float max = fp8::scalar::decode<TestType>(T::max_finite_code);
  fp8::E8M0 s;

  SECTION("all zeros: smallest scale 2^-127, signed zeros") {
    std::vector<float> v(K, 0.0f);
    v[5] = -0.0f;
    const auto codes = encode_block<TestType>(v, s);
    CHECK(s.bits() == 0x00);
    for (std::size_t i = 0; i < K; ++i) CHECK(codes[i] == (i == 5 ? 0x80 : 0x00));
  }
  SECTION("a NaN or an infinity in the block makes the scale NaN and every element NaN") {
    for (const float special : {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity(),
                                std::numeric_limits<float>::infinity(), nan_with(0x1234, true)}) {
      std::vector<float> v(2 * K + 5, 1.0f);
      v[K + 17] = special;  // second block only
      std::vector<fp8::fp8<TestType>> dst(v.size());
      std::vector<fp8::E8M0> sc(3);
      fp8::mx_encode(v.data(), dst.data(), v.size(), sc.data());
      CHECK(sc[0].bits() == 127 - emax);  // 1.0: floor(log2) = 0
      CHECK(sc[1].is_nan());
      CHECK(sc[2].bits() == 127 - emax);
      for (std::size_t i = K; i < 2 * K; ++i) CHECK(dst[i].bits() == T::nan_code);
      std::vector<float> back(v.size());
      fp8::mx_decode(dst.data(), back.data(), v.size(), sc.data());
      for (std::size_t i = 0; i < v.size(); ++i) CHECK(std::isnan(back[i]) == (i >= K && i < 2 * K));
      for (std::size_t i = 0; i < K; ++i) CHECK(back[i] == 1.0f);
    }
  }
  SECTION("amax exactly a power of two maps to 2^emax; just below, one binade lower") {
    std::vector<float> v(K, 0.375f);
    v[9] = -64.0f;  // 2^6
    auto codes = encode_block<TestType>(v, s);
    CHECK(s.exponent() == 6 - emax);
    CHECK(fp8::scalar::decode<TestType>(codes[9]) == -std::ldexp(1.0f, emax));
    v[9] = std::nextafter(-64.0f, 0.0f);  // floor(log2) = 5
    codes = encode_block<TestType>(v, s);
    CHECK(s.exponent() == 5 - emax);
    // 64 - ulp over 2^(5 - emax) is just under 2^(emax + 1): above max, so it saturates.
    CHECK(codes[9] == (T::max_finite_code | 0x80));
  }
  SECTION("amax at the element's max finite: scale 1, elements unchanged") {
    std::vector<float> v(K);
    for (std::size_t i = 0; i < K; ++i) v[i] = fp8::scalar::decode<TestType>(static_cast<std::uint8_t>(i * 3));
    v[31] = max;
    const auto codes = encode_block<TestType>(v, s);
    CHECK(s.exponent() == 0);
    for (std::size_t i = 0; i < 31; ++i) CHECK(codes[i] == i * 3);
    CHECK(codes[31] == T::max_finite_code);
  }
  SECTION("elements above max in the top binade saturate (normal numbers clamped)") {
    std::vector<float> v(K, 1.0f);
    v[0] = std::ldexp(1.99f, 20);  // amax; over X = 2^(20 - emax) it is 1.99 * 2^emax > max
    v[1] = -std::ldexp(1.80f, 20);
    const auto codes = encode_block<TestType>(v, s);
    CHECK(s.exponent() == 20 - emax);
    CHECK(codes[0] == T::max_finite_code);
    CHECK(codes[1] == (T::max_finite_code | 0x80));
  }
  SECTION("huge amax near FLT_MAX: largest scale code, no overflow") {
    std::vector<float> v(K, 1e30f);
    v[3] = -std::numeric_limits<float>::max();
    const auto codes = encode_block<TestType>(v, s);
    CHECK(s.exponent() == 127 - emax);
    CHECK(s.bits() == 254 - emax);
    CHECK(codes[3] == (T::max_finite_code | 0x80));
    std::vector<fp8::fp8<TestType>> dst(K);
    for (std::size_t i = 0; i < K; ++i) dst[i] = fp8::fp8<TestType>::from_bits(codes[i]);
    std::vector<float> back(K);
    fp8::mx_decode(dst.data(), back.data(), K, &s);
    for (float b : back) CHECK(std::isfinite(b));
  }
  SECTION("subnormal blocks: FP8 subnormal elements, float subnormal amax clamps the scale at 2^-127") {
    std::vector<float> v(K, 0.0f);
    v[0] = 0x1p-100f;
    v[1] = 0x1p-116f;  // 2^-16 of amax: an FP8 subnormal element for E4M3 (2^-8)
    auto codes = encode_block<TestType>(v, s);
    CHECK(s.exponent() == -100 - emax);
    CHECK(fp8::scalar::decode<TestType>(codes[0]) == std::ldexp(1.0f, emax));
    CHECK(fp8::scalar::decode<TestType>(codes[1]) == std::ldexp(1.0f, emax - 16));
    std::fill(v.begin(), v.end(), 0.0f);
    v[4] = 3 * std::numeric_limits<float>::denorm_min();
    v[5] = -0x1p-127f;
    codes = encode_block<TestType>(v, s);
    CHECK(s.bits() == 0x00);  // clamped: 2^-127
    // -2^-127 / 2^-127 = -1; 3 * 2^-149 / 2^-127 = 3 * 2^-22, below half the smallest step: zero.
    CHECK(fp8::scalar::decode<TestType>(codes[5]) == -1.0f);
    CHECK(codes[4] == 0x00);
    std::vector<fp8::fp8<TestType>> dst(K);
    for (std::size_t i = 0; i < K; ++i) dst[i] = fp8::fp8<TestType>::from_bits(codes[i]);
    std::vector<float> back(K);
    fp8::mx_decode(dst.data(), back.data(), K, &s);
    CHECK(back[5] == -0x1p-127f);  // decodes exactly to a float subnormal
  }
  SECTION("the partial last block takes its scale from its own elements") {
    std::vector<float> v(K + 3, 1000.0f);
    v[K] = 0.5f;
    v[K + 1] = -0.25f;
    v[K + 2] = 0.125f;
    std::vector<fp8::fp8<TestType>> dst(v.size());
    std::vector<fp8::E8M0> sc(fp8::mx_scale_count(v.size()));
    REQUIRE(sc.size() == 2);
    fp8::mx_encode(v.data(), dst.data(), v.size(), sc.data());
    CHECK(sc[0].exponent() == 9 - emax);
    CHECK(sc[1].exponent() == -1 - emax);
    CHECK(fp8::mx_scale<TestType>(0.5f) == sc[1]);
    CHECK(fp8::mx_scale<TestType>(-1000.0f) == sc[0]);
    CHECK(fp8::mx_scale<TestType>(std::numeric_limits<float>::infinity()).is_nan());
  }
}

TEMPLATE_TEST_CASE("MX decode of every element code under every scale code", "[quant]", fp8::E4M3, fp8::E5M2) {
  // Element j = 256 * s + c holds code c; its block j / 32 has scale code s.
  const ref::format& f = spec_of<TestType>();
  std::vector<fp8::fp8<TestType>> codes(256 * 256);
  std::vector<fp8::E8M0> scales(codes.size() / K);
  for (std::size_t j = 0; j < codes.size(); ++j) codes[j] = fp8::fp8<TestType>::from_bits(static_cast<std::uint8_t>(j));
  for (std::size_t b = 0; b < scales.size(); ++b) scales[b] = fp8::E8M0::from_bits(static_cast<std::uint8_t>(b / 8));
  std::vector<float> out(codes.size());
  fp8::mx_decode(codes.data(), out.data(), codes.size(), scales.data());
  for (std::size_t j = 0; j < codes.size(); ++j) {
    const std::size_t s = j / 256;
    const double p = ref::decode(f, codes[j].bits());
    INFO("scale " << s << " code " << static_cast<unsigned>(codes[j].bits()));
    if (s == 255 || std::isnan(p)) {
      REQUIRE(std::isnan(out[j]));
    } else {
      // The product is exact in double; rounding it to float is the float
      // multiply's result (which overflows to Inf past FLT_MAX for pairs no
      // encoder produces, e.g. 448 * 2^120).
      REQUIRE(same_bits(out[j], static_cast<float>(p * std::ldexp(1.0, static_cast<int>(s) - 127))));
    }
  }
}

TEMPLATE_TEST_CASE("MX bad arguments throw before writing", "[quant]", fp8::E4M3, fp8::E5M2) {
  using V = fp8::fp8<TestType>;
  std::vector<float> src(70, 1.0f), out(70, -1.0f);
  std::vector<V> dst(70, V::from_bits(0x42));
  std::vector<fp8::E8M0> sc(3, fp8::E8M0::from_bits(9));
  require_invalid([&] { fp8::mx_encode(static_cast<const float*>(nullptr), dst.data(), 70, sc.data()); }, "src");
  require_invalid([&] { fp8::mx_encode(src.data(), static_cast<V*>(nullptr), 70, sc.data()); }, "dst");
  require_invalid([&] { fp8::mx_encode(src.data(), dst.data(), 70, nullptr); }, "scales");
  require_invalid([&] { fp8::mx_encode(src.data(), dst.data(), 70, reinterpret_cast<fp8::E8M0*>(dst.data() + 60)); },
                  "scales");
  require_invalid([&] { fp8::mx_encode(src.data(), reinterpret_cast<V*>(src.data() + 10), 70, sc.data()); }, "dst");
  require_invalid([&] { fp8::mx_decode(dst.data(), out.data(), 70, nullptr); }, "scales");
  require_invalid([&] { fp8::mx_decode(dst.data(), static_cast<float*>(nullptr), 70, sc.data()); }, "dst");
  require_invalid([&] { fp8::mx_decode(reinterpret_cast<const V*>(out.data() + 2), out.data(), 70, sc.data()); },
                  "dst");
  for (const auto& d : dst) CHECK(d.bits() == 0x42);
  for (const auto& s : sc) CHECK(s.bits() == 9);
  for (const float o : out) CHECK(o == -1.0f);
  fp8::mx_encode(static_cast<const float*>(nullptr), static_cast<V*>(nullptr), 0, nullptr);  // n == 0: nothing
}

TEMPLATE_TEST_CASE("MX encode from bfloat16 and half equals encode of the widened floats on every tier",
                   "[quant][dispatch]", fp8::E4M3, fp8::E5M2) {
  for_each_way([](auto way) {
    std::mt19937 rng(33);
    for (const std::size_t n : {std::size_t{0}, std::size_t{5}, std::size_t{32}, std::size_t{513}, std::size_t{1100}}) {
      std::vector<fp8::bfloat16> b(n);
      std::vector<fp8::half> h(n);
      std::vector<float> fb(n), fh(n);
      for (std::size_t i = 0; i < n; ++i) {
        b[i] = fp8::bfloat16::from_bits(static_cast<std::uint16_t>(rng()));
        h[i] = fp8::half::from_bits(static_cast<std::uint16_t>(rng() & 0xBFFF));  // mostly finite
        fb[i] = static_cast<float>(b[i]);
        fh[i] = static_cast<float>(h[i]);
      }
      for (int which = 0; which < 2; ++which) {
        std::vector<fp8::fp8<TestType>> got(n), want(n);
        std::vector<fp8::E8M0> gs(fp8::mx_scale_count(n)), ws(gs.size());
        // The widened floats through the portable definition.
        if (which == 0) {
          call::mx_encode<TestType>(way, b.data(), got.data(), n, gs.data());
          call::mx_encode<TestType>(fp8::isa::portable{}, fb.data(), want.data(), n, ws.data());
        } else {
          call::mx_encode<TestType>(way, h.data(), got.data(), n, gs.data());
          call::mx_encode<TestType>(fp8::isa::portable{}, fh.data(), want.data(), n, ws.data());
        }
        INFO("n " << n << (which == 0 ? " bfloat16" : " half"));
        for (std::size_t i = 0; i < n; ++i) REQUIRE(got[i].bits() == want[i].bits());
        for (std::size_t i = 0; i < gs.size(); ++i) REQUIRE(gs[i].bits() == ws[i].bits());
      }
    }
  });
  std::vector<fp8::bfloat16> b(40);
  std::vector<fp8::fp8<TestType>> d(40);
  require_invalid([&] { fp8::mx_encode(b.data(), d.data(), 40, nullptr); }, "scales");
}
