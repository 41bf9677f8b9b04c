"""Request validation against the providers' official OpenAPI specs.

Klaviyo (OpenAPI 3.0.2 slices) and SendGrid (OpenAPI 3.1.0) requests are
validated in-process with ``openapi-core``. The specs are shipped next to
this module (``specs/``, copied byte for byte, MIT notices kept). Each file is
loaded with ``json.load`` and ``OpenAPI.from_dict`` (loading by path parses
YAML, which fails on some escapes in the Klaviyo slices). The Klaviyo
``revision`` header is checked by hand: the spec gives it a default, so
openapi-core fills it in instead of rejecting a request without it.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathError
from starlette.datastructures import Headers
from werkzeug.datastructures import Headers as WHeaders
from werkzeug.datastructures import ImmutableMultiDict

SPECS_DIR = Path(__file__).resolve().parent / "specs"
REVISION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[A-Za-z0-9_-]+)?$")

# which spec file describes a path, first match wins
ROUTES: dict[str, list[tuple[str, str]]] = {
    "klaviyo": [
        ("/api/lists", "klaviyo/stable-categories-lists.json"),
        ("/api/event", "klaviyo/stable-categories-events.json"),
        ("/api/", "klaviyo/stable-categories-profiles.json"),
    ],
    "sendgrid": [
        ("/v3/marketing/lists", "sendgrid/tsg_mc_lists_v3.json"),
        ("/v3/marketing/field_definitions", "sendgrid/tsg_mc_custom_fields_v3.json"),
        ("/v3/marketing/contacts", "sendgrid/tsg_mc_contacts_v3.json"),
        ("/v3/asm", "sendgrid/tsg_suppressions_v3.json"),
        ("/v3/suppression", "sendgrid/tsg_suppressions_v3.json"),
    ],
}
HOSTS = {"klaviyo": "https://a.klaviyo.com", "sendgrid": "https://api.sendgrid.com"}
CONTENT_TYPES = {"klaviyo": "application/vnd.api+json", "sendgrid": "application/json"}

_lock = threading.Lock()


@dataclass(frozen=True)
class Violation:
    message: str
    pointer: str | None = None  # JSON pointer into the body, e.g. /contacts/0/first_name
    parameter: str | None = None  # a query/header/path parameter name


@dataclass
class _Request:
    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    body: bytes
    content_type: str


@cache
def _spec(relative: str) -> OpenAPI:
    with (SPECS_DIR / relative).open(encoding="utf-8") as handle:
        document = json.load(handle)
    # the shipped specs are trusted; skipping their own validation saves start-up time
    return OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))


def spec_for(provider: str, path: str) -> OpenAPI | None:
    for prefix, relative in ROUTES.get(provider, []):
        if path.startswith(prefix):
            return _spec(relative)
    return None


def check_revision(headers: Headers) -> Violation | None:
    value = headers.get("revision")
    if value is None or not value.strip():
        return Violation("A revision header is required.", parameter="revision")
    if not REVISION_RE.match(value.strip()):
        return Violation(f"Invalid revision header {value.strip()!r}: expected YYYY-MM-DD "
                         "or YYYY-MM-DD.suffix.", parameter="revision")
    return None


def validate(provider: str, method: str, path: str, query: list[tuple[str, str]],
             headers: Headers, body: bytes) -> list[Violation]:
    """Violations of the provider's spec by this request; [] when valid or not described."""
    spec = spec_for(provider, path)
    if spec is None:
        return []
    request = _Request(
        host_url=HOSTS[provider], path=path, method=method.lower(),
        parameters=RequestParameters(
            path={}, query=ImmutableMultiDict(query),
            header=WHeaders([(k, v) for k, v in headers.items()]),
            cookie=ImmutableMultiDict()),
        body=body, content_type=CONTENT_TYPES[provider] if body else "",
    )
    try:
        with _lock:
            spec.validate_request(request)  # type: ignore[arg-type]
    except PathError:
        return []  # not an operation this spec describes
    except Exception as exc:  # openapi-core's validation errors share no useful base
        return _violations(exc)
    return []


def _violations(exc: BaseException) -> list[Violation]:
    found: list[Violation] = []
    parameter: str | None = None
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        name = getattr(node, "name", None)
        if isinstance(name, str) and parameter is None:
            parameter = name
        for error in getattr(node, "schema_errors", None) or []:
            for violation in _schema_errors(error):
                if parameter is not None:
                    violation = Violation(f"{parameter}: {violation.message}",
                                          parameter=parameter)
                found.append(violation)
        node = node.__cause__ or node.__context__
    if not found:
        found.append(Violation(str(exc), parameter=parameter))
    return found


def _schema_errors(error: Any) -> list[Violation]:
    # oneOf/anyOf failures hide the useful message in their context
    context = list(getattr(error, "context", None) or [])
    if context:
        best = max(context, key=lambda e: len(list(e.absolute_path)))
        if len(list(best.absolute_path)) > len(list(error.absolute_path)):
            return _schema_errors(best)
    pointer = "/" + "/".join(str(p) for p in error.absolute_path)
    return [Violation(error.message, pointer=pointer)]
