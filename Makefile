# civic311: `make run` brings the whole center up with demo traffic; `make test` runs everything.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install system-deps asterisk lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	./scripts/system-deps.sh

asterisk: install system-deps
	$(BIN)/civic311 asterisk provision

run: asterisk
	$(BIN)/civic311 db upgrade
	$(BIN)/civic311 seed demo
	$(BIN)/civic311 up --demo

# two workers, each with its own Asterisk on its own ports (tests/support/ports.py);
# TEST_WORKERS=0 runs the suite in one process
TEST_WORKERS ?= 2

test: asterisk
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: asterisk
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
