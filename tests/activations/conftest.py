"""The ESP sandbox the connector, consent and sandbox tests share: one real server
on 127.0.0.1 for the session, reset before each test that asks for ``sandbox``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from activations.sandbox.server import SandboxServer, serve_in_thread


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    with serve_in_thread(state_path=tmp_path_factory.mktemp("sandbox-state")) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    sandbox_server.reset()
    return sandbox_server
