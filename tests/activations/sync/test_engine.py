"""The run cycle: plan -> guard -> deliver -> commit, on real DuckDB files,
against the in-memory destination and the signed webhook over loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from activations.contract.records import Outcome
from activations.sync.engine import plan, run
from activations.sync.specs import parse_file
from activations.sync.state import SyncLocked, acquire_lock, ensure_schema, release_lock
from activations.warehouse.db import Db
from tests.activations.sync.conftest import (
    Crash,
    MemoryDestination,
    make_audience,
    people,
    sink_env,
    table_digest,
    webhook_spec,
    write_spec,
)

ENV = {"HOOK_SECRET": "x" * 12, "HOOK_URL": "http://127.0.0.1:9"}


def state_of(con, sync: str = "carts_hook") -> dict[str, str]:
    return dict(
        con.execute(
            "select record_key, record_hash from activations.sync_state where sync_name = ?",
            [sync],
        ).fetchall()
    )


def test_first_run_then_only_changes(db, tmp_path: Path) -> None:
    spec = webhook_spec(tmp_path)
    dest = MemoryDestination()
    rows = people(40)
    rows[3]["is_sendable"] = False
    rows[3]["suppression_reason"] = "unsubscribed"
    rows[5]["email"] = "not-an-email"
    make_audience(db, rows)
    report = run(spec, db, provider=dest, env=ENV)
    assert report.status == "succeeded"
    assert (report.added, report.confirmed, report.skipped, report.invalid) == (38, 38, 1, 1)
    assert "p00003" not in dest.members and "p00005" not in dest.members
    assert set(dest.members) == set(state_of(db))
    reject = db.execute(
        "select reason, retryable from activations.sync_rejects where record_key = 'p00005'"
    ).fetchall()
    assert reject == [("invalid email address", False)]

    rows[0]["cart_value"] = 500
    rows[1]["email"] = " NEW@example.com"
    make_audience(db, rows[:-2])  # two leave
    dest.received.clear()
    report = run(spec, db, provider=dest, env=ENV)
    assert (report.changed, report.removed, report.unchanged) == (2, 2, 34)
    assert sorted(dest.received) == sorted(
        [("upsert", "p00000"), ("upsert", "p00001"), ("remove", "p00038"), ("remove", "p00039")]
    )
    assert set(dest.members) == set(state_of(db))
    again = run(spec, db, provider=dest, env=ENV)
    assert again.sent == 0 and again.status == "succeeded"


def test_emails_are_normalised(db, tmp_path: Path) -> None:
    make_audience(db, [{"person_id": "a", "email": "  Ann.Lee@Example.COM "}])
    dest = MemoryDestination()
    run(webhook_spec(tmp_path), db, provider=dest, env=ENV)
    assert db.execute("select email from activations.sync_state").fetchall() == [
        ("ann.lee@example.com",)
    ]


def test_upsert_mode_never_removes(db, tmp_path: Path) -> None:
    spec = webhook_spec(tmp_path, mode="upsert")
    dest = MemoryDestination()
    make_audience(db, people(10))
    run(spec, db, provider=dest, env=ENV)
    make_audience(db, people(2))
    report = run(spec, db, provider=dest, env=ENV)
    assert report.removed == 0 and len(dest.members) == 10


def test_create_mode_ignores_changes(db, tmp_path: Path) -> None:
    spec = webhook_spec(tmp_path, mode="create")
    dest = MemoryDestination()
    make_audience(db, people(5))
    run(spec, db, provider=dest, env=ENV)
    make_audience(db, people(5, cart_value=999) + people(2, start=5))
    dest.received.clear()
    report = run(spec, db, provider=dest, env=ENV)
    assert sorted(k for _, k in dest.received) == ["p00005", "p00006"]
    assert report.changed == 0 and report.added == 2


def test_events_sent_once_with_stable_idempotency_keys(db, tmp_path: Path) -> None:
    spec = webhook_spec(tmp_path, mode="events")
    dest = MemoryDestination()
    make_audience(db, people(6))
    run(spec, db, provider=dest, env=ENV)
    make_audience(db, people(6, cart_value=1) + people(1, start=6))  # changes do not re-fire
    run(spec, db, provider=dest, env=ENV)
    assert sorted(k for _, k in dest.received) == [f"p{i:05d}" for i in range(7)]
    assert len(set(dest.events)) == 7


def test_rejected_records_retried_up_to_the_limit(db, tmp_path: Path) -> None:
    spec = webhook_spec(tmp_path, extra="    guards: {max_attempts: 2, max_rejects_share: 1}\n")
    dest = MemoryDestination()
    dest.reject = {"p00002"}
    make_audience(db, people(5))
    attempts = []
    for _ in range(4):
        report = run(spec, db, provider=dest, env=ENV)
        attempts.append((report.rejected, report.gave_up))
    assert attempts == [(1, 0), (1, 0), (0, 1), (0, 1)]
    assert [k for _, k in dest.received].count("p00002") == 2
    row = db.execute(
        "select attempts, reason from activations.sync_rejects where record_key = 'p00002'"
    ).fetchall()
    assert row == [(2, "invalid attribute")]
    # new data for the record: tried again
    make_audience(db, people(2) + [{"person_id": "p00002", "cart_value": 77}] + people(2, start=3))
    dest.reject.clear()
    report = run(spec, db, provider=dest, env=ENV)
    assert report.confirmed == 1 and "p00002" in dest.members


def test_too_many_rejects_fail_the_run(db, tmp_path: Path) -> None:
    spec = webhook_spec(tmp_path, extra="    guards: {max_rejects_share: 0.1}\n")
    dest = MemoryDestination()
    dest.reject = {"p00001", "p00002"}
    make_audience(db, people(5))
    report = run(spec, db, provider=dest, env=ENV)
    assert report.status == "failed" and report.exit_code == 4
    assert "2 of 5 records rejected" in (report.error or "")


def test_removal_guard_blocks_unless_forced(db, tmp_path: Path) -> None:
    spec = webhook_spec(tmp_path, extra="    guards: {max_removal_share: 0.2}\n")
    dest = MemoryDestination()
    make_audience(db, people(20))
    run(spec, db, provider=dest, env=ENV)
    make_audience(db, people(10))
    p = plan(spec, db)
    assert p.blocked and p.removed == 10
    report = run(spec, db, provider=dest, env=ENV)
    assert report.status == "blocked" and report.exit_code == 3 and len(dest.members) == 20
    assert run(spec, db, provider=dest, env=ENV, force=True).status == "succeeded"
    assert len(dest.members) == 10
    # an empty audience where members exist is blocked too, even under the cap
    spec_loose = webhook_spec(tmp_path, extra="    guards: {max_removal_share: 1}\n")
    make_audience(db, [])
    blocked = run(spec_loose, db, provider=dest, env=ENV)
    assert blocked.status == "blocked" and len(dest.members) == 10
    statuses = [r[0] for r in db.execute("select status from activations.sync_runs").fetchall()]
    assert statuses.count("blocked") == 2


def test_run_lock(db, tmp_path: Path) -> None:
    spec = webhook_spec(tmp_path)
    make_audience(db, people(3))
    wrapped = Db(db)
    ensure_schema(wrapped)
    acquire_lock(wrapped, spec.name, "other-run")  # held by this (live) process
    with pytest.raises(SyncLocked) as info:
        run(spec, db, provider=MemoryDestination(), env=ENV)
    assert info.value.exit_code == 5 and "already running" in str(info.value)
    release_lock(wrapped, spec.name, "other-run")
    assert run(spec, db, provider=MemoryDestination(), env=ENV).status == "succeeded"
    # a lock left by a dead process is taken over
    db.execute(
        "insert into activations.sync_locks values ('carts_hook', 'dead', 999999, ?, now())",
        [__import__("socket").gethostname()],
    )
    assert run(spec, db, provider=MemoryDestination(), env=ENV).status == "succeeded"


def test_transient_failures_are_retried(db, tmp_path: Path) -> None:
    dest = MemoryDestination()
    dest.fail_next = 2
    make_audience(db, people(10))
    from activations.sync.delivery.retries import RetryPolicy

    report = run(
        webhook_spec(tmp_path),
        db,
        provider=dest,
        env=ENV,
        policy=RetryPolicy(attempts=4, initial=0.01, jitter=0.01),
    )
    assert report.status == "succeeded" and len(dest.members) == 10


def test_dry_run_changes_nothing_anywhere(db, tmp_path: Path, sink) -> None:
    spec = webhook_spec(tmp_path)
    env = sink_env(sink)
    make_audience(db, people(60))
    run(spec, db, env=env)
    make_audience(db, people(50, cart_value=1000) + people(20, start=60))
    db.execute("checkpoint")
    db.close()
    wh = tmp_path / "wh.duckdb"
    before_bytes = wh.read_bytes()
    before_sink = sink.log.read_bytes()
    import duckdb

    ro = duckdb.connect(str(wh), read_only=True)
    before_tables = table_digest(ro)
    report = run(spec, ro, dry_run=True, env=env)
    assert report.status == "dry_run" and report.changed == 50 and report.added == 20
    assert report.plan is not None and report.plan.samples["added"]
    after_tables = table_digest(ro)
    ro.close()
    assert after_tables == before_tables
    assert wh.read_bytes() == before_bytes
    assert sink.log.read_bytes() == before_sink
    con = duckdb.connect(str(wh))
    assert con.execute("select count(*) from activations.sync_locks").fetchall() == [(0,)]
    con.close()


def test_dry_run_on_a_fresh_warehouse_creates_no_schema(db, tmp_path: Path) -> None:
    make_audience(db, people(5))
    report = run(webhook_spec(tmp_path), db, dry_run=True)
    assert report.added == 5
    assert not Db(db).table_exists("activations", "sync_state")
    assert db.execute(
        "select count(*) from information_schema.schemata where schema_name = 'activations'"
    ).fetchall() == [(0,)]


def test_webhook_end_to_end_with_partial_rejects_and_5xx(db, tmp_path: Path, sink) -> None:
    sink.faults.reject_keys = {"p00007"}
    sink.faults.fail_every = 3
    sink.faults.retry_after = 0.05
    spec = webhook_spec(
        tmp_path, extra="    guards: {max_rejects_share: 0.5}\n", options=", concurrency: 3"
    )
    make_audience(db, people(300))
    report = run(spec, db, env=sink_env(sink))
    assert report.status == "succeeded", report.error
    assert report.confirmed == 299 and report.rejected == 1
    got = sink.received()
    assert {r["key"] for r in got} == {f"p{i:05d}" for i in range(300)} - {"p00007"}
    assert len(got) == 299  # 5xx batches were stored nothing, so nothing twice
    ids = db.execute(
        "select destination_id from activations.sync_state where record_key = 'p00001'"
    ).fetchall()
    assert ids == [("wh_p00001",)]


def test_unreachable_destination_fails_clearly_and_keeps_nothing(db, tmp_path: Path) -> None:
    from activations.sync.delivery.retries import RetryPolicy

    make_audience(db, people(5))
    env = {"HOOK_SECRET": "k-" + "9" * 20, "HOOK_URL": "http://127.0.0.1:9"}
    report = run(
        webhook_spec(tmp_path), db, env=env, policy=RetryPolicy(attempts=2, initial=0.01, jitter=0)
    )
    assert report.status == "failed" and report.exit_code == 4
    assert "connection failed" in (report.error or "")
    assert env["HOOK_SECRET"] not in (report.error or "")
    assert state_of(db) == {}


def test_file_destination_writes_parts_and_manifest(db, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # a file destination is a folder inside the project
    out = tmp_path / "out"
    path = write_spec(
        tmp_path,
        """name: carts_files
audience: carts
provider: file
destination: out
mode: mirror
fields: {value: cart_value}
credentials: {options: {format: parquet, max_records: 4}}
""",
        name="files.yml",
    )
    spec = parse_file(path)[0]
    make_audience(db, people(10))
    assert run(spec, db).confirmed == 10
    import json

    import pyarrow.parquet as pq

    manifest = json.loads((out / "manifest.json").read_text())
    assert [p["rows"] for p in manifest["parts"]] == [4, 4, 2]
    keys = [k for p in manifest["parts"] for k in pq.read_table(out / p["file"])["key"].to_pylist()]
    assert sorted(keys) == [f"p{i:05d}" for i in range(10)]


# ------------------------------------------------------------------ the property


audience_states = st.lists(
    st.dictionaries(
        st.sampled_from([f"p{i:05d}" for i in range(25)]),
        st.tuples(st.integers(0, 3), st.booleans()),  # (cart value, sendable)
        max_size=25,
    ),
    min_size=1,
    max_size=4,
)
faults = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(1, 4)),  # crash after this many requests
        st.sets(st.sampled_from([f"p{i:05d}" for i in range(25)]), max_size=3),  # rejected
    ),
    min_size=4,
    max_size=4,
)


def _cuts(*crashes: int | None) -> list[tuple[int | None, set[str]]]:
    return [(c, set()) for c in crashes] + [(None, set())] * (4 - len(crashes))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(states=audience_states, fault_plan=faults, mode=st.sampled_from(["mirror", "upsert"]))
# upsert: a changed record's send is cut by a crash (the destination holds the new
# version, the state the old one), then the record returns to its old data
@example(
    states=[{"p00000": (1, True)}, {"p00000": (2, True)}, {"p00000": (1, True)}],
    fault_plan=_cuts(None, 1),
    mode="upsert",
)
# upsert: a changed record cut by a crash, then it leaves the audience
@example(
    states=[{"p00000": (1, True)}, {"p00000": (2, True)}, {}],
    fault_plan=_cuts(None, 1),
    mode="upsert",
)
# mirror: a removal lands, the crash cuts its commit, the person returns and is refused
@example(
    states=[{"p00005": (1, True)}, {"p00000": (0, True)}, {"p00005": (1, True)}],
    fault_plan=[(None, set()), (2, set()), (None, {"p00000", "p00005"}), (None, set())],
    mode="mirror",
)
def test_property_destination_converges_and_state_is_what_was_confirmed(
    tmp_path_factory, states, fault_plan, mode
) -> None:
    import duckdb

    from activations.sync.plan import drop

    tmp = tmp_path_factory.mktemp("prop")
    con = duckdb.connect()
    spec = webhook_spec(
        tmp,
        mode=mode,
        extra="    guards: {max_removal_share: 1, allow_empty: true, "
        "max_rejects_share: 1, max_attempts: 100}\n",
    )
    dest = MemoryDestination(max_records=5)
    try:
        for audience, (crash_after, rejected) in zip(states, fault_plan, strict=False):
            make_audience(
                con,
                [
                    {"person_id": k, "cart_value": v, "is_sendable": s}
                    for k, (v, s) in audience.items()
                ],
            )
            dest.reject = set(rejected)
            dest.crash_after = crash_after
            dest.requests = 0
            crashed = False
            try:
                run(spec, con, provider=dest, env=ENV)
            except Crash:
                crashed = True
            dest.crash_after = None
            # invariant after every run: every hash the state claims is what the
            # destination holds; after a crash only the batch in flight may differ
            # (an empty hash claims nothing: a crash left that record unknown)
            claims = {k: h for k, h in state_of(con).items() if h}
            differ = {k for k, h in claims.items() if dest.members.get(k) != h}
            assert not differ or (crashed and differ <= dest.last_batch), differ
            if not crashed:
                # a run that heard every outcome leaves no write-ahead row of its own
                last = "select run_id from activations.sync_runs order by started_at desc limit 1"
                assert con.execute(
                    f"select count(*) from activations.sync_inflight where run_id = ({last})"
                ).fetchall() == [(0,)]
        # a final clean run: the destination equals the audience (mirror) or contains
        # it, each record with the audience's current data
        dest.reject = set()
        con.execute("delete from activations.sync_locks")  # the crashed "process" was us
        report = run(spec, con, provider=dest, env=ENV)
        assert report.status == "succeeded", report.error
        p = plan(spec, con, keep=True)
        current = dict(
            con.execute(
                f"select record_key, record_hash from {p.snapshot} where reason is null"
            ).fetchall()
        )
        drop(Db.wrap(con), p)
        state = state_of(con)
        assert {k: dest.members.get(k) for k in current} == current
        assert {k: state.get(k) for k in current} == current
        if mode == "mirror":
            assert set(dest.members) == set(current) == set(state)
        assert all(dest.members.get(k) == h for k, h in state.items() if h)
        # nothing confirmed in the state is sent again by another run
        dest.received.clear()
        assert run(spec, con, provider=dest, env=ENV).sent == 0
    finally:
        con.close()


class UpdateOnlyDestination(MemoryDestination):
    """A destination with an update-only call: unknown people are refused."""

    def update(self, destination, batch):
        self.requests += 1
        out = []
        for r in batch:
            self.received.append(("update", r.key))
            if r.key in self.members:
                self.members[r.key] = r.hash
                out.append(Outcome(r.key, "confirmed"))
            else:
                out.append(Outcome(r.key, "rejected", reason="not found", retryable=False))
        return out


def test_update_mode_only_touches_existing_contacts(db, tmp_path: Path) -> None:
    dest = UpdateOnlyDestination()
    dest.members = {"p00000": "old", "p00001": "old"}
    make_audience(db, people(4))
    spec = webhook_spec(tmp_path, mode="update", extra="    guards: {max_rejects_share: 1}\n")
    report = run(spec, db, provider=dest, env=ENV)
    assert (report.confirmed, report.rejected) == (2, 2)
    assert set(dest.members) == {"p00000", "p00001"}  # nobody created
    again = run(spec, db, provider=dest, env=ENV)  # refused for good: not retried
    assert again.sent == 0 and again.gave_up == 2
    # without an update call: only records this sync confirmed before are updated
    plain = MemoryDestination()
    make_audience(db, people(4, cart_value=500))
    fallback = run(
        spec.model_copy(update={"name": "carts_update_plain"}), db, provider=plain, env=ENV
    )
    assert fallback.sent == 0 and plain.members == {}


def test_report_metadata_is_plain(db, tmp_path: Path) -> None:
    import json

    make_audience(db, people(3))
    report = run(webhook_spec(tmp_path), db, provider=MemoryDestination(), env=ENV)
    meta = report.metadata()
    json.dumps(meta)  # plain types only
    assert meta["confirmed"] == 3 and meta["status"] == "succeeded" and meta["run_id"]
    assert meta["guards"]["removal_cap"]["passed"] is True


def test_contact_policy_is_checked_before_anything_leaves(db, tmp_path: Path) -> None:
    make_audience(db, people(5))
    db.execute("create schema core")
    db.execute(
        "create table core.contact_policy as select * from (values "
        "('p00001', false, 'spam_complaint'), ('p00002', true, null)) "
        "as t(person_id, can_email_marketing, reason)"
    )
    dest = MemoryDestination()
    report = run(webhook_spec(tmp_path), db, provider=dest, env=ENV)
    assert "p00001" not in dest.members and len(dest.members) == 4
    assert report.plan is not None
    assert report.plan.skipped_reasons == {"contact policy: spam_complaint": 1}


def test_webhook_receiver_log_exists_empty_when_nothing_was_delivered(sink) -> None:
    """An empty log means "nothing delivered", not "the receiver never ran"."""
    assert sink.log.exists()
    assert sink.log.read_text() == "" and sink.received() == []
