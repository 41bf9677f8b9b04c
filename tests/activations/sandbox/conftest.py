"""Clients for the sandbox tests (the server, one for the session and reset before
each test, is ../conftest.py's ``sandbox``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sandbox_helpers import AUTH

from activations.sandbox.server import SandboxServer


@pytest.fixture
def clients(sandbox: SandboxServer) -> Iterator[dict[str, httpx.Client]]:
    """One authenticated client per provider, based at the connector's base_url."""
    made = {name: httpx.Client(base_url=sandbox.url(name), headers=headers, timeout=30)
            for name, headers in AUTH.items()}
    yield made
    for client in made.values():
        client.close()
