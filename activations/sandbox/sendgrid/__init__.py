"""SendGrid Marketing Campaigns: contact upserts (async job), import status,
identifier search, lists, custom field definitions and suppressions.

Consent is faithful to SendGrid: unsubscribes, bounces and spam reports live
in suppression lists, independent of contacts; upserting a contact or adding
it to a list never clears a suppression.

One module per route group (``contacts``, ``lists``, ``fields``,
``suppressions``), each with its own ``router``; ``wire`` holds the error
shapes, the gate's answers and the spec guard, ``model`` the contacts and
custom fields they share, ``control`` the person's actions and the state
summary.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from activations.sandbox.core import ProviderSpec, Sandbox
from activations.sandbox.sendgrid import contacts, control, fields, lists, suppressions
from activations.sandbox.sendgrid.wire import (
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

ROUTE_GROUPS = (contacts, lists, fields, suppressions)


def build(sb: Sandbox) -> ProviderSpec:
    sb.jobs.on_complete(NAME, "contacts-upsert", lambda job: contacts.complete_upsert(sb, job))
    router = APIRouter(dependencies=[Depends(guard)])
    for group in ROUTE_GROUPS:
        router.include_router(group.router)
    return ProviderSpec(
        name=NAME, router=router, authenticate=authenticate, unauthorized=unauthorized,
        throttled=throttled, server_error=server_error, count_records=count_records,
        act=control.act, summarize=control.summarize, max_body_bytes=MAX_BODY,
        too_large=too_large, public_prefixes=("/sendgrid/files/",),
        bad_request=lambda message: error(400, message))
