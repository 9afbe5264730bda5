#include "simd.h"

#include <atomic>
#include <cmath>

#include "cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace embedrt::simd {

namespace {

// ---- scalar: the reference twin of every vector path ----
float dot_scalar(const float* a, const float* b, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}
void dot4_scalar(const float* q, size_t ld, const float* b, size_t n, float out[4]) {
  for (int r = 0; r < 4; ++r) out[r] = dot_scalar(q + static_cast<size_t>(r) * ld, b, n);
}
void dot3_scalar(const float* a, const float* b, size_t n, float out[3]) {
  float ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < n; ++i) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  out[0] = ab;
  out[1] = aa;
  out[2] = bb;
}
float sq_l2_scalar(const float* a, const float* b, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; ++i) {
    const float d = a[i] - b[i];
    s += d * d;
  }
  return s;
}
int32_t dot_i8_scalar(const int8_t* a, const int8_t* b, size_t n) {
  int32_t s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<int32_t>(a[i]) * b[i];
  return s;
}
uint32_t hamming_scalar(const uint8_t* a, const uint8_t* b, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<uint32_t>(__builtin_popcount(static_cast<unsigned>(a[i] ^ b[i])));
  return s;
}

#if defined(__x86_64__)
// GCC 12's _mm512_reduce_* expand to code it then warns about (GCC bug 105593, fixed in GCC 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // a GCC-only warning (clang warns about the pragma)
#endif
// ---- AVX2 + FMA ----
__attribute__((target("avx2,fma"))) float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
__attribute__((target("avx2,fma"))) float dot_avx2(const float* a, const float* b, size_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  float s = hsum256(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}
__attribute__((target("avx2,fma"))) void dot4_avx2(const float* q, size_t ld, const float* b, size_t n, float out[4]) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 bv = _mm256_loadu_ps(b + i);
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), bv, a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + ld + i), bv, a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + 2 * ld + i), bv, a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + 3 * ld + i), bv, a3);
  }
  out[0] = hsum256(a0);
  out[1] = hsum256(a1);
  out[2] = hsum256(a2);
  out[3] = hsum256(a3);
  for (; i < n; ++i) {
    for (int r = 0; r < 4; ++r) out[r] += q[static_cast<size_t>(r) * ld + i] * b[i];
  }
}
__attribute__((target("avx2,fma"))) void dot3_avx2(const float* a, const float* b, size_t n, float out[3]) {
  __m256 ab = _mm256_setzero_ps(), aa = _mm256_setzero_ps(), bb = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(a + i), y = _mm256_loadu_ps(b + i);
    ab = _mm256_fmadd_ps(x, y, ab);
    aa = _mm256_fmadd_ps(x, x, aa);
    bb = _mm256_fmadd_ps(y, y, bb);
  }
  out[0] = hsum256(ab);
  out[1] = hsum256(aa);
  out[2] = hsum256(bb);
  for (; i < n; ++i) {
    out[0] += a[i] * b[i];
    out[1] += a[i] * a[i];
    out[2] += b[i] * b[i];
  }
}
__attribute__((target("avx2,fma"))) float sq_l2_avx2(const float* a, const float* b, size_t n) {
  __m256 acc = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    acc = _mm256_fmadd_ps(d, d, acc);
  }
  float s = hsum256(acc);
  for (; i < n; ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}
__attribute__((target("avx2"))) int32_t dot_i8_avx2(const int8_t* a, const int8_t* b, size_t n) {
  __m256i acc = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i va = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
    const __m256i vb = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(va, vb));
  }
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  int32_t r = _mm_cvtsi128_si32(s);
  for (; i < n; ++i) r += static_cast<int32_t>(a[i]) * b[i];
  return r;
}
__attribute__((target("avx2,popcnt"))) uint32_t hamming_avx2(const uint8_t* a, const uint8_t* b, size_t n) {
  uint64_t s = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    __builtin_memcpy(&x, a + i, 8);
    __builtin_memcpy(&y, b + i, 8);
    s += static_cast<uint64_t>(_mm_popcnt_u64(x ^ y));
  }
  for (; i < n; ++i) s += static_cast<uint64_t>(__builtin_popcount(static_cast<unsigned>(a[i] ^ b[i])));
  return static_cast<uint32_t>(s);
}

// ---- AVX-512 (F, BW, VL; VNNI for int8 when present) ----
__attribute__((target("avx512f"))) float dot_avx512(const float* a, const float* b, size_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  acc0 = _mm512_add_ps(acc0, acc1);
  if (i + 16 <= n) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    i += 16;
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc0);
  }
  return _mm512_reduce_add_ps(acc0);
}
__attribute__((target("avx512f"))) void dot4_avx512(const float* q, size_t ld, const float* b, size_t n, float out[4]) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 bv = _mm512_loadu_ps(b + i);
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), bv, a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + ld + i), bv, a1);
    a2 = _mm512_fmadd_ps(_mm512_loadu_ps(q + 2 * ld + i), bv, a2);
    a3 = _mm512_fmadd_ps(_mm512_loadu_ps(q + 3 * ld + i), bv, a3);
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 bv = _mm512_maskz_loadu_ps(m, b + i);
    a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + i), bv, a0);
    a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + ld + i), bv, a1);
    a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + 2 * ld + i), bv, a2);
    a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + 3 * ld + i), bv, a3);
  }
  out[0] = _mm512_reduce_add_ps(a0);
  out[1] = _mm512_reduce_add_ps(a1);
  out[2] = _mm512_reduce_add_ps(a2);
  out[3] = _mm512_reduce_add_ps(a3);
}
__attribute__((target("avx512f"))) void dot3_avx512(const float* a, const float* b, size_t n, float out[3]) {
  __m512 ab = _mm512_setzero_ps(), aa = _mm512_setzero_ps(), bb = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_loadu_ps(a + i), y = _mm512_loadu_ps(b + i);
    ab = _mm512_fmadd_ps(x, y, ab);
    aa = _mm512_fmadd_ps(x, x, aa);
    bb = _mm512_fmadd_ps(y, y, bb);
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 x = _mm512_maskz_loadu_ps(m, a + i), y = _mm512_maskz_loadu_ps(m, b + i);
    ab = _mm512_fmadd_ps(x, y, ab);
    aa = _mm512_fmadd_ps(x, x, aa);
    bb = _mm512_fmadd_ps(y, y, bb);
  }
  out[0] = _mm512_reduce_add_ps(ab);
  out[1] = _mm512_reduce_add_ps(aa);
  out[2] = _mm512_reduce_add_ps(bb);
}
__attribute__((target("avx512f"))) float sq_l2_avx512(const float* a, const float* b, size_t n) {
  __m512 acc = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    acc = _mm512_fmadd_ps(d, d, acc);
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
    acc = _mm512_fmadd_ps(d, d, acc);
  }
  return _mm512_reduce_add_ps(acc);
}
__attribute__((target("avx512f,avx512bw"))) int32_t dot_i8_avx512(const int8_t* a, const int8_t* b, size_t n) {
  __m512i acc = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512i va = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)));
    const __m512i vb = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i)));
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(va, vb));
  }
  int32_t r = _mm512_reduce_add_epi32(acc);
  for (; i < n; ++i) r += static_cast<int32_t>(a[i]) * b[i];
  return r;
}
__attribute__((target("avx512f,avx512bw,avx512vpopcntdq"))) uint32_t hamming_avx512_vpop(const uint8_t* a, const uint8_t* b,
                                                                                           size_t n) {
  __m512i acc = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i x = _mm512_xor_si512(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i));
    acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
  }
  uint64_t s = static_cast<uint64_t>(_mm512_reduce_add_epi64(acc));
  return static_cast<uint32_t>(s) + hamming_avx2(a + i, b + i, n - i);
}
#pragma GCC diagnostic pop
#endif

#if defined(__aarch64__)
// ---- NEON ----
float dot_neon(const float* a, const float* b, size_t n) {
  float32x4_t acc = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) acc = vfmaq_f32(acc, vld1q_f32(a + i), vld1q_f32(b + i));
  float s = vaddvq_f32(acc);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}
void dot4_neon(const float* q, size_t ld, const float* b, size_t n, float out[4]) {
  for (int r = 0; r < 4; ++r) out[r] = dot_neon(q + static_cast<size_t>(r) * ld, b, n);
}
void dot3_neon(const float* a, const float* b, size_t n, float out[3]) {
  float32x4_t ab = vdupq_n_f32(0), aa = vdupq_n_f32(0), bb = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t x = vld1q_f32(a + i), y = vld1q_f32(b + i);
    ab = vfmaq_f32(ab, x, y);
    aa = vfmaq_f32(aa, x, x);
    bb = vfmaq_f32(bb, y, y);
  }
  out[0] = vaddvq_f32(ab);
  out[1] = vaddvq_f32(aa);
  out[2] = vaddvq_f32(bb);
  for (; i < n; ++i) {
    out[0] += a[i] * b[i];
    out[1] += a[i] * a[i];
    out[2] += b[i] * b[i];
  }
}
float sq_l2_neon(const float* a, const float* b, size_t n) {
  float32x4_t acc = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t d = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
    acc = vfmaq_f32(acc, d, d);
  }
  float s = vaddvq_f32(acc);
  for (; i < n; ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}
#endif

const Kernels kScalar = {dot_scalar, dot4_scalar, dot3_scalar, sq_l2_scalar, dot_i8_scalar, hamming_scalar};
#if defined(__x86_64__)
const Kernels kAvx2 = {dot_avx2, dot4_avx2, dot3_avx2, sq_l2_avx2, dot_i8_avx2, hamming_avx2};
const Kernels kAvx512 = {dot_avx512, dot4_avx512, dot3_avx512, sq_l2_avx512, dot_i8_avx512, hamming_avx2};
const Kernels kAvx512Vpop = {dot_avx512, dot4_avx512, dot3_avx512, sq_l2_avx512, dot_i8_avx512,
                             hamming_avx512_vpop};
#endif
#if defined(__aarch64__)
const Kernels kNeon = {dot_neon, dot4_neon, dot3_neon, sq_l2_neon, dot_i8_scalar, hamming_scalar};
#endif

Path best() {
  switch (detect_simd_level()) {
    case SimdLevel::Avx512:
    case SimdLevel::Avx512Vnni: return Path::Avx512;
    case SimdLevel::Avx2Fma: return Path::Avx2;
    case SimdLevel::Neon: return Path::Neon;
    default: return Path::Scalar;
  }
}

std::atomic<int> g_path{-1};

}  // namespace

bool path_supported(Path p) {
  const Path b = best();
  if (p == Path::Scalar) return true;
  if (p == Path::Neon) return b == Path::Neon;
  if (b == Path::Neon) return false;
  return static_cast<int>(p) <= static_cast<int>(b);
}

bool set_path(Path p) {
  if (!path_supported(p)) return false;
  g_path.store(static_cast<int>(p));
  return true;
}

Path active_path() {
  const int p = g_path.load();
  return p < 0 ? best() : static_cast<Path>(p);
}

const Kernels& kernels() {
  switch (active_path()) {
#if defined(__x86_64__)
    case Path::Avx512: {
      static const bool vpop = x86_features().avx512vpopcntdq;
      return vpop ? kAvx512Vpop : kAvx512;
    }
    case Path::Avx2: return kAvx2;
#endif
#if defined(__aarch64__)
    case Path::Neon: return kNeon;
#endif
    default: return kScalar;
  }
}

const char* path_name(Path p) {
  switch (p) {
    case Path::Scalar: return "scalar";
    case Path::Avx2: return "avx2";
    case Path::Avx512: return "avx512";
    case Path::Neon: return "neon";
  }
  return "scalar";
}

}  // namespace embedrt::simd
