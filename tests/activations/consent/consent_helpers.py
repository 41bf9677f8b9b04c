"""Helpers for the consent tests (fixtures are in conftest.py)."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import uvicorn
from sandbox_syncs import fast_options

from activations.consent.credentials import provider_settings
from activations.providers.base import ProviderSettings
from activations.raw_schema import create_raw_schema_sql


def raw_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection to a new DuckDB file at ``path`` holding the empty raw landing schema."""
    conn = duckdb.connect(str(path))
    for statement in create_raw_schema_sql():
        conn.execute(statement)
    return conn


def settings_for(sandbox: Any, name: str) -> ProviderSettings:
    settings = provider_settings(name, sandbox.base_url)
    return dataclasses.replace(settings, options=fast_options(name))


class Receiver:
    def __init__(self, app: Any) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        )
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "receiver did not start"
            time.sleep(0.01)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
