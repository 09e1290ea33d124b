// SPDX-License-Identifier: Apache-2.0
// Bulk requantization (dyadic/requantize.hpp) equals its element-wise
// definition requantize_element() and the independent wide-integer reference
// of dyadic_reference.hpp bit for bit: every output type, every rounding, per
// tensor / with bias / per channel, tails of every length up to past two
// vectors of the widest tier, misaligned pointers, INT32 extremes. Every tier
// the CPU runs is tested in this one binary, whatever its flags: the entries
// under each fp8::tier_scope, and each tier's kernel called directly
// (test_tiers::for_each_tier). Bad input throws before anything is written.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <fp8/dyadic/requantize.hpp>

#include "dyadic_reference.hpp"
#include "tiers.hpp"

namespace {

using fp8::dyadic;
using fp8::dyadic_rounding;
constexpr dyadic_rounding all_roundings[] = {dyadic_rounding::double_rounding, dyadic_rounding::single_rounding,
                                             dyadic_rounding::half_even};
constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();
constexpr std::uint8_t kCanary = 0xA5;

std::int32_t random_int32(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0:
      return rng() % 2 != 0 ? kMin : kMax;
    case 1:
      return static_cast<std::int32_t>(rng() % 64) - 32;
    default: {
      const int bits = static_cast<int>(rng() % 32);
      const auto v = static_cast<std::int64_t>(rng() & ((std::uint64_t{1} << bits) - 1));
      return static_cast<std::int32_t>(rng() % 2 != 0 ? -v : v);
    }
  }
}

dyadic random_dyadic(std::mt19937_64& rng) {
  dyadic d{random_int32(rng), static_cast<int>(rng() % 62) - 31};
  if (rng() % 4 == 0) {  // a realistic normalized multiplier and small-magnitude shift
    d.multiplier = static_cast<std::int32_t>((1u << 30) + (rng() & ((1u << 30) - 1)));
    d.shift = static_cast<int>(rng() % 24) - 20;
  }
  return d;
}

template <class Out>
fp8::requantize_params random_params(std::mt19937_64& rng, dyadic_rounding r) {
  using T = fp8::quantized_type<Out>;
  fp8::requantize_params p;
  p.rounding = r;
  p.zero_point = T::lowest + static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(T::max - T::lowest + 1));
  if (rng() % 3 == 0) {  // a narrower clamp
    const int span = T::max - T::lowest + 1;
    int a = T::lowest + static_cast<int>(rng() % static_cast<std::uint64_t>(span));
    int b = T::lowest + static_cast<int>(rng() % static_cast<std::uint64_t>(span));
    if (a > b) std::swap(a, b);
    p.clamp_min = a - (rng() % 2 != 0 ? 1000 : 0);  // sometimes beyond the type: intersected
    p.clamp_max = b;
  }
  p.relu = rng() % 4 == 0 && p.zero_point <= fp8::requantize_highest<Out>(p);
  return p;
}

// Calls f() once per tier the entries can run on this CPU, under a
// tier_scope that caps them to it (the tier is named in a failure).
template <class Fn>
void for_each_entry_tier(Fn&& f) {
  using fp8::cpu_tier;
  for (const cpu_tier t : {cpu_tier::portable, cpu_tier::sse2, cpu_tier::avx2, cpu_tier::avx512}) {
    if (t > fp8::best_tier(fp8::cpu())) continue;
    const fp8::tier_scope scope(t);
    INFO("entry tier " << static_cast<int>(t));
    f();
  }
}

// One element from dyadic_reference.hpp: the rescaling in 128-bit integers,
// the saturating bias add and the output clamp written out here.
template <class Out>
int reference_element(std::int32_t acc, std::int32_t bias, dyadic d, const fp8::requantize_params& p) {
  using T = fp8::quantized_type<Out>;
  const std::int32_t x = dref::sat32(dref::i128{acc} + bias);
  const dref::i128 y =
      dref::i128{dref::requantize(x, d.multiplier, d.shift, static_cast<int>(p.rounding))} + p.zero_point;
  dref::i128 lo = T::lowest, hi = T::max;
  if (p.clamp_min > lo) lo = p.clamp_min;
  if (p.relu && p.zero_point > lo) lo = p.zero_point;
  if (p.clamp_max < hi) hi = p.clamp_max;
  return static_cast<int>(y < lo ? lo : y > hi ? hi : y);
}

// Element i of an output buffer.
template <class Out>
int element(const fp8::quantized_storage_t<Out>* dst, std::size_t i) {
  if constexpr (std::is_same<Out, fp8::int4>::value)
    return fp8::unpack_int4_nibble(dst[i / 2], static_cast<int>(i % 2));
  if constexpr (std::is_same<Out, fp8::uint4>::value)
    return fp8::unpack_uint4_nibble(dst[i / 2], static_cast<int>(i % 2));
  return static_cast<int>(dst[i]);
}

// A destination with canaries around it and a chosen misalignment.
template <class Out>
struct guarded {
  using S = fp8::quantized_storage_t<Out>;
  std::vector<S> buffer;
  std::size_t offset, bytes;
  guarded(std::size_t n, std::size_t misalign)
      : buffer(fp8::quantized_bytes<Out>(n) + 64 + misalign),
        offset(32 + misalign),
        bytes(fp8::quantized_bytes<Out>(n)) {
    std::memset(buffer.data(), kCanary, buffer.size());
  }
  S* data() { return buffer.data() + offset; }
  bool canaries_intact() const {
    for (std::size_t i = 0; i < buffer.size(); ++i)
      if ((i < offset || i >= offset + bytes) && static_cast<std::uint8_t>(buffer[i]) != kCanary) return false;
    return true;
  }
};

template <class Out>
void check_elements(const std::vector<std::int32_t>& acc, std::size_t first, std::size_t rows, std::size_t channels,
                    const dyadic* d, dyadic d0, const std::int32_t* bias, const fp8::requantize_params& p,
                    guarded<Out>& out) {
  const std::size_t n = rows * channels;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = i % channels;
    const dyadic di = d != nullptr ? d[c] : d0;
    const std::int32_t b = bias != nullptr ? bias[c] : 0;
    const int want = fp8::requantize_element<Out>(acc[first + i], b, di, p);
    const int got = element<Out>(out.data(), i);
    if (got != want || want != reference_element<Out>(acc[first + i], b, di, p)) {
      INFO("n " << n << " i " << i << " acc " << acc[first + i] << " bias " << b << " m " << di.multiplier << " shift "
                << di.shift << " rounding " << static_cast<int>(p.rounding) << " zp " << p.zero_point << " clamp ["
                << p.clamp_min << ", " << p.clamp_max << "] relu " << p.relu);
      REQUIRE(got == want);
      REQUIRE(want == reference_element<Out>(acc[first + i], b, di, p));
    }
  }
  if (fp8::quantized_type<Out>::bits == 4 && n % 2 != 0) CHECK((out.data()[n / 2] & 0xF0) == 0);  // padding nibble
  CHECK(out.canaries_intact());
}

}  // namespace

TEMPLATE_TEST_CASE("dyadic bulk: per tensor equals the element definition, every tail", "[dyadic]", std::int8_t,
                   std::uint8_t, fp8::int4, fp8::uint4) {
  for_each_entry_tier([&] {
    std::mt19937_64 rng(100);
    for (dyadic_rounding r : all_roundings) {
      for (std::size_t n = 0; n <= 80; ++n) {
        for (int trial = 0; trial < 6; ++trial) {
          const std::size_t acc_offset = rng() % 4, misalign = rng() % 4;
          std::vector<std::int32_t> acc(n + acc_offset);
          for (auto& a : acc) a = random_int32(rng);
          const dyadic d = random_dyadic(rng);
          const auto p = random_params<TestType>(rng, r);
          guarded<TestType> out(n, misalign);
          fp8::requantize<TestType>(acc.data() + acc_offset, out.data(), n, d, p);
          check_elements<TestType>(acc, acc_offset, 1, n, nullptr, d, nullptr, p, out);
        }
      }
    }
  });
}

TEMPLATE_TEST_CASE("dyadic bulk: per channel and fused bias equal the element definition", "[dyadic]", std::int8_t,
                   std::uint8_t, fp8::int4, fp8::uint4) {
  for_each_entry_tier([&] {
    std::mt19937_64 rng(200);
    const std::size_t channel_counts[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 129};
    const std::size_t row_counts[] = {0, 1, 2, 3, 7, 20};
    for (dyadic_rounding r : all_roundings) {
      for (std::size_t channels : channel_counts) {
        for (std::size_t rows : row_counts) {
          const std::size_t n = rows * channels, acc_offset = rng() % 4;
          std::vector<std::int32_t> acc(n + acc_offset);
          for (auto& a : acc) a = random_int32(rng);
          std::vector<dyadic> d(channels);
          for (auto& x : d) x = random_dyadic(rng);
          std::vector<std::int32_t> bias(channels);
          for (auto& b : bias) b = random_int32(rng);
          const auto p = random_params<TestType>(rng, r);
          const bool with_bias = rng() % 3 != 0;
          const std::int32_t* b = with_bias ? bias.data() : nullptr;
          {
            guarded<TestType> out(n, rng() % 4);
            fp8::requantize_per_channel<TestType>(acc.data() + acc_offset, out.data(), rows, channels, d.data(), b, p);
            check_elements<TestType>(acc, acc_offset, rows, channels, d.data(), d[0], b, p, out);
          }
          {  // per tensor with a per-channel bias
            guarded<TestType> out(n, rng() % 4);
            fp8::requantize<TestType>(acc.data() + acc_offset, out.data(), rows, channels, d[0], b, p);
            check_elements<TestType>(acc, acc_offset, rows, channels, nullptr, d[0], b, p, out);
          }
        }
      }
    }
  });
}

TEMPLATE_TEST_CASE("dyadic bulk: long rows and chunked 4-bit output", "[dyadic]", std::int8_t, fp8::int4, fp8::uint4) {
  for_each_entry_tier([&] {
    std::mt19937_64 rng(300);
    // Past the 4096-byte staging buffer of the 4-bit path: a long per-tensor
    // run, many short rows, and rows longer than the buffer (odd starts).
    const struct { std::size_t rows, channels; } shapes[] = {{1, 10001}, {101, 99}, {3, 4099}, {2, 8200}};
    for (const auto& s : shapes) {
      const std::size_t n = s.rows * s.channels;
      std::vector<std::int32_t> acc(n);
      for (auto& a : acc) a = random_int32(rng);
      std::vector<dyadic> d(s.channels);
      for (auto& x : d) x = random_dyadic(rng);
      std::vector<std::int32_t> bias(s.channels);
      for (auto& b : bias) b = random_int32(rng);
      for (dyadic_rounding r : all_roundings) {
        const auto p = random_params<TestType>(rng, r);
        guarded<TestType> a(n, 1), b(n, 2), c(n, 3);
        fp8::requantize<TestType>(acc.data(), a.data(), n, d[0], p);
        check_elements<TestType>(acc, 0, 1, n, nullptr, d[0], nullptr, p, a);
        fp8::requantize_per_channel<TestType>(acc.data(), b.data(), s.rows, s.channels, d.data(), bias.data(), p);
        check_elements<TestType>(acc, 0, s.rows, s.channels, d.data(), d[0], bias.data(), p, b);
        fp8::requantize<TestType>(acc.data(), c.data(), s.rows, s.channels, d[1], bias.data(), p);
        check_elements<TestType>(acc, 0, s.rows, s.channels, nullptr, d[1], bias.data(), p, c);
      }
    }
  });
}

TEST_CASE("dyadic bulk: INT32 extremes at every shift and multiplier edge", "[dyadic]") {
  for_each_entry_tier([&] {
    std::vector<std::int32_t> acc = {kMin, kMin + 1, -(1 << 30), -65536, -255,    -2,       -1,  0,
                                     1,    2,        255,        65535,  1 << 30, kMax - 1, kMax};
    const std::int32_t mults[] = {kMin, kMin + 1, -(1 << 30), -1, 0, 1, 1 << 30, (1 << 30) + 1, kMax};
    const std::int32_t biases[] = {0, kMin, kMax, -1, 1};
    for (dyadic_rounding r : all_roundings)
      for (int shift = -31; shift <= 30; ++shift)
        for (std::int32_t m : mults)
          for (std::int32_t b : biases)
            for (std::int32_t zp : {-128, 0, 127}) {
              fp8::requantize_params p;
              p.rounding = r;
              p.zero_point = zp;
              const std::int32_t bias[1] = {b};
              guarded<std::int8_t> out(acc.size(), 0);
              fp8::requantize<std::int8_t>(acc.data(), out.data(), acc.size(), 1, {m, shift}, bias, p);
              check_elements<std::int8_t>(acc, 0, acc.size(), 1, nullptr, {m, shift}, bias, p, out);
            }
  });
}

// One tile through a tier's kernel, checked element by element against the
// reference and byte for byte (strides' gaps and the canaries around the
// tile included) against the portable kernel.
template <class Tag>
void check_tile(Tag tag, const char* tier, const std::vector<std::int32_t>& acc, std::size_t acc_stride,
                std::size_t out_stride, std::size_t rows, std::size_t cols, const fp8::detail::requant_lanes& lanes,
                const fp8::requantize_params& p) {
  const fp8::detail::requant_plan plan{p.rounding, p.zero_point, fp8::requantize_lowest<std::int8_t>(p),
                                       fp8::requantize_highest<std::int8_t>(p)};
  std::vector<std::uint8_t> want(rows * out_stride + 2, kCanary), got(want.size(), kCanary);
  fp8::kernel::requantize_tile(acc.data() + 1, acc_stride, want.data() + 1, out_stride, rows, cols, lanes, plan,
                               fp8::isa::portable{});
  fp8::kernel::requantize_tile(acc.data() + 1, acc_stride, got.data() + 1, out_stride, rows, cols, lanes, plan, tag);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j) {
      const dyadic d = lanes.dyadic_at(j);
      const std::int32_t b = lanes.bias_at(j);
      const std::int32_t a = acc[1 + r * acc_stride + j];
      const int ref = reference_element<std::int8_t>(a, b, d, p);
      const int g = static_cast<std::int8_t>(got[1 + r * out_stride + j]);
      if (g != ref) {
        INFO("tier " << tier << " rows " << rows << " cols " << cols << " r " << r << " j " << j << " acc " << a
                     << " bias " << b << " m " << d.multiplier << " shift " << d.shift << " rounding "
                     << static_cast<int>(p.rounding) << " zp " << p.zero_point << " [" << plan.lo << ", " << plan.hi
                     << "]");
        REQUIRE(g == ref);
      }
    }
  INFO("tier " << tier << " rows " << rows << " cols " << cols);
  REQUIRE(got == want);
}

TEST_CASE("dyadic bulk: every tier's kernel equals the reference and the portable one", "[dyadic]") {
  test_tiers::for_each_tier([](auto tag, const char* tier) {
    std::mt19937_64 rng(400);
    using fp8::detail::requant_lanes;
    for (int trial = 0; trial < 1500; ++trial) {
      const dyadic_rounding r = all_roundings[trial % 3];
      const std::size_t rows = rng() % 5, cols = rng() % 71, period = 1 + rng() % 40;
      const std::size_t acc_stride = cols + rng() % 3, out_stride = cols + rng() % 5;
      std::vector<std::int32_t> acc(rows * acc_stride + 1);
      for (auto& a : acc) a = random_int32(rng);
      std::vector<dyadic> d(period);
      for (auto& x : d) x = random_dyadic(rng);
      std::vector<std::int32_t> bias(period);
      for (auto& b : bias) b = random_int32(rng);
      const int kind = static_cast<int>(rng() % 3);  // uniform, per channel, bias only
      const requant_lanes lanes{
          d[0], kind == 1 ? d.data() : nullptr, kind != 0 ? bias.data() : nullptr, period, rng() % period, r};
      const auto p = random_params<std::int8_t>(rng, r);
      check_tile(tag, tier, acc, acc_stride, out_stride, rows, cols, lanes, p);
    }
  });
}

TEST_CASE("dyadic bulk: every tier's kernel at the extremes, every length to 70", "[dyadic]") {
  // Accumulators, multipliers, shifts and biases at their edges (the
  // saturating bias add, INT32_MIN * INT32_MIN, shifts -31 and 30, zero
  // multipliers), every tail length, one and three rows, uniform and per
  // channel (channels cycling through the edge dyadics).
  const std::int32_t edges[] = {kMin, kMin + 1, -(1 << 30), -65536,  -129,     -1,  0,
                                1,    128,      65535,      1 << 30, kMax - 1, kMax};
  const std::int32_t mults[] = {kMin, kMin + 1, -(1 << 30), -1, 0, 1, 1 << 30, kMax};
  const int shifts[] = {-31, -30, -23, -22, -2, -1, 0, 1, 12, 29, 30};
  std::vector<dyadic> d, negative;  // negative: every shift <= -1 (the high-halves path)
  for (std::int32_t m : mults)
    for (int sh : shifts) {
      d.push_back({m, sh});
      if (sh <= -1) negative.push_back({m, sh});
    }
  const std::vector<std::int32_t> bias = {0, kMin, kMax, -1, 1, 1000, -1000};
  std::vector<std::int32_t> negative_bias(negative.size());  // one per channel of `negative`
  for (std::size_t c = 0; c < negative.size(); ++c) negative_bias[c] = bias[c % bias.size()];
  test_tiers::for_each_tier([&](auto tag, const char* tier) {
    std::mt19937_64 rng(450);
    for (dyadic_rounding r : all_roundings)
      for (std::size_t cols = 0; cols <= 70; ++cols)
        for (std::size_t rows : {std::size_t{1}, std::size_t{3}}) {
          std::vector<std::int32_t> acc(rows * cols + 1);
          for (std::size_t i = 0; i < acc.size(); ++i) acc[i] = edges[(i * 7 + cols) % 13];
          fp8::requantize_params p;
          p.rounding = r;
          p.zero_point = static_cast<std::int32_t>(rng() % 256) - 128;
          const std::size_t first = rng() % d.size();
          for (const dyadic one : {d[first], dyadic{kMin, 30}, dyadic{kMin, -31}, dyadic{kMax, 30}})
            check_tile(tag, tier, acc, cols, cols, rows, cols,
                       fp8::detail::requant_lanes{one, nullptr, nullptr, 1, 0, r}, p);
          check_tile(tag, tier, acc, cols, cols, rows, cols,
                     fp8::detail::requant_lanes{d[0], d.data(), nullptr, d.size(), first, r}, p);
          check_tile(tag, tier, acc, cols, cols, rows, cols,
                     fp8::detail::requant_lanes{d[first], nullptr, bias.data(), bias.size(), first % bias.size(), r},
                     p);
          for (const std::int32_t* b :
               {static_cast<const std::int32_t*>(nullptr), static_cast<const std::int32_t*>(negative_bias.data())})
            check_tile(tag, tier, acc, cols, cols, rows, cols,
                       fp8::detail::requant_lanes{negative[0], negative.data(), b, negative.size(),
                                                  first % negative.size(), r},
                       p);
          p.zero_point = 0;
          p.clamp_min = -3;
          p.clamp_max = 5;
          check_tile(tag, tier, acc, cols, cols, rows, cols,
                     fp8::detail::requant_lanes{d[0], d.data(), nullptr, d.size(), first, r}, p);
        }
  });
}

TEST_CASE("dyadic bulk: bad arguments throw before writing", "[dyadic]") {
  std::vector<std::int32_t> acc(16, 1000);
  std::vector<std::int8_t> dst(16, 7);
  const std::vector<std::int8_t> untouched(16, 7);
  const dyadic d = fp8::to_dyadic(0.01);
  const auto throws = [&](auto&& call, const char* argument) {
    try {
      call();
      FAIL("no exception for " << argument);
    } catch (const fp8::invalid_argument& e) {
      CHECK(std::string(e.argument()) == argument);
    }
    CHECK(dst == untouched);
  };
  fp8::requantize_params p;
  throws([&] { fp8::requantize<std::int8_t>(nullptr, dst.data(), 16, d, p); }, "acc");
  throws([&] { fp8::requantize<std::int8_t>(acc.data(), nullptr, 16, d, p); }, "dst");
  throws([&] { fp8::requantize<std::int8_t>(acc.data(), dst.data(), 16, dyadic{1 << 30, 31}, p); }, "d");
  throws([&] { fp8::requantize<std::int8_t>(acc.data(), dst.data(), 16, dyadic{1 << 30, -32}, p); }, "d");
  std::vector<dyadic> ds(4, d);
  ds[3].shift = 40;
  throws([&] { fp8::requantize_per_channel<std::int8_t>(acc.data(), dst.data(), 4, 4, ds.data(), nullptr, p); }, "d");
  throws([&] { fp8::requantize_per_channel<std::int8_t>(acc.data(), dst.data(), 4, 4, nullptr, nullptr, p); }, "d");
  {
    auto q = p;
    q.zero_point = 128;
    throws([&] { fp8::requantize<std::int8_t>(acc.data(), dst.data(), 16, d, q); }, "params.zero_point");
    q.zero_point = 8;  // outside int4
    throws([&] { fp8::requantize<fp8::int4>(acc.data(), reinterpret_cast<std::uint8_t*>(dst.data()), 16, d, q); },
           "params.zero_point");
    q.zero_point = -1;  // outside uint8
    throws([&] { fp8::requantize<std::uint8_t>(acc.data(), reinterpret_cast<std::uint8_t*>(dst.data()), 16, d, q); },
           "params.zero_point");
  }
  {
    auto q = p;
    q.clamp_min = 10;
    q.clamp_max = -10;
    throws([&] { fp8::requantize<std::int8_t>(acc.data(), dst.data(), 16, d, q); }, "params.clamp_min");
    q.clamp_min = 200;  // beyond int8: an empty range
    q.clamp_max = 300;
    throws([&] { fp8::requantize<std::int8_t>(acc.data(), dst.data(), 16, d, q); }, "params.clamp_max");
    q.clamp_min = -100;
    q.clamp_max = 5;
    q.relu = true;
    q.zero_point = 6;  // ReLU raises the floor above the ceiling
    throws([&] { fp8::requantize<std::int8_t>(acc.data(), dst.data(), 16, d, q); }, "params.clamp_max");
  }
  {
    auto q = p;
    q.rounding = static_cast<dyadic_rounding>(7);
    throws([&] { fp8::requantize<std::int8_t>(acc.data(), dst.data(), 16, d, q); }, "params.rounding");
  }
  // Overlap: the int8 output inside the int32 input.
  throws([&] { fp8::requantize<std::int8_t>(acc.data(), reinterpret_cast<std::int8_t*>(acc.data() + 2), 8, d, p); },
         "dst");
  throws(
      [&] {
        fp8::requantize<std::int8_t>(acc.data(), dst.data(), std::numeric_limits<std::size_t>::max() / 2, 4, d, nullptr,
                                     p);
      },
      "rows");
  // Nothing to do: null pointers are fine.
  CHECK_NOTHROW(fp8::requantize<std::int8_t>(nullptr, nullptr, 0, d, p));
  CHECK_NOTHROW(fp8::requantize_per_channel<std::int8_t>(nullptr, nullptr, 0, 5, nullptr, nullptr, p));
  // The message names the function and the argument.
  CHECK_THROWS_WITH(fp8::requantize<std::int8_t>(acc.data(), dst.data(), 16, dyadic{1, 31}, p),
                    Catch::Contains("fp8::requantize") && Catch::Contains("'d'") && Catch::Contains("[-31, 30]"));
}

TEST_CASE("dyadic bulk: ReLU and clamp semantics on hand-made values", "[dyadic]") {
  const std::int32_t acc[] = {-1000, -10, 0, 10, 1000, 1 << 20};
  const dyadic d = fp8::to_dyadic(0.1);  // 0.1 exactly enough for these
  std::int8_t out[6];
  fp8::requantize_params p;
  p.zero_point = -5;
  fp8::requantize<std::int8_t>(acc, out, 6, d, p);
  CHECK(std::vector<int>(out, out + 6) == std::vector<int>{-105, -6, -5, -4, 95, 127});  // -1 - 5: -10 * 0.1 = -1
  p.relu = true;
  fp8::requantize<std::int8_t>(acc, out, 6, d, p);
  CHECK(std::vector<int>(out, out + 6) == std::vector<int>{-5, -5, -5, -4, 95, 127});
  p.clamp_max = 20;
  fp8::requantize<std::int8_t>(acc, out, 6, d, p);
  CHECK(std::vector<int>(out, out + 6) == std::vector<int>{-5, -5, -5, -4, 20, 20});
  std::uint8_t packed[3];
  fp8::requantize_params q;
  q.zero_point = 0;
  fp8::requantize<fp8::int4>(acc, packed, 6, d, q);  // -100 -1 0 1 100 big -> -8 -1 0 1 7 7
  CHECK(packed[0] == 0xF8);
  CHECK(packed[1] == 0x10);
  CHECK(packed[2] == 0x77);
}

TEST_CASE("dyadic bulk: per channel at every range of shifts", "[dyadic]") {
  for_each_entry_tier([&] {
    // Shift ranges that once chose different narrowing paths of a hand-written
    // AVX-512 kernel (all shifts <= -1 or not, all >= -22 or not), kept as
    // ranges of the per-channel constants, with and without a bias.
    std::mt19937_64 rng(500);
    const struct {
      int lo, hi;
    } shift_ranges[] = {{-22, -1}, {-1, -1}, {-31, -1}, {-31, -23}, {-22, 30}, {0, 30}, {-31, 30}, {-23, 0}};
    for (const auto& range : shift_ranges) {
      for (dyadic_rounding r : all_roundings) {
        const std::size_t rows = 9, channels = 37, n = rows * channels;
        std::vector<std::int32_t> acc(n);
        for (auto& a : acc) a = random_int32(rng);
        std::vector<dyadic> d(channels);
        for (auto& x : d)
          x = {random_int32(rng),
               range.lo + static_cast<int>(rng() % static_cast<std::uint64_t>(range.hi - range.lo + 1))};
        d[0].shift = range.lo;
        d[1].shift = range.hi;
        std::vector<std::int32_t> bias(channels);
        for (auto& b : bias) b = random_int32(rng);
        for (const std::int32_t* b :
             {static_cast<const std::int32_t*>(nullptr), static_cast<const std::int32_t*>(bias.data())}) {
          const auto p = random_params<std::int8_t>(rng, r);
          guarded<std::int8_t> out(n, 0);
          fp8::requantize_per_channel<std::int8_t>(acc.data(), out.data(), rows, channels, d.data(), b, p);
          check_elements<std::int8_t>(acc, 0, rows, channels, d.data(), d[0], b, p, out);
          guarded<std::uint8_t> uout(n, 1);
          const auto q = random_params<std::uint8_t>(rng, r);
          fp8::requantize_per_channel<std::uint8_t>(acc.data(), uout.data(), rows, channels, d.data(), b, q);
          check_elements<std::uint8_t>(acc, 0, rows, channels, d.data(), d[0], b, q, uout);
          for (int s = range.lo; s <= range.hi; ++s) {  // per tensor at every shift of the range
            guarded<std::int8_t> t(n, 2);
            fp8::requantize<std::int8_t>(acc.data(), t.data(), rows, channels, {d[2].multiplier, s}, b, p);
            check_elements<std::int8_t>(acc, 0, rows, channels, nullptr, {d[2].multiplier, s}, b, p, t);
          }
        }
      }
    }
  });
}

TEST_CASE("dyadic bulk: per channel, the shift range found wherever its ends lie", "[dyadic]") {
  for_each_entry_tier([&] {
    // The kernels choose their path from the range of the shifts (all <= -1,
    // all >= -22), which each tier scans a vector of channels at a time: one
    // channel that leaves the range, at every position (first vector, later
    // ones, the tail), must change the path.
    std::mt19937_64 rng(600);
    for (const std::size_t channels : {std::size_t{16}, std::size_t{37}, std::size_t{64}}) {
      const std::size_t rows = 3, n = rows * channels;
      std::vector<std::int32_t> acc(n);
      for (auto& a : acc) a = random_int32(rng);
      for (const int odd_shift : {-23, 0, -31, 30}) {
        for (std::size_t at = 0; at < channels; ++at) {
          std::vector<dyadic> d(channels);
          for (auto& x : d) x = {random_int32(rng), -1 - static_cast<int>(rng() % 22)};  // in [-22, -1]
          d[at].shift = odd_shift;
          const auto r = all_roundings[at % 3];
          const auto p = random_params<std::int8_t>(rng, r);
          guarded<std::int8_t> out(n, 0);
          fp8::requantize_per_channel<std::int8_t>(acc.data(), out.data(), rows, channels, d.data(), nullptr, p);
          check_elements<std::int8_t>(acc, 0, rows, channels, d.data(), d[0], nullptr, p, out);
        }
      }
      // Out of bounds at any position: thrown before anything is written.
      for (const int bad : {31, -32}) {
        for (std::size_t at = 0; at < channels; ++at) {
          std::vector<dyadic> d(channels, dyadic{1 << 30, -5});
          d[at].shift = bad;
          std::vector<std::int8_t> out(n, 7);
          CHECK_THROWS_AS(fp8::requantize_per_channel<std::int8_t>(acc.data(), out.data(), rows, channels, d.data(),
                                                                   nullptr, fp8::requantize_params{}),
                          fp8::invalid_argument);
          CHECK(out == std::vector<std::int8_t>(n, 7));
        }
      }
    }
  });
}
