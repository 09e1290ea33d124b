// SPDX-License-Identifier: Apache-2.0
// The loss metrics and histograms of ptq/metrics.hpp against references
// written here as plain loops: sums in long double with the NaN/Inf rule
// restated pair by pair, bins found by searching exact edges, KL divergence
// with logl. Random data of every length up to six AVX-512 vectors and
// beyond, at several pointer offsets and stream positions (so the vector
// head, body and tail and every partial sum are reached), hand-computed
// cases, every edge case, add() split into batches (bit for bit) and merge()
// (within the summation bound), every tier the CPU runs (each tier's loops
// directly and the entries under tier_scope) bit for bit against the
// definition restated with its 16 partial sums, and every argument error
// (named, nothing changed).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <fp8/ptq/metrics.hpp>

#include "formats.hpp"
#include "tiers.hpp"

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr float finf = std::numeric_limits<float>::infinity();
const float fnan = std::numeric_limits<float>::quiet_NaN();
constexpr double u = 0x1p-53;  // unit roundoff of double

template <class Fn>
void require_invalid(Fn&& f, const std::string& argument) {
  try {
    f();
    FAIL("no exception; expected one naming '" << argument << "'");
  } catch (const fp8::invalid_argument& e) {
    INFO(e.what());
    CHECK(std::string(e.argument()) == argument);
    CHECK(std::string(e.what()).find("'" + argument + "'") != std::string::npos);
  }
}

std::uint64_t bits_of(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

// ------------------------------------------------------------ error_stats reference

// The definition restated pair by pair, sums in long double. Sabs_* are the
// sums of the magnitudes of the terms, for error bounds.
struct ref_stats {
  long double rr = 0, xx = 0, rx = 0, ee = 0, ae = 0, abs_rx = 0;
  double max_abs = 0;
  std::uint64_t pairs = 0, skipped = 0, compared = 0, nonfinite = 0, matched = 0;
};

void ref_add(ref_stats& s, const float* r, const float* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    ++s.pairs;
    if (std::isnan(r[i])) {
      ++s.skipped;
      continue;
    }
    ++s.compared;
    if (std::isfinite(r[i]) && std::isfinite(x[i])) {
      const long double R = r[i], X = x[i], E = X - R;
      s.rr += R * R;
      s.xx += X * X;
      s.rx += R * X;
      s.abs_rx += std::fabs(R * X);
      s.ee += E * E;
      s.ae += std::fabs(E);
      const double e = std::fabs(static_cast<double>(x[i]) - static_cast<double>(r[i]));  // fl64(X - R)
      if (e > s.max_abs) s.max_abs = e;
    } else if (x[i] == r[i]) {
      ++s.matched;
    } else {
      ++s.nonfinite;
    }
  }
}

ref_stats reference(const float* r, const float* x, std::size_t n) {
  ref_stats s;
  ref_add(s, r, x, n);
  return s;
}

// |computed - exact| for a double sum of `terms` terms whose magnitudes sum
// to `magnitude`: each term is exact or within 2u (E = fl(X - R) within u,
// E^2 within 3u), and a sum of k terms errs by at most (k - 1) u times the
// magnitudes; 8 spare units cover the final tree and the long double
// reference's own rounding.
double bound(std::uint64_t terms, long double magnitude) {
  return static_cast<double>(terms + 8) * 3.0 * u * static_cast<double>(magnitude) + 1e-300;
}

void require_close(double got, long double want, double tol) {
  INFO("got " << got << " want " << static_cast<double>(want) << " tol " << tol);
  REQUIRE(std::fabs(static_cast<long double>(got) - want) <= tol);
}

// Every count, sum and metric of s against the reference.
void check_against(const fp8::error_stats& s, const ref_stats& f) {
  REQUIRE(s.pairs() == f.pairs);
  REQUIRE(s.skipped() == f.skipped);
  REQUIRE(s.count() == f.compared);
  REQUIRE(s.nonfinite() == f.nonfinite);
  REQUIRE(s.matched_infinities() == f.matched);
  const std::uint64_t k = f.compared;
  const double b_rr = bound(k, f.rr), b_xx = bound(k, f.xx), b_rx = bound(k, f.abs_rx), b_ee = bound(k, f.ee),
               b_ae = bound(k, f.ae);
  require_close(s.sum_rr(), f.rr, b_rr);
  require_close(s.sum_xx(), f.xx, b_xx);
  require_close(s.sum_rx(), f.rx, b_rx);
  require_close(s.sum_squared_error(), f.ee, b_ee);
  require_close(s.sum_abs_error(), f.ae, b_ae);
  if (f.nonfinite != 0) {
    REQUIRE(s.mse() == inf);
    REQUIRE(s.mae() == inf);
    REQUIRE(s.max_abs() == inf);
    REQUIRE(s.nsr() == inf);
    REQUIRE(s.snr_db() == -inf);
    REQUIRE(s.cos_dist() == inf);
    return;
  }
  REQUIRE(s.max_abs() == f.max_abs);  // a maximum is exact
  if (f.ee == 0) {                    // exact match
    REQUIRE(s.mse() == 0.0);
    REQUIRE(s.mae() == 0.0);
    REQUIRE(s.nsr() == 0.0);
    REQUIRE(s.snr_db() == inf);
    REQUIRE(s.cos_dist() == 0.0);
    return;
  }
  const long double cnt = static_cast<long double>(k);
  require_close(s.mse(), f.ee / cnt, b_ee / static_cast<double>(k) * 1.01);
  require_close(s.mae(), f.ae / cnt, b_ae / static_cast<double>(k) * 1.01);
  if (f.rr == 0) {
    REQUIRE(s.nsr() == inf);
    REQUIRE(s.snr_db() == -inf);
    REQUIRE(s.cos_dist() == 1.0);
    return;
  }
  const double rel_rr = b_rr / static_cast<double>(f.rr), rel_ee = b_ee / static_cast<double>(f.ee);
  const long double nsr = f.ee / f.rr;
  require_close(s.nsr(), nsr, static_cast<double>(nsr) * (rel_rr + rel_ee + 4 * u));
  require_close(s.snr_db(), 10.0L * std::log10(f.rr / f.ee), 10.0 / std::log(10.0) * (rel_rr + rel_ee + 4 * u) + 1e-13);
  if (f.xx == 0) {
    REQUIRE(s.cos_dist() == 1.0);
    return;
  }
  // The reference cosine distance, clamped as the definition clamps; the
  // error of the computed one is about the relative errors of the sums.
  long double c = 1.0L - f.rx / std::sqrt(f.rr * f.xx);
  c = c < 0 ? 0 : (c > 2 ? 2 : c);
  const double rel_xx = b_xx / static_cast<double>(f.xx);
  const double cos_tol =
      (b_rx / static_cast<double>(std::sqrt(f.rr * f.xx)) + rel_rr + rel_xx) * 2.0 + 8 * u;
  require_close(s.cos_dist(), c, cos_tol);
}

// ------------------------------------------------------------ data

enum class kind { noisy, rounded, independent, scaled, mixed_magnitudes };

// Pairs (r, x) of finite floats: x close to r (a candidate), r rounded to a
// coarse grid (what quantization does), unrelated, a scaled copy, and
// magnitudes from 2^-140 (float subnormals) to 2^120.
void make_pairs(std::vector<float>& r, std::vector<float>& x, std::size_t n, kind k, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_int_distribution<int> e(-140, 120);
  r.resize(n);
  x.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    r[i] = g(rng) * 3.0f;
    switch (k) {
      case kind::noisy: x[i] = r[i] + g(rng) * 0.01f; break;
      case kind::rounded: x[i] = std::round(r[i] * 8.0f) / 8.0f; break;
      case kind::independent: x[i] = g(rng); break;
      case kind::scaled: x[i] = r[i] * 3.0f; break;
      case kind::mixed_magnitudes:
        r[i] = std::ldexp(g(rng), e(rng));
        x[i] = (rng() & 3) == 0 ? r[i] : std::ldexp(g(rng), e(rng));
        break;
    }
  }
}

const kind all_kinds[] = {kind::noisy, kind::rounded, kind::independent, kind::scaled, kind::mixed_magnitudes};

// Every length up to six AVX-512 vectors and a few beyond.
std::vector<std::size_t> lengths() {
  std::vector<std::size_t> v;
  for (std::size_t n = 0; n <= 3 * 32 + 3; ++n) v.push_back(n);
  for (std::size_t n : {63u, 64u, 65u, 100u, 255u, 256u, 257u, 511u, 513u, 1000u, 4099u}) v.push_back(n);
  return v;
}

}  // namespace

// ---------------------------------------------------------------- error_stats

TEST_CASE("error_stats equals the long double reference on random data of every length", "[ptq][metrics]") {
  std::uint64_t seed = 1;
  for (const kind k : all_kinds) {
    for (const std::size_t n : lengths()) {
      for (std::size_t offset = 0; offset < 3; ++offset) {
        // `offset` extra pairs ahead in the array shift the pointer; a
        // prefix added first shifts the stream position (the partial sum
        // each pair goes to): none, and two positions inside a vector.
        const std::size_t prefix = offset == 0 ? 0 : (offset == 1 ? 7 : 13);
        std::vector<float> r, x, pr, px;
        make_pairs(r, x, n + offset, k, seed++);
        make_pairs(pr, px, prefix, k, seed++);
        INFO("kind " << static_cast<int>(k) << " n " << n << " offset " << offset << " prefix " << prefix);
        fp8::error_stats s, p;
        s.add(pr.data(), px.data(), prefix);
        s.add(r.data() + offset, x.data() + offset, n);
        ref_stats f = reference(pr.data(), px.data(), prefix);
        ref_add(f, r.data() + offset, x.data() + offset, n);
        check_against(s, f);
        // The portable path (the only one on non-x86 targets).
        fp8::detail::add_pairs(p, pr.data(), px.data(), prefix, fp8::isa::portable{});
        fp8::detail::add_pairs(p, r.data() + offset, x.data() + offset, n, fp8::isa::portable{});
        check_against(p, f);
      }
    }
  }
}

TEST_CASE("error_stats on hand-computed cases", "[ptq][metrics]") {
  SECTION("one error of 1 among four") {
    const float r[] = {1, 2, 3, 4}, x[] = {1, 2, 3, 5};
    fp8::error_stats s;
    s.add(r, x, 4);
    REQUIRE(s.count() == 4);
    REQUIRE(s.sum_rr() == 30.0);
    REQUIRE(s.sum_xx() == 39.0);
    REQUIRE(s.sum_rx() == 34.0);
    REQUIRE(s.sum_squared_error() == 1.0);
    REQUIRE(s.mse() == 0.25);
    REQUIRE(s.mae() == 0.25);
    REQUIRE(s.max_abs() == 1.0);
    REQUIRE(s.nsr() == 1.0 / 30.0);
    REQUIRE(s.snr_db() == Approx(14.771212547196624).epsilon(1e-15));  // 10 log10(30)
    REQUIRE(s.cos_dist() == Approx(1.0 - 34.0 / std::sqrt(1170.0)).epsilon(1e-14));
    REQUIRE(s.cos_dist() == Approx(0.00600091145203363).epsilon(1e-12));  // 1 - 34 / 34.2052627...
  }
  SECTION("errors of mixed sign") {
    const float r[] = {0.5f, -1.5f, 2.0f}, x[] = {1.0f, -1.0f, 0.0f};  // errors 0.5, 0.5, -2
    fp8::error_stats s;
    s.add(r, x, 3);
    REQUIRE(s.sum_squared_error() == 4.5);
    REQUIRE(s.mse() == 1.5);
    REQUIRE(s.mae() == 1.0);
    REQUIRE(s.max_abs() == 2.0);
    REQUIRE(s.nsr() == 4.5 / 6.5);
    REQUIRE(s.sum_rx() == 2.0);
  }
  SECTION("orthogonal, opposite and parallel vectors") {
    const float a[] = {1, 0}, b[] = {0, 1}, c[] = {1, 2}, d[] = {-1, -2}, e[] = {2, 4};
    fp8::error_stats s1, s2, s3;
    s1.add(a, b, 2);
    s2.add(c, d, 2);
    s3.add(c, e, 2);
    REQUIRE(s1.cos_dist() == 1.0);
    REQUIRE(s2.cos_dist() == 2.0);
    REQUIRE(s3.cos_dist() == 0.0);  // sqrt(5 * 20) = 10 exactly
    REQUIRE(s2.nsr() == 4.0);       // error -2r: 4 * 5 / 5
    REQUIRE(s2.snr_db() == Approx(-6.020599913279624).epsilon(1e-14));
  }
  SECTION("the smallest and the largest error squared are doubles") {
    const float r[] = {0.0f, 0.0f}, x[] = {0x1p-149f, 0x1p127f};
    fp8::error_stats s;
    s.add(r, x, 2);
    REQUIRE(s.max_abs() == 0x1p127);
    REQUIRE(s.sum_squared_error() == 0x1p254 + 0x1p-298);  // rounds to 2^254
    REQUIRE(s.sum_xx() == 0x1p254);
  }
}

TEST_CASE("error_stats edge cases: empty, zero reference, exact match, zero vectors", "[ptq][metrics]") {
  SECTION("n == 0 is an exact match") {
    fp8::error_stats s;
    s.add(nullptr, nullptr, 0);
    REQUIRE(s.pairs() == 0);
    REQUIRE(s.count() == 0);
    REQUIRE(s.mse() == 0.0);
    REQUIRE(s.mae() == 0.0);
    REQUIRE(s.max_abs() == 0.0);
    REQUIRE(s.nsr() == 0.0);
    REQUIRE(s.snr_db() == inf);
    REQUIRE(s.cos_dist() == 0.0);
  }
  SECTION("all-zero reference, nonzero candidate") {
    const float r[] = {0.0f, -0.0f, 0.0f}, x[] = {1.0f, -2.0f, 0.0f};
    fp8::error_stats s;
    s.add(r, x, 3);
    REQUIRE(s.mse() == 5.0 / 3.0);
    REQUIRE(s.mae() == 1.0);
    REQUIRE(s.max_abs() == 2.0);
    REQUIRE(s.nsr() == inf);
    REQUIRE(s.snr_db() == -inf);
    REQUIRE(s.cos_dist() == 1.0);
  }
  SECTION("zero candidate, nonzero reference") {
    const float r[] = {1.0f, 2.0f}, x[] = {0.0f, -0.0f};
    fp8::error_stats s;
    s.add(r, x, 2);
    REQUIRE(s.nsr() == 1.0);
    REQUIRE(s.snr_db() == 0.0);
    REQUIRE(s.cos_dist() == 1.0);
  }
  SECTION("both zero, and -0 against +0, are exact matches") {
    const float r[] = {0.0f, -0.0f, 0.0f}, x[] = {-0.0f, 0.0f, 0.0f};
    fp8::error_stats s;
    s.add(r, x, 3);
    REQUIRE(s.mse() == 0.0);
    REQUIRE(s.nsr() == 0.0);
    REQUIRE(s.snr_db() == inf);
    REQUIRE(s.cos_dist() == 0.0);
  }
  SECTION("x == r on random data of every length") {
    for (const std::size_t n : lengths()) {
      std::vector<float> r, x;
      make_pairs(r, x, n, kind::mixed_magnitudes, n + 100);
      fp8::error_stats s;
      s.add(r.data(), r.data(), n);
      INFO("n " << n);
      REQUIRE(s.sum_squared_error() == 0.0);
      REQUIRE(s.mse() == 0.0);
      REQUIRE(s.max_abs() == 0.0);
      REQUIRE(s.nsr() == 0.0);
      REQUIRE(s.snr_db() == inf);
      REQUIRE(s.cos_dist() == 0.0);
    }
  }
  SECTION("cos_dist stays in [0, 2] where rounding would leave it") {
    // x = 3r: cos_dist is 0 in exact arithmetic; rounded, 1 - S_rx /
    // sqrt(S_rr S_xx) lands a few ulps either side of 0.
    std::mt19937_64 rng(5);
    for (std::size_t n = 1; n < 300; ++n) {
      std::vector<float> r, x;
      make_pairs(r, x, n, kind::scaled, rng());
      fp8::error_stats s, t;
      s.add(r.data(), x.data(), n);
      for (float& v : x) v = -v;  // x = -3r: 2 in exact arithmetic
      t.add(r.data(), x.data(), n);
      INFO("n " << n);
      REQUIRE(s.cos_dist() >= 0.0);
      REQUIRE(s.cos_dist() <= 1e-14);
      REQUIRE(t.cos_dist() <= 2.0);
      REQUIRE(t.cos_dist() >= 2.0 - 1e-14);
    }
  }
}

TEST_CASE("error_stats NaN and infinity rule at every position", "[ptq][metrics]") {
  struct special {
    float r, x;
    int expect;  // 0 skipped, 1 matched infinity, 2 non-finite error
  };
  const special specials[] = {
      {fnan, 1.0f, 0},  {fnan, fnan, 0},   {fnan, finf, 0},  {-fnan, -finf, 0}, {finf, finf, 1},
      {-finf, -finf, 1}, {1.0f, fnan, 2},  {0.0f, -fnan, 2}, {finf, -finf, 2},  {-finf, finf, 2},
      {2.0f, finf, 2},  {2.0f, -finf, 2},  {finf, 2.0f, 2},  {-finf, FLT_MAX, 2}, {finf, fnan, 2},
  };
  for (const special& sp : specials) {
    for (const std::size_t n : {1u, 5u, 17u, 40u, 50u}) {
      for (std::size_t at = 0; at < n; at += (n > 17 ? 3u : 1u)) {
        std::vector<float> r, x;
        make_pairs(r, x, n, kind::noisy, n * 100 + at);
        r[at] = sp.r;
        x[at] = sp.x;
        INFO("special (" << sp.r << ", " << sp.x << ") at " << at << " of " << n);
        for (const bool portable : {false, true}) {
          fp8::error_stats s;
          if (portable)
            fp8::detail::add_pairs(s, r.data(), x.data(), n, fp8::isa::portable{});
          else
            s.add(r.data(), x.data(), n);
          const ref_stats f = reference(r.data(), x.data(), n);
          REQUIRE(f.skipped == (sp.expect == 0 ? 1u : 0u));  // the reference agrees with the table
          REQUIRE(f.matched == (sp.expect == 1 ? 1u : 0u));
          REQUIRE(f.nonfinite == (sp.expect == 2 ? 1u : 0u));
          check_against(s, f);
          if (sp.expect == 2)
            for (const fp8::metric m :
                 {fp8::metric::mse, fp8::metric::mae, fp8::metric::max_abs, fp8::metric::snr, fp8::metric::cos_dist})
              REQUIRE(fp8::loss(m, s) == inf);
          if (sp.expect == 1) REQUIRE(s.count() == n);  // compared, with error 0
          if (sp.expect == 0) REQUIRE(s.count() == n - 1);
        }
      }
    }
  }
  SECTION("only skipped pairs: an exact match over nothing") {
    const float r[] = {fnan, fnan, fnan}, x[] = {1.0f, fnan, finf};
    fp8::error_stats s;
    s.add(r, x, 3);
    REQUIRE(s.skipped() == 3);
    REQUIRE(s.count() == 0);
    REQUIRE(s.mse() == 0.0);
    REQUIRE(s.snr_db() == inf);
  }
  SECTION("only equal infinities: an exact match") {
    const float r[] = {finf, -finf}, x[] = {finf, -finf};
    fp8::error_stats s;
    s.add(r, x, 2);
    REQUIRE(s.count() == 2);
    REQUIRE(s.matched_infinities() == 2);
    REQUIRE(s.mse() == 0.0);
    REQUIRE(s.nsr() == 0.0);
    REQUIRE(s.cos_dist() == 0.0);
    REQUIRE(s.sum_rr() == 0.0);
  }
}

TEST_CASE("error_stats: add() split into batches gives the bits of one pass", "[ptq][metrics]") {
  std::mt19937_64 rng(9);
  for (const kind k : all_kinds) {
    for (const std::size_t n : {1u, 15u, 16u, 17u, 100u, 777u, 5000u}) {
      std::vector<float> r, x;
      make_pairs(r, x, n, k, rng());
      if (n > 20) {  // a few non-finite pairs on the way
        r[3] = fnan;
        r[11] = finf;
        x[11] = finf;
      }
      for (const bool portable : {false, true}) {
        const auto add = [&](fp8::error_stats& s, std::size_t first, std::size_t count) {
          if (portable)
            fp8::detail::add_pairs(s, r.data() + first, x.data() + first, count, fp8::isa::portable{});
          else
            s.add(r.data() + first, x.data() + first, count);
        };
        fp8::error_stats one;
        add(one, 0, n);
        for (int trial = 0; trial < 20; ++trial) {
          fp8::error_stats split;
          std::size_t first = 0;
          while (first < n) {
            std::size_t count = static_cast<std::size_t>(rng() % 40);
            if (count > n - first) count = n - first;
            add(split, first, count);  // count 0 included
            first += count;
          }
          INFO("kind " << static_cast<int>(k) << " n " << n << " portable " << portable << " trial " << trial);
          REQUIRE(bits_of(split.sum_rr()) == bits_of(one.sum_rr()));
          REQUIRE(bits_of(split.sum_xx()) == bits_of(one.sum_xx()));
          REQUIRE(bits_of(split.sum_rx()) == bits_of(one.sum_rx()));
          REQUIRE(bits_of(split.sum_squared_error()) == bits_of(one.sum_squared_error()));
          REQUIRE(bits_of(split.sum_abs_error()) == bits_of(one.sum_abs_error()));
          REQUIRE(bits_of(split.max_abs()) == bits_of(one.max_abs()));
          REQUIRE(bits_of(split.cos_dist()) == bits_of(one.cos_dist()));
          REQUIRE(split.pairs() == one.pairs());
          REQUIRE(split.skipped() == one.skipped());
          REQUIRE(split.matched_infinities() == one.matched_infinities());
        }
      }
    }
  }
}

TEST_CASE("error_stats: merge() of several accumulators equals one pass within the bound", "[ptq][metrics]") {
  std::mt19937_64 rng(10);
  for (const kind k : all_kinds) {
    for (const std::size_t n : {0u, 3u, 50u, 1000u, 9999u}) {
      std::vector<float> r, x;
      make_pairs(r, x, n, k, rng());
      if (n > 40) {
        r[7] = fnan;
        x[30] = fnan;  // non-finite in one of the parts
      }
      // Four parts of random sizes, each in its own accumulator.
      std::size_t cut[5] = {0, 0, 0, 0, n};
      for (int j = 1; j < 4; ++j) cut[j] = n == 0 ? 0 : static_cast<std::size_t>(rng() % (n + 1));
      std::sort(cut, cut + 5);
      fp8::error_stats parts[4], merged;
      for (int j = 0; j < 4; ++j) parts[j].add(r.data() + cut[j], x.data() + cut[j], cut[j + 1] - cut[j]);
      for (int j = 3; j >= 0; --j) merged.merge(parts[j]);
      INFO("kind " << static_cast<int>(k) << " n " << n);
      check_against(merged, reference(r.data(), x.data(), n));
      // Merging an empty accumulator changes no bit.
      fp8::error_stats again = merged;
      again.merge(fp8::error_stats());
      REQUIRE(bits_of(again.sum_squared_error()) == bits_of(merged.sum_squared_error()));
      REQUIRE(bits_of(again.sum_rx()) == bits_of(merged.sum_rx()));
      REQUIRE(again.pairs() == merged.pairs());
    }
  }
}

TEST_CASE("loss() maps each metric and rejects kld and non-enumerators", "[ptq][metrics]") {
  const float r[] = {1, -2, 3, 0.5f, 7}, x[] = {1.5f, -2, 2, 0.5f, 6};
  fp8::error_stats s;
  s.add(r, x, 5);
  // Errors 0.5, 0, -1, 0, -1: S_ee = 2.25, S_ae = 2.5, S_rr = 63.25.
  REQUIRE(fp8::loss(fp8::metric::mse, s) == 2.25 / 5);
  REQUIRE(fp8::loss(fp8::metric::mae, s) == 2.5 / 5);
  REQUIRE(fp8::loss(fp8::metric::max_abs, s) == 1.0);
  REQUIRE(fp8::loss(fp8::metric::snr, s) == 2.25 / 63.25);  // lower is better
  REQUIRE(fp8::loss(fp8::metric::cos_dist, s) == s.cos_dist());
  require_invalid([&] { (void)fp8::loss(fp8::metric::kld, s); }, "m");
  require_invalid([&] { (void)fp8::loss(static_cast<fp8::metric>(6), s); }, "m");
  require_invalid([&] { (void)fp8::loss(static_cast<fp8::metric>(-1), s); }, "m");
  REQUIRE(fp8::detail::is_enumerator(fp8::metric::kld));
  REQUIRE_FALSE(fp8::detail::is_enumerator(static_cast<fp8::metric>(6)));
}

TEST_CASE("error_stats::add argument errors change nothing", "[ptq][metrics]") {
  const float r[] = {1, 2, 3};
  fp8::error_stats s;
  s.add(r, r, 3);
  const double before = s.sum_rr();
  require_invalid([&] { s.add(nullptr, r, 1); }, "r");
  require_invalid([&] { s.add(r, nullptr, 1); }, "x");
  REQUIRE(s.pairs() == 3);
  REQUIRE(bits_of(s.sum_rr()) == bits_of(before));
  s.add(nullptr, nullptr, 0);  // allowed
  REQUIRE(s.pairs() == 3);
}

// ---------------------------------------------------------------- histogram

namespace {

// The slot of v by search over exact edges lo + k (hi - lo) / bins (long
// double: for the test ranges, v - lo, the products and hi - lo are exact),
// the last bin closed; bins, bins + 1, bins + 2 for below, above, NaN. near
// is set when v is within a relative 2^-50 of an inner edge, where the
// double rule may put it on either side.
std::size_t ref_slot(float v, float lo, float hi, std::size_t bins, bool* near = nullptr) {
  if (near) *near = false;
  if (std::isnan(v)) return bins + 2;
  if (v < lo) return bins;
  if (v > hi) return bins + 1;
  const long double L = lo, W = static_cast<long double>(hi) - L, V = v;
  for (std::size_t k = 0; k < bins; ++k) {
    const long double upper = k + 1 == bins ? static_cast<long double>(hi) : L + W * (k + 1) / bins;
    if (V < upper || k + 1 == bins) {
      if (near) {
        const long double lower = L + W * k / bins, tol = 0x1p-50L * (std::fabs(L) + W + std::fabs(V));
        *near = (k > 0 && V - lower <= tol) || (k + 1 < bins && upper - V <= tol);
      }
      return k;
    }
  }
  return bins - 1;
}

// The double rule restated: floor(fl(fl(v - lo) * fl(bins / fl(hi - lo)))),
// clamped to the last bin.
std::size_t rule_slot(float v, float lo, float hi, std::size_t bins) {
  if (std::isnan(v)) return bins + 2;
  if (v < lo) return bins;
  if (v > hi) return bins + 1;
  const double s = static_cast<double>(bins) / (static_cast<double>(hi) - static_cast<double>(lo));
  const double t = std::floor((static_cast<double>(v) - static_cast<double>(lo)) * s);
  return t >= static_cast<double>(bins - 1) ? bins - 1 : static_cast<std::size_t>(t);
}

// Whether double(v) - double(lo) is exact: its rounding error by Knuth's
// TwoSum is 0.
bool subtraction_exact(float v, float lo) {
  if (!std::isfinite(v)) return true;
  const double a = v, b = -static_cast<double>(lo), s = a + b, bb = s - a;
  return (a - (s - bb)) + (b - bb) == 0.0;
}

std::vector<std::uint64_t> slots_of(const fp8::histogram& h) {
  std::vector<std::uint64_t> c(h.counts(), h.counts() + h.bins());
  c.push_back(h.below());
  c.push_back(h.above());
  c.push_back(h.nan());
  return c;
}

// Values around a range: uniform inside and a little outside, exact edges
// and their float neighbours, lo, hi, zeros, infinities, NaN.
std::vector<float> values_around(float lo, float hi, std::size_t bins, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const float w = hi - lo;
  std::uniform_real_distribution<float> in(lo - 0.1f * w, hi + 0.1f * w);
  std::uniform_int_distribution<std::size_t> edge(0, bins);
  std::vector<float> v(n);
  for (float& y : v) {
    const int k = static_cast<int>(rng() % 16);
    const float e = static_cast<float>(lo + static_cast<double>(w) * static_cast<double>(edge(rng)) / static_cast<double>(bins));
    switch (k) {
      case 0: y = e; break;
      case 1: y = std::nextafter(e, -finf); break;
      case 2: y = std::nextafter(e, finf); break;
      case 3: y = (rng() & 1) ? lo : hi; break;
      case 4: y = (rng() & 1) ? std::nextafter(lo, -finf) : std::nextafter(hi, finf); break;
      case 5: y = (rng() % 3 == 0) ? fnan : ((rng() & 1) ? finf : -finf); break;
      case 6: y = (rng() & 1) ? 0.0f : -0.0f; break;
      default: y = in(rng); break;
    }
  }
  return v;
}

struct range_case {
  std::size_t bins;
  float lo, hi;
  bool exact;  // (hi - lo) / bins a power of two with float edges: the rule is exact
};
const range_case ranges[] = {
    {16, -4.0f, 4.0f, true},   {2048, 0.0f, 8.0f, true}, {1, -1.0f, 1.0f, true},       {3, 0.0f, 3.0f, false},
    {10, -3.0f, 5.0f, false},  {2048, 0.1f, 7.3f, false}, {7, -1e-3f, 2e-3f, false},  {100, 1000.0f, 1001.0f, false},
    {5, -0x1p-140f, 0x1p-140f, false},
};

}  // namespace

TEST_CASE("histogram binning equals the exact-edge reference and the stated rule", "[ptq][histogram]") {
  std::uint64_t seed = 40;
  for (const range_case& rc : ranges) {
    for (const std::size_t n : lengths()) {
      const std::vector<float> v = values_around(rc.lo, rc.hi, rc.bins, n + 3, seed++);
      for (const std::size_t offset : {0u, 1u, 3u}) {
        const std::size_t m = n + 3 - offset;
        fp8::histogram h(rc.bins, rc.lo, rc.hi);
        h.add(v.data() + offset, m);
        std::vector<std::uint64_t> want_rule(rc.bins + 3, 0);
        std::uint64_t near_edge = 0;
        std::vector<std::uint64_t> want_ref(rc.bins + 3, 0);
        for (std::size_t i = offset; i < n + 3; ++i) {
          bool near = false;
          ++want_ref[ref_slot(v[i], rc.lo, rc.hi, rc.bins, &near)];
          ++want_rule[rule_slot(v[i], rc.lo, rc.hi, rc.bins)];
          near_edge += near ? 1 : 0;
          // The rule is exact for a power-of-two width when v - lo is
          // exact in double (not so for v = -2^-149 and lo = -4).
          const bool exact = rc.exact && subtraction_exact(v[i], rc.lo);
          if (exact || !near || !std::isfinite(v[i])) {
            INFO("value " << v[i] << " bins " << rc.bins << " [" << rc.lo << ", " << rc.hi << "]");
            REQUIRE(h.bin_of(v[i]) == ref_slot(v[i], rc.lo, rc.hi, rc.bins));
          }
        }
        INFO("bins " << rc.bins << " [" << rc.lo << ", " << rc.hi << "] n " << m);
        REQUIRE(slots_of(h) == want_rule);  // the SIMD path is the rule, exactly
        if (near_edge == 0) REQUIRE(slots_of(h) == want_ref);
        REQUIRE(h.total() == m);
      }
    }
  }
}

TEST_CASE("histogram: every exact edge, its neighbours, out of range and NaN", "[ptq][histogram]") {
  fp8::histogram h(16, -4.0f, 4.0f);  // width 0.5: edges -4 + k / 2 are floats, the rule is exact
  for (int k = 0; k <= 16; ++k) {
    const float e = -4.0f + 0.5f * static_cast<float>(k);
    INFO("edge " << e);
    REQUIRE(h.bin_of(e) == (k == 16 ? 15u : static_cast<std::size_t>(k)));  // hi is in the last bin
    // The float neighbours: e - lo stays exact in double except around 0,
    // where 2^-20 stands in for the neighbour.
    const float below_e = e == 0.0f ? -0x1p-20f : std::nextafter(e, -finf);
    const float above_e = e == 0.0f ? 0x1p-149f : std::nextafter(e, finf);
    REQUIRE(h.bin_of(below_e) == (k == 0 ? 16u : static_cast<std::size_t>(k - 1)));
    REQUIRE(h.bin_of(above_e) == (k == 16 ? 17u : static_cast<std::size_t>(k)));
  }
  // The rule, not the exact partition: -2^-149 - (-4) rounds to 4 in double.
  REQUIRE(h.bin_of(-0x1p-149f) == 8u);
  REQUIRE(h.bin_of(-finf) == 16u);
  REQUIRE(h.bin_of(finf) == 17u);
  REQUIRE(h.bin_of(fnan) == 18u);
  REQUIRE(h.bin_of(-fnan) == 18u);
  REQUIRE(h.bin_of(-0.0f) == 8u);
  const float v[] = {-4.0f, 4.0f, 4.5f, -4.5f, fnan, finf, -finf, 0.0f, -0.0f, 3.99f, -3.99f, 1e30f, -1e30f, 0.5f};
  h.add(v, 14);
  REQUIRE(h.counts()[0] == 2);   // -4, -3.99
  REQUIRE(h.counts()[15] == 2);  // 4, 3.99
  REQUIRE(h.counts()[8] == 2);   // +0, -0
  REQUIRE(h.counts()[9] == 1);   // 0.5
  REQUIRE(h.counts()[7] == 0);   // [-0.5, 0): nothing
  REQUIRE(h.below() == 3);       // -4.5, -inf, -1e30
  REQUIRE(h.above() == 3);       // 4.5, inf, 1e30
  REQUIRE(h.nan() == 1);
  REQUIRE(h.in_range() == 7);
  REQUIRE(h.total() == 14);
}

TEST_CASE("histogram of magnitudes over [0, amax]", "[ptq][histogram]") {
  std::uint64_t seed = 70;
  for (const std::size_t bins : {1u, 8u, 2048u}) {
    for (const std::size_t n : lengths()) {
      const std::vector<float> v = values_around(-3.0f, 3.0f, bins, n, seed++);
      const float amax = 3.0f;
      const fp8::histogram h = fp8::histogram::of_magnitudes(v.data(), n, bins, amax);
      fp8::histogram g(bins, 0.0f, amax);
      g.add_magnitudes(v.data(), n);
      std::vector<std::uint64_t> want(bins + 3, 0);
      for (const float y : v) ++want[rule_slot(std::fabs(y), 0.0f, amax, bins)];
      INFO("bins " << bins << " n " << n);
      REQUIRE(h.lo() == 0.0f);
      REQUIRE(h.hi() == amax);
      REQUIRE(slots_of(h) == want);
      REQUIRE(slots_of(g) == want);
      REQUIRE(h.below() == 0);  // |x| is never below 0, -inf is above
    }
  }
  // Power-of-two amax: the rule is exact, so compare with the edge search.
  const std::vector<float> v = values_around(-8.0f, 8.0f, 64, 3000, 77);
  const fp8::histogram h = fp8::histogram::of_magnitudes(v.data(), v.size(), 64, 8.0f);
  std::vector<std::uint64_t> want(64 + 3, 0);
  for (const float y : v) ++want[ref_slot(std::fabs(y), 0.0f, 8.0f, 64)];
  REQUIRE(slots_of(h) == want);
}

TEST_CASE("histogram merge adds counts; a mismatch is rejected and changes nothing", "[ptq][histogram]") {
  const std::vector<float> v = values_around(-2.0f, 6.0f, 100, 5000, 80);
  fp8::histogram all(100, -2.0f, 6.0f), a(100, -2.0f, 6.0f), b(100, -2.0f, 6.0f);
  all.add(v.data(), v.size());
  a.add(v.data(), 1234);
  b.add(v.data() + 1234, v.size() - 1234);
  a.merge(b);
  REQUIRE(slots_of(a) == slots_of(all));
  const auto before = slots_of(a);
  for (const fp8::histogram& other :
       {fp8::histogram(99, -2.0f, 6.0f), fp8::histogram(100, -2.5f, 6.0f), fp8::histogram(100, -2.0f, 6.5f)}) {
    require_invalid([&] { a.merge(other); }, "other");
    REQUIRE(slots_of(a) == before);
  }
}

TEST_CASE("histogram argument errors", "[ptq][histogram]") {
  require_invalid([] { (void)fp8::histogram(0, 0.0f, 1.0f); }, "bins");
  require_invalid([] { (void)fp8::histogram(fp8::histogram::max_bins + 1, 0.0f, 1.0f); }, "bins");
  require_invalid([] { (void)fp8::histogram(4, fnan, 1.0f); }, "lo");
  require_invalid([] { (void)fp8::histogram(4, -finf, 1.0f); }, "lo");
  require_invalid([] { (void)fp8::histogram(4, 0.0f, finf); }, "hi");
  require_invalid([] { (void)fp8::histogram(4, 0.0f, fnan); }, "hi");
  require_invalid([] { (void)fp8::histogram(4, 1.0f, 1.0f); }, "hi");
  require_invalid([] { (void)fp8::histogram(4, 1.0f, 0.5f); }, "hi");
  const float x[] = {1.0f};
  require_invalid([&] { (void)fp8::histogram::of_magnitudes(x, 1, 8, 0.0f); }, "amax");
  require_invalid([&] { (void)fp8::histogram::of_magnitudes(x, 1, 8, -1.0f); }, "amax");
  require_invalid([&] { (void)fp8::histogram::of_magnitudes(x, 1, 8, finf); }, "amax");
  require_invalid([&] { (void)fp8::histogram::of_magnitudes(x, 1, 0, 1.0f); }, "bins");
  require_invalid([&] { (void)fp8::histogram::of_magnitudes(nullptr, 1, 8, 1.0f); }, "x");
  fp8::histogram h(4, 0.0f, 1.0f);
  h.add(x, 1);
  require_invalid([&] { h.add(nullptr, 2); }, "x");
  require_invalid([&] { h.add_magnitudes(nullptr, 2); }, "x");
  h.add(nullptr, 0);
  REQUIRE(h.total() == 1);
  REQUIRE(h.counts()[3] == 1);
  // The smallest range: hi - lo = 2^-149 with 2^30 bins would be 8 GiB; 2
  // bins over it are fine and their scale is finite.
  fp8::histogram tiny(2, 0.0f, 0x1p-149f);
  REQUIRE(std::isfinite(tiny.scale()));
  REQUIRE(tiny.bin_of(0x1p-149f) == 1u);
}

// ---------------------------------------------------------------- KL divergence

namespace {

// KL(P || Q) with the documented smoothing, in long double, written from the
// formula.
long double ref_kl(const std::vector<std::uint64_t>& p, const std::vector<std::uint64_t>& q, long double eps) {
  long double sp = 0, sq = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    sp += static_cast<long double>(p[i]);
    sq += static_cast<long double>(q[i]);
  }
  if (sp == 0) return 0;
  if (sq == 0) return std::numeric_limits<long double>::infinity();
  std::vector<long double> qs(p.size());
  long double total = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    qs[i] = q[i] > 0 ? static_cast<long double>(q[i]) / sq : (p[i] > 0 ? eps : 0);
    total += qs[i];
  }
  long double kl = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0) continue;
    const long double P = static_cast<long double>(p[i]) / sp;
    kl += P * std::log(P / (qs[i] / total));
  }
  return kl < 0 ? 0 : kl;
}

double kl(std::vector<std::uint64_t> p, std::vector<std::uint64_t> q, double eps = fp8::kld_default_epsilon) {
  return fp8::kl_divergence(p.data(), q.data(), p.size(), eps);
}

}  // namespace

TEST_CASE("kl_divergence on hand-made histograms", "[ptq][kld]") {
  const double e = fp8::kld_default_epsilon;
  REQUIRE(e == 1e-4);
  REQUIRE(kl({3, 1, 0, 2}, {3, 1, 0, 2}) == 0.0);
  REQUIRE(kl({3, 1, 0, 2}, {9, 3, 0, 6}) == 0.0);  // proportional counts: the same distribution
  REQUIRE(kl({1, 0}, {1, 1}) == Approx(std::log(2.0)).epsilon(1e-15));
  // P = (1/2, 1/2), Q = (1, 0): Q2 = eps, then Q / (1 + eps).
  REQUIRE(kl({1, 1}, {1, 0}) ==
          Approx(0.5 * std::log(0.5 * (1 + e)) + 0.5 * std::log(0.5 * (1 + e) / e)).epsilon(1e-14));
  // P = (1/2, 1/4, 0, 1/4), Q = (1/4, 0, 3/4, 0): two empty candidate bins
  // with reference mass, renormalizer 1 + 2 eps; bin 2 has P = 0.
  const double d = 1 + 2 * e;
  REQUIRE(kl({2, 1, 0, 1}, {1, 0, 3, 0}) ==
          Approx(0.5 * std::log(0.5 * d / 0.25) + 2 * 0.25 * std::log(0.25 * d / e)).epsilon(1e-14));
  // Another epsilon.
  REQUIRE(kl({1, 1}, {1, 0}, 0.5) == Approx(0.5 * std::log(0.5 * 1.5) + 0.5 * std::log(0.5 * 1.5 / 0.5)).epsilon(1e-14));
  // Empty reference: 0; empty candidate against a nonempty reference: +inf.
  REQUIRE(kl({0, 0, 0}, {1, 2, 3}) == 0.0);
  REQUIRE(kl({0, 0}, {0, 0}) == 0.0);
  REQUIRE(kl({1, 0}, {0, 0}) == inf);
  REQUIRE(fp8::kl_divergence(nullptr, nullptr, 0) == 0.0);
  // P = 0 where Q has mass contributes nothing: P = (1, 0), Q = (1/4, 3/4).
  REQUIRE(kl({5, 0}, {1, 3}) == Approx(std::log(4.0)).epsilon(1e-15));
  // Never negative.
  REQUIRE(kl({1000000, 1}, {1000000, 1}) == 0.0);
}

TEST_CASE("kl_divergence equals a long double implementation on random small histograms", "[ptq][kld]") {
  std::mt19937_64 rng(90);
  for (int trial = 0; trial < 2000; ++trial) {
    const std::size_t bins = 1 + static_cast<std::size_t>(rng() % 24);
    std::vector<std::uint64_t> p(bins), q(bins);
    for (std::size_t i = 0; i < bins; ++i) {
      p[i] = rng() % 3 == 0 ? 0 : rng() % 1000;
      q[i] = rng() % 3 == 0 ? 0 : rng() % 1000;
    }
    const double eps = trial % 2 ? 1e-4 : 1e-2;
    const long double want = ref_kl(p, q, eps);
    const double got = kl(p, q, eps);
    INFO("trial " << trial << " bins " << bins);
    if (std::isinf(want)) {
      REQUIRE(got == inf);
    } else {
      REQUIRE(std::fabs(static_cast<long double>(got) - want) <= 1e-13L * (1 + want));
      REQUIRE(got >= 0.0);
    }
  }
}

TEST_CASE("kl_divergence argument errors", "[ptq][kld]") {
  const std::uint64_t p[] = {1, 2};
  require_invalid([&] { (void)fp8::kl_divergence(nullptr, p, 2); }, "p");
  require_invalid([&] { (void)fp8::kl_divergence(p, nullptr, 2); }, "q");
  for (const double e : {0.0, -1e-4, inf, std::nan("")})
    require_invalid([&] { (void)fp8::kl_divergence(p, p, 2, e); }, "epsilon");
}

// ---------------------------------------------------------------- kld metric

namespace {

// PopRT-style kld restated: the compared pairs (r not NaN), each value's
// slot by the rule over [lo, hi], below and above folded into the edge bins,
// then ref_kl.
long double ref_kld(const std::vector<float>& r, const std::vector<float>& x, float lo, float hi, std::size_t bins,
                    long double eps = 1e-4L) {
  std::vector<std::uint64_t> p(bins, 0), q(bins, 0);
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (std::isnan(r[i])) continue;
    if (!(std::isfinite(r[i]) && std::isfinite(x[i])) && !(x[i] == r[i]))
      return std::numeric_limits<long double>::infinity();
    const auto fold = [&](float v) {
      const std::size_t s = rule_slot(v, lo, hi, bins);
      return s == bins ? 0 : (s == bins + 1 ? bins - 1 : s);
    };
    ++p[fold(r[i])];
    ++q[fold(x[i])];
  }
  return ref_kl(p, q, eps);
}

void min_max(const std::vector<float>& r, float& lo, float& hi) {
  lo = finf;
  hi = -finf;
  for (const float v : r)
    if (std::isfinite(v)) {
      lo = std::fmin(lo, v);
      hi = std::fmax(hi, v);
    }
}

}  // namespace

TEST_CASE("kld of a candidate against its reference equals the restated definition", "[ptq][kld]") {
  std::uint64_t seed = 100;
  for (const kind k : {kind::noisy, kind::rounded, kind::independent, kind::scaled}) {
    for (const std::size_t n : {2u, 17u, 100u, 1000u, 20000u}) {
      for (const std::size_t bins : {1u, 16u, 2048u}) {
        std::vector<float> r, x;
        make_pairs(r, x, n, k, seed++);
        float lo, hi;
        min_max(r, lo, hi);
        INFO("kind " << static_cast<int>(k) << " n " << n << " bins " << bins);
        const long double want = ref_kld(r, x, lo, hi, bins);
        const double got = fp8::kld(r.data(), x.data(), n, bins);
        REQUIRE(std::fabs(static_cast<long double>(got) - want) <= 1e-12L * (1 + want));
        if (bins == fp8::kld_default_bins) REQUIRE(fp8::metric_value(fp8::metric::kld, r.data(), x.data(), n) == got);
        REQUIRE(fp8::kld(r.data(), r.data(), n, bins) == 0.0);
        // A given range, narrower than the data: outliers fold into the edges.
        const long double want2 = ref_kld(r, x, -1.0f, 1.5f, bins, 1e-3L);
        const double got2 = fp8::kld(r.data(), x.data(), n, -1.0f, 1.5f, bins, 1e-3);
        REQUIRE(std::fabs(static_cast<long double>(got2) - want2) <= 1e-12L * (1 + want2));
      }
    }
  }
}

TEST_CASE("kld: NaN/Inf rule, constant reference, outliers", "[ptq][kld]") {
  std::vector<float> r, x;
  make_pairs(r, x, 3000, kind::rounded, 120);
  const double base = fp8::kld(r.data(), x.data(), r.size());
  REQUIRE(base > 0.0);
  SECTION("reference NaN pairs are dropped from both histograms") {
    std::vector<float> r2, x2;
    for (std::size_t i = 0; i < r.size(); ++i) {
      r2.push_back(r[i]);
      x2.push_back(x[i]);
      if (i % 7 == 3) {  // an extra pair whose reference is NaN, the candidate anything
        r2.push_back(fnan);
        x2.push_back(i % 2 ? 1e30f : fnan);
      }
    }
    REQUIRE(fp8::kld(r2.data(), x2.data(), r2.size()) == base);  // the same histograms
  }
  SECTION("a non-finite error gives +inf") {
    for (const float bad : {fnan, finf, -finf}) {
      std::vector<float> x2 = x;
      x2[1234] = bad;
      REQUIRE(fp8::kld(r.data(), x2.data(), r.size()) == inf);
      REQUIRE(fp8::metric_value(fp8::metric::kld, r.data(), x2.data(), r.size()) == inf);
      REQUIRE(fp8::kld(r.data(), x2.data(), r.size(), -1.0f, 1.0f) == inf);
    }
  }
  SECTION("equal infinities are compared in the edge bins") {
    std::vector<float> r2 = r, x2 = x;
    r2.push_back(finf);
    x2.push_back(finf);
    r2.push_back(-finf);
    x2.push_back(-finf);
    float lo, hi;
    min_max(r2, lo, hi);
    const long double want = ref_kld(r2, x2, lo, hi, fp8::kld_default_bins);
    REQUIRE(std::fabs(static_cast<long double>(fp8::kld(r2.data(), x2.data(), r2.size())) - want) <=
            1e-12L * (1 + want));
  }
  SECTION("no range: constant, empty or infinite reference gives 0") {
    const float c[] = {2.0f, 2.0f, 2.0f}, y[] = {1.0f, 2.0f, 100.0f}, i2[] = {finf, -finf};
    REQUIRE(fp8::kld(c, y, 3) == 0.0);
    REQUIRE(fp8::kld(nullptr, nullptr, 0) == 0.0);
    REQUIRE(fp8::kld(i2, i2, 2) == 0.0);
  }
  SECTION("clipping is seen: a candidate squeezed into half the range") {
    std::vector<float> half = r;
    for (float& v : half) v = std::fmin(std::fmax(v, -1.0f), 1.0f);
    REQUIRE(fp8::kld(r.data(), half.data(), r.size()) > 0.01);
  }
}

TEST_CASE("kld: the range scan and the NaN/Inf rule at every position, both paths", "[ptq][kld]") {
  struct special {
    float r, x;
  };
  const special specials[] = {{fnan, 1.0f}, {fnan, fnan}, {finf, finf}, {-finf, -finf}, {1.0f, fnan},
                              {finf, -finf}, {2.0f, finf}, {finf, 2.0f}, {1e30f, 1e30f}, {-1e30f, 0.0f}};
  for (const special& sp : specials) {
    for (const std::size_t n : {1u, 2u, 15u, 16u, 17u, 33u, 50u}) {
      for (std::size_t at = 0; at < n; ++at) {
        std::vector<float> r, x;
        make_pairs(r, x, n, kind::rounded, 1000 + n * 64 + at);
        r[at] = sp.r;
        x[at] = sp.x;
        // The test's own scan: range of the finite reference values of the
        // compared pairs, and whether a non-finite error exists.
        bool nonfinite = false, skipped = false;
        std::vector<float> finite_r;
        for (std::size_t i = 0; i < n; ++i) {
          if (std::isnan(r[i])) {
            skipped = true;
          } else if (std::isfinite(r[i]) && std::isfinite(x[i])) {
            finite_r.push_back(r[i]);
          } else if (!(x[i] == r[i])) {
            nonfinite = true;
          }
        }
        float lo, hi;
        min_max(finite_r, lo, hi);
        INFO("special (" << sp.r << ", " << sp.x << ") at " << at << " of " << n);
        const auto best = fp8::detail::kld_scan(r.data(), x.data(), n, fp8::isa::best{});
        const auto portable = fp8::detail::kld_scan(r.data(), x.data(), n, fp8::isa::portable{});
        for (const auto& got : {best, portable}) {
          REQUIRE(got.nonfinite == nonfinite);
          if (nonfinite) continue;
          REQUIRE(got.skipped == skipped);
          REQUIRE(got.lo == lo);
          REQUIRE(got.hi == hi);
        }
        const double k = fp8::kld(r.data(), x.data(), n, 64);
        if (nonfinite) {
          REQUIRE(k == inf);
        } else if (!(lo < hi)) {
          REQUIRE(k == 0.0);
        } else {
          const long double want = ref_kld(r, x, lo, hi, 64);
          REQUIRE(std::fabs(static_cast<long double>(k) - want) <= 1e-12L * (1 + want));
        }
      }
    }
  }
}

TEST_CASE("kl_loss on histograms", "[ptq][kld]") {
  fp8::histogram a(4, 0.0f, 4.0f), b(4, 0.0f, 4.0f);
  const float ra[] = {0.5f, 1.5f, 2.5f, 3.5f, -9.0f}, xb[] = {0.5f, 1.5f, 2.5f, 3.5f, 0.2f};
  a.add(ra, 5);  // -9 folds into bin 0
  b.add(xb, 5);
  REQUIRE(fp8::kl_loss(a, b) == 0.0);
  const float xc[] = {0.5f, 1.5f, 2.5f, 9.0f, 9.0f};  // 3.5 gone, outliers into bin 3
  fp8::histogram c(4, 0.0f, 4.0f);
  c.add(xc, 5);
  // P = (2, 1, 1, 1) / 5, Q = (1, 1, 1, 2) / 5.
  REQUIRE(fp8::kl_loss(a, c) == Approx(0.4 * std::log(2.0) + 0.2 * std::log(0.5)).epsilon(1e-14));
  fp8::histogram withnan(4, 0.0f, 4.0f);
  withnan.add(&fnan, 1);
  REQUIRE(fp8::kl_loss(a, withnan) == inf);
  REQUIRE(fp8::kl_loss(withnan, a) == 0.0);  // a reference holding only NaN: nothing to compare
  require_invalid([&] { (void)fp8::kl_loss(a, fp8::histogram(5, 0.0f, 4.0f)); }, "x");
  require_invalid([&] { (void)fp8::kl_loss(a, fp8::histogram(4, 0.0f, 5.0f)); }, "x");
  require_invalid([&] { (void)fp8::kl_loss(a, b, 0.0); }, "epsilon");
}

TEST_CASE("metric_value computes every metric in one call", "[ptq][metrics]") {
  std::vector<float> r, x;
  make_pairs(r, x, 4097, kind::rounded, 130);
  fp8::error_stats s;
  s.add(r.data(), x.data(), r.size());
  const ref_stats f = reference(r.data(), x.data(), r.size());
  check_against(s, f);
  REQUIRE(fp8::metric_value(fp8::metric::mse, r.data(), x.data(), r.size()) == s.mse());
  REQUIRE(fp8::metric_value(fp8::metric::mae, r.data(), x.data(), r.size()) == s.mae());
  REQUIRE(fp8::metric_value(fp8::metric::max_abs, r.data(), x.data(), r.size()) == f.max_abs);
  REQUIRE(fp8::metric_value(fp8::metric::snr, r.data(), x.data(), r.size()) == s.nsr());
  REQUIRE(fp8::metric_value(fp8::metric::cos_dist, r.data(), x.data(), r.size()) == s.cos_dist());
  REQUIRE(fp8::metric_value(fp8::metric::mse, nullptr, nullptr, 0) == 0.0);
  require_invalid([&] { (void)fp8::metric_value(static_cast<fp8::metric>(9), r.data(), x.data(), 1); }, "m");
  require_invalid([&] { (void)fp8::metric_value(fp8::metric::mse, nullptr, x.data(), 1); }, "r");
  require_invalid([&] { (void)fp8::metric_value(fp8::metric::kld, r.data(), nullptr, 1); }, "x");
  require_invalid([&] { (void)fp8::kld(r.data(), x.data(), 5, 0); }, "bins");
  require_invalid([&] { (void)fp8::kld(r.data(), x.data(), 5, fp8::histogram::max_bins + 1); }, "bins");
  require_invalid([&] { (void)fp8::kld(r.data(), x.data(), 5, 2048, 0.0); }, "epsilon");
  require_invalid([&] { (void)fp8::kld(nullptr, x.data(), 5); }, "r");
  require_invalid([&] { (void)fp8::kld(r.data(), x.data(), 5, fnan, 1.0f); }, "lo");
  require_invalid([&] { (void)fp8::kld(r.data(), x.data(), 5, 1.0f, 1.0f); }, "hi");
}

// ------------------------------------------------------------ every tier, bit for bit

namespace {

// The summation order restated (docs/ptq.md): pair p into partial sum
// p mod 16, E^2 by one fma, the other products exact, the partial sums
// combined by the pairwise tree; the NaN/Inf rule pair by pair.
struct def_stats {
  double lane[5][16] = {};
  double max_abs = 0;
  std::uint64_t pairs = 0, skipped = 0, nonfinite = 0, matched = 0;
  void add(const float* r, const float* x, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i, ++pairs) {
      const std::size_t j = static_cast<std::size_t>(pairs % 16);
      if (std::isnan(r[i])) {
        ++skipped;
      } else if (!std::isfinite(r[i]) || !std::isfinite(x[i])) {
        if (x[i] == r[i])
          ++matched;
        else
          ++nonfinite;
      } else {
        const double R = r[i], X = x[i], E = X - R;
        lane[0][j] += R * R;
        lane[1][j] += X * X;
        lane[2][j] += R * X;
        lane[3][j] = std::fma(E, E, lane[3][j]);
        lane[4][j] += std::fabs(E);
        max_abs = std::max(max_abs, std::fabs(E));
      }
    }
  }
  double sum(std::size_t k) const {
    double a[16];
    std::copy(lane[k], lane[k] + 16, a);
    for (std::size_t w = 8; w >= 1; w /= 2)
      for (std::size_t i = 0; i < w; ++i) a[i] = a[2 * i] + a[2 * i + 1];
    return a[0];
  }
};

void require_same_bits(const fp8::error_stats& s, const def_stats& d) {
  REQUIRE(bits_of(s.sum_rr()) == bits_of(d.sum(0)));
  REQUIRE(bits_of(s.sum_xx()) == bits_of(d.sum(1)));
  REQUIRE(bits_of(s.sum_rx()) == bits_of(d.sum(2)));
  REQUIRE(bits_of(s.sum_squared_error()) == bits_of(d.sum(3)));
  REQUIRE(bits_of(s.sum_abs_error()) == bits_of(d.sum(4)));
  REQUIRE(s.pairs() == d.pairs);
  REQUIRE(s.skipped() == d.skipped);
  REQUIRE(s.nonfinite() == d.nonfinite);
  REQUIRE(s.matched_infinities() == d.matched);
  if (d.nonfinite == 0) REQUIRE(bits_of(s.max_abs()) == bits_of(d.max_abs));
}

// Random pairs of every kind with non-finite values sprinkled in (about one
// pair in `rarity`: NaN, infinities, both sides).
void make_special_pairs(std::vector<float>& r, std::vector<float>& x, std::size_t n, kind k, std::uint64_t seed,
                        unsigned rarity) {
  make_pairs(r, x, n, k, seed);
  std::mt19937_64 rng(seed ^ 0x5eed);
  const float specials[] = {fnan, finf, -finf, 0.0f, -0.0f, FLT_MAX, -FLT_MAX};
  for (std::size_t i = 0; i < n; ++i) {
    if (rng() % rarity != 0) continue;
    const float v = specials[rng() % 7];
    switch (rng() % 3) {
      case 0: r[i] = v; break;
      case 1: x[i] = v; break;
      default: r[i] = x[i] = v; break;
    }
  }
}

const fp8::cpu_tier all_cpu_tiers[] = {fp8::cpu_tier::portable, fp8::cpu_tier::sse2, fp8::cpu_tier::avx2,
                                       fp8::cpu_tier::avx512, fp8::cpu_tier::avx512bf16};

}  // namespace

TEST_CASE("error_stats: every tier gives the bits of the definition, whatever the split", "[ptq][metrics][tiers]") {
  std::mt19937_64 rng(77);
  std::vector<std::size_t> ns;
  for (std::size_t n = 0; n <= 40; ++n) ns.push_back(n);  // every tail, heads at every stream position below
  for (const std::size_t n : {63u, 64u, 65u, 257u, 1000u, 4099u}) ns.push_back(n);
  for (const kind k : all_kinds) {
    for (const std::size_t n : ns) {
      for (const unsigned rarity : {1000000u, 23u, 3u}) {
        std::vector<float> r, x;
        make_special_pairs(r, x, n, k, rng(), rarity);
        // Splits: one call, and random batches (0 to 40 pairs each).
        std::vector<std::size_t> split{n};
        if (n > 0) {
          split.clear();
          for (std::size_t done = 0; done < n;) {
            const std::size_t c = std::min<std::size_t>(static_cast<std::size_t>(rng() % 41), n - done);
            split.push_back(c);
            done += c;
          }
        }
        const std::size_t lead = static_cast<std::size_t>(rng() % 16);  // a stream position before the data
        std::vector<float> pr, px;
        make_pairs(pr, px, lead, k, rng());
        def_stats d;
        d.add(pr.data(), px.data(), lead);
        d.add(r.data(), x.data(), n);
        INFO("kind " << static_cast<int>(k) << " n " << n << " rarity " << rarity << " lead " << lead);
        test_tiers::for_each_tier([&](auto tag, const char* name) {
          INFO("tier " << name << " (direct)");
          for (const bool whole : {true, false}) {
            fp8::error_stats s;
            fp8::detail::add_pairs(s, pr.data(), px.data(), lead, tag);
            if (whole) {
              fp8::detail::add_pairs(s, r.data(), x.data(), n, tag);
            } else {
              std::size_t first = 0;
              for (const std::size_t c : split) {
                fp8::detail::add_pairs(s, r.data() + first, x.data() + first, c, tag);
                first += c;
              }
            }
            require_same_bits(s, d);
          }
        });
        for (const fp8::cpu_tier t : all_cpu_tiers) {
          if (t > fp8::best_tier(fp8::cpu())) continue;
          const fp8::tier_scope scope(t);
          INFO("entry under tier_scope " << static_cast<int>(t));
          fp8::error_stats s;
          s.add(pr.data(), px.data(), lead);
          std::size_t first = 0;
          for (const std::size_t c : split) {
            s.add(r.data() + first, x.data() + first, c);
            first += c;
          }
          require_same_bits(s, d);
        }
      }
    }
  }
}

TEST_CASE("histogram binning: every tier gives the counts of the rule", "[ptq][histogram][tiers]") {
  std::mt19937_64 rng(78);
  struct range {
    float lo, hi;
    std::size_t bins;
  };
  const range tier_ranges[] = {{-4.0f, 4.0f, 64}, {0.0f, 10.0f, 2048}, {-1e-3f, 3e-3f, 7}, {-1.0f, 1.0f, 1},
                          {0.0f, 1e30f, 100}};
  for (const range& rg : tier_ranges) {
    for (std::size_t n = 0; n <= 300; n += (n < 40 ? 1 : 37)) {
      std::vector<float> v, unused;
      make_special_pairs(v, unused, n, kind::independent, rng(), 5);
      for (float& f : v) f *= rg.hi / 2.0f;  // specials stay special; some of the range, some out of it
      if (n > 2) v[1] = rg.lo, v[2] = rg.hi;
      const fp8::histogram shape(rg.bins, rg.lo, rg.hi);
      for (const bool magnitudes : {false, true}) {
        std::vector<std::uint64_t> want(rg.bins + 3, 0);
        for (const float f : v) ++want[shape.bin_of(magnitudes ? std::fabs(f) : f)];
        INFO("range [" << rg.lo << ", " << rg.hi << "] bins " << rg.bins << " n " << n << " magnitudes "
                       << magnitudes);
        const fp8::detail::bin_params p{rg.lo, rg.hi, shape.scale(), rg.bins};
        test_tiers::for_each_tier([&](auto tag, const char* name) {
          INFO("tier " << name << " (direct)");
          std::vector<std::uint64_t> got(rg.bins + 3, 0);
          if (magnitudes)
            fp8::detail::bin_values<true>(got.data(), v.data(), n, p, tag);
          else
            fp8::detail::bin_values<false>(got.data(), v.data(), n, p, tag);
          REQUIRE(got == want);
        });
        for (const fp8::cpu_tier t : all_cpu_tiers) {
          if (t > fp8::best_tier(fp8::cpu())) continue;
          const fp8::tier_scope scope(t);
          INFO("entry under tier_scope " << static_cast<int>(t));
          fp8::histogram h(rg.bins, rg.lo, rg.hi);
          if (magnitudes)
            h.add_magnitudes(v.data(), n);
          else
            h.add(v.data(), n);
          REQUIRE(std::vector<std::uint64_t>(h.counts(), h.counts() + rg.bins + 3) == want);
        }
      }
    }
  }
}

TEST_CASE("kld: every tier scans and divides with the same bits", "[ptq][kld][tiers]") {
  std::mt19937_64 rng(79);
  for (std::size_t n = 0; n <= 200; n += (n < 40 ? 1 : 23)) {
    for (const unsigned rarity : {1000000u, 31u, 4u}) {
      std::vector<float> r, x;
      make_special_pairs(r, x, n, kind::rounded, rng(), rarity);
      const auto want = fp8::detail::kld_scan(r.data(), x.data(), n, fp8::isa::portable{});
      double want_kld = 0.0, want_kld_range = 0.0;
      {
        const fp8::tier_scope scope(fp8::cpu_tier::portable);
        want_kld = fp8::kld(r.data(), x.data(), n, 64);
        want_kld_range = fp8::kld(r.data(), x.data(), n, -2.0f, 3.0f, 64);
      }
      INFO("n " << n << " rarity " << rarity);
      test_tiers::for_each_tier([&](auto tag, const char* name) {
        INFO("tier " << name << " (direct)");
        const auto got = fp8::detail::kld_scan(r.data(), x.data(), n, tag);
        REQUIRE(got.nonfinite == want.nonfinite);
        if (want.nonfinite) return;
        REQUIRE(got.skipped == want.skipped);
        REQUIRE(std::memcmp(&got.lo, &want.lo, sizeof(float)) == 0);  // a zero's sign included
        REQUIRE(std::memcmp(&got.hi, &want.hi, sizeof(float)) == 0);
      });
      for (const fp8::cpu_tier t : all_cpu_tiers) {
        if (t > fp8::best_tier(fp8::cpu())) continue;
        const fp8::tier_scope scope(t);
        INFO("entry under tier_scope " << static_cast<int>(t));
        REQUIRE(bits_of(fp8::kld(r.data(), x.data(), n, 64)) == bits_of(want_kld));
        REQUIRE(bits_of(fp8::kld(r.data(), x.data(), n, -2.0f, 3.0f, 64)) == bits_of(want_kld_range));
      }
    }
  }
}
