"""The destination a sync's state describes. ``sync_state`` is keyed by the
sync's name, but what it records (who is confirmed, with which data) is only
true of the provider and destination the runs sent to: each state, write-ahead
and reject row names its run, and ``sync_runs`` names that run's provider and
destination. When the declaration now names another provider or destination,
that state says nothing about the new one: the plan starts fresh (everyone is
added) and a real run retires the old rows first, one changelog row each
(action ``retired``, with the reason), so the history keeps them."""

from __future__ import annotations

from dataclasses import dataclass

from activations.sync.state.schema import (
    CHANGELOG,
    INFLIGHT,
    REJECTS,
    RUNS,
    SCHEMA,
    STATE,
    now,
)
from activations.warehouse.db import Db


@dataclass(frozen=True)
class OtherTarget:
    """State of this sync confirmed by runs to another provider or destination."""

    provider: str
    destination: str
    records: int

    def describe(self) -> str:
        return f"{self.provider} {self.destination!r}"


def other_targets(db: Db, sync_name: str, provider: str, destination: str) -> list[OtherTarget]:
    """Providers and destinations other than (``provider``, ``destination``) that
    this sync's state, write-ahead or rejects were written for. Rows whose run
    is unknown are taken to belong to the current target."""
    tables = set(db.tables(SCHEMA))  # one catalog query for the four tables
    if not {"sync_state", "sync_runs"} <= tables:
        return []
    # the rows of a sync name runs of that sync: with no run of it to another target
    # (every run but the first after a change of target) there is nothing to count
    if not db.scalar(
        f"select count(*) from {RUNS} where sync_name = ? and provider is not null "
        "and destination is not null and (provider <> ? or destination <> ?)",
        [sync_name, provider, destination],
    ):
        return []
    parts = [
        f"select s.record_key, s.last_run_id as run_id from {STATE} as s where s.sync_name = ?"
    ]
    params: list[str] = [sync_name]
    if "sync_inflight" in tables:
        parts.append(f"select i.record_key, i.run_id from {INFLIGHT} as i where i.sync_name = ?")
        params.append(sync_name)
    if "sync_rejects" in tables:
        parts.append(
            f"select j.record_key, j.last_run_id as run_id from {REJECTS} as j "
            "where j.sync_name = ?"
        )
        params.append(sync_name)
    rows = db.query(
        f"select r.provider, r.destination, count(distinct x.record_key) "
        f"from ({' union all '.join(parts)}) as x join {RUNS} as r on r.run_id = x.run_id "
        "where r.provider is not null and r.destination is not null "
        "and (r.provider <> ? or r.destination <> ?) "
        "group by r.provider, r.destination order by 1, 2",
        [*params, provider, destination],
    )
    return [OtherTarget(str(p), str(d), int(n)) for p, d, n in rows]


def retire_other_targets(
    db: Db, sync_name: str, run_id: str, provider: str, destination: str
) -> list[OtherTarget]:
    """Under the run lock, before planning: when this sync's state was written
    for another provider or destination, retire all of it (state, write-ahead,
    rejects) in one transaction, with one ``retired`` changelog row per state
    record naming the old target, so the plan starts fresh for the new one."""
    others = other_targets(db, sync_name, provider, destination)
    if not others:
        return []
    reason = (
        f"the sync now sends to {provider} {destination!r}; "
        f"this record was confirmed in {', '.join(o.describe() for o in others)}"
    )
    with db.transaction():
        db.execute(
            f"insert into {CHANGELOG} (run_id, sync_name, record_key, action, record_hash, "
            "destination_id, reason, changed_at) "
            "select ?, sync_name, record_key, 'retired', record_hash, destination_id, ?, ? "
            f"from {STATE} where sync_name = ?",
            [run_id, reason, now(), sync_name],
        )
        for table in (STATE, INFLIGHT, REJECTS):
            db.execute(f"delete from {table} where sync_name = ?", [sync_name])
    return others
