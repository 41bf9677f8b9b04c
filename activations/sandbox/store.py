"""Persisted sandbox state: lists, contacts, memberships, suppressions, events, jobs.

SQLite (stdlib) in the state directory, so the sandbox survives a restart.
One connection guarded by a lock; every provider shares the same tables and
keeps its own meaning in the ``provider`` column and in JSON columns.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from activations.errors import UserError

DB_NAME = "sandbox.sqlite3"

SCHEMA = """
create table if not exists lists (
    provider text not null, id text not null, name text not null, kind text not null,
    parent_id text not null default '', auto_created integer not null default 0,
    created_at real not null, primary key (provider, id));
create table if not exists contacts (
    provider text not null, id text not null, email text, external_id text, phone text,
    attributes text not null default '{}', consent text not null default '{}',
    created_at real not null, updated_at real not null, primary key (provider, id));
create index if not exists contacts_email on contacts (provider, email);
create index if not exists contacts_external_id on contacts (provider, external_id);
create table if not exists members (
    provider text not null, list_id text not null, contact_id text not null,
    added_at real not null, primary key (provider, list_id, contact_id));
create index if not exists members_by_contact on members (provider, contact_id, list_id);
create table if not exists suppressions (
    provider text not null, email text not null, kind text not null,
    list_id text not null default '', reason text not null default '',
    created_at real not null, primary key (provider, email, kind, list_id));
create table if not exists events (
    seq integer primary key autoincrement, provider text not null, contact_id text,
    name text not null, dedupe_key text, payload text not null, created_at real not null);
create unique index if not exists events_dedupe on events (provider, dedupe_key)
    where dedupe_key is not null;
create table if not exists jobs (
    provider text not null, id text not null, kind text not null, doc text not null,
    created_at real not null, primary key (provider, id));
create table if not exists fields (
    provider text not null, scope text not null, id text not null, name text not null,
    type text not null, primary key (provider, scope, id));
create table if not exists requests (
    seq integer primary key autoincrement, provider text not null, method text not null,
    path text not null, status integer not null, body_bytes integer not null,
    records integer, at real not null);
create table if not exists webhooks (
    seq integer primary key autoincrement, provider text not null, url text not null,
    status integer, payload text not null, at real not null);
create table if not exists writes (
    seq integer primary key autoincrement, provider text not null, record text not null,
    digest text not null, at real not null);
create index if not exists writes_by_record on writes (provider, record, digest);
create table if not exists kv (key text primary key, value text not null);
"""

STATE_TABLES = ("lists", "contacts", "members", "suppressions", "events", "jobs", "fields",
                "requests", "webhooks", "writes", "kv")


@dataclass
class Contact:
    provider: str
    id: str
    email: str | None = None
    external_id: str | None = None
    phone: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    consent: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass
class ListRow:
    provider: str
    id: str
    name: str
    kind: str  # list | segment | tag
    parent_id: str = ""
    auto_created: bool = False
    created_at: float = 0.0


def _contact(row: sqlite3.Row) -> Contact:
    return Contact(
        provider=row["provider"], id=row["id"], email=row["email"],
        external_id=row["external_id"], phone=row["phone"],
        attributes=json.loads(row["attributes"]), consent=json.loads(row["consent"]),
        created_at=row["created_at"], updated_at=row["updated_at"],
    )


def _list(row: sqlite3.Row) -> ListRow:
    return ListRow(
        provider=row["provider"], id=row["id"], name=row["name"], kind=row["kind"],
        parent_id=row["parent_id"], auto_created=bool(row["auto_created"]),
        created_at=row["created_at"],
    )


class Store:
    """All sandbox state. ``path=None`` keeps it in memory."""

    def __init__(self, state_dir: Path | None):
        if state_dir is None:
            target = ":memory:"
        else:
            try:
                state_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UserError(
                    f"cannot create the sandbox state directory {state_dir}: {exc.strerror}",
                    hint="pass --state-dir pointing to a writable folder",
                ) from exc
            target = str(state_dir / DB_NAME)
        try:
            self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            if target != ":memory:":
                self._db.execute("pragma journal_mode=wal")
                self._db.execute("pragma synchronous=normal")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise UserError(
                f"the sandbox state file {target} is not usable: {exc}",
                hint="delete it (state is lost) or pass another --state-dir",
            ) from exc
        self._lock = threading.RLock()
        self._depth = 0

    # -- plumbing -------------------------------------------------------------
    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction: every write inside commits together or not at all.
        Re-entrant: an inner ``tx`` joins the outer one. Never hold it across an ``await``."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._db
                finally:
                    self._depth -= 1
                return
            self._db.execute("begin")
            self._depth = 1
            try:
                yield self._db
            except BaseException:
                self._db.execute("rollback")
                raise
            finally:
                self._depth = 0
            self._db.execute("commit")

    def _q(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _x(self, sql: str, params: Iterable[Any] = ()) -> None:
        with self._lock:
            self._db.execute(sql, tuple(params))

    def reset(self) -> None:
        with self.tx() as db:
            for table in STATE_TABLES:
                db.execute(f"delete from {table}")  # noqa: S608 (fixed names)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- key/value (config, faults, counters, clock) --------------------------
    def get_kv(self, key: str, default: Any = None) -> Any:
        rows = self._q("select value from kv where key = ?", [key])
        return json.loads(rows[0]["value"]) if rows else default

    def set_kv(self, key: str, value: Any) -> None:
        self._x(
            "insert into kv (key, value) values (?, ?) "
            "on conflict (key) do update set value = excluded.value",
            [key, json.dumps(value)],
        )

    def next_counter(self, name: str) -> int:
        with self._lock:
            value = int(self.get_kv(f"counter:{name}", 0)) + 1
            self.set_kv(f"counter:{name}", value)
            return value

    # -- lists ------------------------------------------------------------------
    def add_list(self, row: ListRow) -> ListRow:
        self._x(
            "insert into lists (provider, id, name, kind, parent_id, auto_created, created_at) "
            "values (?, ?, ?, ?, ?, ?, ?) on conflict do nothing",
            [row.provider, row.id, row.name, row.kind, row.parent_id, int(row.auto_created),
             row.created_at],
        )
        found = self.get_list(row.provider, row.id)
        assert found is not None
        return found

    def get_list(self, provider: str, list_id: str) -> ListRow | None:
        rows = self._q("select * from lists where provider = ? and id = ?", [provider, list_id])
        return _list(rows[0]) if rows else None

    def lists(self, provider: str, *, kind: str | None = None,
              parent_id: str | None = None) -> list[ListRow]:
        sql, params = "select * from lists where provider = ?", [provider]
        if kind is not None:
            sql, params = sql + " and kind = ?", [*params, kind]
        if parent_id is not None:
            sql, params = sql + " and parent_id = ?", [*params, parent_id]
        return [_list(r) for r in self._q(sql + " order by created_at, id", params)]

    # -- contacts ---------------------------------------------------------------
    def get_contact(self, provider: str, contact_id: str) -> Contact | None:
        rows = self._q("select * from contacts where provider = ? and id = ?",
                       [provider, contact_id])
        return _contact(rows[0]) if rows else None

    def find_contact(self, provider: str, *, email: str | None = None,
                     external_id: str | None = None, phone: str | None = None) -> Contact | None:
        for column, value in (("email", email), ("external_id", external_id), ("phone", phone)):
            if value:
                rows = self._q(
                    f"select * from contacts where provider = ? and {column} = ? "  # noqa: S608
                    "order by created_at limit 1", [provider, value])
                if rows:
                    return _contact(rows[0])
        return None

    def contacts(self, provider: str, *, ids: Iterable[str] | None = None) -> list[Contact]:
        if ids is None:
            rows = self._q("select * from contacts where provider = ? order by created_at, id",
                           [provider])
            return [_contact(r) for r in rows]
        wanted = list(ids)
        out: list[Contact] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._q(f"select * from contacts where provider = ? and id in ({marks})",  # noqa: S608
                           [provider, *chunk])
            out.extend(_contact(r) for r in rows)
        order = {cid: index for index, cid in enumerate(wanted)}
        return sorted(out, key=lambda c: order[c.id])  # the order asked for

    def contacts_where(self, provider: str, column: str, values: Iterable[str]) -> list[Contact]:
        """Contacts whose ``column`` (email, external_id, phone or id) is one of ``values``."""
        if column not in ("email", "external_id", "phone", "id"):
            raise ValueError(f"cannot look contacts up by {column!r}")
        wanted = list(dict.fromkeys(values))
        out: list[Contact] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._q(f"select * from contacts where provider = ? and {column} in ({marks}) "  # noqa: S608
                           "order by created_at, id", [provider, *chunk])
            out.extend(_contact(r) for r in rows)
        return out

    def count_contacts(self, provider: str) -> int:
        return int(self._q("select count(*) as n from contacts where provider = ?",
                           [provider])[0]["n"])

    def save_contact(self, c: Contact) -> None:
        self._x(
            "insert into contacts (provider, id, email, external_id, phone, attributes, consent, "
            "created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "on conflict (provider, id) do update set email = excluded.email, "
            "external_id = excluded.external_id, phone = excluded.phone, "
            "attributes = excluded.attributes, consent = excluded.consent, "
            "updated_at = excluded.updated_at",
            [c.provider, c.id, c.email, c.external_id, c.phone, json.dumps(c.attributes),
             json.dumps(c.consent), c.created_at, c.updated_at],
        )

    def delete_contact(self, provider: str, contact_id: str) -> bool:
        with self.tx() as db:
            cur = db.execute("delete from contacts where provider = ? and id = ?",
                             [provider, contact_id])
            db.execute("delete from members where provider = ? and contact_id = ?",
                       [provider, contact_id])
            return cur.rowcount > 0

    # -- memberships ------------------------------------------------------------
    def add_members(self, provider: str, list_id: str, contact_ids: Iterable[str],
                    at: float) -> None:
        with self._lock:
            self._db.executemany(
                "insert into members (provider, list_id, contact_id, added_at) "
                "values (?, ?, ?, ?) on conflict do nothing",
                [(provider, list_id, cid, at) for cid in contact_ids],
            )

    def remove_members(self, provider: str, list_id: str, contact_ids: Iterable[str]) -> None:
        with self._lock:
            self._db.executemany(
                "delete from members where provider = ? and list_id = ? and contact_id = ?",
                [(provider, list_id, cid) for cid in contact_ids],
            )

    def member_ids(self, provider: str, list_id: str) -> list[str]:
        rows = self._q("select contact_id from members where provider = ? and list_id = ? "
                       "order by added_at, contact_id", [provider, list_id])
        return [r["contact_id"] for r in rows]

    def is_member(self, provider: str, list_id: str, contact_id: str) -> bool:
        return bool(self._q("select 1 from members where provider = ? and list_id = ? "
                            "and contact_id = ?", [provider, list_id, contact_id]))

    def lists_of(self, provider: str, contact_id: str) -> list[str]:
        rows = self._q("select list_id from members where provider = ? and contact_id = ?",
                       [provider, contact_id])
        return [r["list_id"] for r in rows]

    def count_members(self, provider: str, list_id: str) -> int:
        return int(self._q("select count(*) as n from members where provider = ? "
                           "and list_id = ?", [provider, list_id])[0]["n"])

    # -- suppressions -----------------------------------------------------------
    def add_suppression(self, provider: str, email: str, kind: str, at: float, *,
                        list_id: str = "", reason: str = "") -> None:
        self._x("insert into suppressions (provider, email, kind, list_id, reason, created_at) "
                "values (?, ?, ?, ?, ?, ?) on conflict do nothing",
                [provider, email, kind, list_id, reason, at])

    def remove_suppression(self, provider: str, email: str, kind: str, list_id: str = "") -> None:
        self._x("delete from suppressions where provider = ? and email = ? and kind = ? "
                "and list_id = ?", [provider, email, kind, list_id])

    def suppressions(self, provider: str, kind: str | None = None) -> list[dict[str, Any]]:
        sql, params = "select * from suppressions where provider = ?", [provider]
        if kind is not None:
            sql, params = sql + " and kind = ?", [*params, kind]
        return [dict(r) for r in self._q(sql + " order by created_at, email", params)]

    # -- events -----------------------------------------------------------------
    def add_event(self, provider: str, contact_id: str | None, name: str,
                  payload: dict[str, Any], at: float, dedupe_key: str | None = None) -> bool:
        """Store an event; False when ``dedupe_key`` was seen already (first one wins)."""
        with self._lock:
            cur = self._db.execute(
                "insert into events (provider, contact_id, name, dedupe_key, payload, created_at) "
                "values (?, ?, ?, ?, ?, ?) on conflict do nothing",
                [provider, contact_id, name, dedupe_key, json.dumps(payload), at],
            )
            return cur.rowcount > 0

    def count_events(self, provider: str) -> int:
        return int(self._q("select count(*) as n from events where provider = ?",
                           [provider])[0]["n"])

    def events(self, provider: str) -> list[dict[str, Any]]:
        rows = self._q("select * from events where provider = ? order by seq", [provider])
        return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]

    # -- jobs -------------------------------------------------------------------
    def save_job(self, provider: str, job_id: str, kind: str, doc: dict[str, Any],
                 created_at: float) -> None:
        self._x("insert into jobs (provider, id, kind, doc, created_at) values (?, ?, ?, ?, ?) "
                "on conflict (provider, id) do update set doc = excluded.doc",
                [provider, job_id, kind, json.dumps(doc), created_at])

    def get_job(self, provider: str, job_id: str) -> dict[str, Any] | None:
        rows = self._q("select doc from jobs where provider = ? and id = ?", [provider, job_id])
        return json.loads(rows[0]["doc"]) if rows else None

    def jobs(self, provider: str | None = None) -> list[dict[str, Any]]:
        if provider is None:
            rows = self._q("select doc from jobs order by created_at")
        else:
            rows = self._q("select doc from jobs where provider = ? order by created_at",
                           [provider])
        return [json.loads(r["doc"]) for r in rows]

    # -- custom fields / merge fields -------------------------------------------
    def add_field(self, provider: str, scope: str, field_id: str, name: str, type_: str) -> None:
        self._x("insert into fields (provider, scope, id, name, type) values (?, ?, ?, ?, ?) "
                "on conflict do nothing", [provider, scope, field_id, name, type_])

    def fields(self, provider: str, scope: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self._q(
            "select * from fields where provider = ? and scope = ? order by rowid",
            [provider, scope])]

    # -- request and webhook logs -----------------------------------------------
    def log_request(self, provider: str, method: str, path: str, status: int,
                    body_bytes: int, records: int | None, at: float, keep: int) -> None:
        with self._lock:
            cur = self._db.execute(
                "insert into requests (provider, method, path, status, body_bytes, records, at) "
                "values (?, ?, ?, ?, ?, ?, ?)",
                [provider, method, path, status, body_bytes, records, at])
            seq = cur.lastrowid or 0
            if seq % 1000 == 0:
                self._db.execute("delete from requests where seq <= ?", [seq - keep])

    def request_seq(self) -> int:
        """The sequence number of the newest logged request (0 before any)."""
        rows = self._q("select coalesce(max(seq), 0) as seq from requests")
        return int(rows[0]["seq"])

    def requests(self, provider: str | None = None) -> list[dict[str, Any]]:
        if provider:
            rows = self._q("select * from requests where provider = ? order by seq", [provider])
        else:
            rows = self._q("select * from requests order by seq")
        return [dict(r) for r in rows]

    # -- accepted writes, per record and content ---------------------------------
    def log_write(self, provider: str, record: str, digest: str, at: float) -> None:
        self._x("insert into writes (provider, record, digest, at) values (?, ?, ?, ?)",
                [provider, record, digest, at])

    def writes(self, provider: str, since: int = 0) -> list[dict[str, Any]]:
        return [dict(r) for r in self._q(
            "select seq, record, digest, at from writes where provider = ? and seq > ? "
            "order by seq", [provider, since])]

    def write_counts(self, provider: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self._q(
            "select record, digest, count(*) as count from writes where provider = ? "
            "group by record, digest order by record, min(seq)", [provider])]

    def log_webhook(self, provider: str, url: str, status: int | None,
                    payload: Any, at: float) -> None:
        self._x("insert into webhooks (provider, url, status, payload, at) values (?, ?, ?, ?, ?)",
                [provider, url, status, json.dumps(payload), at])

    def webhooks(self) -> list[dict[str, Any]]:
        return [{**dict(r), "payload": json.loads(r["payload"])}
                for r in self._q("select * from webhooks order by seq")]
