// SPDX-License-Identifier: Apache-2.0
// The vector loops of the integer linear quantizer (dyadic/linear.hpp),
// written once over a tier's lane primitives and compiled once per tier:
// dyadic/linear_tiers.hpp includes this file inside each tier's namespace
// (and, for the tiers above the build's flags, inside that tier's target
// region), after defining the struct `lanes` of the tier's primitives. A
// template defined outside the region would keep no target when instantiated
// inside it, so this file has no include guard and includes nothing
// (Highway's "-inl" headers do the same); everything it names comes from
// dyadic/linear_tiers.hpp and the headers it includes. No lambdas: GCC
// compiles them without the region's target.
//
// Every loop equals linear.hpp's definitions bit for bit:
//   - Quantize: q = x / s (a true division, or a multiply by 1/s where s is
//     a power of two with a finite reciprocal: the same correctly rounded
//     quotient; per-element scales always divide); NaN lanes set to 0; q
//     clamped to integer bounds [a, b]; rounded to even by vcvtps2dq (the
//     default rounding mode); + z. Clamping to any integers a <= lo - z and
//     b >= hi - z before rounding changes no code after saturation (rounding
//     is monotonic, so a quotient beyond a bound rounds beyond it and
//     saturates to the same end), and keeps vcvtps2dq away from its
//     out-of-range result. Two choices of bounds:
//       8-bit types: a, b = -R, R with R = hi - lo = 255, the same for every
//       z in range. The code lies in [lo - R, hi + R], where packssdw is
//       exact and packsswb / packuswb then saturate to exactly int8 / uint8:
//       the saturation costs nothing.
//       4-bit types: a, b = lo - z, hi - z exactly (integers of at most 5
//       bits, exact in float), so the code is already in [lo, hi].
//   - Dequantize: code bytes widened with sign or without, - z, converted
//     (exact), times s.
//   - Fake quantize: q clamped to the exact bounds [lo - z, hi - z] (at most
//     9 bits), rounded, converted back (exact), times s: equal to
//     float(saturate(round(q) + z) - z) * s by the same monotonicity.
// Each step converts 4 vectors (one 4-vector byte store); a run shorter than
// a step (the tail) goes through the same step on zeroed stack copies, so
// the tiers need no scalar code.
//
// What `lanes` provides (v: width int32 lanes, f: width float lanes), each
// named after the instruction it is or emulates:
//   width, load(p), set1_d, paddd, psubd   dyadic/requantize_tiers.hpp's
//   loadf(p), storef(p, x), set1f(x)       width floats
//   mulps, divps
//   clamp0(q, a, b)                        NaN lanes to 0, then min(max(q, a), b)
//                                          (a <= 0 <= b)
//   cvtps2dq(x), cvtdq2ps(v)               in the current rounding mode (to even)
//   load_codes<Signed>(p)                  width bytes widened to int32 lanes
//   store_codes<Signed>(p, a, b, c, d)     4 * width bytes, saturated to int8
//                                          or uint8
//   f16c, widen(const bfloat16*), widen(const half*)
//                                          width 16-bit floats to float lanes
//                                          (half only where f16c)

// L: the tier's primitives (a parameter, so that a branch a tier does not
// take, such as the half widening without f16c, is not checked).
template <class Out, class L = lanes>
struct linear_loop {
  using f = typename L::f;
  using v = typename L::v;
  static constexpr std::size_t W = L::width, step = 4 * W;
  static constexpr bool Signed = linear_signed<Out>, Nibbles = linear_nibbles<Out>;
  static constexpr int lo = quantized_type<Out>::lowest, hi = quantized_type<Out>::max;

  // The quotient's bounds for codes (above): the 8-bit constants, or from
  // the zero points.
  static FP8_ALWAYS_INLINE f code_lo(v z) noexcept {
    return Nibbles ? L::cvtdq2ps(L::psubd(L::set1_d(lo), z)) : L::set1f(static_cast<float>(lo - hi));
  }
  static FP8_ALWAYS_INLINE f code_hi(v z) noexcept {
    return Nibbles ? L::cvtdq2ps(L::psubd(L::set1_d(hi), z)) : L::set1f(static_cast<float>(hi - lo));
  }
  // The exact bounds [lo - z, hi - z], for fake quantization.
  static FP8_ALWAYS_INLINE f exact_lo(v z) noexcept { return L::cvtdq2ps(L::psubd(L::set1_d(lo), z)); }
  static FP8_ALWAYS_INLINE f exact_hi(v z) noexcept { return L::cvtdq2ps(L::psubd(L::set1_d(hi), z)); }

  template <scaling::kind_t K>
  static FP8_ALWAYS_INLINE f scaled(f x, f factor) noexcept {
    if constexpr (K == scaling::multiply) return L::mulps(x, factor);
    if constexpr (K == scaling::divide) return L::divps(x, factor);
    return x;
  }
  static FP8_ALWAYS_INLINE v code(f q, f a, f b, v z) noexcept { return L::paddd(L::cvtps2dq(L::clamp0(q, a, b)), z); }
  static FP8_ALWAYS_INLINE f fake_value(f q, f a, f b, f s) noexcept {
    return L::mulps(L::cvtdq2ps(L::cvtps2dq(L::clamp0(q, a, b))), s);
  }

  // ------------------------------------------------ one step per operation
  // Each operation holds its pointers and constants; convert(i) converts
  // elements [i, i + step), 4 vectors (the short loops over them are fully
  // unrolled: GCC 12 at -O2 would keep the vectors in a stack array). The
  // *_tensor operations have one scale and zero point (their scale and
  // zero_point pointers null); the *_elements ones one float scale per
  // element and one int32 zero point per element, or none (all 0).

  // One scale and zero point; K: how the quotient is made.
  template <scaling::kind_t K>
  struct quantize_tensor {
    using in_type = float;
    using out_type = std::uint8_t;
    const float* src;
    std::uint8_t* dst;
    const float* scale;
    const std::int32_t* zero_point;
    f factor, a, b;
    v z;
    FP8_ALWAYS_INLINE void convert(std::size_t i) const noexcept {
      v c[4];
#pragma GCC unroll 4
      for (std::size_t k = 0; k < 4; ++k) c[k] = code(scaled<K>(L::loadf(src + i + k * W), factor), a, b, z);
      L::template store_codes<Signed>(dst + i, c[0], c[1], c[2], c[3]);
    }
  };
  template <bool HasZeroPoint>
  struct quantize_elements {
    using in_type = float;
    using out_type = std::uint8_t;
    const float* src;
    std::uint8_t* dst;
    const float* scale;
    const std::int32_t* zero_point;
    FP8_ALWAYS_INLINE void convert(std::size_t i) const noexcept {
      v c[4];
#pragma GCC unroll 4
      for (std::size_t k = 0; k < 4; ++k) {
        const std::size_t j = i + k * W;
        const v z = HasZeroPoint ? L::load(zero_point + j) : L::set1_d(0);
        c[k] = code(L::divps(L::loadf(src + j), L::loadf(scale + j)), code_lo(z), code_hi(z), z);
      }
      L::template store_codes<Signed>(dst + i, c[0], c[1], c[2], c[3]);
    }
  };
  struct dequantize_tensor {
    using in_type = std::uint8_t;
    using out_type = float;
    const std::uint8_t* src;
    float* dst;
    const float* scale;
    const std::int32_t* zero_point;
    f s;
    v z;
    FP8_ALWAYS_INLINE void convert(std::size_t i) const noexcept {
      f y[4];
#pragma GCC unroll 4
      for (std::size_t k = 0; k < 4; ++k)
        y[k] = L::mulps(L::cvtdq2ps(L::psubd(L::template load_codes<Signed>(src + i + k * W), z)), s);
#pragma GCC unroll 4
      for (std::size_t k = 0; k < 4; ++k) L::storef(dst + i + k * W, y[k]);
    }
  };
  template <bool HasZeroPoint>
  struct dequantize_elements {
    using in_type = std::uint8_t;
    using out_type = float;
    const std::uint8_t* src;
    float* dst;
    const float* scale;
    const std::int32_t* zero_point;
    FP8_ALWAYS_INLINE void convert(std::size_t i) const noexcept {
      f y[4];
#pragma GCC unroll 4
      for (std::size_t k = 0; k < 4; ++k) {
        const std::size_t j = i + k * W;
        v c = L::template load_codes<Signed>(src + j);
        if (HasZeroPoint) c = L::psubd(c, L::load(zero_point + j));
        y[k] = L::mulps(L::cvtdq2ps(c), L::loadf(scale + j));
      }
#pragma GCC unroll 4
      for (std::size_t k = 0; k < 4; ++k) L::storef(dst + i + k * W, y[k]);
    }
  };
  // Every vector is loaded before any is stored: src == dst is safe.
  template <scaling::kind_t K>
  struct fake_tensor {
    using in_type = float;
    using out_type = float;
    const float* src;
    float* dst;
    const float* scale;
    const std::int32_t* zero_point;
    f factor, s, a, b;
    FP8_ALWAYS_INLINE void convert(std::size_t i) const noexcept {
      f y[4];
#pragma GCC unroll 4
      for (std::size_t k = 0; k < 4; ++k) y[k] = fake_value(scaled<K>(L::loadf(src + i + k * W), factor), a, b, s);
#pragma GCC unroll 4
      for (std::size_t k = 0; k < 4; ++k) L::storef(dst + i + k * W, y[k]);
    }
  };
  template <bool HasZeroPoint>
  struct fake_elements {
    using in_type = float;
    using out_type = float;
    const float* src;
    float* dst;
    const float* scale;
    const std::int32_t* zero_point;
    FP8_ALWAYS_INLINE void convert(std::size_t i) const noexcept {
      f y[4];
#pragma GCC unroll 4
      for (std::size_t k = 0; k < 4; ++k) {
        const std::size_t j = i + k * W;
        const v z = HasZeroPoint ? L::load(zero_point + j) : L::set1_d(0);
        const f s = L::loadf(scale + j);
        y[k] = fake_value(L::divps(L::loadf(src + j), s), exact_lo(z), exact_hi(z), s);
      }
#pragma GCC unroll 4
      for (std::size_t k = 0; k < 4; ++k) L::storef(dst + i + k * W, y[k]);
    }
  };

  // ------------------------------------------------ the loop
  // Whole steps, then the last n % step elements through one step on
  // zeroed stack copies (padding scales 1): the same arithmetic, lane by lane.
  // The operation is a local copy whose address never leaves this function:
  // its pointers and constants then stay in registers (through the caller's
  // reference, every store to dst might change them, and they would be
  // reloaded after each store: about half the speed). The tail is out of
  // line, so that the loop, called once per row, has no stack frame to set up.
  template <class Op>
  static FP8_NOINLINE void tail(const Op& op, std::size_t i, std::size_t n) noexcept {
    using In = typename Op::in_type;
    using Res = typename Op::out_type;
    const std::size_t m = n - i;
    alignas(64) In x[step] = {};
    alignas(64) Res y[step] = {};
    alignas(64) float s[step];
    alignas(64) std::int32_t z[step] = {};
    Op t = op;
    std::memcpy(x, op.src + i, m * sizeof(In));
    t.src = x;
    t.dst = y;
    if (op.scale != nullptr) {
      for (std::size_t j = 0; j < step; ++j) s[j] = 1.0f;
      std::memcpy(s, op.scale + i, m * sizeof(float));
      t.scale = s;
    }
    if (op.zero_point != nullptr) {
      std::memcpy(z, op.zero_point + i, m * sizeof(std::int32_t));
      t.zero_point = z;
    }
    t.convert(0);
    std::memcpy(op.dst + i, y, m * sizeof(Res));
  }
  template <class Op>
  static FP8_ALWAYS_INLINE void run(const Op& caller_op, std::size_t n) noexcept {
    const Op op = caller_op;
    std::size_t i = 0;
    for (; i + step <= n; i += step) op.convert(i);
    if (i != n) tail(op, i, n);
  }

  // ------------------------------------------------ rows x cols
  // Element (r, c) at src[r * src_ld + c] and dst[r * dst_ld + c]; channel
  // ch = r (axis::rows) or c (axis::columns) uses scale[ch] and
  // zero_point[ch] (zero_point null: all 0). Per tensor is one row.
  template <scaling::kind_t K>
  static void quantize_row(const float* src, std::uint8_t* dst, std::size_t n, float factor,
                           std::int32_t zero_point) noexcept {
    const v z = L::set1_d(zero_point);
    run(quantize_tensor<K>{src, dst, nullptr, nullptr, L::set1f(factor), code_lo(z), code_hi(z), z}, n);
  }
  static void quantize(const float* src, std::size_t src_ld, std::uint8_t* dst, std::size_t dst_ld, std::size_t rows,
                       std::size_t cols, const float* scale, const std::int32_t* zero_point, axis channel) noexcept {
    for (std::size_t r = 0; r < rows; ++r) {
      const float* x = src + r * src_ld;
      std::uint8_t* y = dst + r * dst_ld;
      if (channel == axis::columns) {
        if (zero_point != nullptr)
          run(quantize_elements<true>{x, y, scale, zero_point}, cols);
        else
          run(quantize_elements<false>{x, y, scale, nullptr}, cols);
        continue;
      }
      // The scaling kind becomes a template argument once per row.
      const scaling s = linear_scaling(scale[r]);
      const std::int32_t z = zero_point != nullptr ? zero_point[r] : 0;
      switch (s.kind) {
        case scaling::none:
          quantize_row<scaling::none>(x, y, cols, s.factor, z);
          break;
        case scaling::multiply:
          quantize_row<scaling::multiply>(x, y, cols, s.factor, z);
          break;
        case scaling::divide:
          quantize_row<scaling::divide>(x, y, cols, s.factor, z);
          break;
      }
    }
  }

  static void dequantize(const std::uint8_t* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,
                         std::size_t cols, const float* scale, const std::int32_t* zero_point, axis channel) noexcept {
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint8_t* x = src + r * src_ld;
      float* y = dst + r * dst_ld;
      if (channel == axis::rows)
        run(dequantize_tensor{x, y, nullptr, nullptr, L::set1f(scale[r]),
                              L::set1_d(zero_point != nullptr ? zero_point[r] : 0)},
            cols);
      else if (zero_point != nullptr)
        run(dequantize_elements<true>{x, y, scale, zero_point}, cols);
      else
        run(dequantize_elements<false>{x, y, scale, nullptr}, cols);
    }
  }

  template <scaling::kind_t K>
  static void fake_row(const float* src, float* dst, std::size_t n, float factor, float scale,
                       std::int32_t zero_point) noexcept {
    const v z = L::set1_d(zero_point);
    run(fake_tensor<K>{src, dst, nullptr, nullptr, L::set1f(factor), L::set1f(scale), exact_lo(z), exact_hi(z)}, n);
  }
  static void fake(const float* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,
                   std::size_t cols, const float* scale, const std::int32_t* zero_point, axis channel) noexcept {
    for (std::size_t r = 0; r < rows; ++r) {
      const float* x = src + r * src_ld;
      float* y = dst + r * dst_ld;
      if (channel == axis::columns) {
        if (zero_point != nullptr)
          run(fake_elements<true>{x, y, scale, zero_point}, cols);
        else
          run(fake_elements<false>{x, y, scale, nullptr}, cols);
        continue;
      }
      const scaling s = linear_scaling(scale[r]);
      const std::int32_t z = zero_point != nullptr ? zero_point[r] : 0;
      switch (s.kind) {
        case scaling::none:
          fake_row<scaling::none>(x, y, cols, s.factor, scale[r], z);
          break;
        case scaling::multiply:
          fake_row<scaling::multiply>(x, y, cols, s.factor, scale[r], z);
          break;
        case scaling::divide:
          fake_row<scaling::divide>(x, y, cols, s.factor, scale[r], z);
          break;
      }
    }
  }
};

// ---------------------------------------------------------------- the tier's functions
// What linear_tiers.hpp's per-tag overloads call (linear_loop's rows x cols
// forms): codes as bytes, the low byte of each code (linear.hpp's code_byte).

template <class Out>
void quantize(const float* src, std::size_t src_ld, std::uint8_t* dst, std::size_t dst_ld, std::size_t rows,
              std::size_t cols, const float* scale, const std::int32_t* zero_point, axis channel) noexcept {
  linear_loop<Out>::quantize(src, src_ld, dst, dst_ld, rows, cols, scale, zero_point, channel);
}
template <class Out>
void dequantize(const std::uint8_t* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows,
                std::size_t cols, const float* scale, const std::int32_t* zero_point, axis channel) noexcept {
  linear_loop<Out>::dequantize(src, src_ld, dst, dst_ld, rows, cols, scale, zero_point, channel);
}
template <class Out>
void fake(const float* src, std::size_t src_ld, float* dst, std::size_t dst_ld, std::size_t rows, std::size_t cols,
          const float* scale, const std::int32_t* zero_point, axis channel) noexcept {
  linear_loop<Out>::fake(src, src_ld, dst, dst_ld, rows, cols, scale, zero_point, channel);
}

// 16-bit floats widened (exactly) to float: whole vectors, then the rest
// one by one.
template <class Src, class L = lanes>
void widen(const Src* src, float* dst, std::size_t n) noexcept {
  std::size_t i = 0;
  if constexpr (std::is_same<Src, bfloat16>::value || L::f16c)
    for (; i + L::width <= n; i += L::width) L::storef(dst + i, L::widen(src + i));
  for (; i < n; ++i) dst[i] = static_cast<float>(src[i]);
}
