// SPDX-License-Identifier: Apache-2.0
// The bulk codec under run-time dispatch (codec/kernels.hpp, docs/dispatch.md):
// every tier compiled into this binary that the CPU runs is called directly
// (kernel::encode / kernel::decode with the tier's tag) and must equal the
// scalar codec (codec/scalar.hpp) bit for bit, whatever tier the entries
// would choose; the entries (fp8::encode / fp8::decode) equal it too, under
// every fp8::tier_scope cap.
//
// Encoding is checked on a structured set of floats instead of all 2^32 (the
// long tier, test_exhaustive.cpp, walks those through the entry): every
// bfloat16-representable float with several patterns in its low 16 bits,
// every half, every FP8 value and rounding boundary of the format (times each
// scale) with its neighbours 1 and 2 ulps away, NaN payloads, infinities,
// zeros and float subnormals; for every format, both overflow policies and
// each kind of scaling. bfloat16 and half sources: all 65536 of each.
// Decoding: every code to every output type at several scales, and every
// length 0..200 at four misalignments with guards around the destination.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <fp8/fp8.hpp>

#include "formats.hpp"
#include "tiers.hpp"

namespace {

using fp8::cpu_tier;
namespace isa = fp8::isa;

using test_tiers::for_each_tier;

constexpr fp8::overflow modes[] = {fp8::overflow::saturate, fp8::overflow::non_saturating};
// 1 (no scaling), a power of two (multiply by the reciprocal), general
// scales (divide), tiny scales that push inputs past max, one of them a power
// of two whose reciprocal overflows (so it divides).
constexpr float scales[] = {1.0f, 0.25f, 0.3f, 1e-30f, 0x1p-130f};

float next_up(float x, int ulps) {
  for (int k = 0; k < ulps; ++k) x = std::nextafter(x, std::numeric_limits<float>::infinity());
  return x;
}
float next_down(float x, int ulps) {
  for (int k = 0; k < ulps; ++k) x = std::nextafter(x, -std::numeric_limits<float>::infinity());
  return x;
}

// The structured float set for format F (see the top of the file).
template <class F>
std::vector<float> encode_inputs() {
  std::vector<float> x;
  for (std::uint32_t hi = 0; hi < 65536; ++hi)
    for (std::uint32_t lo : {0x0000u, 0x0001u, 0x7FFFu, 0x8000u, 0x8001u, 0xFFFFu})
      x.push_back(float_from_bits(hi << 16 | lo));
  for (std::uint32_t h = 0; h < 65536; ++h)
    x.push_back(static_cast<float>(fp8::half::from_bits(static_cast<std::uint16_t>(h))));
  // Every finite magnitude, the midpoints between neighbours (exact in
  // float: FP8 has at most 3 mantissa bits), and the midpoint between max
  // and the value one step above it, where rounding overflows.
  using T = fp8::format_traits<F>;
  std::vector<double> points;
  for (unsigned c = 0; c <= T::max_finite_code; ++c) {
    const double v = fp8::scalar::decode<F>(static_cast<std::uint8_t>(c));
    const double next = c < T::max_finite_code ? fp8::scalar::decode<F>(static_cast<std::uint8_t>(c + 1))
                                               : v + std::ldexp(1.0, T::max_exponent - T::mantissa_bits);
    points.push_back(v);
    points.push_back((v + next) / 2);
  }
  for (const double p : points)
    for (const float s : scales) {
      const float centre = static_cast<float>(p * static_cast<double>(s));
      for (const float c : {centre, -centre})
        for (int u = 0; u <= 2; ++u) {
          x.push_back(next_up(c, u));
          x.push_back(next_down(c, u));
        }
    }
  for (const std::uint32_t b :
       {0x7F800000u, 0x7F800001u, 0x7F800100u, 0x7FA00000u, 0x7FBFFFFFu, 0x7FC00000u, 0x7FC00001u, 0x7FFFFFFFu,
        0x00000000u, 0x00000001u, 0x00000002u, 0x00400000u, 0x007FFFFFu, 0x00800000u, 0x7F7FFFFFu, 0x3F800000u})
    for (const std::uint32_t sign : {0u, 0x80000000u}) x.push_back(float_from_bits(b | sign));
  return x;
}

template <class T>
std::uint32_t bits_of(T v) {
  if constexpr (std::is_same<T, float>::value) {
    return float_bits(v);
  } else if constexpr (std::is_same<T, std::uint8_t>::value) {
    return v;
  } else {
    return v.bits();
  }
}

// A value no conversion under test writes where the guards are checked.
template <class Dst>
Dst sentinel() {
  if constexpr (std::is_same<Dst, float>::value) {
    return -12345.0f;
  } else if constexpr (std::is_same<Dst, std::uint8_t>::value) {
    return 0xA5;
  } else {
    return Dst::from_bits(0xA5A5);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("codec tiers: encode from float equals the scalar codec on the structured set",
                   "[codec][dispatch]", FP8_ALL_FORMATS) {
  using F = TestType;
  const std::vector<float> x = encode_inputs<F>();
  const std::size_t n = x.size();
  std::vector<std::uint8_t> want(n), got(n);
  std::vector<fp8::fp8<F>> entry(n);
  for (const auto o : modes) {
    for (const float s : scales) {
      for (std::size_t i = 0; i < n; ++i) want[i] = fp8::scalar::encode<F>(x[i] / s, o);
      for_each_tier([&](auto tag, const char* name) {
        std::fill(got.begin(), got.end(), std::uint8_t{0xA5});
        fp8::kernel::encode<F>(x.data(), got.data(), n, s, o, tag);
        std::size_t bad = 0, first = n;
        for (std::size_t i = 0; i < n; ++i) {
          if (got[i] == want[i]) continue;
          if (bad++ == 0) first = i;
        }
        INFO("tier " << name << ", scale " << s << ", overflow " << static_cast<int>(o));
        INFO("first mismatch: input 0x" << std::hex << (first < n ? float_bits(x[first]) : 0u) << " got 0x"
                                        << unsigned{first < n ? got[first] : 0u} << " want 0x"
                                        << unsigned{first < n ? want[first] : 0u});
        CHECK(bad == 0);
      });
      // The entry, under each cap of the calling thread's tier.
      for (const cpu_tier t : {cpu_tier::avx512bf16, cpu_tier::avx512, cpu_tier::avx2, cpu_tier::sse2,
                               cpu_tier::portable}) {
        const fp8::tier_scope scope(t);
        fp8::encode(x.data(), entry.data(), n, s, o);
        std::size_t bad = 0;
        for (std::size_t i = 0; i < n; ++i) bad += entry[i].bits() != want[i];
        INFO("entry capped at " << fp8::tier_name(t) << ", scale " << s << ", overflow " << static_cast<int>(o));
        CHECK(bad == 0);
      }
    }
  }
}

TEMPLATE_TEST_CASE("codec tiers: encode from bfloat16 and half equals the scalar codec on all 65536 inputs",
                   "[codec][dispatch]", FP8_ALL_FORMATS) {
  using F = TestType;
  std::vector<fp8::bfloat16> b(65536);
  std::vector<fp8::half> h(65536);
  for (unsigned i = 0; i < 65536; ++i) {
    b[i] = fp8::bfloat16::from_bits(static_cast<std::uint16_t>(i));
    h[i] = fp8::half::from_bits(static_cast<std::uint16_t>(i));
  }
  std::vector<std::uint8_t> want_b(65536), want_h(65536), got(65536);
  for (const auto o : modes) {
    for (const float s : scales) {
      for (unsigned i = 0; i < 65536; ++i) {
        want_b[i] = fp8::scalar::encode<F>(static_cast<float>(b[i]) / s, o);
        want_h[i] = fp8::scalar::encode<F>(static_cast<float>(h[i]) / s, o);
      }
      for_each_tier([&](auto tag, const char* name) {
        INFO("tier " << name << ", scale " << s << ", overflow " << static_cast<int>(o));
        fp8::kernel::encode<F>(b.data(), got.data(), b.size(), s, o, tag);
        CHECK(got == want_b);
        fp8::kernel::encode<F>(h.data(), got.data(), h.size(), s, o, tag);
        CHECK(got == want_h);
      });
    }
  }
}

namespace {

// Every length 0..200 at source and destination misalignments 0..3, guards
// around the destination: call(tag, src, dst, n) must write exactly want(src[i])
// to dst[0, n) and nothing else.
template <class Src, class Dst, class Call, class Want>
void check_tails(const std::vector<Src>& pool, Call call, Want want) {
  constexpr std::size_t max_n = 200, guard = 16;
  const Dst guard_value = sentinel<Dst>();
  const std::uint32_t guard_bits = bits_of(guard_value);
  std::vector<Dst> dst(max_n + 2 * guard + 4);
  std::vector<Dst> expect(pool.size());
  for (std::size_t i = 0; i < pool.size(); ++i) expect[i] = want(pool[i]);
  for_each_tier([&](auto tag, const char* name) {
    std::size_t bad = 0;
    std::string where;
    for (std::size_t offset = 0; offset < 4; ++offset) {
      for (std::size_t n = 0; n <= max_n; ++n) {
        std::fill(dst.begin(), dst.end(), guard_value);
        Dst* out = dst.data() + guard + offset;
        call(tag, pool.data() + offset, out, n);
        for (std::size_t i = 0; i < dst.size(); ++i) {
          const auto pos = static_cast<std::ptrdiff_t>(i) - static_cast<std::ptrdiff_t>(guard + offset);
          const bool inside = pos >= 0 && static_cast<std::size_t>(pos) < n;
          const std::uint32_t w = inside ? bits_of(expect[offset + static_cast<std::size_t>(pos)]) : guard_bits;
          if (bits_of(dst[i]) != w && bad++ == 0)
            where = "n " + std::to_string(n) + ", offset " + std::to_string(offset) + ", position " +
                    std::to_string(pos);
        }
      }
    }
    INFO("tier " << name << "; first mismatch at " << where);
    CHECK(bad == 0);
  });
}

}  // namespace

TEMPLATE_TEST_CASE("codec tiers: decode equals the scalar codec for every code, output type and scale",
                   "[codec][dispatch]", FP8_ALL_FORMATS) {
  using F = TestType;
  // Every code four times over in a shuffled order, so the main loops of
  // every tier see each of them.
  std::vector<std::uint8_t> codes(1024);
  for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<std::uint8_t>(i * 7 + i / 256);
  std::vector<float> f(codes.size());
  std::vector<fp8::bfloat16> b(codes.size());
  std::vector<fp8::half> h(codes.size());
  for (const float s : {1.0f, 0.25f, 0.3f, 3.0f, 1e-30f, 0x1p-130f, 1e30f}) {
    for_each_tier([&](auto tag, const char* name) {
      fp8::kernel::decode<F>(codes.data(), f.data(), codes.size(), s, tag);
      fp8::kernel::decode<F>(codes.data(), b.data(), codes.size(), s, tag);
      fp8::kernel::decode<F>(codes.data(), h.data(), codes.size(), s, tag);
      std::size_t bad = 0;
      for (std::size_t i = 0; i < codes.size(); ++i) {
        const float want = fp8::scalar::decode<F>(codes[i]) * s;
        bad += float_bits(f[i]) != float_bits(want);
        bad += b[i].bits() != fp8::bfloat16(want).bits();
        bad += h[i].bits() != fp8::half(want).bits();
      }
      INFO("tier " << name << ", scale " << s);
      CHECK(bad == 0);
    });
    const auto* v = reinterpret_cast<const fp8::fp8<F>*>(codes.data());
    for (const cpu_tier t : {cpu_tier::avx512bf16, cpu_tier::avx512, cpu_tier::avx2, cpu_tier::sse2,
                             cpu_tier::portable}) {
      const fp8::tier_scope scope(t);
      fp8::decode(v, f.data(), codes.size(), s);
      fp8::decode(v, b.data(), codes.size(), s);
      fp8::decode(v, h.data(), codes.size(), s);
      std::size_t bad = 0;
      for (std::size_t i = 0; i < codes.size(); ++i) {
        const float want = fp8::scalar::decode<F>(codes[i]) * s;
        bad += float_bits(f[i]) != float_bits(want);
        bad += b[i].bits() != fp8::bfloat16(want).bits();
        bad += h[i].bits() != fp8::half(want).bits();
      }
      INFO("entry capped at " << fp8::tier_name(t) << ", scale " << s);
      CHECK(bad == 0);
    }
  }
}

TEMPLATE_TEST_CASE("codec tiers: every length and misalignment, guards untouched", "[codec][dispatch]",
                   FP8_ALL_FORMATS) {
  using F = TestType;
  std::vector<std::uint8_t> codes(256 + 8);
  for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<std::uint8_t>(i * 73 + 5);
  for (const float s : {1.0f, 0.3f, 1e-30f}) {
    INFO("decode, scale " << s);
    const auto dec = [s](auto tag, const std::uint8_t* p, auto* q, std::size_t n) {
      fp8::kernel::decode<F>(p, q, n, s, tag);
    };
    check_tails<std::uint8_t, float>(codes, dec, [s](std::uint8_t c) { return fp8::scalar::decode<F>(c) * s; });
    check_tails<std::uint8_t, fp8::bfloat16>(
        codes, dec, [s](std::uint8_t c) { return fp8::bfloat16(fp8::scalar::decode<F>(c) * s); });
    check_tails<std::uint8_t, fp8::half>(
        codes, dec, [s](std::uint8_t c) { return fp8::half(fp8::scalar::decode<F>(c) * s); });
  }
  // Encoding: values around the format's range, with NaN, infinities and
  // float subnormals among them.
  std::vector<float> xs(256 + 8);
  for (std::size_t i = 0; i < xs.size(); ++i)
    xs[i] = static_cast<float>(fp8::scalar::decode<F>(static_cast<std::uint8_t>(i * 73 + 5))) *
            (1.0f + static_cast<float>(i % 5) * 0.0625f);
  xs[9] = std::numeric_limits<float>::quiet_NaN();
  xs[10] = -std::numeric_limits<float>::infinity();
  xs[11] = 1e-40f;
  std::vector<fp8::bfloat16> bs(xs.size());
  std::vector<fp8::half> hs(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    bs[i] = fp8::bfloat16(xs[i]);
    hs[i] = fp8::half(xs[i]);
  }
  for (const auto o : modes) {
    for (const float s : {1.0f, 0.25f, 0.3f}) {
      INFO("encode, scale " << s << ", overflow " << static_cast<int>(o));
      const auto enc = [s, o](auto tag, const auto* p, std::uint8_t* q, std::size_t n) {
        fp8::kernel::encode<F>(p, q, n, s, o, tag);
      };
      check_tails<float, std::uint8_t>(xs, enc, [&](float x) { return fp8::scalar::encode<F>(x / s, o); });
      check_tails<fp8::bfloat16, std::uint8_t>(
          bs, enc, [&](fp8::bfloat16 x) { return fp8::scalar::encode<F>(static_cast<float>(x) / s, o); });
      check_tails<fp8::half, std::uint8_t>(
          hs, enc, [&](fp8::half x) { return fp8::scalar::encode<F>(static_cast<float>(x) / s, o); });
    }
  }
}
