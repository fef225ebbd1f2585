#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), one after the other.
#
#   fuzz/run-all.sh [SECONDS] [--keep]
#
# Each run starts from the committed corpus in fuzz/corpus/<target>/; what it finds goes to
# fuzz/work/<target>/ (git-ignored), its log to fuzz/work/<target>.log, crashes to
# fuzz/artifacts/<target>/. With --keep, the findings are merged into fuzz/corpus/<target>/,
# minimized (cargo fuzz cmin) and capped at the 300 inputs covering the most edges
# (shrink-corpus.py), ready to commit. Needs the nightly toolchain
# and cargo-fuzz (see docs/fuzzing.md). Exits non-zero if any target failed.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-60}"
keep="${2:-}"
targets=(tenant_yaml form_decoder json_decoder policy_check)
# No sanitizer: the workspace forbids unsafe code, and QuickJS's C is not instrumented by
# cargo-fuzz anyway; debug assertions and overflow checks stay on. A policy input whose
# script loops at top level legitimately takes about a second (the sandbox's one-off
# budget), hence the 10 s timeout.
flags=(-s none)
libfuzzer=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)

cargo +nightly fuzz build "${flags[@]}"
failed=()
mkdir -p work
for target in "${targets[@]}"; do
    mkdir -p "work/$target"
    echo "== $target: ${seconds}s"
    if cargo +nightly fuzz run "${flags[@]}" "$target" "work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" "${libfuzzer[@]}" > "work/$target.log" 2>&1; then
        grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|Done)' \
            "work/$target.log" || true
    else
        grep -E 'panicked|SUMMARY|Test unit written|ERROR' "work/$target.log" || true
        failed+=("$target")
        continue
    fi
    if [ "$keep" = "--keep" ]; then
        find "work/$target" -type f -exec cp -t "corpus/$target" {} +
        cargo +nightly fuzz cmin "${flags[@]}" "$target" "corpus/$target" -- -timeout=10 \
            > "work/$target.cmin.log" 2>&1
        ./shrink-corpus.py "$target" 300
    fi
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "FAILED: ${failed[*]} (reproducers in fuzz/artifacts/; logs in fuzz/work/)" >&2
    exit 1
fi
echo "all targets ran ${seconds}s without a failure"
