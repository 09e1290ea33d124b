// SPDX-License-Identifier: Apache-2.0
// fp8::counted<T> (types/counted.hpp): what converts to it and what does
// not, and every entry that takes one: an array whose known count is short
// is an fp8::invalid_argument naming it, thrown before any output is
// written; an array of the right (or a larger) count gives the bits a bare
// pointer gives. And fp8::codes<F>: byte buffers reach the entries.
#include <array>
#include <cstddef>
#include <catch2/catch.hpp>
#include <cstdint>
#include <fp8/fp8.hpp>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using fp8::counted;

// Runs f, which must throw fp8::invalid_argument naming `argument` and
// saying "holds".
template <class Fn>
void require_short(Fn&& f, const std::string& argument) {
  try {
    f();
    FAIL("no exception; expected one naming " << argument);
  } catch (const fp8::invalid_argument& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find("'" + argument + "'") != std::string::npos);
    CHECK(what.find("holds") != std::string::npos);
  }
}

template <class T>
std::vector<T> filled(std::size_t n, T v) {
  return std::vector<T>(n, v);
}

}  // namespace

TEST_CASE("counted: what converts and what it knows", "[counted]") {
  const float a[4] = {1, 2, 3, 4};
  std::vector<float> v(5, 1.0f);
  const std::array<float, 3> s = {1, 2, 3};

  const counted<const float> from_pointer = a;  // a C array converts as a pointer
  CHECK(from_pointer.data() == a);
  CHECK_FALSE(from_pointer.known());
  CHECK(from_pointer.size() == counted<const float>::unknown);

  const counted<const float> with_count(a, 4);
  CHECK(with_count.known());
  CHECK(with_count.size() == 4);

  const counted<const float> from_vector = v;
  CHECK(from_vector.data() == v.data());
  CHECK(from_vector.size() == 5);
  const counted<const float> from_array = s;
  CHECK(from_array.size() == 3);

  const counted<float> mutable_view = v;
  const counted<const float> widened = mutable_view;  // float -> const float keeps the count
  CHECK(widened.size() == 5);

  const counted<const float> none = nullptr;
  CHECK(none.data() == nullptr);
  CHECK_FALSE(static_cast<const float*>(none));
  const float* back = with_count;  // converts back to the pointer
  CHECK(back == a);
  CHECK(with_count[2] == 3.0f);

  // A temporary container would dangle; a const container does not give a
  // mutable view; unrelated element types do not convert.
  STATIC_REQUIRE_FALSE(std::is_constructible<counted<const float>, std::vector<float>&&>::value);
  STATIC_REQUIRE(std::is_constructible<counted<const float>, std::vector<float>&>::value);
  STATIC_REQUIRE_FALSE(std::is_constructible<counted<float>, const std::vector<float>&>::value);
  STATIC_REQUIRE_FALSE(std::is_constructible<counted<const float>, std::vector<double>&>::value);
  STATIC_REQUIRE_FALSE(std::is_constructible<counted<float>, counted<const float>>::value);
  STATIC_REQUIRE(std::is_trivially_copyable<counted<const float>>::value);
}

TEST_CASE("counted: gemm_options arrays", "[counted]") {
  using fp8::transpose;
  const std::size_t m = 3, n = 5, k = 8;
  std::vector<fp8::fp8<fp8::E4M3>> a(m * k), b(k * n);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = fp8::fp8<fp8::E4M3>(static_cast<float>(i % 7) - 3.0f);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = fp8::fp8<fp8::E4M3>(static_cast<float>(i % 5) * 0.5f);
  const auto ones_m = filled(m, 2.0f), ones_n = filled(n, 0.5f), bias_n = filled(n, 1.0f);
  const auto short_m = filled(m - 1, 2.0f), short_n = filled(n - 1, 0.5f);
  const auto run = [&](const fp8::gemm_options& o, std::vector<float>& c) {
    fp8::gemm(transpose::no, transpose::no, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n, o);
  };

  // Counted and bare pointers give the same bits.
  fp8::gemm_options bare, whole;
  bare.row_scale = ones_m.data();
  bare.col_scale = ones_n.data();
  bare.bias = bias_n.data();
  whole.row_scale = ones_m;
  whole.col_scale = ones_n;
  whole.bias = bias_n;
  std::vector<float> c_bare(m * n, -1.0f), c_whole(m * n, -2.0f);
  run(bare, c_bare);
  run(whole, c_whole);
  CHECK(c_bare == c_whole);

  // A short array, in each field.
  const std::vector<float> untouched(m * n, 7.0f);
  std::vector<float> c = untouched;
  {
    fp8::gemm_options o = whole;
    o.row_scale = short_m;
    require_short([&] { run(o, c); }, "options.row_scale");
  }
  {
    fp8::gemm_options o = whole;
    o.col_scale = short_n;
    require_short([&] { run(o, c); }, "options.col_scale");
  }
  {
    fp8::gemm_options o = whole;
    o.bias = short_n;
    require_short([&] { run(o, c); }, "options.bias");
  }
  {
    fp8::gemm_options o;
    o.scale_block = 4;  // m x 2 and 2 x 2 block scales
    const auto a_blocks = filled(m * 2, 1.0f), b_blocks = filled(2 * 2, 1.0f);
    const auto a_short = filled(m * 2 - 1, 1.0f), b_short = filled(3, 1.0f);
    o.a_block_scale = a_blocks;
    o.b_block_scale = b_blocks;
    std::vector<float> c_blocks(m * n);
    run(o, c_blocks);  // the right counts run
    o.a_block_scale = a_short;
    require_short([&] { run(o, c); }, "options.a_block_scale");
    o.a_block_scale = a_blocks;
    o.b_block_scale = b_short;
    require_short([&] { run(o, c); }, "options.b_block_scale");
  }
  CHECK(c == untouched);

  // A longer array is fine: the call reads its prefix.
  const auto long_n = filled(n + 3, 0.5f);
  fp8::gemm_options longer = whole;
  longer.col_scale = long_n;
  std::vector<float> c_long(m * n);
  run(longer, c_long);
  CHECK(c_long == c_bare);

  // packed_b takes the same options.
  const fp8::packed_b<fp8::E4M3> pb(transpose::no, k, n, b.data(), n);
  std::vector<float> c_packed = untouched;
  fp8::gemm_options o = whole;
  o.bias = short_n;
  require_short([&] { fp8::gemm(transpose::no, m, 1.0f, a.data(), k, pb, 0.0f, c_packed.data(), n, o); },
                "options.bias");
  CHECK(c_packed == untouched);
}

TEST_CASE("counted: conv2d weight_scales and bias", "[counted]") {
  fp8::conv2d_shape s;
  s.batch = 1;
  s.in_h = s.in_w = 4;
  s.in_c = 3;
  s.out_c = 4;
  s.kernel_h = s.kernel_w = 3;
  s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = 1;
  std::vector<fp8::fp8<fp8::E4M3>> x(s.in_h * s.in_w * s.in_c), w(s.out_c * 9 * s.in_c);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = fp8::fp8<fp8::E4M3>(static_cast<float>(i % 5) - 2.0f);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = fp8::fp8<fp8::E4M3>(static_cast<float>(i % 3) * 0.25f);
  const std::size_t out = s.out_h() * s.out_w() * s.out_c;
  const auto scales = filled(s.out_c, 0.5f), bias = filled(s.out_c, 1.0f);
  const auto short_c = filled(s.out_c - 1, 0.5f);

  std::vector<float> y_bare(out), y_counted(out);
  fp8::conv2d(s, x.data(), 1.0f, w.data(), scales.data(), bias.data(), y_bare.data());
  fp8::conv2d(s, x.data(), 1.0f, w.data(), scales, bias, y_counted.data());
  CHECK(y_bare == y_counted);

  const std::vector<float> untouched(out, 7.0f);
  std::vector<float> y = untouched;
  require_short([&] { fp8::conv2d(s, x.data(), 1.0f, w.data(), short_c, bias, y.data()); }, "weight_scales");
  require_short([&] { fp8::conv2d(s, x.data(), 1.0f, w.data(), scales, short_c, y.data()); }, "bias");
  const fp8::packed_conv_weights<fp8::E4M3> packed(s, w.data());
  require_short([&] { fp8::conv2d(s, x.data(), 1.0f, packed, short_c, bias, y.data()); }, "weight_scales");
  CHECK(y == untouched);
  // Null with a count: no bias.
  fp8::conv2d(s, x.data(), 1.0f, w.data(), scales, counted<const float>(nullptr, 0), y.data());
}

TEST_CASE("counted: per-channel codec scales", "[counted]") {
  const std::size_t rows = 3, cols = 4;
  std::vector<float> src(rows * cols);
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i) * 0.75f - 4.0f;
  const auto row_scales = filled(rows, 0.5f), col_scales = filled(cols, 2.0f), short_rows = filled(rows - 1, 0.5f);
  std::vector<fp8::fp8<fp8::E4M3>> bare(rows * cols), whole(rows * cols);
  fp8::encode_per_channel(src.data(), bare.data(), rows, cols, row_scales.data(), fp8::axis::rows);
  fp8::encode_per_channel(src.data(), whole.data(), rows, cols, row_scales, fp8::axis::rows);
  for (std::size_t i = 0; i < bare.size(); ++i) CHECK(bare[i].bits() == whole[i].bits());

  std::vector<fp8::fp8<fp8::E4M3>> codes(rows * cols, fp8::fp8<fp8::E4M3>::from_bits(0x11));
  require_short([&] { fp8::encode_per_channel(src.data(), codes.data(), rows, cols, short_rows, fp8::axis::rows); },
                "scale");
  // Per column the count is cols: a rows-long array is short.
  require_short([&] { fp8::encode_per_channel(src.data(), codes.data(), rows, cols, row_scales, fp8::axis::columns); },
                "scale");
  for (const auto& c : codes) CHECK(c.bits() == 0x11);
  std::vector<float> back(rows * cols, 7.0f);
  require_short([&] { fp8::decode_per_channel(whole.data(), back.data(), rows, cols, short_rows, fp8::axis::rows); },
                "scale");
  for (float v : back) CHECK(v == 7.0f);
  fp8::decode_per_channel(whole.data(), back.data(), rows, cols, col_scales, fp8::axis::columns);
}

TEST_CASE("counted: integer layer scale, zero point, batch norm and bias arrays", "[counted]") {
  const std::size_t rows = 2, cols = 3;
  const std::vector<float> src = {0.5f, -1.0f, 2.0f, 3.0f, -0.25f, 1.5f};
  const auto scale = filled(cols, 0.1f), short_scale = filled(cols - 1, 0.1f);
  const std::vector<std::int32_t> zero = {1, 2, 3}, short_zero = {1, 2};
  std::vector<std::int8_t> q(rows * cols, 9);
  require_short(
      [&] {
        fp8::quantize_linear_per_channel<std::int8_t>(src.data(), q.data(), rows, cols, short_scale, zero,
                                                      fp8::axis::columns);
      },
      "scale");
  require_short(
      [&] {
        fp8::quantize_linear_per_channel<std::int8_t>(src.data(), q.data(), rows, cols, scale, short_zero,
                                                      fp8::axis::columns);
      },
      "zero_point");
  for (auto v : q) CHECK(v == 9);
  std::vector<std::int8_t> q_bare(rows * cols);
  fp8::quantize_linear_per_channel<std::int8_t>(src.data(), q.data(), rows, cols, scale, zero, fp8::axis::columns);
  fp8::quantize_linear_per_channel<std::int8_t>(src.data(), q_bare.data(), rows, cols, scale.data(), zero.data(),
                                                fp8::axis::columns);
  CHECK(q == q_bare);
  std::vector<float> deq(rows * cols, 7.0f);
  require_short(
      [&] {
        fp8::dequantize_linear_per_channel<std::int8_t>(q.data(), deq.data(), rows, cols, short_scale, nullptr,
                                                        fp8::axis::columns);
      },
      "scale");
  require_short(
      [&] {
        fp8::fake_quantize_linear_per_channel<std::int8_t>(src.data(), deq.data(), rows, cols, scale, short_zero,
                                                           fp8::axis::columns);
      },
      "zero_point");
  for (float v : deq) CHECK(v == 7.0f);

  // Batch-norm folding: every statistic and both outputs.
  const std::size_t channels = 2, per = 3;
  std::vector<float> weight(channels * per, 1.0f), bias(channels, 0.5f);
  const auto gamma = filled(channels, 2.0f), beta = filled(channels, 0.0f), mean = filled(channels, 0.25f),
             var = filled(channels, 1.0f), one = filled(std::size_t{1}, 1.0f);
  std::vector<float> short_weight(channels * per - 1, 1.0f), short_bias(1, 0.5f);
  const auto weight0 = weight, bias0 = bias;
  require_short([&] { fp8::fold_batch_norm(short_weight, bias, channels, per, gamma, beta, mean, var, 1e-5f); },
                "weight");
  require_short([&] { fp8::fold_batch_norm(weight, short_bias, channels, per, gamma, beta, mean, var, 1e-5f); },
                "bias");
  require_short([&] { fp8::fold_batch_norm(weight, bias, channels, per, one, beta, mean, var, 1e-5f); }, "gamma");
  require_short([&] { fp8::fold_batch_norm(weight, bias, channels, per, gamma, one, mean, var, 1e-5f); }, "beta");
  require_short([&] { fp8::fold_batch_norm(weight, bias, channels, per, gamma, beta, one, var, 1e-5f); }, "mean");
  require_short([&] { fp8::fold_batch_norm(weight, bias, channels, per, gamma, beta, mean, one, 1e-5f); }, "var");
  CHECK(weight == weight0);
  CHECK(bias == bias0);
  fp8::fold_batch_norm(weight, bias, channels, per, gamma, beta, mean, var, 1e-5f);

  const std::vector<double> ws = {0.01, 0.02}, ws_short = {0.01};
  std::vector<std::int32_t> acc(channels, 42), acc_short(1, 42);
  require_short([&] { fp8::quantize_bias(bias, acc, channels, ws_short, true, 0.5); }, "weight_scale");
  require_short([&] { fp8::quantize_bias(bias, acc_short, channels, ws, true, 0.5); }, "dst");
  require_short([&] { fp8::quantize_bias(short_bias, acc, channels, ws, true, 0.5); }, "bias");
  for (auto v : acc) CHECK(v == 42);
  fp8::quantize_bias(bias, acc, channels, ws_short, false, 0.5);  // one scale suffices when not per channel
  std::vector<std::int32_t> acc_bare(channels);
  fp8::quantize_bias(bias.data(), acc_bare.data(), channels, ws.data(), false, 0.5);
  CHECK(acc == acc_bare);
}

TEST_CASE("codes<F>: byte buffers reach every entry as fp8<F> arrays", "[counted]") {
  // A weight file's bytes and a framework's uint8 storage.
  const std::size_t m = 2, n = 3, k = 4;
  std::vector<std::uint8_t> a_bytes(m * k), b_bytes(k * n);
  std::vector<std::byte> b_std(k * n);
  for (std::size_t i = 0; i < a_bytes.size(); ++i) a_bytes[i] = static_cast<std::uint8_t>(0x30 + i);
  for (std::size_t i = 0; i < b_bytes.size(); ++i) {
    b_bytes[i] = static_cast<std::uint8_t>(0xB0 + 3 * i);
    b_std[i] = static_cast<std::byte>(b_bytes[i]);
  }
  // The same codes as values.
  std::vector<fp8::fp8<fp8::E4M3>> a(m * k), b(k * n);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = fp8::fp8<fp8::E4M3>::from_bits(a_bytes[i]);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = fp8::fp8<fp8::E4M3>::from_bits(b_bytes[i]);

  const fp8::fp8<fp8::E4M3>* view = fp8::codes<fp8::E4M3>(a_bytes.data());
  CHECK(static_cast<const void*>(view) == static_cast<const void*>(a_bytes.data()));
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(view[i].bits() == a_bytes[i]);

  std::vector<float> want(m * n), got(m * n), got_std(m * n);
  fp8::gemm(fp8::transpose::no, fp8::transpose::no, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, want.data(), n);
  fp8::gemm(fp8::transpose::no, fp8::transpose::no, m, n, k, 1.0f, fp8::codes<fp8::E4M3>(a_bytes.data()), k,
            fp8::codes<fp8::E4M3>(b_bytes.data()), n, 0.0f, got.data(), n);
  fp8::gemm(fp8::transpose::no, fp8::transpose::no, m, n, k, 1.0f, fp8::codes<fp8::E4M3>(a_bytes.data()), k,
            fp8::codes<fp8::E4M3>(b_std.data()), n, 0.0f, got_std.data(), n);
  CHECK(got == want);
  CHECK(got_std == want);

  // Writing codes into bytes.
  const std::vector<float> x = {0.5f, -3.0f, 448.0f, 1e9f};
  std::vector<std::uint8_t> out(x.size());
  fp8::encode(x.data(), fp8::codes<fp8::E4M3>(out.data()), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(out[i] == fp8::fp8<fp8::E4M3>(x[i]).bits());
  std::vector<float> back(x.size());
  fp8::decode(fp8::codes<fp8::E4M3>(out.data()), back.data(), back.size());
  CHECK(back[0] == 0.5f);
  CHECK(back[3] == 448.0f);
}
