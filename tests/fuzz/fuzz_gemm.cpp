// SPDX-License-Identifier: Apache-2.0
// libFuzzer harness for fp8::gemm (docs/gemm.md): A of each FP8 format,
// bfloat16, half or float, B of each format, bfloat16 or half, C float,
// bfloat16, half or FP8 (thirty-four combinations, fuzz_gemm.hpp), both
// transposes and values that are no
// transpose, B unpacked or through packed_b, the 13-argument overload, and
// every gemm_options field: threads, row and column scales, bias, ReLU and
// clamp, DeepSeek-V3 block scales of A and B with any scale_block, and
// output_scale / output_overflow for FP8 C. Sizes stay small (m, n <= 40,
// k <= 800 with m n k <= 65536) or jump to where size arithmetic breaks;
// alpha, beta and every scale can be NaN, infinite, zero, negative,
// subnormal or huge; buffers can be null or overlap. bfloat16 operands can
// also be tiny (around 2^-64, or 2^-112 beside FP8 A: value modes 0xF0 and
// up), where vdpbf16ps would flush products the float kernel keeps exact
// (docs/gemm.md, "Accuracy"): a flushed product shows as a wrong result.
//
// The reference is test_gemm_ext.cpp's: operands decoded without the
// library (tests/reference.hpp for FP8, bit shifts for bfloat16, the fields
// for half; A's and B's alike), products
// summed in double block by block, each element of C given the interval
// [v - bound, v + bound] with
//   bound = sum over k blocks of 2^-23 (K + 2 ceil(K / 64) + 4 (6 for float
//           A) + 4 + blocks) |s_kb| sum |a b|  +  (3 + blocks) 2^-23 |beta C|
//           +  2^-23 (|v| + |bias|),
// (beta C is in the running C each later block is added to: blocks of the
// block scale, or of KC without block scales),
// widened here by what the fuzzer's extreme scales add: float underflow
// (2^-149 per rounding, times the scale factors above 1 that can follow it)
// and, when a partial result may pass FLT_MAX in float (as the products
// times the scale factors above 1 can), infinities and NaN. Then the
// activation (monotone) and the output type's one rounding: bfloat16
// between the round-to-nearest-even of the ends, FP8 between the reference
// encoder's codes of the ends divided by output_scale; bfloat16 and half
// between the round-to-nearest-even of the ends (in double, overflowing to
// infinity past the largest finite value plus half a step).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fp8/fp8.hpp>

#include "fuzz_common.hpp"
#include "fuzz_gemm.hpp"

namespace {

using namespace fz;
using fzgemm::combos;

constexpr std::size_t max_elements = 1 << 14;
constexpr double flt_max = static_cast<double>(std::numeric_limits<float>::max());
constexpr double flt_min = 0x1p-126;

struct raw {
  u8 combo = 0, variant = 0;  // variant bit 0: packed_b, bit 1: the 13-argument overload
  u8 ta = 0, tb = 0;          // decode_enum
  u16 m = 0, n = 0, k = 0, lda = 0, ldb = 0, ldc = 0;
  u32 alpha = 0, beta = 0;
  u8 threads = 0, act = 0;
  u32 clamp_lo = 0, clamp_hi = 0;
  u8 opts = 0;                 // bit 0 row_scale, 1 col_scale, 2 bias, 3 a_block_scale, 4 b_block_scale
  u8 scale_block = 0;          // a table (0, 1 and odd values included)
  u8 scale_mode = 0, block_mode = 0;
  u8 bad_which = 0, bad_kind = 0;  // 1 row, 2 col, 3 a blocks, 4 b blocks (fill_scales' kinds)
  u16 bad_index = 0;
  u32 output_scale = 0;
  u8 output_overflow = 0;
  u8 layout = 0;               // bits 0-1 A shift, 2-3 C shift (elements); 4-7 scenario
  u16 offset = 0;
  u8 a_values = 0, b_values = 0, c_values = 0, bias_values = 0;
  u64 seed = 0;
};
template <class IO>
void visit(IO& io, raw& r) {
  io(r.combo); io(r.variant); io(r.ta); io(r.tb);
  io(r.m); io(r.n); io(r.k); io(r.lda); io(r.ldb); io(r.ldc);
  io(r.alpha); io(r.beta); io(r.threads); io(r.act); io(r.clamp_lo); io(r.clamp_hi);
  io(r.opts); io(r.scale_block); io(r.scale_mode); io(r.block_mode);
  io(r.bad_which); io(r.bad_kind); io(r.bad_index);
  io(r.output_scale); io(r.output_overflow);
  io(r.layout); io(r.offset);
  io(r.a_values); io(r.b_values); io(r.c_values); io(r.bias_values);
  io(r.seed);
}

enum scenario { a_null = 9, b_null = 10, c_null = 11, c_in_a = 12, c_in_b = 13, option_in_c = 14, c_at_a = 15 };
const char* const kind_names[] = {"E4M3", "E5M2", "E4M3FNUZ", "E5M2FNUZ", "bfloat16", "float", "half"};
const std::size_t block_table[16] = {128, 2, 4, 8, 64, 32, 6, 200, 512, 16, 0, 1, 3, 127, 34, 96};

std::size_t elem_size(int kind) { return kind <= 3 ? 1 : kind == 5 ? 4 : 2; }

// ---------------------------------------------------------------- values
template <class F>
bool is_nan_code(u8 c) { return ref::is_nan(spec_of<F>(), c); }
u8 nan_code(int f) { return f == 0 ? 0x7F : f == 1 ? 0x7E : 0x80; }
// FP8 codes: any byte, finite ones, small ones, or finite with a rare special.
FZ_NO_COVERAGE u8 gen_code(filler& fl, int f, u8 mode) {
  u8 c = fl.byte();
  switch (mode % 4) {
    case 0: return c;
    case 2: c = static_cast<u8>((c & 0x80) | (c & 0x3F)); break;
    case 3:
      if ((c & 0x1F) == 0x1F) return fl.byte();
      break;
    default: break;
  }
  while (!std::isfinite(fp8_value(f, c))) c = static_cast<u8>(c - 1);
  return c;
}
// The value of element `index` of a buffer of `kind` (exact, double).
FZ_NO_COVERAGE double value_at(int kind, const unsigned char* p, std::size_t index) {
  if (kind <= 3) return fp8_value(kind, p[index]);
  if (kind == 4 || kind == 6) {
    u16 b;
    std::memcpy(&b, p + 2 * index, 2);
    return kind == 4 ? bf16_value(b) : half_value(b);
  }
  float x;
  std::memcpy(&x, p + 4 * index, 4);
  return static_cast<double>(x);
}
FZ_NO_COVERAGE void fill_matrix(filler& fl, int kind, unsigned char* p, std::size_t held, std::size_t rows, std::size_t cols,
                 std::size_t ld, u8 mode) {
  for (std::size_t i = 0; i < held; ++i) {
    const bool inside = ld != 0 && i % ld < cols && i / ld < rows;
    if (kind <= 3) {
      p[i] = inside ? gen_code(fl, kind, mode) : nan_code(kind);  // NaN where nothing may be read
    } else if (kind == 4) {
      const u16 v = !inside ? u16{0x7FC0} : mode >= 0xF0 ? gen_bf16_tiny(fl, mode) : gen_bf16(fl, mode);
      std::memcpy(p + 2 * i, &v, 2);
    } else if (kind == 6) {
      const u16 v = inside ? gen_half(fl, mode) : u16{0x7E00};
      std::memcpy(p + 2 * i, &v, 2);
    } else {
      const float v = inside ? gen_float(fl, mode) : std::numeric_limits<float>::quiet_NaN();
      std::memcpy(p + 4 * i, &v, 4);
    }
  }
}

struct args {
  fzgemm::call c;
  int ck_a, ck_b, ck_c;  // element kinds
  bool c_fp8;
  // Held copies of the option arrays' values (what the call reads).
  std::vector<float> row, col, bias, ablock, bblock;
  std::size_t kb, nb;  // k blocks, column blocks (block scales)
};

// ============================================================================
// CONTRACT: which calls are valid (docs/gemm.md, kernels/gemm.hpp, and the
// new rules: enum arguments; finite alpha and beta; positive finite scale
// arrays whose combined scales stay within [2^-126, FLT_MAX]; C not
// overlapping any input array).
// ============================================================================
void range_rule(expectation& e, const args& x) {
  const fzgemm::call& c = x.c;
  const fp8::gemm_options& o = c.options;
  const auto lo_hi = [](const std::vector<float>& v, const float* p, double& lo, double& hi) {
    lo = hi = 1.0;  // absent: 1
    if (p == nullptr || v.empty()) return;
    lo = HUGE_VAL;
    hi = 0;
    for (float s : v) {
      lo = std::min(lo, static_cast<double>(s));
      hi = std::max(hi, static_cast<double>(s));
    }
  };
  double row_lo, row_hi, col_lo, col_hi, ab_lo, ab_hi, bb_lo, bb_hi;
  lo_hi(x.row, o.row_scale, row_lo, row_hi);
  lo_hi(x.col, o.col_scale, col_lo, col_hi);
  lo_hi(x.ablock, o.a_block_scale, ab_lo, ab_hi);
  lo_hi(x.bblock, o.b_block_scale, bb_lo, bb_hi);
  const double al = std::fabs(static_cast<double>(c.alpha));
  const double r_max = al * row_hi * ab_hi, r_min = al * row_lo * ab_lo;
  const double c_max = col_hi * bb_hi, c_min = col_lo * bb_lo;
  const bool ok = r_min >= flt_min && c_min >= flt_min && r_min * c_min >= flt_min && r_max <= flt_max &&
                  c_max <= flt_max && r_max * c_max <= flt_max;
  if (ok) return;
  const std::string why = "the combined scales leave [2^-126, FLT_MAX]: r in [" + num(r_min) + ", " + num(r_max) +
                          "], c in [" + num(c_min) + ", " + num(c_max) + "]";
  if (c.m == 0 || c.n == 0)  // no element is computed: "every possible r" is empty
    e.open("scale_range", why + " (m or n is 0)");
  else
    e.reject("scale_range",
             {"alpha", "options.row_scale", "options.col_scale", "options.a_block_scale", "options.b_block_scale"},
             why);
}

expectation contract(const args& x) {
  expectation e;
  const fzgemm::call& c = x.c;
  const fp8::gemm_options& o = c.options;
  const bool enum_ok = (c.ta == 0 || c.ta == 1) && (c.tb == 0 || c.tb == 1);
  if (!enum_ok) e.reject("enum", {"ta", "tb"}, "ta or tb is not an fp8::transpose");  // checked first
  const bool at = c.ta == 1, bt = c.tb == 1;
  const std::size_t a_rows = at ? c.k : c.m, a_cols = at ? c.m : c.k, b_rows = bt ? c.n : c.k, b_cols = bt ? c.k : c.n;
  const std::size_t asz = elem_size(x.ck_a), bsz = elem_size(x.ck_b), csz = elem_size(x.ck_c);
  if (c.m != 0 && c.k != 0 && c.a == nullptr) e.reject("null", {"a"}, "a is null");
  if (c.lda < a_cols) e.reject("ld", {"lda"}, "lda is smaller than a row of A");
  const u128 a_bytes = c.lda < a_cols ? 0 : span_bytes(a_rows, a_cols, c.lda, asz);
  if (a_bytes > size_max) e.reject("ld", {"lda"}, "the extent of A overflows size_t");
  if (c.k != 0 && c.n != 0 && c.b == nullptr) e.reject("null", {"b"}, "b is null");
  if (c.ldb < b_cols) e.reject("ld", {"ldb"}, "ldb is smaller than a row of B");
  const u128 b_bytes = c.ldb < b_cols ? 0 : span_bytes(b_rows, b_cols, c.ldb, bsz);  // bfloat16, half B: 2 bytes
  if (b_bytes > size_max) e.reject("ld", {"ldb"}, "the extent of B overflows size_t");
  if (c.m != 0 && c.n != 0 && c.c == nullptr) e.reject("null", {"c"}, "c is null");
  if (c.ldc < c.n) e.reject("ld", {"ldc"}, "ldc < n");
  const u128 c_bytes = c.ldc < c.n ? 0 : span_bytes(c.m, c.n, c.ldc, csz);
  if (c_bytes > size_max) e.reject("ld", {"ldc"}, "the extent of C overflows size_t");
  if (wraps(c.a, a_bytes) || wraps(c.b, b_bytes) || wraps(c.c, c_bytes))
    e.reject("count_overflow", {"lda", "ldb", "ldc", "a", "b", "c"}, "an extent runs past the address space");
  if (overlaps(c.c, c_bytes, c.a, a_bytes)) e.reject("overlap", {"c"}, "c overlaps a");
  if (!c.packed && overlaps(c.c, c_bytes, c.b, b_bytes)) e.reject("overlap", {"c"}, "c overlaps b");
  // (The 13-argument overload has default options: the rules below hold trivially.)

  if (static_cast<int>(o.act) < 0 || static_cast<int>(o.act) > 2)
    e.reject("enum", {"options.act"}, "options.act is not an fp8::activation");
  if (o.act == fp8::activation::clamp && !(o.clamp_lo <= o.clamp_hi))
    e.reject("scalar", {"options.clamp_lo"}, "clamp_lo > clamp_hi (or NaN)");
  if (!(std::isfinite(o.output_scale) && o.output_scale > 0.0f))
    e.reject("scalar", {"options.output_scale"}, "output_scale is not positive finite");
  else if (!x.c_fp8 && o.output_scale != 1.0f)
    e.reject("scalar", {"options.output_scale"}, "output_scale != 1 without FP8 C");
  const bool blocks = o.a_block_scale != nullptr || o.b_block_scale != nullptr;
  if (blocks && (o.scale_block == 0 || o.scale_block % 2 != 0))
    e.reject("scalar", {"options.scale_block"}, "scale_block is not positive and even");
  const int ovf = static_cast<int>(o.output_overflow);
  if (ovf != 0 && ovf != 1) {
    e.reject("enum", {"options.output_overflow"}, "options.output_overflow is not an fp8::overflow (checked used or not)");
  }
  if (!std::isfinite(c.alpha)) e.reject("alpha_beta", {"alpha"}, "alpha is not finite");
  if (!std::isfinite(c.beta)) e.reject("alpha_beta", {"beta"}, "beta is not finite");
  // Scale arrays: positive finite values.
  const auto positive = [&](const std::vector<float>& v, const float* p, const char* name) {
    if (p == nullptr) return true;
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!(std::isfinite(v[i]) && v[i] > 0.0f)) {
        e.reject("scale_value", {name}, std::string(name) + "[" + std::to_string(i) + "] = " + num(v[i]) +
                                            " is not positive finite");
        return false;
      }
    return true;
  };
  bool arrays_ok = positive(x.row, o.row_scale, "options.row_scale");
  arrays_ok = positive(x.col, o.col_scale, "options.col_scale") && arrays_ok;
  if (!blocks || (o.scale_block != 0 && o.scale_block % 2 == 0)) {
    arrays_ok = positive(x.ablock, o.a_block_scale, "options.a_block_scale") && arrays_ok;
    arrays_ok = positive(x.bblock, o.b_block_scale, "options.b_block_scale") && arrays_ok;
    if (arrays_ok && c.alpha != 0.0f && c.k != 0 && std::isfinite(c.alpha)) range_rule(e, x);
  }
  // C must not overlap what the call reads.
  const struct {
    const float* p;
    std::size_t count;
    const char* name;
  } inputs[] = {{o.row_scale, c.m, "options.row_scale"},
                {o.col_scale, c.n, "options.col_scale"},
                {o.bias, c.n, "options.bias"},
                {o.a_block_scale, blocks && o.scale_block != 0 ? c.m * x.kb : 0, "options.a_block_scale"},
                {o.b_block_scale, blocks && o.scale_block != 0 ? x.nb * x.kb : 0, "options.b_block_scale"}};
  for (const auto& in : inputs)
    if (overlaps(c.c, c_bytes, in.p, static_cast<u128>(in.count) * 4))
      e.reject("overlap_new", {"c", in.name}, std::string("c overlaps ") + in.name);
  return e;
}
// ============================================================================

// ---------------------------------------------------------------- reference
struct element_ref {
  accept_set set;
  double v = 0, bound = 0;
};

// The acceptance set of C[i][j] (before the activation); a and b hold the
// values of A's and B's stored elements.
FZ_NO_COVERAGE element_ref reference(const args& x, std::size_t i, std::size_t j, const std::vector<double>& a,
                                     const std::vector<double>& b, const unsigned char* c0) {
  const fzgemm::call& c = x.c;
  const fp8::gemm_options& o = c.options;
  const bool at = c.ta == 1, bt = c.tb == 1, blocked = !c.legacy && (o.a_block_scale || o.b_block_scale);
  const std::size_t block = blocked ? o.scale_block : std::max<std::size_t>(c.k, 1);
  const std::size_t nkb = c.k == 0 ? 0 : (c.k + block - 1) / block;
  const double u = 0x1p-23;
  // (Float A's products round; half A's are exact, as FP8 and bfloat16 ones: 11 x 4 significant bits.)
  const double extra = (x.ck_a == 5 ? 6.0 : 4.0) + (blocked ? 4.0 + static_cast<double>(nkb) : 0.0);
  const double row = !c.legacy && o.row_scale ? static_cast<double>(x.row[i]) : 1.0;
  const double col = !c.legacy && o.col_scale ? static_cast<double>(x.col[j]) : 1.0;
  element_ref r;
  double v = 0, bound = 0, rounds_total = 8, largest_abs = 0, ablk_max = 1, bblk_max = 1;
  if (c.k != 0 && c.alpha != 0.0f) {
    for (std::size_t kb = 0; kb < nkb; ++kb) {
      const std::size_t k0 = kb * block, k1 = std::min(c.k, k0 + block);
      double sum = 0, abs = 0, abs_finite = 0;
      for (std::size_t q = k0; q < k1; ++q) {
        const double av = a[at ? q * c.lda + i : i * c.lda + q];
        const double bv = b[bt ? j * c.ldb + q : q * c.ldb + j];
        sum += av * bv;
        abs += std::fabs(av * bv);
        if (std::isfinite(av * bv)) abs_finite += std::fabs(av * bv);
      }
      double s = static_cast<double>(c.alpha) * row * col;
      if (blocked && o.a_block_scale) {
        s *= x.ablock[i * nkb + kb];
        ablk_max = std::max(ablk_max, static_cast<double>(x.ablock[i * nkb + kb]));
      }
      if (blocked && o.b_block_scale) {
        s *= x.bblock[(j / block) * nkb + kb];
        bblk_max = std::max(bblk_max, static_cast<double>(x.bblock[(j / block) * nkb + kb]));
      }
      const double rounds = static_cast<double>((k1 - k0) + 2 * ((k1 - k0 + 63) / 64)) + extra;
      v += s * sum;
      bound += u * rounds * std::fabs(s) * abs;
      rounds_total += rounds;
      largest_abs = std::max(largest_abs, abs_finite);
    }
  }
  // Scale factors above 1 amplify an earlier underflow, and can push a
  // partial result past FLT_MAX before a factor below 1 brings it back.
  const double amp = std::max(1.0, std::fabs(static_cast<double>(c.alpha))) * std::max(1.0, row) *
                     std::max(1.0, col) * ablk_max * bblk_max;
  double envelope = largest_abs * amp;
  double abs_slack = rounds_total * 0x1p-149 * amp;
  if (c.beta != 0.0f) {
    double cin = value_at(x.ck_c, c0, i * c.ldc + j);
    if (x.c_fp8) cin *= static_cast<double>(o.output_scale);
    const double t = static_cast<double>(c.beta) * cin;
    v += t;
    // beta C enters C first; every later block of k (of scale_block with
    // block scales, else of KC, at least 256) is added to a running C that
    // holds it, so each of those roundings is relative to |beta C| too.
    const double later = c.k == 0 ? 0.0 : blocked ? static_cast<double>(nkb) : static_cast<double>(c.k / 256 + 1);
    bound += (3 + later) * u * std::fabs(t);
    abs_slack += 2 * 0x1p-149 * std::max(1.0, std::fabs(static_cast<double>(c.beta)));
    if (std::isfinite(t)) envelope = std::max({envelope, std::fabs(cin), std::fabs(t)});
  }
  if (!c.legacy && o.bias) {
    const double bias = static_cast<double>(x.bias[j]);
    v += bias;
    bound += u * (std::fabs(v) + std::fabs(bias));
  }
  bound += abs_slack;
  if (std::isfinite(v)) envelope = std::max(envelope, std::fabs(v) + bound);
  r.v = v;
  r.bound = bound;
  if (std::isnan(v) || std::isinf(v))
    r.set.point(v);
  else
    r.set.add(v - bound, v + bound);
  if (!(envelope < 0x1p127)) r.set.any_special();
  return r;
}

std::string kind_str(int kind, const unsigned char* p, std::size_t index) {
  if (kind <= 3) return hex(p[index]) + " = " + num(fp8_value(kind, p[index]));
  return num(value_at(kind, p, index));
}

void run_input(const u8* data, std::size_t size) {
  reader in{data, size};
  raw r;
  visit(in, r);
  filler f(in.rest(), in.rest_size(), r.seed);

  args x{};
  fzgemm::call& c = x.c;
  c.combo = r.combo % fzgemm::combo_count;
  const fzgemm::combo ck = combos[c.combo];
  x.ck_a = ck.a;
  x.ck_b = ck.b;
  x.ck_c = ck.c;
  x.c_fp8 = ck.c <= 3;
  c.packed = (r.variant & 1) != 0 && ck.packed;
  c.legacy = (r.variant & 2) != 0 && !c.packed && ck.a <= 3 && ck.c == 5;
  c.ta = decode_enum(r.ta, 2);
  c.tb = decode_enum(r.tb, 2);
  c.m = decode_size(r.m, 40);
  c.n = decode_size(r.n, 40);
  c.k = decode_size(r.k, 800);
  if (r.m < 0xF000 && r.n < 0xF000 && r.k < 0xF000 && c.m * c.n * c.k > 65536)
    c.k = std::max<std::size_t>(1, 65536 / (c.m * c.n));  // keep one input well under a millisecond
  const bool at = c.ta == 1, bt = c.tb == 1;
  const std::size_t a_rows = at ? c.k : c.m, a_cols = at ? c.m : c.k, b_rows = bt ? c.n : c.k, b_cols = bt ? c.k : c.n;
  c.lda = decode_ld(r.lda, a_cols);
  c.ldb = decode_ld(r.ldb, b_cols);
  c.ldc = decode_ld(r.ldc, c.n);
  c.alpha = decode_float(r.alpha);
  c.beta = r.beta < 0x60000000u ? 0.0f : decode_float(r.beta);
  fp8::gemm_options& o = c.options;
  o.threads = r.threads < 0xC0 ? 1 : r.threads < 0xF0 ? r.threads % 4u : std::vector<std::size_t>{size_max, 64, 1u << 20, 7}[r.threads & 3u];
  o.act = static_cast<fp8::activation>(decode_enum(r.act, 3));
  o.clamp_lo = decode_float(r.clamp_lo);
  o.clamp_hi = r.clamp_hi >> 31 == 0 ? o.clamp_lo + std::fabs(decode_float(r.clamp_hi << 1)) : decode_float(r.clamp_hi);
  o.scale_block = block_table[r.scale_block % 16];
  if (x.c_fp8)
    o.output_scale = r.output_scale < 0x40000000u ? 1.0f : decode_float(r.output_scale << 2);
  else
    o.output_scale = r.output_scale < 0xE0000000u ? 1.0f : decode_float(r.output_scale << 3);
  o.output_overflow = static_cast<fp8::overflow>(decode_enum(r.output_overflow, 2));
  const bool blocks = (r.opts & 0x18) != 0;
  x.kb = o.scale_block == 0 ? 0 : c.k / o.scale_block + (c.k % o.scale_block != 0);
  x.nb = o.scale_block == 0 ? 0 : c.n / o.scale_block + (c.n % o.scale_block != 0);

  // Buffers: needs (elements) and what an input holds.
  const auto span = [](std::size_t rows, std::size_t cols, std::size_t ld) -> u128 {
    return rows == 0 || cols == 0 ? 0 : static_cast<u128>(rows - 1) * ld + cols;
  };
  const u128 need[] = {span(a_rows, a_cols, c.lda), span(b_rows, b_cols, c.ldb), span(c.m, c.n, c.ldc),
                       c.m, c.n, c.n, static_cast<u128>(c.m) * x.kb, static_cast<u128>(x.nb) * x.kb};
  std::size_t held[8];
  bool oversize = false;
  for (int i = 0; i < 8; ++i) {
    held[i] = static_cast<std::size_t>(std::min<u128>(need[i], max_elements));
    const bool used = i < 3 || ((r.opts >> (i - 3)) & 1) != 0;
    oversize = oversize || (used && need[i] > held[i]);
  }
  pool p;
  const std::size_t asz = elem_size(ck.a), bsz = elem_size(ck.b), csz = elem_size(ck.c);
  const std::size_t ia = p.add("a", held[0] * asz, (r.layout & 3u) * asz, asz);
  const std::size_t ib = p.add("b", held[1] * bsz, 0, bsz);
  const std::size_t ic = p.add("c", held[2] * csz, ((r.layout >> 2) & 3u) * csz, csz);
  const char* option_names[] = {"row_scale", "col_scale", "bias", "a_block_scale", "b_block_scale"};
  std::size_t iopt[5];
  for (int i = 0; i < 5; ++i) iopt[i] = p.add(option_names[i], held[3 + i] * 4, 0, 4);
  const unsigned sc = r.layout >> 4;
  if (sc == a_null) p.make_null(ia);
  if (sc == b_null) p.make_null(ib);
  if (sc == c_null) p.make_null(ic);
  if (sc == c_in_a) p.alias(ic, ia, r.offset % (held[0] * asz + 8));
  if (sc == c_in_b) p.alias(ic, ib, r.offset % (held[1] * bsz + 8));
  if (sc == c_at_a) p.alias(ic, ia, 0);
  if (sc == option_in_c) p.alias(iopt[r.offset % 5], ic, (r.offset >> 3) % (held[2] * csz + 4));
  for (int i = 0; i < 5; ++i)
    if (((r.opts >> i) & 1) == 0 || c.legacy || oversize) p.make_null(iopt[i]);
  p.allocate(r.seed);
  // Values (a call too large to run keeps the canary bytes: it must not read them).
  if (!oversize) {
    fill_matrix(f, ck.a, p.storage(ia), held[0], a_rows, a_cols, c.lda, r.a_values);
    fill_matrix(f, ck.b, p.storage(ib), held[1], b_rows, b_cols, c.ldb, r.b_values);
    fill_matrix(f, ck.c, p.storage(ic), held[2], c.m, c.n, c.ldc, r.c_values);
  }
  unsigned char* bias_store = p.storage(iopt[2]);
  for (std::size_t i = 0; i < held[5]; ++i) {
    const float v = gen_float(f, r.bias_values);
    std::memcpy(bias_store + 4 * i, &v, 4);
  }
  const u8 modes[] = {r.scale_mode, r.scale_mode, 0, r.block_mode, r.block_mode};
  for (int i : {0, 1, 3, 4})
    fill_scales(p.storage(iopt[i]), held[3 + i], f, modes[i], r.bad_which % 8 == (i < 2 ? i + 1 : i) ? r.bad_kind : 0,
                r.bad_index);
  c.a = p.ptr(ia);
  c.b = p.ptr(ib);
  c.c = p.ptr(ic);
  float* opt[5];
  for (int i = 0; i < 5; ++i) opt[i] = reinterpret_cast<float*>(p.ptr(iopt[i]));
  o.row_scale = opt[0];
  o.col_scale = opt[1];
  o.bias = opt[2];
  o.a_block_scale = opt[3];
  o.b_block_scale = opt[4];
  if (c.legacy) o = fp8::gemm_options{};
  const auto take = [&](int i, std::vector<float>& v) {
    if (opt[i] == nullptr) return;
    v.resize(held[3 + i]);
    put(v.data(), p.storage(iopt[i]), held[3 + i] * 4);
  };
  take(0, x.row);
  take(1, x.col);
  take(2, x.bias);
  take(3, x.ablock);
  take(4, x.bblock);
  (void)blocks;

  expectation e = contract(x);
  // A call larger than an input's buffers runs only when it must be rejected
  // on its sizes, pointers or scalars, before any element is read.
  if (oversize && !e.has({"enum", "null", "ld", "count_overflow", "scalar", "alpha_beta"})) return skip();
  // packed_b reads all of B before the call's other checks: a B larger than
  // its buffer runs only when packed_b itself must reject it.
  if (c.packed && need[1] > held[1]) {
    const bool b_rejected = c.tb < 0 || c.tb > 1 || (c.k != 0 && c.n != 0 && c.b == nullptr) || c.ldb < b_cols ||
                            span_bytes(b_rows, b_cols, c.ldb, bsz) > size_max;
    if (!b_rejected) return skip();
  }
  // Tags for classes of valid calls with known, unfixed bugs (FP8_FUZZ_SKIP).
  if (ck.a == 4 && !oversize) {
    double lo = HUGE_VAL, hi = 0;
    for (std::size_t i = 0; i < held[0]; ++i) {
      const double v = std::fabs(value_at(4, p.storage(ia), i));
      if (v != 0 && std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    if (lo < 0x1p-102 && hi * 0x1p31 >= 0x1p127) e.tag("bf16_lift");  // tiny and huge bfloat16 A together
  }
  if (c.packed && ck.b == 4 && c.k == 0 && c.n > (std::size_t{1} << 24))
    e.tag("packed_bf16_k0_scan");  // a fixed bug's class (README)

  std::string& ctx = context();
  ctx = std::string("fp8::gemm") + (c.packed ? " (packed_b)" : c.legacy ? " (13 arguments)" : "") + ": A " +
        kind_names[ck.a] + ", B " + kind_names[ck.b] + ", C " + kind_names[ck.c] + "\n  ta = " +
        std::to_string(c.ta) + ", tb = " + std::to_string(c.tb) + ", m = " + std::to_string(c.m) + ", n = " +
        std::to_string(c.n) + ", k = " + std::to_string(c.k) + ", lda = " + std::to_string(c.lda) + ", ldb = " +
        std::to_string(c.ldb) + ", ldc = " + std::to_string(c.ldc) + "\n  alpha = " + fnum(c.alpha) +
        ", beta = " + fnum(c.beta) + "\n  options: threads " + std::to_string(o.threads) + ", act " +
        std::to_string(static_cast<int>(o.act)) + ", clamp [" + fnum(o.clamp_lo) + ", " + fnum(o.clamp_hi) +
        "], scale_block " + std::to_string(o.scale_block) + ", output_scale " + fnum(o.output_scale) +
        ", output_overflow " + std::to_string(static_cast<int>(o.output_overflow)) + "\n" + p.layout();
  const auto show = [&](const char* name, const std::vector<float>& v) {
    if (v.empty()) return;
    ctx += std::string("  ") + name + ":";
    for (std::size_t i = 0; i < std::min<std::size_t>(v.size(), 6); ++i) ctx += " " + num(v[i]);
    ctx += "\n";
  };
  show("row_scale", x.row);
  show("col_scale", x.col);
  show("bias", x.bias);
  show("a_block_scale", x.ablock);
  show("b_block_scale", x.bblock);
  for (std::size_t i = 0; i < std::min<std::size_t>(held[0], 4); ++i)
    ctx += "  a[" + std::to_string(i) + "] = " + kind_str(ck.a, p.storage(ia), i) + "\n";
  for (std::size_t i = 0; i < std::min<std::size_t>(held[1], 4); ++i)
    ctx += "  b[" + std::to_string(i) + "] = " + kind_str(ck.b, p.storage(ib), i) + "\n";

  if (!oversize)
    for (std::size_t i = 0; i < c.m && i < held[2] && c.n != 0; ++i) p.may_change(ic, i * c.ldc * csz, c.n * csz);
  // Operands as they were (C is overwritten; an option array inside C too).
  const std::vector<unsigned char> a0(p.storage(ia), p.storage(ia) + held[0] * asz);
  const std::vector<unsigned char> b0(p.storage(ib), p.storage(ib) + held[1] * bsz);
  const std::vector<unsigned char> c0(p.storage(ic), p.storage(ic) + held[2] * csz);
  const auto the_call = [&] {
    if (c.combo < 8)
      fzgemm::call_a(c);
    else if (c.combo < 16)
      fzgemm::call_b(c);
    else if (c.combo < 24)
      fzgemm::call_c(c);
    else if (c.combo < 29)
      fzgemm::call_d(c);
    else
      fzgemm::call_e(c);
  };
  const auto check = [&] {
    if (c.m == 0 || c.n == 0) return;  // nothing computed (m may still be huge)
    std::vector<double> av(held[0]), bv(held[1]);
    for (std::size_t i = 0; i < held[0]; ++i) av[i] = value_at(ck.a, a0.data(), i);
    for (std::size_t i = 0; i < held[1]; ++i) bv[i] = value_at(ck.b, b0.data(), i);
    const int act = c.legacy ? 0 : static_cast<int>(o.act);
    const double lo = act == 2 ? static_cast<double>(o.clamp_lo) : 0.0, hi = act == 2 ? static_cast<double>(o.clamp_hi) : 0.0;
    const unsigned char* out = static_cast<const unsigned char*>(c.c);
    for (std::size_t i = 0; i < c.m; ++i)
      for (std::size_t j = 0; j < c.n; ++j) {
        const element_ref er = reference(x, i, j, av, bv, c0.data());
        const accept_set s = activate(er.set, act, lo, hi);
        const std::size_t at_c = i * c.ldc + j;
        std::string got;
        const bool ok = accepts_output(ck.c, s, out, at_c, static_cast<double>(o.output_scale),
                                        o.output_overflow == fp8::overflow::saturate, got);
        if (!ok)
          fail("C[" + std::to_string(i) + "][" + std::to_string(j) + "] = " + got + ", expected within " + s.str() +
               " (exact value before the activation " + num(er.v) + " +- " + num(er.bound) + ")");
      }
  };
  execute(e, p, the_call, check);
}

// ---------------------------------------------------------------- seeds
constexpr u32 nice(u32 index) { return index; }                    // decode_float: 1, 0.5, 2, 0.25, 3, ...
constexpr u32 special(u32 index) { return 0xA0000000u | index; }  // 0, -0, NaN, -NaN, Inf, -Inf, FLT_MAX, ...
constexpr u16 huge(u16 index) { return static_cast<u16>(0xF000u | index); }
constexpr u8 scenario_of(unsigned s) { return static_cast<u8>(s << 4); }

std::vector<seed<raw>> seeds() {
  std::vector<seed<raw>> v;
  const auto V = expectation::valid, I = expectation::invalid;
  raw base;
  base.m = 13;
  base.n = 21;
  base.k = 37;
  base.alpha = nice(0);
  base.beta = 0;
  base.a_values = base.b_values = 1;
  base.c_values = 1;
  base.bias_values = 1;
  base.seed = 3;
  auto with = [&](const std::string& name, int verdict, u8 combo, auto&& edit) {
    raw r = base;
    r.combo = combo;
    edit(r);
    v.push_back({name, r, verdict});
  };
  // Every combination, both transposes, small and large m, packed where compiled.
  for (u8 cb = 0; cb < fzgemm::combo_count; ++cb) {
    const std::string t = std::string(kind_names[combos[cb].a]) + "_" + kind_names[combos[cb].b] + "_" +
                          kind_names[combos[cb].c];
    with("valid_" + t + "_nn", V, cb, [&](raw& r) { r.m = static_cast<u16>(3 + cb); r.lda = cb % 4; });
    with("valid_" + t + "_tt_beta", V, cb, [&](raw& r) {
      r.ta = r.tb = 1;
      r.m = static_cast<u16>(9 + 2 * cb);
      r.beta = 0x60000000u | nice(cb % 8);
      r.ldc = 5;
    });
    if (combos[cb].packed)
      with("valid_" + t + "_packed", V, cb, [&](raw& r) { r.variant = 1; r.tb = cb % 2; r.m = static_cast<u16>(1 + 3 * cb); });
  }
  with("valid_legacy_overload", V, 0, [](raw& r) { r.variant = 2; r.opts = 0x1F; });
  with("valid_all_options_bf16", V, 9, [](raw& r) {
    r.opts = 0x1F; r.scale_block = 1; r.act = 2; r.clamp_lo = nice(9); r.clamp_hi = nice(8); r.beta = 0x60000000u | nice(6);
  });
  with("valid_all_options_fp8_c", V, 2, [](raw& r) {
    r.opts = 0x1F; r.scale_block = 4; r.act = 1; r.output_scale = 0x40000000u | nice(2); r.output_overflow = 1; r.m = 12;
  });
  with("valid_blocks_deep_k", V, 13, [](raw& r) { r.opts = 0x18; r.m = 10; r.n = 6; r.k = 700; r.scale_block = 0; });
  with("valid_k_zero_beta", V, 4, [](raw& r) { r.k = 0; r.beta = 0x60000000u | nice(4); r.opts = 0x04; });
  with("valid_alpha_zero_nan_a", V, 10, [](raw& r) { r.alpha = special(0); r.a_values = 0; });
  with("valid_threads", V, 3, [](raw& r) { r.threads = 0xC2; r.m = 40; r.n = 40; r.k = 40; });
  with("valid_special_values", V, 3, [](raw& r) { r.a_values = 0; r.b_values = 0; r.c_values = 0; r.bias_values = 0; r.beta = 0x60000000u; });
  // bfloat16 A = {2^-130, 2^127}, B = {0, 0.5}: 2^126 (the lift must not overflow).
  // (a_values 0: bfloat16 from the top half of 4 tail bytes; b_values 0: codes as they are.)
  with("valid_bf16_tiny_and_huge", V, 9, [](raw& r) {
    r.m = 1; r.n = 1; r.k = 2; r.a_values = 0; r.b_values = 0; r.seed = 0;
  });
  v.back().tail = {0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x7F, 0x00, 0x30};
  // half A and half C (combos 16-23).
  with("valid_half_a_subnormal", V, 16, [](raw& r) { r.a_values = 4; r.m = 7; });
  with("valid_half_a_special_values", V, 16, [](raw& r) { r.a_values = 0; r.b_values = 0; r.variant = 1; });
  with("valid_half_a_huge_and_tiny", V, 19, [](raw& r) { r.a_values = 3; r.output_scale = 0x40000000u | nice(6); });  // output_scale 0.01
  with("valid_half_a_half_c_all_options", V, 17, [](raw& r) {
    r.opts = 0x1F; r.scale_block = 1; r.act = 2; r.clamp_lo = nice(9); r.clamp_hi = nice(25); r.beta = 0x60000000u | nice(6);
  });
  with("valid_half_a_blocks_deep_k", V, 18, [](raw& r) { r.opts = 0x18; r.m = 10; r.n = 6; r.k = 700; r.scale_block = 0; r.variant = 1; });
  with("valid_half_a_threads", V, 17, [](raw& r) { r.threads = 0xC2; r.m = 40; r.n = 40; r.k = 40; r.ta = 1; });
  with("valid_half_c_overflow", V, 20, [](raw& r) { r.alpha = nice(25); r.variant = 1; });
  with("valid_half_c_beta_special", V, 21, [](raw& r) { r.beta = 0x60000000u | nice(12); r.c_values = 0; r.opts = 0x04; });
  with("valid_half_c_beta_subnormal", V, 22, [](raw& r) { r.beta = 0x60000000u | nice(13); r.c_values = 4; r.alpha = nice(14); });
  with("valid_half_c_relu_packed", V, 22, [](raw& r) { r.act = 1; r.variant = 1; r.tb = 1; r.opts = 0x07; });
  with("valid_half_c_k_zero", V, 23, [](raw& r) { r.k = 0; r.beta = 0x60000000u | nice(8); });
  with("invalid_half_c_output_scale", I, 23, [](raw& r) { r.output_scale = 0xE0000000u | nice(2); });
  with("invalid_half_a_null", I, 16, [](raw& r) { r.layout = scenario_of(a_null); r.variant = 1; });
  with("invalid_half_c_in_half_a", I, 17, [](raw& r) { r.layout = scenario_of(c_in_a); r.offset = 62; });
  with("invalid_half_c_at_a", I, 22, [](raw& r) { r.layout = scenario_of(c_at_a); });
  with("invalid_half_a_lda", I, 19, [](raw& r) { r.lda = 0xC001; r.ta = 1; });
  with("invalid_half_c_ldc_huge", I, 21, [](raw& r) { r.ldc = huge(2); });
  with("invalid_half_a_bias_in_c", I, 17, [](raw& r) { r.opts = 0x04; r.layout = scenario_of(option_in_c); r.offset = 42; });
  // bfloat16 and half B (combos 24-33). The flush rule, exact: a vdpbf16ps
  // product below 2^-126 would be flushed to 0, the result then off by it.
  // bfloat16 A = {2^-64, 1.5 2^-64}, B = {2^-64, 2^-70}: C = 2^-128 + 1.5 2^-134 (float subnormal).
  // (a_values / b_values 0: bfloat16 from the top half of 4 tail bytes.)
  const std::vector<u8> bf16_tiny = {0x00, 0x00, 0x80, 0x1F, 0x00, 0x00, 0xC0, 0x1F,
                                     0x00, 0x00, 0x80, 0x1F, 0x00, 0x00, 0x80, 0x1C};
  with("valid_bf16_b_flush_exact", V, 24, [](raw& r) { r.m = 1; r.n = 1; r.k = 2; r.a_values = 0; r.b_values = 0; r.seed = 0; });
  v.back().tail = bf16_tiny;
  with("valid_bf16_b_flush_exact_packed", V, 24, [](raw& r) {
    r.m = 1; r.n = 1; r.k = 2; r.a_values = 0; r.b_values = 0; r.seed = 0; r.variant = 1;
  });
  v.back().tail = bf16_tiny;
  with("valid_bf16_b_flush_exact_bf16_c", V, 28, [](raw& r) { r.m = 1; r.n = 1; r.k = 2; r.a_values = 0; r.b_values = 0; r.seed = 0; });
  v.back().tail = bf16_tiny;
  // E5M2FNUZ A = {2^-17, 2^-16} (codes 0x01, 0x02), bfloat16 B = {2^-112, 2^-110}: C = 2^-129 + 2^-126.
  with("valid_bf16_b_flush_fp8_a", V, 26, [](raw& r) { r.m = 1; r.n = 1; r.k = 2; r.a_values = 0; r.b_values = 0; r.seed = 0; });
  v.back().tail = {0x01, 0x02, 0x00, 0x00, 0x80, 0x07, 0x00, 0x00, 0x80, 0x08};
  // E4M3 A = {1, 2^-9}, bfloat16 B = {2^-133 (subnormal, 0x0001), 2^-120}: C = 2^-133 + 2^-129 (bfloat16 subnormal).
  with("valid_bf16_b_subnormal_fp8_a_packed", V, 25, [](raw& r) {
    r.m = 1; r.n = 1; r.k = 2; r.a_values = 0; r.b_values = 0; r.seed = 0; r.variant = 1;
  });
  v.back().tail = {0x38, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x80, 0x03};
  // Random tiny bfloat16 (mode 0xF0 + c: exponents around -64 - 4c, some subnormal).
  with("valid_bf16_b_tiny", V, 24, [](raw& r) { r.a_values = 0xF0; r.b_values = 0xF0; r.m = 7; r.n = 9; });
  with("valid_bf16_b_tiny_packed_tt", V, 24, [](raw& r) { r.a_values = 0xF1; r.b_values = 0xF0; r.variant = 1; r.ta = r.tb = 1; });
  with("valid_bf16_b_tiny_bf16_c", V, 28, [](raw& r) { r.a_values = 0xF0; r.b_values = 0xF2; r.beta = 0x60000000u | nice(2); });
  with("valid_bf16_b_tiny_fp8_a", V, 26, [](raw& r) { r.a_values = 2; r.b_values = 0xFC; r.m = 5; });
  with("valid_bf16_b_tiny_fp8_a_packed", V, 25, [](raw& r) { r.a_values = 2; r.b_values = 0xFE; r.variant = 1; r.m = 6; });
  with("valid_bf16_b_tiny_half_a", V, 32, [](raw& r) { r.a_values = 4; r.b_values = 0xF4; });
  with("valid_bf16_b_float_a_all_options", V, 27, [](raw& r) {
    r.opts = 0x1F; r.scale_block = 1; r.act = 2; r.clamp_lo = nice(9); r.clamp_hi = nice(25); r.beta = 0x60000000u | nice(6); r.variant = 1;
  });
  with("valid_bf16_b_blocks_deep_k_packed", V, 24, [](raw& r) { r.opts = 0x18; r.m = 10; r.n = 6; r.k = 700; r.scale_block = 0; r.variant = 1; });
  with("valid_bf16_b_special_values", V, 32, [](raw& r) { r.a_values = 0; r.b_values = 0; r.c_values = 0; r.beta = 0x60000000u; });
  with("valid_bf16_b_huge_and_tiny", V, 24, [](raw& r) { r.a_values = 3; r.b_values = 3; });
  with("valid_half_b_subnormal", V, 33, [](raw& r) { r.b_values = 4; r.a_values = 1; r.m = 8; });
  with("valid_half_b_huge_and_tiny_packed", V, 29, [](raw& r) { r.a_values = 3; r.b_values = 3; r.variant = 1; });
  with("valid_half_b_special_values", V, 29, [](raw& r) { r.a_values = 0; r.b_values = 0; r.c_values = 0; r.beta = 0x60000000u | nice(3); });
  with("valid_half_b_threads", V, 31, [](raw& r) { r.threads = 0xC2; r.m = 40; r.n = 40; r.k = 40; r.tb = 1; r.output_scale = 0x40000000u | nice(6); });
  with("valid_half_b_half_c_overflow", V, 29, [](raw& r) { r.alpha = nice(25); r.b_values = 2; });
  with("valid_half_b_fp8_c_saturate_packed", V, 31, [](raw& r) { r.variant = 1; r.output_overflow = 1; r.alpha = nice(25); r.opts = 0x05; });
  with("invalid_c_in_bf16_b", I, 24, [](raw& r) { r.layout = scenario_of(c_in_b); r.offset = 40; });
  // C from B's last byte: inside B only because B's elements are 2 bytes (37 x 21 elements).
  with("invalid_c_in_half_b_last_byte", I, 33, [](raw& r) { r.layout = scenario_of(c_in_b); r.offset = 2 * 37 * 21 - 1; });
  with("invalid_bf16_b_null_packed", I, 25, [](raw& r) { r.layout = scenario_of(b_null); r.variant = 1; });
  with("invalid_half_b_ldb_packed", I, 29, [](raw& r) { r.ldb = 0xC001; r.variant = 1; r.tb = 1; });
  // The fixed bug packed_bf16_k0_scan (an empty 0 x 2^32 B, ldc too small).
  with("invalid_bf16_b_packed_k0_n_2p32_ldc", I, 24, [](raw& r) {
    r.variant = 1; r.m = 1; r.k = huge(0); r.n = huge(13); r.ldb = huge(13); r.ldc = 0xC001;
  });
  with("invalid_half_b_ldb_huge", I, 33, [](raw& r) { r.ldb = huge(2); });
  with("invalid_bf16_b_tb_enum_packed", I, 27, [](raw& r) { r.tb = 0xF2; r.variant = 1; });
  with("invalid_half_b_row_scale_in_fp8_c", I, 31, [](raw& r) { r.opts = 0x01; r.layout = scenario_of(option_in_c); r.offset = 40; });
  with("valid_row_col_scales_pow2", V, 0, [](raw& r) { r.opts = 0x03; r.scale_mode = 1; r.alpha = nice(3); });
  with("invalid_ta_enum", I, 0, [](raw& r) { r.ta = 0xF0; });
  with("invalid_tb_enum", I, 9, [](raw& r) { r.tb = 0xF1; });
  with("invalid_tb_enum_packed", I, 13, [](raw& r) { r.tb = 0xF0; r.variant = 1; });
  with("invalid_act_enum", I, 3, [](raw& r) { r.act = 0xF0; });
  with("invalid_output_overflow_enum", I, 2, [](raw& r) { r.output_overflow = 0xF3; });
  with("invalid_alpha_nan", I, 5, [](raw& r) { r.alpha = special(2); });
  with("invalid_alpha_inf", I, 13, [](raw& r) { r.alpha = special(4); });
  with("invalid_beta_inf", I, 10, [](raw& r) { r.beta = special(5); });
  with("invalid_alpha_subnormal", I, 0, [](raw& r) { r.alpha = special(9); });
  with("invalid_row_scale_zero", I, 0, [](raw& r) { r.opts = 0x01; r.bad_which = 1; r.bad_kind = 1; });
  with("invalid_col_scale_negative", I, 9, [](raw& r) { r.opts = 0x02; r.bad_which = 2; r.bad_kind = 3; });
  with("invalid_a_block_nan", I, 13, [](raw& r) { r.opts = 0x08; r.bad_which = 3; r.bad_kind = 4; r.scale_block = 1; });
  with("invalid_b_block_inf_m1", I, 0, [](raw& r) { r.opts = 0x10; r.bad_which = 4; r.bad_kind = 5; r.m = 1; r.tb = 1; r.scale_block = 1; });
  with("invalid_b_block_inf_m9", I, 0, [](raw& r) { r.opts = 0x10; r.bad_which = 4; r.bad_kind = 5; r.m = 9; r.scale_block = 1; });
  with("invalid_scale_range", I, 11, [](raw& r) { r.opts = 0x03; r.bad_which = 1; r.bad_kind = 7; r.alpha = nice(8); });
  with("invalid_scale_block_odd", I, 0, [](raw& r) { r.opts = 0x08; r.scale_block = 12; });
  with("invalid_scale_block_zero", I, 9, [](raw& r) { r.opts = 0x10; r.scale_block = 10; });
  with("invalid_output_scale_float_c", I, 0, [](raw& r) { r.output_scale = 0xE0000000u | nice(2); });
  with("invalid_output_scale_zero", I, 2, [](raw& r) { r.output_scale = 0x40000000u | special(0) >> 2; });
  with("invalid_clamp_order", I, 9, [](raw& r) { r.act = 2; r.clamp_lo = nice(8); r.clamp_hi = 0x80000000u | nice(0); });
  with("invalid_a_null", I, 0, [](raw& r) { r.layout = scenario_of(a_null); });
  with("invalid_b_null", I, 9, [](raw& r) { r.layout = scenario_of(b_null); });
  with("invalid_c_null", I, 13, [](raw& r) { r.layout = scenario_of(c_null); });
  with("invalid_lda", I, 0, [](raw& r) { r.lda = 0xC001; });
  with("invalid_ldb_packed", I, 9, [](raw& r) { r.ldb = 0xC001; r.variant = 1; });
  with("invalid_ldc", I, 10, [](raw& r) { r.ldc = 0xC000; });
  with("invalid_lda_huge", I, 0, [](raw& r) { r.lda = huge(2); });
  with("invalid_m_huge", I, 9, [](raw& r) { r.m = huge(2); });
  with("invalid_c_in_a", I, 9, [](raw& r) { r.layout = scenario_of(c_in_a); r.offset = 100; });
  with("invalid_c_in_b", I, 13, [](raw& r) { r.layout = scenario_of(c_in_b); r.offset = 30; });
  with("invalid_c_at_a", I, 13, [](raw& r) { r.layout = scenario_of(c_at_a); });
  with("invalid_row_scale_in_c", I, 0, [](raw& r) { r.opts = 0x01; r.layout = scenario_of(option_in_c); r.offset = 0; });
  with("invalid_bias_in_c", I, 9, [](raw& r) { r.opts = 0x04; r.layout = scenario_of(option_in_c); r.offset = 42; });
  with("invalid_b_block_in_c", I, 4, [](raw& r) { r.opts = 0x10; r.layout = scenario_of(option_in_c); r.offset = 84; });
  return v;
}

}  // namespace

FZ_ENTRY_POINTS((void)0)
