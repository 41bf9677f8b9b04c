"""Cut records into batches that fit a provider's record and byte limits.

Connector authors: the engine calls this for you. Use ``cut_batches`` directly
only if one API call must be split further (e.g. one request per list).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from activations.contract.records import Limits, Record


@dataclass
class Batch:
    """Records that go out in one request; ``oversize`` marks a single record
    too large for any request (the engine rejects it without sending)."""

    records: list[Record] = field(default_factory=list)
    bytes: int = 0
    oversize: bool = False

    def __len__(self) -> int:
        return len(self.records)


def cut_batches(
    records: Iterable[Record],
    limits: Limits,
    size: Callable[[Record], int],
    *,
    removal: bool = False,
    envelope_bytes: int = 0,
) -> Iterator[Batch]:
    """Yield batches holding at most ``limits.max_records`` records (or
    ``remove_max_records`` when ``removal``) and at most ``limits.max_bytes``
    bytes including ``envelope_bytes`` of request overhead. Order is kept.

    A record bigger than ``max_record_bytes`` (or than a whole request) comes
    out alone as ``Batch(oversize=True)`` so the caller can reject it with a
    reason instead of failing the whole batch.
    """
    max_records = limits.max_records
    if removal and limits.remove_max_records:
        max_records = limits.remove_max_records
    if max_records < 1:
        raise ValueError("limits.max_records must be at least 1")
    max_bytes = limits.max_bytes
    current = Batch(bytes=envelope_bytes)
    for record in records:
        n = size(record)
        too_big = (limits.max_record_bytes is not None and n > limits.max_record_bytes) or (
            max_bytes is not None and n + envelope_bytes > max_bytes
        )
        if too_big:
            yield Batch(records=[record], bytes=n, oversize=True)
            continue
        full = len(current.records) >= max_records or (
            max_bytes is not None and current.records and current.bytes + n > max_bytes
        )
        if full:
            yield current
            current = Batch(bytes=envelope_bytes)
        current.records.append(record)
        current.bytes += n
    if current.records:
        yield current
