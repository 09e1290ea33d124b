// SPDX-License-Identifier: Apache-2.0
// The kernels' phase timing (kernels/profile.hpp), built into this unit only:
// each kind of call adds time to the phases it runs and to no other, and a
// unit built without FP8_PROFILE (every other test file of this binary)
// adds nothing.
#define FP8_PROFILE 1
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include <fp8/fp8.hpp>

namespace {

using phase = fp8::profile_phase;

std::vector<fp8::e4m3_t> codes(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::vector<fp8::e4m3_t> v(n);
  for (auto& x : v) x = fp8::e4m3_t::from_bits(static_cast<std::uint8_t>(g() % 0x7E));  // finite, positive
  return v;
}

// The phases with time after f(), from zero.
template <class F>
fp8::profile_counters after(F&& f) {
  fp8::profile_reset();
  f();
  return fp8::profile_totals();
}

}  // namespace

// A blocked gemm run by a unit built without FP8_PROFILE
// (test_profile_off.cpp). Were the two units' kernels one mangled name, the
// linker would keep one copy and one of the cases here would fail.
void fp8_test_gemm_unprofiled();

TEST_CASE("profile: a blocked gemm packs A and B and runs the micro-kernel", "[profile]") {
  const std::size_t m = 64, n = 64, k = 512;
  const auto a = codes(m * k, 1), b = codes(k * n, 2);
  std::vector<float> c(m * n);
  const auto t = after([&] {
    fp8::gemm(fp8::transpose::no, fp8::transpose::no, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
  });
  CHECK(t[phase::pack_a] > 0);
  CHECK(t[phase::pack_b] > 0);
  CHECK(t[phase::kernel] > 0);
  CHECK(t[phase::decode] == 0);
  CHECK(t[phase::output] == 0);  // float C: nothing to convert

  std::vector<fp8::bfloat16> cb(m * n);
  const auto tb = after([&] {
    fp8::gemm(fp8::transpose::no, fp8::transpose::no, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, cb.data(), n);
  });
  CHECK(tb[phase::output] > 0);

  const fp8::packed_b<fp8::E4M3> pb(fp8::transpose::no, k, n, b.data(), n);
  const auto tp = after([&] { fp8::gemm(fp8::transpose::no, m, 1.0f, a.data(), k, pb, 0.0f, c.data(), n); });
  CHECK(tp[phase::pack_b] == 0);  // prepacked
  CHECK(tp[phase::kernel] > 0);
}

TEST_CASE("profile: a one-row gemm decodes A and runs the row kernel, packing nothing", "[profile]") {
  const std::size_t n = 256, k = 1024;
  const auto a = codes(k, 3), b = codes(n * k, 4);
  std::vector<float> c(n);
  const auto t = after([&] {
    fp8::gemm(fp8::transpose::no, fp8::transpose::yes, 1, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c.data(), n);
  });
  CHECK(t[phase::decode] > 0);
  CHECK(t[phase::kernel] > 0);
  CHECK(t[phase::pack_a] == 0);
  CHECK(t[phase::pack_b] == 0);
}

TEST_CASE("profile: a 3x3 convolution decodes its input once and runs the kernel", "[profile]") {
  fp8::conv2d_shape s;
  s.batch = 1;
  s.in_h = s.in_w = 16;
  s.in_c = s.out_c = 32;
  s.kernel_h = s.kernel_w = 3;
  s.pad_top = s.pad_bottom = s.pad_left = s.pad_right = 1;
  const auto x = codes(s.batch * s.in_h * s.in_w * s.in_c, 5);
  const auto w = codes(s.out_c * 9 * s.in_c, 6);
  std::vector<float> y(s.batch * s.out_h() * s.out_w() * s.out_c);
  const fp8::packed_conv_weights<fp8::E4M3> pw(s, w.data());
  const auto t = after([&] { fp8::conv2d(s, x.data(), 1.0f, pw, nullptr, nullptr, y.data()); });
  CHECK(t[phase::decode] > 0);
  CHECK(t[phase::kernel] > 0);
  CHECK(t[phase::pack_b] == 0);  // packed once, outside the call
  CHECK(t[phase::output] == 0);

  fp8::conv2d_options o;
  o.output_layout = fp8::tensor_layout::nchw;
  const auto tn = after([&] { fp8::conv2d(s, x.data(), 1.0f, pw, nullptr, nullptr, y.data(), o); });
  CHECK(tn[phase::output] > 0);  // the NHWC result transposed
}

TEST_CASE("profile: units built without FP8_PROFILE add nothing", "[profile]") {
  const auto t = after([] { fp8_test_gemm_unprofiled(); });
  for (unsigned p = 0; p < fp8::profile_phases; ++p) CHECK(t.ns[p] == 0);
}
