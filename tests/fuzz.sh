#!/usr/bin/env bash
# Runs every libFuzzer target of model/ (tests/fuzz/*_fuzz.cpp) for SECONDS each (default 60)
# from its seed corpus in tests/fuzz/corpus/<target>/, and prints executions and crashes per
# target. Without BUILD_DIR it first builds them with clang++ (ASan + UBSan) into build-fuzz/.
# New inputs go to a scratch directory, never into the repository's corpus; a crashing input is
# kept in the scratch directory and named in the output. Exit 1 when any target crashed.
# Usage: tests/fuzz.sh [SECONDS] [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=${2:-}
if [ -z "$build" ]; then
  build="$root/build-fuzz"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
    -DLEDGERSYNC_FUZZ=ON >/dev/null
  targets=()
  for src in "$root"/tests/fuzz/*_fuzz.cpp; do targets+=(--target "$(basename "$src" .cpp)"); done
  cmake --build "$build" -j "$(nproc)" "${targets[@]}" >/dev/null
fi
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ledgersync-fuzz.XXXXXX")
failed=0
printf '%-12s %12s %8s  %s\n' target executions crashes note
for src in "$root"/tests/fuzz/*_fuzz.cpp; do
  name=$(basename "$src" _fuzz.cpp)
  mkdir -p "$scratch/$name/new"
  set +e
  "$build/${name}_fuzz" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$scratch/$name/" "$scratch/$name/new" \
    "$root/tests/fuzz/corpus/$name" >"$scratch/$name/log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$name/log" | tail -1)
  crashes=$(find "$scratch/$name" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' \
    -o -maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*' | wc -l)
  note=""
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    failed=1
    note="FAILED (exit $rc): see $scratch/$name/log"
  fi
  printf '%-12s %12s %8s  %s\n' "$name" "${execs:-?}" "$crashes" "$note"
done
[ "$failed" -eq 0 ] && rm -rf "$scratch"
exit "$failed"
