"""A factory that builds a connector against the ESP sandbox (real HTTP on
127.0.0.1: ../conftest.py's ``sandbox``, reset before each test)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sandbox_syncs import fast_options, sandbox_settings

from activations.contract.records import Provider
from activations.providers.registry import make_provider


@pytest.fixture
def connector(sandbox: Any) -> Iterator[Callable[..., Provider]]:
    made: list[Any] = []

    def make(name: str, *, api_key: str | None = None, **options: Any) -> Provider:
        settings = sandbox_settings(sandbox.base_url, name)
        opts = {**fast_options(name), "job_timeout": 20.0, **options}
        settings = dataclasses.replace(settings, options=opts, timeout=10.0)
        if api_key is not None:
            settings = dataclasses.replace(settings, api_key=api_key)
        provider = make_provider(name, settings)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()
