"""SendGrid Marketing Campaigns: contact upserts (async job), import status,
identifier search, lists, custom field definitions, suppressions and the
Signed Event Webhook's public key.

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

from fastapi import Depends

from activations.sandbox.core import ProviderSpec, Sandbox, group_router
from activations.sandbox.sendgrid import (
    contacts,
    control,
    fields,
    lists,
    suppressions,
    webhook_settings,
    wire,
)

ROUTE_GROUPS = (contacts, lists, fields, suppressions, webhook_settings)


def build(sb: Sandbox) -> ProviderSpec:
    sb.jobs.on_complete(wire.NAME, "contacts-upsert",
                        lambda job: contacts.complete_upsert(sb, job))
    return ProviderSpec.assemble(
        wire, control, group_router(ROUTE_GROUPS, dependencies=[Depends(wire.guard)]),
        max_body_bytes=wire.MAX_BODY, too_large=wire.too_large,
        public_prefixes=("/sendgrid/files/",),
        bad_request=lambda message: wire.error(400, message))
