// SPDX-License-Identifier: Apache-2.0
// An independent reference for the FP8 codec, used only by the tests.
//
// It shares no code with include/fp8: each format is described by the numbers
// the specifications print (OCP OFP8 rev 1.0 tables 1-2, ONNX float8 types),
// codes are decoded with std::ldexp from the textbook formula, and encoding is
// a search for the nearest decoded value (ties to the even code) instead of
// bit manipulation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace ref {

enum class family { ieee, fn, fnuz };

struct format {
  const char* name;
  int exponent_bits, mantissa_bits, bias;
  family kind;
  double max;                 // largest finite value, as the spec states it
  double min_subnormal;       // smallest positive value, as the spec states it
  std::uint8_t nan_from_nan;  // code for a positive NaN input; negative adds 0x80 except fnuz
  std::uint8_t overflow_code; // non-saturating overflow of a positive value; same sign rule
};

inline const format e4m3{"E4M3", 4, 3, 7, family::fn, 448.0, 0x1p-9, 0x7F, 0x7F};
inline const format e5m2{"E5M2", 5, 2, 15, family::ieee, 57344.0, 0x1p-16, 0x7E, 0x7C};
inline const format e4m3fnuz{"E4M3FNUZ", 4, 3, 8, family::fnuz, 240.0, 0x1p-10, 0x80, 0x80};
inline const format e5m2fnuz{"E5M2FNUZ", 5, 2, 16, family::fnuz, 57344.0, 0x1p-17, 0x80, 0x80};

inline bool is_nan(const format& f, unsigned c) {
  const unsigned mag = c & 0x7F;
  const unsigned exp_ones = (1u << f.exponent_bits) - 1;
  switch (f.kind) {
    case family::ieee: return (mag >> f.mantissa_bits) == exp_ones && (mag & ((1u << f.mantissa_bits) - 1)) != 0;
    case family::fn: return mag == 0x7F;
    case family::fnuz: return c == 0x80;
  }
  return false;
}
inline bool is_inf(const format& f, unsigned c) {
  return f.kind == family::ieee && (c & 0x7F) == (((1u << f.exponent_bits) - 1) << f.mantissa_bits);
}

// sign * 2^(e - bias) * (1 + m / 2^M), or sign * 2^(1 - bias) * (m / 2^M) when e == 0.
inline double decode(const format& f, unsigned c) {
  if (is_nan(f, c)) return std::numeric_limits<double>::quiet_NaN();
  const double sign = (c & 0x80) ? -1.0 : 1.0;
  if (is_inf(f, c)) return sign * std::numeric_limits<double>::infinity();
  const int e = static_cast<int>((c & 0x7F) >> f.mantissa_bits);
  const double m = static_cast<double>(c & ((1u << f.mantissa_bits) - 1)) / std::ldexp(1.0, f.mantissa_bits);
  return e == 0 ? sign * std::ldexp(m, 1 - f.bias) : sign * std::ldexp(1.0 + m, e - f.bias);
}

// The finite non-negative values of a format in increasing order, with their
// codes, plus one virtual entry past max: max + (the step between max and the
// value below it), whose code max_code + 1 is what "rounds past max" means.
struct table {
  std::vector<double> value;
  std::vector<unsigned> code;
  explicit table(const format& f) {
    for (unsigned c = 0; c < 0x80; ++c) {
      const double v = decode(f, c);
      if (std::isfinite(v)) {
        value.push_back(v);
        code.push_back(c);
      }
    }
    std::vector<std::size_t> order(value.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return value[a] < value[b]; });
    std::vector<double> v;
    std::vector<unsigned> k;
    for (std::size_t i : order) {
      v.push_back(value[i]);
      k.push_back(code[i]);
    }
    const std::size_t n = v.size();
    v.push_back(v[n - 1] + (v[n - 1] - v[n - 2]));
    k.push_back(k[n - 1] + 1);
    value = v;
    code = k;
  }
  std::size_t size() const { return value.size(); }  // including the virtual entry
  double max() const { return value[size() - 2]; }
};

// Result for a non-negative finite x, as an index into t (size() - 1 means
// "past max"), given j with value[j] <= x < value[j + 1].
inline std::size_t nearest_from(const table& t, double x, std::size_t j) {
  const double mid = (t.value[j] + t.value[j + 1]) / 2;  // exact: one more bit than the codes
  if (x < mid) return j;
  if (x > mid) return j + 1;
  return (t.code[j] % 2 == 0) ? j : j + 1;
}

// Applies the sign and special rules to a magnitude result.
inline std::uint8_t finish(const format& f, const table& t, bool negative, std::size_t idx, bool saturate) {
  const unsigned sign = negative ? 0x80u : 0u;
  const bool unsigned_specials = f.kind == family::fnuz;
  if (idx == t.size() - 1) {
    if (saturate) return static_cast<std::uint8_t>(t.code[t.size() - 2] | sign);
    return static_cast<std::uint8_t>(f.overflow_code | (unsigned_specials ? 0u : sign));
  }
  if (t.value[idx] == 0.0) return static_cast<std::uint8_t>(unsigned_specials ? 0u : sign);
  return static_cast<std::uint8_t>(t.code[idx] | sign);
}

inline std::uint8_t encode(const format& f, const table& t, double x, bool saturate) {
  const bool negative = std::signbit(x);
  if (std::isnan(x)) return static_cast<std::uint8_t>(f.nan_from_nan | (f.kind == family::fnuz || !negative ? 0u : 0x80u));
  const double a = std::fabs(x);
  if (std::isinf(a) || a >= t.value.back()) return finish(f, t, negative, t.size() - 1, saturate);
  const std::size_t j =
      static_cast<std::size_t>(std::upper_bound(t.value.begin(), t.value.end(), a) - t.value.begin()) - 1;
  return finish(f, t, negative, nearest_from(t, a, j), saturate);
}

}  // namespace ref
