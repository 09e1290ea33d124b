// SPDX-License-Identifier: Apache-2.0
// The threading layer (kernels/parallel.hpp): the pool runs every part once,
// concurrent and nested calls finish, exceptions come back to the caller,
// and gemm / conv2d give the same bits on 1 to 4 threads of the default pool
// and on executors supplied by the caller.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fp8/fp8.hpp>

namespace {

using e4m3 = fp8::fp8<fp8::E4M3>;

// Runs the parts on the caller's thread, last first: any order is allowed.
class reverse_executor final : public fp8::executor {
 public:
  void run(std::size_t count, fp8::task_ref task) override {
    ++calls;
    for (std::size_t i = count; i-- > 0;) task(i);
  }
  std::size_t calls = 0;
};

// One std::thread per part, as an engine with its own threads might do.
class spawning_executor final : public fp8::executor {
 public:
  void run(std::size_t count, fp8::task_ref task) override {
    calls.fetch_add(1);
    std::vector<std::thread> t;
    for (std::size_t i = 1; i < count; ++i) t.emplace_back([task, i] { task(i); });
    task(0);
    for (auto& x : t) x.join();
  }
  std::atomic<std::size_t> calls{0};
};

std::vector<e4m3> random_codes(std::size_t n, std::mt19937& g) {
  std::vector<e4m3> v(n);
  std::uniform_int_distribution<int> code(0, 255);
  for (auto& x : v) {
    do x = e4m3::from_bits(static_cast<std::uint8_t>(code(g)));
    while (!std::isfinite(static_cast<float>(x)));
  }
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("thread_pool runs every part exactly once, also for concurrent and nested calls", "[parallel]") {
  fp8::thread_pool pool(3);
  for (std::size_t count : {2u, 3u, 4u, 7u, 64u}) {
    std::vector<std::atomic<int>> hits(count);
    auto task = [&](std::size_t i) { hits[i].fetch_add(1); };
    pool.run(count, fp8::task_ref(task));
    for (std::size_t i = 0; i < count; ++i) CHECK(hits[i].load() == 1);
  }
  CHECK(pool.size() <= 3);
  // Four threads calling at once, each part starting a nested call: every
  // call finishes even though the pool has fewer threads than callers.
  std::atomic<std::size_t> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&] {
      for (int rep = 0; rep < 50; ++rep) {
        auto outer = [&](std::size_t) {
          auto inner = [&](std::size_t) { total.fetch_add(1); };
          pool.run(3, fp8::task_ref(inner));
        };
        pool.run(4, fp8::task_ref(outer));
      }
    });
  for (auto& t : callers) t.join();
  CHECK(total.load() == 4u * 50u * 4u * 3u);
}

TEST_CASE("thread_pool::run rethrows a part's exception after every other part has run", "[parallel]") {
  fp8::thread_pool pool(2);
  std::atomic<int> ran{0};
  auto task = [&](std::size_t i) {
    ran.fetch_add(1);
    if (i % 2 == 1) throw std::runtime_error("odd part");
  };
  CHECK_THROWS_AS(pool.run(6, fp8::task_ref(task)), std::runtime_error);
  CHECK(ran.load() == 6);
}

TEST_CASE("parallel_run rethrows the first exception after every part has finished", "[parallel]") {
  for (fp8::executor* ex : {static_cast<fp8::executor*>(nullptr), &fp8::default_executor()}) {
    std::atomic<int> finished{0};
    CHECK_THROWS_AS(fp8::kernel::parallel_run(ex, 5,
                                              [&](std::size_t i) {
                                                if (i == 2) throw std::runtime_error("part 2");
                                                finished.fetch_add(1);
                                              }),
                    std::runtime_error);
    CHECK(finished.load() == 4);
  }
}

TEST_CASE("gemm: the same bits on 1..4 threads, the default pool and caller executors", "[parallel][gemm]") {
  std::mt19937 g(7);
  struct shape {
    std::size_t m, n, k;
  };
  // The small-m path (m <= 8 rows split by columns) and the blocked path.
  for (shape s : {shape{3, 1024, 4096}, shape{200, 300, 512}}) {
    const auto a = random_codes(s.m * s.k, g), b = random_codes(s.k * s.n, g);
    const auto call = [&](std::size_t threads, fp8::executor* ex) {
      fp8::gemm_options o;
      o.threads = threads;
      o.executor = ex;
      std::vector<float> c(s.m * s.n, 0.5f);
      fp8::gemm(fp8::transpose::no, fp8::transpose::yes, s.m, s.n, s.k, 0.75f, a.data(), s.k, b.data(), s.k, 0.5f,
                c.data(), s.n, o);
      return c;
    };
    const std::vector<float> one = call(1, nullptr);
    for (std::size_t t = 2; t <= 4; ++t) CHECK(same_bits(one, call(t, nullptr)));
    reverse_executor rev;
    CHECK(same_bits(one, call(4, &rev)));
    CHECK(rev.calls == 1);
    spawning_executor spawn;
    CHECK(same_bits(one, call(3, &spawn)));
    CHECK(spawn.calls.load() == 1);
    // Concurrent calls on the default pool from several threads.
    std::vector<std::thread> callers;
    std::atomic<int> equal{0};
    for (int c = 0; c < 3; ++c)
      callers.emplace_back([&] {
        for (std::size_t rep = 0; rep < 4; ++rep) equal.fetch_add(same_bits(one, call(2 + rep % 3, nullptr)) ? 1 : 0);
      });
    for (auto& t : callers) t.join();
    CHECK(equal.load() == 12);
  }
}

TEST_CASE("conv2d: the same bits on the default pool and a caller executor", "[parallel][conv]") {
  std::mt19937 g(11);
  fp8::conv2d_shape s;
  s.batch = 2;
  s.in_h = s.in_w = 56;  // enough work for the depthwise path to use threads
  s.in_c = s.out_c = 32;
  // Dense 3x3, depthwise 3x3, and 1x1 stride 1 (whose tiles and threads'
  // parts run across output rows and images).
  for (std::size_t variant = 0; variant < 3; ++variant) {
    const std::size_t groups = variant == 1 ? 32 : 1, k = variant == 2 ? 1 : 3, pad = k / 2;
    s.groups = groups;
    s.kernel_h = s.kernel_w = k;
    s.pad_top = s.pad_bottom = s.pad_left = s.pad_right = pad;
    const auto x = random_codes(s.batch * s.in_h * s.in_w * s.in_c, g);
    const auto w = random_codes(s.out_c * k * k * (s.in_c / groups), g);
    const auto call = [&](std::size_t threads, fp8::executor* ex) {
      fp8::conv2d_options o;
      o.threads = threads;
      o.executor = ex;
      std::vector<float> y(s.batch * s.out_h() * s.out_w() * s.out_c, -1.0f);
      fp8::conv2d(s, x.data(), 0.5f, w.data(), nullptr, nullptr, y.data(), o);
      return y;
    };
    const std::vector<float> one = call(1, nullptr);
    CHECK(same_bits(one, call(3, nullptr)));
    reverse_executor rev;
    CHECK(same_bits(one, call(4, &rev)));
    CHECK(rev.calls >= 1);
  }
}

TEST_CASE("scratch arrays are reused by the thread that released them, within the cache's bounds", "[parallel]") {
  using cache = fp8::detail::scratch_cache;
  using fp8::kernel::aligned_buffer;
  fp8::release_scratch();
  const cache& mine = *fp8::detail::thread_scratch();
  REQUIRE(mine.cached_bytes() == 0);
  const void* first = nullptr;
  {
    aligned_buffer<float> a(1000);
    first = a.data();
    REQUIRE(reinterpret_cast<std::uintptr_t>(first) % 64 == 0);
  }
  CHECK(mine.cached_bytes() == 4000);
  {
    aligned_buffer<std::uint16_t> b(1500);  // 3000 bytes: the 4000-byte array fits
    CHECK(static_cast<const void*>(b.data()) == first);
    CHECK(mine.cached_bytes() == 0);
    aligned_buffer<std::uint16_t> c(std::move(b));  // a move hands the array over, released once
    CHECK(static_cast<const void*>(c.data()) == first);
  }
  CHECK(mine.cached_bytes() == 4000);
  {
    aligned_buffer<std::uint8_t> small(1000);  // under half of the cached 4000 bytes: a new array
    CHECK(static_cast<const void*>(small.data()) != first);
    CHECK(mine.cached_bytes() == 4000);
  }
  fp8::release_scratch();
  { aligned_buffer<float> again(1000); }
  CHECK(mine.cached_bytes() == 4000);
  { aligned_buffer<std::uint8_t> big(cache::max_bytes + 1); }  // too large to keep
  CHECK(mine.cached_bytes() == 4000);
  {
    // Six arrays released: the four largest stay.
    std::vector<aligned_buffer<std::uint8_t>> v;
    for (std::size_t i = 1; i <= 6; ++i) v.emplace_back(i * 10000);
  }
  CHECK(mine.cached_bytes() == 30000 + 40000 + 50000 + 60000);
  // Another thread has its own cache.
  std::size_t other = 1;
  std::thread([&] { other = fp8::detail::thread_scratch()->cached_bytes(); }).join();
  CHECK(other == 0);
  fp8::release_scratch();
  CHECK(mine.cached_bytes() == 0);
}

#if defined(__linux__) && FP8_HUGE_PAGES
// The VmFlags of the mapping of /proc/self/smaps that holds p ("" if none).
static std::string vm_flags_of(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long long lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {  // a mapping's first line: "lo-hi perms ..."
      inside = lo <= at && at < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}
#endif

TEST_CASE("arrays of 2 MiB or more start on a 2 MiB boundary and are advised for huge pages", "[parallel]") {
  using fp8::kernel::aligned_buffer;
  fp8::release_scratch();
  constexpr std::size_t huge = std::size_t{2} << 20;
  aligned_buffer<std::uint8_t> small(huge - 1), big(3 * huge + 5);
  CHECK(reinterpret_cast<std::uintptr_t>(small.data()) % 64 == 0);
  CHECK(reinterpret_cast<std::uintptr_t>(big.data()) % (FP8_HUGE_PAGES ? huge : 64) == 0);
#if defined(__linux__) && FP8_HUGE_PAGES
  // Where the kernel has transparent huge pages, the advice shows in the
  // mapping's VmFlags as "hg" (it needs no huge page to be free).
  if (std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled").good()) {
    const std::string flags = vm_flags_of(big.data() + huge);
    INFO(flags);
    CHECK(flags.find(" hg") != std::string::npos);
  }
#endif
  fp8::release_scratch();
}

TEST_CASE("concurrent gemm and conv2d calls from several threads on the default pool give the sequential bits",
          "[parallel][gemm][conv]") {
  // Four caller threads at once, each call split over the shared pool (and
  // each thread's scratch cache): the entries are reentrant. Under
  // ThreadSanitizer (the tsan.parallel test) this is the race check.
  std::mt19937 g(21);
  const std::size_t m = 96, n = 80, k = 200;
  const auto a = random_codes(m * k, g), b = random_codes(k * n, g);
  fp8::conv2d_shape s;
  s.batch = 1;
  s.in_h = s.in_w = 20;
  s.in_c = s.out_c = 16;
  s.kernel_h = s.kernel_w = 3;
  s.pad_top = s.pad_bottom = s.pad_left = s.pad_right = 1;
  const auto x = random_codes(s.in_h * s.in_w * s.in_c, g), w = random_codes(s.out_c * 9 * s.in_c, g);
  const auto gemm_once = [&] {
    fp8::gemm_options o;
    o.threads = 3;
    std::vector<float> c(m * n);
    fp8::gemm(fp8::transpose::no, fp8::transpose::no, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n, o);
    return c;
  };
  const auto conv_once = [&] {
    fp8::conv2d_options o;
    o.threads = 3;
    std::vector<float> y(s.out_h() * s.out_w() * s.out_c);
    fp8::conv2d(s, x.data(), 0.5f, w.data(), nullptr, nullptr, y.data(), o);
    return y;
  };
  const std::vector<float> c0 = gemm_once(), y0 = conv_once();
  std::atomic<int> mismatches{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&] {
      for (int r = 0; r < 5; ++r) {
        if (!same_bits(c0, gemm_once())) mismatches.fetch_add(1);
        if (!same_bits(y0, conv_once())) mismatches.fetch_add(1);
      }
    });
  for (auto& t : callers) t.join();
  CHECK(mismatches.load() == 0);
}
