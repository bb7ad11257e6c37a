# The README's two commands: `make demo` (set up + run the main job) and `make test` (set up + run the tests).
# Each creates .venv when missing and installs the pinned requirements once; a second run installs nothing.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.v2p-installed
ROS_PKG := ros2_ws/src/v2p_ros

.PHONY: setup demo test test-slow test-all bench clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml $(wildcard $(ROS_PKG)/setup.py)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements-dev.txt 2>&1 \
		| { grep -v "is ignored: it is neither a file nor a directory" || true; }
	$(BIN)/python -m pip install --disable-pip-version-check -q --no-deps -e . $(if $(wildcard $(ROS_PKG)/setup.py),-e $(ROS_PKG)) 2>&1 \
		| { grep -v "is ignored: it is neither a file nor a directory" || true; }
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/v2p demo $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow $(ARGS)

test-all: $(STAMP)
	$(BIN)/python -m pytest -m "slow or not slow" $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info sim/*.egg-info
