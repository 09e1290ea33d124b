// SPDX-License-Identifier: Apache-2.0
// Mixed-precision instances shaped like real networks, shared by
// tests/test_ptq_mixed_precision.cpp and bench/bench_ptq_mixed_precision.cpp:
// ResNet-50 and BERT-base layer shapes with their real parameter counts and
// MACs, four choices per layer (FP16, FP8, INT8, INT4) with their sizes and
// BOPs, random sensitivities and a latency model, from a generator that gives
// the same numbers with every standard library.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include <fp8/ptq/mixed_precision.hpp>

namespace mp_instances {

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

struct conv_shape {
  std::int64_t in_c, out_c, k, out_hw;
};

// ResNet-50 (torchvision, v1.5: stride in the 3x3), 224x224 input: conv1,
// 16 bottlenecks of three convolutions, four downsample projections, fc.
inline std::vector<conv_shape> resnet50_shapes() {
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
inline std::vector<conv_shape> bert_base_shapes() {
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
inline layers_t realistic(const std::vector<conv_shape>& shapes, std::uint64_t seed, bool sequence) {
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
inline extent extent_of(const layers_t& layers) {
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
inline fp8::mixed_precision_budget budget_at(const extent& e, unsigned mask, double f) {
  fp8::mixed_precision_budget b;
  if (mask & 1u) b.size_bytes = static_cast<std::int64_t>(e.lo[0] + f * (e.hi[0] - e.lo[0]));
  if (mask & 2u) b.bops = static_cast<std::int64_t>(e.lo[1] + f * (e.hi[1] - e.lo[1]));
  if (mask & 4u) b.latency = static_cast<std::int64_t>(e.lo[2] + f * (e.hi[2] - e.lo[2]));
  return b;
}

}  // namespace mp_instances
