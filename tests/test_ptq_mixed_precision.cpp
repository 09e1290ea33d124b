// SPDX-License-Identifier: Apache-2.0
// fp8::solve_mixed_precision (ptq/mixed_precision.hpp) against references
// written apart from it: brute-force enumeration of every assignment, with
// exact sums in a wide integer, on 1500 small random instances (every budget
// combination, pins, ties, duplicates, zero quantities, sums that doubles
// round, infeasible budgets); a dynamic program over one to three budgets on
// larger integer instances, ResNet-50 and BERT-base among them; the exact
// objective, the tie rule, and an error for every kind of bad argument.
// bench/bench_ptq_mixed_precision.cpp times the same realistic instances.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <fp8/ptq/mixed_precision.hpp>

#include "ptq_instances.hpp"

namespace {

using namespace mp_instances;


// ------------------------------------------------------------ the reference
// An exact sum of doubles: a two's-complement integer in units of 2^-1074
// (the least subnormal), 34 limbs of 64 bits, enough for any sum of a few
// doubles below 2^1010. Written apart from the solver's expansions.
struct exact_sum {
  static constexpr int limbs = 34;
  std::uint64_t v[limbs] = {};

  void add(double x) {
    if (x == 0.0) return;
    int e = 0;
    const double f = std::frexp(std::fabs(x), &e);  // |x| = f 2^e, f in [0.5, 1)
    std::uint64_t m = static_cast<std::uint64_t>(std::ldexp(f, 53));
    int shift = e - 53 + 1074;  // |x| = m 2^(shift - 1074)
    while (shift < 0) {         // a subnormal: the bits shifted out are zero
      m >>= 1;
      ++shift;
    }
    std::uint64_t t[limbs] = {};
    const int limb = shift / 64, bit = shift % 64;
    t[limb] |= m << bit;
    if (bit != 0 && limb + 1 < limbs) t[limb + 1] |= m >> (64 - bit);
    if (x < 0.0) negate(t);
    add_limbs(t);
  }
  void add_limbs(const std::uint64_t* t) {
    std::uint64_t carry = 0;
    for (int i = 0; i < limbs; ++i) {
      const std::uint64_t a = v[i] + carry;
      const std::uint64_t c1 = a < carry ? 1u : 0u;
      v[i] = a + t[i];
      carry = c1 + (v[i] < a ? 1u : 0u);
    }
  }
  static void negate(std::uint64_t* t) {
    std::uint64_t carry = 1;
    for (int i = 0; i < limbs; ++i) {
      t[i] = ~t[i] + carry;
      carry = (carry != 0 && t[i] == 0) ? 1u : 0u;
    }
  }
  bool negative() const { return (v[limbs - 1] >> 63) != 0; }
  bool zero() const {
    for (std::uint64_t x : v)
      if (x != 0) return false;
    return true;
  }
  // The sign of a - b.
  friend int compare(const exact_sum& a, const exact_sum& b) {
    exact_sum d = a, nb = b;
    negate(nb.v);
    d.add_limbs(nb.v);
    return d.negative() ? -1 : d.zero() ? 0 : 1;
  }
  // Rounded to the nearest double, ties to even.
  double rounded() const {
    exact_sum a = *this;
    const bool neg = negative();
    if (neg) negate(a.v);
    const auto bit = [&](int i) { return static_cast<int>((a.v[i / 64] >> (i % 64)) & 1u); };
    int top = limbs * 64 - 1;
    while (top >= 0 && bit(top) == 0) --top;
    if (top < 0) return 0.0;
    std::uint64_t mant = 0;
    const int low = top >= 52 ? top - 52 : 0;
    for (int i = top; i >= low; --i) mant = mant * 2 + static_cast<std::uint64_t>(bit(i));
    if (low > 0) {
      const int half = bit(low - 1);
      int sticky = 0;
      for (int i = low - 2; i >= 0 && !sticky; --i) sticky = bit(i);
      if (half && (sticky || (mant & 1u))) ++mant;  // 2^53 is still exact in a double
    }
    const double r = std::ldexp(static_cast<double>(mant), low - 1074);
    return neg ? -r : r;
  }
};

struct reference {
  bool feasible = false;
  std::vector<std::size_t> choice;
  exact_sum sensitivity;
  std::int64_t size = 0, bops = 0, latency = 0;
};

// Every assignment, in lexicographic order (layer 0 most significant); the
// first of least exact total wins, so ties go to the lexicographically
// smallest, as the rule says.
reference brute_force(const layers_t& layers, const fp8::mixed_precision_budget& b) {
  reference best;
  const std::size_t n = layers.size();
  std::vector<std::size_t> x(n, 0);
  for (std::size_t i = 0; i < n; ++i)
    if (layers[i].pinned) x[i] = *layers[i].pinned;
  for (;;) {
    exact_sum s;
    std::int64_t size = 0, bops = 0, lat = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& c = layers[i].choices[x[i]];
      s.add(c.sensitivity);
      lat += c.latency;
      size += c.size_bytes;
      bops += c.bops;
    }
    const bool ok = (!b.size_bytes || size <= *b.size_bytes) && (!b.bops || bops <= *b.bops) &&
                    (!b.latency || lat <= *b.latency);
    if (ok && (!best.feasible || compare(s, best.sensitivity) < 0)) {
      best.feasible = true;
      best.choice = x;
      best.sensitivity = s;
      best.latency = lat;
      best.size = size;
      best.bops = bops;
    }
    // Odometer, skipping pinned layers.
    std::size_t i = n;
    for (;;) {
      if (i == 0) return best;
      --i;
      if (layers[i].pinned) continue;
      if (++x[i] < layers[i].choices.size()) break;
      x[i] = 0;
    }
  }
}

// The argument a solver must name when no assignment is feasible: the first
// budget that alone cannot be met, else "budget".
std::string infeasible_argument(const layers_t& layers, const fp8::mixed_precision_budget& b) {
  fp8::mixed_precision_budget one;
  one.size_bytes = b.size_bytes;
  if (b.size_bytes && !brute_force(layers, one).feasible) return "budget.size_bytes";
  one = {};
  one.bops = b.bops;
  if (b.bops && !brute_force(layers, one).feasible) return "budget.bops";
  one = {};
  one.latency = b.latency;
  if (b.latency && !brute_force(layers, one).feasible) return "budget.latency";
  return "budget";
}

// The solver's answer checked against the reference: the same feasibility
// verdict, the same (tie-rule) assignment, the optimal total correctly
// rounded, and totals that are the assignment's.
void check_against_reference(const layers_t& layers, const fp8::mixed_precision_budget& b) {
  const reference want = brute_force(layers, b);
  if (!want.feasible) {
    const std::string arg = infeasible_argument(layers, b);
    try {
      (void)fp8::solve_mixed_precision(layers, b);
      FAIL("no exception for an infeasible instance");
    } catch (const fp8::invalid_argument& e) {
      CHECK(std::string(e.argument()) == arg);
    }
    return;
  }
  const fp8::mixed_precision_result got = fp8::solve_mixed_precision(layers, b);
  REQUIRE(got.choice.size() == layers.size());
  CHECK(got.choice == want.choice);
  CHECK(got.sensitivity == want.sensitivity.rounded());
  exact_sum s;
  std::int64_t size = 0, bops = 0, lat = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    REQUIRE(got.choice[i] < layers[i].choices.size());
    if (layers[i].pinned) CHECK(got.choice[i] == *layers[i].pinned);
    const auto& c = layers[i].choices[got.choice[i]];
    s.add(c.sensitivity);
    lat += c.latency;
    size += c.size_bytes;
    bops += c.bops;
  }
  CHECK(compare(s, want.sensitivity) == 0);  // optimal, even if the vector differed
  CHECK(got.latency == lat);
  CHECK(got.size_bytes == size);
  CHECK(got.bops == bops);
  CHECK((!b.size_bytes || size <= *b.size_bytes));
  CHECK((!b.bops || bops <= *b.bops));
  CHECK((!b.latency || lat <= *b.latency));
}

// ------------------------------------------------------------ random instances
// Values whose sums a double gets wrong: absorbed units next to 2^53,
// decimal fractions, cancellations, subnormals.
const double awkward[] = {0.1, 0.2, 0.3, 0.7, 0.75, 1.0, 3.0, 0x1p53, -0x1p53, -0x1p53 + 2.0, 1e16, -1e16,
                          1e-300, -1e-300, 0x1p-1074, -0x1p-1074};

// Small instances built to hit the corners: sensitivities continuous,
// small integers (many exact ties), zero, awkward for rounded sums, or of
// extreme magnitude; quantities in a small range (many equal totals) or a
// wide one; some choices duplicated or zero; some layers pinned.
layers_t random_layers(rng& r, std::size_t n, std::size_t max_choices) {
  layers_t layers(n);
  const int style = static_cast<int>(r.integer(0, 5));
  // Quantities in a small range (many equal totals), a moderate one, or
  // near 2^59, where eight layers' totals approach int64's limit and a
  // double no longer holds them exactly.
  const std::int64_t ranges[3] = {5, 1000, std::int64_t{1} << 59};
  const std::int64_t range = ranges[r.integer(0, 9) < 3 ? 0 : r.integer(0, 9) < 8 ? 1 : 2];
  const std::int64_t wide = range < 1000000 ? 100 : 1;
  for (auto& layer : layers) {
    const auto count = static_cast<std::size_t>(r.integer(1, static_cast<std::int64_t>(max_choices)));
    for (std::size_t c = 0; c < count; ++c) {
      fp8::mixed_precision_choice x;
      if (c > 0 && r.chance(0.15)) {
        x = layer.choices[static_cast<std::size_t>(r.integer(0, static_cast<std::int64_t>(c) - 1))];  // duplicate
      } else {
        switch (style) {
          case 0: x.sensitivity = r.uniform(-0.5, 2.0); break;
          case 1: x.sensitivity = static_cast<double>(r.integer(0, 3)); break;
          case 2: x.sensitivity = r.chance(0.5) ? 0.0 : 0.1 * static_cast<double>(r.integer(1, 4)); break;
          case 3: x.sensitivity = r.uniform(0.0, 1.0) * std::ldexp(1.0, static_cast<int>(r.integer(-30, 30))); break;
          case 4: x.sensitivity = awkward[static_cast<std::size_t>(r.integer(0, static_cast<std::int64_t>(std::size(awkward)) - 1))]; break;
          default: x.sensitivity = r.uniform(-1.0, 1.0) * std::ldexp(1.0, static_cast<int>(r.integer(-1070, 990)));
        }
        x.size_bytes = r.chance(0.1) ? 0 : r.integer(0, range);
        x.bops = r.chance(0.1) ? 0 : r.integer(0, wide * range);
        x.latency = r.chance(0.1) ? 0 : r.integer(0, range);
      }
      layer.choices.push_back(x);
    }
    if (r.chance(0.15)) layer.pinned = static_cast<std::size_t>(r.integer(0, static_cast<std::int64_t>(count) - 1));
  }
  return layers;
}

// A budget somewhere from below the least total (infeasible) to above the
// largest, for each dimension chosen by `mask` (bit 0 size, 1 BOPs, 2
// latency). Sometimes exactly a total reached by some assignment, so that
// "<=" is tested at equality.
fp8::mixed_precision_budget random_budget(rng& r, const layers_t& layers, unsigned mask) {
  double lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};
  std::int64_t any[3] = {0, 0, 0};
  for (const auto& layer : layers) {
    double l[3] = {1e300, 1e300, 1e300}, h[3] = {0, 0, 0};
    const auto& pick = layer.choices[static_cast<std::size_t>(r.integer(0, static_cast<std::int64_t>(layer.choices.size()) - 1))];
    any[0] += pick.size_bytes;
    any[1] += pick.bops;
    any[2] += pick.latency;
    for (const auto& c : layer.choices) {
      const double v[3] = {static_cast<double>(c.size_bytes), static_cast<double>(c.bops), static_cast<double>(c.latency)};
      for (int d = 0; d < 3; ++d) {
        l[d] = std::min(l[d], v[d]);
        h[d] = std::max(h[d], v[d]);
      }
    }
    for (int d = 0; d < 3; ++d) {
      lo[d] += layer.choices.empty() ? 0 : l[d];
      hi[d] += h[d];
    }
  }
  std::int64_t v[3];
  for (int d = 0; d < 3; ++d) {
    const double u = r.uniform(-0.15, 1.1);
    v[d] = r.chance(0.15) ? any[d] : static_cast<std::int64_t>(std::max(0.0, lo[d] + u * (hi[d] - lo[d])));
  }
  fp8::mixed_precision_budget b;
  if (mask & 1u) b.size_bytes = v[0];
  if (mask & 2u) b.bops = v[1];
  if (mask & 4u) b.latency = v[2];
  return b;
}

}  // namespace

TEST_CASE("mixed precision: equals brute force on random small instances", "[ptq][mixed_precision]") {
  rng r(2021);
  int solved = 0, infeasible = 0;
  for (int t = 0; t < 1500; ++t) {
    const auto n = static_cast<std::size_t>(r.integer(0, 8));
    const layers_t layers = random_layers(r, n, 4);
    const unsigned mask = static_cast<unsigned>(t % 8);
    const fp8::mixed_precision_budget b = random_budget(r, layers, mask);
    INFO("instance " << t << ", layers " << n << ", budget mask " << mask);
    check_against_reference(layers, b);
    (brute_force(layers, b).feasible ? solved : infeasible) += 1;
  }
  // The generator reaches both outcomes often.
  CHECK(solved > 900);
  CHECK(infeasible > 100);
}

namespace {

fp8::mixed_precision_choice choice(double s, std::int64_t size, std::int64_t bops = 0, std::int64_t latency = 0) {
  fp8::mixed_precision_choice c;
  c.sensitivity = s;
  c.size_bytes = size;
  c.bops = bops;
  c.latency = latency;
  return c;
}

fp8::mixed_precision_layer layer_of(std::vector<fp8::mixed_precision_choice> choices,
                                    std::optional<std::size_t> pinned = std::nullopt) {
  fp8::mixed_precision_layer l;
  l.choices = std::move(choices);
  l.pinned = pinned;
  return l;
}

// An exact dynamic program over the budgets (at most three, with small
// totals) for integer sensitivities, where double sums are exact. Tables
// from the last layer back: best[i][state] = the least total of layers
// i..L-1 within the remaining budget `state`; the forward pass takes, at
// each layer, the smallest index that attains the optimum, which gives
// the lexicographically smallest optimal vector.
struct dp_answer {
  bool feasible = false;
  double total = 0.0;
  std::vector<std::size_t> choice;
};
dp_answer dynamic_program(const layers_t& layers, const fp8::mixed_precision_budget& b) {
  const std::int64_t cap[3] = {b.size_bytes.value_or(0), b.bops.value_or(0), b.latency.value_or(0)};
  const bool on[3] = {b.size_bytes.has_value(), b.bops.has_value(), b.latency.has_value()};
  const std::size_t extent[3] = {on[0] ? static_cast<std::size_t>(cap[0]) + 1 : 1,
                                 on[1] ? static_cast<std::size_t>(cap[1]) + 1 : 1,
                                 on[2] ? static_cast<std::size_t>(cap[2]) + 1 : 1};
  const std::size_t cells = extent[0] * extent[1] * extent[2];
  const std::size_t n = layers.size();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> best((n + 1) * cells, inf);
  const auto at = [&](std::size_t i, const std::int64_t* room) {
    std::size_t k = 0;
    for (int d = 0; d < 3; ++d) k = k * extent[d] + (on[d] ? static_cast<std::size_t>(room[d]) : 0);
    return (i * cells) + k;
  };
  for (std::size_t k = 0; k < cells; ++k) best[n * cells + k] = 0.0;
  const auto weights = [](const fp8::mixed_precision_choice& c, std::int64_t* w) {
    w[0] = c.size_bytes;
    w[1] = c.bops;
    w[2] = c.latency;
  };
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t k = 0; k < cells; ++k) {
      std::int64_t room[3] = {static_cast<std::int64_t>(k / (extent[1] * extent[2])),
                              static_cast<std::int64_t>((k / extent[2]) % extent[1]),
                              static_cast<std::int64_t>(k % extent[2])};
      double v = inf;
      for (std::size_t c = 0; c < layers[i].choices.size(); ++c) {
        if (layers[i].pinned && *layers[i].pinned != c) continue;
        std::int64_t w[3], left[3];
        weights(layers[i].choices[c], w);
        bool fits = true;
        for (int d = 0; d < 3; ++d) {
          left[d] = on[d] ? room[d] - w[d] : 0;
          fits = fits && left[d] >= 0;
        }
        if (fits) v = std::min(v, layers[i].choices[c].sensitivity + best[at(i + 1, left)]);
      }
      best[i * cells + k] = v;
    }
  }
  dp_answer a;
  std::int64_t room[3] = {cap[0], cap[1], cap[2]};
  if (best[at(0, room)] == inf) return a;
  a.feasible = true;
  a.total = best[at(0, room)];
  for (std::size_t i = 0; i < n; ++i) {
    const double target = best[at(i, room)];
    for (std::size_t c = 0; c < layers[i].choices.size(); ++c) {
      if (layers[i].pinned && *layers[i].pinned != c) continue;
      std::int64_t w[3], left[3];
      weights(layers[i].choices[c], w);
      bool fits = true;
      for (int d = 0; d < 3; ++d) {
        left[d] = on[d] ? room[d] - w[d] : 0;
        fits = fits && left[d] >= 0;
      }
      if (fits && layers[i].choices[c].sensitivity + best[at(i + 1, left)] == target) {
        a.choice.push_back(c);
        for (int d = 0; d < 3; ++d) room[d] = left[d];
        break;
      }
    }
  }
  return a;
}

void check_against_dp(const layers_t& layers, const fp8::mixed_precision_budget& b) {
  const dp_answer want = dynamic_program(layers, b);
  REQUIRE(want.feasible);
  const fp8::mixed_precision_result got = fp8::solve_mixed_precision(layers, b);
  CHECK(got.sensitivity == want.total);
  CHECK(got.choice == want.choice);
  CHECK((!b.size_bytes || got.size_bytes <= *b.size_bytes));
  CHECK((!b.bops || got.bops <= *b.bops));
  CHECK((!b.latency || got.latency <= *b.latency));
}

// Integer data: sensitivities up to `smax` (ties when small), quantities
// up to `wmax`; a budget per dimension in `mask`, between the least and the
// greatest total.
layers_t integer_layers(rng& r, std::size_t n, std::int64_t smax, std::int64_t wmax) {
  layers_t layers(n);
  for (auto& layer : layers) {
    const auto count = static_cast<std::size_t>(r.integer(1, 4));
    for (std::size_t c = 0; c < count; ++c)
      layer.choices.push_back(choice(static_cast<double>(r.integer(0, smax)), r.integer(0, wmax), r.integer(0, wmax),
                                     r.integer(0, wmax)));
    if (r.chance(0.05)) layer.pinned = static_cast<std::size_t>(r.integer(0, static_cast<std::int64_t>(count) - 1));
  }
  return layers;
}

fp8::mixed_precision_budget feasible_budget(rng& r, const layers_t& layers, unsigned mask) {
  fp8::mixed_precision_budget b;
  std::int64_t lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};
  for (const auto& layer : layers) {
    std::int64_t l[3] = {INT64_MAX, INT64_MAX, INT64_MAX}, h[3] = {0, 0, 0};
    for (std::size_t c = 0; c < layer.choices.size(); ++c) {
      if (layer.pinned && *layer.pinned != c) continue;
      const std::int64_t w[3] = {layer.choices[c].size_bytes, layer.choices[c].bops, layer.choices[c].latency};
      for (int d = 0; d < 3; ++d) {
        l[d] = std::min(l[d], w[d]);
        h[d] = std::max(h[d], w[d]);
      }
    }
    for (int d = 0; d < 3; ++d) {
      lo[d] += l[d];
      hi[d] += h[d];
    }
  }
  // Jointly feasible: the budgets are the totals of one assignment that
  // leans toward the least of each, so several budgets bind at once.
  std::int64_t v[3] = {0, 0, 0};
  for (const auto& layer : layers) {
    std::size_t pick = layer.pinned ? *layer.pinned
                                    : static_cast<std::size_t>(r.integer(0, static_cast<std::int64_t>(layer.choices.size()) - 1));
    v[0] += layer.choices[pick].size_bytes;
    v[1] += layer.choices[pick].bops;
    v[2] += layer.choices[pick].latency;
  }
  for (int d = 0; d < 3; ++d) v[d] = std::max(v[d], lo[d] + (hi[d] - lo[d]) / 4);
  if (mask & 1u) b.size_bytes = v[0];
  if (mask & 2u) b.bops = v[1];
  if (mask & 4u) b.latency = v[2];
  return b;
}

std::string what_of(const layers_t& layers, const fp8::mixed_precision_budget& b, std::string& argument) {
  try {
    (void)fp8::solve_mixed_precision(layers, b);
  } catch (const fp8::invalid_argument& e) {
    argument = e.argument();
    return e.what();
  }
  argument.clear();
  return "no exception";
}

}  // namespace

TEST_CASE("mixed precision: equals an exact dynamic program on larger instances", "[ptq][mixed_precision]") {
  rng r(77);
  // One budget: 40 layers, quantities up to 60.
  for (int t = 0; t < 30; ++t) {
    const layers_t layers = integer_layers(r, 40, t % 3 == 0 ? 3 : 100000, 60);
    const unsigned mask = 1u << (t % 3);
    INFO("one budget, instance " << t);
    check_against_dp(layers, feasible_budget(r, layers, mask));
  }
  // Two budgets: 20 layers, quantities up to 15.
  for (int t = 0; t < 20; ++t) {
    const layers_t layers = integer_layers(r, 20, t % 4 == 0 ? 2 : 100000, 15);
    const unsigned masks[3] = {3u, 5u, 6u};
    INFO("two budgets, instance " << t);
    check_against_dp(layers, feasible_budget(r, layers, masks[t % 3]));
  }
  // Three budgets: 12 layers, quantities up to 5.
  for (int t = 0; t < 20; ++t) {
    const layers_t layers = integer_layers(r, 12, t % 4 == 0 ? 1 : 100000, 5);
    INFO("three budgets, instance " << t);
    check_against_dp(layers, feasible_budget(r, layers, 7u));
  }
}

TEST_CASE("mixed precision: ResNet-50 and BERT-base scale against the dynamic program", "[ptq][mixed_precision]") {
  // The realistic instances with sensitivities rounded to integers (so the
  // program's double sums are exact) and quantities in coarse units (so its
  // tables stay small): ResNet-50 in 256 KiB, 10 GBOPs and 20 us, BERT-base
  // in 1 MiB, 20 GBOPs and 100 us.
  for (int model = 0; model < 2; ++model) {
    layers_t layers = realistic(model == 0 ? resnet50_shapes() : bert_base_shapes(), 5, model == 1);
    const std::int64_t size_unit = model == 0 ? 1 << 18 : 1 << 20, bops_unit = model == 0 ? 10000000000 : 20000000000,
                       latency_unit = model == 0 ? 20000 : 100000;
    for (auto& layer : layers)
      for (auto& c : layer.choices) {
        c.sensitivity = std::round(c.sensitivity * 1e6);
        c.size_bytes = (c.size_bytes + size_unit / 2) / size_unit;
        c.bops = (c.bops + bops_unit / 2) / bops_unit;
        c.latency = (c.latency + latency_unit / 2) / latency_unit;
      }
    const extent e = extent_of(layers);
    for (unsigned mask : {1u, 2u, 4u, 3u, 5u}) {
      for (double f : {0.1, 0.3, 0.6}) {
        INFO("model " << model << ", budgets " << mask << ", at " << f);
        check_against_dp(layers, budget_at(e, mask, f));
      }
    }
  }
}

TEST_CASE("mixed precision: the objective is the exact sum, not a rounded one", "[ptq][mixed_precision]") {
  // 2^53 + 1 and 2^53 + 0.75 both round to 2^53 in double, so summed in
  // layer order both assignments total 0 and the tie rule would pick
  // choice 0; exactly, choice 1 totals 0.75 < 1.
  const layers_t layers = {layer_of({choice(0x1p53, 0)}), layer_of({choice(1.0, 0), choice(0.75, 0)}),
                           layer_of({choice(-0x1p53, 0)})};
  const fp8::mixed_precision_result got = fp8::solve_mixed_precision(layers);
  CHECK(got.choice == std::vector<std::size_t>{0, 1, 0});
  CHECK(got.sensitivity == 0.75);
  // The reported total is the exact one rounded once: 0.1 + 0.2 + 0.3
  // exactly is 0.6000000000000000055..., nearest double 0.6, where the
  // sum in double gives 0.6000000000000001.
  const layers_t decimal = {layer_of({choice(0.1, 0)}), layer_of({choice(0.2, 0)}), layer_of({choice(0.3, 0)})};
  CHECK(fp8::solve_mixed_precision(decimal).sensitivity == 0.6);
  CHECK(0.1 + 0.2 + 0.3 != 0.6);
}

TEST_CASE("mixed precision: ties go to the lexicographically smallest choice vector", "[ptq][mixed_precision]") {
  // Two layers, each with two choices of equal sensitivity; a size budget
  // of 1 admits (0, 1) and (1, 0), equal in total: (0, 1) wins.
  const layers_t layers = {layer_of({choice(1.0, 1), choice(1.0, 0)}), layer_of({choice(2.0, 1), choice(2.0, 0)})};
  fp8::mixed_precision_budget b;
  b.size_bytes = 1;
  CHECK(fp8::solve_mixed_precision(layers, b).choice == std::vector<std::size_t>{0, 1});
  // No budget: the earliest choice of every layer.
  CHECK(fp8::solve_mixed_precision(layers).choice == std::vector<std::size_t>{0, 0});
  // A tie that only exact sums see: after 2^53, (0 then 2) and (1 then 1)
  // both add 2 exactly, but in double 2^53 + 1 rounds back to 2^53 (ties to
  // even), so the second would look better. The tie goes to (0, 1).
  const layers_t exact_tie = {layer_of({choice(0x1p53, 0)}), layer_of({choice(0.0, 1), choice(1.0, 0)}),
                              layer_of({choice(1.0, 1), choice(2.0, 0)})};
  const fp8::mixed_precision_result got = fp8::solve_mixed_precision(exact_tie, b);
  CHECK(got.choice == std::vector<std::size_t>{0, 0, 1});
  CHECK(got.sensitivity == 0x1p53 + 2.0);
}

TEST_CASE("mixed precision: many exact ties on a large instance", "[ptq][mixed_precision]") {
  // 60 layers, every sensitivity 0: every feasible assignment ties, and the
  // answer is the lexicographically smallest feasible one, which a greedy
  // pass finds: at each layer the first choice whose least completion fits.
  rng r(5);
  for (int t = 0; t < 5; ++t) {
    layers_t layers = integer_layers(r, 60, 0, 1000);
    const fp8::mixed_precision_budget b = feasible_budget(r, layers, 1u);
    std::vector<std::int64_t> least(layers.size() + 1, 0);
    for (std::size_t i = layers.size(); i-- > 0;) {
      std::int64_t m = INT64_MAX;
      for (std::size_t c = 0; c < layers[i].choices.size(); ++c)
        if (!layers[i].pinned || *layers[i].pinned == c) m = std::min(m, layers[i].choices[c].size_bytes);
      least[i] = least[i + 1] + m;
    }
    std::vector<std::size_t> want;
    std::int64_t used = 0;
    for (std::size_t i = 0; i < layers.size(); ++i)
      for (std::size_t c = 0; c < layers[i].choices.size(); ++c) {
        if (layers[i].pinned && *layers[i].pinned != c) continue;
        if (used + layers[i].choices[c].size_bytes + least[i + 1] <= *b.size_bytes) {
          want.push_back(c);
          used += layers[i].choices[c].size_bytes;
          break;
        }
      }
    const fp8::mixed_precision_result got = fp8::solve_mixed_precision(layers, b);
    CHECK(got.choice == want);
    CHECK(got.sensitivity == 0.0);
  }
}

TEST_CASE("mixed precision: pins, no layers, no budgets", "[ptq][mixed_precision]") {
  // Every layer pinned: the pins, whatever their sensitivity.
  const layers_t pinned = {layer_of({choice(5.0, 10), choice(0.0, 1)}, 0), layer_of({choice(1.0, 3), choice(2.0, 1)}, 1)};
  fp8::mixed_precision_budget b;
  b.size_bytes = 11;
  const fp8::mixed_precision_result got = fp8::solve_mixed_precision(pinned, b);
  CHECK(got.choice == std::vector<std::size_t>{0, 1});
  CHECK(got.sensitivity == 7.0);
  CHECK(got.size_bytes == 11);
  b.size_bytes = 10;  // the pins alone exceed it
  std::string argument;
  const std::string what = what_of(pinned, b, argument);
  CHECK(argument == "budget.size_bytes");
  CHECK(what.find("11") != std::string::npos);
  // No layers: an empty assignment of total 0, within any budget.
  fp8::mixed_precision_budget zero;
  zero.size_bytes = 0;
  zero.bops = 0;
  zero.latency = 0;
  const fp8::mixed_precision_result none = fp8::solve_mixed_precision({}, zero);
  CHECK(none.choice.empty());
  CHECK(none.sensitivity == 0.0);
  CHECK(none.size_bytes == 0);
  // A negative sensitivity is allowed and can be the best.
  const layers_t negative = {layer_of({choice(0.0, 0), choice(-2.5, 7)})};
  CHECK(fp8::solve_mixed_precision(negative).choice == std::vector<std::size_t>{1});
}

TEST_CASE("mixed precision: every bad argument is named", "[ptq][mixed_precision]") {
  const layers_t good = {layer_of({choice(1.0, 4, 40, 400), choice(2.0, 2, 20, 200)}),
                         layer_of({choice(0.5, 8, 80, 800), choice(3.0, 1, 10, 100)})};
  const fp8::mixed_precision_budget none;
  struct bad_case {
    const char* name;
    layers_t layers;
    fp8::mixed_precision_budget budget;
    const char* argument;
    const char* text;
  };
  std::vector<bad_case> cases;
  const auto edit = [&](const char* name, const char* argument, const char* text, auto change) {
    bad_case c{name, good, none, argument, text};
    change(c.layers, c.budget);
    cases.push_back(c);
  };
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  edit("empty choices", "layers", "[1].choices is empty", [](layers_t& l, auto&) { l[1].choices.clear(); });
  edit("NaN sensitivity", "layers", "[1].choices[0].sensitivity = nan",
       [&](layers_t& l, auto&) { l[1].choices[0].sensitivity = nan; });
  edit("infinite sensitivity", "layers", "[0].choices[1].sensitivity = -inf",
       [&](layers_t& l, auto&) { l[0].choices[1].sensitivity = -inf; });
  edit("negative size", "layers", "[1].choices[1].size_bytes = -1 is negative",
       [](layers_t& l, auto&) { l[1].choices[1].size_bytes = -1; });
  edit("negative bops", "layers", "[0].choices[0].bops = -5 is negative", [](layers_t& l, auto&) { l[0].choices[0].bops = -5; });
  edit("negative latency", "layers", "[1].choices[0].latency = -7 is negative",
       [](layers_t& l, auto&) { l[1].choices[0].latency = -7; });
  edit("pin out of range", "layers", "[1].pinned = 2 is out of range", [](layers_t& l, auto&) { l[1].pinned = 2; });
  edit("sizes past 2^63", "layers", "[1].choices: the sum over layers 0..1 of each layer's largest size_bytes",
       [](layers_t& l, auto&) {
         l[0].choices[0].size_bytes = INT64_MAX / 2 + 1;
         l[1].choices[0].size_bytes = INT64_MAX / 2 + 1;
       });
  edit("sensitivities past 2^1000", "layers", "|sensitivity| exceeds 2^1000", [](layers_t& l, auto&) {
    l[0].choices[0].sensitivity = 0x1p999;
    l[1].choices[1].sensitivity = -0x1p999 - 0x1p960;
  });
  edit("negative size budget", "budget.size_bytes", "= -1 is negative",
       [](auto&, fp8::mixed_precision_budget& b) { b.size_bytes = -1; });
  edit("negative bops budget", "budget.bops", "= -3 is negative", [](auto&, fp8::mixed_precision_budget& b) { b.bops = -3; });
  edit("negative latency budget", "budget.latency", "= -2 is negative",
       [](auto&, fp8::mixed_precision_budget& b) { b.latency = -2; });
  edit("size budget below the least", "budget.size_bytes", "= 2 cannot be met: it is below 3",
       [](auto&, fp8::mixed_precision_budget& b) { b.size_bytes = 2; });
  edit("bops budget below the least", "budget.bops", "= 29 cannot be met: it is below 30",
       [](auto&, fp8::mixed_precision_budget& b) { b.bops = 29; });
  edit("latency budget below the least", "budget.latency", "= 0 cannot be met: it is below 300",
       [](auto&, fp8::mixed_precision_budget& b) { b.latency = 0; });
  // Each budget alone reachable ((1, 1) has size 3; (0, 0) has latency
  // 1200), together not: size <= 5 forces a 1 somewhere... (1, 1) has
  // latency 300 but size 3: so make size <= 3 and latency <= 250.
  edit("budgets jointly infeasible", "budget", "no assignment meets them together",
       [](layers_t& l, fp8::mixed_precision_budget& b) {
         l[0].choices[1].latency = 600;  // now every assignment with size <= 3 has latency >= 700
         b.size_bytes = 3;
         b.latency = 650;
       });
  // Argument checks come before any budget check.
  edit("bad input and infeasible budget", "layers", "[0].choices[0].sensitivity = nan",
       [&](layers_t& l, fp8::mixed_precision_budget& b) {
         l[0].choices[0].sensitivity = nan;
         b.size_bytes = 0;
       });
  for (const bad_case& c : cases) {
    INFO(c.name);
    std::string argument;
    const std::string what = what_of(c.layers, c.budget, argument);
    CHECK(argument == c.argument);
    CHECK(what.find(c.text) != std::string::npos);
    CHECK(what.find("fp8::solve_mixed_precision") == 0);
  }
  // The unedited problem solves.
  CHECK(fp8::solve_mixed_precision(good).choice == std::vector<std::size_t>{0, 0});
}
