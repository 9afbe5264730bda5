#!/usr/bin/env bash
# Builds and runs the native GoogleTest suite twice (a normal build and an ASan+UBSan build), then
# the libFuzzer targets under ASan+UBSan for a bounded time (EMBEDRT_FUZZ_SECONDS, default 60) with
# clang fetched by scripts/assemble-ort.mjs --clang, and the kernel tests (SIMD and low-precision linear)
# built for linux-arm64 and run under qemu-user, so the NEON kernels are checked as the x86 ones are.
# EMBEDRT_NATIVE_TESTS=plain|sanitize|arm64|fuzz runs one.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
which=${EMBEDRT_NATIVE_TESTS:-all}

run_suite() {
  local name=$1 dir=$2; shift 2
  echo "== native tests ($name) =="
  cmake -S . -B "$dir" -G Ninja -DEMBEDRT_TESTS=ON -DEMBEDRT_ADDON=OFF "$@" >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; exit 1; }
  cmake --build "$dir" -j "$jobs" >"$dir.build.log" 2>&1 || { cat "$dir.build.log"; exit 1; }
  if grep -q "warning:" "$dir.build.log"; then
    grep -A3 "warning:" "$dir.build.log"; echo "native build has warnings"; exit 1
  fi
  ctest --test-dir "$dir" --output-on-failure -j "$jobs"
}

mkdir -p build
# A tiny generated model for the native encode tests (needs dist/: npm run build:ts).
[ -f dist/index.js ] || npx tsc -p tsconfig.build.json
export EMBEDRT_TEST_MODEL=$(node --input-type=module -e "
  import { generateTestModel } from './dist/index.js';
  import { onnxGraphFor } from './dist/model.js';
  const dir = 'build/test-models/tiny';
  generateTestModel(dir, { shape: 'tiny', pooling: 'mean', tokenizerDir: 'test/fixtures/bge-base-en-v1.5' });
  process.stdout.write(onnxGraphFor(dir, { cacheDir: process.cwd() + '/build/test-models/cache' }));
")
if [[ $which == all || $which == plain ]]; then
  run_suite plain build/native-tests -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
if [[ $which == all || $which == sanitize ]]; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/native/tests/lsan.supp:print_suppressions=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  run_suite "asan+ubsan" build/native-asan -DCMAKE_BUILD_TYPE=Debug -DEMBEDRT_SANITIZE=ON
fi

if [[ $which == all || $which == arm64 ]]; then
  echo "== native kernel tests (linux-arm64, qemu-user) =="
  if ! command -v qemu-aarch64-static >/dev/null; then
    [[ $(id -u) == 0 ]] || { echo "qemu-aarch64-static is missing: apt-get install qemu-user-static (as root)"; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 qemu-user-static
  fi
  node scripts/prebuild-all.mjs --kernel-tests
fi

if [[ $which == all || $which == fuzz ]]; then
  echo "== fuzz (libFuzzer, asan+ubsan) =="
  clang_json=$(node scripts/assemble-ort.mjs --clang)
  clangxx=$(node -e "process.stdout.write(JSON.parse(process.argv[1]).clangxx)" "$clang_json")
  export LD_LIBRARY_PATH="$(node -e "process.stdout.write(JSON.parse(process.argv[1]).libPath)" "$clang_json")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  dir=build/native-fuzz
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBEDRT_FUZZ=ON -DEMBEDRT_SANITIZE=ON \
    -DCMAKE_CXX_COMPILER="$clangxx" -DCMAKE_C_COMPILER="${clangxx%++}" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
  cmake --build "$dir" -j "$jobs" --target tokenizer_fuzz sentencepiece_fuzz >"$dir.build.log" 2>&1 || { cat "$dir.build.log"; exit 1; }
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/native/tests/lsan.supp:print_suppressions=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  work=$(mktemp -d)
  cp native/fuzz/corpus/* "$work/"
  "$dir/tokenizer_fuzz" "$work" -max_total_time="${EMBEDRT_FUZZ_SECONDS:-60}" -seed=1 -max_len=4096 \
    -print_final_stats=1 >"$dir.run.log" 2>&1 || { tail -60 "$dir.run.log"; rm -rf "$work"; exit 1; }
  grep -E "stat::number_of_executed_units|Done" "$dir.run.log" | sed 's/^/  /'
  rm -rf "$work"
  # The SentencePiece pipeline, from seeds holding the generated Unigram tokenizer's real charsmap.
  work=$(mktemp -d)
  node scripts/sentencepiece-fuzz-seeds.mjs "$work"
  "$dir/sentencepiece_fuzz" "$work" -max_total_time="${EMBEDRT_SP_FUZZ_SECONDS:-40}" -seed=1 -max_len=400000 \
    -print_final_stats=1 >"$dir.sp.log" 2>&1 || { tail -60 "$dir.sp.log"; rm -rf "$work"; exit 1; }
  grep -E "stat::number_of_executed_units|Done" "$dir.sp.log" | sed 's/^/  sentencepiece: /'
  rm -rf "$work"
fi
