#!/usr/bin/env bash
# pod-server beside the Community Solid Server 7 (file and memory configurations) and the bare
# Flask + gunicorn ceiling, with the shared harness (../shared/bench, see its README.md).
#
#   bench/run.sh                                      # REPS=2, containers of 10, 1,000 and 10,000
#   REPS=1 CONTAINERS=10,1000 DURATION=5 bench/run.sh # a quick look (about 10 minutes)
#   CONTAINERS_REPEAT=10,1000 bench/run.sh            # skip CSS's slow 10,000 fill after round 1
#   AUTH=0 bench/run.sh                               # unauthenticated, open single pod
#
# Env: REPS (2) CONTAINERS (10,1000,10000) CONTAINERS_REPEAT (= CONTAINERS) DURATION (10 s per
#      scenario) SERVERS ("ours css-file css-mem flask") HARNESS (../shared/bench) SCRATCH
#      ($TMPDIR/pod-bench) OUT (results folder) and anything else run_all.sh reads.
# Prints the results folder at the end; `bench/report.py <folder>` turns it into the target table.
set -euo pipefail
source "$(dirname "$0")/common.sh"
OUT="${OUT:-$SCRATCH/results/$STAMP}"

if [ ! -x "$SCRATCH/venv/bin/python" ] || [ ! -d "$SCRATCH/css/node_modules/@solid/community-server" ]; then
  echo "harness not set up: run $HARNESS/setup.sh first" >&2
  exit 1
fi

# Our server runs from a snapshot of the working tree (bench/common.sh), removed at the end.
snapshot_ours

export SCRATCH OUT OURS_SRC OURS_DATA_ROOT
export SERVERS="${SERVERS:-ours css-file css-mem flask}"
export REPS="${REPS:-2}"
export DURATION="${DURATION:-10}"
export CONTAINERS="${CONTAINERS:-10,1000,10000}"
export CONTAINERS_REPEAT="${CONTAINERS_REPEAT:-$CONTAINERS}"
export OURS_START="$HERE/start_ours.sh"
export OURS_PYTHON
# Authenticated by default: a provider-mode server, an account + pod + client credentials made
# by bench/provision_ours.sh, so the harness also runs auth_get (DPoP-bound token, fresh proof per
# request) and writes under an ACL it sets itself. AUTH=0: the unauthenticated scenarios on an
# open single-pod root, as before log-in existed.
if [ "${AUTH:-1}" = "1" ]; then
  export POD_SERVER_SINGLE_POD=0
  export OURS_PROVISION="$HERE/provision_ours.sh {base_url}"
else
  unset OURS_PROVISION
fi

mkdir -p "$OUT"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "command: REPS=$REPS CONTAINERS=$CONTAINERS CONTAINERS_REPEAT=$CONTAINERS_REPEAT DURATION=$DURATION bench/run.sh"
  echo "servers: $SERVERS"
  echo "nproc: $(nproc)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "memory: $(grep MemTotal /proc/meminfo | awk '{print int($2/1024) " MB"}')"
  snapshot_line
  echo "python: $("$OURS_PYTHON" --version 2>&1)  gunicorn: $("$OURS_PYTHON" -m gunicorn --version 2>&1)"
} > "$OUT/machine.txt"

"$HARNESS/run_all.sh"
"$OURS_PYTHON" "$HERE/report.py" "$OUT" | tee "$OUT/report.md"
echo "results: $OUT"
