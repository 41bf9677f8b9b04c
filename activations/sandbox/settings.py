"""Sandbox configuration: API keys, job pacing, rate limits, reporting webhook.

The emulated providers: five email providers and two SMS providers (Infobip,
Twilio Engage through Segment)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from activations.sandbox.signing import DEFAULT_WEBHOOK_SECRETS

PROVIDERS: tuple[str, ...] = (
    "braze", "klaviyo", "mailchimp", "sendgrid", "customerio", "infobip", "twilio")
#: the SMS providers: a person is reached (and shown) by phone
SMS: tuple[str, ...] = ("infobip", "twilio")

#: where each ESP's API is mounted: a connector's base_url is the sandbox URL + this
PREFIXES: dict[str, str] = {
    "braze": "/braze",
    "klaviyo": "/klaviyo",
    "mailchimp": "/mailchimp/3.0",
    "sendgrid": "/sendgrid",
    "customerio": "/customerio",
    "infobip": "/infobip",
    "twilio": "/twilio",  # Segment's HTTP Tracking API, Twilio Engage's way in
}

DEFAULT_KEYS: dict[str, str] = {
    "braze": "sandbox-braze-key",
    "klaviyo": "pk_sandbox_klaviyo",
    "mailchimp": "sandbox-mailchimp-key-us6",
    "sendgrid": "SG.sandbox-sendgrid-key",
    # Customer.io authenticates with Basic site_id:api_key
    "customerio": "sandbox-site:sandbox-cio-key",
    # Infobip: Authorization: App <key>; Twilio (Segment): Basic with the write key as user
    "infobip": "sandbox-infobip-key",
    "twilio": "sandbox-twilio-write-key",
}


class Window(BaseModel):
    """At most ``limit`` requests per ``seconds`` (a fixed window)."""

    limit: int = Field(gt=0)
    seconds: float = Field(gt=0)


class ProviderLimits(BaseModel):
    windows: list[Window] = Field(default_factory=list)
    concurrency: int | None = None  # requests in flight per key (Mailchimp: 10)


def default_limits() -> dict[str, ProviderLimits]:
    """Generous defaults: the demo is never throttled, the shapes are the providers'."""
    return {
        "braze": ProviderLimits(windows=[Window(limit=3000, seconds=3)]),
        "klaviyo": ProviderLimits(
            windows=[Window(limit=350, seconds=1), Window(limit=3500, seconds=60)]
        ),
        "mailchimp": ProviderLimits(concurrency=10),
        "sendgrid": ProviderLimits(windows=[Window(limit=600, seconds=1)]),
        "customerio": ProviderLimits(windows=[Window(limit=1000, seconds=1)]),
        "infobip": ProviderLimits(windows=[Window(limit=1000, seconds=1)]),
        "twilio": ProviderLimits(windows=[Window(limit=1000, seconds=1)]),
    }


class SandboxSettings(BaseModel):
    """Everything configurable about one sandbox instance."""

    state_dir: Path | None = None  # None: state in memory, gone at stop
    keys: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_KEYS))
    webhook_url: str | None = None  # "{provider}" in it is replaced by the provider name
    # how each provider signs its reporting webhooks (activations.sandbox.signing)
    webhook_secrets: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_WEBHOOK_SECRETS))
    job_advance: Literal["poll", "clock"] = "poll"
    job_step_seconds: float = 1.0
    limits: dict[str, ProviderLimits] = Field(default_factory=default_limits)
    request_log_size: int = 20_000  # newest requests kept in the log
