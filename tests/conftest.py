"""Once-per-run fixtures shared by the whole test suite.

- ``built_warehouse``: a temporary DuckDB file filled by the synthetic
  generator and built by ``dbt build`` once per run (read it, don't write it;
  take ``warehouse_copy`` to write).
- ``dbt_parsed``: ``dbt parse`` once, so Dagster definitions can load.
- ``postgres_server``: a throwaway PostgreSQL 15 server with the raw schema
  and a small slice of the generated data.

Everything runs for real: real DuckDB files, the real dbt, a real server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from activations.paths import DBT_PROJECT_DIR, PROJECT_ROOT
from activations.warehouse import dbt as dbt_runner
from activations.warehouse.raw_schema import RAW_TABLES, create_raw_schema_sql

# The fixed moment the test data ends at and audiences are computed for.
AS_OF = datetime(2026, 6, 30, 12, 0, 0)
GENERATOR_ARGS: dict[str, Any] = {"customers": 800, "days": 60, "seed": 7}
VENV_BIN = Path(sys.executable).parent


def dbt_vars(as_of: datetime = AS_OF) -> dict[str, str]:
    return {"as_of": as_of.strftime("%Y-%m-%d %H:%M:%S")}


def _prepend_venv_to_path() -> None:
    """dagster-dbt and subprocesses run the `dbt` executable: the venv's one first."""
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if str(VENV_BIN) not in parts[:1]:
        os.environ["PATH"] = os.pathsep.join([str(VENV_BIN), *parts])


def create_raw_schema(con: Any) -> None:
    """Create schema ``raw`` and its tables on a DuckDB or psycopg connection."""
    for statement in create_raw_schema_sql():
        con.execute(statement)


def fill_raw(path: Path, as_of: datetime = AS_OF, **generator_args: Any) -> dict[str, int]:
    """Fill ``raw`` in a DuckDB file with the synthetic generator (seeded, fixed end)."""
    from activations.generator import generate

    args = {**GENERATOR_ARGS, **generator_args}
    con = duckdb.connect(str(path))
    try:
        create_raw_schema(con)
        return dict(generate(con, end=as_of, **args))
    finally:
        con.close()


@dataclass
class BuiltWarehouse:
    """A DuckDB warehouse with raw data and every dbt model built."""

    path: Path
    as_of: datetime
    env: dict[str, str]
    target_path: Path
    raw_counts: dict[str, int] = field(default_factory=dict)
    build: dbt_runner.DbtRun | None = None

    @property
    def vars(self) -> dict[str, str]:
        return dbt_vars(self.as_of)

    def connect(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A connection to the file; close it when done (one writer per file)."""
        return duckdb.connect(str(self.path), read_only=read_only)

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        con = self.connect()
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def dbt(self, command: str, **kwargs: Any) -> dbt_runner.DbtRun:
        """Run dbt against this warehouse (as_of vars and a private target path)."""
        kwargs.setdefault("vars", self.vars)
        kwargs.setdefault("target_path", self.target_path)
        kwargs.setdefault("quiet", True)
        return dbt_runner.run_dbt(command, warehouse=self.path, **kwargs)


def build_warehouse(
    path: Path, target_path: Path, *, as_of: datetime = AS_OF, **generator_args: Any
) -> BuiltWarehouse:
    """Generate raw data into ``path`` and ``dbt build`` it (the once-per-run setup)."""
    _prepend_venv_to_path()
    counts = fill_raw(path, as_of, **generator_args)
    warehouse = BuiltWarehouse(
        path=path,
        as_of=as_of,
        env={**dbt_runner.dbt_env(warehouse=path), "PATH": os.environ["PATH"]},
        target_path=target_path,
        raw_counts=counts,
    )
    warehouse.build = warehouse.dbt("build")
    return warehouse


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltWarehouse]:
    """The generated shop (800 customers, 60 days, seed 7, ending AS_OF), fully built."""
    root = tmp_path_factory.mktemp("built_warehouse")
    yield build_warehouse(root / "warehouse.duckdb", root / "dbt_target")


@pytest.fixture
def warehouse_copy(built_warehouse: BuiltWarehouse, tmp_path: Path) -> BuiltWarehouse:
    """A private copy of the built warehouse, for tests that write to it."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse.path, path)
    return BuiltWarehouse(
        path=path,
        as_of=built_warehouse.as_of,
        env={**built_warehouse.env, "DUCKDB_PATH": str(path)},
        target_path=tmp_path / "dbt_target",
        raw_counts=dict(built_warehouse.raw_counts),
        build=built_warehouse.build,
    )


@pytest.fixture(scope="session")
def dbt_parsed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``dbt parse`` once per run: writes dbt_project/target/manifest.json, which
    Dagster's dbt component loads when it has no state. Returns the manifest path."""
    _prepend_venv_to_path()
    os.environ.setdefault("DBT_PROFILES_DIR", str(DBT_PROJECT_DIR))
    scratch = tmp_path_factory.mktemp("dbt_parse") / "parse.duckdb"
    dbt_runner.parse(warehouse=scratch, vars=dbt_vars(), quiet=True)
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    assert manifest.exists(), f"dbt parse wrote no {manifest}"
    return manifest


@pytest.fixture
def run_dbt(built_warehouse: BuiltWarehouse):
    """Run dbt against the built warehouse: ``run_dbt("test", select=["customers"])``."""
    return built_warehouse.dbt


# ---------------------------------------------------------------- PostgreSQL

PG_TABLE_ROW_LIMIT = 20_000  # a small slice: enough for every model and test


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    dbname: str
    data_dir: Path

    @property
    def env(self) -> dict[str, str]:
        """PG* variables, as profiles.yml's `postgres` target reads them."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGPASSWORD": "",
            "PGDATABASE": self.dbname,
            "DBT_TARGET": "postgres",
        }

    @property
    def conninfo(self) -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={self.dbname}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_os_user() -> dict[str, Any]:
    """PostgreSQL refuses to run as root: as root, run it as a plain user."""
    if os.geteuid() != 0:
        return {}
    import pwd

    name = "pgtest"
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(name)
    return {"user": entry.pw_uid, "group": entry.pw_gid}


SLICED_TABLES = {"events": '"timestamp"', "email_events": "occurred_at"}  # table -> time column


def copy_raw_to_postgres(
    duckdb_path: Path, conninfo: str, *, limit: int = PG_TABLE_ROW_LIMIT
) -> dict[str, int]:
    """Create ``raw`` on PostgreSQL and COPY each raw table from DuckDB into it.

    The event streams (events, email events) keep their most recent ``limit``
    rows; every other table is copied whole, so keys still match."""
    import psycopg

    source = duckdb.connect(str(duckdb_path), read_only=True)
    counts: dict[str, int] = {}
    try:
        with psycopg.connect(conninfo, autocommit=True) as pg:
            create_raw_schema(pg)
            for table, columns in RAW_TABLES.items():
                quoted = ", ".join(f'"{name}"' for name, _ in columns)
                sql = f"select {quoted} from raw.{table}"
                if table in SLICED_TABLES:
                    sql += f" order by {SLICED_TABLES[table]} desc limit {int(limit)}"
                rows = source.execute(sql).fetchall()
                with pg.cursor() as cur:
                    cur.execute(f"truncate raw.{table}")
                    with cur.copy(f"copy raw.{table} ({quoted}) from stdin") as copy:
                        for row in rows:
                            copy.write_row(row)
                counts[table] = len(rows)
    finally:
        source.close()
    return counts


@pytest.fixture(scope="session")
def postgres_instance() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL 15 server on a free port with an empty database
    ``warehouse``, stopped and removed at the end of the run."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL is not installed (initdb/pg_ctl not on PATH)")
    import psycopg

    # not under pytest's temp dir: that one is private to root, and the server
    # runs as a plain user when the tests run as root
    root = Path(tempfile.mkdtemp(prefix="activations-pg-"))
    data_dir, socket_dir, log = root / "data", root / "sock", root / "server.log"
    socket_dir.mkdir()
    as_user = _postgres_os_user()
    if as_user:
        for path in (root, socket_dir):
            os.chown(path, as_user["user"], as_user["group"])
    init = subprocess.run(
        [initdb, "-D", str(data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        capture_output=True,
        text=True,
        **as_user,
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr[-2000:]}")
    port = _free_port()
    options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = subprocess.run(
        [pg_ctl, "-D", str(data_dir), "-l", str(log), "-o", options, "-w", "-t", "60", "start"],
        capture_output=True,
        text=True,
        **as_user,
    )
    if started.returncode != 0:
        text = log.read_text() if log.exists() else started.stderr
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {text[-2000:]}")
    server = PostgresServer("127.0.0.1", port, "postgres", "warehouse", data_dir)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(
                    f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
                ) as admin:
                    admin.execute("create database warehouse")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        subprocess.run(
            [pg_ctl, "-D", str(data_dir), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            **as_user,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server(
    postgres_instance: PostgresServer, built_warehouse: BuiltWarehouse
) -> PostgresServer:
    """The throwaway server with ``raw`` loaded from the built warehouse (events
    and email events cut to a slice)."""
    copy_raw_to_postgres(built_warehouse.path, postgres_instance.conninfo)
    return postgres_instance


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


def dbt_env_for(server: PostgresServer, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**server.env, **(extra or {})}
