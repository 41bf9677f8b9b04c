"""Mailchimp Marketing API 3.0: audiences (lists), batch subscribe/update,
members, tags (static segments), events, segments and merge fields.

Consent is faithful to Mailchimp: subscribing an ``unsubscribed`` or
``cleaned`` member through ``status`` fails with "Member In Compliance State"
and leaves the member unchanged; ``status_if_new`` only applies to new members.

One module per route group (``lists``, ``batch_subscribe``, ``members``,
``segments``, ``merge_fields``, ``batches``), each with its own ``router``;
``wire`` holds the error shapes and the gate's answers, ``model`` the lists,
members, tags and merge fields they share, ``control`` the person's actions
and the state summary.
"""

from __future__ import annotations

from fastapi import APIRouter

from activations.sandbox.core import ProviderSpec, Sandbox
from activations.sandbox.mailchimp import (
    batch_subscribe,
    batches,
    control,
    lists,
    members,
    merge_fields,
    segments,
)
from activations.sandbox.mailchimp.wire import (
    NAME,
    authenticate,
    count_records,
    problem,
    server_error,
    throttled,
    unauthorized,
)

ROUTE_GROUPS = (lists, batch_subscribe, members, segments, merge_fields, batches)


def build(sb: Sandbox) -> ProviderSpec:
    router = APIRouter(prefix="/3.0")
    for group in ROUTE_GROUPS:
        router.include_router(group.router)
    return ProviderSpec(
        name=NAME, router=router, authenticate=authenticate, unauthorized=unauthorized,
        throttled=throttled, server_error=server_error, count_records=count_records,
        act=control.act, summarize=control.summarize,
        bad_request=lambda message: problem(400, "Invalid Resource", message),
        public_prefixes=(batches.RESULTS_PATH,))
