# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test install install-test debian-test chromium chromium-optional build bench clean serve caddy

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

install: $(PY)
	$(PY) -m pip install --quiet -e .

install-test: $(PY) debian-test
	$(PY) -m pip install --quiet -e '.[test]'

# Debian packages the tests need, installed with one `apt-get update`: Chromium (browser tests, image
# exports through kaleido; no browser download), poppler-utils (the export tests rasterise the PDFs
# they read back), Caddy (the reverse proxy of `make serve`, tested through).
DEBIAN_TEST = chromium fonts-dejavu-core poppler-utils caddy
debian-test:
	@missing=$$(for p in $(DEBIAN_TEST); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing ; fi

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core ; }

# For `make run` the browser only serves image exports: warn instead of failing without root.
chromium-optional:
	@$(MAKE) --no-print-directory chromium || echo "chromium non installé : les exports PNG/SVG/PDF seront indisponibles"

# Installs, builds the database on the embedded default data if missing (visible progress), serves.
run: install chromium-optional
	$(PY) -m etl build --if-missing
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

test: install-test
	$(PY) -m pytest -q -rs

build: install
	$(PY) -m etl build

# `make serve WORKERS=2`: N Streamlit processes on the same read-only base behind Caddy (sticky
# cookie, websockets, health checks), on the same public port as `make run`. docs/serving.md.
WORKERS ?= 2
caddy:
	@command -v caddy >/dev/null 2>&1 || { \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends caddy ; }

serve: install chromium-optional caddy
	$(PY) -m etl build --if-missing
	$(PY) -m serving --workers $(WORKERS) --port $(PORT)

# Benchmarks live in bench/ (not installed), their extra dependencies in the [bench] extra.
bench: $(PY)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m bench reference

clean:
	rm -rf $(VENV) data/observatoire.duckdb data/*.tmp-*
