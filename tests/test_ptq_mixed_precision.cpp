// SPDX-License-Identifier: Apache-2.0
// fp8::solve_mixed_precision (ptq/mixed_precision.hpp) against references
// written apart from it: brute-force enumeration of every assignment on
// hundreds of small random instances (every budget combination, pins, ties,
// duplicates, zero sizes, infeasible budgets), one- and two-dimensional
// dynamic programs on larger instances with integer data, the tie rule, and
// an error for every kind of bad argument. A hidden case ([.][timing]) times
// ResNet-50- and BERT-base-like instances for docs/ptq_mixed_precision.md.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <fp8/ptq/mixed_precision.hpp>

#include "formats.hpp"

namespace {

using layers_t = std::vector<fp8::mixed_precision_layer>;

// A small deterministic generator, so the instances are the same with every
// standard library (std:: distributions are implementation-defined).
struct rng {
  std::uint64_t s;
  explicit rng(std::uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1p-53; }           // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  std::int64_t integer(std::int64_t lo, std::int64_t hi) {                               // [lo, hi]
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(double p) { return uniform() < p; }
};

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
// Small instances built to hit the corners: sensitivities continuous,
// small integers (many exact ties), or zero; some choices duplicated or of
// size zero; some layers pinned.
layers_t random_layers(rng& r, std::size_t n, std::size_t max_choices) {
  layers_t layers(n);
  const int style = static_cast<int>(r.integer(0, 3));
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
          default: x.sensitivity = r.uniform(0.0, 1.0) * std::ldexp(1.0, static_cast<int>(r.integer(-30, 30)));
        }
        x.size_bytes = r.chance(0.1) ? 0 : r.integer(0, 1000);
        x.bops = r.chance(0.1) ? 0 : r.integer(0, 100000);
        x.latency = r.chance(0.1) ? 0 : r.integer(0, style == 1 ? 20 : 3000);
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
  double lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0}, any[3] = {0, 0, 0};
  for (const auto& layer : layers) {
    double l[3] = {1e300, 1e300, 1e300}, h[3] = {0, 0, 0};
    const auto& pick = layer.choices[static_cast<std::size_t>(r.integer(0, static_cast<std::int64_t>(layer.choices.size()) - 1))];
    any[0] += static_cast<double>(pick.size_bytes);
    any[1] += static_cast<double>(pick.bops);
    any[2] += static_cast<double>(pick.latency);
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
  double v[3];
  for (int d = 0; d < 3; ++d) {
    const double u = r.uniform(-0.15, 1.1);
    v[d] = r.chance(0.15) ? any[d] : std::max(0.0, lo[d] + u * (hi[d] - lo[d]));
  }
  fp8::mixed_precision_budget b;
  if (mask & 1u) b.size_bytes = static_cast<std::int64_t>(v[0]);
  if (mask & 2u) b.bops = static_cast<std::int64_t>(v[1]);
  if (mask & 4u) b.latency = static_cast<std::int64_t>(v[2]);
  return b;
}

// ------------------------------------------------------------ realistic instances
struct conv_shape {
  std::int64_t in_c, out_c, k, out_hw;
};

// ResNet-50 (torchvision, v1.5: stride in the 3x3), 224x224 input: conv1,
// 16 bottlenecks of three convolutions, four downsample projections, fc.
std::vector<conv_shape> resnet50_shapes() {
  std::vector<conv_shape> v{{3, 64, 7, 112}};
  const std::int64_t blocks[4] = {3, 4, 6, 3}, width[4] = {64, 128, 256, 512}, hw_in[4] = {56, 56, 28, 14},
                     hw_out[4] = {56, 28, 14, 7};
  std::int64_t in = 64;
  for (int s = 0; s < 4; ++s) {
    const std::int64_t out = 4 * width[s];
    for (std::int64_t b = 0; b < blocks[s]; ++b) {
      v.push_back({in, width[s], 1, b == 0 ? hw_in[s] : hw_out[s]});
      v.push_back({width[s], width[s], 3, hw_out[s]});
      v.push_back({width[s], out, 1, hw_out[s]});
      if (b == 0) v.push_back({in, out, 1, hw_out[s]});
      in = out;
    }
  }
  v.push_back({2048, 1000, 1, 1});
  return v;
}

// BERT-base, sequence 128: 12 x (Q, K, V, output, FFN up, FFN down),
// pooler and a 2-class classifier, as (in, out, 1, 128) "convolutions".
std::vector<conv_shape> bert_base_shapes() {
  std::vector<conv_shape> v;
  for (int l = 0; l < 12; ++l) {
    for (int q = 0; q < 4; ++q) v.push_back({768, 768, 1, 0});
    v.push_back({768, 3072, 1, 0});
    v.push_back({3072, 768, 1, 0});
  }
  v.push_back({768, 768, 1, 0});
  v.push_back({768, 2, 1, 0});
  return v;
}

// Choices in the order FP16 (kept), FP8 E4M3, INT8, INT4 (W4A4): weight
// bytes 2 / 1 / 1 / 0.5 per parameter, BOPs = MACs x 256 / 64 / 64 / 16,
// random sensitivities (a per-layer log-normal scale; INT4 costs far more)
// and a latency model where FP16 is half speed and INT4 gains between 0x
// and 2x over INT8 (HAWQ-V3 §3.4: some layers gain nothing).
layers_t realistic(const std::vector<conv_shape>& shapes, std::uint64_t seed, bool sequence) {
  rng r(seed);
  layers_t layers;
  for (const conv_shape& sh : shapes) {
    const std::int64_t params = sh.in_c * sh.out_c * sh.k * sh.k;
    const std::int64_t macs = sequence ? params * 128 : params * sh.out_hw * sh.out_hw;
    // Log-normal-ish scale from the sum of uniforms (Irwin-Hall).
    double z = -6.0;
    for (int t = 0; t < 12; ++t) z += r.uniform();
    const double scale = std::exp(z);
    const double int8_speed = r.uniform(0.9, 1.1), int4_speed = r.uniform(1.0, 2.0);
    // Nanoseconds: a 3 us launch plus 1 ns per thousand MACs at INT8.
    const double ns = static_cast<double>(macs) * 1e-3;
    const auto latency = [](double t) { return static_cast<std::int64_t>(std::llround(3000.0 + t)); };
    fp8::mixed_precision_layer layer;
    layer.choices.push_back({scale * r.uniform(0.0, 0.002), 2 * params, macs * 256, latency(ns * 2.0)});
    layer.choices.push_back({scale * r.uniform(0.01, 0.05), params, macs * 64, latency(ns)});
    layer.choices.push_back({scale * r.uniform(0.01, 0.05), params, macs * 64, latency(ns / int8_speed)});
    layer.choices.push_back({scale * r.uniform(0.3, 1.5), params / 2, macs * 16, latency(ns / int4_speed)});
    layers.push_back(layer);
  }
  return layers;
}

// Totals at every layer's least and greatest value of each dimension.
struct extent {
  double lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};
};
extent extent_of(const layers_t& layers) {
  extent e;
  for (const auto& layer : layers) {
    double l[3] = {1e300, 1e300, 1e300}, h[3] = {0, 0, 0};
    for (const auto& c : layer.choices) {
      const double v[3] = {static_cast<double>(c.size_bytes), static_cast<double>(c.bops), static_cast<double>(c.latency)};
      for (int d = 0; d < 3; ++d) {
        l[d] = std::min(l[d], v[d]);
        h[d] = std::max(h[d], v[d]);
      }
    }
    for (int d = 0; d < 3; ++d) {
      e.lo[d] += l[d];
      e.hi[d] += h[d];
    }
  }
  return e;
}

// Budgets at fraction f of the way from the least to the greatest total.
fp8::mixed_precision_budget budget_at(const extent& e, unsigned mask, double f) {
  fp8::mixed_precision_budget b;
  if (mask & 1u) b.size_bytes = static_cast<std::int64_t>(e.lo[0] + f * (e.hi[0] - e.lo[0]));
  if (mask & 2u) b.bops = static_cast<std::int64_t>(e.lo[1] + f * (e.hi[1] - e.lo[1]));
  if (mask & 4u) b.latency = static_cast<std::int64_t>(e.lo[2] + f * (e.hi[2] - e.lo[2]));
  return b;
}

}  // namespace

TEST_CASE("mixed precision: timing on ResNet-50 and BERT-base instances", "[.][timing]") {
  const char* names[2] = {"resnet50", "bert-base"};
  const unsigned masks[3] = {1u, 3u, 7u};
  const char* mask_names[8] = {"", "size", "", "size+bops", "", "", "", "size+bops+latency"};
  for (int model = 0; model < 2; ++model) {
    for (unsigned mask : masks) {
      double worst = 0.0, sum = 0.0;
      std::uint64_t worst_nodes = 0;
      int count = 0, infeasible = 0;
      for (std::uint64_t seed = 1; seed <= 10; ++seed) {
        const layers_t layers = realistic(model == 0 ? resnet50_shapes() : bert_base_shapes(), seed, model == 1);
        const extent e = extent_of(layers);
        for (double f : {0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9}) {
          const fp8::mixed_precision_budget b = budget_at(e, mask, f);
          const auto t0 = std::chrono::steady_clock::now();
          std::uint64_t nodes = 0;  // states
          try {
            nodes = fp8::solve_mixed_precision(layers, b).states;
          } catch (const fp8::invalid_argument&) {
            ++infeasible;
          }
          const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
          worst = std::max(worst, ms);
          if (ms >= worst) worst_nodes = nodes;
          sum += ms;
          ++count;
          if (std::getenv("MP_VERBOSE")) { std::printf("  %s mask %u seed %llu f %.2f: %.3f ms %llu states\n", names[model], mask, static_cast<unsigned long long>(seed), f, ms, static_cast<unsigned long long>(nodes)); std::fflush(stdout); }
        }
      }
      std::printf("%-10s %-18s %3d solves (%d infeasible): mean %8.3f ms, worst %8.3f ms (%llu states)\n",
                  names[model], mask_names[mask], count, infeasible, sum / count, worst,
                  static_cast<unsigned long long>(worst_nodes));
    }
  }
}

TEST_CASE("mixed precision: equals brute force on random small instances", "[ptq][mixed_precision]") {
  rng r(2021);
  int solved = 0, infeasible = 0;
  for (int t = 0; t < 800; ++t) {
    const auto n = static_cast<std::size_t>(r.integer(0, 8));
    const layers_t layers = random_layers(r, n, 4);
    const unsigned mask = static_cast<unsigned>(t % 8);
    const fp8::mixed_precision_budget b = random_budget(r, layers, mask);
    INFO("instance " << t << ", layers " << n << ", budget mask " << mask);
    check_against_reference(layers, b);
    (brute_force(layers, b).feasible ? solved : infeasible) += 1;
  }
  // The generator reaches both outcomes often.
  CHECK(solved > 400);
  CHECK(infeasible > 50);
}
