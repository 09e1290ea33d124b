// SPDX-License-Identifier: Apache-2.0
// The exact mixed-precision assignment of HAWQ-V3 (Yao et al., ICML 2021),
// §3.4: every layer picks one of its candidate precisions (FP8, INT8, INT4,
// FP16, ...), each with a sensitivity (the loss increase it causes), a
// weight size, a BOP count and a measured latency; the solver minimizes the
// total sensitivity under any subset of a size, a BOPs and a latency budget,
// which is the integer linear program the paper solves with PuLP, here a
// multiple-choice knapsack with up to three constraints solved exactly by
// depth-first branch and bound (LP-relaxation bounds, dominance pruning, a
// greedy incumbent) with no external solver. Totals, the tie rule and the
// infeasibility rule are defined in docs/ptq_mixed_precision.md.
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../error.hpp"

FP8_BEGIN_NAMESPACE

// One candidate precision of one layer. Sizes and BOPs are counts, hence
// integers (exact totals, no rounding in the budget test); latency is a
// measurement, hence a double.
struct mixed_precision_choice {
  double sensitivity = 0.0;   // finite, any sign
  std::int64_t size_bytes = 0;  // >= 0
  std::int64_t bops = 0;        // >= 0
  double latency = 0.0;         // finite, >= 0
};

struct mixed_precision_layer {
  std::vector<mixed_precision_choice> choices;  // at least one
  // Set: the layer is fixed to this choice (the paper's layers kept out of
  // the search, e.g. the first and last layer at 8 bits).
  std::optional<std::size_t> pinned;
};

// An absent budget is no constraint.
struct mixed_precision_budget {
  std::optional<std::int64_t> size_bytes;  // >= 0
  std::optional<std::int64_t> bops;        // >= 0
  std::optional<double> latency;           // finite, >= 0
};

struct mixed_precision_result {
  std::vector<std::size_t> choice;  // choice[i]: the index chosen in layers[i].choices
  // The totals of that assignment, summed over layers 0, 1, ..., L-1 in
  // that order (in double for sensitivity and latency): the objective and
  // the numbers the budgets were checked against.
  double sensitivity = 0.0;
  std::int64_t size_bytes = 0;
  std::int64_t bops = 0;
  double latency = 0.0;
  std::uint64_t nodes = 0;  // branch-and-bound nodes visited, for diagnostics
};

namespace detail {

// The dimensions of a choice: 0 is the objective, 1..3 the budgeted ones.
constexpr std::size_t mp_sens = 0, mp_size = 1, mp_bops = 2, mp_lat = 3;

struct mp_option {
  std::size_t index;  // in the layer's choices
  double s, lat;
  std::int64_t size, bops;
  double value(std::size_t d) const noexcept {
    switch (d) {
      case mp_sens: return s;
      case mp_size: return static_cast<double>(size);
      case mp_bops: return static_cast<double>(bops);
      default: return lat;
    }
  }
};

// The LP relaxation of a multiple-choice knapsack over the layers k..L-1:
// minimize the sum of dimension `obj` subject to the sum of dimension `con`
// being at most a capacity, each layer a convex combination of its options.
// Its optimum (Sinha and Zoltners 1979) starts every layer at its option of
// least `con` and then walks the segments of each layer's lower convex hull
// in the (con, obj) plane, most objective saved per unit of capacity first,
// the last one fractionally. The segments of all layers are sorted once;
// a query for the suffix k skips those of earlier layers.
struct mp_lp {
  struct segment {
    std::size_t layer;
    double dcon, dobj;  // dcon > 0, dobj < 0
  };
  std::vector<double> base_obj, base_con;  // suffix sums of the hull's first point
  std::vector<segment> segments;

  mp_lp(const std::vector<std::vector<mp_option>>& layers, std::size_t obj, std::size_t con) {
    const std::size_t n = layers.size();
    base_obj.assign(n + 1, 0.0);
    base_con.assign(n + 1, 0.0);
    struct point {
      double x, y;
    };
    struct keyed {
      segment seg;
      double efficiency;
      std::size_t rank;  // position within its layer's hull, a tie-breaker
    };
    std::vector<keyed> all;
    std::vector<point> pts, hull;
    for (std::size_t i = n; i-- > 0;) {
      pts.clear();
      for (const mp_option& o : layers[i]) pts.push_back({o.value(con), o.value(obj)});
      std::sort(pts.begin(), pts.end(),
                [](const point& a, const point& b) { return a.x < b.x || (a.x == b.x && a.y < b.y); });
      // The Pareto frontier (each point strictly below all of smaller x),
      // then its lower convex hull.
      hull.clear();
      for (const point& p : pts) {
        if (!hull.empty() && p.y >= hull.back().y) continue;
        while (hull.size() >= 2) {
          const point& a = hull[hull.size() - 2];
          const point& b = hull.back();
          if ((b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x) > 0.0) break;
          hull.pop_back();
        }
        hull.push_back(p);
      }
      base_obj[i] = base_obj[i + 1] + hull.front().y;
      base_con[i] = base_con[i + 1] + hull.front().x;
      for (std::size_t j = 1; j < hull.size(); ++j) {
        const segment s{i, hull[j].x - hull[j - 1].x, hull[j].y - hull[j - 1].y};
        all.push_back({s, -s.dobj / s.dcon, j});
      }
    }
    std::sort(all.begin(), all.end(), [](const keyed& a, const keyed& b) {
      if (a.efficiency != b.efficiency) return a.efficiency > b.efficiency;
      if (a.seg.layer != b.seg.layer) return a.seg.layer < b.seg.layer;
      return a.rank < b.rank;
    });
    segments.reserve(all.size());
    for (const keyed& k : all) segments.push_back(k.seg);
  }

  // The relaxation's optimum for layers k..L-1 under `capacity`; +inf when
  // even the least `con` of every layer exceeds it.
  double value(std::size_t k, double capacity) const noexcept {
    double room = capacity - base_con[k];
    if (room < 0.0) return std::numeric_limits<double>::infinity();
    double v = base_obj[k];
    for (const segment& s : segments) {
      if (s.layer < k) continue;
      if (s.dcon <= room) {
        room -= s.dcon;
        v += s.dobj;
      } else {
        v += s.dobj * (room / s.dcon);
        break;
      }
    }
    return v;
  }
};

class mp_solver {
 public:
  static constexpr const char* function = "fp8::solve_mixed_precision";

  mp_solver(const std::vector<mixed_precision_layer>& layers, const mixed_precision_budget& budget)
      : layers_(layers), n_(layers.size()) {
    check_arguments(budget);
    has_[mp_size] = budget.size_bytes.has_value();
    has_[mp_bops] = budget.bops.has_value();
    has_[mp_lat] = budget.latency.has_value();
    if (has_[mp_size]) size_budget_ = *budget.size_bytes;
    if (has_[mp_bops]) bops_budget_ = *budget.bops;
    if (has_[mp_lat]) lat_budget_ = *budget.latency;
    build_options();
    check_each_budget();
    build_bounds();
  }

  mixed_precision_result solve() {
    greedy();
    search();
    if (!have_best_)
      fail_argument(function, "budget",
                    "cannot be met: each budget alone is reachable, but no assignment meets them together");
    mixed_precision_result r;
    r.choice = best_;
    // The defined totals: layer order, left to right.
    for (std::size_t i = 0; i < n_; ++i) {
      const mixed_precision_choice& c = layers_[i].choices[best_[i]];
      r.sensitivity += c.sensitivity;
      r.size_bytes += c.size_bytes;
      r.bops += c.bops;
      r.latency += c.latency;
    }
    r.nodes = nodes_;
    return r;
  }

 private:
  // How a partial assignment compares with the incumbent, lexicographically
  // in layer order: undetermined while a layer before the first difference
  // is still free.
  static constexpr int tie_less = -1, tie_open = 0, tie_greater = 1;

  const std::vector<mixed_precision_layer>& layers_;
  std::size_t n_;
  bool has_[4] = {false, false, false, false};
  std::int64_t size_budget_ = 0, bops_budget_ = 0;
  double lat_budget_ = 0.0;

  // The search visits the layers in a heuristic order; everything below is
  // indexed by position in that order (layer_[p] is the layer at position
  // p, pos_[i] the position of layer i).
  std::vector<std::size_t> layer_, pos_;
  std::vector<std::vector<mp_option>> opts_;  // the options searched, by (s, index)
  std::vector<double> min_s_, min_lat_;       // over opts_
  std::vector<std::int64_t> min_size_, min_bops_;
  std::vector<double> suf_s_, suf_lat_;  // suffix sums of the minima (rounded)
  std::vector<std::int64_t> suf_size_, suf_bops_;
  std::vector<mp_lp> lp_obj_;  // the objective under each budget
  std::vector<std::size_t> lp_obj_dim_;
  std::vector<mp_lp> lp_cross_;  // budget e under budget d: infeasibility
  std::vector<std::size_t> lp_cross_obj_, lp_cross_con_;
  double margin_s_ = 0.0, margin_[4] = {0.0, 0.0, 0.0, 0.0};
  double grid_ = 0.0;  // > 0: every sensitivity is a multiple of it and every sum is exact

  // The partial assignment during the search, by position.
  std::vector<const mp_option*> chosen_;

  bool have_best_ = false;
  double best_f_ = std::numeric_limits<double>::infinity();
  std::vector<std::size_t> best_;  // choice index per layer
  std::uint64_t nodes_ = 0;

  // ------------------------------------------------------------ arguments
  void check_arguments(const mixed_precision_budget& budget) const {
    const double total_limit = 0x1p1000;  // keeps every sum, difference and allowance finite
    std::int64_t size_sum = 0, bops_sum = 0;
    double sens_sum = 0.0, lat_sum = 0.0;
    for (std::size_t i = 0; i < n_; ++i) {
      const mixed_precision_layer& layer = layers_[i];
      const std::string at = "[" + std::to_string(i) + "]";
      if (layer.choices.empty()) fail_argument(function, "layers", at + ".choices is empty; a layer needs a choice");
      std::int64_t size_max = 0, bops_max = 0;
      double sens_max = 0.0, lat_max = 0.0;
      for (std::size_t c = 0; c < layer.choices.size(); ++c) {
        const mixed_precision_choice& x = layer.choices[c];
        const std::string el = at + ".choices[" + std::to_string(c) + "].";
        if (!std::isfinite(x.sensitivity))
          fail_argument(function, "layers", el + "sensitivity = " + float_text(x.sensitivity) + " is not finite");
        if (x.size_bytes < 0)
          fail_argument(function, "layers", el + "size_bytes = " + std::to_string(x.size_bytes) + " is negative");
        if (x.bops < 0) fail_argument(function, "layers", el + "bops = " + std::to_string(x.bops) + " is negative");
        if (!(std::isfinite(x.latency) && x.latency >= 0.0))
          fail_argument(function, "layers",
                        el + "latency = " + float_text(x.latency) + " is not a non-negative finite double");
        size_max = std::max(size_max, x.size_bytes);
        bops_max = std::max(bops_max, x.bops);
        sens_max = std::max(sens_max, std::fabs(x.sensitivity));
        lat_max = std::max(lat_max, x.latency);
      }
      if (layer.pinned && *layer.pinned >= layer.choices.size())
        fail_argument(function, "layers",
                      at + ".pinned = " + std::to_string(*layer.pinned) + " is out of range: the layer has " +
                          std::to_string(layer.choices.size()) + " choices");
      const std::string sum = at + ".choices: the sum over layers 0.." + std::to_string(i) + " of each layer's largest ";
      if (size_max > INT64_MAX - size_sum) fail_argument(function, "layers", sum + "size_bytes exceeds 2^63 - 1");
      if (bops_max > INT64_MAX - bops_sum) fail_argument(function, "layers", sum + "bops exceeds 2^63 - 1");
      size_sum += size_max;
      bops_sum += bops_max;
      sens_sum += sens_max;
      lat_sum += lat_max;
      if (sens_sum > total_limit) fail_argument(function, "layers", sum + "|sensitivity| exceeds 2^1000");
      if (lat_sum > total_limit) fail_argument(function, "layers", sum + "latency exceeds 2^1000");
    }
    if (budget.size_bytes && *budget.size_bytes < 0)
      fail_argument(function, "budget.size_bytes", "= " + std::to_string(*budget.size_bytes) + " is negative");
    if (budget.bops && *budget.bops < 0)
      fail_argument(function, "budget.bops", "= " + std::to_string(*budget.bops) + " is negative");
    if (budget.latency && !(std::isfinite(*budget.latency) && *budget.latency >= 0.0))
      fail_argument(function, "budget.latency",
                    "= " + float_text(*budget.latency) +
                        " is not a non-negative finite double (leave the budget empty for none)");
  }

  // A budget below the least total its dimension reaches alone (every layer
  // at its least value, a pinned layer at its pin) is named.
  void check_each_budget() const {
    std::int64_t size = 0, bops = 0;
    double lat = 0.0;  // in layer order: rounded addition is monotone, so this is the least defined total
    for (std::size_t i = 0; i < n_; ++i) {
      const std::size_t p = pos_[i];
      size += min_size_[p];
      bops += min_bops_[p];
      lat += min_lat_[p];
    }
    const std::string tail =
        ", the least total any assignment reaches (each layer at its least, pinned layers at their pin)";
    if (has_[mp_size] && size > size_budget_)
      fail_argument(function, "budget.size_bytes",
                    "= " + std::to_string(size_budget_) + " cannot be met: it is below " + std::to_string(size) + tail);
    if (has_[mp_bops] && bops > bops_budget_)
      fail_argument(function, "budget.bops",
                    "= " + std::to_string(bops_budget_) + " cannot be met: it is below " + std::to_string(bops) + tail);
    if (has_[mp_lat] && lat > lat_budget_)
      fail_argument(function, "budget.latency",
                    "= " + float_text(lat_budget_) + " cannot be met: it is below " + float_text(lat) + tail);
  }

  // ------------------------------------------------------------ preprocessing
  // Every sensitivity an integer multiple of one power of two g, with
  // sum_i max |s| < 2^52 g: then every partial sum in any order is exact, a
  // total is a multiple of g, and a bound can be rounded up to the next
  // multiple, which lets exact ties be pruned (and strict dominance apply).
  double sensitivity_grid() const {
    int low = std::numeric_limits<int>::max();
    double sum = 0.0;
    for (const mixed_precision_layer& layer : layers_) {
      double m = 0.0;
      for (const mixed_precision_choice& c : layer.choices) {
        m = std::max(m, std::fabs(c.sensitivity));
        if (c.sensitivity == 0.0) continue;
        int e = 0;
        double t = std::ldexp(std::frexp(c.sensitivity, &e), 53);  // the 53-bit integer significand
        int zeros = 0;
        while (std::fmod(t, 2.0) == 0.0) {
          t /= 2.0;
          ++zeros;
        }
        low = std::min(low, e - 53 + zeros);  // the exponent of the lowest set bit
      }
      sum += m;
    }
    if (low == std::numeric_limits<int>::max()) return 1.0;  // all zero
    const double g = std::ldexp(1.0, low);
    if (g == 0.0 || !(sum < std::ldexp(g, 52))) return 0.0;
    return g;
  }

  // The options kept per layer, and the search order.
  void build_options() {
    grid_ = sensitivity_grid();
    std::vector<std::vector<mp_option>> by_layer(n_);
    for (std::size_t i = 0; i < n_; ++i) {
      const mixed_precision_layer& layer = layers_[i];
      std::vector<mp_option> all;
      for (std::size_t c = 0; c < layer.choices.size(); ++c) {
        const mixed_precision_choice& x = layer.choices[c];
        all.push_back({c, x.sensitivity, x.latency, x.size_bytes, x.bops});
      }
      std::vector<mp_option>& kept = by_layer[i];
      if (layer.pinned) {
        kept.push_back(all[*layer.pinned]);
      } else {
        // Dominance: an option no better than another in the objective and
        // in every budgeted dimension is never needed. Against an earlier
        // option (smaller index), "no better" suffices: swapping that one in
        // keeps the assignment feasible, the total no larger (rounded
        // addition is monotone) and the vector lexicographically smaller.
        // Against a later one, only a strictly smaller sensitivity on the
        // exact grid suffices: in rounded sums a strictly smaller term can
        // still give an equal total, and then the tie rule wants the
        // earlier option.
        for (std::size_t c = 0; c < all.size(); ++c) {
          bool dominated = false;
          for (std::size_t d = 0; d < all.size() && !dominated; ++d) {
            if (d == c) continue;
            const mp_option& a = all[d];
            const mp_option& b = all[c];
            const bool weakly = a.s <= b.s && (!has_[mp_size] || a.size <= b.size) &&
                                (!has_[mp_bops] || a.bops <= b.bops) && (!has_[mp_lat] || a.lat <= b.lat);
            dominated = weakly && (d < c || (grid_ > 0.0 && a.s < b.s));
          }
          if (!dominated) kept.push_back(all[c]);
        }
      }
      std::sort(kept.begin(), kept.end(),
                [](const mp_option& a, const mp_option& b) { return a.s < b.s || (a.s == b.s && a.index < b.index); });
    }
    // The order: layers whose choices matter most first, where a layer's
    // weight is its spread in sensitivity plus its spread in each budgeted
    // dimension, each relative to the sum of the spreads over all layers.
    // Deciding the large, sensitive layers first makes the bounds of the
    // subtrees below them tight early; small layers, whose choices move
    // the totals little, are then settled near the leaves. Ties keep the
    // layer order.
    std::vector<double> spread(5 * n_, 0.0), total(5, 0.0);
    for (std::size_t i = 0; i < n_; ++i) {
      for (std::size_t d = mp_sens; d <= mp_lat; ++d) {
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        for (const mp_option& o : by_layer[i]) {
          lo = std::min(lo, o.value(d));
          hi = std::max(hi, o.value(d));
        }
        spread[5 * i + d] = hi - lo;
        total[d] += hi - lo;
      }
    }
    std::vector<double> weight(n_, 0.0);
    for (std::size_t i = 0; i < n_; ++i)
      for (std::size_t d = mp_sens; d <= mp_lat; ++d)
        if ((d == mp_sens || has_[d]) && total[d] > 0.0) weight[i] += spread[5 * i + d] / total[d];
    layer_.resize(n_);
    for (std::size_t i = 0; i < n_; ++i) layer_[i] = i;
    std::stable_sort(layer_.begin(), layer_.end(), [&](std::size_t a, std::size_t b) { return weight[a] > weight[b]; });
    pos_.assign(n_, 0);
    opts_.resize(n_);
    for (std::size_t p = 0; p < n_; ++p) {
      pos_[layer_[p]] = p;
      opts_[p] = std::move(by_layer[layer_[p]]);
    }
    min_s_.assign(n_, 0.0);
    min_lat_.assign(n_, 0.0);
    min_size_.assign(n_, 0);
    min_bops_.assign(n_, 0);
    for (std::size_t p = 0; p < n_; ++p) {
      const std::vector<mp_option>& kept = opts_[p];
      min_s_[p] = kept.front().s;
      min_lat_[p] = kept.front().lat;
      min_size_[p] = kept.front().size;
      min_bops_[p] = kept.front().bops;
      for (const mp_option& o : kept) {
        min_lat_[p] = std::min(min_lat_[p], o.lat);
        min_size_[p] = std::min(min_size_[p], o.size);
        min_bops_[p] = std::min(min_bops_[p], o.bops);
      }
    }
  }

  void build_bounds() {
    suf_s_.assign(n_ + 1, 0.0);
    suf_lat_.assign(n_ + 1, 0.0);
    suf_size_.assign(n_ + 1, 0);
    suf_bops_.assign(n_ + 1, 0);
    for (std::size_t p = n_; p-- > 0;) {
      suf_s_[p] = suf_s_[p + 1] + min_s_[p];
      suf_lat_[p] = suf_lat_[p + 1] + min_lat_[p];
      suf_size_[p] = suf_size_[p + 1] + min_size_[p];
      suf_bops_[p] = suf_bops_[p + 1] + min_bops_[p];
    }
    // Rounding allowances. A bound computed in double from at most `terms`
    // additions of values whose magnitudes sum to `scale` is within
    // terms * u * scale of its exact value (u = DBL_EPSILON / 2), and a
    // total summed in layer order is within as much of its exact value.
    // Pruning only where a bound beats the incumbent by more than a few such
    // errors keeps the search exact; the allowance is so small (1e-12 of the
    // scale for hundreds of layers) that it costs nothing but the
    // exploration of near-ties, which the tie rule needs anyway.
    std::size_t options = 0;
    double scale_s = 0.0, scale[4] = {0.0, 0.0, 0.0, 0.0};
    for (const std::vector<mp_option>& kept : opts_) {
      options += kept.size();
      double m = 0.0, w[4] = {0.0, 0.0, 0.0, 0.0};
      for (const mp_option& o : kept) {
        m = std::max(m, std::fabs(o.s));
        for (std::size_t d = mp_size; d <= mp_lat; ++d) w[d] = std::max(w[d], o.value(d));
      }
      scale_s += m;
      for (std::size_t d = mp_size; d <= mp_lat; ++d) scale[d] += w[d];
    }
    const double k = 8.0 * static_cast<double>(options + n_ + 16) * DBL_EPSILON;
    margin_s_ = k * scale_s;
    for (std::size_t d = mp_size; d <= mp_lat; ++d) margin_[d] = k * (scale[d] + (has_[d] ? budget_of(d) : 0.0));
    for (std::size_t d = mp_size; d <= mp_lat; ++d) {
      if (!has_[d]) continue;
      lp_obj_.emplace_back(opts_, mp_sens, d);
      lp_obj_dim_.push_back(d);
      for (std::size_t e = mp_size; e <= mp_lat; ++e) {
        if (e == d || !has_[e]) continue;
        lp_cross_.emplace_back(opts_, e, d);
        lp_cross_obj_.push_back(e);
        lp_cross_con_.push_back(d);
      }
    }
    chosen_.assign(n_, nullptr);
  }

  // ------------------------------------------------------------ bounds
  double budget_of(std::size_t d) const noexcept {
    return d == mp_size ? static_cast<double>(size_budget_)
                        : d == mp_bops ? static_cast<double>(bops_budget_) : lat_budget_;
  }

  // The defined total (layer order, rounded) of dimension d (sensitivity or
  // latency) with positions < j at their chosen option and the others at
  // their minimum: rounded addition is monotone, so no completion's defined
  // total is below it.
  double least_total(std::size_t j, std::size_t d, const std::vector<double>& mins) const noexcept {
    double t = 0.0;
    for (std::size_t i = 0; i < n_; ++i) {
      const std::size_t p = pos_[i];
      t += p < j ? chosen_[p]->value(d) : mins[p];
    }
    return t;
  }

  int tie_status(std::size_t j) const noexcept {
    for (std::size_t i = 0; i < n_; ++i) {
      const std::size_t p = pos_[i];
      if (p >= j) return tie_open;
      if (chosen_[p]->index != best_[i]) return chosen_[p]->index < best_[i] ? tie_less : tie_greater;
    }
    return tie_open;  // the incumbent itself
  }

  // Whether a subtree (positions < j chosen) whose every completion has a
  // defined total >= `certain` can be dropped: it cannot beat the incumbent,
  // nor tie it from lexicographically before it.
  bool beaten(double certain, std::size_t j, int& status) const noexcept {
    if (certain > best_f_) return true;
    if (!(certain >= best_f_)) return false;
    if (status == 2) status = tie_status(j);
    return status == tie_greater;
  }

  double certain_from_bound(double bound) const noexcept {
    double c = bound - margin_s_;
    if (grid_ > 0.0) c = std::ceil(c / grid_) * grid_;
    return c;
  }

  // True when positions j..L-1, after the prefix with these (rounded)
  // totals, hold no feasible completion better than the incumbent.
  bool prune(std::size_t j, double ps, std::int64_t psize, std::int64_t pbops, double plat) const {
    if (has_[mp_size] && psize > size_budget_ - suf_size_[j]) return true;
    if (has_[mp_bops] && pbops > bops_budget_ - suf_bops_[j]) return true;
    if (has_[mp_lat]) {
      const double approx = plat + suf_lat_[j];
      if (approx > lat_budget_ + margin_[mp_lat]) return true;
      if (approx >= lat_budget_ - margin_[mp_lat] && least_total(j, mp_lat, min_lat_) > lat_budget_) return true;
    }
    double room[4] = {0.0, 0.0, 0.0, 0.0};  // capacities left, rounded up
    if (has_[mp_size]) room[mp_size] = static_cast<double>(size_budget_ - psize) + margin_[mp_size];
    if (has_[mp_bops]) room[mp_bops] = static_cast<double>(bops_budget_ - pbops) + margin_[mp_bops];
    if (has_[mp_lat]) room[mp_lat] = lat_budget_ - plat + margin_[mp_lat];
    if (have_best_) {
      int status = 2;  // not computed yet
      const double approx = ps + suf_s_[j];
      if (approx - margin_s_ > best_f_) return true;
      if (approx + margin_s_ >= best_f_ && beaten(least_total(j, mp_sens, min_s_), j, status)) return true;
      for (std::size_t t = 0; t < lp_obj_.size(); ++t)
        if (beaten(certain_from_bound(ps + lp_obj_[t].value(j, room[lp_obj_dim_[t]])), j, status)) return true;
    }
    for (std::size_t t = 0; t < lp_cross_.size(); ++t) {
      const std::size_t e = lp_cross_obj_[t];
      const double prefix = e == mp_size ? static_cast<double>(psize) : e == mp_bops ? static_cast<double>(pbops) : plat;
      if (prefix + lp_cross_[t].value(j, room[lp_cross_con_[t]]) - margin_[e] > budget_of(e)) return true;
    }
    return false;
  }

  // ------------------------------------------------------------ incumbent
  // Exact evaluation of a full assignment (indices into opts_, by position)
  // in the defined order; kept when feasible and better by the tie rule.
  void offer(const std::vector<std::size_t>& at) {
    double f = 0.0, lat = 0.0;
    std::int64_t size = 0, bops = 0;
    std::vector<std::size_t> choice(n_);
    for (std::size_t i = 0; i < n_; ++i) {
      const mp_option& o = opts_[pos_[i]][at[pos_[i]]];
      f += o.s;
      lat += o.lat;
      size += o.size;
      bops += o.bops;
      choice[i] = o.index;
    }
    if ((has_[mp_size] && size > size_budget_) || (has_[mp_bops] && bops > bops_budget_) ||
        (has_[mp_lat] && lat > lat_budget_))
      return;
    if (!have_best_ || f < best_f_ || (f == best_f_ && choice < best_)) {
      have_best_ = true;
      best_f_ = f;
      best_ = choice;
    }
  }

  // A first incumbent for the bounds: every layer at its least sensitivity,
  // then repairs (the move saving the most of the violated budgets per unit
  // of sensitivity added) until feasible, then improvements (the largest
  // decrease of sensitivity that keeps every budget) while any is left.
  void greedy() {
    std::vector<std::size_t> at(n_, 0);
    double total[4] = {0.0, 0.0, 0.0, 0.0};
    for (std::size_t p = 0; p < n_; ++p)
      for (std::size_t d = mp_size; d <= mp_lat; ++d) total[d] += opts_[p][0].value(d);
    const auto over = [&](std::size_t d, double t) {
      return has_[d] && t > budget_of(d) - (d == mp_lat ? margin_[mp_lat] : 0.0);
    };
    const auto move = [&](std::size_t p, std::size_t q) {
      for (std::size_t d = mp_size; d <= mp_lat; ++d) total[d] += opts_[p][q].value(d) - opts_[p][at[p]].value(d);
      at[p] = q;
    };
    std::size_t limit = 4;
    for (const std::vector<mp_option>& o : opts_) limit += 4 * o.size();
    for (std::size_t steps = 0;; ++steps) {
      bool feasible = true;
      for (std::size_t d = mp_size; d <= mp_lat; ++d) feasible = feasible && !over(d, total[d]);
      if (feasible) break;
      if (steps > limit) return;
      double best_score = 0.0;
      std::size_t bp = 0, bq = 0;
      bool found = false;
      for (std::size_t p = 0; p < n_; ++p) {
        const mp_option& cur = opts_[p][at[p]];
        for (std::size_t q = 0; q < opts_[p].size(); ++q) {
          if (q == at[p]) continue;
          const mp_option& o = opts_[p][q];
          double gain = 0.0;
          bool ok = true;
          for (std::size_t d = mp_size; d <= mp_lat && ok; ++d) {
            if (!has_[d]) continue;
            const double delta = o.value(d) - cur.value(d);
            if (over(d, total[d]))
              gain += std::min(1.0, -delta / std::max(total[d] - budget_of(d), DBL_MIN));
            else if (delta > 0.0 && over(d, total[d] + delta))
              ok = false;
          }
          if (!ok || !(gain > 0.0)) continue;
          const double ds = o.s - cur.s;
          const double score = ds <= 0.0 ? DBL_MAX : gain / ds;
          if (!found || score > best_score) {
            found = true;
            best_score = score;
            bp = p;
            bq = q;
          }
        }
      }
      if (!found) return;
      move(bp, bq);
    }
    for (std::size_t steps = 0; steps <= limit; ++steps) {
      double best_gain = 0.0;
      std::size_t bp = 0, bq = 0;
      for (std::size_t p = 0; p < n_; ++p) {
        const mp_option& cur = opts_[p][at[p]];
        for (std::size_t q = 0; q < at[p]; ++q) {  // sorted by s: only earlier options are better
          const mp_option& o = opts_[p][q];
          bool ok = true;
          for (std::size_t d = mp_size; d <= mp_lat && ok; ++d) ok = !over(d, total[d] + o.value(d) - cur.value(d));
          if (ok && cur.s - o.s > best_gain) {
            best_gain = cur.s - o.s;
            bp = p;
            bq = q;
          }
        }
      }
      if (!(best_gain > 0.0)) break;
      move(bp, bq);
    }
    offer(at);
  }

  // ------------------------------------------------------------ search
  // Depth first over the positions, children in order of sensitivity; a
  // leaf that survives prune() is feasible and at least ties the
  // incumbent, and offer() decides exactly.
  void search() {
    if (n_ == 0) {
      offer({});
      return;
    }
    std::vector<std::size_t> next(n_, 0), at(n_, 0);
    std::vector<double> ps(n_ + 1, 0.0), plat(n_ + 1, 0.0);
    std::vector<std::int64_t> psize(n_ + 1, 0), pbops(n_ + 1, 0);
    std::size_t k = 0;
    for (;;) {
      if (next[k] == opts_[k].size()) {
        if (k == 0) break;
        --k;
        continue;
      }
      const std::size_t q = next[k]++;
      const mp_option& o = opts_[k][q];
      chosen_[k] = &o;
      at[k] = q;
      ++nodes_;
      if (prune(k + 1, ps[k] + o.s, psize[k] + o.size, pbops[k] + o.bops, plat[k] + o.lat)) continue;
      if (k + 1 == n_) {
        offer(at);
        continue;
      }
      ps[k + 1] = ps[k] + o.s;
      plat[k + 1] = plat[k] + o.lat;
      psize[k + 1] = psize[k] + o.size;
      pbops[k + 1] = pbops[k] + o.bops;
      next[++k] = 0;
    }
  }
};

}  // namespace detail

// Chooses one precision per layer: minimizes the total sensitivity subject
// to the budgets present, exactly. Throws fp8::invalid_argument naming the
// argument for bad input, and naming the budget when no assignment meets the
// budgets (docs/ptq_mixed_precision.md: totals, tie rule, infeasibility).
inline mixed_precision_result solve_mixed_precision(const std::vector<mixed_precision_layer>& layers,
                                                    const mixed_precision_budget& budget = {}) {
  detail::mp_solver solver(layers, budget);
  return solver.solve();
}

FP8_END_NAMESPACE
