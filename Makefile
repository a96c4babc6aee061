# Kettle's one-word entry points. Each bootstraps .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The demo needs Kettle and its own dependencies only, not the development extra.
DEMO_STAMP := $(VENV)/.demo-installed

.PHONY: demo test compat bench bench-compiled bench-e2e lint docs clean system-deps

$(STAMP): pyproject.toml setup.py $(wildcard src/kettle/*.[ch] src/kettle/*/*.[ch])
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(DEMO_STAMP)

$(DEMO_STAMP): pyproject.toml setup.py $(wildcard src/kettle/*.[ch] src/kettle/*/*.[ch])
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	touch $(DEMO_STAMP)

# Debian packages the suite needs (redis-server, chromium, openssl, wrk), installed
# only when running as root and missing.
system-deps:
	@if [ "$$(id -u)" = "0" ]; then \
	  missing=""; \
	  command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	  command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	  command -v openssl >/dev/null 2>&1 || missing="$$missing openssl"; \
	  command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	  if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  fi; \
	fi

demo: $(DEMO_STAMP)
	@echo " * kettle is $(BIN)/kettle (or run '. $(BIN)/activate' first to have it on PATH)"
	$(BIN)/kettle --app examples/http/app.py run --host 127.0.0.1 --port 5000

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src
	$(BIN)/mypy

test: $(STAMP) system-deps lint
	$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider
	$(MAKE) compat

# Flask's own test suite and the extensions' suites, from the source distributions
# downloaded at test time, in Flask compatibility mode (tests/compat/run_suites.py).
compat: $(STAMP) system-deps
	$(BIN)/python tests/compat/run_suites.py

# In-process per-request cost (no network). The end-to-end mode is its own target:
# it starts a server per cell, takes a few minutes, and installs wrk itself as root.
# The kettle-*-compiled columns appear when build/compiled is current (bench-compiled
# builds it); otherwise the table says why they are missing.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# The opt-in mypyc build (build/compiled, never beside src), then the same table with it.
bench-compiled: $(STAMP)
	$(BIN)/python benchmarks/build_compiled.py --if-stale
	$(BIN)/python benchmarks/run.py

bench-e2e: $(STAMP)
	$(BIN)/python benchmarks/run.py --e2e

docs: $(STAMP)
	$(BIN)/python -m sphinx -q -b html -W docs docs/_build/html

clean:
	rm -rf $(VENV) docs/_build .mypy_cache .ruff_cache .compat-cache build
	find src -name '*.so' -delete  # The C accelerators an editable install built in place.

# Server push at scale: real uvicorn processes and a real redis-server on loopback.
# Needs file descriptors for every client and server socket: raise the soft limit.
.PHONY: bench-push bench-push-ws
bench-push: $(STAMP) system-deps
	ulimit -n $$(ulimit -Hn) && $(BIN)/python benchmarks/push_bench.py --write-docs

# Python memory per idle WebSocket under granian, uvicorn (each implementation) and
# hypercorn: a few minutes, one server at a time.
bench-push-ws: $(STAMP)
	ulimit -n $$(ulimit -Hn) && $(BIN)/python benchmarks/push_ws_memory.py --count 1000
