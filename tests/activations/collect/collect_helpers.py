"""The collector tests' helpers: a running collector with an HTTP client and a reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import httpx

from activations.collect.server import CollectorServer

WRITE_KEY = "wk_test_0123456789"


class Collector:
    def __init__(self, server: CollectorServer, path: Path):
        self.server = server
        self.url = server.url
        self.path = path
        self.http = httpx.Client(base_url=server.url, auth=(WRITE_KEY, ""), timeout=30)

    def post(self, route: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is not None:
            kwargs["json"] = body
        return self.http.post(f"/v1/{route}", **kwargs)

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        # the same process: DuckDB shares the collector's open database
        con = duckdb.connect(str(self.path))
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def count(self, table: str, where: str = "true", params: list[Any] | None = None) -> int:
        return self.query(f"select count(*) from raw.{table} where {where}", params)[0][0]
