"""Files as a destination: each batch becomes one CSV or Parquet part file
under the destination folder, and ``manifest.json`` lists every part with its
operation, row count and SHA-256. A batch is confirmed once its part is on
disk (written to a temporary name, fsynced, renamed) and the manifest names
it, so a crash leaves either a whole part in the manifest or none.

Options: ``format`` (``csv`` or ``parquet``, default csv), ``max_records``
(10,000). The destination is a folder path relative to the working directory
(the project), and stays inside it: an empty, absolute or ``..`` path is refused.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from activations.contract.records import DeliveryReport, Limits, Outcome, ProviderSettings, Record
from activations.errors import UserError
from activations.providers.destinations import destination_problem

MANIFEST = "manifest.json"


def _fsync_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _text(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class FileProvider:
    name = "file"

    def __init__(self, settings: ProviderSettings):
        options = dict(settings.options)
        self.format = str(options.get("format", "csv")).lower()
        if self.format not in ("csv", "parquet"):
            raise UserError(
                f"file destination: unknown format {self.format!r}",
                hint="set credentials.options.format to csv or parquet",
            )
        self.limits = Limits(max_records=int(options.get("max_records", 10_000)), concurrency=1)
        self.report = DeliveryReport()
        self._lock = threading.Lock()

    def record_size(self, record: Record) -> int:
        return len(record.key) + len(record.email or "") + 16 * (len(record.fields) + 1)

    def _folder(self, destination: str) -> Path:
        problem = destination_problem("file", destination)
        if problem:  # declarations are checked when read; this guards direct callers
            raise UserError(f"file destination {problem}")
        folder = Path(destination)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create destination folder {folder}: {exc.strerror}") from None
        return folder

    def _encode(self, operation: str, batch: Sequence[Record]) -> bytes:
        names = sorted({k for r in batch for k in r.fields})
        rows = [
            {
                "operation": operation,
                "key": r.key,
                "email": r.email,
                "hash": r.hash,
                "idempotency_key": r.idempotency_key,
                **{n: _text(r.fields.get(n)) for n in names},
            }
            for r in batch
        ]
        columns = ["operation", "key", "email", "hash", "idempotency_key", *names]
        if self.format == "parquet":
            table = pa.Table.from_pylist(rows)
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink)
            return sink.getvalue().to_pybytes()
        import io

        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().encode()

    def _write(self, destination: str, operation: str, batch: Sequence[Record]) -> list[Outcome]:
        folder = self._folder(destination)
        data = self._encode(operation, batch)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        part = f"{stamp}-{operation}-{uuid.uuid4().hex[:8]}.{self.format}"
        with self._lock:
            _fsync_write(folder / part, data)
            manifest_path = folder / MANIFEST
            manifest = (
                json.loads(manifest_path.read_text()) if manifest_path.exists() else {"parts": []}
            )
            manifest["parts"].append(
                {
                    "file": part,
                    "operation": operation,
                    "format": self.format,
                    "rows": len(batch),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "written_at": datetime.now(UTC).isoformat(),
                }
            )
            _fsync_write(manifest_path, json.dumps(manifest, indent=1).encode())
        self.report.requests += 1
        return [Outcome(key=r.key, status="confirmed") for r in batch]

    def upsert(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        return self._write(destination, "upsert", batch)

    def remove(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        return self._write(destination, "remove", batch)

    def send_events(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        return self._write(destination, "event", batch)
