"""The engine is channel-aware: an SMS provider's sync sends the audience rows
whose channel decision is ``sms`` to their E.164 phone, an email sync on an
audience with a channel decision sends only the ``email`` rows, and an
audience without a ``channel`` column is synced as it always was.

The SMS providers (infobip, twilio) land on another branch: these tests
register a stand-in SMS provider in the registry for their duration."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activations.contract.records import Outcome, Record
from activations.errors import UserError
from activations.providers import registry
from activations.sync.audience import INVALID_PHONE, PHONE_PATTERN
from activations.sync.engine import run
from activations.sync.plan import drop
from activations.sync.plan import plan as make_plan
from activations.sync.specs import SyncSpec
from activations.warehouse.db import Db
from tests.activations.sync.conftest import MemoryDestination, make_audience, webhook_spec

ENV = {"HOOK_SECRET": "x" * 12, "HOOK_URL": "http://127.0.0.1:9"}
SMS = "memsms"


@pytest.fixture(autouse=True)
def sms_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in SMS provider in the registry (the real ones: branch sms-connectors)."""
    entries = dict(registry.ENTRIES)
    entries[SMS] = registry.ProviderEntry(
        name=SMS, connector="tests:none", needs_key=False, channel="sms"
    )
    monkeypatch.setattr(registry, "ENTRIES", entries)


class Recorder(MemoryDestination):
    """The in-memory destination, keeping every record it was given."""

    def __init__(self) -> None:
        super().__init__(max_records=50)
        self.records: list[Record] = []

    def upsert(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        self.records.extend(batch)
        return super().upsert(destination, batch)

    def send_events(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        self.records.extend(batch)
        return super().send_events(destination, batch)


def channel_audience(con: Any, rows: Sequence[dict[str, Any]], table: str = "carts") -> None:
    """audiences.<table> with the contract columns, the channel decision and attributes."""
    con.execute("create schema if not exists audiences")
    con.execute(f"drop table if exists audiences.{table}")
    con.execute(
        f"""create table audiences.{table} (
            person_id varchar, email varchar, entered_at timestamp, audience varchar,
            is_sendable boolean, suppression_reason varchar, is_control boolean,
            channel varchar, channel_reason varchar, phone_e164 varchar,
            cart_value decimal(12, 2), cart_items varchar)"""
    )
    con.executemany(
        f"insert into audiences.{table} values "
        "(?, ?, timestamp '2026-01-01', ?, ?, ?, false, ?, ?, ?, 10, '[]')",
        [
            [
                r["person_id"],
                r.get("email", f"{r['person_id']}@example.com"),
                table,
                r.get("is_sendable", False),
                r.get("suppression_reason"),
                r.get("channel"),
                r.get("channel_reason"),
                r.get("phone_e164"),
            ]
            for r in rows
        ],
    )


def sms_policy(con: Any, rows: dict[str, str | None]) -> None:
    """core.sms_contact_policy: person -> reason (None = sendable)."""
    con.execute("create schema if not exists core")
    con.execute("drop table if exists core.sms_contact_policy")
    con.execute(
        "create table core.sms_contact_policy (person_id varchar, can_sms_marketing boolean, "
        "is_sms_sendable boolean, reason varchar)"
    )
    for person, reason in rows.items():
        con.execute(
            "insert into core.sms_contact_policy values (?, ?, ?, ?)",
            [person, reason in (None, "sms_quiet_hours"), reason is None, reason],
        )


def sms_spec(tmp_path: Path, mode: str = "events") -> SyncSpec:
    """The webhook declaration, pointed at the stand-in SMS provider (the
    declaration's own check knows only the providers registered at import)."""
    (tmp_path / "sms").mkdir(exist_ok=True)
    spec = webhook_spec(tmp_path / "sms", mode=mode)
    return spec.model_copy(update={"provider": SMS, "name": "carts_sms"})


def email_spec(tmp_path: Path, mode: str = "mirror") -> SyncSpec:
    return webhook_spec(tmp_path, mode=mode)


def sendable(con: Any, spec: SyncSpec) -> dict[str, str | None]:
    """record key -> reason (None: sendable) of the sync's snapshot."""
    db = Db.wrap(con)
    p = make_plan(spec, db)
    try:
        return dict(db.query(f"select record_key, reason from {p.snapshot}"))
    finally:
        drop(db, p)


ROWS = [
    # email decision
    {"person_id": "e1", "is_sendable": True, "channel": "email", "channel_reason": "email_sendable",
     "phone_e164": "+491700000001"},
    # SMS fallback: no email consent
    {"person_id": "s1", "suppression_reason": "no_consent", "channel": "sms",
     "channel_reason": "sms_email_not_sendable", "phone_e164": "+491700000002"},
    # SMS fallback after an unopened email: email still sendable, but the decision is sms
    {"person_id": "s2", "is_sendable": True, "channel": "sms",
     "channel_reason": "sms_email_not_opened", "phone_e164": "+447400123456"},
    # decided sms, but the phone is not E.164 (the engine's last guard)
    {"person_id": "s3", "suppression_reason": "no_consent", "channel": "sms",
     "channel_reason": "sms_email_not_sendable", "phone_e164": "0170 1234567"},
    # decided sms, but the SMS contact policy says no (withdrawn since the build)
    {"person_id": "s4", "suppression_reason": "no_consent", "channel": "sms",
     "channel_reason": "sms_email_not_sendable", "phone_e164": "+491700000004"},
    # no channel: control group; quiet hours
    {"person_id": "n1", "suppression_reason": "control_group", "channel": None,
     "channel_reason": "control_group", "phone_e164": "+491700000005"},
    {"person_id": "n2", "suppression_reason": "no_consent", "channel": None,
     "channel_reason": "sms_quiet_hours", "phone_e164": "+491700000006"},
]  # fmt: skip
POLICY = {"e1": None, "s1": None, "s2": None, "s3": None, "s4": "sms_unsubscribed",
          "n1": None, "n2": "sms_quiet_hours"}  # fmt: skip


def test_sms_sync_sends_only_sms_decisions_to_their_phone(db, tmp_path: Path) -> None:
    channel_audience(db, ROWS)
    sms_policy(db, POLICY)
    reasons = sendable(db, sms_spec(tmp_path))
    assert {k for k, r in reasons.items() if r is None} == {"s1", "s2"}
    assert reasons["e1"] == "channel decision: email (email_sendable)"
    assert reasons["n1"] == "channel decision: none (control_group)"
    assert reasons["n2"] == "channel decision: none (sms_quiet_hours)"
    assert reasons["s3"] == INVALID_PHONE
    assert reasons["s4"] == "sms contact policy: sms_unsubscribed"

    dest = Recorder()
    report = run(sms_spec(tmp_path), db, provider=dest, env=ENV)
    assert report.status == "succeeded", report.error
    sent = {r.key: r for r in dest.records}
    assert set(sent) == {"s1", "s2"}
    assert sent["s1"].phone == "+491700000002" and sent["s1"].email is None
    assert sent["s2"].phone == "+447400123456"
    # the invalid number is recorded as a reject with the reason, never sent
    rejects = db.execute(
        "select record_key, reason from activations.sync_rejects where sync_name = 'carts_sms'"
    ).fetchall()
    assert rejects == [("s3", INVALID_PHONE)]


def test_email_sync_on_a_channel_audience_sends_only_email_decisions(db, tmp_path) -> None:
    channel_audience(db, ROWS)
    sms_policy(db, POLICY)
    reasons = sendable(db, email_spec(tmp_path))
    assert {k for k, r in reasons.items() if r is None} == {"e1"}
    # email-sendable, but the rule moved them to SMS: the reason names the decision
    assert reasons["s2"] == "channel decision: sms (sms_email_not_opened)"
    assert reasons["s1"] == "not sendable: no_consent"


def test_audience_without_a_channel_column_syncs_as_before(db, tmp_path) -> None:
    make_audience(db, [{"person_id": "a"}, {"person_id": "b", "is_sendable": False}])
    reasons = sendable(db, email_spec(tmp_path))
    assert reasons == {"a": None, "b": "not sendable"}


def test_sms_sync_needs_the_channel_decision(db, tmp_path) -> None:
    make_audience(db, [{"person_id": "a"}])
    with pytest.raises(UserError, match="no channel and no phone_e164"):
        sendable(db, sms_spec(tmp_path))


def test_email_removes_a_member_the_rule_moved_to_sms(db, tmp_path) -> None:
    """Mirror: a person the email list holds whose decision becomes sms (the
    email was not opened in time) leaves the email list and joins the SMS one."""
    rows = [dict(ROWS[0]), {**ROWS[0], "person_id": "e2"}]
    channel_audience(db, rows)
    sms_policy(db, {"e1": None, "e2": None})
    email, sms = Recorder(), Recorder()
    assert run(email_spec(tmp_path), db, provider=email, env=ENV).status == "succeeded"
    assert set(email.members) == {"e1", "e2"}
    rows[1].update(channel="sms", channel_reason="sms_email_not_opened")
    channel_audience(db, rows)
    run(email_spec(tmp_path), db, provider=email, env=ENV, force=True)
    run(sms_spec(tmp_path), db, provider=sms, env=ENV)
    assert set(email.members) == {"e1"}
    assert {r.key for r in sms.records} == {"e2"}


PHONES = st.sampled_from([None, "+491700000001", "+44740012345", "0170 1234567", "+49 170", ""])
ROW = st.fixed_dictionaries(
    {
        "is_sendable": st.booleans(),
        "channel": st.sampled_from([None, "email", "sms", "push"]),
        "phone_e164": PHONES,
        "email": st.sampled_from([None, "a@example.com", "not-an-email"]),
        "policy": st.sampled_from([None, "sms_unsubscribed", "sms_quiet_hours", "missing"]),
    }
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(ROW, min_size=1, max_size=12))
def test_property_nobody_is_sendable_in_both_channels(tmp_path: Path, rows) -> None:
    """Whatever the audience holds, no person is sendable in both the email and
    the SMS sync of one audience; SMS only with decision sms, an E.164 phone and
    the SMS policy's yes; email only with decision email and is_sendable."""
    con = duckdb.connect(str(tmp_path / f"prop{id(rows)}.duckdb"))
    try:
        audience = [
            {**r, "person_id": f"p{i}", "email": r["email"], "suppression_reason": None}
            for i, r in enumerate(rows)
        ]
        channel_audience(con, audience)
        sms_policy(con, {a["person_id"]: a["policy"] for a in audience if a["policy"] != "missing"})
        by_sms = sendable(con, sms_spec(tmp_path))
        by_email = sendable(con, email_spec(tmp_path))
        sms_ok = {k for k, r in by_sms.items() if r is None}
        email_ok = {k for k, r in by_email.items() if r is None}
        assert not sms_ok & email_ok
        for a in audience:
            key = a["person_id"]
            if key in sms_ok:
                assert a["channel"] == "sms" and a["policy"] is None
                assert re.fullmatch(PHONE_PATTERN, a["phone_e164"] or "")
            if key in email_ok:
                assert a["channel"] == "email" and a["is_sendable"]
    finally:
        con.close()


def test_quiet_hours_are_checked_again_when_the_sync_sends(db, tmp_path, monkeypatch) -> None:
    """The build decided sms at its as_of; a sync running later, when it is night
    on the person's local clock, holds the SMS back (sent by a later run)."""
    from activations.sync import audience

    channel_audience(db, [ROWS[1], {**ROWS[1], "person_id": "s9", "phone_e164": "+447400123456"}])
    db.execute("create schema if not exists core")
    db.execute(
        "create or replace table core.sms_contact_policy as select * from (values "
        "('s1', true, true, null, 'Europe/Berlin', 21, 8), "
        "('s9', true, true, null, 'Europe/London', 21, 8)) as t(person_id, can_sms_marketing, "
        "is_sms_sendable, reason, time_zone, quiet_hours_start, quiet_hours_end)"
    )
    # 19:30 UTC in summer: 21:30 in Berlin (quiet), 20:30 in London (not)
    monkeypatch.setattr(audience, "sending_now", lambda: datetime(2026, 6, 30, 19, 30))
    reasons = sendable(db, sms_spec(tmp_path))
    assert reasons == {"s1": audience.QUIET_AT_SEND, "s9": None}
    monkeypatch.setattr(audience, "sending_now", lambda: datetime(2026, 6, 30, 7, 30))
    assert sendable(db, sms_spec(tmp_path)) == {"s1": None, "s9": None}  # 09:30 and 08:30


def test_the_consent_guard_counts_invalid_addresses_of_the_syncs_channel(db, tmp_path) -> None:
    """The plan's consent line (CLI plan, Dagster's guards check) once said "invalid
    emails" for an SMS sync too: it names what the channel's address is."""
    channel_audience(db, ROWS)
    sms_policy(db, POLICY)
    messages = {}
    for name, spec in (("sms", sms_spec(tmp_path)), ("email", email_spec(tmp_path))):
        p = make_plan(spec, Db.wrap(db))
        try:
            messages[name] = next(g.message for g in p.guards if g.name == "consent")
        finally:
            drop(Db.wrap(db), p)
    assert messages["sms"].endswith("; 1 invalid phone numbers")  # s3: "0170 1234567"
    assert "email" not in messages["sms"]
    assert messages["email"].endswith("; 0 invalid emails")
