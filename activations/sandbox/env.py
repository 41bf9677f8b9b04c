"""How to point a client at this sandbox: each emulated provider's base URL
(the sandbox URL + where the provider is mounted) and its demo key. Used by the
demo (which points every sync declaration at the sandbox through the variables
the declaration names), by ``activations consent pull --sandbox`` and by the
tests. Plain values only: the sandbox imports nothing of production code."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from activations.sandbox.settings import DEFAULT_KEYS, PREFIXES


def credentials(provider: str, sandbox_url: str) -> tuple[str, str]:
    """``(base_url, api_key)`` of ``provider`` in the sandbox at ``sandbox_url``."""
    return sandbox_url.rstrip("/") + PREFIXES[provider], DEFAULT_KEYS[provider]


def targets(sandbox_url: str) -> dict[str, tuple[str, str]]:
    """``provider -> (base_url, api_key)`` for every provider the sandbox emulates."""
    return {provider: credentials(provider, sandbox_url) for provider in PREFIXES}


def declaration_env(
    specs: Iterable[Any], where: Mapping[str, tuple[str, str]]
) -> dict[str, str]:
    """Environment values pointing each declaration whose provider is in ``where``
    (``provider -> (base_url, api_key)``) there, through the variables the
    declaration names (``credentials.base_url_env``, ``credentials.api_key_env``);
    other declarations are left alone."""
    values: dict[str, str] = {}
    for spec in specs:
        if spec.provider not in where:
            continue
        base_url, key = where[spec.provider]
        if spec.credentials.api_key_env:
            values[spec.credentials.api_key_env] = key
        if spec.credentials.base_url_env:
            values[spec.credentials.base_url_env] = base_url
    return values
