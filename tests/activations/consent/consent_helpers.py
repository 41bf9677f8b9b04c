"""Helpers for the consent tests (fixtures are in conftest.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import duckdb
from sandbox_syncs import fast_options, sandbox_settings

from activations.contract.records import ProviderSettings
from activations.warehouse.raw_schema import create_raw_schema_sql


def raw_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection to a new DuckDB file at ``path`` holding the empty raw landing schema."""
    conn = duckdb.connect(str(path))
    for statement in create_raw_schema_sql():
        conn.execute(statement)
    return conn


def settings_for(sandbox: Any, name: str) -> ProviderSettings:
    settings = sandbox_settings(sandbox.base_url, name)
    return dataclasses.replace(settings, options=fast_options(name))


def signed_post(
    base_url: str,
    provider: str,
    body: bytes | Any,
    *,
    form: bool = False,
    now: float | None = None,
    secret: str | None = None,
    token: str | None = "hook-token-123",
    timeout: float = 20.0,
) -> Any:
    """POST ``body`` (bytes, or a payload to encode) to the receiver at ``base_url`` as
    ``provider`` delivers it: signed with the sandbox's secret (or ``secret``) at
    ``now`` (default: the wall clock), with the shared ``token`` when one is given."""
    import json
    import time
    from urllib.parse import urlencode

    import httpx

    from activations.sandbox.signing import DEFAULT_WEBHOOK_SECRETS, sign

    if not isinstance(body, bytes):
        body = urlencode(body).encode() if form else json.dumps(body).encode()
    url = f"{base_url}/hooks/{provider}" + (f"?token={token}" if token else "")
    key = DEFAULT_WEBHOOK_SECRETS[provider] if secret is None else secret
    url, headers = sign(provider, url, body, key, time.time() if now is None else now)
    kind = "application/x-www-form-urlencoded" if form else "application/json"
    return httpx.post(url, content=body, headers={"content-type": kind, **headers},
                      timeout=timeout)
