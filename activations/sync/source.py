"""Where a sync reads its audience: the warehouse it keeps its state in (the
default), or Apache Spark (``ACTIVATIONS_AUDIENCES_FROM=spark``).

Spark reads and builds at any scale, but its plain parquet tables cannot
commit a batch at a time: an insert rewrites files, with no transaction
spanning the state tables, and nothing the engine could roll back to after a
crash. The engine's promise (only what the provider confirmed enters the
state, batch by batch; a killed run loses nothing and resends nothing
confirmed) needs exactly that. So with Spark the state stays in a small
transactional store beside it, the DuckDB file of ``DUCKDB_PATH`` (the same
schema ``activations`` as on every warehouse): before each plan the audience
(and ``core.contact_policy``, which the snapshot joins) is copied from Spark
into that file in one transaction, and the engine plans, delivers and
commits there as it does on DuckDB. The copy is one audience (one row per
person), not the events behind it. The dashboard reads the core and metric
marts the same way (``prepare_marts``: copied into the DuckDB file first).
"""

from __future__ import annotations

import os
from typing import Any

from activations.errors import UserError
from activations.sync.specs import SyncSpec
from activations.warehouse.db import Db

ENV = "ACTIVATIONS_AUDIENCES_FROM"


def audiences_from() -> str:
    """``warehouse`` (default) or ``spark``, from ``ACTIVATIONS_AUDIENCES_FROM``."""
    value = (os.environ.get(ENV) or "warehouse").strip().lower()
    if value not in ("warehouse", "spark"):
        raise UserError(
            f"{ENV}={value!r} is not a known audience source",
            hint=f"set {ENV} to spark (audiences built on Spark) or leave it unset",
        )
    return value


def from_spark() -> bool:
    return audiences_from() == "spark"


def prepare(spec: SyncSpec, conn: Any) -> dict[str, int]:
    """Before planning ``spec`` on ``conn`` (the state store): with Spark as the
    audience source, copy its audience and the contact policy from Spark into
    the store. Nothing to do otherwise. Returns the rows copied per table."""
    if not from_spark():
        return {}
    db = Db.wrap(conn)
    if db.dialect != "duckdb":
        raise UserError(
            "audiences from Spark keep their sync state in a DuckDB file (DUCKDB_PATH), "
            "not in PostgreSQL",
            hint=f"unset ACTIVATIONS_WAREHOUSE, or unset {ENV}",
        )
    from activations.warehouse import spark

    session = spark.audience_session()
    return spark.mirror_to_duckdb(session, db.conn, [spec.audience_relation, "core.contact_policy"])


def prepare_marts(warehouse: Any = None) -> dict[str, int]:
    """Before the dashboard reads the DuckDB file ``warehouse`` (default
    ``DUCKDB_PATH``): with Spark as the source, copy the core and metric marts
    and the build record from Spark into it. Nothing to do otherwise."""
    if not from_spark():
        return {}
    from activations.warehouse import spark
    from activations.warehouse.connections import connect_duckdb

    con = connect_duckdb(warehouse)
    try:
        return spark.mirror_marts(spark.audience_session(), con)
    finally:
        con.close()
