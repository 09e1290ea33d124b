// SPDX-License-Identifier: Apache-2.0
// Reports of post-training quantization, as text (aligned columns for a
// log), CSV and JSON: the precision comparison of a float model and its
// quantized version layer by layer (PopRT's precision_compare.log: every
// metric of ptq/metrics.hpp between each layer's float and quantized
// outputs), and the table of a weight search (PopRT's quantize.log: every
// format and scale tried, with every metric, the winner marked).
//
// Numbers are printed with 9 significant digits (%.9g, enough to tell any
// two floats apart; doubles lose their last digits). JSON has no infinity
// or NaN: those are written as null there, and as inf / -inf / nan in text
// and CSV. CSV follows RFC 4180: a field with a comma, quote or line break is
// quoted, quotes doubled. Layer and tensor names are free text.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "../config.hpp"
#include "../error.hpp"
#include "metrics.hpp"
#include "search.hpp"

FP8_BEGIN_NAMESPACE

// One row of a report: a name, labels (format, scale rule: empty in a
// precision comparison) and the metrics.
struct report_row {
  std::string name;
  std::string format, rule;
  double scale = std::numeric_limits<double>::quiet_NaN();  // NaN: per channel, or not applicable
  double mse = 0, mae = 0, max_abs = 0, snr_db = 0, cos_dist = 0;
  double kld = std::numeric_limits<double>::quiet_NaN();     // NaN: not computed
  bool chosen = false;
};

namespace detail {

inline std::string number_text(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char b[32];
  std::snprintf(b, sizeof b, "%.9g", x);
  return b;
}
inline std::string json_number(double x) { return std::isfinite(x) ? number_text(x) : "null"; }
// Length of the well-formed UTF-8 sequence (RFC 3629: shortest form, no
// surrogates, at most U+10FFFF) that starts at s[i], or 0 where none does.
inline std::size_t utf8_sequence(const std::string& s, std::size_t i) noexcept {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned c = b(0);
  std::size_t n = 0;
  unsigned lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
  else return 0;
  if (s.size() - i < n || b(1) < lo || b(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  return n;
}

// A JSON string: quotes, backslashes and control characters escaped; a
// byte that does not start a well-formed UTF-8 sequence is written as
// U+FFFD (the replacement character) and reading resumes at the next byte,
// so the document is valid JSON whatever the bytes of a name.
inline std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char ch = s[i];
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence(s, i);
      if (n == 0) {
        o += "\\ufffd";
      } else {
        o.append(s, i, n);
        i += n - 1;
      }
      continue;
    }
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          o += b;
        } else {
          o += ch;
        }
    }
  }
  return o + "\"";
}
inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}
inline const char* rule_text(scale_rule r) noexcept {
  switch (r) {
    case scale_rule::power_of_two: return "pow2";
    case scale_rule::amax: return "amax";
    case scale_rule::clip: return "clip";
    case scale_rule::per_channel_best: return "per-channel";
  }
  return "?";
}

}  // namespace detail

class report {
 public:
  const std::vector<report_row>& rows() const noexcept { return rows_; }

  // A precision-comparison row: layer `name`, its float output r and its
  // quantized output x (n values each), every metric; kld when with_kld.
  void compare(const std::string& name, const float* r, const float* x, std::size_t n, bool with_kld = true) {
    std::size_t bytes[2];
    detail::check_arrays("fp8::report::compare", {{"r", r, n, sizeof(float)}, {"x", x, n, sizeof(float)}}, bytes);
    error_stats st;
    st.add(r, x, n);
    report_row row;
    row.name = name;
    row.mse = st.mse();
    row.mae = st.mae();
    row.max_abs = st.max_abs();
    row.snr_db = st.snr_db();
    row.cos_dist = st.cos_dist();
    if (with_kld) row.kld = kld(r, x, n);
    rows_.push_back(row);
  }

  // The rows of a weight search of tensor `name`, the winner marked.
  void add_search(const std::string& name, const search_result& s) {
    for (std::size_t i = 0; i < s.table.size(); ++i) {
      const search_row& t = s.table[i];
      report_row row;
      row.name = name;
      row.format = qformat_name(t.format);
      row.rule = detail::rule_text(t.rule);
      if (t.rule == scale_rule::power_of_two) row.rule += "(" + std::to_string(t.exponent) + ")";
      if (t.rule == scale_rule::clip) row.rule += "(" + detail::number_text(static_cast<double>(t.ratio)) + ")";
      row.scale = static_cast<double>(t.scale);
      row.mse = t.mse;
      row.mae = t.mae;
      row.max_abs = t.max_abs;
      row.snr_db = t.snr_db;
      row.cos_dist = t.cos_dist;
      row.kld = t.kld;
      row.chosen = i == s.best;
      rows_.push_back(row);
    }
  }

  void write_text(std::ostream& out) const {
    const std::vector<std::vector<std::string>> cells = table(false);
    std::vector<std::size_t> width(cells[0].size(), 0);
    for (const auto& r : cells)
      for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
    for (const auto& r : cells) {
      std::string line;
      for (std::size_t c = 0; c < r.size(); ++c) {
        line += r[c];
        if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
      }
      out << line << '\n';
    }
  }
  void write_csv(std::ostream& out) const {
    for (const auto& r : table(true)) {
      for (std::size_t c = 0; c < r.size(); ++c) out << (c ? "," : "") << detail::csv_field(r[c]);
      out << "\r\n";
    }
  }
  void write_json(std::ostream& out) const {
    out << "[\n";
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      const report_row& r = rows_[i];
      out << "  {\"name\": " << detail::json_string(r.name);
      if (!r.format.empty()) out << ", \"format\": " << detail::json_string(r.format);
      if (!r.rule.empty()) out << ", \"rule\": " << detail::json_string(r.rule);
      if (!r.format.empty()) out << ", \"scale\": " << detail::json_number(r.scale);
      out << ", \"mse\": " << detail::json_number(r.mse) << ", \"mae\": " << detail::json_number(r.mae)
          << ", \"max_abs\": " << detail::json_number(r.max_abs) << ", \"snr_db\": " << detail::json_number(r.snr_db)
          << ", \"cos_dist\": " << detail::json_number(r.cos_dist) << ", \"kld\": " << detail::json_number(r.kld);
      if (!r.format.empty()) out << ", \"chosen\": " << (r.chosen ? "true" : "false");
      out << "}" << (i + 1 < rows_.size() ? "," : "") << "\n";
    }
    out << "]\n";
  }

 private:
  // The header and one line of cells per row; search columns only when a
  // row has a format. csv: "chosen" as 1/0 instead of a star.
  std::vector<std::vector<std::string>> table(bool csv) const {
    bool search = false;
    for (const auto& r : rows_) search = search || !r.format.empty();
    std::vector<std::vector<std::string>> t;
    std::vector<std::string> head = {"name"};
    if (search) head.insert(head.end(), {"format", "rule", "scale"});
    head.insert(head.end(), {"mse", "mae", "max_abs", "snr_db", "cos_dist", "kld"});
    if (search) head.push_back("chosen");
    t.push_back(head);
    for (const auto& r : rows_) {
      std::vector<std::string> c = {r.name};
      if (search) c.insert(c.end(), {r.format, r.rule, detail::number_text(r.scale)});
      for (double v : {r.mse, r.mae, r.max_abs, r.snr_db, r.cos_dist, r.kld}) c.push_back(detail::number_text(v));
      if (search) c.push_back(csv ? (r.chosen ? "1" : "0") : (r.chosen ? "*" : ""));
      t.push_back(c);
    }
    return t;
  }

  std::vector<report_row> rows_;
};

FP8_END_NAMESPACE
