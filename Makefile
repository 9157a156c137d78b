# civic311: `make run` brings the whole center up with demo traffic; `make test` runs everything.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

VENDOR := center/static/vendor

.PHONY: run test install static system-deps asterisk lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# browser libraries: pinned in package.json + package-lock.json, served from center/static
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	mkdir -p $(VENDOR)
	cp node_modules/@twilio/voice-sdk/dist/twilio.min.js $(VENDOR)/twilio-voice.min.js
	touch $@

static: $(VENDOR)/.installed

install: $(STAMP) static

system-deps:
	./scripts/system-deps.sh

asterisk: install system-deps
	$(BIN)/civic311 asterisk provision

run: asterisk
	$(BIN)/civic311 db upgrade
	$(BIN)/civic311 seed demo
	$(BIN)/civic311 up --demo

test: asterisk
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: asterisk
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache node_modules $(VENDOR)
