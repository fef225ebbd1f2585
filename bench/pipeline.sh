#!/usr/bin/env bash
# Pipeline benchmark (docs/benchmarks.md, "Pipeline (bench/pipeline.sh)"): for each back end,
# a real deployment (testbed: migrate, bench/tenants/benchco.yaml, provider simulator without
# plan throttling, SMTP sink, one `passgate serve` with production settings, the 150 ms request
# floor on), RESETS resets for RESETS distinct existing users requested as fast as the API
# accepts them, and the time from each request until its mail is at the sink. The last line
# of each back end's run, and of this script, is:
#   pipeline <backend>: <N> resets, <R> resets/s, p50 <ms> ms, p99 <ms> ms (request accepted → mail at the relay)
#
# Settings (environment): RESETS (5000), BACKENDS ("sqlite postgres"), CONCURRENCY (256
# requests in flight), SKIP_BUILD (set: use the binaries already in $CARGO_TARGET_DIR/release).
# PostgreSQL: PASSGATE_TEST_POSTGRES_URL, or the local server when it answers; each run gets a
# fresh database, dropped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

RESETS=${RESETS:-5000}
BACKENDS=${BACKENDS:-sqlite postgres}
CONCURRENCY=${CONCURRENCY:-256}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release

say() { printf '== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)" >&2; }

if [ -z "${SKIP_BUILD:-}" ]; then
  say "building release binaries"
  cargo build --release -p passgate -p passgate-bench
fi

if [[ " $BACKENDS " == *" postgres "* ]] && [ -z "${PASSGATE_TEST_POSTGRES_URL:-}" ]; then
  if command -v psql >/dev/null 2>&1 && psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
    export PASSGATE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test
  else
    say "PostgreSQL is not reachable: only SQLite runs"
    BACKENDS=${BACKENDS//postgres/}
  fi
fi

work=$(mktemp -d /tmp/passgate-pipeline.XXXXXX)
summary=()
for backend in $BACKENDS; do
  say "$backend: $RESETS resets, $CONCURRENCY at a time"
  out=$work/$backend.out
  "$BIN/passgate-bench" --db "$backend" --label "$backend" --passgate "$BIN/passgate" --workspace . \
    --pipeline-resets "$RESETS" --concurrency "$CONCURRENCY" >"$out" 2>"$work/$backend.log" || {
    cat "$work/$backend.log" >&2
    exit 1
  }
  sed 's/^/   driver: /' "$work/$backend.log" >&2
  cat "$out"
  summary+=("$(tail -n 1 "$out")")
done

say "done (commit $(git rev-parse --short HEAD), load average $(cut -d' ' -f1-3 /proc/loadavg); logs in $work)"
if [ "${#summary[@]}" -gt 1 ]; then
  printf '%s\n' "${summary[@]:0:${#summary[@]}-1}"
fi
[ "${#summary[@]}" -gt 0 ] || exit 1
printf "%s\n" "${summary[-1]}"
