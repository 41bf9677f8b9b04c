"""Regressions of the sync engine found in the reliability review, each on a
real DuckDB file against the in-memory destination:

- changing a sync's destination or provider kept the old state, so the new
  destination got nothing and the run said succeeded;
- a removal after a crash was planned with no email (people known only from
  the write-ahead), and the email providers confirmed it without removing;
- events mode re-sent the event to people who were briefly unsendable;
- a blocked run's report said 'removed N' when nothing was removed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from activations.contract.records import Outcome, Record
from activations.providers.connector_helpers import NO_EMAIL_TO_REMOVE
from activations.sync import commands
from activations.sync.engine import plan, run
from activations.sync.state import ensure_schema
from activations.warehouse.db import Db
from tests.activations.sync.conftest import (
    Crash,
    MemoryDestination,
    make_audience,
    people,
    webhook_spec,
)

ENV = {"HOOK_SECRET": "x" * 12, "HOOK_URL": "http://127.0.0.1:9"}
LOOSE = "    guards: {max_removal_share: 1.0}\n"


def state_rows(con, sync: str = "carts_hook") -> int:
    return con.execute(
        "select count(*) from activations.sync_state where sync_name = ?", [sync]
    ).fetchone()[0]


def test_changing_the_destination_starts_fresh_and_retires_the_old_state(db, tmp_path) -> None:
    spec = webhook_spec(tmp_path)
    make_audience(db, people(10))
    old = MemoryDestination()
    assert run(spec, db, provider=old, env=ENV).confirmed == 10

    moved = spec.model_copy(update={"destination": "/hooks/other"})
    p = plan(moved, db)
    assert (p.added, p.members, p.unchanged) == (10, 0, 0)
    assert [(o.provider, o.destination, o.records) for o in p.previous] == [
        ("webhook", "/hooks/carts", 10)
    ]

    new = MemoryDestination()
    report = run(moved, db, provider=new, env=ENV)
    assert report.status == "succeeded" and report.confirmed == 10
    assert len(new.members) == 10  # the new destination gets everyone
    assert "no longer to webhook '/hooks/carts'" in report.notes[0]
    retired = db.execute(
        "select count(*), min(reason) from activations.sync_changelog "
        "where sync_name = 'carts_hook' and action = 'retired'"
    ).fetchone()
    assert retired[0] == 10 and "/hooks/carts" in retired[1]
    assert state_rows(db) == 10
    # the next run of the new destination has nothing to do
    assert run(moved, db, provider=new, env=ENV).sent == 0


def test_changing_the_provider_starts_fresh(db, tmp_path) -> None:
    spec = webhook_spec(tmp_path)
    make_audience(db, people(4))
    assert run(spec, db, provider=MemoryDestination(), env=ENV).confirmed == 4
    other = spec.model_copy(update={"provider": "braze"})
    dest = MemoryDestination()
    report = run(other, db, provider=dest, env=ENV)
    assert report.confirmed == 4 and len(dest.members) == 4
    assert "no longer to webhook" in report.notes[0]


class EmailDestination(MemoryDestination):
    """Removes by email, as Mailchimp, Klaviyo and SendGrid do: a removal with
    no email cannot be done and is rejected (never confirmed)."""

    def __init__(self) -> None:
        super().__init__(max_records=7)
        self.removed_emails: list[str | None] = []

    def remove(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        self.removed_emails += [r.email for r in batch]
        missing = [r for r in batch if not r.email]
        done = self._apply("remove", [r for r in batch if r.email])
        return done + [Outcome(r.key, "rejected", reason=NO_EMAIL_TO_REMOVE) for r in missing]


def test_a_removal_after_a_crash_is_sent_with_the_email(db, tmp_path) -> None:
    spec = webhook_spec(tmp_path, extra=LOOSE)
    make_audience(db, people(10))
    dest = EmailDestination()
    dest.crash_after = 1  # the first batch of 7 lands, then the process dies
    with pytest.raises(Crash):
        run(spec, db, provider=dest, env=ENV)
    assert len(dest.members) == 7 and state_rows(db) == 0

    make_audience(db, people(10)[7:])  # the 7 who may be on the list leave
    report = run(spec, db, provider=dest, env=ENV)
    assert report.status == "succeeded" and report.rejected == 0
    assert None not in dest.removed_emails
    assert sorted(dest.removed_emails) == sorted(f"p{i:05d}@example.com" for i in range(7))
    assert set(dest.members) == {f"p{i:05d}" for i in range(7, 10)}
    removed = db.execute(
        "select count(*) from activations.sync_changelog where action = 'removed'"
    ).fetchone()[0]
    assert removed == 7


def test_the_write_ahead_of_an_older_warehouse_gains_the_email_column(db) -> None:
    db.execute("create schema activations")
    db.execute(
        "create table activations.sync_inflight (sync_name varchar not null, "
        "record_key varchar not null, operation varchar not null, run_id varchar not null)"
    )
    db.execute("insert into activations.sync_inflight values ('s', 'k', 'upsert', 'r')")
    ensure_schema(Db(db))
    assert db.execute("select email from activations.sync_inflight").fetchall() == [(None,)]


def test_events_are_not_sent_again_after_a_brief_frequency_cap(db, tmp_path) -> None:
    spec = webhook_spec(tmp_path, mode="events")
    rows = people(5)
    make_audience(db, rows)
    dest = MemoryDestination()
    assert run(spec, db, provider=dest, env=ENV).confirmed == 5

    capped = [dict(r) for r in rows]
    capped[1].update(is_sendable=False, suppression_reason="frequency cap")
    make_audience(db, capped)
    assert run(spec, db, provider=dest, env=ENV).sent == 0
    assert state_rows(db) == 5  # still in the audience: remembered

    make_audience(db, rows)  # sendable again: the event is not sent twice
    report = run(spec, db, provider=dest, env=ENV)
    assert report.sent == 0 and len(dest.events) == 5

    make_audience(db, rows[:1] + rows[2:])  # leaves the audience: forgotten
    run(spec, db, provider=dest, env=ENV)
    make_audience(db, rows)  # and re-enters: fires again
    assert run(spec, db, provider=dest, env=ENV).sent == 1


def test_a_blocked_run_reports_nothing_removed(db, tmp_path, capsys) -> None:
    spec = webhook_spec(tmp_path)
    make_audience(db, people(10))
    dest = MemoryDestination()
    run(spec, db, provider=dest, env=ENV)
    make_audience(db, people(2))
    report = run(spec, db, provider=dest, env=ENV)
    assert report.status == "blocked" and report.exit_code == 3
    assert report.removed == 0 and report.plan is not None and report.plan.removed == 8
    assert len(dest.members) == 10
    recorded = db.execute(
        "select removed, error from activations.sync_runs where run_id = ?", [report.run_id]
    ).fetchone()
    assert recorded[0] == 0 and "would remove 8 of 10" in recorded[1]
    commands._print_report(report)
    out = capsys.readouterr().out
    assert "nothing sent (the plan would add 0, change 0, remove 8)" in out
    assert "removed 8" not in out and "--force" in out


def test_plan_cli_shows_the_destination_change(db, tmp_path: Path, capsys) -> None:
    spec = webhook_spec(tmp_path)
    make_audience(db, people(3))
    run(spec, db, provider=MemoryDestination(), env=ENV)
    moved = spec.model_copy(update={"destination": "/hooks/other"})
    p = plan(moved, db)
    commands._print_plan(p)
    out = capsys.readouterr().out
    assert "written for webhook '/hooks/carts'" in out and "starts fresh" in out
