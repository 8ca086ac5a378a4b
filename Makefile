# Two entry points for a fresh clone: `make demo` (the main job end to end) and `make test`.
# Both create .venv and install the package from requirements.lock, the exact versions the suite was
# last green with. torch is installed first so pip takes the CPU wheel instead of several GB of CUDA
# packages; TORCH=... selects another build of the locked version (README: "Install").
PY ?= python3
VENV ?= .venv
LOCK ?= requirements.lock
EXTRAS ?= dev,stanza,tensorboard,onnx,faiss,serve,demo
TORCH ?= torch==2.13.0
LATEST_VENV ?= .venv-latest
BIN := $(VENV)/bin
# The data root: ../shared/data where it exists beside the checkout (this project's machines);
# elsewhere sncse takes $SNCSE_DATA, else ./data (where `sncse data download` installs), else the
# sample embedded in the package (README: "Data").
ifneq ($(wildcard ../shared/data/senteval),)
export SNCSE_DATA ?= $(abspath ../shared/data)
endif

.PHONY: setup test test-latest lock demo lint reproduce clean

$(BIN)/.sncse-installed: pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c $(LOCK) pip setuptools
	$(BIN)/python -m pip install -q -c $(LOCK) "$(TORCH)"
	$(BIN)/python -m pip install -q --no-build-isolation -c $(LOCK) -e ".[$(EXTRAS)]"
	touch $@

setup: $(BIN)/.sncse-installed

test: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider

# Drift check: a separate environment with the newest releases the ranges in pyproject.toml admit
# (torch stays at $(TORCH): an unpinned torch is a multi-GB CUDA download), then the suite.
# When it passes, `make lock VENV=$(LATEST_VENV)` writes those versions to requirements.lock.
test-latest:
	rm -rf $(LATEST_VENV)
	$(PY) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install -q --upgrade pip setuptools
	$(LATEST_VENV)/bin/python -m pip install -q "$(TORCH)"
	$(LATEST_VENV)/bin/python -m pip install -q --upgrade --upgrade-strategy eager --no-build-isolation -e ".[$(EXTRAS)]"
	$(LATEST_VENV)/bin/python -m pip freeze --all --exclude-editable | diff $(LOCK) - | grep '^[<>] [A-Za-z]' || true
	$(LATEST_VENV)/bin/python -m pytest -q -p no:cacheprovider

# Write $(LOCK) from the packages installed in $(VENV) (torch without its +cpu / +cuXXX label).
lock:
	{ sed -n '1,/^[^#]/{/^#/p}' $(LOCK); $(VENV)/bin/python -m pip freeze --all --exclude-editable \
	  | sed 's/^torch==\([0-9.]*\)+.*$$/torch==\1/'; } > $(LOCK).tmp && mv $(LOCK).tmp $(LOCK)

lint: setup
	$(BIN)/ruff check sncse cli plugins tests bench scripts

# The demo runs on the embedded sample (minutes on 2 cores) unless SNCSE_DATA comes from the caller's
# environment: the ../shared/data default above is for the tests.
demo: setup
	$(if $(filter file,$(origin SNCSE_DATA)),env -u SNCSE_DATA,) PATH="$(abspath $(BIN)):$$PATH" bash scripts/demo.sh

# The results page (docs/results.md): the CPU grid here (resumable; about two hours of 2 free cores),
# GRID=gpu on a GPU machine.
GRID ?= cpu
reproduce: setup
	PATH="$(abspath $(BIN)):$$PATH" PYTHON=$(abspath $(BIN))/python bash scripts/reproduce.sh --grid $(GRID)

clean:
	rm -rf demo-out .pytest_cache .ruff_cache
