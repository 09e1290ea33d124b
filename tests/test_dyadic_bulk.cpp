// SPDX-License-Identifier: Apache-2.0
// Bulk requantization (dyadic/requantize.hpp) equals its element-wise
// definition requantize_element() bit for bit: every output type, every
// rounding, per tensor / with bias / per channel, tails of every length up to
// past two vectors of the widest ISA, misaligned pointers, INT32 extremes; and
// each vector kernel compiled into this binary (not only the best one) equals
// the portable one. Bad input throws before anything is written.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <fp8/dyadic/requantize.hpp>

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
    if (got != want) {
      INFO("n " << n << " i " << i << " acc " << acc[first + i] << " bias " << b << " m " << di.multiplier << " shift "
                << di.shift << " rounding " << static_cast<int>(p.rounding) << " zp " << p.zero_point << " clamp ["
                << p.clamp_min << ", " << p.clamp_max << "] relu " << p.relu);
      REQUIRE(got == want);
    }
  }
  if (fp8::quantized_type<Out>::bits == 4 && n % 2 != 0) CHECK((out.data()[n / 2] & 0xF0) == 0);  // padding nibble
  CHECK(out.canaries_intact());
}

}  // namespace

TEMPLATE_TEST_CASE("dyadic bulk: per tensor equals the element definition, every tail", "[dyadic]", std::int8_t,
                   std::uint8_t, fp8::int4, fp8::uint4) {
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
}

TEMPLATE_TEST_CASE("dyadic bulk: per channel and fused bias equal the element definition", "[dyadic]", std::int8_t,
                   std::uint8_t, fp8::int4, fp8::uint4) {
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
}

TEMPLATE_TEST_CASE("dyadic bulk: long rows and chunked 4-bit output", "[dyadic]", std::int8_t, fp8::int4, fp8::uint4) {
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
}

TEST_CASE("dyadic bulk: INT32 extremes at every shift and multiplier edge", "[dyadic]") {
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
}

TEST_CASE("dyadic bulk: every compiled kernel equals the portable one", "[dyadic]") {
  std::mt19937_64 rng(400);
  using fp8::detail::requant_lanes;
  using fp8::detail::requant_plan;
  for (int trial = 0; trial < 1500; ++trial) {
    const dyadic_rounding r = all_roundings[trial % 3];
    const std::size_t rows = rng() % 5, cols = rng() % 70, period = 1 + rng() % 40;
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
    const requant_plan plan{r, p.zero_point, fp8::requantize_lowest<std::int8_t>(p),
                            fp8::requantize_highest<std::int8_t>(p)};
    std::vector<std::uint8_t> want(rows * out_stride + 1, kCanary);
    fp8::kernel::requantize_tile(acc.data() + 1, acc_stride, want.data(), out_stride, rows, cols, lanes, plan,
                                 fp8::isa::portable{});
    const auto check = [&](auto tag) {
      std::vector<std::uint8_t> got(want.size(), kCanary);
      fp8::kernel::requantize_tile(acc.data() + 1, acc_stride, got.data(), out_stride, rows, cols, lanes, plan, tag);
      INFO("isa " << decltype(tag)::name << " rows " << rows << " cols " << cols << " kind " << kind << " rounding "
                  << static_cast<int>(r));
      REQUIRE(got == want);
    };
#if FP8_ISA_SSE2
    check(fp8::isa::sse2{});
#endif
#if FP8_ISA_AVX2
    check(fp8::isa::avx2{});
#endif
#if FP8_ISA_AVX512
    check(fp8::isa::avx512{});
#endif
    check(fp8::isa::best{});
  }
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

TEST_CASE("dyadic bulk: every narrowing path of the vector kernels", "[dyadic]") {
  // The AVX-512 kernel narrows from the high halves when every shift is <= -1,
  // else per half; it folds the zero point into the rounding constant when
  // every shift is >= -22, else adds it after the shift. Each of the four
  // paths, with and without a bias (the other kernels take them all alike).
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
}
