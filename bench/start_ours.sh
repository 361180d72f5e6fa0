#!/usr/bin/env bash
# Starts pod-server the way the benchmark measures it: gunicorn, 2 workers x 8 threads, single-pod
# mode at http://localhost:3905/, filesystem backend, access log off, a fresh data folder per start.
# The shared harness runs this as OURS_START (no shell, PID kept: gunicorn replaces this script).
#
# Env: PORT (3905), OURS_DATA_ROOT (where the per-start data folders go), OURS_PYTHON (interpreter
#      with pod-server's dependencies; default: the real python3 behind any pyenv shim),
#      OURS_WORKERS (2), OURS_THREADS (8), OURS_SRC (folder holding wsgi.py and pod_server/; default:
#      this repository; run.sh points it at a snapshot). Any POD_SERVER_* variable set by the caller wins.
set -euo pipefail
REPO="${OURS_SRC:-$(cd "$(dirname "$0")/.." && pwd)}"
PORT="${PORT:-3905}"
ROOT="${OURS_DATA_ROOT:-${TMPDIR:-/tmp}/pod-bench/data/ours}"
mkdir -p "$ROOT"
DATA="$(mktemp -d "$ROOT/run-XXXXXX")"
PY="${OURS_PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}"

export POD_SERVER_SINGLE_POD="${POD_SERVER_SINGLE_POD:-1}"
export POD_SERVER_BASE_URL="${POD_SERVER_BASE_URL:-http://localhost:$PORT/}"
export POD_SERVER_DATA_DIR="$DATA"
export POD_SERVER_ACCESS_LOG="${POD_SERVER_ACCESS_LOG:-0}"
export POD_SERVER_LOG_LEVEL="${POD_SERVER_LOG_LEVEL:-WARNING}"

cd "$REPO"
exec "$PY" -m gunicorn -w "${OURS_WORKERS:-2}" -k pod_server.gunicorn.Worker --threads "${OURS_THREADS:-8}" \
  -b "127.0.0.1:$PORT" wsgi:app
