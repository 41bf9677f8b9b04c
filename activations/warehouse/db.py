"""One small adapter over the two DB-API drivers the sync engine speaks to:
DuckDB and psycopg (PostgreSQL). Everything above it writes one portable SQL
with ``?`` placeholders; the few dialect differences live here."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

Row = tuple[Any, ...]


_SEP, _NULL = "\x1e", "\x1f"  # ASCII record and unit separators


def _column(values: list[Any], sql_type: str) -> tuple[str, Any]:
    """One column of a DuckDB bulk insert as (select expression, parameter).
    Text goes as one string joined by the record separator and split in SQL
    (one parameter to convert instead of a thousand; None travels as the unit
    separator); integers go as their text the same way, cast in SQL (half the
    cost of a list); a value that holds either separator, a None among
    integers, and any other type, goes as a typed list."""
    if sql_type in ("bigint", "integer") and values and all(type(v) is int for v in values):
        return f"cast(unnest(string_split(?, chr(30))) as {sql_type})", _SEP.join(map(str, values))
    if sql_type == "varchar" and _NULL not in values:
        try:
            text = _SEP.join(_NULL if v is None else v for v in values)
        except TypeError:  # not all text
            text = ""
        if text and text.count(_SEP) == len(values) - 1:
            split = "unnest(string_split(?, chr(30)))"
            return f"nullif({split}, chr(31))", text
    return f"unnest(cast(? as {sql_type}[]))", values


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

    def worker(self) -> Db | None:
        """A second connection to the same database for one background thread,
        with transactions of its own (DuckDB: a cursor of this connection), or
        ``None`` where work must stay on this connection (PostgreSQL: one
        psycopg connection is one session, shared by every thread using it)."""
        if self.dialect != "duckdb":
            return None
        return Db(self.conn.cursor())

    def close(self) -> None:
        self.conn.close()

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
        types: Sequence[str] | None = None,
        constants: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert many rows in one statement (an upsert when ``conflict`` names
        the key). ``types`` are the SQL types of ``columns`` (default varchar);
        ``constants`` are columns with one value for every row (the sync name, a
        timestamp), bound once instead of repeated per row.

        DuckDB gets each column as one parameter (text joined into one string,
        see ``_column``), unnested in a single ``insert ... select``; no Arrow:
        converting Python values to Arrow makes pyarrow import pandas, a second
        of start-up on every run. PostgreSQL gets a pipelined executemany."""
        if not rows:
            return
        fixed = dict(constants or {})
        cols = ", ".join([*columns, *fixed])
        suffix = ""
        if conflict:
            sets = ", ".join(f"{c} = excluded.{c}" for c in update)
            action = f"do update set {sets}" if update else "do nothing"
            suffix = f" on conflict ({', '.join(conflict)}) {action}"
        if self.dialect == "duckdb":
            sql_types = list(types or ["varchar"] * len(columns))
            select: list[str] = []
            params: list[Any] = []
            for values, sql_type in zip(zip(*rows, strict=True), sql_types, strict=True):
                expr, param = _column(list(values), sql_type)
                select.append(expr)
                params.append(param)
            select += ["?" for _ in fixed]
            self.conn.execute(
                f"insert into {table} ({cols}) select {', '.join(select)}{suffix}",
                [*params, *fixed.values()],
            )
        else:
            marks = ", ".join("?" for _ in range(len(columns) + len(fixed)))
            extra = tuple(fixed.values())
            self.executemany(
                f"insert into {table} ({cols}) values ({marks}){suffix}",
                [(*r, *extra) for r in rows] if extra else rows,
            )

    def values(self, columns: Mapping[str, tuple[str, Sequence[Any]]]) -> tuple[str, list[Any]]:
        """Python lists of one length as a relation, zipped by position:
        ``{name: (sql_type, values)}`` becomes ``(select ... as name, ...)`` and
        its parameters, to join or select from. DuckDB gets each column as one
        parameter (``_column``), PostgreSQL as a typed array, unnested."""
        exprs: list[str] = []
        params: list[Any] = []
        for name, (sql_type, values) in columns.items():
            if self.dialect == "duckdb":
                expr, param = _column(list(values), sql_type)
            else:
                expr, param = f"unnest(cast(? as {sql_type}[]))", list(values)
            exprs.append(f"{expr} as {name}")
            params.append(param)
        return f"(select {', '.join(exprs)})", params

    def changed(self, sql: str, params: Sequence[Any] | None = None) -> int:
        """Run an insert, update or delete; the number of rows it changed."""
        if self.dialect == "duckdb":
            rows = self.conn.execute(sql, list(params) if params else None).fetchall()
            return int(rows[0][0]) if rows else 0
        with self.conn.cursor() as cur:
            cur.execute(self._sql(sql) if params else sql, params)
            return int(cur.rowcount)

    def delete_keys(
        self, table: str, sync_name: str, keys: Sequence[str], *, run_id: str | None = None
    ) -> None:
        """``delete from table where sync_name = ? and record_key in keys``
        (and ``run_id = ?`` when given), set-based."""
        if not keys:
            return
        if self.dialect == "duckdb":
            self.execute(
                f"delete from {table} where sync_name = ? and record_key in "
                "(select unnest(cast(? as varchar[])))" + (" and run_id = ?" if run_id else ""),
                [sync_name, list(keys), *([run_id] if run_id else [])],
            )
        else:
            with self.conn.cursor() as cur:
                cur.execute(
                    f"delete from {table} where sync_name = %s and record_key = any(%s)"
                    + (" and run_id = %s" if run_id else ""),
                    [sync_name, list(keys), *([run_id] if run_id else [])],
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
