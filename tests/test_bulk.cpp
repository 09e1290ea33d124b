// SPDX-License-Identifier: Apache-2.0
// Bulk encode/decode (codec/bulk.hpp) equal their element-by-element
// definition through the scalar codec, bit for bit: every bfloat16 and half
// input, every code to every output type, several kinds of scale, every tail
// length up to two full SIMD blocks at every misalignment, guard bytes around
// the destination, and bad arguments rejected before any write. (All 2^32
// float inputs are in test_exhaustive.cpp.)
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <fp8/fp8.hpp>

#include "formats.hpp"

namespace {

constexpr fp8::overflow modes[] = {fp8::overflow::saturate, fp8::overflow::non_saturating};
// 1 (no scaling), powers of two (multiply by the reciprocal), general scales
// (divide), and extremes that push results into subnormals and overflow.
constexpr float scales[] = {1.0f, 0.5f, 64.0f, 0x1p-126f, 0x1p-130f, 3.0f, 0.3f, 1e-30f, 1e30f};

template <class T>
std::uint32_t bits_of(T v) {
  if constexpr (std::is_same<T, float>::value) {
    return float_bits(v);
  } else {
    return v.bits();
  }
}

template <class Src>
float widen(Src x) {
  return static_cast<float>(x);
}

template <class Dst>
Dst narrow(float x) {
  return Dst(x);
}

}  // namespace

TEMPLATE_TEST_CASE("bulk encode from bfloat16 and half equals the scalar codec on all 65536 inputs", "[bulk]",
                   FP8_ALL_FORMATS) {
  using V = fp8::fp8<TestType>;
  std::vector<fp8::bfloat16> b(65536);
  std::vector<fp8::half> h(65536);
  for (unsigned i = 0; i < 65536; ++i) {
    b[i] = fp8::bfloat16::from_bits(static_cast<std::uint16_t>(i));
    h[i] = fp8::half::from_bits(static_cast<std::uint16_t>(i));
  }
  std::vector<V> out(65536);
  for (const auto o : modes) {
    for (const float s : scales) {
      INFO("scale " << s << " overflow " << static_cast<int>(o));
      fp8::encode(b.data(), out.data(), b.size(), s, o);
      for (unsigned i = 0; i < 65536; ++i)
        REQUIRE(out[i].bits() == fp8::scalar::encode<TestType>(static_cast<float>(b[i]) / s, o));
      fp8::encode(h.data(), out.data(), h.size(), s, o);
      for (unsigned i = 0; i < 65536; ++i)
        REQUIRE(out[i].bits() == fp8::scalar::encode<TestType>(static_cast<float>(h[i]) / s, o));
    }
  }
}

TEMPLATE_TEST_CASE("bulk decode equals the scalar codec for every code, output type and scale", "[bulk]",
                   FP8_ALL_FORMATS) {
  using V = fp8::fp8<TestType>;
  // Every code several times over, so the SIMD main loops see all of them.
  std::vector<V> codes(1024);
  for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = V::from_bits(static_cast<std::uint8_t>(i * 7 + i / 256));
  std::vector<float> f(codes.size());
  std::vector<fp8::bfloat16> b(codes.size());
  std::vector<fp8::half> h(codes.size());
  for (const float s : scales) {
    INFO("scale " << s);
    fp8::decode(codes.data(), f.data(), codes.size(), s);
    fp8::decode(codes.data(), b.data(), codes.size(), s);
    fp8::decode(codes.data(), h.data(), codes.size(), s);
    for (std::size_t i = 0; i < codes.size(); ++i) {
      const float want = fp8::scalar::decode<TestType>(codes[i].bits()) * s;
      INFO("code 0x" << std::hex << unsigned{codes[i].bits()});
      REQUIRE(float_bits(f[i]) == float_bits(want));
      REQUIRE(b[i].bits() == fp8::bfloat16(want).bits());
      REQUIRE(h[i].bits() == fp8::half(want).bits());
    }
  }
}

namespace {

// Runs one bulk call on a window of a guarded buffer, for every length
// 0..max_n and offsets 0..3, and compares with the scalar definition.
template <class Src, class Dst, class Call, class Want>
void check_tails(const std::vector<Src>& pool, Call call, Want want) {
  constexpr std::size_t max_n = 2 * 64 + 3, guard = 8;
  const auto sentinel = narrow<Dst>(-12345.0f);
  std::vector<Dst> dst(max_n + 2 * guard + 4);
  for (std::size_t offset = 0; offset < 4; ++offset) {
    for (std::size_t n = 0; n <= max_n; ++n) {
      std::fill(dst.begin(), dst.end(), sentinel);
      const Src* src = pool.data() + offset;
      Dst* out = dst.data() + guard + offset;
      call(src, out, n);
      INFO("n " << n << " offset " << offset);
      for (std::size_t i = 0; i < dst.size(); ++i) {
        const auto pos = static_cast<std::ptrdiff_t>(i) - static_cast<std::ptrdiff_t>(guard + offset);
        if (pos >= 0 && static_cast<std::size_t>(pos) < n) {
          REQUIRE(bits_of(dst[i]) == bits_of(want(src[pos])));
        } else {
          REQUIRE(bits_of(dst[i]) == bits_of(sentinel));  // nothing written outside [0, n)
        }
      }
    }
  }
}

}  // namespace

TEMPLATE_TEST_CASE("bulk calls handle every tail length and misalignment", "[bulk]", FP8_ALL_FORMATS) {
  using V = fp8::fp8<TestType>;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 100.0f);
  std::vector<float> xs(200);
  for (float& x : xs) x = normal(rng);
  xs[5] = std::numeric_limits<float>::quiet_NaN();
  xs[6] = -std::numeric_limits<float>::infinity();
  xs[7] = 1e-40f;
  std::vector<fp8::bfloat16> bs(xs.size());
  std::vector<fp8::half> hs(xs.size());
  std::vector<V> cs(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    bs[i] = fp8::bfloat16(xs[i]);
    hs[i] = fp8::half(xs[i]);
    cs[i] = V::from_bits(static_cast<std::uint8_t>(rng()));
  }
  for (const auto o : modes) {
    for (const float s : {1.0f, 0.25f, 3.0f}) {
      INFO("scale " << s << " overflow " << static_cast<int>(o));
      check_tails<float, V>(
          xs, [&](const float* p, V* q, std::size_t n) { fp8::encode(p, q, n, s, o); },
          [&](float x) { return V::from_float(x / s, o); });
      check_tails<fp8::bfloat16, V>(
          bs, [&](const fp8::bfloat16* p, V* q, std::size_t n) { fp8::encode(p, q, n, s, o); },
          [&](fp8::bfloat16 x) { return V::from_float(static_cast<float>(x) / s, o); });
      check_tails<fp8::half, V>(
          hs, [&](const fp8::half* p, V* q, std::size_t n) { fp8::encode(p, q, n, s, o); },
          [&](fp8::half x) { return V::from_float(static_cast<float>(x) / s, o); });
    }
  }
  for (const float s : {1.0f, 3.0f}) {
    check_tails<V, float>(
        cs, [&](const V* p, float* q, std::size_t n) { fp8::decode(p, q, n, s); },
        [&](V c) { return static_cast<float>(c) * s; });
    check_tails<V, fp8::bfloat16>(
        cs, [&](const V* p, fp8::bfloat16* q, std::size_t n) { fp8::decode(p, q, n, s); },
        [&](V c) { return fp8::bfloat16(static_cast<float>(c) * s); });
    check_tails<V, fp8::half>(
        cs, [&](const V* p, fp8::half* q, std::size_t n) { fp8::decode(p, q, n, s); },
        [&](V c) { return fp8::half(static_cast<float>(c) * s); });
  }
}

TEST_CASE("bulk calls reject bad arguments before writing", "[bulk]") {
  std::vector<float> x(16, 1.0f);
  std::vector<fp8::e4m3_t> y(16, fp8::e4m3_t::from_bits(0x55));
  const auto untouched = [&] {
    for (const auto& v : y)
      if (v.bits() != 0x55) return false;
    return true;
  };
  const auto argument_of = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const fp8::invalid_argument& e) {
      CHECK(std::string(e.what()).find(e.argument()) != std::string::npos);
      return e.argument();
    }
    return "no error";
  };
  CHECK(argument_of([&] { fp8::encode(static_cast<const float*>(nullptr), y.data(), 4); }) == "src");
  CHECK(argument_of([&] { fp8::encode(x.data(), static_cast<fp8::e4m3_t*>(nullptr), 4); }) == "dst");
  for (const float bad : {0.0f, -1.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()})
    CHECK(argument_of([&] { fp8::encode(x.data(), y.data(), y.size(), bad); }) == "scale");
  CHECK(argument_of([&] { fp8::decode(y.data(), x.data(), y.size(), -2.0f); }) == "scale");
  // dst overlapping src: the bytes of x reinterpreted as codes.
  auto* alias = reinterpret_cast<fp8::e4m3_t*>(x.data());
  CHECK(argument_of([&] { fp8::encode(x.data(), alias + 3, 8); }) == "dst");
  CHECK(untouched());
  CHECK(x[0] == 1.0f);
  // n == 0 accepts null pointers and does nothing.
  CHECK(argument_of([&] { fp8::encode(static_cast<const float*>(nullptr), static_cast<fp8::e4m3_t*>(nullptr), 0); }) ==
        "no error");
  static_assert(std::is_base_of<std::invalid_argument, fp8::invalid_argument>::value, "");
}
