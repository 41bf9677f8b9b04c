"""The import ledger: ``raw.imports`` (one row per import), ``raw.import_rejects``
and ``raw.import_consents`` (where each imported consent row came from),
and what makes an import idempotent (the same file, format and namespace again is
found here and not imported twice)."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from activations.imports.lines import FormatSpec
from activations.warehouse.raw_schema import RAW_SCHEMA, create_raw_schema_sql

IMPORT_TABLES: dict[str, list[tuple[str, str]]] = {
    "imports": [
        ("import_id", "varchar"),
        ("source_file", "varchar"),
        ("file_sha256", "varchar"),
        ("format", "varchar"),
        ("namespace", "varchar"),
        ("imported_at", "timestamp"),
        ("rows_read", "bigint"),
        ("rows_loaded", "bigint"),
        ("rows_rejected", "bigint"),
    ],
    "import_rejects": [
        ("import_id", "varchar"),
        ("source_file", "varchar"),
        ("line_number", "bigint"),
        ("reason", "varchar"),
        ("raw_line", "varchar"),
        ("rejected_at", "timestamp"),
    ],
    # where each consent row an import wrote (raw.consents, source 'import') came from
    "import_consents": [
        ("consent_id", "varchar"),
        ("import_id", "varchar"),
        ("source_file", "varchar"),
        ("line_number", "bigint"),
        ("stated_source", "varchar"),  # the consent source the file named (popup, checkout, ...)
    ],
}


@dataclass
class ImportResult:
    import_id: str
    source_file: str
    format: str
    namespace: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)
    orders: int = 0
    customers: int = 0
    products: int = 0
    consents: int = 0
    already_imported: bool = False


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in create_raw_schema_sql():
        con.execute(statement)
    for table, columns in IMPORT_TABLES.items():
        cols = ", ".join(f'"{name}" {type_}' for name, type_ in columns)
        con.execute(f"create table if not exists {RAW_SCHEMA}.{table} ({cols})")


def previous_import(
    con: duckdb.DuckDBPyConnection, sha: str, spec: FormatSpec
) -> ImportResult | None:
    rows = con.execute(
        f"""
        select import_id, source_file, rows_read, rows_loaded, rows_rejected
        from {RAW_SCHEMA}.imports
        where file_sha256 = ? and format = ? and namespace = ?
        order by imported_at desc limit 1
        """,
        [sha, spec.format, spec.namespace],
    ).fetchall()
    if not rows:
        return None
    import_id, source_file, read, loaded, rejected = rows[0]
    by_reason = con.execute(
        f"""
        select reason, count(*) from {RAW_SCHEMA}.import_rejects where import_id = ?
        group by reason order by count(*) desc, reason
        """,
        [import_id],
    ).fetchall()
    return ImportResult(
        import_id=import_id,
        source_file=source_file,
        format=spec.format,
        namespace=spec.namespace,
        rows_read=read,
        rows_loaded=loaded,
        rows_rejected=rejected,
        rejected_by_reason={r: int(n) for r, n in by_reason},
        already_imported=True,
    )
