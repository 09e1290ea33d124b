// SPDX-License-Identifier: Apache-2.0
// int4/uint4 storage (dyadic/int4.hpp): the two layouts on hand-made values
// (bytes spelled out from the ONNX and HAWQ-V3 descriptions), round trips of
// every value at every tail length, the nibble writer's read-modify-write at
// odd boundaries, and range errors raised before anything is written. The
// packer's vector code runs on every tier the CPU has: the nibble writer
// with each tier's tag, the entries under each tier_scope.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include <fp8/dyadic/int4.hpp>

#include "tiers.hpp"

TEST_CASE("dyadic int4: two per byte, low nibble first", "[dyadic]") {
  const std::int8_t s[] = {1, -1, -8, 7, 0, 5, -3};
  std::uint8_t p[4] = {0xEE, 0xEE, 0xEE, 0xEE};
  fp8::pack_int4(s, p, 7);
  // (1, -1) -> 0xF1; (-8, 7) -> 0x78; (0, 5) -> 0x50; (-3, pad 0) -> 0x0D.
  CHECK(p[0] == 0xF1);
  CHECK(p[1] == 0x78);
  CHECK(p[2] == 0x50);
  CHECK(p[3] == 0x0D);
  std::int8_t back[7];
  fp8::unpack_int4(p, back, 7);
  CHECK(std::vector<std::int8_t>(back, back + 7) == std::vector<std::int8_t>(s, s + 7));
  const std::uint8_t u[] = {15, 0, 9};
  fp8::pack_uint4(u, p, 3);
  CHECK(p[0] == 0x0F);
  CHECK(p[1] == 0x09);
  CHECK(fp8::pack_nibbles(-8, 7) == 0x78);
  CHECK(fp8::unpack_int4_nibble(0x8F, 0) == -1);
  CHECK(fp8::unpack_int4_nibble(0x8F, 1) == -8);
  CHECK(fp8::unpack_uint4_nibble(0x8F, 1) == 8);
}

TEST_CASE("dyadic int4: eight per int32 in HAWQ-V3 order", "[dyadic]") {
  const std::int8_t s[] = {1, 2, 3, 4, 5, 6, 7, -1, -8, 3};
  std::int32_t w[2] = {0x55555555, 0x55555555};
  fp8::pack_int4x8(s, w, 10);
  // First element in the top nibble: 0x1234567F; then (-8, 3, pad...) -> 0x83000000.
  CHECK(static_cast<std::uint32_t>(w[0]) == 0x1234567Fu);
  CHECK(static_cast<std::uint32_t>(w[1]) == 0x83000000u);
  std::int8_t back[10];
  fp8::unpack_int4x8(w, back, 10);
  CHECK(std::vector<std::int8_t>(back, back + 10) == std::vector<std::int8_t>(s, s + 10));
  const std::uint8_t u[] = {15, 14, 13, 12, 11, 10, 9, 8};
  fp8::pack_uint4x8(u, w, 8);
  CHECK(static_cast<std::uint32_t>(w[0]) == 0xFEDCBA98u);
  std::uint8_t ub[8];
  fp8::unpack_uint4x8(w, ub, 8);
  CHECK(std::vector<std::uint8_t>(ub, ub + 8) == std::vector<std::uint8_t>(u, u + 8));
}

TEST_CASE("dyadic int4: round trips at every length, both layouts", "[dyadic]") {
  std::mt19937 rng(9);
  for (const fp8::cpu_tier tier :
       {fp8::cpu_tier::portable, fp8::cpu_tier::sse2, fp8::cpu_tier::avx2, fp8::cpu_tier::avx512})
    for (std::size_t n = 0; n <= 200; ++n) {
      if (tier > fp8::best_tier(fp8::cpu())) break;
      const fp8::tier_scope scope(tier);
      INFO("tier " << static_cast<int>(tier) << " n " << n);
      std::vector<std::int8_t> s(n);
      std::vector<std::uint8_t> u(n);
      for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<std::int8_t>(static_cast<int>(rng() % 16) - 8);
        u[i] = static_cast<std::uint8_t>(rng() % 16);
      }
      std::vector<std::uint8_t> bytes((n + 1) / 2 + 1, 0xCC);
      std::vector<std::int32_t> words((n + 7) / 8 + 1, 0x33333333);
      std::vector<std::int8_t> s2(n);
      std::vector<std::uint8_t> u2(n);
      fp8::pack_int4(s.data(), bytes.data(), n);
      CHECK(bytes.back() == 0xCC);  // nothing past (n + 1) / 2
      if (n % 2 != 0) CHECK((bytes[n / 2] & 0xF0) == 0);
      fp8::unpack_int4(bytes.data(), s2.data(), n);
      CHECK(s2 == s);
      fp8::pack_uint4(u.data(), bytes.data(), n);
      fp8::unpack_uint4(bytes.data(), u2.data(), n);
      CHECK(u2 == u);
      for (std::size_t i = 0; i < n; ++i)
        REQUIRE(fp8::unpack_uint4_nibble(bytes[i / 2], static_cast<int>(i % 2)) == u[i]);
      fp8::pack_int4x8(s.data(), words.data(), n);
      CHECK(words.back() == 0x33333333);
      if (n % 8 != 0) CHECK((static_cast<std::uint32_t>(words[n / 8]) & ((1u << (32 - 4 * (n % 8))) - 1)) == 0);
      fp8::unpack_int4x8(words.data(), s2.data(), n);
      CHECK(s2 == s);
      fp8::pack_uint4x8(u.data(), words.data(), n);
      fp8::unpack_uint4x8(words.data(), u2.data(), n);
      CHECK(u2 == u);
    }
}

TEST_CASE("dyadic int4: the nibble writer keeps its neighbours", "[dyadic]") {
  test_tiers::for_each_tier([](auto tag, const char* name) {
    std::mt19937 rng(10);
    for (int trial = 0; trial < 2000; ++trial) {
      const std::size_t total = 1 + rng() % 150, first = rng() % total, n = rng() % (total - first + 1);
      std::vector<std::uint8_t> dst((total + 1) / 2), expect;
      for (auto& b : dst) b = static_cast<std::uint8_t>(rng());
      expect = dst;
      std::vector<std::uint8_t> src(n);
      for (auto& v : src) v = static_cast<std::uint8_t>(rng());  // high nibbles must be ignored
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t k = first + i;
        std::uint8_t& b = expect[k / 2];
        b = static_cast<std::uint8_t>(k % 2 == 0 ? (b & 0xF0) | (src[i] & 0x0F) : (b & 0x0F) | ((src[i] & 0x0F) << 4));
      }
      fp8::detail::write_nibbles(src.data(), dst.data(), first, n, tag);
      INFO(name << " total " << total << " first " << first << " n " << n);
      REQUIRE(dst == expect);
    }
  });
}

TEST_CASE("dyadic int4: out-of-range elements throw before writing", "[dyadic]") {
  std::int8_t s[] = {0, 1, 8, 2};
  std::uint8_t u[] = {0, 16, 1};
  std::uint8_t bytes[4] = {0xAB, 0xAB, 0xAB, 0xAB};
  std::int32_t word = 0x12345678;
  CHECK_THROWS_WITH(fp8::pack_int4(s, bytes, 4), Catch::Contains("element 2 = 8") && Catch::Contains("[-8, 7]"));
  CHECK_THROWS_AS(fp8::pack_int4x8(s, &word, 4), fp8::invalid_argument);
  CHECK_THROWS_WITH(fp8::pack_uint4(u, bytes, 3), Catch::Contains("element 1 = 16"));
  CHECK_THROWS_AS(fp8::pack_uint4x8(u, &word, 3), fp8::invalid_argument);
  s[2] = -9;
  CHECK_THROWS_AS(fp8::pack_int4(s, bytes, 4), fp8::invalid_argument);
  CHECK(bytes[0] == 0xAB);
  CHECK(bytes[1] == 0xAB);
  CHECK(word == 0x12345678);
  CHECK_THROWS_AS(fp8::pack_int4(nullptr, bytes, 1), fp8::invalid_argument);
  CHECK_THROWS_AS(fp8::unpack_int4(bytes, nullptr, 1), fp8::invalid_argument);
  CHECK_NOTHROW(fp8::pack_int4(nullptr, nullptr, 0));
}
