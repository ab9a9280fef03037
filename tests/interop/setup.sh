#!/usr/bin/env bash
# Creates (or reuses) the Python virtualenv holding the real oslo.messaging 18.3.1 that the
# interop tests drive as a peer. Prints the venv's python path as the LAST line of stdout;
# everything else goes to stderr.
#
#   OSLO_RPC_INTEROP_VENV   venv directory (default: <repo>/target/interop-venv)
#   OSLO_RPC_INTEROP_PYTHON interpreter used to create the venv (default: python3, must be >= 3.10)
#
# Pins: the constraints file <repo>/../shared/interop/oslo-18.3.1-constraints.txt when it exists
# (the shared copy next to the repository), otherwise tests/interop/constraints.txt.
# A marker file inside the venv holds a hash of (constraints, requirement line, python version);
# when it matches, the venv is reused as is (fast path, no pip). Any change re-installs from scratch.
# Safe to run concurrently: an flock on "<venv>.lock" serialises the install.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

venv="${OSLO_RPC_INTEROP_VENV:-$root/target/interop-venv}"
case "$venv" in
  /*) ;;
  *) venv="$root/$venv" ;;   # relative paths are taken from the repository root
esac
python="${OSLO_RPC_INTEROP_PYTHON:-python3}"
# oslo.versionedobjects: the peers of the versioned-object interop tests (issue 15).
requirements=("oslo.messaging==18.3.1" "oslo.service[threading]" "oslo.versionedobjects==3.12.0")
req_line="${requirements[*]}"

constraints="$root/../shared/interop/oslo-18.3.1-constraints.txt"
if [ -f "$constraints" ]; then
  constraints="$(cd "$(dirname "$constraints")" && pwd)/$(basename "$constraints")"
else
  constraints="$here/constraints.txt"
fi
if [ ! -f "$constraints" ]; then
  echo "setup.sh: no constraints file found" >&2
  exit 2
fi

log() { echo "setup.sh: $*" >&2; }

py_version="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
want="$( { cat "$constraints"; printf '\n--requirements-- %s\n--python-- %s\n' "$req_line" "$py_version"; } \
  | sha256sum | cut -d' ' -f1)"
marker="$venv/.oslo-rpc-interop-ready"

is_ready() {
  [ -x "$venv/bin/python" ] && [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ]
}

# Fast path: no lock needed, the marker is written (atomically) only after a complete install.
if is_ready; then
  echo "$venv/bin/python"
  exit 0
fi

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
if ! flock -w 1200 9; then
  log "timed out waiting for the lock $venv.lock"
  exit 1
fi

# Someone else may have finished the install while we waited.
if is_ready; then
  echo "$venv/bin/python"
  exit 0
fi

if [ -e "$venv" ]; then
  if [ -f "$venv/pyvenv.cfg" ] || [ -z "$(ls -A "$venv")" ]; then
    log "venv at $venv is incomplete or outdated: re-creating it"
    rm -rf "$venv"
  else
    log "$venv exists and is not a virtualenv: refusing to touch it"
    exit 2
  fi
fi

start=$(date +%s)
log "creating venv $venv with $python ($py_version), constraints $constraints"
"$python" -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  -c "$constraints" "${requirements[@]}" >&2
# A cheap sanity check that the install is usable before declaring it ready.
"$venv/bin/python" - >&2 <<'EOF'
import warnings
warnings.filterwarnings('ignore', message=r'(?s).*Eventlet is deprecated')
from oslo_service import backend
backend.init_backend(backend.BackendType.THREADING)
import oslo_messaging  # noqa: F401
from importlib.metadata import version
assert version("oslo.messaging") == "18.3.1", version("oslo.messaging")
import oslo_versionedobjects  # noqa: F401
assert version("oslo.versionedobjects") == "3.12.0", version("oslo.versionedobjects")
EOF
printf '%s\n' "$want" >"$marker.tmp"
mv "$marker.tmp" "$marker"
log "venv ready in $(( $(date +%s) - start )) s"

echo "$venv/bin/python"
