// SPDX-License-Identifier: Apache-2.0
// The weight search of post-training quantization, after Graphcore PopRT's
// FP8 converter ("quantize" mode): for one weight tensor, per tensor or per
// channel, try every candidate element format (any FP8 format, int8, int4)
// with every candidate scale, quantize-dequantize the weights with it, and
// keep the pair of least loss by a chosen metric (ptq/metrics.hpp). The
// result carries the whole table PopRT writes to its quantize.log: every
// (format, scale rule) with every metric, and the winner.
//
// Definitions.
// * A candidate is a format F and a scale s > 0; the weights w become
//   fake_quantize(w, s) (FP8: quant/fake_quant.hpp, decode(encode(w / s)) * s
//   with saturation; int8 / int4: dyadic/linear.hpp, symmetric, zero point
//   0) and the loss is loss(objective, error_stats(w, fake_quantize(w, s))).
// * Candidate scales of a channel (or of the tensor) whose largest magnitude
//   is a (fp8::amax), for a format whose largest finite value is M (448 for
//   E4M3, 127 for int8, 7 for int4):
//     - powers of two 2^e for e in [exponent_lo, exponent_hi]: PopRT's integer
//       scale exponents. With relative_to_amax the range is counted from e0,
//       the smallest e with a <= M * 2^e (scale_exponent_from_amax for FP8,
//       the same rule with M = 127 or 7 for integers), so the default
//       [-15, 0] tries 2^e0 (no clipping) and fifteen ever finer steps that
//       clip the largest weights; without it the exponents are absolute, as
//       PopRT's "-5 to 0". Exponents outside [-126, 127] (scales that are not
//       normal floats) are skipped.
//     - amax: a / M, the scale that maps the largest weight to M exactly
//       (quant/scale.hpp's scale_rounding::exact).
//     - clipping (clip_steps > 0): ratio_i * a / M for ratio_i = 1 - i *
//       (1 - clip_min) / clip_steps, i = 1 .. clip_steps, a grid search for
//       the MSE-optimal clipping threshold (the objective decides, so any
//       metric may pick it).
//   A channel of zeros (a = 0) loses nothing at any scale; its amax and
//   clipping scales are 1 and its exponents count from 0.
// * Per tensor, the result is the candidate of least loss. Per channel, the
//   format is one for the whole tensor (a tensor has one storage type) and
//   each channel takes its own candidate of least loss; the format whose
//   channels together lose least wins. Ties go to the earlier candidate:
//   formats in the order given, then powers of two by increasing exponent,
//   then amax, then clipping ratios by decreasing ratio.
// * The table has one row per format and scale rule (a rule is one
//   candidate index, applied to every channel with that channel's own value),
//   and, per channel, one more row per format for its per-channel choice.
//   Each row holds every metric of the whole tensor quantized that way (the
//   per-channel statistics merged, so in the last bits they depend on the
//   channel order only, which is fixed). kld (a histogram measure of the
//   whole tensor) costs one more pass per row and is computed only when the
//   objective is kld or table_kld is set; otherwise it is NaN. With the
//   kld objective, each channel's loss is its own kld.
// Weights must be finite (a NaN weight has no quantization error to rank);
// bad arguments throw fp8::invalid_argument naming them, before any work.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../dyadic/linear.hpp"
#include "../error.hpp"
#include "../quant/amax.hpp"
#include "../quant/fake_quant.hpp"
#include "../quant/per_channel.hpp"
#include "../quant/scale.hpp"
#include "../types/format.hpp"
#include "metrics.hpp"

FP8_BEGIN_NAMESPACE

// The element formats a search compares.
enum class qformat { e4m3, e5m2, e4m3fnuz, e5m2fnuz, int8, int4 };
FP8_ENUM_RANGE(qformat, int4)

// The name a report prints: the OCP/ONNX spelling of the format.
inline const char* qformat_name(qformat f) noexcept {
  switch (f) {
    case qformat::e4m3: return "E4M3";
    case qformat::e5m2: return "E5M2";
    case qformat::e4m3fnuz: return "E4M3FNUZ";
    case qformat::e5m2fnuz: return "E5M2FNUZ";
    case qformat::int8: return "INT8";
    case qformat::int4: return "INT4";
  }
  return "?";
}

// The largest magnitude a format represents: M of the definitions above.
inline float qformat_max(qformat f) noexcept {
  switch (f) {
    case qformat::e4m3: return detail::max_finite_value<E4M3>();
    case qformat::e5m2: return detail::max_finite_value<E5M2>();
    case qformat::e4m3fnuz: return detail::max_finite_value<E4M3FNUZ>();
    case qformat::e5m2fnuz: return detail::max_finite_value<E5M2FNUZ>();
    case qformat::int8: return 127.0f;
    case qformat::int4: return 7.0f;
  }
  return 1.0f;
}

struct scale_candidates {
  bool powers_of_two = true;
  int exponent_lo = -15, exponent_hi = 0;
  bool relative_to_amax = true;
  bool amax = true;
  std::size_t clip_steps = 0;
  float clip_min = 0.5f;  // the smallest clipping ratio, in (0, 1)
};

struct search_options {
  std::vector<qformat> formats{qformat::e4m3, qformat::e5m2};
  scale_candidates scales;
  metric objective = metric::mse;
  bool per_channel = false;
  axis channel = axis::rows;  // per channel: one scale per row (a Linear weight's output channel) or column
  bool table_kld = false;     // the kld column for every row (one more pass over the tensor per row)
};

// How a row's scale was chosen.
enum class scale_rule { power_of_two, amax, clip, per_channel_best };

struct search_row {
  qformat format = qformat::e4m3;
  scale_rule rule = scale_rule::amax;
  int exponent = 0;      // power_of_two: e (relative to e0 when relative_to_amax)
  float ratio = 1.0f;    // clip: the ratio (amax: 1)
  float scale = 0.0f;    // per tensor: the scale; per channel: NaN (see the result's scales)
  double mse = 0, mae = 0, max_abs = 0, snr_db = 0, cos_dist = 0;
  double kld = std::numeric_limits<double>::quiet_NaN();
  double loss = 0;       // the objective's loss (snr: nsr)
};

struct search_result {
  qformat format = qformat::e4m3;  // the winner
  std::vector<float> scales;       // its scale: one, or one per channel
  std::size_t best = 0;            // its row in table
  std::vector<search_row> table;
};

namespace detail {

// fake_quantize(src, n, scale) into dst for a runtime format.
inline void fake_quantize_as(qformat f, const float* src, float* dst, std::size_t n, float scale) {
  switch (f) {
    case qformat::e4m3: return ::fp8::fake_quantize<E4M3>(src, dst, n, scale);
    case qformat::e5m2: return ::fp8::fake_quantize<E5M2>(src, dst, n, scale);
    case qformat::e4m3fnuz: return ::fp8::fake_quantize<E4M3FNUZ>(src, dst, n, scale);
    case qformat::e5m2fnuz: return ::fp8::fake_quantize<E5M2FNUZ>(src, dst, n, scale);
    case qformat::int8: return ::fp8::fake_quantize_linear<std::int8_t>(src, dst, n, scale, 0);
    case qformat::int4: return ::fp8::fake_quantize_linear<int4>(src, dst, n, scale, 0);
  }
}

// The smallest e with a <= M * 2^e, clamped to [-126, 127] (0 for a == 0):
// scale_exponent_from_amax for every format.
inline int exponent_for(float a, float max) noexcept {
  if (!(a > 0.0f)) return 0;
  const double m = static_cast<double>(max);
  // a / M = (mantissa ratio in (1/2, 2)) * 2^(ilogb a - ilogb M): one step up at most.
  int e = std::ilogb(a) - std::ilogb(max);
  if (static_cast<double>(a) > std::ldexp(m, e)) ++e;
  return std::min(127, std::max(-126, e));
}

// One candidate rule: the table's scale_rule with its parameter.
struct rule {
  scale_rule kind;
  int exponent;  // power_of_two: the exponent offset or absolute exponent
  float ratio;   // clip
};

inline std::vector<rule> rules_of(const scale_candidates& c) {
  std::vector<rule> r;
  if (c.powers_of_two)
    for (int e = c.exponent_lo; e <= c.exponent_hi; ++e) r.push_back({scale_rule::power_of_two, e, 1.0f});
  if (c.amax) r.push_back({scale_rule::amax, 0, 1.0f});
  for (std::size_t i = 1; i <= c.clip_steps; ++i)
    r.push_back({scale_rule::clip, 0,
                 static_cast<float>(1.0 - static_cast<double>(i) * (1.0 - static_cast<double>(c.clip_min)) /
                                              static_cast<double>(c.clip_steps))});
  return r;
}

// The scale a rule gives a channel of largest magnitude a in format f, or 0
// when the rule has no valid scale there (an exponent outside [-126, 127]).
inline float scale_of(const rule& r, const scale_candidates& c, qformat f, float a) noexcept {
  const float max = qformat_max(f);
  switch (r.kind) {
    case scale_rule::power_of_two: {
      const int e = c.relative_to_amax ? exponent_for(a, max) + r.exponent : r.exponent;
      return e < -126 || e > 127 ? 0.0f : std::ldexp(1.0f, e);
    }
    case scale_rule::amax:
    case scale_rule::clip:
      if (!(a > 0.0f)) return 1.0f;
      {
        const float s = static_cast<float>(static_cast<double>(r.ratio) * static_cast<double>(a) / static_cast<double>(max));
        return s >= 0x1p-126f ? s : 0.0f;
      }
    case scale_rule::per_channel_best:
      break;
  }
  return 0.0f;
}

inline void fill_metrics(search_row& row, const error_stats& st, metric objective) {
  row.mse = st.mse();
  row.mae = st.mae();
  row.max_abs = st.max_abs();
  row.snr_db = st.snr_db();
  row.cos_dist = st.cos_dist();
  if (objective != metric::kld) row.loss = loss(objective, st);
}

inline void check_search(const char* fn, const float* w, std::size_t rows, std::size_t cols, std::size_t ld,
                         const search_options& o) {
  FP8_REQUIRE_ARG(rows != 0 && cols != 0, fn, rows == 0 ? "rows" : "cols", "is zero");
  check_matrix(fn, {"w", "ld", w, rows, cols, ld, sizeof(float)});
  FP8_REQUIRE_ARG(!o.formats.empty(), fn, "options.formats", "is empty");
  for (qformat f : o.formats) require_enumerator(fn, "options.formats", f);
  require_enumerator(fn, "options.objective", o.objective);
  require_enumerator(fn, "options.channel", o.channel);
  const scale_candidates& c = o.scales;
  FP8_REQUIRE_ARG(!c.powers_of_two || c.exponent_lo <= c.exponent_hi, fn, "options.scales.exponent_lo",
                  "is greater than exponent_hi");
  FP8_REQUIRE_ARG(!c.powers_of_two || (c.exponent_lo >= -300 && c.exponent_hi <= 300), fn,
                  "options.scales.exponent_lo", "and exponent_hi must lie in [-300, 300]");
  FP8_REQUIRE_ARG(c.clip_steps == 0 || (c.clip_min > 0.0f && c.clip_min < 1.0f), fn, "options.scales.clip_min",
                  "must lie in (0, 1)");
  FP8_REQUIRE_ARG(c.clip_steps <= 4096, fn, "options.scales.clip_steps", "is larger than 4096");
  FP8_REQUIRE_ARG(c.powers_of_two || c.amax || c.clip_steps != 0, fn, "options.scales", "has no candidate");
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j)
      if (!std::isfinite(w[r * ld + j]))
        fail_argument(fn, "w", "[" + std::to_string(r) + "][" + std::to_string(j) + "] is not finite");
}

// A channel (or the whole tensor) as contiguous floats: a row of w, or a
// column gathered.
class channel_view {
 public:
  channel_view(const float* w, std::size_t rows, std::size_t cols, std::size_t ld, bool per_channel, axis a)
      : w_(w), rows_(rows), cols_(cols), ld_(ld), per_channel_(per_channel), axis_(a) {
    if (!per_channel_ || axis_ == axis::columns || ld_ != cols_) buffer_.resize(length());
  }
  std::size_t count() const noexcept { return per_channel_ ? (axis_ == axis::rows ? rows_ : cols_) : 1; }
  std::size_t length() const noexcept {
    return per_channel_ ? (axis_ == axis::rows ? cols_ : rows_) : rows_ * cols_;
  }
  // Channel c's values, contiguous.
  const float* get(std::size_t c) {
    if (!per_channel_) {
      if (ld_ == cols_) return w_;
      for (std::size_t r = 0; r < rows_; ++r) std::copy(w_ + r * ld_, w_ + r * ld_ + cols_, buffer_.data() + r * cols_);
      return buffer_.data();
    }
    if (axis_ == axis::rows) return w_ + c * ld_;
    for (std::size_t r = 0; r < rows_; ++r) buffer_[r] = w_[r * ld_ + c];
    return buffer_.data();
  }

 private:
  const float* w_;
  std::size_t rows_, cols_, ld_;
  bool per_channel_;
  axis axis_;
  std::vector<float> buffer_;
};

}  // namespace detail

// The search over w (rows x cols, row-major, leading dimension ld).
inline search_result search_weights(const float* w, std::size_t rows, std::size_t cols, std::size_t ld,
                                    const search_options& o = {}) {
  const char* fn = "fp8::search_weights";
  detail::check_search(fn, w, rows, cols, ld, o);
  const std::vector<detail::rule> rules = detail::rules_of(o.scales);
  const std::size_t nf = o.formats.size(), nr = rules.size();
  const bool kld_objective = o.objective == metric::kld;

  detail::channel_view view(w, rows, cols, ld, o.per_channel, o.channel);
  const std::size_t channels = view.count(), len = view.length();
  // Per (format, rule): the merged statistics and whether every channel had
  // a valid scale; per format: the statistics of each channel's best choice.
  std::vector<error_stats> rule_stats(nf * nr), best_stats(nf);
  std::vector<char> rule_valid(nf * nr, 1);
  std::vector<double> best_total(nf, 0.0);  // per channel: the sum of the channels' best losses
  std::vector<float> best_scale(nf * channels, 1.0f), amaxes(channels);

  if (!o.per_channel) {
    // Per tensor: every candidate on each piece of a row while it is in L1
    // (error_stats::add gives the same bits however the stream is split).
    float a = 0.0f;
    for (std::size_t r = 0; r < rows; ++r) a = std::max(a, amax(w + r * ld, cols));
    amaxes[0] = a;
    std::vector<float> scale(nf * nr);
    bool any = false;
    for (std::size_t f = 0; f < nf; ++f)
      for (std::size_t r = 0; r < nr; ++r) {
        scale[f * nr + r] = detail::scale_of(rules[r], o.scales, o.formats[f], a);
        rule_valid[f * nr + r] = scale[f * nr + r] != 0.0f;
        any = any || rule_valid[f * nr + r];
      }
    FP8_REQUIRE_ARG(any, fn, "options.scales", "gives no valid scale (every exponent is outside [-126, 127])");
    constexpr std::size_t piece = 4096;
    std::vector<float> buf(std::min(piece, cols));
    for (std::size_t row = 0; row < rows; ++row)
      for (std::size_t k0 = 0; k0 < cols; k0 += piece) {
        const float* x = w + row * ld + k0;
        const std::size_t m = std::min(piece, cols - k0);
        for (std::size_t i = 0; i < nf * nr; ++i) {
          if (!rule_valid[i]) continue;
          detail::fake_quantize_as(o.formats[i / nr], x, buf.data(), m, scale[i]);
          rule_stats[i].add(x, buf.data(), m);
        }
      }
  } else {
    std::vector<float> buf(len);
    for (std::size_t c = 0; c < channels; ++c) {
      const float* x = view.get(c);
      const float a = amax(x, len);
      amaxes[c] = a;
      for (std::size_t f = 0; f < nf; ++f) {
        double least = std::numeric_limits<double>::infinity();
        error_stats least_stats;
        bool found = false;
        for (std::size_t r = 0; r < nr; ++r) {
          const float s = detail::scale_of(rules[r], o.scales, o.formats[f], a);
          if (s == 0.0f) {
            rule_valid[f * nr + r] = 0;
            continue;
          }
          detail::fake_quantize_as(o.formats[f], x, buf.data(), len, s);
          error_stats st;
          st.add(x, buf.data(), len);
          rule_stats[f * nr + r].merge(st);
          const double l = kld_objective ? kld(x, buf.data(), len) : loss(o.objective, st);
          if (!found || l < least) {
            found = true;
            least = l;
            least_stats = st;
            best_scale[f * channels + c] = s;
          }
        }
        FP8_REQUIRE_ARG(found, fn, "options.scales", "gives no valid scale (every exponent is outside [-126, 127])");
        best_stats[f].merge(least_stats);
        best_total[f] += least;
      }
    }
  }

  search_result res;
  // kld compares histograms, so the order of the elements does not matter:
  // the whole tensor is taken channel after channel (the reference once).
  std::vector<float> ref, whole;
  if (o.table_kld || kld_objective) {
    ref.resize(channels * len);
    whole.resize(channels * len);
    for (std::size_t c = 0; c < channels; ++c) {
      const float* x = view.get(c);
      std::copy(x, x + len, ref.data() + c * len);
    }
  }
  const auto whole_kld = [&](qformat f, const float* scales) {
    for (std::size_t c = 0; c < channels; ++c)
      detail::fake_quantize_as(f, ref.data() + c * len, whole.data() + c * len, len, scales[c]);
    return kld(ref.data(), whole.data(), ref.size());
  };
  std::vector<float> scales(channels);
  for (std::size_t f = 0; f < nf; ++f)
    for (std::size_t r = 0; r < nr; ++r) {
      if (!rule_valid[f * nr + r]) continue;
      search_row row;
      row.format = o.formats[f];
      row.rule = rules[r].kind;
      row.exponent = rules[r].exponent;
      row.ratio = rules[r].ratio;
      for (std::size_t c = 0; c < channels; ++c) scales[c] = detail::scale_of(rules[r], o.scales, row.format, amaxes[c]);
      row.scale = o.per_channel ? std::numeric_limits<float>::quiet_NaN() : scales[0];
      detail::fill_metrics(row, rule_stats[f * nr + r], o.objective);
      if (!whole.empty()) row.kld = whole_kld(row.format, scales.data());
      if (kld_objective) row.loss = row.kld;
      res.table.push_back(row);
    }
  // The winner: per tensor, the least loss in table order; per channel, the
  // format whose channels' best losses sum least.
  std::size_t winner = 0;
  if (o.per_channel) {
    for (std::size_t f = 0; f < nf; ++f) {
      search_row row;
      row.format = o.formats[f];
      row.rule = scale_rule::per_channel_best;
      row.scale = std::numeric_limits<float>::quiet_NaN();
      detail::fill_metrics(row, best_stats[f], o.objective);
      if (!whole.empty()) row.kld = whole_kld(row.format, best_scale.data() + f * channels);
      if (kld_objective) row.loss = row.kld;
      res.table.push_back(row);
      if (best_total[f] < best_total[winner]) winner = f;
    }
    res.format = o.formats[winner];
    res.scales.assign(best_scale.begin() + static_cast<std::ptrdiff_t>(winner * channels),
                      best_scale.begin() + static_cast<std::ptrdiff_t>((winner + 1) * channels));
    res.best = res.table.size() - nf + winner;
  } else {
    std::size_t best = 0;
    for (std::size_t i = 1; i < res.table.size(); ++i)
      if (res.table[i].loss < res.table[best].loss) best = i;
    res.best = best;
    res.format = res.table[best].format;
    res.scales = {res.table[best].scale};
  }
  return res;
}

FP8_END_NAMESPACE
