"""The same dbt project builds on PostgreSQL 15 (portable SQL)."""

from __future__ import annotations

import psycopg
import pytest

from activations import dbt

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def postgres_build(postgres_server, built_warehouse, tmp_path_factory):
    return dbt.build(
        target="postgres",
        vars=built_warehouse.vars,
        target_path=tmp_path_factory.mktemp("pg_target"),
        env=postgres_server.env,
        quiet=True,
    )


def test_dbt_build_passes_on_postgres(postgres_build):
    assert postgres_build.nodes
    assert not [n for n in postgres_build.nodes if n.failed]
    assert {"model", "test", "unit_test"} <= {n.resource_type for n in postgres_build.nodes}


def test_postgres_marts_agree_with_raw(postgres_build, postgres_server):
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
