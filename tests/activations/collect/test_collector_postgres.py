"""The collector on a PostgreSQL warehouse: the same micro-batches, deduplication
and rejects through ``Db`` (in a database of its own on the throwaway server)."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from activations.collect.server import collector_in_thread


@pytest.mark.postgres
def test_collector_lands_once_in_postgres(postgres_instance) -> None:
    admin = f"host={postgres_instance.host} port={postgres_instance.port} user=postgres"
    with psycopg.connect(f"{admin} dbname=postgres", autocommit=True) as pg:
        pg.execute("drop database if exists collector_test")
        pg.execute("create database collector_test")
    target = f"{admin} dbname=collector_test"
    calls = [
        {"type": "track", "messageId": f"pg-{i}", "anonymousId": "a", "event": "Cart Viewed"}
        for i in range(30)
    ] + [{"type": "identify", "messageId": "pg-id", "userId": "cus_1", "traits": {"x": 1}}]
    with collector_in_thread(target) as collector:
        auth = (collector.write_key, "")
        for _ in range(2):  # the second time is a retry
            answer = httpx.post(f"{collector.url}/v1/batch", json={"batch": calls}, auth=auth)
            assert answer.status_code == 200, answer.text
        refused = httpx.post(f"{collector.url}/v1/track", json={"userId": "u"}, auth=auth)
        assert refused.status_code == 400
    with psycopg.connect(target) as pg:
        assert pg.execute("select count(*) from raw.events").fetchone()[0] == 30
        assert pg.execute("select count(*) from raw.identifies").fetchone()[0] == 1
        (reason,) = pg.execute("select reason from raw.collector_rejects").fetchone()
        assert reason.startswith("missing event")
