// SPDX-License-Identifier: Apache-2.0
// The long tier: every one of the 2^32 float32 inputs, for every format and
// both overflow modes, through the scalar codec against the reference search
// of reference.hpp, and through the bulk encoder (the ISA this test binary
// was built for) against the scalar codec.
//
// Positive floats are walked in increasing bit order, which is increasing
// value order, so the reference keeps a cursor into the sorted table instead
// of searching anew: the walk is O(1) per input. Each negative input is
// checked beside its magnitude.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include <fp8/fp8.hpp>

#include "formats.hpp"

TEMPLATE_TEST_CASE("encode equals the reference on all 2^32 floats", "[exhaustive]", FP8_ALL_FORMATS) {
  using V = fp8::fp8<TestType>;
  const ref::format& f = spec_of<TestType>();
  const ref::table t(f);
  constexpr auto sat = fp8::overflow::saturate;
  constexpr auto nonsat = fp8::overflow::non_saturating;
  const std::size_t past_max = t.size() - 1;

  constexpr std::size_t block = 1 << 16;
  std::vector<float> x(block), nx(block);
  std::vector<V> bulk[4] = {std::vector<V>(block), std::vector<V>(block), std::vector<V>(block), std::vector<V>(block)};
  std::uint64_t scalar_mismatches = 0, bulk_mismatches = 0;
  std::uint32_t first_bad = 0, first_bulk_bad = 0;
  std::size_t j = 0;  // value[j] <= x < value[j + 1]
  for (std::uint64_t base = 0; base < 0x80000000u; base += block) {
    for (std::size_t k = 0; k < block; ++k) {
      x[k] = float_from_bits(static_cast<std::uint32_t>(base + k));
      nx[k] = float_from_bits(static_cast<std::uint32_t>(base + k) | 0x80000000u);
    }
    fp8::encode(x.data(), bulk[0].data(), block, 1.0f, sat);
    fp8::encode(x.data(), bulk[1].data(), block, 1.0f, nonsat);
    fp8::encode(nx.data(), bulk[2].data(), block, 1.0f, sat);
    fp8::encode(nx.data(), bulk[3].data(), block, 1.0f, nonsat);
    for (std::size_t k = 0; k < block; ++k) {
      const auto bits = static_cast<std::uint32_t>(base + k);
      std::uint8_t want[4];  // +sat, +nonsat, -sat, -nonsat
      if (std::isnan(x[k]) || std::isinf(x[k])) {
        want[0] = ref::encode(f, t, x[k], true);
        want[1] = ref::encode(f, t, x[k], false);
        want[2] = ref::encode(f, t, nx[k], true);
        want[3] = ref::encode(f, t, nx[k], false);
      } else {
        const double a = x[k];
        while (j + 1 < past_max && a >= t.value[j + 1]) ++j;
        const std::size_t idx = a >= t.value[past_max] ? past_max : ref::nearest_from(t, a, j);
        want[0] = ref::finish(f, t, false, idx, true);
        want[1] = ref::finish(f, t, false, idx, false);
        want[2] = ref::finish(f, t, true, idx, true);
        want[3] = ref::finish(f, t, true, idx, false);
      }
      const std::uint8_t got[4] = {
          fp8::scalar::encode<TestType>(x[k], sat), fp8::scalar::encode<TestType>(x[k], nonsat),
          fp8::scalar::encode<TestType>(nx[k], sat), fp8::scalar::encode<TestType>(nx[k], nonsat)};
      for (int m = 0; m < 4; ++m) {
        const std::uint32_t input = bits | (m >= 2 ? 0x80000000u : 0u);
        if (got[m] != want[m] && scalar_mismatches++ == 0) first_bad = input;
        if (bulk[m][k].bits() != got[m] && bulk_mismatches++ == 0) first_bulk_bad = input;
      }
    }
  }
  INFO(f.name << ": first scalar mismatch at float bits 0x" << std::hex << first_bad);
  CHECK(scalar_mismatches == 0);
  INFO(f.name << ": first bulk mismatch at float bits 0x" << std::hex << first_bulk_bad);
  CHECK(bulk_mismatches == 0);
}
