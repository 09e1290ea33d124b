// SPDX-License-Identifier: Apache-2.0
// fp8-quantize, the command-line weight quantizer: reads weights from a
// .safetensors file or .npy files, runs the PopRT-style search of
// ptq/search.hpp on every weight tensor (rank >= 2, a floating-point dtype,
// not on the skip list), and writes a .safetensors file in the layout FP8
// checkpoints on the Hugging Face hub use: `<name>` holding the codes
// (F8_E4M3, F8_E5M2, F8_E4M3FNUZ, F8_E5M2FNUZ; I8 for int8 and for int4,
// one value in [-8, 7] per byte) with the input's shape, and `<name>_scale`
// (F32, one scale per output channel, shape [shape[0]], or a scalar, shape
// [], per tensor) such that weight ~= code * scale. Every other tensor
// (biases, norms, skipped names, integer tensors) is copied unchanged. The
// report of each search goes to stdout (and to --report as CSV or JSON).
// A tensor of rank > 2 (a convolution's OIHW weight) is searched as
// shape[0] rows of the product of the other dimensions.
//
// The logic is this header's run(), so that the tests call it in process;
// tools/fp8_quantize.cpp is main().
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fp8/fp8.hpp>
#include <fp8/io/npy.hpp>
#include <fp8/io/safetensors.hpp>
#include <fp8/ptq/report.hpp>
#include <fp8/ptq/search.hpp>

namespace fp8_quantize {

namespace io = fp8::io;

inline const char* usage() {
  return "usage: fp8-quantize [options] -o OUT.safetensors IN.safetensors | IN.npy...\n"
         "  -o, --output FILE        the .safetensors file to write (required)\n"
         "  --formats LIST           candidate formats, comma-separated: e4m3,e5m2,e4m3fnuz,e5m2fnuz,int8,int4\n"
         "                           (default e4m3,e5m2)\n"
         "  --metric NAME            mse (default), mae, max_abs, snr, cos_dist, kld\n"
         "  --per-tensor             one scale per tensor (default: one per output channel, dimension 0)\n"
         "  --exponents LO:HI        power-of-two scale exponents (default -15:0)\n"
         "  --absolute               exponents are absolute (PopRT's -5:0), not counted from the amax exponent\n"
         "  --no-amax                leave out the amax scale\n"
         "  --clip-steps N           also try N clipping ratios down to 0.5 of amax (default 0)\n"
         "  --skip NAME              keep this tensor as it is (repeatable; PopRT's skip list)\n"
         "  --table                  print every candidate of every search (quantize.log), not only the choices\n"
         "  --report FILE            also write the report as CSV (.csv) or JSON (.json)\n"
         "  -h, --help               this text\n";
}

struct options {
  std::vector<std::string> inputs;
  std::string output, report;
  fp8::search_options search;
  std::set<std::string> skip;
  bool table = false;
};

// The exit status: 0 done, 1 a file error, 2 a usage error.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline fp8::qformat format_of(const std::string& s) {
  static const std::map<std::string, fp8::qformat> names = {
      {"e4m3", fp8::qformat::e4m3},         {"e5m2", fp8::qformat::e5m2}, {"e4m3fnuz", fp8::qformat::e4m3fnuz},
      {"e5m2fnuz", fp8::qformat::e5m2fnuz}, {"int8", fp8::qformat::int8}, {"int4", fp8::qformat::int4}};
  const auto it = names.find(s);
  if (it == names.end()) throw usage_error("unknown format '" + s + "'");
  return it->second;
}
inline fp8::metric metric_of(const std::string& s) {
  static const std::map<std::string, fp8::metric> names = {
      {"mse", fp8::metric::mse}, {"mae", fp8::metric::mae},           {"max_abs", fp8::metric::max_abs},
      {"snr", fp8::metric::snr}, {"cos_dist", fp8::metric::cos_dist}, {"kld", fp8::metric::kld}};
  const auto it = names.find(s);
  if (it == names.end()) throw usage_error("unknown metric '" + s + "'");
  return it->second;
}
inline int integer_of(const std::string& s, const char* what) {
  std::size_t used = 0;
  int v = 0;
  try {
    v = std::stoi(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size()) throw usage_error(std::string(what) + " '" + s + "' is not an integer");
  return v;
}

inline options parse(const std::vector<std::string>& args) {
  options o;
  o.search.per_channel = true;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw usage_error(a + " needs a value");
      return args[++i];
    };
    if (a == "-o" || a == "--output") {
      o.output = value();
    } else if (a == "--formats") {
      o.search.formats.clear();
      std::stringstream list(value());
      for (std::string f; std::getline(list, f, ',');) o.search.formats.push_back(format_of(f));
    } else if (a == "--metric") {
      o.search.objective = metric_of(value());
    } else if (a == "--per-tensor") {
      o.search.per_channel = false;
    } else if (a == "--exponents") {
      const std::string& v = value();
      const std::size_t colon = v.find(':', 1);
      if (colon == std::string::npos) throw usage_error("--exponents takes LO:HI");
      o.search.scales.exponent_lo = integer_of(v.substr(0, colon), "exponent");
      o.search.scales.exponent_hi = integer_of(v.substr(colon + 1), "exponent");
    } else if (a == "--absolute") {
      o.search.scales.relative_to_amax = false;
    } else if (a == "--no-amax") {
      o.search.scales.amax = false;
    } else if (a == "--clip-steps") {
      const int n = integer_of(value(), "--clip-steps");
      if (n < 0) throw usage_error("--clip-steps must be >= 0");
      o.search.scales.clip_steps = static_cast<std::size_t>(n);
    } else if (a == "--skip") {
      o.skip.insert(value());
    } else if (a == "--table") {
      o.table = true;
    } else if (a == "--report") {
      o.report = value();
    } else if (!a.empty() && a[0] == '-') {
      throw usage_error("unknown option " + a);
    } else {
      o.inputs.push_back(a);
    }
  }
  if (o.output.empty()) throw usage_error("no output file (-o)");
  if (o.inputs.empty()) throw usage_error("no input file");
  return o;
}

inline bool ends_with(const std::string& s, const char* suffix) {
  const std::size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}
inline std::string stem(const std::string& path) {
  std::string s = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  return ends_with(s, ".npy") ? s.substr(0, s.size() - 4) : s;
}

// A float copy of a floating-point tensor (f64 rounds to float once).
inline bool to_floats(const io::tensor_view& v, std::vector<float>& out) {
  switch (v.type) {
    case io::dtype::f32: out = io::to_vector<float>(v); return true;
    case io::dtype::f16: {
      const auto h = io::to_vector<fp8::half>(v);
      out.assign(h.size(), 0.0f);
      for (std::size_t i = 0; i < h.size(); ++i) out[i] = static_cast<float>(h[i]);
      return true;
    }
    case io::dtype::bf16: {
      const auto b = io::to_vector<fp8::bfloat16>(v);
      out.assign(b.size(), 0.0f);
      for (std::size_t i = 0; i < b.size(); ++i) out[i] = static_cast<float>(b[i]);
      return true;
    }
    case io::dtype::f64: {
      const auto d = io::to_vector<double>(v);
      out.assign(d.size(), 0.0f);
      for (std::size_t i = 0; i < d.size(); ++i) out[i] = static_cast<float>(d[i]);
      return true;
    }
    default: return false;
  }
}

// The codes of w (rows x cols) in the chosen format and scales.
inline io::tensor encode(const fp8::search_result& r, const std::vector<float>& w, std::size_t rows,
                         std::size_t cols, const io::shape_type& shape) {
  const std::size_t n = rows * cols;
  const auto scale_of = [&](std::size_t row) { return r.scales.size() == 1 ? r.scales[0] : r.scales[row]; };
  const auto fp8_codes = [&](auto tag) {
    using F = decltype(tag);
    std::vector<fp8::fp8<F>> q(n);
    if (r.scales.size() == 1)
      fp8::encode(w.data(), q.data(), n, r.scales[0]);
    else
      fp8::encode_per_channel(w.data(), q.data(), rows, cols, r.scales.data(), fp8::axis::rows);
    return io::tensor::from_values(shape, q);
  };
  switch (r.format) {
    case fp8::qformat::e4m3: return fp8_codes(fp8::E4M3{});
    case fp8::qformat::e5m2: return fp8_codes(fp8::E5M2{});
    case fp8::qformat::e4m3fnuz: return fp8_codes(fp8::E4M3FNUZ{});
    case fp8::qformat::e5m2fnuz: return fp8_codes(fp8::E5M2FNUZ{});
    case fp8::qformat::int8:
    case fp8::qformat::int4: {
      std::vector<std::int8_t> q(n);
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < cols; ++j) {
          const float x = w[i * cols + j], s = scale_of(i);
          q[i * cols + j] = static_cast<std::int8_t>(r.format == fp8::qformat::int8
                                                         ? fp8::quantize_linear_value<std::int8_t>(x, s, 0)
                                                         : fp8::quantize_linear_value<fp8::int4>(x, s, 0));
        }
      return io::tensor::from_values(shape, q);
    }
  }
  return {};
}

// Runs the tool; out and err receive what a terminal would show.
inline int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  options o;
  try {
    for (const auto& a : args)
      if (a == "-h" || a == "--help") {
        out << usage();
        return 0;
      }
    o = parse(args);
  } catch (const usage_error& e) {
    err << "fp8-quantize: " << e.what() << "\n" << usage();
    return 2;
  }
  try {
    // Inputs: every tensor by name (a later file's tensor of the same name is an error).
    std::vector<io::safetensors_file> files;
    std::vector<io::tensor> npys;
    std::map<std::string, io::tensor_view> tensors;
    io::metadata_map metadata;
    for (const std::string& path : o.inputs) {
      if (ends_with(path, ".npy")) {
        npys.push_back(io::read_npy(path));
        if (!tensors.emplace(stem(path), npys.back().view()).second)
          throw std::runtime_error("two inputs hold a tensor named '" + stem(path) + "'");
      } else {
        files.push_back(io::read_safetensors(path));
        for (const auto& t : files.back().tensors())
          if (!tensors.emplace(t.name, t.view).second)
            throw std::runtime_error("two inputs hold a tensor named '" + t.name + "'");
        for (const auto& m : files.back().metadata()) metadata[m.first] = m.second;
      }
    }
    for (const std::string& s : o.skip)
      if (tensors.find(s) == tensors.end()) throw std::runtime_error("--skip " + s + ": no such tensor");

    fp8::report rep;
    std::vector<io::tensor> owned;
    owned.reserve(2 * tensors.size());
    std::vector<io::named_tensor> written;
    std::size_t quantized = 0, kept = 0;
    for (const auto& [name, view] : tensors) {
      std::vector<float> w;
      if (view.shape.size() < 2 || o.skip.count(name) != 0 || !to_floats(view, w) ||
          tensors.count(name + "_scale") != 0 || w.empty()) {
        written.push_back({name, view});
        ++kept;
        continue;
      }
      const auto rows = static_cast<std::size_t>(view.shape[0]);
      const std::size_t cols = w.size() / rows;
      const fp8::search_result r = fp8::search_weights(w.data(), rows, cols, cols, o.search);
      if (o.table) {
        rep.add_search(name, r);
      } else {
        fp8::search_result chosen = r;
        chosen.table = {r.table[r.best]};
        chosen.best = 0;
        rep.add_search(name, chosen);
      }
      owned.push_back(encode(r, w, rows, cols, view.shape));
      written.push_back({name, owned.back().view()});
      owned.push_back(r.scales.size() == 1 ? io::tensor::from_values(io::shape_type{}, r.scales)
                                           : io::tensor::from_values(io::shape_type{rows}, r.scales));
      written.push_back({name + "_scale", owned.back().view()});
      ++quantized;
    }
    metadata["fp8.quantized_by"] = "fp8-quantize";
    io::write_safetensors(o.output, written, metadata);
    rep.write_text(out);
    out << quantized << " tensor(s) quantized, " << kept << " kept as they were; wrote " << o.output << "\n";
    if (!o.report.empty()) {
      std::ofstream f(o.report, std::ios::binary);
      if (ends_with(o.report, ".json"))
        rep.write_json(f);
      else
        rep.write_csv(f);
      if (!f) throw std::runtime_error("cannot write " + o.report);
    }
    return 0;
  } catch (const std::exception& e) {
    err << "fp8-quantize: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace fp8_quantize
