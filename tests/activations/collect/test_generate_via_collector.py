"""``activations generate --via-collector``: the same shop as a direct run, its
track and identify calls having travelled through the collector."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb

from activations.collect.client import generate_via_collector
from activations.collect.server import collector_in_thread
from activations.generator import generate

SHOP = {"customers": 60, "days": 7, "seed": 3, "end": datetime(2026, 6, 30, 12)}


def _read(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_generator_through_the_collector_lands_the_same_calls(tmp_path: Path) -> None:
    direct = tmp_path / "direct.duckdb"
    counts = generate(direct, **SHOP)
    via = tmp_path / "via.duckdb"
    with collector_in_thread(str(via)) as collector:
        direct_counts, sent = generate_via_collector(
            collector.url, collector.write_key, via, threads=2, **SHOP
        )
    assert sent.refused == 0
    assert sent.acknowledged == counts["events"] + counts["identifies"]
    assert direct_counts == {t: n for t, n in counts.items() if t not in ("events", "identifies")}

    events = "select message_id, anonymous_id, user_id, event, timestamp, properties, context"

    def rows(path: Path, sql: str) -> dict[str, tuple]:
        return {r[0]: r[1:] for r in _read(path, sql)}

    a = rows(direct, f"{events} from raw.events")
    b = rows(via, f"{events} from raw.events")
    assert a.keys() == b.keys()
    for mid, (anon, user, event, ts, props, ctx) in a.items():
        anon2, user2, event2, ts2, props2, ctx2 = b[mid]
        assert (anon, user, event, ts) == (anon2, user2, event2, ts2)
        assert json.loads(props) == json.loads(props2)
        assert json.loads(ctx) == json.loads(ctx2)
    identifies = "select message_id, user_id, anonymous_id, traits, timestamp from raw.identifies"
    a, b = rows(direct, identifies), rows(via, identifies)
    assert a.keys() == b.keys()
    for mid, (user, anon, traits, ts) in a.items():
        assert (user, anon, ts) == (b[mid][0], b[mid][1], b[mid][3])
        assert json.loads(traits) == json.loads(b[mid][2])
    for table in ("orders", "customers", "consents"):
        assert _read(via, f"select count(*) from raw.{table}")[0][0] == counts[table]


def test_cli_option_sends_through_a_running_collector(tmp_path: Path) -> None:
    """Another process: the collector lets go of the DuckDB file while idle, so the
    generator can write the shop's own tables before it sends the calls."""
    import subprocess
    import sys

    cli = Path(sys.executable).parent / "activations"
    target = tmp_path / "cli.duckdb"
    args = ["--customers", "20", "--days", "3", "--end", "2026-06-30T12:00"]
    with collector_in_thread(str(target), write_key="wk_cli") as collector:
        missing = subprocess.run(
            [str(cli), "generate", *args, "--via-collector", collector.url],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "DUCKDB_PATH": str(target)},
        )
        assert missing.returncode == 2
        assert "write key" in missing.stderr and "Traceback" not in missing.stderr
        done = subprocess.run(
            [str(cli), "generate", *args, "--warehouse", str(target)]
            + ["--via-collector", collector.url, "--write-key", "wk_cli"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert "calls acknowledged" in done.stdout
    landed = _read(
        target, "select (select count(*) from raw.events) + (select count(*) from raw.identifies)"
    )[0][0]
    assert landed > 0
    assert f"{landed:,} calls acknowledged" in " ".join(done.stdout.split())


def test_demo_sample_lands_page_views(tmp_path: Path) -> None:
    """What the demo runs: a collector in a thread on the demo's warehouse, a sample sent."""
    from activations.collect.client import send_sample

    target = tmp_path / "demo.duckdb"
    generate(target, **{**SHOP, "customers": 10})
    with collector_in_thread(str(target)) as collector:
        sent = send_sample(collector.url, collector.write_key, calls=120, seed=5)
    assert (sent.acknowledged, sent.refused) == (120, 0)
    rows = _read(
        target,
        "select count(*), count(distinct anonymous_id) from raw.events "
        "where event = 'Page Viewed' and user_id is null",
    )
    assert rows[0][0] == 120 and rows[0][1] > 1
