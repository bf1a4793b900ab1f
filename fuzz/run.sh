#!/usr/bin/env bash
# Runs each fuzz target in turn (never in parallel) for SECS seconds (default 600),
# with the binaries `cargo fuzz build -a -s none` made. Crashes are saved under
# fuzz/artifacts/<target>/ and the run goes on; logs go to fuzz/logs/<target>.log.
#   RUSTC_BOOTSTRAP=1 cargo fuzz build -a -s none   # first
#   fuzz/seed.sh && fuzz/run.sh [SECS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(policy fmt_roundtrip evaluate change inventory)
bin=target/x86_64-unknown-linux-gnu/release
mkdir -p logs
for t in "${targets[@]}"; do
  mkdir -p "artifacts/$t" "corpus/$t"
  echo "=== $t for ${secs}s, started $(date -u +%FT%TZ)"
  "$bin/$t" "corpus/$t" -artifact_prefix="artifacts/$t/" \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -print_final_stats=1 \
    > "logs/$t.log" 2>&1
  echo "=== $t done $(date -u +%FT%TZ): $(grep -E '^#[0-9]+' "logs/$t.log" | tail -1)"
  echo "    artifacts: $(ls "artifacts/$t" | wc -l)"
done
