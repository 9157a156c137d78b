# civic311: `make run` brings the whole center up with demo traffic; `make test` runs everything.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install system-deps asterisk browser-deps lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	./scripts/system-deps.sh

# Browser libraries: pinned in package-lock.json, from the npm registry, served from the app's
# own static files (places/static/vendor), never from a CDN. axe-core stays in node_modules
# for the browser tests' accessibility check.
VENDOR := places/static/vendor
$(VENDOR)/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: make system-deps (nodejs, npm)"; exit 1; }
	npm ci --no-audit --no-fund
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)
	cp -r node_modules/leaflet/dist $(VENDOR)/leaflet
	cp node_modules/leaflet/LICENSE $(VENDOR)/leaflet/
	touch $@

browser-deps: $(VENDOR)/.installed

asterisk: install system-deps
	$(BIN)/civic311 asterisk provision

run: asterisk browser-deps
	$(BIN)/civic311 db upgrade
	$(BIN)/civic311 seed demo
	$(BIN)/civic311 up --demo

test: asterisk browser-deps
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: asterisk
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
