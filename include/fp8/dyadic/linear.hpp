// SPDX-License-Identifier: Apache-2.0
// Integer linear quantization with the semantics of ONNX QuantizeLinear and
// DequantizeLinear (opset 13 and later, integer outputs; int4/uint4 as in
// opset 21) and the parameter choice of ONNX DynamicQuantizeLinear, so that
// int8, uint8, int4 and uint4 compare with FP8 on the same footing and an
// integer GEMM can quantize its activations. Every element equals the scalar
// definitions below bit for bit,
//   quantize_linear_value<Out>(x, s, z) = saturate(round_half_even(x / s) + z)
//   dequantize_linear_value(q, s, z)    = float(q - z) * s
// with x / s the float32 quotient (as the ONNX reference computes it), ties
// to even, saturation to Out's range, q - z exact and one float multiply;
// NaN, which ONNX leaves unspecified, quantizes to the zero point (the real
// 0) and +-Inf saturate. Out is std::int8_t, std::uint8_t, fp8::int4 or
// fp8::uint4, the 4-bit types packed two per byte, low nibble first
// (dyadic/int4.hpp, the ONNX order; an odd count leaves the last high nibble
// 0). Bulk calls per tensor and per channel (one scale and zero point per row
// or column of a row-major matrix with leading dimensions, as
// quant/per_channel.hpp) run one pass on the best tier the CPU has
// (AVX-512, AVX2, SSE2, plain C++), chosen once per call at run time whatever
// the build's flags (detail::dispatch, docs/dispatch.md; the vector loops are
// dyadic/linear_loop-inl.hpp, compiled per tier by dyadic/linear_tiers.hpp),
// and throw fp8::invalid_argument naming a bad argument before anything is
// written.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "../codec/simd_core.hpp"
#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/bit.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/enum.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"
#include "../quant/common.hpp"
#include "../quant/per_channel.hpp"
#include "../types/counted.hpp"
#include "../types/float16.hpp"
#include "int4.hpp"
#include "linear_tiers.hpp"
#include "requantize.hpp"

FP8_BEGIN_NAMESPACE

// ---------------------------------------------------------------- scalar definitions
namespace detail {

// The nearest integer to x, ties to even, for |x| < 2^62; independent of the
// floating-point rounding mode and constexpr (std::nearbyint is neither).
// x - trunc(x) is exact: it keeps only bits of x below the units place.
constexpr std::int64_t round_half_even(double x) noexcept {
  const auto t = static_cast<std::int64_t>(x);  // toward zero
  const double f = x - static_cast<double>(t);  // in (-1, 1)
  const bool odd = t % 2 != 0;
  if (f > 0.5 || (f == 0.5 && odd)) return t + 1;
  if (f < -0.5 || (f == -0.5 && odd)) return t - 1;
  return t;
}

}  // namespace detail

// ONNX QuantizeLinear for one element: the code in Out's range (for the 4-bit
// types, before packing). Total: any float, any scale (a zero, negative or
// NaN scale gives whatever the quotient gives; the bulk calls reject them)
// and any zero point (NaN then gives the zero point saturated to Out).
template <class Out>
constexpr std::int32_t quantize_linear_value(float x, float scale, std::int32_t zero_point) noexcept {
  constexpr std::int64_t lo = quantized_type<Out>::lowest, hi = quantized_type<Out>::max;
  const float q = x / scale;  // the float32 quotient ONNX rounds
  std::int64_t r = 0;         // NaN: the real 0
  if (q == q) {
    // Clamping q to [lo - z, hi - z] before rounding gives the same code as
    // saturating after it (rounding is monotonic and the bounds are
    // integers), and keeps the conversion to an integer in range. The bounds
    // are exact in double for every int32 zero point.
    const double lo_q = static_cast<double>(lo - zero_point), hi_q = static_cast<double>(hi - zero_point);
    const double c = q < lo_q ? lo_q : (q > hi_q ? hi_q : static_cast<double>(q));
    r = detail::round_half_even(c);
  }
  const std::int64_t v = r + zero_point;
  return static_cast<std::int32_t>(v < lo ? lo : (v > hi ? hi : v));
}

// ONNX DequantizeLinear for one element: (q - z) * s, the difference exact
// (for q and z inside an 8-bit or 4-bit type it has at most 9 bits), the
// product rounded once in float.
constexpr float dequantize_linear_value(std::int32_t q, float scale, std::int32_t zero_point) noexcept {
  return static_cast<float>(static_cast<std::int64_t>(q) - zero_point) * scale;
}

// Quantize then dequantize: the float an Out tensor would hand to the next
// operator, the integer counterpart of fp8::fake_quantize.
template <class Out>
constexpr float fake_quantize_linear_value(float x, float scale, std::int32_t zero_point) noexcept {
  return dequantize_linear_value(quantize_linear_value<Out>(x, scale, zero_point), scale, zero_point);
}

// ---------------------------------------------------------------- parameter choice
struct linear_params {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

// How linear_params_from_range maps a real range onto Out's codes.
enum class linear_mapping {
  // Zero point in the middle, scale = max(|min|, |max|) / h with h = 127 (8
  // bits) or 7 (4 bits), so [-amax, amax] maps onto z - h .. z + h: z = 0 for
  // int8 and int4, 128 for uint8 and 8 for uint4 (the signed codes plus 2^(b-1),
  // so both signednesses give the same values).
  symmetric,
  // ONNX DynamicQuantizeLinear's formula for any Out: the range extended to
  // include 0, scale = (max - min) / (qmax - qmin), zero point =
  // round_half_even(saturate(qmin - min / scale)), in float as ONNX computes it.
  asymmetric,
};
FP8_ENUM_RANGE(linear_mapping, asymmetric)

// Scale and zero point for values in [range_min, range_max] (finite,
// range_min <= range_max; e.g. a calibration or the tensor's own minimum and
// maximum). The range [0, 0] (an all-zero tensor) gives scale 1 with the
// mapping's zero point (asymmetric: qmin, where the real 0 then sits); a
// scale below FLT_MIN is raised to FLT_MIN (scale_from_amax's rule), so
// every result is a valid argument of the bulk calls. Where max - min
// overflows float (ONNX's scale would be infinite) the asymmetric scale is
// computed as max / (qmax - qmin) - min / (qmax - qmin).
template <class Out>
linear_params linear_params_from_range(float range_min, float range_max,
                                       linear_mapping mapping = linear_mapping::asymmetric) {
  constexpr const char* function = "fp8::linear_params_from_range";
  detail::require_enumerator(function, "mapping", mapping);
  FP8_REQUIRE_ARG(std::isfinite(range_min), function, "range_min",
                  "= " + detail::float_text(range_min) + " is not finite");
  FP8_REQUIRE_ARG(std::isfinite(range_max), function, "range_max",
                  "= " + detail::float_text(range_max) + " is not finite");
  FP8_REQUIRE_ARG(range_min <= range_max, function, "range_max", "is less than range_min");
  constexpr int lo = quantized_type<Out>::lowest, hi = quantized_type<Out>::max;
  linear_params p;
  if (mapping == linear_mapping::symmetric) {
    constexpr int side = (hi - lo) / 2;  // 255 / 2 = 127, 15 / 2 = 7 codes on each side of the zero point
    const float amax = std::fmax(std::fabs(range_min), std::fabs(range_max));
    p.scale = amax == 0.0f ? 1.0f : std::fmax(amax / static_cast<float>(side), FLT_MIN);
    p.zero_point = lo + side + 1;  // -128 + 128 = 0, 0 + 128, -8 + 8 = 0, 0 + 8
    return p;
  }
  constexpr float qmin = static_cast<float>(lo), qmax = static_cast<float>(hi), steps = qmax - qmin;
  const float x_min = range_min < 0.0f ? range_min : 0.0f, x_max = range_max > 0.0f ? range_max : 0.0f;
  if (x_max == x_min) {  // both 0
    p.scale = 1.0f;
  } else {
    float s = (x_max - x_min) / steps;
    if (!std::isfinite(s)) s = x_max / steps - x_min / steps;
    p.scale = std::fmax(s, FLT_MIN);
  }
  const float intermediate = qmin - x_min / p.scale;  // ONNX's intermediate_zero_point, >= qmin as x_min <= 0
  const float saturated = intermediate < qmin ? qmin : (intermediate > qmax ? qmax : intermediate);
  p.zero_point = static_cast<std::int32_t>(detail::round_half_even(static_cast<double>(saturated)));
  return p;
}

// ---------------------------------------------------------------- kernels
// In the flags-named namespace (docs/dispatch.md): the portable tier here,
// the vector tiers in dyadic/linear_tiers.hpp (one loop,
// dyadic/linear_loop-inl.hpp, compiled per tier); the entries choose the
// tier once per call and pass its tag down.
namespace detail {
FP8_BEGIN_TU_NAMESPACE

// The byte that holds a code: two's complement for the signed types, whose
// low nibble is also the 4-bit code (pack_nibbles keeps only that).
constexpr std::uint8_t code_byte(std::int32_t v) noexcept { return static_cast<std::uint8_t>(v & 0xFF); }
// A code byte back to its value: sign-extended for signed types.
template <bool Signed>
constexpr std::int32_t code_value(std::uint8_t b) noexcept {
  return Signed ? static_cast<std::int32_t>(b ^ 0x80u) - 0x80 : static_cast<std::int32_t>(b);
}

// Elements [first, first + n) of a low-nibble-first 4-bit array as code bytes
// (int4 sign-extended by (v ^ 8) - 8, which maps nibbles 8..15 to -8..-1).
template <bool Signed>
inline void read_nibbles(const std::uint8_t* src, std::size_t first, std::uint8_t* dst, std::size_t n) noexcept {
  const auto value = [](unsigned nibble) {
    return static_cast<std::uint8_t>(Signed ? ((nibble ^ 8u) - 8u) & 0xFFu : nibble);
  };
  std::size_t j = 0;
  if (n != 0 && first % 2 != 0) dst[j++] = value(static_cast<unsigned>(src[first / 2]) >> 4);
  const std::uint8_t* p = src + (first + j) / 2;  // first + j is even here
  for (; j + 2 <= n; j += 2, ++p) {
    dst[j] = value(*p & 0xFu);
    dst[j + 1] = value(static_cast<unsigned>(*p) >> 4);
  }
  if (j < n) dst[j] = value(*p & 0xFu);
}

// 16-bit floats widened (exactly) to float, one by one.
template <class Src>
void linear_widen(const Src* src, float* dst, std::size_t n, isa::portable) noexcept {
  for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]);
}

// ------------------------------------------------ the definitions, element by element
// rows x cols elements: (r, c) at src[r * src_ld + c] and dst[r * dst_ld + c];
// channel ch = r (axis::rows) or c (axis::columns) uses scale[ch] and
// zero_point[ch] (zero_point null: all 0). Per tensor is one row. Codes are
// bytes (code_byte). Every tier's overload (dyadic/linear_tiers.hpp) equals
// these.
template <class Out>
void linear_quantize(const float* src, std::size_t src_ld, std::uint8_t* dst, std::size_t dst_ld, std::size_t rows,
                     std::size_t cols, const float* scale, const std::int32_t* zero_point, axis channel,
                     isa::portable) noexcept {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) {
      const std::size_t ch = channel == axis::rows ? r : c;
      dst[r * dst_ld + c] = code_byte(
          quantize_linear_value<Out>(src[r * src_ld + c], scale[ch], zero_point != nullptr ? zero_point[ch] : 0));
    }
}
template <class Out>
void linear_dequantize(const std::uint8_t* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,
                       std::size_t cols, const float* scale, const std::int32_t* zero_point, axis channel,
                       isa::portable) noexcept {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) {
      const std::size_t ch = channel == axis::rows ? r : c;
      dst[r * dst_ld + c] = dequantize_linear_value(code_value<linear_signed<Out>>(src[r * src_ld + c]), scale[ch],
                                                    zero_point != nullptr ? zero_point[ch] : 0);
    }
}
template <class Out>
void linear_fake(const float* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,
                 std::size_t cols, const float* scale, const std::int32_t* zero_point, axis channel,
                 isa::portable) noexcept {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) {
      const std::size_t ch = channel == axis::rows ? r : c;
      dst[r * dst_ld + c] =
          fake_quantize_linear_value<Out>(src[r * src_ld + c], scale[ch], zero_point != nullptr ? zero_point[ch] : 0);
    }
}

// ------------------------------------------------ segments
// A run of n consecutive elements: source values src[0, n) become elements
// [first, first + n) of dst (Out's storage, in elements: bytes, or nibbles of
// the 4-bit types). `codes(x, bytes, offset, m)` turns the m floats x
// (elements offset .. offset + m of the run) into m code bytes. 16-bit
// sources are widened (exactly) and 4-bit codes packed through stack buffers
// of `chunk` elements, without allocation, by the call's tier (float sources
// to 8-bit codes need neither: linear_quantize_rows). Nibbles outside the run
// are kept.
template <class Out, class Src, class Tag, class Codes>
void quantize_segment(const Src* src, std::uint8_t* dst, std::size_t first, std::size_t n, Tag tag, Codes&& codes) {
  constexpr bool float_in = std::is_same<Src, float>::value;
  float values[float_in ? 1 : chunk];
  std::uint8_t bytes[linear_nibbles<Out> ? chunk : 1];
  for (std::size_t i = 0; i < n; i += chunk) {
    const std::size_t m = n - i < chunk ? n - i : chunk;
    const float* x = nullptr;
    if constexpr (float_in) {
      x = src + i;
    } else {
      linear_widen(src + i, values, m, tag);
      x = values;
    }
    if constexpr (linear_nibbles<Out>) {
      codes(x, bytes, i, m);
      write_nibbles(bytes, dst, first + i, m, tag);
    } else {
      codes(x, dst + first + i, i, m);
    }
  }
}

// Elements [first, first + n) of a 4-bit src to n floats; `values(bytes, y,
// offset, m)` turns m code bytes into m floats.
template <class Out, class Values>
void dequantize_segment(const std::uint8_t* src, std::size_t first, float* dst, std::size_t n, Values&& values) {
  std::uint8_t bytes[chunk];
  for (std::size_t i = 0; i < n; i += chunk) {
    const std::size_t m = n - i < chunk ? n - i : chunk;
    read_nibbles<linear_signed<Out>>(src, first + i, bytes, m);
    values(static_cast<const std::uint8_t*>(bytes), dst + i, i, m);
  }
}

// After a 4-bit write of `elements` elements from the start: an odd count
// leaves the last high nibble 0 (the ONNX layout pads with 0).
template <class Out>
void clear_pad_nibble(std::uint8_t* dst, std::size_t elements) noexcept {
  if (linear_nibbles<Out> && elements % 2 != 0)
    dst[elements / 2] = static_cast<std::uint8_t>(dst[elements / 2] & 0x0Fu);
}

// ------------------------------------------------ argument checks
template <class Out>
std::string linear_range_text() {
  return "[" + std::to_string(quantized_type<Out>::lowest) + ", " + std::to_string(quantized_type<Out>::max) + "]";
}
template <class Out>
constexpr bool linear_inside(std::int32_t z) noexcept {
  return z >= quantized_type<Out>::lowest && z <= quantized_type<Out>::max;
}

// The element size of a buffer for the argument checks: values of
// value_size bytes, or, with value_size 0, codes of Out (4-bit codes two to
// a byte: detail::nibbles).
template <class Out>
constexpr std::size_t linear_size(std::size_t value_size) noexcept {
  return value_size != 0 ? value_size : linear_nibbles<Out> ? nibbles : 1;
}

// Per tensor: n elements each side (sizes as linear_size), one scale and
// one zero point; in_place: dst may also equal src.
template <class Out>
void check_linear(const char* function, const void* src, std::size_t src_size, const void* dst, std::size_t dst_size,
                  std::size_t n, float scale, std::int32_t zero_point, bool in_place) {
  std::size_t b[2];
  check_arrays(function, {{"src", src, n, linear_size<Out>(src_size)}, {"dst", dst, n, linear_size<Out>(dst_size)}}, b);
  if (!(in_place && src == dst))
    require_disjoint(function, "dst", dst, b[1], in_place ? "src without being equal to it" : "src", src, b[0]);
  FP8_REQUIRE_ARG(std::isfinite(scale) && scale > 0.0f, function, "scale",
                  "= " + float_text(scale) + " is not a positive finite float");
  FP8_REQUIRE_ARG(linear_inside<Out>(zero_point), function, "zero_point",
                  "= " + std::to_string(zero_point) + " is outside the output range " + linear_range_text<Out>());
}

// Per channel: row-major rows x cols on each side with leading dimensions
// in elements (nibbles for 4-bit codes); `rows` or `cols` scales (positive
// finite) and zero points (null, or inside Out); dst disjoint from src
// (in_place: or equal to it with the same leading dimension), scale and
// zero_point.
template <class Out>
void check_linear_matrix(const char* function, const void* src, std::size_t src_ld, std::size_t src_size,
                         const void* dst, std::size_t dst_ld, std::size_t dst_size, std::size_t rows, std::size_t cols,
                         counted<const float> scale, counted<const std::int32_t> zero_point, axis channel,
                         bool in_place) {
  require_enumerator(function, "channel", channel);
  if (rows == 0 || cols == 0) return;
  FP8_REQUIRE_ARG(scale != nullptr, function, "scale", "is null while rows * cols > 0");
  std::size_t b[2];
  check_matrices(function,
                 {{"src", "src_ld", src, rows, cols, src_ld, linear_size<Out>(src_size)},
                  {"dst", "dst_ld", dst, rows, cols, dst_ld, linear_size<Out>(dst_size)}},
                 b);
  const std::size_t channels = channel == axis::rows ? rows : cols;
  const char* channels_text = channel == axis::rows ? "rows" : "cols";
  require_count(function, "scale", scale, channels, channels_text);
  require_count(function, "zero_point", zero_point, zero_point != nullptr ? channels : 0, channels_text);
  FP8_REQUIRE_ARG(span_fits(scale, channels, sizeof(float)), function, "scale",
                  "runs past the end of the address space");
  FP8_REQUIRE_ARG(zero_point == nullptr || span_fits(zero_point, channels, sizeof(std::int32_t)), function,
                  "zero_point", "runs past the end of the address space");
  if (!(in_place && src == dst && src_ld == dst_ld))
    require_disjoint(function, "dst", dst, b[1],
                     in_place ? "src without being equal to it with the same leading dimension" : "src", src, b[0]);
  require_disjoint(function, "dst", dst, b[1], "scale", scale, channels * sizeof(float));
  require_disjoint(function, "dst", dst, b[1], "zero_point", zero_point, channels * sizeof(std::int32_t));
  // The values last: everything that can be judged without reading the
  // caller's arrays is judged first.
  check_scales(function, "scale", scale, channels);
  if (zero_point != nullptr)
    for (std::size_t i = 0; i < channels; ++i)
      if (!linear_inside<Out>(zero_point[i]))
        fail_argument(function, "zero_point",
                      "[" + std::to_string(i) + "] = " + std::to_string(zero_point[i]) +
                          " is outside the output range " + linear_range_text<Out>());
}

template <class Src>
constexpr bool linear_source =
    std::is_same<Src, float>::value || std::is_same<Src, bfloat16>::value || std::is_same<Src, half>::value;

// ------------------------------------------------ one call on one tier
// rows x cols elements as the definitions above (leading dimensions in
// elements: nibbles for 4-bit codes), on the tier of `tag`. Float sources
// and 8-bit codes go to the tier's kernel in one call; 16-bit sources and
// 4-bit codes a piece of a row at a time, through the segments' buffers.
template <class Out, class Src, class Tag>
void linear_quantize_rows(const Src* src, std::size_t src_ld, std::uint8_t* dst, std::size_t dst_ld, std::size_t rows,
                          std::size_t cols, const float* scale, const std::int32_t* zero_point, axis channel, Tag tag) {
  if constexpr (std::is_same<Src, float>::value && !linear_nibbles<Out>) {
    linear_quantize<Out>(src, src_ld, dst, dst_ld, rows, cols, scale, zero_point, channel, tag);
  } else {
    for (std::size_t r = 0; r < rows; ++r)
      quantize_segment<Out>(src + r * src_ld, dst, r * dst_ld, cols, tag,
                            [&](const float* x, std::uint8_t* bytes, std::size_t c, std::size_t m) {
                              const std::size_t ch = channel == axis::rows ? r : c;
                              linear_quantize<Out>(x, m, bytes, m, 1, m, scale + ch,
                                                   zero_point != nullptr ? zero_point + ch : nullptr, channel, tag);
                            });
  }
}

template <class Out, class Tag>
void linear_dequantize_rows(const std::uint8_t* src, std::size_t src_ld, float* dst, std::size_t dst_ld,
                            std::size_t rows, std::size_t cols, const float* scale, const std::int32_t* zero_point,
                            axis channel, Tag tag) {
  if constexpr (!linear_nibbles<Out>) {
    linear_dequantize<Out>(src, src_ld, dst, dst_ld, rows, cols, scale, zero_point, channel, tag);
  } else {
    for (std::size_t r = 0; r < rows; ++r)
      dequantize_segment<Out>(src, r * src_ld, dst + r * dst_ld, cols,
                              [&](const std::uint8_t* bytes, float* y, std::size_t c, std::size_t m) {
                                const std::size_t ch = channel == axis::rows ? r : c;
                                linear_dequantize<Out>(bytes, m, y, m, 1, m, scale + ch,
                                                       zero_point != nullptr ? zero_point + ch : nullptr, channel, tag);
                              });
  }
}

FP8_END_TU_NAMESPACE
}  // namespace detail

FP8_BEGIN_TU_NAMESPACE
// ---------------------------------------------------------------- per tensor
// Out is std::int8_t, std::uint8_t, fp8::int4 or fp8::uint4, always given
// explicitly: quantize_linear<std::uint8_t>(x, q, n, scale, zero_point).
// Sources are float, fp8::bfloat16 or fp8::half (widened exactly first).
// 4-bit codes occupy quantized_bytes<Out>(n) = (n + 1) / 2 bytes. Each call
// chooses its tier once (detail::dispatch).

template <class Out, class Src>
void quantize_linear(const Src* src, quantized_storage_t<Out>* dst, std::size_t n, float scale,
                     std::int32_t zero_point) {
  static_assert(detail::linear_source<Src>, "sources are float, fp8::bfloat16 or fp8::half");
  detail::check_linear<Out>("fp8::quantize_linear", src, sizeof(Src), dst, 0, n, scale, zero_point, false);
  if (n == 0) return;
  auto* out = reinterpret_cast<std::uint8_t*>(dst);
  detail::dispatch(
      [&](auto tag) { detail::linear_quantize_rows<Out>(src, n, out, n, 1, n, &scale, &zero_point, axis::rows, tag); });
  detail::clear_pad_nibble<Out>(out, n);
}

template <class Out>
void dequantize_linear(const quantized_storage_t<Out>* src, float* dst, std::size_t n, float scale,
                       std::int32_t zero_point) {
  detail::check_linear<Out>("fp8::dequantize_linear", src, 0, dst, sizeof(float), n, scale, zero_point, false);
  if (n == 0) return;
  detail::dispatch([&](auto tag) {
    detail::linear_dequantize_rows<Out>(reinterpret_cast<const std::uint8_t*>(src), n, dst, n, 1, n, &scale,
                                        &zero_point, axis::rows, tag);
  });
}

// In place allowed (src == dst); any other overlap is rejected.
template <class Out>
void fake_quantize_linear(const float* src, float* dst, std::size_t n, float scale, std::int32_t zero_point) {
  detail::check_linear<Out>("fp8::fake_quantize_linear", src, sizeof(float), dst, sizeof(float), n, scale, zero_point,
                            true);
  if (n == 0) return;
  detail::dispatch(
      [&](auto tag) { detail::linear_fake<Out>(src, n, dst, n, 1, n, &scale, &zero_point, axis::rows, tag); });
}

// ---------------------------------------------------------------- per channel
// Row-major rows x cols; element (r, c) at src[r * src_ld + c] and
// dst[r * dst_ld + c] (for 4-bit codes: nibble r * ld + c of the packed
// array). Channel ch = r (axis::rows) or c (axis::columns) uses scale[ch] and
// zero_point[ch] (zero_point may be null: all 0). Elements between cols and
// the leading dimension, nibbles included, are neither read nor written; a
// 4-bit matrix whose span (rows - 1) * ld + cols is odd gets its last high
// nibble set to 0.

template <class Out, class Src>
void quantize_linear_per_channel(const Src* src, std::size_t src_ld, quantized_storage_t<Out>* dst, std::size_t dst_ld,
                                 std::size_t rows, std::size_t cols, counted<const float> scale,
                                 counted<const std::int32_t> zero_point, axis channel) {
  static_assert(detail::linear_source<Src>, "sources are float, fp8::bfloat16 or fp8::half");
  detail::check_linear_matrix<Out>("fp8::quantize_linear_per_channel", src, src_ld, sizeof(Src), dst, dst_ld, 0, rows,
                                   cols, scale, zero_point, channel, false);
  if (rows == 0 || cols == 0) return;
  auto* out = reinterpret_cast<std::uint8_t*>(dst);
  detail::dispatch([&](auto tag) {
    detail::linear_quantize_rows<Out>(src, src_ld, out, dst_ld, rows, cols, scale, zero_point, channel, tag);
  });
  std::size_t span = 0;
  detail::matrix_elements(rows, cols, dst_ld, 1, span);  // fits: check_linear_matrix
  detail::clear_pad_nibble<Out>(out, span);
}
// Dense rows (leading dimension = cols).
template <class Out, class Src>
void quantize_linear_per_channel(const Src* src, quantized_storage_t<Out>* dst, std::size_t rows, std::size_t cols,
                                 counted<const float> scale, counted<const std::int32_t> zero_point, axis channel) {
  quantize_linear_per_channel<Out>(src, cols, dst, cols, rows, cols, scale, zero_point, channel);
}

template <class Out>
void dequantize_linear_per_channel(const quantized_storage_t<Out>* src, std::size_t src_ld, float* dst,
                                   std::size_t dst_ld, std::size_t rows, std::size_t cols, counted<const float> scale,
                                   counted<const std::int32_t> zero_point, axis channel) {
  detail::check_linear_matrix<Out>("fp8::dequantize_linear_per_channel", src, src_ld, 0, dst, dst_ld, sizeof(float),
                                   rows, cols, scale, zero_point, channel, false);
  if (rows == 0 || cols == 0) return;
  detail::dispatch([&](auto tag) {
    detail::linear_dequantize_rows<Out>(reinterpret_cast<const std::uint8_t*>(src), src_ld, dst, dst_ld, rows, cols,
                                        scale, zero_point, channel, tag);
  });
}
template <class Out>
void dequantize_linear_per_channel(const quantized_storage_t<Out>* src, float* dst, std::size_t rows, std::size_t cols,
                                   counted<const float> scale, counted<const std::int32_t> zero_point, axis channel) {
  dequantize_linear_per_channel<Out>(src, cols, dst, cols, rows, cols, scale, zero_point, channel);
}

// In place allowed (src == dst with src_ld == dst_ld).
template <class Out>
void fake_quantize_linear_per_channel(const float* src, std::size_t src_ld, float* dst, std::size_t dst_ld,
                                      std::size_t rows, std::size_t cols, counted<const float> scale,
                                      counted<const std::int32_t> zero_point, axis channel) {
  detail::check_linear_matrix<Out>("fp8::fake_quantize_linear_per_channel", src, src_ld, sizeof(float), dst, dst_ld,
                                   sizeof(float), rows, cols, scale, zero_point, channel, true);
  if (rows == 0 || cols == 0) return;
  detail::dispatch([&](auto tag) {
    detail::linear_fake<Out>(src, src_ld, dst, dst_ld, rows, cols, scale, zero_point, channel, tag);
  });
}
template <class Out>
void fake_quantize_linear_per_channel(const float* src, float* dst, std::size_t rows, std::size_t cols,
                                      counted<const float> scale, counted<const std::int32_t> zero_point,
                                      axis channel) {
  fake_quantize_linear_per_channel<Out>(src, cols, dst, cols, rows, cols, scale, zero_point, channel);
}

FP8_END_TU_NAMESPACE
FP8_END_NAMESPACE
