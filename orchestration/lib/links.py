"""Where a marketer sees a sync's destination: the sandbox page, or the
provider's own page for the list, segment or event (from the provider registry)."""

from __future__ import annotations

from urllib.parse import urlsplit

from activations.errors import UserError
from activations.providers.registry import destination_page
from activations.sync.specs import SyncSpec

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def destination_link(provider: str, destination: str, base_url: str) -> str:
    """The sandbox page when ``base_url`` is local, else the provider's page
    (empty when there is none, e.g. a file or a webhook)."""
    parts = urlsplit(base_url)
    if parts.hostname in LOCAL_HOSTS:
        return f"{parts.scheme}://{parts.netloc}/"
    return destination_page(provider, destination)


def sync_link(spec: SyncSpec) -> str:
    """Where a marketer sees the destination of ``spec`` (empty when nowhere)."""
    try:
        base_url = spec.provider_settings().base_url
    except UserError:  # e.g. the key's variable is unset: the declared base url, if any
        base_url = spec.credentials.base_url or ""
    return destination_link(spec.provider, spec.destination, base_url)
