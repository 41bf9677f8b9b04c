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

.PHONY: install spark-install demo sandbox-stop test test-spark dev lint bench bench-tier-m clean data

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv

# (once `make spark-install` ran, a re-install keeps the spark group: uv sync is exact)
$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet $(if $(wildcard $(VENV)/.spark-installed),--group spark)
	touch $@

install: $(VENV)/.installed

# Apache Spark as a warehouse (dbt-spark session + pyspark, the `spark` dependency
# group): optional, about a minute and 460 MB; needs Java 17+ on PATH
$(VENV)/.spark-installed: $(VENV)/.installed
	$(UV) sync --frozen --quiet --group spark
	touch $@

spark-install: $(VENV)/.spark-installed

demo: install
	activations demo

sandbox-stop: install
	activations sandbox-stop

test: install
	ruff check activations orchestration tests benchmarks
	pytest -m "not spark"

# the Spark tests (three-warehouse parity): apart from `make test`, on small data.
# DuckDB's bindings list the objects pyspark still holds at interpreter exit
# ("nanobind: leaked ..."): harmless, dropped so pytest's summary ends the output
test-spark: spark-install
	set -o pipefail; pytest -m spark tests/dbt/test_spark_parity.py 2>&1 \
	  | grep -v -E '^nanobind: |^ - leaked |^ - \.\.\. skipped|^See https://nanobind'

dev: install
	mkdir -p $(DAGSTER_HOME)
	cp -n orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	cd dbt_project && dbt parse --quiet
	dg dev

lint: install
	ruff check activations orchestration tests benchmarks
	cd dbt_project && sqlfluff lint models

# the full public datasets (CDNOW, UCI Online Retail) for the tests that need them,
# downloaded from their upstream publications and checked against SHA-256 (network needed)
data:
	$(PYTHON) tests/fetch_datasets.py

bench: install
	$(MAKE) -C benchmarks

# tier M (1M customers): on request only, about an hour on a shared 2-vCPU machine
bench-tier-m: install
	$(MAKE) -C benchmarks tier-m

clean:
	rm -rf $(VENV) $(TOOLS) warehouse.duckdb dbt_project/target .dagster_home .sandbox out .spark
