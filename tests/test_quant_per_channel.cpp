// SPDX-License-Identifier: Apache-2.0
// Per-channel encode and decode (quant/per_channel.hpp) against an
// element-by-element reference built on tests/reference.hpp's search
// encoder: both axes, odd shapes and leading dimensions (vector tails, the
// 512-column chunk boundary), scales that take the multiply path (powers of
// two), the divide path (anything else, 2^-130 whose reciprocal overflows)
// and mixtures of both within a chunk. Padding between cols and the leading
// dimension must stay untouched; bad arguments must throw naming the
// argument before anything is written. Every tier the CPU runs, each kernel
// called directly and the entries under each tier_scope (for_each_way).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "test_quant_common.hpp"

using namespace quant_test;

namespace {

struct shape {
  std::size_t rows, cols, src_pad, dst_pad;
};
const shape shapes[] = {{1, 1, 0, 0},   {3, 7, 0, 0},   {5, 16, 3, 1},  {2, 64, 0, 5},   {7, 65, 1, 0},
                        {4, 129, 2, 2}, {3, 200, 0, 0}, {2, 513, 7, 3}, {2, 1100, 0, 0}, {33, 31, 1, 1}};

enum class scale_kind { powers_of_two, arbitrary, mixed, ones, tiny };

std::vector<float> make_scales(std::size_t count, scale_kind kind, std::mt19937_64& rng) {
  std::vector<float> s(count);
  std::uniform_int_distribution<int> e(-20, 20);
  std::uniform_real_distribution<float> m(0.5f, 4.0f);
  for (std::size_t i = 0; i < count; ++i) {
    switch (kind) {
      case scale_kind::powers_of_two:
        s[i] = std::ldexp(1.0f, e(rng));
        break;
      case scale_kind::arbitrary:
        s[i] = m(rng) * std::ldexp(1.0f, e(rng));
        break;
      case scale_kind::mixed:
        s[i] = i % 5 == 3 ? m(rng) : std::ldexp(1.0f, e(rng));
        break;
      case scale_kind::ones:
        s[i] = 1.0f;
        break;
      case scale_kind::tiny:
        s[i] = i % 2 ? 0x1p-130f : 0x1p126f;
        break;  // reciprocal overflows / is subnormal
    }
  }
  return s;
}

}  // namespace

TEMPLATE_TEST_CASE("Per-channel encode equals the reference for both axes on every tier", "[quant][dispatch]",
                   FP8_QUANT_FORMATS) {
  for_each_way([](auto way) {
    const ref::format& f = spec_of<TestType>();
    const ref::table t(f);
    std::mt19937_64 rng(21);
    for (const shape& sh : shapes) {
      const std::size_t src_ld = sh.cols + sh.src_pad, dst_ld = sh.cols + sh.dst_pad;
      const std::vector<float> src = mixed_inputs<TestType>(sh.rows * src_ld, rng());
      for (const fp8::axis ax : {fp8::axis::rows, fp8::axis::columns}) {
        for (const scale_kind kind : {scale_kind::powers_of_two, scale_kind::arbitrary, scale_kind::mixed,
                                      scale_kind::ones, scale_kind::tiny}) {
          const std::vector<float> scale = make_scales(ax == fp8::axis::rows ? sh.rows : sh.cols, kind, rng);
          for (const bool saturate : {true, false}) {
            const auto o = saturate ? sat : nonsat;
            std::vector<fp8::fp8<TestType>> dst(sh.rows * dst_ld, fp8::fp8<TestType>::from_bits(0x5A));
            call::encode_per_channel<TestType>(way, src.data(), src_ld, dst.data(), dst_ld, sh.rows, sh.cols,
                                               scale.data(), ax, o);
            for (std::size_t r = 0; r < sh.rows; ++r) {
              for (std::size_t c = 0; c < dst_ld; ++c) {
                INFO(f.name << " " << sh.rows << "x" << sh.cols << " ld " << src_ld << "/" << dst_ld << " axis "
                            << static_cast<int>(ax) << " kind " << static_cast<int>(kind) << " at " << r << "," << c);
                if (c >= sh.cols) {
                  REQUIRE(dst[r * dst_ld + c].bits() == 0x5A);  // padding untouched
                  continue;
                }
                const float q =
                    src[r * src_ld + c] / scale[ax == fp8::axis::rows ? r : c];  // the definition's quotient
                REQUIRE(dst[r * dst_ld + c].bits() == ref::encode(f, t, q, saturate));
              }
            }
            // The dense overload is the ld = cols case.
            if (is_entry<decltype(way)> && sh.src_pad == 0 && sh.dst_pad == 0) {
              std::vector<fp8::fp8<TestType>> dense(sh.rows * sh.cols);
              fp8::encode_per_channel(src.data(), dense.data(), sh.rows, sh.cols, scale.data(), ax, o);
              for (std::size_t i = 0; i < dense.size(); ++i) REQUIRE(dense[i].bits() == dst[i].bits());
            }
          }
        }
      }
    }
  });
}

TEMPLATE_TEST_CASE("Per-channel decode equals the reference for both axes on every tier", "[quant][dispatch]",
                   FP8_QUANT_FORMATS) {
  for_each_way([](auto way) {
    const ref::format& f = spec_of<TestType>();
    std::mt19937_64 rng(22);
    for (const shape& sh : shapes) {
      const std::size_t src_ld = sh.cols + sh.src_pad, dst_ld = sh.cols + sh.dst_pad;
      std::vector<fp8::fp8<TestType>> src(sh.rows * src_ld);
      for (auto& c : src) c = fp8::fp8<TestType>::from_bits(static_cast<std::uint8_t>(rng()));
      for (const fp8::axis ax : {fp8::axis::rows, fp8::axis::columns}) {
        for (const scale_kind kind : {scale_kind::powers_of_two, scale_kind::arbitrary, scale_kind::ones}) {
          const std::vector<float> scale = make_scales(ax == fp8::axis::rows ? sh.rows : sh.cols, kind, rng);
          std::vector<float> dst(sh.rows * dst_ld, -7.25f);
          call::decode_per_channel<TestType>(way, src.data(), src_ld, dst.data(), dst_ld, sh.rows, sh.cols,
                                             scale.data(), ax);
          for (std::size_t r = 0; r < sh.rows; ++r) {
            for (std::size_t c = 0; c < dst_ld; ++c) {
              INFO(f.name << " " << sh.rows << "x" << sh.cols << " at " << r << "," << c);
              const float got = dst[r * dst_ld + c];
              if (c >= sh.cols) {
                REQUIRE(got == -7.25f);
                continue;
              }
              const unsigned code = src[r * src_ld + c].bits();
              const double v = ref::decode(f, code);
              if (std::isnan(v)) {
                REQUIRE(std::isnan(got));
              } else {
                // float(value) is exact; the definition multiplies in float.
                REQUIRE(same_bits(got, static_cast<float>(v) * scale[ax == fp8::axis::rows ? r : c]));
              }
            }
          }
        }
      }
    }
  });
}

TEMPLATE_TEST_CASE("Per-channel bad arguments throw before writing", "[quant]", fp8::E4M3, fp8::E5M2) {
  using V = fp8::fp8<TestType>;
  const std::size_t rows = 4, cols = 40;
  std::vector<float> src(rows * cols, 1.5f), scale(cols, 2.0f), out(rows * cols, -3.0f);
  std::vector<V> dst(rows * cols, V::from_bits(0x33));
  const auto untouched = [&] {
    for (const auto& d : dst) REQUIRE(d.bits() == 0x33);
    for (const float o : out) REQUIRE(o == -3.0f);
  };
  for (const fp8::axis ax : {fp8::axis::rows, fp8::axis::columns}) {
    std::vector<float> bad = scale;
    bad[ax == fp8::axis::rows ? 3 : 39] = 0.0f;
    require_invalid([&] { fp8::encode_per_channel(src.data(), dst.data(), rows, cols, bad.data(), ax); }, "scale");
    bad[ax == fp8::axis::rows ? 3 : 39] = std::numeric_limits<float>::quiet_NaN();
    require_invalid([&] { fp8::decode_per_channel(dst.data(), out.data(), rows, cols, bad.data(), ax); }, "scale");
    bad[ax == fp8::axis::rows ? 3 : 39] = -1.0f;
    require_invalid([&] { fp8::encode_per_channel(src.data(), dst.data(), rows, cols, bad.data(), ax); }, "scale");
    require_invalid([&] { fp8::encode_per_channel(src.data(), dst.data(), rows, cols, nullptr, ax); }, "scale");
    require_invalid(
        [&] { fp8::encode_per_channel(static_cast<const float*>(nullptr), dst.data(), rows, cols, scale.data(), ax); },
        "src");
    require_invalid(
        [&] { fp8::encode_per_channel(src.data(), static_cast<V*>(nullptr), rows, cols, scale.data(), ax); }, "dst");
    require_invalid(
        [&] { fp8::encode_per_channel(src.data(), cols - 1, dst.data(), cols, rows, cols, scale.data(), ax); },
        "src_ld");
    require_invalid([&] { fp8::decode_per_channel(dst.data(), cols, out.data(), 3, rows, cols, scale.data(), ax); },
                    "dst_ld");
    // dst overlapping src: decode into floats that alias the codes.
    require_invalid(
        [&] {
          fp8::decode_per_channel(reinterpret_cast<const V*>(out.data()), out.data() + 1, 2, 8, scale.data(), ax);
        },
        "dst");
    // dst overlapping the scales.
    require_invalid([&] { fp8::decode_per_channel(dst.data(), scale.data(), 1, 4, scale.data() + 2, ax); }, "dst");
    untouched();
  }
  // Empty matrices do nothing and need no pointers.
  fp8::encode_per_channel(static_cast<const float*>(nullptr), static_cast<V*>(nullptr), 0, 5, nullptr, fp8::axis::rows);
  fp8::decode_per_channel(static_cast<const V*>(nullptr), static_cast<float*>(nullptr), 5, 0, nullptr,
                          fp8::axis::columns);
}
