"""One ESP sandbox per test module (real HTTP on 127.0.0.1), reset before each
test, and a factory that builds a connector against it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from activations.consent.credentials import provider_settings
from activations.providers.base import Provider
from activations.providers.registry import make_provider
from activations.sandbox.server import serve_in_thread

FAST = {"poll_interval": 0.01, "job_timeout": 20.0}


@pytest.fixture(scope="module")
def esp_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with serve_in_thread(state_path=tmp_path_factory.mktemp("esp_sandbox")) as server:
        yield server


@pytest.fixture
def sandbox(esp_sandbox: Any) -> Any:
    esp_sandbox.reset()
    return esp_sandbox


@pytest.fixture
def connector(sandbox: Any) -> Iterator[Callable[..., Provider]]:
    made: list[Any] = []

    def make(name: str, *, api_key: str | None = None, **options: Any) -> Provider:
        settings = provider_settings(name, sandbox.base_url)
        opts = {**FAST, **({"list": "Shop"} if name == "mailchimp" else {}), **options}
        settings = dataclasses.replace(settings, options=opts, timeout=10.0)
        if api_key is not None:
            settings = dataclasses.replace(settings, api_key=api_key)
        provider = make_provider(name, settings)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()
