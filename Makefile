# The two commands of the README: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SIM := sim/bin/vhpc-sim
GOENV := GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE=$(CURDIR)/.cache/go-build
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEB_PACKAGES := golang-go golang-github-vmware-govmomi-dev bubblewrap

.PHONY: all deps venv sim slurm test test-unit demo bench clean

all: venv sim

# Debian packages: the Go toolchain, the govmomi simulator library, bubblewrap (guest sandbox).
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { echo "installing python3-venv"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

sim: deps $(SIM)
$(SIM): $(wildcard sim/*.go)
	cd sim && $(GOENV) go build -o bin/vhpc-sim .

# Debian's Slurm and munge for the elastic-Slurm tests and benchmark (started by them, no service).
slurm:
	@bash scripts/install-slurm.sh

test: venv sim slurm
	cd sim && $(GOENV) go vet . && $(GOENV) go test -count=1 .
	$(PY) -m pytest -q

test-unit: venv
	$(PY) -m pytest -q tests/unit

demo: venv sim
	bash scripts/demo.sh

bench: venv sim slurm
	$(PY) -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) sim/bin .cache
