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

from activations.sandbox.core import ProviderSpec, Sandbox, group_router
from activations.sandbox.mailchimp import (
    batch_subscribe,
    batches,
    control,
    lists,
    members,
    merge_fields,
    segments,
    wire,
)

ROUTE_GROUPS = (lists, batch_subscribe, members, segments, merge_fields, batches)


def build(sb: Sandbox) -> ProviderSpec:
    return ProviderSpec.assemble(
        wire, control, group_router(ROUTE_GROUPS, prefix="/3.0"),
        bad_request=lambda message: wire.problem(400, "Invalid Resource", message),
        public_prefixes=(batches.RESULTS_PATH,))
