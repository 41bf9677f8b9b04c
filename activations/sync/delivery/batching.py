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
    # the same cut as record by record with Batch objects, on local values (this
    # loop runs once per record sent)
    max_bytes = limits.max_bytes
    no_limit = float("inf")
    byte_cap = no_limit if max_bytes is None else max_bytes
    # a record over this is rejected alone: the per-record limit, or a whole request
    record_cap = min(
        no_limit if limits.max_record_bytes is None else limits.max_record_bytes,
        byte_cap - envelope_bytes,
    )
    held: list[Record] = []
    held_bytes = envelope_bytes
    for record in records:
        n = size(record)
        if n > record_cap:
            yield Batch(records=[record], bytes=n, oversize=True)
            continue
        if held and (len(held) >= max_records or held_bytes + n > byte_cap):
            yield Batch(records=held, bytes=held_bytes)
            held, held_bytes = [], envelope_bytes
        held.append(record)
        held_bytes += n
    if held:
        yield Batch(records=held, bytes=held_bytes)
