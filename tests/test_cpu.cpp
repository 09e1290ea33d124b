// SPDX-License-Identifier: Apache-2.0
// CPU detection (detail/cpu.hpp) against two independent sources: the flags
// Linux prints in /proc/cpuinfo (already masked by what the kernel saves),
// and the compiler's target macros (a binary built for a feature runs only
// where it exists). The tier rule on hand-made feature sets; FP8_MAX_TIER.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <fp8/detail/cpu.hpp>

namespace {

// The "flags" line of the first processor, or an empty set.
std::set<std::string> proc_cpuinfo_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) {
      std::set<std::string> flags;
      std::istringstream words(line.substr(line.find(':') + 1));
      std::string w;
      while (words >> w) flags.insert(w);
      return flags;
    }
  return {};
}

}  // namespace

TEST_CASE("cpu features agree with /proc/cpuinfo", "[cpu]") {
  const std::set<std::string> flags = proc_cpuinfo_flags();
  if (!FP8_CPUID_X86 || flags.empty()) {
    WARN("not an x86 CPU with /proc/cpuinfo: nothing to compare");
    return;
  }
  const fp8::cpu_features& f = fp8::cpu();
  const auto has = [&](const char* name) { return flags.count(name) != 0; };
  CHECK(f.sse2 == has("sse2"));
  CHECK(f.sse41 == has("sse4_1"));
  CHECK(f.fma == has("fma"));
  CHECK(f.f16c == has("f16c"));
  // Linux clears the AVX flags when it does not save their state; cpuid
  // does not, which is what os_ymm / os_zmm are for.
  CHECK((f.avx2 && f.os_ymm) == has("avx2"));
  CHECK((f.avx512f && f.os_zmm) == has("avx512f"));
  CHECK((f.avx512bw && f.os_zmm) == has("avx512bw"));
  CHECK((f.avx512vl && f.os_zmm) == has("avx512vl"));
  CHECK((f.avx512dq && f.os_zmm) == has("avx512dq"));
  CHECK((f.avx512vbmi && f.os_zmm) == has("avx512vbmi"));
  CHECK((f.avx512vnni && f.os_zmm) == has("avx512_vnni"));
  CHECK((f.avx512bf16 && f.os_zmm) == has("avx512_bf16"));
}

TEST_CASE("cpu features include what this binary was compiled for", "[cpu]") {
  const fp8::cpu_features& f = fp8::cpu();
  const fp8::cpu_tier t = fp8::best_tier(f);
#if defined(__SSE2__)
  CHECK(f.sse2);
#endif
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
  CHECK(t >= fp8::cpu_tier::avx2);
#endif
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__)
  CHECK(t >= fp8::cpu_tier::avx512);
#endif
#if defined(__AVX512BF16__) && defined(__AVX512VBMI__)
  CHECK(t == fp8::cpu_tier::avx512bf16);
#endif
  CHECK(fp8::cpu_best_tier() <= t);
  INFO("tier " << fp8::tier_name(t));
  SUCCEED();
}

TEST_CASE("best_tier needs every feature of a tier and the OS state", "[cpu]") {
  fp8::cpu_features f;
  CHECK(fp8::best_tier(f) == fp8::cpu_tier::portable);
  f.sse2 = true;
  CHECK(fp8::best_tier(f) == fp8::cpu_tier::sse2);
  f.avx2 = f.fma = true;
  f.os_ymm = true;
  CHECK(fp8::best_tier(f) == fp8::cpu_tier::sse2);  // no F16C
  f.f16c = true;
  CHECK(fp8::best_tier(f) == fp8::cpu_tier::avx2);
  f.os_ymm = false;
  CHECK(fp8::best_tier(f) == fp8::cpu_tier::sse2);  // the OS does not save YMM
  f.os_ymm = true;
  f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = true;
  CHECK(fp8::best_tier(f) == fp8::cpu_tier::avx2);  // no ZMM state
  f.os_zmm = true;
  CHECK(fp8::best_tier(f) == fp8::cpu_tier::avx512);
  f.avx512bf16 = true;
  CHECK(fp8::best_tier(f) == fp8::cpu_tier::avx512);  // no VBMI
  f.avx512vbmi = true;
  CHECK(fp8::best_tier(f) == fp8::cpu_tier::avx512bf16);
  f.avx512dq = false;
  CHECK(fp8::best_tier(f) == fp8::cpu_tier::avx2);
}

TEST_CASE("FP8_MAX_TIER caps the tier and ignores what is not a tier", "[cpu]") {
  const char* old = std::getenv("FP8_MAX_TIER");
  const std::string saved = old != nullptr ? old : "";
  using fp8::cpu_tier;
  const auto cap = [](const char* v, cpu_tier best) {
    setenv("FP8_MAX_TIER", v, 1);
    return fp8::detail::tier_cap_from_environment(best);
  };
  CHECK(cap("avx2", cpu_tier::avx512bf16) == cpu_tier::avx2);
  CHECK(cap("portable", cpu_tier::avx512) == cpu_tier::portable);
  CHECK(cap("avx512bf16", cpu_tier::avx2) == cpu_tier::avx2);  // never above what the CPU runs
  CHECK(cap("AVX2", cpu_tier::avx512) == cpu_tier::avx512);    // not a tier's name
  unsetenv("FP8_MAX_TIER");
  CHECK(fp8::detail::tier_cap_from_environment(cpu_tier::sse2) == cpu_tier::sse2);
  if (old != nullptr) setenv("FP8_MAX_TIER", saved.c_str(), 1);
}
