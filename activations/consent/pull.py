"""Pull-back: read each ESP's unsubscribe, bounce and spam lists and land them.

Each email provider's reader lives with its connector
(``activations.providers.<name>.consent``, named in the provider registry) and
reads on the connector's own HTTP client (same auth, same error mapping, same
redaction of the key). Pulling is idempotent: the same suppression pulled twice
lands once.
"""

from __future__ import annotations

from typing import Any

from activations.consent.landing import Landed, land
from activations.contract.records import ProviderSettings
from activations.providers import registry


def pull(conn: Any, name: str, settings: ProviderSettings) -> Landed:
    """Read ``name``'s suppression lists with ``settings`` and land them in ``conn``
    (a DuckDB or PostgreSQL connection)."""
    reader = registry.consent_reader(name)
    provider = registry.make_provider(name, settings)
    try:
        signals = list(reader(provider.http))  # type: ignore[attr-defined]
    finally:
        provider.close()  # type: ignore[attr-defined]
    return land(conn, signals)
