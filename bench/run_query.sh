#!/usr/bin/env bash
# The SPARQL endpoint against client-side querying (fetch every document, query with rdflib) over
# one pod of 100,000 triples in 1,000 documents. bench/query.py does the work; its docstring says
# what is measured. Ours only: no other Solid server has a SPARQL endpoint to compare with.
#
#   bench/run_query.sh                        # provider mode, 200 runs per query, 3 client-side runs
#   MODE=open RUNS=50 CLIENT_RUNS=1 bench/run_query.sh   # a quick look, about 2 minutes
#
# Env: MODE (provider | open) RUNS (200) CLIENT_RUNS (3) THREADS (8) OUT (results folder)
#      HARNESS (../shared/bench: its solid_auth.py signs the owner's DPoP proofs in provider mode)
#      SCRATCH ($TMPDIR/pod-bench) OURS_PYTHON (interpreter with pod-server's dependencies).
# The engine comparison behind decision 0008 is bench/query_engines.py (no server needed).
set -euo pipefail
source "$(dirname "$0")/common.sh"
OUT="${OUT:-$SCRATCH/results/query-$STAMP}"
MODE="${MODE:-provider}"

"$OURS_PYTHON" -c 'import pyoxigraph, rdflib' 2>/dev/null \
  || { echo "pyoxigraph or rdflib missing: pip install -e '$REPO'" >&2; exit 1; }
if [ "$MODE" = provider ] && ! "$OURS_PYTHON" -c "import sys; sys.path.insert(0, '$HARNESS'); import solid_auth" 2>/dev/null; then
  echo "provider mode needs the shared harness's solid_auth.py at $HARNESS (and cryptography), or MODE=open" >&2
  exit 1
fi

# Our server runs from a snapshot of the working tree (bench/common.sh), removed at the end.
snapshot_ours
mkdir -p "$OUT"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "command: MODE=$MODE RUNS=${RUNS:-200} CLIENT_RUNS=${CLIENT_RUNS:-3} THREADS=${THREADS:-8} bench/run_query.sh"
  echo "nproc: $(nproc)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  snapshot_line
  echo "python: $("$OURS_PYTHON" --version 2>&1)  pyoxigraph: $("$OURS_PYTHON" -c 'import pyoxigraph; print(pyoxigraph.__version__)')" \
       " rdflib: $("$OURS_PYTHON" -c 'import rdflib; print(rdflib.__version__)')"
} > "$OUT/machine.txt"

"$OURS_PYTHON" "$HERE/query.py" --mode "$MODE" --runs "${RUNS:-200}" --client-runs "${CLIENT_RUNS:-3}" \
  --threads "${THREADS:-8}" --scratch "$SCRATCH" --harness "$HARNESS" --out "$OUT"
