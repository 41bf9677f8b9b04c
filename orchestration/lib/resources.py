"""Resource classes shared by the assets: thin wrappers over ``activations``
(instantiated in ``orchestration/defs/resources.py``).

Secrets never enter resource config (the Dagster UI shows config): provider
keys are read at run time from the environment variables each sync
declaration names (``credentials.api_key_env``), and the alert webhook from
the variable named here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg

from activations.warehouse.connections import connect


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse: a DuckDB file path or a PostgreSQL URL. Unset: the
    ``ACTIVATIONS_WAREHOUSE`` URL, else ``DUCKDB_PATH`` (the file dbt builds)."""

    target: str | None = None

    @contextmanager
    def connection(self, *, read_only: bool = False) -> Iterator[Any]:
        """One connection for the duration of the work (DuckDB has one writer)."""
        conn = connect(self.target, read_only=read_only)
        try:
            yield conn
        finally:
            conn.close()


class AlertWebhookResource(dg.ConfigurableResource):
    """Where run-failure alerts go: a Slack-compatible incoming webhook whose
    URL (a secret) is read from the environment variable ``url_env``."""

    url_env: str = "ALERT_WEBHOOK_URL"
    timeout_s: float = 10.0

    def url(self) -> str | None:
        return os.environ.get(self.url_env) or None

