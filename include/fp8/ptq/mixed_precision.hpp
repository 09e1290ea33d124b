// SPDX-License-Identifier: Apache-2.0
// The exact mixed-precision assignment of HAWQ-V3 (Yao et al., ICML 2021),
// §3.4: every layer picks one of its candidate precisions (FP8, INT8, INT4,
// FP16, ...), each with a sensitivity (the loss increase it causes), a
// weight size, a BOP count and a latency; the assignment of least total
// sensitivity under any subset of a size, a BOPs and a latency budget is the
// integer linear program the paper hands to PuLP. Here it is a
// multiple-choice knapsack with up to three constraints, solved exactly
// without an external solver by dynamic programming over the layers that
// keeps only partial assignments no other one dominates and that an
// LP-relaxation bound cannot rule out, from a greedy incumbent. The
// definitions (exact totals, the tie rule, infeasibility) and measured times
// are in docs/ptq_mixed_precision.md.
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../config.hpp"
#include "../detail/arguments.hpp"
#include "../error.hpp"

FP8_BEGIN_NAMESPACE

// One candidate precision of one layer. The budgeted quantities are
// integers, so that totals are exact, independent of summation order, and
// a budget test never depends on rounding: bytes and BOPs are counts, and
// latency is in an integer unit of the caller's choice (nanoseconds, or
// cycles), far finer than any measurement.
struct mixed_precision_choice {
  double sensitivity = 0.0;     // finite, any sign; lower is better
  std::int64_t size_bytes = 0;  // >= 0
  std::int64_t bops = 0;        // >= 0
  std::int64_t latency = 0;     // >= 0
};

struct mixed_precision_layer {
  std::vector<mixed_precision_choice> choices;  // at least one
  // Set: the layer is fixed to this choice (the layers a user keeps out of
  // the search, e.g. the first and the last at 8 bits).
  std::optional<std::size_t> pinned;
};

// An absent budget is no constraint; a present one bounds the total: <=.
struct mixed_precision_budget {
  std::optional<std::int64_t> size_bytes;  // >= 0
  std::optional<std::int64_t> bops;        // >= 0
  std::optional<std::int64_t> latency;     // >= 0
};

struct mixed_precision_result {
  std::vector<std::size_t> choice;  // choice[i]: the index chosen in layers[i].choices
  // The totals of that assignment. The optimum is over the exact sum of
  // the sensitivities; `sensitivity` is that sum rounded once to the
  // nearest double (ties to even).
  double sensitivity = 0.0;
  std::int64_t size_bytes = 0;
  std::int64_t bops = 0;
  std::int64_t latency = 0;
  std::uint64_t states = 0;  // partial assignments the search generated, for diagnostics
};

namespace detail {

// ------------------------------------------------------------ exact sums
// Adds x to an expansion: `partials` holds non-overlapping doubles in
// increasing magnitude whose exact sum is the running total (Shewchuk 1997,
// the "grow expansion" of two-sums). No term overflows: the argument
// checks keep every sum of sensitivities below 2^1001.
inline void mp_expansion_add(std::vector<double>& partials, double x) {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < partials.size(); ++i) {
    double y = partials[i];
    if (std::fabs(x) < std::fabs(y)) std::swap(x, y);
    const double hi = x + y;
    const double lo = y - (hi - x);  // exact: |x| >= |y|
    if (lo != 0.0) partials[kept++] = lo;
    x = hi;
  }
  partials.resize(kept);
  partials.push_back(x);
}

// The sign of an expansion's exact sum: that of its largest nonzero part,
// which exceeds the sum of all smaller ones.
inline int mp_expansion_sign(const std::vector<double>& partials) noexcept {
  for (std::size_t i = partials.size(); i-- > 0;)
    if (partials[i] != 0.0) return partials[i] > 0.0 ? 1 : -1;
  return 0;
}

// The exact sum of an expansion rounded once to nearest, ties to even: add
// from the top while the additions are exact; the first inexact one has
// rounded, and only on a half-way case can the parts below change it, when
// they push the same way as the rounding error.
inline double mp_expansion_round(const std::vector<double>& partials) noexcept {
  std::size_t i = partials.size();
  if (i == 0) return 0.0;
  double hi = partials[--i], lo = 0.0;
  while (i > 0) {
    const double x = hi, y = partials[--i];
    hi = x + y;
    lo = y - (hi - x);
    if (lo != 0.0) break;
  }
  if (i > 0 && ((lo < 0.0 && partials[i - 1] < 0.0) || (lo > 0.0 && partials[i - 1] > 0.0))) {
    const double twice = lo * 2.0;
    const double up = hi + twice;
    if (up - hi == twice) hi = up;  // lo was exactly half an ulp of hi
  }
  return hi;
}

// ------------------------------------------------------------ the model
constexpr std::size_t mp_dims = 3;                // size_bytes, bops, latency
constexpr std::size_t mp_objective = mp_dims;      // the sensitivity, as a dimension of mp_lp
constexpr std::size_t mp_surrogate = mp_dims + 1;  // the budgets combined, as a dimension of mp_lp

struct mp_option {
  std::size_t index;  // in the layer's choices
  double s;
  std::int64_t w[mp_dims];
  double sur;  // sum_d lambda_d w[d] / norm_d, the surrogate constraint's weight
  double value(std::size_t d) const noexcept {
    return d == mp_objective ? s : d == mp_surrogate ? sur : static_cast<double>(w[d]);
  }
};

// The LP relaxation of a multiple-choice knapsack over the positions j..L-1:
// minimize the sum of dimension `obj` subject to the sum of dimension `con`
// being at most a capacity, each layer a convex combination of its options.
// Its optimum (Sinha and Zoltners 1979) starts every layer at its option of
// least `con` and then takes the segments of each layer's lower convex hull
// in the (con, obj) plane, most objective saved per unit of capacity first,
// the last one in part. The segments of all layers are sorted once;
// prepare(j) keeps those of positions >= j with running sums, so that each
// query is a binary search.
class mp_lp {
 public:
  mp_lp(const std::vector<std::vector<mp_option>>& layers, std::size_t obj, std::size_t con) {
    const std::size_t n = layers.size();
    base_obj_.assign(n + 1, 0.0);
    base_con_.assign(n + 1, 0.0);
    struct point {
      double x, y;
    };
    struct keyed {
      segment seg;
      double efficiency;
      std::size_t rank;  // position within its layer's hull: a tie-breaker
    };
    std::vector<keyed> all;
    std::vector<point> pts, hull;
    for (std::size_t p = n; p-- > 0;) {
      pts.clear();
      for (const mp_option& o : layers[p]) pts.push_back({o.value(con), o.value(obj)});
      std::sort(pts.begin(), pts.end(),
                [](const point& a, const point& b) { return a.x < b.x || (a.x == b.x && a.y < b.y); });
      // The Pareto frontier (each point strictly below all those of smaller
      // x), then its lower convex hull.
      hull.clear();
      for (const point& q : pts) {
        if (!hull.empty() && q.y >= hull.back().y) continue;
        while (hull.size() >= 2) {
          const point& a = hull[hull.size() - 2];
          const point& b = hull.back();
          if ((b.x - a.x) * (q.y - a.y) - (b.y - a.y) * (q.x - a.x) > 0.0) break;
          hull.pop_back();
        }
        hull.push_back(q);
      }
      base_obj_[p] = base_obj_[p + 1] + hull.front().y;
      base_con_[p] = base_con_[p + 1] + hull.front().x;
      for (std::size_t j = 1; j < hull.size(); ++j) {
        const segment s{p, hull[j].x - hull[j - 1].x, hull[j].y - hull[j - 1].y};
        all.push_back({s, -s.dobj / s.dcon, j});
      }
    }
    std::sort(all.begin(), all.end(), [](const keyed& a, const keyed& b) {
      if (a.efficiency != b.efficiency) return a.efficiency > b.efficiency;
      if (a.seg.pos != b.seg.pos) return a.seg.pos < b.seg.pos;
      return a.rank < b.rank;
    });
    for (const keyed& k : all) segments_.push_back(k.seg);
  }

  void prepare(std::size_t j) {
    from_ = j;
    active_.clear();
    cum_con_.assign(1, 0.0);
    cum_obj_.assign(1, 0.0);
    for (const segment& s : segments_) {
      if (s.pos < j) continue;
      active_.push_back(s);
      cum_con_.push_back(cum_con_.back() + s.dcon);
      cum_obj_.push_back(cum_obj_.back() + s.dobj);
    }
  }

  // The relaxation's optimum for the prepared suffix under `capacity`;
  // +inf when even the least `con` of every layer exceeds it.
  double value(double capacity) const noexcept {
    const double room = capacity - base_con_[from_];
    if (room < 0.0) return std::numeric_limits<double>::infinity();
    const std::size_t t =
        static_cast<std::size_t>(std::upper_bound(cum_con_.begin(), cum_con_.end(), room) - cum_con_.begin()) - 1;
    double v = base_obj_[from_] + cum_obj_[t];
    if (t < active_.size()) v += active_[t].dobj * ((room - cum_con_[t]) / active_[t].dcon);
    return v;
  }

 private:
  struct segment {
    std::size_t pos;
    double dcon, dobj;  // dcon > 0, dobj < 0
  };
  std::vector<double> base_obj_, base_con_;  // suffix sums of each hull's first point
  std::vector<segment> segments_, active_;
  std::vector<double> cum_con_, cum_obj_;
  std::size_t from_ = 0;
};

// Points (x, y) such that a query "is some point <= (x, y) in both?" is a
// lookup: the map keeps x ascending with y strictly descending, so the
// entry of largest x' <= x holds the least y' among them.
class mp_staircase {
 public:
  bool covers(std::int64_t x, std::int64_t y) const {
    auto it = m_.upper_bound(x);
    if (it == m_.begin()) return false;
    return (--it)->second <= y;
  }
  // Requires !covers(x, y).
  void insert(std::int64_t x, std::int64_t y) {
    auto it = m_.lower_bound(x);
    while (it != m_.end() && it->second >= y) it = m_.erase(it);
    m_.emplace_hint(it, x, y);
  }

 private:
  std::map<std::int64_t, std::int64_t> m_;
};

class mp_solver {
 public:
  static constexpr const char* function = "fp8::solve_mixed_precision";

  mp_solver(const std::vector<mixed_precision_layer>& layers, const mixed_precision_budget& budget)
      : layers_(layers), n_(layers.size()) {
    check_arguments(budget);
    const std::optional<std::int64_t> b[mp_dims] = {budget.size_bytes, budget.bops, budget.latency};
    for (std::size_t d = 0; d < mp_dims; ++d) {
      has_[d] = b[d].has_value();
      budget_[d] = b[d].value_or(0);
      if (has_[d]) dims_.push_back(d);
    }
    build_options();
    check_each_budget();
    build_bounds();
  }

  mixed_precision_result solve() {
    std::vector<std::size_t> at(n_, 0);
    complete(at, 0);
    build_surrogate();
    search();
    if (!have_best_)
      fail_argument(function, "budget",
                    "cannot be met: each budget alone is reachable, but no assignment meets them together");
    mixed_precision_result r;
    r.choice = best_;
    std::vector<double> partials;
    for (std::size_t i = 0; i < n_; ++i) {
      const mixed_precision_choice& c = layers_[i].choices[best_[i]];
      mp_expansion_add(partials, c.sensitivity);
      r.size_bytes += c.size_bytes;
      r.bops += c.bops;
      r.latency += c.latency;
    }
    r.sensitivity = mp_expansion_round(partials);
    r.states = states_;
    return r;
  }

 private:
  // How a partial assignment compares with the incumbent, lexicographically
  // in layer order; "open" while a layer before the first difference is
  // still free.
  static constexpr int tie_less = -1, tie_open = 0, tie_greater = 1;

  struct node {
    std::size_t parent;  // in the previous stage
    std::size_t option;  // in opts_ at this stage's last position
  };
  struct candidate {
    std::size_t parent, option;
    std::int64_t w[mp_dims];
    double s;   // the sum of the sensitivities, rounded: within margin_sum_ of exact
    double lb;  // a lower bound on the total of its completions (before allowances)
  };

  const std::vector<mixed_precision_layer>& layers_;
  std::size_t n_;
  bool has_[mp_dims] = {false, false, false};
  std::int64_t budget_[mp_dims] = {0, 0, 0};
  std::vector<std::size_t> dims_;  // the budgeted dimensions

  // The search visits the layers in a heuristic order; what follows is
  // indexed by position in that order (layer_[p] is the layer at position
  // p, pos_[i] the position of layer i).
  std::vector<std::size_t> layer_, pos_;
  std::vector<std::vector<mp_option>> opts_;  // the options kept, by (s, index)
  std::vector<double> min_s_;
  std::vector<std::int64_t> min_w_[mp_dims];
  std::vector<double> suf_s_;                  // suffix sums of min_s_, rounded
  std::vector<std::int64_t> suf_w_[mp_dims];  // suffix sums of min_w_
  std::vector<mp_lp> lp_obj_;                 // the sensitivity under each budget
  std::vector<std::size_t> lp_obj_con_;
  std::vector<mp_lp> lp_cross_;  // budget e under budget d: infeasibility
  std::vector<std::size_t> lp_cross_obj_, lp_cross_con_;
  double margin_sum_ = 0.0;  // |rounded - exact| for a partial sum of sensitivities
  double margin_s_ = 0.0;    // the same for a bound, the incumbent's rounding included
  double margin_w_[mp_dims] = {0.0, 0.0, 0.0};
  double lambda_[mp_dims] = {0.0, 0.0, 0.0};  // the surrogate's multipliers, over norm_
  double norm_[mp_dims] = {1.0, 1.0, 1.0};
  double margin_sur_ = 0.0;
  double allowance_ = 0.0;  // 8 * terms * DBL_EPSILON: see build_bounds()
  double grid_ = 0.0;  // > 0: every sensitivity is a multiple of it and every sum is exact

  std::vector<std::vector<node>> stages_;  // stage k: the states over positions 0..k-1
  std::uint64_t states_ = 0;

  bool have_best_ = false;
  std::vector<std::size_t> best_;    // choice index per layer
  std::vector<double> best_terms_;  // its sensitivities
  double best_s_ = std::numeric_limits<double>::infinity();  // their sum, rounded to nearest

  // Scratch for exact comparisons.
  mutable std::vector<const mp_option*> scratch_a_, scratch_b_;
  mutable std::vector<double> partials_;

  // ------------------------------------------------------------ arguments
  void check_arguments(const mixed_precision_budget& budget) const {
    const double total_limit = 0x1p1000;  // keeps every sum, difference and allowance finite
    std::int64_t sum_max[mp_dims] = {0, 0, 0};
    std::vector<double> sens_sum;  // an expansion: the exact running sum
    const char* names[mp_dims] = {"size_bytes", "bops", "latency"};
    for (std::size_t i = 0; i < n_; ++i) {
      const mixed_precision_layer& layer = layers_[i];
      const std::string at = "[" + std::to_string(i) + "]";
      if (layer.choices.empty()) fail_argument(function, "layers", at + ".choices is empty; a layer needs a choice");
      std::int64_t w_max[mp_dims] = {0, 0, 0};
      double sens_max = 0.0;
      for (std::size_t c = 0; c < layer.choices.size(); ++c) {
        const mixed_precision_choice& x = layer.choices[c];
        const std::string el = at + ".choices[" + std::to_string(c) + "].";
        if (!std::isfinite(x.sensitivity))
          fail_argument(function, "layers", el + "sensitivity = " + float_text(x.sensitivity) + " is not finite");
        const std::int64_t w[mp_dims] = {x.size_bytes, x.bops, x.latency};
        for (std::size_t d = 0; d < mp_dims; ++d) {
          if (w[d] < 0) fail_argument(function, "layers", el + names[d] + " = " + std::to_string(w[d]) + " is negative");
          w_max[d] = std::max(w_max[d], w[d]);
        }
        sens_max = std::max(sens_max, std::fabs(x.sensitivity));
      }
      if (layer.pinned && *layer.pinned >= layer.choices.size())
        fail_argument(function, "layers",
                      at + ".pinned = " + std::to_string(*layer.pinned) + " is out of range: the layer has " +
                          std::to_string(layer.choices.size()) + " choices");
      const std::string sum = at + ".choices: the sum over layers 0.." + std::to_string(i) + " of each layer's largest ";
      for (std::size_t d = 0; d < mp_dims; ++d) {
        if (w_max[d] > INT64_MAX - sum_max[d]) fail_argument(function, "layers", sum + names[d] + " exceeds 2^63 - 1");
        sum_max[d] += w_max[d];
      }
      // Exactly: each term and the sum so far are at most 2^1000, so the
      // expansion's parts stay finite.
      bool over = sens_max > total_limit;
      if (!over) {
        mp_expansion_add(sens_sum, sens_max);
        std::vector<double> excess = sens_sum;
        mp_expansion_add(excess, -total_limit);
        over = mp_expansion_sign(excess) > 0;
      }
      if (over) fail_argument(function, "layers", sum + "|sensitivity| exceeds 2^1000");
    }
    const std::optional<std::int64_t> b[mp_dims] = {budget.size_bytes, budget.bops, budget.latency};
    const char* budget_names[mp_dims] = {"budget.size_bytes", "budget.bops", "budget.latency"};
    for (std::size_t d = 0; d < mp_dims; ++d)
      if (b[d] && *b[d] < 0) fail_argument(function, budget_names[d], "= " + std::to_string(*b[d]) + " is negative");
  }

  // A budget below the least total its dimension reaches alone (every layer
  // at its least value, a pinned layer at its pin) is named.
  void check_each_budget() const {
    const char* budget_names[mp_dims] = {"budget.size_bytes", "budget.bops", "budget.latency"};
    for (std::size_t d : dims_) {
      std::int64_t least = 0;
      for (std::size_t p = 0; p < n_; ++p) least += min_w_[d][p];
      if (least > budget_[d])
        fail_argument(function, budget_names[d],
                      "= " + std::to_string(budget_[d]) + " cannot be met: it is below " + std::to_string(least) +
                          ", the least total any assignment reaches (each layer at its least, pinned layers at "
                          "their pin)");
    }
  }

  // ------------------------------------------------------------ preprocessing
  // Every sensitivity an integer multiple of one power of two g, with
  // sum_i max |s| < 2^52 g: then every partial sum, in any order, is exact,
  // comparisons need no expansions, and a bound can be rounded up to the
  // next multiple of g.
  double sensitivity_grid() const {
    int low = std::numeric_limits<int>::max();
    double sum = 0.0;
    for (const mixed_precision_layer& layer : layers_) {
      double m = 0.0;
      for (const mixed_precision_choice& c : layer.choices) {
        m = std::max(m, std::fabs(c.sensitivity));
        if (c.sensitivity == 0.0) continue;
        int e = 0;
        double t = std::ldexp(std::frexp(c.sensitivity, &e), 53);  // the integer significand
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

  // The options kept per layer, and the order of the layers.
  void build_options() {
    grid_ = sensitivity_grid();
    std::vector<std::vector<mp_option>> by_layer(n_);
    for (std::size_t i = 0; i < n_; ++i) {
      const mixed_precision_layer& layer = layers_[i];
      std::vector<mp_option> all;
      for (std::size_t c = 0; c < layer.choices.size(); ++c) {
        const mixed_precision_choice& x = layer.choices[c];
        all.push_back({c, x.sensitivity, {x.size_bytes, x.bops, x.latency}, 0.0});
      }
      std::vector<mp_option>& kept = by_layer[i];
      if (layer.pinned) {
        kept.push_back(all[*layer.pinned]);
      } else {
        // Dominance: an option that another beats or equals in sensitivity
        // and in every budgeted quantity is never needed: swapping the
        // other in keeps any assignment feasible and makes it better, or
        // equal and lexicographically smaller (when the other comes first).
        for (std::size_t c = 0; c < all.size(); ++c) {
          bool dominated = false;
          for (std::size_t d = 0; d < all.size() && !dominated; ++d) {
            if (d == c) continue;
            bool weakly = all[d].s <= all[c].s;
            for (std::size_t e : dims_) weakly = weakly && all[d].w[e] <= all[c].w[e];
            dominated = weakly && (all[d].s < all[c].s || d < c);
          }
          if (!dominated) kept.push_back(all[c]);
        }
      }
      std::sort(kept.begin(), kept.end(),
                [](const mp_option& a, const mp_option& b) { return a.s < b.s || (a.s == b.s && a.index < b.index); });
    }
    // The order: layers whose choice matters most first. A layer's weight
    // is its spread in sensitivity plus its spread in each budgeted
    // quantity, each relative to the sum of those spreads over all layers.
    // Deciding the large, sensitive layers first lets the bounds rule out
    // most partial assignments early; layers that move the totals little
    // come last, where dominance merges their combinations. Ties keep the
    // layer order.
    std::vector<double> weight(n_, 0.0);
    for (std::size_t d = 0; d <= mp_dims; ++d) {
      if (d != mp_objective && !has_[d]) continue;
      std::vector<double> spread(n_, 0.0);
      double total = 0.0;
      for (std::size_t i = 0; i < n_; ++i) {
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        for (const mp_option& o : by_layer[i]) {
          lo = std::min(lo, o.value(d));
          hi = std::max(hi, o.value(d));
        }
        spread[i] = hi - lo;
        total += spread[i];
      }
      if (total > 0.0)
        for (std::size_t i = 0; i < n_; ++i) weight[i] += spread[i] / total;
    }
    layer_.resize(n_);
    for (std::size_t i = 0; i < n_; ++i) layer_[i] = i;
    std::stable_sort(layer_.begin(), layer_.end(), [&](std::size_t a, std::size_t b) { return weight[a] > weight[b]; });
    pos_.assign(n_, 0);
    opts_.resize(n_);
    min_s_.assign(n_, 0.0);
    for (std::size_t d = 0; d < mp_dims; ++d) min_w_[d].assign(n_, 0);
    for (std::size_t p = 0; p < n_; ++p) {
      pos_[layer_[p]] = p;
      opts_[p] = std::move(by_layer[layer_[p]]);
      min_s_[p] = opts_[p].front().s;
      for (std::size_t d = 0; d < mp_dims; ++d) {
        min_w_[d][p] = opts_[p].front().w[d];
        for (const mp_option& o : opts_[p]) min_w_[d][p] = std::min(min_w_[d][p], o.w[d]);
      }
    }
  }

  void build_bounds() {
    suf_s_.assign(n_ + 1, 0.0);
    for (std::size_t d = 0; d < mp_dims; ++d) suf_w_[d].assign(n_ + 1, 0);
    for (std::size_t p = n_; p-- > 0;) {
      suf_s_[p] = suf_s_[p + 1] + min_s_[p];
      for (std::size_t d = 0; d < mp_dims; ++d) suf_w_[d][p] = suf_w_[d][p + 1] + min_w_[d][p];
    }
    // Rounding allowances. A value computed in double by at most `terms`
    // additions of numbers whose magnitudes sum to `scale` is within
    // terms * u * scale of its exact value (u = DBL_EPSILON / 2). Bounds are
    // compared with the incumbent only after subtracting a few times that,
    // which keeps the search exact; the allowance is tiny (1e-12 of the
    // scale for hundreds of layers), so it costs no pruning but that of
    // near-ties, which the tie rule must examine anyway.
    std::size_t options = 0;
    double scale_s = 0.0, scale[mp_dims] = {0.0, 0.0, 0.0};
    for (const std::vector<mp_option>& kept : opts_) {
      options += kept.size();
      double m = 0.0, w[mp_dims] = {0.0, 0.0, 0.0};
      for (const mp_option& o : kept) {
        m = std::max(m, std::fabs(o.s));
        for (std::size_t d = 0; d < mp_dims; ++d) w[d] = std::max(w[d], static_cast<double>(o.w[d]));
      }
      scale_s += m;
      for (std::size_t d = 0; d < mp_dims; ++d) scale[d] += w[d];
    }
    const double k = 8.0 * static_cast<double>(options + n_ + 16) * DBL_EPSILON;
    allowance_ = k;
    margin_sum_ = grid_ > 0.0 ? 0.0 : k * scale_s;
    margin_s_ = 3.0 * k * scale_s;
    for (std::size_t d = 0; d < mp_dims; ++d)
      margin_w_[d] = k * (scale[d] + static_cast<double>(budget_[d]));
    for (std::size_t d : dims_) {
      lp_obj_.emplace_back(opts_, mp_objective, d);
      lp_obj_con_.push_back(d);
      for (std::size_t e : dims_) {
        if (e == d) continue;
        lp_cross_.emplace_back(opts_, e, d);
        lp_cross_obj_.push_back(e);
        lp_cross_con_.push_back(d);
      }
    }
  }

  // With two or three budgets, each LP above sees one budget only, and
  // misses what they impose together. The surrogate constraint
  // sum_d lambda_d w_d / norm_d <= sum_d lambda_d B_d / norm_d holds for
  // every feasible assignment whatever lambda >= 0; its LP bound is
  // strongest near the multipliers that maximize the Lagrangian dual
  // max_lambda sum_i min_c (s_ic + sum_d lambda_d w_icd / norm_d) - sum_d lambda_d,
  // found here by projected subgradient ascent with Polyak steps toward the
  // incumbent's value. Any lambda keeps the search exact; a good one only
  // makes it faster.
  void build_surrogate() {
    if (dims_.size() < 2) return;
    double lambda[mp_dims] = {0.0, 0.0, 0.0}, best[mp_dims] = {0.0, 0.0, 0.0};
    double upper = 0.0;  // an upper bound on the dual: the incumbent, or the largest total
    if (have_best_) {
      upper = best_s_;
    } else {
      for (const std::vector<mp_option>& kept : opts_) upper += kept.back().s;
    }
    for (std::size_t d : dims_) norm_[d] = std::max(1.0, static_cast<double>(budget_[d]));
    double best_value = -std::numeric_limits<double>::infinity(), theta = 2.0;
    std::size_t stale = 0;
    for (std::size_t it = 0; it < 300; ++it) {
      double value = 0.0, g[mp_dims] = {0.0, 0.0, 0.0};
      for (std::size_t d : dims_) {
        value -= lambda[d];
        g[d] = -1.0;
      }
      for (const std::vector<mp_option>& kept : opts_) {
        const mp_option* arg = nullptr;
        double least = 0.0;
        for (const mp_option& o : kept) {
          double v = o.s;
          for (std::size_t d : dims_) v += lambda[d] * static_cast<double>(o.w[d]) / norm_[d];
          if (arg == nullptr || v < least) {
            least = v;
            arg = &o;
          }
        }
        value += least;
        for (std::size_t d : dims_) g[d] += static_cast<double>(arg->w[d]) / norm_[d];
      }
      if (value > best_value) {
        best_value = value;
        for (std::size_t d : dims_) best[d] = lambda[d];
        stale = 0;
      } else if (++stale >= 20) {
        theta /= 2.0;
        stale = 0;
      }
      double g2 = 0.0;
      for (std::size_t d : dims_) g2 += g[d] * g[d];
      if (g2 == 0.0 || !(upper > value)) break;
      const double step = theta * (upper - value) / g2;
      for (std::size_t d : dims_) lambda[d] = std::max(0.0, lambda[d] + step * g[d]);
    }
    bool any = false;
    double scale = 0.0;
    for (std::size_t d : dims_) {
      lambda_[d] = best[d];
      any = any || best[d] > 0.0;
      double wmax = 0.0;
      for (const std::vector<mp_option>& kept : opts_) {
        double m = 0.0;
        for (const mp_option& o : kept) m = std::max(m, static_cast<double>(o.w[d]));
        wmax += m;
      }
      scale += best[d] * (wmax + static_cast<double>(budget_[d])) / norm_[d];
    }
    if (!any) return;
    for (std::vector<mp_option>& kept : opts_)
      for (mp_option& o : kept) {
        o.sur = 0.0;
        for (std::size_t d : dims_) o.sur += lambda_[d] * static_cast<double>(o.w[d]) / norm_[d];
      }
    margin_sur_ = 4.0 * allowance_ * scale;
    lp_obj_.emplace_back(opts_, mp_objective, mp_surrogate);
    lp_obj_con_.push_back(mp_surrogate);
  }

  // ------------------------------------------------------------ comparisons
  // The options of a stage-k state (parent chain), by position.
  void trace(std::size_t k, std::size_t state, std::vector<const mp_option*>& out) const {
    out.assign(n_, nullptr);
    for (std::size_t p = k; p-- > 0;) {
      const node& nd = stages_[p + 1][state];
      out[p] = &opts_[p][nd.option];
      state = nd.parent;
    }
  }
  void trace(std::size_t k, const candidate& c, std::vector<const mp_option*>& out) const {
    trace(k, c.parent, out);
    out[k] = &opts_[k][c.option];
  }

  // -1, 0 or 1 as the exact sum of the sensitivities of positions < j in a
  // is less than, equal to or greater than that in b.
  int compare_sums(const std::vector<const mp_option*>& a, const std::vector<const mp_option*>& b,
                   std::size_t j) const {
    partials_.clear();
    for (std::size_t p = 0; p < j; ++p) {
      mp_expansion_add(partials_, a[p]->s);
      mp_expansion_add(partials_, -b[p]->s);
    }
    return mp_expansion_sign(partials_);
  }

  // Lexicographic comparison in layer order of two assignments of the same
  // positions (< j).
  int compare_lex(const std::vector<const mp_option*>& a, const std::vector<const mp_option*>& b,
                  std::size_t j) const {
    for (std::size_t i = 0; i < n_; ++i) {
      const std::size_t p = pos_[i];
      if (p >= j || a[p]->index == b[p]->index) continue;
      return a[p]->index < b[p]->index ? -1 : 1;
    }
    return 0;
  }

  // The total order of the tie rule on two candidates of position k:
  // the exact sum first, then the layer order.
  bool better(std::size_t k, const candidate& a, const candidate& b) const {
    if (a.s + margin_sum_ < b.s) return true;
    if (b.s + margin_sum_ < a.s) return false;
    if (grid_ > 0.0 && a.s != b.s) return a.s < b.s;
    trace(k, a, scratch_a_);
    trace(k, b, scratch_b_);
    if (grid_ == 0.0) {
      const int c = compare_sums(scratch_a_, scratch_b_, k + 1);
      if (c != 0) return c < 0;
    }
    return compare_lex(scratch_a_, scratch_b_, k + 1) < 0;
  }

  int tie_status(std::size_t k, const candidate& c) const {
    trace(k, c, scratch_a_);
    for (std::size_t i = 0; i < n_; ++i) {
      const std::size_t p = pos_[i];
      if (p > k) return tie_open;
      if (scratch_a_[p]->index != best_[i]) return scratch_a_[p]->index < best_[i] ? tie_less : tie_greater;
    }
    return tie_open;  // the incumbent itself
  }

  // ------------------------------------------------------------ bounds
  // True when the candidate at position k, with positions > k free, can hold
  // no feasible completion that beats the incumbent by the tie rule.
  bool prune(std::size_t k, candidate& c) const {
    const std::size_t j = k + 1;
    double room[mp_surrogate + 1] = {0.0, 0.0, 0.0, 0.0, 0.0};  // capacities left, rounded up
    for (std::size_t d : dims_) {
      if (c.w[d] > budget_[d] - suf_w_[d][j]) return true;
      room[d] = static_cast<double>(budget_[d] - c.w[d]) + margin_w_[d];
      room[mp_surrogate] += lambda_[d] * static_cast<double>(budget_[d] - c.w[d]) / norm_[d];
    }
    room[mp_surrogate] += margin_sur_;
    for (std::size_t t = 0; t < lp_cross_.size(); ++t) {
      const std::size_t e = lp_cross_obj_[t];
      if (static_cast<double>(c.w[e]) + lp_cross_[t].value(room[lp_cross_con_[t]]) - margin_w_[e] >
          static_cast<double>(budget_[e]))
        return true;
    }
    c.lb = c.s + suf_s_[j];
    for (std::size_t t = 0; t < lp_obj_.size(); ++t) c.lb = std::max(c.lb, c.s + lp_obj_[t].value(room[lp_obj_con_[t]]));
    if (!have_best_) return false;
    // Every completion's exact total is at least lb - margin_s_.
    double certain = c.lb - margin_s_;
    if (grid_ > 0.0) certain = std::ceil(certain / grid_) * grid_;
    if (certain > best_s_) return true;
    return certain >= best_s_ && tie_status(k, c) == tie_greater;
  }

  // ------------------------------------------------------------ incumbent
  // Exact evaluation of a full assignment (option pointers by position);
  // kept when feasible and better by the tie rule.
  void offer(const std::vector<const mp_option*>& at) {
    std::int64_t total[mp_dims] = {0, 0, 0};
    for (std::size_t p = 0; p < n_; ++p)
      for (std::size_t d = 0; d < mp_dims; ++d) total[d] += at[p]->w[d];
    for (std::size_t d : dims_)
      if (total[d] > budget_[d]) return;
    std::vector<std::size_t> choice(n_);
    std::vector<double> terms(n_);
    for (std::size_t i = 0; i < n_; ++i) {
      choice[i] = at[pos_[i]]->index;
      terms[i] = at[pos_[i]]->s;
    }
    if (have_best_) {
      partials_.clear();
      for (std::size_t i = 0; i < n_; ++i) {
        mp_expansion_add(partials_, terms[i]);
        mp_expansion_add(partials_, -best_terms_[i]);
      }
      const int c = mp_expansion_sign(partials_);
      if (c > 0 || (c == 0 && !(choice < best_))) return;
    }
    have_best_ = true;
    best_ = std::move(choice);
    best_terms_ = std::move(terms);
    partials_.clear();
    for (double t : best_terms_) mp_expansion_add(partials_, t);
    best_s_ = mp_expansion_round(partials_);
  }

  // Completes the assignment `at` (option indices by position; positions
  // below `from` fixed) and offers it: the free layers start at their least
  // sensitivity, then repairs (the move saving the most of the violated
  // budgets per unit of sensitivity added) until feasible, then
  // improvements (the largest decrease of sensitivity that keeps every
  // budget) while any is left. A heuristic: it only supplies incumbents.
  void complete(std::vector<std::size_t>& at, std::size_t from) {
    std::int64_t total[mp_dims] = {0, 0, 0};
    for (std::size_t p = 0; p < n_; ++p) {
      if (p >= from) at[p] = 0;
      for (std::size_t d = 0; d < mp_dims; ++d) total[d] += opts_[p][at[p]].w[d];
    }
    const auto move = [&](std::size_t p, std::size_t q) {
      for (std::size_t d = 0; d < mp_dims; ++d) total[d] += opts_[p][q].w[d] - opts_[p][at[p]].w[d];
      at[p] = q;
    };
    std::size_t limit = 4;
    for (std::size_t p = from; p < n_; ++p) limit += 4 * opts_[p].size();
    for (std::size_t steps = 0;; ++steps) {
      bool feasible = true;
      for (std::size_t d : dims_) feasible = feasible && total[d] <= budget_[d];
      if (feasible) break;
      if (steps > limit) return;
      double best_score = 0.0;
      std::size_t bp = 0, bq = 0;
      bool found = false;
      for (std::size_t p = from; p < n_; ++p) {
        const mp_option& cur = opts_[p][at[p]];
        for (std::size_t q = 0; q < opts_[p].size(); ++q) {
          if (q == at[p]) continue;
          const mp_option& o = opts_[p][q];
          double gain = 0.0;
          bool ok = true;
          for (std::size_t d : dims_) {
            const std::int64_t delta = o.w[d] - cur.w[d];
            const std::int64_t excess = total[d] - budget_[d];
            if (excess > 0)
              gain += std::min(1.0, -static_cast<double>(delta) / static_cast<double>(excess));
            else if (delta > -excess)
              ok = false;  // would break a budget that holds
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
      for (std::size_t p = from; p < n_; ++p) {
        const mp_option& cur = opts_[p][at[p]];
        for (std::size_t q = 0; q < at[p]; ++q) {  // sorted by s: only earlier options are better
          const mp_option& o = opts_[p][q];
          bool ok = true;
          for (std::size_t d : dims_) ok = ok && total[d] + (o.w[d] - cur.w[d]) <= budget_[d];
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
    std::vector<const mp_option*> chosen(n_);
    for (std::size_t p = 0; p < n_; ++p) chosen[p] = &opts_[p][at[p]];
    offer(chosen);
  }

  // ------------------------------------------------------------ search
  // Stage by stage over the positions: extend every state by every option,
  // drop the candidates the bounds rule out, rank the rest by the tie
  // rule's order, and keep a candidate only if no better-ranked kept one
  // is at most it in every budgeted quantity (that one's completions beat
  // or tie-break its completions, and are feasible whenever its are).
  void search() {
    if (n_ == 0) {
      offer({});
      return;
    }
    stages_.assign(1, std::vector<node>(1, node{0, 0}));
    std::vector<candidate> current(1, candidate{0, 0, {0, 0, 0}, 0.0, 0.0}), cands, next;
    std::vector<std::size_t> order;
    std::vector<std::int64_t> xs;
    const std::size_t dive_every = std::max<std::size_t>(1, n_ / 16);
    for (std::size_t k = 0; k < n_; ++k) {
      for (mp_lp& lp : lp_obj_) lp.prepare(k + 1);
      for (mp_lp& lp : lp_cross_) lp.prepare(k + 1);
      cands.clear();
      for (std::size_t a = 0; a < current.size(); ++a) {
        for (std::size_t q = 0; q < opts_[k].size(); ++q) {
          const mp_option& o = opts_[k][q];
          candidate c{a, q, {current[a].w[0] + o.w[0], current[a].w[1] + o.w[1], current[a].w[2] + o.w[2]},
                      current[a].s + o.s, 0.0};
          ++states_;
          if (!prune(k, c)) cands.push_back(c);
        }
      }
      order.resize(cands.size());
      for (std::size_t t = 0; t < cands.size(); ++t) order[t] = t;
      std::sort(order.begin(), order.end(),
                [&](std::size_t x, std::size_t y) { return better(k, cands[x], cands[y]); });
      next.clear();
      keep_undominated(cands, order, next, xs);
      stages_.emplace_back();
      for (const candidate& c : next) stages_.back().push_back(node{c.parent, c.option});
      current.swap(next);
      if (current.empty()) return;  // everything pruned: the incumbent is optimal
      // Dives for a better incumbent, which sharpens every later bound:
      // complete the kept states of least bound, at about 16 stages spread
      // over the search (a completion costs O(L^2) for L layers, so one per
      // stage would cost O(L^3)).
      if (k + 1 < n_ && (k + 1) % dive_every == 0) dive(k + 1, current);
    }
    // The last stage holds complete assignments, best first.
    std::vector<const mp_option*> chosen;
    trace(n_, 0, chosen);
    offer(chosen);
  }

  void dive(std::size_t stage, const std::vector<candidate>& states) {
    std::size_t picks[2] = {0, 0};
    std::size_t count = 0;
    for (std::size_t t = 0; t < states.size(); ++t) {
      if (count < 2) {
        picks[count++] = t;
      } else if (states[t].lb < states[picks[1]].lb) {
        picks[1] = t;
      }
      if (count == 2 && states[picks[1]].lb < states[picks[0]].lb) std::swap(picks[0], picks[1]);
    }
    std::vector<const mp_option*> prefix;
    std::vector<std::size_t> at(n_, 0);
    for (std::size_t t = 0; t < count; ++t) {
      trace(stage, picks[t], prefix);
      for (std::size_t p = 0; p < stage; ++p) at[p] = static_cast<std::size_t>(prefix[p] - opts_[p].data());
      complete(at, stage);
    }
  }

  // Appends to `out`, in rank order, the candidates that no better-ranked
  // kept one is at most in every budgeted quantity.
  void keep_undominated(const std::vector<candidate>& cands, const std::vector<std::size_t>& order,
                        std::vector<candidate>& out, std::vector<std::int64_t>& xs) const {
    const std::size_t dims = dims_.size();
    if (dims == 0) {
      if (!order.empty()) out.push_back(cands[order.front()]);
      return;
    }
    const std::size_t d0 = dims_[0];
    if (dims == 1) {
      std::int64_t least = INT64_MAX;
      for (std::size_t t : order) {
        if (cands[t].w[d0] >= least && !out.empty()) continue;
        least = std::min(least, cands[t].w[d0]);
        out.push_back(cands[t]);
      }
      return;
    }
    const std::size_t d1 = dims_[1];
    if (dims == 2) {
      mp_staircase kept;
      for (std::size_t t : order) {
        const candidate& c = cands[t];
        if (kept.covers(c.w[d0], c.w[d1])) continue;
        kept.insert(c.w[d0], c.w[d1]);
        out.push_back(c);
      }
      return;
    }
    // Three: a Fenwick tree over the ranks of the first quantity, each node
    // a staircase over the other two, answers "is a kept one <= it" in
    // O(log^2) time.
    const std::size_t d2 = dims_[2];
    xs.clear();
    for (const candidate& c : cands) xs.push_back(c.w[d0]);
    std::sort(xs.begin(), xs.end());
    xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
    std::vector<mp_staircase> tree(xs.size() + 1);
    for (std::size_t t : order) {
      const candidate& c = cands[t];
      const std::size_t r =
          static_cast<std::size_t>(std::lower_bound(xs.begin(), xs.end(), c.w[d0]) - xs.begin()) + 1;
      bool covered = false;
      for (std::size_t i = r; i > 0 && !covered; i -= i & (~i + 1)) covered = tree[i].covers(c.w[d1], c.w[d2]);
      if (covered) continue;
      for (std::size_t i = r; i < tree.size(); i += i & (~i + 1))
        if (!tree[i].covers(c.w[d1], c.w[d2])) tree[i].insert(c.w[d1], c.w[d2]);
      out.push_back(c);
    }
  }
};

}  // namespace detail

// Chooses one precision per layer: the assignment of least exact total
// sensitivity whose totals meet every budget present, ties going to the
// lexicographically smallest choice vector. Throws fp8::invalid_argument
// naming the argument for bad input, and naming the budget when none can be
// met (docs/ptq_mixed_precision.md).
inline mixed_precision_result solve_mixed_precision(const std::vector<mixed_precision_layer>& layers,
                                                    const mixed_precision_budget& budget = {}) {
  detail::mp_solver solver(layers, budget);
  return solver.solve();
}

FP8_END_NAMESPACE
