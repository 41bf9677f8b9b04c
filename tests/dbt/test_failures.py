"""Bad input and broken models end in one clear UserError that names the node,
its file and dbt's reason; the command line prints it without a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from activations.errors import UserError
from activations.paths import DBT_PROJECT_DIR, PROJECT_ROOT
from activations.warehouse import dbt
from activations.warehouse.raw_schema import create_raw_schema_sql


@pytest.fixture
def empty_warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "empty.duckdb"
    con = duckdb.connect(str(path))
    for statement in create_raw_schema_sql():
        con.execute(statement)
    con.close()
    return path


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The dbt project, copied so that a test may break it."""
    copy = tmp_path / "dbt_project"
    shutil.copytree(
        DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs", ".user.yml")
    )
    return copy


def test_broken_model_sql_names_the_model_and_its_file(project_copy, empty_warehouse, tmp_path):
    model = project_copy / "models/staging/shop/stg_shop__orders.sql"
    model.write_text(
        model.read_text().replace("cart_id,", "cart_identifier,", 1)
    )  # a column raw.orders does not have
    with pytest.raises(UserError) as caught:
        dbt.build(
            project_dir=project_copy,
            warehouse=empty_warehouse,
            select=["stg_shop__orders"],
            target_path=tmp_path / "target",
            quiet=True,
        )
    text = str(caught.value)
    # its unit test runs first and fails on the model's SQL: both are named
    assert "stg_shop__orders" in text
    assert "models/staging/shop/stg_shop__orders.sql" in text
    assert "cart_identifier" in text  # dbt's (DuckDB's) own reason
    assert "activations build --select stg_shop__orders" in text
    assert "Traceback" not in text


def test_broken_jinja_fails_before_running_and_names_the_file(
    project_copy, empty_warehouse, tmp_path
):
    model = project_copy / "models/marts/core/orders.sql"
    model.write_text(model.read_text().replace("ref('stg_shop__orders')", "ref('stg_shop__order'"))
    with pytest.raises(UserError) as caught:
        dbt.build(
            project_dir=project_copy,
            warehouse=empty_warehouse,
            target_path=tmp_path / "target",
            quiet=True,
        )
    assert "orders.sql" in str(caught.value)


def test_bad_raw_data_names_the_failing_test(warehouse_copy):
    con = warehouse_copy.connect()
    con.execute("insert into raw.orders select * from raw.orders limit 1")  # a duplicate key
    con.close()
    with pytest.raises(UserError) as caught:
        warehouse_copy.dbt("build", select=["stg_shop__orders"])
    text = str(caught.value)
    assert "test unique_stg_shop__orders_order_id" in text
    assert "models/staging/shop/_shop__models.yml" in text


def test_selecting_a_missing_model_is_an_error(built_warehouse):
    with pytest.raises(UserError, match="no_such_model matches no model"):
        built_warehouse.dbt("build", select=["no_such_model"])


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "activations.cli", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=300,
    )


def test_cli_build_failure_is_one_message_without_traceback(built_warehouse):
    env = {**built_warehouse.env, "DBT_TARGET_PATH": str(built_warehouse.target_path)}
    as_of = built_warehouse.vars["as_of"]  # same vars: dbt reuses its parse
    result = _cli("build", "--select", "no_such_model", "--vars", f"{{as_of: '{as_of}'}}", env=env)
    assert result.returncode == 2
    assert "error: dbt build: --select no_such_model matches no model" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_rejects_vars_that_are_not_a_mapping(built_warehouse):
    result = _cli("build", "--vars", "[as_of", env=built_warehouse.env)
    assert result.returncode == 2
    assert "--vars is not valid YAML" in result.stderr


def test_missing_raw_tables_say_to_load_them_first(tmp_path):
    with pytest.raises(UserError) as caught:
        dbt.build(
            warehouse=tmp_path / "blank.duckdb",
            select=["stg_shop__orders"],
            target_path=tmp_path / "target",
            quiet=True,
        )
    text = str(caught.value)
    assert "model stg_shop__orders in models/staging/shop/stg_shop__orders.sql" in text
    assert "raw landing tables are missing" in text


def test_a_locked_warehouse_is_one_clear_message(empty_warehouse, tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(60)",
            str(empty_warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match="is locked by another process"):
            dbt.build(warehouse=empty_warehouse, target_path=tmp_path / "target", quiet=True)
    finally:
        holder.kill()
        holder.wait()
