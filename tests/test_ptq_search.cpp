// SPDX-License-Identifier: Apache-2.0
// The weight search (ptq/search.hpp), the activation calibrator
// (ptq/calibrate.hpp) and the reports (ptq/report.hpp) against brute force
// written here: candidate scales from their definitions (a loop for the
// exponent), quantization through tests/reference.hpp's search encoder (FP8)
// or std::nearbyint and clamps (integers), losses in long double, the
// histogram by floor(|x| / width), TensorRT's entropy procedure restated as
// plain loops.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fp8/ptq/calibrate.hpp>
#include <fp8/ptq/report.hpp>
#include <fp8/ptq/search.hpp>

#include "reference.hpp"

namespace {

using fp8::qformat;

// ---- Reference quantization.

const ref::format* spec_of(qformat f) {
  switch (f) {
    case qformat::e4m3: return &ref::e4m3;
    case qformat::e5m2: return &ref::e5m2;
    case qformat::e4m3fnuz: return &ref::e4m3fnuz;
    case qformat::e5m2fnuz: return &ref::e5m2fnuz;
    default: return nullptr;
  }
}
double max_of(qformat f) {
  if (f == qformat::int8) return 127;
  if (f == qformat::int4) return 7;
  return spec_of(f)->max;
}

// fake_quantize(x, s): FP8 rounds the float quotient x / s to the nearest
// code (saturating), integers round it half to even and clamp; then times s.
float ref_fake(qformat f, float x, float s) {
  const float q = x / s;
  if (f == qformat::int8 || f == qformat::int4) {
    const double lo = f == qformat::int8 ? -128 : -8, hi = f == qformat::int8 ? 127 : 7;
    const double r = std::min(hi, std::max(lo, std::nearbyint(static_cast<double>(q))));
    return static_cast<float>(r) * s;
  }
  const ref::format& spec = *spec_of(f);
  static std::vector<ref::table> tables;
  static std::vector<const ref::format*> specs;
  std::size_t k = 0;
  while (k < specs.size() && specs[k] != &spec) ++k;
  if (k == specs.size()) {
    specs.push_back(&spec);
    tables.emplace_back(spec);
  }
  const unsigned code = ref::encode(spec, tables[k], static_cast<double>(q), true);
  return static_cast<float>(ref::decode(spec, code)) * s;
}

// The smallest e with a <= M 2^e (a > 0), by counting.
int ref_exponent(float a, double m) {
  int e = -200;
  while (static_cast<double>(a) > std::ldexp(m, e)) ++e;
  return std::min(127, std::max(-126, e));
}

struct candidate {
  qformat f;
  float scale;
};

// Candidate scales of a channel in the documented order.
std::vector<float> ref_scales(qformat f, float a, const fp8::scale_candidates& c) {
  std::vector<float> s;
  const double m = max_of(f);
  if (c.powers_of_two)
    for (int e = c.exponent_lo; e <= c.exponent_hi; ++e) {
      const int x = c.relative_to_amax ? (a > 0 ? ref_exponent(a, m) : 0) + e : e;
      s.push_back(x < -126 || x > 127 ? 0.0f : std::ldexp(1.0f, x));
    }
  if (c.amax) s.push_back(a > 0 ? static_cast<float>(static_cast<double>(a) / m) : 1.0f);
  for (std::size_t i = 1; i <= c.clip_steps; ++i) {
    const float ratio = static_cast<float>(1.0 - static_cast<double>(i) * (1.0 - static_cast<double>(c.clip_min)) /
                                                     static_cast<double>(c.clip_steps));
    s.push_back(a > 0 ? static_cast<float>(static_cast<double>(ratio) * static_cast<double>(a) / m) : 1.0f);
  }
  return s;
}

struct ref_loss {
  long double se = 0, ae = 0, max = 0, rr = 0, xx = 0, rx = 0;
  std::size_t n = 0;
  void add(float r, float x) {
    const long double e = static_cast<long double>(x) - static_cast<long double>(r);
    se += e * e;
    ae += std::fabs(e);
    max = std::max(max, std::fabs(e));
    rr += static_cast<long double>(r) * r;
    xx += static_cast<long double>(x) * x;
    rx += static_cast<long double>(r) * x;
    ++n;
  }
  double value(fp8::metric m) const {
    switch (m) {
      case fp8::metric::mse: return static_cast<double>(se / static_cast<long double>(n));
      case fp8::metric::mae: return static_cast<double>(ae / static_cast<long double>(n));
      case fp8::metric::max_abs: return static_cast<double>(max);
      case fp8::metric::snr: return static_cast<double>(se / rr);
      case fp8::metric::cos_dist: return static_cast<double>(1 - rx / std::sqrt(rr * xx));
      default: return 0;
    }
  }
};

ref_loss loss_of(qformat f, const std::vector<float>& x, float s) {
  ref_loss l;
  for (float v : x) l.add(v, ref_fake(f, v, s));
  return l;
}

std::vector<float> weights(std::size_t n, std::uint32_t seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, 0.05f);
  std::vector<float> w(n);
  for (auto& v : w) v = d(g);
  for (std::size_t i = 0; i < n; i += 97) w[i] *= 12.0f;  // outliers
  return w;
}

bool close(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b)) + 1e-300; }

// ---- Search.

TEST_CASE("search_weights per tensor picks the brute-force minimum and tabulates every candidate", "[ptq][search]") {
  const std::vector<float> w = weights(24 * 40, 1);
  for (fp8::metric m : {fp8::metric::mse, fp8::metric::mae, fp8::metric::max_abs, fp8::metric::snr, fp8::metric::cos_dist}) {
    fp8::search_options o;
    o.formats = {qformat::e4m3, qformat::e5m2, qformat::e4m3fnuz, qformat::int8, qformat::int4};
    o.scales.clip_steps = 6;
    o.objective = m;
    const fp8::search_result res = fp8::search_weights(w.data(), 24, 40, 40, o);
    const float a = *std::max_element(w.begin(), w.end(), [](float x, float y) { return std::fabs(x) < std::fabs(y); });
    double best = std::numeric_limits<double>::infinity();
    std::size_t row = 0;
    for (qformat f : o.formats)
      for (float s : ref_scales(f, std::fabs(a), o.scales)) {
        if (s == 0.0f) continue;
        const ref_loss l = loss_of(f, w, s);
        REQUIRE(row < res.table.size());
        const fp8::search_row& t = res.table[row++];
        INFO(fp8::qformat_name(f) << " scale " << s);
        CHECK(t.format == f);
        CHECK(t.scale == s);
        CHECK(close(t.mse, l.value(fp8::metric::mse)));
        CHECK(close(t.mae, l.value(fp8::metric::mae)));
        CHECK(close(t.max_abs, l.value(fp8::metric::max_abs)));
        CHECK(close(t.loss, l.value(m)));
        best = std::min(best, l.value(m));
      }
    CHECK(row == res.table.size());
    INFO("metric " << static_cast<int>(m));
    CHECK(close(res.table[res.best].loss, best));
    CHECK(res.scales.size() == 1);
    CHECK(res.scales[0] == res.table[res.best].scale);
    CHECK(res.format == res.table[res.best].format);
  }
}

TEST_CASE("search_weights per channel: each channel's minimum, the format of least total", "[ptq][search]") {
  for (fp8::axis ax : {fp8::axis::rows, fp8::axis::columns}) {
    const std::size_t rows = 9, cols = 33, ld = 37;
    std::vector<float> w = weights(rows * ld, 2);
    for (std::size_t j = 0; j < cols; ++j) w[3 * ld + j] = 0.0f;  // a zero row
    fp8::search_options o;
    o.formats = {qformat::e5m2, qformat::e4m3, qformat::int8};
    o.per_channel = true;
    o.channel = ax;
    o.scales.clip_steps = 3;
    const fp8::search_result res = fp8::search_weights(w.data(), rows, cols, ld, o);
    const std::size_t channels = ax == fp8::axis::rows ? rows : cols;
    REQUIRE(res.scales.size() == channels);
    // Per format: each channel's least loss, and the total.
    double best_total = std::numeric_limits<double>::infinity();
    qformat best_f = o.formats[0];
    for (qformat f : o.formats) {
      double total = 0;
      for (std::size_t c = 0; c < channels; ++c) {
        std::vector<float> x;
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t j = 0; j < cols; ++j)
            if ((ax == fp8::axis::rows ? r : j) == c) x.push_back(w[r * ld + j]);
        float a = 0;
        for (float v : x) a = std::max(a, std::fabs(v));
        double least = std::numeric_limits<double>::infinity();
        for (float s : ref_scales(f, a, o.scales))
          if (s != 0.0f) least = std::min(least, loss_of(f, x, s).value(fp8::metric::mse));
        total += least;
        if (f == res.format) {
          INFO("channel " << c);
          CHECK(close(loss_of(f, x, res.scales[c]).value(fp8::metric::mse), least));
        }
      }
      if (total < best_total) {
        best_total = total;
        best_f = f;
      }
    }
    CHECK(res.format == best_f);
    CHECK(res.table[res.best].rule == fp8::scale_rule::per_channel_best);
    CHECK(res.table[res.best].format == best_f);
    // Rows: (pow2 16 + amax + clip 3) per format, then one per-channel row per format.
    CHECK(res.table.size() == 3 * 20 + 3);
  }
}

TEST_CASE("search_weights: absolute exponents, kld, and the argument checks", "[ptq][search]") {
  const std::vector<float> w = weights(512, 3);
  fp8::search_options o;
  o.scales.relative_to_amax = false;
  o.scales.exponent_lo = -5;
  o.scales.exponent_hi = 0;
  o.scales.amax = false;
  o.formats = {qformat::e4m3};
  fp8::search_result r = fp8::search_weights(w.data(), 1, 512, 512, o);
  REQUIRE(r.table.size() == 6);
  for (int e = -5; e <= 0; ++e) CHECK(r.table[static_cast<std::size_t>(e + 5)].scale == std::ldexp(1.0f, e));
  o.objective = fp8::metric::kld;
  r = fp8::search_weights(w.data(), 1, 512, 512, o);
  for (const auto& t : r.table) CHECK(std::isfinite(t.kld));
  std::vector<float> x(512);
  double least = std::numeric_limits<double>::infinity();
  for (int e = -5; e <= 0; ++e) {
    for (std::size_t i = 0; i < 512; ++i) x[i] = ref_fake(qformat::e4m3, w[i], std::ldexp(1.0f, e));
    least = std::min(least, fp8::kld(w.data(), x.data(), 512));
  }
  CHECK(r.table[r.best].kld == least);

  const auto rejects = [&](const char* arg, const fp8::search_options& opt, const float* data) {
    try {
      (void)fp8::search_weights(data, 1, 512, 512, opt);
      FAIL("no error");
    } catch (const fp8::invalid_argument& e) {
      INFO(e.what());
      CHECK(std::string(e.argument()) == arg);
    }
  };
  std::vector<float> bad = w;
  bad[7] = std::numeric_limits<float>::infinity();
  rejects("w", fp8::search_options{}, bad.data());
  fp8::search_options b;
  b.formats.clear();
  rejects("options.formats", b, w.data());
  b = {};
  b.formats = {static_cast<qformat>(9)};
  rejects("options.formats", b, w.data());
  b = {};
  b.scales.exponent_lo = 3;
  b.scales.exponent_hi = 2;
  rejects("options.scales.exponent_lo", b, w.data());
  b = {};
  b.scales.clip_steps = 4;
  b.scales.clip_min = 1.0f;
  rejects("options.scales.clip_min", b, w.data());
  b = {};
  b.objective = static_cast<fp8::metric>(17);
  rejects("options.objective", b, w.data());
}

// ---- Calibrator.

// |x| binned by floor(|x| / width) into bins of width range / bins, the
// range grown from the calibrator's definition (least power of two above amax).
std::vector<std::uint64_t> ref_bins(const std::vector<float>& x, std::size_t bins, float& range) {
  float a = 0;
  for (float v : x)
    if (std::isfinite(v)) a = std::max(a, std::fabs(v));
  range = 1;
  while (range <= a) range *= 2;
  while (range / 2 > a && range > 0x1p-100f) range /= 2;
  std::vector<std::uint64_t> h(bins, 0);
  const double w = static_cast<double>(range) / static_cast<double>(bins);
  for (float v : x)
    if (std::isfinite(v)) ++h[static_cast<std::size_t>(std::floor(std::fabs(static_cast<double>(v)) / w))];
  return h;
}

TEST_CASE("calibrator: bins are exact and independent of batching and merge order", "[ptq][calibrate]") {
  std::mt19937 g(5);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(20000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = d(g) * (i < 100 ? 0.01f : i > 19000 ? 40.0f : 1.0f);
  x[50] = std::numeric_limits<float>::quiet_NaN();
  x[60] = -std::numeric_limits<float>::infinity();
  std::vector<float> finite;
  for (float v : x)
    if (std::isfinite(v)) finite.push_back(v);
  float range = 0;
  const std::vector<std::uint64_t> want = ref_bins(finite, 256, range);

  fp8::calibrator one(256);
  one.add(x.data(), x.size());
  CHECK(one.range() == range);
  CHECK(one.nonfinite() == 2);
  CHECK(one.count() == finite.size());
  for (std::size_t j = 0; j < 256; ++j) CHECK(one.bin(j) == want[j]);

  // Small batches first (the range doubles several times), and four
  // collectors merged in two orders.
  fp8::calibrator batched(256);
  for (std::size_t i = 0; i < x.size(); i += 37) batched.add(x.data() + i, std::min<std::size_t>(37, x.size() - i));
  std::vector<fp8::calibrator> parts(4, fp8::calibrator(256));
  for (std::size_t i = 0; i < x.size(); ++i) parts[(i * 7) % 4].add(&x[i], 1);
  fp8::calibrator m1 = parts[0], m2 = parts[3];
  for (std::size_t k = 1; k < 4; ++k) m1.merge(parts[k]);
  for (std::size_t k = 3; k-- > 0;) m2.merge(parts[k]);
  for (const fp8::calibrator* c : {&batched, &m1, &m2}) {
    CHECK(c->range() == range);
    CHECK(c->amax() == one.amax());
    for (std::size_t j = 0; j < 256; ++j) CHECK(c->bin(j) == want[j]);
    for (qformat f : {qformat::int8, qformat::e4m3})
      for (fp8::calibration m : {fp8::calibration::amax, fp8::calibration::percentile, fp8::calibration::entropy,
                                 fp8::calibration::mse})
        CHECK(c->threshold(m, f) == one.threshold(m, f));
  }
}

// TensorRT's entropy calibration, restated: thresholds i = levels .. last
// nonzero bin; P clipped at i, Q merged per level group and expanded over
// the nonzero bins; KL as ptq/metrics.hpp defines it.
double ref_kl(const std::vector<double>& p, const std::vector<double>& q) {
  double sp = 0, sq = 0;
  for (double v : p) sp += v;
  for (double v : q) sq += v;
  double z = 0;
  for (std::size_t j = 0; j < p.size(); ++j) z += p[j] > 0 && q[j] == 0 ? 1 : 0;
  double kl = 0;
  for (std::size_t j = 0; j < p.size(); ++j) {
    if (p[j] == 0) continue;
    const double pj = p[j] / sp, qj = (q[j] == 0 ? 1e-4 : q[j] / sq) / (1 + 1e-4 * z);
    kl += pj * std::log(pj / qj);
  }
  return std::max(kl, 0.0);
}
float ref_entropy(const fp8::calibrator& c, qformat f) {
  const std::size_t bins = c.bins();
  std::vector<double> h(bins);
  for (std::size_t j = 0; j < bins; ++j) h[j] = static_cast<double>(c.bin(j));
  std::size_t last = bins;
  while (last > 0 && h[last - 1] == 0) --last;
  std::size_t levels = 0;
  if (f == qformat::int8) levels = 128;
  if (f == qformat::e4m3) levels = 127;  // 0x00 .. 0x7E
  const double w = static_cast<double>(c.range()) / static_cast<double>(bins);
  double best = std::numeric_limits<double>::infinity();
  std::size_t best_i = last;
  for (std::size_t i = std::min(levels, last); i <= last; ++i) {
    std::vector<double> p(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(i));
    for (std::size_t j = i; j < bins; ++j) p[i - 1] += h[j];
    std::vector<std::size_t> group(i);
    if (f == qformat::int8) {
      const std::size_t per = std::max<std::size_t>(1, i / 128);
      for (std::size_t j = 0; j < i; ++j) group[j] = std::min<std::size_t>(j / per, 127);
    } else {
      const float s = static_cast<float>(static_cast<double>(i) * w / 448.0);
      for (std::size_t j = 0; j < i; ++j) {
        const float centre = static_cast<float>((static_cast<double>(j) + 0.5) * w);
        const float v = ref_fake(f, centre, s);
        group[j] = j == 0 ? 0 : group[j - 1] + (v != ref_fake(f, static_cast<float>((static_cast<double>(j) - 0.5) * w), s));
      }
    }
    std::vector<double> total(group.back() + 1, 0), nonzero(group.back() + 1, 0), q(i, 0);
    for (std::size_t j = 0; j < i; ++j) {
      total[group[j]] += h[j];
      nonzero[group[j]] += h[j] != 0;
    }
    for (std::size_t j = 0; j < i; ++j) q[j] = h[j] != 0 ? total[group[j]] / nonzero[group[j]] : 0;
    const double kl = ref_kl(p, q);
    if (kl < best) {
      best = kl;
      best_i = i;
    }
  }
  return std::min(c.amax(), static_cast<float>(static_cast<double>(best_i) * w));
}

float ref_mse(const fp8::calibrator& c, qformat f) {
  const std::size_t bins = c.bins();
  const double w = static_cast<double>(c.range()) / static_cast<double>(bins);
  std::size_t last = bins;
  while (last > 0 && c.bin(last - 1) == 0) --last;
  double best = std::numeric_limits<double>::infinity();
  std::size_t best_i = last;
  for (std::size_t i = 1; i <= last; ++i) {
    const float s = static_cast<float>(static_cast<double>(i) * w / max_of(f));
    double err = 0;
    for (std::size_t j = 0; j < last; ++j) {
      const float centre = static_cast<float>((static_cast<double>(j) + 0.5) * w);
      const double d = static_cast<double>(centre) - static_cast<double>(ref_fake(f, centre, s));
      err += static_cast<double>(c.bin(j)) * d * d;
    }
    if (err < best) {
      best = err;
      best_i = i;
    }
  }
  return std::min(c.amax(), static_cast<float>(static_cast<double>(best_i) * w));
}

TEST_CASE("calibrator: entropy and mse thresholds equal straightforward reimplementations", "[ptq][calibrate]") {
  std::mt19937 g(9);
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<float> x(5000);
    if (trial == 0) {
      std::normal_distribution<float> d(0.0f, 1.0f);
      for (auto& v : x) v = d(g);
    } else if (trial == 1) {
      std::uniform_real_distribution<float> d(-3.0f, 3.0f);
      for (auto& v : x) v = d(g);
    } else {
      std::normal_distribution<float> d(1.0f, 0.05f);
      for (auto& v : x) v = d(g);
      for (std::size_t i = 0; i < 5; ++i) x[i * 1000] = 200.0f;  // a spike plus outliers
    }
    fp8::calibrator c(512);
    c.add(x.data(), x.size());
    for (qformat f : {qformat::int8, qformat::e4m3}) {
      INFO("trial " << trial << ", " << fp8::qformat_name(f));
      CHECK(c.threshold(fp8::calibration::entropy, f) == ref_entropy(c, f));
      CHECK(c.threshold(fp8::calibration::mse, f) == ref_mse(c, f));
    }
  }
}

TEST_CASE("calibrator: known answers on uniform, Gaussian and spiky data", "[ptq][calibrate]") {
  std::vector<float> u(100000);
  for (std::size_t i = 0; i < u.size(); ++i) u[i] = static_cast<float>(i) / static_cast<float>(u.size());
  fp8::calibrator cu;
  cu.add(u.data(), u.size());
  const double w = static_cast<double>(cu.range()) / static_cast<double>(cu.bins());
  CHECK(cu.threshold(fp8::calibration::amax, qformat::int8) == u.back());
  CHECK(std::fabs(cu.threshold(fp8::calibration::percentile, qformat::int8, 50.0) - 0.5) <= w);
  CHECK(std::fabs(cu.threshold(fp8::calibration::percentile, qformat::int8, 99.0) - 0.99) <= w);
  // Uniform data has no outliers: the entropy threshold keeps nearly all of it.
  CHECK(cu.threshold(fp8::calibration::entropy, qformat::int8) >= 0.95f);

  std::mt19937 g(3);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> gauss(200000);
  for (auto& v : gauss) v = d(g);
  fp8::calibrator cg;
  cg.add(gauss.data(), gauss.size());
  const float t = cg.threshold(fp8::calibration::entropy, qformat::int8);
  CHECK(t >= 2.0f);  // int8 entropy clips a Gaussian at a few sigma, below its amax (about 4.5)
  CHECK(t < cg.amax());
  CHECK(cg.threshold(fp8::calibration::mse, qformat::int8) < cg.amax());

  // A narrow bump at 1 with ten outliers at 1000: the outliers set amax, the
  // percentile ignores them, and entropy calibration clips them (keeping
  // them would merge the bump's bins into one level).
  std::normal_distribution<float> bump(1.0f, 0.1f);
  std::vector<float> spike(100000);
  for (auto& v : spike) v = bump(g);
  for (std::size_t i = 0; i < 10; ++i) spike[i * 9999] = 1000.0f;
  fp8::calibrator cs;
  cs.add(spike.data(), spike.size());
  CHECK(cs.threshold(fp8::calibration::amax, qformat::e4m3) == 1000.0f);
  CHECK(cs.threshold(fp8::calibration::percentile, qformat::e4m3, 99.9) <= 2.0f);
  CHECK(cs.threshold(fp8::calibration::entropy, qformat::int8) < 100.0f);
  CHECK(fp8::calibrated_scale(qformat::e4m3, 448.0f) == 1.0f);
  CHECK(fp8::calibrated_scale(qformat::int8, 0.0f) == 1.0f);

  // Bad arguments.
  CHECK_THROWS_AS(fp8::calibrator(1000), fp8::invalid_argument);
  CHECK_THROWS_AS(cs.threshold(fp8::calibration::percentile, qformat::int8, 0.0), fp8::invalid_argument);
  CHECK_THROWS_AS(cs.threshold(static_cast<fp8::calibration>(8), qformat::int8), fp8::invalid_argument);
  CHECK_THROWS_AS(fp8::calibrator(256).merge(fp8::calibrator(512)), fp8::invalid_argument);
}

// ---- Reports.

TEST_CASE("report: text, CSV and JSON of a precision comparison and of a search", "[ptq][report]") {
  fp8::report rep;
  const std::vector<float> r = {1, 2, 3, 4}, x = {1, 2, 3, 5};
  rep.compare("conv1, \"first\"", r.data(), x.data(), 4, false);
  std::ostringstream csv, json, text;
  rep.write_csv(csv);
  CHECK(csv.str() ==
        "name,mse,mae,max_abs,snr_db,cos_dist,kld\r\n"
        "\"conv1, \"\"first\"\"\",0.25,0.25,1,14.7712125,0.00600091145,nan\r\n");
  rep.write_json(json);
  CHECK(json.str() ==
        "[\n  {\"name\": \"conv1, \\\"first\\\"\", \"mse\": 0.25, \"mae\": 0.25, \"max_abs\": 1, \"snr_db\": 14.7712125, "
        "\"cos_dist\": 0.00600091145, \"kld\": null}\n]\n");
  rep.write_text(text);
  CHECK(text.str() ==
        "name            mse   mae   max_abs  snr_db      cos_dist       kld\n"
        "conv1, \"first\"  0.25  0.25  1        14.7712125  0.00600091145  nan\n");

  // A search's rows, the winner starred.
  const std::vector<float> w = weights(64, 4);
  fp8::search_options o;
  o.formats = {qformat::e4m3};
  o.scales.powers_of_two = false;
  o.scales.clip_steps = 1;
  const fp8::search_result s = fp8::search_weights(w.data(), 1, 64, 64, o);
  fp8::report sr;
  sr.add_search("fc.weight", s);
  std::ostringstream st;
  sr.write_csv(st);
  const std::string out = st.str();
  CHECK(out.rfind("name,format,rule,scale,mse,mae,max_abs,snr_db,cos_dist,kld,chosen\r\n", 0) == 0);
  CHECK(out.find("fc.weight,E4M3,amax,") != std::string::npos);
  CHECK(out.find("fc.weight,E4M3,clip(0.5),") != std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\n') == 3);
}

}  // namespace
