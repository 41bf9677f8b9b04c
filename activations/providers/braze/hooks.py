"""Braze's reporting-webhook body, read into ``Signal``s (Currents-style JSON):
``{"events": [{"id", "event_type":
"users.messages.email.Unsubscribe|Bounce|SoftBounce|MarkAsSpam|Open|Click", "time",
"user": {"external_user_id", "email_address"}, "properties": {"url",
"campaign_id"}}]}``.

A body that is not this shape raises ``ValueError`` (the receiver answers 400); events
of kinds that matter to nobody here are skipped.

Authentication (``verify``): Braze's Custom Currents export sends the bearer token
entered with the endpoint URL as ``Authorization: Bearer <token>``; it signs nothing
and sends no timestamp, so a replay is caught only by landing being idempotent.
Secret: ``BRAZE_WEBHOOK_TOKEN``.
"""

from __future__ import annotations

from activations.contract.signals import Signal, first_time, json_body, text_or_none
from activations.providers.hook_auth import Delivery, Unverified, bearer, same_secret

_BRAZE = {
    "unsubscribe": ("unsubscribed", None),
    "bounce": ("bounced", "hard"),
    "softbounce": ("bounced", "soft"),
    "markasspam": ("spam", None),
    "open": ("opened", None),
    "click": ("clicked", None),
}


def parse(body: bytes, content_type: str) -> list[Signal]:
    payload = json_body(body)
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        raise ValueError('a Braze webhook is {"events": [...]}')
    signals = []
    for event in events:
        kind = _BRAZE.get(str(event.get("event_type", "")).rsplit(".", 1)[-1].lower())
        user = event.get("user") or {}
        props = event.get("properties") or {}
        email = text_or_none(
            user.get("email_address") or props.get("email_address") or event.get("email_address")
        )
        if kind and email:
            signals.append(
                Signal(
                    "braze",
                    email,
                    kind[0],
                    first_time(event.get("time")),  # type: ignore[arg-type]
                    bounce_type=kind[1],
                    url=text_or_none(props.get("url")),
                    campaign_id=text_or_none(props.get("campaign_id")),
                    message_id=text_or_none(props.get("dispatch_id")),
                    provider_event_id=text_or_none(event.get("id")),
                )
            )
    return signals


def verify(delivery: Delivery, secret: str, now: float) -> str | None:
    if not same_secret(bearer(delivery), secret):
        raise Unverified("missing or wrong Authorization: Bearer token")
    return None
