"""The generator keeps the raw landing contract: schema, ids, JSON payloads,
referential integrity, determinism, and clear errors for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from activations.errors import UserError
from activations.generator import generate
from activations.warehouse.raw_schema import EVENT_PROPERTIES, RAW_SOURCES, RAW_TABLES

ACTIVATIONS = Path(sys.executable).parent / "activations"
SMALL = {"customers": 400, "days": 30, "end": datetime(2026, 3, 2, 9), "chunk_customers": 150}
PRODUCT_KEYS = {"product_id", "sku", "name", "price", "quantity", "category"}
KEYS = {
    "events": "message_id",
    "identifies": "message_id",
    "customers": "customer_id",
    "orders": "order_id",
    "order_items": "order_id || '#' || line_number",
    "products": "product_id",
    "consents": "consent_id",
    "campaigns": "campaign_id",
    "coupons": "coupon_code",
    "email_events": "event_id",
    "members": "member_id",
    "posts": "post_id",
    "answers": "answer_id",
    "reactions": "reaction_id",
    "product_tests": "product_test_id",
    "product_test_applications": "application_id",
    "product_test_results": "result_id",
    "point_movements": "movement_id",
}


def checksums(path: Path) -> dict[str, tuple[int, int]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            t: con.execute(f"select count(*), sum(hash(t)) from raw.{t} t").fetchall()[0]
            for t in RAW_TABLES
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("determinism")
    runs = {"a": (1, root / "a.duckdb"), "b": (1, root / "b.duckdb"), "c": (2, root / "c.duckdb")}
    for seed, path in runs.values():
        generate(path, seed=seed, **SMALL)
    return {name: path for name, (_, path) in runs.items()}


def test_same_seed_same_data(small_runs: dict[str, Path]) -> None:
    a, b = checksums(small_runs["a"]), checksums(small_runs["b"])
    assert a == b
    assert all(count > 0 for count, _ in a.values())


def test_different_seed_different_data(small_runs: dict[str, Path]) -> None:
    a, c = checksums(small_runs["a"]), checksums(small_runs["c"])
    changed = [t for t in RAW_TABLES if a[t] != c[t]]
    assert set(changed) >= {"events", "customers", "orders", "email_events", "products"}


def test_rerun_replaces_the_tables(small_runs: dict[str, Path]) -> None:
    before = checksums(small_runs["b"])
    counts = generate(small_runs["b"], seed=1, **SMALL)
    assert checksums(small_runs["b"]) == before
    assert counts == {t: n for t, (n, _) in before.items()}


def test_a_passed_connection_stays_usable() -> None:
    con = duckdb.connect()
    try:
        counts = generate(con, customers=30, days=3, end=datetime(2026, 1, 1))
        # no unfinished results, helper views or macros left behind on the caller's connection
        assert con.sql("select count(*) from raw.customers").fetchall() == [(30,)]
        assert counts["customers"] == 30
        leftovers = con.sql("""
            select count(*) from duckdb_views()
            where view_name in ('frame', 'gen_products', 'gen_campaigns', 'gen_lines', 'gen_lists')
            union all
            select count(*) from duckdb_functions()
            where function_name in ('gen_ts', 'gen_customer_id')""").fetchall()
        assert leftovers == [(0,), (0,)]
    finally:
        con.close()


def test_schema_is_exactly_the_raw_contract(shop: duckdb.DuckDBPyConnection) -> None:
    rows = shop.sql("""
        select table_name, column_name, data_type from information_schema.columns
        where table_schema = 'raw' order by table_name, ordinal_position""").fetchall()
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column, type_ in rows:
        found.setdefault(table, []).append((column, type_.lower().replace(" ", "")))
    expected = {
        t: [(c, ty.lower().replace(" ", "")) for c, ty in cols] for t, cols in RAW_TABLES.items()
    }
    assert {t: found.get(t) for t in expected} == expected


def test_counts_returned_match_the_tables(
    generated: tuple[Path, dict[str, int]], shop: duckdb.DuckDBPyConnection
) -> None:
    _, counts = generated
    assert set(counts) == set(RAW_TABLES)
    for table, n in counts.items():
        assert shop.execute(f"select count(*) from raw.{table}").fetchall()[0][0] == n


@pytest.mark.parametrize("table", list(KEYS))
def test_keys_are_unique_and_set(shop: duckdb.DuckDBPyConnection, table: str) -> None:
    n, distinct, nulls = shop.execute(
        f"select count(*), count(distinct {KEYS[table]}), count(*) - count({KEYS[table]}) "
        f"from raw.{table}"
    ).fetchall()[0]
    assert n > 0 and distinct == n and nulls == 0


def test_event_properties_carry_their_keys(shop: duckdb.DuckDBPyConnection) -> None:
    seen: Counter[str] = Counter()
    for event, properties, context in shop.sql(
        "select event, properties, context from raw.events"
    ).fetchall():
        props, ctx = json.loads(properties), json.loads(context)
        assert isinstance(props, dict) and set(props) == set(EVENT_PROPERTIES[event]), event
        for item in props.get("products", []):
            assert set(item) == PRODUCT_KEYS
            assert item["quantity"] >= 1 and item["price"] > 0
        assert set(ctx) == {"page", "campaign", "device"}
        assert set(ctx["page"]) == {"url", "path", "referrer"}
        assert ctx["page"]["url"].startswith("https://")
        assert ctx["device"]["type"] in {"mobile", "desktop", "tablet"}
        if ctx["campaign"] is not None:
            assert set(ctx["campaign"]) == {"source", "medium", "name", "content"}
        seen[event] += 1
    assert set(seen) == set(EVENT_PROPERTIES)
    traits = shop.sql("select traits from raw.identifies limit 100").fetchall()
    assert all({"email", "first_name", "last_name"} <= set(json.loads(t)) for (t,) in traits)


RELATIONS = [
    ("order_items", "order_id", "orders", "order_id"),
    ("order_items", "product_id", "products", "product_id"),
    ("orders", "customer_id", "customers", "customer_id"),
    ("events", "user_id", "customers", "customer_id"),
    ("identifies", "user_id", "customers", "customer_id"),
    ("consents", "customer_id", "customers", "customer_id"),
    ("coupons", "customer_id", "customers", "customer_id"),
    ("coupons", "campaign_id", "campaigns", "campaign_id"),
    ("coupons", "order_id", "orders", "order_id"),
    ("orders", "coupon_code", "coupons", "coupon_code"),
    ("email_events", "customer_id", "customers", "customer_id"),
    ("email_events", "campaign_id", "campaigns", "campaign_id"),
]


@pytest.mark.parametrize(("child", "column", "parent", "key"), RELATIONS)
def test_references_resolve(
    shop: duckdb.DuckDBPyConnection, child: str, column: str, parent: str, key: str
) -> None:
    dangling = shop.execute(f"""
        select count(*) from raw.{child} c
        where c.{column} is not null
          and not exists (select 1 from raw.{parent} p where p.{key} = c.{column})""").fetchall()[
        0
    ][0]
    assert dangling == 0


def test_orders_match_their_events_and_lines(shop: duckdb.DuckDBPyConnection) -> None:
    problems = shop.sql("""
        with completed as (
            select json_extract_string(properties, '$.order_id') as order_id,
                   json_extract_string(properties, '$.cart_id') as cart_id,
                   cast(json_extract_string(properties, '$.total') as decimal(12, 2)) as total,
                   json_array_length(json_extract(properties, '$.products')) as n_products
            from raw.events where event = 'Order Completed'),
        checkout as (
            select distinct json_extract_string(properties, '$.cart_id') as cart_id
            from raw.events where event = 'Checkout Started'),
        lines as (
            select order_id, count(*) as n, max(line_number) as last_line,
                   sum(quantity * unit_price) as amount
            from raw.order_items group by 1)
        select
            count(*) filter (where c.order_id is null) as without_completed,
            count(*) filter (where c.cart_id <> o.cart_id) as other_cart,
            count(*) filter (where k.cart_id is null) as without_checkout,
            count(*) filter (where c.total <> o.total) as other_total,
            count(*) filter (where c.n_products <> l.n or l.n is null) as other_lines,
            count(*) filter (where l.last_line <> l.n) as gaps_in_line_numbers,
            count(*) filter (where l.amount <> o.subtotal) as wrong_subtotal,
            count(*) filter (where o.total <> o.subtotal - o.discount + o.shipping) as wrong_total,
            count(*) filter (
                where o.discount < 0 or (o.discount > 0) <> (o.coupon_code is not null)
            ) as wrong_discount,
            count(*) filter (where o.customer_id is null) as guest_orders
        from raw.orders o
        left join completed c using (order_id)
        left join checkout k on k.cart_id = o.cart_id
        left join lines l using (order_id)""").df()
    assert problems.iloc[0].to_dict() == dict.fromkeys(problems.columns, 0)
    assert (
        shop.execute("""
        select count(*) from raw.order_items i join raw.products p using (product_id)
        where i.unit_price <> p.price or i.quantity < 1""").fetchall()[0][0]
        == 0
    )
    orphan_completions = shop.execute("""
        select count(*) from raw.events e where event = 'Order Completed' and not exists (
            select 1 from raw.orders o
            where o.order_id = json_extract_string(e.properties, '$.order_id'))""").fetchall()[0][0]
    assert orphan_completions == 0


def test_everything_happens_inside_the_window(
    shop: duckdb.DuckDBPyConnection, generated_window: tuple[datetime, datetime]
) -> None:
    start, end = generated_window
    for table, column in [
        ("events", '"timestamp"'),
        ("events", "received_at"),
        ("identifies", '"timestamp"'),
        ("orders", "placed_at"),
        ("orders", "updated_at"),
        ("email_events", "occurred_at"),
        ("consents", "changed_at"),
        ("coupons", "issued_at"),
        ("coupons", "redeemed_at"),
        ("customers", "created_at"),
    ]:
        first, last = shop.execute(
            f"select min({column}), max({column}) from raw.{table}"
        ).fetchall()[0]
        assert last < end, (table, column)
        if table not in ("customers", "consents"):  # accounts and imports may predate the window
            assert first >= start, (table, column)
    late = shop.execute("""
        select count(*) from raw.orders o where o.updated_at < o.placed_at
        union all select count(*) from raw.events where received_at < "timestamp"
        union all select count(*) from raw.coupons where expires_at <= issued_at""").fetchall()
    assert late == [(0,), (0,), (0,)]
    # recent activity: carts abandoned in the last hours exist for the demo audiences
    recent = shop.execute(
        "select count(*) from raw.events where event = 'Product Added' "
        'and "timestamp" >= ? - interval 6 hours',
        [end],
    ).fetchall()[0][0]
    assert recent > 0


def test_email_messages_are_consistent(shop: duckdb.DuckDBPyConnection) -> None:
    bad = shop.sql("""
        with m as (
            select message_id,
                   count(*) filter (where event_type = 'sent') as sent,
                   count(*) filter (where event_type = 'delivered') as delivered,
                   count(*) filter (where event_type = 'bounced') as bounced,
                   count(*) filter (where event_type = 'opened') as opened,
                   count(*) filter (where event_type = 'clicked') as clicked,
                   count(*) filter (where event_type = 'held_out') as held_out,
                   count(*) as events,
                   min(occurred_at) filter (where event_type = 'sent') as sent_at,
                   min(occurred_at) as first_at,
                   count(distinct campaign_id) as campaigns
            from raw.email_events group by 1)
        select count(*) filter (where held_out = 0 and (
                                    sent <> 1 or delivered + bounced <> 1 or sent_at <> first_at
                                    or (opened = 0 and clicked > 0) or campaigns <> 1)),
               -- a control-group message is one held_out event: nothing was sent
               count(*) filter (where held_out > 0 and (held_out <> 1 or events <> 1)),
               count(*) filter (where held_out > 0)
        from m""").fetchall()[0]
    assert bad[:2] == (0, 0)
    assert bad[2] > 0
    misplaced = shop.execute("""
        select count(*) from raw.email_events
        where (event_type = 'bounced') <> (bounce_type is not null)
           or (event_type = 'clicked') <> (url is not null)""").fetchall()[0][0]
    assert misplaced == 0


# ---- bad input: clear messages, no tracebacks


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ACTIVATIONS), "generate", *args], capture_output=True, text=True, timeout=120
    )


def run_main(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """The real entry point (``activations.cli:main``), in process."""
    from activations import cli

    monkeypatch.setattr(sys, "argv", ["activations", "generate", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return int(exited.value.code)


def test_cli_rejects_a_bad_customer_count_in_a_real_process(tmp_path: Path) -> None:
    target = tmp_path / "w.duckdb"
    result = run_cli("--customers", "abc", "--warehouse", str(target))
    assert result.returncode == 2
    assert "--customers must be a whole number, got 'abc'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not target.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customers", "0"], "--customers must be a whole number from 1 to 50,000,000, got 0"),
        (["--customers", "-3"], "--customers must be a whole number from 1 to 50,000,000"),
        (["--customers", "2.5"], "--customers must be a whole number"),
        (["--customers", "100", "--days", "0"], "--days must be a whole number from 1 to 3650"),
        (["--customers", "100", "--end", "soon"], "--end 'soon' is not an ISO date or time"),
        (["--customers", "100", "--seed", "x1"], "--seed must be a whole number, got 'x1'"),
    ],
)
def test_cli_rejects_bad_values(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    target = tmp_path / "w.duckdb"
    assert run_main([*args, "--warehouse", str(target)], monkeypatch) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not target.exists()


def test_cli_generates_and_prints_counts(tmp_path: Path) -> None:
    target = tmp_path / "w.duckdb"
    result = run_cli(
        "--customers", "150", "--days", "10", "--seed", "3", "--end", "2026-01-10T08:00",
        "--warehouse", str(target),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for table in RAW_TABLES:
        assert table in result.stdout
    assert "150 customers x 10 days, seed 3" in result.stdout
    con = duckdb.connect(str(target), read_only=True)
    try:
        assert con.execute("select count(*) from raw.customers").fetchall()[0][0] == 150
        latest = con.execute('select max("timestamp") from raw.events').fetchall()[0][0]
        assert latest < datetime(2026, 1, 10, 8)
    finally:
        con.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"customers": 0, "days": 10}, "--customers must be a whole number from 1"),
        ({"customers": 50_000_001, "days": 10}, "--customers must be a whole number from 1"),
        ({"customers": True, "days": 10}, "--customers must be a whole number"),
        ({"customers": "10", "days": 10}, "--customers must be a whole number"),
        ({"customers": 10, "days": 3651}, "--days must be a whole number from 1 to 3650"),
        ({"customers": 10, "days": 5, "seed": -1}, "--seed must be a whole number >= 0"),
    ],
)
def test_api_rejects_bad_values(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        generate(tmp_path / "w.duckdb", **kwargs)


def test_locked_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
         " time.sleep(60)", str(target)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(UserError, match="is locked by another process") as caught:
            generate(target, customers=10, days=5)
        assert str(target) in str(caught.value)
        started = time.perf_counter()
        result = run_cli("--customers", "10", "--days", "5", "--warehouse", str(target))
        assert result.returncode == 5  # README: 5 when another process holds the file
        assert "is locked by another process" in result.stderr
        assert "Traceback" not in result.stderr
        assert time.perf_counter() - started < 60
    finally:
        holder.kill()
        holder.wait()


def test_unwritable_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where a directory should be")
    with pytest.raises(UserError, match="cannot create the warehouse file"):
        generate(blocker / "w.duckdb", customers=10, days=5)


def _table_bytes(path: Path) -> dict[str, bytes]:
    """Every raw table written out as CSV in a total order: the bytes a run produced."""
    con = duckdb.connect(str(path), read_only=True)
    out: dict[str, bytes] = {}
    try:
        for table in RAW_TABLES:
            csv = path.parent / f"{path.stem}_{table}.csv"
            con.execute(f"copy (select * from raw.{table} order by all) to '{csv}' (header)")
            out[table] = csv.read_bytes()
    finally:
        con.close()
    return out


def test_seed_and_end_give_byte_identical_rows_across_processes(tmp_path: Path) -> None:
    """Same seed and --end: the same rows, byte for byte, in separate processes
    with different time zones and hash seeds (the default end, the current hour,
    is the only thing that changes from run to run)."""
    args = ["--customers", "150", "--days", "10", "--seed", "3", "--end", "2026-01-10T08:00"]
    dumps = []
    for name, tz, hash_seed in (("a", "UTC", "1"), ("b", "Pacific/Kiritimati", "2")):
        target = tmp_path / f"{name}.duckdb"
        env = {**os.environ, "TZ": tz, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [str(ACTIVATIONS), "generate", *args, "--warehouse", str(target)],
            capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        dumps.append(_table_bytes(target))
    # a small shop: the shop's own tables all have rows (a 10-day community may have none yet)
    shop = [t for t in RAW_TABLES if RAW_SOURCES[t] in ("shop", "app", "esp")]
    assert all(dumps[0][t].count(b"\n") > 1 for t in shop)
    for table in RAW_TABLES:
        assert dumps[0][table] == dumps[1][table], table
