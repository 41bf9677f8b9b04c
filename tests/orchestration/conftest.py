"""Fixtures for the Dagster definitions: loaded once per run, after dbt parse."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from activations.demo import Sandbox
from activations.paths import DBT_PROJECT_DIR
from activations.sandbox.server import SandboxServer, serve_in_thread
from activations.sync.specs import load_syncs


@pytest.fixture(scope="session")
def orchestration_env(dbt_parsed: Path) -> dict[str, str]:
    """The environment Dagster and its dbt subprocesses need (venv first on PATH)."""
    os.environ.setdefault("DBT_PROFILES_DIR", str(DBT_PROJECT_DIR))
    return {"DBT_PROFILES_DIR": os.environ["DBT_PROFILES_DIR"], "PATH": os.environ["PATH"]}


@pytest.fixture(scope="session")
def defs(orchestration_env: dict[str, str]) -> dg.Definitions:
    from orchestration.definitions import defs as load

    return load()


@pytest.fixture(scope="session")
def asset_graph(defs: dg.Definitions):
    return defs.resolve_asset_graph()


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    """The ESP sandbox on a free port, with every declaration's key and base URL
    pointing at it (as `activations demo` does)."""
    with serve_in_thread(state_path=tmp_path / "sandbox") as server:
        for name, value in Sandbox(server.base_url, pid=None).env(load_syncs()).items():
            monkeypatch.setenv(name, value)
        yield server
