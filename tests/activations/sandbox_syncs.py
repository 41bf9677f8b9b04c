"""Helpers for tests that sync to the ESP sandbox through the engine (the
``sandbox`` fixture is in conftest.py, next to this module)."""

from __future__ import annotations

from typing import Any

import duckdb

from activations.consent.credentials import SANDBOX_KEYS
from activations.sandbox.server import SandboxServer
from activations.sync import engine
from activations.sync.specs import SyncSpec


def fast_options(name: str) -> dict[str, Any]:
    """Connector options against the sandbox: quick job polling, and Mailchimp's list."""
    return {"poll_interval": 0.01, **({"list": "Shop"} if name == "mailchimp" else {})}


def sandbox_credentials(sandbox: SandboxServer, name: str, key_env: str) -> dict[str, Any]:
    """A sync declaration's ``credentials`` for the sandbox, the key read from ``key_env``."""
    return {"api_key_env": key_env, "base_url": sandbox.url(name), "options": fast_options(name)}


def run_and_close(
    conn: duckdb.DuckDBPyConnection, spec: SyncSpec, key_env: str
) -> engine.RunReport:
    """One engine run of ``spec`` with the sandbox key in ``key_env``; closes ``conn``
    and raises when the run did not succeed."""
    try:
        report = engine.run(spec, conn, env={key_env: SANDBOX_KEYS[spec.provider]})
    finally:
        conn.close()
    report.raise_for_status()
    return report
