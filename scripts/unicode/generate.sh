#!/usr/bin/env bash
# Regenerates native/core/unicode_legacy.inc: the Unicode data versions that Hugging Face tokenizers'
# BERT pipeline is frozen at, so that embedrt reproduces it on every code point:
#   - general categories of Unicode 8.0 (the `unicode_categories` crate: "control", "punctuation",
#     "non-spacing mark" in BertNormalizer and BertPreTokenizer);
#   - canonical combining classes and canonical decompositions of Unicode 9.0 (the
#     `unicode-normalization-alignments` crate behind NormalizedString::nfd).
# Source: the UCD databases of unicodedata2 8.0.0 and 9.0.0 (PyPI sdists), compiled into a dumper.
# Run by hand; the output is committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for v in 8.0.0 9.0.0; do
  python3 -m pip download --quiet --no-deps --no-binary :all: "unicodedata2==$v" -d "$work"
  tar xzf "$work/unicodedata2-$v.tar.gz" -C "$work"
  cc -O1 -w -I "$work/unicodedata2-$v/unicodedata2" "$here/dump_categories.c" -o "$work/dump-$v"
  "$work/dump-$v" > "$work/ucd-$v.txt"
done
python3 "$here/ranges.py" "$work/ucd-8.0.0.txt" "$work/ucd-9.0.0.txt" > "$here/../../native/core/unicode_legacy.inc"
echo "wrote native/core/unicode_legacy.inc"
