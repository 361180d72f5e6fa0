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
# Redis server at REDIS_URL: our 2 gunicorn workers hand changes to each other through it.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
HARNESS="${HARNESS:-$(cd "$REPO/../shared/bench" 2>/dev/null && pwd || echo /work/shared/bench)}"
SCRATCH="${SCRATCH:-${TMPDIR:-/tmp}/pod-bench}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="${OUT:-$SCRATCH/results/notifications-$STAMP}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
OURS_PYTHON="${OURS_PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}"
SERVERS="${SERVERS:-ours,css-file,css-mem}"

if [[ "$SERVERS" == *css* ]] && [ ! -d "$SCRATCH/css/node_modules/@solid/community-server" ]; then
  echo "harness not set up: run $HARNESS/setup.sh first" >&2
  exit 1
fi
if [[ "$SERVERS" == *ours* ]] && ! "$OURS_PYTHON" -c 'import redis, sys; redis.Redis.from_url(sys.argv[1]).ping()' "$REDIS_URL" 2>/dev/null; then
  echo "no Redis answering at $REDIS_URL (our workers need it to reach each other's sockets)" >&2
  exit 1
fi
"$OURS_PYTHON" -c 'import websockets.asyncio.client' 2>/dev/null \
  || { echo "websockets >= 13 missing: pip install -e '$REPO[bench]'" >&2; exit 1; }

# Our server runs from a snapshot of the working tree (as in run.sh), removed at the end.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/pod-bench-ours-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export OURS_SRC="$WORK/src" OURS_PYTHON
mkdir -p "$OURS_SRC" "$OUT"
cp -r "$REPO/pod_server" "$REPO/wsgi.py" "$OURS_SRC/"
find "$OURS_SRC" -name __pycache__ -prune -exec rm -rf {} +
"$OURS_PYTHON" -m compileall -q "$OURS_SRC" >/dev/null

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "command: REPS=${REPS:-2} N=${N:-300} SUBSCRIBERS=${SUBSCRIBERS:-1000} M=${M:-20} SPACING=${SPACING:-0.5} SERVERS=$SERVERS bench/run_notifications.sh"
  echo "nproc: $(nproc)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "pod-server: commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?') plus uncommitted changes;" \
       "snapshot sha256 $(cd "$OURS_SRC" && find . -name '*.py' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
  echo "python: $("$OURS_PYTHON" --version 2>&1)  websockets: $("$OURS_PYTHON" -c 'import websockets; print(websockets.__version__)')"
  echo "CSS: $(cd "$SCRATCH/css" 2>/dev/null && node -e 'console.log(require("@solid/community-server/package.json").version)' 2>/dev/null || echo -)"
} > "$OUT/machine.txt"

"$OURS_PYTHON" "$HERE/notifications.py" --servers "$SERVERS" --reps "${REPS:-2}" -n "${N:-300}" \
  --subscribers "${SUBSCRIBERS:-1000}" -m "${M:-20}" --spacing "${SPACING:-0.5}" \
  --redis-url "$REDIS_URL" --scratch "$SCRATCH" --harness "$HARNESS" --out "$OUT"
