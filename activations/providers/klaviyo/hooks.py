"""Klaviyo's reporting-webhook body, read into ``Signal``s (JSON): ``{"data": [{"type":
"event", "id", "attributes": {"metric": {"name": "Unsubscribed from Email
Marketing|Bounced Email|Marked Email as Spam|Opened Email| Clicked Email"},
"datetime"|"timestamp", "profile": {"email"}, "event_properties"}}]}``.

A body that is not this shape raises ``ValueError`` (the receiver answers 400); events
of kinds that matter to nobody here are skipped.

Authentication (``verify``), as Klaviyo documents its system webhooks:
``Klaviyo-Signature`` is the hex HMAC-SHA256, under the webhook's secret, of the raw
body followed by the ``Klaviyo-Timestamp`` header's value; the timestamp must be
within the tolerance window. Secret: ``KLAVIYO_WEBHOOK_SECRET``.
"""

from __future__ import annotations

from activations.contract.signals import Signal, first_time, json_body, text_or_none
from activations.providers.hook_auth import (
    Delivery,
    Unverified,
    hmac_sha256_hex,
    same_secret,
    signed_time,
)

_KLAVIYO = {
    "unsubscribed from email marketing": ("unsubscribed", None),
    "unsubscribed": ("unsubscribed", None),
    "bounced email": ("bounced", "hard"),
    "marked email as spam": ("spam", None),
    "opened email": ("opened", None),
    "clicked email": ("clicked", None),
}


def parse(body: bytes, content_type: str) -> list[Signal]:
    payload = json_body(body)
    data = payload.get("data") if isinstance(payload, dict) else None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ValueError('a Klaviyo webhook is {"data": [{"type": "event", ...}]}')
    signals = []
    for item in data:
        attrs = item.get("attributes") or {}
        metric = attrs.get("metric") or {}
        name = metric.get("name") if isinstance(metric, dict) else metric
        kind = _KLAVIYO.get(str(name or "").strip().lower())
        profile = attrs.get("profile") or {}
        props = attrs.get("event_properties") or {}
        email = text_or_none(
            profile.get("email")
            or props.get("email")
            or (profile.get("attributes") or {}).get("email")
        )
        if kind and email:
            signals.append(
                Signal(
                    "klaviyo",
                    email,
                    kind[0],
                    first_time(attrs.get("datetime"), attrs.get("timestamp")),  # type: ignore[arg-type]
                    bounce_type=kind[1],
                    url=text_or_none(props.get("URL") or props.get("url")),
                    campaign_id=text_or_none(props.get("$message") or props.get("campaign_id")),
                    provider_event_id=text_or_none(item.get("id")),
                )
            )
    return signals


def verify(delivery: Delivery, secret: str, now: float) -> str | None:
    timestamp = delivery.header("Klaviyo-Timestamp")
    signature = delivery.header("Klaviyo-Signature").strip().lower()
    if not signature:
        raise Unverified("no Klaviyo-Signature header")
    expected = hmac_sha256_hex(secret, delivery.body + timestamp.encode("utf-8", "replace"))
    if not same_secret(signature, expected):
        raise Unverified("Klaviyo-Signature does not match the body and timestamp")
    signed_time(timestamp, now, name="Klaviyo-Timestamp")
    return signature
