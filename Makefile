# Dalgo: the two commands are `make demo` and `make test`. Everything else is what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

# uv: use the one on PATH, else install it from PyPI (the only registry reachable here).
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
UI_INDEX := src/dalgo/web/static/ui/index.html
UI_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.ts frontend/package.json -type f 2>/dev/null)

.PHONY: help demo test uv deps npm ui api-types check-api-types lint typecheck pytest frontend-test browser-deps clean

help:
	@echo "make demo   install everything, seed a demo org, run the whole product"
	@echo "make test   install everything, run every check (ruff, mypy, pytest, frontend, browser)"

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

deps: uv
	$(UV) sync --frozen --quiet

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

npm: frontend/node_modules/.package-lock.json

$(UI_INDEX): frontend/node_modules/.package-lock.json $(UI_SOURCES)
	cd frontend && npm run build --silent

ui: npm $(UI_INDEX)

api-types: deps npm
	$(UV) run python scripts/export_openapi.py
	cd frontend && npm run gen:api --silent

check-api-types: deps npm
	@tmp=$$(mktemp -d); $(UV) run python scripts/export_openapi.py $$tmp/openapi.json >/dev/null; \
	if ! diff -q $$tmp/openapi.json frontend/src/api/openapi.json >/dev/null; then \
	  echo "The OpenAPI schema changed: run 'make api-types' and commit the result."; exit 1; fi
	cd frontend && npm run check:api --silent

lint: deps
	$(UV) run ruff check src tests bench scripts
	$(UV) run ruff format --check src tests bench scripts

typecheck: deps
	$(UV) run mypy

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

frontend-test: npm
	cd frontend && npm run typecheck --silent && npm run test --silent

pytest: deps ui browser-deps
	$(UV) run pytest

test: deps lint typecheck check-api-types frontend-test pytest

demo: deps ui
	$(UV) run dalgo demo

clean:
	rm -rf .dalgo src/dalgo/web/static/ui frontend/node_modules .venv .pytest_cache .mypy_cache .ruff_cache
