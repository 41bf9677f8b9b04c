"""Customer.io Track API: v2 batch, v1 identify and events, manual segments,
plus a sandbox-only read of unsubscribed people (the stand-in for Customer.io's
reporting webhooks / App API, since Track has no read API).

Consent is faithful to Customer.io: ``unsubscribed`` is a plain attribute that
the ESP also sets itself when a person clicks unsubscribe; an API write of
``unsubscribed: false`` overwrites it (last write wins).

One module per route group (``batch``, ``customers``, ``segments``, ``reads``),
each with its own ``router``; ``wire`` holds the error shape and the gate's
answers, ``model`` the people they share, ``control`` the person's actions and
the state summary.
"""

from __future__ import annotations

from activations.sandbox.core import ProviderSpec, Sandbox, group_router
from activations.sandbox.customerio import batch, control, customers, reads, segments, wire

ROUTE_GROUPS = (batch, customers, segments, reads)


def build(sb: Sandbox) -> ProviderSpec:
    return ProviderSpec.assemble(
        wire, control, group_router(ROUTE_GROUPS),
        max_body_bytes=wire.MAX_BATCH_BYTES, too_large=wire.too_large,
        bad_request=lambda message: wire.meta_error(400, message))
