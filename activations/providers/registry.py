"""Provider name -> implementing class, imported lazily so that a sync to one
provider never imports the others. Each class is built as ``cls(settings)``."""

from __future__ import annotations

import importlib

from activations.contract.records import Provider, ProviderSettings
from activations.errors import UserError

PROVIDERS: dict[str, str] = {
    "webhook": "activations.providers.webhook.connector:WebhookProvider",
    "file": "activations.providers.files.connector:FileProvider",
    "braze": "activations.providers.braze.connector:BrazeProvider",
    "klaviyo": "activations.providers.klaviyo.connector:KlaviyoProvider",
    "mailchimp": "activations.providers.mailchimp.connector:MailchimpProvider",
    "sendgrid": "activations.providers.sendgrid.connector:SendGridProvider",
    "customerio": "activations.providers.customerio.connector:CustomerIoProvider",
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
