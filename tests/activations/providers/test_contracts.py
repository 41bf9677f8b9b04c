"""Every request the Klaviyo and SendGrid connectors (and their consent
pull-back readers) send, captured on the wire
(an httpx request hook on the connector's own client) and validated against the
official OpenAPI specs (the byte-for-byte copies in activations/sandbox/specs/) with openapi-core
(Klaviyo: OAS 3.0 slices; SendGrid: OAS 3.1)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from connector_helpers import people
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from activations.contract.records import Record
from activations.providers.registry import consent_reader

# byte-for-byte copies of ../shared/esp-specs, kept in the repo so CI always has them
SPECS = Path(__file__).resolve().parents[3] / "activations" / "sandbox" / "specs"

KLAVIYO_SLICES = {
    "lists": "klaviyo/stable-categories-lists.json",
    "events": "klaviyo/stable-categories-events.json",
    "profiles": "klaviyo/stable-categories-profiles.json",
}
SENDGRID_FILES = {
    "lists": "sendgrid/tsg_mc_lists_v3.json",
    "field_definitions": "sendgrid/tsg_mc_custom_fields_v3.json",
    "contacts": "sendgrid/tsg_mc_contacts_v3.json",
    "suppression": "sendgrid/tsg_suppressions_v3.json",
}


@cache
def spec(relative: str) -> OpenAPI:
    with open(SPECS / relative) as handle:  # json.load: the YAML loader trips on the Klaviyo slices
        return OpenAPI.from_dict(json.load(handle))


class WireRequest:
    """An httpx request as openapi-core reads one (its ``Request`` protocol),
    rebased from the sandbox prefix onto the spec's own server."""

    def __init__(self, request: httpx.Request, prefix: str, server: str) -> None:
        self.raw = request
        split = urlsplit(str(request.url))
        self.host_url = server
        self.path = split.path[len(prefix) :]
        self.method = request.method.lower()
        self.body = request.content or None
        self.content_type = request.headers.get("content-type", "")
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qs(split.query)),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        )


def capture(provider) -> list[httpx.Request]:
    seen: list[httpx.Request] = []
    client = provider.http.client
    client.event_hooks = {
        **client.event_hooks,
        "request": [*client.event_hooks["request"], seen.append],
    }
    return seen


def klaviyo_slice(path: str) -> str:
    if path.startswith("/api/lists"):
        return KLAVIYO_SLICES["lists"]
    if path.startswith(("/api/events", "/api/event-bulk-create-jobs")):
        return KLAVIYO_SLICES["events"]
    return KLAVIYO_SLICES["profiles"]


def sendgrid_file(path: str) -> str | None:
    if path.startswith("/v3/marketing/lists"):
        return SENDGRID_FILES["lists"]
    if path.startswith("/v3/marketing/field_definitions"):
        return SENDGRID_FILES["field_definitions"]
    if path.startswith("/v3/marketing/contacts"):
        return SENDGRID_FILES["contacts"]
    if path.startswith(("/v3/asm", "/v3/suppression")):
        return SENDGRID_FILES["suppression"]
    return None


def test_every_klaviyo_request_matches_the_official_spec(connector, sandbox) -> None:
    provider = connector("klaviyo")
    sent = capture(provider)
    members = people(4, cart_items=[{"sku": "cof-1", "qty": 2}])
    bad = Record(key="u_bad", email="not-an-email", fields={"first_name": "Bad"})
    provider.upsert("cart_abandoners", [*members, bad])
    provider.remove("cart_abandoners", members[:2])
    events = [
        Record(
            key=r.key,
            email=r.email,
            fields={"value": 9.5, "sku": "cof-1"},
            idempotency_key=f"{i:032x}",
        )
        for i, r in enumerate(members, 1)
    ]
    provider.send_events("Cart Abandoned", events)
    sandbox.person("klaviyo", "unsubscribe", members[3].email)
    assert {s.email for s in consent_reader("klaviyo")(provider.http)} == {members[3].email}

    prefix = urlsplit(sandbox.url("klaviyo")).path
    with_body = 0
    for request in sent:
        wire = WireRequest(request, prefix, "https://a.klaviyo.com")
        spec(klaviyo_slice(wire.path)).validate_request(wire)
        assert request.headers["revision"] == "2026-07-15"  # required, not checked by openapi-core
        with_body += bool(wire.body)
    kinds = {(r.method, urlsplit(str(r.url)).path[len(prefix) :].split("/")[2]) for r in sent}
    assert ("POST", "profile-bulk-import-jobs") in kinds and ("DELETE", "lists") in kinds
    assert ("POST", "event-bulk-create-jobs") in kinds and ("GET", "profiles") in kinds
    assert with_body >= 3


def test_every_sendgrid_request_matches_the_official_spec(connector, sandbox) -> None:
    provider = connector("sendgrid")
    sent = capture(provider)
    members = people(4, tier="gold", signed_up=None)
    bad = Record(key="u_bad", email="not-an-email", fields={"first_name": "Bad"})
    provider.upsert("cart_abandoners", [*members, bad])
    provider.remove("cart_abandoners", members[:2])
    sandbox.person("sendgrid", "bounce", members[3].email)
    assert {s.email for s in consent_reader("sendgrid")(provider.http)} == {members[3].email}

    prefix = urlsplit(sandbox.url("sendgrid")).path
    checked = 0
    for request in sent:
        wire = WireRequest(request, prefix, "https://api.sendgrid.com")
        document = sendgrid_file(wire.path)
        if document is None:
            # the only request outside the specs: the job's errors file, a plain download
            assert wire.method == "get" and "import-errors" in wire.path
            continue
        spec(document).validate_request(wire)
        checked += 1
    methods = {(r.method, urlsplit(str(r.url)).path[len(prefix) :]) for r in sent}
    assert ("PUT", "/v3/marketing/contacts") in methods
    assert any(m == "DELETE" and p.endswith("/contacts") for m, p in methods)
    assert any("/v3/suppression/bounces" in p for _, p in methods)
    assert checked >= 10
