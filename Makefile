# civic311: `make run` brings the whole center up with demo traffic; `make test` runs everything.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Browser libraries: pinned in package-lock.json, from the npm registry, served from the app's
# own static files, never from a CDN: SIP.js for the desktop's WebRTC phone (acd/static/vendor),
# Leaflet for the maps (places/static/vendor), Twilio's Voice SDK for agents on the Twilio
# backend (center/static/vendor). axe-core stays in node_modules for the browser tests.
VENDOR        := acd/static/vendor
MAP_VENDOR    := places/static/vendor
TWILIO_VENDOR := center/static/vendor
BROWSER_STAMP := node_modules/.civic311-installed

.PHONY: run test install browser-deps system-deps asterisk lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(BROWSER_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: make system-deps (nodejs, npm)"; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	rm -rf $(VENDOR) $(MAP_VENDOR) $(TWILIO_VENDOR)
	mkdir -p $(VENDOR) $(MAP_VENDOR) $(TWILIO_VENDOR)
	cp -r node_modules/sip.js/lib $(VENDOR)/sip.js
	cp node_modules/sip.js/LICENSE* $(VENDOR)/sip.js/ 2>/dev/null || true
	cp -r node_modules/leaflet/dist $(MAP_VENDOR)/leaflet
	cp node_modules/leaflet/LICENSE $(MAP_VENDOR)/leaflet/
	cp node_modules/@twilio/voice-sdk/dist/twilio.min.js $(TWILIO_VENDOR)/twilio-voice.min.js
	cp node_modules/@twilio/voice-sdk/LICENSE* $(TWILIO_VENDOR)/ 2>/dev/null || true
	touch $@

browser-deps: $(BROWSER_STAMP)

system-deps:
	./scripts/system-deps.sh

asterisk: install system-deps
	$(BIN)/civic311 asterisk provision

run: asterisk browser-deps
	$(BIN)/civic311 db upgrade
	$(BIN)/civic311 seed demo
	$(BIN)/civic311 up --demo

# three workers, each with its own Asterisk on its own ports (tests/support/ports.py): most
# of a real-Asterisk test is calls taking their time, so a third overlaps that waiting on 2
# cores; TEST_WORKERS=0 runs the suite in one process
TEST_WORKERS ?= 3

# one BLAS thread per process: two workers' statsmodels fits each spinning a thread per core
# on a 2-core machine ran the forecast tests 5x slower than one thread does
test: asterisk browser-deps
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: asterisk
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules $(VENDOR) $(MAP_VENDOR) $(TWILIO_VENDOR) .pytest_cache .ruff_cache .mypy_cache
