// This machine's arithmetic peaks per precision, and embedrt's fp32 projection kernel as a fraction of
// its precision's peak (bench/peaks.mjs builds and runs it; bench/README.md keeps the figures).
//
// A peak is a register-only loop of independent multiply-accumulates (12 chains: more than latency ×
// issue width on current x86 cores), run on 1 and 2 threads, for every instruction this CPU has:
//   fp32   vfmadd231ps (AVX2 ymm, AVX-512 zmm)
//   int8   vpdpbusd (AVX-512 VNNI zmm, AVX-VNNI ymm): u8 × s8, 4 products summed into int32;
//          AVX2 vpmaddubsw + vpmaddwd + vpaddd: u8 × s8 pairs summed in 16 bits (saturating), the
//          best integer rate an AVX2-only CPU has; AVX2 vpmaddwd + vpaddd on int16: exact, half that
//   bf16   vdpbf16ps (AVX512-BF16 zmm): bf16 pairs into fp32
// Rates are in giga-ops per second, one multiply-accumulate = 2 ops.
// Then embedrt's linear_forward (the fp32 Linear op's kernel: streaming for few rows, the packed GEMM
// for many) on BERT-base's projection shapes, 1 and 2 threads.
//
// Output: one JSON object on stdout.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "cpu_features.h"
#include "linear.h"
#include "simd.h"
#include "linear_lowp.h"
#include "linear_lowp.h"
#include "thread_pool.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kChains = 12;

// Twelve accumulators as twelve variables (an array indexed in a loop lives in memory: every step would
// be a load and a store), each kept opaque after every step so the compiler cannot fold the loop.
#define EACH(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define OPAQUE(v) __asm__ volatile("" : "+x"(v))
// The loop of every kernel: the accumulators (PEAK_DECLARE), `iters` rounds of PEAK_STEP on each.
#define RUN(EACH_CHAIN) EACH_CHAIN(PEAK_DECLARE) for (long i = 0; i < iters; ++i) { EACH_CHAIN(PEAK_STEP) }

// The first accumulator escapes, so its loop must run.
void keep(const void* p) {
  static const void* volatile sink;
  sink = p;
}
// fp32: acc = a · acc + b (8 or 16 lanes, one multiply-accumulate each).
#define PEAK_DECLARE(i) __m256 acc##i = _mm256_set1_ps(0.001f * static_cast<float>(i));
#define PEAK_STEP(i) acc##i = _mm256_fmadd_ps(a, acc##i, b); OPAQUE(acc##i);
__attribute__((target("avx2,fma"))) double fp32_avx2(long iters) {
  const __m256 a = _mm256_set1_ps(1.0001f), b = _mm256_set1_ps(0.9999f);
  RUN(EACH)
  keep(&acc0);
  return 2.0 * 8 * kChains * static_cast<double>(iters);
}
#undef PEAK_DECLARE
#undef PEAK_STEP

#define PEAK_DECLARE(i) __m512 acc##i = _mm512_set1_ps(0.001f * static_cast<float>(i));
#define PEAK_STEP(i) acc##i = _mm512_fmadd_ps(a, acc##i, b); OPAQUE(acc##i);
__attribute__((target("avx512f"))) double fp32_avx512(long iters) {
  const __m512 a = _mm512_set1_ps(1.0001f), b = _mm512_set1_ps(0.9999f);
  RUN(EACH)
  keep(&acc0);
  return 2.0 * 16 * kChains * static_cast<double>(iters);
}
#undef PEAK_DECLARE
#undef PEAK_STEP

// The AVX2 integer products do not take the accumulator: with constant operands the compiler would
// compute them once, outside the loop. Each chain gets its own operand, made opaque every step, so each
// step computes its product (6 chains: 6 operands + 6 accumulators + 2 constants fit AVX2's 16 ymm).
#define EACH6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define PEAK_DECLARE(i) __m256i acc##i = _mm256_set1_epi32(i), op##i = _mm256_set1_epi8(static_cast<char>(3 + i));

// int8 on AVX2: 32 u8 × s8 products, pairs summed in 16 bits, then pairs of those into 32 bits.
#define PEAK_STEP(i) OPAQUE(op##i); acc##i = _mm256_add_epi32(acc##i, _mm256_madd_epi16(_mm256_maddubs_epi16(op##i, s), ones)); OPAQUE(acc##i);
__attribute__((target("avx2"))) double int8_avx2_maddubs(long iters) {
  const __m256i s = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
  RUN(EACH6)
  keep(&acc0);
  return 2.0 * 32 * 6 * static_cast<double>(iters);
}
#undef PEAK_STEP

// int16 on AVX2: 16 s16 × s16 products, pairs summed into 32 bits.
#define PEAK_STEP(i) OPAQUE(op##i); acc##i = _mm256_add_epi32(acc##i, _mm256_madd_epi16(op##i, b)); OPAQUE(acc##i);
__attribute__((target("avx2"))) double int16_avx2_madd(long iters) {
  const __m256i b = _mm256_set1_epi16(-2);
  RUN(EACH6)
  keep(&acc0);
  return 2.0 * 16 * 6 * static_cast<double>(iters);
}
#undef PEAK_DECLARE
#undef PEAK_STEP

#define PEAK_DECLARE(i) __m256i acc##i = _mm256_set1_epi32(i);
// AVX-VNNI: 32 u8 × s8 products, quads summed into 32 bits, in one instruction.
#define PEAK_STEP(i) acc##i = _mm256_dpbusd_avx_epi32(acc##i, u, s); OPAQUE(acc##i);
__attribute__((target("avx2,avxvnni"))) double int8_avx_vnni(long iters) {
  const __m256i u = _mm256_set1_epi8(3), s = _mm256_set1_epi8(-2);
  RUN(EACH)
  keep(&acc0);
  return 2.0 * 32 * kChains * static_cast<double>(iters);
}
#undef PEAK_DECLARE
#undef PEAK_STEP

// AVX-512 VNNI: 64 u8 × s8 products per instruction.
#define PEAK_DECLARE(i) __m512i acc##i = _mm512_set1_epi32(i);
#define PEAK_STEP(i) acc##i = _mm512_dpbusd_epi32(acc##i, u, s); OPAQUE(acc##i);
__attribute__((target("avx512f,avx512vnni"))) double int8_avx512_vnni(long iters) {
  const __m512i u = _mm512_set1_epi8(3), s = _mm512_set1_epi8(-2);
  RUN(EACH)
  keep(&acc0);
  return 2.0 * 64 * kChains * static_cast<double>(iters);
}
#undef PEAK_DECLARE
#undef PEAK_STEP

// AVX512-BF16: 32 bf16 × bf16 products, pairs summed into 16 fp32 lanes.
#define PEAK_DECLARE(i) __m512 acc##i = _mm512_set1_ps(0.001f * static_cast<float>(i));
#define PEAK_STEP(i) acc##i = _mm512_dpbf16_ps(acc##i, a, b); OPAQUE(acc##i);
__attribute__((target("avx512f,avx512bf16"))) double bf16_avx512(long iters) {
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3f80);  // 1.0
  RUN(EACH)
  keep(&acc0);
  return 2.0 * 32 * kChains * static_cast<double>(iters);
}
#undef PEAK_DECLARE
#undef PEAK_STEP

// Seconds of fn() on `threads` threads at once (each its own copy of the work).
double timed(int threads, const std::function<void()>& fn) {
  const auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 1; t < threads; ++t) ts.emplace_back(fn);
  fn();
  for (auto& t : ts) t.join();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Rate {
  double median, min, max;
};

// Five rounds of `run` (returns ops, seconds): median and range of ops/s, in G.
Rate rounds(const std::function<std::pair<double, double>()>& run) {
  std::vector<double> r;
  for (int i = 0; i < 5; ++i) {
    const auto [ops, s] = run();
    r.push_back(ops / s / 1e9);
  }
  std::sort(r.begin(), r.end());
  return {r[2], r.front(), r.back()};
}

std::string json(const Rate& r) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "{\"gops\": %.1f, \"min\": %.1f, \"max\": %.1f}", r.median, r.min, r.max);
  return buf;
}

}  // namespace

// `embedrt_peaks linear <precision> [avx2|avxvnni]`: only the linear rows of that precision (no peaks:
// quick, for tuning), optionally on the AVX2 path (float32's AVX2 kernels, the low precisions' AVX2 or
// YMM-VNNI kernel).
int main(int argc, char** argv) {
  const bool linear_only = argc > 2 && std::string(argv[1]) == "linear";
  const std::string only = linear_only ? argv[2] : "";
  const std::string path = linear_only && argc > 3 ? argv[3] : "";
  if (!path.empty()) {
    using embedrt::LowpKernel;
    using embedrt::LowPrecision;
    const bool ok = (path == "avx2" || path == "avxvnni") && embedrt::simd::set_path(embedrt::simd::Path::Avx2) &&
                    embedrt::force_lowp_kernel(LowPrecision::Int8, path == "avx2" ? LowpKernel::Avx2 : LowpKernel::AvxVnni) &&
                    embedrt::force_lowp_kernel(LowPrecision::BF16, LowpKernel::Avx2);
    if (!ok) {
      std::fprintf(stderr, "embedrt_peaks: no path %s on this CPU (avx2 or avxvnni)\n", path.c_str());
      return 2;
    }
  }
  using embedrt::x86_features;
  const auto& f = x86_features();
  struct Peak {
    const char* name;
    const char* precision;
    bool available;
    double (*kernel)(long);
  };
  const Peak peaks[] = {
      {"fp32 vfmadd231ps ymm (AVX2+FMA)", "fp32", f.avx2 && f.fma, fp32_avx2},
      {"fp32 vfmadd231ps zmm (AVX-512)", "fp32", f.avx512f, fp32_avx512},
      {"int8 vpmaddubsw+vpmaddwd+vpaddd ymm (AVX2, 16-bit pair sums saturate)", "int8", f.avx2, int8_avx2_maddubs},
      {"int16 vpmaddwd+vpaddd ymm (AVX2, exact int8 widened to 16 bits)", "int8", f.avx2, int16_avx2_madd},
      {"int8 vpdpbusd ymm (AVX-VNNI)", "int8", f.avxvnni, int8_avx_vnni},
      {"int8 vpdpbusd zmm (AVX-512 VNNI)", "int8", f.avx512f && f.avx512vnni, int8_avx512_vnni},
      {"bf16 vdpbf16ps zmm (AVX512-BF16)", "bf16", f.avx512bf16, bf16_avx512},
  };
  const long iters = 20'000'000;
  std::printf("{\n  \"simd\": \"%s\",\n  \"hardwareThreads\": %u,\n  \"peaks\": [\n", embedrt::simd_level_name(embedrt::detect_simd_level()),
              std::thread::hardware_concurrency());
  bool first = true;
  // By precision (fp32, int8, bf16) and threads: the peak of the instruction embedrt's kernels run.
  double peak_of[3][3] = {};
  for (const Peak& p : peaks) {
    if (linear_only) break;
    std::printf("%s    {\"name\": \"%s\", \"precision\": \"%s\", \"available\": %s", first ? "" : ",\n", p.name, p.precision, p.available ? "true" : "false");
    first = false;
    if (p.available) {
      for (int threads = 1; threads <= 2; ++threads) {
        double ops = 0;
        const Rate r = rounds([&] {
          const double s = timed(threads, [&] { ops = p.kernel(iters); });
          return std::make_pair(ops * threads, s);
        });
        std::printf(", \"threads%d\": %s", threads, json(r).c_str());
        const bool avx512 = embedrt::detect_simd_level() >= embedrt::SimdLevel::Avx512;
        if (p.kernel == (avx512 ? fp32_avx512 : fp32_avx2)) peak_of[0][threads] = r.median;
        if (p.kernel == int8_avx512_vnni) peak_of[1][threads] = r.median;
        if (p.kernel == bf16_avx512) peak_of[2][threads] = r.median;
      }
    }
    std::printf("}");
  }
  std::printf("\n  ],\n  \"linear\": [\n");
  // BERT-base's projections: QKV fused (768 → 2304), attention output (768 → 768), FFN in (768 → 3072),
  // FFN out (3072 → 768); rows: one short text, 4 texts × 128 tokens, 32 × 64.
  const size_t shapes[][2] = {{768, 2304}, {768, 768}, {768, 3072}, {3072, 768}};
  const size_t rows[] = {16, 512, 2048};
  first = true;
  const char* precisions[] = {"fp32", "int8", "bf16"};
  for (const auto& kn : shapes) {
    const size_t k = kn[0], n = kn[1];
    std::vector<float> w(n * k);
    for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    std::vector<float> packed(embedrt::linear_packed_floats(n, k));
    const embedrt::LinearRows block{w.data(), n};
    embedrt::pack_linear_weights(&block, 1, k, packed.data());
    const embedrt::LowpLinear int8(embedrt::LowPrecision::Int8, &block, 1, k), bf16(embedrt::LowPrecision::BF16, &block, 1, k);
    std::vector<float> bias(n, 0.1f);
    for (size_t m : rows) {
      std::vector<float> x(m * k), y(m * n);
      for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 40503u) % 997) * 1e-3f - 0.5f;
      for (int prec = 0; prec < 3; ++prec) {
        if (linear_only && only != precisions[prec]) continue;
        for (int threads = 1; threads <= 2; ++threads) {
          embedrt::ThreadPool pool(static_cast<size_t>(threads));
          const embedrt::ParallelFor pf = [&pool](size_t count, const std::function<void(size_t)>& fn) { pool.parallel_for(count, fn); };
          const auto forward = [&] {
            if (prec == 0) embedrt::linear_forward(x.data(), m, k, packed.data(), n, bias.data(), y.data(), pf);
            else (prec == 1 ? int8 : bf16).forward(x.data(), m, bias.data(), y.data(), pf);
          };
          forward();  // warm-up
          const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n);
          const int reps = std::max(1, static_cast<int>(2e10 / flops / 4));
          const Rate r = rounds([&] {
            const auto t0 = Clock::now();
            for (int i = 0; i < reps; ++i) forward();
            return std::make_pair(flops * reps, std::chrono::duration<double>(Clock::now() - t0).count());
          });
          const double peak = peak_of[prec][threads];
          std::printf("%s    {\"precision\": \"%s\", \"m\": %zu, \"k\": %zu, \"n\": %zu, \"threads\": %d, \"rate\": %s, \"ofPeak\": %.3f}",
                      first ? "" : ",\n", precisions[prec], m, k, n, threads, json(r).c_str(), peak > 0 ? r.median / peak : 0.0);
          first = false;
        }
      }
    }
  }
  std::printf("\n  ]\n}\n");
  return 0;
}
