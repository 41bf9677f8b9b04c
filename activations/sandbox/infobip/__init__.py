"""Infobip People API (people in bulk, tags) and People events, for SMS.

People are keyed by ``externalId``; a phone (``contactInformation.phone[].number``,
digits without ``+``) is unique to one person, as in Infobip. Tags are the
audiences: made on first use, joined through a person's ``tags`` or the tag
batches, left through the untag batch. Events need an existing person.

One module per route group (``persons``, ``tags``, ``events``), each with its own
``router``; ``wire`` holds the error shape and the gate's answers, ``model`` the
people they share, ``control`` the person's actions and the state summary.
"""

from __future__ import annotations

from activations.sandbox.core import ProviderSpec, Sandbox, group_router
from activations.sandbox.infobip import control, events, persons, tags, wire

ROUTE_GROUPS = (persons, tags, events)


def build(sb: Sandbox) -> ProviderSpec:
    return ProviderSpec.assemble(
        wire, control, group_router(ROUTE_GROUPS),
        bad_request=lambda message: wire.error(400, "BAD_REQUEST", message))
