#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "cpu_features.h"
#include "ort_runtime.h"
#include "platform.h"

#if defined(__linux__)
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <vector>
#endif

namespace embedrt {
namespace {

TEST(Runtime, LoadsOnnxRuntime130WithCpuProvider) {
  RuntimeInfo info = runtime_info();
  EXPECT_EQ(info.ort_api_version, 21);
  EXPECT_FALSE(info.ort_version.empty());
  EXPECT_NE(std::find(info.providers.begin(), info.providers.end(), "CPUExecutionProvider"), info.providers.end());
}

TEST(Runtime, EnvIsCreatedOnce) {
  Ort::Env& a = ort_env();
  Ort::Env& b = ort_env();
  EXPECT_EQ(&a, &b);
}

TEST(CpuFeatures, NamesEveryLevel) {
  EXPECT_STREQ(simd_level_name(SimdLevel::Scalar), "scalar");
  EXPECT_STREQ(simd_level_name(SimdLevel::Avx2Fma), "avx2+fma");
  EXPECT_STREQ(simd_level_name(SimdLevel::Avx512Vnni), "avx512+vnni");
  // Detection is stable and agrees with the compiler's own probe.
  SimdLevel level = detect_simd_level();
  EXPECT_EQ(level, detect_simd_level());
#if defined(__x86_64__)
  EXPECT_EQ(level >= SimdLevel::Avx2Fma, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#endif
}

#if defined(__linux__)
// Pages of [p, p + pages · page) present in this process's page table (/proc/self/pagemap bit 63).
size_t present_pages(const void* p, size_t pages) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  std::vector<uint64_t> e(pages);
  const int fd = open("/proc/self/pagemap", O_RDONLY);
  EXPECT_GE(fd, 0);
  const auto want = static_cast<ssize_t>(pages * sizeof(uint64_t));
  EXPECT_EQ(pread(fd, e.data(), e.size() * sizeof(uint64_t), static_cast<off_t>(reinterpret_cast<uintptr_t>(p) / page * sizeof(uint64_t))), want);
  close(fd);
  return static_cast<size_t>(std::count_if(e.begin(), e.end(), [](uint64_t v) { return (v >> 63) & 1; }));
}

// release_pages drops a mapped file's pages from the process (read back from the file when touched) and
// leaves alone any range holding private memory, whose contents dropping would lose.
TEST(Platform, ReleasePagesDropsAFilesPagesAndNeverPrivateMemory) {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t pages = 64, bytes = pages * page;
  std::vector<unsigned char> pattern(bytes);
  for (size_t i = 0; i < bytes; ++i) pattern[i] = static_cast<unsigned char>(i * 31 + 7);
  char path[] = "/tmp/embedrt-release-pages-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, pattern.data(), bytes), static_cast<ssize_t>(bytes));
  // As ONNX Runtime maps external data: private, readable and writable.
  auto* m = static_cast<unsigned char*>(mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
  close(fd);
  unlink(path);
  ASSERT_NE(m, MAP_FAILED);
  ASSERT_EQ(std::memcmp(m, pattern.data(), bytes), 0);  // every page read in
  EXPECT_EQ(present_pages(m, pages), pages);
  EXPECT_TRUE(platform::release_pages(m, bytes));
  EXPECT_EQ(present_pages(m, pages), 0u);
  EXPECT_EQ(std::memcmp(m, pattern.data(), bytes), 0);  // read back from the file
  // A page written (copied on write: private memory now) keeps the whole range as it is.
  m[3 * page + 5] ^= 0xff;
  EXPECT_FALSE(platform::release_pages(m, bytes));
  EXPECT_EQ(present_pages(m, pages), pages);
  EXPECT_EQ(m[3 * page + 5], static_cast<unsigned char>(pattern[3 * page + 5] ^ 0xff));
  // Only whole pages inside the range count: the range of the other pages is still dropped.
  EXPECT_TRUE(platform::release_pages(m + 4 * page - 1, 10 * page));
  EXPECT_EQ(present_pages(m + 4 * page, 9), 0u);
  EXPECT_EQ(m[3 * page + 5], static_cast<unsigned char>(pattern[3 * page + 5] ^ 0xff));
  munmap(m, bytes);
  // Heap memory is never dropped.
  std::vector<unsigned char> heap(pattern);
  EXPECT_FALSE(platform::release_pages(heap.data(), heap.size()));
  EXPECT_EQ(heap, pattern);
}
#endif

}  // namespace
}  // namespace embedrt
