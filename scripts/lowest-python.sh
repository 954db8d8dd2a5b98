#!/usr/bin/env bash
# The toolkit supports Python >= 3.10 (pyproject.toml). `make test` runs the whole suite on the
# virtual environment's Python; this runs the unit tests and the wheel test on the lowest
# supported Python found here (LOWEST_PYTHON=... to choose one), in .venv-lowest, when that
# Python differs from the environment's. It says which Pythons were tested.
set -euo pipefail
cd "$(dirname "$0")/.."
version() { "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null; }
main=$(version .venv/bin/python)

if [ -z "${LOWEST_PYTHON:-}" ]; then
  candidates=(/usr/bin/python3)
  for minor in 10 11 12 13 14; do
    command -v "python3.$minor" >/dev/null 2>&1 && candidates+=("$(command -v "python3.$minor")")
  done
  if command -v pyenv >/dev/null 2>&1; then
    for p in "$(pyenv root)"/versions/3.*/bin/python3; do [ -x "$p" ] && candidates+=("$p"); done
  fi
  found=""
  for p in "${candidates[@]}"; do
    "$p" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || continue
    found+="$(version "$p") $p"$'\n'
  done
  best=$(printf '%s' "$found" | sort -V | head -1 | cut -d' ' -f2-)
  LOWEST_PYTHON=$best
fi
low=$(version "$LOWEST_PYTHON")
if [ -z "$LOWEST_PYTHON" ] || [ "$low" = "$main" ]; then
  echo "Python tested: $main (the lowest supported Python here; the run above)"
  exit 0
fi
echo "Python tested: $main (the run above) and $low ($LOWEST_PYTHON, the lowest supported here): unit tests and the wheel"
venv=.venv-lowest
if [ ! -f "$venv/.installed" ] || [ pyproject.toml -nt "$venv/.installed" ] || [ "$(version $venv/bin/python)" != "$low" ]; then
  rm -rf "$venv"
  "$LOWEST_PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -e '.[test]'
  touch "$venv/.installed"
fi
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/unit tests/integration/test_wheel.py
