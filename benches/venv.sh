#!/usr/bin/env bash
# Create (once) the bench's Python venv with the pinned torch + transformers.
# Usage: benches/venv.sh VENV_DIR
set -euo pipefail
venv=$1
here=$(cd "$(dirname "$0")" && pwd)
stamp="$venv/.requirements"
if [ -x "$venv/bin/python" ] && cmp -s "$here/requirements.txt" "$stamp"; then
    exit 0
fi
echo "bench: creating $venv (torch 2.4.0 from PyPI is large: a few GB, once)" >&2
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet -r "$here/requirements.txt"
cp "$here/requirements.txt" "$stamp"
