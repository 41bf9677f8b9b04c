"""A full sync through the engine (``activations.sync.engine.run``) to the sandbox,
per provider: partial failures recorded with the ESP's own reason and retried
on the next run, and events sent once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from connector_helpers import DESTINATION, ESPS, member_emails
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
