"""One small adapter over the two DB-API drivers the sync engine speaks to:
DuckDB and psycopg (PostgreSQL). Everything above it writes one portable SQL
with ``?`` placeholders; the few dialect differences live here."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

Row = tuple[Any, ...]


def _column(values: Sequence[Any], type_: pa.DataType | None) -> pa.Array:
    first = values[0]
    if first is not None and values.count(first) == len(values):  # e.g. one timestamp
        return pa.repeat(pa.scalar(first, type=type_), len(values))
    return pa.array(list(values), type=type_)


class Db:
    """A warehouse connection the engine can plan, read and commit on."""

    def __init__(self, conn: Any):
        self.conn = conn
        module = type(conn).__module__
        self.dialect = "duckdb" if module.startswith(("duckdb", "_duckdb")) else "postgres"
        self._in_tx = False
        if self.dialect == "postgres":
            conn.autocommit = True  # explicit transactions only, see transaction()

    @classmethod
    def wrap(cls, conn: Any) -> Db:
        return conn if isinstance(conn, Db) else cls(conn)

    # ---------------------------------------------------------------- running SQL

    def _sql(self, sql: str) -> str:
        if self.dialect == "postgres":
            return sql.replace("%", "%%").replace("?", "%s")
        return sql

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        if self.dialect == "duckdb":
            self.conn.execute(sql, list(params) if params else None)
        else:
            with self.conn.cursor() as cur:
                cur.execute(self._sql(sql) if params else sql, params)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[Row]:
        if self.dialect == "duckdb":
            return self.conn.execute(sql, list(params) if params else None).fetchall()
        with self.conn.cursor() as cur:
            cur.execute(self._sql(sql) if params else sql, params)
            return list(cur.fetchall())

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.dialect == "duckdb":
            self.conn.executemany(sql, [list(r) for r in rows])
        else:
            with self.conn.cursor() as cur:
                cur.executemany(self._sql(sql), rows)

    def insert_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        conflict: Sequence[str] = (),
        update: Sequence[str] = (),
        types: Sequence[pa.DataType] | None = None,
    ) -> None:
        """Insert many rows at once (an upsert when ``conflict`` names the key).
        DuckDB gets them as one Arrow table; PostgreSQL through a pipelined
        executemany."""
        if not rows:
            return
        cols = ", ".join(columns)
        suffix = ""
        if conflict:
            sets = ", ".join(f"{c} = excluded.{c}" for c in update)
            action = f"do update set {sets}" if update else "do nothing"
            suffix = f" on conflict ({', '.join(conflict)}) {action}"
        if self.dialect == "duckdb":
            arrays = list(zip(*rows, strict=True))
            schema_types = types or [None] * len(columns)
            table_data = pa.table(
                {c: _column(a, t) for c, a, t in zip(columns, arrays, schema_types, strict=True)}
            )
            name = "_activations_rows"
            self.conn.register(name, table_data)
            try:
                self.conn.execute(f"insert into {table} ({cols}) select {cols} from {name}{suffix}")
            finally:
                self.conn.unregister(name)
        else:
            marks = ", ".join("?" for _ in columns)
            self.executemany(f"insert into {table} ({cols}) values ({marks}){suffix}", rows)

    def delete_keys(self, table: str, sync_name: str, keys: Sequence[str]) -> None:
        """``delete from table where sync_name = ? and record_key in keys``, set-based."""
        if not keys:
            return
        if self.dialect == "duckdb":
            name = "_activations_keys"
            self.conn.register(name, pa.table({"k": pa.array(list(keys), type=pa.string())}))
            try:
                self.conn.execute(
                    f"delete from {table} where sync_name = ? and record_key in "
                    f"(select k from {name})",
                    [sync_name],
                )
            finally:
                self.conn.unregister(name)
        else:
            with self.conn.cursor() as cur:
                cur.execute(
                    f"delete from {table} where sync_name = %s and record_key = any(%s)",
                    [sync_name, list(keys)],
                )

    def iter_chunks(self, sql: str, params: Sequence[Any] | None, size: int) -> Iterator[list[Row]]:
        """Rows of a query in chunks of ``size`` (the connection must not run
        anything else until the iterator is exhausted)."""
        if self.dialect == "duckdb":
            result = self.conn.execute(sql, list(params) if params else None)
            while True:
                chunk = result.fetchmany(size)
                if not chunk:
                    return
                yield chunk
        else:
            with self.conn.cursor() as cur:
                cur.execute(self._sql(sql) if params else sql, params)
                while True:
                    chunk = cur.fetchmany(size)
                    if not chunk:
                        return
                    yield list(chunk)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_tx:
            yield
            return
        self.execute("begin")
        self._in_tx = True
        try:
            yield
        except BaseException:
            self._in_tx = False
            self.execute("rollback")
            raise
        self._in_tx = False
        self.execute("commit")

    # ---------------------------------------------------------------- catalog

    def table_exists(self, schema: str, table: str) -> bool:
        return bool(
            self.scalar(
                "select count(*) from information_schema.tables "
                "where table_schema = ? and table_name = ?",
                [schema, table],
            )
        )

    def columns(self, schema: str, table: str) -> list[str]:
        rows = self.query(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        )
        return [r[0] for r in rows]

    def tables(self, schema: str) -> list[str]:
        rows = self.query(
            "select table_name from information_schema.tables where table_schema = ? "
            "order by table_name",
            [schema],
        )
        return [r[0] for r in rows]

    # ---------------------------------------------------------------- dialect bits

    def regex_match(self, expr: str, pattern: str) -> str:
        quoted = pattern.replace("'", "''")
        if self.dialect == "duckdb":
            return f"regexp_full_match({expr}, '{quoted}')"
        return f"({expr} ~ '{quoted}')"

    def text(self, expr: str) -> str:
        return f"cast({expr} as varchar)"

    @property
    def read_only(self) -> bool:
        if self.dialect != "duckdb":
            return False
        try:
            return bool(
                self.scalar(
                    "select readonly from duckdb_databases() "
                    "where database_name = current_database()"
                )
            )
        except Exception:  # noqa: BLE001 - old DuckDB without the column
            return False
