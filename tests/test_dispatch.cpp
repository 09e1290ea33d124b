// SPDX-License-Identifier: Apache-2.0
// Run-time dispatch (detail/dispatch.hpp): every tier compiled into this
// binary that the CPU runs is called directly and must equal the portable
// definition bit for bit, whatever tier the entries would choose; the
// entries equal it too.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <limits>
#include <random>
#include <vector>

#include <fp8/fp8.hpp>

#include "tiers.hpp"

namespace {

using fp8::cpu_tier;
namespace isa = fp8::isa;

using test_tiers::for_each_tier;

// Magnitude bits of the largest |x|, by search over doubles (NaN wins).
std::uint32_t reference_amax_bits(const std::vector<float>& x) {
  double m = 0;
  bool nan = false;
  for (float v : x) {
    if (std::isnan(v)) nan = true;
    m = std::max(m, std::fabs(static_cast<double>(v)));
  }
  if (nan) return 0x7FC00000u;
  const float f = static_cast<float>(m);
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

}  // namespace

TEST_CASE("amax: every compiled tier equals the definition", "[dispatch][amax]") {
  std::mt19937 g(3);
  std::uniform_int_distribution<std::uint32_t> bits;
  for (std::size_t n : {0u, 1u, 7u, 15u, 16u, 17u, 31u, 63u, 64u, 65u, 100u, 255u, 1000u, 4099u}) {
    for (int trial = 0; trial < 8; ++trial) {
      std::vector<float> x(n);
      std::vector<fp8::bfloat16> xb(n);
      std::vector<fp8::half> xh(n);
      for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t b = bits(g);
        if (trial < 4) b &= 0xBFFFFFFFu;  // no NaN or Inf: the maximum is a value
        std::memcpy(&x[i], &b, 4);
        xb[i] = fp8::bfloat16::from_bits(static_cast<std::uint16_t>(b >> 16));
        xh[i] = fp8::half::from_bits(static_cast<std::uint16_t>(b & (trial < 4 ? 0xBBFFu : 0xFFFFu)));
      }
      // The largest element at the very end sometimes (the tail paths).
      if (n != 0 && trial % 2 == 1) {
        x[n - 1] = trial < 4 ? 3.0e38f : std::numeric_limits<float>::infinity();
        xb[n - 1] = fp8::bfloat16::from_bits(0x7F00);
        xh[n - 1] = fp8::half::from_bits(0x7BFF);
      }
      const std::uint32_t want = reference_amax_bits(x);
      std::vector<float> wb(n), wh(n);
      for (std::size_t i = 0; i < n; ++i) {
        wb[i] = static_cast<float>(xb[i]);
        wh[i] = static_cast<float>(xh[i]);
      }
      const std::uint32_t want_b = reference_amax_bits(wb), want_h = reference_amax_bits(wh);
      for_each_tier([&](auto tag, const char* name) {
        INFO("tier " << name << ", n " << n << ", trial " << trial);
        const std::uint32_t got = fp8::detail::amax_bits(x.data(), n, tag);
        CHECK((got > 0x7F800000u ? 0x7FC00000u : got) == want);
        const std::uint32_t got_b = fp8::detail::amax_bits(xb.data(), n, tag);
        CHECK((got_b > 0x7F80u ? 0x7FC00000u : got_b << 16) == want_b);
        const std::uint32_t got_h = fp8::detail::amax_bits(xh.data(), n, tag);
        float fh = got_h > 0x7C00u ? std::numeric_limits<float>::quiet_NaN()
                                   : static_cast<float>(fp8::half::from_bits(static_cast<std::uint16_t>(got_h)));
        std::uint32_t bh;
        std::memcpy(&bh, &fh, 4);
        CHECK(bh == want_h);
      });
      const float e = fp8::amax(x.data(), n);
      std::uint32_t eb;
      std::memcpy(&eb, &e, 4);
      CHECK(eb == want);
    }
  }
}

TEST_CASE("dispatch chooses the entry tier: the CPU's under run-time dispatch, the flags' under static", "[dispatch]") {
#if FP8_DISPATCH == FP8_DISPATCH_RUNTIME
  CHECK(fp8::detail::entry_tier() == fp8::cpu_best_tier());
#else
  CHECK(fp8::detail::entry_tier() == fp8::detail::static_tier());
#endif
  CHECK(fp8::detail::static_tier() <= fp8::best_tier(fp8::cpu()));
}

TEST_CASE("tier_scope caps the tier of this thread's calls, nests, and restores", "[dispatch]") {
  using fp8::cpu_tier;
  const cpu_tier top = fp8::detail::entry_tier();
  {
    const fp8::tier_scope outer(cpu_tier::avx2);
    CHECK(fp8::detail::entry_tier() == (top < cpu_tier::avx2 ? top : cpu_tier::avx2));
    {
      const fp8::tier_scope inner(cpu_tier::portable);
      CHECK(fp8::detail::entry_tier() == cpu_tier::portable);
      const char* tag = fp8::detail::dispatch([](auto t) { return decltype(t)::name; });
      CHECK(std::string(tag) == "portable");
      const fp8::tier_scope higher(cpu_tier::avx512bf16);  // never raises the cap
      CHECK(fp8::detail::entry_tier() == cpu_tier::portable);
    }
    CHECK(fp8::detail::entry_tier() == (top < cpu_tier::avx2 ? top : cpu_tier::avx2));
    // Another thread is not capped by this one's scope.
    cpu_tier other = cpu_tier::portable;
    std::thread([&] { other = fp8::detail::entry_tier(); }).join();
    CHECK(other == top);
  }
  CHECK(fp8::detail::entry_tier() == top);
}
