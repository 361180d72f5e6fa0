#!/usr/bin/env bash
# Solid Notifications (WebSocketChannel2023) beside CSS 7: latency of one subscriber and fan-out to
# 1,000 subscribers, servers interleaved (ours, css-file, css-mem) for REPS rounds. bench/notifications.py
# does the work; its docstring says what is measured.
#
#   bench/run_notifications.sh                          # REPS=2, N=300, SUBSCRIBERS=1000, M=20
#   REPS=1 SERVERS=ours bench/run_notifications.sh      # ours alone, about a minute
#
# Env: REPS (2) N (300 latency PUTs) SUBSCRIBERS (1000) M (20 fan-out PUTs) SPACING (0.5 s)
#      SERVERS ("ours,css-file,css-mem") REDIS_URL (redis://127.0.0.1:6379/0) OUT (results folder)
#      HARNESS (../shared/bench) SCRATCH ($TMPDIR/pod-bench) OURS_PYTHON (interpreter with
#      pod-server's dependencies and the bench extra: pip install -e '.[bench]').
# Needs the shared harness set up (CSS 7 under $SCRATCH/css: run $HARNESS/setup.sh once) and a
# Redis server at REDIS_URL, through which our 2 gunicorn workers hand each other changes (as on
# several machines); REDIS_URL= (empty) measures the default instead, the workers' Unix-socket bus.
set -euo pipefail
source "$(dirname "$0")/common.sh"
OUT="${OUT:-$SCRATCH/results/notifications-$STAMP}"
REDIS_URL="${REDIS_URL-redis://127.0.0.1:6379/0}"
SERVERS="${SERVERS:-ours,css-file,css-mem}"

if [[ "$SERVERS" == *css* ]] && [ ! -d "$SCRATCH/css/node_modules/@solid/community-server" ]; then
  echo "harness not set up: run $HARNESS/setup.sh first" >&2
  exit 1
fi
if [[ "$SERVERS" == *ours* ]] && [ -n "$REDIS_URL" ] && ! "$OURS_PYTHON" -c 'import redis, sys; redis.Redis.from_url(sys.argv[1]).ping()' "$REDIS_URL" 2>/dev/null; then
  echo "no Redis answering at $REDIS_URL (or run with REDIS_URL= to use the workers' own bus)" >&2
  exit 1
fi
"$OURS_PYTHON" -c 'import websockets.asyncio.client' 2>/dev/null \
  || { echo "websockets >= 13 missing: pip install -e '$REPO[bench]'" >&2; exit 1; }

# Our server runs from a snapshot of the working tree (bench/common.sh), removed at the end.
snapshot_ours
mkdir -p "$OUT"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "command: REPS=${REPS:-2} N=${N:-300} SUBSCRIBERS=${SUBSCRIBERS:-1000} M=${M:-20} SPACING=${SPACING:-0.5} SERVERS=$SERVERS bench/run_notifications.sh"
  echo "nproc: $(nproc)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  snapshot_line
  echo "python: $("$OURS_PYTHON" --version 2>&1)  websockets: $("$OURS_PYTHON" -c 'import websockets; print(websockets.__version__)')"
  echo "CSS: $(cd "$SCRATCH/css" 2>/dev/null && node -e 'console.log(require("@solid/community-server/package.json").version)' 2>/dev/null || echo -)"
} > "$OUT/machine.txt"

"$OURS_PYTHON" "$HERE/notifications.py" --servers "$SERVERS" --reps "${REPS:-2}" -n "${N:-300}" \
  --subscribers "${SUBSCRIBERS:-1000}" -m "${M:-20}" --spacing "${SPACING:-0.5}" \
  --redis-url "$REDIS_URL" --scratch "$SCRATCH" --harness "$HARNESS" --out "$OUT"
