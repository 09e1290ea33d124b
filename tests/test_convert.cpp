// SPDX-License-Identifier: Apache-2.0
// fp8::convert (codec/convert.hpp) on every input of every pair of types,
// against the references: the search encoder of reference.hpp fed the
// exact value of the source code (reference.hpp's decode, the textbook
// half formula, bfloat16 as the top of a float), both overflow rules; the
// bulk FP8 -> FP8 convert on every tier the CPU runs, equal to the scalar.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#if defined(__F16C__)
#include <immintrin.h>
#endif

#include <fp8/fp8.hpp>

#include "float16_reference.hpp"
#include "formats.hpp"

namespace {

constexpr fp8::overflow sat = fp8::overflow::saturate, nonsat = fp8::overflow::non_saturating;

// The exact value of FP8 code c of format f, NaN with the code's sign (an
// fnuz format's one NaN is unsigned).
double fp8_value(const ref::format& f, unsigned c) {
  const double v = ref::decode(f, c);
  return std::isnan(v) && f.kind != ref::family::fnuz && (c & 0x80) ? -v : v;
}
double half_value(unsigned c) {
  const double v = half_formula(c);
  return std::isnan(v) && (c & 0x8000) ? -v : v;
}
double bf16_value(unsigned c) { return static_cast<double>(float_from_bits(static_cast<std::uint32_t>(c) << 16)); }

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b) && std::signbit(a) == std::signbit(b)) || a == b; }

// Every source code of format FF to format FT, scalar and bulk (each tier).
template <class FT, class FF>
void check_fp8_pair() {
  const ref::format &ft = spec_of<FT>(), &ff = spec_of<FF>();
  const ref::table t(ft);
  std::vector<fp8::fp8<FF>> src(3 * 256 + 7);  // past the bulk loop's blocks
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = fp8::fp8<FF>::from_bits(static_cast<std::uint8_t>(i * 37 % 256));
  for (const fp8::overflow o : {sat, nonsat}) {
    const std::string what = std::string(ff.name) + " -> " + ft.name + (o == sat ? ", saturate" : ", non_saturating");
    std::vector<std::uint8_t> want(src.size());
    for (std::size_t i = 0; i < src.size(); ++i) {
      const unsigned c = src[i].bits();
      want[i] = ref::encode(ft, t, fp8_value(ff, c), o == sat);
      const auto got = fp8::convert<fp8::fp8<FT>>(src[i], o).bits();
      if (got != want[i]) FAIL(what << ": code 0x" << std::hex << c << " -> 0x" << unsigned{got} << ", want 0x"
                                    << unsigned{want[i]});
    }
    if (o == sat) CHECK(fp8::convert<fp8::fp8<FT>>(src[5]).bits() == want[5]);  // the default is saturate
    for (const fp8::cpu_tier tier : {fp8::cpu_tier::avx512bf16, fp8::cpu_tier::avx512, fp8::cpu_tier::avx2,
                                     fp8::cpu_tier::sse2, fp8::cpu_tier::portable}) {
      if (tier > fp8::best_tier(fp8::cpu())) continue;
      const fp8::tier_scope scope(tier);
      std::vector<fp8::fp8<FT>> dst(src.size() + 1, fp8::fp8<FT>::from_bits(0x5A));
      fp8::convert(src.data(), dst.data(), src.size(), o);
      std::size_t bad = 0;
      for (std::size_t i = 0; i < src.size(); ++i) bad += dst[i].bits() != want[i];
      INFO(what << ", bulk, tier " << static_cast<int>(tier));
      CHECK(bad == 0);
      CHECK(dst.back().bits() == 0x5A);  // nothing written past n
    }
  }
}

template <class FT, class... FF>
void check_from_all() {
  (check_fp8_pair<FT, FF>(), ...);
}

// Every half and bfloat16 code to FP8 format F, and every F code to half,
// bfloat16, float and double (exact).
template <class F>
void check_16_and_wide() {
  const ref::format& f = spec_of<F>();
  const ref::table t(f);
  using V = fp8::fp8<F>;
  std::size_t bad = 0;
  for (unsigned c = 0; c < 65536; ++c) {
    const auto h = fp8::half::from_bits(static_cast<std::uint16_t>(c));
    const auto b = fp8::bfloat16::from_bits(static_cast<std::uint16_t>(c));
    for (const fp8::overflow o : {sat, nonsat}) {
      bad += fp8::convert<V>(h, o).bits() != ref::encode(f, t, half_value(c), o == sat);
      bad += fp8::convert<V>(b, o).bits() != ref::encode(f, t, bf16_value(c), o == sat);
    }
  }
  INFO(f.name << " from half and bfloat16");
  CHECK(bad == 0);
  for (unsigned c = 0; c < 256; ++c) {
    const V x = V::from_bits(static_cast<std::uint8_t>(c));
    const double v = fp8_value(f, c);
    INFO(f.name << " code 0x" << std::hex << c);
    CHECK(same(static_cast<double>(fp8::convert<fp8::half>(x)), v));
    CHECK(same(static_cast<double>(fp8::convert<fp8::bfloat16>(x)), v));
    CHECK(same(static_cast<double>(fp8::convert<float>(x)), v));
    CHECK(same(fp8::convert<double>(x), v));
  }
}

}  // namespace

TEST_CASE("convert: every FP8 code to every FP8 format, both overflow rules, scalar and bulk on every tier",
          "[convert]") {
  check_from_all<fp8::E4M3, FP8_ALL_FORMATS>();
  check_from_all<fp8::E5M2, FP8_ALL_FORMATS>();
  check_from_all<fp8::E4M3FNUZ, FP8_ALL_FORMATS>();
  check_from_all<fp8::E5M2FNUZ, FP8_ALL_FORMATS>();
}

TEMPLATE_TEST_CASE("convert: all half and bfloat16 codes to FP8, and FP8 to the wider types exactly", "[convert]",
                   FP8_ALL_FORMATS) {
  check_16_and_wide<TestType>();
}

TEST_CASE("convert: half and bfloat16 to each other, and double to the narrower types, round once", "[convert]") {
  std::size_t bad = 0;
  for (unsigned c = 0; c < 65536; ++c) {
    const auto h = fp8::half::from_bits(static_cast<std::uint16_t>(c));
    // half -> bfloat16: the float value is exact, so bfloat16's rounding of it.
    bad += fp8::convert<fp8::bfloat16>(h).bits() != bf16_reference(static_cast<float>(half_value(c)));
#if defined(__F16C__)
    // bfloat16 -> half: the hardware's float -> half rounding (its NaN keeps
    // payload bits; ours is the canonical quiet NaN).
    const float bf = float_from_bits(c << 16);
    const auto hw =
        static_cast<std::uint16_t>(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(bf), _MM_FROUND_TO_NEAREST_INT), 0));
    const std::uint16_t want = std::isnan(bf) ? static_cast<std::uint16_t>((hw & 0x8000u) | 0x7E00u) : hw;
    bad += fp8::convert<fp8::half>(fp8::bfloat16::from_bits(static_cast<std::uint16_t>(c))).bits() != want;
#endif
  }
  CHECK(bad == 0);
  // Once from double, never through float: 1 + 2^-4 + 2^-40 is above the
  // midpoint of E4M3's 1 and 1.125, but float rounds it to the midpoint
  // itself, which ties to 1.
  const double above = 1.0 + 0x1p-4 + 0x1p-40;
  CHECK(static_cast<float>(fp8::convert<fp8::e4m3_t>(above)) == 1.125f);
  CHECK(fp8::convert<fp8::e4m3_t>(static_cast<float>(above)).bits() == fp8::e4m3_t(1.0f).bits());
  // Overflow: IEEE for half by default, saturating when asked; the reverse for FP8.
  CHECK(fp8::isinf(fp8::convert<fp8::half>(1e6)));
  CHECK(static_cast<float>(fp8::convert<fp8::half>(1e6, sat)) == 65504.0f);
  CHECK(static_cast<float>(fp8::convert<fp8::e4m3_t>(1e6)) == 448.0f);
  CHECK(fp8::isnan(fp8::convert<fp8::e4m3_t>(1e6, nonsat)));
}

TEST_CASE("convert: bulk arrays of half, bfloat16, float and FP8, element by element the scalar convert",
          "[convert]") {
  // Every half and bfloat16 code, and floats across the whole range.
  std::vector<fp8::half> h(65536);
  std::vector<fp8::bfloat16> b(65536);
  for (unsigned c = 0; c < 65536; ++c) {
    h[c] = fp8::half::from_bits(static_cast<std::uint16_t>(c));
    b[c] = fp8::bfloat16::from_bits(static_cast<std::uint16_t>(c));
  }
  std::vector<float> f(1 << 16);
  std::uint32_t state = 12345;
  for (auto& x : f) {
    state = state * 1664525u + 1013904223u;
    x = float_from_bits(state);
  }
  const auto same16 = [](auto x, auto y) { return x.bits() == y.bits(); };
  std::size_t bad = 0;
  for (const auto o : {sat, nonsat}) {
    std::vector<fp8::half> h_out(65536);
    std::vector<fp8::bfloat16> b_out(65536);
    std::vector<float> f_out(65536);
    fp8::convert(b.data(), h_out.data(), b.size(), o);
    for (unsigned c = 0; c < 65536; ++c) bad += !same16(h_out[c], fp8::convert<fp8::half>(b[c], o));
    fp8::convert(h.data(), b_out.data(), h.size(), o);
    for (unsigned c = 0; c < 65536; ++c) bad += !same16(b_out[c], fp8::convert<fp8::bfloat16>(h[c], o));
    fp8::convert(f.data(), h_out.data(), f.size(), o);
    for (std::size_t i = 0; i < f.size(); ++i) bad += !same16(h_out[i], fp8::convert<fp8::half>(f[i], o));
    fp8::convert(f.data(), b_out.data(), f.size(), o);
    for (std::size_t i = 0; i < f.size(); ++i) bad += !same16(b_out[i], fp8::convert<fp8::bfloat16>(f[i], o));
    // FP8 <-> the wider arrays: the bulk codec with scale 1.
    std::vector<fp8::e4m3_t> q(65536);
    fp8::convert(h.data(), q.data(), h.size(), o);
    for (unsigned c = 0; c < 65536; ++c) bad += q[c].bits() != fp8::convert<fp8::e4m3_t>(h[c], o).bits();
    fp8::convert(f.data(), q.data(), f.size(), o);
    for (std::size_t i = 0; i < f.size(); ++i) bad += q[i].bits() != fp8::convert<fp8::e4m3_t>(f[i], o).bits();
    fp8::convert(q.data(), b_out.data(), q.size(), o);
    for (std::size_t i = 0; i < q.size(); ++i) bad += !same16(b_out[i], fp8::convert<fp8::bfloat16>(q[i], o));
    // Every E5M2 code (infinities included: a saturating o clamps them) to
    // the wider types.
    std::vector<fp8::e5m2_t> q5(256);
    for (unsigned c = 0; c < 256; ++c) q5[c] = fp8::e5m2_t::from_bits(static_cast<std::uint8_t>(c));
    fp8::convert(q5.data(), h_out.data(), q5.size(), o);
    fp8::convert(q5.data(), b_out.data(), q5.size(), o);
    fp8::convert(q5.data(), f_out.data(), q5.size(), o);
    for (unsigned c = 0; c < 256; ++c) {
      bad += !same16(h_out[c], fp8::convert<fp8::half>(q5[c], o));
      bad += !same16(b_out[c], fp8::convert<fp8::bfloat16>(q5[c], o));
      const float want = fp8::convert<float>(q5[c], o);
      bad += !(float_bits(f_out[c]) == float_bits(want) || (std::isnan(f_out[c]) && std::isnan(want)));
    }
  }
  // Widening is exact.
  std::vector<float> f_out(65536);
  fp8::convert(h.data(), f_out.data(), h.size());
  for (unsigned c = 0; c < 65536; ++c)
    bad += !(float_bits(f_out[c]) == float_bits(static_cast<float>(h[c])) || (std::isnan(f_out[c]) && h[c].is_nan()));
  CHECK(bad == 0);
  // The default overflow rule is To's: IEEE for half, saturating for FP8.
  const float big[1] = {1e6f};
  fp8::half hb[1];
  fp8::e4m3_t qb[1];
  fp8::convert(big, hb, 1);
  fp8::convert(big, qb, 1);
  CHECK(fp8::isinf(hb[0]));
  CHECK(static_cast<float>(qb[0]) == 448.0f);
  // Errors name convert, before anything is written.
  std::vector<fp8::half> guard(4, fp8::half::from_bits(0x1234));
  CHECK_THROWS_WITH(fp8::convert(f.data(), guard.data(), 4, static_cast<fp8::overflow>(9)),
                    Catch::Contains("fp8::convert") && Catch::Contains("'o'"));
  CHECK_THROWS_WITH(fp8::convert(static_cast<const fp8::bfloat16*>(nullptr), guard.data(), 4),
                    Catch::Contains("'src'"));
  for (const auto& x : guard) CHECK(x.bits() == 0x1234);
}

TEST_CASE("convert: bad bulk arguments are named and nothing is written", "[convert]") {
  std::vector<fp8::e5m2_t> src(8, fp8::e5m2_t(1.0f));
  std::vector<fp8::e4m3_t> dst(8, fp8::e4m3_t::from_bits(0x11));
  CHECK_THROWS_WITH(fp8::convert(static_cast<const fp8::e5m2_t*>(nullptr), dst.data(), 8),
                    Catch::Contains("'src'"));
  CHECK_THROWS_WITH(fp8::convert(src.data(), dst.data(), 8, static_cast<fp8::overflow>(7)), Catch::Contains("'o'"));
  auto* alias = reinterpret_cast<fp8::e4m3_t*>(src.data());
  CHECK_THROWS_WITH(fp8::convert(src.data(), alias + 1, 4), Catch::Contains("overlap"));
  for (const auto& d : dst) CHECK(d.bits() == 0x11);
}
