#!/usr/bin/env bash
# The GPU check: embedrt's CUDA variant on a GPU machine without network (scripts/gpu/README.md).
#
#   bash scripts/gpu/cuda-check.sh stage             unpacks the parts carried to build/gpu/ (kept
#                                                    between calls: build/ is ignored); says whether a
#                                                    node is there or must be carried (build/gpu/node)
#   bash scripts/gpu/cuda-check.sh run [flags]       stages what was carried, then runs
#                                                    scripts/gpu/cuda-check.mjs [flags]
#
# Parts are read from $EMBEDRT_GPU_DIR (default build/gpu); results go to $OUT (the device tool's output
# folder), else $EMBEDRT_GPU_DIR/out.
set -euo pipefail
cd "$(dirname "$0")/../.."
G="${EMBEDRT_GPU_DIR:-build/gpu}"  # what scripts/gpu/pack.mjs wrote (its --out)
U="$G/unpacked"
mkdir -p "$U"
OUT="${OUT:-$G/out}"
mkdir -p "$OUT"

unxz_to() { # file.xz → stdout
  if command -v xz > /dev/null; then xz -dc "$1"; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; fi
}

# Each archive once: a part carried again unchanged (its checksum in $U/.staged-*) is not unpacked again.
stage() {
  local f stamp sum
  for f in "$G"/part*/*.tar.xz "$G/node/node.xz"; do
    [ -f "$f" ] || continue
    stamp="$U/.staged-$(basename "$f")"
    sum=$(cksum < "$f")
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && continue
    case "$f" in
      *.tar.xz) unxz_to "$f" | tar -C "$U" -xf - ;;
      *) unxz_to "$f" > "$U/node" && chmod +x "$U/node" ;;
    esac
    echo "$sum" > "$stamp"
    echo "staged $f"
  done
}

# A Node of version 20 or later: the machine's, else the one carried.
find_node() {
  local n
  for n in node "$(cd "$U" && pwd)/node"; do
    if command -v "$n" > /dev/null 2>&1 && "$n" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2> /dev/null; then
      command -v "$n"
      return 0
    fi
  done
  return 1
}

# CUDA 13 and cuDNN 9 from a Python environment's site-packages/nvidia/ (pip's nvidia-* packages, as
# torch installs them): every folder there holding a shared library.
nvidia_libs() {
  python3 - << 'EOF' 2> /dev/null || true
import glob, os, site, sys
roots = set(site.getsitepackages() + [site.getusersitepackages()] + [p for p in sys.path if p.endswith('site-packages')])
dirs = set()
for r in roots:
    for f in glob.glob(os.path.join(r, 'nvidia', '**', 'lib*.so*'), recursive=True):
        dirs.add(os.path.dirname(f))
print(':'.join(sorted(dirs)))
EOF
}

cmd="${1:-}"
shift || true
case "$cmd" in
  stage)
    stage
    if n=$(find_node); then echo "node: $n ($("$n" --version))"; else echo "node: none here; carry build/gpu/node too"; fi
    ;;
  run)
    stage
    n=$(find_node) || { echo "cuda-check: no Node 20+ here: carry build/gpu/node (see scripts/gpu/README.md)" >&2; exit 3; }
    [ -f "$U/variant/embedrt.node" ] || { echo "cuda-check: $U/variant/embedrt.node is missing: carry build/gpu/part2" >&2; exit 3; }
    libs=$(nvidia_libs)
    v="$(cd "$U/variant" && pwd)"
    export LD_LIBRARY_PATH="$v${libs:+:$libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export EMBEDRT_ADDON_PATH="$v/embedrt.node"
    { echo "node: $n $("$n" --version)"; echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"; command -v nvidia-smi > /dev/null && nvidia-smi -L || echo "nvidia-smi: none"; } | tee "$OUT/environment.txt"
    "$n" scripts/gpu/cuda-check.mjs --root "$U" --out "$OUT" "$@"
    ;;
  *)
    echo "usage: bash scripts/gpu/cuda-check.sh stage | run [--device cuda|cpu] [--quick]" >&2
    exit 2
    ;;
esac
