// SPDX-License-Identifier: Apache-2.0
// The vector requantizer, written once over a tier's lane primitives and
// compiled once per tier: dyadic/requantize_tiers.hpp includes this file
// inside each tier's namespace (and, for the tiers above the build's flags,
// inside that tier's target region), after defining the struct `lanes` of
// the tier's primitives. The loop must be defined in the region to be
// compiled for the tier: a template defined outside one keeps no target when
// instantiated inside it, and GCC then neither inlines the primitives into it
// nor passes vectors to them under the tier's ABI. So this file has no
// include guard and includes nothing (Highway's "-inl" headers do the same);
// everything it names comes from dyadic/requantize_lanes.hpp.
//
// The arithmetic is the four steps derived in dyadic/requantize_lanes.hpp,
// on lanes::width int32 lanes at a time:
//   1. a = min(max(acc, acc_lo), acc_hi) + bias       (pre-clamp: |y| <= 2^12 + 1)
//   2. p = a * multiplier                             (64-bit, even and odd lanes apart:
//                                                      x86's signed 32x32->64 multiply reads
//                                                      the even 32-bit lanes)
//   3. y = (p + add - [p < 0] sub [+ bit_count(p) - 1 for half_even]) >> count
//   4. out = min(max(y, lo - zp), hi - zp) + zp, one byte per lane (for
//      int8's whole range: sat8(y + zp))
// Step 3 tests p < 0 where the definition tests p < -2^30 (double_rounding
// with shift < 0, the only case with sub != 0): for p in [-2^30, -1] both
// give 0, as p + 2^30 + 2^(30+rs) - 2^31 and p + 2^30 + 2^(30+rs) both lie in
// [0, 2^(31+rs)) for every rs >= 1; a sign test is one instruction on every
// tier. For half_even, bit `count` of p is the lowest bit of p >> count
// (arithmetic or logical alike).
//
// A tier without a 64-bit arithmetic shift (lanes::logical_shift: AVX2,
// SSE2) shifts logically: with X the true value, X + 2^63 lies in [0, 2^64)
// and (X + 2^63) >> count = floor(X / 2^count) + 2^(63 - count), so it adds
// `add + 2^63` (mod 2^64) instead of `add` and subtracts
// low32(2^(63 - count)) from the 32-bit result (requant_biased_add,
// requant_bias_fix; 0 for count <= 31). The pre-clamp bounds |y|, so the low
// 32 bits of each 64-bit result are the result.
//
// Per-channel constants are built once per block of `width` columns and
// reused down all rows (the loop over rows is innermost), so per-channel
// rescaling costs about what per-tensor does.
//
// What `lanes` provides (v: width int32 lanes, also read as width/2 int64
// lanes; count: what its 64-bit variable shift takes), each named after the
// instruction it is or emulates:
//   load(p), load_n(p, n)           width lanes; n < width lanes, the rest 0
//                                   (nothing past p + n is read)
//   load_count(k)                   width/2 shift counts from int64 k[]
//   pminsd, pmaxsd, paddd, psubd    32-bit lanes
//   paddq, psubq, pand              64-bit lanes (pand: bits)
//   pmuldq(a, b)                    signed products of the even 32-bit lanes
//   psrlq32(a)                      the odd 32-bit lanes moved to the even ones
//   psubq_if_negative(x, p, s)      x - s in the 64-bit lanes where p < 0, else x
//   shift_q(x, count)               per 64-bit lane: arithmetic, or logical
//                                   if logical_shift
//   high_halves                     whether the tier has the two below:
//   join_high(even, odd)            the high halves of the 64-bit lanes of
//                                   even and odd, in lane order
//   shift_d(x, v)                   per 32-bit lane, arithmetic or logical
//                                   as shift_q
//   join_low(even, odd)             the low halves of the 64-bit lanes of
//                                   even (to the even 32-bit lanes) and odd
//                                   (to the odd ones)
//   store_bytes(out, v), store_bytes_n(out, v, n)
//                                   the low byte of each lane (n < width:
//                                   nothing past out + n is written)
//   store_bytes_saturated(out, v), store_bytes_saturated_n(out, v, n)
//                                   each lane saturated to [-128, 127]

// L: the tier's primitives (a parameter, so that a branch a tier does not
// take, such as the high-halves path without L::high_halves, is not checked).
template <dyadic_rounding R, class L = lanes>
struct requant_loop {
  using v = typename L::v;
  using count = typename L::count;
  static constexpr std::size_t width = L::width, half = L::width / 2;

  struct consts {
    v acc_lo, acc_hi, bias, m_even, m_odd, add_even, add_odd, sub_even, sub_odd, fix, y_lo, y_hi, zero_point, one;
    v count32;  // count - 32 per 32-bit lane, for the high-halves path
    count count_even, count_odd;
  };

  // The constants of `width` lanes as arrays, filled once per block of
  // columns.
  struct table {
    alignas(64) std::int32_t acc_lo[width], acc_hi[width], bias[width], fix[width], y_lo[width], y_hi[width],
        zero_point[width], count32[width];
    alignas(64) std::int64_t m_even[half], m_odd[half], add_even[half], add_odd[half], sub_even[half], sub_odd[half],
        count_even[half], count_odd[half], one[half];
  };
  // Columns [column, column + w) straight from the caller's dyadics and
  // biases (no requant_lane array between: this runs once per channel and
  // per call, and per channel it is most of the cost beside the loop);
  // lanes past w get a neutral dyadic (a zero multiplier), computed and never
  // stored, whose shift -1 suits the high-halves path too.
  static void fill(table& t, const requant_lanes& src, std::size_t column, std::size_t w) noexcept {
    std::size_t ch = src.channel(column);  // advanced, not recomputed: no division per lane
    for (std::size_t j = 0; j < width; ++j) {
      const bool live = j < w;
      const dyadic d = !live ? dyadic{0, -1} : src.dyadics != nullptr ? src.dyadics[ch] : src.uniform_dyadic;
      const std::int32_t b = live && src.biases != nullptr ? src.biases[ch] : 0;
      if (++ch == src.period) ch = 0;
      const requant_lane l = requant_lane_for(d, b, src.rounding);
      t.acc_lo[j] = l.acc_lo;
      t.acc_hi[j] = l.acc_hi;
      t.bias[j] = l.bias;
      t.fix[j] = L::logical_shift ? requant_bias_fix(l.count) : 0;
      t.count32[j] = l.count - 32;
      std::int64_t* const m = j % 2 == 0 ? t.m_even : t.m_odd;
      std::int64_t* const add = j % 2 == 0 ? t.add_even : t.add_odd;
      std::int64_t* const sub = j % 2 == 0 ? t.sub_even : t.sub_odd;
      std::int64_t* const count = j % 2 == 0 ? t.count_even : t.count_odd;
      m[j / 2] = l.multiplier;
      add[j / 2] = L::logical_shift ? requant_biased_add(l.add) : l.add;
      sub[j / 2] = l.sub;
      count[j / 2] = l.count;
    }
  }
  // The per-call constants, once per call.
  static void fill_plan(table& t, const requant_plan& plan) noexcept {
    for (std::size_t j = 0; j < width; ++j) {
      t.y_lo[j] = static_cast<std::int32_t>(std::int64_t{plan.lo} - plan.zero_point);
      t.y_hi[j] = static_cast<std::int32_t>(std::int64_t{plan.hi} - plan.zero_point);
      t.zero_point[j] = plan.zero_point;
    }
    for (std::size_t j = 0; j < half; ++j) t.one[j] = 1;
  }
  // Loaded where the loop runs, into a local that never has its address
  // passed anywhere: the constants then stay in registers. (Returned by a
  // call, they would live in memory that every byte store to `out` may
  // alias, and be reloaded after each store: 3x slower per channel.)
  static const std::int32_t* q(const std::int64_t* p) noexcept { return reinterpret_cast<const std::int32_t*>(p); }
  static FP8_ALWAYS_INLINE consts load(const table& t) noexcept {
    consts c;
    c.acc_lo = L::load(t.acc_lo);
    c.acc_hi = L::load(t.acc_hi);
    c.bias = L::load(t.bias);
    c.fix = L::load(t.fix);
    c.y_lo = L::load(t.y_lo);
    c.y_hi = L::load(t.y_hi);
    c.zero_point = L::load(t.zero_point);
    c.m_even = L::load(q(t.m_even));
    c.m_odd = L::load(q(t.m_odd));
    c.add_even = L::load(q(t.add_even));
    c.add_odd = L::load(q(t.add_odd));
    c.sub_even = L::load(q(t.sub_even));
    c.sub_odd = L::load(q(t.sub_odd));
    c.one = L::load(q(t.one));
    c.count32 = L::load(t.count32);
    c.count_even = L::load_count(t.count_even);
    c.count_odd = L::load_count(t.count_odd);
    return c;
  }

  // Step 3 on width/2 64-bit lanes, up to the shift.
  static v rounded_sum(v p, v add, v sub, count k, const consts& c) noexcept {
    v x = L::paddq(p, add);
    if constexpr (R == dyadic_rounding::double_rounding) x = L::psubq_if_negative(x, p, sub);
    if constexpr (R == dyadic_rounding::half_even) x = L::paddq(x, L::pand(L::shift_q(p, k), c.one));
    return x;
  }

  // Steps 1-4 on width lanes.
  //   Bias: the lanes have a bias (without one, step 1's add is skipped).
  //   Clamp: the output range is not int8's whole [-128, 127]; when it is,
  //     the bytes are stored with signed saturation (packsswb, vpmovsdb),
  //     which is step 4's clamp, two instructions fewer.
  //   High: every count is >= 32 (every shift <= -1, the usual case for
  //     scales below 1/2) and the tier has L::high_halves. Then
  //     floor(x / 2^count) = floor(hi32(x) / 2^(count - 32)): one gather of
  //     the high halves and one 32-bit shift per lane instead of two 64-bit
  //     shifts and a join (for a logical tier, hi32(x + 2^63) >> (count - 32)
  //     is the same biased value as before). |x| < 2^62 + 2^61 + 2^31 makes
  //     |y| < 1.5 * 2^30 whatever a is, so without a bias the pre-clamp is
  //     not needed either (with one it still saturates acc + bias).
  // |y + zp| < 2^31 on every path.
  template <bool Bias, bool Clamp, bool High>
  static v compute(v acc, const consts& c) noexcept {
    v a = acc;
    if constexpr (!High || Bias) a = L::pminsd(L::pmaxsd(a, c.acc_lo), c.acc_hi);
    if constexpr (Bias) a = L::paddd(a, c.bias);
    const v xe = rounded_sum(L::pmuldq(a, c.m_even), c.add_even, c.sub_even, c.count_even, c);
    const v xo = rounded_sum(L::pmuldq(L::psrlq32(a), c.m_odd), c.add_odd, c.sub_odd, c.count_odd, c);
    v y;
    if constexpr (High)
      y = L::shift_d(L::join_high(xe, xo), c.count32);
    else
      y = L::join_low(L::shift_q(xe, c.count_even), L::shift_q(xo, c.count_odd));
    if constexpr (L::logical_shift) y = L::psubd(y, c.fix);
    if constexpr (Clamp) y = L::pminsd(L::pmaxsd(y, c.y_lo), c.y_hi);
    return L::paddd(y, c.zero_point);
  }
  template <bool Bias, bool Clamp, bool High>
  static void step(const std::int32_t* acc, std::uint8_t* out, const consts& c) noexcept {
    const v y = compute<Bias, Clamp, High>(L::load(acc), c);
    if constexpr (Clamp)
      L::store_bytes(out, y);
    else
      L::store_bytes_saturated(out, y);
  }
  template <bool Bias, bool Clamp, bool High>
  static void step_n(const std::int32_t* acc, std::uint8_t* out, std::size_t n, const consts& c) noexcept {
    const v y = compute<Bias, Clamp, High>(L::load_n(acc, n), c);
    if constexpr (Clamp)
      L::store_bytes_n(out, y, n);
    else
      L::store_bytes_saturated_n(out, y, n);
  }

  // Whether every channel's shift is <= -1 (one pass over the channels).
  static bool all_shifts_negative(const requant_lanes& src) noexcept {
    if (src.dyadics == nullptr) return src.uniform_dyadic.shift <= -1;
    for (std::size_t ch = 0; ch < src.period; ++ch)
      if (src.dyadics[ch].shift > -1) return false;
    return true;
  }

  static void run(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                  std::size_t rows, std::size_t cols, const requant_lanes& src, const requant_plan& plan) noexcept {
    const bool clamp = !(plan.lo == -128 && plan.hi == 127);
    if constexpr (L::high_halves) {
      if (all_shifts_negative(src)) {
        if (clamp)
          run_plan<true, true>(acc, acc_stride, out, out_stride, rows, cols, src, plan);
        else
          run_plan<false, true>(acc, acc_stride, out, out_stride, rows, cols, src, plan);
        return;
      }
    }
    if (clamp)
      run_plan<true, false>(acc, acc_stride, out, out_stride, rows, cols, src, plan);
    else
      run_plan<false, false>(acc, acc_stride, out, out_stride, rows, cols, src, plan);
  }

  template <bool Clamp, bool High>
  static void run_plan(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                       std::size_t rows, std::size_t cols, const requant_lanes& src,
                       const requant_plan& plan) noexcept {
    table t;
    fill_plan(t, plan);
    if (src.uniform()) {
      fill(t, src, 0, width);
      const consts c = load(t);
      for (std::size_t r = 0; r < rows; ++r) {
        const std::int32_t* a = acc + r * acc_stride;
        std::uint8_t* o = out + r * out_stride;
        std::size_t j = 0;
        for (; j + 2 * width <= cols; j += 2 * width) {  // two independent vectors per trip
          step<false, Clamp, High>(a + j, o + j, c);
          step<false, Clamp, High>(a + j + width, o + j + width, c);
        }
        for (; j + width <= cols; j += width) step<false, Clamp, High>(a + j, o + j, c);
        if (j < cols) step_n<false, Clamp, High>(a + j, o + j, cols - j, c);
      }
      return;
    }
    if (src.biases != nullptr)
      run_columns<true, Clamp, High>(acc, acc_stride, out, out_stride, rows, cols, src, t);
    else
      run_columns<false, Clamp, High>(acc, acc_stride, out, out_stride, rows, cols, src, t);
  }

  // Per channel: a block of `width` columns at a time, down all rows.
  template <bool Bias, bool Clamp, bool High>
  static void run_columns(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                          std::size_t rows, std::size_t cols, const requant_lanes& src, table& t) noexcept {
    for (std::size_t j = 0; j < cols; j += width) {
      const std::size_t w = cols - j < width ? cols - j : width;
      fill(t, src, j, w);
      const consts c = load(t);
      if (w == width) {
        for (std::size_t r = 0; r < rows; ++r)
          step<Bias, Clamp, High>(acc + r * acc_stride + j, out + r * out_stride + j, c);
      } else {
        for (std::size_t r = 0; r < rows; ++r)
          step_n<Bias, Clamp, High>(acc + r * acc_stride + j, out + r * out_stride + j, w, c);
      }
    }
  }
};

// The tile with the rounding chosen once (kernel::requantize_tile's overload
// for the tier calls this).
inline void requantize_tile(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                            std::size_t rows, std::size_t cols, const requant_lanes& src,
                            const requant_plan& plan) noexcept {
  switch (src.rounding) {
    case dyadic_rounding::double_rounding:
      return requant_loop<dyadic_rounding::double_rounding>::run(acc, acc_stride, out, out_stride, rows, cols, src,
                                                                 plan);
    case dyadic_rounding::single_rounding:
      return requant_loop<dyadic_rounding::single_rounding>::run(acc, acc_stride, out, out_stride, rows, cols, src,
                                                                 plan);
    case dyadic_rounding::half_even:
      return requant_loop<dyadic_rounding::half_even>::run(acc, acc_stride, out, out_stride, rows, cols, src, plan);
  }
}
