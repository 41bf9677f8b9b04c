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
        self.headers: dict[str, dict[str, str]] = {}  # path (without query) -> headers
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers["content-length"]))
                kind = self.headers["content-type"]
                body = (dict(parse_qsl(raw.decode())) if kind.startswith(
                    "application/x-www-form-urlencoded") else json.loads(raw))
                path, _, query = self.path.partition("?")
                receiver.received.append((path, kind, body))
                receiver.headers[path] = {**dict(self.headers.items()), "query": query}
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


def test_every_provider_signs_as_it_documents(sandbox: SandboxServer, receiver: Receiver) -> None:
    import base64
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from activations.sandbox.signing import DEFAULT_WEBHOOK_SECRETS as SECRETS
    from activations.sandbox.signing import verification_secrets

    clients_email = "ann@example.com"
    for provider in ("braze", "klaviyo", "mailchimp", "sendgrid", "customerio"):
        sandbox.person(provider, "unsubscribe", clients_email)
    raw = {path: json.dumps(body).encode() if not isinstance(body, dict) or "type" not in body
           else None for path, _, body in receiver.received}
    heads = receiver.headers
    assert heads["/hooks/braze"]["Authorization"] == f"Bearer {SECRETS['braze']}"
    assert heads["/hooks/mailchimp"]["query"] == f"secret={SECRETS['mailchimp']}"
    klaviyo = heads["/hooks/klaviyo"]
    assert hmac.compare_digest(klaviyo["Klaviyo-Signature"], hmac.new(
        SECRETS["klaviyo"].encode(), raw["/hooks/klaviyo"] + klaviyo["Klaviyo-Timestamp"].encode(),
        hashlib.sha256).hexdigest())
    cio = heads["/hooks/customerio"]
    signed = b"v0:" + cio["X-CIO-Timestamp"].encode() + b":" + raw["/hooks/customerio"]
    assert cio["X-CIO-Signature"] == hmac.new(
        SECRETS["customerio"].encode(), signed, hashlib.sha256).hexdigest()
    sendgrid = heads["/hooks/sendgrid"]
    key = serialization.load_der_public_key(base64.b64decode(verification_secrets()["sendgrid"]))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(base64.b64decode(sendgrid["X-Twilio-Email-Event-Webhook-Signature"]),
               sendgrid["X-Twilio-Email-Event-Webhook-Timestamp"].encode()
               + raw["/hooks/sendgrid"], ec.ECDSA(hashes.SHA256()))
    # the secret in Mailchimp's URL stays out of the delivery log
    assert all("secret" not in d["url"] for d in sandbox.webhooks())


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


def test_the_sandbox_signs_with_its_own_code() -> None:
    """The sandbox imports nothing of production code but activations.errors: its
    signing is written from the providers' documentation, not borrowed from the
    verifiers it is tested against."""
    import ast
    from pathlib import Path

    import activations.sandbox

    foreign = []
    for path in Path(activations.sandbox.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            foreign += [f"{path.name}: {n}" for n in names if n.startswith("activations")
                        and not n.startswith("activations.sandbox")
                        and n != "activations.errors"]
    assert foreign == []
