#!/usr/bin/env bash
# The fast property reader (src/vhpc_toolkit/vsphere/fastread.py) reads pyVmomi internals: run its
# tests, and the session and view tests that lean on it, with each pyVmomi release it claims
# (PYVMOMI_TESTED there), in a scratch virtual environment. Run before widening the bound.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-$(mktemp -d)/venv}
python3 -m venv "$venv"
"$venv/bin/pip" install -q -e '.[test]'
versions=$("$venv/bin/python" -c 'from vhpc_toolkit.vsphere.fastread import PYVMOMI_TESTED; print(*PYVMOMI_TESTED)')
for v in $versions; do
  echo "== pyVmomi $v"
  "$venv/bin/pip" install -q "pyvmomi==$v"
  "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/integration/test_fastread.py \
    tests/integration/test_session.py tests/integration/test_view.py
done
