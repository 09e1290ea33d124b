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
// quant/per_channel.hpp) run one pass on xsimd batches of the build's ISA
// (AVX-512, AVX2, SSE2; plain C++ elsewhere), chosen once per call, and throw
// fp8::invalid_argument naming a bad argument before anything is written.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "../codec/kernels.hpp"
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
#include "../types/float16.hpp"
#include "int4.hpp"
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
// In the flags-named namespace (docs/dispatch.md): xsimd code of the build's
// ISA, which units built with other flags must not share.
namespace detail {
FP8_BEGIN_TU_NAMESPACE

template <class Out>
constexpr bool linear_signed = quantized_type<Out>::lowest < 0;
template <class Out>
constexpr bool linear_nibbles = quantized_type<Out>::bits == 4;

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

inline void widen_values(const float* src, float* dst, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
}
template <class Src>
inline void widen_values(const Src* src, float* dst, std::size_t n) noexcept {
#if FP8_ISA_SSE2
  widen(src, dst, n, isa::best{});
#else
  for (std::size_t i = 0; i < n; ++i) dst[i] = to_float(src[i]);
#endif
}

// ------------------------------------------------ the definitions, element by element
// Code bytes (code_byte) from floats, one scale and zero point for all, or
// one per element (zero_point null: all 0). Every vector overload equals these.
template <class Out>
void linear_quantize(const float* src, std::uint8_t* dst, std::size_t n, float scale, std::int32_t zero_point,
                     isa::portable) noexcept {
  for (std::size_t i = 0; i < n; ++i) dst[i] = code_byte(quantize_linear_value<Out>(src[i], scale, zero_point));
}
template <class Out>
void linear_quantize(const float* src, std::uint8_t* dst, std::size_t n, const float* scale,
                     const std::int32_t* zero_point, isa::portable) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    dst[i] = code_byte(quantize_linear_value<Out>(src[i], scale[i], zero_point != nullptr ? zero_point[i] : 0));
}
template <class Out>
void linear_dequantize(const std::uint8_t* src, float* dst, std::size_t n, float scale, std::int32_t zero_point,
                       isa::portable) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    dst[i] = dequantize_linear_value(code_value<linear_signed<Out>>(src[i]), scale, zero_point);
}
template <class Out>
void linear_dequantize(const std::uint8_t* src, float* dst, std::size_t n, const float* scale,
                       const std::int32_t* zero_point, isa::portable) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    dst[i] = dequantize_linear_value(code_value<linear_signed<Out>>(src[i]), scale[i],
                                     zero_point != nullptr ? zero_point[i] : 0);
}
template <class Out>
void linear_fake(const float* src, float* dst, std::size_t n, float scale, std::int32_t zero_point,
                 isa::portable) noexcept {
  for (std::size_t i = 0; i < n; ++i) dst[i] = fake_quantize_linear_value<Out>(src[i], scale, zero_point);
}
template <class Out>
void linear_fake(const float* src, float* dst, std::size_t n, const float* scale, const std::int32_t* zero_point,
                 isa::portable) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    dst[i] = fake_quantize_linear_value<Out>(src[i], scale[i], zero_point != nullptr ? zero_point[i] : 0);
}

#if FP8_ISA_SSE2
// ------------------------------------------------ per-ISA bytes
// Four int32 batches -> 4 * width signed bytes in order, saturating to
// [-128, 127] (packssdw then packsswb; simd_core.hpp's store_bytes is the
// unsigned twin, saturating to [0, 255]). The packs work within 128-bit
// lanes; AVX2 and AVX-512 restore the order with one dword permute, as
// store_bytes does.
inline void store_signed_bytes(const vi<isa::sse2> (&b)[4], std::uint8_t* dst, isa::sse2) noexcept {
  const __m128i lo = _mm_packs_epi32(b[0], b[1]), hi = _mm_packs_epi32(b[2], b[3]);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_packs_epi16(lo, hi));
}
// 4 bytes -> 4 sign-extended int32 lanes: each byte copied into all four
// bytes of its lane (two self-unpacks), then an arithmetic shift by 24.
inline vi<isa::sse2> load_signed_bytes(const std::uint8_t* src, isa::sse2) noexcept {
  std::int32_t word;
  std::memcpy(&word, src, 4);
  __m128i x = _mm_cvtsi32_si128(word);
  x = _mm_unpacklo_epi8(x, x);
  x = _mm_unpacklo_epi16(x, x);
  return _mm_srai_epi32(x, 24);
}
#if FP8_ISA_AVX2
inline void store_signed_bytes(const vi<isa::avx2> (&b)[4], std::uint8_t* dst, isa::avx2) noexcept {
  const __m256i lo = _mm256_packs_epi32(b[0], b[1]), hi = _mm256_packs_epi32(b[2], b[3]);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm256_permutevar8x32_epi32(_mm256_packs_epi16(lo, hi), order));
}
inline vi<isa::avx2> load_signed_bytes(const std::uint8_t* src, isa::avx2) noexcept {
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src)));
}
#endif
#if FP8_ISA_AVX512
inline void store_signed_bytes(const vi<isa::avx512> (&b)[4], std::uint8_t* dst, isa::avx512) noexcept {
  const __m512i lo = _mm512_packs_epi32(b[0], b[1]), hi = _mm512_packs_epi32(b[2], b[3]);
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  _mm512_storeu_si512(dst, _mm512_permutexvar_epi32(order, _mm512_packs_epi16(lo, hi)));
}
inline vi<isa::avx512> load_signed_bytes(const std::uint8_t* src, isa::avx512) noexcept {
  return _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)));
}
#endif

template <bool Signed, class Tag>
inline void store_code_bytes(const vi<Tag> (&b)[4], std::uint8_t* dst, Tag tag) noexcept {
  if (Signed)
    store_signed_bytes(b, dst, tag);
  else
    store_bytes(b, dst, tag);
}
template <bool Signed, class Tag>
inline vi<Tag> load_code_bytes(const std::uint8_t* src, Tag tag) noexcept {
  return Signed ? load_signed_bytes(src, tag) : load_bytes(src, tag);
}

// ------------------------------------------------ lanes
// The quotient q to a code: NaN -> 0, q clamped to integer bounds [a, b],
// rounded to even (cvtps2dq in the default rounding mode), plus z. Clamping
// to any integers a <= lo - z and b >= hi - z before rounding changes no
// code after saturation (rounding is monotonic, so a quotient beyond a bound
// rounds beyond it, and saturates to the same end either way), and keeps
// cvtps2dq away from its out-of-range result. Two choices of bounds:
//   - 8-bit types: a, b = -R, R with R = hi - lo = 255, the same for every
//     z in range. The code lies in [lo - R, hi + R], where packssdw is exact
//     and packsswb / packuswb then saturate to exactly int8 / uint8: the
//     saturation costs nothing.
//   - 4-bit types, whose byte stores saturate too late: a, b = lo - z, hi - z
//     exactly (integers of at most 5 bits, exact in float), so the code is
//     already in [lo, hi]. A clamp in float lanes; SSE2 has no 32-bit
//     integer min / max.
template <class Out, class Tag>
struct linear_bounds {
  vf<Tag> lo_q, hi_q;
  explicit linear_bounds(vi<Tag> zero_point) noexcept {
    constexpr int lo = quantized_type<Out>::lowest, hi = quantized_type<Out>::max;
    if (linear_nibbles<Out>) {
      lo_q = xsimd::to_float(vi<Tag>(lo) - zero_point);
      hi_q = xsimd::to_float(vi<Tag>(hi) - zero_point);
    } else {
      lo_q = vf<Tag>(static_cast<float>(lo - hi));
      hi_q = vf<Tag>(static_cast<float>(hi - lo));
    }
  }
};

template <class Tag>
inline vi<Tag> linear_code_lanes(vf<Tag> q, vf<Tag> lo_q, vf<Tag> hi_q, vi<Tag> zero_point) noexcept {
  using Fl = vf<Tag>;
  q = xsimd::select(q == q, q, Fl(0.0f));
  q = xsimd::min(xsimd::max(q, lo_q), hi_q);
  return xsimd::nearbyint_as_int(q) + zero_point;
}

// The fake-quantized value of quotient q: NaN -> 0, clamp to the exact
// bounds [lo - z, hi - z] (integers of at most 9 bits, exact in float), round
// to even, back to float (exact), times the scale. Equal to
// float(saturate(round(q) + z) - z) * s by the same monotonicity argument.
template <class Tag>
inline vf<Tag> linear_fake_lanes(vf<Tag> q, vf<Tag> lo_q, vf<Tag> hi_q, vf<Tag> scale) noexcept {
  using Fl = vf<Tag>;
  q = xsimd::select(q == q, q, Fl(0.0f));
  q = xsimd::min(xsimd::max(q, lo_q), hi_q);
  return xsimd::to_float(xsimd::nearbyint_as_int(q)) * scale;
}

// ------------------------------------------------ main loops
// Each converts a multiple of its step (4 vectors: one byte store) and
// returns how many elements it did; the caller finishes with the definition.
// Every vector is loaded before it is stored, so src == dst is safe.

template <class Out, scaling::kind_t K, class Tag>
std::size_t linear_quantize_main(const float* src, std::uint8_t* dst, std::size_t n, float factor,
                                 std::int32_t zero_point, Tag tag) noexcept {
  using Fl = vf<Tag>;
  constexpr std::size_t W = Fl::size;
  const Fl f(factor);
  const vi<Tag> z(zero_point);
  const linear_bounds<Out, Tag> b(z);
  std::size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    vi<Tag> codes[4];
    FP8_UNROLL_VECTORS
    for (std::size_t k = 0; k < 4; ++k)
      codes[k] =
          linear_code_lanes<Tag>(apply_scaling<K, Tag>(Fl::load_unaligned(src + i + k * W), f), b.lo_q, b.hi_q, z);
    store_code_bytes<linear_signed<Out>>(codes, dst + i, tag);
  }
  return i;
}

// One scale and zero point per element (the columns of a row): a true
// division by each scale.
template <class Out, bool HasZeroPoint, class Tag>
std::size_t linear_quantize_main(const float* src, std::uint8_t* dst, std::size_t n, const float* scale,
                                 const std::int32_t* zero_point, Tag tag) noexcept {
  using Fl = vf<Tag>;
  using I = vi<Tag>;
  constexpr std::size_t W = Fl::size;
  std::size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    vi<Tag> codes[4];
    FP8_UNROLL_VECTORS
    for (std::size_t k = 0; k < 4; ++k) {
      const std::size_t j = i + k * W;
      const I z = HasZeroPoint ? I::load_unaligned(zero_point + j) : I(0);
      const linear_bounds<Out, Tag> b(z);  // constants for 8-bit types
      codes[k] = linear_code_lanes<Tag>(Fl::load_unaligned(src + j) / Fl::load_unaligned(scale + j), b.lo_q, b.hi_q, z);
    }
    store_code_bytes<linear_signed<Out>>(codes, dst + i, tag);
  }
  return i;
}

template <class Out, class Tag>
std::size_t linear_dequantize_main(const std::uint8_t* src, float* dst, std::size_t n, float scale,
                                   std::int32_t zero_point, Tag tag) noexcept {
  using Fl = vf<Tag>;
  constexpr std::size_t W = Fl::size;
  const Fl s(scale);
  const vi<Tag> z(zero_point);
  std::size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    FP8_UNROLL_VECTORS
    for (std::size_t k = 0; k < 4; ++k)
      (xsimd::to_float(load_code_bytes<linear_signed<Out>>(src + i + k * W, tag) - z) * s)
          .store_unaligned(dst + i + k * W);
  }
  return i;
}

template <class Out, bool HasZeroPoint, class Tag>
std::size_t linear_dequantize_main(const std::uint8_t* src, float* dst, std::size_t n, const float* scale,
                                   const std::int32_t* zero_point, Tag tag) noexcept {
  using Fl = vf<Tag>;
  using I = vi<Tag>;
  constexpr std::size_t W = Fl::size;
  std::size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    FP8_UNROLL_VECTORS
    for (std::size_t k = 0; k < 4; ++k) {
      const std::size_t j = i + k * W;
      const I z = HasZeroPoint ? I::load_unaligned(zero_point + j) : I(0);
      (xsimd::to_float(load_code_bytes<linear_signed<Out>>(src + j, tag) - z) * Fl::load_unaligned(scale + j))
          .store_unaligned(dst + j);
    }
  }
  return i;
}

template <class Out, scaling::kind_t K, class Tag>
std::size_t linear_fake_main(const float* src, float* dst, std::size_t n, float factor, float scale,
                             std::int32_t zero_point, Tag) noexcept {
  using Fl = vf<Tag>;
  constexpr std::size_t W = Fl::size;
  constexpr int lo = quantized_type<Out>::lowest, hi = quantized_type<Out>::max;
  const Fl f(factor), s(scale), lo_q(static_cast<float>(lo - zero_point)), hi_q(static_cast<float>(hi - zero_point));
  std::size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    Fl y[4];
    FP8_UNROLL_VECTORS
    for (std::size_t k = 0; k < 4; ++k)
      y[k] = linear_fake_lanes<Tag>(apply_scaling<K, Tag>(Fl::load_unaligned(src + i + k * W), f), lo_q, hi_q, s);
    FP8_UNROLL_VECTORS
    for (std::size_t k = 0; k < 4; ++k) y[k].store_unaligned(dst + i + k * W);
  }
  return i;
}

template <class Out, bool HasZeroPoint, class Tag>
std::size_t linear_fake_main(const float* src, float* dst, std::size_t n, const float* scale,
                             const std::int32_t* zero_point, Tag) noexcept {
  using Fl = vf<Tag>;
  using I = vi<Tag>;
  constexpr std::size_t W = Fl::size;
  constexpr int lo = quantized_type<Out>::lowest, hi = quantized_type<Out>::max;
  std::size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    Fl y[4];
    FP8_UNROLL_VECTORS
    for (std::size_t k = 0; k < 4; ++k) {
      const std::size_t j = i + k * W;
      const I z = HasZeroPoint ? I::load_unaligned(zero_point + j) : I(0);
      const Fl s = Fl::load_unaligned(scale + j);
      y[k] = linear_fake_lanes<Tag>(Fl::load_unaligned(src + j) / s, xsimd::to_float(I(lo) - z),
                                    xsimd::to_float(I(hi) - z), s);
    }
    FP8_UNROLL_VECTORS
    for (std::size_t k = 0; k < 4; ++k) y[k].store_unaligned(dst + i + k * W);
  }
  return i;
}

// ------------------------------------------------ vector overloads
// The scaling rule of codec/simd_core.hpp (detail::scaling: a multiply only
// where it is the same correctly rounded quotient) decided from the bits,
// without its std::frexp call, which per-row calls would pay once per row
// (about half the time of a 64-column row): 1 needs no scaling; a normal
// power of two 2^k (fraction bits 0, exponent field 1..254, so -126 <= k <=
// 127) has the reciprocal 2^-k, a float for every such k (2^-127 is
// subnormal, still exact), and x * 2^-k is the correctly rounded x / 2^k;
// everything else divides (a subnormal power of two too: dividing is always
// the definition).
inline scaling linear_scaling(float scale) noexcept {
  scaling s(1.0f);  // kind none
  if (scale == 1.0f) return s;
  const auto u = bit_cast<std::uint32_t>(scale);
  const std::uint32_t exponent = (u >> 23) & 0xFFu;
  if ((u & 0x807FFFFFu) == 0 && exponent - 1u < 254u) {
    s.kind = scaling::multiply;
    s.factor = 1.0f / scale;
  } else {
    s.kind = scaling::divide;
    s.factor = scale;
  }
  return s;
}

// The scaling kind and the presence of per-element zero points become
// template arguments once per call.
template <class Out, class Tag, kernel::if_vector<Tag> = 0>
void linear_quantize(const float* src, std::uint8_t* dst, std::size_t n, float scale, std::int32_t zero_point,
                     Tag tag) noexcept {
  const scaling s = linear_scaling(scale);
  std::size_t done = 0;
  switch (s.kind) {
    case scaling::none:
      done = linear_quantize_main<Out, scaling::none>(src, dst, n, s.factor, zero_point, tag);
      break;
    case scaling::multiply:
      done = linear_quantize_main<Out, scaling::multiply>(src, dst, n, s.factor, zero_point, tag);
      break;
    case scaling::divide:
      done = linear_quantize_main<Out, scaling::divide>(src, dst, n, s.factor, zero_point, tag);
      break;
  }
  linear_quantize<Out>(src + done, dst + done, n - done, scale, zero_point, isa::portable{});
}
template <class Out, class Tag, kernel::if_vector<Tag> = 0>
void linear_quantize(const float* src, std::uint8_t* dst, std::size_t n, const float* scale,
                     const std::int32_t* zero_point, Tag tag) noexcept {
  const std::size_t done = zero_point != nullptr
                               ? linear_quantize_main<Out, true>(src, dst, n, scale, zero_point, tag)
                               : linear_quantize_main<Out, false>(src, dst, n, scale, zero_point, tag);
  linear_quantize<Out>(src + done, dst + done, n - done, scale + done,
                       zero_point != nullptr ? zero_point + done : nullptr, isa::portable{});
}
template <class Out, class Tag, kernel::if_vector<Tag> = 0>
void linear_dequantize(const std::uint8_t* src, float* dst, std::size_t n, float scale, std::int32_t zero_point,
                       Tag tag) noexcept {
  const std::size_t done = linear_dequantize_main<Out>(src, dst, n, scale, zero_point, tag);
  linear_dequantize<Out>(src + done, dst + done, n - done, scale, zero_point, isa::portable{});
}
template <class Out, class Tag, kernel::if_vector<Tag> = 0>
void linear_dequantize(const std::uint8_t* src, float* dst, std::size_t n, const float* scale,
                       const std::int32_t* zero_point, Tag tag) noexcept {
  const std::size_t done = zero_point != nullptr
                               ? linear_dequantize_main<Out, true>(src, dst, n, scale, zero_point, tag)
                               : linear_dequantize_main<Out, false>(src, dst, n, scale, zero_point, tag);
  linear_dequantize<Out>(src + done, dst + done, n - done, scale + done,
                         zero_point != nullptr ? zero_point + done : nullptr, isa::portable{});
}
template <class Out, class Tag, kernel::if_vector<Tag> = 0>
void linear_fake(const float* src, float* dst, std::size_t n, float scale, std::int32_t zero_point, Tag tag) noexcept {
  const scaling s = linear_scaling(scale);
  std::size_t done = 0;
  switch (s.kind) {
    case scaling::none:
      done = linear_fake_main<Out, scaling::none>(src, dst, n, s.factor, scale, zero_point, tag);
      break;
    case scaling::multiply:
      done = linear_fake_main<Out, scaling::multiply>(src, dst, n, s.factor, scale, zero_point, tag);
      break;
    case scaling::divide:
      done = linear_fake_main<Out, scaling::divide>(src, dst, n, s.factor, scale, zero_point, tag);
      break;
  }
  linear_fake<Out>(src + done, dst + done, n - done, scale, zero_point, isa::portable{});
}
template <class Out, class Tag, kernel::if_vector<Tag> = 0>
void linear_fake(const float* src, float* dst, std::size_t n, const float* scale, const std::int32_t* zero_point,
                 Tag tag) noexcept {
  const std::size_t done = zero_point != nullptr ? linear_fake_main<Out, true>(src, dst, n, scale, zero_point, tag)
                                                 : linear_fake_main<Out, false>(src, dst, n, scale, zero_point, tag);
  linear_fake<Out>(src + done, dst + done, n - done, scale + done, zero_point != nullptr ? zero_point + done : nullptr,
                   isa::portable{});
}
#endif  // FP8_ISA_SSE2

// ------------------------------------------------ segments
// A run of n consecutive elements: source values src[0, n) become elements
// [first, first + n) of dst (Out's storage, in elements: bytes, or nibbles of
// the 4-bit types). `codes(x, bytes, offset, m)` turns the m floats x
// (elements offset .. offset + m of the run) into m code bytes. Floats feed
// the kernel in place and 8-bit codes land in place; 16-bit sources are
// widened (exactly) and 4-bit codes packed through stack buffers of `chunk`
// elements, without allocation. Nibbles outside the run are kept.
template <class Out, class Src, class Codes>
void quantize_segment(const Src* src, std::uint8_t* dst, std::size_t first, std::size_t n, Codes&& codes) {
  constexpr bool float_in = std::is_same<Src, float>::value;
  if constexpr (float_in && !linear_nibbles<Out>) {
    codes(src, dst + first, std::size_t{0}, n);
  } else {
    float values[float_in ? 1 : chunk];
    std::uint8_t bytes[linear_nibbles<Out> ? chunk : 1];
    for (std::size_t i = 0; i < n; i += chunk) {
      const std::size_t m = n - i < chunk ? n - i : chunk;
      const float* x = nullptr;
      if constexpr (float_in) {
        x = src + i;
      } else {
        widen_values(src + i, values, m);
        x = values;
      }
      if constexpr (linear_nibbles<Out>) {
        codes(x, bytes, i, m);
        write_nibbles(bytes, dst, first + i, m, isa::best{});
      } else {
        codes(x, dst + first + i, i, m);
      }
    }
  }
}

// Elements [first, first + n) of src (Out's storage) to n floats;
// `values(bytes, y, offset, m)` turns m code bytes into m floats.
template <class Out, class Values>
void dequantize_segment(const std::uint8_t* src, std::size_t first, float* dst, std::size_t n, Values&& values) {
  if constexpr (!linear_nibbles<Out>) {
    values(src + first, dst, std::size_t{0}, n);
  } else {
    std::uint8_t bytes[chunk];
    for (std::size_t i = 0; i < n; i += chunk) {
      const std::size_t m = n - i < chunk ? n - i : chunk;
      read_nibbles<linear_signed<Out>>(src, first + i, bytes, m);
      values(static_cast<const std::uint8_t*>(bytes), dst + i, i, m);
    }
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

// Bytes of `elements` elements of a buffer: values of value_size bytes, or,
// with value_size 0, codes of Out. False when that overflows size_t.
template <class Out>
bool linear_bytes(std::size_t elements, std::size_t value_size, std::size_t& bytes) noexcept {
  if (value_size == 0) {
    bytes = quantized_bytes<Out>(elements);
    return true;
  }
  return bytes_of(elements, value_size, bytes);
}

// Per tensor: n elements each side (value_size as linear_bytes), one scale
// and one zero point; in_place: dst may also equal src.
template <class Out>
void check_linear(const char* function, const void* src, std::size_t src_size, const void* dst, std::size_t dst_size,
                  std::size_t n, float scale, std::int32_t zero_point, bool in_place) {
  if (n != 0) {
    FP8_REQUIRE_ARG(src != nullptr, function, "src", "is null while n > 0");
    FP8_REQUIRE_ARG(dst != nullptr, function, "dst", "is null while n > 0");
    std::size_t sb = 0, db = 0;
    FP8_REQUIRE_ARG(linear_bytes<Out>(n, src_size, sb) && linear_bytes<Out>(n, dst_size, db) &&
                        span_fits(src, sb, 1) && span_fits(dst, db, 1),
                    function, "n", "elements overflow size_t or run past the end of the address space");
    FP8_REQUIRE_ARG((in_place && src == dst) || !overlap(src, sb, dst, db), function, "dst",
                    in_place ? "overlaps src without being equal to it" : "overlaps src");
  }
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
                         const float* scale, const std::int32_t* zero_point, axis channel, bool in_place) {
  require_enumerator(function, "channel", channel);
  if (rows == 0 || cols == 0) return;
  FP8_REQUIRE_ARG(src != nullptr, function, "src", "is null while rows * cols > 0");
  FP8_REQUIRE_ARG(dst != nullptr, function, "dst", "is null while rows * cols > 0");
  FP8_REQUIRE_ARG(scale != nullptr, function, "scale", "is null while rows * cols > 0");
  FP8_REQUIRE_ARG(src_ld >= cols, function, "src_ld", "is less than cols");
  FP8_REQUIRE_ARG(dst_ld >= cols, function, "dst_ld", "is less than cols");
  FP8_REQUIRE_ARG(span_fits(rows, cols, src_ld, src_size == 0 ? 1 : src_size), function, "src_ld",
                  "makes the matrix overflow size_t");
  FP8_REQUIRE_ARG(span_fits(rows, cols, dst_ld, dst_size == 0 ? 1 : dst_size), function, "dst_ld",
                  "makes the matrix overflow size_t");
  const std::size_t channels = channel == axis::rows ? rows : cols;
  std::size_t sb = 0, db = 0;
  linear_bytes<Out>(span_elements(rows, cols, src_ld), src_size, sb);  // fits: span_fits above
  linear_bytes<Out>(span_elements(rows, cols, dst_ld), dst_size, db);
  FP8_REQUIRE_ARG(span_fits(src, sb, 1), function, "src_ld", "makes src run past the end of the address space");
  FP8_REQUIRE_ARG(span_fits(dst, db, 1), function, "dst_ld", "makes dst run past the end of the address space");
  FP8_REQUIRE_ARG(span_fits(scale, channels, sizeof(float)), function, "scale",
                  "runs past the end of the address space");
  FP8_REQUIRE_ARG(zero_point == nullptr || span_fits(zero_point, channels, sizeof(std::int32_t)), function,
                  "zero_point", "runs past the end of the address space");
  FP8_REQUIRE_ARG((in_place && src == dst && src_ld == dst_ld) || !overlap(src, sb, dst, db), function, "dst",
                  in_place ? "overlaps src without being equal to it with the same leading dimension" : "overlaps src");
  FP8_REQUIRE_ARG(!overlap(dst, db, scale, channels * sizeof(float)), function, "dst", "overlaps scale");
  FP8_REQUIRE_ARG(!overlap(dst, db, zero_point, channels * sizeof(std::int32_t)), function, "dst",
                  "overlaps zero_point");
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

FP8_END_TU_NAMESPACE
}  // namespace detail

FP8_BEGIN_TU_NAMESPACE
// ---------------------------------------------------------------- per tensor
// Out is std::int8_t, std::uint8_t, fp8::int4 or fp8::uint4, always given
// explicitly: quantize_linear<std::uint8_t>(x, q, n, scale, zero_point).
// Sources are float, fp8::bfloat16 or fp8::half (widened exactly first).
// 4-bit codes occupy quantized_bytes<Out>(n) = (n + 1) / 2 bytes.

template <class Out, class Src>
void quantize_linear(const Src* src, quantized_storage_t<Out>* dst, std::size_t n, float scale,
                     std::int32_t zero_point) {
  static_assert(detail::linear_source<Src>, "sources are float, fp8::bfloat16 or fp8::half");
  detail::check_linear<Out>("fp8::quantize_linear", src, sizeof(Src), dst, 0, n, scale, zero_point, false);
  auto* out = reinterpret_cast<std::uint8_t*>(dst);
  detail::quantize_segment<Out>(src, out, 0, n, [&](const float* x, std::uint8_t* bytes, std::size_t, std::size_t m) {
    detail::linear_quantize<Out>(x, bytes, m, scale, zero_point, isa::best{});
  });
  detail::clear_pad_nibble<Out>(out, n);
}

template <class Out>
void dequantize_linear(const quantized_storage_t<Out>* src, float* dst, std::size_t n, float scale,
                       std::int32_t zero_point) {
  detail::check_linear<Out>("fp8::dequantize_linear", src, 0, dst, sizeof(float), n, scale, zero_point, false);
  detail::dequantize_segment<Out>(reinterpret_cast<const std::uint8_t*>(src), 0, dst, n,
                                  [&](const std::uint8_t* bytes, float* y, std::size_t, std::size_t m) {
                                    detail::linear_dequantize<Out>(bytes, y, m, scale, zero_point, isa::best{});
                                  });
}

// In place allowed (src == dst); any other overlap is rejected.
template <class Out>
void fake_quantize_linear(const float* src, float* dst, std::size_t n, float scale, std::int32_t zero_point) {
  detail::check_linear<Out>("fp8::fake_quantize_linear", src, sizeof(float), dst, sizeof(float), n, scale, zero_point,
                            true);
  detail::linear_fake<Out>(src, dst, n, scale, zero_point, isa::best{});
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
                                 std::size_t rows, std::size_t cols, const float* scale, const std::int32_t* zero_point,
                                 axis channel) {
  static_assert(detail::linear_source<Src>, "sources are float, fp8::bfloat16 or fp8::half");
  detail::check_linear_matrix<Out>("fp8::quantize_linear_per_channel", src, src_ld, sizeof(Src), dst, dst_ld, 0, rows,
                                   cols, scale, zero_point, channel, false);
  if (rows == 0 || cols == 0) return;
  auto* out = reinterpret_cast<std::uint8_t*>(dst);
  for (std::size_t r = 0; r < rows; ++r) {
    if (channel == axis::rows) {
      const float s = scale[r];
      const std::int32_t z = zero_point != nullptr ? zero_point[r] : 0;
      detail::quantize_segment<Out>(src + r * src_ld, out, r * dst_ld, cols,
                                    [&](const float* x, std::uint8_t* bytes, std::size_t, std::size_t m) {
                                      detail::linear_quantize<Out>(x, bytes, m, s, z, isa::best{});
                                    });
    } else {
      detail::quantize_segment<Out>(src + r * src_ld, out, r * dst_ld, cols,
                                    [&](const float* x, std::uint8_t* bytes, std::size_t c, std::size_t m) {
                                      detail::linear_quantize<Out>(x, bytes, m, scale + c,
                                                                   zero_point != nullptr ? zero_point + c : nullptr,
                                                                   isa::best{});
                                    });
    }
  }
  detail::clear_pad_nibble<Out>(out, detail::span_elements(rows, cols, dst_ld));
}
// Dense rows (leading dimension = cols).
template <class Out, class Src>
void quantize_linear_per_channel(const Src* src, quantized_storage_t<Out>* dst, std::size_t rows, std::size_t cols,
                                 const float* scale, const std::int32_t* zero_point, axis channel) {
  quantize_linear_per_channel<Out>(src, cols, dst, cols, rows, cols, scale, zero_point, channel);
}

template <class Out>
void dequantize_linear_per_channel(const quantized_storage_t<Out>* src, std::size_t src_ld, float* dst,
                                   std::size_t dst_ld, std::size_t rows, std::size_t cols, const float* scale,
                                   const std::int32_t* zero_point, axis channel) {
  detail::check_linear_matrix<Out>("fp8::dequantize_linear_per_channel", src, src_ld, 0, dst, dst_ld, sizeof(float),
                                   rows, cols, scale, zero_point, channel, false);
  if (rows == 0 || cols == 0) return;
  const auto* in = reinterpret_cast<const std::uint8_t*>(src);
  for (std::size_t r = 0; r < rows; ++r) {
    if (channel == axis::rows) {
      const float s = scale[r];
      const std::int32_t z = zero_point != nullptr ? zero_point[r] : 0;
      detail::dequantize_segment<Out>(in, r * src_ld, dst + r * dst_ld, cols,
                                      [&](const std::uint8_t* bytes, float* y, std::size_t, std::size_t m) {
                                        detail::linear_dequantize<Out>(bytes, y, m, s, z, isa::best{});
                                      });
    } else {
      detail::dequantize_segment<Out>(in, r * src_ld, dst + r * dst_ld, cols,
                                      [&](const std::uint8_t* bytes, float* y, std::size_t c, std::size_t m) {
                                        detail::linear_dequantize<Out>(bytes, y, m, scale + c,
                                                                       zero_point != nullptr ? zero_point + c : nullptr,
                                                                       isa::best{});
                                      });
    }
  }
}
template <class Out>
void dequantize_linear_per_channel(const quantized_storage_t<Out>* src, float* dst, std::size_t rows, std::size_t cols,
                                   const float* scale, const std::int32_t* zero_point, axis channel) {
  dequantize_linear_per_channel<Out>(src, cols, dst, cols, rows, cols, scale, zero_point, channel);
}

// In place allowed (src == dst with src_ld == dst_ld).
template <class Out>
void fake_quantize_linear_per_channel(const float* src, std::size_t src_ld, float* dst, std::size_t dst_ld,
                                      std::size_t rows, std::size_t cols, const float* scale,
                                      const std::int32_t* zero_point, axis channel) {
  detail::check_linear_matrix<Out>("fp8::fake_quantize_linear_per_channel", src, src_ld, sizeof(float), dst, dst_ld,
                                   sizeof(float), rows, cols, scale, zero_point, channel, true);
  if (rows == 0 || cols == 0) return;
  for (std::size_t r = 0; r < rows; ++r) {
    if (channel == axis::rows)
      detail::linear_fake<Out>(src + r * src_ld, dst + r * dst_ld, cols, scale[r],
                               zero_point != nullptr ? zero_point[r] : 0, isa::best{});
    else
      detail::linear_fake<Out>(src + r * src_ld, dst + r * dst_ld, cols, scale, zero_point, isa::best{});
  }
}
template <class Out>
void fake_quantize_linear_per_channel(const float* src, float* dst, std::size_t rows, std::size_t cols,
                                      const float* scale, const std::int32_t* zero_point, axis channel) {
  fake_quantize_linear_per_channel<Out>(src, cols, dst, cols, rows, cols, scale, zero_point, channel);
}

FP8_END_TU_NAMESPACE
FP8_END_NAMESPACE
