"""Provider credentials for commands that talk to an ESP outside a sync
(the consent pull-back), from the environment.

For each email provider of ``activations.providers.registry`` the key is read
from its ``key_variable`` (``KLAVIYO_API_KEY``, ...) and the URL from its
``base_url_variable`` (``KLAVIYO_BASE_URL``, ...), else the provider's default.
Customer.io takes ``CUSTOMERIO_API_KEY`` as ``site_id:api_key`` (or
``CUSTOMERIO_SITE_ID`` + ``CUSTOMERIO_API_KEY``).

Without such variables, a provider named by a sync declaration (``syncs/*.yml``)
is reached with that declaration's credentials, so the pull-back reads the very
accounts the syncs write to. (The local ESP sandbox is chosen by the command
line's ``--sandbox``; see ``activations.consent.commands``.)
"""

from __future__ import annotations

import os

from activations.contract.records import ProviderSettings
from activations.errors import UserError
from activations.providers import registry
from activations.providers.registry import EMAIL_PROVIDERS

PROVIDERS = EMAIL_PROVIDERS


def _key(name: str) -> str | None:
    variable = registry.entry(name).key_variable
    if name == "customerio":
        site, key = os.environ.get("CUSTOMERIO_SITE_ID"), os.environ.get(variable)
        if key and ":" in key:  # already site_id:api_key, as the sync declarations use it
            return key
        return f"{site}:{key}" if site and key else None
    return os.environ.get(variable) or None


def configured(name: str) -> bool:
    return _key(name) is not None or declared(name, strict=False) is not None


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


def provider_settings(name: str) -> ProviderSettings:
    if name not in PROVIDERS:
        raise UserError(f"unknown provider {name!r}", hint=f"use one of: {', '.join(PROVIDERS)}")
    key = _key(name)
    if not key:
        from_syncs = declared(name)
        if from_syncs is not None:
            return from_syncs
        entry = registry.entry(name)
        variable = (
            "CUSTOMERIO_SITE_ID and CUSTOMERIO_API_KEY"
            if name == "customerio"
            else entry.key_variable
        )
        raise UserError(
            f"no credentials for {name}",
            hint=f"set {variable}, or pass --sandbox http://127.0.0.1:PORT (the local ESP sandbox)",
        )
    return registry.settings(name, key, os.environ.get(registry.entry(name).base_url_variable))
