// SPDX-License-Identifier: Apache-2.0
// fp8::fake_quantize (quant/fake_quant.hpp) equals, bit for bit, the two-step
// fp8::decode(fp8::encode(src, scale, o), scale) through an FP8 array, and the
// scalar definition decode(encode(x / scale)) * scale, including NaN
// payloads and signs, for every tail length and misalignment, every scale
// path (none, multiply by the reciprocal, divide), both overflow modes, and
// in place; the reference search encoder pins the values independently. Every
// tier the CPU runs, each kernel called directly and the entry under each
// tier_scope (for_each_way). The [exhaustive] case covers all 2^32 floats.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "test_quant_common.hpp"

using namespace quant_test;

TEMPLATE_TEST_CASE("fake_quantize equals decode(encode()) bit for bit on every tier", "[quant][dispatch]",
                   FP8_QUANT_FORMATS) {
  for_each_way([](auto way) {
    const ref::format& f = spec_of<TestType>();
    const ref::table t(f);
    std::mt19937_64 rng(51);
    for (const float scale : {1.0f, 0.125f, 4.0f, 0.3f, 1e-3f, 0x1p-130f, 3e5f}) {
      const std::vector<float> src = mixed_inputs<TestType>(600, rng(), scale);
      for (const bool saturate : {true, false}) {
        const auto o = saturate ? sat : nonsat;
        std::vector<fp8::fp8<TestType>> codes(src.size());
        std::vector<float> two_step(src.size());
        fp8::encode(src.data(), codes.data(), src.size(), scale, o);
        fp8::decode(codes.data(), two_step.data(), src.size(), scale);
        for (std::size_t begin : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
          for (std::size_t n = 0; n + begin <= src.size(); n += (n < 70 ? 1 : 53)) {
            std::vector<float> dst(n + 1, 12.5f);
            call::fake_quantize<TestType>(way, src.data() + begin, dst.data(), n, scale, o);
            REQUIRE(dst[n] == 12.5f);
            for (std::size_t i = 0; i < n; ++i) {
              const float x = src[begin + i];
              INFO(f.name << " scale " << scale << " n " << n << " x " << x << " (0x" << std::hex << float_bits(x)
                          << ")");
              REQUIRE(float_bits(dst[i]) == float_bits(two_step[begin + i]));
              const float def = fp8::scalar::decode<TestType>(fp8::scalar::encode<TestType>(x / scale, o)) * scale;
              REQUIRE(float_bits(dst[i]) == float_bits(def));
              const double r = ref::decode(f, ref::encode(f, t, x / scale, saturate));
              if (std::isnan(r)) {
                REQUIRE(std::isnan(dst[i]));
              } else {
                REQUIRE(same_bits(dst[i], static_cast<float>(r) * scale));
              }
            }
          }
        }
        // In place.
        std::vector<float> inplace = src;
        call::fake_quantize<TestType>(way, inplace.data(), inplace.data(), inplace.size(), scale, o);
        for (std::size_t i = 0; i < src.size(); ++i) REQUIRE(float_bits(inplace[i]) == float_bits(two_step[i]));
      }
    }
  });
}

TEMPLATE_TEST_CASE("fake_quantize: bad arguments throw before writing", "[quant]", fp8::E4M3, fp8::E5M2) {
  std::vector<float> src(40, 2.5f), dst(40, -1.0f);
  require_invalid([&] { fp8::fake_quantize<TestType>(src.data(), dst.data(), 40, 0.0f); }, "scale");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  require_invalid([&] { fp8::fake_quantize<TestType>(src.data(), dst.data(), 40, nan); }, "scale");
  require_invalid([&] { fp8::fake_quantize<TestType>(nullptr, dst.data(), 40); }, "src");
  require_invalid([&] { fp8::fake_quantize<TestType>(src.data(), nullptr, 40); }, "dst");
  require_invalid([&] { fp8::fake_quantize<TestType>(src.data(), src.data() + 1, 20); }, "dst");  // partial overlap
  for (const float d : dst) CHECK(d == -1.0f);
  for (const float s : src) CHECK(s == 2.5f);
  fp8::fake_quantize<TestType>(nullptr, nullptr, 0);  // n == 0: nothing to do
}

// The OCP formats; the lanes it fuses are the codec's, tested exhaustively
// for every format by the codec's own tests.
TEMPLATE_TEST_CASE("fake_quantize equals the definition for every float", "[quant][exhaustive]", fp8::E4M3, fp8::E5M2) {
  constexpr std::size_t chunk = 1 << 16;
  std::vector<float> src(chunk), dst(chunk);
  for (const auto o : {sat, nonsat}) {
    std::uint64_t mismatches = 0;
    for (std::uint64_t start = 0; start < (std::uint64_t{1} << 32); start += chunk) {
      for (std::size_t i = 0; i < chunk; ++i) src[i] = float_from_bits(static_cast<std::uint32_t>(start + i));
      fp8::fake_quantize<TestType>(src.data(), dst.data(), chunk, 1.0f, o);
      for (std::size_t i = 0; i < chunk; ++i) {
        const float want = fp8::scalar::decode<TestType>(fp8::scalar::encode<TestType>(src[i], o));
        if (float_bits(dst[i]) != float_bits(want) && mismatches++ == 0) {
          INFO("first mismatch: x 0x" << std::hex << float_bits(src[i]));
          CHECK(float_bits(dst[i]) == float_bits(want));
        }
      }
    }
    CHECK(mismatches == 0);
  }
}
