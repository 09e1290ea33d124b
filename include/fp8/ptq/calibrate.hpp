// SPDX-License-Identifier: Apache-2.0
// Activation calibration for static post-training quantization: collectors
// fed batch by batch with a layer's inputs on calibration data, mergeable
// across threads, and the threshold (then the scale) they choose for a
// target format, FP8 or integer:
//   amax        the largest magnitude seen (PopRT's default, MinMax);
//   percentile  the p-th percentile of |x| (clips rare outliers);
//   entropy     the threshold whose clipped, quantized distribution is
//               closest to the observed one in KL divergence, the entropy
//               calibration of TensorRT (Migacz, "8-bit Inference with
//               TensorRT", GTC 2017) and of the inference-engine slides;
//   mse         the threshold of least expected squared error.
//
// The histogram. |x| is counted into `bins` (a power of two, 2048 by
// default) uniform bins over [0, range), where range is a power of two above
// every magnitude seen: the first nonzero batch sets it to the least power
// of two above its amax, and a later batch with a larger amax doubles it as
// often as needed, merging bins pairwise. Bin width range / bins is then a
// power of two, so |x| / width is exact and binning is exact; a bin of the
// doubled histogram is exactly the union of the two it merges. So the
// histogram depends only on the multiset of values fed, never on how they
// were batched, nor on the order in which collectors are merged (merge()
// brings both to the larger range first). NaN and +-Inf are skipped and
// counted (nonfinite()); they have no place on a calibration range.
//
// Thresholds (t, with w = range / bins the bin width, c_j = (j + 1/2) w the
// centre of bin j, and n_j its count):
//   amax:       the largest finite |x| (exact, kept apart from the bins).
//   percentile: the upper edge (i + 1) w of the first bin i whose cumulative
//               count reaches p / 100 of the total, capped at amax.
//   entropy:    for every i from L (the target's number of magnitude
//               levels: 128 for int8, 8 for int4, and for FP8 the number of
//               non-negative finite codes) to bins, P is n_0 .. n_{i-1} with
//               the counts of every later bin added to the last one (the
//               outliers are clipped to t); Q quantizes the same i bins
//               (without the outliers) to the target's levels: bins are
//               grouped by the level they quantize to and each group's total
//               is spread evenly over its bins that are not empty. For int8
//               and int4 the groups are TensorRT's: i / L consecutive bins
//               each (integer division), the last group taking the rest; for
//               FP8 a group is every bin whose centre encodes to one code at
//               scale t / M. t = i w for the i of least kl_divergence(P, Q)
//               (ptq/metrics.hpp: its smoothing of empty Q bins), ties to
//               the smaller i.
//   mse:        for every i from 1 to bins, the squared error
//               sum_j n_j (c_j - fake_quantize(c_j, i w / M))^2 of the bin
//               centres quantized at the scale of threshold i w; the least,
//               ties to the smaller i. Bin centres stand for their values:
//               the error within a bin is below w / 2.
// Then scale = t / M (M: qformat_max, symmetric), calibrated_scale(). A
// collector that saw no finite nonzero value has threshold 0 and scale 1.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../error.hpp"
#include "../quant/amax.hpp"
#include "../types/format.hpp"
#include "metrics.hpp"
#include "search.hpp"

FP8_BEGIN_NAMESPACE

enum class calibration { amax, percentile, entropy, mse };
FP8_ENUM_RANGE(calibration, mse)

namespace detail {

// The number of non-negative finite values (levels of |x|) a format has.
inline std::size_t magnitude_levels(qformat f) {
  switch (f) {
    case qformat::int8: return 128;
    case qformat::int4: return 8;
    default: {
      // Codes 0x00..0x7F decode to the non-negative values; count the finite ones.
      std::vector<float> v(128);
      std::vector<std::uint8_t> codes(128);
      for (std::size_t c = 0; c < 128; ++c) codes[c] = static_cast<std::uint8_t>(c);
      std::size_t n = 0;
      for (std::size_t c = 0; c < 128; ++c) {
        float x = 0.0f;
        switch (f) {
          case qformat::e4m3: x = scalar::decode<E4M3>(codes[c]); break;
          case qformat::e5m2: x = scalar::decode<E5M2>(codes[c]); break;
          case qformat::e4m3fnuz: x = scalar::decode<E4M3FNUZ>(codes[c]); break;
          case qformat::e5m2fnuz: x = scalar::decode<E5M2FNUZ>(codes[c]); break;
          default: break;
        }
        if (std::isfinite(x)) ++n;
      }
      return n;
    }
  }
}
}  // namespace detail

// The scale of a calibrated threshold t for format f: t / M, or 1 when t is 0.
inline float calibrated_scale(qformat f, float threshold) {
  detail::require_enumerator("fp8::calibrated_scale", "f", f);
  FP8_REQUIRE_ARG(std::isfinite(threshold) && threshold >= 0.0f, "fp8::calibrated_scale", "threshold",
                  "must be a finite float >= 0");
  if (threshold == 0.0f) return 1.0f;
  const float s = static_cast<float>(static_cast<double>(threshold) / static_cast<double>(qformat_max(f)));
  return s >= 0x1p-126f ? s : 0x1p-126f;  // a scale is a normal float
}

class calibrator {
 public:
  static constexpr std::size_t default_bins = 2048;

  explicit calibrator(std::size_t bins = default_bins) : bins_(bins) {
    FP8_REQUIRE_ARG(bins >= 8 && bins <= (std::size_t{1} << 24) && (bins & (bins - 1)) == 0, "fp8::calibrator", "bins",
                    "must be a power of two in [8, 2^24]");
    counts_.assign(bins_, 0);
  }

  // Adds a batch of n values.
  void add(const float* x, std::size_t n) {
    detail::check_array("fp8::calibrator::add", "x", x, n, sizeof(float));
    if (n == 0) return;
    // The batch's largest finite magnitude: fp8::amax (SIMD) when every value
    // is finite, which is the common case, else one scalar pass.
    float a = ::fp8::amax(x, n);
    std::uint64_t infinities = 0, nans = 0;
    if (!(a <= std::numeric_limits<float>::max())) {
      a = 0.0f;
      for (std::size_t i = 0; i < n; ++i) {
        const float m = std::fabs(x[i]);
        if (m <= std::numeric_limits<float>::max())
          a = m > a ? m : a;
        else if (std::isnan(m))
          ++nans;
        else
          ++infinities;
      }
    }
    nonfinite_ += nans + infinities;
    amax_ = std::max(amax_, a);
    if (a == 0.0f) {  // zeros only: bin 0 at any range
      zeros_ += n - nans - infinities;
      return;
    }
    grow(a);
    // NaN goes to nan(), infinities to above(): neither into a bin.
    histogram h(bins_, 0.0f, range_);
    h.add_magnitudes(x, n);
    for (std::size_t j = 0; j < bins_; ++j) counts_[j] += h.counts()[j];
    counts_[bins_ - 1] += h.above() - infinities;  // finite values >= 2^127 (range stops there)
  }

  // Adds other's values (same bins, else 'other').
  void merge(const calibrator& other) {
    FP8_REQUIRE_ARG(other.bins_ == bins_, "fp8::calibrator::merge", "other", "has another number of bins");
    if (other.range_ > range_) grow_to(other.range_);
    std::vector<std::uint64_t> theirs = other.counts_;
    for (float r = other.range_; r < range_ && r > 0.0f; r *= 2.0f) halve(theirs);
    for (std::size_t j = 0; j < bins_; ++j) counts_[j] += theirs[j];
    zeros_ += other.zeros_;
    nonfinite_ += other.nonfinite_;
    amax_ = std::max(amax_, other.amax_);
  }

  float amax() const noexcept { return amax_; }
  std::uint64_t count() const noexcept { return total(); }  // finite values fed
  std::uint64_t nonfinite() const noexcept { return nonfinite_; }
  std::size_t bins() const noexcept { return bins_; }
  float range() const noexcept { return range_; }  // 0 until a nonzero value arrives
  // Bin j's count (bin 0 includes the zeros).
  std::uint64_t bin(std::size_t j) const noexcept { return counts_[j] + (j == 0 ? zeros_ : 0); }

  // The threshold of a method for target f (percentile: p in (0, 100]).
  float threshold(calibration method, qformat f, double percentile = 99.99) const {
    const char* fn = "fp8::calibrator::threshold";
    detail::require_enumerator(fn, "method", method);
    detail::require_enumerator(fn, "f", f);
    if (method == calibration::percentile)
      FP8_REQUIRE_ARG(percentile > 0.0 && percentile <= 100.0, fn, "percentile", "must lie in (0, 100]");
    if (amax_ == 0.0f) return 0.0f;
    switch (method) {
      case calibration::amax: return amax_;
      case calibration::percentile: return percentile_threshold(percentile);
      case calibration::entropy: return entropy_threshold(f);
      case calibration::mse: return mse_threshold(f);
    }
    return amax_;
  }
  float scale(calibration method, qformat f, double percentile = 99.99) const {
    return calibrated_scale(f, threshold(method, f, percentile));
  }

 private:
  std::uint64_t total() const noexcept {
    std::uint64_t t = zeros_;
    for (std::uint64_t c : counts_) t += c;
    return t;
  }
  double width() const noexcept { return static_cast<double>(range_) / static_cast<double>(bins_); }
  std::vector<std::uint64_t> with_zeros() const {
    std::vector<std::uint64_t> h = counts_;
    h[0] += zeros_;
    return h;
  }

  // Bins 2j and 2j+1 into bin j: the histogram of the doubled range.
  static void halve(std::vector<std::uint64_t>& h) noexcept {
    const std::size_t b = h.size();
    for (std::size_t j = 0; j < b / 2; ++j) h[j] = h[2 * j] + h[2 * j + 1];
    std::fill(h.begin() + static_cast<std::ptrdiff_t>(b / 2), h.end(), 0);
  }
  void grow_to(float r) {
    if (range_ == 0.0f) {
      range_ = r;
      return;
    }
    while (range_ < r) {
      halve(counts_);
      range_ *= 2.0f;
    }
  }
  // The least power of two above a (a finite and positive), then grown to.
  void grow(float a) {
    int e = std::ilogb(a) + 1;  // 2^e > a
    if (e > 127) e = 127;       // a >= 2^127: the largest power of two; add() puts what lies above in the last bin
    const float r = std::ldexp(1.0f, e);
    if (r > range_) grow_to(r);
  }

  float percentile_threshold(double p) const {
    const std::vector<std::uint64_t> h = with_zeros();
    const double need = p / 100.0 * static_cast<double>(total());
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < bins_; ++i) {
      sum += h[i];
      // sum != 0: the target is positive even where p / 100 * total
      // underflows to 0 (a subnormal p), so an empty bin never reaches it.
      if (sum != 0 && static_cast<double>(sum) >= need)
        return std::min(amax_, static_cast<float>(static_cast<double>(i + 1) * width()));
    }
    return amax_;
  }

  // Group of bin j (of the first i) for threshold i: the quantization level.
  void groups(qformat f, std::size_t i, std::size_t levels, std::vector<std::size_t>& g) const {
    g.resize(i);
    if (f == qformat::int8 || f == qformat::int4) {
      const std::size_t per = std::max<std::size_t>(1, i / levels);
      for (std::size_t j = 0; j < i; ++j) g[j] = std::min(j / per, levels - 1);
      return;
    }
    const float s = calibrated_scale(f, static_cast<float>(static_cast<double>(i) * width()));
    std::vector<float> centre(i), q(i);
    for (std::size_t j = 0; j < i; ++j) centre[j] = static_cast<float>((static_cast<double>(j) + 0.5) * width());
    detail::fake_quantize_as(f, centre.data(), q.data(), i, s);
    // Equal quantized values are one group; q is non-decreasing in j.
    std::size_t id = 0;
    for (std::size_t j = 0; j < i; ++j) {
      if (j > 0 && q[j] != q[j - 1]) ++id;
      g[j] = id;
    }
  }

  float entropy_threshold(qformat f) const {
    const std::vector<std::uint64_t> h = with_zeros();
    const std::size_t levels = detail::magnitude_levels(f);
    // The last nonzero bin: thresholds past it see no more data.
    std::size_t last = bins_;
    while (last > 0 && h[last - 1] == 0) --last;
    const std::size_t first = std::min(levels, last);
    std::vector<std::uint64_t> suffix(bins_ + 1, 0);
    for (std::size_t j = bins_; j-- > 0;) suffix[j] = suffix[j + 1] + h[j];
    std::vector<std::uint64_t> p, q;
    std::vector<std::size_t> g;
    double best = std::numeric_limits<double>::infinity();
    std::size_t best_i = last;
    for (std::size_t i = std::max<std::size_t>(first, 1); i <= last; ++i) {
      p.assign(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(i));
      p[i - 1] += suffix[i];
      groups(f, i, levels, g);
      // Q: each group's total over its nonempty bins (of the unclipped slice).
      // Counts are spread as real numbers; kl_divergence takes integer counts,
      // so Q is computed here with the same rule as ptq/metrics.hpp.
      const std::size_t ng = g.back() + 1;
      std::vector<double> total(ng, 0.0), nonempty(ng, 0.0);
      for (std::size_t j = 0; j < i; ++j) {
        total[g[j]] += static_cast<double>(h[j]);
        if (h[j] != 0) nonempty[g[j]] += 1.0;
      }
      std::vector<double> qd(i, 0.0);
      for (std::size_t j = 0; j < i; ++j)
        if (h[j] != 0) qd[j] = total[g[j]] / nonempty[g[j]];
      const double kl = kl_real(p, qd);
      if (kl < best) {
        best = kl;
        best_i = i;
      }
    }
    return std::min(amax_, static_cast<float>(static_cast<double>(best_i) * width()));
  }

  // kl_divergence's definition (ptq/metrics.hpp) for a real-valued q.
  static double kl_real(const std::vector<std::uint64_t>& p, const std::vector<double>& q) {
    double sp = 0.0, sq = 0.0;
    for (std::uint64_t v : p) sp += static_cast<double>(v);
    for (double v : q) sq += v;
    if (sp == 0.0) return 0.0;
    if (sq == 0.0) return std::numeric_limits<double>::infinity();
    double z = 0.0;
    for (std::size_t j = 0; j < p.size(); ++j)
      if (p[j] != 0 && q[j] == 0.0) z += 1.0;
    const double norm = 1.0 + kld_default_epsilon * z;
    double kl = 0.0;
    for (std::size_t j = 0; j < p.size(); ++j) {
      if (p[j] == 0) continue;
      const double pj = static_cast<double>(p[j]) / sp;
      const double qj = (q[j] == 0.0 ? kld_default_epsilon : q[j] / sq) / norm;
      kl += pj * std::log(pj / qj);
    }
    return kl > 0.0 ? kl : 0.0;
  }

  float mse_threshold(qformat f) const {
    const std::vector<std::uint64_t> h = with_zeros();
    std::vector<float> centre(bins_), q(bins_);
    for (std::size_t j = 0; j < bins_; ++j) centre[j] = static_cast<float>((static_cast<double>(j) + 0.5) * width());
    std::size_t last = bins_;
    while (last > 0 && h[last - 1] == 0) --last;
    double best = std::numeric_limits<double>::infinity();
    std::size_t best_i = last;
    for (std::size_t i = 1; i <= last; ++i) {
      const float s = calibrated_scale(f, static_cast<float>(static_cast<double>(i) * width()));
      detail::fake_quantize_as(f, centre.data(), q.data(), last, s);
      double err = 0.0;
      for (std::size_t j = 0; j < last; ++j) {
        const double d = static_cast<double>(centre[j]) - static_cast<double>(q[j]);
        err += static_cast<double>(h[j]) * d * d;
      }
      if (err < best) {
        best = err;
        best_i = i;
      }
    }
    return std::min(amax_, static_cast<float>(static_cast<double>(best_i) * width()));
  }

  std::size_t bins_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t zeros_ = 0, nonfinite_ = 0;
  float range_ = 0.0f, amax_ = 0.0f;
};

FP8_END_NAMESPACE
