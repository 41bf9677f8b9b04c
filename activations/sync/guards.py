"""The guards of a sync, as pure functions of a plan or a run's counts: the
engine applies them and Dagster reports them (the blocking ``guards`` check on
the plan asset, the ``rejects`` check on the delivery asset), so both say the
same thing about the same numbers.

- ``consent``: always passes; says how many records consent and identity let
  through, and how many addresses are invalid (emails, or phone numbers for an
  SMS sync);
- ``removal_cap`` (mirror): a run may remove at most ``max_removal_share`` of
  the members this sync confirmed;
- ``empty_audience`` (mirror): an empty audience may not empty a destination
  that has members, unless ``allow_empty``;
- ``coupons`` (a sync with ``coupons:``): a pool must hold a code for every
  person who needs one; ``--force`` does not override it (``UNFORCEABLE``):
  nobody may get an empty code;
- ``rejects_over``: a run fails when the provider refused more than
  ``max_rejects_share`` of the records sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from activations.coupons.spec import CouponSpec
from activations.sync.specs import Guards

#: guards ``--force`` does not override
UNFORCEABLE = frozenset({"coupons"})


@dataclass(frozen=True)
class GuardVerdict:
    name: str
    passed: bool
    message: str


class PlanCounts(Protocol):
    sendable: int
    skipped: int
    invalid: int
    removed: int
    members: int


#: what an invalid address is, per channel (``registry`` ``channel``)
INVALID_ADDRESSES = {"email": "invalid emails", "sms": "invalid phone numbers"}


def plan_guards(
    mode: str, guards: Guards, p: PlanCounts, channel: str = "email"
) -> list[GuardVerdict]:
    """The verdicts on a plan of a sync in ``mode`` with ``guards``, reaching
    people by ``channel`` (``email`` or ``sms``)."""
    verdicts = [
        GuardVerdict(
            "consent",
            True,
            f"{p.sendable} sendable; {p.skipped} skipped by consent or identity; "
            f"{p.invalid} {INVALID_ADDRESSES[channel]}",
        )
    ]
    if mode == "mirror":
        share = p.removed / p.members if p.members else 0.0
        verdicts.append(
            GuardVerdict(
                "removal_cap",
                p.removed == 0 or share <= guards.max_removal_share,
                f"would remove {p.removed} of {p.members} members ({share:.0%}); "
                f"the cap is {guards.max_removal_share:.0%}",
            )
        )
        verdicts.append(
            GuardVerdict(
                "empty_audience",
                guards.allow_empty or p.sendable > 0 or p.members == 0,
                f"the audience has {p.sendable} sendable records and the destination "
                f"{p.members} members from this sync",
            )
        )
    return verdicts


def coupon_guard(coupons: CouponSpec, needed: int, available: int | None) -> GuardVerdict:
    """Enough codes for everyone who needs one (``available`` None: generated)."""
    name = coupons.campaign
    if available is None:
        return GuardVerdict(
            "coupons", True, f"campaign {name!r}: {needed} people need a code (generated)"
        )
    if needed <= available:
        return GuardVerdict(
            "coupons",
            True,
            f"campaign {name!r}: {needed} people need a code; {available} unassigned in the pool",
        )
    return GuardVerdict(
        "coupons",
        False,
        f"campaign {name!r}: the coupon pool ran dry: {needed} people need a code, "
        f"{available} unassigned in the pool, {needed - available} codes missing; import more "
        f"with `activations coupons import FILE --campaign {name}` (--force does not "
        "override this: nobody gets an empty code)",
    )


def rejects_over(guards: Guards, sent: int, rejected: int) -> bool:
    """More records refused than ``max_rejects_share`` of those sent allows."""
    return rejected > 0 and rejected > guards.max_rejects_share * max(sent, 1)


def rejects_message(guards: Guards, sent: int, rejected: int) -> str:
    return (
        f"{rejected} of {sent} records rejected, more than "
        f"{guards.max_rejects_share:.0%} (see activations.sync_rejects)"
    )
