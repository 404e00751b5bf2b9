#!/usr/bin/env bash
# The seed's own SDK, unchanged, against server mode: wallaroo==2023.2.1 with the real
# google-cloud-bigquery in a Python 3.8 venv runs the house-price flow (tests/seed38/flow.py)
# against `python -m emulator serve` started from the project's own interpreter.
# Exits non-zero if the venv cannot be built, the server does not start, or any check fails.
#   SEED38_VENV   venv folder (default .venv-ci-seed38, git-ignored); kept between runs
#   SEED38_PYTHON the Python 3.8 interpreter (default: pyenv's 3.8.18, else python3.8)
#   PYTHON        the project's interpreter that runs the server (default: python)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv="${SEED38_VENV:-.venv-ci-seed38}"
case "$venv" in /*) ;; *) venv="$root/$venv" ;; esac
python="${PYTHON:-python}"
if [ -z "${SEED38_PYTHON:-}" ]; then
  if PYENV_VERSION=3.8.18 python3.8 --version >/dev/null 2>&1; then
    SEED38_PYTHON="env PYENV_VERSION=3.8.18 python3.8"
  else
    SEED38_PYTHON="python3.8"
  fi
fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import wallaroo, google.cloud.bigquery, db_dtypes' 2>/dev/null; then
  $SEED38_PYTHON -m venv --clear "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$venv/bin/python" -m pip install -q 'wallaroo==2023.2.1' google-cloud-bigquery db-dtypes
fi
"$venv/bin/python" -c 'import sys, wallaroo; assert sys.version_info[:2] == (3, 8), sys.version; print("seed SDK venv:", sys.version.split()[0], "wallaroo", wallaroo.__version__)'

work=$(mktemp -d "${TMPDIR:-/tmp}/seed38.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
"$python" -m emulator serve --seed "$root/tutorial_replay/tutorial.seed.yaml" --workdir "$work" \
  --env-file "$work/server.env" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 600); do
  [ -f "$work/server.env" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log"; echo "the server exited" >&2; exit 1; fi
  sleep 0.1
done
[ -f "$work/server.env" ] || { cat "$work/server.log"; echo "the server did not start in 60 s" >&2; exit 1; }
cat "$work/server.log"
status=0
(
  cd "$work"
  set -a
  # shellcheck disable=SC1091
  . ./server.env
  set +a
  export XDG_CACHE_HOME="$work/cache" NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
  unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy WALLAROO_SDK_CREDENTIALS WALLAROO_TASK_ID PYTHONPATH
  "$venv/bin/python" "$root/tests/seed38/flow.py"
) || status=$?
kill -TERM "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=""
tail -n 1 "$work/server.log"
if [ "$status" -ne 0 ]; then echo "seed SDK flow failed ($status)" >&2; exit "$status"; fi
if [ "$server_status" -ne 0 ]; then echo "the server exited with $server_status on SIGTERM" >&2; exit 1; fi
echo "seed SDK flow passed"
