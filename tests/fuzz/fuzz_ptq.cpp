// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness for the ptq/ layer (docs/ptq.md, docs/ptq_mixed_precision.md):
// fp8::error_stats (one pass, random splits, merges in any order, the NaN/Inf
// rule), fp8::loss and metric_value, fp8::histogram (add, add_magnitudes,
// merge, bin_of, of_magnitudes, kl_loss), kl_divergence and both kld
// overloads, search_weights (every format, every scale_candidates field, per
// tensor and per channel, every metric), the calibrator (batches, merges,
// thresholds), solve_mixed_precision, and the report writers. Each call is
// judged by the argument contract (a rejected call names an expected
// argument and leaves the object it was called on as it was) and by an
// independent reference: long double sums within the documented bound,
// bins by the stated rule and by the exact partition where its edges are
// representable, KL in long double, the search's candidates quantized with
// tests/reference.hpp (FP8) and nearbyint / clamps (integers) and every
// candidate tried (its statistics through fp8::error_stats, fuzzed here on
// its own), calibrator bins by floor(|x| / width), mixed precision by brute
// force with exact big-integer sums, and the CSV and JSON parsed back by
// checkers written here (RFC 4180, RFC 8259 with UTF-8).
#include <cctype>
#include <cfloat>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <fp8/fp8.hpp>

#include "fuzz_common.hpp"

namespace {

using namespace fz;
using ld_t = long double;
__extension__ typedef __int128 i128;

constexpr double inf = HUGE_VAL;

// The references and checks (lambdas over the call's locals) carry no
// coverage instrumentation and are not inlined into the instrumented
// decoding: their branches say nothing about the library, and the
// per-comparison callbacks were a large part of each input's time.
#define FZ_REFERENCE __attribute__((no_sanitize("coverage"), noinline))
constexpr std::size_t max_values = 300;  // pairs or values per input

enum op_kind {
  op_stats, op_hist, op_kl, op_kld, op_search, op_calib, op_mixed, op_report,
  op_count
};

struct raw {
  u8 op = 0, variant = 0;
  u16 n = 0;                  // values (decode_size)
  u16 bins = 0, bins2 = 0;    // decode_bins / decode_calibrator_bins
  u32 lo = 0, hi = 0;         // decode_float (histogram range, kld range, of_magnitudes amax)
  u8 values = 0, xmode = 0;   // distributions of r and of x
  u8 splits = 0;              // how the stream is split and merged
  u8 metric = 0;              // decode_enum(6)
  u8 layout = 0;              // which pointer is null (scenario)
  u64 eps = 0;                // decode_epsilon
  u16 rows = 0, cols = 0, ld = 0;  // search_weights
  u8 nformats = 0;            // % 5 formats
  u32 formats = 0;            // a byte each, decode_enum(6)
  u8 flags = 0;               // powers_of_two, relative_to_amax, amax, per_channel, table_kld, exact-edge mode
  u16 exp_lo = 0, exp_hi = 0, clip_steps = 0;
  u32 clip_min = 0;           // decode_float
  u8 axis = 0, method = 0, fmt = 0;
  u64 percentile = 0;         // decode_percentile
  u8 bad_kind = 0;            // one bad value in an otherwise valid input
  u16 bad_index = 0;
  u64 seed = 0;
};
template <class IO>
void visit(IO& io, raw& r) {
  io(r.op); io(r.variant); io(r.n); io(r.bins); io(r.bins2); io(r.lo); io(r.hi);
  io(r.values); io(r.xmode); io(r.splits); io(r.metric); io(r.layout); io(r.eps);
  io(r.rows); io(r.cols); io(r.ld); io(r.nformats); io(r.formats); io(r.flags);
  io(r.exp_lo); io(r.exp_hi); io(r.clip_steps); io(r.clip_min);
  io(r.axis); io(r.method); io(r.fmt); io(r.percentile); io(r.bad_kind); io(r.bad_index);
  io(r.seed);
}

// ---------------------------------------------------------------- decoding
// Bins of a histogram or kld: mostly 1..small, sometimes 0, the limit 2^30
// and past it.
std::size_t decode_bins(u16 raw, std::size_t small) {
  static const std::size_t special[] = {0, 1, 2, 2048, std::size_t{1} << 30, (std::size_t{1} << 30) + 1, size_max,
                                        4096, 65536, 3, std::size_t{1} << 31, 1000};
  if (raw < 0xE000) return 1 + raw % small;
  return special[(raw & 0xFFu) % (sizeof special / sizeof special[0])];
}
// A calibrator's bins: mostly 8..64 (powers of two), sometimes larger ones,
// or values that are not powers of two in [8, 2^24].
std::size_t decode_calibrator_bins(u16 raw) {
  static const std::size_t special[] = {0, 1, 4, 7, 12, 100, std::size_t{1} << 24, (std::size_t{1} << 24) + 1,
                                        std::size_t{1} << 25, size_max, std::size_t{1} << 63, 128, 256, 2048, 24, 6};
  if (raw < 0xE000) return std::size_t{8} << (raw % 4);
  return special[(raw & 0xFFu) % (sizeof special / sizeof special[0])];
}
// epsilon: mostly the default, else positive values across the range or
// the invalid ones.
double decode_epsilon(u64 raw) {
  static const double special[] = {1e-4, 1e-6, 0.01, 0.5, 1.0, 2.0, 1e-300, 4.9406564584124654e-324, DBL_MAX,
                                   0.0, -1e-4, std::numeric_limits<double>::quiet_NaN(), inf, -0.0, -inf};
  const u64 cls = raw >> 60;
  if (cls < 8) return 1e-4;
  if (cls < 10) return special[(raw & 0xFFFFu) % (sizeof special / sizeof special[0])];
  const double f = 1.0 + static_cast<double>(raw & 0xFFFFFFFFFFull) / 0x1p40;
  return std::ldexp(f, static_cast<int>((raw >> 40) % 71) - 60);
}
// A percentile: mostly the default 99.99, else usual ones, the edges of
// (0, 100] and past them.
double decode_percentile(u64 raw) {
  static const double special[] = {50.0, 90.0, 99.0, 99.9, 100.0, 1e-3, 1e-300, 0.0, -1.0, 100.0001,
                                   std::numeric_limits<double>::quiet_NaN(), inf, 33.3, 99.999, -0.0, 0x1p-1074};
  const u64 cls = raw >> 60;
  if (cls < 8) return 99.99;
  if (cls < 12) return special[(raw & 0xFFFFu) % (sizeof special / sizeof special[0])];
  return static_cast<double>(raw & 0xFFFFFFFFull) / 0x1p32 * 100.0;  // in [0, 100)
}
// An exponent bound: mostly in [-30, 10], sometimes the limits of
// [-300, 300], past them, or far past.
int decode_exponent(u16 raw) {
  static const int special[] = {-300, 300, -301, 301, -126, 127, -127, 128, std::numeric_limits<int>::min(),
                                std::numeric_limits<int>::max(), -200, 200, -150, 150, 0, -1};
  if (raw < 0xE000) return static_cast<int>(raw % 41) - 30;
  return special[(raw & 0xFFu) % (sizeof special / sizeof special[0])];
}
std::size_t decode_clip_steps(u16 raw) {
  static const std::size_t special[] = {4096, 4097, size_max, 100, 1000, 0, 1, 64};
  if (raw < 0xE000) return raw % 9;
  return special[(raw & 0xFFu) % (sizeof special / sizeof special[0])];
}

// ---------------------------------------------------------------- values
// A pair (r, x): r by a distribution, x derived from it (equal, noisy, on a
// grid, unrelated, ...) or, one pair in four in mode 7, a special pair of the
// NaN/Inf rule.
FZ_NO_COVERAGE void gen_pair(filler& f, u8 rmode, u8 xmode, float& r, float& x) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), finf = HUGE_VALF;
  r = rmode % 8 == 6 ? static_cast<float>(static_cast<int>(f.byte() % 9u) - 4) * 0.25f
                     : rmode % 8 == 7 ? 0.0f : gen_float(f, rmode);
  switch (xmode % 8) {
    case 0: x = r; break;
    case 1: x = r * (1.0f + static_cast<float>(static_cast<int>(f.byte()) - 128) / 4096.0f); break;
    case 2: x = gen_float(f, 1); break;
    case 3: x = std::nearbyint(r * 8.0f) / 8.0f; break;
    case 4: x = 0.0f; break;
    case 5: x = -r; break;
    case 6: x = std::nextafter(r, (f.byte() & 1u) ? finf : -finf); break;
    default: {
      const u8 b = f.byte();
      x = r * 0.75f;
      if (b % 4 != 0) break;
      switch ((b >> 2) % 8) {
        case 0: r = nan; break;
        case 1: r = x = finf; break;
        case 2: r = x = -finf; break;
        case 3: r = finf; x = -finf; break;
        case 4: x = nan; break;
        case 5: x = finf; break;
        case 6: r = -finf; x = 1.0f; break;
        default: r = -nan; x = nan; break;
      }
    }
  }
}

// Values on and around the edges of a histogram over [lo, hi] with `bins`
// bins, and the specials, one in two; else by the distribution.
FZ_NO_COVERAGE float gen_edge_value(filler& f, u8 mode, float lo, float hi, std::size_t bins) {
  const u8 b = f.byte();
  if (b % 2 == 0 || !(std::isfinite(lo) && std::isfinite(hi) && lo < hi) || bins == 0 || bins > 1u << 20) {
    if (b % 16 == 1) {
      static const float special[] = {HUGE_VALF, -HUGE_VALF, std::numeric_limits<float>::quiet_NaN(), 0.0f, -0.0f,
                                      -0x1p-149f, 0x1p-149f, FLT_MAX, -FLT_MAX};
      return special[(b >> 4) % 9];
    }
    return gen_float(f, mode);
  }
  const std::size_t j = f.u32v() % (bins + 1);
  float v = static_cast<float>(static_cast<double>(lo) +
                               static_cast<double>(j) * ((static_cast<double>(hi) - static_cast<double>(lo)) / static_cast<double>(bins)));
  if (b & 2u) v = std::nextafter(v, (b & 4u) ? HUGE_VALF : -HUGE_VALF);
  if ((b & 24u) == 24u) v = (b & 32u) ? lo : hi;
  return v;
}

// ---------------------------------------------------------------- references: metrics
// Long double sums over the pairs by the NaN/Inf rule, plus the magnitudes of
// their terms for the error bound.
struct ref_stats {
  u64 pairs = 0, skipped = 0, nonfinite = 0, matched = 0;
  ld_t rr = 0, xx = 0, rx = 0, ee = 0, ae = 0, rx_abs = 0;
  double max_e = 0;
  bool e_zero = true, r_zero = true, x_zero = true;
  FZ_NO_COVERAGE void add(float r, float x) {
    ++pairs;
    if (std::isnan(r)) {
      ++skipped;
      return;
    }
    if (!(std::isfinite(r) && std::isfinite(x))) {
      if (x == r)
        ++matched;
      else
        ++nonfinite;
      return;
    }
    const double R = r, X = x, E = X - R;  // E: one double rounding, the definition
    rr += static_cast<ld_t>(R) * R;
    xx += static_cast<ld_t>(X) * X;
    rx += static_cast<ld_t>(R) * X;
    rx_abs += std::fabs(static_cast<ld_t>(R) * X);
    ee += static_cast<ld_t>(E) * E;
    ae += std::fabs(static_cast<ld_t>(E));
    max_e = std::max(max_e, std::fabs(E));
    e_zero = e_zero && E == 0.0;
    r_zero = r_zero && R == 0.0;
    x_zero = x_zero && X == 0.0;
  }
};

// |got - want| within the documented summation bound: (terms + 4) 2^-53
// times the sum of the terms' magnitudes (terms: an upper bound on the
// terms per partial sum, plus the merges).
bool within_sum_bound(double got, ld_t want, ld_t magnitude, double terms) {
  const ld_t err = std::fabs(static_cast<ld_t>(got) - want);
  return err <= static_cast<ld_t>((terms + 8.0) * 0x1p-53) * magnitude * 1.0001L;
}

// The bin of v by the stated double rule (docs/ptq.md "Histograms"), or
// bins, bins + 1, bins + 2 for below, above and NaN.
FZ_REFERENCE std::size_t ref_bin(float v, float lo, float hi, std::size_t bins) {
  if (std::isnan(v)) return bins + 2;
  if (v < lo) return bins;
  if (v > hi) return bins + 1;
  const double s = static_cast<double>(bins) / (static_cast<double>(hi) - static_cast<double>(lo));
  const double t = std::floor((static_cast<double>(v) - static_cast<double>(lo)) * s);
  return t >= static_cast<double>(bins - 1) ? bins - 1 : static_cast<std::size_t>(t);
}
// The bin of the exact uniform partition, when it can be computed exactly
// here: the width (hi - lo) / bins a power of two and v - lo exact in double
// (checked by TwoSum); else false.
FZ_REFERENCE bool exact_bin(float v, float lo, float hi, std::size_t bins, std::size_t& out) {
  if (!(v >= lo && v <= hi)) return false;
  const double width = (static_cast<double>(hi) - static_cast<double>(lo)) / static_cast<double>(bins);
  int e;
  if (std::frexp(width, &e) != 0.5) return false;  // not a power of two
  if (static_cast<double>(hi) - static_cast<double>(lo) != std::ldexp(static_cast<double>(bins), e - 1)) return false;
  const double a = v, b = -static_cast<double>(lo), s = a + b, bb = s - a;
  if ((a - (s - bb)) + (b - bb) != 0.0) return false;  // v - lo not exact
  const double t = std::floor(std::ldexp(s, 1 - e));    // (v - lo) / width, exact
  out = t >= static_cast<double>(bins - 1) ? bins - 1 : static_cast<std::size_t>(t);
  return true;
}

// KL(P || Q) of two count vectors (docs/ptq.md "KL divergence") in long
// double; magnitude: the sum of |P ln(P / Q)| for the tolerance. extreme:
// an epsilon so small or so large that P / Q or 1 + epsilon z leave the
// double range, where the value is still finite (tag kl_extreme_epsilon).
struct ref_kl_result {
  ld_t value = 0, magnitude = 0;
  bool extreme = false;
};
FZ_REFERENCE ref_kl_result ref_kl(const u64* p, const u64* q, std::size_t bins, double eps) {
  ref_kl_result out;
  ld_t sp = 0, sq = 0, z = 0;
  for (std::size_t i = 0; i < bins; ++i) {
    sp += static_cast<ld_t>(p[i]);
    sq += static_cast<ld_t>(q[i]);
    if (p[i] != 0 && q[i] == 0) z += 1;
  }
  if (sp == 0) return out;
  if (sq == 0) {
    out.value = inf;
    return out;
  }
  out.extreme = !(static_cast<ld_t>(eps) * z < DBL_MAX / 4);
  const ld_t norm = 1 + static_cast<ld_t>(eps) * z;
  ld_t kl = 0;
  for (std::size_t i = 0; i < bins; ++i) {
    if (p[i] == 0) continue;
    const ld_t P = static_cast<ld_t>(p[i]) / sp;
    const ld_t Q = (q[i] != 0 ? static_cast<ld_t>(q[i]) / sq : static_cast<ld_t>(eps)) / norm;
    if (P / Q > DBL_MAX / 4) out.extreme = true;
    const ld_t t = P * std::log(P / Q);
    kl += t;
    out.magnitude += std::fabs(t);
  }
  out.value = kl > 0 ? kl : 0;
  return out;
}
// A computed KL against the reference: both +inf, or within rounding.
bool kl_close(double got, const ref_kl_result& want, std::size_t bins) {
  if (std::isinf(want.value) || std::isinf(got)) return std::isinf(want.value) && std::isinf(got) && got > 0;
  if (!(got >= 0.0)) return false;
  // Each term's logarithm is of a rounded quotient P / Q: an absolute error
  // of a few ulps of 1 per unit of P, so the sum of P (1) joins the
  // magnitude of the terms.
  const ld_t tol = (static_cast<ld_t>(bins) + 16) * 0x1p-44L * (want.magnitude + 1);
  return std::fabs(static_cast<ld_t>(got) - want.value) <= tol;
}

// kld(r, x, n[, lo, hi], bins, eps) restated: the NaN/Inf rule, the range,
// the two histograms by ref_bin with the outliers folded, then ref_kl.
FZ_REFERENCE ref_kl_result ref_kld(const float* r, const float* x, std::size_t n, bool given, float lo, float hi,
                                     std::size_t bins, double eps) {
  ref_kl_result out;
  float rlo = HUGE_VALF, rhi = -HUGE_VALF;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(r[i])) continue;
    if (std::isfinite(r[i]) && std::isfinite(x[i])) {
      rlo = std::min(rlo, r[i]);
      rhi = std::max(rhi, r[i]);
    } else if (x[i] != r[i]) {
      out.value = inf;
      return out;
    }
  }
  if (!given) {
    if (!(rlo < rhi)) return out;
    lo = rlo;
    hi = rhi;
  }
  std::vector<u64> p(bins, 0), q(bins, 0);
  const auto put_in = [&](std::vector<u64>& h, float v) {
    const std::size_t b = ref_bin(v, lo, hi, bins);
    ++h[b == bins ? 0 : b == bins + 1 ? bins - 1 : b];  // NaN in x is a non-finite error above
  };
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(r[i])) continue;
    put_in(p, r[i]);
    put_in(q, x[i]);
  }
  return ref_kl(p.data(), q.data(), bins, eps);
}

// The object an entry point was called on, unchanged by a rejected call:
// the probe runs `call` and, when it throws, compares `state()` before and
// after, then lets execute() judge the exception.
template <class Call, class State>
void guarded(Call&& call, State&& state) {
  const auto before = state();
  try {
    call();
  } catch (const fp8::invalid_argument&) {
    if (state() != before) fail("threw but changed the object it was called on");
    throw;
  }
}
// Preliminary calls that must succeed (building the state a probe runs on).
template <class Call>
void must(const char* what, Call&& call) {
  try {
    call();
  } catch (const std::exception& x) {
    fail(std::string("a valid preliminary call (") + what + ") threw: " + x.what());
  }
}

std::string bits_of(const fp8::error_stats& s) {
  std::string b(sizeof s, '\0');
  std::memcpy(&b[0], &s, sizeof s);  // doubles and counts, no padding: the whole state
  return b;
}
u64 bits64(double x) {
  u64 u;
  std::memcpy(&u, &x, 8);
  return u;
}
bool same_double(double a, double b) { return (std::isnan(a) && std::isnan(b)) || bits64(a) == bits64(b); }
std::string dnum(double x) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", x);
  return b;
}

// ============================================================================
// CONTRACT: docs/ptq.md "Arguments" (each section), README "Arguments".
// ============================================================================
bool valid_metric(int m) { return m >= 0 && m <= 5; }
// An array of `count` elements of `size` bytes at p whose bytes overflow
// size_t or run past the end of the address space: the call names the count.
void span_rule(expectation& e, const void* p, std::size_t count, std::size_t size, const char* count_name) {
  const u128 bytes = static_cast<u128>(count) * size;
  if (bytes > size_max || wraps(p, bytes))
    e.reject("count_overflow", {count_name}, "the array runs past the end of the address space");
}
bool positive_finite(double e) { return e > 0.0 && e <= DBL_MAX; }
void histogram_rule(expectation& e, std::size_t bins, float lo, float hi) {
  if (bins < 1 || bins > (std::size_t{1} << 30)) e.reject("bins", {"bins"}, "bins not in [1, 2^30]");
  if (!std::isfinite(lo)) e.reject("range", {"lo"}, "lo is not finite");
  if (!std::isfinite(hi)) e.reject("range", {"hi"}, "hi is not finite");
  if (std::isfinite(lo) && std::isfinite(hi) && !(lo < hi)) e.reject("range", {"hi", "lo"}, "hi is not above lo");
}
// ============================================================================

// Which pointer a probe passes as null: layout % 8 == 5 the first, 6 the second.
bool null_first(u8 layout) { return layout % 8 == 5; }
bool null_second(u8 layout) { return layout % 8 == 6; }

// Random split points of n: up to `pieces` pieces, some empty.
FZ_NO_COVERAGE std::vector<std::size_t> split_points(filler& f, std::size_t n, unsigned pieces) {
  std::vector<std::size_t> cut = {0};
  for (unsigned i = 1; i < pieces; ++i) cut.push_back(n == 0 ? 0 : f.u16v() % (n + 1));
  cut.push_back(n);
  std::sort(cut.begin(), cut.end());
  return cut;
}

// ---------------------------------------------------------------- error_stats, loss, metric_value
void run_stats(const raw& r, filler& f) {
  const std::size_t n = decode_size(r.n, max_values);
  const std::size_t held = std::min(n, max_values);
  pool p;
  const std::size_t ir = p.add("r", held * 4, 0, 4), ix = p.add("x", held * 4, 0, 4);
  const bool same_array = r.layout % 8 == 7;
  if (same_array) p.alias(ix, ir, 0);
  if (null_first(r.layout)) p.make_null(ir);
  if (null_second(r.layout)) p.make_null(ix);
  p.allocate(r.seed);
  std::vector<float> rv(held), xv(held);
  for (std::size_t i = 0; i < held; ++i) gen_pair(f, r.values, r.xmode, rv[i], xv[i]);
  if (same_array) xv = rv;
  put(p.storage(ir), rv.data(), held * 4);
  if (!same_array) put(p.storage(ix), xv.data(), held * 4);
  const float* rp = reinterpret_cast<const float*>(p.ptr(ir));
  const float* xp = reinterpret_cast<const float*>(p.ptr(ix));
  const int probe = r.variant % 3;  // 0: add, 1: loss, 2: metric_value
  const int m = decode_enum(r.metric, 6);

  expectation e;
  if (probe != 1 && n != 0 && rp == nullptr) e.reject("null", {"r"}, "r is null while n > 0");
  if (probe != 1 && n != 0 && xp == nullptr) e.reject("null", {"x"}, "x is null while n > 0");
  if (probe != 1) span_rule(e, rp, n, 4, "n"), span_rule(e, xp, n, 4, "n");
  if (probe != 0 && !valid_metric(m)) e.reject("enum", {"m"}, "m is not an fp8::metric");
  if (probe == 1 && m == 5) e.reject("kld_loss", {"m"}, "loss() of metric::kld (needs histograms)");
  if (n > held && !e.has({"null"})) return skip();
  if (probe == 1 && (rp == nullptr || xp == nullptr)) return skip();  // loss's stats need the pairs

  context() = std::string("fp8::") + (probe == 0 ? "error_stats::add" : probe == 1 ? "loss" : "metric_value") +
              "\n  n = " + std::to_string(n) + ", m = " + std::to_string(m) + ", splits byte " + hex(r.splits) +
              (same_array ? ", x == r" : "") + "\n" + p.layout();
  for (std::size_t i = 0; i < std::min<std::size_t>(held, 6); ++i)
    context() += "  r[" + std::to_string(i) + "] = " + fnum(rv[i]) + ", x[" + std::to_string(i) + "] = " + fnum(xv[i]) + "\n";

  ref_stats ref;
  for (std::size_t i = 0; i < held; ++i) ref.add(rv[i], xv[i]);
  fp8::error_stats a;
  if (probe != 0) must("error_stats::add", [&] { a.add(rv.data(), xv.data(), held); });
  double got = 0;
  const auto the_call = [&] {
    if (probe == 0)
      guarded([&] { a.add(rp, xp, n); }, [&] { return bits_of(a); });
    else if (probe == 1)
      got = fp8::loss(static_cast<fp8::metric>(m), a);
    else
      got = fp8::metric_value(static_cast<fp8::metric>(m), rp, xp, n);
  };
  const auto check = [&]() FZ_REFERENCE {
    if (probe == 1 || probe == 2) {
      double want;
      if (m == 5) {
        want = fp8::kld(rv.data(), xv.data(), held);
        const ref_kl_result k = ref_kld(rv.data(), xv.data(), held, false, 0, 0, fp8::kld_default_bins, 1e-4);
        if (!kl_close(got, k, fp8::kld_default_bins))
          fail("metric_value(kld) = " + dnum(got) + ", the restated definition gives " + dnum(static_cast<double>(k.value)));
      } else {
        want = fp8::loss(static_cast<fp8::metric>(m), a);
        const double direct[] = {a.mse(), a.mae(), a.max_abs(), a.nsr(), a.cos_dist()};
        if (!same_double(want, direct[m])) fail("loss(m) is not the getter of m");
      }
      if (!same_double(got, want))
        fail(std::string(probe == 1 ? "loss" : "metric_value") + " = " + dnum(got) + ", expected " + dnum(want));
      return;
    }
    // probe 0: the one-pass accumulator `a`, against the same stream split at
    // random (bit for bit), against segments merged in a random order (the
    // bound), and against the reference.
    const unsigned pieces = 1 + r.splits % 6, accs = 1 + (r.splits >> 4) % 4;
    fp8::error_stats b, merged, empty;
    const std::vector<std::size_t> cut = split_points(f, held, pieces);
    for (std::size_t k = 0; k + 1 < cut.size(); ++k) {
      const std::size_t from = cut[k], len = cut[k + 1] - cut[k];
      must("error_stats::add (a piece)", [&] { b.add(len == 0 ? nullptr : rv.data() + from, len == 0 ? nullptr : xv.data() + from, len); });
    }
    if (bits_of(b) != bits_of(a)) fail("split into " + std::to_string(pieces) + " add() calls: not the bits of one pass");
    const std::vector<std::size_t> seg = split_points(f, held, accs);
    std::vector<fp8::error_stats> parts(accs);
    for (std::size_t k = 0; k + 1 < seg.size(); ++k)
      must("error_stats::add (a segment)", [&] { parts[k].add(rv.data() + seg[k], xv.data() + seg[k], seg[k + 1] - seg[k]); });
    std::vector<std::size_t> order(accs);
    for (std::size_t k = 0; k < accs; ++k) order[k] = k;
    for (std::size_t k = accs; k > 1; --k) std::swap(order[k - 1], order[f.byte() % k]);
    for (std::size_t k : order) merged.merge(parts[k]);
    fp8::error_stats again = a;
    again.merge(empty);
    if (bits_of(again) != bits_of(a)) fail("merging an empty error_stats changed it");
    for (const fp8::error_stats* s : {&a, &merged}) {
      const std::string who = s == &a ? "one pass" : "merged";
      const double terms = static_cast<double>(held) + 2.0 * accs;
      const auto expect_count = [&](const char* what, u64 g, u64 w) {
        if (g != w) fail(who + ": " + what + " = " + std::to_string(g) + ", expected " + std::to_string(w));
      };
      expect_count("pairs()", s->pairs(), ref.pairs);
      expect_count("skipped()", s->skipped(), ref.skipped);
      expect_count("nonfinite()", s->nonfinite(), ref.nonfinite);
      expect_count("matched_infinities()", s->matched_infinities(), ref.matched);
      // count(): the pairs not skipped; the docs leave open whether the
      // non-finite errors are among them (every loss is +inf then).
      const u64 c = s->count();
      if (c != ref.pairs - ref.skipped && c != ref.pairs - ref.skipped - ref.nonfinite)
        fail(who + ": count() = " + std::to_string(c) + ", expected " + std::to_string(ref.pairs - ref.skipped));
      const struct {
        const char* name;
        double got;
        ld_t want, magnitude;
      } sums[] = {{"sum_rr", s->sum_rr(), ref.rr, ref.rr},
                  {"sum_xx", s->sum_xx(), ref.xx, ref.xx},
                  {"sum_rx", s->sum_rx(), ref.rx, ref.rx_abs},
                  {"sum_squared_error", s->sum_squared_error(), ref.ee, ref.ee},
                  {"sum_abs_error", s->sum_abs_error(), ref.ae, ref.ae}};
      for (const auto& x : sums)
        if (!within_sum_bound(x.got, x.want, x.magnitude, terms))
          fail(who + ": " + x.name + " = " + dnum(x.got) + ", reference " + dnum(static_cast<double>(x.want)) +
               " (outside the documented bound)");
      const bool bad = ref.nonfinite != 0;
      const double ee = s->sum_squared_error(), rr = s->sum_rr(), xx = s->sum_xx(), ae = s->sum_abs_error();
      if ((ee == 0.0) != ref.e_zero) fail(who + ": sum_squared_error() == 0 disagrees with the pairs");
      if ((rr == 0.0) != ref.r_zero) fail(who + ": sum_rr() == 0 disagrees with the pairs");
      if ((xx == 0.0) != ref.x_zero) fail(who + ": sum_xx() == 0 disagrees with the pairs");
      const double cnt = static_cast<double>(c);
      const double want_mse = bad ? inf : ee == 0.0 ? 0.0 : ee / cnt;
      const double want_mae = bad ? inf : ee == 0.0 ? 0.0 : ae / cnt;
      const double want_max = bad ? inf : ref.max_e;
      const double want_nsr = bad ? inf : ee == 0.0 ? 0.0 : rr == 0.0 ? inf : ee / rr;
      if (!same_double(s->mse(), want_mse)) fail(who + ": mse() = " + dnum(s->mse()) + ", expected " + dnum(want_mse));
      if (!same_double(s->mae(), want_mae)) fail(who + ": mae() = " + dnum(s->mae()) + ", expected " + dnum(want_mae));
      if (!same_double(s->max_abs(), want_max)) fail(who + ": max_abs() = " + dnum(s->max_abs()) + ", expected " + dnum(want_max));
      if (!same_double(s->nsr(), want_nsr)) fail(who + ": nsr() = " + dnum(s->nsr()) + ", expected " + dnum(want_nsr));
      const double snr = s->snr_db(), cosd = s->cos_dist();
      if (bad || ee == 0.0 || rr == 0.0) {
        const double want_snr = bad ? -inf : ee == 0.0 ? inf : -inf;
        if (!same_double(snr, want_snr)) fail(who + ": snr_db() = " + dnum(snr) + ", expected " + dnum(want_snr));
      } else if (!(std::fabs(snr - 10.0 * std::log10(rr / ee)) <= 1e-12 * (1.0 + std::fabs(snr)))) {
        fail(who + ": snr_db() = " + dnum(snr) + " is not 10 log10(S_rr / S_ee)");
      }
      if (bad || ee == 0.0 || rr == 0.0 || xx == 0.0) {
        const double want_cos = bad ? inf : ee == 0.0 ? 0.0 : 1.0;
        if (!same_double(cosd, want_cos)) fail(who + ": cos_dist() = " + dnum(cosd) + ", expected " + dnum(want_cos));
      } else {
        const double d = std::min(2.0, std::max(0.0, 1.0 - s->sum_rx() / std::sqrt(rr * xx)));
        if (!(std::fabs(cosd - d) <= 1e-12)) fail(who + ": cos_dist() = " + dnum(cosd) + ", expected " + dnum(d));
      }
    }
  };
  execute(e, p, the_call, check);
}

// ---------------------------------------------------------------- histogram
struct hist_state {
  std::size_t bins;
  float lo, hi;
  std::vector<u64> counts;
  bool operator!=(const hist_state& o) const {
    return bins != o.bins || bits(lo) != bits(o.lo) || bits(hi) != bits(o.hi) || counts != o.counts;
  }
};
hist_state state_of(const fp8::histogram& h) {
  hist_state s{h.bins(), h.lo(), h.hi(), std::vector<u64>(h.counts(), h.counts() + h.bins())};
  s.counts.push_back(h.below());
  s.counts.push_back(h.above());
  s.counts.push_back(h.nan());
  return s;
}
// The histogram's range: in exact-edge mode lo = k 2^a and hi = lo + bins
// 2^b (both floats, so the edges are representable), else two decoded floats.
void decode_range(const raw& r, std::size_t bins, float& lo, float& hi) {
  lo = decode_float(r.lo);
  hi = decode_float(r.hi);
  if ((r.flags & 32u) == 0 || bins == 0 || bins > 4096) return;
  const int a = static_cast<int>(r.lo % 24u) - 12, b = static_cast<int>((r.lo >> 8) % 24u) - 16;
  const float l = std::ldexp(static_cast<float>(static_cast<int>((r.lo >> 16) % 65u) - 32), a);
  const float h = l + std::ldexp(static_cast<float>(bins), b);
  if (static_cast<double>(h) - static_cast<double>(l) == std::ldexp(static_cast<double>(bins), b)) {
    lo = l;
    hi = h;
  }
}

void run_hist(const raw& r, filler& f) {
  const int probe = r.variant % 5;  // 0 constructor, 1 add (null), 2 merge, 3 kl_loss, 4 of_magnitudes
  const bool magnitudes = (r.variant / 5) % 2 != 0 || probe == 4;
  const std::size_t bins = decode_bins(r.bins, 40);
  float lo, hi;
  decode_range(r, bins, lo, hi);
  const std::size_t n = decode_size(r.n, max_values), held = std::min(n, max_values);
  const double eps = decode_epsilon(r.eps);
  // The other histogram (merge, kl_loss): mostly the same bins and range.
  std::size_t bins2 = bins;
  float lo2 = lo, hi2 = hi;
  if (r.bins2 >= 0xC000) {
    bins2 = decode_bins(static_cast<u16>(r.bins2 & 0x3FFFu), 40);
    if (r.bins2 & 0x2000u) lo2 = std::nextafter(lo, -HUGE_VALF);
    if (r.bins2 & 0x1000u) hi2 = std::nextafter(hi, HUGE_VALF);
  }
  pool p;
  const std::size_t ix = p.add("x", held * 4, 0, 4);
  if (null_first(r.layout)) p.make_null(ix);
  p.allocate(r.seed);
  std::vector<float> xv(held);
  for (auto& v : xv) v = gen_edge_value(f, r.values, lo, hi, bins);
  put(p.storage(ix), xv.data(), held * 4);
  const float* xp = reinterpret_cast<const float*>(p.ptr(ix));

  expectation e;
  histogram_rule(e, bins, lo, hi);
  if (probe == 4) {  // of_magnitudes(x, n, bins, amax = hi)
    e = expectation{};
    if (n != 0 && xp == nullptr) e.reject("null", {"x"}, "x is null while n > 0");
    span_rule(e, xp, n, 4, "n");
    if (bins < 1 || bins > (std::size_t{1} << 30)) e.reject("bins", {"bins"}, "bins not in [1, 2^30]");
    if (!(hi > 0.0f && std::isfinite(hi))) e.reject("amax", {"amax"}, "amax is not a positive finite float");
  } else if (e.v == expectation::invalid && probe != 0) {
    return skip();  // the other probes need a valid histogram to call
  }
  if (probe == 1 && n != 0 && xp == nullptr) e.reject("null", {"x"}, "x is null while n > 0");
  if (probe == 1) span_rule(e, xp, n, 4, "n");
  if (probe == 2 || probe == 3) {
    expectation other;
    histogram_rule(other, bins2, lo2, hi2);
    if (other.v == expectation::invalid) return skip();
    if (bins2 != bins || bits(lo2) != bits(lo) || bits(hi2) != bits(hi))
      e.reject("same_bins", {probe == 2 ? "other" : "x"}, "the other histogram has different bins or range");
    if (probe == 3 && !positive_finite(eps)) e.reject("epsilon", {"epsilon"}, "epsilon is not positive finite");
  }
  // Histograms the harness builds itself (probes 1-3) or valid ones the call
  // would build: only small ones (2^30 bins are 8 GiB).
  const bool huge_valid = (probe >= 1 && probe <= 3) ? (bins > 4096 || bins2 > 4096)
                                                      : e.v != expectation::invalid && bins > 4096;
  if (huge_valid || (n > held && !e.has({"null", "bins", "amax"}))) return skip();
  if ((probe == 1 || probe == 2 || probe == 3) && xp == nullptr && n != 0 && !e.has({"null"})) return skip();

  context() = std::string("fp8::histogram, probe ") +
              (probe == 0 ? "histogram(bins, lo, hi)" : probe == 1 ? "add" : probe == 2 ? "merge" : probe == 3 ? "kl_loss" : "of_magnitudes") +
              (magnitudes ? " (magnitudes)" : "") + "\n  bins = " + std::to_string(bins) + ", lo = " + fnum(lo) +
              ", hi = " + fnum(hi) + "; other: bins " + std::to_string(bins2) + ", lo " + fnum(lo2) + ", hi " + fnum(hi2) +
              "; n = " + std::to_string(n) + ", epsilon = " + dnum(eps) + "\n" + p.layout();
  for (std::size_t i = 0; i < std::min<std::size_t>(held, 8); ++i) context() += "  x[" + std::to_string(i) + "] = " + fnum(xv[i]) + "\n";

  // The reference counts of the values (by the stated rule), in one histogram.
  const auto ref_counts = [&](std::size_t b, float l, float h, const float* v, std::size_t count, bool mag) {
    std::vector<u64> c(b + 3, 0);
    for (std::size_t i = 0; i < count; ++i) ++c[ref_bin(mag ? std::fabs(v[i]) : v[i], l, h, b)];
    return c;
  };
  const auto check_against = [&](const fp8::histogram& h, const std::vector<u64>& want, const std::string& who) {
    const hist_state s = state_of(h);
    for (std::size_t k = 0; k < want.size(); ++k)
      if (s.counts[k] != want[k])
        fail(who + ": " + (k < h.bins() ? "bin " + std::to_string(k) : k == h.bins() ? std::string("below()") : k == h.bins() + 1 ? std::string("above()") : std::string("nan()")) +
             " = " + std::to_string(s.counts[k]) + ", expected " + std::to_string(want[k]));
    u64 in = 0, all = 0;
    for (std::size_t k = 0; k < want.size(); ++k) {
      all += want[k];
      if (k < h.bins()) in += want[k];
    }
    if (h.in_range() != in || h.total() != all) fail(who + ": in_range() or total() is not the sum of the counts");
  };

  std::optional<fp8::histogram> h, other;
  fp8::histogram* made = nullptr;
  double got_kl = 0;
  if (probe != 0 && probe != 4) {
    must("histogram(bins, lo, hi)", [&] { h.emplace(bins, lo, hi); });
    if (probe == 2 || probe == 3) {
      must("histogram(bins, lo, hi) (the other)", [&] { other.emplace(bins2, lo2, hi2); });
      // Half the values in each (the other's by its own range).
      must("add", [&] { h->add(xv.data(), held / 2); });
      must("add", [&] { other->add(xv.data() + held / 2, held - held / 2); });
    }
  }
  if (probe == 3 && e.v != expectation::invalid) {
    std::vector<u64> pc(h->counts(), h->counts() + bins), qc(other->counts(), other->counts() + bins);
    pc.front() += h->below();
    pc.back() += h->above();
    qc.front() += other->below();
    qc.back() += other->above();
    if (ref_kl(pc.data(), qc.data(), bins, eps).extreme) e.tag("kl_extreme_epsilon");
  }
  std::optional<fp8::histogram> result;
  const auto the_call = [&] {
    switch (probe) {
      case 0: result.emplace(bins, lo, hi); break;
      case 1:
        guarded([&] { magnitudes ? h->add_magnitudes(xp, n) : h->add(xp, n); }, [&] { return state_of(*h); });
        break;
      case 2: guarded([&] { h->merge(*other); }, [&] { return state_of(*h); }); break;
      case 3: got_kl = fp8::kl_loss(*h, *other, eps); break;
      default: result.emplace(fp8::histogram::of_magnitudes(xp, n, bins, hi)); break;
    }
  };
  const auto check = [&]() FZ_REFERENCE {
    switch (probe) {
      case 0: {
        made = &*result;
        if (made->bins() != bins || bits(made->lo()) != bits(lo) || bits(made->hi()) != bits(hi) || made->total() != 0)
          fail("a new histogram does not hold its bins and range, or is not empty");
        const double s = static_cast<double>(bins) / (static_cast<double>(hi) - static_cast<double>(lo));
        if (!same_double(made->scale(), s)) fail("scale() = " + dnum(made->scale()) + ", expected " + dnum(s));
        // Binning: the values in random pieces through add / add_magnitudes,
        // into two histograms merged, against the rule value by value.
        fp8::histogram second(bins, lo, hi);
        const std::vector<std::size_t> cut = split_points(f, held, 1 + r.splits % 5);
        for (std::size_t k = 0; k + 1 < cut.size(); ++k) {
          fp8::histogram& into = k % 2 == 0 ? *made : second;
          const float* from = cut[k + 1] == cut[k] ? nullptr : xv.data() + cut[k];
          must("add", [&] { magnitudes ? into.add_magnitudes(from, cut[k + 1] - cut[k]) : into.add(from, cut[k + 1] - cut[k]); });
        }
        must("merge", [&] { made->merge(second); });
        check_against(*made, ref_counts(bins, lo, hi, xv.data(), held, magnitudes), "add + merge");
        for (std::size_t i = 0; i < held; ++i) {
          const float v = magnitudes ? std::fabs(xv[i]) : xv[i];
          const std::size_t want = ref_bin(v, lo, hi, bins), got = made->bin_of(v);
          if (got != want) fail("bin_of(" + fnum(v) + ") = " + std::to_string(got) + ", the rule gives " + std::to_string(want));
          std::size_t exact;
          if (exact_bin(v, lo, hi, bins, exact) && exact != want)
            fail("bin_of(" + fnum(v) + ") = " + std::to_string(got) + ", the exact partition gives " + std::to_string(exact));
        }
        break;
      }
      case 1: {
        std::vector<u64> want = ref_counts(bins, lo, hi, xv.data(), held, magnitudes);
        check_against(*h, want, magnitudes ? "add_magnitudes" : "add");
        break;
      }
      case 2: {
        std::vector<u64> want = ref_counts(bins, lo, hi, xv.data(), held / 2, false);
        const std::vector<u64> theirs = ref_counts(bins, lo, hi, xv.data() + held / 2, held - held / 2, false);
        for (std::size_t k = 0; k < want.size(); ++k) want[k] += theirs[k];
        check_against(*h, want, "merge");
        break;
      }
      case 3: {
        if (other->nan() != 0) {
          if (!(std::isinf(got_kl) && got_kl > 0)) fail("kl_loss with a NaN in the candidate = " + dnum(got_kl) + ", expected +inf");
          break;
        }
        std::vector<u64> pc(h->counts(), h->counts() + bins), qc(other->counts(), other->counts() + bins);
        pc.front() += h->below();
        pc.back() += h->above();
        qc.front() += other->below();
        qc.back() += other->above();
        const ref_kl_result k = ref_kl(pc.data(), qc.data(), bins, eps);
        if (!kl_close(got_kl, k, bins))
          fail("kl_loss = " + dnum(got_kl) + ", reference " + dnum(static_cast<double>(k.value)));
        break;
      }
      default:
        if (result->bins() != bins || result->lo() != 0.0f || bits(result->hi()) != bits(hi))
          fail("of_magnitudes: not histogram(bins, 0, amax)");
        check_against(*result, ref_counts(bins, 0.0f, hi, xv.data(), held, true), "of_magnitudes");
        break;
    }
  };
  execute(e, p, the_call, check);
}

// ---------------------------------------------------------------- kl_divergence
FZ_NO_COVERAGE u64 gen_count(filler& f, u8 mode) {
  const u8 b = f.byte();
  switch (mode % 6) {
    case 0: return b % 3 == 0 ? 0 : b % 6;
    case 1: return b % 2 == 0 ? 0 : f.u16v();
    case 2: return f.u64v() >> (b % 64);  // up to 2^64 - 1
    case 3: return b % 4 == 0 ? 0 : (u64{1} << 40) + f.u32v();
    case 4: return b < 200 ? 0 : 1;
    default: return b;
  }
}

void run_kl(const raw& r, filler& f) {
  const std::size_t bins = decode_bins(r.bins, 40), held = std::min<std::size_t>(bins, 64);
  const double eps = decode_epsilon(r.eps);
  pool p;
  const std::size_t ip = p.add("p", held * 8, 0, 8), iq = p.add("q", held * 8, 0, 8);
  if (null_first(r.layout)) p.make_null(ip);
  if (null_second(r.layout)) p.make_null(iq);
  p.allocate(r.seed);
  std::vector<u64> pv(held), qv(held);
  for (auto& c : pv) c = gen_count(f, r.values);
  const unsigned qmode = r.xmode % 6;  // 0 independent, 1 equal, 2 proportional, 3 all zero, 4 p all zero
  u64 sp = 0;
  for (u64 c : pv) sp = sp + c < sp ? ~u64{0} : sp + c;
  const u64 k = 1 + r.xmode / 8 % 7;
  for (std::size_t i = 0; i < held; ++i) {
    qv[i] = qmode == 1 ? pv[i] : qmode == 2 ? pv[i] * k : qmode == 3 ? 0 : gen_count(f, static_cast<u8>(r.values >> 3));
    if (qmode == 2 && (sp > (u64{1} << 50) / k)) qv[i] = pv[i];
  }
  if (qmode == 4) std::fill(pv.begin(), pv.end(), 0);
  put(p.storage(ip), pv.data(), held * 8);
  put(p.storage(iq), qv.data(), held * 8);
  const u64* pp = reinterpret_cast<const u64*>(p.ptr(ip));
  const u64* qp = reinterpret_cast<const u64*>(p.ptr(iq));
  expectation e;
  if (bins != 0 && pp == nullptr) e.reject("null", {"p"}, "p is null while bins > 0");
  if (bins != 0 && qp == nullptr) e.reject("null", {"q"}, "q is null while bins > 0");
  span_rule(e, pp, bins, 8, "bins"), span_rule(e, qp, bins, 8, "bins");
  if (!positive_finite(eps)) e.reject("epsilon", {"epsilon"}, "epsilon is not positive finite");
  if (bins > held && !e.has({"null", "epsilon"})) return skip();
  context() = "fp8::kl_divergence\n  bins = " + std::to_string(bins) + ", epsilon = " + dnum(eps) + ", q mode " +
              std::to_string(qmode) + "\n" + p.layout();
  for (std::size_t i = 0; i < std::min<std::size_t>(held, 8); ++i)
    context() += "  p[" + std::to_string(i) + "] = " + std::to_string(pv[i]) + ", q[" + std::to_string(i) + "] = " + std::to_string(qv[i]) + "\n";
  if (e.v != expectation::invalid && ref_kl(pv.data(), qv.data(), bins, eps).extreme) e.tag("kl_extreme_epsilon");
  double got = 0;
  const auto the_call = [&] { got = fp8::kl_divergence(pp, qp, bins, eps); };
  const auto check = [&]() FZ_REFERENCE {
    const ref_kl_result want = ref_kl(pv.data(), qv.data(), bins, eps);
    if (!kl_close(got, want, bins))
      fail("kl_divergence = " + dnum(got) + ", reference " + dnum(static_cast<double>(want.value)));
    // Identical or proportional counts (sums exact in double) give exactly 0.
    const bool proportional = qmode == 1 || qmode == 2;
    u128 sum = 0, psum = 0;
    for (std::size_t i = 0; i < bins; ++i) {
      sum += qv[i];
      psum += pv[i];
    }
    if (proportional && psum != 0 && sum < (u128{1} << 53) && got != 0.0)
      fail("kl_divergence of proportional counts = " + dnum(got) + ", expected exactly 0");
  };
  execute(e, p, the_call, check);
}

// ---------------------------------------------------------------- kld
void run_kld(const raw& r, filler& f) {
  const bool given = r.variant % 2 != 0;  // the overload with lo, hi
  const std::size_t n = decode_size(r.n, max_values), held = std::min(n, max_values);
  const std::size_t bins = decode_bins(r.bins, 64);
  const double eps = decode_epsilon(r.eps);
  float lo = 0, hi = 0;
  if (given) decode_range(r, bins, lo, hi);
  pool p;
  const std::size_t ir = p.add("r", held * 4, 0, 4), ix = p.add("x", held * 4, 0, 4);
  if (null_first(r.layout)) p.make_null(ir);
  if (null_second(r.layout)) p.make_null(ix);
  p.allocate(r.seed);
  std::vector<float> rv(held), xv(held);
  for (std::size_t i = 0; i < held; ++i) gen_pair(f, r.values, r.xmode, rv[i], xv[i]);
  put(p.storage(ir), rv.data(), held * 4);
  put(p.storage(ix), xv.data(), held * 4);
  const float* rp = reinterpret_cast<const float*>(p.ptr(ir));
  const float* xp = reinterpret_cast<const float*>(p.ptr(ix));
  expectation e;
  if (n != 0 && rp == nullptr) e.reject("null", {"r"}, "r is null while n > 0");
  if (n != 0 && xp == nullptr) e.reject("null", {"x"}, "x is null while n > 0");
  span_rule(e, rp, n, 4, "n"), span_rule(e, xp, n, 4, "n");
  if (bins < 1 || bins > (std::size_t{1} << 30)) e.reject("bins", {"bins"}, "bins not in [1, 2^30]");
  if (!positive_finite(eps)) e.reject("epsilon", {"epsilon"}, "epsilon is not positive finite");
  if (given) {
    if (!std::isfinite(lo)) e.reject("range", {"lo"}, "lo is not finite");
    if (!std::isfinite(hi)) e.reject("range", {"hi"}, "hi is not finite");
    if (std::isfinite(lo) && std::isfinite(hi) && !(lo < hi)) e.reject("range", {"hi", "lo"}, "hi is not above lo");
  }
  if (e.v != expectation::invalid && bins > 65536) return skip();  // valid, but a large allocation
  if (n > held && !e.has({"null", "bins", "epsilon", "range"})) return skip();
  context() = std::string("fp8::kld") + (given ? " (lo, hi)" : "") + "\n  n = " + std::to_string(n) + ", bins = " +
              std::to_string(bins) + ", epsilon = " + dnum(eps) + (given ? ", lo = " + fnum(lo) + ", hi = " + fnum(hi) : "") +
              "\n" + p.layout();
  for (std::size_t i = 0; i < std::min<std::size_t>(held, 8); ++i)
    context() += "  r[" + std::to_string(i) + "] = " + fnum(rv[i]) + ", x[" + std::to_string(i) + "] = " + fnum(xv[i]) + "\n";
  if (e.v != expectation::invalid && ref_kld(rv.data(), xv.data(), held, given, lo, hi, bins, eps).extreme)
    e.tag("kl_extreme_epsilon");
  double got = 0;
  const auto the_call = [&] { got = given ? fp8::kld(rp, xp, n, lo, hi, bins, eps) : fp8::kld(rp, xp, n, bins, eps); };
  const auto check = [&]() FZ_REFERENCE {
    const ref_kl_result want = ref_kld(rv.data(), xv.data(), held, given, lo, hi, bins, eps);
    if (!kl_close(got, want, bins))
      fail("kld = " + dnum(got) + ", the restated definition gives " + dnum(static_cast<double>(want.value)));
  };
  execute(e, p, the_call, check);
}

// ---------------------------------------------------------------- search_weights
// The largest magnitude M of each fp8::qformat, from the specifications
// (tests/reference.hpp) and the integer ranges.
double format_max(int q) {
  switch (q) {
    case 0: return ref::e4m3.max;
    case 1: return ref::e5m2.max;
    case 2: return ref::e4m3fnuz.max;
    case 3: return ref::e5m2fnuz.max;
    case 4: return 127.0;
    default: return 7.0;
  }
}
// Quantize-dequantize of one weight at scale s: FP8 by the reference encoder
// (saturating) and float(value) * s; int8 / int4 ONNX with zero point 0.
template <class F>
FZ_NO_COVERAGE float qdq_fp8(float w, float s) {
  const u8 code = ref_encode<F>(static_cast<double>(w / s), true);
  return static_cast<float>(code_value<F>(code)) * s;
}
FZ_NO_COVERAGE float qdq(int q, float w, float s) {
  switch (q) {
    case 0: return qdq_fp8<fp8::E4M3>(w, s);
    case 1: return qdq_fp8<fp8::E5M2>(w, s);
    case 2: return qdq_fp8<fp8::E4M3FNUZ>(w, s);
    case 3: return qdq_fp8<fp8::E5M2FNUZ>(w, s);
    default: {
      const double lo = q == 4 ? -128.0 : -8.0, hi = q == 4 ? 127.0 : 7.0;
      const double c = std::min(std::max(std::nearbyint(static_cast<double>(w / s)), lo), hi);
      return static_cast<float>(c * static_cast<double>(s));  // exact product, one rounding
    }
  }
}
// The smallest e with a <= M 2^e, clamped to [-126, 127]; 0 for a == 0.
int ref_exponent(float a, double m) {
  if (a == 0.0f) return 0;
  int e = std::ilogb(a) - std::ilogb(m) - 2;  // M 2^e < a here
  while (static_cast<double>(a) > std::ldexp(m, e)) ++e;
  return std::min(127, std::max(-126, e));
}
struct ref_rule {
  int kind;  // 0 power of two, 1 amax, 2 clip
  int exponent;
  float ratio;
};
// A rule's scale for a channel of largest magnitude a, or 0 (no valid scale).
float ref_scale(const ref_rule& rule, bool relative, int q, float a) {
  const double m = format_max(q);
  if (rule.kind == 0) {
    const long long e = relative ? static_cast<long long>(ref_exponent(a, m)) + rule.exponent : rule.exponent;
    return e < -126 || e > 127 ? 0.0f : std::ldexp(1.0f, static_cast<int>(e));
  }
  if (a == 0.0f) return 1.0f;
  const float s = static_cast<float>(static_cast<double>(rule.ratio) * static_cast<double>(a) / m);
  return s >= 0x1p-126f ? s : 0.0f;
}

struct search_call {
  std::size_t rows = 0, cols = 0, ld = 0;
  const float* w = nullptr;
  fp8::search_options o;
  std::vector<int> formats;  // as decoded (may hold non-enumerators)
  int objective = 0, axis = 0;
};

void run_search(const raw& r, filler& f) {
  search_call c;
  c.rows = decode_size(r.rows, 16);
  c.cols = decode_size(r.cols, 64);
  c.ld = decode_ld(r.ld, c.cols);
  for (unsigned i = 0; i < r.nformats % 5u; ++i)
    c.formats.push_back(decode_enum(static_cast<u8>(r.formats >> (8 * i)), 6));
  c.objective = decode_enum(r.metric, 6);
  c.axis = decode_enum(r.axis, 2);
  fp8::search_options& o = c.o;
  o.formats.clear();
  for (int q : c.formats) o.formats.push_back(static_cast<fp8::qformat>(q));
  o.scales.powers_of_two = (r.flags & 1u) != 0;
  o.scales.relative_to_amax = (r.flags & 2u) == 0;
  o.scales.amax = (r.flags & 4u) == 0;
  o.per_channel = (r.flags & 8u) != 0;
  o.table_kld = (r.flags & 16u) != 0 && (r.flags & 64u) != 0;
  o.scales.exponent_lo = decode_exponent(r.exp_lo);
  o.scales.exponent_hi = decode_exponent(r.exp_hi);
  o.scales.clip_steps = decode_clip_steps(r.clip_steps);
  o.scales.clip_min = decode_float(r.clip_min);
  o.objective = static_cast<fp8::metric>(c.objective);
  o.channel = static_cast<fp8::axis>(c.axis);
  const u128 need = c.rows == 0 || c.cols == 0 ? 0 : static_cast<u128>(c.rows - 1) * c.ld + c.cols;
  const std::size_t held = static_cast<std::size_t>(std::min<u128>(need, 16 * 72));
  pool p;
  const std::size_t iw = p.add("w", held * 4, (r.layout & 3u) * 4, 4);
  if (null_first(r.layout)) p.make_null(iw);
  p.allocate(r.seed);
  std::vector<float> wv(held);
  // Weights: a distribution, a channel of zeros now and then (values mode
  // 7), tiny or huge magnitudes, and one bad value (bad_kind).
  for (std::size_t i = 0; i < held; ++i) {
    float v = gen_float(f, static_cast<u8>(r.values % 6 == 0 ? 1 : r.values));
    if (!std::isfinite(v)) v = 1.5f;
    if (r.values % 8 == 7 && c.ld != 0 && (i / c.ld) % 3 == 1) v = 0.0f;
    if (r.values % 16 == 13) v = std::ldexp(v, -120);
    wv[i] = v;
  }
  if (held != 0 && r.bad_kind % 8 >= 1 && r.bad_kind % 8 <= 3) {
    const float bad[] = {0, std::numeric_limits<float>::quiet_NaN(), HUGE_VALF, -HUGE_VALF};
    wv[r.bad_index % held] = bad[r.bad_kind % 8];
  }
  put(p.storage(iw), wv.data(), held * 4);
  c.w = reinterpret_cast<const float*>(p.ptr(iw));
  const fp8::scale_candidates& sc = o.scales;

  // ---- CONTRACT (docs/ptq.md "Weight search"; README "Arguments").
  expectation e;
  if (c.rows == 0) e.reject("size", {"rows"}, "rows is zero");
  if (c.cols == 0) e.reject("size", {"cols"}, "cols is zero");
  if (c.w == nullptr) e.reject("null", {"w"}, "w is null");
  if (c.ld < c.cols) e.reject("ld", {"ld"}, "ld < cols");
  const u128 bytes = need > size_max ? static_cast<u128>(size_max) + 1 : need * 4;  // need * 4 could wrap u128
  if (c.rows != 0 && c.cols != 0 && c.ld >= c.cols) {
    if (bytes > size_max) e.reject("count_overflow", {"ld", "rows", "cols"}, "the extent of w overflows size_t");
    // (Finding: with cols > SIZE_MAX / 4 the library's extent test wraps.)
    if (bytes > size_max && c.cols > size_max / 4) e.tag("search_cols_wrap");
    else if (wraps(c.w, bytes)) e.reject("address_wrap", {"ld", "rows", "w"}, "w runs past the end of the address space");
  }
  if (c.formats.empty()) e.reject("formats", {"options.formats"}, "options.formats is empty");
  for (int q : c.formats)
    if (q < 0 || q > 5) e.reject("enum", {"options.formats"}, "a format is not an fp8::qformat");
  if (!valid_metric(c.objective)) e.reject("enum", {"options.objective"}, "objective is not an fp8::metric");
  if (c.axis != 0 && c.axis != 1) e.reject("enum", {"options.channel"}, "channel is not an fp8::axis");
  const bool exp_bad = sc.exponent_lo > sc.exponent_hi || sc.exponent_lo < -300 || sc.exponent_hi > 300;
  const bool clip_bad = !(sc.clip_min > 0.0f && sc.clip_min < 1.0f);
  const char* exp_names[] = {"options.scales.exponent_lo", "options.scales.exponent_hi"};
  if (exp_bad && sc.powers_of_two) e.reject("scales", {exp_names[0], exp_names[1]}, "exponent_lo > exponent_hi, or outside [-300, 300]");
  if (clip_bad && sc.clip_steps != 0) e.reject("scales", {"options.scales.clip_min"}, "clip_min not in (0, 1)");
  if (sc.clip_steps > 4096) e.reject("scales", {"options.scales.clip_steps"}, "clip_steps > 4096");
  if (!sc.powers_of_two && !sc.amax && sc.clip_steps == 0) e.reject("scales", {"options.scales"}, "no candidate");
  // The README lists the exponent and clip_min rules without a condition;
  // the fields are unused without powers of two or clipping steps: open.
  if (exp_bad && !sc.powers_of_two) e.open("unused_field", "exponents invalid but powers_of_two is off");
  if (clip_bad && sc.clip_steps == 0) e.open("unused_field", "clip_min invalid but clip_steps is 0");
  const bool fits = need <= held && c.ld >= c.cols && c.rows <= 16;
  if (fits && c.w != nullptr)
    for (std::size_t i = 0; i < c.rows && c.cols != 0; ++i)
      for (std::size_t j = 0; j < c.cols; ++j)
        if (!std::isfinite(wv[i * c.ld + j])) {
          e.reject("w", {"w"}, "w[" + std::to_string(i) + "][" + std::to_string(j) + "] is not finite");
          i = c.rows;
          break;
        }
  // Candidates: needs the weights (a valid call of held size only).
  std::vector<ref_rule> rules;
  std::size_t channels = 0, len = 0;
  std::vector<std::vector<float>> chan;  // channel values, contiguous
  std::vector<float> amax;
  const bool runnable = e.v != expectation::invalid && fits && c.w != nullptr;
  if (runnable) {
    if (sc.powers_of_two)
      for (int x = sc.exponent_lo; x <= sc.exponent_hi; ++x) rules.push_back({0, x, 1.0f});
    if (sc.amax) rules.push_back({1, 0, 1.0f});
    for (std::size_t i = 1; i <= sc.clip_steps; ++i)
      rules.push_back({2, 0, static_cast<float>(1.0 - static_cast<double>(i) * (1.0 - static_cast<double>(sc.clip_min)) /
                                                          static_cast<double>(sc.clip_steps))});
    const bool cols_axis = o.per_channel && c.axis == 1;
    channels = !o.per_channel ? 1 : cols_axis ? c.cols : c.rows;
    len = !o.per_channel ? c.rows * c.cols : cols_axis ? c.rows : c.cols;
    chan.assign(channels, {});
    for (std::size_t i = 0; i < c.rows; ++i)
      for (std::size_t j = 0; j < c.cols; ++j)
        chan[!o.per_channel ? 0 : cols_axis ? j : i].push_back(wv[i * c.ld + j]);
    for (const auto& ch : chan) {
      float a = 0;
      for (float v : ch) a = std::max(a, std::fabs(v));
      amax.push_back(a);
    }
    // At least one candidate with a normal-float scale: per tensor any
    // (format, rule); per channel every channel needs one in a format that
    // works on every channel (a format failing on some channel while another
    // works everywhere: the docs do not say, so open).
    std::size_t formats_ok = 0;
    bool any = false, all = true;
    for (int q : c.formats) {
      bool everywhere = true;
      for (std::size_t ch = 0; ch < channels; ++ch) {
        bool one = false;
        for (const ref_rule& rule : rules) one = one || ref_scale(rule, sc.relative_to_amax, q, amax[ch]) != 0.0f;
        everywhere = everywhere && one;
        any = any || one;
      }
      formats_ok += everywhere;
      all = all && everywhere;
    }
    if (!o.per_channel && !any) e.reject("no_scale", {"options.scales"}, "no candidate gives a normal-float scale");
    if (o.per_channel && formats_ok == 0) e.reject("no_scale", {"options.scales"}, "no format has a valid scale on every channel");
    else if (o.per_channel && !all) e.open("pc_partial_scales", "a format has no valid scale on some channel");
  }
  // Size limits of the input (well under a millisecond): candidates times
  // elements, kld passes at about 8000 element-equivalents each.
  const bool kld_any = c.objective == 5 || o.table_kld;
  // (A kld is two 2048-bin histograms and up to 2048 logarithms: each call
  // costs as much as thousands of elements.)
  const double candidates = static_cast<double>(rules.size()) * static_cast<double>(c.formats.size());
  const double cost = candidates * static_cast<double>(channels * len) * 2.0;
  const double kld_calls = (c.objective == 5 ? candidates * static_cast<double>(channels) : 0.0) +
                           (kld_any ? candidates + static_cast<double>(c.formats.size()) : 0.0);
  if (e.v != expectation::invalid && (!runnable || cost > 16000.0 || kld_calls > 12.0)) return skip();

  context() = "fp8::search_weights\n  rows = " + std::to_string(c.rows) + ", cols = " + std::to_string(c.cols) +
              ", ld = " + std::to_string(c.ld) + "\n  formats {";
  for (int q : c.formats) context() += " " + std::to_string(q);
  context() += " }, objective " + std::to_string(c.objective) + ", per_channel " + std::to_string(o.per_channel) +
               ", channel " + std::to_string(c.axis) + ", table_kld " + std::to_string(o.table_kld) +
               "\n  scales: powers_of_two " + std::to_string(sc.powers_of_two) + " [" + std::to_string(sc.exponent_lo) +
               ", " + std::to_string(sc.exponent_hi) + "], relative_to_amax " + std::to_string(sc.relative_to_amax) +
               ", amax " + std::to_string(sc.amax) + ", clip_steps " + std::to_string(sc.clip_steps) + ", clip_min " +
               fnum(sc.clip_min) + "\n" + p.layout();
  for (std::size_t i = 0; i < std::min<std::size_t>(held, 8); ++i) context() += "  w[" + std::to_string(i) + "] = " + fnum(wv[i]) + "\n";

  fp8::search_result res;
  const auto the_call = [&] { res = fp8::search_weights(c.w, c.rows, c.cols, c.ld, o); };
  const auto check = [&]() FZ_REFERENCE {
    // Every candidate tried: the table, the per-channel choices and the winner.
    const std::size_t nf = c.formats.size(), nr = rules.size();
    const bool kld_obj = c.objective == 5;
    const auto metric_of = [&](const fp8::error_stats& s) { return kld_obj ? 0.0 : fp8::loss(o.objective, s); };
    std::vector<fp8::error_stats> rule_stats(nf * nr), best_stats(nf);
    std::vector<char> rule_valid(nf * nr, 1);
    std::vector<double> best_total(nf, 0.0);
    std::vector<float> best_scale(nf * channels, 1.0f);
    std::vector<float> qv(len);
    const auto quantized = [&](int q, std::size_t ch, float s) {
      for (std::size_t i = 0; i < len; ++i) qv[i] = qdq(q, chan[ch][i], s);
      return qv.data();
    };
    for (std::size_t ch = 0; ch < channels; ++ch)
      for (std::size_t fi = 0; fi < nf; ++fi) {
        double least = inf;
        fp8::error_stats least_stats;
        bool found = false;
        for (std::size_t ri = 0; ri < nr; ++ri) {
          const float s = ref_scale(rules[ri], sc.relative_to_amax, c.formats[fi], amax[ch]);
          if (s == 0.0f) {
            rule_valid[fi * nr + ri] = 0;
            continue;
          }
          fp8::error_stats st;
          st.add(chan[ch].data(), quantized(c.formats[fi], ch, s), len);
          rule_stats[fi * nr + ri].merge(st);
          const double l = kld_obj ? fp8::kld(chan[ch].data(), qv.data(), len) : metric_of(st);
          if (!found || l < least) {
            found = true;
            least = l;
            least_stats = st;
            best_scale[fi * channels + ch] = s;
          }
        }
        best_stats[fi].merge(least_stats);
        best_total[fi] += least;
      }
    std::vector<float> whole_ref, whole_q;
    for (const auto& ch : chan) whole_ref.insert(whole_ref.end(), ch.begin(), ch.end());
    const auto whole_kld = [&](int q, const float* scales) {
      whole_q.clear();
      for (std::size_t ch = 0; ch < channels; ++ch) {
        quantized(q, ch, scales[ch]);
        whole_q.insert(whole_q.end(), qv.begin(), qv.end());
      }
      return fp8::kld(whole_ref.data(), whole_q.data(), whole_ref.size());
    };
    std::vector<fp8::search_row> want;
    std::vector<float> scales(channels);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const auto fill = [&](fp8::search_row& row, const fp8::error_stats& st) {
      row.mse = st.mse();
      row.mae = st.mae();
      row.max_abs = st.max_abs();
      row.snr_db = st.snr_db();
      row.cos_dist = st.cos_dist();
      row.loss = kld_obj ? nan : metric_of(st);
      row.kld = nan;
    };
    for (std::size_t fi = 0; fi < nf; ++fi)
      for (std::size_t ri = 0; ri < nr; ++ri) {
        if (!rule_valid[fi * nr + ri]) continue;
        fp8::search_row row;
        row.format = o.formats[fi];
        row.rule = rules[ri].kind == 0 ? fp8::scale_rule::power_of_two : rules[ri].kind == 1 ? fp8::scale_rule::amax : fp8::scale_rule::clip;
        row.exponent = rules[ri].exponent;
        row.ratio = rules[ri].ratio;
        for (std::size_t ch = 0; ch < channels; ++ch) scales[ch] = ref_scale(rules[ri], sc.relative_to_amax, c.formats[fi], amax[ch]);
        row.scale = o.per_channel ? std::numeric_limits<float>::quiet_NaN() : scales[0];
        fill(row, rule_stats[fi * nr + ri]);
        if (kld_any) row.kld = whole_kld(c.formats[fi], scales.data());
        if (kld_obj) row.loss = row.kld;
        want.push_back(row);
      }
    std::size_t winner = 0, best = 0;
    if (o.per_channel) {
      for (std::size_t fi = 0; fi < nf; ++fi) {
        fp8::search_row row;
        row.format = o.formats[fi];
        row.rule = fp8::scale_rule::per_channel_best;
        row.scale = std::numeric_limits<float>::quiet_NaN();
        fill(row, best_stats[fi]);
        if (kld_any) row.kld = whole_kld(c.formats[fi], best_scale.data() + fi * channels);
        if (kld_obj) row.loss = row.kld;
        want.push_back(row);
        if (best_total[fi] < best_total[winner]) winner = fi;
      }
      best = want.size() - nf + winner;
    } else {
      for (std::size_t i = 1; i < want.size(); ++i)
        if (want[i].loss < want[best].loss) best = i;
    }
    // The comparison.
    if (res.table.size() != want.size())
      fail("table has " + std::to_string(res.table.size()) + " rows, expected " + std::to_string(want.size()));
    for (std::size_t i = 0; i < want.size(); ++i) {
      const fp8::search_row &g = res.table[i], &w = want[i];
      const std::string at = "table[" + std::to_string(i) + "]";
      if (g.format != w.format || g.rule != w.rule || g.exponent != w.exponent || bits(g.ratio) != bits(w.ratio))
        fail(at + ": format/rule/exponent/ratio " + std::to_string(static_cast<int>(g.format)) + "/" +
             std::to_string(static_cast<int>(g.rule)) + "/" + std::to_string(g.exponent) + "/" + fnum(g.ratio) +
             ", expected " + std::to_string(static_cast<int>(w.format)) + "/" + std::to_string(static_cast<int>(w.rule)) +
             "/" + std::to_string(w.exponent) + "/" + fnum(w.ratio));
      if (!(bits(g.scale) == bits(w.scale) || (std::isnan(g.scale) && std::isnan(w.scale))))
        fail(at + ".scale = " + fnum(g.scale) + ", expected " + fnum(w.scale));
      const struct {
        const char* name;
        double got, want;
      } v[] = {{"mse", g.mse, w.mse}, {"mae", g.mae, w.mae}, {"max_abs", g.max_abs, w.max_abs},
               {"snr_db", g.snr_db, w.snr_db}, {"cos_dist", g.cos_dist, w.cos_dist}, {"kld", g.kld, w.kld},
               {"loss", g.loss, w.loss}};
      for (const auto& x : v)
        if (!same_double(x.got, x.want)) fail(at + "." + x.name + " = " + dnum(x.got) + ", expected " + dnum(x.want));
    }
    if (res.best != best) fail("best = " + std::to_string(res.best) + ", the brute-force minimum is row " + std::to_string(best));
    const fp8::qformat wf = o.per_channel ? o.formats[winner] : want[best].format;
    if (res.format != wf) fail("format = " + std::to_string(static_cast<int>(res.format)) + ", expected " + std::to_string(static_cast<int>(wf)));
    std::vector<float> ws = o.per_channel ? std::vector<float>(best_scale.begin() + static_cast<std::ptrdiff_t>(winner * channels),
                                                               best_scale.begin() + static_cast<std::ptrdiff_t>((winner + 1) * channels))
                                          : std::vector<float>{want[best].scale};
    if (res.scales.size() != ws.size()) fail("scales has " + std::to_string(res.scales.size()) + " entries, expected " + std::to_string(ws.size()));
    for (std::size_t i = 0; i < ws.size(); ++i)
      if (bits(res.scales[i]) != bits(ws[i])) fail("scales[" + std::to_string(i) + "] = " + fnum(res.scales[i]) + ", expected " + fnum(ws[i]));
  };
  execute(e, p, the_call, check);
}

// ---------------------------------------------------------------- calibrator
struct calib_state {
  std::size_t bins;
  float range, amax;
  u64 count, nonfinite;
  std::vector<u64> b;
  bool operator!=(const calib_state& o) const {
    return bins != o.bins || bits(range) != bits(o.range) || bits(amax) != bits(o.amax) || count != o.count ||
           nonfinite != o.nonfinite || b != o.b;
  }
};
calib_state state_of(const fp8::calibrator& c) {
  calib_state s{c.bins(), c.range(), c.amax(), c.count(), c.nonfinite(), {}};
  for (std::size_t j = 0; j < c.bins(); ++j) s.b.push_back(c.bin(j));
  return s;
}
FZ_NO_COVERAGE float gen_calib_value(filler& f, u8 mode) {
  switch (mode % 8) {
    case 6: return (f.byte() & 1u) ? 0.0f : -0.0f;  // zeros only
    case 7: {
      const u8 b = f.byte();
      if (b < 16) return b % 2 ? std::numeric_limits<float>::quiet_NaN() : (b % 4 ? HUGE_VALF : -HUGE_VALF);
      if (b < 32) return (b % 2 ? 1.0f : -1.0f) * std::ldexp(1.0f + static_cast<float>(b) / 64.0f, 127);  // >= 2^127
      return gen_float(f, 1);
    }
    default: return gen_float(f, mode);
  }
}

void run_calib(const raw& r, filler& f) {
  const int probe = r.variant % 5;  // 0 constructor, 1 add (null), 2 merge, 3 threshold, 4 scale
  const std::size_t bins = decode_calibrator_bins(r.bins);
  const std::size_t bins2 = r.bins2 >= 0xC000 ? decode_calibrator_bins(static_cast<u16>(r.bins2 & 0x3FFFu)) : bins;
  const std::size_t n = decode_size(r.n, max_values), held = std::min(n, max_values);
  const int method = decode_enum(r.method, 4), fmt = decode_enum(r.fmt, 6);
  const double pct = decode_percentile(r.percentile);
  const auto bins_ok = [](std::size_t b) { return b >= 8 && b <= (std::size_t{1} << 24) && (b & (b - 1)) == 0; };
  pool p;
  const std::size_t ix = p.add("x", held * 4, 0, 4);
  if (null_first(r.layout)) p.make_null(ix);
  p.allocate(r.seed);
  std::vector<float> xv(held);
  for (auto& v : xv) v = gen_calib_value(f, r.values);
  put(p.storage(ix), xv.data(), held * 4);
  const float* xp = reinterpret_cast<const float*>(p.ptr(ix));

  expectation e;
  if (probe == 0 && !bins_ok(bins)) e.reject("bins", {"bins"}, "bins is not a power of two in [8, 2^24]");
  if (probe != 0 && !bins_ok(bins)) return skip();  // the other probes need a calibrator
  if (probe == 1 && n != 0 && xp == nullptr) e.reject("null", {"x"}, "x is null while n > 0");
  if (probe == 1) span_rule(e, xp, n, 4, "n");
  if (probe == 2) {
    if (!bins_ok(bins2)) return skip();
    if (bins2 != bins) e.reject("bins", {"other"}, "other has another number of bins");
  }
  if (probe >= 3) {
    if (method < 0 || method > 3) e.reject("enum", {"method"}, "method is not an fp8::calibration");
    if (fmt < 0 || fmt > 5) e.reject("enum", {"f"}, "f is not an fp8::qformat");
    const bool pct_bad = !(pct > 0.0 && pct <= 100.0);
    if (pct_bad && method == 1) e.reject("percentile", {"percentile"}, "percentile not in (0, 100]");
    else if (pct_bad) e.open("unused_field", "percentile invalid but the method is not percentile");
  }
  // Valid calibrators large enough to be slow (an entropy threshold is
  // quadratic in the bins) are left out.
  if (probe == 0 ? e.v != expectation::invalid && bins > 256 : (bins > 256 || (probe == 2 && bins2 > 256))) return skip();
  if (n > held && !e.has({"null", "bins"})) return skip();
  if (xp == nullptr && n != 0 && probe != 1) return skip();

  context() = std::string("fp8::calibrator, probe ") +
              (probe == 0 ? "calibrator(bins)" : probe == 1 ? "add" : probe == 2 ? "merge" : probe == 3 ? "threshold" : "scale") +
              "\n  bins = " + std::to_string(bins) + ", other's bins = " + std::to_string(bins2) + ", n = " + std::to_string(n) +
              ", method = " + std::to_string(method) + ", f = " + std::to_string(fmt) + ", percentile = " + dnum(pct) +
              ", splits byte " + hex(r.splits) + "\n" + p.layout();
  for (std::size_t i = 0; i < std::min<std::size_t>(held, 8); ++i) context() += "  x[" + std::to_string(i) + "] = " + fnum(xv[i]) + "\n";

  // p / 100 of the count underflowing to 0 in double (a subnormal p) makes
  // an empty first bin "reach" it (finding, tag percentile_underflow).
  u64 finite = 0;
  for (float x : xv) finite += std::isfinite(x);
  const double p_used = pct > 0.0 && pct <= 100.0 ? pct : 99.99;
  if ((probe == 0 || method == 1) && finite != 0 && p_used / 100.0 * static_cast<double>(finite) == 0.0)
    e.tag("percentile_underflow");
  std::optional<fp8::calibrator> a, other;
  if (probe != 0) {
    must("calibrator(bins)", [&] { a.emplace(bins); });
    must("calibrator::add", [&] { a->add(xv.data(), held); });
  }
  if (probe == 2) {
    must("calibrator(bins) (the other)", [&] { other.emplace(bins2); });
    must("calibrator::add", [&] { other->add(xv.data(), held / 2); });
  }
  float got_t = 0;
  const auto the_call = [&] {
    switch (probe) {
      case 0: a.emplace(bins); break;
      case 1: guarded([&] { a->add(xp, n); }, [&] { return state_of(*a); }); break;
      case 2: guarded([&] { a->merge(*other); }, [&] { return state_of(*a); }); break;
      case 3: got_t = a->threshold(static_cast<fp8::calibration>(method), static_cast<fp8::qformat>(fmt), pct); break;
      default: got_t = a->scale(static_cast<fp8::calibration>(method), static_cast<fp8::qformat>(fmt), pct); break;
    }
  };
  // The reference: amax, counts, range and bins from the values.
  const auto reference = [&](const float* v, std::size_t count, std::size_t nb) {
    calib_state s{nb, 0.0f, 0.0f, 0, 0, std::vector<u64>(nb, 0)};
    for (std::size_t i = 0; i < count; ++i) {
      if (!std::isfinite(v[i])) {
        ++s.nonfinite;
        continue;
      }
      ++s.count;
      s.amax = std::max(s.amax, std::fabs(v[i]));
    }
    if (s.amax != 0.0f) s.range = std::ldexp(1.0f, std::min(std::ilogb(s.amax) + 1, 127));
    const double width = static_cast<double>(s.range) / static_cast<double>(nb);
    for (std::size_t i = 0; i < count; ++i) {
      if (!std::isfinite(v[i])) continue;
      const double t = s.range == 0.0f ? 0.0 : std::floor(static_cast<double>(std::fabs(v[i])) / width);
      ++s.b[t >= static_cast<double>(nb - 1) ? nb - 1 : static_cast<std::size_t>(t)];
    }
    return s;
  };
  const auto expect_state = [&](const calib_state& got, const calib_state& want, const std::string& who) {
    if (got.count != want.count || got.nonfinite != want.nonfinite || bits(got.amax) != bits(want.amax) ||
        bits(got.range) != bits(want.range))
      fail(who + ": count/nonfinite/amax/range " + std::to_string(got.count) + "/" + std::to_string(got.nonfinite) + "/" +
           fnum(got.amax) + "/" + fnum(got.range) + ", expected " + std::to_string(want.count) + "/" +
           std::to_string(want.nonfinite) + "/" + fnum(want.amax) + "/" + fnum(want.range));
    for (std::size_t j = 0; j < want.b.size(); ++j)
      if (got.b[j] != want.b[j])
        fail(who + ": bin(" + std::to_string(j) + ") = " + std::to_string(got.b[j]) + ", floor(|x| / width) gives " + std::to_string(want.b[j]));
  };
  const auto check = [&]() FZ_REFERENCE {
    switch (probe) {
      case 1: {  // the values twice: before the probe and by it
        std::vector<float> twice(xv);
        if (n != 0) twice.insert(twice.end(), xv.begin(), xv.end());
        expect_state(state_of(*a), reference(twice.data(), twice.size(), bins), "add");
        return;
      }
      case 2: {
        std::vector<float> both(xv);
        both.insert(both.end(), xv.begin(), xv.begin() + static_cast<std::ptrdiff_t>(held / 2));
        expect_state(state_of(*a), reference(both.data(), both.size(), bins), "merge");
        return;
      }
      case 3: case 4: {
        const float t = a->threshold(static_cast<fp8::calibration>(method), static_cast<fp8::qformat>(fmt), pct);
        const calib_state s = state_of(*a);
        if (!(t >= 0.0f && t <= s.amax)) fail("threshold " + fnum(t) + " outside [0, amax = " + fnum(s.amax) + "]");
        if (probe == 4) {
          const double m = format_max(fmt);
          const float want = t == 0.0f ? 1.0f : std::max(static_cast<float>(static_cast<double>(t) / m), 0x1p-126f);
          if (bits(got_t) != bits(want)) fail("scale = " + fnum(got_t) + ", expected threshold / M = " + fnum(want));
        }
        return;
      }
      default: break;
    }
    // probe 0: one batch, random batches, and segments in several
    // calibrators merged in a random order: the same bins and thresholds.
    fp8::calibrator one(bins), batches(bins), merged(bins);
    must("add", [&] { one.add(xv.data(), held); });
    const std::vector<std::size_t> cut = split_points(f, held, 1 + r.splits % 6);
    for (std::size_t k = 0; k + 1 < cut.size(); ++k) {
      const std::size_t len = cut[k + 1] - cut[k];
      must("add (a batch)", [&] { batches.add(len == 0 ? nullptr : xv.data() + cut[k], len); });
    }
    const unsigned parts = 1 + (r.splits >> 4) % 4;
    const std::vector<std::size_t> seg = split_points(f, held, parts);
    std::vector<fp8::calibrator> cs;
    for (std::size_t k = 0; k + 1 < seg.size(); ++k) {
      cs.emplace_back(bins);
      must("add (a segment)", [&] { cs.back().add(xv.data() + seg[k], seg[k + 1] - seg[k]); });
    }
    // A random merge tree: merge a random pair until one is left.
    while (cs.size() > 1) {
      const std::size_t i = f.byte() % cs.size(), j = (i + 1 + f.byte() % (cs.size() - 1)) % cs.size();
      must("merge", [&] { cs[i].merge(cs[j]); });
      cs.erase(cs.begin() + static_cast<std::ptrdiff_t>(j));
    }
    must("merge", [&] { merged.merge(cs[0]); });
    must("merge (empty)", [&] { merged.merge(fp8::calibrator(bins)); });
    const calib_state want = reference(xv.data(), held, bins);
    expect_state(state_of(*a), calib_state{bins, 0.0f, 0.0f, 0, 0, std::vector<u64>(bins, 0)}, "a new calibrator");
    expect_state(state_of(one), want, "one batch");
    expect_state(state_of(batches), want, "batches");
    expect_state(state_of(merged), want, "merged");
    const int f0 = fmt >= 0 && fmt <= 5 ? fmt : 0;
    // Entropy and mse thresholds cost about bins^2 each: all methods for a
    // second format only on small histograms, and only amax and percentile
    // past 64 bins.
    const int formats[] = {f0, (f0 + 3 + (r.splits & 1)) % 6};
    const double p_ok = pct > 0.0 && pct <= 100.0 ? pct : 99.99;
    for (int m = 0; m < 4; ++m)
      for (int q : formats) {
        if ((m >= 2 && bins > 64) || (q != f0 && bins > 16)) continue;
        const auto th = [&](const fp8::calibrator& x) {
          float t = 0;
          must("threshold", [&] { t = x.threshold(static_cast<fp8::calibration>(m), static_cast<fp8::qformat>(q), p_ok); });
          return t;
        };
        const float t1 = th(one), t2 = th(batches), t3 = th(merged);
        const std::string what = "threshold(method " + std::to_string(m) + ", f " + std::to_string(q) + ")";
        if (bits(t1) != bits(t2) || bits(t1) != bits(t3))
          fail(what + " differs: one batch " + fnum(t1) + ", batches " + fnum(t2) + ", merged " + fnum(t3));
        if (!(t1 >= 0.0f && t1 <= want.amax)) fail(what + " = " + fnum(t1) + " outside [0, amax = " + fnum(want.amax) + "]");
        if (m == 0 && bits(t1) != bits(want.amax)) fail(what + " = " + fnum(t1) + ", expected amax " + fnum(want.amax));
        if (m == 1 && want.amax != 0.0f) {
          // The upper edge of the first bin whose cumulative count reaches
          // p / 100 of the total, capped at amax; a bin whose count lies
          // within rounding of the target may go either way.
          const double w = static_cast<double>(want.range) / static_cast<double>(bins);
          const ld_t target = static_cast<ld_t>(p_ok) / 100 * static_cast<ld_t>(want.count);
          u64 cum = 0;
          float lo_t = -1, hi_t = -1;
          for (std::size_t j = 0; j < bins; ++j) {
            cum += want.b[j];
            const float edge = std::min(want.amax, static_cast<float>(static_cast<double>(j + 1) * w));
            if (lo_t < 0 && static_cast<ld_t>(cum) >= target * (1 - 0x1p-50L)) lo_t = edge;
            if (hi_t < 0 && static_cast<ld_t>(cum) >= target * (1 + 0x1p-50L)) hi_t = edge;
          }
          if (lo_t < 0) lo_t = want.amax;
          if (hi_t < 0) hi_t = want.amax;
          if (!(t1 >= lo_t && t1 <= hi_t))
            fail(what + " = " + fnum(t1) + ", the percentile rule gives " + fnum(lo_t) + (lo_t != hi_t ? " .. " + fnum(hi_t) : ""));
        }
      }
  };
  execute(e, p, the_call, check);
}

// ---------------------------------------------------------------- solve_mixed_precision
// An exact sum of doubles: a two's-complement integer in units of 2^base
// (base: the lowest set bit of any sensitivity of the instance), 32-bit limbs.
struct big {
  std::vector<std::int64_t> limb;  // little-endian, each in [0, 2^32) after normalize, top one signed
  static int base;
  static std::size_t width;
  big() : limb(width, 0) {}
  static big of(double x) {
    big b;
    if (x == 0.0) return b;
    int e;
    const double m = std::frexp(std::fabs(x), &e);           // |x| = m 2^e
    u64 mant = static_cast<u64>(std::ldexp(m, 53));          // |x| = mant 2^(e - 53)
    int shift = e - 53 - base;                               // >= 0 with trailing zeros dropped
    while (shift < 0) {
      mant >>= 1;  // the bits dropped are zero (base is the lowest set bit)
      ++shift;
    }
    const std::size_t at = static_cast<std::size_t>(shift / 32);
    const unsigned off = static_cast<unsigned>(shift % 32);
    const u128 wide = static_cast<u128>(mant) << off;
    for (std::size_t k = 0; k < 4 && at + k < width; ++k) {
      const auto part = static_cast<std::int64_t>(static_cast<u64>(wide >> (32 * k)) & 0xFFFFFFFFu);
      b.limb[at + k] = x < 0 ? -part : part;
    }
    b.normalize();
    return b;
  }
  void normalize() {
    for (std::size_t k = 0; k + 1 < width; ++k) {
      const std::int64_t carry = limb[k] >> 32;  // arithmetic: floor division
      limb[k] -= carry * (std::int64_t{1} << 32);
      limb[k + 1] += carry;
    }
  }
  // Limbs are added without carrying: a sum of a few normalized values
  // stays far inside int64; compare() and rounded() normalize.
  big& operator+=(const big& o) {
    for (std::size_t k = 0; k < width; ++k) limb[k] += o.limb[k];
    return *this;
  }
  int sign() const {
    if (limb[width - 1] != 0) return limb[width - 1] < 0 ? -1 : 1;
    for (std::size_t k = width; k-- > 0;)
      if (limb[k] != 0) return 1;
    return 0;
  }
  friend int compare(big a, const big& b) {
    for (std::size_t k = 0; k < width; ++k) a.limb[k] -= b.limb[k];
    a.normalize();
    return a.sign();
  }
  // Rounded once to the nearest double, ties to even.
  double rounded() const {
    big a = *this;
    a.normalize();
    const int s = a.sign();
    if (s == 0) return 0.0;
    if (s < 0) {
      for (auto& l : a.limb) l = -l;
      a.normalize();
    }
    const auto bit = [&](long long i) { return static_cast<int>((a.limb[static_cast<std::size_t>(i / 32)] >> (i % 32)) & 1); };
    long long top = static_cast<long long>(width) * 32 - 1;
    while (bit(top) == 0) --top;
    const long long low = top >= 52 ? top - 52 : 0;
    u64 mant = 0;
    for (long long i = top; i >= low; --i) mant = mant * 2 + static_cast<u64>(bit(i));
    if (low > 0) {
      const int half = bit(low - 1);
      int sticky = 0;
      for (long long i = low - 2; i >= 0 && !sticky; --i) sticky = bit(i);
      if (half && (sticky || (mant & 1u))) ++mant;
    }
    const double v = std::ldexp(static_cast<double>(mant), static_cast<int>(low) + base);
    return s < 0 ? -v : v;
  }
};
int big::base = 0;
std::size_t big::width = 4;

// A sensitivity: small integers (exact ties), continuous values, values
// that double sums round, subnormals, huge ones.
FZ_NO_COVERAGE double gen_sensitivity(filler& f, u8 mode) {
  const u8 b = f.byte();
  switch (mode % 5) {
    case 0: return static_cast<double>(b % 5);
    case 1: return std::ldexp(static_cast<double>(f.u32v()), -32) * ((b & 1u) ? -1.0 : 1.0);
    case 2: {
      static const double awkward[] = {0x1p53, 0x1p53 + 2, 1.0, -1.0, 0.1, 0.2, 0.3, 1e16, -1e16, 0x1p-1074,
                                       -0x1p-1074, 0x1p-1022, 0x1p990, -0x1p990, 0x1p999, 0.0};
      return awkward[b % 16];
    }
    case 3: return std::ldexp(1.0 + static_cast<double>(f.u16v()) / 65536.0, static_cast<int>(b % 200) - 100);
    default: return static_cast<double>(static_cast<int>(b % 7) - 3) * 0.125;
  }
}
FZ_NO_COVERAGE std::int64_t gen_quantity(filler& f, u8 mode) {
  const u8 b = f.byte();
  switch (mode % 4) {
    case 0: return b % 9;
    case 1: return b % 3 == 0 ? 0 : static_cast<std::int64_t>(f.u16v());
    case 2: return (std::int64_t{1} << 59) + static_cast<std::int64_t>(b % 5);
    default: return static_cast<std::int64_t>(b);
  }
}

void run_mixed(const raw& r, filler& f) {
  using fp8::mixed_precision_layer;
  const std::size_t L = r.n % 8;                  // 0..7 layers
  std::vector<mixed_precision_layer> layers(L);
  std::size_t total_choices = 0;
  for (auto& layer : layers) {
    const std::size_t k = 1 + f.byte() % 3;
    for (std::size_t c = 0; c < k; ++c)
      layer.choices.push_back({gen_sensitivity(f, r.values), gen_quantity(f, r.xmode), gen_quantity(f, r.xmode >> 2),
                               gen_quantity(f, r.xmode >> 4)});
    const u8 pin = f.byte();
    if (pin < 40) layer.pinned = pin % k;
    total_choices += k;
  }
  // One bad value (bad_kind): the argument errors of the docs' table.
  const unsigned bad = r.bad_kind % 16u;
  if (L != 0 && ((bad >= 1 && bad <= 9) || bad == 13)) {
    auto& layer = layers[r.bad_index % L];
    auto& ch = layer.choices[(r.bad_index >> 8) % layer.choices.size()];
    switch (bad) {
      case 1: layer.choices.clear(); layer.pinned.reset(); break;
      case 2: ch.sensitivity = std::numeric_limits<double>::quiet_NaN(); break;
      case 3: ch.sensitivity = (r.bad_index & 1) ? inf : -inf; break;
      case 4: ch.size_bytes = -1; break;
      case 5: ch.bops = std::numeric_limits<std::int64_t>::min(); break;
      case 6: ch.latency = -5; break;
      case 7: layer.pinned = layer.choices.size() + (r.bad_index >> 12); break;
      case 8: ch.bops = std::numeric_limits<std::int64_t>::max() - 2; break;  // with the other layers' past 2^63 - 1
      case 9:  // past 2^1000 by far: 2^1000 here and 2^999 in another layer
        ch.sensitivity = (r.bad_index & 1) ? 0x1p1000 : -0x1p1000;
        if (L > 1) layers[(r.bad_index + 1) % L].choices[0].sensitivity = 0x1p999;
        break;
      default: ch.sensitivity = 0x1p1000; break;  // past 2^1000 by what other layers add
    }
  }
  // Budgets: absent, or placed relative to the least and greatest totals.
  fp8::mixed_precision_budget budget;
  // (In 128 bits: the bad values make them negative or past 2^63.)
  i128 least[3] = {0, 0, 0}, most[3] = {0, 0, 0};
  for (const auto& layer : layers) {
    if (layer.choices.empty()) continue;
    for (int d = 0; d < 3; ++d) {
      std::int64_t lo = std::numeric_limits<std::int64_t>::max(), hi = 0;
      for (std::size_t c = 0; c < layer.choices.size(); ++c) {
        if (layer.pinned && *layer.pinned < layer.choices.size() && c != *layer.pinned) continue;
        const auto& x = layer.choices[c];
        const std::int64_t v = d == 0 ? x.size_bytes : d == 1 ? x.bops : x.latency;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      if (lo == std::numeric_limits<std::int64_t>::max()) lo = 0;
      least[d] += lo;
      most[d] += hi;
    }
  }
  const auto to64 = [](i128 x) {
    return static_cast<std::int64_t>(std::min<i128>(std::max<i128>(x, 0), std::numeric_limits<std::int64_t>::max()));
  };
  std::optional<std::int64_t>* slot[3] = {&budget.size_bytes, &budget.bops, &budget.latency};
  for (int d = 0; d < 3; ++d) {
    const u8 b = static_cast<u8>(r.flags >> (2 * d)) & 3u;
    if (b == 0) continue;
    const u8 where = f.byte();
    if (where >= 250) {
      *slot[d] = where == 255 ? std::numeric_limits<std::int64_t>::min() : -1;
    } else if (b == 3) {
      *slot[d] = to64(where % 2 == 0 ? least[d] : most[d]);  // exactly attained
    } else {
      const i128 step = (most[d] - least[d]) / 8 + 1;
      *slot[d] = to64(least[d] - 1 + static_cast<i128>(where % 11) * step);
    }
  }
  // The budget errors: negative, or below the least total (the budget alone
  // cannot be met).
  if (bad == 10) budget.size_bytes = -1;
  if (bad == 11) budget.bops = to64(least[1] - 1);
  if (bad == 12) budget.latency = least[2] == 0 ? -3 : to64(least[2] - 1);

  // ---- CONTRACT (docs/ptq_mixed_precision.md "Arguments" and the rules).
  expectation e;
  const char* budget_names[] = {"budget.size_bytes", "budget.bops", "budget.latency"};
  bool args_ok = true;
  i128 wsum[3] = {0, 0, 0};
  // The sum over layers of each layer's largest |sensitivity|, exactly.
  int lowest = std::numeric_limits<int>::max(), highest = -1100;
  for (const auto& layer : layers)
    for (const auto& x : layer.choices)
      if (std::isfinite(x.sensitivity) && x.sensitivity != 0.0) {
        int ex;
        double m = std::frexp(x.sensitivity, &ex);
        highest = std::max(highest, ex);
        int low = ex - 53;
        for (double t = std::ldexp(std::fabs(m), 53); std::fmod(t, 2.0) == 0.0; t /= 2.0) ++low;
        lowest = std::min(lowest, low);
      }
  big::base = lowest == std::numeric_limits<int>::max() ? 0 : lowest;
  // Room for the sums (7 terms below 2^highest), and for 2^1000 when a sum
  // could reach it (|s| >= 2^994).
  const bool near_limit = highest >= 995;
  big::width = static_cast<std::size_t>((std::max(near_limit ? 1001 : highest, big::base) - big::base + 8) / 32 + 2);
  big max_sum;
  for (std::size_t i = 0; i < L; ++i) {
    const auto& layer = layers[i];
    if (layer.choices.empty()) {
      e.reject("layers", {"layers"}, "layers[" + std::to_string(i) + "].choices is empty");
      args_ok = false;
      continue;
    }
    std::int64_t wmax[3] = {0, 0, 0};
    double smax = 0;
    for (const auto& x : layer.choices) {
      if (!std::isfinite(x.sensitivity)) {
        e.reject("layers", {"layers"}, "a sensitivity is not finite");
        args_ok = false;
      }
      const std::int64_t w[3] = {x.size_bytes, x.bops, x.latency};
      for (int d = 0; d < 3; ++d) {
        if (w[d] < 0) {
          e.reject("layers", {"layers"}, "a quantity is negative");
          args_ok = false;
        }
        wmax[d] = std::max(wmax[d], w[d]);
      }
      if (std::isfinite(x.sensitivity)) smax = std::max(smax, std::fabs(x.sensitivity));
    }
    if (layer.pinned && *layer.pinned >= layer.choices.size()) {
      e.reject("layers", {"layers"}, "a pin is out of range");
      args_ok = false;
    }
    for (int d = 0; d < 3; ++d) wsum[d] += wmax[d];
    max_sum += big::of(smax);
  }
  for (int d = 0; d < 3; ++d)
    if (wsum[d] > std::numeric_limits<std::int64_t>::max()) {
      e.reject("layers", {"layers"}, "a sum of the largest quantities exceeds 2^63 - 1");
      args_ok = false;
    }
  if (near_limit) {
    const double l1000 = 0x1p1000;
    {
      const big limit = big::of(l1000);
      if (compare(max_sum, limit) > 0) {
        // The docs bound the exact sum; a sum within rounding of 2^1000
        // could be computed as 2^1000 (tag sens_limit_rounding).
        const double rounded_sum = max_sum.rounded();
        if (rounded_sum > l1000)
          e.reject("layers", {"layers"}, "the sum of the largest |sensitivity| exceeds 2^1000");
        else
          e.reject("sens_limit_rounding", {"layers"}, "the exact sum of the largest |sensitivity| exceeds 2^1000 by less than rounding");
        args_ok = false;
      }
    }
  }
  for (int d = 0; d < 3; ++d)
    if (*slot[d] && **slot[d] < 0) {
      e.reject("budget", {budget_names[d]}, std::string(budget_names[d]) + " is negative");
      args_ok = false;
    }
  // The reference: every assignment in lexicographic order, the first of
  // least exact total wins.
  std::vector<std::size_t> best_choice;
  big best_sum;
  bool feasible = false;
  std::string infeasible_name;
  std::int64_t best_tot[3] = {0, 0, 0};
  const auto brute_force = [&]() FZ_REFERENCE {
    std::vector<std::vector<big>> sens(L);
    for (std::size_t i = 0; i < L; ++i)
      for (const auto& x : layers[i].choices) sens[i].push_back(big::of(x.sensitivity));
    std::vector<std::size_t> x(L, 0);
    for (std::size_t i = 0; i < L; ++i)
      if (layers[i].pinned) x[i] = *layers[i].pinned;
    for (bool more = true; more;) {
      big s;
      std::int64_t tot[3] = {0, 0, 0};
      for (std::size_t i = 0; i < L; ++i) {
        s += sens[i][x[i]];
        const auto& ch = layers[i].choices[x[i]];
        tot[0] += ch.size_bytes;
        tot[1] += ch.bops;
        tot[2] += ch.latency;
      }
      bool ok = true;
      for (int d = 0; d < 3; ++d) ok = ok && (!*slot[d] || tot[d] <= **slot[d]);
      if (ok && (!feasible || compare(s, best_sum) < 0)) {
        feasible = true;
        best_choice = x;
        best_sum = s;
        for (int d = 0; d < 3; ++d) best_tot[d] = tot[d];
      }
      more = false;
      for (std::size_t i = L; i-- > 0;) {
        if (layers[i].pinned) continue;
        if (++x[i] < layers[i].choices.size()) {
          more = true;
          break;
        }
        x[i] = 0;
      }
    }
  };
  if (args_ok) {
    brute_force();
    if (!feasible) {
      infeasible_name = "budget";
      for (int d = 0; d < 3; ++d)
        if (*slot[d] && least[d] > **slot[d]) {
          infeasible_name = budget_names[d];
          break;
        }
      e.reject("infeasible", {infeasible_name.c_str()}, "no assignment meets the budgets");
    }
  }
  context() = "fp8::solve_mixed_precision, " + std::to_string(L) + " layers (" + std::to_string(total_choices) + " choices)\n";
  for (std::size_t i = 0; i < L; ++i) {
    context() += "  layer " + std::to_string(i) + (layers[i].pinned ? " pinned " + std::to_string(*layers[i].pinned) : "") + ":";
    for (const auto& x : layers[i].choices)
      context() += " {" + dnum(x.sensitivity) + ", " + std::to_string(x.size_bytes) + ", " + std::to_string(x.bops) + ", " +
                   std::to_string(x.latency) + "}";
    context() += "\n";
  }
  for (int d = 0; d < 3; ++d)
    context() += std::string("  ") + budget_names[d] + " = " + (*slot[d] ? std::to_string(**slot[d]) : "absent") + "\n";
  pool p;
  p.allocate(r.seed);
  fp8::mixed_precision_result res;
  const auto the_call = [&] { res = fp8::solve_mixed_precision(layers, budget); };
  const auto check = [&]() FZ_REFERENCE {
    if (res.choice != best_choice) {
      std::string g, w;
      for (std::size_t c : res.choice) g += " " + std::to_string(c);
      for (std::size_t c : best_choice) w += " " + std::to_string(c);
      fail("choice {" + g + " }, brute force (least exact total, then lexicographically first) {" + w + " }");
    }
    const double want_s = best_sum.rounded();
    if (!same_double(res.sensitivity, want_s) && !(res.sensitivity == 0.0 && want_s == 0.0))  // an exact 0 has no sign
      fail("sensitivity = " + dnum(res.sensitivity) + ", the exact optimum rounded is " + dnum(want_s));
    if (res.size_bytes != best_tot[0] || res.bops != best_tot[1] || res.latency != best_tot[2])
      fail("totals " + std::to_string(res.size_bytes) + "/" + std::to_string(res.bops) + "/" + std::to_string(res.latency) +
           " are not the assignment's " + std::to_string(best_tot[0]) + "/" + std::to_string(best_tot[1]) + "/" +
           std::to_string(best_tot[2]));
  };
  execute(e, p, the_call, check);
}

// ---------------------------------------------------------------- report
// RFC 4180: records separated by CRLF (a last CRLF allowed), fields by
// commas; a field is either quoted (anything inside, quotes doubled) or
// plain (no comma, quote, CR or LF). Returns false with a reason.
FZ_REFERENCE bool parse_csv(const std::string& s, std::vector<std::vector<std::string>>& out, std::string& why) {
  std::size_t i = 0;
  out.clear();
  while (i < s.size()) {
    std::vector<std::string> rec;
    for (;;) {
      std::string field;
      if (i < s.size() && s[i] == '"') {
        ++i;
        for (;;) {
          if (i >= s.size()) {
            why = "unterminated quoted field";
            return false;
          }
          if (s[i] == '"') {
            if (i + 1 < s.size() && s[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          field += s[i++];
        }
      } else {
        while (i < s.size() && s[i] != ',' && s[i] != '\r' && s[i] != '\n') {
          if (s[i] == '"') {
            why = "a quote inside an unquoted field at byte " + std::to_string(i);
            return false;
          }
          field += s[i++];
        }
      }
      rec.push_back(field);
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      break;
    }
    if (i + 1 < s.size() + 1 && i < s.size()) {
      if (s.compare(i, 2, "\r\n") != 0) {
        why = "a record not ended by CRLF at byte " + std::to_string(i);
        return false;
      }
      i += 2;
    }
    out.push_back(rec);
  }
  return true;
}

// RFC 8259 with UTF-8: a validating recursive-descent parser that keeps the
// strings of "name" members and the members' raw number texts in order.
// (Member functions: called only from the check lambdas, which are not
// instrumented.)
struct json_checker {
  const std::string& s;
  std::size_t i = 0;
  std::string why;
  std::vector<std::vector<std::pair<std::string, std::string>>> objects;  // per object: (key, raw value or decoded string)
  explicit json_checker(const std::string& text) : s(text) {}
  bool error(const std::string& w) {
    if (why.empty()) why = w + " at byte " + std::to_string(i);
    return false;
  }
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  bool utf8(std::string& out) {  // one UTF-8 sequence starting at s[i]
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return error("invalid UTF-8 lead byte " + hex(b));
    u32 cp = len == 1 ? b : len == 2 ? (b & 0x1Fu) : len == 3 ? (b & 0x0Fu) : (b & 0x07u);
    for (std::size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c >> 6) != 2) return error("invalid UTF-8 continuation byte " + hex(c));
      cp = cp << 6 | (c & 0x3Fu);
    }
    const u32 min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return error("invalid UTF-8 sequence");
    out.append(s, i, len);
    i += len;
    return true;
  }
  bool string(std::string& out) {
    if (i >= s.size() || s[i] != '"') return error("expected a string");
    ++i;
    for (;;) {
      if (i >= s.size()) return error("unterminated string");
      const auto c = static_cast<unsigned char>(s[i]);
      if (c == '"') {
        ++i;
        return true;
      }
      if (c < 0x20) return error("an unescaped control character " + hex(c) + " in a string");
      if (c != '\\') {
        if (!utf8(out)) return false;
        continue;
      }
      if (++i >= s.size()) return error("a lone backslash");
      const char e = s[i++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (i + 4 > s.size()) return error("a short \\u escape");
          u32 cp = 0;
          for (int k = 0; k < 4; ++k) {
            const char h = s[i++];
            const int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
            if (d < 0) return error("a bad hex digit in \\u");
            cp = cp * 16 + static_cast<u32>(d);
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) return error("a surrogate escape (not produced for these names)");
          if (cp < 0x80) {
            out += static_cast<char>(cp);
          } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | cp >> 6);
            out += static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | cp >> 12);
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        default: return error("a bad escape");
      }
    }
  }
  bool number(std::string& out) {
    const std::size_t start = i;
    if (i < s.size() && s[i] == '-') ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return error("a bad number");
    if (s[i] == '0') ++i;
    else while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i < s.size() && s[i] == '.') {
      ++i;
      if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return error("a bad fraction");
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return error("a bad exponent");
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    }
    out = s.substr(start, i - start);
    return true;
  }
  bool value(std::string& out, int depth) {
    ws();
    if (i >= s.size()) return error("expected a value");
    if (depth > 8) return error("too deep");
    const char c = s[i];
    if (c == '{') {
      ++i;
      objects.emplace_back();
      const std::size_t me = objects.size() - 1;
      ws();
      if (i < s.size() && s[i] == '}') {
        ++i;
        return true;
      }
      for (;;) {
        ws();
        std::string key, v;
        if (!string(key)) return false;
        ws();
        if (i >= s.size() || s[i] != ':') return error("expected ':'");
        ++i;
        if (!value(v, depth + 1)) return false;
        objects[me].push_back({key, v});
        ws();
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        if (i < s.size() && s[i] == '}') {
          ++i;
          return true;
        }
        return error("expected ',' or '}'");
      }
    }
    if (c == '[') {
      ++i;
      ws();
      if (i < s.size() && s[i] == ']') {
        ++i;
        return true;
      }
      for (;;) {
        std::string v;
        if (!value(v, depth + 1)) return false;
        ws();
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        if (i < s.size() && s[i] == ']') {
          ++i;
          return true;
        }
        return error("expected ',' or ']'");
      }
    }
    if (c == '"') return string(out);
    for (const char* word : {"true", "false", "null"})
      if (s.compare(i, std::strlen(word), word) == 0) {
        out = word;
        i += std::strlen(word);
        return true;
      }
    return number(out);
  }
  bool document() {
    std::string v;
    if (!value(v, 0)) return false;
    ws();
    return i == s.size() || error("text after the value");
  }
};

// A name: bytes of the chosen kinds (ASCII, the CSV and JSON specials,
// control bytes, valid UTF-8, and (kind 3) invalid UTF-8).
FZ_NO_COVERAGE std::string gen_name(filler& f, u8 kind) {
  std::string s;
  const std::size_t len = f.byte() % 20;
  for (std::size_t k = 0; k < len; ++k) {
    const u8 b = f.byte();
    switch (b % 8 < 4 ? 0 : kind % 4 == 0 ? 0 : b % 8 - 3) {
      case 0: s += static_cast<char>(0x20 + b % 95); break;  // printable ASCII
      case 1: s += ",\"\r\n\t\\;'"[b % 8]; break;
      case 2: s += static_cast<char>(b % 32 == 31 ? 0x7F : b % 32); break;  // control bytes, NUL included
      case 3: s += (b & 1) ? "\xC3\xA9" : (b & 2) ? "\xE2\x82\xAC" : "\xF0\x9F\x98\x80"; break;  // valid UTF-8
      default:
        if (kind % 4 == 3) s += static_cast<char>(0x80 | (b & 0x7F));  // a lone continuation or lead byte
        else s += "\xC3\xA9";
        break;
    }
  }
  return s;
}
bool valid_utf8(const std::string& s) {
  std::string scratch;
  std::string quoted = "\"";
  for (char ch : s) quoted += (static_cast<unsigned char>(ch) < 0x20 || ch == '"' || ch == '\\') ? ' ' : ch;
  quoted += '"';
  json_checker j(quoted);
  return j.string(scratch);
}
// A name as the JSON reads back (docs/ptq.md "Reports"): each byte that
// does not start a well-formed UTF-8 sequence becomes U+FFFD, and reading
// resumes at the next byte. Well-formedness from valid_utf8 on the shortest
// prefix that passes.
std::string json_name(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = 0;
    for (std::size_t len = 1; len <= 4 && i + len <= s.size() && n == 0; ++len)
      if (valid_utf8(s.substr(i, len))) n = len;
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}
std::string number_text(double x) {  // docs/ptq.md "Reports": %.9g, inf / -inf / nan
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char b[40];
  std::snprintf(b, sizeof b, "%.9g", x);
  return b;
}

void run_report(const raw& r, filler& f) {
  const std::size_t rows = r.n % 5;
  const u8 name_kind = r.values;
  pool p;
  // Up to 8 pairs per compare row, in the pool (the probe may pass null).
  std::vector<std::size_t> ir(rows), ix(rows);
  std::vector<std::size_t> counts(rows);
  for (std::size_t k = 0; k < rows; ++k) {
    counts[k] = f.byte() % 9;
    ir[k] = p.add("r" + std::to_string(k), counts[k] * 4, 0, 4);
    ix[k] = p.add("x" + std::to_string(k), counts[k] * 4, 0, 4);
  }
  const std::size_t probe_row = rows == 0 ? 0 : r.bad_index % rows;
  if (rows != 0 && null_first(r.layout)) p.make_null(ir[probe_row]);
  if (rows != 0 && null_second(r.layout)) p.make_null(ix[probe_row]);
  p.allocate(r.seed);
  struct row_in {
    bool search;
    std::string name;
    bool with_kld;
    std::vector<float> rv, xv;
    fp8::search_result sr;
  };
  std::vector<row_in> in(rows);
  for (std::size_t k = 0; k < rows; ++k) {
    row_in& x = in[k];
    x.search = (r.flags >> k) & 1u;
    x.name = gen_name(f, name_kind);
    x.with_kld = ((r.xmode >> k) & 1u) != 0 && ((r.xmode >> (k + 4)) & 1u) != 0;  // a 2048-bin kld: one row in four
    x.rv.resize(counts[k]);
    x.xv.resize(counts[k]);
    for (std::size_t i = 0; i < counts[k]; ++i) gen_pair(f, 1, r.xmode, x.rv[i], x.xv[i]);
    put(p.storage(ir[k]), x.rv.data(), counts[k] * 4);
    put(p.storage(ix[k]), x.xv.data(), counts[k] * 4);
    if (x.search) {
      const std::size_t t = 1 + f.byte() % 3;
      for (std::size_t i = 0; i < t; ++i) {
        fp8::search_row row;
        const u8 b = f.byte();
        row.format = static_cast<fp8::qformat>(b % 6);
        row.rule = static_cast<fp8::scale_rule>((b >> 3) % 4);
        row.exponent = static_cast<int>(f.byte()) - 128;
        row.ratio = gen_float(f, 1);
        row.scale = gen_float(f, 5);
        row.mse = static_cast<double>(gen_float(f, 5));
        row.mae = std::ldexp(static_cast<double>(gen_float(f, 1)), 200);
        row.max_abs = static_cast<double>(gen_float(f, 0));
        row.snr_db = (b & 64u) ? -inf : static_cast<double>(gen_float(f, 5));
        row.cos_dist = (b & 128u) ? std::numeric_limits<double>::quiet_NaN() : 1e-310;
        x.sr.table.push_back(row);
      }
      x.sr.best = f.byte() % (t + 1);  // may be past the table: nothing chosen
    }
  }
  // The probe: compare() of one row with a null pointer (n > 0: invalid).
  expectation e;
  const bool probing = rows != 0 && !in[probe_row].search && (null_first(r.layout) || null_second(r.layout));
  if (probing && counts[probe_row] != 0) {
    if (null_first(r.layout)) e.reject("null", {"r"}, "r is null while n > 0");
    if (null_second(r.layout)) e.reject("null", {"x"}, "x is null while n > 0");
  }
  context() = "fp8::report, " + std::to_string(rows) + " rows\n";
  for (std::size_t k = 0; k < rows; ++k) {
    context() += "  row " + std::to_string(k) + (in[k].search ? " add_search" : " compare") + ", name bytes:";
    for (char ch : in[k].name) context() += " " + hex(static_cast<unsigned char>(ch));
    context() += ", n = " + std::to_string(counts[k]) + "\n";
  }
  context() += p.layout();
  fp8::report rep;
  // The rows before the probe, added before the call; the rest after it.
  for (std::size_t k = 0; k < rows && (!probing || k < probe_row); ++k)
    must("report row", [&] {
      if (in[k].search) rep.add_search(in[k].name, in[k].sr);
      else rep.compare(in[k].name, in[k].rv.data(), in[k].xv.data(), counts[k], in[k].with_kld);
    });
  const auto rows_of = [&] {
    std::string s;
    for (const auto& x : rep.rows()) s += x.name + '\x01' + std::to_string(x.chosen) + number_text(x.mse) + '\x02';
    return s;
  };
  const auto the_call = [&] {
    if (!probing) return;
    const float* rp = reinterpret_cast<const float*>(p.ptr(ir[probe_row]));
    const float* xp = reinterpret_cast<const float*>(p.ptr(ix[probe_row]));
    guarded([&] { rep.compare(in[probe_row].name, rp, xp, counts[probe_row], in[probe_row].with_kld); }, rows_of);
  };
  const auto check = [&]() FZ_REFERENCE {
    for (std::size_t k = probing ? probe_row + 1 : rows; k < rows; ++k)
      must("report row", [&] {
        if (in[k].search) rep.add_search(in[k].name, in[k].sr);
        else rep.compare(in[k].name, in[k].rv.data(), in[k].xv.data(), counts[k], in[k].with_kld);
      });
    // The rows: names kept, a compare row's metrics those of error_stats and kld.
    std::vector<fp8::report_row> want;
    bool any_search = false;
    for (std::size_t k = 0; k < rows; ++k) {
      const row_in& x = in[k];
      if (x.search) {
        any_search = true;
        for (std::size_t i = 0; i < x.sr.table.size(); ++i) {
          const fp8::search_row& t = x.sr.table[i];
          fp8::report_row w;
          w.name = x.name;
          w.format = fp8::qformat_name(t.format);
          w.scale = static_cast<double>(t.scale);
          w.mse = t.mse;
          w.mae = t.mae;
          w.max_abs = t.max_abs;
          w.snr_db = t.snr_db;
          w.cos_dist = t.cos_dist;
          w.kld = t.kld;
          w.chosen = i == x.sr.best;
          w.rule = t.rule == fp8::scale_rule::power_of_two ? "pow2" : t.rule == fp8::scale_rule::amax ? "amax"
                   : t.rule == fp8::scale_rule::clip ? "clip" : "per-channel";
          want.push_back(w);
        }
      } else {
        fp8::error_stats st;
        st.add(x.rv.data(), x.xv.data(), x.rv.size());
        fp8::report_row w;
        w.name = x.name;
        w.mse = st.mse();
        w.mae = st.mae();
        w.max_abs = st.max_abs();
        w.snr_db = st.snr_db();
        w.cos_dist = st.cos_dist();
        w.kld = x.with_kld ? fp8::kld(x.rv.data(), x.xv.data(), x.rv.size()) : std::numeric_limits<double>::quiet_NaN();
        want.push_back(w);
      }
    }
    const auto& got = rep.rows();
    if (got.size() != want.size()) fail("report has " + std::to_string(got.size()) + " rows, expected " + std::to_string(want.size()));
    for (std::size_t k = 0; k < want.size(); ++k) {
      const auto &g = got[k], &w = want[k];
      if (g.name != w.name || g.format != w.format || g.rule.compare(0, w.rule.size(), w.rule) != 0 || g.chosen != w.chosen ||
          !same_double(g.scale, w.scale) || !same_double(g.mse, w.mse) || !same_double(g.mae, w.mae) ||
          !same_double(g.max_abs, w.max_abs) || !same_double(g.snr_db, w.snr_db) || !same_double(g.cos_dist, w.cos_dist) ||
          !same_double(g.kld, w.kld))
        fail("report row " + std::to_string(k) + " does not hold its name, labels and metrics");
    }
    // Text: runs, one line per row plus the header at least.
    std::ostringstream text, csv, json;
    rep.write_text(text);
    rep.write_csv(csv);
    rep.write_json(json);
    // CSV: RFC 4180, the same fields back.
    std::vector<std::vector<std::string>> rec;
    std::string why;
    if (!parse_csv(csv.str(), rec, why)) fail("the CSV does not parse by RFC 4180: " + why);
    const std::size_t fields = any_search ? 11 : 7;
    if (rec.size() != want.size() + 1) fail("the CSV has " + std::to_string(rec.size()) + " records, expected " + std::to_string(want.size() + 1));
    for (std::size_t k = 0; k < rec.size(); ++k) {
      if (rec[k].size() != fields)
        fail("CSV record " + std::to_string(k) + " has " + std::to_string(rec[k].size()) + " fields, expected " + std::to_string(fields));
      if (k == 0) continue;
      const fp8::report_row& w = want[k - 1];
      std::vector<std::string> expect = {w.name};
      if (any_search) {
        expect.push_back(w.format);
        expect.push_back(rec[k][2]);  // the rule's text: its prefix is checked below
        expect.push_back(number_text(w.scale));
      }
      for (double v : {w.mse, w.mae, w.max_abs, w.snr_db, w.cos_dist, w.kld}) expect.push_back(number_text(v));
      if (any_search) expect.push_back(w.chosen ? "1" : "0");
      for (std::size_t c2 = 0; c2 < fields; ++c2)
        if (rec[k][c2] != expect[c2]) fail("CSV record " + std::to_string(k) + " field " + std::to_string(c2) + " reads back differently");
      if (any_search && rec[k][2].compare(0, w.rule.size(), w.rule) != 0) fail("CSV record " + std::to_string(k) + ": the rule column");
    }
    // JSON: valid (RFC 8259, UTF-8), the same names and numbers back.
    const std::string json_text = json.str();
    json_checker j(json_text);
    if (!j.document()) fail("the JSON is not valid: " + j.why);
    if (j.objects.size() != want.size()) fail("the JSON has " + std::to_string(j.objects.size()) + " objects, expected " + std::to_string(want.size()));
    for (std::size_t k = 0; k < want.size(); ++k) {
      const fp8::report_row& w = want[k];
      const auto member = [&](const char* key) -> const std::string* {
        for (const auto& kv : j.objects[k])
          if (kv.first == key) return &kv.second;
        return nullptr;
      };
      const std::string* name = member("name");
      if (name == nullptr || *name != json_name(w.name))
        fail("JSON object " + std::to_string(k) + ": the name does not read back (non-UTF-8 bytes as U+FFFD)");
      const struct {
        const char* key;
        double v;
      } nums[] = {{"mse", w.mse}, {"mae", w.mae}, {"max_abs", w.max_abs}, {"snr_db", w.snr_db}, {"cos_dist", w.cos_dist}, {"kld", w.kld}, {"scale", w.scale}};
      for (const auto& x : nums) {
        const std::string* v = member(x.key);
        if (std::string(x.key) == "scale" && !any_search && v == nullptr) continue;
        if (std::string(x.key) == "scale" && w.format.empty()) continue;
        const std::string want_text = std::isfinite(x.v) ? number_text(x.v) : "null";
        if (v == nullptr || *v != want_text)
          fail("JSON object " + std::to_string(k) + " member " + x.key + " = " + (v ? *v : "(missing)") + ", expected " + want_text);
      }
      if (!w.format.empty()) {
        const std::string* chosen = member("chosen");
        if (chosen == nullptr || *chosen != (w.chosen ? "true" : "false")) fail("JSON object " + std::to_string(k) + ": chosen");
      }
    }
  };
  execute(e, p, the_call, check);
}

void run_input(const u8* data, std::size_t size) {
  reader in{data, size};
  raw r;
  visit(in, r);
  filler f(in.rest(), in.rest_size(), r.seed);
  switch (r.op % op_count) {
    case op_stats: run_stats(r, f); break;
    case op_hist: run_hist(r, f); break;
    case op_kl: run_kl(r, f); break;
    case op_kld: run_kld(r, f); break;
    case op_search: run_search(r, f); break;
    case op_calib: run_calib(r, f); break;
    case op_mixed: run_mixed(r, f); break;
    default: run_report(r, f); break;
  }
}

// ---------------------------------------------------------------- seeds
constexpr u32 nice(u32 index) { return index; }                    // decode_float: 1, 0.5, 2, 0.25, 3, ...
constexpr u32 special(u32 index) { return 0xA0000000u | index; }  // 0, -0, NaN, -NaN, Inf, -Inf, FLT_MAX, ...
constexpr u16 huge(u16 index) { return static_cast<u16>(0xF000u | index); }
constexpr u16 bins_special(u16 index) { return static_cast<u16>(0xE000u | index); }
constexpr u64 eps_special(u64 index) { return 0x8000000000000000ull | index; }
constexpr u64 pct_special(u64 index) { return 0x8000000000000000ull | index; }
constexpr u16 exp_special(u16 index) { return static_cast<u16>(0xE000u | index); }
constexpr u16 exponent(int e) { return static_cast<u16>(e + 30); }  // decode_exponent's small range

std::vector<seed<raw>> seeds() {
  std::vector<seed<raw>> v;
  const auto V = expectation::valid, I = expectation::invalid;
  raw base;
  base.n = 40;
  base.bins = 15;  // 16 bins
  base.lo = nice(9);   // -1
  base.hi = nice(2);   // 2
  base.values = 2;
  base.xmode = 1;
  base.splits = 0x33;
  base.rows = 4;
  base.cols = 12;
  base.nformats = 2;
  base.formats = 0x0400;  // e4m3, int8
  base.flags = 1;         // powers of two, relative, amax
  base.exp_lo = exponent(-4);
  base.exp_hi = exponent(0);
  base.clip_min = nice(1);  // 0.5
  base.seed = 11;
  auto with = [&](const std::string& name, int verdict, u8 op, auto&& edit) {
    raw r = base;
    r.op = op;
    edit(r);
    v.push_back({name, r, verdict});
  };
  // The first seed (of r.seed, r.seed + 1, ...) whose input decodes to the
  // verdict: random instances (mixed precision) are feasible or not by luck.
  const auto settle = [&](int verdict) {
    raw& r = v.back().raw;
    for (int k = 0; k < 200; ++k, ++r.seed) {
      writer w;
      raw copy = r;
      visit(w, copy);
      dry_run() = {true, -1};
      run_input(w.bytes.data(), w.bytes.size());
      if (dry_run().verdict == verdict) break;
    }
    dry_run() = {};
  };
  // error_stats, loss, metric_value.
  for (u8 xm = 0; xm < 8; ++xm)
    with("valid_stats_add_x" + std::to_string(xm), V, op_stats, [&](raw& r) { r.xmode = xm; r.values = static_cast<u8>(xm % 8); r.splits = static_cast<u8>(0x11 * xm + 2); r.n = static_cast<u16>(37 + 30 * xm); });
  with("valid_stats_add_same_array", V, op_stats, [](raw& r) { r.layout = 7; });
  with("valid_stats_add_empty_null", V, op_stats, [](raw& r) { r.n = 0; r.layout = 5; });
  with("valid_stats_specials", V, op_stats, [](raw& r) { r.xmode = 7; r.n = 250; r.splits = 0x35; });
  for (u8 m = 0; m < 5; ++m)
    with("valid_loss_m" + std::to_string(m), V, op_stats, [&](raw& r) { r.variant = 1; r.metric = m; r.xmode = static_cast<u8>(m + 1); });
  for (u8 m = 0; m < 6; ++m)
    with("valid_metric_value_m" + std::to_string(m), V, op_stats, [&](raw& r) { r.variant = 2; r.metric = m; r.xmode = static_cast<u8>(m % 3 == 0 ? 7 : m); });
  with("invalid_stats_add_r_null", I, op_stats, [](raw& r) { r.layout = 5; });
  with("invalid_stats_add_x_null", I, op_stats, [](raw& r) { r.layout = 6; });
  with("invalid_stats_add_null_huge", I, op_stats, [](raw& r) { r.layout = 5; r.n = huge(2); });
  with("invalid_loss_kld", I, op_stats, [](raw& r) { r.variant = 1; r.metric = 5; });
  with("invalid_loss_enum", I, op_stats, [](raw& r) { r.variant = 1; r.metric = 0xF0; });
  with("invalid_metric_value_enum", I, op_stats, [](raw& r) { r.variant = 2; r.metric = 0xF5; });
  with("invalid_metric_value_x_null", I, op_stats, [](raw& r) { r.variant = 2; r.metric = 5; r.layout = 6; });
  // histogram.
  with("valid_hist_exact_edges", V, op_hist, [](raw& r) { r.flags = 32; r.lo = 0x00123405; r.n = 200; });
  with("valid_hist_exact_edges_magnitudes", V, op_hist, [](raw& r) { r.variant = 5; r.flags = 32; r.lo = 0x000C0A10; r.n = 150; });
  with("valid_hist_arbitrary_range", V, op_hist, [](raw& r) { r.lo = 0xD8391234; r.hi = 0xD0075678; /* about -8.6 and 32.3 */ r.n = 120; r.values = 3; });
  with("valid_hist_one_bin", V, op_hist, [](raw& r) { r.bins = 0; r.n = 30; });
  with("valid_hist_add", V, op_hist, [](raw& r) { r.variant = 1; r.flags = 32; r.lo = 0x00030508; });
  with("valid_hist_merge", V, op_hist, [](raw& r) { r.variant = 2; r.n = 90; });
  with("valid_hist_kl_loss", V, op_hist, [](raw& r) { r.variant = 3; r.n = 90; r.eps = eps_special(1); });
  with("valid_of_magnitudes", V, op_hist, [](raw& r) { r.variant = 4; r.hi = nice(4); r.n = 77; });
  with("invalid_hist_bins_zero", I, op_hist, [](raw& r) { r.bins = bins_special(0); });
  with("invalid_hist_bins_too_many", I, op_hist, [](raw& r) { r.bins = bins_special(5); });
  with("invalid_hist_lo_nan", I, op_hist, [](raw& r) { r.lo = special(2); });
  with("invalid_hist_hi_inf", I, op_hist, [](raw& r) { r.hi = special(4); });
  with("invalid_hist_hi_equal_lo", I, op_hist, [](raw& r) { r.hi = nice(9); });
  with("invalid_hist_add_null", I, op_hist, [](raw& r) { r.variant = 1; r.layout = 5; });
  with("invalid_hist_add_magnitudes_null", I, op_hist, [](raw& r) { r.variant = 6; r.layout = 5; });
  with("invalid_hist_merge_other_bins", I, op_hist, [](raw& r) { r.variant = 2; r.bins2 = 0xC003; });
  with("invalid_hist_merge_other_range", I, op_hist, [](raw& r) { r.variant = 2; r.bins2 = 0xF00F; });
  with("invalid_kl_loss_other_range", I, op_hist, [](raw& r) { r.variant = 3; r.bins2 = 0xE00F; });
  with("invalid_kl_loss_epsilon", I, op_hist, [](raw& r) { r.variant = 3; r.eps = eps_special(9); });
  with("invalid_of_magnitudes_amax_zero", I, op_hist, [](raw& r) { r.variant = 4; r.hi = special(0); });
  with("invalid_of_magnitudes_amax_negative", I, op_hist, [](raw& r) { r.variant = 4; r.hi = nice(9); });
  with("invalid_of_magnitudes_bins", I, op_hist, [](raw& r) { r.variant = 4; r.hi = nice(2); r.bins = bins_special(0); });
  with("invalid_of_magnitudes_x_null", I, op_hist, [](raw& r) { r.variant = 4; r.hi = nice(2); r.layout = 5; });
  // kl_divergence.
  for (u8 qm = 0; qm < 6; ++qm)
    with("valid_kl_divergence_q" + std::to_string(qm), V, op_kl, [&](raw& r) { r.xmode = static_cast<u8>(qm + 8 * qm); r.values = qm; r.bins = static_cast<u16>(7 + qm * 5); });
  with("valid_kl_divergence_tiny_epsilon", V, op_kl, [](raw& r) { r.eps = eps_special(7); r.values = 4; });
  with("valid_kl_divergence_empty_null", V, op_kl, [](raw& r) { r.bins = bins_special(0); r.layout = 5; });
  with("invalid_kl_divergence_p_null", I, op_kl, [](raw& r) { r.layout = 5; });
  with("invalid_kl_divergence_q_null", I, op_kl, [](raw& r) { r.layout = 6; });
  with("invalid_kl_divergence_epsilon_zero", I, op_kl, [](raw& r) { r.eps = eps_special(9); });
  with("invalid_kl_divergence_epsilon_nan", I, op_kl, [](raw& r) { r.eps = eps_special(11); });
  with("invalid_kl_divergence_epsilon_inf", I, op_kl, [](raw& r) { r.eps = eps_special(12); });
  // kld.
  for (u8 xm = 0; xm < 8; ++xm)
    with("valid_kld_x" + std::to_string(xm), V, op_kld, [&](raw& r) { r.xmode = xm; r.variant = static_cast<u8>(xm % 2); r.n = static_cast<u16>(20 + 31 * xm); });
  with("valid_kld_default_bins", V, op_kld, [](raw& r) { r.bins = bins_special(3); r.n = 100; });
  with("valid_kld_exact_range", V, op_kld, [](raw& r) { r.variant = 1; r.flags = 32; r.lo = 0x00040302; });
  with("valid_kld_tiny_epsilon", V, op_kld, [](raw& r) { r.eps = eps_special(7); r.n = 2; r.xmode = 2; });
  with("valid_kld_huge_epsilon", V, op_kld, [](raw& r) { r.eps = eps_special(8); r.n = 30; r.xmode = 2; r.bins = 20; });
  with("invalid_kld_r_null", I, op_kld, [](raw& r) { r.layout = 5; });
  with("invalid_kld_x_null", I, op_kld, [](raw& r) { r.variant = 1; r.layout = 6; });
  with("invalid_kld_bins_zero", I, op_kld, [](raw& r) { r.bins = bins_special(0); });
  with("invalid_kld_bins_too_many", I, op_kld, [](raw& r) { r.bins = bins_special(5); });
  with("invalid_kld_epsilon", I, op_kld, [](raw& r) { r.eps = eps_special(10); });
  with("invalid_kld_lo_inf", I, op_kld, [](raw& r) { r.variant = 1; r.lo = special(5); });
  with("invalid_kld_hi_below_lo", I, op_kld, [](raw& r) { r.variant = 1; r.lo = nice(2); r.hi = nice(1); });
  // search_weights: every format, both axes, every metric, every rule.
  for (u8 q = 0; q < 6; ++q)
    with("valid_search_format" + std::to_string(q), V, op_search, [&](raw& r) { r.nformats = 1; r.formats = q; r.metric = q % 5; r.values = static_cast<u8>(1 + q % 5); });
  for (u8 m = 0; m < 6; ++m)
    with("valid_search_per_channel_m" + std::to_string(m), V, op_search, [&](raw& r) {
      r.flags = static_cast<u8>(1 | 8); r.metric = m; r.axis = static_cast<u8>(m % 2); r.nformats = 3; r.formats = 0x050201;
      if (m == 5) { r.rows = 2; r.cols = 8; r.nformats = 1; r.exp_lo = exponent(-1); r.axis = 0; }
    });
  with("valid_search_clip", V, op_search, [](raw& r) { r.flags = 1; r.clip_steps = 4; r.clip_min = nice(3); });
  with("valid_search_absolute", V, op_search, [](raw& r) { r.flags = 1 | 2 | 4; r.exp_lo = exponent(-6); r.exp_hi = exponent(2); });
  with("valid_search_amax_only", V, op_search, [](raw& r) { r.flags = 0; r.ld = 5; });
  with("valid_search_zero_channel", V, op_search, [](raw& r) { r.flags = 1 | 8; r.values = 7; r.rows = 6; });
  with("valid_search_table_kld", V, op_search, [](raw& r) { r.flags = 1 | 16 | 64; r.rows = 2; r.cols = 10; r.exp_lo = exponent(-1); });
  with("either_search_unused_exponents", expectation::either, op_search, [](raw& r) { r.flags = 0; r.exp_lo = exponent(5); r.exp_hi = exponent(-5); });
  with("invalid_search_rows_zero", I, op_search, [](raw& r) { r.rows = 0; });
  with("invalid_search_cols_zero", I, op_search, [](raw& r) { r.cols = 0; });
  with("invalid_search_w_null", I, op_search, [](raw& r) { r.layout = 5; });
  with("invalid_search_ld", I, op_search, [](raw& r) { r.ld = 0xC001; });
  with("invalid_search_ld_overflow", I, op_search, [](raw& r) { r.ld = huge(2); });
  with("invalid_search_formats_empty", I, op_search, [](raw& r) { r.nformats = 0; });
  with("invalid_search_format_enum", I, op_search, [](raw& r) { r.formats = 0xF100; });
  with("invalid_search_objective_enum", I, op_search, [](raw& r) { r.metric = 0xF3; });
  with("invalid_search_channel_enum", I, op_search, [](raw& r) { r.axis = 0xF2; });
  with("invalid_search_exponents_reversed", I, op_search, [](raw& r) { r.exp_lo = exponent(2); r.exp_hi = exponent(1); });
  with("invalid_search_exponent_range", I, op_search, [](raw& r) { r.exp_lo = exp_special(2); });
  with("invalid_search_clip_min_one", I, op_search, [](raw& r) { r.clip_steps = 3; r.clip_min = nice(0); });
  with("invalid_search_clip_min_nan", I, op_search, [](raw& r) { r.clip_steps = 3; r.clip_min = special(2); });
  with("invalid_search_clip_steps", I, op_search, [](raw& r) { r.clip_steps = static_cast<u16>(0xE001); });
  with("invalid_search_no_candidate", I, op_search, [](raw& r) { r.flags = 4; });
  with("invalid_search_w_nan", I, op_search, [](raw& r) { r.bad_kind = 1; r.bad_index = 7; });
  with("invalid_search_w_inf", I, op_search, [](raw& r) { r.bad_kind = 2; r.bad_index = 40; });
  // Findings: extents whose arithmetic wraps in the library's check (tag
  // search_cols_wrap) or that run past the address space (address_wrap).
  with("invalid_search_cols_wrap", I, op_search, [](raw& r) { r.rows = 3; r.cols = huge(10); r.ld = 0; });
  with("invalid_search_address_wrap", I, op_search, [](raw& r) { r.rows = huge(9); r.cols = 1; r.ld = 4; });
  with("invalid_search_no_normal_scale", I, op_search, [](raw& r) { r.flags = 1 | 2 | 4; r.exp_lo = exp_special(6); r.exp_hi = exp_special(10); });
  // calibrator.
  for (u8 vm = 0; vm < 8; ++vm)
    with("valid_calibrator_values" + std::to_string(vm), V, op_calib, [&](raw& r) { r.values = vm; r.splits = static_cast<u8>(0x13 * vm + 1); r.fmt = vm % 6; r.bins = vm % 4; r.n = static_cast<u16>(30 + 33 * vm); });
  with("valid_calibrator_add", V, op_calib, [](raw& r) { r.variant = 1; });
  with("valid_calibrator_merge", V, op_calib, [](raw& r) { r.variant = 2; r.values = 7; });
  for (u8 m = 0; m < 4; ++m)
    with("valid_calibrator_threshold_m" + std::to_string(m), V, op_calib, [&](raw& r) { r.variant = 3; r.method = m; r.fmt = static_cast<u8>(m + 2); });
  with("valid_calibrator_scale", V, op_calib, [](raw& r) { r.variant = 4; r.method = 1; r.percentile = pct_special(4); });
  with("valid_calibrator_percentile_subnormal", V, op_calib, [](raw& r) { r.percentile = pct_special(15); r.n = 1; r.values = 1; });
  with("valid_calibrator_zeros", V, op_calib, [](raw& r) { r.variant = 4; r.values = 6; });
  with("invalid_calibrator_bins_zero", I, op_calib, [](raw& r) { r.bins = bins_special(0); });
  with("invalid_calibrator_bins_seven", I, op_calib, [](raw& r) { r.bins = bins_special(3); });
  with("invalid_calibrator_bins_not_pow2", I, op_calib, [](raw& r) { r.bins = bins_special(5); });
  with("invalid_calibrator_bins_too_many", I, op_calib, [](raw& r) { r.bins = bins_special(8); });
  with("invalid_calibrator_add_null", I, op_calib, [](raw& r) { r.variant = 1; r.layout = 5; });
  with("invalid_calibrator_merge_bins", I, op_calib, [](raw& r) { r.variant = 2; r.bins2 = 0xC001; });
  with("invalid_calibrator_method_enum", I, op_calib, [](raw& r) { r.variant = 3; r.method = 0xF0; });
  with("invalid_calibrator_format_enum", I, op_calib, [](raw& r) { r.variant = 4; r.fmt = 0xF1; });
  with("invalid_calibrator_percentile_zero", I, op_calib, [](raw& r) { r.variant = 3; r.method = 1; r.percentile = pct_special(7); });
  with("invalid_calibrator_percentile_nan", I, op_calib, [](raw& r) { r.variant = 4; r.method = 1; r.percentile = pct_special(10); });
  with("invalid_calibrator_percentile_above", I, op_calib, [](raw& r) { r.variant = 3; r.method = 1; r.percentile = pct_special(9); });
  // solve_mixed_precision.
  for (u8 b = 0; b < 8; ++b) {
    with("valid_mixed_budgets" + std::to_string(b), V, op_mixed, [&](raw& r) {
      r.n = static_cast<u16>(3 + b % 5); r.flags = static_cast<u8>(b * 9 % 64); r.values = b; r.xmode = static_cast<u8>(b * 37); r.seed = 40u + 1000u * b;
    });
    settle(V);
  }
  with("valid_mixed_no_layers", V, op_mixed, [](raw& r) { r.n = 0; });
  with("valid_mixed_ties", V, op_mixed, [](raw& r) { r.n = 7; r.values = 0; r.flags = 0x15; r.xmode = 0; });
  settle(V);
  with("invalid_mixed_budgets_together", I, op_mixed, [](raw& r) { r.n = 6; r.values = 4; r.flags = 0x3F; r.xmode = 0x39; r.seed = 77; });
  settle(I);
  with("valid_mixed_huge_sensitivities", V, op_mixed, [](raw& r) { r.n = 5; r.values = 2; r.flags = 0x01; });
  const char* bad_names[] = {"", "empty_choices", "sensitivity_nan", "sensitivity_inf", "size_negative", "bops_negative",
                             "latency_negative", "pin_out_of_range", "bops_overflow", "sensitivity_sum"};
  // The sum of the largest |sensitivity| past 2^1000 by less than its
  // rounding (finding: accepted; tag sens_limit_rounding).
  with("invalid_mixed_sensitivity_sum_rounding", I, op_mixed, [](raw& r) { r.n = 4; r.bad_kind = 13; r.values = 1; r.xmode = 0x55; });
  for (u8 b = 1; b <= 9; ++b)
    with(std::string("invalid_mixed_") + bad_names[b], I, op_mixed, [&](raw& r) {
      r.n = 4; r.bad_kind = b; r.bad_index = 0x0102; r.values = 1; r.xmode = 0x55;
      if (b == 9) r.bad_index = 0x0001;
    });
  with("invalid_mixed_budget_negative", I, op_mixed, [](raw& r) { r.n = 3; r.bad_kind = 10; r.values = 1; });
  with("invalid_mixed_budget_bops_unreachable", I, op_mixed, [](raw& r) { r.n = 4; r.bad_kind = 11; r.values = 1; r.xmode = 0x28; });
  with("invalid_mixed_budget_latency_unreachable", I, op_mixed, [](raw& r) { r.n = 5; r.bad_kind = 12; r.flags = 0x05; r.values = 3; r.xmode = 0x20; });
  // report.
  for (u8 k = 0; k < 4; ++k)
    with("valid_report_names" + std::to_string(k), V, op_report, [&](raw& r) { r.n = static_cast<u16>(1 + k); r.values = k; r.flags = static_cast<u8>(k == 0 ? 0 : 0x5); r.xmode = static_cast<u8>(0x0F | k << 4); });
  with("valid_report_empty", V, op_report, [](raw& r) { r.n = 0; });
  with("invalid_report_compare_r_null", I, op_report, [](raw& r) { r.n = 2; r.flags = 0; r.layout = 5; r.seed = 3; });
  with("invalid_report_compare_x_null", I, op_report, [](raw& r) { r.n = 3; r.flags = 0; r.layout = 6; r.bad_index = 1; r.seed = 4; });
  return v;
}

}  // namespace

FZ_ENTRY_POINTS((void)0)
