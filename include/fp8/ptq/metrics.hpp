// SPDX-License-Identifier: Apache-2.0
// The loss metrics of post-training quantization (the ptq/ layer, above
// kernels/): how far a candidate tensor x (a quantized-then-dequantized
// tensor, or a layer's output computed in FP8) is from its reference r. A
// PopRT-style (Graphcore) search tries formats and scales per tensor and keeps
// the one of least loss by one of the metrics PopRT lists (mse, mae, max_abs,
// snr, cos_dist, kld); TensorRT-style entropy and percentile calibrators use
// the histograms and the KL divergence. Here: fp8::error_stats, one SIMD pass
// over (r, x) pairs accumulating in double; fp8::histogram, uniform bins with
// SIMD binning; kl_divergence with the smoothing of MXNet/TVM's calibration
// code restated on normalized distributions; and fp8::loss / metric_value,
// the value a search minimizes. Every formula, edge case and the one NaN/Inf
// rule are written below and in docs/ptq.md.
//
// Definitions. For each pair i (floats r_i, x_i) let R_i, X_i be their exact
// double values and E_i = fl64(X_i - R_i). Pairs are classified first (the
// NaN/Inf rule):
//   * r_i NaN: skipped (counted by skipped(), in no sum, no count);
//   * r_i and x_i both finite: compared, into every sum below;
//   * otherwise, x_i == r_i (equal infinities): compared as an exact match,
//     error 0, counted by count() and matched_infinities(), in no sum
//     (their energy is not finite);
//   * otherwise (x_i NaN, an infinity against a finite value, or opposite
//     infinities): a non-finite error, counted by nonfinite(); while any
//     exists every loss is +inf (snr_db -inf).
// Over the compared pairs (count() of them):
//   S_rr = sum R^2, S_xx = sum X^2, S_rx = sum R X   (each term exact: a
//          product of two 24-bit significands fits double's 53 bits, and
//          float's exponent range squared, 2^-298 .. 2^256, is inside
//          double's normal range)
//   S_ee = sum E^2, S_ae = sum |E|, M = max |E|
//   mse = S_ee / count, mae = S_ae / count, max_abs = M,
//   nsr = S_ee / S_rr, snr_db = 10 log10(S_rr / S_ee),
//   cos_dist = 1 - S_rx / sqrt(S_rr S_xx), clamped to [0, 2].
// Edge cases (checked in this order after the non-finite rule): S_ee == 0
// (every compared pair equal, which includes count == 0) is an exact match:
// mse = mae = max_abs = nsr = cos_dist = 0 and snr_db = +inf; otherwise
// S_rr == 0 (an all-zero reference) gives nsr = +inf, snr_db = -inf; one of
// S_rr, S_xx zero gives cos_dist = 1 (no direction to agree with).
//
// Summation order. Finite inputs never overflow a double sum (|E| < 2^129,
// so E^2 < 2^258 and 2^64 of them < 2^322). The sums are not exact, so their
// order is part of the definition: the pair at stream position p (counting
// every pair ever given to add()) goes to partial sum p mod 16, in stream
// order, on every tier and build; E^2 is added with one fused multiply-add
// (std::fma, vfmadd; without FMA in the flags the sse2 tier calls std::fma
// lane by lane), the other products are exact; the 16 partial sums are
// combined by a fixed pairwise tree when read. Hence the results depend
// neither on how the stream is split into add() calls nor on the tier
// (portable, sse2, avx2, avx512) nor on the build's flags: bit for bit.
// merge() adds the partial sums of two accumulators: a different order, so
// results after a merge depend on what was merged in which order, in the
// last bits (the usual bound: relative error of a sum at most about (terms
// per partial sum + 4) * 2^-53 times the sum of the magnitudes of its
// terms). The loops are in ptq/metrics_tiers.hpp; add(), the histograms'
// add() and kld choose the tier once per call (detail/dispatch.hpp).
//
// Histograms: bins uniform bins over [lo, hi] (lo < hi finite floats). A
// value v goes to bin min(floor(fl64(fl64(v - lo) * s)), bins - 1) with
// s = fl64(bins / fl64(hi - lo)) when lo <= v <= hi (so hi itself is in the
// last bin, as numpy.histogram counts it); v < lo (including -inf) is
// counted by below(), v > hi (including +inf) by above(), NaN by nan(); none
// of these is in a bin. The index is monotone in v, so the bins are
// intervals; their edges are those of the exact uniform partition to within
// a few double roundings relative to max(|lo|, |hi|), and exactly those when
// (hi - lo) / bins is a power of two and v - lo is exact in double (v and lo
// less than 2^29 apart in scale; -2^-149 with lo = -4 is not: -2^-149 + 4
// rounds to 4, the bin of 0).
//
// KL divergence of count vectors p, q (natural log): P = p / sum p,
// Q = q / sum q; a bin with P_i = 0 contributes 0; a bin with P_i > 0 and
// Q_i = 0 gets Q_i = epsilon, after which Q is renormalized over all bins
// (divided by 1 + epsilon z, z the number of such bins); KL = sum P_i
// ln(P_i / Q_i), reported as max(KL, 0). sum p == 0 gives 0; sum q == 0 < sum
// p gives +inf.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../detail/dispatch.hpp"
#include "../detail/enum.hpp"
#include "../detail/isa.hpp"
#include "../error.hpp"
#include "metrics_tiers.hpp"

FP8_BEGIN_NAMESPACE

// The losses a quantization search can minimize (PopRT's list).
enum class metric {
  mse,       // mean squared error
  mae,       // mean absolute error
  max_abs,   // largest absolute error
  snr,       // noise-to-signal ratio S_ee / S_rr as the loss; snr_db for reports
  cos_dist,  // 1 - cosine similarity
  kld,       // KL divergence of the histograms (needs histograms, not error_stats)
};
FP8_ENUM_RANGE(metric, kld)

// 2048 bins: the histogram size of TensorRT's entropy calibrator and of
// pytorch-quantization's HistogramCalibrator, which PopRT-style kld follows.
constexpr std::size_t kld_default_bins = 2048;
// The smoothing mass of an empty candidate bin: MXNet's and TVM's calibration
// code (_smooth_distribution / SmoothDistribution) use eps = 0.0001.
constexpr double kld_default_epsilon = 1e-4;

class error_stats;
class histogram;

namespace detail {

// The 16 partial sums combined by a fixed pairwise tree.
inline double sum_lanes(const double* l) noexcept {
  double a[stats_lanes / 2];
  for (std::size_t k = 0; k < stats_lanes / 2; ++k) a[k] = l[2 * k] + l[2 * k + 1];
  for (std::size_t w = stats_lanes / 4; w >= 1; w /= 2)
    for (std::size_t k = 0; k < w; ++k) a[k] = a[2 * k] + a[2 * k + 1];
  return a[0];
}

template <class Tag>
void add_pairs(error_stats& s, const float* r, const float* x, std::size_t n, Tag tag) noexcept;

}  // namespace detail

// A streaming accumulator of (reference, candidate) pairs: add() any number
// of times, merge() accumulators of other threads or batches, then read the
// metrics. A value type (about 700 bytes), no allocation.
class error_stats {
 public:
  error_stats() noexcept = default;

  // Adds the n pairs (r[i], x[i]) in one pass on the best tier the CPU runs
  // (chosen once per call; every tier gives the same bits). r and x may be
  // the same array. Throws fp8::invalid_argument ('r' or 'x' null while
  // n > 0) before any change. (Key, a type named after the unit's flags,
  // keeps the code of units built with different flags apart.)
  template <class Key = detail::tu_key>
  void add(const float* r, const float* x, std::size_t n) {
    constexpr const char* function = "fp8::error_stats::add";
    std::size_t bytes[2];
    detail::check_arrays(function, {{"r", r, n, sizeof(float)}, {"x", x, n, sizeof(float)}}, bytes);
    detail::dispatch([&](auto tag) { detail::stats_add(s_, r, x, n, tag); });
  }
  // Adds other's pairs (partial sum by partial sum; counts and max exactly).
  void merge(const error_stats& other) noexcept {
    for (std::size_t k = 0; k < detail::stats_sums_; ++k)
      for (std::size_t j = 0; j < detail::stats_lanes; ++j) s_.lane[k][j] += other.s_.lane[k][j];
    s_.max_abs = other.s_.max_abs > s_.max_abs ? other.s_.max_abs : s_.max_abs;
    s_.pairs += other.s_.pairs;
    s_.skipped += other.s_.skipped;
    s_.nonfinite += other.s_.nonfinite;
    s_.matched_infinities += other.s_.matched_infinities;
  }

  // Counts.
  std::uint64_t pairs() const noexcept { return s_.pairs; }      // every pair added
  std::uint64_t skipped() const noexcept { return s_.skipped; }  // reference NaN
  std::uint64_t count() const noexcept { return s_.pairs - s_.skipped; }  // compared
  std::uint64_t nonfinite() const noexcept { return s_.nonfinite; }
  std::uint64_t matched_infinities() const noexcept { return s_.matched_infinities; }

  // The sums of the definition over the pairs with both values finite.
  double sum_rr() const noexcept { return detail::sum_lanes(s_.lane[detail::sum_rr_]); }
  double sum_xx() const noexcept { return detail::sum_lanes(s_.lane[detail::sum_xx_]); }
  double sum_rx() const noexcept { return detail::sum_lanes(s_.lane[detail::sum_rx_]); }
  double sum_squared_error() const noexcept { return detail::sum_lanes(s_.lane[detail::sum_ee_]); }
  double sum_abs_error() const noexcept { return detail::sum_lanes(s_.lane[detail::sum_ae_]); }

  // The metrics (header comment: formulas and edge cases).
  double mse() const noexcept { return mean(sum_squared_error()); }
  double mae() const noexcept { return mean(sum_abs_error()); }
  double max_abs() const noexcept { return s_.nonfinite != 0 ? inf() : s_.max_abs; }
  double nsr() const noexcept {
    const double ee = sum_squared_error(), rr = sum_rr();
    if (s_.nonfinite != 0) return inf();
    if (ee == 0.0) return 0.0;
    if (rr == 0.0) return inf();
    return ee / rr;
  }
  double snr_db() const noexcept {
    const double ee = sum_squared_error(), rr = sum_rr();
    if (s_.nonfinite != 0) return -inf();
    if (ee == 0.0) return inf();
    if (rr == 0.0) return -inf();
    return 10.0 * std::log10(rr / ee);
  }
  double cos_dist() const noexcept {
    const double ee = sum_squared_error(), rr = sum_rr(), xx = sum_xx();
    if (s_.nonfinite != 0) return inf();
    if (ee == 0.0) return 0.0;
    if (rr == 0.0 || xx == 0.0) return 1.0;
    const double d = 1.0 - sum_rx() / std::sqrt(rr * xx);
    return d < 0.0 ? 0.0 : (d > 2.0 ? 2.0 : d);
  }

 private:
  template <class Tag>
  friend void detail::add_pairs(error_stats&, const float*, const float*, std::size_t, Tag) noexcept;

  static double inf() noexcept { return std::numeric_limits<double>::infinity(); }
  double mean(double sum) const noexcept {
    if (s_.nonfinite != 0) return inf();
    return sum == 0.0 ? 0.0 : sum / static_cast<double>(count());
  }

  detail::stats_state s_;
};

namespace detail {
// add() on a chosen ISA path (tests run the portable path on x86 with it).
template <class Tag>
void add_pairs(error_stats& s, const float* r, const float* x, std::size_t n, Tag tag) noexcept {
  stats_add(s.s_, r, x, n, tag);
}
}  // namespace detail

// The value a search minimizes for metric m: mse(), mae(), max_abs(), nsr()
// for snr (PopRT lists snr among its losses, so lower must be better: the
// noise-to-signal ratio, whose -10 log10 is snr_db()), cos_dist(). kld needs
// histograms (kl_loss, or metric_value on the tensors) and throws
// fp8::invalid_argument naming 'm', as does a value that is not an
// enumerator.
inline double loss(metric m, const error_stats& s) {
  constexpr const char* function = "fp8::loss";
  detail::require_enumerator(function, "m", m);
  FP8_REQUIRE_ARG(m != metric::kld, function, "m",
                  "is fp8::metric::kld, which needs histograms: use fp8::kl_loss or fp8::metric_value");
  switch (m) {
    case metric::mse: return s.mse();
    case metric::mae: return s.mae();
    case metric::max_abs: return s.max_abs();
    case metric::snr: return s.nsr();
    default: return s.cos_dist();
  }
}

// ---------------------------------------------------------------- histogram

// Counts of float values in `bins` uniform bins over [lo, hi], with the
// values below lo, above hi and NaN counted apart (header comment: the exact
// binning rule). Streaming: add() any number of times, merge() histograms of
// the same bins and range.
class histogram {
 public:
  // 2^30 bins at most: indices, and the three slots after them, stay in
  // int32 (the vector path converts to int32), and 8 GiB of counts is
  // already far beyond any calibrator's need.
  static constexpr std::size_t max_bins = std::size_t(1) << 30;

  // Throws fp8::invalid_argument naming 'bins' (not in [1, max_bins]), 'lo'
  // (not finite) or 'hi' (not finite, or not above lo).
  histogram(std::size_t bins, float lo, float hi) : histogram(check(bins, lo, hi, "fp8::histogram::histogram")) {}

  // The histogram of |x[i]| over [0, amax] (what entropy and percentile
  // calibrators build): histogram(bins, 0, amax) filled by add_magnitudes.
  // amax must be a positive finite float (else 'amax'); x null with n > 0
  // is 'x'.
  static histogram of_magnitudes(const float* x, std::size_t n, std::size_t bins, float amax) {
    constexpr const char* function = "fp8::histogram::of_magnitudes";
    detail::check_array(function, "x", x, n, sizeof(float));
    FP8_REQUIRE_ARG(bins >= 1 && bins <= max_bins, function, "bins", "must be in [1, 2^30]");
    FP8_REQUIRE_ARG(amax > 0.0f && amax <= FLT_MAX, function, "amax", "must be a positive finite float");
    histogram h(bins, 0.0f, amax);
    h.add_magnitudes(x, n);
    return h;
  }

  // Bins x[0..n): NaN to nan(), below lo to below(), above hi to above(),
  // on the best tier the CPU runs (chosen once per call; the same counts on
  // every tier). Throws ('x' null while n > 0) before any change.
  template <class Key = detail::tu_key>
  void add(const float* x, std::size_t n) {
    detail::check_array("fp8::histogram::add", "x", x, n, sizeof(float));
    bin<false>(x, n);
  }
  // Bins |x[i]| (NaN stays NaN, -0 is 0).
  template <class Key = detail::tu_key>
  void add_magnitudes(const float* x, std::size_t n) {
    detail::check_array("fp8::histogram::add_magnitudes", "x", x, n, sizeof(float));
    bin<true>(x, n);
  }
  // Adds other's counts. Throws ('other') unless other has the same bins, lo
  // and hi, before any change.
  void merge(const histogram& other) {
    FP8_REQUIRE_ARG(same_bins(other), "fp8::histogram::merge", "other", "has different bins or range");
    for (std::size_t k = 0; k < counts_.size(); ++k) counts_[k] += other.counts_[k];
  }
  bool same_bins(const histogram& other) const noexcept {
    return bins_ == other.bins_ && lo_ == other.lo_ && hi_ == other.hi_;
  }

  std::size_t bins() const noexcept { return bins_; }
  float lo() const noexcept { return lo_; }
  float hi() const noexcept { return hi_; }
  // fl64(bins / fl64(hi - lo)): bins per unit of value, the factor of the rule.
  double scale() const noexcept { return scale_; }
  // The bin of v by the rule; bins(), bins() + 1, bins() + 2 for below,
  // above and NaN.
  std::size_t bin_of(float v) const noexcept { return detail::bin_index(v, lo_, hi_, scale_, bins_); }

  const std::uint64_t* counts() const noexcept { return counts_.data(); }  // bins() entries
  std::uint64_t below() const noexcept { return counts_[bins_]; }
  std::uint64_t above() const noexcept { return counts_[bins_ + 1]; }
  std::uint64_t nan() const noexcept { return counts_[bins_ + 2]; }
  std::uint64_t in_range() const noexcept {
    std::uint64_t t = 0;
    for (std::size_t k = 0; k < bins_; ++k) t += counts_[k];
    return t;
  }
  std::uint64_t total() const noexcept { return in_range() + below() + above() + nan(); }  // values added

 private:
  struct checked {
    std::size_t bins;
    float lo, hi;
  };
  static checked check(std::size_t bins, float lo, float hi, const char* function) {
    FP8_REQUIRE_ARG(bins >= 1 && bins <= max_bins, function, "bins", "must be in [1, 2^30]");
    FP8_REQUIRE_ARG(std::fabs(lo) <= FLT_MAX, function, "lo", "must be finite");
    FP8_REQUIRE_ARG(std::fabs(hi) <= FLT_MAX && hi > lo, function, "hi", "must be finite and greater than lo");
    return {bins, lo, hi};
  }
  // hi - lo of two finite floats is at least 2^-149 and at most 2^129, so
  // the scale, at most 2^30 / 2^-149, is a finite positive double.
  explicit histogram(checked c)
      : bins_(c.bins),
        lo_(c.lo),
        hi_(c.hi),
        scale_(static_cast<double>(c.bins) / (static_cast<double>(c.hi) - static_cast<double>(c.lo))),
        counts_(c.bins + 3, 0) {}
  detail::bin_params params() const noexcept { return {lo_, hi_, scale_, bins_}; }
  template <bool Magnitude, class Key = detail::tu_key>
  void bin(const float* x, std::size_t n) noexcept {
    const detail::bin_params p = params();
    std::uint64_t* counts = counts_.data();
    detail::dispatch([&](auto tag) { detail::bin_values<Magnitude>(counts, x, n, p, tag); });
  }

  std::size_t bins_;
  float lo_, hi_;
  double scale_;
  std::vector<std::uint64_t> counts_;  // bins, then below, above, NaN
};

// ---------------------------------------------------------------- KL divergence

// KL(P || Q) of two count vectors of `bins` bins (header comment: the rule
// for empty bins and the smoothing). Counts and their sums are converted to
// double, exactly while the totals stay below 2^53. Throws
// fp8::invalid_argument naming 'p' or 'q' (null while bins > 0) or
// 'epsilon' (not a positive finite double).
inline double kl_divergence(const std::uint64_t* p, const std::uint64_t* q, std::size_t bins,
                            double epsilon = kld_default_epsilon) {
  constexpr const char* function = "fp8::kl_divergence";
  std::size_t bytes[2];
  detail::check_arrays(function, {{"p", p, bins, sizeof(std::uint64_t)}, {"q", q, bins, sizeof(std::uint64_t)}}, bytes,
                       "bins");
  FP8_REQUIRE_ARG(epsilon > 0.0 && epsilon <= DBL_MAX, function, "epsilon", "must be a positive finite double");
  double sp = 0.0, sq = 0.0, z = 0.0;
  for (std::size_t i = 0; i < bins; ++i) {
    sp += static_cast<double>(p[i]);
    sq += static_cast<double>(q[i]);
    if (p[i] != 0 && q[i] == 0) z += 1.0;
  }
  if (sp == 0.0) return 0.0;
  if (sq == 0.0) return std::numeric_limits<double>::infinity();
  // ln(1 + epsilon z), also where epsilon z overflows (then 1 is below its
  // last bit and ln(epsilon) + ln(z) is the value).
  const double smoothed = epsilon * z;
  const double renormalize = 1.0 + smoothed;
  const double log_renormalize = std::isfinite(smoothed) ? std::log1p(smoothed) : std::log(epsilon) + std::log(z);
  double kl = 0.0;
  for (std::size_t i = 0; i < bins; ++i) {
    if (p[i] == 0) continue;
    const double P = static_cast<double>(p[i]) / sp;
    const double q_raw = q[i] != 0 ? static_cast<double>(q[i]) / sq : epsilon;
    const double Q = q_raw / renormalize;
    const double ratio = P / Q;
    // ln(P / Q) from the ratio where it and Q are normal doubles (the most
    // accurate, P close to Q included); in logarithms where an extreme
    // epsilon (subnormal, or near DBL_MAX) would take them out of range.
    // One fused multiply-add, written out: a compiler may or may not
    // contract P * log + kl depending on its flags, and the bits must not.
    kl = std::fma(P,
                  std::isnormal(Q) && std::isnormal(ratio) ? std::log(ratio)
                                                          : std::log(P) - std::log(q_raw) + log_renormalize,
                  kl);
  }
  return kl > 0.0 ? kl : 0.0;
}

namespace detail {
// The counts of h with the values below and above the range folded into the
// first and last bins (TensorRT's calibrator folds its outliers into the
// last bin in the same way), so that clipping is seen by the divergence.
inline std::vector<std::uint64_t> folded_counts(const histogram& h) {
  std::vector<std::uint64_t> c(h.counts(), h.counts() + h.bins());
  c.front() += h.below();
  c.back() += h.above();
  return c;
}
}  // namespace detail

// The kld loss of two histograms of the same bins and range (else
// fp8::invalid_argument naming 'x'): kl_divergence of their folded counts
// (outliers in the edge bins). A candidate holding NaN gives +inf (the
// NaN/Inf rule); the reference's NaN count is ignored. 'epsilon' as for
// kl_divergence.
inline double kl_loss(const histogram& ref, const histogram& x, double epsilon = kld_default_epsilon) {
  constexpr const char* function = "fp8::kl_loss";
  FP8_REQUIRE_ARG(x.same_bins(ref), function, "x", "has different bins or range from ref");
  FP8_REQUIRE_ARG(epsilon > 0.0 && epsilon <= DBL_MAX, function, "epsilon", "must be a positive finite double");
  if (x.nan() != 0) return std::numeric_limits<double>::infinity();
  const std::vector<std::uint64_t> p = detail::folded_counts(ref), q = detail::folded_counts(x);
  return kl_divergence(p.data(), q.data(), p.size(), epsilon);
}

namespace detail {

// Both histograms of the compared pairs: every pair, or when some reference
// is NaN, the pairs without it, gathered in blocks of 512.
inline void kld_fill(histogram& hr, histogram& hx, const float* r, const float* x, std::size_t n, bool skipped) {
  if (!skipped) {
    hr.add(r, n);
    hx.add(x, n);
    return;
  }
  constexpr std::size_t block = 512;
  float br[block], bx[block];
  std::size_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (r[i] != r[i]) continue;
    br[m] = r[i];
    bx[m] = x[i];
    if (++m == block) {
      hr.add(br, m);
      hx.add(bx, m);
      m = 0;
    }
  }
  hr.add(br, m);
  hx.add(bx, m);
}

inline void kld_check(const char* function, const float* r, const float* x, std::size_t n, std::size_t bins,
                      double epsilon) {
  std::size_t bytes[2];
  detail::check_arrays(function, {{"r", r, n, sizeof(float)}, {"x", x, n, sizeof(float)}}, bytes);
  FP8_REQUIRE_ARG(bins >= 1 && bins <= histogram::max_bins, function, "bins", "must be in [1, 2^30]");
  FP8_REQUIRE_ARG(epsilon > 0.0 && epsilon <= DBL_MAX, function, "epsilon", "must be a positive finite double");
}

}  // namespace detail

// The entries below choose their tier once per call: their code depends on
// the unit's flags, so they live in the flags-named namespace.
FP8_BEGIN_TU_NAMESPACE

// PopRT-style kld of a candidate against its reference: the compared pairs
// (NaN/Inf rule; a non-finite error gives +inf) binned into `bins` bins over
// [lo, hi], reference and candidate alike, outliers folded into the edge
// bins, then kl_loss. Throws fp8::invalid_argument naming 'r', 'x' (null
// while n > 0), 'lo', 'hi' (as for histogram), 'bins' or 'epsilon'.
inline double kld(const float* r, const float* x, std::size_t n, float lo, float hi,
                  std::size_t bins = kld_default_bins, double epsilon = kld_default_epsilon) {
  constexpr const char* function = "fp8::kld";
  detail::kld_check(function, r, x, n, bins, epsilon);
  FP8_REQUIRE_ARG(std::fabs(lo) <= FLT_MAX, function, "lo", "must be finite");
  FP8_REQUIRE_ARG(std::fabs(hi) <= FLT_MAX && hi > lo, function, "hi", "must be finite and greater than lo");
  const detail::kld_scan_result s = detail::dispatch([&](auto tag) { return detail::kld_scan(r, x, n, tag); });
  if (s.nonfinite) return std::numeric_limits<double>::infinity();
  histogram hr(bins, lo, hi), hx(bins, lo, hi);
  detail::kld_fill(hr, hx, r, x, n, s.skipped);
  return kl_loss(hr, hx, epsilon);
}

// The same over the range of the finite reference values of the compared
// pairs, [min r, max r]. With no such range (no finite reference value, or
// all of them equal) there is nothing to bin over and the result is 0 unless
// a non-finite error makes it +inf.
inline double kld(const float* r, const float* x, std::size_t n, std::size_t bins = kld_default_bins,
                  double epsilon = kld_default_epsilon) {
  constexpr const char* function = "fp8::kld";
  detail::kld_check(function, r, x, n, bins, epsilon);
  const detail::kld_scan_result s = detail::dispatch([&](auto tag) { return detail::kld_scan(r, x, n, tag); });
  if (s.nonfinite) return std::numeric_limits<double>::infinity();
  if (!(s.lo < s.hi)) return 0.0;  // no finite reference value, or all equal
  histogram hr(bins, s.lo, s.hi), hx(bins, s.lo, s.hi);
  detail::kld_fill(hr, hx, r, x, n, s.skipped);
  return kl_loss(hr, hx, epsilon);
}

// The loss of metric m for the n pairs (r[i], x[i]) in one call: loss(m, s)
// of an error_stats s of the pairs, or kld(r, x, n) with its defaults for
// metric::kld. Throws fp8::invalid_argument naming 'm' (not an enumerator),
// 'r' or 'x' (null while n > 0).
inline double metric_value(metric m, const float* r, const float* x, std::size_t n) {
  constexpr const char* function = "fp8::metric_value";
  detail::require_enumerator(function, "m", m);
  std::size_t bytes[2];
  detail::check_arrays(function, {{"r", r, n, sizeof(float)}, {"x", x, n, sizeof(float)}}, bytes);
  if (m == metric::kld) return kld(r, x, n);
  error_stats s;
  s.add(r, x, n);
  return loss(m, s);
}

FP8_END_TU_NAMESPACE
FP8_END_NAMESPACE
