"""Mailchimp's reporting-webhook body, read into ``Signal``s (form-encoded):
``type=unsubscribe|cleaned&fired_at=...&data[email]=... &data[reason]=hard|abuse|...``;
``cleaned`` with reason ``abuse`` is a spam complaint, any other ``cleaned`` a hard
bounce; ``subscribe``/``profile``/``upemail`` change no consent.

A body that is not this shape raises ``ValueError`` (the receiver answers 400); events
of kinds that matter to nobody here are skipped.

Authentication (``verify``): Mailchimp does not sign its list webhooks; its guide
says to put a secret in the webhook URL, so the URL given to Mailchimp ends in
``?secret=<secret>`` and every POST must carry it (the GET Mailchimp sends to check
the URL needs none). No timestamp: a replay is caught only by landing being
idempotent. Secret: ``MAILCHIMP_WEBHOOK_SECRET``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from activations.contract.signals import Signal, first_time, json_body, text_or_none
from activations.providers.hook_auth import Delivery, Unverified, same_secret


def parse(body: bytes, content_type: str) -> list[Signal]:
    if "json" in content_type:
        payload = json_body(body)
        fields = {k: str(v) for k, v in payload.items() if not isinstance(v, dict)}
        fields.update({f"data[{k}]": str(v) for k, v in (payload.get("data") or {}).items()})
    else:
        fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    kind_name = fields.get("type")
    if not kind_name:
        raise ValueError("a Mailchimp webhook is form-encoded with type=... and data[email]=...")
    email = text_or_none(fields.get("data[email]"))
    reason = (fields.get("data[reason]") or "").lower()
    if kind_name == "unsubscribe":
        kind, bounce = "unsubscribed", None
    elif kind_name == "cleaned":
        kind, bounce = ("spam", None) if reason == "abuse" else ("bounced", "hard")
    else:
        return []  # subscribe, profile, upemail, campaign: no consent change to land
    if not email:
        return []
    return [
        Signal(
            "mailchimp",
            email,
            kind,
            first_time(fields.get("fired_at")),  # type: ignore[arg-type]
            bounce_type=bounce,
            campaign_id=text_or_none(fields.get("data[campaign_id]")),
            provider_event_id=":".join(
                (kind_name, fields.get("data[list_id]", ""), fields.get("fired_at", ""))
            ),
        )
    ]


def verify(delivery: Delivery, secret: str, now: float) -> str | None:
    if not same_secret(delivery.query.get("secret", ""), secret):
        raise Unverified("missing or wrong ?secret= in the webhook URL")
    return None
