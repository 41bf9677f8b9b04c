"""The webhook receiver, a real server on 127.0.0.1, and a scratch warehouse with
a tiny raw.customers (the ESP sandbox is ../conftest.py's ``sandbox``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from asgi_server import AsgiServer
from consent_helpers import raw_warehouse

from activations.consent.receiver import create_app
from activations.sandbox.signing import verification_secrets


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    conn = raw_warehouse(path)
    conn.execute(
        "insert into raw.customers (customer_id, email, first_name) values "
        "('c_1', '  Person0@Example.com ', 'Ann'), ('c_2', 'someone@example.com', 'Bo')"
    )
    conn.close()
    return path


@pytest.fixture
def receiver(warehouse: Path) -> Iterator[AsgiServer]:
    """The receiver verifying each provider's scheme with the sandbox's secrets (and a
    shared token on top)."""
    server = AsgiServer(
        create_app(warehouse, secrets=verification_secrets(), token="hook-token-123")
    )
    yield server
    server.stop()
