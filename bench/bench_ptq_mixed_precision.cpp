// SPDX-License-Identifier: Apache-2.0
// fp8::solve_mixed_precision (ptq/mixed_precision.hpp) on ResNet-50- and
// BERT-base-like instances (tests/ptq_instances.hpp): for each model and set
// of budgets, 10 random instances, each under budgets at several fractions
// of the way from the least to the greatest total, solved once per
// iteration. Counters: solves, mean_ms, median_ms and worst_ms per solve
// (timed one by one), most_states (the largest state count of any solve),
// infeasible (solves that threw). The numbers of docs/ptq_mixed_precision.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include <fp8/ptq/mixed_precision.hpp>

#include "../tests/ptq_instances.hpp"

namespace {

using namespace mp_instances;

struct problem {
  layers_t layers;
  fp8::mixed_precision_budget budget;
};

// `fractions`: one per budgeted dimension (size, BOPs, latency).
std::vector<problem> problems(const std::vector<conv_shape>& shapes, bool sequence, unsigned mask,
                              const std::vector<std::vector<double>>& fractions) {
  std::vector<problem> out;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const layers_t layers = realistic(shapes, seed, sequence);
    const extent e = extent_of(layers);
    for (const std::vector<double>& f : fractions) {
      problem p{layers, {}};
      if (mask & 1u) p.budget.size_bytes = static_cast<std::int64_t>(e.lo[0] + f[0] * (e.hi[0] - e.lo[0]));
      if (mask & 2u) p.budget.bops = static_cast<std::int64_t>(e.lo[1] + f[1] * (e.hi[1] - e.lo[1]));
      if (mask & 4u) p.budget.latency = static_cast<std::int64_t>(e.lo[2] + f[2] * (e.hi[2] - e.lo[2]));
      out.push_back(p);
    }
  }
  return out;
}

std::vector<std::vector<double>> same_fractions() {  // every budget at the same fraction
  std::vector<std::vector<double>> v;
  for (double f : {0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9}) v.push_back({f, f, f});
  return v;
}

std::vector<std::vector<double>> own_fractions() {  // each budget at its own fraction
  std::vector<std::vector<double>> v;
  for (double a : {0.02, 0.1, 0.3, 0.6})
    for (double b : {0.02, 0.1, 0.3, 0.6})
      for (double c : {0.02, 0.1, 0.3, 0.6}) v.push_back({a, b, c});
  return v;
}

std::vector<conv_shape> bert_x4() {  // 296 layers: BERT-base four times over
  std::vector<conv_shape> v;
  for (int r = 0; r < 4; ++r) {
    const std::vector<conv_shape> b = bert_base_shapes();
    v.insert(v.end(), b.begin(), b.end());
  }
  return v;
}

void solve_all(benchmark::State& state, const std::vector<problem>& set) {
  std::vector<double> ms;
  std::uint64_t most_states = 0;
  double infeasible = 0.0;
  for (auto _ : state) {
    ms.clear();
    infeasible = 0.0;
    for (const problem& p : set) {
      const auto t0 = std::chrono::steady_clock::now();
      try {
        const fp8::mixed_precision_result r = fp8::solve_mixed_precision(p.layers, p.budget);
        most_states = std::max(most_states, r.states);
        benchmark::DoNotOptimize(r.sensitivity);
      } catch (const fp8::invalid_argument&) {
        infeasible += 1.0;
      }
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  double sum = 0.0;
  for (double x : ms) sum += x;
  state.counters["solves"] = static_cast<double>(ms.size());
  state.counters["infeasible"] = infeasible;
  state.counters["mean_ms"] = sum / static_cast<double>(ms.size());
  state.counters["median_ms"] = sorted[sorted.size() / 2];
  state.counters["worst_ms"] = sorted.back();
  state.counters["most_states"] = static_cast<double>(most_states);
}

void resnet50_size(benchmark::State& s) { solve_all(s, problems(resnet50_shapes(), false, 1u, same_fractions())); }
void resnet50_size_bops(benchmark::State& s) { solve_all(s, problems(resnet50_shapes(), false, 3u, same_fractions())); }
void resnet50_all(benchmark::State& s) { solve_all(s, problems(resnet50_shapes(), false, 7u, same_fractions())); }
void resnet50_all_own(benchmark::State& s) { solve_all(s, problems(resnet50_shapes(), false, 7u, own_fractions())); }
void bert_size(benchmark::State& s) { solve_all(s, problems(bert_base_shapes(), true, 1u, same_fractions())); }
void bert_size_bops(benchmark::State& s) { solve_all(s, problems(bert_base_shapes(), true, 3u, same_fractions())); }
void bert_all(benchmark::State& s) { solve_all(s, problems(bert_base_shapes(), true, 7u, same_fractions())); }
void bert_all_own(benchmark::State& s) { solve_all(s, problems(bert_base_shapes(), true, 7u, own_fractions())); }
const std::vector<std::vector<double>> few = {{0.1, 0.1, 0.1}, {0.3, 0.3, 0.3}, {0.6, 0.6, 0.6}};
void bert_x4_size(benchmark::State& s) { solve_all(s, problems(bert_x4(), true, 1u, few)); }
void bert_x4_size_bops(benchmark::State& s) { solve_all(s, problems(bert_x4(), true, 3u, few)); }
void bert_x4_all(benchmark::State& s) { solve_all(s, problems(bert_x4(), true, 7u, few)); }

}  // namespace

BENCHMARK(resnet50_size)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(resnet50_size_bops)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(resnet50_all)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(resnet50_all_own)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(bert_size)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(bert_size_bops)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(bert_all)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(bert_all_own)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(bert_x4_size)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(bert_x4_size_bops)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(bert_x4_all)->Unit(benchmark::kMillisecond)->Iterations(1);
