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

from fastapi import APIRouter

from activations.sandbox.braze import control, reads, subscriptions, users
from activations.sandbox.braze.wire import (
    NAME,
    authenticate,
    count_records,
    fatal,
    server_error,
    throttled,
    unauthorized,
)
from activations.sandbox.core import ProviderSpec, Sandbox

ROUTE_GROUPS = (users, subscriptions, reads)


def build(sb: Sandbox) -> ProviderSpec:
    router = APIRouter()
    for group in ROUTE_GROUPS:
        router.include_router(group.router)
    return ProviderSpec(
        name=NAME, router=router, authenticate=authenticate, unauthorized=unauthorized,
        throttled=throttled, server_error=server_error, count_records=count_records,
        act=control.act, summarize=control.summarize,
        bad_request=lambda message: fatal(400, message))
