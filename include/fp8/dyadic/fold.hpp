// SPDX-License-Identifier: Apache-2.0
// The other two pieces HAWQ-V3 needs to run a network in integers
// (Yao et al., ICML 2021):
//   - §3.2 and appendix D: fold batch normalization into the preceding
//     convolution, W' = W * gamma / sqrt(var + eps) per output channel,
//     b' = (b - mean) * gamma / sqrt(var + eps) + beta, computed once in
//     double and rounded once to float; then quantize_bias() turns b' into
//     the int32 bias of scale S_w * S_in (ties to even, as torch.round).
//   - §3.3 and appendix E: residual add and concat with integers only. Each
//     input branch, with its own scale S_i and zero point z_i, is rescaled to
//     the output scale S_out by its own dyadic d_i = to_dyadic(S_i / S_out)
//     (requantize(), no float), the branches are added in wide integers, and
//     the sum gets the output zero point and clamp:
//       residual_add: out = clamp(R(a - z_a, d_a) + R(b - z_b, d_b) + z_out, lo, hi)
//       concat:       out[r][off_i + c] = clamp(R(x_i[r][c] - z_i, d_i) + z_out, lo, hi)
//     where R(x, d) = requantize(sat32(x), d, rounding) and [lo, hi] is the
//     clamp of requantize_params (dyadic/requantize.hpp). Inputs may be
//     int8, uint8 or int32 (an int32 branch is HAWQ-V3's unrequantized
//     convolution output); outputs are int8, uint8, int4 or uint4.
// These loops are scalar (they are memory-bound and rare next to the GEMM);
// bad input throws fp8::invalid_argument before anything is written.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/dispatch.hpp"
#include "../error.hpp"
#include "../types/counted.hpp"
#include "dyadic.hpp"
#include "int4.hpp"
#include "requantize.hpp"

FP8_BEGIN_NAMESPACE
// The functions live in the flags-named namespace (docs/dispatch.md): their
// loops are compiled (and may be vectorized) for the unit's flags, so units
// built with different flags keep their own copies; the types stay shared.
FP8_BEGIN_TU_NAMESPACE

// ---------------------------------------------------------------- batch norm
// weight: out_channels x weights_per_channel (OIHW, or any layout with the
// output channel outermost), bias: out_channels (pass zeros when the
// convolution had none). Both are updated in place. var[c] + eps must be a
// positive finite number.
inline void fold_batch_norm(counted<float> weight, counted<float> bias, std::size_t out_channels,
                            std::size_t weights_per_channel, counted<const float> gamma, counted<const float> beta,
                            counted<const float> mean, counted<const float> var, float eps) {
  const char* function = "fp8::fold_batch_norm";
  if (out_channels != 0) {
    FP8_REQUIRE_ARG(weight != nullptr || weights_per_channel == 0, function, "weight", "is null");
    FP8_REQUIRE_ARG(bias != nullptr, function, "bias", "is null");
    FP8_REQUIRE_ARG(gamma != nullptr, function, "gamma", "is null");
    FP8_REQUIRE_ARG(beta != nullptr, function, "beta", "is null");
    FP8_REQUIRE_ARG(mean != nullptr, function, "mean", "is null");
    FP8_REQUIRE_ARG(var != nullptr, function, "var", "is null");
    // weight and bias are written while the four statistics are read.
    std::size_t wb = 0;
    FP8_REQUIRE_ARG(weights_per_channel == 0 || (detail::bytes_of(out_channels, weights_per_channel, wb) &&
                                                 detail::bytes_of(wb, sizeof(float), wb)),
                    function, "weights_per_channel", "times out_channels overflows size_t");
    detail::require_count(function, "weight", weight, out_channels * weights_per_channel,
                          "out_channels x weights_per_channel");
    detail::require_count(function, "bias", bias, out_channels, "out_channels");
    detail::require_count(function, "gamma", gamma, out_channels, "out_channels");
    detail::require_count(function, "beta", beta, out_channels, "out_channels");
    detail::require_count(function, "mean", mean, out_channels, "out_channels");
    detail::require_count(function, "var", var, out_channels, "out_channels");
    const std::size_t cb = out_channels * sizeof(float);  // out_channels floats exist: bias is not null
    FP8_REQUIRE_ARG(!detail::overlap(weight, wb, bias, cb), function, "bias", "overlaps weight");
    const struct {
      const float* p;
      const char* what;
    } stats[] = {{gamma, "gamma"}, {beta, "beta"}, {mean, "mean"}, {var, "var"}};
    for (const auto& x : stats) {
      FP8_REQUIRE_ARG(!detail::overlap(weight, wb, x.p, cb), function, "weight", std::string("overlaps ") + x.what);
      FP8_REQUIRE_ARG(!detail::overlap(bias, cb, x.p, cb), function, "bias", std::string("overlaps ") + x.what);
    }
  }
  for (std::size_t c = 0; c < out_channels; ++c) {
    const double v = static_cast<double>(var[c]) + static_cast<double>(eps);
    if (!(v > 0.0) || !std::isfinite(v))
      detail::fail_argument(function, "var",
                            "element " + std::to_string(c) + ": var + eps is not a positive finite number");
  }
  for (std::size_t c = 0; c < out_channels; ++c) {
    const double s = static_cast<double>(gamma[c]) / std::sqrt(static_cast<double>(var[c]) + static_cast<double>(eps));
    float* w = weight + c * weights_per_channel;
    for (std::size_t i = 0; i < weights_per_channel; ++i) w[i] = static_cast<float>(static_cast<double>(w[i]) * s);
    bias[c] = static_cast<float>((static_cast<double>(bias[c]) - static_cast<double>(mean[c])) * s +
                                 static_cast<double>(beta[c]));
  }
}

// bias_int[c] = round_half_even(bias[c] / (weight_scale[c] * input_scale)),
// saturated to int32 (so +-inf gives INT32_MAX/MIN; NaN is rejected): the
// bias in the accumulator's scale. weight_scale has
// out_channels entries (per channel), or is read at [0] when per_channel is false.
inline void quantize_bias(counted<const float> bias, counted<std::int32_t> dst, std::size_t out_channels,
                          counted<const double> weight_scale, bool per_channel, double input_scale) {
  const char* function = "fp8::quantize_bias";
  if (out_channels == 0) return;
  FP8_REQUIRE_ARG(bias != nullptr, function, "bias", "is null");
  FP8_REQUIRE_ARG(dst != nullptr, function, "dst", "is null");
  FP8_REQUIRE_ARG(weight_scale != nullptr, function, "weight_scale", "is null");
  detail::require_count(function, "bias", bias, out_channels, "out_channels");
  detail::require_count(function, "dst", dst, out_channels, "out_channels");
  detail::require_count(function, "weight_scale", weight_scale, per_channel ? out_channels : 1,
                        per_channel ? "out_channels" : "one scale (per_channel false)");
  FP8_REQUIRE_ARG(!detail::overlap(dst, out_channels * sizeof(std::int32_t), bias, out_channels * sizeof(float)),
                  function, "dst", "overlaps bias");
  FP8_REQUIRE_ARG(!detail::overlap(dst, out_channels * sizeof(std::int32_t), weight_scale,
                                   (per_channel ? out_channels : 1) * sizeof(double)),
                  function, "dst", "overlaps weight_scale");
  FP8_REQUIRE_ARG(std::isfinite(input_scale) && input_scale > 0.0, function, "input_scale",
                  "must be a positive finite number");
  for (std::size_t c = 0; c < (per_channel ? out_channels : 1); ++c) {
    if (!(std::isfinite(weight_scale[c]) && weight_scale[c] > 0.0))
      detail::fail_argument(function, "weight_scale", "element " + std::to_string(c) + " is not positive and finite");
    // The accumulator's scale divides the bias: it must not underflow to 0
    // (0 / 0) nor lose bits in the subnormal range, nor overflow.
    const double acc_scale = weight_scale[c] * input_scale;
    if (!(acc_scale >= DBL_MIN && acc_scale <= DBL_MAX))
      detail::fail_argument(function, "weight_scale",
                            "element " + std::to_string(c) + " times input_scale is not a normal double");
  }
  for (std::size_t c = 0; c < out_channels; ++c)
    if (std::isnan(bias[c])) detail::fail_argument(function, "bias", "element " + std::to_string(c) + " is NaN");
  for (std::size_t c = 0; c < out_channels; ++c) {
    const double q = std::nearbyint(static_cast<double>(bias[c]) / (weight_scale[per_channel ? c : 0] * input_scale));
    dst[c] = q >= 2147483647.0 ? INT32_MAX : q <= -2147483648.0 ? INT32_MIN : static_cast<std::int32_t>(q);
  }
}

FP8_END_TU_NAMESPACE

// ---------------------------------------------------------------- residual add / concat
// One input branch: its values are x, and x - zero_point is rescaled by d.
struct quantized_branch {
  dyadic d;
  std::int32_t zero_point;
};

template <class In>
struct concat_input {
  const In* data;  // rows x channels
  std::size_t channels;
  quantized_branch branch;
};

namespace detail {
FP8_BEGIN_TU_NAMESPACE

template <class In>
constexpr bool fold_input_ok() noexcept {
  return std::is_same<In, std::int8_t>::value || std::is_same<In, std::uint8_t>::value ||
         std::is_same<In, std::int32_t>::value;
}

template <class In>
inline void fold_check_zero_point(const char* function, const char* argument, std::int32_t z) {
  if (std::is_same<In, std::int32_t>::value) return;
  const std::int32_t lo = std::numeric_limits<In>::min(), hi = std::numeric_limits<In>::max();
  if (z < lo || z > hi)
    fail_argument(function, argument,
                  "= " + std::to_string(z) + " is outside the input range [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "]");
}

// R(x - z, d): the branch rescaled to the output scale (before its zero point).
template <class In>
constexpr std::int32_t fold_rescale(In x, const quantized_branch& b, dyadic_rounding r) noexcept {
  return requantize(saturate_int32(std::int64_t{x} - b.zero_point), b.d, r);
}

template <class Out>
inline void fold_store(std::uint8_t* dst, std::size_t i, std::int32_t v) noexcept {
  if (quantized_type<Out>::bits == 8) {
    dst[i] = requant_low_byte(v);
  } else {
    std::uint8_t& byte = dst[i / 2];
    const unsigned nibble = static_cast<unsigned>(v) & 0xFu;
    byte = static_cast<std::uint8_t>(i % 2 == 0 ? (byte & 0xF0u) | nibble : (byte & 0x0Fu) | (nibble << 4));
  }
}

FP8_END_TU_NAMESPACE
}  // namespace detail

FP8_BEGIN_TU_NAMESPACE

// dst[i] = clamp(R(a[i] - z_a, d_a) + R(b[i] - z_b, d_b) + zero_point, lo, hi), i < n.
// dst may be a or b itself (in place) when the element types match; any
// other overlap is rejected.
template <class Out, class A, class B>
void residual_add(const A* a, const quantized_branch& branch_a, const B* b, const quantized_branch& branch_b,
                  quantized_storage_t<Out>* dst, std::size_t n, const requantize_params& params = {}) {
  static_assert(detail::fold_input_ok<A>() && detail::fold_input_ok<B>(), "inputs are int8, uint8 or int32");
  const char* function = "fp8::residual_add";
  std::size_t bytes[3];
  detail::check_arrays(
      function, {{"a", a, n, sizeof(A)}, {"b", b, n, sizeof(B)}, {"dst", dst, quantized_bytes<Out>(n), 1}}, bytes);
  const std::size_t a_bytes = bytes[0], b_bytes = bytes[1], out_bytes = bytes[2];
  const bool same_a =
      static_cast<const void*>(dst) == static_cast<const void*>(a) && sizeof(A) == 1 && quantized_type<Out>::bits == 8;
  const bool same_b =
      static_cast<const void*>(dst) == static_cast<const void*>(b) && sizeof(B) == 1 && quantized_type<Out>::bits == 8;
  if (!same_a) detail::require_disjoint(function, "dst", dst, out_bytes, "a", a, a_bytes);
  if (!same_b) detail::require_disjoint(function, "dst", dst, out_bytes, "b", b, b_bytes);
  detail::fold_check_zero_point<A>(function, "branch_a.zero_point", branch_a.zero_point);
  detail::fold_check_zero_point<B>(function, "branch_b.zero_point", branch_b.zero_point);
  const detail::requant_plan plan = detail::requant_check<Out>(function, nullptr, nullptr, 0, 0, params);
  auto* out = reinterpret_cast<std::uint8_t*>(dst);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t sum = std::int64_t{detail::fold_rescale(a[i], branch_a, plan.rounding)} +
                             detail::fold_rescale(b[i], branch_b, plan.rounding) + plan.zero_point;
    detail::fold_store<Out>(out, i, static_cast<std::int32_t>(sum < plan.lo ? plan.lo : sum > plan.hi ? plan.hi : sum));
  }
  if (quantized_type<Out>::bits == 4 && n % 2 != 0) out[n / 2] = static_cast<std::uint8_t>(out[n / 2] & 0x0Fu);
}

// Concatenate `count` inputs along the channel axis: dst is rows x
// (sum of inputs[i].channels), input i at channel offset sum_{j<i} channels_j.
template <class Out, class In>
void concat(const concat_input<In>* inputs, std::size_t count, std::size_t rows, quantized_storage_t<Out>* dst,
            const requantize_params& params = {}) {
  static_assert(detail::fold_input_ok<In>(), "inputs are int8, uint8 or int32");
  const char* function = "fp8::concat";
  FP8_REQUIRE_ARG(inputs != nullptr || count == 0, function, "inputs", "is null while count > 0");
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) {
    FP8_REQUIRE_ARG(inputs[i].channels <= std::numeric_limits<std::size_t>::max() / 8 - total, function, "inputs",
                    "channel total overflows");
    total += inputs[i].channels;
  }
  FP8_REQUIRE_ARG(total == 0 || rows <= std::numeric_limits<std::size_t>::max() / 8 / total, function, "rows",
                  "times channels overflows");
  const std::size_t n = rows * total;
  if (n != 0) {
    FP8_REQUIRE_ARG(dst != nullptr, function, "dst", "is null while there are elements");
    for (std::size_t i = 0; i < count; ++i) {
      if (inputs[i].channels == 0) continue;
      if (inputs[i].data == nullptr)
        detail::fail_argument(function, "inputs", "element " + std::to_string(i) + " has null data");
      if (detail::overlap(dst, quantized_bytes<Out>(n), inputs[i].data, rows * inputs[i].channels * sizeof(In)))
        detail::fail_argument(function, "dst", "overlaps the data of input " + std::to_string(i));
    }
  }
  for (std::size_t i = 0; i < count; ++i)
    detail::fold_check_zero_point<In>(function, "inputs", inputs[i].branch.zero_point);
  const detail::requant_plan plan = detail::requant_check<Out>(function, nullptr, nullptr, 0, 0, params);
  if (n == 0) return;  // nothing to write (rows may be huge when no input has a channel)
  auto* out = reinterpret_cast<std::uint8_t*>(dst);
  std::size_t offset = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const concat_input<In>& in = inputs[i];
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < in.channels; ++c) {
        const std::int64_t v =
            std::int64_t{detail::fold_rescale(in.data[r * in.channels + c], in.branch, plan.rounding)} +
            plan.zero_point;
        detail::fold_store<Out>(out, r * total + offset + c,
                                static_cast<std::int32_t>(v < plan.lo   ? plan.lo
                                                          : v > plan.hi ? plan.hi
                                                                        : v));
      }
    }
    offset += in.channels;
  }
  if (quantized_type<Out>::bits == 4 && n % 2 != 0) out[n / 2] = static_cast<std::uint8_t>(out[n / 2] & 0x0Fu);
}

FP8_END_TU_NAMESPACE
FP8_END_NAMESPACE
