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
//   odd_lanes(p, a)                 the same for a = load(p), where a second
//                                   load may be cheaper
//   psubq_if_negative(x, p, s)      x - s in the 64-bit lanes where p < 0, else x
//   paddq_bit(x, p, k, bit, one)    x + bit k of p per 64-bit lane (bit = 2^k)
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
//   set1_d(x), set1_q(x)            x in every 32-bit, 64-bit lane
//   to_count(v)                     a vector of 64-bit counts as `count`
// and, where high_halves (derive and shift_range below use them):
//   store(p, v)
//   psllq_n<n>, psrlq_n<n>, psllvq  64-bit shifts, immediate or per lane
//   load_dyadics(p, first, second)  `width` dyadics as 64-bit lanes
//                                   (multiplier low, shift high)
//   deinterleave_q(first, second, even, odd)
//                                   the even and the odd channels' 64-bit lanes

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
    v bit_even, bit_odd;  // 2^count, for half_even
  };
  // zp * 2^count passes through step 3's floor, so adding it to `add` adds
  // the zero point for free ("Fold"). Exact when every count is <= 53 (every
  // shift >= -22): then |p| <= 2^62, add <= 2^52 + 2^30 and |zp * 2^count| <=
  // 255 * 2^53 < 2^61 sum to less than 2^63 (and the biased sum of a logical
  // tier stays in [0, 2^64)). With a lower shift the zero point is added
  // after the shift.
  static constexpr int fold_min_shift = -22;

  // The constants of `width` lanes as arrays, filled once per block of
  // columns.
  struct table {
    alignas(64) std::int32_t acc_lo[width], acc_hi[width], bias[width], fix[width], y_lo[width], y_hi[width],
        zero_point[width], count32[width];
    alignas(64) std::int64_t m_even[half], m_odd[half], add_even[half], add_odd[half], sub_even[half], sub_odd[half],
        count_even[half], count_odd[half], bit_even[half], bit_odd[half], one[half];
  };
  // Columns [column, column + w) straight from the caller's dyadics and
  // biases (no requant_lane array between: this runs once per channel and
  // per call, and per channel it is most of the cost beside the loop);
  // lanes past w get a neutral dyadic (a zero multiplier), computed and never
  // stored, whose shift -1 suits the high-halves path too.
  template <bool Fold>
  static void fill(table& t, const requant_lanes& src, std::size_t column, std::size_t w,
                   std::int32_t zero_point) noexcept {
    std::size_t ch = src.channel(column);  // advanced, not recomputed: no division per lane
    requant_lane l{};
    dyadic last{0, 0};
    std::int32_t last_bias = 0;
    for (std::size_t j = 0; j < width; ++j) {
      const bool live = j < w;
      const dyadic d = !live ? dyadic{0, -1} : src.dyadics != nullptr ? src.dyadics[ch] : src.uniform_dyadic;
      const std::int32_t b = live && src.biases != nullptr ? src.biases[ch] : 0;
      if (++ch == src.period) ch = 0;
      // A lane like the one before (per tensor, or the neutral lanes) is not
      // derived again: per tensor this runs once per call.
      if (j == 0 || d.multiplier != last.multiplier || d.shift != last.shift || b != last_bias) {
        l = requant_lane_for(d, b, src.rounding);
        last = d;
        last_bias = b;
      }
      t.acc_lo[j] = l.acc_lo;
      t.acc_hi[j] = l.acc_hi;
      t.bias[j] = l.bias;
      t.fix[j] = L::logical_shift ? requant_bias_fix(l.count) : 0;
      t.count32[j] = l.count - 32;
      std::int64_t* const m = j % 2 == 0 ? t.m_even : t.m_odd;
      std::int64_t* const add = j % 2 == 0 ? t.add_even : t.add_odd;
      std::int64_t* const sub = j % 2 == 0 ? t.sub_even : t.sub_odd;
      std::int64_t* const count = j % 2 == 0 ? t.count_even : t.count_odd;
      std::int64_t* const bit = j % 2 == 0 ? t.bit_even : t.bit_odd;
      m[j / 2] = l.multiplier;
      const std::int64_t a = Fold ? l.add + zero_point * (std::int64_t{1} << l.count) : l.add;
      add[j / 2] = L::logical_shift ? requant_biased_add(a) : a;
      sub[j / 2] = l.sub;
      count[j / 2] = l.count;
      bit[j / 2] = std::int64_t{1} << l.count;  // count <= 62
    }
  }
  // The per-call constants, once per call.
  template <bool Fold>
  static void fill_plan(table& t, const requant_plan& plan) noexcept {
    const std::int32_t zp = Fold ? 0 : plan.zero_point;  // added after the shift
    for (std::size_t j = 0; j < width; ++j) {
      t.y_lo[j] = static_cast<std::int32_t>(std::int64_t{plan.lo} - zp);
      t.y_hi[j] = static_cast<std::int32_t>(std::int64_t{plan.hi} - zp);
      t.zero_point[j] = zp;
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
    c.bit_even = L::load(q(t.bit_even));
    c.bit_odd = L::load(q(t.bit_odd));
    c.count_even = L::load_count(t.count_even);
    c.count_odd = L::load_count(t.count_odd);
    return c;
  }

  // Every lane alike: per tensor, and the per-call constants of the
  // high-halves path (derive() then sets the per-channel ones). One lane
  // derived, then broadcast: filling a table costs more than a short call.
  template <bool Fold>
  static FP8_ALWAYS_INLINE consts broadcast(const requant_lane& l, const requant_plan& plan) noexcept {
    const std::int32_t zp = Fold ? 0 : plan.zero_point;  // added after the shift
    const std::int64_t add = Fold ? l.add + plan.zero_point * (std::int64_t{1} << l.count) : l.add;
    consts c;
    c.acc_lo = L::set1_d(l.acc_lo);
    c.acc_hi = L::set1_d(l.acc_hi);
    c.bias = L::set1_d(l.bias);
    c.fix = L::set1_d(L::logical_shift ? requant_bias_fix(l.count) : 0);
    c.y_lo = L::set1_d(static_cast<std::int32_t>(std::int64_t{plan.lo} - zp));
    c.y_hi = L::set1_d(static_cast<std::int32_t>(std::int64_t{plan.hi} - zp));
    c.zero_point = L::set1_d(zp);
    c.m_even = c.m_odd = L::set1_d(l.multiplier);  // pmuldq reads the low half of each 64-bit lane
    c.add_even = c.add_odd = L::set1_q(L::logical_shift ? requant_biased_add(add) : add);
    c.sub_even = c.sub_odd = L::set1_q(l.sub);
    c.one = L::set1_q(1);
    c.count32 = L::set1_d(l.count - 32);
    c.count_even = c.count_odd = L::to_count(L::set1_q(l.count));
    c.bit_even = c.bit_odd = L::set1_q(std::int64_t{1} << l.count);  // count <= 62
    return c;
  }

  // The per-channel constants of the high-halves path (every shift <= -1)
  // from `width` dyadics and biases, with the tier's vector operations: the
  // scalar requant_lane_for costs about 14 cycles a channel, which per call
  // and per channel is as much as the loop itself (and 10 times it for one
  // row). The same values as fill() except the pre-clamp, which this path
  // needs only to saturate acc + bias: [INT32_MIN - min(bias, 0),
  // INT32_MAX - max(bias, 0)] (dyadic/requantize_lanes.hpp). A dyadic is one
  // 64-bit lane (multiplier low, shift high), so after deinterleave_q the even
  // and odd channels' multipliers already sit where pmuldq reads them.
  static void derive_half(v dy, v zp, v& add, v& sub, count& k, v& bit, const consts& c) noexcept {
    const v kq = L::template psrlq_n<32>(L::psubd(L::set1_d(31), dy));  // count = 31 - shift (high halves)
    v a = L::psllvq(c.one, L::psubq(kq, c.one));                       // 2^(count - 1)
    if constexpr (R == dyadic_rounding::double_rounding) {
      const v negative = L::template psrlq_n<5>(kq);  // count >= 32 (shift < 0): 1, else 0
      sub = L::template psllq_n<31>(negative);
      a = L::paddq(a, L::template psllq_n<30>(negative));
    }
    if constexpr (R == dyadic_rounding::half_even) a = L::psubq(a, c.one);
    a = L::paddq(a, L::psllvq(zp, kq));  // zp * 2^count (zp is 0 unless folded)
    if constexpr (L::logical_shift) a = L::paddq(a, L::set1_q(INT64_MIN));  // + 2^63 mod 2^64
    add = a;
    k = L::to_count(kq);
    if constexpr (R == dyadic_rounding::half_even) bit = L::psllvq(c.one, kq);
  }
  template <bool Bias>
  static FP8_ALWAYS_INLINE void derive(consts& c, const dyadic* d, const std::int32_t* b, v zp) noexcept {
    v first, second, even, odd;
    L::load_dyadics(d, first, second);
    L::deinterleave_q(first, second, even, odd);
    c.m_even = even;
    c.m_odd = odd;
    c.count32 = L::psubd(L::set1_d(-1), L::join_high(even, odd));  // count - 32 = -1 - shift
    // A logical tier's fix: 2^(63 - count) = 2^31 >> (count - 32).
    if constexpr (L::logical_shift) c.fix = L::shift_d(L::set1_d(INT32_MIN), c.count32);
    derive_half(even, zp, c.add_even, c.sub_even, c.count_even, c.bit_even, c);
    derive_half(odd, zp, c.add_odd, c.sub_odd, c.count_odd, c.bit_odd, c);
    if constexpr (Bias) {
      const v zero = L::set1_d(0);
      c.bias = L::load(b);
      c.acc_lo = L::psubd(L::set1_d(INT32_MIN), L::pminsd(c.bias, zero));
      c.acc_hi = L::psubd(L::set1_d(INT32_MAX), L::pmaxsd(c.bias, zero));
    }
  }

  // The smallest and largest shift of n >= 1 dyadics.
  static void shift_range(const dyadic* d, std::size_t n, int& lo, int& hi) noexcept {
    lo = hi = d[0].shift;
    std::size_t i = 0;
    if constexpr (L::high_halves) {
      if (n >= width) {
        v vlo = L::set1_d(lo), vhi = vlo;
        for (; i + width <= n; i += width) {
          v first, second;
          L::load_dyadics(d + i, first, second);
          const v s = L::join_high(first, second);  // the shifts, in some order
          vlo = L::pminsd(vlo, s);
          vhi = L::pmaxsd(vhi, s);
        }
        alignas(64) std::int32_t a[width], b[width];
        L::store(a, vlo);
        L::store(b, vhi);
        for (std::size_t j = 0; j < width; ++j) {
          lo = a[j] < lo ? a[j] : lo;
          hi = b[j] > hi ? b[j] : hi;
        }
      }
    }
    for (; i < n; ++i) {
      lo = d[i].shift < lo ? d[i].shift : lo;
      hi = d[i].shift > hi ? d[i].shift : hi;
    }
  }

  // Step 3 on width/2 64-bit lanes, up to the shift.
  static v rounded_sum(v p, v add, v sub, count k, v bit, const consts& c) noexcept {
    v x = L::paddq(p, add);
    if constexpr (R == dyadic_rounding::double_rounding) x = L::psubq_if_negative(x, p, sub);
    if constexpr (R == dyadic_rounding::half_even) x = L::paddq_bit(x, p, k, bit, c.one);
    return x;
  }

  // Steps 1-4 on width lanes, from acc (and, for the odd lanes, acc_odd:
  // psrlq32(acc) or what odd_lanes gives).
  //   Bias: the lanes have a bias (without one, step 1's add is skipped).
  //   Clamp: the output range is not int8's whole [-128, 127]; when it is,
  //     the bytes are stored with signed saturation (packsswb, vpmovsdb),
  //     which is step 4's clamp, two instructions fewer.
  //   High: every count is >= 32 (every shift <= -1, the usual case for
  //     scales below 1/2) and the tier has L::high_halves. Then
  //     floor(x / 2^count) = floor(hi32(x) / 2^(count - 32)): one gather of
  //     the high halves and one 32-bit shift per lane instead of two 64-bit
  //     shifts and a join (for a logical tier, hi32(x + 2^63) >> (count - 32)
  //     is the same biased value as before). |x| < 2^62 + 2^61 + 2^31 (+ 2^61
  //     folded) makes |y| < 2^31 whatever a is, so without a bias the
  //     pre-clamp is not needed either (with one it still saturates acc + bias).
  //   Fold: the zero point is in `add` (see fold_min_shift), not added after.
  // |y + zp| < 2^31 on every path.
  template <bool Bias, bool High>
  static constexpr bool pre_clamp = !High || Bias;
  template <bool Bias, bool Clamp, bool High, bool Fold>
  static v compute(v acc, v acc_odd, const consts& c) noexcept {
    v a = acc, a_odd = acc_odd;
    if constexpr (pre_clamp<Bias, High>) a = L::pminsd(L::pmaxsd(a, c.acc_lo), c.acc_hi);
    if constexpr (Bias) a = L::paddd(a, c.bias);
    if constexpr (pre_clamp<Bias, High>) a_odd = L::psrlq32(a);
    const v xe = rounded_sum(L::pmuldq(a, c.m_even), c.add_even, c.sub_even, c.count_even, c.bit_even, c);
    const v xo = rounded_sum(L::pmuldq(a_odd, c.m_odd), c.add_odd, c.sub_odd, c.count_odd, c.bit_odd, c);
    v y;
    if constexpr (High)
      y = L::shift_d(L::join_high(xe, xo), c.count32);
    else
      y = L::join_low(L::shift_q(xe, c.count_even), L::shift_q(xo, c.count_odd));
    if constexpr (L::logical_shift) y = L::psubd(y, c.fix);
    if constexpr (Clamp) y = L::pminsd(L::pmaxsd(y, c.y_lo), c.y_hi);
    if constexpr (!Fold) y = L::paddd(y, c.zero_point);
    return y;
  }
  template <bool Bias, bool Clamp, bool High, bool Fold>
  static void step(const std::int32_t* acc, std::uint8_t* out, const consts& c) noexcept {
    const v a = L::load(acc);
    const v y = compute<Bias, Clamp, High, Fold>(a, pre_clamp<Bias, High> ? a : L::odd_lanes(acc, a), c);
    if constexpr (Clamp)
      L::store_bytes(out, y);
    else
      L::store_bytes_saturated(out, y);
  }
  template <bool Bias, bool Clamp, bool High, bool Fold>
  static void step_n(const std::int32_t* acc, std::uint8_t* out, std::size_t n, const consts& c) noexcept {
    const v a = L::load_n(acc, n);
    const v y = compute<Bias, Clamp, High, Fold>(a, L::psrlq32(a), c);
    if constexpr (Clamp)
      L::store_bytes_n(out, y, n);
    else
      L::store_bytes_saturated_n(out, y, n);
  }

  static void run(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                  std::size_t rows, std::size_t cols, const requant_lanes& src, const requant_plan& plan) noexcept {
    int lo = src.uniform_dyadic.shift, hi = lo;
    if (src.shifts_known) {
      lo = src.min_shift;
      hi = src.max_shift;
    } else if (src.dyadics != nullptr) {
      shift_range(src.dyadics, src.period, lo, hi);
    }
    const bool clamp = !(plan.lo == -128 && plan.hi == 127), fold = lo >= fold_min_shift;
    if constexpr (L::high_halves) {
      if (hi <= -1) return run_clamp<true>(acc, acc_stride, out, out_stride, rows, cols, src, plan, clamp, fold);
    }
    run_clamp<false>(acc, acc_stride, out, out_stride, rows, cols, src, plan, clamp, fold);
  }
  template <bool High>
  static void run_clamp(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                        std::size_t rows, std::size_t cols, const requant_lanes& src, const requant_plan& plan,
                        bool clamp, bool fold) noexcept {
    if (clamp) {
      if (fold) return run_plan<true, High, true>(acc, acc_stride, out, out_stride, rows, cols, src, plan);
      return run_plan<true, High, false>(acc, acc_stride, out, out_stride, rows, cols, src, plan);
    }
    if (fold) return run_plan<false, High, true>(acc, acc_stride, out, out_stride, rows, cols, src, plan);
    run_plan<false, High, false>(acc, acc_stride, out, out_stride, rows, cols, src, plan);
  }

  template <bool Clamp, bool High, bool Fold>
  static void run_plan(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                       std::size_t rows, std::size_t cols, const requant_lanes& src,
                       const requant_plan& plan) noexcept {
    if (src.uniform()) {
      const consts c = broadcast<Fold>(requant_lane_for(src.uniform_dyadic, 0, src.rounding), plan);
      for (std::size_t r = 0; r < rows; ++r) {
        const std::int32_t* a = acc + r * acc_stride;
        std::uint8_t* o = out + r * out_stride;
        std::size_t j = 0;
        for (; j + 2 * width <= cols; j += 2 * width) {  // two independent vectors per trip
          step<false, Clamp, High, Fold>(a + j, o + j, c);
          step<false, Clamp, High, Fold>(a + j + width, o + j + width, c);
        }
        for (; j + width <= cols; j += width) step<false, Clamp, High, Fold>(a + j, o + j, c);
        if (j < cols) step_n<false, Clamp, High, Fold>(a + j, o + j, cols - j, c);
      }
      return;
    }
    if (src.biases != nullptr)
      run_columns<true, Clamp, High, Fold>(acc, acc_stride, out, out_stride, rows, cols, src, plan);
    else
      run_columns<false, Clamp, High, Fold>(acc, acc_stride, out, out_stride, rows, cols, src, plan);
  }

  // Per channel: a block of `width` columns at a time, down all rows.
  template <bool Bias, bool Clamp, bool High, bool Fold>
  static void run_columns(const std::int32_t* acc, std::size_t acc_stride, std::uint8_t* out, std::size_t out_stride,
                          std::size_t rows, std::size_t cols, const requant_lanes& src,
                          const requant_plan& plan) noexcept {
    // High: the per-call part (the lanes of a neutral dyadic, a zero
    // multiplier, whose shift -1 suits this path), to which derive() adds
    // each block's. Otherwise the table, filled per block.
    consts base{};
    v zp{};
    table t;
    if constexpr (High) {
      base = broadcast<Fold>(requant_lane_for(dyadic{0, -1}, 0, src.rounding), plan);
      zp = L::set1_q(Fold ? std::int64_t{plan.zero_point} : 0);
    } else {
      fill_plan<Fold>(t, plan);
    }
    for (std::size_t j = 0; j < cols; j += width) {
      const std::size_t w = cols - j < width ? cols - j : width;
      consts c;
      if constexpr (High) {
        // The block's dyadics and biases, contiguous: straight from the
        // caller's arrays when they are, else gathered (channels that wrap,
        // a uniform dyadic, the last block), neutral past w.
        const std::size_t first = src.channel(j);
        alignas(64) dyadic dyadics[width];
        alignas(64) std::int32_t biases[width];
        const dyadic* d = dyadics;
        const std::int32_t* b = biases;
        if (w == width && first + width <= src.period && src.dyadics != nullptr) {
          d = src.dyadics + first;
          if constexpr (Bias) b = src.biases + first;
        } else {
          std::size_t ch = first;
          for (std::size_t l = 0; l < width; ++l) {
            const bool live = l < w;
            dyadics[l] = !live ? dyadic{0, -1} : src.dyadics != nullptr ? src.dyadics[ch] : src.uniform_dyadic;
            biases[l] = live && Bias ? src.biases[ch] : 0;
            if (++ch == src.period) ch = 0;
          }
        }
        c = base;
        derive<Bias>(c, d, b, zp);
      } else {
        fill<Fold>(t, src, j, w, plan.zero_point);
        c = load(t);
      }
      if (w == width) {
        for (std::size_t r = 0; r < rows; ++r)
          step<Bias, Clamp, High, Fold>(acc + r * acc_stride + j, out + r * out_stride + j, c);
      } else {
        for (std::size_t r = 0; r < rows; ++r)
          step_n<Bias, Clamp, High, Fold>(acc + r * acc_stride + j, out + r * out_stride + j, w, c);
      }
    }
  }
};

// The smallest and largest shift of n >= 1 dyadics (kernel::dyadic_shift_range
// for the tier).
inline void dyadic_shift_range(const dyadic* d, std::size_t n, int& lo, int& hi) noexcept {
  requant_loop<dyadic_rounding::double_rounding>::shift_range(d, n, lo, hi);
}

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
