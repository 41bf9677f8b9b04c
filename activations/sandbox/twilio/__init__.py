"""Twilio Engage's way in: Segment's HTTP Tracking API (``/v1/batch``,
``/v1/identify``, ``/v1/track``), plus a sandbox-only read of profiles (the
stand-in for Segment's Profile API).

Faithful to Segment: a batch over 500 KB or a message over 32 KB is a 400 for
the whole request; otherwise the answer is ``200 {"success": true}`` even for a
message Segment then drops (no ``userId``/``anonymousId``, a track without
``event``): the sandbox shows those in its debugger, as Segment's Debugger
does. Every message is deduplicated on ``messageId``. A boolean trait is an
audience on the page (the profiles where it is true), as an Engage audience
built on it would be; a ``phone`` trait that is not E.164 is noted in the
debugger (Engage cannot text it).

One module per route group (``tracking``, ``reads``); ``wire`` holds the error
shape and the gate's answers, ``model`` the profiles, ``control`` the person's
actions and the state summary.
"""

from __future__ import annotations

from activations.sandbox.core import ProviderSpec, Sandbox, group_router
from activations.sandbox.twilio import control, reads, tracking, wire

ROUTE_GROUPS = (tracking, reads)


def build(sb: Sandbox) -> ProviderSpec:
    return ProviderSpec.assemble(
        wire, control, group_router(ROUTE_GROUPS),
        max_body_bytes=wire.MAX_BATCH_BYTES, too_large=wire.too_large,
        bad_request=lambda message: wire.error(400, message))
