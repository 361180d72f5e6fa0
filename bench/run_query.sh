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
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
HARNESS="${HARNESS:-$(cd "$REPO/../shared/bench" 2>/dev/null && pwd || echo /work/shared/bench)}"
SCRATCH="${SCRATCH:-${TMPDIR:-/tmp}/pod-bench}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="${OUT:-$SCRATCH/results/query-$STAMP}"
OURS_PYTHON="${OURS_PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}"
MODE="${MODE:-provider}"

"$OURS_PYTHON" -c 'import pyoxigraph, rdflib' 2>/dev/null \
  || { echo "pyoxigraph or rdflib missing: pip install -e '$REPO'" >&2; exit 1; }
if [ "$MODE" = provider ] && ! "$OURS_PYTHON" -c "import sys; sys.path.insert(0, '$HARNESS'); import solid_auth" 2>/dev/null; then
  echo "provider mode needs the shared harness's solid_auth.py at $HARNESS (and cryptography), or MODE=open" >&2
  exit 1
fi

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
  echo "command: MODE=$MODE RUNS=${RUNS:-200} CLIENT_RUNS=${CLIENT_RUNS:-3} THREADS=${THREADS:-8} bench/run_query.sh"
  echo "nproc: $(nproc)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "pod-server: commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?') plus uncommitted changes;" \
       "snapshot sha256 $(cd "$OURS_SRC" && find . -name '*.py' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
  echo "python: $("$OURS_PYTHON" --version 2>&1)  pyoxigraph: $("$OURS_PYTHON" -c 'import pyoxigraph; print(pyoxigraph.__version__)')" \
       " rdflib: $("$OURS_PYTHON" -c 'import rdflib; print(rdflib.__version__)')"
} > "$OUT/machine.txt"

"$OURS_PYTHON" "$HERE/query.py" --mode "$MODE" --runs "${RUNS:-200}" --client-runs "${CLIENT_RUNS:-3}" \
  --threads "${THREADS:-8}" --scratch "$SCRATCH" --harness "$HARNESS" --out "$OUT"
