# Two entry points for a fresh clone: `make demo` (the main job end to end) and `make test`.
# Both create .venv and install the package; torch is pinned first so pip takes the CPU wheel
# instead of several GB of CUDA packages (override TORCH=... on a GPU machine).
PY ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
export SNCSE_DATA ?= $(abspath ../shared/data)

.PHONY: setup test demo lint reproduce clean

$(BIN)/.sncse-installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[dev,stanza,tensorboard]"
	touch $@

setup: $(BIN)/.sncse-installed

test: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: setup
	$(BIN)/ruff check sncse cli plugins tests bench scripts

demo: setup
	PATH="$(abspath $(BIN)):$$PATH" bash scripts/demo.sh

# The results page (docs/results.md): the reduced CPU grid here, GRID=gpu on a GPU machine.
GRID ?= cpu
reproduce: setup
	PATH="$(abspath $(BIN)):$$PATH" PYTHON=$(abspath $(BIN))/python bash scripts/reproduce.sh --grid $(GRID)

clean:
	rm -rf demo-out .pytest_cache .ruff_cache
