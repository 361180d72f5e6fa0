# Sourced by bench/run*.sh (after `set -euo pipefail`): the paths every run uses, and our server
# as a snapshot of the working tree, so every round measures the same code even if the tree
# changes during the run. The snapshot (and the data folders beside it) go away at the end.
#
# Env: HARNESS (../shared/bench) SCRATCH ($TMPDIR/pod-bench) OURS_PYTHON (this python3).
# Sets: HERE REPO HARNESS SCRATCH STAMP OURS_PYTHON; snapshot_ours sets WORK OURS_SRC OURS_DATA_ROOT.
HERE="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
HARNESS="${HARNESS:-$(cd "$REPO/../shared/bench" 2>/dev/null && pwd || echo /work/shared/bench)}"
SCRATCH="${SCRATCH:-${TMPDIR:-/tmp}/pod-bench}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OURS_PYTHON="${OURS_PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}"

snapshot_ours() {
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/pod-bench-ours-XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
  OURS_SRC="$WORK/src"
  OURS_DATA_ROOT="$WORK/data"
  mkdir -p "$OURS_SRC" "$OURS_DATA_ROOT"
  # shapes/ and vocab/ are data beside the package (the bundled shapes, the vocabulary, and the
  # community JSON-LD context the package links to).
  cp -r "$REPO/pod_server" "$REPO/wsgi.py" "$REPO/shapes" "$REPO/vocab" "$OURS_SRC/"
  find "$OURS_SRC" -name __pycache__ -prune -exec rm -rf {} +
  "$OURS_PYTHON" -m compileall -q "$OURS_SRC" >/dev/null  # byte-compiled once, not in round 1's cold start
  export OURS_SRC OURS_DATA_ROOT OURS_PYTHON
}

# One line naming the code measured: the commit, and a digest of the snapshot's sources.
snapshot_line() {
  echo "pod-server: commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?') plus uncommitted changes;" \
       "snapshot sha256 $(cd "$OURS_SRC" && find . -name '*.py' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
}
