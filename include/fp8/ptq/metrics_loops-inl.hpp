// SPDX-License-Identifier: Apache-2.0
// The loops of the ptq metrics (ptq/metrics_tiers.hpp), written once for
// every vector tier. No include guard and no includes: metrics_tiers.hpp
// includes this file inside each tier's target region, in the namespace of
// the tier's lane operations `ops`. No lambdas (a lambda in a target region
// is not compiled for the target by every compiler).

// The error_stats pass. 16 pairs per step, whatever the vector width: float
// vector v of the step holds pairs v L .. v L + L - 1 of it, widened into
// double vectors 2v and 2v + 1, so double vector d holds partial sums
// d H .. d H + H - 1, the lanes of stats_state in order: each pair goes to
// partial sum (its stream position) mod 16, as stats_pair would add it. A
// lane zeroed for a non-finite pair adds +0, which leaves a sum unchanged (no
// partial sum is ever -0: they start at +0 and x + (-x) is +0); one branch
// per vector, rarely taken, counts those pairs. Pairs before the first
// stream position that is a multiple of 16, and after the last whole step,
// go through stats_pair.
inline void stats_add(stats_state& s, const float* r, const float* x, std::size_t n) noexcept {
  using fv = ops::fv;
  using dv = ops::dv;
  constexpr std::size_t L = ops::L, H = ops::H, NV = stats_lanes / L, ND = stats_lanes / H;
  static_assert(stats_lanes % L == 0, "whole vectors of partial sums");
  std::size_t i = 0;
  for (; i < n && stats_lane_of(s.pairs + i) != 0; ++i) stats_pair(s, stats_lane_of(s.pairs + i), r[i], x[i]);
  if (n - i >= stats_lanes) {
    dv acc[stats_sums_][ND];
    for (std::size_t k = 0; k < stats_sums_; ++k)
      for (std::size_t d = 0; d < ND; ++d) acc[k][d] = ops::loadd(s.lane[k] + d * H);
    dv m = ops::set1d(s.max_abs);
    for (; n - i >= stats_lanes; i += stats_lanes) {
      for (std::size_t v = 0; v < NV; ++v) {
        const float* rp = r + i + v * L;
        const float* xp = x + i + v * L;
        fv vr = ops::loadf(rp), vx = ops::loadf(xp);
        const typename ops::fmask special = ops::nonfinite(vr, vx);
        // Expected false: the hot loop is then one straight block (GCC laid it
        // out as two, 1.4x slower in L1 on Zen 5, depending on code alignment).
        if (__builtin_expect(ops::any(special), 0)) {
          for (std::size_t k = 0; k < L; ++k)
            if (!both_finite(rp[k], xp[k])) classify_nonfinite(s, rp[k], xp[k]);
          vr = ops::zero_where(special, vr);
          vx = ops::zero_where(special, vx);
        }
        dv R[2], X[2], A[2];
        ops::widen(vr, R[0], R[1]);
        ops::widen(vx, X[0], X[1]);
        for (std::size_t h = 0; h < 2; ++h) {
          const std::size_t d = 2 * v + h;
          const dv E = ops::sub(X[h], R[h]);
          A[h] = ops::absd(E);
          acc[sum_rr_][d] = ops::add(acc[sum_rr_][d], ops::mul(R[h], R[h]));
          acc[sum_xx_][d] = ops::add(acc[sum_xx_][d], ops::mul(X[h], X[h]));
          acc[sum_rx_][d] = ops::add(acc[sum_rx_][d], ops::mul(R[h], X[h]));
          acc[sum_ee_][d] = ops::fma_square(acc[sum_ee_][d], E);
          acc[sum_ae_][d] = ops::add(acc[sum_ae_][d], A[h]);
        }
        m = ops::maxd(m, ops::maxd(A[0], A[1]));  // one maximum on m's dependency chain per vector
      }
    }
    for (std::size_t k = 0; k < stats_sums_; ++k)
      for (std::size_t d = 0; d < ND; ++d) ops::stored(s.lane[k] + d * H, acc[k][d]);
    alignas(64) double lanes[H];
    ops::stored(lanes, m);
    for (std::size_t k = 0; k < H; ++k) s.max_abs = lanes[k] > s.max_abs ? lanes[k] : s.max_abs;
  }
  for (; i < n; ++i) stats_pair(s, stats_lane_of(s.pairs + i), r[i], x[i]);
  s.pairs += n;
}

// The constants of the binning rule in double lanes.
struct bin_lanes {
  ops::dv lo, hi, scale, last, below, above, not_a_number;
};
// The slot of each lane exactly as bin_index computes it (the same
// subtraction, product, clamp and comparisons; the value is then integral
// and its truncation is the index).
inline ops::dv bin_slot(ops::dv v, const bin_lanes& c) noexcept {
  ops::dv t = ops::mind(ops::mul(ops::sub(v, c.lo), c.scale), c.last);
  t = ops::select(ops::lt(v, c.lo), c.below, t);
  t = ops::select(ops::gt(v, c.hi), c.above, t);
  return ops::select(ops::isnan(v), c.not_a_number, t);
}

// Bin indices of L values at a time into a block of 256 int32 indices (1 KiB
// of stack, in L1 with the counts); the counts are then incremented one by
// one (a histogram update is a scatter with conflicts, which SIMD does not
// speed up). The tail goes through bin_index.
template <bool Magnitude>
void bin_values(std::uint64_t* counts, const float* x, std::size_t n, const bin_params& p) noexcept {
  using fv = ops::fv;
  using dv = ops::dv;
  constexpr std::size_t L = ops::L, H = ops::H, block = 256;
  bin_lanes c;
  c.lo = ops::set1d(static_cast<double>(p.lo));
  c.hi = ops::set1d(static_cast<double>(p.hi));
  c.scale = ops::set1d(p.scale);
  c.last = ops::set1d(static_cast<double>(p.bins - 1));
  c.below = ops::set1d(static_cast<double>(p.bins));
  c.above = ops::set1d(static_cast<double>(p.bins + 1));
  c.not_a_number = ops::set1d(static_cast<double>(p.bins + 2));
  alignas(64) std::int32_t idx[block];
  std::size_t i = 0;
  while (n - i >= L) {
    const std::size_t m = (n - i) / L * L < block ? (n - i) / L * L : block;
    for (std::size_t k = 0; k < m; k += L) {
      fv v = ops::loadf(x + i + k);
      if (Magnitude) v = ops::absf(v);
      dv v0, v1;
      ops::widen(v, v0, v1);
      ops::store_int32(bin_slot(v0, c), idx + k);
      ops::store_int32(bin_slot(v1, c), idx + k + H);
    }
    for (std::size_t k = 0; k < m; ++k) ++counts[static_cast<std::size_t>(idx[k])];
    i += m;
  }
  for (; i < n; ++i) ++counts[bin_index(Magnitude ? std::fabs(x[i]) : x[i], p.lo, p.hi, p.scale, p.bins)];
}

// The kld range scan: the minimum and maximum of r, exact (so the order does
// not matter but for the sign of a zero, which kld_scan_finish makes +0),
// with vectors holding a non-finite value passed to kld_scan_pair one pair
// at a time.
inline kld_scan_result kld_scan(const float* r, const float* x, std::size_t n) noexcept {
  using fv = ops::fv;
  constexpr std::size_t L = ops::L;
  kld_scan_result s;
  fv lo = ops::set1f(s.lo), hi = ops::set1f(s.hi);
  std::size_t i = 0;
  for (; n - i >= L; i += L) {
    const fv vr = ops::loadf(r + i), vx = ops::loadf(x + i);
    if (!ops::any(ops::nonfinite(vr, vx))) {
      lo = ops::minf(vr, lo);
      hi = ops::maxf(vr, hi);
      continue;
    }
    for (std::size_t k = 0; k < L; ++k)
      if (!kld_scan_pair(s, r[i + k], x[i + k])) {
        s.nonfinite = true;
        return s;
      }
  }
  alignas(64) float l[L], h[L];
  ops::storef(l, lo);
  ops::storef(h, hi);
  for (std::size_t k = 0; k < L; ++k) {
    s.lo = l[k] < s.lo ? l[k] : s.lo;
    s.hi = h[k] > s.hi ? h[k] : s.hi;
  }
  for (; i < n; ++i)
    if (!kld_scan_pair(s, r[i], x[i])) {
      s.nonfinite = true;
      return s;
    }
  return kld_scan_finish(s);
}
