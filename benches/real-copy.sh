#!/usr/bin/env bash
# Rows/s of `cnosdb-migrate copy` (chunked, pipelined, verified) against the same tables moved
# by hand (one COPY INTO export and one import per table, back to back), on the real servers of
# ../shared/cnosdb: a 2.3.5.4 source and the newest 2.4.x, twice (one per method), each with
# the source's meta restored by the tool.
#
#   benches/real-copy.sh [--rows-per-table N] [--tables T] [--days D] [--parallel P]
#                        [--chunk-rows R]   (passed to the copy: chunks counted, split, merged)
#                        [--vnode-duration 1d]   (the source database's buckets; 365d is the
#                                   default of CREATE DATABASE)
#                        [--pin]   (the source server on CPU 0, the 2.4 servers on CPU 1, as if on
#                                   hosts of their own; needs taskset and 2 CPUs)
#
# Needs xz, curl, python3 and a built `target/debug/cnosdb-migrate` (cargo build). Prints a
# Markdown table; the servers run in a temporary directory and are stopped by PID.
set -euo pipefail
ROWS=250000 TABLES=4 DAYS=8 PARALLEL=2 CHUNK_ROWS= PIN= VNODE=1d
while [ $# -gt 0 ]; do
  case $1 in
    --rows-per-table) ROWS=$2; shift 2 ;;
    --tables) TABLES=$2; shift 2 ;;
    --days) DAYS=$2; shift 2 ;;
    --parallel) PARALLEL=$2; shift 2 ;;
    --chunk-rows) CHUNK_ROWS=$2; shift 2 ;;
    --pin) PIN=1; shift ;;
    --vnode-duration) VNODE=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
HERE=$(cd "$(dirname "$0")/.." && pwd)
SERVERS=${CNOSDB_SERVERS:-$HERE/../shared/cnosdb}
TOOL=$HERE/target/debug/cnosdb-migrate
NEW=$(ls "$SERVERS" | grep '^2\.4\.' | sort -t. -k1,1n -k2,2n -k3,3n -k4,4n | tail -1)
WORK=$(mktemp -d /tmp/real-copy-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 2; rm -rf "$WORK"; }
trap cleanup EXIT

xz -dc "$SERVERS/2.3.5.4/cnosdb.xz" > "$WORK/old-bin"; xz -dc "$SERVERS/$NEW/cnosdb.xz" > "$WORK/new-bin"
chmod +x "$WORK/old-bin" "$WORK/new-bin"
free_base() { python3 -c 'import socket,random
while True:
  b=random.randrange(20000,60000,10); ok=True
  for p in range(b,b+6):
    s=socket.socket()
    try: s.bind(("127.0.0.1",p))
    except OSError: ok=False
    s.close()
  if ok: print(b); break'; }
# start NAME RELEASE BIN [CPU] -> sets $BASE_<NAME>; with --pin the server runs on CPU only
start() {
  local name=$1 rel=$2 bin=$3 cpu=${4:-} base pin=(); base=$(free_base); mkdir -p "$WORK/$name"
  [ -n "$PIN" ] && [ -n "$cpu" ] && pin=(taskset -c "$cpu")
  sed "s|@RUNDIR@|$WORK/$name|g; s|8901|$base|; s|8902|$((base+1))|; s|8903|$((base+2))|; s|8904|$((base+3))|; s|8905|$((base+4))|; s|8906|$((base+5))|" \
    "$SERVERS/$rel/config.toml" > "$WORK/$name/config.toml"
  (cd "$WORK/$name" && exec "${pin[@]}" "$bin" run --config config.toml -M singleton > server.out 2>&1) &
  PIDS+=($!)
  for _ in $(seq 120); do curl -sf "http://127.0.0.1:$((base+1))/api/v1/ping" >/dev/null && break; sleep 0.5; done
  eval "BASE_$name=$base"
}
sql() { curl -sf -X POST "http://127.0.0.1:$1/api/v1/sql?tenant=cnosdb&db=$2" -u root: -H 'Accept: application/csv' --data-binary "$3"; }

start old 2.3.5.4 "$WORK/old-bin" 0; start base "$NEW" "$WORK/new-bin" 1; start tool "$NEW" "$WORK/new-bin" 1
OLD=$((BASE_old+1))
sql $OLD public "CREATE DATABASE bench WITH PRECISION 'MS' TTL '3650d' VNODE_DURATION '$VNODE'" >/dev/null
now=$(($(date +%s) * 1000)); span=$((DAYS * 86400000)); step=$((span / ROWS))
t0=$(date +%s.%N)
for t in $(seq 1 "$TABLES"); do
  python3 - "$t" "$ROWS" "$now" "$span" "$step" <<'EOF' | while IFS= read -r -d '' batch; do
import sys
t, rows, now, span, step = map(int, sys.argv[1:])
out = []
for i in range(rows):
    out.append(f"m{t},host=h{i % 16} v={i % 1000}.25,n={i}i {now - span + i * step}")
    if len(out) == 20000:
        sys.stdout.write("\n".join(out) + "\0"); out = []
if out:
    sys.stdout.write("\n".join(out) + "\0")
EOF
    printf '%s' "$batch" | curl -sf -X POST "http://127.0.0.1:$OLD/api/v1/write?tenant=cnosdb&db=bench&precision=ms" -u root: --data-binary @- >/dev/null
  done
done
echo "wrote $((ROWS * TABLES)) rows in $(echo "$(date +%s.%N) - $t0" | bc) s" >&2
sleep 3
"$TOOL" fetch -q "http://127.0.0.1:$BASE_old/debug" -o "$WORK/dump.txt"
for n in base tool; do
  b=$(eval echo "\$BASE_$n")
  "$TOOL" fetch -q "http://127.0.0.1:$b" -o "$WORK/fresh-$n.txt"
  "$TOOL" transform -q --target-from "$WORK/fresh-$n.txt" "$WORK/dump.txt" -o "$WORK/ready-$n.txt"
  "$TOOL" restore -q "http://127.0.0.1:$b" "$WORK/ready-$n.txt" --target "$(echo "$NEW" | cut -d. -f1-3)" >/dev/null
done
sleep 2
BASE=$((BASE_base+1)) DST=$((BASE_tool+1))

# Baseline: one export and one import per table, back to back.
t0=$(date +%s.%N)
for t in $(seq 1 "$TABLES"); do
  sql $OLD bench "COPY INTO 'file://$WORK/stage-base/m$t' FROM \"m$t\" FILE_FORMAT = (TYPE = 'PARQUET')" >/dev/null
  sql $BASE bench "COPY INTO \"m$t\" FROM 'file://$WORK/stage-base/m$t/' FILE_FORMAT = (TYPE = 'PARQUET')" >/dev/null
done
base_s=$(echo "$(date +%s.%N) - $t0" | bc)

t0=$(date +%s.%N)
PW= "$TOOL" copy -q "$WORK/dump.txt" --from "http://127.0.0.1:$OLD" --to "http://127.0.0.1:$DST" \
  --dir "file://$WORK/stage-tool" --password-env PW --parallel "$PARALLEL" \
  --state "$WORK/ledger.jsonl" --report "$WORK/report.jsonl" ${CHUNK_ROWS:+--chunk-rows "$CHUNK_ROWS"} >/dev/null
tool_s=$(echo "$(date +%s.%N) - $t0" | bc)
inside=$(python3 -c 'import json,sys
print(sum(c["seconds"] for l in open(sys.argv[1]) for c in json.loads(l)["chunks"]))' "$WORK/report.jsonl")
chunks=$(grep -c '"step":"verified"' "$WORK/ledger.jsonl")
for p in $BASE $DST; do
  [ "$(sql $p bench "SELECT count(*) FROM m1" | tail -1)" = "$ROWS" ] || { echo "port $p: m1 does not hold $ROWS rows" >&2; exit 1; }
done
total=$((ROWS * TABLES))
printf '| method | rows | seconds | rows/s |\n|---|---:|---:|---:|\n'
printf '| by hand: %s × (export; import) | %d | %.1f | %.0f |\n' "$TABLES" $total "$base_s" "$(echo "$total / $base_s" | bc -l)"
printf '| copy --parallel %s%s (%s chunks, verified) | %d | %.1f | %.0f |\n' "$PARALLEL" "${CHUNK_ROWS:+ --chunk-rows $CHUNK_ROWS}" "$chunks" $total "$tool_s" "$(echo "$total / $tool_s" | bc -l)"
printf '\nchunk time summed over workers: %.1f s; wall %.1f s\n' "$inside" "$tool_s"
