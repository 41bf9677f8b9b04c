"""An ESP sandbox and the webhook receiver, both real servers on 127.0.0.1,
and a scratch warehouse with a tiny raw.customers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from consent_helpers import Receiver

from activations.raw_schema import create_raw_schema_sql
from activations.sandbox.server import serve_in_thread
from activations.webhooks.app import create_app


@pytest.fixture(scope="module")
def esp_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with serve_in_thread(state_path=tmp_path_factory.mktemp("consent_sandbox")) as server:
        yield server


@pytest.fixture
def sandbox(esp_sandbox: Any) -> Any:
    esp_sandbox.reset()
    return esp_sandbox


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    conn = duckdb.connect(str(path))
    for statement in create_raw_schema_sql():
        conn.execute(statement)
    conn.execute(
        "insert into raw.customers (customer_id, email, first_name) values "
        "('c_1', '  Person0@Example.com ', 'Ann'), ('c_2', 'someone@example.com', 'Bo')"
    )
    conn.close()
    return path


@pytest.fixture
def receiver(warehouse: Path) -> Iterator[Receiver]:
    server = Receiver(create_app(warehouse, token="hook-token-123"))
    yield server
    server.stop()
