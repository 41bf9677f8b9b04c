"""The state tables in the warehouse (schema ``activations``): their names, the
run counters and the DDL, created on first use."""

from __future__ import annotations

from datetime import UTC, datetime

from activations.warehouse.db import Db

SCHEMA = "activations"


STATE = f"{SCHEMA}.sync_state"


RUNS = f"{SCHEMA}.sync_runs"


CHANGELOG = f"{SCHEMA}.sync_changelog"


REJECTS = f"{SCHEMA}.sync_rejects"


LOCKS = f"{SCHEMA}.sync_locks"


INFLIGHT = f"{SCHEMA}.sync_inflight"


RUN_COUNTS = (
    "planned",
    "added",
    "changed",
    "removed",
    "unchanged",
    "sent",
    "confirmed",
    "rejected",
    "skipped",
    "invalid",
    "gave_up",
    "unconfirmed",
    "requests",
)


DDL = [
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {STATE} (
        sync_name varchar not null,
        record_key varchar not null,
        record_hash varchar not null,
        destination_id varchar,
        email varchar,
        first_confirmed_at timestamp not null,
        last_confirmed_at timestamp not null,
        last_run_id varchar,
        primary key (sync_name, record_key)
    )""",
    f"""create table if not exists {RUNS} (
        run_id varchar primary key,
        sync_name varchar not null,
        audience varchar,
        provider varchar,
        destination varchar,
        mode varchar,
        status varchar not null,
        started_at timestamp not null,
        ended_at timestamp,
        duration_s double precision,
        {", ".join(f"{c} integer not null default 0" for c in RUN_COUNTS)},
        job_ids varchar,
        forced boolean,
        pid integer,
        host varchar,
        error varchar
    )""",
    f"""create table if not exists {CHANGELOG} (
        run_id varchar not null,
        sync_name varchar not null,
        record_key varchar not null,
        action varchar not null,
        record_hash varchar,
        destination_id varchar,
        reason varchar,
        changed_at timestamp not null
    )""",
    f"""create table if not exists {REJECTS} (
        sync_name varchar not null,
        record_key varchar not null,
        record_hash varchar,
        operation varchar,
        reason varchar,
        attempts integer not null,
        retryable boolean not null,
        first_rejected_at timestamp not null,
        last_rejected_at timestamp not null,
        last_run_id varchar,
        primary key (sync_name, record_key)
    )""",
    # write-ahead: keys a run is about to send, until their outcome is committed;
    # rows left after a run are records whose content at the destination is unknown.
    # Each row keeps what the run sends (its plan number, hash, address, the id the
    # state knew, the plan's action): a batch's commit reads them from here
    f"""create table if not exists {INFLIGHT} (
        sync_name varchar not null,
        record_key varchar not null,
        operation varchar not null,
        run_id varchar not null,
        email varchar,
        seq bigint,
        record_hash varchar,
        destination_id varchar,
        action varchar
    )""",
    f"""create table if not exists {LOCKS} (
        sync_name varchar primary key,
        run_id varchar not null,
        pid integer,
        host varchar,
        acquired_at timestamp not null
    )""",
    # state written before runs recorded their audience
    f"alter table {RUNS} add column if not exists audience varchar",
    # write-ahead written before it kept the email (a removal needs it)
    f"alter table {INFLIGHT} add column if not exists email varchar",
    # ... and before it kept what the run sends (commits read it, activations.sync.state.sent)
    *(
        f"alter table {INFLIGHT} add column if not exists {column}"
        for column in (
            "seq bigint",
            "record_hash varchar",
            "destination_id varchar",
            "action varchar",
        )
    ),
]


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_schema(db: Db) -> None:
    with db.transaction():
        for statement in DDL:
            db.execute(statement)


def has_state_tables(db: Db) -> bool:
    return db.table_exists(SCHEMA, "sync_state")
