"""Where a marketer sees a sync's destination: the sandbox page, or the
provider's own page for the list, segment or event (from the provider registry)."""

from __future__ import annotations

from urllib.parse import urlsplit

from activations.providers.registry import destination_page

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def destination_link(provider: str, destination: str, base_url: str) -> str:
    """The sandbox page when ``base_url`` is local, else the provider's page
    (empty when there is none, e.g. a file or a webhook)."""
    parts = urlsplit(base_url)
    if parts.hostname in LOCAL_HOSTS:
        return f"{parts.scheme}://{parts.netloc}/"
    return destination_page(provider, destination)
