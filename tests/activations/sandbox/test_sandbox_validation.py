"""Klaviyo and SendGrid requests are checked against the official OpenAPI specs
and refused with the provider's own error shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from activations.sandbox.validation import check_revision, spec_for, validate

KLAVIYO_BAD = [
    ("{}", {}, "/"),
    ("wrong type", {"data": {"type": "profile", "attributes": {"profiles": {"data": []}}}},
     "/data/type"),
    ("no profiles", {"data": {"type": "profile-bulk-import-job", "attributes": {}}},
     "/data/attributes"),
]


@pytest.mark.parametrize(("case", "body", "pointer"), KLAVIYO_BAD, ids=[c[0] for c in KLAVIYO_BAD])
def test_klaviyo_bulk_import_body_is_validated(case: str, body: dict[str, Any], pointer: str,
                                               clients: dict[str, httpx.Client]) -> None:
    answer = clients["klaviyo"].post("/api/profile-bulk-import-jobs", json=body)
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert (error["status"], error["code"], error["title"]) == (400, "invalid", "Invalid input.")
    assert error["source"]["pointer"] == pointer
    assert error["detail"]


def test_klaviyo_subscribe_consent_enum(clients: dict[str, httpx.Client]) -> None:
    body = {"data": {"type": "profile-subscription-bulk-create-job", "attributes": {
        "profiles": {"data": [{"type": "profile", "attributes": {
            "email": "a@example.com",
            "subscriptions": {"email": {"marketing": {"consent": "YES_PLEASE"}}}}}]}}}}
    answer = clients["klaviyo"].post("/api/profile-subscription-bulk-create-jobs", json=body)
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert "YES_PLEASE" in error["detail"]
    assert error["source"]["pointer"].endswith("/subscriptions/email/marketing/consent")


def test_klaviyo_query_parameters_are_validated(clients: dict[str, httpx.Client]) -> None:
    answer = clients["klaviyo"].get("/api/profiles", params={"page[size]": "1000"})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["source"] == {"parameter": "page[size]"}


def test_klaviyo_accepts_plain_json_content_type(clients: dict[str, httpx.Client]) -> None:
    body = {"data": {"type": "list", "attributes": {"name": "vip"}}}
    answer = clients["klaviyo"].post("/api/lists", json=body,
                                     headers={"Content-Type": "application/json"})
    assert answer.status_code == 201


SENDGRID_BAD = [
    ("missing contacts", {"list_ids": []}, None),
    ("non-uuid list id", {"list_ids": ["abc"], "contacts": [{"email": "a@example.com"}]},
     "list_ids[0]"),
    ("long first_name", {"contacts": [{"email": "a@example.com", "first_name": "x" * 60}]},
     "contacts[0].first_name"),
]


@pytest.mark.parametrize(("case", "body", "field"), SENDGRID_BAD, ids=[c[0] for c in SENDGRID_BAD])
def test_sendgrid_upsert_body_is_validated(case: str, body: dict[str, Any], field: str | None,
                                           clients: dict[str, httpx.Client]) -> None:
    answer = clients["sendgrid"].put("/v3/marketing/contacts", json=body)
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert set(errors[0]) == {"field", "message"}
    assert errors[0]["field"] == field
    assert errors[0]["message"]


def test_sendgrid_field_definition_is_validated(clients: dict[str, httpx.Client]) -> None:
    answer = clients["sendgrid"].post("/v3/marketing/field_definitions",
                                      json={"name": "tier", "field_type": "Color"})
    assert answer.status_code == 400
    assert "Color" in answer.json()["errors"][0]["message"]
    ok = clients["sendgrid"].post("/v3/marketing/field_definitions",
                                  json={"name": "tier", "field_type": "Text"})
    assert ok.status_code == 200 and ok.json()["id"].endswith("_T")


def test_validation_module_directly() -> None:
    from starlette.datastructures import Headers

    headers = Headers({"authorization": "Klaviyo-API-Key k", "revision": "2026-07-15"})
    assert validate("klaviyo", "post", "/api/lists", [], headers,
                    b'{"data":{"type":"list","attributes":{"name":"x"}}}') == []
    assert validate("klaviyo", "get", "/api/not-described", [], headers, b"") == []
    assert spec_for("braze", "/users/track") is None
    assert check_revision(Headers({"revision": "2026-07-15.pre"})) is None
    missing = check_revision(Headers({}))
    assert missing is not None and missing.parameter == "revision"
