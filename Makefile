# The two commands of the README: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SIM := sim/bin/vhpc-sim
GOENV := GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE=$(CURDIR)/.cache/go-build
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEB_PACKAGES := golang-go golang-github-vmware-govmomi-dev bubblewrap

.PHONY: all deps venv sim slurm test test-unit demo bench lab lab-stop clean

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

FIRST_RUN := a first run installs Debian packages and a Python environment and builds the lab (a few minutes)

test:
	@echo "== make test: $(FIRST_RUN); later runs start at once"
	@echo "== 1/4 packages (Go, govmomi, bubblewrap, Slurm, munge), Python environment (.venv), lab simulator (sim/bin/vhpc-sim)"
	@$(MAKE) --no-print-directory venv sim slurm
	@echo "== 2/4 the lab's own tests (Go)"
	cd sim && $(GOENV) go vet . && $(GOENV) go test -count=1 .
	@echo "== 3/4 the toolkit's tests (pytest: unit tests, then against the lab and OpenBao)"
	$(PY) -m pytest -q
	@echo "== 4/4 the lowest supported Python"
	@bash scripts/lowest-python.sh

test-unit: venv
	$(PY) -m pytest -q tests/unit

demo:
	@echo "== make demo: $(FIRST_RUN); later runs start at once"
	@echo "== 1/2 packages, Python environment (.venv), lab simulator (sim/bin/vhpc-sim)"
	@$(MAKE) --no-print-directory venv sim
	@echo "== 2/2 the demo on the lab"
	@bash scripts/demo.sh

# The lab in the background for trying the toolkit by hand: writes ./vCenter.conf for it.
lab: venv sim
	@bash scripts/lab.sh start

lab-stop:
	@bash scripts/lab.sh stop

bench: venv sim slurm
	$(PY) -m benchmarks.run $(BENCH_ARGS)

clean:
	-@bash scripts/lab.sh stop >/dev/null 2>&1
	rm -rf $(VENV) .venv-lowest sim/bin .cache .lab
