"""A body that is not JSON gets each ESP's own 400, with the parser's words."""

from __future__ import annotations

import httpx
import pytest

#: where each ESP says it: the sandbox's body reader (or its OpenAPI check, which
#: reads Klaviyo's and SendGrid's bodies first)
SAYS = {
    "braze": lambda a: a["message"].startswith("Invalid JSON: body is not valid JSON"),
    "customerio": lambda a: a["meta"]["error"].startswith("body is not valid JSON"),
    "mailchimp": lambda a: a["title"] == "Invalid Resource"
    and a["detail"].startswith("The request body could not be parsed: body is not valid JSON"),
    "klaviyo": lambda a: a["errors"][0]["code"] == "invalid"
    and "{not json" in a["errors"][0]["detail"],
    "sendgrid": lambda a: "{not json" in a["errors"][0]["message"],
    "infobip": lambda a: a["requestError"]["serviceException"]["messageId"] == "BAD_REQUEST"
    and a["requestError"]["serviceException"]["text"].startswith("body is not valid JSON"),
    "twilio": lambda a: a["success"] is False
    and a["message"].startswith("Invalid JSON: body is not valid JSON"),
}
CALLS = {
    "braze": ("POST", "/users/track"),
    "klaviyo": ("POST", "/api/lists"),
    "sendgrid": ("PUT", "/v3/marketing/contacts"),
    "mailchimp": ("POST", "/lists"),
    "customerio": ("POST", "/api/v2/batch"),
    "infobip": ("POST", "/people/2/persons/batch"),
    "twilio": ("POST", "/v1/batch"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_body_that_is_not_json_is_the_esps_own_400(
    clients: dict[str, httpx.Client], name: str
) -> None:
    method, path = CALLS[name]
    answer = clients[name].request(
        method, path, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert SAYS[name](answer.json()), answer.text
