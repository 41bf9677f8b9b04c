"""SendGrid's reporting-webhook body, read into ``Signal``s (Event Webhook, JSON array):
``[{"email", "timestamp", "event":
"unsubscribe|group_unsubscribe|bounce|spamreport|open|click|dropped", "sg_event_id",
"type": "bounce|blocked", "url"}]``.

A body that is not this shape raises ``ValueError`` (the receiver answers 400); events
of kinds that matter to nobody here are skipped.

Authentication (``verify``), SendGrid's Signed Event Webhook: SendGrid signs
``<X-Twilio-Email-Event-Webhook-Timestamp><raw body>`` with ECDSA (P-256, SHA-256)
and sends the base64 DER signature in ``X-Twilio-Email-Event-Webhook-Signature``;
the receiver checks it with the verification key shown under Mail Settings (base64
DER SubjectPublicKeyInfo, or PEM), and the timestamp must be within the tolerance
window. Secret (a public key): ``SENDGRID_WEBHOOK_PUBLIC_KEY``.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from typing import Any

from activations.contract.signals import Signal, first_time, json_body, text_or_none
from activations.providers.hook_auth import Delivery, Unverified, signed_time

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

_SENDGRID = {
    "unsubscribe": ("unsubscribed", None),
    "group_unsubscribe": ("unsubscribed", None),
    "bounce": ("bounced", "hard"),
    "spamreport": ("spam", None),
    "open": ("opened", None),
    "click": ("clicked", None),
}


def parse(body: bytes, content_type: str) -> list[Signal]:
    payload = json_body(body)
    if not isinstance(payload, list):
        raise ValueError("a SendGrid Event Webhook body is a JSON array of events")
    signals = []
    for event in payload:
        kind = _SENDGRID.get(str(event.get("event", "")).lower())
        email = text_or_none(event.get("email"))
        if not kind or not email:
            continue
        bounce = kind[1]
        if kind[0] == "bounced" and str(event.get("type", "bounce")).lower() == "blocked":
            bounce = "soft"  # a block is temporary: recorded, no consent change
        signals.append(
            Signal(
                "sendgrid",
                email,
                kind[0],
                first_time(event.get("timestamp")),  # type: ignore[arg-type]
                bounce_type=bounce,
                url=text_or_none(event.get("url")),
                message_id=text_or_none(event.get("sg_message_id")),
                provider_event_id=text_or_none(event.get("sg_event_id")),
            )
        )
    return signals


@lru_cache(maxsize=8)
def _public_key(text: str) -> Any:
    from cryptography.hazmat.primitives.serialization import (
        load_der_public_key,
        load_pem_public_key,
    )

    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            return load_pem_public_key(text.encode())
        return load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error, TypeError):
        raise ValueError(
            "SENDGRID_WEBHOOK_PUBLIC_KEY is not a public key (base64 DER or PEM, as shown "
            "under Mail Settings > Signed Event Webhook)"
        ) from None


def check_key(secret: str) -> None:
    """Raise ``ValueError`` when ``secret`` is not a usable verification key."""
    _public_key(secret)


def verify(delivery: Delivery, secret: str, now: float) -> str | None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    timestamp = delivery.header(TIMESTAMP_HEADER)
    signature_text = delivery.header(SIGNATURE_HEADER).strip()
    if not signature_text:
        raise Unverified(f"no {SIGNATURE_HEADER} header")
    try:
        signature = base64.b64decode(signature_text, validate=True)
    except (ValueError, binascii.Error):
        raise Unverified(f"{SIGNATURE_HEADER} is not base64") from None
    key = _public_key(secret)
    try:
        key.verify(
            signature,
            timestamp.encode("utf-8", "replace") + delivery.body,
            ec.ECDSA(hashes.SHA256()),
        )
    except (InvalidSignature, ValueError):
        raise Unverified(f"{SIGNATURE_HEADER} does not match the body and timestamp") from None
    signed_time(timestamp, now, name=TIMESTAMP_HEADER)
    return signature_text
