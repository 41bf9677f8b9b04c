# Two commands matter: `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := $(CURDIR)/.tools
UV := $(TOOLS)/bin/uv
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export DUCKDB_PATH ?= $(CURDIR)/warehouse.duckdb
export DBT_PROJECT_DIR := $(CURDIR)/dbt_project
export DBT_PROFILES_DIR := $(CURDIR)/dbt_project
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install demo sandbox-stop test dev lint bench bench-tier-m clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	touch $@

install: $(VENV)/.installed

demo: install
	activations demo

sandbox-stop: install
	activations sandbox-stop

test: install
	ruff check activations orchestration tests benchmarks
	pytest

dev: install
	mkdir -p $(DAGSTER_HOME)
	cp -n orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	cd dbt_project && dbt parse --quiet
	dg dev

lint: install
	ruff check activations orchestration tests benchmarks
	cd dbt_project && sqlfluff lint models

bench: install
	$(MAKE) -C benchmarks

# tier M (1M customers): on request only, about an hour on a shared 2-vCPU machine
bench-tier-m: install
	$(MAKE) -C benchmarks tier-m

clean:
	rm -rf $(VENV) $(TOOLS) warehouse.duckdb dbt_project/target .dagster_home .sandbox out
