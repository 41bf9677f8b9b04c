"""Helpers for the consent tests (fixtures are in conftest.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

from activations.consent.credentials import provider_settings
from activations.providers.base import ProviderSettings


def settings_for(sandbox: Any, name: str) -> ProviderSettings:
    settings = provider_settings(name, sandbox.base_url)
    options = {"poll_interval": 0.01, **({"list": "Shop"} if name == "mailchimp" else {})}
    return dataclasses.replace(settings, options=options)
