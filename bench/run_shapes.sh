#!/usr/bin/env bash
# What a shape-constrained container costs a write: PUTs of a contribution document into an
# unconstrained container and into one constrained by the bundled contribution shape, on one live
# server (gunicorn, 2 workers x 8 threads). bench/shapes.py does the work; its docstring says what
# is measured. The anchor: the same PUTs into CSS 7 (memory and file), in the same run, when the
# shared harness has installed it (../shared/bench/setup.sh); CSS has no shape support, so its PUTs
# are unvalidated.
#
#   bench/run_shapes.sh                      # N=1000 PUTs per container per round, ROUNDS=5
#   N=200 ROUNDS=2 bench/run_shapes.sh       # a quick look, under a minute
#
# Env: N (1000) ROUNDS (5) THREADS (8) PORT (3907) OUT (results folder)
#      CSS (css-mem,css-file when installed; empty: ours only)
#      SCRATCH ($TMPDIR/pod-bench) OURS_PYTHON (interpreter with pod-server's dependencies).
set -euo pipefail
source "$(dirname "$0")/common.sh"
OUT="${OUT:-$SCRATCH/results/shapes-$STAMP}"

"$OURS_PYTHON" -c 'import pyshacl, rdflib, requests' 2>/dev/null \
  || { echo "pyshacl, rdflib or requests missing: pip install -e '$REPO'" >&2; exit 1; }

# Our server runs from a snapshot of the working tree (bench/common.sh), removed at the end.
snapshot_ours
mkdir -p "$OUT" "$SCRATCH"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "command: N=${N:-1000} ROUNDS=${ROUNDS:-5} THREADS=${THREADS:-8} bench/run_shapes.sh"
  echo "nproc: $(nproc)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  snapshot_line
  echo "python: $("$OURS_PYTHON" --version 2>&1)  pyshacl: $("$OURS_PYTHON" -c 'import pyshacl; print(pyshacl.__version__)')" \
       " rdflib: $("$OURS_PYTHON" -c 'import rdflib; print(rdflib.__version__)')"
} > "$OUT/machine.txt"

if [ -z "${CSS+x}" ]; then
  CSS=""
  [ -d "$SCRATCH/css/node_modules/@solid/community-server" ] && CSS="css-mem,css-file"
fi
"$OURS_PYTHON" "$HERE/shapes.py" -n "${N:-1000}" --rounds "${ROUNDS:-5}" --threads "${THREADS:-8}" \
  --port "${PORT:-3907}" --scratch "$SCRATCH" --out "$OUT" --css "$CSS" --harness "$HARNESS"
