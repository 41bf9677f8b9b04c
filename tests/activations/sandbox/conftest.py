"""One sandbox server for the whole sandbox test package; every test starts from a reset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sandbox_helpers import AUTH

from activations.sandbox.server import SandboxServer, serve_in_thread


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    state: Path = tmp_path_factory.mktemp("sandbox-state")
    with serve_in_thread(state_path=state) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def clients(sandbox: SandboxServer) -> Iterator[dict[str, httpx.Client]]:
    """One authenticated client per provider, based at the connector's base_url."""
    made = {name: httpx.Client(base_url=sandbox.url(name), headers=headers, timeout=30)
            for name, headers in AUTH.items()}
    yield made
    for client in made.values():
        client.close()
