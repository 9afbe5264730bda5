// Vector kernels with run-time dispatch: AVX-512, AVX2+FMA, NEON and a scalar twin of each. Tests can
// force any path this CPU supports (set_path), so every path runs on one machine.
#pragma once

#include <cstddef>
#include <cstdint>

namespace embedrt::simd {

enum class Path { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };

struct Kernels {
  float (*dot)(const float* a, const float* b, size_t n);
  // Dot products of four rows q[0..3] (each n long, stride ld) with one vector b.
  void (*dot4)(const float* q, size_t ld, const float* b, size_t n, float out[4]);
  // a·b, a·a and b·b in one pass.
  void (*dot3)(const float* a, const float* b, size_t n, float out[3]);
  float (*sq_l2)(const float* a, const float* b, size_t n);
  int32_t (*dot_i8)(const int8_t* a, const int8_t* b, size_t n);
  uint32_t (*hamming)(const uint8_t* a, const uint8_t* b, size_t n);
};

// The kernels of the active path (the best this CPU runs, unless forced).
const Kernels& kernels();
Path active_path();
// Paths this CPU (and this build) can run, best first.
bool path_supported(Path p);
// Forces a path (for tests and benchmarks); returns false when this CPU cannot run it.
bool set_path(Path p);
const char* path_name(Path p);

}  // namespace embedrt::simd
