"""The batch commit: state, changelog and rejects written set-based with every
value intact, on a committing thread of its own, in order, errors raised; a
batch not yet committed counts against the delivery concurrency; a crash keeps
what was committed and resends only the rest; no pandas on the way;
idempotency keys computed in SQL match the reference."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from activations.contract.records import Limits, Outcome, Record
from activations.sync.committer import Committer
from activations.sync.delivery.batching import cut_batches
from activations.sync.delivery.dispatch import BatchResult, dispatch
from activations.sync.engine import run
from activations.sync.plan import _idempotency, drop, iter_records, plan
from activations.sync.state import (
    SentCommit,
    commit_outcomes,
    ensure_schema,
    mark_planned_inflight,
)
from activations.sync.state.sent import WriteAheadMissing
from activations.warehouse.db import Db
from tests.activations.sync.conftest import (
    MemoryDestination,
    make_audience,
    people,
    sink_env,
    webhook_spec,
)

#: what a test reads back of each state row
STATE_ROWS = (
    "select record_key, record_hash, destination_id, email, last_run_id, "
    "first_confirmed_at = last_confirmed_at from activations.sync_state order by 1"
)


def test_bulk_insert_keeps_every_text_value_and_null(db) -> None:
    main = Db(db)
    main.execute("create table t (a varchar, b varchar, n integer)")
    rows = [
        ("x", None, 1),
        ("", "\x1e", 2),  # the separator itself: that column goes as a list
        ("\x1f", "é€😀", 3),
        ("a\x1fb", "", None),
    ]
    main.insert_rows("t", ["a", "b", "n"], rows, types=["varchar", "varchar", "integer"])
    main.insert_rows("t", ["a", "b", "n"], [("", None, 5)], types=["varchar", "varchar", "integer"])
    main.insert_rows("t", ["a", "b"], [(None, "q"), ("", "r")], constants={"n": 6})
    assert db.execute("select a, b, n from t order by rowid").fetchall() == [
        *rows,
        ("", None, 5),
        (None, "q", 6),
        ("", "r", 6),
    ]


def test_batch_commit_writes_state_changelog_and_rejects(db) -> None:
    main = Db(db)
    ensure_schema(main)
    records = [
        Record(key=f"k{i}", email=f"k{i}@example.com", fields={}, hash=f"h{i}") for i in range(4)
    ]
    outcomes = [
        Outcome("k0", "confirmed", destination_id="d0"),
        Outcome("k1", "confirmed"),
        Outcome("k2", "rejected", reason="bad field", retryable=False),
        # k3 has no outcome: left alone, planned again next run
    ]
    done = commit_outcomes(
        main, "s", "r1", "upsert", records, outcomes, {"k0": "added", "k1": "changed"}
    )
    assert (done.confirmed, done.rejected) == (2, 1)
    state = db.execute(STATE_ROWS).fetchall()
    assert state == [
        ("k0", "h0", "d0", "k0@example.com", "r1", True),
        ("k1", "h1", None, "k1@example.com", "r1", True),
    ]
    log = db.execute(
        "select record_key, action, record_hash, destination_id, reason, run_id, sync_name "
        "from activations.sync_changelog order by 1"
    ).fetchall()
    assert log == [
        ("k0", "added", "h0", "d0", None, "r1", "s"),
        ("k1", "changed", "h1", None, None, "r1", "s"),
        ("k2", "rejected", "h2", None, "bad field", "r1", "s"),
    ]
    rejects = db.execute(
        "select record_key, attempts, retryable, reason from activations.sync_rejects"
    ).fetchall()
    assert rejects == [("k2", 1, False, "bad field")]
    # the same rejection again counts a second attempt; a later confirmation
    # of k0 with a new hash updates its state row in place
    commit_outcomes(main, "s", "r2", "upsert", records, [outcomes[2]])
    assert db.execute("select attempts from activations.sync_rejects").fetchall() == [(2,)]
    newer = [Record(key="k0", email="new@example.com", fields={}, hash="h0b")]
    commit_outcomes(main, "s", "r2", "upsert", newer, [Outcome("k0", "confirmed")])
    assert db.execute(
        "select record_hash, email, destination_id, last_run_id from activations.sync_state "
        "where record_key = 'k0'"
    ).fetchall() == [("h0b", "new@example.com", None, "r2")]


def _write_ahead(db: duckdb.DuckDBPyConnection, rows: list[tuple[int, str, str, str]]) -> Db:
    """Schema, and a write-ahead of run r1 for (seq, key, action, hash) as a run writes it."""
    main = Db(db)
    ensure_schema(main)
    db.execute(
        "create temp table plan_t (seq bigint, record_key varchar, email varchar, "
        "record_hash varchar, destination_id varchar, action varchar)"
    )
    for seq, key, action, h in rows:
        known = None if action == "added" else f"old-{key}"
        db.execute(
            "insert into plan_t values (?, ?, ?, ?, ?, ?)",
            [seq, key, f"{key}@example.com", h, known, action],
        )
    mark_planned_inflight(main, "s", "r1", "plan_t", ("added", "changed", "removed"))
    return main


def test_a_commit_by_plan_numbers_writes_what_the_write_ahead_holds(db) -> None:
    """State, changelog and rejects come from the write-ahead rows of the
    confirmed plan numbers; their write-ahead rows go (an earlier run's row of a
    confirmed key too, a rejected key only this run's), the unanswered stay."""
    actions = ["added", "added", "changed", "changed", "added"]
    main = _write_ahead(db, [(i, f"k{i}", a, f"h{i}") for i, a in enumerate(actions, 1)])
    db.execute(
        "insert into activations.sync_state values ('s', 'k3', 'h0', 'old-k3', "
        "'k3@example.com', '2026-01-01', '2026-01-01', 'r0')"
    )
    db.execute(
        "insert into activations.sync_inflight (sync_name, record_key, operation, run_id) "
        "values ('s', 'k3', 'upsert', 'r0'), ('s', 'k4', 'upsert', 'r0')"
    )
    first = SentCommit("s", "r1", "upsert", seqs=[1], ids=["d1"], clear_rejects=False)
    later = SentCommit(
        "s",
        "r1",
        "upsert",
        seqs=[3, 2],
        ids=[None, "d2"],
        rejected=[(4, "k4", "h4", "bad field", False)],
        clear_rejects=False,
    )
    merged = first.merge(later)
    assert merged is not None and merged.merge(SentCommit("s", "r1", "remove")) is None
    done = merged(main)
    assert (done.confirmed, done.rejected) == (3, 1)
    state = db.execute(STATE_ROWS).fetchall()
    assert state == [
        ("k1", "h1", "d1", "k1@example.com", "r1", True),
        ("k2", "h2", "d2", "k2@example.com", "r1", True),
        ("k3", "h3", "old-k3", "k3@example.com", "r1", False),  # upserted, its id kept
    ]
    log = db.execute(
        "select record_key, action, record_hash, destination_id, reason from "
        "activations.sync_changelog where run_id = 'r1' order by 1"
    ).fetchall()
    assert log == [
        ("k1", "added", "h1", "d1", None),
        ("k2", "added", "h2", "d2", None),
        ("k3", "changed", "h3", None, None),
        ("k4", "rejected", "h4", None, "bad field"),
    ]
    left = db.execute(
        "select record_key, run_id from activations.sync_inflight order by 1, 2"
    ).fetchall()
    assert left == [("k4", "r0"), ("k5", "r1")]  # k5 unanswered; k4's earlier send unknown
    # a removal by plan number; a plan number with no write-ahead row fails the batch whole
    SentCommit("s", "r1", "remove", seqs=[5], ids=[None], clear_rejects=True)(main)
    mine = "select count(*) from activations.sync_inflight where run_id = 'r1'"
    assert db.execute(mine).fetchall() == [(0,)]
    with pytest.raises(WriteAheadMissing):
        SentCommit("s", "r1", "upsert", seqs=[1, 99], ids=[None, None])(main)
    assert db.execute("select count(*) from activations.sync_changelog").fetchall() == [(5,)]


def test_idempotency_keys_from_sql_match_the_reference(db, tmp_path: Path) -> None:
    make_audience(db, people(30))
    spec = webhook_spec(tmp_path)
    main = Db(db)
    p = plan(spec, main)
    try:
        records = [r for _, r in iter_records(main, p, ("added",), chunk=7)]
    finally:
        drop(main, p)
    assert len(records) == 30 and len({r.idempotency_key for r in records}) == 30
    for r in records:
        assert r.idempotency_key == _idempotency(spec.name, r.key, r.hash)
    assert _idempotency("s", "k", None) == _idempotency("s", "k", "None")


def test_a_run_commits_every_confirmed_batch_before_it_returns(db, tmp_path: Path, sink) -> None:
    make_audience(db, people(230))
    spec = webhook_spec(tmp_path, options=", concurrency: 3")
    report = run(spec, db, env=sink_env(sink))
    assert report.status == "succeeded" and report.confirmed == 230 and report.requests == 5
    counts = db.execute(
        "select (select count(*) from activations.sync_state), "
        "(select count(*) from activations.sync_changelog where action = 'added'), "
        "(select confirmed from activations.sync_runs)"
    ).fetchall()
    assert counts == [(230, 230, 230)]
    # the connection is usable at once, with nothing left registered or open
    assert run(spec, db, env=sink_env(sink)).sent == 0


def test_a_crash_mid_run_keeps_what_was_committed_and_resends_only_the_rest(
    db, tmp_path: Path
) -> None:
    from tests.activations.sync.conftest import Crash

    make_audience(db, people(50))
    spec = webhook_spec(tmp_path)
    dest = MemoryDestination(max_records=7)
    dest.crash_after = 4
    env = {"HOOK_SECRET": "x" * 12, "HOOK_URL": "http://127.0.0.1:9"}
    with pytest.raises(Crash):
        run(spec, db, provider=dest, env=env)
    committed = {
        k for (k,) in db.execute("select record_key from activations.sync_state").fetchall()
    }
    assert len(committed) == 21  # three batches confirmed and committed, the fourth lost
    db.execute("delete from activations.sync_locks")  # the "dead" process's lock
    dest.received.clear()
    again = run(spec, db, provider=dest, env=env)
    assert again.status == "succeeded"
    assert {k for _, k in dest.received} == {f"p{i:05d}" for i in range(50)} - committed


def test_commits_need_no_pandas(tmp_path: Path) -> None:
    """Arrow conversion of datetimes makes pyarrow import pandas (a second of
    start-up on every CLI run); commits bind timestamps as parameters instead."""
    code = f"""
import sys, duckdb
from activations.sync.committer import Committer
from activations.warehouse.db import Db
from activations.sync.delivery.batching import cut_batches
from activations.sync.delivery.dispatch import BatchResult, dispatch
from activations.contract.records import Limits, Outcome, Record
from activations.sync.state import commit_outcomes, ensure_schema
db = Db(duckdb.connect({str(tmp_path / "p.duckdb")!r}))
ensure_schema(db)
records = [Record(key="a", email="a@x.io", fields={{}}, hash="h"),
           Record(key="b", email="b@x.io", fields={{}}, hash="h")]
commit_outcomes(db, "s", "r", "upsert", records,
                [Outcome("a", "confirmed"), Outcome("b", "rejected", reason="no")])
assert "pandas" not in sys.modules, "pandas was imported"
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_commits_run_in_order_on_a_second_connection(db) -> None:
    main = Db(db)
    main.execute("create table log (n integer, thread varchar)")
    here = threading.current_thread().name
    with Committer(main) as committer:
        assert committer.db is not main and committer.db.dialect == "duckdb"
        for n in range(20):
            committer.submit(
                lambda d, n=n: d.execute(
                    "insert into log values (?, ?)", [n, threading.current_thread().name]
                )
            )
    rows = db.execute("select n, thread from log order by rowid").fetchall()
    assert [n for n, _ in rows] == list(range(20))
    assert all(t != here and t.startswith("commit") for _, t in rows)


def test_a_failed_commit_is_raised_and_later_ones_still_land(db) -> None:
    main = Db(db)
    main.execute("create table log (n integer primary key)")
    committer = Committer(main)
    committer.submit(lambda d: d.execute("insert into log values (1)"))
    committer.submit(lambda d: d.execute("insert into log values (1)"))  # duplicate key
    committer.submit(lambda d: d.execute("insert into log values (2)"))
    with pytest.raises(duckdb.ConstraintException):
        committer.close()
    assert db.execute("select n from log order by n").fetchall() == [(1,), (2,)]


def test_without_a_second_connection_commits_run_at_once_in_the_callers_thread() -> None:
    class OneSession(Db):  # as PostgreSQL
        def worker(self) -> Db | None:
            return None

    con = duckdb.connect()
    main = OneSession(con)
    seen: list[str] = []
    with Committer(main) as committer:
        assert committer.db is main
        committer.submit(lambda d: seen.append(threading.current_thread().name))
        assert seen == [threading.current_thread().name] and not committer.unsettled()
    con.close()


def test_batches_not_yet_committed_count_against_concurrency() -> None:
    """At most ``concurrency`` batches are ever sent but not committed, as with
    commits in line: a crash resends no more than before."""
    lock = threading.Lock()
    sent_not_committed = 0
    peak = 0
    pool = ThreadPoolExecutor(max_workers=1)
    commits: list[Future[None]] = []

    def send(batch):
        nonlocal sent_not_committed, peak
        with lock:
            sent_not_committed += 1
            peak = max(peak, sent_not_committed)
        time.sleep(0.002)
        return [Outcome(r.key, "confirmed") for r in batch]

    def commit() -> None:
        nonlocal sent_not_committed
        time.sleep(0.01)  # slower than a request
        with lock:
            sent_not_committed -= 1

    def on_done(result: BatchResult) -> None:
        commits.append(pool.submit(commit))

    records = [Record(key=str(i), email=None, fields={}) for i in range(60)]
    dispatch(
        cut_batches(records, Limits(max_records=5), lambda r: 1),
        send,
        on_done,
        concurrency=2,
        unsettled=lambda: {f for f in commits if not f.done()},
    )
    pool.shutdown(wait=True)
    assert len(commits) == 12 and sent_not_committed == 0
    assert peak <= 2


def test_a_removal_cut_by_a_crash_stays_unsettled_until_confirmed(db, tmp_path: Path) -> None:
    """Mirror: a removal the destination applied but the engine never committed
    (crash), then the person returns and is refused: the next clean run must
    still send them (found by the property test)."""
    from tests.activations.sync.conftest import Crash

    spec = webhook_spec(
        tmp_path, extra="    guards: {max_removal_share: 1, max_rejects_share: 1}\n"
    )
    env = {"HOOK_SECRET": "x" * 12, "HOOK_URL": "http://127.0.0.1:9"}
    dest = MemoryDestination(max_records=5)
    make_audience(db, [{"person_id": "p5", "cart_value": 1}])
    assert run(spec, db, provider=dest, env=env).confirmed == 1
    make_audience(db, [{"person_id": "p0", "cart_value": 0}])  # p0 joins, p5 leaves
    dest.crash_after, dest.requests = 2, 0  # the removal of p5 lands, then the crash
    with pytest.raises(Crash):
        run(spec, db, provider=dest, env=env)
    assert "p5" not in dest.members
    db.execute("delete from activations.sync_locks")
    make_audience(db, [{"person_id": "p5", "cart_value": 1}])  # p5 returns, refused
    dest.reject = {"p0", "p5"}
    assert run(spec, db, provider=dest, env=env).rejected == 2
    dest.reject = set()
    report = run(spec, db, provider=dest, env=env)
    assert report.status == "succeeded" and set(dest.members) == {"p5"}
    assert run(spec, db, provider=dest, env=env).sent == 0


def test_a_change_cut_by_a_crash_is_resent_when_the_record_reverts(db, tmp_path: Path) -> None:
    """Upsert: a changed record (state h1) sent as h2 in a batch a crash cut before
    its commit, then back to its old data h1. The write-ahead of the crashed run
    makes its hash unknown, so the next run sends h1 again; a dry run reads the
    same plan and writes nothing."""
    from tests.activations.sync.conftest import Crash, table_digest

    spec = webhook_spec(tmp_path, mode="upsert")
    env = {"HOOK_SECRET": "x" * 12, "HOOK_URL": "http://127.0.0.1:9"}
    dest = MemoryDestination(max_records=2)
    make_audience(db, people(3))
    assert run(spec, db, provider=dest, env=env).confirmed == 3
    before = dict(dest.members)
    make_audience(db, people(3, cart_value=50))  # all three change
    dest.crash_after, dest.requests = 1, 0  # p0 and p1 land as h2, then the crash
    with pytest.raises(Crash):
        run(spec, db, provider=dest, env=env)
    assert dest.members["p00000"] != before["p00000"]
    inflight = db.execute(
        "select record_key, operation from activations.sync_inflight order by 1"
    ).fetchall()
    assert inflight == [(f"p{i:05d}", "upsert") for i in range(3)]  # one row per planned key
    db.execute("delete from activations.sync_locks")  # the "dead" process's lock
    make_audience(db, people(3))  # back to the data the state confirmed
    digest = table_digest(db)
    dry = run(spec, db, provider=dest, env=env, dry_run=True)
    assert (dry.changed, dry.unchanged) == (3, 0) and table_digest(db) == digest
    report = run(spec, db, provider=dest, env=env)
    assert report.status == "succeeded" and report.changed == 3
    assert dest.members == before
    state = dict(
        db.execute("select record_key, record_hash from activations.sync_state").fetchall()
    )
    assert state == before
    assert db.execute("select count(*) from activations.sync_inflight").fetchall() == [(0,)]
    assert run(spec, db, provider=dest, env=env).sent == 0


def test_rejected_records_leave_the_write_ahead(db, tmp_path: Path) -> None:
    """A refused record's outcome is known: its write-ahead row goes with the
    batch commit, and its confirmed hash stays (the destination kept it)."""
    spec = webhook_spec(tmp_path, mode="upsert", extra="    guards: {max_rejects_share: 1}\n")
    env = {"HOOK_SECRET": "x" * 12, "HOOK_URL": "http://127.0.0.1:9"}
    dest = MemoryDestination(max_records=2)
    make_audience(db, people(3))
    run(spec, db, provider=dest, env=env)
    make_audience(db, people(3, cart_value=9))
    dest.reject = {"p00001"}
    report = run(spec, db, provider=dest, env=env)
    assert (report.confirmed, report.rejected) == (2, 1)
    assert db.execute("select count(*) from activations.sync_inflight").fetchall() == [(0,)]
    state = dict(
        db.execute("select record_key, record_hash from activations.sync_state").fetchall()
    )
    assert state == dest.members  # every hash the state claims is what the destination holds
