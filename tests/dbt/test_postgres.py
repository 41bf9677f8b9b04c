"""The same dbt project builds on PostgreSQL 15 (portable SQL)."""

from __future__ import annotations

import psycopg
import pytest

from activations.warehouse import dbt

pytestmark = pytest.mark.postgres

FOUNDATION = ["path:models/staging", "path:models/intermediate/identity", "customers", "orders"]


@pytest.fixture(scope="module")
def pg_target(tmp_path_factory):
    return tmp_path_factory.mktemp("pg_target")


@pytest.fixture(scope="module")
def foundation_build(postgres_server, built_warehouse, pg_target):
    """Sources, staging, identity stitching and the core marts, on PostgreSQL."""
    return dbt.build(
        target="postgres",
        select=FOUNDATION,
        vars=built_warehouse.vars,
        target_path=pg_target,
        env=postgres_server.env,
        extra_args=["--indirect-selection", "buildable"],
        quiet=True,
    )


def test_foundation_builds_on_postgres(foundation_build):
    assert not [n for n in foundation_build.nodes if n.failed]
    built = {n.name for n in foundation_build.nodes if n.resource_type == "model"}
    assert {"stg_app__events", "int_events_identified", "customers", "orders"} <= built
    assert "unit_test" in {n.resource_type for n in foundation_build.nodes}


def test_postgres_marts_agree_with_raw(foundation_build, postgres_server):
    with psycopg.connect(postgres_server.conninfo) as pg:
        mismatches = pg.execute(
            """
            select c.customer_id
            from core.customers c
            left join (
                select customer_id, count(*) as n, sum(total) as revenue
                from raw.orders where status in ('paid', 'shipped')
                group by customer_id
            ) o using (customer_id)
            where c.order_count != coalesce(o.n, 0)
               or c.total_revenue != coalesce(o.revenue, 0)
            """
        ).fetchall()
        assert mismatches == []
        (paths,) = pg.execute(
            "select count(*) from staging.stg_app__events where page_path is not null"
        ).fetchone()
        (events,) = pg.execute("select count(*) from staging.stg_app__events").fetchone()
        assert events > 0 and paths > 0  # nested JSON (context.page.path) unpacked


def test_whole_project_builds_on_postgres(
    foundation_build, postgres_server, built_warehouse, pg_target
):
    """Every other model, seed and test of every area (the foundation is built
    already): a failure names the node to fix."""
    run = dbt.build(
        target="postgres",
        exclude=FOUNDATION,
        vars=built_warehouse.vars,
        target_path=pg_target,
        env=postgres_server.env,
        quiet=True,
    )
    assert not [n for n in run.nodes if n.failed]
