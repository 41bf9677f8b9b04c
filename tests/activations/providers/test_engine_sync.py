"""A full sync through the engine (``activations.sync.engine.run``) to the sandbox,
per provider: partial failures recorded with the ESP's own reason and retried
on the next run, and events sent once. The SMS providers (Infobip, Twilio)
sync an audience with the channel decision and ``phone_e164``: only the
``sms`` rows go, each to its phone, an invalid number is kept as a reject and
never sent, and a refusal only the provider can make is recorded with its
reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from connector_helpers import DESTINATION, ESPS, SMS, member_emails
from sandbox_syncs import run_and_close, sandbox_credentials

from activations.sync import engine
from activations.sync.specs import SyncSpec

# "dan@shop.c0m" passes the planner's email check, and every ESP refuses it (no
# such top-level domain): a rejection only the provider can make
PEOPLE = [
    ("p_1", "ann@example.com", "Ann", 12.5),
    ("p_2", "bo@example.com", "Bo", 30.0),
    ("p_3", "dan@shop.c0m", "Dan", 7.0),
]


# person, phone_e164, first name, ltv, channel decision (is_sendable is the email
# decision, true here for all: an SMS sync goes by the channel)
SMS_PEOPLE = [
    ("p_1", "+4915100000001", "Ann", 12.5, "sms"),
    ("p_2", "+4915100000002", "Bo", 30.0, "sms"),
    ("p_3", "+4915100000003", "Dan", 7.0, "email"),
    ("p_4", "0151 000004", "Eve", 3.0, "sms"),  # not E.164: never sent
]


@pytest.fixture
def sms_warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "sms.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("create schema demo")
    conn.execute(
        "create table demo.vips (person_id varchar, email varchar, phone_e164 varchar, "
        "first_name varchar, ltv decimal(12, 2), channel varchar, is_sendable boolean)"
    )
    conn.executemany("insert into demo.vips values (?, null, ?, ?, ?, ?, true)", SMS_PEOPLE)
    conn.close()
    return path


def _sql(path: Path, sql: str) -> None:
    conn = duckdb.connect(str(path))
    try:
        conn.execute(sql)
    finally:
        conn.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "audiences.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("create schema demo")
    conn.execute(
        "create table demo.vips (person_id varchar, email varchar, first_name varchar, "
        "ltv decimal(12, 2), is_sendable boolean)"
    )
    conn.executemany("insert into demo.vips values (?, ?, ?, ?, true)", PEOPLE)
    conn.close()
    return path


def _spec(
    sandbox: Any, name: str, mode: str = "mirror", destination: str | None = None
) -> SyncSpec:
    return SyncSpec(
        name=f"vips_{name}_{mode}",
        audience="demo.vips",
        provider=name,
        destination=destination or DESTINATION[name],
        mode=mode,
        fields={"first_name": "first_name", "ltv": "ltv"},
        guards={"max_removal_share": 1.0, "max_rejects_share": 1.0, "max_attempts": 3},
        credentials=sandbox_credentials(sandbox, name, "ENGINE_TEST_KEY"),
    )


def _run(path: Path, spec: SyncSpec) -> engine.RunReport:
    return run_and_close(duckdb.connect(str(path)), spec, "ENGINE_TEST_KEY")


def _rejects(path: Path, sync: str) -> list[tuple]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return conn.execute(
            "select record_key, reason, attempts from activations.sync_rejects where sync_name = ?",
            [sync],
        ).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("name", ESPS)
def test_rejected_record_is_recorded_with_the_esps_reason_and_retried_next_run(
    name: str, sandbox, warehouse: Path
) -> None:
    spec = _spec(sandbox, name)
    first = _run(warehouse, spec)
    assert (first.confirmed, first.rejected) == (2, 1)
    ((key, reason, attempts),) = _rejects(warehouse, spec.name)
    assert key == "p_3" and attempts == 1 and reason
    assert member_emails(sandbox, name, spec.destination) == {"ann@example.com", "bo@example.com"}

    second = _run(warehouse, spec)  # nothing changed: only the rejected record goes again
    assert (second.sent, second.rejected) == (1, 1)
    assert _rejects(warehouse, spec.name)[0][2] == 2

    conn = duckdb.connect(str(warehouse))
    conn.execute("update demo.vips set email = 'dan@shop.com' where person_id = 'p_3'")
    conn.close()
    third = _run(warehouse, spec)
    assert (third.sent, third.confirmed, third.rejected) == (1, 1, 0)
    assert "dan@shop.com" in member_emails(sandbox, name, spec.destination)
    assert _run(warehouse, spec).sent == 0


@pytest.mark.parametrize("name", ["braze", "klaviyo", "customerio"])
def test_events_mode_sends_each_entry_once(name: str, sandbox, warehouse: Path) -> None:
    conn = duckdb.connect(str(warehouse))
    conn.execute("update demo.vips set email = 'dan@shop.com' where person_id = 'p_3'")
    conn.close()
    spec = _spec(sandbox, name, mode="events", destination="vip_entered")
    first = _run(warehouse, spec)
    assert first.confirmed == 3
    assert _run(warehouse, spec).sent == 0
    events = sandbox.state(name)["providers"][name]["events"]
    assert events == 3


@pytest.mark.parametrize("name", SMS)
def test_sms_sync_sends_the_sms_decisions_to_their_phones_and_mirrors_changes(
    name: str, sandbox, sms_warehouse: Path
) -> None:
    spec = _spec(sandbox, name)
    first = _run(sms_warehouse, spec)
    assert (first.confirmed, first.rejected, first.invalid) == (2, 0, 1)
    assert member_emails(sandbox, name, spec.destination) == {"+4915100000001", "+4915100000002"}
    assert _rejects(sms_warehouse, spec.name) == [("p_4", "invalid phone number", 1)]
    assert _run(sms_warehouse, spec).sent == 0

    # the rule moves Bo to email, Dan to SMS, and Eve's number is put right
    _sql(
        sms_warehouse,
        "update demo.vips set channel = case person_id when 'p_2' then "
        "'email' else 'sms' end, phone_e164 = replace(replace(phone_e164, '0151 ', "
        "'+49151'), ' ', '')",
    )
    third = _run(sms_warehouse, spec)
    assert (third.added, third.removed, third.confirmed) == (2, 1, 3)
    assert member_emails(sandbox, name, spec.destination) == {
        "+4915100000001",
        "+4915100000003",
        "+49151000004",
    }
    assert _rejects(sms_warehouse, spec.name) == []
    assert _run(sms_warehouse, spec).sent == 0


def test_infobip_refusal_is_recorded_with_its_reason_and_retried_next_run(
    sandbox, sms_warehouse: Path
) -> None:
    """A number another person of the account holds: only Infobip can refuse it."""
    spec = _spec(sandbox, "infobip")
    _sql(
        sms_warehouse, "update demo.vips set phone_e164 = '+4915100000001' where person_id = 'p_2'"
    )
    first = _run(sms_warehouse, spec)
    assert (first.confirmed, first.rejected) == (1, 1)
    ((key, reason, attempts),) = [r for r in _rejects(sms_warehouse, spec.name) if r[0] != "p_4"]
    assert key == "p_2" and attempts == 1 and "already belongs to another person" in reason
    second = _run(sms_warehouse, spec)  # nothing changed: only the refused record goes again
    assert (second.sent, second.rejected) == (1, 1)
    _sql(
        sms_warehouse, "update demo.vips set phone_e164 = '+4915100000002' where person_id = 'p_2'"
    )
    third = _run(sms_warehouse, spec)
    assert (third.sent, third.confirmed, third.rejected) == (1, 1, 0)
    assert member_emails(sandbox, "infobip", spec.destination) == {
        "+4915100000001",
        "+4915100000002",
    }


def test_twilio_message_over_32_kb_is_rejected_alone_and_not_retried(
    sandbox, sms_warehouse: Path
) -> None:
    """Segment refuses a whole batch with a message over 32 KB: that record is
    rejected alone with the reason (never sent), the others go."""
    spec = _spec(sandbox, "twilio")
    _sql(
        sms_warehouse, f"update demo.vips set first_name = '{'x' * 33_000}' where person_id = 'p_2'"
    )
    first = _run(sms_warehouse, spec)
    assert (first.confirmed, first.rejected) == (1, 1)
    ((key, reason, _),) = [r for r in _rejects(sms_warehouse, spec.name) if r[0] != "p_4"]
    assert key == "p_2" and "over the provider limit" in reason
    assert member_emails(sandbox, "twilio", spec.destination) == {"+4915100000001"}
    assert _run(sms_warehouse, spec).sent == 0  # the same data: refused for good


@pytest.mark.parametrize("name", SMS)
def test_sms_events_mode_sends_each_entry_once(name: str, sandbox, sms_warehouse: Path) -> None:
    # Infobip: the People event definition id; Twilio: the track event's name
    spec = _spec(sandbox, name, mode="events", destination="vip_entered")
    first = _run(sms_warehouse, spec)
    assert (first.confirmed, first.invalid) == (2, 1)
    assert _run(sms_warehouse, spec).sent == 0
    state = sandbox.state(name)["providers"][name]
    assert state["events"] == 2
    assert {e["person"] for e in state["recent_events"]} == {"p_1", "p_2"}
