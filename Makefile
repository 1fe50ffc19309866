# CostGuard: `make demo` runs the main job on bundled real exports; `make test` runs the tests.
# Both install what they need (uv via pip if missing, then the locked workspace).
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PY := .venv/bin/python

.PHONY: install tools demo test lint format up images clean

install:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --all-packages --frozen

# promtool (Debian's prometheus package) checks prometheus/ and grafana/ PromQL in the tests.
tools:
	@command -v promtool >/dev/null 2>&1 || { \
	  echo "installing promtool (Debian package prometheus)"; \
	  $$( [ $$(id -u) -eq 0 ] || echo sudo ) apt-get update -qq && \
	  $$( [ $$(id -u) -eq 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }

demo: install
	.venv/bin/costguard demo

test: install tools
	$(PY) -m pytest

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: install
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

up: install
	.venv/bin/costguard up

images:
	@for s in services/backend services/adapters services/agents services/ui mcp-servers/cloud-resource; do \
	  n=$$(basename $$s); docker build -f $$s/Dockerfile -t costguard-$$n:$$(git rev-parse --short HEAD) . || exit 1; \
	done

clean:
	rm -rf var .pytest_cache .ruff_cache
