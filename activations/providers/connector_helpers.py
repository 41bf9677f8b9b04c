"""What connectors do with a batch of records besides encoding it: split it for an
endpoint's own limit, find the ids the warehouse state already knows, pick a
list by id or name, and turn per-record rejections into outcomes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from activations.contract.records import Outcome, Record

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def known_ids(batch: Sequence[Record]) -> tuple[dict[str, str], list[Record]]:
    """Record key -> ESP id from state (the ``destination_id`` an earlier outcome
    returned), and the records without one that have an email to look up by."""
    ids = {r.key: r.destination_id for r in batch if r.destination_id}
    return ids, [r for r in batch if r.key not in ids and r.email]


#: why a removal by email cannot be done for a record the state knows no email of
NO_EMAIL_TO_REMOVE = "no email address known for this record, so it cannot be removed by email"


def unremovable(batch: Sequence[Record], ids: Mapping[str, str] | None = None) -> dict[str, str]:
    """Records a removal by email cannot reach (no email, and no ESP id in
    ``ids``), each with the reason: rejected, never confirmed as gone."""
    known = ids or {}
    return {r.key: NO_EMAIL_TO_REMOVE for r in batch if not r.email and r.key not in known}


def id_or_name(
    items: Iterable[dict[str, Any]], ref: str, name: Callable[[dict[str, Any]], Any]
) -> str | None:
    """The id of the item whose id is ``ref`` (reading stops there), else of the first
    item named ``ref``, else ``None``."""
    found = None
    for item in items:
        if item.get("id") == ref:
            return str(item["id"])
        if found is None and name(item) == ref:
            found = str(item["id"])
    return found


def outcomes(
    batch: Sequence[Record],
    rejected: Mapping[str, str],
    destination_id: Callable[[Record], str | None],
) -> list[Outcome]:
    """Each record rejected with its reason when its key is in ``rejected``, else
    confirmed with its ESP id."""
    return [
        Outcome(r.key, "rejected", reason=rejected[r.key])
        if r.key in rejected
        else Outcome(r.key, "confirmed", destination_id=destination_id(r))
        for r in batch
    ]
