"""How each emulated ESP authenticates the reporting webhooks it posts, written
from the providers' documentation (the sandbox imports nothing of production code):

- Braze (Custom Currents export): ``Authorization: Bearer <token>``.
- Klaviyo (system webhooks): ``Klaviyo-Timestamp``, ``Klaviyo-Webhook-Id`` and
  ``Klaviyo-Signature`` = hex HMAC-SHA256(secret, body + timestamp).
- Mailchimp (list webhooks, unsigned): the secret in the URL, ``?secret=<secret>``.
- SendGrid (Signed Event Webhook): ``X-Twilio-Email-Event-Webhook-Timestamp`` and
  ``X-Twilio-Email-Event-Webhook-Signature`` = base64 DER ECDSA (P-256, SHA-256)
  over timestamp + body.
- Customer.io (reporting webhooks): ``X-CIO-Timestamp`` and ``X-CIO-Signature`` =
  hex HMAC-SHA256(key, ``v0:<timestamp>:<body>``).

The secrets are ``SandboxSettings.webhook_secrets``; SendGrid's entry is a seed the
sandbox derives its EC key pair from (``verification_secrets`` gives what a
receiver needs: the same strings, and SendGrid's public key).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

DEFAULT_WEBHOOK_SECRETS: dict[str, str] = {
    "braze": "sandbox-braze-currents-token",
    "klaviyo": "sandbox-klaviyo-webhook-secret",
    "mailchimp": "sandbox-mailchimp-webhook-secret",
    "sendgrid": "sandbox-sendgrid-signing-seed",  # the EC key pair is derived from it
    "customerio": "sandbox-cio-signing-key",
}

# P-256's group order: a private scalar is 1 .. n-1
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@lru_cache(maxsize=8)
def sendgrid_private_key(seed: str) -> Any:
    """The sandbox's SendGrid signing key: P-256, derived from ``seed`` (stable across
    restarts, so a receiver configured once keeps verifying)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    scalar = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big") % (_P256_ORDER - 1)
    return ec.derive_private_key(scalar + 1, ec.SECP256R1())


def sendgrid_public_key(seed: str) -> str:
    """The verification key as SendGrid shows it: base64 DER SubjectPublicKeyInfo."""
    from cryptography.hazmat.primitives import serialization

    der = sendgrid_private_key(seed).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def verification_secrets(secrets: dict[str, str] | None = None) -> dict[str, str]:
    """provider -> what a receiver verifies this sandbox's deliveries with."""
    values = dict(DEFAULT_WEBHOOK_SECRETS if secrets is None else secrets)
    if values.get("sendgrid"):
        values["sendgrid"] = sendgrid_public_key(values["sendgrid"])
    return values


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


def sign(
    provider: str, url: str, body: bytes, secret: str | None, now: float, delivery_id: str = ""
) -> tuple[str, dict[str, str]]:
    """``(url, headers)`` a delivery of ``body`` to ``url`` goes out with, signed as
    ``provider`` signs it at ``now`` (epoch seconds); unchanged when no secret is set."""
    if not secret:
        return url, {}
    stamp = str(int(now))
    if provider == "braze":
        return url, {"Authorization": f"Bearer {secret}"}
    if provider == "mailchimp":
        return _with_query(url, secret=secret), {}
    if provider == "klaviyo":
        when = dt.datetime.fromtimestamp(int(now), dt.UTC).isoformat()
        digest = hmac.new(secret.encode(), body + when.encode(), hashlib.sha256).hexdigest()
        return url, {
            "Klaviyo-Timestamp": when,
            "Klaviyo-Signature": digest,
            "Klaviyo-Webhook-Id": delivery_id or "sandbox-webhook",
        }
    if provider == "sendgrid":
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        signature = sendgrid_private_key(secret).sign(
            stamp.encode() + body, ec.ECDSA(hashes.SHA256())
        )
        return url, {
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        }
    if provider == "customerio":
        signed = b"v0:" + stamp.encode() + b":" + body
        digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        return url, {"X-CIO-Timestamp": stamp, "X-CIO-Signature": digest}
    return url, {}
