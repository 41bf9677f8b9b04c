"""Every destination the product can sync to, one row each: the only place a
provider is listed. A row names where its pieces live (imported lazily, so a
sync to one provider never imports the others) and its defaults:

- ``connector``: the class the engine builds as ``cls(settings)``
  (``providers/<name>/connector.py``);
- ``consent_reader``: reads the provider's unsubscribe, bounce and spam lists
  as ``Signal``s for the pull-back (``providers/<name>/consent.py``);
- ``hook_parser``: reads the provider's reporting-webhook body as ``Signal``s
  for the inbound receiver (``providers/<name>/hooks.py``);
- ``hook_verifier``: checks a delivery against the provider's own signature
  scheme (``providers/<name>/hooks.py``, ``verify``), with the secret read from
  ``hook_secret_variable`` (e.g. ``KLAVIYO_WEBHOOK_SECRET``);
- ``base_url``: where the API lives when a declaration names no URL (the
  Mailchimp connector then takes the data centre from the key, ``…-us6``);
- ``key_variable``/``base_url_variable``: the environment variables read when
  no sync declaration names others (the consent pull-back);
- ``page``: the provider's own web page for a destination id (run metadata);
- ``channel``: what the provider reaches a person by: ``email`` (and the generic
  webhook and file destinations) or ``sms``, where a record's address is its
  E.164 phone number and the audience's ``channel`` decision must say ``sms``.

Adding a provider: see ``docs/architecture.md`` ("Adding a provider").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from activations.contract.records import Provider, ProviderSettings
from activations.contract.signals import Signal
from activations.errors import UserError

ConsentReader = Callable[[Any], Iterator[Signal]]  # the connector's ApiClient -> signals
HookParser = Callable[[bytes, str], list[Signal]]  # (body, content type) -> signals
# (delivery, secret, now) -> replay key or None; raises hook_auth.Unverified
HookVerifier = Callable[[Any, str, float], "str | None"]


@dataclass(frozen=True)
class ProviderEntry:
    name: str
    connector: str  # "module:Class"
    base_url: str = ""
    needs_key: bool = True
    consent_reader: str | None = None  # "module:function"
    hook_parser: str | None = None  # "module:function"
    hook_verifier: str | None = None  # "module:function"
    hook_secret_variable: str = ""  # where the verification secret is read from
    page: str | None = None  # "{id}" is the destination id
    key_variable: str = field(default="")
    base_url_variable: str = field(default="")
    channel: Literal["email", "sms"] = "email"

    def __post_init__(self) -> None:
        upper = self.name.upper()
        object.__setattr__(self, "key_variable", self.key_variable or f"{upper}_API_KEY")
        object.__setattr__(self, "base_url_variable", self.base_url_variable or f"{upper}_BASE_URL")

    @property
    def is_email_provider(self) -> bool:
        """An ESP: people can unsubscribe there, so its consent comes back. Never an
        SMS provider (its consent is decided in the warehouse, nothing comes back)."""
        return self.channel == "email" and self.consent_reader is not None


def _esp(
    name: str, connector_class: str, base_url: str, page: str, hook_secret: str
) -> ProviderEntry:
    """An email provider: connector, consent reader, hook parser and hook verifier in
    ``providers/<name>/``; ``hook_secret`` names the verifier's environment variable."""
    package = f"activations.providers.{name}"
    return ProviderEntry(
        name=name,
        connector=f"{package}.connector:{connector_class}",
        base_url=base_url,
        consent_reader=f"{package}.consent:suppressions",
        hook_parser=f"{package}.hooks:parse",
        hook_verifier=f"{package}.hooks:verify",
        hook_secret_variable=hook_secret,
        page=page,
    )


ENTRIES: dict[str, ProviderEntry] = {
    e.name: e
    for e in (
        ProviderEntry(
            name="webhook", connector="activations.providers.webhook.connector:WebhookProvider"
        ),
        ProviderEntry(
            name="file",
            connector="activations.providers.files.connector:FileProvider",
            needs_key=False,
        ),
        _esp(
            "braze",
            "BrazeProvider",
            "https://rest.iad-01.braze.com",
            "https://dashboard.braze.com/users/user_search",
            "BRAZE_WEBHOOK_TOKEN",
        ),
        _esp(
            "klaviyo",
            "KlaviyoProvider",
            "https://a.klaviyo.com",
            "https://www.klaviyo.com/list/{id}",
            "KLAVIYO_WEBHOOK_SECRET",
        ),
        _esp(
            "mailchimp",
            "MailchimpProvider",
            "https://us1.api.mailchimp.com/3.0",
            "https://admin.mailchimp.com/lists/members/?id={id}",
            "MAILCHIMP_WEBHOOK_SECRET",
        ),
        _esp(
            "sendgrid",
            "SendGridProvider",
            "https://api.sendgrid.com",
            "https://mc.sendgrid.com/contacts/lists/{id}",
            "SENDGRID_WEBHOOK_PUBLIC_KEY",
        ),
        _esp(
            "customerio",
            "CustomerIoProvider",
            "https://track.customer.io",
            "https://fly.customer.io/",
            "CUSTOMERIO_WEBHOOK_SIGNING_KEY",
        ),
        # SMS: no consent reader, no hooks (SMS consent is decided in the warehouse)
        ProviderEntry(
            name="infobip",
            connector="activations.providers.infobip.connector:InfobipProvider",
            # per account in reality (https://<id>.api.infobip.com, in the portal)
            base_url="https://api.infobip.com",
            page="https://portal.infobip.com/people/persons?tag={id}",
            channel="sms",
        ),
        ProviderEntry(
            name="twilio",
            connector="activations.providers.twilio.connector:TwilioProvider",
            base_url="https://api.segment.io",  # Segment's HTTP Tracking API, for Engage
            page="https://app.segment.com/goto-my-workspace/engage/audiences",
            key_variable="TWILIO_SEGMENT_WRITE_KEY",
            channel="sms",
        ),
    )
}

#: every provider name a sync declaration may use
PROVIDERS: tuple[str, ...] = tuple(ENTRIES)
#: the email providers: consent pull-back and inbound hooks (no SMS provider)
EMAIL_PROVIDERS: tuple[str, ...] = tuple(n for n, e in ENTRIES.items() if e.is_email_provider)
#: the SMS providers: a record's address is its E.164 phone number
SMS_PROVIDERS: tuple[str, ...] = tuple(n for n, e in ENTRIES.items() if e.channel == "sms")


def entry(name: str) -> ProviderEntry:
    try:
        return ENTRIES[name]
    except KeyError:
        known = ", ".join(sorted(ENTRIES))
        raise UserError(f"unknown provider {name!r}", hint=f"use one of: {known}") from None


def _load(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def make_provider(name: str, settings: ProviderSettings) -> Provider:
    return _load(entry(name).connector)(settings)


def consent_reader(name: str) -> ConsentReader:
    target = entry(name).consent_reader
    if target is None:
        raise UserError(
            f"no consent pull-back for provider {name!r}",
            hint=f"use one of: {', '.join(EMAIL_PROVIDERS)}",
        )
    return _load(target)


def hook_parser(name: str) -> HookParser | None:
    target = entry(name).hook_parser if name in ENTRIES else None
    return _load(target) if target else None


def hook_verifier(name: str) -> HookVerifier | None:
    target = entry(name).hook_verifier if name in ENTRIES else None
    return _load(target) if target else None


def hook_secret_variable(name: str) -> str:
    """The environment variable holding ``name``'s webhook verification secret."""
    return entry(name).hook_secret_variable


def settings(
    name: str,
    api_key: str,
    base_url: str | None = None,
    *,
    options: Mapping[str, Any] | None = None,
    timeout: float = 30.0,
) -> ProviderSettings:
    """How to reach provider ``name``: the one place a key, a URL (or the
    provider's default) and options become ``ProviderSettings``."""
    return ProviderSettings(
        base_url=base_url or entry(name).base_url,
        api_key=api_key,
        options=dict(options or {}),
        timeout=timeout,
    )


def destination_page(name: str, destination: str) -> str:
    """The provider's own page for a destination (empty when it has none)."""
    from urllib.parse import quote

    page = ENTRIES[name].page if name in ENTRIES else None
    return page.format(id=quote(destination, safe="")) if page else ""
