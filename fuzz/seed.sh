#!/usr/bin/env bash
# Builds the seed corpora under fuzz/corpus/ (not committed) from policies/,
# tests/cases/ and fuzz/seeds/.
set -euo pipefail
cd "$(dirname "$0")"
root=..
mkdir -p corpus/{policy,fmt_roundtrip,change,inventory,evaluate}
n=0
for f in "$root"/policies/*.gate "$root"/policies/shared/*.gate "$root"/tests/cases/*/policy.gate seeds/*.gate; do
  n=$((n + 1))
  cp "$f" "corpus/policy/seed-$n"
  cp "$f" "corpus/fmt_roundtrip/seed-$n"
done
# Documents: one byte picks the format (0 JSON, 1 YAML, 2 TOML), then the text.
doc() { # format-byte file target name
  { printf "\\x$1"; cat "$2"; } > "corpus/$3/$4"
}
n=0
for f in "$root"/tests/cases/*/change.json "$root"/policies/changes/*.json; do
  n=$((n + 1))
  doc 00 "$f" change "seed-$n"
  # evaluate: 8 bytes of instant, a policy byte, an inventory byte, a flags byte
  # (0: JSON change, fixed inventory), a limits byte (0: defaults), then the text.
  { printf '\x00\x00\x00\x00\x00\x00\x00\x00'; printf "\\x0$((n % 7))\\x0$((n % 3))\\x00\\x00"; cat "$f"; } \
    > "corpus/evaluate/seed-$n"
done
for f in "$root"/policies/changes/*.yaml; do
  n=$((n + 1))
  # A YAML change (flags bit 0) with a YAML inventory after a NUL (bits 1 and 2).
  { printf '\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07\x00'; cat "$f"; printf '\x00';
    cat "$root"/policies/*.inventory.yaml 2>/dev/null | head -c 100000 || true; } > "corpus/evaluate/seed-$n"
done
for f in "$root"/policies/changes/*.yaml; do
  n=$((n + 1)); doc 01 "$f" change "seed-$n"
done
n=0
for f in "$root"/tests/cases/*/inventory.json "$root"/policies/*.json; do
  n=$((n + 1)); doc 00 "$f" inventory "seed-$n"
done
for f in "$root"/policies/*.inventory.yaml seeds/*.yaml seeds/*.toml; do
  [ -e "$f" ] || continue
  n=$((n + 1))
  case "$f" in *.yaml) doc 01 "$f" inventory "seed-$n" ;; *) doc 02 "$f" inventory "seed-$n" ;; esac
done
ls corpus | while read -r t; do echo "$t: $(ls corpus/$t | wc -l) seeds"; done
