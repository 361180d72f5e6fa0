#!/usr/bin/env bash
# OURS_PROVISION for the shared harness: make an account, a pod and client credentials on the
# server bench/start_ours.sh just started (its newest data folder), and print the JSON the harness
# reads: {"webid","pod","client_id","client_secret","issuer"}.
#
#   OURS_PROVISION="bench/provision_ours.sh {base_url}"   (the harness substitutes {base_url})
#
# The server must run in provider mode (POD_SERVER_SINGLE_POD=0), so the pod is owner-only and the
# harness's "owner-only document" really is private.
set -euo pipefail
BASE_URL="${1:?usage: provision_ours.sh BASE_URL}"
ROOT="${OURS_DATA_ROOT:-${TMPDIR:-/tmp}/pod-bench/data/ours}"
DATA="$(ls -td "$ROOT"/run-* | head -n 1)"
PY="${OURS_PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}"
NAME="bench$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
cd "${OURS_SRC:-$(cd "$(dirname "$0")/.." && pwd)}"
exec "$PY" -m pod_server.cli account create --data-dir "$DATA" --base-url "$BASE_URL" --provider \
  --email "$NAME@example.org" --password "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" \
  --pod "$NAME" --credentials --json
