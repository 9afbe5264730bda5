#!/usr/bin/env bash
# Regenerates native/core/unicode_legacy.inc: the general categories of Unicode 8.0, which Hugging Face
# tokenizers' BERT normalizer and pre-tokenizer use (through the `unicode_categories` crate, whose
# tables are frozen at Unicode 8.0) for "control", "punctuation" and "non-spacing mark".
# Source: the UCD 8.0 database of unicodedata2 8.0.0 (PyPI), compiled into a dumper. Run by hand.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --no-binary :all: unicodedata2==8.0.0 -d "$work"
tar xzf "$work"/unicodedata2-8.0.0.tar.gz -C "$work"
cc -O1 -w -I "$work/unicodedata2-8.0.0/unicodedata2" "$here/dump_categories.c" -o "$work/dump"
"$work/dump" > "$work/categories.txt"
python3 "$here/ranges.py" "$work/categories.txt" > "$here/../../native/core/unicode_legacy.inc"
echo "wrote native/core/unicode_legacy.inc"
