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

from fastapi import APIRouter, Depends

from activations.sandbox.core import ProviderSpec, Sandbox
from activations.sandbox.klaviyo import (
    control,
    events,
    imports,
    list_members,
    lists,
    profiles,
    subscriptions,
)
from activations.sandbox.klaviyo.wire import (
    MAX_BODY,
    NAME,
    authenticate,
    count_records,
    error,
    guard,
    server_error,
    throttled,
    too_large,
    unauthorized,
)

ROUTE_GROUPS = (lists, list_members, imports, profiles, events, subscriptions)


def build(sb: Sandbox) -> ProviderSpec:
    sb.jobs.on_complete(NAME, "profile-bulk-import", lambda job: imports.complete_import(sb, job))
    router = APIRouter(dependencies=[Depends(guard)])
    for group in ROUTE_GROUPS:
        router.include_router(group.router)
    return ProviderSpec(
        name=NAME,
        router=router,
        authenticate=authenticate,
        unauthorized=unauthorized,
        throttled=throttled,
        server_error=server_error,
        count_records=count_records,
        act=control.act,
        summarize=control.summarize,
        max_body_bytes=MAX_BODY,
        too_large=too_large,
        bad_request=lambda message: error(400, "invalid", "Invalid input.", message, pointer="/"),
    )
