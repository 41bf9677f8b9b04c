"""Apache Spark as the warehouse: a local, quiet Spark session and the raw
landing tables as parquet tables in it.

dbt reaches Spark through dbt-spark (profiles.yml target ``spark``: the
in-process ``session`` method here; ``thrift`` or ``odbc`` on a cluster, see the
README). This module holds what the product itself needs around that: the
session settings the ``spark`` target and the tests share (``local_conf``), a
session (``session``), and loading the raw tables a DuckDB file holds into
Spark as parquet tables (``load_raw_from_duckdb``): the schema ``raw`` the dbt
sources read, with the columns of ``raw_schema.RAW_TABLES``.

Optional: pyspark and dbt-spark are the ``spark`` dependency group
(``make spark-install``); nothing here imports pyspark before it is called.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from activations.errors import UserError
from activations.warehouse.raw_schema import NORMALISED_TABLES, RAW_SCHEMA, RAW_TABLES

#: the JVM flags that roughly halve a local session's start-up (C1 only, serial GC; C1
#: alone fills its default 48 MB code cache with Spark's generated code: give it room)
LOG4J2 = Path(__file__).with_name("spark_log4j2.properties")  # errors only
FAST_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=256m"


def available() -> str | None:
    """``None`` when Spark can run here, else why not (for a skip or a message)."""
    try:
        import pyspark  # noqa: F401
        from dbt.adapters import spark as _  # noqa: F401
    except ImportError:
        return "pyspark and dbt-spark are not installed (`make spark-install`)"
    import shutil

    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "Java is not installed (Spark needs a JDK 17 or later on PATH)"
    return None


def local_conf(root: Path | str) -> dict[str, str]:
    """Settings of a local, quiet, single-machine Spark under ``root``: two cores,
    no UI, loopback only, two shuffle partitions, UTC, the warehouse directory
    and the Derby metastore in ``root`` (the same settings profiles.yml's
    ``spark`` target passes, under ACTIVATIONS_SPARK_DIR)."""
    root = Path(root).resolve()
    return {
        "spark.master": "local[2]",
        "spark.app.name": "activations",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.sql.shuffle.partitions": "2",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": str(root / "warehouse"),
        "spark.driver.extraJavaOptions": f"{FAST_JVM} -Dderby.system.home={root / 'metastore'}"
        f" -Duser.timezone=UTC -Dlog4j2.configurationFile=file:{LOG4J2}",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={root / 'metastore' / 'metastore_db'};create=true"
        ),
        # dbt-spark turns ANSI off too (a failed cast is null, as safe_cast elsewhere)
        "spark.sql.ansi.enabled": "false",
    }


def session(root: Path | str, conf: Mapping[str, str] | None = None) -> Any:
    """The process's Spark session (created with ``local_conf(root)`` the first
    time; dbt-spark's ``session`` method then reuses it). Quiet: errors only."""
    reason = available()
    if reason:
        raise UserError(f"Spark cannot run here: {reason}")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no "resolves to a loopback" warning
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in {**local_conf(root), **(conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


_SPARK_TYPES = {"varchar": "string", "integer": "int"}


def spark_type(sql_type: str) -> str:
    """A portable type of ``RAW_TABLES`` as Spark SQL spells it."""
    return _SPARK_TYPES.get(sql_type, sql_type)


def load_raw_from_duckdb(
    duckdb_path: Path | str,
    spark: Any,
    parquet_dir: Path | str,
    *,
    limits: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Write every raw table of the DuckDB file to parquet under ``parquet_dir``
    and (re)create it in Spark as ``raw.<table>``, a parquet table over those
    files with the columns of ``RAW_TABLES``. Timestamps are naive UTC in
    DuckDB; they are written as UTC instants, which a Spark session in UTC reads
    back as the same wall time. ``limits``: table -> SQL suffix (``order by ...
    limit n``) to load a slice. Returns the rows per table."""
    import duckdb

    from activations.warehouse.dbt import prepare_raw

    prepare_raw(duckdb_path)  # raw.phone_numbers (E.164) first: it goes to parquet too
    out = Path(parquet_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    spark.sql(f"create database if not exists {RAW_SCHEMA}")
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        # the loaders' tables and the build's own (raw.phone_numbers, E.164)
        for table, columns in {**RAW_TABLES, **NORMALISED_TABLES}.items():
            select = ", ".join(
                f'cast("{name}" as timestamptz) as "{name}"' if sql_type == "timestamp"
                else f'"{name}"'
                for name, sql_type in columns
            )  # fmt: skip
            suffix = (limits or {}).get(table, "")
            target = out / table  # a table's location is a directory of parquet files
            target.mkdir(exist_ok=True)
            for old in target.glob("*.parquet"):
                old.unlink()
            # a new file name on every load: Spark caches what it listed under a location
            part = target / f"part-{uuid.uuid4().hex}.parquet"
            con.execute(
                f"copy (select {select} from {RAW_SCHEMA}.{table} {suffix}) "
                f"to '{part}' (format parquet)"
            )
            counts[table] = con.execute(f"select count(*) from '{target}/*.parquet'").fetchone()[0]
            cols = ", ".join(f"`{name}` {spark_type(t)}" for name, t in columns)
            spark.sql(f"drop table if exists {RAW_SCHEMA}.{table}")
            spark.sql(
                f"create table {RAW_SCHEMA}.{table} ({cols}) using parquet location '{target}'"
            )
    finally:
        con.close()
    return counts


#: what the parity test and the benchmark build: models and seeds, no data or unit tests
MODELS_ONLY = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


def dbt_env(root: Path | str) -> dict[str, str]:
    """What a dbt process needs to build on the local ``spark`` target under ``root``."""
    return {
        "DBT_TARGET": "spark",
        "ACTIVATIONS_SPARK_DIR": str(Path(root).resolve()),
        "SPARK_LOCAL_IP": "127.0.0.1",
    }


def build_from_duckdb(
    duckdb_path: Path | str,
    root: Path | str,
    *,
    vars: Mapping[str, Any] | None = None,
    command: str = "build",
    extra_args: tuple[str, ...] = MODELS_ONLY,
    target_path: Path | str | None = None,
) -> tuple[Any, Any]:
    """The shop of a DuckDB file, built on a local Spark under ``root``: raw
    tables to parquet, then one dbt invocation on the ``spark`` target in this
    process (dbt-spark's session reuses this process's Spark). Returns the
    Spark session and dbt's run."""
    from activations.warehouse import dbt

    root = Path(root).resolve()
    spark = session(root)
    load_raw_from_duckdb(duckdb_path, spark, root / "raw")
    run = dbt.run_dbt(
        command,
        target="spark",
        vars=vars,
        extra_args=extra_args,
        target_path=target_path or root / "dbt_target",
        env={**dbt_env(root), "PATH": os.environ.get("PATH", "")},
        quiet=True,
    )
    return spark, run


def audience_session() -> Any:
    """The Spark session the sync engine reads audiences from: Spark Connect
    when ``SPARK_REMOTE`` names a server (``sc://host:15002``, a cluster or
    Databricks), else the local session under ``ACTIVATIONS_SPARK_DIR``
    (default ``.spark``, where the ``spark`` dbt target builds)."""
    reason = available()
    if reason:
        raise UserError(f"audiences are read from Spark, but Spark cannot run here: {reason}")
    remote = os.environ.get("SPARK_REMOTE")
    if remote:
        from pyspark.sql import SparkSession

        return SparkSession.builder.remote(remote).getOrCreate()
    return session(os.environ.get("ACTIVATIONS_SPARK_DIR", ".spark"))


def mirror_to_duckdb(
    spark: Any, con: Any, tables: list[str], queries: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Copy Spark tables (``schema.table``) into the DuckDB connection ``con``,
    replacing the copies there in one transaction; the sync engine then plans
    and commits on DuckDB. Timestamps come back naive UTC, as dbt builds them on
    DuckDB. A table missing on Spark is skipped (the engine says what is
    missing). ``queries``: table -> Spark SQL whose result is copied under that
    name instead of the whole table (a summary). Returns the rows copied per table."""
    import pyarrow as pa

    copied: dict[str, int] = {}
    frames: dict[str, Any] = {}
    for name in tables:
        if not spark.catalog.tableExists(name):
            continue
        frames[name] = spark.table(name).toArrow()
    for name, sql in (queries or {}).items():
        frames[name] = spark.sql(sql).toArrow()
    con.execute("set TimeZone = 'UTC'")
    con.execute("begin")
    try:
        for name, arrow in frames.items():
            schema, table = name.split(".", 1)
            select = ", ".join(
                f'cast("{field.name}" as timestamp) as "{field.name}"'
                if pa.types.is_timestamp(field.type)
                else f'"{field.name}"'
                for field in arrow.schema
            )
            con.register("spark_mirror", arrow)
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create or replace table {name} as select {select} from spark_mirror")
            con.unregister("spark_mirror")
            copied[name] = arrow.num_rows
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return copied


#: the marts the dashboard and `activations report` read, by schema (tables only)
READ_SCHEMAS = ("core", "metrics")


#: the two facts the dashboard reads from staging, copied as one-row summaries
#: (never the event stream): the latest email event, the shop's main currency
READ_SUMMARIES = {
    "staging.stg_esp__email_events": (
        "select max(occurred_at) as occurred_at from staging.stg_esp__email_events"
    ),
    "staging.stg_shop__orders": (
        "select currency from staging.stg_shop__orders where currency is not null "
        "group by currency order by count(*) desc, currency limit 1"
    ),
}


def mirror_marts(spark: Any, con: Any, schemas: tuple[str, ...] = READ_SCHEMAS) -> dict[str, int]:
    """Copy every table of ``schemas`` (the core and metric marts), the build
    record ``activations.dbt_builds`` and the staging summaries the dashboard
    reads from Spark into the DuckDB connection ``con`` (``mirror_to_duckdb``)."""
    names = [
        f"{schema}.{table.name}"
        for schema in schemas
        if spark.catalog.databaseExists(schema)
        for table in spark.catalog.listTables(schema)
        if not table.isTemporary and (table.tableType or "").upper() != "VIEW"
    ]
    return mirror_to_duckdb(spark, con, [*names, "activations.dbt_builds"], READ_SUMMARIES)
