"""Provider name -> implementing class, imported lazily so that a sync to one
provider never imports the others. Each class is built as ``cls(settings)``."""

from __future__ import annotations

import importlib

from activations.errors import UserError
from activations.providers.base import Provider, ProviderSettings

PROVIDERS: dict[str, str] = {
    "webhook": "activations.providers.webhook:WebhookProvider",
    "file": "activations.providers.files:FileProvider",
    "braze": "activations.providers.braze:BrazeProvider",
    "klaviyo": "activations.providers.klaviyo:KlaviyoProvider",
    "mailchimp": "activations.providers.mailchimp:MailchimpProvider",
    "sendgrid": "activations.providers.sendgrid:SendGridProvider",
    "customerio": "activations.providers.customerio:CustomerIoProvider",
}


def make_provider(name: str, settings: ProviderSettings) -> Provider:
    try:
        target = PROVIDERS[name]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise UserError(f"unknown provider {name!r}", hint=f"use one of: {known}") from None
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(settings)
