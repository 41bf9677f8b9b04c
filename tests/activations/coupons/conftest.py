"""Shared helpers of the coupon tests: a sync declaration with a ``coupons:``
block over the sync tests' audience shape, a destination that keeps the
fields it received, and the ledger as a dict."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest

from activations.contract.records import Outcome, Record
from activations.sync.specs import SyncSpec, parse_file
from tests.activations.sync.conftest import MemoryDestination, write_spec

ENV = {"HOOK_SECRET": "x" * 12, "HOOK_URL": "http://127.0.0.1:9"}
CODE = r"CART-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}"


def coupon_spec(
    tmp_path: Path,
    coupons: str = "{campaign: cart-24h, prefix: CART-, value_column: cart_value}",
    *,
    name: str = "carts_hook",
    mode: str = "mirror",
    file: str = "syncs.yml",
) -> SyncSpec:
    path = write_spec(
        tmp_path,
        f"""syncs:
  - name: {name}
    audience: carts
    provider: webhook
    destination: /hooks/{name}
    mode: {mode}
    fields:
      value: cart_value
      code: coupon.code
      code_value: coupon.value
      expires: coupon.expires_at
    coupons: {coupons}
    credentials: {{api_key_env: HOOK_SECRET, base_url_env: HOOK_URL}}
""",
        name=file,
    )
    return parse_file(path)[0]


class FieldsDestination(MemoryDestination):
    """The in-memory destination, keeping the last fields sent per key."""

    def __init__(self) -> None:
        super().__init__(max_records=1000)
        self.fields: dict[str, dict[str, Any]] = {}

    def upsert(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        out = super().upsert(destination, batch)
        for r in batch:
            self.fields[r.key] = dict(r.fields)
        return out


def ledger(con: Any, campaign: str = "cart-24h") -> dict[str, str]:
    """person_id -> code of ``campaign`` (empty when there is no ledger)."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'activations' and table_name = 'coupon_assignments'"
    ).fetchone()[0]
    if not exists:
        return {}
    return dict(
        con.execute(
            "select person_id, code from activations.coupon_assignments where campaign = ?",
            [campaign],
        ).fetchall()
    )


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    yield con
    con.close()
