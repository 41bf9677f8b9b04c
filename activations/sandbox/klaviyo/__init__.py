"""Klaviyo (JSON:API, revisioned): lists, profile bulk import jobs, list
membership, profiles, events, subscribe and unsubscribe jobs.

Consent is faithful to Klaviyo, including its dangers: a subscribe job clears
UNSUBSCRIBE, SPAM_REPORT and USER_SUPPRESSED suppressions; an unsubscribe job
for a profile not in the given list unsubscribes it globally; bulk import and
list adds never change consent.

One module per route group (``lists``, ``list_members``, ``imports``,
``profiles``, ``events``, ``subscriptions``), each with its own ``router``;
``wire`` holds the error shapes and the gate's answers, ``model`` the profiles
and lists they share, ``control`` the person's actions and the state summary.
"""

from __future__ import annotations

from fastapi import Depends

from activations.sandbox.core import ProviderSpec, Sandbox, group_router
from activations.sandbox.klaviyo import (
    control,
    events,
    imports,
    list_members,
    lists,
    profiles,
    subscriptions,
    wire,
)

ROUTE_GROUPS = (lists, list_members, imports, profiles, events, subscriptions)


def build(sb: Sandbox) -> ProviderSpec:
    sb.jobs.on_complete(wire.NAME, "profile-bulk-import",
                        lambda job: imports.complete_import(sb, job))
    return ProviderSpec.assemble(
        wire, control, group_router(ROUTE_GROUPS, dependencies=[Depends(wire.guard)]),
        max_body_bytes=wire.MAX_BODY, too_large=wire.too_large,
        bad_request=lambda message: wire.error(400, "invalid", "Invalid input.", message,
                                               pointer="/"))
