"""What a destination name may be, per provider: read by the sync declarations
(``activations.sync.specs``) when a file is loaded, and by connectors that turn
a destination into a path (the file destination) as a second guard."""

from __future__ import annotations

import re

#: characters no destination may hold (line breaks, tabs, NUL and other controls)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def destination_problem(provider: str, value: str) -> str | None:
    """Why ``value`` cannot be the destination of a ``provider`` sync, or ``None``."""
    if not value.strip():
        return "is empty: name the list, segment, event, url path or folder"
    if value != value.strip():
        return f"{value!r} starts or ends with spaces"
    if _CONTROL.search(value):
        return "holds a line break or another control character"
    if len(value) > 500:
        return "is longer than 500 characters"
    parts = re.split(r"[/\\]", value)
    if provider == "file":
        if value.startswith(("/", "\\", "~")) or re.match(r"[A-Za-z]:", value):
            return (
                f"{value!r} is not a folder inside the project: use a relative path "
                "such as out/<sync name>"
            )
        if ".." in parts:
            return f"{value!r} climbs out of the project with '..'"
        return None
    if ".." in parts or "%2e" in value.lower():
        return f"{value!r} holds '..', which would reach another path of the provider's API"
    if provider == "webhook":
        if not value.startswith(("/", "http://", "https://")):
            return f"{value!r} must be a url path (/hooks/name) or a full http(s) URL"
        return None
    if provider == "infobip" and len(value) > 256:
        return "is longer than 256 characters, Infobip's limit for a tag or an event definition id"
    if provider == "twilio" and value in ("phone", "email", "userId"):
        return f"{value!r} is a trait the connector sets itself: name the audience trait or event"
    if provider == "customerio" and re.search(r"[/\\?#%]", value):
        return f"{value!r} must be a segment id (no '/', '?', '#' or '%')"
    return None
