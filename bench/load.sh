#!/usr/bin/env bash
# Load benchmark (docs/benchmarks.md, "Load (bench/load.sh)"): builds release binaries,
# measures a bare poem "hello" server as the framework baseline, then a real Passgate
# deployment on SQLite and on PostgreSQL (when reachable) with wrk on loopback, and writes a
# markdown table to bench/results/<UTC date and time>.md. The hosted page is also measured
# against its own limit: `poem-hello --replay` serving the page's recorded bytes and headers.
#
# Settings (environment): DURATION (10s), CONNECTIONS (64), THREADS (wrk -t, 2),
# PACED_CONNECTIONS (16) and PACED_DELAY_MS (10) for the steady page load of the p99 goal,
# STREAM_CONNECTIONS (4) for the stream of successful completions, SUCCESS_TOKENS (2500),
# HIGH_CONNECTIONS (512; 0 skips the extra request-POST run with many connections),
# BACKENDS ("sqlite postgres"), PERF_SCENARIO (scenario ids, e.g. "page reject": record
# the gateway with `perf record` during it; the data stays in the work directory),
# SKIP_BUILD (set: use the binaries already in $CARGO_TARGET_DIR/release).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PACED_CONNECTIONS=${PACED_CONNECTIONS:-16}
PACED_DELAY_MS=${PACED_DELAY_MS:-10}
STREAM_CONNECTIONS=${STREAM_CONNECTIONS:-4}
SUCCESS_TOKENS=${SUCCESS_TOKENS:-2500}
HIGH_CONNECTIONS=${HIGH_CONNECTIONS:-512}
BACKENDS=${BACKENDS:-sqlite postgres}
PERF_SCENARIO=${PERF_SCENARIO:-}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release
HOST=reset.example.test
REJECTED_PASSWORD="benchco violet harbor 1987"
GOOD_PASSWORD="violet-Harbor-92"

say() { printf '== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk"
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

if [ -z "${SKIP_BUILD:-}" ]; then
  say "building release binaries"
  cargo build --release -p passgate -p passgate-bench -p passgate-bench-baseline
fi

work=$(mktemp -d /tmp/passgate-load.XXXXXX)
rows=()    # table rows, already formatted
notes=()   # lines under the table
driver_pid=""
hello_pid=""
cleanup() {
  [ -n "$hello_pid" ] && kill "$hello_pid" 2>/dev/null || true
  if [ -n "$driver_pid" ]; then
    exec 3>&- 2>/dev/null || true
    kill -TERM "$driver_pid" 2>/dev/null || true
    wait "$driver_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# wrk's "1.23ms" / "850.00us" / "1.02s" in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n = n * 60000; else if (v ~ /s$/) n = n * 1000
    printf "%.2f", n }'
}
field() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }
rps_of() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }
non2xx_of() { awk '/Non-2xx or 3xx responses:/ { print $NF }' "$1"; }

# run_wrk ID CONNECTIONS URL SCRIPT [ENV=VALUE…]: writes $work/ID.txt and returns its path.
run_wrk() {
  local id=$1 conns=$2 url=$3 script=$4
  shift 4
  local out=$work/$id.txt perf_pid=""
  if [ -n "$PERF_SCENARIO" ] && [[ " $PERF_SCENARIO " == *" ${id%%@*} "* ]] && [ -n "${GATEWAY_PID:-}" ]; then
    perf record -F 199 --call-graph "${PERF_CALLGRAPH:-dwarf,16384}" -p "$GATEWAY_PID" -o "$work/perf-${id/@/-}.data" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  env THREADS="$THREADS" "$@" wrk -t "$THREADS" -c "$conns" -d "$DURATION" --latency \
    -s "bench/wrk/$script" "$url" >"$out" 2>&1
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" && wait "$perf_pid" || true
    say "perf data: $work/perf-${id/@/-}.data"
  fi
  echo "$out"
}

baseline_rps=""
# row SCENARIO BACKEND FILE GOAL_RATIO (fraction of the baseline or "-")
row() {
  local scenario=$1 backend=$2 file=$3 goal=$4
  local rps p50 p99 ratio met goal_text non2xx
  rps=$(rps_of "$file")
  p50=$(to_ms "$(field "$file" 50%)")
  p99=$(to_ms "$(field "$file" 99%)")
  ratio=$(awk -v a="$rps" -v b="$baseline_rps" 'BEGIN { printf "%.1f %%", 100 * a / b }')
  if [ "$goal" = "-" ]; then
    goal_text="—"; met="—"
  else
    goal_text="≥ $(awk -v g="$goal" 'BEGIN { printf "%d %%", g * 100 }')"
    met=$(awk -v a="$rps" -v b="$baseline_rps" -v g="$goal" 'BEGIN { print (a >= g * b) ? "yes" : "**no**" }')
  fi
  rows+=("| $scenario | $backend | $rps | $p50 | $p99 | $ratio | $goal_text | $met |")
  non2xx=$(non2xx_of "$file")
  [ -n "$non2xx" ] && notes+=("- $scenario ($backend): $non2xx answers were not 2xx/3xx.")
  printf '%-48s %-10s %8s req/s  p50 %7s ms  p99 %7s ms  %s\n' "$scenario" "$backend" "$rps" "$p50" "$p99" "$ratio" >&2
}

# limit_row SCENARIO BACKEND FILE LIMIT_FILE GOAL: FILE's req/s as a fraction of LIMIT_FILE's.
limit_row() {
  local scenario=$1 backend=$2 file=$3 limit=$4 goal=$5
  local rps limit_rps ratio met
  rps=$(rps_of "$file")
  limit_rps=$(rps_of "$limit")
  ratio=$(awk -v a="$rps" -v b="$limit_rps" 'BEGIN { printf "%.1f %%", 100 * a / b }')
  met=$(awk -v a="$rps" -v b="$limit_rps" -v g="$goal" 'BEGIN { print (a >= g * b) ? "yes" : "**no**" }')
  rows+=("| $scenario | $backend | $rps / $limit_rps | — | — | $ratio (of the limit) | ≥ $(awk -v g="$goal" 'BEGIN { printf "%d %%", g * 100 }') | $met |")
  printf '%-48s %-10s %8s / %s req/s  %s of the limit\n' "$scenario" "$backend" "$rps" "$limit_rps" "$ratio" >&2
}

say "baseline: poem hello"
"$BIN/poem-hello" >"$work/hello.out" 2>&1 &
hello_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$work/hello.out" && break; sleep 0.1; done
hello_addr=$(awk '/listening on/ { print $NF }' "$work/hello.out")
file=$(run_wrk baseline "$CONNECTIONS" "http://$hello_addr/" get.lua)
baseline_rps=$(rps_of "$file")
row "baseline: poem \"hello\" (GET /)" "—" "$file" -
kill "$hello_pid"; wait "$hello_pid" 2>/dev/null || true; hello_pid=""

if [[ " $BACKENDS " == *" postgres "* ]] && [ -z "${PASSGATE_TEST_POSTGRES_URL:-}" ]; then
  if command -v psql >/dev/null 2>&1 && psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
    export PASSGATE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test
  else
    notes+=("- PostgreSQL was not reachable: only SQLite ran.")
    BACKENDS=${BACKENDS//postgres/}
  fi
fi

for backend in $BACKENDS; do
  say "$backend: starting the deployment and minting tokens"
  dir=$work/$backend
  mkdir -p "$dir"
  mkfifo "$dir/stdin"
  "$BIN/passgate-bench" --db "$backend" --passgate "$BIN/passgate" --workspace . \
    --success-tokens "$SUCCESS_TOKENS" --out "$dir" <"$dir/stdin" >"$dir/driver.out" 2>"$dir/driver.log" &
  driver_pid=$!
  exec 3>"$dir/stdin"   # the driver runs until this closes
  until grep -q '^ready' "$dir/driver.out" 2>/dev/null; do
    if ! kill -0 "$driver_pid" 2>/dev/null; then cat "$dir/driver.log" >&2; exit 1; fi
    sleep 1
  done
  # shellcheck source=/dev/null
  source "$dir/gateway.env"
  export GATEWAY_PID CLIENT_ID
  sed 's/^/   driver: /' "$dir/driver.log" >&2

  # The page's limit: poem serving this page's own bytes and headers, recorded once.
  curl -sS -i -H "Host: $HOST" "$GATEWAY/reset?client_id=$CLIENT_ID" >"$dir/page.http"
  "$BIN/poem-hello" --replay "$dir/page.http" >"$dir/replay.out" 2>&1 &
  hello_pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$dir/replay.out" && break; sleep 0.1; done
  replay_addr=$(awk '/listening on/ { print $NF }' "$dir/replay.out")
  limit_file=$(run_wrk "page-limit@$backend" "$CONNECTIONS" "http://$replay_addr/reset?client_id=$CLIENT_ID" get.lua)
  kill "$hello_pid"; wait "$hello_pid" 2>/dev/null || true; hello_pid=""
  row "limit: poem serving the page's bytes and headers" "$backend" "$limit_file" -
  file=$(run_wrk "page@$backend" "$CONNECTIONS" "$GATEWAY/reset?client_id=$CLIENT_ID" get.lua)
  row "hosted page GET" "$backend" "$file" -
  limit_row "hosted page GET ÷ its limit" "$backend" "$file" "$limit_file" 0.70
  file=$(run_wrk "policy@$backend" "$CONNECTIONS" "$GATEWAY/v1/apps/$CLIENT_ID/password-policy" get.lua)
  row "policy JSON GET" "$backend" "$file" -
  file=$(run_wrk "reject@$backend" "$CONNECTIONS" "$GATEWAY/" complete.lua \
    TOKENS_FILE="$dir/tokens-reject.txt" PASSWORD="$REJECTED_PASSWORD")
  row "completion POST, JS rule refuses (token kept)" "$backend" "$file" -
  counts=$(grep '^completions:' "$file" || true)
  notes+=("- completion POST, JS rule refuses ($backend): $counts (422 \`password-policy\` is the expected answer).")

  # The p99 goal: a steady page load, idle, then with a stream of successful completions.
  file=$(run_wrk "paced@$backend" "$PACED_CONNECTIONS" "$GATEWAY/reset?client_id=$CLIENT_ID" get.lua \
    DELAY_MS="$PACED_DELAY_MS")
  row "page GET, steady ($PACED_CONNECTIONS conn. × ${PACED_DELAY_MS} ms pause), idle" "$backend" "$file" -
  idle_p99=$(to_ms "$(field "$file" 99%)")
  stream_out=$work/stream@$backend.txt
  stream_secs=$(( ${DURATION%s} + 4 ))
  env THREADS="$THREADS" TOKENS_FILE="$dir/tokens-success.txt" PASSWORD="$GOOD_PASSWORD" ONE_USE=1 \
    wrk -t "$THREADS" -c "$STREAM_CONNECTIONS" -d "${stream_secs}s" --latency -s bench/wrk/complete.lua \
    "$GATEWAY/" >"$stream_out" 2>&1 &
  stream_pid=$!
  sleep 2
  file=$(run_wrk "paced-busy@$backend" "$PACED_CONNECTIONS" "$GATEWAY/reset?client_id=$CLIENT_ID" get.lua \
    DELAY_MS="$PACED_DELAY_MS")
  wait "$stream_pid" || true
  row "page GET, steady, during completion stream" "$backend" "$file" -
  busy_p99=$(to_ms "$(field "$file" 99%)")
  counts=$(grep '^completions:' "$stream_out" || true)
  ok=$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' <<<"$counts")
  ok_rate=$(awk -v n="${ok:-0}" -v s="$stream_secs" 'BEGIN { printf "%.0f", n / s }')
  rows+=("| completion POST, successful (argon2), $STREAM_CONNECTIONS conn., one-use tokens | $backend | $ok_rate ok/s | — | — | — | — | — |")
  exhausted=$(sed -n 's/.*exhausted=\([0-9]*\).*/\1/p' <<<"$counts")
  hint=""
  if [ "${exhausted:-0}" -gt 0 ]; then
    hint=" (the one-use tokens ran out: raise SUCCESS_TOKENS)"
  fi
  notes+=("- successful completions ($backend, one-use tokens, ${stream_secs}s): $counts$hint.")
  p99_ratio=$(awk -v a="$busy_p99" -v b="$idle_p99" 'BEGIN { printf "%.2f", a / b }')
  p99_met=$(awk -v r="$p99_ratio" 'BEGIN { print (r <= 1.2) ? "yes" : "**no**" }')
  rows+=("| page p99 during the stream ÷ idle p99 | $backend | — | — | $busy_p99 / $idle_p99 | ×$p99_ratio | ≤ ×1.20 | $p99_met |")

  file=$(run_wrk "request@$backend" "$CONNECTIONS" "$GATEWAY/" request.lua CLIENT_ID="$CLIENT_ID")
  row "reset request POST (150 ms floor)" "$backend" "$file" 0.25
  if [ "$HIGH_CONNECTIONS" -gt 0 ]; then
    sleep 5   # let the job worker catch up a little
    file=$(run_wrk "request-high@$backend" "$HIGH_CONNECTIONS" "$GATEWAY/" request.lua CLIENT_ID="$CLIENT_ID")
    row "reset request POST, $HIGH_CONNECTIONS conn." "$backend" "$file" -
  fi

  exec 3>&-
  wait "$driver_pid" || true
  driver_pid=""
done

stamp=$(date -u +%Y-%m-%dT%H%MZ)
result=bench/results/$stamp.md
mkdir -p bench/results
{
  echo "# Load benchmark, $stamp"
  echo
  echo "Command: \`DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS PACED_CONNECTIONS=$PACED_CONNECTIONS PACED_DELAY_MS=$PACED_DELAY_MS STREAM_CONNECTIONS=$STREAM_CONNECTIONS HIGH_CONNECTIONS=$HIGH_CONNECTIONS bench/load.sh\`"
  echo "(commit $(git rev-parse --short HEAD)). Machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo),"
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). wrk $THREADS threads on the same machine, loopback."
  echo
  echo "| scenario | back end | req/s | p50 ms | p99 ms | of baseline | goal | met? |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  printf '%s\n' "${notes[@]}"
} >"$result"
cat "$result"
say "written $result (raw wrk output in $work)"
