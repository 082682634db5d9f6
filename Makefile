PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
APP_PORT ?= 8501
ARGS ?=

.PHONY: run test test-load lint ui app clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m experiments.run $(ARGS)

test: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -m "not load" $(ARGS)

# 16 runs at once on one fresh sqlite store (tests/test_faults_load.py): minutes on 2 cores
test-load: $(STAMP)
	$(PY) -m pytest -m load $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

ui: $(STAMP)
	$(PY) -m experiments.ui --host $(HOST) --port $(PORT) $(ARGS)

app: $(STAMP)
	$(VENV)/bin/streamlit run src/apps/page.py --server.address $(HOST) \
		--server.port $(APP_PORT) --server.headless true --browser.gatherUsageStats false

clean:
	rm -rf $(VENV) outputs .pytest_cache .ruff_cache
