"""Provider credentials for commands that talk to an ESP outside a sync
(the consent pull-back): from the environment, or the local ESP sandbox.

- braze: ``BRAZE_API_KEY``, ``BRAZE_BASE_URL`` (``https://rest.iad-01.braze.com``)
- klaviyo: ``KLAVIYO_API_KEY``, ``KLAVIYO_BASE_URL`` (``https://a.klaviyo.com``)
- mailchimp: ``MAILCHIMP_API_KEY`` (``...-us6``), ``MAILCHIMP_BASE_URL``
  (``https://<dc>.api.mailchimp.com/3.0``)
- sendgrid: ``SENDGRID_API_KEY``, ``SENDGRID_BASE_URL`` (``https://api.sendgrid.com``)
- customerio: ``CUSTOMERIO_API_KEY`` as ``site_id:api_key`` (or ``CUSTOMERIO_SITE_ID`` +
  ``CUSTOMERIO_API_KEY``), ``CUSTOMERIO_BASE_URL`` (``https://track.customer.io``)

Without a sandbox URL, a provider named by a sync declaration (``syncs/*.yml``)
is reached with that declaration's credentials, so the pull-back reads the very
accounts the syncs write to.

With a sandbox URL (``--sandbox`` or ``ACTIVATIONS_SANDBOX_URL``) the base URL
is ``<sandbox>/<provider>`` and the keys default to the sandbox's demo keys.
"""

from __future__ import annotations

import os

from activations.contract.records import ProviderSettings
from activations.errors import UserError
from activations.sandbox.settings import DEFAULT_KEYS, PREFIXES

PROVIDERS = ("braze", "klaviyo", "mailchimp", "sendgrid", "customerio")

SANDBOX_KEYS = DEFAULT_KEYS
DEFAULT_URLS = {
    "braze": "https://rest.iad-01.braze.com",
    "klaviyo": "https://a.klaviyo.com",
    "sendgrid": "https://api.sendgrid.com",
    "customerio": "https://track.customer.io",
}


def _key(name: str) -> str | None:
    if name == "customerio":
        site, key = os.environ.get("CUSTOMERIO_SITE_ID"), os.environ.get("CUSTOMERIO_API_KEY")
        if key and ":" in key:  # already site_id:api_key, as the sync declarations use it
            return key
        return f"{site}:{key}" if site and key else None
    return os.environ.get(f"{name.upper()}_API_KEY") or None


def configured(name: str, sandbox_url: str | None = None) -> bool:
    if sandbox_url or os.environ.get("ACTIVATIONS_SANDBOX_URL") or _key(name):
        return True
    return declared(name, strict=False) is not None


def declared(name: str, *, strict: bool = True) -> ProviderSettings | None:
    """The credentials of the first sync declared for provider ``name``, if any.
    ``strict``: a declared sync whose key variable is unset is an error, else ``None``."""
    from activations.sync.specs import declaration_files, load_syncs

    try:
        if not declaration_files():
            return None
        specs = [s for s in load_syncs() if s.provider == name]
    except UserError:
        return None  # no syncs folder, or declarations with errors: `activations syncs` says why
    for spec in specs:
        try:
            return spec.provider_settings()
        except UserError:
            if strict:
                raise
    return None


def provider_settings(name: str, sandbox_url: str | None = None) -> ProviderSettings:
    if name not in PROVIDERS:
        raise UserError(f"unknown provider {name!r}", hint=f"use one of: {', '.join(PROVIDERS)}")
    sandbox = (sandbox_url or os.environ.get("ACTIVATIONS_SANDBOX_URL") or "").rstrip("/")
    if not sandbox and not _key(name):
        from_syncs = declared(name)
        if from_syncs is not None:
            return from_syncs
    key = _key(name)
    base = os.environ.get(f"{name.upper()}_BASE_URL")
    if sandbox:
        key = key or SANDBOX_KEYS[name]
        base = base or sandbox + PREFIXES[name]
    if not key:
        variable = (
            "CUSTOMERIO_SITE_ID and CUSTOMERIO_API_KEY"
            if name == "customerio"
            else f"{name.upper()}_API_KEY"
        )
        raise UserError(
            f"no credentials for {name}",
            hint=f"set {variable}, or pass --sandbox http://127.0.0.1:PORT (the local ESP sandbox)",
        )
    if not base:
        if name == "mailchimp":
            dc = key.rsplit("-", 1)[-1] if "-" in key else "us1"
            base = f"https://{dc}.api.mailchimp.com/3.0"
        else:
            base = DEFAULT_URLS[name]
    return ProviderSettings(base_url=base, api_key=key)
