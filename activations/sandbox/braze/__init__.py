"""Braze: ``/users/track`` (attributes, events, purchases), user deletion,
subscription groups, email subscription state and the reads used for the
pull-back (unsubscribes, hard bounces, user export).

Consent is faithful to Braze: nothing protects an unsubscribed user from an
API write; the last write wins. Audience membership is the custom array
attribute ``audiences``; the page shows one "list" per value.

One module per route group (``users``, ``subscriptions``, ``reads``), each with
its own ``router``; ``wire`` holds the error shape and the gate's answers,
``model`` the users they share, ``control`` the person's actions and the state
summary.
"""

from __future__ import annotations

from activations.sandbox.braze import control, reads, subscriptions, users, wire
from activations.sandbox.core import ProviderSpec, Sandbox, group_router

ROUTE_GROUPS = (users, subscriptions, reads)


def build(sb: Sandbox) -> ProviderSpec:
    return ProviderSpec.assemble(wire, control, group_router(ROUTE_GROUPS),
                                 bad_request=lambda message: wire.fatal(400, message))
