"""One clock for a build: as_of in UTC, fixed once per build, recorded.

A build under a non-UTC time zone (``TZ`` for DuckDB, ``PGTZ`` for a
PostgreSQL session) gives exactly the rows of the same build under UTC; a
build without an as_of var computes everything as of one UTC moment, the
same in every model, and records it in ``activations.dbt_builds``. The test
data end at a fixed moment (tests/conftest.py AS_OF), never at the wall clock.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import psycopg
import pytest

from activations.clock import utc_now
from activations.paths import DBT_PROJECT_DIR, PROJECT_ROOT
from activations.warehouse import dbt

NON_UTC = "Europe/Berlin"  # UTC+1/+2: a build at 07:43 UTC would see 08:43 or 09:43
# tables whose rows depend on as_of (views are evaluated by whoever queries them):
# the policy decided over every audience's candidates, and marts of hourly,
# daily and date-based audiences
TABLES = [
    "int_audience_memberships_decided", "contact_policy", "cart_abandoners", "pending_payment",
    "rfm_segments", "birthday_upcoming", "welcome_series",
]  # fmt: skip
AS_OF_LITERAL = re.compile(r"cast\('(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)' as timestamp\)")


def _copy(built_warehouse, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.duckdb"
    shutil.copyfile(built_warehouse.path, path)
    return path


def _dbt_subprocess(args: list[str], warehouse: Path, tz: str, target: Path) -> None:
    """The real `dbt` executable in its own process, so the time zone is the process's."""
    env = {
        **os.environ,
        **dbt.dbt_env(warehouse=warehouse),
        "TZ": tz,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    done = subprocess.run(
        ["dbt", "--quiet", *args, "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(target)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _table_rows(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_type = 'BASE TABLE' and table_schema in ('audiences', 'intermediate',"
            " 'core') order by 1, 2"
        ).fetchall()
        return {
            f"{s}.{t}": con.execute(f'select * from "{s}"."{t}" order by all').fetchall()
            for s, t in tables
        }
    finally:
        con.close()


def _builds(path: Path) -> list[tuple]:
    """The build record of the latest dbt invocation (the copy holds the shared build's too)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "select invocation_id, as_of, started_at, model_name from activations.dbt_builds"
            " where invocation_id = (select arg_max(invocation_id, finished_at)"
            " from activations.dbt_builds) order by model_name"
        ).fetchall()
    finally:
        con.close()


def test_a_build_under_a_non_utc_tz_gives_the_rows_of_the_build_under_utc(
    built_warehouse, tmp_path
):
    """The shared warehouse was built as of AS_OF in this process, in a UTC session;
    rebuilding its as_of-dependent tables under TZ=Europe/Berlin changes no row."""
    as_of = built_warehouse.vars["as_of"]
    path = _copy(built_warehouse, tmp_path, "berlin")
    _dbt_subprocess(
        ["run", "--select", *TABLES, "--vars", f"{{as_of: '{as_of}'}}"],
        path, NON_UTC, tmp_path / "target",
    )  # fmt: skip
    builds = _builds(path)
    assert {str(b[1]) for b in builds} == {as_of}
    rebuilt = {b[3] for b in builds}
    assert rebuilt == set(TABLES)
    berlin, utc = _table_rows(path), _table_rows(built_warehouse.path)
    compared = [t for t in utc if t.split(".")[1] in rebuilt]
    assert len(compared) == len(TABLES)
    assert sum(len(utc[t]) for t in compared) > 0
    for table in compared:
        assert berlin[table] == utc[table], table


def test_without_an_as_of_var_every_model_sees_one_utc_as_of(built_warehouse, tmp_path):
    """A plain `dbt run` under a non-UTC TZ: one as_of for all models, the moment
    the invocation started in UTC (not local time), a literal in every model's SQL."""
    path = _copy(built_warehouse, tmp_path, "plain")
    target = tmp_path / "target"
    before = utc_now()
    _dbt_subprocess(
        ["run", "--select", "path:models/intermediate", "cart_abandoners", "rfm_segments"],
        path, NON_UTC, target,
    )  # fmt: skip
    after = utc_now() + timedelta(seconds=1)
    builds = _builds(path)
    assert len({b[0] for b in builds}) == 1  # one invocation
    (as_of,) = {b[1] for b in builds}
    assert before <= as_of <= after  # UTC: under Berlin time local now is 1-2 h ahead
    assert {b[2] for b in builds} == {as_of}  # the moment the invocation started

    uses_as_of = 0
    for sql_file in (target / "run").rglob("*.sql"):
        if "/models/" not in sql_file.as_posix():
            continue
        sql = sql_file.read_text()
        assert not re.search(r"\bnow\(\)|current_timestamp|current_date", sql, re.I), sql_file
        seen = {m for m in AS_OF_LITERAL.findall(sql) if before <= _ts(m) <= after}
        if seen:
            uses_as_of += 1
            assert seen == {f"{as_of:%Y-%m-%d %H:%M:%S}"}, sql_file
    assert uses_as_of >= 15  # candidates, consent and sends, the policy, two audiences


def _ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "activations.cli", *args],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=600,
    )  # fmt: skip


def test_activations_build_fixes_as_of_in_utc_and_report_shows_it(built_warehouse, tmp_path):
    path = _copy(built_warehouse, tmp_path, "cli")
    env = {
        **os.environ,
        **dbt.dbt_env(warehouse=path),
        "TZ": NON_UTC,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "160",
    }
    before = utc_now()
    done = _cli("build", "-s", "rfm_segments", env=env)
    after = utc_now() + timedelta(seconds=1)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    builds = _builds(path)
    assert {b[3] for b in builds} == {"rfm_segments"}
    (as_of,) = {b[1] for b in builds}
    assert before <= as_of <= after
    assert f"as of {as_of:%Y-%m-%d %H:%M:%S} UTC" in done.stdout

    report = _cli("report", env=env)
    assert report.returncode == 0, report.stderr
    assert f"last build: as of {as_of:%Y-%m-%d %H:%M:%S} UTC" in report.stdout
    rfm_line = next(line for line in report.stdout.splitlines() if "rfm_segments" in line)
    assert f"{as_of:%Y-%m-%d %H:%M:%S}" in rfm_line


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("{as_of: 'yesterday'}", "as_of 'yesterday' is not a date or a time"),
        ("{as_of: '2026-13-01'}", "as_of '2026-13-01' is not a date or a time"),
        ("{as_of: \"2026-06-30'; drop table x; --\"}", "is not a date or a time"),
    ],
)
def test_a_bad_as_of_is_a_clear_error_before_sql(built_warehouse, given, message):
    done = _cli("build", "--select", "int_customer_orders_summarized", "--vars", given,
                env={**os.environ, **built_warehouse.env})  # fmt: skip
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_the_macro_rejects_a_bad_as_of_from_plain_dbt(built_warehouse):
    with pytest.raises(Exception, match="not a date or a UTC time"):
        built_warehouse.dbt(
            "compile", select=["int_customer_orders_summarized"], vars={"as_of": "soon"}
        )


# ---------------------------------------------------------------- PostgreSQL

PG_MODELS = ["+contact_policy", "+customers", "+int_customer_orders_summarized"]


def _pg_rows(conninfo: str) -> dict[str, list[tuple]]:
    with psycopg.connect(conninfo) as pg:
        pg.execute("set time zone 'UTC'")
        return {
            table: pg.execute(f"select * from {table} order by 1, 2").fetchall()
            for table in ("core.contact_policy", "core.customers")
        }


@pytest.mark.postgres
def test_postgres_build_under_a_non_utc_session_gives_the_rows_under_utc(
    postgres_server, built_warehouse, tmp_path
):
    rows = {}
    for tz in ("UTC", NON_UTC):
        dbt.run_dbt(
            "run", target="postgres", select=PG_MODELS, vars=built_warehouse.vars,
            target_path=tmp_path / "pg_target", env={**postgres_server.env, "PGTZ": tz},
            quiet=True,
        )  # fmt: skip
        rows[tz] = _pg_rows(postgres_server.conninfo)
    assert all(rows["UTC"].values())
    assert rows[NON_UTC] == rows["UTC"]

    # no as_of var: the invocation's start in UTC, whatever the session's zone
    before = utc_now()
    dbt.run_dbt(
        "run", target="postgres", select=["int_customer_orders_summarized"],
        target_path=tmp_path / "pg_target", env={**postgres_server.env, "PGTZ": NON_UTC},
        quiet=True,
    )  # fmt: skip
    after = utc_now() + timedelta(seconds=1)
    with psycopg.connect(postgres_server.conninfo) as pg:
        as_of, started = pg.execute(
            "select as_of, started_at from activations.dbt_builds"
            " order by finished_at desc limit 1"
        ).fetchone()
        assert before <= as_of <= after
        assert as_of == started
        recorded = {
            str(a)
            for (a,) in pg.execute("select distinct as_of from activations.dbt_builds").fetchall()
        }
    assert built_warehouse.vars["as_of"] in recorded
