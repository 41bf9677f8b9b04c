"""Helpers for tests that sync to the ESP sandbox through the engine (the
``sandbox`` fixture is in conftest.py, next to this module)."""

from __future__ import annotations

from typing import Any

import duckdb

from activations.contract.records import ProviderSettings
from activations.providers import registry
from activations.sandbox.env import credentials
from activations.sandbox.server import SandboxServer
from activations.sandbox.settings import DEFAULT_KEYS
from activations.sync import engine
from activations.sync.specs import SyncSpec


def fast_options(name: str) -> dict[str, Any]:
    """Connector options against the sandbox: quick job polling, and Mailchimp's list."""
    return {"poll_interval": 0.01, **({"list": "Shop"} if name == "mailchimp" else {})}


def sandbox_settings(base_url: str, name: str) -> ProviderSettings:
    """Provider ``name``'s settings in the sandbox at ``base_url`` (its URL and demo key)."""
    url, key = credentials(name, base_url)
    return registry.settings(name, key, url)


def sandbox_credentials(sandbox: SandboxServer, name: str, key_env: str) -> dict[str, Any]:
    """A sync declaration's ``credentials`` for the sandbox, the key read from ``key_env``."""
    return {"api_key_env": key_env, "base_url": sandbox.url(name), "options": fast_options(name)}


def run_and_close(
    conn: duckdb.DuckDBPyConnection, spec: SyncSpec, key_env: str
) -> engine.RunReport:
    """One engine run of ``spec`` with the sandbox key in ``key_env``; closes ``conn``
    and raises when the run did not succeed."""
    try:
        report = engine.run(spec, conn, env={key_env: DEFAULT_KEYS[spec.provider]})
    finally:
        conn.close()
    report.raise_for_status()
    return report
