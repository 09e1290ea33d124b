// SPDX-License-Identifier: Apache-2.0
// HAWQ-V3's integer-only helpers (dyadic/fold.hpp): batch-norm folding
// against the formula in long double and against BN applied after the
// convolution; bias quantization ties; residual add and concat against the
// wide-integer reference of dyadic_reference.hpp for every rounding and
// output type, and against float arithmetic within one unit; argument errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <fp8/dyadic/fold.hpp>
#include <fp8/fp8.hpp>  // the umbrella: names must not collide with the rest of the library

#include "dyadic_reference.hpp"

namespace {

using fp8::dyadic;
using fp8::dyadic_rounding;
constexpr dyadic_rounding all_roundings[] = {dyadic_rounding::double_rounding, dyadic_rounding::single_rounding,
                                             dyadic_rounding::half_even};

int ref_index(dyadic_rounding r) {
  return r == dyadic_rounding::double_rounding ? 0 : r == dyadic_rounding::single_rounding ? 1 : 2;
}

// The output of one element from the wide reference.
long long ref_branch(long long x, const fp8::quantized_branch& b, dyadic_rounding r) {
  long long v = x - b.zero_point;
  v = v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v;
  return dref::requantize(static_cast<std::int32_t>(v), b.d.multiplier, b.d.shift, ref_index(r));
}

template <class Out>
int ref_clamp(long long v, const fp8::requantize_params& p) {
  long long lo = std::max<long long>(fp8::quantized_type<Out>::lowest, p.clamp_min);
  if (p.relu) lo = std::max<long long>(lo, p.zero_point);
  const long long hi = std::min<long long>(fp8::quantized_type<Out>::max, p.clamp_max);
  return static_cast<int>(v < lo ? lo : v > hi ? hi : v);
}

template <class Out>
int element(const fp8::quantized_storage_t<Out>* dst, std::size_t i) {
  if constexpr (std::is_same<Out, fp8::int4>::value)
    return fp8::unpack_int4_nibble(dst[i / 2], static_cast<int>(i % 2));
  if constexpr (std::is_same<Out, fp8::uint4>::value)
    return fp8::unpack_uint4_nibble(dst[i / 2], static_cast<int>(i % 2));
  return static_cast<int>(dst[i]);
}

fp8::quantized_branch random_branch(std::mt19937_64& rng, int zlo, int zhi) {
  const double fraction = 1.0 + static_cast<double>(rng() % 1000) / 1000.0;  // draws sequenced
  const double scale = std::ldexp(fraction, static_cast<int>(rng() % 12) - 8);
  const int zero_point = zlo + static_cast<int>(rng() % static_cast<std::uint64_t>(zhi - zlo + 1));
  return {fp8::to_dyadic(scale), zero_point};
}

}  // namespace

TEST_CASE("dyadic fold: batch norm folds into weights and bias", "[dyadic]") {
  std::mt19937 rng(21);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const std::size_t oc = 5, per = 7;
  std::vector<float> w(oc * per), b(oc), gamma(oc), beta(oc), mean(oc), var(oc);
  for (auto& x : w) x = nd(rng);
  for (std::size_t c = 0; c < oc; ++c) {
    b[c] = nd(rng);
    gamma[c] = nd(rng);
    beta[c] = nd(rng);
    mean[c] = nd(rng);
    var[c] = std::fabs(nd(rng)) + 0.1f;
  }
  var[2] = 0.0f;  // eps alone keeps it defined
  const float eps = 1e-5f;
  std::vector<float> wf = w, bf = b;
  fp8::fold_batch_norm(wf.data(), bf.data(), oc, per, gamma.data(), beta.data(), mean.data(), var.data(), eps);
  std::vector<float> x(per);
  for (auto& v : x) v = nd(rng);
  for (std::size_t c = 0; c < oc; ++c) {
    const long double s = static_cast<long double>(gamma[c]) / std::sqrt(static_cast<long double>(var[c]) + eps);
    for (std::size_t i = 0; i < per; ++i) {
      const float want = static_cast<float>(w[c * per + i] * s);
      CHECK(std::fabs(wf[c * per + i] - want) <= std::fabs(want) * 0x1p-23f);  // at most one ulp from long double
    }
    const float want_b = static_cast<float>((b[c] - static_cast<long double>(mean[c])) * s + beta[c]);
    CHECK(std::fabs(bf[c] - want_b) <= std::fabs(want_b) * 0x1p-23f + 1e-30f);
    // BN(conv(x)) == conv'(x): gamma (W x + b - mean) / sqrt(var + eps) + beta.
    long double conv = b[c], folded = bf[c];
    for (std::size_t i = 0; i < per; ++i) {
      conv += static_cast<long double>(w[c * per + i]) * x[i];
      folded += static_cast<long double>(wf[c * per + i]) * x[i];
    }
    const long double bn = gamma[c] * (conv - mean[c]) / std::sqrt(static_cast<long double>(var[c]) + eps) + beta[c];
    CHECK(std::fabs(static_cast<double>(folded - bn)) <= 1e-4 * (1 + std::fabs(static_cast<double>(bn))));
  }
  // A negative var + eps is rejected before anything changes.
  std::vector<float> w2 = w, b2 = b;
  var[4] = -1.0f;
  try {
    fp8::fold_batch_norm(w2.data(), b2.data(), oc, per, gamma.data(), beta.data(), mean.data(), var.data(), eps);
    FAIL("no exception");
  } catch (const fp8::invalid_argument& e) {
    CHECK(std::string(e.argument()) == "var");
  }
  CHECK(w2 == w);
  CHECK(b2 == b);
  CHECK_THROWS_AS(
      fp8::fold_batch_norm(w2.data(), nullptr, oc, per, gamma.data(), beta.data(), mean.data(), var.data(), eps),
      fp8::invalid_argument);
}

TEST_CASE("dyadic fold: bias quantization rounds ties to even and saturates", "[dyadic]") {
  const float bias[] = {1.5f, 2.5f, -2.5f, -0.5f, 1e30f, -1e30f, std::numeric_limits<float>::infinity(), 0.75f};
  const double ws[] = {1.0};
  std::int32_t q[8];
  fp8::quantize_bias(bias, q, 8, ws, false, 1.0);
  CHECK(q[0] == 2);
  CHECK(q[1] == 2);
  CHECK(q[2] == -2);
  CHECK(q[3] == 0);
  CHECK(q[4] == INT32_MAX);
  CHECK(q[5] == INT32_MIN);
  CHECK(q[6] == INT32_MAX);
  CHECK(q[7] == 1);
  const double per_channel[] = {0.5, 0.25};
  fp8::quantize_bias(bias, q, 2, per_channel, true, 0.5);  // 1.5 / 0.25 = 6, 2.5 / 0.125 = 20
  CHECK(q[0] == 6);
  CHECK(q[1] == 20);
  const float nan_bias[] = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  q[0] = 77;
  CHECK_THROWS_AS(fp8::quantize_bias(nan_bias, q, 2, ws, false, 1.0), fp8::invalid_argument);
  CHECK(q[0] == 77);
  CHECK_THROWS_AS(fp8::quantize_bias(bias, q, 2, ws, false, 0.0), fp8::invalid_argument);
}

TEMPLATE_TEST_CASE("dyadic fold: residual add equals the wide reference", "[dyadic]", std::int8_t, std::uint8_t,
                   fp8::int4, fp8::uint4) {
  std::mt19937_64 rng(31);
  for (dyadic_rounding r : all_roundings) {
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{16},
                          std::size_t{17}, std::size_t{100}}) {
      std::vector<std::int8_t> a(n);
      std::vector<std::uint8_t> b(n);
      for (auto& v : a) v = static_cast<std::int8_t>(rng());
      for (auto& v : b) v = static_cast<std::uint8_t>(rng());
      const fp8::quantized_branch ba = random_branch(rng, -128, 127), bb = random_branch(rng, 0, 255);
      fp8::requantize_params p;
      p.rounding = r;
      p.zero_point = fp8::quantized_type<TestType>::lowest + static_cast<int>(rng() % 4);
      p.relu = rng() % 2 == 0;
      std::vector<fp8::quantized_storage_t<TestType>> out(fp8::quantized_bytes<TestType>(n) + 1, 0x5A);
      fp8::residual_add<TestType>(a.data(), ba, b.data(), bb, out.data(), n, p);
      for (std::size_t i = 0; i < n; ++i) {
        const int want = ref_clamp<TestType>(ref_branch(a[i], ba, r) + ref_branch(b[i], bb, r) + p.zero_point, p);
        INFO("i " << i << " a " << int(a[i]) << " b " << int(b[i]));
        REQUIRE(element<TestType>(out.data(), i) == want);
      }
      CHECK(static_cast<std::uint8_t>(out.back()) == 0x5A);
    }
  }
}

TEST_CASE("dyadic fold: residual add with an int32 branch, in place, and errors", "[dyadic]") {
  // HAWQ-V3 §3.3: the main branch is the convolution's int32 output.
  std::mt19937_64 rng(41);
  const std::size_t n = 64;
  std::vector<std::int32_t> m(n);
  std::vector<std::int8_t> res(n), out(n);
  for (auto& v : m) v = static_cast<std::int32_t>(rng() % 200001) - 100000;
  for (auto& v : res) v = static_cast<std::int8_t>(rng());
  const fp8::quantized_branch bm{fp8::to_dyadic(0.0007), 0}, br{fp8::to_dyadic(0.9), -3};
  fp8::requantize_params p;
  p.zero_point = 4;
  fp8::residual_add<std::int8_t>(m.data(), bm, res.data(), br, out.data(), n, p);
  for (std::size_t i = 0; i < n; ++i)
    REQUIRE(out[i] ==
            ref_clamp<std::int8_t>(ref_branch(m[i], bm, p.rounding) + ref_branch(res[i], br, p.rounding) + 4, p));
  // In place over the residual.
  std::vector<std::int8_t> inplace = res;
  fp8::residual_add<std::int8_t>(m.data(), bm, inplace.data(), br, inplace.data(), n, p);
  CHECK(inplace == out);
  // Overlap that is not exact aliasing, and a zero point outside the input type.
  CHECK_THROWS_AS(fp8::residual_add<std::int8_t>(m.data(), bm, res.data(), br, res.data() + 1, n - 1, p),
                  fp8::invalid_argument);
  const fp8::quantized_branch bad{fp8::to_dyadic(0.5), 200};
  CHECK_THROWS_WITH(fp8::residual_add<std::int8_t>(m.data(), bm, res.data(), bad, out.data(), n, p),
                    Catch::Contains("branch_b.zero_point"));
  auto q = p;
  q.zero_point = 300;
  CHECK_THROWS_WITH(fp8::residual_add<std::int8_t>(m.data(), bm, res.data(), br, out.data(), n, q),
                    Catch::Contains("params.zero_point"));
}

TEST_CASE("dyadic fold: integer residual add tracks the real sum within one unit", "[dyadic]") {
  // a = S_a (q_a - z_a), b = S_b (q_b - z_b); out = (a + b) / S_out + z_out.
  // Each branch is rounded once (plus the dyadic's 2^-31 relative error), so
  // the sum is within 1 of the real value, 1/2 + 1/2.
  const double sa = 0.0213, sb = 0.0571, so = 0.0498;
  const fp8::quantized_branch ba{fp8::to_dyadic(sa / so), 3}, bb{fp8::to_dyadic(sb / so), -7};
  fp8::requantize_params p;
  p.rounding = dyadic_rounding::half_even;
  p.zero_point = 1;
  std::vector<std::int8_t> a(256), b(256), out(256);
  for (int i = 0; i < 256; ++i) {
    a[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(i - 128);
    b[static_cast<std::size_t>(i)] = static_cast<std::int8_t>((i * 37) % 256 - 128);
  }
  fp8::residual_add<std::int8_t>(a.data(), ba, b.data(), bb, out.data(), 256, p);
  for (std::size_t i = 0; i < 256; ++i) {
    const double real = (sa * (a[i] - 3) + sb * (b[i] + 7)) / so + 1;
    const double clamped = std::min(127.0, std::max(-128.0, real));
    REQUIRE(std::fabs(out[i] - clamped) <= 1.0);
  }
}

TEMPLATE_TEST_CASE("dyadic fold: concat equals the wide reference", "[dyadic]", std::int8_t, std::uint8_t, fp8::int4) {
  std::mt19937_64 rng(51);
  for (dyadic_rounding r : all_roundings) {
    const std::size_t rows = 1 + rng() % 5;
    const std::size_t channels[] = {3, 0, 8, 5};
    std::vector<std::vector<std::uint8_t>> data(4);
    std::vector<fp8::concat_input<std::uint8_t>> inputs;
    std::size_t total = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      data[i].resize(rows * channels[i]);
      for (auto& v : data[i]) v = static_cast<std::uint8_t>(rng());
      inputs.push_back({data[i].data(), channels[i], random_branch(rng, 0, 255)});
      total += channels[i];
    }
    fp8::requantize_params p;
    p.rounding = r;
    std::vector<fp8::quantized_storage_t<TestType>> out(fp8::quantized_bytes<TestType>(rows * total));
    fp8::concat<TestType>(inputs.data(), inputs.size(), rows, out.data(), p);
    for (std::size_t row = 0; row < rows; ++row) {
      std::size_t offset = 0;
      for (std::size_t i = 0; i < 4; ++i) {
        for (std::size_t c = 0; c < channels[i]; ++c) {
          const int want =
              ref_clamp<TestType>(ref_branch(data[i][row * channels[i] + c], inputs[i].branch, r) + p.zero_point, p);
          REQUIRE(element<TestType>(out.data(), row * total + offset + c) == want);
        }
        offset += channels[i];
      }
    }
  }
  // Errors: a null input with channels, a zero point outside uint8.
  std::vector<std::uint8_t> x(4, 1);
  std::vector<fp8::quantized_storage_t<TestType>> out(8, 0);
  fp8::concat_input<std::uint8_t> bad[] = {{x.data(), 2, {fp8::to_dyadic(1.0), 0}},
                                           {nullptr, 2, {fp8::to_dyadic(1.0), 0}}};
  CHECK_THROWS_AS(fp8::concat<TestType>(bad, 2, 2, out.data()), fp8::invalid_argument);
  bad[1] = {x.data(), 2, {fp8::to_dyadic(1.0), -1}};
  CHECK_THROWS_AS(fp8::concat<TestType>(bad, 2, 2, out.data()), fp8::invalid_argument);
  CHECK(out == std::vector<fp8::quantized_storage_t<TestType>>(8, 0));
}
