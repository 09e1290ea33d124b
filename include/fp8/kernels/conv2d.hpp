// SPDX-License-Identifier: Apache-2.0
// fp8::conv2d: 2-D convolution of FP8 activations with FP8 weights, float32
// sums, as an implicit GEMM on the GEMM's loops and micro-kernels
// (kernels/driver.hpp), with a direct path for depthwise layers. The
// activations may also be bfloat16, half or float and the weights bfloat16
// or half (a layer kept in 16 bits): the GEMM's operand matrix, its kernel
// chosen by kernel_of<tier, TX, TW> (kernels/gemm.hpp).
//
//   output[n][oh][ow][oc] = act( input_scale * weight_scales[oc] * S + bias[oc] )
//   S = sum over kh, kw, ci of x[n][ih][iw][g * Cg + ci] * w[oc][kh][kw][ci]
//   ih = oh * stride_h + kh * dilation_h - pad_top, iw likewise,
//   Cg = in_c / groups, g = oc / (out_c / groups); x is 0 outside the input
//   (a padding tap adds 0 * w, so a NaN or infinite weight there gives NaN).
//
// In float: v = (S * input_scale) * weight_scales[oc] + bias[oc], then ReLU or
// clamp, then the output type: float, bfloat16 or half (nearest even) or FP8
// (from_float(v / output_scale, output_overflow)): the GEMM epilogue
// (kernels/epilogue.hpp) with alpha = input_scale, col_scale = weight_scales.
// Every product is exact (FP8, bfloat16, half; float input rounds its
// products), the sums are float32.
//
// Structure:
// * Dense and grouped layers are, per group, the GEMM
//     C (pixels x Og) = A (pixels x kh*kw*Cg) * B (kh*kw*Cg x Og)
//   with B the group's weights (OHWI rows are B's columns, k contiguous) and
//   A never materialized: conv_source::pack gathers a panel's rows straight
//   from the input, computing each tap's input pixel (or a zero run for
//   padding) from the output pixel, so the input is neither copied nor
//   padded, and no per-pixel table grows with the batch (XNNPACK keeps an
//   indirection buffer of pointers instead; computing the pointers per panel
//   costs a few integer operations per row and tap).
// * 1x1 layers with stride 1 and no padding are straight GEMM: A is the
//   input itself (pixels x in_c, a strided matrix).
// * Depthwise layers (groups == in_c) have one input channel per output
//   channel: a GEMM per channel would have k = kh*kw and n = 1, so they run a
//   direct loop instead: the input decoded to float once, output channels in
//   vectors, one fused multiply-add per tap (exact products: the same bits as
//   multiply-then-add).
// * Weights are packed once by packed_conv_weights (decoded to the GEMM's
//   panels, or to float for depthwise); the overload without it packs them
//   per call.
// * NCHW input is transposed to NHWC once per call (bytes); NCHW output is
//   computed as NHWC floats and transposed while converting.
//
// Bad shapes and arguments throw fp8::invalid_argument naming them (e.g.
// "shape.groups"), before anything is read or written (error.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "../codec/kernels.hpp"
#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"
#include "../types/counted.hpp"
#include "../types/float16.hpp"
#include "../types/fp8.hpp"
#include "buffer.hpp"
#include "depthwise_avx512.hpp"
#include "driver.hpp"
#include "epilogue.hpp"
#include "epilogue_vector.hpp"
#include "gemm.hpp"
#include "microkernel_avx512bf16.hpp"
#include "output.hpp"
#include "pack.hpp"
#include "parallel.hpp"
#include "profile.hpp"

#if FP8_ISA_SSE2
#include <xsimd/xsimd.hpp>
#endif

FP8_BEGIN_NAMESPACE

struct conv2d_shape {
  std::size_t batch = 0, in_h = 0, in_w = 0, in_c = 0, out_c = 0, kernel_h = 0, kernel_w = 0;
  std::size_t stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::size_t dilation_h = 1, dilation_w = 1, groups = 1;

  // Output height and width (0 when the dilated kernel does not fit the
  // padded input or a stride is 0: conv2d rejects those shapes).
  std::size_t out_h() const noexcept { return out_size(in_h, pad_top, pad_bottom, kernel_h, dilation_h, stride_h); }
  std::size_t out_w() const noexcept { return out_size(in_w, pad_left, pad_right, kernel_w, dilation_w, stride_w); }

 private:
  static std::size_t out_size(std::size_t in, std::size_t p0, std::size_t p1, std::size_t k, std::size_t d,
                              std::size_t stride) noexcept {
    constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
    if (k == 0 || d == 0 || stride == 0 || in > max - p0 || in + p0 > max - p1) return 0;
    if (k - 1 > (max - 1) / d) return 0;
    const std::size_t padded = in + p0 + p1, span = d * (k - 1) + 1;
    return span > padded ? 0 : (padded - span) / stride + 1;
  }
};

enum class tensor_layout { nhwc, nchw };  // activations, input and output
enum class weight_layout { ohwi, oihw };  // [out_c][kh][kw][in_c / groups] or [out_c][in_c / groups][kh][kw]

FP8_ENUM_RANGE(tensor_layout, nchw)
FP8_ENUM_RANGE(weight_layout, oihw)

// The options of a convolution: those of every kernel entry (threads,
// executor, activation, FP8 output scale and overflow: kernels/output.hpp),
// and the layouts.
struct conv2d_options : output_options {
  tensor_layout input_layout = tensor_layout::nhwc, output_layout = tensor_layout::nhwc;
  weight_layout weights = weight_layout::ohwi;  // for the overload without packed weights
};

namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace conv {

inline bool mul_fits(std::size_t a, std::size_t b, std::size_t& out) noexcept {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return false;
  out = a * b;
  return true;
}

// Every check of a shape; on return the input, weight and output sizes fit
// size_t (and a float per output element, and an int8 per input element).
inline void check_shape(const char* fn, const conv2d_shape& s) {
  const struct {
    std::size_t v;
    const char* name;
  } nonzero[] = {{s.batch, "shape.batch"},
                 {s.in_h, "shape.in_h"},
                 {s.in_w, "shape.in_w"},
                 {s.in_c, "shape.in_c"},
                 {s.out_c, "shape.out_c"},
                 {s.kernel_h, "shape.kernel_h"},
                 {s.kernel_w, "shape.kernel_w"},
                 {s.stride_h, "shape.stride_h"},
                 {s.stride_w, "shape.stride_w"},
                 {s.dilation_h, "shape.dilation_h"},
                 {s.dilation_w, "shape.dilation_w"},
                 {s.groups, "shape.groups"}};
  for (const auto& f : nonzero) FP8_REQUIRE_ARG(f.v != 0, fn, f.name, "is zero");
  FP8_REQUIRE_ARG(s.in_c % s.groups == 0 && s.out_c % s.groups == 0, fn, "shape.groups",
                  "does not divide both in_c and out_c");
  // Each axis in turn: its padding, its dilated extent, then the fit.
  constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
  FP8_REQUIRE_ARG(s.pad_top <= max - s.in_h, fn, "shape.pad_top", "makes the padded input height overflow size_t");
  FP8_REQUIRE_ARG(s.pad_bottom <= max - s.in_h - s.pad_top, fn, "shape.pad_bottom",
                  "makes the padded input height overflow size_t");
  FP8_REQUIRE_ARG(s.kernel_h - 1 <= (max - 1) / s.dilation_h, fn, "shape.dilation_h",
                  "times kernel_h overflows size_t");
  FP8_REQUIRE_ARG(s.out_h() != 0, fn, "shape.kernel_h", "(dilated) is larger than the padded input height");
  FP8_REQUIRE_ARG(s.pad_left <= max - s.in_w, fn, "shape.pad_left", "makes the padded input width overflow size_t");
  FP8_REQUIRE_ARG(s.pad_right <= max - s.in_w - s.pad_left, fn, "shape.pad_right",
                  "makes the padded input width overflow size_t");
  FP8_REQUIRE_ARG(s.kernel_w - 1 <= (max - 1) / s.dilation_w, fn, "shape.dilation_w",
                  "times kernel_w overflows size_t");
  FP8_REQUIRE_ARG(s.out_w() != 0, fn, "shape.kernel_w", "(dilated) is larger than the padded input width");
  std::size_t x = 0;
  const bool fits = mul_fits(s.batch, s.in_h, x) && mul_fits(x, s.in_w, x) && mul_fits(x, s.in_c, x) &&
                    mul_fits(s.batch, s.out_h(), x) && mul_fits(x, s.out_w(), x) && mul_fits(x, s.out_c, x) &&
                    mul_fits(x, sizeof(float), x) && mul_fits(s.out_c, s.kernel_h, x) && mul_fits(x, s.kernel_w, x) &&
                    mul_fits(x, s.in_c / s.groups, x) && mul_fits(x, sizeof(float), x);
  FP8_REQUIRE_ARG(fits, fn, "shape.batch", "makes the input, weight or output size overflow size_t");
}

inline void check_options(const char* fn, const conv2d_options& o, bool out_is_fp8) {
  ::fp8::detail::require_enumerator(fn, "options.input_layout", o.input_layout);
  ::fp8::detail::require_enumerator(fn, "options.output_layout", o.output_layout);
  ::fp8::detail::require_enumerator(fn, "options.weights", o.weights);
  detail::check_output(fn, o, out_is_fp8, "output");
}

// The checks of a call's tensors besides the shape and options: input (of
// in_size bytes per element) and output present; input_scale and
// weight_scales positive and finite, with every s = input_scale * weight_scales[oc] in the normal float range (the
// epilogue forms it in float: kernels/epilogue.hpp); output overlapping none
// of input, weights (weight_bytes: 0 for packed weights), weight_scales and
// bias. out_bytes: the output's size in bytes.
inline void check_tensors(const char* fn, const conv2d_shape& s, const void* input, std::size_t in_size,
                          float input_scale, const void* weights, std::size_t weight_bytes,
                          counted<const float> weight_scales, counted<const float> bias, const void* output,
                          std::size_t out_bytes) {
  namespace d = ::fp8::detail;
  FP8_REQUIRE_ARG(input != nullptr, fn, "input", "is null");
  FP8_REQUIRE_ARG(output != nullptr, fn, "output", "is null");
  FP8_REQUIRE_ARG(std::isfinite(input_scale) && input_scale > 0.0f, fn, "input_scale",
                  "must be a positive finite float");
  std::size_t in_bytes = 0;  // the count fits (check_shape); its bytes, for wider input types, may not
  FP8_REQUIRE_ARG(mul_fits(s.batch * s.in_h * s.in_w * s.in_c, in_size, in_bytes), fn, "input",
                  "is larger than size_t bytes");
  FP8_REQUIRE_ARG(d::span_fits(input, in_bytes, 1), fn, "input", "runs past the end of the address space");
  FP8_REQUIRE_ARG(d::span_fits(output, out_bytes, 1), fn, "output", "runs past the end of the address space");
  FP8_REQUIRE_ARG(d::span_fits(weights, weight_bytes, 1), fn, "weights", "run past the end of the address space");
  d::require_count(fn, "weight_scales", weight_scales, s.out_c, "out_c");
  d::require_count(fn, "bias", bias, s.out_c, "out_c");
  d::require_disjoint(fn, "output", output, out_bytes, "input", input, in_bytes);
  d::require_disjoint(fn, "output", output, out_bytes, "weights", weights, weight_bytes);
  d::require_disjoint(fn, "output", output, out_bytes, "weight_scales", weight_scales, s.out_c * sizeof(float));
  d::require_disjoint(fn, "output", output, out_bytes, "bias", bias, s.out_c * sizeof(float));
  // The scales' values last, after everything judged without reading them.
  const auto ws = ::fp8::detail::check_scales(fn, "weight_scales", weight_scales, s.out_c);
  const double x = input_scale;
  ::fp8::detail::check_scale_product(fn, "weight_scales", "input_scale x weight_scales",
                                     ::fp8::detail::scale_range{x, x} * ws);
}

// a * b, or SIZE_MAX when that overflows.
inline std::size_t saturating_mul(std::size_t a, std::size_t b) noexcept {
  std::size_t r = 0;
  return mul_fits(a, b, r) ? r : std::numeric_limits<std::size_t>::max();
}

// The direct path and the depthwise ring keep zero-bordered copies of the
// input: (in_h + pads) x (in_w + pads) pixels per image (the ring, at most
// that many). That pays when the copy is of the order of the work, and
// would not when the padding or the dilation is far beyond the input (a
// 2 x 4 output with pad_top = stride_h = 2^62 would ask for 2^62 rows):
// then the call takes the paths that compute each tap's input pixel and
// test it instead (conv_source, depthwise_gather), whose memory is the
// input's. The budget: four times the input pixels plus the output pixels
// times the taps, per image; slack_pixels are the pixels a reader may
// overrun the copy by (the direct path's last tile).
inline bool padded_copy_pays(const conv2d_shape& s, std::size_t slack_pixels = 0) noexcept {
  constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
  const std::size_t hp = s.in_h + s.pad_top + s.pad_bottom, wp = s.in_w + s.pad_left + s.pad_right;  // fit: check_shape
  const std::size_t plane = saturating_mul(hp, wp);
  const std::size_t copy = plane > max - slack_pixels ? max : plane + slack_pixels;
  const std::size_t work = saturating_mul(saturating_mul(s.out_h(), s.out_w()), s.kernel_h * s.kernel_w);
  const std::size_t in = s.in_h * s.in_w;
  const std::size_t budget = saturating_mul(4, in > max - work ? in : in + work);
  // ... and the whole copy, batch x copy x in_c floats, fits size_t.
  return copy <= budget && saturating_mul(saturating_mul(saturating_mul(s.batch, copy), s.in_c), sizeof(float)) < max;
}

// The NHWC input widened to T (float or bfloat16, exact) into a buffer of
// (in_h + pad_top + pad_bottom) x (in_w + pad_left + pad_right) pixels whose
// border is zero: every tap of every output pixel is then in bounds.
// slack: zero elements after the last pixel, for readers that overrun it.
// The padded rows are shared among `threads` parts on executor ex: the
// decode writes a buffer larger than L2 and is bound by its stores (on a
// 1x1 C256 layer, 56x56, one thread decoding took a third of a two-thread
// call's time).
template <class T, class TX, class Tag>
aligned_buffer<T> decode_padded(const conv2d_shape& s, const TX* x, std::size_t slack, executor* ex,
                                std::size_t threads, Tag tag) {
  const std::size_t hp = s.in_h + s.pad_top + s.pad_bottom, wp = s.in_w + s.pad_left + s.pad_right, c = s.in_c;
  aligned_buffer<T> xp(s.batch * hp * wp * c + slack);
  std::fill(xp.data() + s.batch * hp * wp * c, xp.data() + xp.size(), T{});
  const std::size_t rows = s.batch * hp, parts = std::min(threads, rows);
  parallel_run(ex, parts, [&](std::size_t t) {
    FP8_PROFILE_SCOPE(decode);
    std::size_t r0, r1;
    part_range(rows, 1, parts, t, r0, r1);
    for (std::size_t r = r0; r < r1; ++r) {
      const std::size_t n = r / hp, h = r % hp;
      T* row = xp.data() + r * wp * c;
      if (h < s.pad_top || h - s.pad_top >= s.in_h) {
        std::fill(row, row + wp * c, T{});
        continue;
      }
      std::fill(row, row + s.pad_left * c, T{});
      widen_to<T>(x + (n * s.in_h + h - s.pad_top) * s.in_w * c, row + s.pad_left * c, s.in_w * c, tag);
      std::fill(row + (s.pad_left + s.in_w) * c, row + wp * c, T{});
    }
  });
  return xp;
}

inline bool depthwise(const conv2d_shape& s) noexcept { return s.groups == s.in_c && s.groups > 1; }
inline bool pointwise(const conv2d_shape& s) noexcept {
  return s.kernel_h == 1 && s.kernel_w == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_top == 0 &&
         s.pad_left == 0 && s.pad_bottom == 0 && s.pad_right == 0;
}

// The A operand of a group's GEMM: row p is output pixel p (n, oh, ow), k is
// (kh, kw, ci) with ci fastest. The input is decoded once per call to the
// micro-kernel's type P (x: NHWC values, exact); pack() gathers a panel's
// rows straight from it, computing each tap's input pixel from the output
// pixel (a run of zeros for taps in the padding), and writes K's packed
// layout (pack.hpp): [k / G][R][G]. Decoding per tap instead would decode
// every input value kh * kw times.
template <class P>
struct conv_source {
  using value_type = P;
  const P* x;      // NHWC input, decoded
  const P* zeros;  // in_c zeros
  const conv2d_shape* s;
  std::size_t oh, ow, cg, coff;  // output size, channels per group, the group's first channel
  std::size_t row0;              // first output pixel (rows_from)

  template <class K>
  void pack(std::size_t r0, std::size_t rows, std::size_t R, std::size_t k0, std::size_t kc, std::uint8_t*,
            typename K::packed* dst, std::size_t) const noexcept {
    static_assert(std::is_same<typename K::packed, P>::value, "the input is decoded to the kernel's type");
    constexpr std::size_t G = K::kgroup;
    const std::size_t groups = (kc + G - 1) / G;
    alignas(64) P run[K::block.kc + G];  // one row's values of k [k0, k0 + kc), zero-padded to whole groups
    for (std::size_t r = 0; r < R; ++r) {
      if (r >= rows) {
        for (std::size_t g = 0; g < groups; ++g)
          for (std::size_t t = 0; t < G; ++t) dst[(g * R + r) * G + t] = P{};
        continue;
      }
      const std::size_t p = row0 + r0 + r, q = p % (oh * ow), n = p / (oh * ow), y = q / ow, xo = q % ow;
      for (std::size_t k = k0; k < k0 + kc;) {
        const std::size_t tap = k / cg, c = k % cg, len = std::min(cg - c, k0 + kc - k);
        const std::size_t th = tap / s->kernel_w, tw = tap % s->kernel_w;
        const std::size_t ih = y * s->stride_h + th * s->dilation_h, iw = xo * s->stride_w + tw * s->dilation_w;
        const P* src = zeros;
        if (ih >= s->pad_top && ih - s->pad_top < s->in_h && iw >= s->pad_left && iw - s->pad_left < s->in_w)
          src = x + ((n * s->in_h + ih - s->pad_top) * s->in_w + iw - s->pad_left) * s->in_c + coff + c;
        std::memcpy(run + (k - k0), src, len * sizeof(P));
        k += len;
      }
      for (std::size_t t = kc; t < groups * G; ++t) run[t] = P{};
      // One group (G values: a bfloat16 pair is one dword) per store.
      for (std::size_t g = 0; g < groups; ++g) std::memcpy(dst + (g * R + r) * G, run + g * G, G * sizeof(P));
    }
  }
  conv_source rows_from(std::size_t r) const noexcept {
    conv_source c = *this;
    c.row0 += r;
    return c;
  }
};

#if FP8_TIER_AVX512BF16
// Dense and grouped layers on AVX512-BF16 with an even number of channels
// per group: an A source the micro-kernel reads in place (driver.hpp), from
// the input decoded once to bfloat16 into a zero-bordered NHWC buffer
// (decode_padded: the padding is part of that one decode, the only copy of
// the input). Row i of a tile is output pixel ow0 + i of one output row, so
// for every tap its k pairs sit at a fixed stride (stride_w * in_c values)
// from the previous row's: one segment per tap (or part of one, at the edges
// of a block of k) tells the kernel where each tap's channels start. Nothing
// is packed per call but B (once, by packed_conv_weights).
inline bool direct_ok(const conv2d_shape& s) noexcept { return !depthwise(s) && (s.in_c / s.groups) % 2 == 0; }

struct direct_source {
  static constexpr bool in_place = true;
  using K = gemm_bf16dot_12x32__avx512bf16;  // the one kernel that reads A in place
  const bfloat16* xp;                        // decode_padded's buffer
  const conv2d_shape* s;
  std::size_t oh, ow, hp, wp, cg, coff;  // output size, padded input size, channels per group, the group's first
  std::size_t row0;                      // first output pixel (rows_from)
  // Output pixels whose input pixels lie stride_w * in_c apart: one output
  // row; 0 for a 1x1 stride-1 layer without padding, whose output pixel p
  // reads input pixel p, so that tiles, blocks and threads' parts may cut
  // its rows anywhere (a period of every pixel would make one MC block of
  // the whole batch and leave threads only n to split).
  std::size_t period;

  // The segments of k [pc, pc + kc): a kc block holds at most kc / 2 pairs,
  // so at most kc / 2 + 1 runs of whole taps.
  struct segments {
    detail::a_segment seg[K::block.kc / 2 + 1];
    std::size_t count = 0;
  };
  template <class KK>
  segments k_block(std::size_t pc, std::size_t kc) const noexcept {
    static_assert(std::is_same<KK, K>::value, "A read in place needs the vdpbf16ps kernel");
    segments r;
    for (std::size_t k = pc; k < pc + kc;) {  // cg is even: pairs never straddle taps
      const std::size_t tap = k / cg, c = k % cg, end = std::min(pc + kc, (tap + 1) * cg);
      const std::size_t th = tap / s->kernel_w, tw = tap % s->kernel_w;
      const std::size_t off = (th * s->dilation_h * wp + tw * s->dilation_w) * s->in_c + coff + c;
      r.seg[r.count++] = {off * sizeof(bfloat16), (end - k) / 2};
      k = end;
    }
    return r;
  }
  std::size_t row_period() const noexcept { return period; }
  std::size_t period_left(std::size_t i) const noexcept {
    return period == 0 ? K::block.mr : period - (row0 + i) % period;
  }
  // The tile of rows [i, i + mv) (pixels of one period). The kernel
  // computes whole variants of 1, 2, 4, 8 or 12 rows: on the last tile of
  // the last output row its rows past the valid ones read up to MR - 1
  // pixels (stride_w apart) past the buffer, which decode_padded's slack
  // keeps in bounds.
  template <class KK>
  void run_tile(const segments& where, std::size_t i, std::size_t mv, const bfloat16* b, float* c, std::size_t ldc,
                std::size_t nv, const tile_epilogue& e) const noexcept {
    const std::size_t p = row0 + i, n = p / (oh * ow), q = p % (oh * ow), y = q / ow, xo = q % ow;
    const bfloat16* first = xp + ((n * hp + y * s->stride_h) * wp + xo * s->stride_w) * s->in_c;
    K::run_direct(where.seg, where.count, reinterpret_cast<const unsigned char*>(first),
                  s->stride_w * s->in_c * sizeof(bfloat16), b, c, ldc, mv, nv, e);
  }
  direct_source rows_from(std::size_t r) const noexcept {
    direct_source d = *this;
    d.row0 += r;
    return d;
  }
  // Slack for decode_padded: the pixels the last tile may read past the input.
  static std::size_t slack_pixels(const conv2d_shape& sh) noexcept {
    return saturating_mul(K::block.mr - 1, sh.stride_w);
  }
};
#endif

}  // namespace conv
FP8_END_TU_NAMESPACE
}  // namespace kernel

namespace kernel {
// What packed_conv_weights holds, whatever the weights' type: per group, the
// GEMM's packed B panels (kernels/driver.hpp's prepacked layout for the
// micro-kernel of the tier the constructor runs, recorded in layout()), or,
// for depthwise shapes, float weights [kh][kw][out_c]. A convolution runs on
// this alone, so its code is instantiated once per input type and kernel,
// not once per weight type too.
class conv_panels {
 public:
  const conv2d_shape& shape() const noexcept { return s_; }
  // The micro-kernel the panels are laid out for (empty for depthwise).
  const panel_layout& layout() const noexcept { return layout_; }
  // Group g's panels for kernel K, whose layout must be layout().
  template <class K>
  prepacked_view<K> group(std::size_t g) const noexcept {
    const typename K::packed* p;
    if constexpr (std::is_same<typename K::packed, float>::value)
      p = f32_.data();
    else
      p = bf16_.data();
    return {p + g * group_size_, (s_.out_c / s_.groups + K::block.nr - 1) / K::block.nr, least_step_};
  }
  const float* depthwise_weights() const noexcept { return dw_.data(); }
  // kernel::least_step of the weights (kernels/gemm.hpp).
  int least_step() const noexcept { return least_step_; }

 protected:
  explicit conv_panels(const conv2d_shape& s) : s_(s) {}
  conv2d_shape s_;
  panel_layout layout_;
  std::size_t group_size_ = 0;
  int least_step_ = 0;
  aligned_buffer<bfloat16> bf16_;  // the panels of a bfloat16 kernel, or
  aligned_buffer<float> f32_;      // those of a float kernel
  aligned_buffer<float> dw_;       // depthwise: float weights
};
}  // namespace kernel

// Weights packed once for a shape (kernel::conv_panels). The pointer is not
// kept. FW names the weights' elements as packed_b's first parameter does:
// an FP8 format (fp8<FW> codes), bfloat16 or half. TX is the type of the
// input it will meet: FP8 and bfloat16 input share one packing (the
// default), float and half input need packed_conv_weights<FW, float> (half
// weights always pack float panels).
template <class FW, class TX = bfloat16>
class packed_conv_weights : public kernel::conv_panels {
 public:
  using w_type = kernel::b_operand_t<FW>;
  static_assert(kernel::is_gemm_b_value<w_type>, "weights hold fp8<F>, bfloat16 or half");

  // A template only to keep units built with different flags apart (as
  // packed_b's constructor).
  template <class Key = ::fp8::detail::tu_key>
  packed_conv_weights(const conv2d_shape& s, const w_type* weights, weight_layout layout = weight_layout::ohwi)
      : conv_panels(s) {
    const char* fn = "fp8::packed_conv_weights";
    kernel::conv::check_shape(fn, s);
    FP8_REQUIRE_ARG(weights != nullptr, fn, "weights", "is null");
    ::fp8::detail::require_enumerator(fn, "layout", layout);
    const std::size_t cg = s.in_c / s.groups, taps = s.kernel_h * s.kernel_w;
    const std::size_t kdim = taps * cg;
    const w_type* w = weights;
    if (kernel::conv::depthwise(s)) {
      // cg == 1: OHWI and OIHW are the same array.
      dw_ = kernel::aligned_buffer<float>(taps * s.out_c);
      kernel::aligned_buffer<float> row(taps);
      ::fp8::detail::dispatch([&](auto tier) {
        for (std::size_t oc = 0; oc < s.out_c; ++oc) {
          kernel::widen_to<float>(w + oc * taps, row.data(), taps, tier);
          for (std::size_t t = 0; t < taps; ++t) dw_.data()[t * s.out_c + oc] = row.data()[t];
        }
      });
      return;
    }
    std::vector<w_type> ohwi;
    if (layout == weight_layout::oihw) {  // [oc][ci][tap] -> [oc][tap][ci]
      ohwi.resize(s.out_c * kdim);
      for (std::size_t oc = 0; oc < s.out_c; ++oc)
        for (std::size_t ci = 0; ci < cg; ++ci)
          for (std::size_t t = 0; t < taps; ++t) ohwi[oc * kdim + t * cg + ci] = w[(oc * cg + ci) * taps + t];
      w = ohwi.data();
    }
    least_step_ = kernel::least_step(kernel::matrix_source<w_type>{w, 0, 1}, 1, s.out_c * kdim);
    ::fp8::detail::dispatch([&](auto tier) { pack<typename kernel::kernel_of<decltype(tier), TX, w_type>::type>(w); });
  }

 private:
  // The groups' B panels for kernel K from OHWI weights w.
  template <class K>
  void pack(const w_type* w) {
    const std::size_t cg = s_.in_c / s_.groups, og = s_.out_c / s_.groups;
    const std::size_t kdim = s_.kernel_h * s_.kernel_w * cg;
    layout_ = kernel::layout_of<K>();
    group_size_ = kernel::packed_b_size<K>(kdim, og);
    kernel::aligned_buffer<typename K::packed> data(group_size_ * s_.groups);
    for (std::size_t g = 0; g < s_.groups; ++g)
      kernel::pack_b_all<K>(kernel::matrix_source<w_type>{w + g * og * kdim, kdim, 1}, kdim, og,
                            data.data() + g * group_size_);
    if constexpr (std::is_same<typename K::packed, float>::value)
      f32_ = std::move(data);
    else
      bf16_ = std::move(data);
  }
};

namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace conv {

inline bool same_weights_shape(const conv2d_shape& a, const conv2d_shape& b) noexcept {
  return a.in_c == b.in_c && a.out_c == b.out_c && a.kernel_h == b.kernel_h && a.kernel_w == b.kernel_w &&
         a.groups == b.groups;
}

// The epilogue of one output element, as tile_epilogue does it (first and
// last block, beta = 0).
inline tile_epilogue make_epilogue(float input_scale, const float* weight_scales, const float* bias,
                                   const conv2d_options& o) noexcept {
  return detail::make_epilogue(input_scale, 0.0f, o, nullptr, weight_scales, bias);
}
// Output rows a band of depthwise_rows holds: as many as keep its ring of
// decoded input rows within 256 KiB (in L2, beside the output), from 1 to
// 8 (depthwise_band_avx512 takes at most 8 rows of 16 kernel rows).
inline std::size_t depthwise_band(const conv2d_shape& s) noexcept {
  const std::size_t row_bytes =
      saturating_mul(saturating_mul(s.in_w + s.pad_left + s.pad_right, s.in_c), sizeof(float));
  const std::size_t span = (s.kernel_h - 1) * s.dilation_h + 1;  // input rows one output row reads
  const std::size_t fit = std::size_t{262144} / std::max<std::size_t>(row_bytes, 1);
  return fit <= span ? 1 : std::min<std::size_t>(8, 1 + (fit - span) / s.stride_h);
}

// Depthwise: rows [y0, y1) of (n, oh) pairs, output channels in vectors, in
// bands of up to depthwise_band(s) rows of one image. The input rows are
// decoded to float as a band needs them, into a ring of zero-bordered rows
// of in_w + pad_left + pad_right pixels (a row in the padding is all
// zeros), as many as the band's rows read, so every tap of every output
// pixel is in bounds and each element sums all kh * kw taps in order (a
// padding tap adds +0), and the decoded rows are still in cache when read.
// Channel multiplier mult = out_c / in_c; w holds the float weights
// [tap][out_c]. Each output row (ow x out_c floats, after the epilogue) is
// written to row(index of the (n, oh) pair), a float buffer handed to
// done() afterwards, in order: the output itself for float NHWC; the
// buffers of a band's rows are in use at once.
// Tag: the call's tier, whose decoder widens FP8 input rows; on the avx512
// tiers the avx512 loops (depthwise_avx512.hpp) run instead of the xsimd
// one, whatever the flags, with the same bits.
template <class Tag, class TX, class RowBuf, class RowDone>
void depthwise_rows(const conv2d_shape& s, const TX* x, const float* w, const tile_epilogue& e, std::size_t y0,
                    std::size_t y1, Tag tag, RowBuf&& row, RowDone&& done) {
  constexpr bool wide = std::is_base_of<isa::avx512, Tag>::value;
  const std::size_t oh = s.out_h(), ow = s.out_w(), oc_n = s.out_c, mult = s.out_c / s.in_c;
  const std::size_t taps = s.kernel_h * s.kernel_w, xs = s.stride_w * s.in_c;  // xs: next output pixel's input
  const std::size_t wp = s.in_w + s.pad_left + s.pad_right, rw = wp * s.in_c;  // a decoded row, in floats
  const std::size_t band = depthwise_band(s);
  const std::size_t slots = (band - 1) * s.stride_h + (s.kernel_h - 1) * s.dilation_h + 1;
  aligned_buffer<float> ring(slots * rw);
  std::vector<std::size_t> held(slots, ~std::size_t{0});  // the padded row (n * hp + h) each slot holds
  const std::size_t hp = s.in_h + s.pad_top + s.pad_bottom;
  auto input_row = [&](std::size_t n, std::size_t h) -> const float* {  // h: row of the padded input
    const std::size_t key = n * hp + h, slot = h % slots;
    float* r = ring.data() + slot * rw;
    if (held[slot] != key) {
      held[slot] = key;
      if (h < s.pad_top || h - s.pad_top >= s.in_h) {
        std::fill(r, r + rw, 0.0f);
      } else {
        std::fill(r, r + s.pad_left * s.in_c, 0.0f);
        widen_to<float>(x + (n * s.in_h + h - s.pad_top) * s.in_w * s.in_c, r + s.pad_left * s.in_c, s.in_w * s.in_c,
                        tag);
        std::fill(r + (s.pad_left + s.in_w) * s.in_c, r + rw, 0.0f);
      }
    }
    return r;
  };
  // For the band's row r: tap t's input at output pixel 0 (the rows a band
  // reads are at most `slots` consecutive padded rows: distinct slots), and
  // the row's output.
  std::vector<const float*> tps(band * taps);
  std::vector<float*> outs(band);
  for (std::size_t yb = y0; yb < y1;) {
    const std::size_t nb = yb / oh, ye = std::min(std::min(y1, yb + band), (nb + 1) * oh), nr = ye - yb;
    for (std::size_t r = 0; r < nr; ++r) {
      const std::size_t y = (yb + r) % oh;
      for (std::size_t th = 0; th < s.kernel_h; ++th) {
        const float* in = input_row(nb, y * s.stride_h + th * s.dilation_h);
        for (std::size_t tw = 0; tw < s.kernel_w; ++tw)
          tps[r * taps + th * s.kernel_w + tw] = in + tw * s.dilation_w * s.in_c;
      }
      outs[r] = row(yb + r);
    }
    std::size_t c_band = 0;  // channels below it done for the whole band
#if FP8_TIER_AVX512
    if (wide && mult == 1)
      c_band = depthwise_band_avx512(tps.data(), nr, s.kernel_h, s.kernel_w, s.stride_w == 1 && s.dilation_w == 1, w,
                                     oc_n, ow, xs, e, outs.data());
#endif
    (void)wide;
    for (std::size_t r = 0; r < nr; ++r) {
      const float* const* tp = tps.data() + r * taps;
      float* out = outs[r];
      std::size_t c0 = c_band;
#if FP8_ISA_SSE2
      using batch = xsimd::batch<float>;
      constexpr std::size_t L = batch::size;
      if (c0 == 0 && mult == 1) {
        // P pixels x V vectors of channels: P * V independent accumulators;
        // each weight vector loaded once per tap serves P pixels.
        auto block = [&](auto pp, auto vv, std::size_t xo, std::size_t c) {
          constexpr std::size_t P = decltype(pp)::value, V = decltype(vv)::value;
          batch a[P][V];
          for (std::size_t q = 0; q < P; ++q)
            for (std::size_t v = 0; v < V; ++v) a[q][v] = batch(0.0f);
          for (std::size_t t = 0; t < taps; ++t) {
            batch wv[V];
            for (std::size_t v = 0; v < V; ++v) wv[v] = batch::load_unaligned(w + t * oc_n + c + v * L);
            const float* xq = tp[t] + xo * xs + c;
            for (std::size_t q = 0; q < P; ++q)
              for (std::size_t v = 0; v < V; ++v)
                a[q][v] = xsimd::fma(batch::load_unaligned(xq + q * xs + v * L), wv[v], a[q][v]);
          }
          // The vector epilogue (epilogue_vector.hpp) on P rows of V vectors.
          tile_epilogue ec = e;
          if (ec.col_scale != nullptr) ec.col_scale += c;
          if (ec.bias != nullptr) ec.bias += c;
          const lanes_xsimd::ops::mask all[V] = {};
          lanes_xsimd::epilogue_rows<lanes_xsimd::ops>(a, out + xo * oc_n + c, oc_n, P, all, ec);
        };
        using one = std::integral_constant<std::size_t, 1>;
        using two = std::integral_constant<std::size_t, 2>;
        using four = std::integral_constant<std::size_t, 4>;
        // Pixels outer, channels inner: a pixel's channels are read while
        // their cache lines are in L1.
        const std::size_t c2 = oc_n / (2 * L) * (2 * L), c1 = oc_n / L * L;
        std::size_t xo = 0;
        for (; xo + 4 <= ow; xo += 4) {
          for (std::size_t c = 0; c < c2; c += 2 * L) block(four{}, two{}, xo, c);
          for (std::size_t c = c2; c < c1; c += L) block(four{}, one{}, xo, c);
        }
        for (; xo < ow; ++xo) {
          for (std::size_t c = 0; c < c2; c += 2 * L) block(one{}, two{}, xo, c);
          for (std::size_t c = c2; c < c1; c += L) block(one{}, one{}, xo, c);
        }
        c0 = c1;
      }
#endif
      for (std::size_t xo = 0; xo < ow; ++xo)  // the same operations, one channel at a time
        for (std::size_t c = c0; c < oc_n; ++c) {
          float a = 0.0f;
          for (std::size_t t = 0; t < taps; ++t) a = std::fma(tp[t][xo * xs + c / mult], w[t * oc_n + c], a);
          epilogue_store(e, 0, c, a, out + xo * oc_n + c);
        }
    }
    for (std::size_t r = 0; r < nr; ++r) done(yb + r, static_cast<const float*>(outs[r]));
    yb = ye;
  }
}

// Depthwise when the ring's zero-bordered rows would not pay
// (padded_copy_pays): x is the whole NHWC input decoded to float, and each
// tap's input pixel is computed and tested, a tap in the padding adding +0
// as the ring's zeros do; taps in order, one fused multiply-add each, one
// channel at a time, then the epilogue; rows and done() as depthwise_rows.
template <class RowBuf, class RowDone>
void depthwise_gather(const conv2d_shape& s, const float* x, const float* w, const tile_epilogue& e, std::size_t y0,
                      std::size_t y1, RowBuf&& row, RowDone&& done) {
  const std::size_t oh = s.out_h(), ow = s.out_w(), oc_n = s.out_c, mult = s.out_c / s.in_c;
  for (std::size_t yi = y0; yi < y1; ++yi) {
    const std::size_t n = yi / oh, y = yi % oh;
    float* out = row(yi);
    for (std::size_t xo = 0; xo < ow; ++xo)
      for (std::size_t c = 0; c < oc_n; ++c) {
        float a = 0.0f;
        for (std::size_t th = 0; th < s.kernel_h; ++th) {
          const std::size_t ih = y * s.stride_h + th * s.dilation_h;  // in the padded input: fits size_t
          const bool row_in = ih >= s.pad_top && ih - s.pad_top < s.in_h;
          for (std::size_t tw = 0; tw < s.kernel_w; ++tw) {
            const std::size_t iw = xo * s.stride_w + tw * s.dilation_w;
            const float v = row_in && iw >= s.pad_left && iw - s.pad_left < s.in_w
                                ? x[((n * s.in_h + ih - s.pad_top) * s.in_w + iw - s.pad_left) * s.in_c + c / mult]
                                : 0.0f;
            a = std::fma(v, w[(th * s.kernel_w + tw) * oc_n + c], a);
          }
        }
        epilogue_store(e, 0, c, a, out + xo * oc_n + c);
      }
    done(yi, static_cast<const float*>(out));
  }
}

// The convolution into NHWC output of type TO on micro-kernel K, after the
// checks; x is the NHWC input, w packed weights laid out for kernel KW: K itself, or the vdpbf16ps kernel when K is the
// float kernel a bfloat16 operand falls back to (its panels then read back
// through prepacked_source).
template <class K, class KW, class TX, class TO>
void run_nhwc(const conv2d_shape& s, const TX* x, float input_scale, const conv_panels& w, const float* weight_scales,
              const float* bias, TO* out, const conv2d_options& o) {
  const std::size_t oh = s.out_h(), ow = s.out_w(), pixels = s.batch * oh * ow;
  if (depthwise(s)) {
    const tile_epilogue e = make_epilogue(input_scale, weight_scales, bias, o);
    const std::size_t rows = s.batch * oh;
    const double work = static_cast<double>(pixels) * static_cast<double>(s.out_c * s.kernel_h * s.kernel_w);
    const std::size_t threads = std::min(rows, detail::useful_threads(o.threads, work, 1048576.0));
    aligned_buffer<float> xf(padded_copy_pays(s) ? 0 : s.batch * s.in_h * s.in_w * s.in_c);
    if (xf.size() != 0) {
      FP8_PROFILE_SCOPE(decode);
      widen_to<float>(x, xf.data(), xf.size(), typename K::tier{});
    }
    parallel_run(o.executor, threads, [&](std::size_t t) {
      FP8_PROFILE_SCOPE(kernel);  // the rows' decode and output conversion included
      std::size_t y0, y1;
      part_range(rows, 1, threads, t, y0, y1);
      // A band's rows at once (depthwise_rows): consecutive rows, so yi
      // modulo the band is a different buffer for each.
      const std::size_t band = xf.size() == 0 ? depthwise_band(s) : 1;
      aligned_buffer<float> tmp(std::is_same<TO, float>::value ? 0 : band * ow * s.out_c);
      auto row = [&](std::size_t yi) -> float* {
        if constexpr (std::is_same<TO, float>::value)
          return out + yi * ow * s.out_c;
        else
          return tmp.data() + yi % band * ow * s.out_c;
      };
      auto done = [&](std::size_t yi, const float* r) {
        if constexpr (!std::is_same<TO, float>::value)
          detail::store_row(r, out + yi * ow * s.out_c, ow * s.out_c, o, typename K::tier{});
        (void)yi, (void)r;
      };
      if (xf.size() == 0)
        depthwise_rows(s, x, w.depthwise_weights(), e, y0, y1, typename K::tier{}, row, done);
      else
        depthwise_gather(s, xf.data(), w.depthwise_weights(), e, y0, y1, row, done);
    });
    return;
  }
  // Dense and grouped layers: one GEMM per group on the driver's loops,
  // C = out + g * og (row stride out_c), A one of three sources: the input
  // itself for 1x1 stride-1 layers (matrix_source: NHWC is already the
  // pixels x in_c matrix), A read in place on the vdpbf16ps kernel
  // (direct_source), or panels gathered per tap from the decoded input
  // (conv_source).
  const std::size_t cg = s.in_c / s.groups, og = s.out_c / s.groups, kdim = s.kernel_h * s.kernel_w * cg;
  const prepacked_only no_b{};
  // Output pixels [p0, p0 + rows) on `threads` threads.
  auto per_group = [&](auto&& source_of, std::size_t p0, std::size_t rows, std::size_t threads) {
    for (std::size_t g = 0; g < s.groups; ++g) {
      gemm_options go;
      static_cast<output_options&>(go) = o;
      go.threads = threads;
      go.col_scale = weight_scales != nullptr ? weight_scales + g * og : nullptr;
      go.bias = bias != nullptr ? bias + g * og : nullptr;
      const auto view = w.template group<KW>(g);
      TO* const c = out + p0 * s.out_c + g * og;
      if constexpr (std::is_same<K, KW>::value) {
        gemm_any<K>(source_of(g), no_b, rows, og, kdim, input_scale, 0.0f, c, s.out_c, go, &view);
      } else {
        const prepacked_view<K>* none = nullptr;
        gemm_any<K>(source_of(g), prepacked_source<KW>{view, kdim}, rows, og, kdim, input_scale, 0.0f, c, s.out_c,
                    go, none);
      }
    }
  };
#if FP8_TIER_AVX512BF16
  // The vdpbf16ps kernel reads the decoded input in place, 1x1 layers
  // included: decoding once costs less than packing A per block (1x1 C256
  // -> 64, 56x56: 19% of the time in packing against 11% in the decode;
  // packing A instead ran the 1x1 C256 and C512 layers 0.86x and 0.93x as
  // fast when measured again, 2026-12-03).
  if constexpr (std::is_same<K, direct_source::K>::value) {
    if (direct_ok(s) && pointwise(s)) {
      // A 1x1 stride-1 layer: output pixel p reads input pixel p alone. Each
      // thread decodes its own pixels, one MC block at a time, into a buffer
      // that stays in L1 or L2, and runs that block's GEMMs from it on its
      // own. Decoding the whole input first wrote a buffer larger than L2 on
      // the ResNet-50 1x1 layers and made the threads wait for one another
      // between the two phases: per block, those layers ran 1.01-1.03x
      // faster on one thread and 1.13-1.19x on two (bench_conv, 5 rounds).
      const std::size_t threads = detail::useful_threads(o.threads, pixels, s.out_c, kdim);
      const std::size_t chunk = K::block.mc, slack = direct_source::slack_pixels(s) * s.in_c;
      parallel_run(o.executor, threads, [&](std::size_t t) {
        std::size_t r0, r1;
        part_range(pixels, K::block.mr, threads, t, r0, r1);
        aligned_buffer<bfloat16> xc(std::min(chunk, r1 - r0) * s.in_c + slack);
        std::fill(xc.data() + xc.size() - slack, xc.data() + xc.size(), bfloat16{});
        for (std::size_t p0 = r0; p0 < r1; p0 += chunk) {
          const std::size_t rows = std::min(chunk, r1 - p0);
          {
            FP8_PROFILE_SCOPE(decode);
            widen_to<bfloat16>(x + p0 * s.in_c, xc.data(), rows * s.in_c, typename K::tier{});
          }
          per_group([&](std::size_t g) { return direct_source{xc.data(), &s, oh, ow, s.in_h, s.in_w, cg, g * cg, 0, 0}; },
                    p0, rows, 1);
        }
      });
      return;
    }
    if (direct_ok(s) && padded_copy_pays(s, direct_source::slack_pixels(s))) {
      const std::size_t threads = detail::useful_threads(o.threads, pixels, s.out_c, kdim);
      const aligned_buffer<bfloat16> xp = decode_padded<bfloat16>(s, x, direct_source::slack_pixels(s) * s.in_c,
                                                                  o.executor, threads, typename K::tier{});
      const std::size_t hp = s.in_h + s.pad_top + s.pad_bottom, wp = s.in_w + s.pad_left + s.pad_right;
      per_group([&](std::size_t g) { return direct_source{xp.data(), &s, oh, ow, hp, wp, cg, g * cg, 0, ow}; }, 0,
                pixels, o.threads);
      return;
    }
  }
#endif
  if (pointwise(s)) {
    per_group([&](std::size_t g) { return matrix_source<TX>{x + g * cg, s.in_c, 1}; }, 0, pixels, o.threads);
    return;
  }
  using P = typename K::packed;
  aligned_buffer<P> xd(s.batch * s.in_h * s.in_w * s.in_c), zeros(s.in_c);
  {
    FP8_PROFILE_SCOPE(decode);
    widen_to<P>(x, xd.data(), xd.size(), typename K::tier{});
  }
  std::fill(zeros.data(), zeros.data() + zeros.size(), P{});
  per_group([&](std::size_t g) { return conv_source<P>{xd.data(), zeros.data(), &s, oh, ow, cg, g * cg, 0}; }, 0,
            pixels, o.threads);
}

}  // namespace conv
FP8_END_TU_NAMESPACE
}  // namespace kernel

namespace kernel {
FP8_BEGIN_TU_NAMESPACE
namespace conv {
// The packed-weights conv2d after its checks and the choice of K: NHWC
// output directly; NCHW as NHWC floats, then transposed and converted per
// channel row.
template <class K, class KW, class TX, class TO>
void run_chosen(const conv2d_shape& s, const TX* x, float input_scale, const conv_panels& w, const float* weight_scales,
                const float* bias, TO* output, const conv2d_options& options) {
  if (options.output_layout == tensor_layout::nhwc) {
    run_nhwc<K, KW>(s, x, input_scale, w, weight_scales, bias, output, options);
    return;
  }
  const std::size_t out_size = s.batch * s.out_h() * s.out_w() * s.out_c;
  kernel::aligned_buffer<float> tmp(out_size);
  conv2d_options o = options;
  o.output_scale = 1.0f;
  run_nhwc<K, KW>(s, x, input_scale, w, weight_scales, bias, tmp.data(), o);
  FP8_PROFILE_SCOPE(output);
  const std::size_t hw = s.out_h() * s.out_w();
  kernel::aligned_buffer<float> row(hw);
  for (std::size_t n = 0; n < s.batch; ++n)
    for (std::size_t c = 0; c < s.out_c; ++c) {
      for (std::size_t p = 0; p < hw; ++p) row.data()[p] = tmp.data()[(n * hw + p) * s.out_c + c];
      kernel::detail::store_row(row.data(), output + (n * s.out_c + c) * hw, hw, options, typename K::tier{});
    }
}

}  // namespace conv
FP8_END_TU_NAMESPACE
}  // namespace kernel

FP8_BEGIN_TU_NAMESPACE

// The convolution with weights packed beforehand (their shape must match s
// in in_c, out_c, kernel and groups). TX: fp8<F>, bfloat16, half or float;
// TO: float, bfloat16, half or fp8<F>.
template <class TX, class FW, class X, class TO>
void conv2d(const conv2d_shape& s, const TX* input, float input_scale, const packed_conv_weights<FW, X>& w,
            counted<const float> weight_scales, counted<const float> bias, TO* output,
            const conv2d_options& options = {}) {
  using TW = typename packed_conv_weights<FW, X>::w_type;
  static_assert(kernel::is_gemm_value<TX>, "input holds fp8<F>, bfloat16, half or float");
  static_assert(kernel::is_gemm_value<TO>, "output holds float, bfloat16, half or fp8<F>");
  // The same kernel on every tier as the packing's (as gemm with a packed_b).
  static_assert(kernel::needs_float_kernel<TW> || kernel::needs_float_kernel<TX> == kernel::needs_float_kernel<X>,
                "float and half input need packed_conv_weights<FW, float>; FP8 and bfloat16 input need "
                "packed_conv_weights<FW>");
  const char* fn = "fp8::conv2d";
  kernel::conv::check_shape(fn, s);
  FP8_REQUIRE_ARG(kernel::conv::same_weights_shape(s, w.shape()), fn, "weights",
                  "were packed for another shape (in_c, out_c, kernel or groups differ)");
  const std::size_t in_size = s.batch * s.in_h * s.in_w * s.in_c;
  const std::size_t out_size = s.batch * s.out_h() * s.out_w() * s.out_c;
  kernel::conv::check_options(fn, options, kernel::is_fp8_type<TO>::value);
  kernel::conv::check_tensors(fn, s, input, sizeof(TX), input_scale, nullptr, 0, weight_scales, bias, output,
                              out_size * sizeof(TO));

  const TX* x = input;
  std::vector<TX> nhwc;
  if (options.input_layout == tensor_layout::nchw) {
    nhwc.resize(in_size);
    const std::size_t hw = s.in_h * s.in_w;
    for (std::size_t n = 0; n < s.batch; ++n)
      for (std::size_t c = 0; c < s.in_c; ++c)
        for (std::size_t p = 0; p < hw; ++p) nhwc[(n * hw + p) * s.in_c + c] = x[(n * s.in_c + c) * hw + p];
    x = nhwc.data();
  }
  ::fp8::detail::dispatch([&](auto tier) {
    using K = typename kernel::kernel_of<decltype(tier), TX, TW>::type;
    if (kernel::conv::depthwise(s)) {  // float weights and FMA: every kernel's tier runs it alike
      kernel::conv::run_chosen<K, K>(s, x, input_scale, w, weight_scales, bias, output, options);
      return;
    }
    kernel::require_layout(fn, "weights", w.layout(), kernel::layout_of<K>());
    // A bfloat16 operand whose steps vdpbf16ps would flush (kernels/gemm.hpp,
    // least_step): the tier's float kernel, reading the panels back.
    if constexpr (std::is_same<typename K::packed, bfloat16>::value &&
                  (std::is_same<TX, bfloat16>::value || std::is_same<TW, bfloat16>::value)) {
      if (kernel::least_step(kernel::matrix_source<TX>{x, 0, 1}, 1, in_size) + w.least_step() <
          kernel::flush_free_step) {
        using KF = typename kernel::kernel_of<decltype(tier), float>::type;
        kernel::conv::run_chosen<KF, K>(s, x, input_scale, w, weight_scales, bias, output, options);
        return;
      }
    }
    kernel::conv::run_chosen<K, K>(s, x, input_scale, w, weight_scales, bias, output, options);
  });
}

// The convolution with weights packed per call (options.weights gives their
// layout). TW: fp8<F>, bfloat16 or half.
template <class TX, class TW, class TO>
void conv2d(const conv2d_shape& s, const TX* input, float input_scale, const TW* weights,
            counted<const float> weight_scales, counted<const float> bias, TO* output, const conv2d_options& options) {
  static_assert(kernel::is_gemm_b_value<TW>, "weights hold fp8<F>, bfloat16 or half");
  const char* fn = "fp8::conv2d";
  kernel::conv::check_shape(fn, s);
  FP8_REQUIRE_ARG(weights != nullptr, fn, "weights", "is null");
  const std::size_t out_size = s.batch * s.out_h() * s.out_w() * s.out_c;
  // Fits: check_shape lets the weights' count be a count of floats.
  const std::size_t weight_bytes = s.out_c * s.kernel_h * s.kernel_w * (s.in_c / s.groups) * sizeof(TW);
  kernel::conv::check_options(fn, options, kernel::is_fp8_type<TO>::value);
  kernel::conv::check_tensors(fn, s, input, sizeof(TX), input_scale, weights, weight_bytes, weight_scales, bias, output,
                              out_size * sizeof(TO));
  using X = std::conditional_t<kernel::needs_float_kernel<TX>, float, bfloat16>;
  const packed_conv_weights<TW, X> w(s, weights, options.weights);
  conv2d(s, input, input_scale, w, weight_scales, bias, output, options);
}

// The simplest call: NHWC float output, OHWI weights, one thread.
template <class TX, class TW>
void conv2d(const conv2d_shape& s, const TX* input, float input_scale, const TW* weights,
            counted<const float> weight_scales, counted<const float> bias, float* output) {
  conv2d(s, input, input_scale, weights, weight_scales, bias, output, conv2d_options{});
}

FP8_END_TU_NAMESPACE
FP8_END_NAMESPACE
