"""A person's action in the ESP changes consent and fires that provider's
reporting webhook at the configured URL (a real HTTP receiver here)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from activations.sandbox.server import SandboxServer


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[str, str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers["content-length"]))
                kind = self.headers["content-type"]
                body = (dict(parse_qsl(raw.decode())) if kind.startswith(
                    "application/x-www-form-urlencoded") else json.loads(raw))
                receiver.received.append((self.path, kind, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver(sandbox: SandboxServer) -> Iterator[Receiver]:
    made = Receiver()
    sandbox.configure(webhook_url=made.url + "/hooks/{provider}")
    yield made
    made.server.shutdown()


def test_every_provider_posts_its_own_shape(sandbox: SandboxServer, receiver: Receiver,
                                            clients: dict[str, httpx.Client]) -> None:
    clients["braze"].post("/users/track", json={"attributes": [
        {"external_id": "u_1", "email": "ann@example.com"}]})
    clients["mailchimp"].post("/lists/shop1", json={"members": [
        {"email_address": "ann@example.com", "status_if_new": "subscribed"}]})
    for provider in ("braze", "klaviyo", "mailchimp", "sendgrid", "customerio"):
        answer = sandbox.person(provider, "unsubscribe", "ann@example.com")
        assert answer["webhook"] == {"url": f"{receiver.url}/hooks/{provider}", "status": 200}
    by_path = {path: (kind, body) for path, kind, body in receiver.received}
    braze = by_path["/hooks/braze"][1]["events"][0]
    assert braze["event_type"] == "users.messages.email.Unsubscribe"
    assert braze["user"] == {"user_id": braze["user"]["user_id"], "external_user_id": "u_1",
                             "email_address": "ann@example.com"}
    klaviyo = by_path["/hooks/klaviyo"][1]["data"][0]["attributes"]
    assert klaviyo["metric"]["name"] == "Unsubscribed from Email Marketing"
    assert klaviyo["profile"]["email"] == "ann@example.com"
    kind, mailchimp = by_path["/hooks/mailchimp"]
    assert kind.startswith("application/x-www-form-urlencoded")
    assert (mailchimp["type"], mailchimp["data[email]"], mailchimp["data[list_id]"]) == (
        "unsubscribe", "ann@example.com", "shop1")
    sendgrid = by_path["/hooks/sendgrid"][1]
    assert [(e["event"], e["email"]) for e in sendgrid] == [("unsubscribe", "ann@example.com")]
    cio = by_path["/hooks/customerio"][1]
    assert (cio["metric"], cio["data"]["email_address"]) == ("unsubscribed", "ann@example.com")
    assert len(sandbox.webhooks()) == 5


def test_bounce_spam_open_click(sandbox: SandboxServer, receiver: Receiver) -> None:
    sandbox.person("sendgrid", "bounce", "b@example.com")
    sandbox.person("sendgrid", "spam", "s@example.com")
    sandbox.person("sendgrid", "open", "o@example.com")
    sandbox.person("customerio", "click", "c@example.com")
    sandbox.person("mailchimp", "spam", "m@example.com", "shop1")
    events = [body for path, _, body in receiver.received]
    assert [e[0]["event"] for e in events[:3]] == ["bounce", "spamreport", "open"]
    assert events[0][0]["type"] == "bounce"
    assert events[3]["metric"] == "clicked"
    assert (events[4]["type"], events[4]["data[reason]"]) == ("cleaned", "abuse")
    # Mailchimp has no open/click webhooks
    assert sandbox.person("mailchimp", "open", "m@example.com")["webhook"] is None


def test_unreachable_receiver_is_recorded_not_fatal(sandbox: SandboxServer) -> None:
    sandbox.configure(webhook_url="http://127.0.0.1:9/nowhere")
    answer = sandbox.person("braze", "unsubscribe", "a@example.com")
    assert answer["webhook"] == {"url": "http://127.0.0.1:9/nowhere", "status": None}
    unknown = httpx.post(sandbox.base_url + "/_sandbox/braze/forward",
                         json={"email": "a@example.com"})
    assert unknown.status_code == 404
