# CostGuard: `make demo` runs the main job on bundled real exports; `make test` runs the tests.
# Both install what they need (uv via pip if missing, then the locked workspace).
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PY := .venv/bin/python

.PHONY: install tools demo test lint format up bench images clean

install:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --all-packages --frozen

# Debian packages the tests use: prometheus (promtool and the server, for the Prometheus and
# Grafana checks) and chromium (the real-browser dashboard test).
tools:
	@missing=""; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  sudo=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

demo: install
	.venv/bin/costguard demo

test: install tools
	$(PY) -m pytest

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy packages/*/src services/*/src mcp-servers/*/src src

format: install
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

# Benchmarks print their figures beside the baselines they name, measured in the same run.
bench: install
	$(PY) bench/detection/run.py
	$(PY) bench/detection/hourly.py
	$(PY) bench/detection/independent_run.py --config all --seed 8
	$(PY) bench/detection/independent_run.py --config all --seed 9
	$(PY) bench/detection/independent2_run.py --config all --seed 8
	$(PY) bench/detection/independent2_run.py --config all --seed 9
	@if [ -f bench/ingest/run.py ]; then $(PY) bench/ingest/run.py; fi

up: install
	.venv/bin/costguard up

images:
	@for s in services/backend services/adapters services/agents services/ui mcp-servers/cloud-resource; do \
	  n=$$(basename $$s); docker build -f $$s/Dockerfile -t costguard-$$n:$$(git rev-parse --short HEAD) . || exit 1; \
	done

clean:
	rm -rf var .pytest_cache .ruff_cache
