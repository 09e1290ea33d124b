// SPDX-License-Identifier: Apache-2.0
// Conversions are constant expressions: these static_asserts are the test
// (the file does not compile otherwise). Expected codes are the bit patterns
// the OCP spec states, written out by hand.
#include <catch2/catch.hpp>

#include <limits>
#include <string>

#include <fp8/fp8.hpp>

#if FP8_CONSTEXPR_BIT_CAST
namespace {
using fp8::overflow;
static_assert(fp8::e4m3_t(1.0f).bits() == 0x38, "0.0111.000");
static_assert(fp8::e4m3_t(464.0f).bits() == 0x7E, "tie at 464 rounds to 448");
static_assert(fp8::e4m3_t::from_float(465.0f, overflow::non_saturating).bits() == 0x7F, "past max: NaN");
static_assert(fp8::e5m2_t::from_double(61440.0, overflow::non_saturating).bits() == 0x7C, "past max: Inf");
static_assert(fp8::e5m2_t::from_double(-1e300).bits() == 0xFB, "saturates to -max");
static_assert(fp8::e4m3fnuz_t(-0.0f).bits() == 0x00, "FNUZ has no -0");
static_assert(static_cast<float>(fp8::e4m3_t::from_bits(0x01)) == 0x1p-9f, "smallest subnormal");
static_assert(static_cast<float>(fp8::e5m2fnuz_t::from_bits(0x7F)) == 57344.0f, "E5M2FNUZ max");
static_assert(static_cast<float>(std::numeric_limits<fp8::e4m3fnuz_t>::max()) == 240.0f, "E4M3FNUZ max");
static_assert(fp8::e4m3_t(2.0f) + fp8::e4m3_t(3.0f) == fp8::e4m3_t(5.0f), "arithmetic");
static_assert(fp8::e5m2_t(-0.0f) == fp8::e5m2_t(0.0f), "-0 == +0");
static_assert(!(std::numeric_limits<fp8::e4m3_t>::quiet_NaN() == std::numeric_limits<fp8::e4m3_t>::quiet_NaN()),
              "NaN is unordered");
}  // namespace
#endif

TEST_CASE("conversions are usable in constant expressions", "[types]") {
#if FP8_CONSTEXPR_BIT_CAST
  SUCCEED("static_asserts above compiled");
#else
  WARN("this compiler has no constexpr bit cast; the static_asserts were not compiled");
#endif
}

// The headers' version (config.hpp) is the one CMake's project() and the
// package files carry: tests/CMakeLists.txt passes PROJECT_VERSION in.
static_assert(fp8::version().major == FP8_VERSION_MAJOR, "version() is a constant expression");
TEST_CASE("fp8::version() is the project's version", "[types]") {
  const fp8::version_info v = fp8::version();
  const std::string got = std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
  CHECK(got == FP8_TEST_PROJECT_VERSION);
  CHECK(FP8_VERSION == v.major * 10000 + v.minor * 100 + v.patch);
}
