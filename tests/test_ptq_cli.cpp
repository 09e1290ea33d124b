// SPDX-License-Identifier: Apache-2.0
// fp8-quantize (tools/fp8_quantize_cli.hpp) end to end, in process: a
// .safetensors or .npy input written here, the tool run, its output read
// back and every code checked against tests/reference.hpp's search encoder
// at the scale the file holds (FP8) or against nearbyint and clamps
// (integers); the tensors it must copy compared byte for byte; usage and
// file errors give their exit status and a message.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../tools/fp8_quantize_cli.hpp"
#include "reference.hpp"

namespace {

namespace io = fp8::io;
namespace fs = std::filesystem;

struct scratch {
  fs::path dir;
  scratch() {
    dir = fs::temp_directory_path() / ("fp8_cli_test_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir);
  }
  ~scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string operator()(const char* name) const { return (dir / name).string(); }
};

std::vector<float> random_weights(std::size_t n, std::uint32_t seed, float sigma) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

int run(const std::vector<std::string>& args, std::string& out, std::string& err) {
  std::ostringstream o, e;
  const int rc = fp8_quantize::run(args, o, e);
  out = o.str();
  err = e.str();
  return rc;
}

// Every code of `codes` is the reference encoding of w / scale (per row).
void check_fp8(const io::tensor_view& codes, const io::tensor_view& scales, const std::vector<float>& w,
               std::size_t rows) {
  const ref::format* spec = codes.type == io::dtype::f8_e4m3 ? &ref::e4m3 : codes.type == io::dtype::f8_e5m2 ? &ref::e5m2 : nullptr;
  REQUIRE(spec != nullptr);
  const ref::table t(*spec);
  const std::vector<float> s = io::to_vector<float>(scales);
  REQUIRE((s.size() == rows || s.size() == 1));
  const std::vector<std::uint8_t> c(codes.data, codes.data + codes.size);
  const std::size_t cols = w.size() / rows;
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) {
      const float scale = s.size() == 1 ? s[0] : s[i];
      INFO("row " << i << " column " << j);
      CHECK(c[i * cols + j] == ref::encode(*spec, t, static_cast<double>(w[i * cols + j] / scale), true));
    }
}

TEST_CASE("fp8-quantize: a safetensors checkpoint to FP8 with scales, a skip list, a report", "[ptq][cli]") {
  scratch tmp;
  const std::vector<float> fc = random_weights(16 * 64, 1, 0.05f), bias = random_weights(16, 2, 0.1f),
                           skip = random_weights(16, 3, 1.0f);
  const std::vector<float> conv_f = random_weights(8 * 3 * 3 * 3, 4, 0.2f);
  std::vector<fp8::bfloat16> conv(conv_f.size());
  for (std::size_t i = 0; i < conv.size(); ++i) conv[i] = fp8::bfloat16(conv_f[i]);
  const std::vector<std::int32_t> ids = {3, 1, 4, 1, 5};
  std::vector<io::tensor> in = {io::tensor::from_values<float>({16, 64}, fc), io::tensor::from_values<float>({16}, bias),
                                io::tensor::from_values<fp8::bfloat16>({8, 3, 3, 3}, conv),
                                io::tensor::from_values<float>({4, 4}, skip), io::tensor::from_values<std::int32_t>({5}, ids)};
  io::write_safetensors(tmp("in.safetensors"), {{"fc1.weight", in[0].view()},
                                                {"fc1.bias", in[1].view()},
                                                {"conv.weight", in[2].view()},
                                                {"skip.weight", in[3].view()},
                                                {"ids", in[4].view()}});
  std::string out, err;
  REQUIRE(run({"-o", tmp("out.safetensors"), "--skip", "skip.weight", "--report", tmp("report.csv"),
               tmp("in.safetensors")},
              out, err) == 0);
  INFO(out << err);
  CHECK(out.find("2 tensor(s) quantized, 3 kept") != std::string::npos);
  const io::safetensors_file f = io::read_safetensors(tmp("out.safetensors"));
  CHECK(f.metadata().at("fp8.quantized_by") == "fp8-quantize");
  // Quantized: codes with the input's shape, one scale per output channel.
  const io::tensor_view* w = f.find("fc1.weight");
  const io::tensor_view* ws = f.find("fc1.weight_scale");
  REQUIRE(w != nullptr);
  REQUIRE(ws != nullptr);
  CHECK(w->shape == io::shape_type{16, 64});
  CHECK(ws->shape == io::shape_type{16});
  check_fp8(*w, *ws, fc, 16);
  const io::tensor_view* c = f.find("conv.weight");
  REQUIRE(c != nullptr);
  CHECK(c->shape == io::shape_type{8, 3, 3, 3});
  std::vector<float> conv_values(conv.size());  // what the tool read: bfloat16 widens exactly
  for (std::size_t i = 0; i < conv.size(); ++i) conv_values[i] = static_cast<float>(conv[i]);
  check_fp8(*c, *f.find("conv.weight_scale"), conv_values, 8);
  // Copied: byte for byte.
  for (const char* name : {"fc1.bias", "skip.weight", "ids"}) {
    INFO(name);
    REQUIRE(f.find(name) != nullptr);
    CHECK(f.find(std::string(name) + "_scale") == nullptr);
  }
  CHECK(io::equal(*f.find("fc1.bias"), in[1].view()));
  CHECK(io::equal(*f.find("skip.weight"), in[3].view()));
  CHECK(io::equal(*f.find("ids"), in[4].view()));
  // The report: a header and one chosen row per quantized tensor.
  std::ifstream csv(tmp("report.csv"));
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(csv, line)) lines.push_back(line);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("name,format,rule,scale", 0) == 0);
  CHECK(lines[1].rfind("conv.weight,", 0) == 0);
  CHECK(lines[2].rfind("fc1.weight,", 0) == 0);
}

TEST_CASE("fp8-quantize: .npy inputs to int8 per tensor, the full table as JSON", "[ptq][cli]") {
  scratch tmp;
  const std::vector<float> a = random_weights(6 * 10, 5, 1.0f);
  io::write_npy(tmp("layer.npy"), io::tensor::from_values<float>({6, 10}, a).view());
  std::string out, err;
  REQUIRE(run({"-o", tmp("q.safetensors"), "--formats", "int8", "--per-tensor", "--table", "--report",
               tmp("r.json"), tmp("layer.npy")},
              out, err) == 0);
  const io::safetensors_file f = io::read_safetensors(tmp("q.safetensors"));
  const io::tensor_view* q = f.find("layer");
  const io::tensor_view* s = f.find("layer_scale");
  REQUIRE(q != nullptr);
  REQUIRE(s != nullptr);
  CHECK(q->type == io::dtype::i8);
  CHECK(s->shape.empty());
  const float scale = io::to_vector<float>(*s)[0];
  const std::vector<std::int8_t> codes = io::to_vector<std::int8_t>(*q);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double want = std::min(127.0, std::max(-128.0, std::nearbyint(static_cast<double>(a[i] / scale))));
    CHECK(codes[i] == static_cast<std::int8_t>(want));
  }
  std::ifstream json(tmp("r.json"));
  const std::string text((std::istreambuf_iterator<char>(json)), std::istreambuf_iterator<char>());
  CHECK(text.find("\"chosen\": true") != std::string::npos);
  CHECK(text.find("\"format\": \"INT8\", \"rule\": \"amax\"") != std::string::npos);
  CHECK(out.find("pow2(-15)") != std::string::npos);  // the whole table went to stdout
}

TEST_CASE("fp8-quantize: usage and file errors", "[ptq][cli]") {
  scratch tmp;
  std::string out, err;
  CHECK(run({"x.safetensors"}, out, err) == 2);
  CHECK(err.find("no output file") != std::string::npos);
  CHECK(run({"-o", tmp("o.safetensors"), "--formats", "e9m9", "x.safetensors"}, out, err) == 2);
  CHECK(err.find("unknown format 'e9m9'") != std::string::npos);
  CHECK(run({"-o", tmp("o.safetensors"), "--exponents", "a:b", "x.safetensors"}, out, err) == 2);
  CHECK(run({"--help"}, out, err) == 0);
  CHECK(out.find("usage: fp8-quantize") != std::string::npos);
  CHECK(run({"-o", tmp("o.safetensors"), tmp("missing.safetensors")}, out, err) == 1);
  {
    std::ofstream bad(tmp("bad.safetensors"), std::ios::binary);
    bad << "\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": 1";  // header length 16 past a 7-byte header
  }
  CHECK(run({"-o", tmp("o.safetensors"), tmp("bad.safetensors")}, out, err) == 1);
  CHECK(err.find("bad.safetensors") != std::string::npos);
  CHECK(!fs::exists(tmp("o.safetensors")));
  const std::vector<float> a = random_weights(4, 6, 1.0f);
  io::write_npy(tmp("t.npy"), io::tensor::from_values<float>({2, 2}, a).view());
  CHECK(run({"-o", tmp("o.safetensors"), "--skip", "nothing", tmp("t.npy")}, out, err) == 1);
  CHECK(err.find("--skip nothing: no such tensor") != std::string::npos);
}

}  // namespace
